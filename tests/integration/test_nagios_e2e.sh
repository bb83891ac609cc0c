#!/bin/bash
# SPDX-License-Identifier: ISC
# test_nagios_e2e.sh - `anycastctl status` as a Nagios plugin against a real PoP (BIRD +
# anycast-agent + nginx, upstream BIRD, network namespaces). Every state is reached for real:
#   OK (announced, checks up, BIRD in sync), WARNING (drained by an operator), CRITICAL
#   (withdrawn by a failing check, then the hold-down countdown; BIRD unreachable; the agent
#   not answering), UNKNOWN (bad
#   arguments). Each time: the exit code, the first line's plugin grammar and its 1 KiB limit.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

P4=192.0.2.80/32
ctl="$top_builddir/anycastctl"
e2e_web_pop "ngs$$"
sock=$E2E_CTL
e2e_conf_web "" "interval = 0.2; timeout = 0.1; rise = 2; fall = 2;" \
	"hold_down = 2; drain_time = 0.5;" "reconcile_interval = 0.3; timeout = 0.5;" >"$E2E_WORK/agent.conf"
e2e_start_agent pop1 "$E2E_WORK/agent.conf"

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
	topo_wait_for "plugin_is $1 $2" "$3" || e2e_die "anycastctl status: want $1 (exit $2), got:
$out"
	e2e_pass "$4: $(printf '%s\n' "$out" | head -n 1 | cut -c1-160)"
}

expect_state OK 0 15 "healthy"
topo_upstream_has_route "$P4" || e2e_die "OK but $P4 is not at the upstream"
[ "$(printf '%s\n' "$out" | wc -l)" -ge 3 ] || e2e_die "no long output lines: $out"

"$ctl" -s "$sock" drain web --reason "kernel upgrade" >/dev/null || e2e_die "drain failed"
expect_state WARNING 1 5 "drained by an operator"
printf '%s\n' "$out" | head -n 1 | grep -q "kernel upgrade" || e2e_die "the reason is not in the line"
"$ctl" -s "$sock" undrain web >/dev/null || e2e_die "undrain failed"
expect_state OK 0 5 "undrained"

nginx_stop
expect_state CRITICAL 2 5 "withdrawn by a failing check"
topo_upstream_has_route "$P4" && e2e_die "CRITICAL (withdrawn) but $P4 is at the upstream"
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
# checks up again, the route waits out its 2 s hold-down: the line says how long
expect_hold() { plugin_is CRITICAL 2 && printf '%s\n' "$out" | head -n 1 | grep -q "web WITHDRAWN (hold-down ends in [0-2]s): "; }
topo_wait_for expect_hold 10 || e2e_die "no hold-down countdown while withdrawn: $out"
e2e_pass "hold-down shown: $(printf '%s\n' "$out" | head -n 1 | cut -c1-160)"
expect_state OK 0 10 "recovered"

topo_bird_stop pop1
expect_state CRITICAL 2 10 "BIRD unreachable"
topo_bird_start pop1
expect_state OK 0 20 "BIRD back"

kill -TERM "$E2E_APID"
wait "$E2E_APID"
E2E_APID=
expect_state CRITICAL 2 5 "agent not answering"

"$ctl" -s "$sock" status --bogus >"$E2E_WORK/bad.out" 2>&1
rc=$?
[ "$rc" = 3 ] || e2e_die "bad arguments exited $rc, not 3"
grep -q "^ANYCAST UNKNOWN - " "$E2E_WORK/bad.out" || e2e_die "bad arguments: $(cat "$E2E_WORK/bad.out")"
e2e_pass "bad arguments: exit 3, $(head -n 1 "$E2E_WORK/bad.out")"
echo PASS
