#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_guard.sh - the last-site guard over real BIRD: two PoPs peer with one upstream and with
# each other over iBGP (topo_ibgp), so each PoP's BIRD sees the other's anycast routes. pop1 runs
# the agent with last_site_guard = true; pop2's web protocols are toggled by hand. Asserted at
# the upstream:
#   pop2 announces too -> nginx on pop1 fails -> pop1 withdraws (another path exists);
#   pop2 withdrawn     -> nginx on pop1 fails -> pop1 keeps announcing (guarded, logged);
#   pop2 comes back    -> the held withdraw happens at the next observation.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

WEB=192.0.2.80/32
RECONCILE=0.3

e2e_web_pops_ibgp "e2eg$$"
e2e_conf "reconcile_interval = $RECONCILE;" >"$E2E_WORK/agent.conf" <<CONF
checks: {
$(e2e_check_web)
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ]; requires = [ "web" ];
         prefixes = [ "$WEB", "2001:db8::80/128" ]; hold_down = 1.0; last_site_guard = true;
         damp_max_suppress = 0; };
};
CONF

pop2() { # enable|disable: pop2's web routes, as its own agent would
	local p
	for p in anycast_web4 anycast_web6; do
		topo_set_state pop2 "$p" "$([ "$1" = enable ] && echo no || echo yes)"
		topo_birdc pop2 "$1" "$p" >/dev/null || e2e_die "birdc $1 $p on pop2"
	done
}
routes() { topo_upstream_route_count "$WEB"; }
from() { topo_upstream_route_from "$WEB"; }
# pop1's BIRD holds (1) or lacks (0) pop2's route learned over iBGP
pop1_sees_pop2() { topo_birdc pop1 show route for "$WEB" all | grep -q "ibgp_pop2_v4"; }
seen() { e2e_log_count "announcement \"web\": $1"; }

pop2 enable
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "[ \$(routes) = 2 ]" 10 || e2e_die "the upstream does not have both PoPs' routes"
topo_wait_for "[ \$(seen 'another PoP has a path') -ge 1 ]" 3 ||
	e2e_die "the agent did not see pop2's path"
e2e_pass "both PoPs announce $WEB; the agent sees pop2's path over iBGP"

# another path exists: a failure withdraws as usual
nginx_stop
topo_wait_for "[ \$(routes) = 1 ]" 3 || e2e_die "pop1 did not withdraw while pop2 announces"
[ "$(from)" = pop2 ] || e2e_die "the remaining route is not pop2's"
grep -q 'guarded' "$E2E_LOG" && e2e_die "the guard held a withdraw although pop2 announces"
e2e_pass "nginx down on pop1, pop2 announcing -> pop1 withdrew, the upstream uses pop2"
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
topo_wait_for "[ \$(routes) = 2 ]" 6 || e2e_die "pop1 did not come back"

# pop1 is the last site: the guard keeps the route
n0=$(seen 'no other path')
pop2 disable
topo_wait_for "[ \$(routes) = 1 ] && ! pop1_sees_pop2" 5 || e2e_die "pop2's route did not go"
topo_wait_for "[ \$(seen 'no other path') -gt $n0 ]" 3 ||
	e2e_die "the agent did not notice that pop2's path is gone"
nginx_stop
topo_wait_for "grep -q 'guarded' '$E2E_LOG'" 3 || e2e_die "the guard did not hold the withdraw"
e2e_hold "[ \$(routes) = 1 ] && [ \$(from) = pop1 ]" 1.5 ||
	e2e_die "pop1, the last site, withdrew its route"
e2e_pass "pop1 is the last site, nginx down -> the guard keeps the route (logged guarded)"

# another PoP returns: the held withdraw happens at once
t0=${EPOCHREALTIME/./}
pop2 enable
topo_wait_for "[ \$(from) = pop2 ] && [ \$(routes) = 1 ]" 3 ||
	e2e_die "pop1 still announces after pop2 came back"
e2e_pass "pop2 back -> pop1's held withdraw done $(e2e_ms_since "$t0") ms later"
e2e_stop_agent
echo "PASS"
