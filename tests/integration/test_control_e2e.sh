#!/bin/bash
# test_control_e2e.sh - the control socket against a real PoP (BIRD + anycast-agent + nginx,
# upstream BIRD, network namespaces). Asserted at the upstream and in BIRD:
#   drain with a reason -> the upstream sees (65535,0), then after drain_time the route is gone;
#   the reason is BIRD's Message for anycast_web4; status says DRAINED with the reason;
#   SIGKILL + restart -> still drained, never re-announced; undrain -> back at once;
#   drain --for expires by itself -> back; a corrupted state file -> drained and status says why;
#   reload with a broken config -> file:line errors, the old config keeps running; SIGHUP too.
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
ctl="$top_builddir/tests/integration/ctl_client"
apid=
die() {
	echo "FAIL: $*"
	[ -f "${work:-}/agent.log" ] && { echo "--- agent log"; tail -n 60 "$work/agent.log"; }
	exit 1
}
pass() { echo "ok: $*"; }

work=
e2e_web_pop "ctl$$" || die "the PoP did not come up"
work=$E2E_WORK
stop_agent() { [ -n "$apid" ] && kill -9 "$apid" 2>/dev/null; apid=; }
topo_on_cleanup stop_agent

sock=$work/run/agent.ctl
state=$work/lib/operator.state
write_conf() {
	cat >"$work/agent.conf" <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)";
        reconcile_interval = 0.5; };
control: { socket = "$sock"; };
state_file = "$state";
on_exit = "keep";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 0.2; timeout = 0.1; rise = 3; fall = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 1.0; drain_time = 2.0; };
};
CONF
}
start_agent() {
	ip netns exec "$(topo_ns pop1)" "$agent" -d -f "$work/agent.conf" "$@" >>"$work/agent.log" 2>&1 &
	apid=$!
	topo_wait_for "[ -S '$sock' ] && '$ctl' '$sock' '{\"verb\":\"status\"}' >/dev/null 2>&1" 10 ||
		die "the control socket never answered"
}
kill_agent() { kill -9 "$apid"; wait "$apid" 2>/dev/null; apid=; }
req() { "$ctl" "$sock" "$1"; }
status() { req '{"verb":"status"}'; }
ann_state() { status | grep -o '"announcements":\[{"name":"web","state":"[A-Z]*"' | sed 's/.*"state":"//; s/"$//'; }
has_community() { topo_upstream_route_communities "$P4" | grep -q '(65535,0)'; }
check_up() { status | grep -q '"checks":\[{"name":"web","type":"http","state":"UP"'; }

write_conf
start_agent
topo_wait_for "topo_upstream_has_route $P4" 15 || die "$P4 never announced"
has_community && die "graceful-shutdown community before any drain"
pass "$P4 announced"

# drain with a reason: (65535,0) at the upstream, then gone after drain_time 2 s
out=$(req '{"verb":"drain","announcements":["web"],"reason":"maint window 42"}')
echo "$out" | grep -q '"ok":true,"announcements":\["web"\]' || die "drain answered: $out"
grep -q 'control: uid 0 (root) pid [0-9]*: {"verb":"drain"' "$work/agent.log" ||
	die "the drain was not logged with uid and user"
topo_wait_for has_community 5 || die "no (65535,0) on $P4 while draining"
pass "drain -> the upstream sees $P4 with (65535,0) (graceful shutdown)"
[ "$(ann_state)" = DRAINING ] || die "status says $(ann_state), not DRAINING"
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 6 || die "$P4 still there after drain_time"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
pass "after drain_time $P4 is gone at the upstream (${ms} ms after graceful shutdown was seen)"
msg=$(topo_birdc pop1 show protocols all anycast_web4 | sed -n 's/^ *Message: *//p')
echo "$msg" | grep -q "maint window 42" || die "BIRD's Message for anycast_web4 is '$msg'"
pass "birdc show protocols all anycast_web4: Message: $msg"
s=$(status)
echo "$s" | grep -q '"state":"DRAINED"' || die "status not DRAINED: $s"
echo "$s" | grep -q '"drain":{"reason":"maint window 42","who":"root","uid":0' ||
	die "status lacks the drain: $s"
grep -q '"maint window 42"' "$state" || die "state file lacks the drain"

