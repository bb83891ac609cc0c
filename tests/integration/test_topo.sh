#!/bin/bash
# SPDX-License-Identifier: ISC
# test_topo.sh - end to end over tests/lib/topo.sh: one PoP and one upstream in network
# namespaces, each with its own BIRD 2, the PoP's config built from bird-snippets/bird2.
# Enabling and disabling the normal static protocol makes the upstream gain and lose the route;
# make-before-break to the drain variant gives the upstream (65535,0) and local-pref 0 without
# the route ever going away (polled, and counted by the upstream's withdraw counter); the degraded
# variant arrives with a prepended AS path; cleanup leaves no namespace, link or temp dir.
# Prints the appear/disappear latencies it measured.
# make check runs tests with $(SHELL), which may be dash: this file needs bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../lib/topo.sh
. "$top_srcdir/tests/lib/topo.sh"
. "$top_srcdir/tests/lib/tally.sh"
topo_require || exit 77


P4=192.0.2.80/32
P6=2001:db8::80/128
CYCLES=${TOPO_TEST_CYCLES:-10}

prefix=topotest$$
topo_init "$prefix" || die "topo_init"
topo_add_upstream up1 1 || die "topo_add_upstream"
topo_add_pop pop1 1 || die "topo_add_pop"
topo_link pop1 up1 || die "topo_link"
topo_start || die "topo_start"
topo_wait_established 30 || die "BGP sessions not Established within 30 s:
$(topo_birdc pop1 show protocols)"
pass "BGP up1<->pop1 Established (IPv4 and IPv6) after $((TOPO_WAITED_US / 1000)) ms"

# fail closed: the state files say `disabled yes;`, so nothing is announced yet
if topo_upstream_has_route "$P4"; then
	fail "upstream has $P4 before anything was enabled"
else
	pass "nothing announced before the first enable"
fi

# stats LIST...: "median M ms, max X ms" of microsecond values
stats() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
		printf "median %.2f ms, max %.2f ms (n=%d)", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, NR }'
}

# --- toggling the normal variant --------------------------------------------------------------
TOPO_POLL_INTERVAL=0 # measure latency: poll back to back
appear=() disappear=() bird_appear=()
u0=$(topo_upstream_updates pop1) w0=$(topo_upstream_withdraws pop1)
for ((i = 0; i < CYCLES; i++)); do
	topo_birdc pop1 enable anycast_web4 >/dev/null
	topo_wait_for "topo_upstream_has_route $P4" 5 || die "enable: $P4 did not reach the upstream"
	appear+=("$TOPO_WAITED_US")
	# BIRD's timestamps: protocol up at the PoP -> route received at the upstream
	bird_appear+=($((($(topo_upstream_route_time $P4) - $(topo_proto_since pop1 anycast_web4)) * 1000)))
	topo_birdc pop1 disable anycast_web4 >/dev/null
	topo_wait_for "! topo_upstream_has_route $P4" 5 || die "disable: $P4 stayed at the upstream"
	disappear+=("$TOPO_WAITED_US")
done
TOPO_POLL_INTERVAL=0.01
pass "enable -> route at upstream, polled: $(stats "${appear[@]}")"
pass "disable -> route gone at upstream, polled: $(stats "${disappear[@]}")"
pollcost=()
for ((i = 0; i < 10; i++)); do
	t=${EPOCHREALTIME/./}
	topo_upstream_has_route "$P4"
	pollcost+=($((${EPOCHREALTIME/./} - t)))
done
pass "one poll (birdc show route) costs $(stats "${pollcost[@]}"): the polled latency's resolution"
pass "enable -> route at upstream by BIRD's timestamps (ms resolution): $(stats "${bird_appear[@]}")"
u1=$(topo_upstream_updates pop1) w1=$(topo_upstream_withdraws pop1)
[ $((u1 - u0)) = "$CYCLES" ] && [ $((w1 - w0)) = "$CYCLES" ] &&
	pass "upstream counted $((u1 - u0)) updates and $((w1 - w0)) withdraws for $CYCLES cycles" ||
	fail "upstream counted $((u1 - u0)) updates, $((w1 - w0)) withdraws; expected $CYCLES each"

topo_birdc pop1 enable anycast_web6 >/dev/null
topo_wait_for "topo_upstream_has_route $P6" 5 && pass "IPv6: $P6 reaches the upstream" ||
	fail "IPv6: $P6 did not reach the upstream"
[ "$(topo_upstream_route_from "$P4")" = "" ] && pass "no IPv4 route while anycast_web4 is off" ||
	fail "IPv4 route present while anycast_web4 is off"

# --- make-before-break: normal -> drain -> normal, watched by a tight poller -----------------
topo_birdc pop1 enable anycast_web4 >/dev/null
topo_wait_for "topo_upstream_has_route $P4" 5 || die "$P4 not announced"
[ "$(topo_upstream_route_local_pref "$P4")" = 100 ] && [ -z "$(topo_upstream_route_communities "$P4")" ] &&
	pass "normal variant: local-pref 100, no community" ||
	fail "normal variant: local-pref '$(topo_upstream_route_local_pref "$P4")', community '$(topo_upstream_route_communities "$P4")'"

