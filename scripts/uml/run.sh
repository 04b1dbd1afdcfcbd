#!/usr/bin/env bash
# Runs one command as root inside a user-mode-linux guest that has kernel SCTP, and exits with
# the command's exit status. The guest's root file system is the host's / (hostfs, read-only);
# the command sees the same files, PATH and environment, in the same working directory.
#
#   scripts/uml/run.sh [options] -- COMMAND [ARG...]
#
# Options:
#   --timeout SEC     wall-clock limit for the whole run (default 900); 124 when it expires
#   --mem SIZE        guest memory (default 1536M)
#   --links N         tap links between guest and host-side namespace, 0-4 (default 1);
#                     link i: guest 10.9.i.2/24 + fd00:9:0:i::2/64 on vec<i>,
#                     host side 10.9.i.1/24 + fd00:9:0:i::1/64 on umltap<i> in the namespace
#   --netns NAME      host-side network namespace (default rsp-uml-<pid>); created (and
#                     deleted at the end) unless it exists already
#   --rw DIR          also make host directory DIR writable in the guest (repeatable);
#                     <repo>/tests/tmp always is
#   --cwd DIR         working directory of the command (default: the current one)
#   --modprobe MOD    load one more kernel module before the command (repeatable)
#   --run-dir DIR     use DIR (created if needed, kept) for the run's control files: DIR/ready
#                     appears when the command starts, DIR/stop asks the guest to stop it
#                     (SIGTERM), DIR/status holds its exit status. Default: a temporary one.
#   --stdin           pass run.sh's stdin to the command (through UML console tty1, raw mode;
#                     the command sees no end of file); default: /dev/null
#   --deno-dir DIR    guest DENO_DIR on the host, writable and kept between runs (default: a
#                     tmpfs copy of the host's DENO_DIR cache, discarded at power-off)
#   --no-precheck     do not type-check on the host first: for `deno test|bench ...` commands
#                     run.sh runs the same command with --no-run on the host before booting, so
#                     the guest finds the type-check result in its copy of the cache (a fresh
#                     check takes ~15 s under UML, ~1-2 s on the host)
#   --kernel FILE     UML kernel (default $RSERPOOL_UML_KERNEL or /usr/bin/linux.uml)
#   --console FILE    keep the guest kernel's console log in FILE
#   -v, --verbose     kernel console and boot steps on stderr
#   -h, --help        this text
#
# Exit status: the command's; 124 on timeout; 125 when the guest could not run it.
# In the guest: stdout and stderr are streamed through UML consoles tty1/tty2 (through a pipe
# when run.sh's own stdout/stderr is no terminal), stdin is /dev/null; writable are /tmp, /run,
# /var/tmp, /dev/shm (tmpfs), <repo>/tests/tmp and --rw dirs (hostfs). Environment extras:
# RSERPOOL_UML_GUEST=1, RSERPOOL_UML_GUEST_ADDRESSES, RSERPOOL_UML_HOST_ADDRESSES,
# RSERPOOL_UML_NETNS, RSERPOOL_UML_RUN_DIR. See docs/test-environments.md.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
KERNEL=${RSERPOOL_UML_KERNEL:-/usr/bin/linux.uml}
timeout_s=900
mem=1536M
links=1
netns=""
cwd=$PWD
run_dir=""
deno_dir=""
console=""
verbose=0
precheck=1
stdin=0
rw_dirs=("$ROOT/tests/tmp")
modules=()

die() {
  echo "uml/run.sh: $*" >&2
  exit 125
}
usage() { sed -n '2,/^set -u/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --timeout) timeout_s=${2:?}; shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --links) links=${2:?}; shift 2 ;;
    --netns) netns=${2:?}; shift 2 ;;
    --rw)
      d=$(cd "${2:?}" && pwd) || die "no such directory: $2"
      rw_dirs+=("$d")
      shift 2
      ;;
    --cwd) cwd=$(cd "${2:?}" && pwd) || die "no such directory: $2"; shift 2 ;;
    --modprobe) modules+=("${2:?}"); shift 2 ;;
    --run-dir) run_dir=${2:?}; shift 2 ;;
    --deno-dir) deno_dir=${2:?}; shift 2 ;;
    --no-precheck) precheck=0; shift ;;
    --stdin) stdin=1; shift ;;
    --kernel) KERNEL=${2:?}; shift 2 ;;
    --console) console=${2:?}; shift 2 ;;
    -v | --verbose) verbose=1; shift ;;
    -h | --help) usage; exit 0 ;;
    --) shift; break ;;
    *) usage >&2; die "unknown option '$1' (the command goes after --)" ;;
  esac
