#!/bin/bash
# PID 1 of the user-mode-linux guest that scripts/uml/run.sh boots. Do not run it on the host.
#
# Mounts what run.sh listed in the run directory's fstab, loads SCTP, configures the network,
# runs the command with stdout on tty1 and stderr on tty2 (UML consoles connected to run.sh's
# stdout and stderr), writes its exit status and powers off.
#
# Every process started under UML costs ~50-100 ms (ptrace), so this script uses builtins
# wherever it can and lets run.sh prepare files on the host (fstab, ip batch, module root).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C
RUN=${RSERPOOL_UML_RUN_DIR:-}
VERBOSE=0

uptime_s() {
  local up _
  read -r up _ </proc/uptime 2>/dev/null
  echo "${up:-?}"
}
log() { [ "$VERBOSE" = 1 ] && echo "uml-guest: $* ($(uptime_s) s)" >/dev/console; return 0; }

power_off() {
  sync
  echo o >/proc/sysrq-trigger
  # sysrq powers off asynchronously; PID 1 must not exit meanwhile (kernel panic).
  for ((i = 0; i < 600; i++)); do read -r -t 1 -u 9 _ 2>/dev/null || sleep 1; done
}

fail() {
  echo "uml-guest: $*" >/dev/console
  [ -n "$RUN" ] && echo 125 >"$RUN/status"
  power_off
}

# ---- file systems -----------------------------------------------------------------------------
# The run directory exists on the host, hence in the read-only root: mount it first.
[ -n "$RUN" ] || fail "RSERPOOL_UML_RUN_DIR is not set (boot this guest with scripts/uml/run.sh)"
mount -t hostfs -o "$RUN" hostfs "$RUN" || fail "cannot mount the run directory $RUN"
# shellcheck source=/dev/null
. "$RUN/config.sh" || fail "cannot read $RUN/config.sh"
# proc, sys, dev, devpts, /dev/shm, /run, /tmp, /var/tmp (tmpfs), writable host dirs (hostfs).
mount -a -T "$RUN/fstab" || fail "cannot mount the file systems of $RUN/fstab"
log "file systems mounted"
# Kernel module auto-loading (crypto, veth, overlay, ...) through modprobe -d with the UML modules.
echo "$RUN/modprobe" >/proc/sys/kernel/modprobe
if [ -s "$RUN/fstab.overlay" ]; then # /tmp or /var/tmp holds a path the guest needs
  mkdir -p $OVERLAY_DIRS
  mount -a -T "$RUN/fstab.overlay" || fail "cannot mount the overlays of $RUN/fstab.overlay"
  mount -t hostfs -o "$RUN" hostfs "$RUN" # in case an overlay hides it
fi

# ---- kernel SCTP ------------------------------------------------------------------------------
# sctp pulls in ipv6, crc-ccitt, udp_tunnel and ip6_udp_tunnel. hmac is needed before the first
# listen(): without it listen() fails with ENOSYS ("failed to load transform for md5").
# shellcheck disable=SC2086
modprobe -d "$RUN/modroot" -a sctp hmac $MODULES || fail "cannot load the kernel modules"
log "modules loaded"

# ---- network ----------------------------------------------------------------------------------
echo rserpool-uml >/proc/sys/kernel/hostname
ip -batch "$RUN/ip.batch" || fail "cannot configure the network"
log "network configured"

# ---- Deno cache: a private writable copy of the host's (type-check and code caches) -----------
if [ -n "$DENO_DIR_RW" ]; then
  guest_deno_dir=$DENO_DIR_RW