# SIGKILL + restart: still drained, never re-announced, even once the check is UP
kill_agent
start_agent
grep -q "drain(s) restored" "$work/agent.log" || die "no drain restored at start"
topo_wait_for check_up 10 || die "the check never rose after the restart"
topo_upstream_has_route "$P4" && die "$P4 re-announced after restart in mid-drain"
[ "$(ann_state)" = DRAINED ] || die "after restart: $(ann_state)"
pass "SIGKILL + restart -> still DRAINED, $P4 not re-announced with the check UP"

# undrain: back at once (no hold-down)
t0=${EPOCHREALTIME/./}
out=$(req '{"verb":"undrain","announcements":["web"]}')
echo "$out" | grep -q '"ok":true,"announcements":\["web"\]' || die "undrain answered: $out"
topo_wait_for "topo_upstream_has_route $P4" 3 || die "$P4 not back after undrain"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q '"web"' "$state" && die "state file still holds the drain"
pass "undrain -> $P4 back at the upstream in ${ms} ms"

# drain for 3.5 s (drain_time 2 s): withdrawn, then back by itself
req '{"verb":"drain","reason":"short one","for":3.5}' | grep -q '"ok":true' || die "drain --for"
topo_wait_for "! topo_upstream_has_route $P4" 6 || die "$P4 not withdrawn by the drain --for"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $P4" 6 || die "$P4 not back after the drain expired"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q "drain by root expired: short one" "$work/agent.log" || die "expiry not logged"
grep -q '"web"' "$state" && die "expired drain still in the state file"
pass "drain for 3.5 s -> withdrawn, then re-announced by itself ${ms} ms after the withdraw"

# a corrupted state file: drained (fail safe) and status says why
kill_agent
printf '{"version":1,"drains":{"web":{"reason":"x"\x00\xff garbage}\n' >"$state"
start_agent
topo_wait_for check_up 10 || die "the check never rose"
topo_upstream_has_route "$P4" && die "$P4 announced despite a corrupted state file"
s=$(status)
echo "$s" | grep -q '"state":{"file":"[^"]*","ok":false,"error":"state file [^"]* is corrupted' ||
	die "status does not report the corrupted file: $s"
echo "$s" | grep -q '"reason":"fail safe: state file' || die "no fail-safe drain in status: $s"
[ -f "$state.corrupt" ] || die "no copy of the corrupted file"
req '{"verb":"undrain"}' | grep -q '"ok":true,"announcements":\["web"\]' || die "undrain all"
topo_wait_for "topo_upstream_has_route $P4" 3 || die "$P4 not back after undrain"
pass "corrupted state file -> drained, status says why; undrain brings it back"

# reload with a broken config: errors with file:line, the old config keeps running
cp "$work/agent.conf" "$work/agent.conf.good"
printf 'checks: { web: { type = "http"; url = 5; }; };\nbogus_key = 1;\n' >>"$work/agent.conf"
out=$(req '{"verb":"reload"}')
echo "$out" | grep -q '"code":"reload_failed"' || die "reload answered: $out"
echo "$out" | grep -q "\"errors\":\[\"$work/agent.conf:[0-9]*: " || die "no file:line errors: $out"
topo_upstream_has_route "$P4" || die "$P4 lost after a failed reload"
check_up || die "the check stopped after a failed reload"
kill -HUP "$apid"
topo_wait_for "grep -q 'reload failed; still running the previous configuration' '$work/agent.log'" 5 ||
	die "SIGHUP with a broken config not reported"
kill -0 "$apid" || die "the agent died on SIGHUP"
pass "reload with a broken config -> $(echo "$out" | grep -o '"errors":\[[^]]*' | cut -c1-120)...; old config runs"
cp "$work/agent.conf.good" "$work/agent.conf"
out=$(req '{"verb":"reload"}')
echo "$out" | grep -q '"ok":true,"kept_checks":1,"checks":1' || die "good reload answered: $out"
topo_upstream_has_route "$P4" || die "$P4 lost after a good reload"
pass "reload with a good config keeps the check's state: $out"

# another agent on the same socket is refused, and touches nothing
ip netns exec "$(topo_ns pop1)" "$agent" -d -f "$work/agent.conf" >"$work/second.log" 2>&1 &&
	die "a second agent started"
grep -q "another anycast-agent is running on $sock" "$work/second.log" ||
	die "second agent: $(cat "$work/second.log")"
topo_upstream_has_route "$P4" || die "the second agent withdrew $P4"
pass "a second agent refuses to start on the same socket"
echo "PASS"
