#!/bin/bash
# SPDX-License-Identifier: ISC
# test_control_e2e.sh - the control socket against a real PoP (BIRD + anycast-agent + nginx,
# upstream BIRD, network namespaces). Asserted at the upstream and in BIRD:
#   drain with a reason -> the upstream sees (65535,0), then after drain_time the route is gone;
#   the reason is BIRD's Message for anycast_web4; status says DRAINED with the reason;
#   SIGKILL + restart -> still drained, never re-announced; undrain -> back at once;
#   drain --for expires by itself -> back; a corrupted state file -> drained and status says why;
#   reload with a broken config -> file:line errors, the old config keeps running; SIGHUP too.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

P4=192.0.2.80/32
e2e_web_pop "ctl$$"
work=$E2E_WORK
# the control socket and the operator state in directories the agent creates
E2E_CTL=$work/run/agent.ctl E2E_STATE=$work/lib/operator.state
sock=$E2E_CTL state=$E2E_STATE
ctl="$top_builddir/tests/integration/ctl_client"
start_agent() {
	e2e_start_agent pop1 "$work/agent.conf"
	topo_wait_for "[ -S '$sock' ] && '$ctl' '$sock' '{\"verb\":\"status\"}' >/dev/null 2>&1" 10 ||
		e2e_die "the control socket never answered"
}
req() { "$ctl" "$sock" "$1"; }
status() { req '{"verb":"status"}'; }
ann_state() { status | grep -o '"announcements":\[{"name":"web","state":"[A-Z]*"' | sed 's/.*"state":"//; s/"$//'; }
has_community() { topo_upstream_route_communities "$P4" | grep -q '(65535,0)'; }
check_up() { status | grep -q '"checks":\[{"name":"web","type":"http","state":"UP"'; }

e2e_conf_web 'on_exit = "keep";' "" "hold_down = 1.0; drain_time = 2.0;" >"$work/agent.conf"
start_agent
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 never announced"
has_community && e2e_die "graceful-shutdown community before any drain"
e2e_pass "$P4 announced"

# drain with a reason: (65535,0) at the upstream, then gone after drain_time 2 s
out=$(req '{"verb":"drain","announcements":["web"],"reason":"maint window 42"}')
echo "$out" | grep -q '"ok":true,"announcements":\["web"\]' || e2e_die "drain answered: $out"
grep -q 'control: uid 0 (root) pid [0-9]*: {"verb":"drain"' "$work/agent.log" ||
	e2e_die "the drain was not logged with uid and user"
topo_wait_for has_community 5 || e2e_die "no (65535,0) on $P4 while draining"
e2e_pass "drain -> the upstream sees $P4 with (65535,0) (graceful shutdown)"
[ "$(ann_state)" = DRAINING ] || e2e_die "status says $(ann_state), not DRAINING"
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 6 || e2e_die "$P4 still there after drain_time"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
e2e_pass "after drain_time $P4 is gone at the upstream (${ms} ms after graceful shutdown was seen)"
msg=$(topo_birdc pop1 show protocols all anycast_web4 | sed -n 's/^ *Message: *//p')
echo "$msg" | grep -q "maint window 42" || e2e_die "BIRD's Message for anycast_web4 is '$msg'"
e2e_pass "birdc show protocols all anycast_web4: Message: $msg"
s=$(status)
echo "$s" | grep -q '"state":"DRAINED"' || e2e_die "status not DRAINED: $s"
echo "$s" | grep -q '"drain":{"reason":"maint window 42","who":"root","uid":0' ||
	e2e_die "status lacks the drain: $s"
grep -q '"maint window 42"' "$state" || e2e_die "state file lacks the drain"

# SIGKILL + restart: still drained, never re-announced, even once the check is UP
e2e_kill_agent
start_agent
grep -q "drain(s) restored" "$work/agent.log" || e2e_die "no drain restored at start"
topo_wait_for check_up 10 || e2e_die "the check never rose after the restart"
topo_upstream_has_route "$P4" && e2e_die "$P4 re-announced after restart in mid-drain"
[ "$(ann_state)" = DRAINED ] || e2e_die "after restart: $(ann_state)"
e2e_pass "SIGKILL + restart -> still DRAINED, $P4 not re-announced with the check UP"

