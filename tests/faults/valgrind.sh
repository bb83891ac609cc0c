#!/bin/bash
# SPDX-License-Identifier: ISC
# valgrind.sh - the agent under valgrind memcheck through one end-to-end scenario on a real PoP
# (BIRD + nginx, upstream BIRD, network namespaces): start, announce, nginx down -> withdraw,
# nginx back, drain and undrain through anycastctl, reload (control socket and SIGHUP, one
# of them broken), SIGTERM with on_exit = "withdraw". Passes when memcheck reports no error and
# no definite or indirect leak (--error-exitcode), and the upstream saw every step.
# Skipped (77) for a sanitizer build (ASan and valgrind do not mix) or without valgrind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FAULT_NAME=fvg
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/faults/common.sh"
command -v valgrind >/dev/null 2>&1 || {
	echo "SKIP: valgrind not found (Debian package valgrind)"
	exit 77
}
# libtool may leave a wrapper script; valgrind must run the real binary
[ -x "$top_builddir/.libs/anycast-agent" ] && E2E_AGENT=$top_builddir/.libs/anycast-agent
if nm -D "$E2E_AGENT" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	echo "SKIP: $E2E_AGENT is built with sanitizers; valgrind needs a plain build"
	exit 77
fi

fault_setup
vglog=$work/valgrind.log
E2E_AGENT_PREFIX=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1 --track-fds=no
	--log-file="$vglog")
write_conf() { # EXTRA_CHECK_KEY
	e2e_conf_web 'on_exit = "withdraw";' "interval = 0.3; timeout = 0.25; rise = 2; fall = 2; $1" \
		"hold_down = 0.5; drain_time = 1.0; damp_max_suppress = 0;" \
		"reconcile_interval = 0.5; timeout = 2.0;" >"$work/agent.conf"
}
write_conf ""
t_start=${EPOCHREALTIME/./}
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4" 30 || e2e_die "$P4 never announced under valgrind"
e2e_pass "announced under valgrind $(e2e_ms_since "$t_start") ms after start"

nginx_stop
topo_wait_for "! topo_upstream_has_route $P4" 10 || e2e_die "$P4 not withdrawn with nginx down"
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 not back with nginx up"
e2e_pass "nginx down -> withdrawn, back -> announced"

"$ctl" -s "$sock" drain web --reason "valgrind drain" >/dev/null || e2e_die "drain"
topo_wait_for "topo_upstream_route_communities $P4 | grep -q '(65535,0)'" 10 || e2e_die "no graceful shutdown"
topo_wait_for "! topo_upstream_has_route $P4" 10 || e2e_die "$P4 not withdrawn after drain_time"
"$ctl" -s "$sock" status >/dev/null
"$ctl" -s "$sock" -t 10 status -o json >/dev/null
"$ctl" -s "$sock" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "topo_upstream_has_route $P4" 10 || e2e_die "$P4 not back after undrain"
"$ctl" -s "$sock" -t 10 check web >/dev/null || e2e_die "check web"
e2e_pass "drain, status, undrain, check through anycastctl"

write_conf 'expect_body = "www.example.test";'
"$ctl" -s "$sock" -t 20 reload >/dev/null || e2e_die "reload"
echo 'checks: { broken = 1 ' >>"$work/agent.conf"
"$ctl" -s "$sock" -t 20 reload >/dev/null && e2e_die "a broken reload succeeded"
kill -HUP "$E2E_APID"
topo_wait_for "fault_log_has 'reload failed; still running the previous configuration'" 10 ||
	e2e_die "SIGHUP with a broken config not reported"
write_conf ""
kill -HUP "$E2E_APID"
topo_wait_for "[ \$(grep -c 'configuration reloaded from' '$work/agent.log') -ge 2 ]" 10 ||
	e2e_die "SIGHUP did not reload"
topo_upstream_has_route "$P4" || e2e_die "$P4 lost over the reloads"
e2e_pass "reload: good, broken (anycastctl and SIGHUP), good again"

kill -TERM "$E2E_APID"
wait "$E2E_APID"
rc=$?
E2E_APID=
topo_upstream_has_route "$P4" && e2e_die "$P4 still announced after SIGTERM"
errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$vglog" | tail -n 1)
if [ "$rc" != 0 ] || [ "$errs" != 0 ]; then
	echo "--- valgrind log"
	cat "$vglog"
	e2e_die "valgrind: exit $rc, $errs errors"
fi
heap=$(grep -E 'in use at exit:|total heap usage:|(definitely|indirectly) lost:' "$vglog" |
	sed 's/^==[0-9]*== *//' | tr '\n' ';')
e2e_pass "SIGTERM -> withdrawn; valgrind: exit 0, 0 errors; $heap"
e2e_pass "valgrind scenario took $(e2e_ms_since "$t_start") ms"
echo PASS
