#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_bird.sh - the agent stays true to BIRD, and BIRD's own life does not hurt the network.
# One PoP: web announced (nginx up), dns withdrawn (its check's port is closed). Asserted at the
# upstream:
#   `birdc configure` on the PoP: zero withdraws at the peer, dns stays withdrawn (the state
#       files carry the decision through the configure);
#   drift: `birdc disable anycast_web4` / `birdc enable anycast_dns4` by hand are corrected
#       within reconcile_interval and logged as drift;
#   the agent killed with SIGKILL and restarted while healthy: zero withdraws at the peer;
#   BIRD restarted on the PoP: web comes back, dns stays withdrawn, the agent reconnects.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

WEB=192.0.2.80/32 DNS=192.0.2.53/32 WEB6=2001:db8::80/128
RECONCILE=0.5
# a correction lands within one reconcile period (0.5 s); 0.5 s more for birdc, the polling and a
# loaded CI machine (measured 100-490 ms, ASan build included)
DRIFT_MAX_MS=1000

e2e_web_pop "e2ebd$$"
e2e_conf "reconcile_interval = $RECONCILE;" >"$E2E_WORK/agent.conf" <<CONF
checks: {
$(e2e_check_web)
  dns: { type = "tcp"; address = "192.0.2.53:53"; interval = 0.2; timeout = 0.1; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ]; requires = [ "web" ];
         prefixes = [ "$WEB", "$WEB6" ]; hold_down = 1.0; };
  dns: { protocols = [ "anycast_dns4", "anycast_dns6" ]; requires = [ "dns" ];
         prefixes = [ "$DNS", "2001:db8::53/128" ]; hold_down = 1.0; };
};
CONF

has() { topo_upstream_has_route "$1"; }
hasnt() { ! topo_upstream_has_route "$1"; }
# the upstream's import counters of both sessions with the PoP ("?" if unreadable)
sum2() { [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && echo $(($1 + $2)) || echo "?"; }
withdraws() { sum2 "$(topo_upstream_withdraws pop1 4)" "$(topo_upstream_withdraws pop1 6)"; }
updates() { sum2 "$(topo_upstream_updates pop1 4)" "$(topo_upstream_updates pop1 6)"; }
healthy() { has "$WEB" && has "$WEB6" && hasnt "$DNS"; }

e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "has $WEB && has $WEB6" 10 || e2e_die "web never announced"
topo_wait_for "grep -q 'announcement \"dns\".*WITHDRAWN' '$E2E_LOG'" 5 ||
	e2e_die "dns never decided withdrawn"
healthy || e2e_die "dns announced with its check down"
e2e_pass "web announced, dns withdrawn (its check is down)"

# --- birdc configure: nothing moves at the peer
w0=$(withdraws) u0=$(updates)
[[ $w0 =~ ^[0-9]+$ && $u0 =~ ^[0-9]+$ ]] || e2e_die "cannot read the upstream's counters"
out=$(topo_configure pop1) || e2e_die "birdc configure failed: $out"
# configure has finished (show status says so); watch four reconcile periods for its aftermath
e2e_hold healthy 2 || e2e_die "configure changed what the peer sees"
w=$(withdraws) u=$(updates)
[ "$w" = "$w0" ] || e2e_die "configure caused $((w - w0)) withdraws at the peer"
[ "$u" = "$u0" ] || e2e_die "configure caused $((u - u0)) updates at the peer"
e2e_pass "birdc configure -> 0 withdraws, 0 updates at the peer; dns stayed withdrawn"

# --- drift: an operator toggles protocols by hand; the agent puts them back and says so
# drift ACTION PROTO STATE AT_PEER: `birdc ACTION PROTO` by hand; PROTO is STATE again within
# DRIFT_MAX_MS, the correction is logged as drift, and the peer sees AT_PEER again
drift() {
	local d0 t0 ms
	d0=$(e2e_log_count "drifted: protocol $2")
	t0=${EPOCHREALTIME/./}
	topo_birdc pop1 "$1" "$2" >/dev/null || e2e_die "birdc $1 $2"
	topo_wait_for "[ \"\$(topo_proto_state pop1 $2)\" = $3 ]" 3 || e2e_die "$2 left ${1}d"
	ms=$(e2e_ms_since "$t0")
	[ "$ms" -le "$DRIFT_MAX_MS" ] || e2e_die "drift corrected after $ms ms (reconcile_interval $RECONCILE s)"
	topo_wait_for "[ \$(e2e_log_count 'drifted: protocol $2') -gt $d0 ]" 1 ||
		e2e_die "the correction of $2 was not logged as drift"
	topo_wait_for "$4" 2 || e2e_die "after birdc $1 $2 the peer does not see: $4"
	e2e_pass "birdc $1 $2 -> $3 again in $ms ms, logged as drift"
}
drift disable anycast_web4 up "has $WEB"
drift enable anycast_dns4 down "hasnt $DNS"

# --- hitless restart: SIGKILL the agent, start it again while everything is healthy
topo_wait_for healthy 3 || e2e_die "not healthy before the restart"
w0=$(withdraws) u0=$(updates)
a0=$(e2e_log_count 'announcement "web".*-> ANNOUNCED')
e2e_kill_agent KILL
grep -q "disabled no;" "$(topo_state_dir pop1)/anycast_web4.conf" || e2e_die "state file lost"
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
# the new agent has decided (its check rose) ...
e2e_wait_keeping "[ \$(e2e_log_count 'announcement \"web\".*-> ANNOUNCED') -gt $a0 ]" healthy 10 ||
	e2e_die "restarted agent: the peer saw a change before the checks decided"
# ... and acts on it over a few reconcile periods
e2e_hold healthy 1.5 || e2e_die "restarted agent changed what the peer sees"
w=$(withdraws) u=$(updates)
[ "$w" = "$w0" ] || e2e_die "SIGKILL + restart caused $((w - w0)) withdraws at the peer"
e2e_pass "SIGKILL + restart while healthy -> 0 withdraws, $((u - u0)) updates at the peer"

# --- BIRD restarted on the PoP: its state files restore the agent's decision
c0=$(e2e_log_count 'BIRD default: connected')
topo_bird_restart pop1 || e2e_die "BIRD restart"
t0=${EPOCHREALTIME/./}
topo_wait_established 30 || e2e_die "BGP not Established after the BIRD restart"
e2e_wait_keeping "has $WEB && has $WEB6" "hasnt $DNS" 10 ||
	e2e_die "after the BIRD restart: web not back, or dns announced"
ms=$(e2e_ms_since "$t0")
topo_wait_for "[ \$(e2e_log_count 'BIRD default: connected') -gt $c0 ]" 10 ||
	e2e_die "the agent did not reconnect to the restarted BIRD"
e2e_hold healthy 1 || e2e_die "after the BIRD restart the decision did not hold"
[ "$(topo_proto_state pop1 anycast_dns4)" = down ] || e2e_die "anycast_dns4 is not down"
e2e_pass "BIRD restarted -> web back at the peer in $ms ms, dns stayed withdrawn, agent reconnected"

e2e_stop_agent
echo "PASS"
