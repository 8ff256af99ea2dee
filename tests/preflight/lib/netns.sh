# tests/preflight/lib/netns.sh: two network namespaces joined by a veth pair (sourced).
#
#   ns_setup PROD ISO       create them: PROD has 10.77.0.1/24, ISO 10.77.0.2/24; ISO also
#                           routes 10.77.9.0/24 via PROD, which does not forward and so
#                           drops that traffic silently (a "missing route" that times out);
#                           ISO has no route at all to anything else (fast ENETUNREACH).
#                           ISO's resolv.conf points at its own loopback, so a name that
#                           is not in its hosts file never leaves the namespace.
#   ns_hosts ISO "ADDR NAME"  replace ISO's /etc/hosts (via /etc/netns/ISO/hosts)
#   ns_teardown PROD ISO    delete both namespaces and /etc/netns/ISO
#   ns_can_run              true when namespaces can be made here (root, ip, netns support)
#
# Nothing is ever sent outside these namespaces and the host's loopback.
NS_PROD_ADDR=10.77.0.1
NS_ISO_ADDR=10.77.0.2
NS_DROP_ADDR=10.77.9.9 # routed into PROD, which drops it: a timeout
NS_NOROUTE_ADDR=10.88.0.1 # no route in ISO: ENETUNREACH at once

ns_can_run() {
    [ "$(id -u)" -eq 0 ] || { echo "not root"; return 1; }
    command -v ip >/dev/null 2>&1 || { echo "no ip command"; return 1; }
    local probe="nsprobe-$$"
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "cannot create a network namespace"
        return 1
    fi
    ip netns del "$probe"
    return 0
}

ns_setup() { # PROD ISO
    local prod=$1 iso=$2 vp="vp$$" vi="vi$$"
    ip netns add "$prod" || return 1
    ip netns add "$iso" || return 1
    ip link add "$vp" type veth peer name "$vi" || return 1
    ip link set "$vp" netns "$prod" || return 1
    ip link set "$vi" netns "$iso" || return 1
    ip -n "$prod" link set lo up
    ip -n "$iso" link set lo up
    ip -n "$prod" addr add "$NS_PROD_ADDR/24" dev "$vp"
    ip -n "$iso" addr add "$NS_ISO_ADDR/24" dev "$vi"
    ip -n "$prod" link set "$vp" up
    ip -n "$iso" link set "$vi" up
    ip netns exec "$prod" sysctl -qw net.ipv4.ip_forward=0
    ip -n "$iso" route add 10.77.9.0/24 via "$NS_PROD_ADDR" || return 1
    mkdir -p "/etc/netns/$iso"
    echo "nameserver 127.0.0.1" >"/etc/netns/$iso/resolv.conf"
    printf '127.0.0.1 localhost\n' >"/etc/netns/$iso/hosts"
}

ns_hosts() { # ISO LINE
    printf '127.0.0.1 localhost\n%s\n' "$2" >"/etc/netns/$1/hosts"
}

ns_teardown() { # PROD ISO
    ip netns del "$1" 2>/dev/null
    ip netns del "$2" 2>/dev/null
    rm -rf "/etc/netns/$2"
    return 0
}
