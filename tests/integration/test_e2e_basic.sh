#!/bin/bash
# test_e2e_basic.sh - one PoP (BIRD + anycast-agent + nginx) peering with an upstream BIRD in
# network namespaces. Asserted at the upstream, what the Internet would see:
#   the route appears only after the check has risen; nginx stopped -> the route is withdrawn;
#   nginx back -> the route returns after rise + hold-down; --dry-run changes nothing;
#   SIGTERM with on_exit = withdraw -> the route is gone before the agent exits.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/topo.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/e2e.sh"
topo_require || exit 77
nginx_require

P4=192.0.2.80/32
agent="$top_builddir/anycast-agent"
apid=
die() {
	echo "FAIL: $*"
	[ -f "${work:-}/agent.log" ] && { echo "--- agent log"; cat "$work/agent.log"; }
	exit 1
}
pass() { echo "ok: $*"; }

work=
e2e_web_pop "e2eb$$" || die "the PoP did not come up"
work=$E2E_WORK
stop_agent() { [ -n "$apid" ] && kill -9 "$apid" 2>/dev/null; apid=; }
topo_on_cleanup stop_agent

# write_conf ON_EXIT: the PoP's agent config
write_conf() {
	cat >"$work/agent.conf" <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)";
        reconcile_interval = 0.5; };
control: { socket = "$work/agent.ctl"; };
state_file = "$work/operator.state";
on_exit = "$1";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 0.2; timeout = 0.1; rise = 3; fall = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 2.0; };
};
CONF
}
start_agent() {
	# ip netns exec execs the agent: $! is the agent itself
	ip netns exec "$(topo_ns pop1)" "$agent" -d -f "$work/agent.conf" "$@" >>"$work/agent.log" 2>&1 &
	apid=$!
}
write_conf withdraw

# --dry-run: everything runs, BIRD is only read
start_agent --dry-run
topo_wait_for "grep -q 'would enable BIRD protocol anycast_web4' '$work/agent.log'" 10 ||
	die "dry run did not log the enable it would make"
topo_upstream_has_route "$P4" && die "dry run announced $P4"
grep -q "disabled yes;" "$(topo_state_dir pop1)/anycast_web4.conf" || die "dry run wrote a state file"
kill -TERM "$apid"; wait "$apid"; apid=
pass "--dry-run logged 'would enable' and changed nothing at the upstream"

# fail closed, then announced once the check has risen
t0=${EPOCHREALTIME/./}
start_agent
topo_wait_for "topo_upstream_has_route $P4" 10 || die "$P4 never announced"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q 'check "web": UNKNOWN -> UP' "$work/agent.log" || die "announced before the check rose"
grep -q "disabled no;" "$(topo_state_dir pop1)/anycast_web4.conf" || die "state file not updated"
pass "$P4 announced ${ms} ms after start, after the check rose (rise 3 x 0.2 s)"

# nginx dies: withdrawn within the detection bound (0.646 s) + 1 s
nginx_stop
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 5 || die "$P4 not withdrawn after nginx stopped"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
[ "$ms" -le 1646 ] || die "withdraw took ${ms} ms (bound 646 ms + 1 s)"
pass "nginx stopped -> $P4 withdrawn at the upstream in ${ms} ms"

# nginx back: announced again after rise and the 2 s hold-down
nginx_start "$(topo_ns pop1)" || die "nginx restart"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $P4" 10 || die "$P4 not re-announced"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
[ "$ms" -ge 2000 ] || die "re-announced after ${ms} ms, before the 2 s hold-down"
pass "nginx back -> $P4 re-announced after ${ms} ms (rise + hold-down 2 s)"

# SIGUSR2 then SIGTERM (a package upgrade's restart): this one stop keeps BIRD as it is, and
# the next agent adopts the announced route without a withdraw
w0=$(topo_upstream_withdraws pop1)
kill -USR2 "$apid"
topo_wait_for "grep -q 'a stop within 60 s leaves BIRD as it is' '$work/agent.log'" 5 ||
	die "SIGUSR2 not acknowledged"
kill -TERM "$apid"
wait "$apid"
rc=$?
apid=
[ "$rc" = 0 ] || die "agent exited $rc after SIGUSR2 + SIGTERM"
topo_upstream_has_route "$P4" || die "$P4 withdrawn by a stop that SIGUSR2 asked to keep"
start_agent
topo_wait_for "grep -c 'check \"web\": UNKNOWN -> UP' '$work/agent.log' | grep -qx 3" 10 ||
	die "the restarted agent's check never rose"
[ "$(topo_upstream_withdraws pop1)" = "$w0" ] || die "the restart withdrew $P4 at the upstream"
topo_upstream_has_route "$P4" || die "$P4 gone after the hitless restart"
pass "SIGUSR2 + SIGTERM + restart: $P4 kept, 0 withdraws at the upstream"

# SIGTERM with on_exit = withdraw: the route is gone before the process exits
kill -TERM "$apid"
wait "$apid"
rc=$?
apid=
topo_upstream_has_route "$P4" && die "$P4 still announced after the agent exited"
[ "$rc" = 0 ] || die "agent exited $rc"
grep -q "withdrawn, confirmed by BIRD" "$work/agent.log" || die "withdraw not confirmed in the log"
pass "SIGTERM -> withdrawn and confirmed by BIRD before exit"
echo "PASS"
