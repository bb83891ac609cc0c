#!/bin/bash
# test_nagios_e2e.sh - `anycastctl status` as a Nagios plugin against a real PoP (BIRD +
# anycast-agent + nginx, upstream BIRD, network namespaces). Every state is reached for real:
#   OK (announced, checks up, BIRD in sync), WARNING (drained by an operator), CRITICAL
#   (withdrawn by a failing check, then the hold-down countdown; BIRD unreachable; the agent
#   not answering), UNKNOWN (bad
#   arguments). Each time: the exit code, the first line's plugin grammar and its 1 KiB limit.
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
ctl="$top_builddir/anycastctl"
apid=
die() {
	echo "FAIL: $*"
	[ -f "${work:-}/agent.log" ] && { echo "--- agent log"; tail -n 40 "$work/agent.log"; }
	exit 1
}
pass() { echo "ok: $*"; }

work=
e2e_web_pop "ngs$$" || die "the PoP did not come up"
work=$E2E_WORK
stop_agent() { [ -n "$apid" ] && kill -9 "$apid" 2>/dev/null; apid=; }
topo_on_cleanup stop_agent

sock=$work/agent.ctl
cat >"$work/agent.conf" <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)";
        reconcile_interval = 0.3; timeout = 0.5; };
control: { socket = "$sock"; };
state_file = "$work/operator.state";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 0.2; timeout = 0.1; rise = 2; fall = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 2; drain_time = 0.5; };
};
CONF
ip netns exec "$(topo_ns pop1)" "$agent" -d -f "$work/agent.conf" >"$work/agent.log" 2>&1 &
apid=$!

# plugin STATE CODE: anycastctl status exits CODE with a first line in the plugin grammar
out=
plugin_is() {
	out=$("$ctl" -s "$sock" status 2>&1)
	local rc=$? first
	first=$(printf '%s\n' "$out" | head -n 1)
	[ "$rc" = "$2" ] || return 1
	[ "${#first}" -le 1024 ] || return 1
	printf '%s\n' "$first" | grep -Eq "^ANYCAST $1 - [^|]+( \| ('[^'=]+'|[^' =]+)=[-0-9.U]+[a-zA-Z%]*(;[-0-9.]*){0,4}( ('[^'=]+'|[^' =]+)=[-0-9.U]+[a-zA-Z%]*(;[-0-9.]*){0,4})*)?$"
}
expect_state() {
	topo_wait_for "plugin_is $1 $2" "$3" || die "anycastctl status: want $1 (exit $2), got:
$out"
	pass "$4: $(printf '%s\n' "$out" | head -n 1 | cut -c1-160)"
}

expect_state OK 0 15 "healthy"
topo_upstream_has_route "$P4" || die "OK but $P4 is not at the upstream"
[ "$(printf '%s\n' "$out" | wc -l)" -ge 3 ] || die "no long output lines: $out"

"$ctl" -s "$sock" drain web --reason "kernel upgrade" >/dev/null || die "drain failed"
expect_state WARNING 1 5 "drained by an operator"
printf '%s\n' "$out" | head -n 1 | grep -q "kernel upgrade" || die "the reason is not in the line"
"$ctl" -s "$sock" undrain web >/dev/null || die "undrain failed"
expect_state OK 0 5 "undrained"

nginx_stop
expect_state CRITICAL 2 5 "withdrawn by a failing check"
topo_upstream_has_route "$P4" && die "CRITICAL (withdrawn) but $P4 is at the upstream"
nginx_start "$(topo_ns pop1)" || die "nginx restart"
# checks up again, the route waits out its 2 s hold-down: the line says how long
expect_hold() { plugin_is CRITICAL 2 && printf '%s\n' "$out" | head -n 1 | grep -q "web WITHDRAWN (hold-down ends in [0-2]s): "; }
topo_wait_for expect_hold 10 || die "no hold-down countdown while withdrawn: $out"
pass "hold-down shown: $(printf '%s\n' "$out" | head -n 1 | cut -c1-160)"
expect_state OK 0 10 "recovered"

topo_bird_stop pop1
expect_state CRITICAL 2 10 "BIRD unreachable"
topo_bird_start pop1
expect_state OK 0 20 "BIRD back"

kill -TERM "$apid"
wait "$apid"
apid=
expect_state CRITICAL 2 5 "agent not answering"

"$ctl" -s "$sock" status --bogus >"$work/bad.out" 2>&1
rc=$?
[ "$rc" = 3 ] || die "bad arguments exited $rc, not 3"
grep -q "^ANYCAST UNKNOWN - " "$work/bad.out" || die "bad arguments: $(cat "$work/bad.out")"
pass "bad arguments: exit 3, $(head -n 1 "$work/bad.out")"
echo PASS
