#!/bin/bash
# capture-routes.sh OUTDIR - the `show route for PREFIX all` replies of the README here, from
# pop1 of two PoPs over iBGP (tests/lib/topo.sh), with the BIRD of TOPO_BIRD (2.0.12, 2.17, 3.1).
# Root; run it under the shared lock (flock /tmp/anycast-heavy.lock ...).
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../../.." && pwd)}
. "$top_srcdir/tests/lib/topo.sh"
out=${1:?usage: capture-routes.sh OUTDIR}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
topo_require || exit 1
topo_init "caprt$$" || exit 1
topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_add_pop pop2 2 &&
	topo_link pop1 up1 && topo_link pop2 up1 && topo_ibgp pop1 pop2 || exit 1
# BIRD 3: a second socket that prints routes as BIRD 2 did (`v2 attributes`, 3.1+)
v2=
if [[ $TOPO_BIRD_VERSION == 3.* ]]; then
	v2=$TOPO_DIR/pop1/v2.ctl
	echo "cli \"$v2\" { v2 attributes; };" >"$TOPO_DIR/pop1/local.conf"
fi
topo_start || exit 1
topo_wait_for "topo_ibgp_established pop1 pop2 4 && topo_ibgp_established pop1 pop2 6" 30 || exit 1
for p in anycast_web4 anycast_web4_drain anycast_web6; do topo_birdc pop1 enable "$p" >/dev/null; done
for p in anycast_web4 anycast_web6; do topo_birdc pop2 enable "$p" >/dev/null; done
pop1_has() { [ "$(topo_birdc pop1 show route for "$1" | grep -c '\[')" = "$2" ]; }
topo_wait_for "pop1_has 192.0.2.80/32 3 && pop1_has 2001:db8::80/128 2" 10 || exit 1
# raw bytes from the socket, as the agent reads them
capture() { # FILE PREFIX [SOCKET]
	/usr/bin/python3 "$top_srcdir/tests/data/bird/capture.py" "${3:-$(topo_socket pop1)}" \
		"$TOPO_DIR/cap" "show route for $2 all" >/dev/null && mv "$TOPO_DIR/cap.0" "$out/$1"
}
capture show_route_for_ibgp4 192.0.2.80/32
[ -n "$v2" ] && capture show_route_for_ibgp4_v2_attributes 192.0.2.80/32 "$v2"
capture show_route_for_ibgp6 2001:db8::80/128
for p in anycast_web4 anycast_web6; do topo_birdc pop2 disable "$p" >/dev/null; done
topo_wait_for "pop1_has 192.0.2.80/32 2" 10 || exit 1
capture show_route_for_alone 192.0.2.80/32
capture show_route_for_not_found 192.0.2.53/32
echo "BIRD $TOPO_BIRD_VERSION: $(ls "$out" | grep -c show_route_for) replies in $out"
