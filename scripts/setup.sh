#!/bin/sh
# Installs what rserpool-deno needs: the pinned Deno (from npm, into .tools/) and the Debian
# packages for run time (and, with --test, for the test suite). Safe and fast to run again.
#
#   scripts/setup.sh          Deno + run-time libraries (libsctp1, libusrsctp2)
#   scripts/setup.sh --test   also what the tests use (tshark, user-mode-linux, RSPLIB, ...)
#
# Not root: nothing is installed with apt; the exact command to run is printed instead.
set -eu

DENO_VERSION=2.9.6
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools"

RUNTIME_PACKAGES="libsctp1 libusrsctp2"
TEST_PACKAGES="tshark user-mode-linux rsplib-registrar rsplib-tools rsplib-services librsplib3 \
kmod iproute2 tmux procps python3 util-linux gcc libc6-dev libsctp-dev libusrsctp-dev"

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    -h | --help)
      sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup.sh: unknown option '$arg' (use --test or --help)" >&2
      exit 1
      ;;
  esac
done

say() { printf 'setup: %s\n' "$*" >&2; }

# ---- Deno (pinned, from the npm registry) -------------------------------------------------
deno_bin="$TOOLS/node_modules/@deno/linux-x64-glibc/deno"
have_version=""
if [ -x "$deno_bin" ]; then
  have_version=$("$deno_bin" --version 2>/dev/null | sed -n '1s/^deno \([0-9.]*\).*/\1/p')
fi
if [ "$have_version" != "$DENO_VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    say "npm is missing: install Node.js and npm first (Debian: apt-get install nodejs npm)"
    exit 1
  fi
  say "installing deno@$DENO_VERSION from npm into .tools/"
  mkdir -p "$TOOLS"
  [ -f "$TOOLS/package.json" ] || printf '{ "private": true }\n' >"$TOOLS/package.json"
  npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
  if [ ! -x "$deno_bin" ]; then
    # Other platforms: the npm package picks its own binary; fall back to its launcher.
    deno_bin="$TOOLS/node_modules/deno/deno"
  fi
fi
mkdir -p "$TOOLS/bin"
ln -sf "../${deno_bin#"$TOOLS/"}" "$TOOLS/bin/deno"
"$TOOLS/bin/deno" --version | head -n 1 | sed 's/^/setup: /' >&2

# ---- Debian packages ------------------------------------------------------------------------
packages="$RUNTIME_PACKAGES"
[ "$want_test" = 1 ] && packages="$packages $TEST_PACKAGES"

missing=""
for p in $packages; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
  else
    say "please install these Debian packages as root, then run this script again:"
    echo "  sudo apt-get install -y$missing"
    [ "$want_test" = 1 ] && exit 1
  fi
fi

say "ready (deno: .tools/bin/deno, or scripts/deno)"
