#!/bin/sh
# Builds one executable per program into dist/ (or --out DIR).
#
#   scripts/build.sh [--out DIR] [--offline] [PROGRAM...]
#
# With `deno compile` (needs Deno's runtime "denort", downloaded from dl.deno.land on first use)
# each program becomes a real single executable. Where that download is impossible (offline
# build machines), or with --offline, each program becomes a self-extracting shell script that
# carries the pinned Deno and the bundled program (`deno bundle`): one file, runs anywhere the
# same Linux/x86-64 Deno runs, unpacks once into ~/.cache/rserpool-deno/.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DENO="$ROOT/scripts/deno"
OUT="$ROOT/dist"
offline=0
programs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --offline) offline=1; shift ;;
    -h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option '$1'" >&2; exit 1 ;;
    *) programs="$programs $1"; shift ;;
  esac
done
if [ -z "$programs" ]; then
  programs=$(cd "$ROOT/cli" && ls *.ts | sed 's/\.ts$//' | grep -v -e '^demo$' -e '_demo$')
fi
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The self-extracting stub: unpack the payload (deno + main.js) once, then run it.
stub() { # $1 = program name, $2 = payload hash
  cat <<EOF
#!/bin/sh
# $1 (rserpool-deno): self-extracting executable with the pinned Deno and the bundled program.
set -e
dir="\${XDG_CACHE_HOME:-\$HOME/.cache}/rserpool-deno/$1-$2"
if [ ! -x "\$dir/deno" ]; then
  mkdir -p "\$dir.tmp.\$\$"
  sed '1,/^__PAYLOAD__\$/d' "\$0" | tar -xzf - -C "\$dir.tmp.\$\$"
  mv "\$dir.tmp.\$\$" "\$dir" 2>/dev/null || rm -rf "\$dir.tmp.\$\$"
fi
exec "\$dir/deno" run --no-config --no-lock -A --unstable-net --quiet "\$dir/main.js" "\$@"
__PAYLOAD__
EOF
}

deno_binary=$(readlink -f "$ROOT/.tools/bin/deno")
for p in $programs; do
  src="$ROOT/cli/$p.ts"
  [ -f "$src" ] || { echo "build.sh: no program cli/$p.ts" >&2; exit 1; }
  if [ "$offline" = 0 ] &&
    timeout 120 "$DENO" compile -A --unstable-net --quiet -o "$OUT/$p" "$src" 2>"$work/err"; then
    echo "build: $OUT/$p (deno compile)"
    continue
  fi
  [ "$offline" = 1 ] || echo "build: deno compile unavailable ($(grep -m1 -i "error" "$work/err" | sed "s/\x1b\[[0-9;]*m//g" | cut -c1-100)); building the self-extracting form" >&2
  mkdir -p "$work/$p"
  "$DENO" bundle --quiet --platform deno -o "$work/$p/main.js" "$src"
  cp "$deno_binary" "$work/$p/deno"
  tar -czf "$work/$p.tgz" -C "$work/$p" deno main.js
  hash=$(sha256sum "$work/$p.tgz" | cut -c1-16)
  { stub "$p" "$hash"; cat "$work/$p.tgz"; } >"$OUT/$p"
  chmod +x "$OUT/$p"
  echo "build: $OUT/$p (self-extracting, $(du -h "$OUT/$p" | cut -f1))"
done