# undrain: back at once (no hold-down)
t0=${EPOCHREALTIME/./}
out=$(req '{"verb":"undrain","announcements":["web"]}')
echo "$out" | grep -q '"ok":true,"announcements":\["web"\]' || e2e_die "undrain answered: $out"
topo_wait_for "topo_upstream_has_route $P4" 3 || e2e_die "$P4 not back after undrain"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q '"web"' "$state" && e2e_die "state file still holds the drain"
e2e_pass "undrain -> $P4 back at the upstream in ${ms} ms"

# drain for 3.5 s (drain_time 2 s): withdrawn, then back by itself
req '{"verb":"drain","reason":"short one","for":3.5}' | grep -q '"ok":true' || e2e_die "drain --for"
topo_wait_for "! topo_upstream_has_route $P4" 6 || e2e_die "$P4 not withdrawn by the drain --for"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $P4" 6 || e2e_die "$P4 not back after the drain expired"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q "drain by root expired: short one" "$work/agent.log" || e2e_die "expiry not logged"
grep -q '"web"' "$state" && e2e_die "expired drain still in the state file"
e2e_pass "drain for 3.5 s -> withdrawn, then re-announced by itself ${ms} ms after the withdraw"

# a corrupted state file: drained (fail safe) and status says why
e2e_kill_agent
printf '{"version":1,"drains":{"web":{"reason":"x"\x00\xff garbage}\n' >"$state"
start_agent
topo_wait_for check_up 10 || e2e_die "the check never rose"
topo_upstream_has_route "$P4" && e2e_die "$P4 announced despite a corrupted state file"
s=$(status)
echo "$s" | grep -q '"state":{"file":"[^"]*","ok":false,"error":"state file [^"]* is corrupted' ||
	e2e_die "status does not report the corrupted file: $s"
echo "$s" | grep -q '"reason":"fail safe: state file' || e2e_die "no fail-safe drain in status: $s"
[ -f "$state.corrupt" ] || e2e_die "no copy of the corrupted file"
req '{"verb":"undrain"}' | grep -q '"ok":true,"announcements":\["web"\]' || e2e_die "undrain all"
topo_wait_for "topo_upstream_has_route $P4" 3 || e2e_die "$P4 not back after undrain"
e2e_pass "corrupted state file -> drained, status says why; undrain brings it back"

# reload with a broken config: errors with file:line, the old config keeps running
cp "$work/agent.conf" "$work/agent.conf.good"
printf 'checks: { web: { type = "http"; url = 5; }; };\nbogus_key = 1;\n' >>"$work/agent.conf"
out=$(req '{"verb":"reload"}')
echo "$out" | grep -q '"code":"reload_failed"' || e2e_die "reload answered: $out"
echo "$out" | grep -q "\"errors\":\[\"$work/agent.conf:[0-9]*: " || e2e_die "no file:line errors: $out"
topo_upstream_has_route "$P4" || e2e_die "$P4 lost after a failed reload"
check_up || e2e_die "the check stopped after a failed reload"
kill -HUP "$E2E_APID"
topo_wait_for "grep -q 'reload failed; still running the previous configuration' '$work/agent.log'" 5 ||
	e2e_die "SIGHUP with a broken config not reported"
e2e_agent_alive || e2e_die "the agent died on SIGHUP"
e2e_pass "reload with a broken config -> $(echo "$out" | grep -o '"errors":\[[^]]*' | cut -c1-120)...; old config runs"
cp "$work/agent.conf.good" "$work/agent.conf"
out=$(req '{"verb":"reload"}')
echo "$out" | grep -q '"ok":true,"kept_checks":1,"checks":1' || e2e_die "good reload answered: $out"
topo_upstream_has_route "$P4" || e2e_die "$P4 lost after a good reload"
e2e_pass "reload with a good config keeps the check's state: $out"

# another agent on the same socket is refused, and touches nothing
ip netns exec "$(topo_ns pop1)" "$E2E_AGENT" -d -f "$work/agent.conf" >"$work/second.log" 2>&1 &&
	e2e_die "a second agent started"
grep -q "another anycast-agent is running on $sock" "$work/second.log" ||
	e2e_die "second agent: $(cat "$work/second.log")"
topo_upstream_has_route "$P4" || e2e_die "the second agent withdrew $P4"
e2e_pass "a second agent refuses to start on the same socket"
echo "PASS"