else
  guest_deno_dir=/run/deno-dir # a tmpfs (fstab)
  copy=()
  link=()
  if [ -d "$DENO_DIR_SRC" ]; then
    for f in "$DENO_DIR_SRC"/*; do
      if [ -f "$f" ] || [ "${f##*/}" = gen ]; then copy+=("$f"); elif [ -e "$f" ]; then link+=("$f"); fi
    done
  fi
  # "gen" and the sqlite caches are copied; npm, remote, ...: read-only is enough offline.
  [ ${#copy[@]} -gt 0 ] && cp -a "${copy[@]}" "$guest_deno_dir/"
  [ ${#link[@]} -gt 0 ] && ln -s "${link[@]}" "$guest_deno_dir/"
fi

# ---- the command ------------------------------------------------------------------------------
while IFS= read -r -d '' kv; do
  case "${kv%%=*}" in
    *[!A-Za-z0-9_]* | [0-9]* | "") ;; # not a shell name (e.g. BASH_FUNC_x%%)
    *) export "$kv" ;;
  esac
done <"$RUN/env"
mapfile -d '' args <"$RUN/command"
export DENO_DIR=$guest_deno_dir DENO_NO_UPDATE_CHECK=1
export RSERPOOL_UML_GUEST=1 RSERPOOL_UML_RUN_DIR=$RUN RSERPOOL_UML_NETNS=$NETNS
export RSERPOOL_UML_GUEST_ADDRESSES=$GUEST_ADDRS RSERPOOL_UML_HOST_ADDRESSES=$HOST_ADDRS
cd "$CWD" || fail "no directory $CWD in the guest"
stty -F /dev/tty1 raw -echo
stty -F /dev/tty2 raw -echo
mkfifo /run/uml-tick
exec 9<>/run/uml-tick # read -t on it sleeps without starting a process

up=$(uptime_s)
echo "$((10#${up%.*} * 1000 + 10#${up#*.} * 10))" >"$RUN/ready" # ms since the kernel started
log "running: ${args[*]}"
out=/dev/tty1
err=/dev/tty2
copiers=()
if [ "$PIPE_STDOUT" = 1 ] || [ "$PIPE_STDERR" = 1 ]; then
  mkfifo /run/uml-stdout /run/uml-stderr
  if [ "$PIPE_STDOUT" = 1 ]; then
    cat /run/uml-stdout >/dev/tty1 &
    copiers+=($!)
    out=/run/uml-stdout
  fi
  if [ "$PIPE_STDERR" = 1 ]; then
    cat /run/uml-stderr >/dev/tty2 &
    copiers+=($!)
    err=/run/uml-stderr
  fi
fi
in=/dev/null
[ "$STDIN" = 1 ] && in=/dev/tty1
setsid "${args[@]}" <"$in" >"$out" 2>"$err" &
pid=$!
deadline=$((SECONDS + GUEST_TIMEOUT))
stopping=0
while kill -0 "$pid" 2>/dev/null; do
  if [ "$stopping" = 0 ] && { [ -e "$RUN/stop" ] || [ "$SECONDS" -ge "$deadline" ]; }; then
    [ -e "$RUN/stop" ] || echo "uml-guest: timeout after ${GUEST_TIMEOUT}s, stopping the command" >/dev/tty2
    kill -TERM -- "-$pid" 2>/dev/null
    stopping=$SECONDS
  elif [ "$stopping" != 0 ] && [ $((SECONDS - stopping)) -ge 5 ]; then
    kill -KILL -- "-$pid" 2>/dev/null
  fi
  read -r -t 0.1 -u 9 _
done
wait "$pid"
status=$?
# Processes the command left behind would keep the pipes open: end them, then the copiers.
kill -KILL -- "-$pid" 2>/dev/null
for c in "${copiers[@]}"; do
  for ((i = 0; i < 50; i++)); do kill -0 "$c" 2>/dev/null || break; read -r -t 0.1 -u 9 _; done
  kill "$c" 2>/dev/null
done
[ "$SECONDS" -ge "$deadline" ] && [ ! -e "$RUN/stop" ] && status=124
stty -F /dev/tty1 raw # returns when the consoles have written everything (TCSADRAIN)
stty -F /dev/tty2 raw
echo "$status" >"$RUN/status"
log "command exited with $status"
power_off