done
[ $# -gt 0 ] || { usage >&2; die "no command given"; }
case "$timeout_s" in '' | *[!0-9]*) die "--timeout wants whole seconds, got '$timeout_s'" ;; esac
case "$links" in [0-4]) ;; *) die "--links wants 0 to 4, got '$links'" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root (tap devices, network namespaces)"
[ -x "$KERNEL" ] || die "no UML kernel at $KERNEL (apt-get install user-mode-linux)"
kver=$("$KERNEL" --version 2>/dev/null | head -n 1 | tr -d '[:space:]') # e.g. 6.1.176
mod_dir=${RSERPOOL_UML_MODULES:-/usr/lib/uml/modules/$kver}
[ -d "$mod_dir/kernel/net/sctp" ] || die "no SCTP module under $mod_dir (user-mode-linux package)"
command -v modprobe >/dev/null 2>&1 || [ -x /usr/sbin/modprobe ] || die "modprobe missing (kmod)"

say() { [ "$verbose" = 1 ] && echo "uml/run.sh: $*" >&2; return 0; }
t_start=$(date +%s%N)

# ---- run directory (control files; mounted writable in the guest) ---------------------------
keep_run_dir=1
if [ -z "$run_dir" ]; then
  mkdir -p "$ROOT/tests/tmp/uml"
  run_dir=$(mktemp -d "$ROOT/tests/tmp/uml/run.XXXXXX") || die "cannot create a run directory"
  keep_run_dir=0
fi
mkdir -p "$run_dir" && run_dir=$(cd "$run_dir" && pwd) || die "cannot create $run_dir"
rm -f "$run_dir/ready" "$run_dir/status" "$run_dir/stop"
for p in "$run_dir" "$cwd" "${rw_dirs[@]}" "$ROOT"; do
  case "$p" in *[[:space:]]*) die "paths with white space do not work with UML: '$p'" ;; esac
done
if [ -n "$deno_dir" ]; then
  mkdir -p "$deno_dir" && deno_dir=$(cd "$deno_dir" && pwd) || die "cannot create $deno_dir"
  rw_dirs+=("$deno_dir")
fi

# ---- what the guest runs: environment, command, configuration -------------------------------
# The environment and the command, NUL-separated.
env -0 -u PWD -u OLDPWD -u SHLVL -u _ -u TMUX -u TMUX_PANE >"$run_dir/env"
printf '%s\0' "$@" >"$run_dir/command"
[ "$links" -gt 0 ] && [ -z "$netns" ] && netns="rsp-uml-$$"
guest_addrs=""
host_addrs=""
{
  echo "link set lo up"
  if [ "$links" = 0 ]; then
    guest_addrs=" 10.9.0.2"
    echo "addr add 10.9.0.2/32 dev lo"
    echo "route add 224.0.0.0/4 dev lo src 10.9.0.2"
  fi
  for ((i = 0; i < links; i++)); do
    guest_addrs="$guest_addrs 10.9.$i.2 fd00:9:0:$i::2"
    host_addrs="$host_addrs 10.9.$i.1 fd00:9:0:$i::1"
    echo "link set vec$i up"
    echo "addr add 10.9.$i.2/24 dev vec$i"
    echo "addr add fd00:9:0:$i::2/64 dev vec$i nodad"
  done
  [ "$links" -gt 0 ] && echo "route add 224.0.0.0/4 dev vec0"
} >"$run_dir/ip.batch"

# Modules: modprobe -d DIR looks in DIR/lib/modules/<version>; the kernel calls the wrapper.
mkdir -p "$run_dir/modroot/lib/modules"
ln -sfn "$mod_dir" "$run_dir/modroot/lib/modules/$kver"
printf '#!/bin/sh\nexec modprobe -d %s "$@"\n' "$run_dir/modroot" >"$run_dir/modprobe"
chmod +x "$run_dir/modprobe"