pollfile=$TOPO_DIR/poll.out
stopfile=$TOPO_DIR/poll.stop
startfile=$TOPO_DIR/poll.started
(
	polls=0 absent=0
	while [ ! -e "$stopfile" ]; do
		topo_upstream_has_route "$P4" || absent=$((absent + 1))
		polls=$((polls + 1))
		[ "$polls" = 10 ] && touch "$startfile"
	done
	echo "$polls $absent" >"$pollfile"
) &
poller=$!
topo_on_cleanup "kill $poller 2>/dev/null"
topo_wait_for "[ -e $startfile ]" 5 || die "the route poller did not start"

w0=$(topo_upstream_withdraws pop1)
drained=0 back=0
for ((i = 0; i < CYCLES; i++)); do
	topo_birdc pop1 enable anycast_web4_drain >/dev/null
	topo_birdc pop1 disable anycast_web4 >/dev/null
	topo_wait_for "[ \"\$(topo_upstream_route_communities $P4)\" = '(65535,0)' ] &&
		[ \"\$(topo_upstream_route_local_pref $P4)\" = 0 ]" 5 && drained=$((drained + 1))
	topo_birdc pop1 enable anycast_web4 >/dev/null
	topo_birdc pop1 disable anycast_web4_drain >/dev/null
	topo_wait_for "[ -z \"\$(topo_upstream_route_communities $P4)\" ] &&
		[ \"\$(topo_upstream_route_local_pref $P4)\" = 100 ]" 5 && back=$((back + 1))
done
# end on the drained state, as a drain does
topo_birdc pop1 enable anycast_web4_drain >/dev/null
topo_birdc pop1 disable anycast_web4 >/dev/null
topo_wait_for "[ \"\$(topo_upstream_route_communities $P4)\" = '(65535,0)' ]" 5
touch "$stopfile"
wait "$poller"
read -r polls absent <"$pollfile"
w1=$(topo_upstream_withdraws pop1)

[ "$drained" = "$CYCLES" ] &&
	pass "drain variant: upstream sees (65535,0) and local-pref 0 ($drained/$CYCLES switches)" ||
	fail "drain variant: (65535,0) with local-pref 0 seen in only $drained/$CYCLES switches"
[ "$back" = "$CYCLES" ] && pass "back to normal: community gone, local-pref 100 ($back/$CYCLES)" ||
	fail "back to normal seen in only $back/$CYCLES switches"
# the poller must have kept sampling through the switches: at least two polls a switch (a poll
# is one birdc call, 12 ms idle and over 40 ms under ASan on a loaded machine)
[ "$absent" = 0 ] && [ "$polls" -ge $((2 * (2 * CYCLES + 1))) ] &&
	pass "make-before-break: route absent in $absent of $polls polls over $((2 * CYCLES + 1)) switches" ||
	fail "make-before-break: route absent in $absent of $polls polls"
[ $((w1 - w0)) = 0 ] && pass "make-before-break: upstream received 0 withdraws" ||
	fail "make-before-break: upstream received $((w1 - w0)) withdraws"

# --- degraded: prepended AS path --------------------------------------------------------------
topo_birdc pop1 enable anycast_web4_degraded >/dev/null
topo_birdc pop1 disable anycast_web4_drain >/dev/null
topo_wait_for "[ \"\$(topo_upstream_route_as_path $P4)\" = '64500 64500 64500' ]" 5 &&
	pass "degraded variant: AS path $(topo_upstream_route_as_path "$P4"), community '$(topo_upstream_route_communities "$P4")'" ||
	fail "degraded variant: AS path '$(topo_upstream_route_as_path "$P4")'"
[ "$(topo_upstream_route_from "$P4")" = pop1 ] && pass "best route comes from pop1" ||
	fail "best route comes from '$(topo_upstream_route_from "$P4")'"
w2=$(topo_upstream_withdraws pop1)
[ $((w2 - w1)) = 0 ] && pass "drain -> degraded: 0 withdraws" ||
	fail "drain -> degraded: $((w2 - w1)) withdraws"

# --- the only things BIRD may complain about are none ---------------------------------------
for n in pop1 up1; do
	if grep -q '<ERR>' "$(topo_node_dir $n)/bird.log"; then
		fail "$n: BIRD logged errors: $(grep '<ERR>' "$(topo_node_dir $n)/bird.log" | sort -u | head -5)"
	fi
done

# --- cleanup leaves nothing -------------------------------------------------------------------
topo_cleanup
left=$(topo_leftovers "$prefix")
[ -z "$left" ] && pass "cleanup: no namespace, link or temp dir left" || fail "cleanup left: $left"

echo
tally_end "every topology check"
