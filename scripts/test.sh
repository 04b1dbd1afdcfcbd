#!/bin/sh
# Runs the whole test suite: host tests (usrsctp, multicast, namespaces, tshark, RSPLIB's
# cspmonitor), then the guest tests inside a user-mode-linux guest (kernel SCTP, RSPLIB interop).
# Prints "N passed, N failed" at the end and exits non-zero when anything failed.
#
#   scripts/test.sh               everything
#   scripts/test.sh --host-only   skip the user-mode-linux guest
#   scripts/test.sh FILTER...     only test files whose path contains FILTER (host and guest)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
DENO="$ROOT/.tools/bin/deno"
[ -x "$DENO" ] || "$ROOT/scripts/setup.sh" --test || exit 1

host_only=0
filters=""
for arg in "$@"; do
  case "$arg" in
    --host-only) host_only=1 ;;
    *) filters="$filters $arg" ;;
  esac
done

OUT="$ROOT/tests/tmp/results"
rm -rf "$OUT"
mkdir -p "$OUT"

select_files() { # $1: directory; prints matching test files
  find "$1" -name '*_test.ts' | sort | while read -r f; do
    if [ -z "$filters" ]; then
      echo "$f"
    else
      for flt in $filters; do
        case "$f" in *"$flt"*) echo "$f"; break ;; esac
      done
    fi
  done
}

# Host: every tests/**/_test.ts outside tests/guest/, with sanitizers on, plus the JSDoc examples
# of mod.ts and src/.
host_files=$(select_files tests | grep -v '^tests/guest/' || true)
status=0
if [ -n "$host_files" ]; then
  # shellcheck disable=SC2086
  "$DENO" test -A --sanitize-ops --sanitize-resources --junit-path="$OUT/host.xml" $host_files \
    || status=1
fi
if [ -z "$filters" ]; then
  # `--doc` type-checks and runs the JSDoc examples of the files it is given only (not of the
  # modules they import), so every module under src/ is listed besides mod.ts.
  doc_files=$(find src -name '*.ts' | sort)
  # shellcheck disable=SC2086
  "$DENO" test -A --doc --junit-path="$OUT/doc.xml" mod.ts $doc_files || status=1
fi

# Guest: tests/guest/**/_test.ts inside user-mode-linux (kernel SCTP and RSPLIB).
guest_files=$(select_files tests/guest 2>/dev/null || true)
if [ "$host_only" = 0 ] && [ -n "$guest_files" ]; then
  if [ -x scripts/uml/run.sh ]; then
    # shellcheck disable=SC2086
    scripts/uml/run.sh -- "$DENO" test -A --junit-path="$OUT/guest.xml" $guest_files || status=1
  else
    echo "test.sh: scripts/uml/run.sh is missing; guest tests not run" >&2
    status=1
  fi
fi

"$DENO" run -A scripts/count_results.ts "$OUT" || status=1
exit $status