# File systems. /tmp and /var/tmp are empty tmpfs unless they hold a host path the guest needs;
# then they become overlays (host content visible, writes kept in guest memory).
host_deno_dir=${DENO_DIR:-${HOME:-/root}/.cache/deno}
needed=("$run_dir" "$ROOT" "$cwd" "${rw_dirs[@]}" "$host_deno_dir" "$mod_dir")
needed+=("$(dirname "$(command -v "$1" || echo /x)")")
IFS=: read -r -a path_dirs <<<"$PATH"
needed+=("${path_dirs[@]}")
overlay_dirs=""
{
  echo "proc /proc proc defaults 0 0"
  echo "sysfs /sys sysfs defaults 0 0"
  echo "devpts /dev/pts devpts gid=5,mode=620,ptmxmode=666,X-mount.mkdir 0 0"
  echo "tmpfs /dev/shm tmpfs mode=1777,X-mount.mkdir 0 0"
  echo "tmpfs /run tmpfs mode=755 0 0"
  echo "tmpfs /run/deno-dir tmpfs mode=755,X-mount.mkdir 0 0"
} >"$run_dir/fstab"
: >"$run_dir/fstab.overlay"
for d in /tmp /var/tmp; do
  hit=0
  for p in "${needed[@]}"; do case "$p/" in "$d"/*) hit=1 ;; esac; done
  if [ "$hit" = 1 ]; then
    o=/run/uml-overlay${d//\//-}
    overlay_dirs="$overlay_dirs $o/upper $o/work"
    echo "overlay $d overlay lowerdir=$d,upperdir=$o/upper,workdir=$o/work 0 0" \
      >>"$run_dir/fstab.overlay"
  else
    echo "tmpfs $d tmpfs mode=1777 0 0" >>"$run_dir/fstab"
  fi
done
rw_fstab=$run_dir/fstab
[ -s "$run_dir/fstab.overlay" ] && rw_fstab=$run_dir/fstab.overlay
for d in "${rw_dirs[@]}"; do
  echo "none $d hostfs $d 0 0" >>"$rw_fstab"
done

{
  printf 'CWD=%q\n' "$cwd"
  printf 'MODULES=%q\n' "${modules[*]:-}"
  printf 'GUEST_TIMEOUT=%q\n' "$((timeout_s > 20 ? timeout_s - 10 : timeout_s))"
  printf 'GUEST_ADDRS=%q\n' "${guest_addrs# }"
  printf 'HOST_ADDRS=%q\n' "${host_addrs# }"
  printf 'NETNS=%q\n' "$netns"
  printf 'DENO_DIR_SRC=%q\n' "$host_deno_dir"
  printf 'DENO_DIR_RW=%q\n' "$deno_dir"
  printf 'OVERLAY_DIRS=%q\n' "${overlay_dirs# }"
  printf 'VERBOSE=%q\n' "$verbose"
  # The consoles look like terminals to the command; where run.sh writes to a pipe or a file,
  # the guest puts a pipe in between, so that programs behave as they would on the host.
  printf 'PIPE_STDOUT=%q\n' "$([ -t 1 ] && echo 0 || echo 1)"
  printf 'PIPE_STDERR=%q\n' "$([ -t 2 ] && echo 0 || echo 1)"
  printf 'STDIN=%q\n' "$stdin"
} >"$run_dir/config.sh"

# ---- host-side network namespace with one tap per link --------------------------------------
# Default namespaces of runs that were killed (rsp-uml-<pid> with no such process) go first.
for ns in $(ip netns list 2>/dev/null | sed -n 's/^\(rsp-uml-[0-9][0-9]*\)\( .*\)\{0,1\}$/\1/p'); do
  kill -0 "${ns#rsp-uml-}" 2>/dev/null || ip netns del "$ns" 2>/dev/null
done
created_netns=""
netns_prefix=()
if [ "$links" -gt 0 ]; then
  [ -c /dev/net/tun ] || die "/dev/net/tun is missing"
  if ! ip netns list | grep -q -E "^$netns( |$)"; then
    ip netns add "$netns" || die "cannot create network namespace $netns"
    created_netns=$netns
  fi
  ip -n "$netns" link set lo up
  for ((i = 0; i < links; i++)); do
    tap="umltap$i"
    ip -n "$netns" link del "$tap" 2>/dev/null
    ip -n "$netns" tuntap add dev "$tap" mode tap || die "cannot create $tap in $netns"
    ip -n "$netns" addr add "10.9.$i.1/24" dev "$tap"
    ip -n "$netns" addr add "fd00:9:0:$i::1/64" dev "$tap" nodad 2>/dev/null
    ip -n "$netns" link set "$tap" up
  done
  ip -n "$netns" route add 224.0.0.0/4 dev umltap0 2>/dev/null
  netns_prefix=(ip netns exec "$netns")
fi

uml_pid=""
stdin_copier=""
cleanup() {
  [ -n "$stdin_copier" ] && kill "$stdin_copier" 2>/dev/null
  if [ -n "$uml_pid" ] && kill -0 "$uml_pid" 2>/dev/null; then
    kill -TERM "$uml_pid" 2>/dev/null # timeout(1) passes it on to UML's process group
    wait "$uml_pid" 2>/dev/null
  fi
  if [ -n "$netns" ] && [ "$links" -gt 0 ]; then
    for ((i = 0; i < links; i++)); do ip -n "$netns" link del "umltap$i" 2>/dev/null; done
  fi
  [ -n "$created_netns" ] && ip netns del "$created_netns" 2>/dev/null
  if [ "$keep_run_dir" = 0 ]; then
    [ -n "$console" ] && [ -f "$run_dir/console.log" ] && cp "$run_dir/console.log" "$console"
    rm -rf "$run_dir"
  elif [ -n "$console" ] && [ -f "$run_dir/console.log" ]; then
    cp "$run_dir/console.log" "$console"
  fi
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM HUP
trap cleanup EXIT

# ---- type-check on the host (the guest copies the host's Deno cache at boot) ---------------
if [ "$precheck" = 1 ] && [ "${1##*/}" = deno ] && { [ "${2:-}" = test ] || [ "${2:-}" = bench ]; } &&
  [ -z "$deno_dir" ]; then
  say "type-checking on the host: $1 $2 --no-run ..."
  (cd "$cwd" && "$1" "$2" --no-run "${@:3}" >/dev/null 2>&1) # errors show again in the guest
