#!/bin/sh
# Network-namespace testbed: "hosts" (network namespaces) attached to one or more bridges
# ("links"), for SCTP (multi-homing, path failures) and multicast tests. Addresses come from
# 198.18.0.0/15 (RFC 2544 benchmarking range): link L, host H has 198.18.L.H/24 (and, with
# --ipv6, fd00:5c7:0:L::H/64). Every host has a route 224.0.0.0/4 on its first link, so
# multicast stays inside the testbed. Nothing is connected to the host's own network.
#
#   testbed.sh create NAME [--hosts N] [--links M] [--ipv6]   create (fails if NAME exists)
#   testbed.sh destroy NAME                                   delete all namespaces of NAME
#   testbed.sh cut NAME HOST LINK                             take host H's port on link L down
#   testbed.sh restore NAME HOST LINK                         bring it up again
#   testbed.sh exec NAME HOST COMMAND...                      run COMMAND inside host H
#   testbed.sh lo NAME                                        create a single host with only lo
#   testbed.sh list                                           list testbed namespaces
#
# Namespaces: NAME-br (the bridges), NAME-h1 .. NAME-hN (hosts; interfaces eth0..eth(M-1)).
# "lo" testbeds have one namespace NAME-h1 with only lo and the route 224.0.0.0/4 dev lo src
# 127.0.0.1 (same-host multicast). Needs root (ip netns).
set -eu

die() {
  echo "testbed.sh: $*" >&2
  exit 1
}

[ "$#" -ge 1 ] || die "usage: testbed.sh create|destroy|cut|restore|exec|lo|list ..."
cmd=$1
shift

check_name() {
  case "$1" in
    '' | *[!A-Za-z0-9_.-]*) die "bad testbed name '$1' (letters, digits, _ . - only)" ;;
  esac
}

case "$cmd" in
  create)
    [ "$#" -ge 1 ] || die "usage: testbed.sh create NAME [--hosts N] [--links M] [--ipv6]"
    name=$1
    shift
    check_name "$name"
    hosts=2
    links=1
    ipv6=0
    while [ "$#" -gt 0 ]; do
      case "$1" in
        --hosts) hosts=$2; shift 2 ;;
        --links) links=$2; shift 2 ;;
        --ipv6) ipv6=1; shift ;;
        *) die "unknown option '$1'" ;;
      esac
    done
    [ "$hosts" -ge 1 ] && [ "$hosts" -le 250 ] || die "--hosts must be 1..250"
    [ "$links" -ge 1 ] && [ "$links" -le 8 ] || die "--links must be 1..8"
    if ip netns list | grep -q "^$name-"; then die "testbed '$name' exists"; fi
    br="$name-br"
    ip netns add "$br"
    ip -n "$br" link set lo up
    l=0
    while [ "$l" -lt "$links" ]; do
      ip -n "$br" link add "br$l" type bridge
      # No multicast snooping: every port gets every multicast frame (short tests, no IGMP wait).
      ip -n "$br" link set "br$l" type bridge mcast_snooping 0
      ip -n "$br" link set "br$l" up
      l=$((l + 1))
    done
    h=1
    while [ "$h" -le "$hosts" ]; do
      ns="$name-h$h"
      ip netns add "$ns"
      ip -n "$ns" link set lo up
      if [ "$ipv6" = 1 ]; then
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 || true
      fi
      l=0
      while [ "$l" -lt "$links" ]; do
        ip link add "eth$l" netns "$ns" type veth peer name "p${h}l$l" netns "$br"
        ip -n "$br" link set "p${h}l$l" master "br$l"
        ip -n "$br" link set "p${h}l$l" up
        ip -n "$ns" addr add "198.18.$l.$h/24" dev "eth$l"
        if [ "$ipv6" = 1 ]; then
          ip -n "$ns" addr add "fd00:5c7:0:$l::$h/64" dev "eth$l" nodad
        fi
        ip -n "$ns" link set "eth$l" up
        l=$((l + 1))
      done
      ip -n "$ns" route add 224.0.0.0/4 dev eth0
      if [ "$ipv6" = 1 ]; then ip -n "$ns" -6 route add ff00::/8 dev eth0 table local 2>/dev/null || true; fi
      h=$((h + 1))
    done
    ;;
  lo)
    [ "$#" -eq 1 ] || die "usage: testbed.sh lo NAME"
    name=$1
    check_name "$name"
    if ip netns list | grep -q "^$name-"; then die "testbed '$name' exists"; fi
    ns="$name-h1"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip -n "$ns" route add 224.0.0.0/4 dev lo src 127.0.0.1
    ;;
  destroy)
    [ "$#" -eq 1 ] || die "usage: testbed.sh destroy NAME"
    name=$1
    check_name "$name"
    for ns in $(ip netns list | sed -n "s/^\($name-[^ ]*\).*/\1/p"); do
      # Stop whatever still runs inside (test peers that outlived their test).
      pids=$(ip netns pids "$ns" 2>/dev/null || true)
      if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill -9 $pids 2>/dev/null || true
      fi
      ip netns del "$ns"
    done
    ;;
  cut | restore)
    [ "$#" -eq 3 ] || die "usage: testbed.sh $cmd NAME HOST LINK"
    state=down
    [ "$cmd" = restore ] && state=up
    ip -n "$1-br" link set "p${2}l$3" "$state"
    ;;
  exec)
    [ "$#" -ge 3 ] || die "usage: testbed.sh exec NAME HOST COMMAND..."
    ns="$1-h$2"
    shift 2
    exec ip netns exec "$ns" "$@"
    ;;
  list)
    ip netns list | sed -n 's/^\([^ ]*-\(br\|h[0-9]*\)\)\( .*\)\{0,1\}$/\1/p'
    ;;
  *)
    die "unknown command '$cmd'"
    ;;
esac
