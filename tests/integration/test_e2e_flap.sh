#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_flap.sh - a service flapping every 2 s for 2 minutes: nginx is
# stopped and started every 2 s; its check (interval 0.2 s, rise 3, fall 2) follows every flap,
# while the announcement (default hold-down and damping) may cost the upstream at most the
# damping budget of BGP updates (withdraws + announces) that engine_damping_budget() computes for
# this config - the numbers engine.h documents. Counted from the upstream's import statistics of
# each session (IPv4 and IPv6, one prefix each). E2E_FLAP_SECONDS shortens it for development.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

WEB=192.0.2.80/32 WEB6=2001:db8::80/128
PERIOD=${E2E_FLAP_SECONDS:-120} EVERY=2
budget_tool=$top_builddir/tests/integration/flap_budget
[ -x "$budget_tool" ] || e2e_die "$budget_tool not built (make check builds it)"

e2e_web_pop "e2ef$$"
ns=$(topo_ns pop1)

# hold-down and damping: the defaults (10 s; penalty 1000, suppress 2000, half-life 900 s)
e2e_conf >"$E2E_WORK/agent.conf" <<CONF
checks: {
$(e2e_check_web)
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ]; requires = [ "web" ];
         prefixes = [ "$WEB", "$WEB6" ]; };
};
CONF
# the check rises rise x interval = 0.6 s after the service recovers
read -r _ bw _ ba _ bs _ budget < <("$budget_tool" "$E2E_WORK/agent.conf" web "$PERIOD" "$EVERY" 0.6) ||
	e2e_die "flap_budget failed"
[[ $budget =~ ^[0-9]+$ ]] || e2e_die "flap_budget printed no budget"

e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "topo_upstream_has_route $WEB && topo_upstream_has_route $WEB6" 10 ||
	e2e_die "web never announced"
count() { # AF: withdraws + updates the upstream imported from pop1
	local w u
	w=$(topo_upstream_withdraws pop1 "$1") u=$(topo_upstream_updates pop1 "$1")
	[[ $w =~ ^[0-9]+$ && $u =~ ^[0-9]+$ ]] || e2e_die "cannot read the upstream's counters"
	echo $((w + u))
}
c4=$(count 4) c6=$(count 6)
t0=$(e2e_log_count 'check "web": (UP -> DOWN|DOWN -> UP)')

# flap on a fixed schedule (each toggle at start + k x EVERY, whatever a toggle costs)
echo "# flapping nginx every $EVERY s for $PERIOD s"
start=${EPOCHREALTIME/./}
for ((k = 1; k * EVERY <= PERIOD; k++)); do
	at=$((start + k * EVERY * 1000000))
	while ((${EPOCHREALTIME/./} < at)); do sleep 0.02; done
	if ((k % 2)); then nginx_stop; else nginx_start "$ns" || e2e_die "nginx start"; fi
done
flaps=$(($(e2e_log_count 'check "web": (UP -> DOWN|DOWN -> UP)') - t0))
d4=$(($(count 4) - c4)) d6=$(($(count 6) - c6))
echo "# check transitions $flaps; BGP updates at the upstream: IPv4 $d4, IPv6 $d6;" \
	"budget $budget (withdraws $bw, announces $ba, suppressions $bs)"
[ "$flaps" -ge $((PERIOD / EVERY / 2)) ] ||
	e2e_die "the check changed state only $flaps times: the service did not flap"
[ "$d4" -le "$budget" ] || e2e_die "IPv4: $d4 updates at the upstream, budget $budget"
[ "$d6" -le "$budget" ] || e2e_die "IPv6: $d6 updates at the upstream, budget $budget"
[ "$d4" -ge 1 ] || e2e_die "no withdraw at all while the service was down half the time"
e2e_pass "flapping every $EVERY s for $PERIOD s: $flaps check transitions ->" \
	"$d4 (v4) / $d6 (v6) BGP updates at the upstream, damping budget $budget"
e2e_stop_agent
echo "PASS"