fi

# ---- boot -------------------------------------------------------------------------------------
uml_args=(
  "mem=$mem" rootfstype=hostfs rootflags=/ ro "init=$ROOT/scripts/uml/guest-init.sh" quiet
  "uml_dir=$run_dir" "umid=uml" "RSERPOOL_UML_RUN_DIR=$run_dir"
  con=null con0=null,fd:3 con2=null,fd:2 ssl=null
)
if [ "$stdin" = 1 ]; then
  # UML hangs the console up (SIGHUP to the command) when its input ends: feed it from a FIFO
  # that this script keeps open, and copy stdin into it.
  mkfifo "$run_dir/stdin"
  exec 4<>"$run_dir/stdin"
  cat <&0 >&4 &
  stdin_copier=$!
  uml_args+=(con1=fd:4,fd:1)
else
  uml_args+=(con1=null,fd:1)
fi
for ((i = 0; i < links; i++)); do
  uml_args+=("vec$i:transport=tap,ifname=umltap$i")
done
say "booting $KERNEL ($kver) links=$links netns=${netns:-none} run_dir=$run_dir"
if [ "$verbose" = 1 ]; then
  exec 3> >(tee "$run_dir/console.log" | sed -u 's/^/[uml] /' >&2)
else
  exec 3>"$run_dir/console.log"
fi
# timeout(1) puts UML (and every host process it forks) into its own process group and
# signals that group: TERM at the limit, KILL 5 s later.
timeout -k 5 "$timeout_s" "${netns_prefix[@]}" "$KERNEL" "${uml_args[@]}" </dev/null &
uml_pid=$!
wait "$uml_pid"
uml_status=$?
uml_pid=""
exec 3>&-
t_end=$(date +%s%N)

if [ -s "$run_dir/status" ]; then
  status=$(cat "$run_dir/status")
  say "guest finished: status $status, $(((t_end - t_start) / 1000000)) ms in all$(
    [ -s "$run_dir/ready" ] && echo ", command started at guest uptime $(cat "$run_dir/ready") ms"
  )"
  exit "$status"
fi
if [ "$uml_status" = 124 ] || [ "$uml_status" = 137 ]; then
  echo "uml/run.sh: timeout after ${timeout_s}s; last console lines:" >&2
  tail -n 20 "$run_dir/console.log" >&2
  exit 124
fi
echo "uml/run.sh: the guest ended without an exit status (UML status $uml_status); console:" >&2
tail -n 40 "$run_dir/console.log" >&2
exit 125
