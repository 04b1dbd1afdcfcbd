#!/usr/bin/env bash
# Registrar benchmark: boots the user-mode-linux guest (kernel SCTP, RSPLIB installed) and runs
# scripts/registrar_bench.ts in it: our registrar and RSPLIB's rspregistrar under the same load
# (scripts/registrar_load.ts), alternating, with medians and ratios.
#
#   scripts/registrar_bench.sh [--uml-timeout SEC] [bench options] [-- generator options]
#
# Examples:
#   scripts/registrar_bench.sh                          # 3 runs each, 3 s warm-up + 10 s per phase
#   scripts/registrar_bench.sh --runs=5 --duration=20
#   scripts/registrar_bench.sh --which=ours -- --reg-window=8
#   scripts/registrar_bench.sh --help                   # the driver's options
#
# Results: standard output, and tests/tmp/registrar_bench/<time>.{json,md}.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DENO="$ROOT/.tools/bin/deno"
[ -x "$DENO" ] || DENO=$(command -v deno)
uml_timeout=3600
if [ "${1:-}" = "--uml-timeout" ]; then
  uml_timeout=${2:?}
  shift 2
fi
for a in "$@"; do
  case "$a" in
    -h|--help|-help) exec "$DENO" run -A "$ROOT/scripts/registrar_bench.ts" --help ;;
    --) break ;;
  esac
done
# Compile the modules on the host: the guest starts with a copy of the host's Deno cache.
"$DENO" cache --quiet "$ROOT/scripts/registrar_bench.ts" "$ROOT/scripts/registrar_load.ts" \
  "$ROOT/cli/rspregistrar.ts" "$ROOT/src/transport/kernel/mod.ts"
# Other work on the host shares its CPUs with the guest: show the host's load around the run.
echo "host: $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$ROOT/scripts/uml/run.sh" --timeout "$uml_timeout" --cwd "$ROOT" -- \
  "$DENO" run -A "$ROOT/scripts/registrar_bench.ts" "$@" || status=$?
echo "host load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
