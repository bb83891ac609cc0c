#!/bin/bash
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
[ -x "$top_builddir/.libs/anycast-agent" ] && agent=$top_builddir/.libs/anycast-agent
if nm -D "$agent" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	echo "SKIP: $agent is built with sanitizers; valgrind needs a plain build"
	exit 77
fi

fault_setup
vglog=$work/valgrind.log
FAULT_AGENT_PREFIX=(valgrind --leak-check=full --show-leak-kinds=definite,indirect
	--errors-for-leak-kinds=definite,indirect --error-exitcode=1 --track-fds=no
	--log-file="$vglog")
write_conf() { # EXTRA_CHECK_KEY
	cat >"$work/agent.conf" <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)";
        reconcile_interval = 0.5; timeout = 2.0; };
control: { socket = "$sock"; };
state_file = "$work/operator.state";
on_exit = "withdraw";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 0.3; timeout = 0.25; rise = 2; fall = 2; $1 };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 0.5; drain_time = 1.0; damp_max_suppress = 0; };
};
CONF
}
write_conf ""
t_start=$(fault_now_us)
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4" 30 || die "$P4 never announced under valgrind"
pass "announced under valgrind $(fault_ms_since "$t_start") ms after start"

nginx_stop
topo_wait_for "! topo_upstream_has_route $P4" 10 || die "$P4 not withdrawn with nginx down"
nginx_start "$(topo_ns pop1)" || die "nginx restart"
topo_wait_for "topo_upstream_has_route $P4" 15 || die "$P4 not back with nginx up"
pass "nginx down -> withdrawn, back -> announced"

"$ctl" -s "$sock" drain web --reason "valgrind drain" >/dev/null || die "drain"
topo_wait_for "topo_upstream_route_communities $P4 | grep -q '(65535,0)'" 10 || die "no graceful shutdown"
topo_wait_for "! topo_upstream_has_route $P4" 10 || die "$P4 not withdrawn after drain_time"
"$ctl" -s "$sock" status >/dev/null
"$ctl" -s "$sock" -t 10 status -o json >/dev/null
"$ctl" -s "$sock" undrain web >/dev/null || die "undrain"
topo_wait_for "topo_upstream_has_route $P4" 10 || die "$P4 not back after undrain"
"$ctl" -s "$sock" -t 10 check web >/dev/null || die "check web"
pass "drain, status, undrain, check through anycastctl"

write_conf 'expect_body = "www.example.test";'
"$ctl" -s "$sock" -t 20 reload >/dev/null || die "reload"
echo 'checks: { broken = 1 ' >>"$work/agent.conf"
"$ctl" -s "$sock" -t 20 reload >/dev/null && die "a broken reload succeeded"
kill -HUP "$apid"
topo_wait_for "fault_log_has 'reload failed; still running the previous configuration'" 10 ||
	die "SIGHUP with a broken config not reported"
write_conf ""
kill -HUP "$apid"
topo_wait_for "[ \$(grep -c 'configuration reloaded from' '$work/agent.log') -ge 2 ]" 10 ||
	die "SIGHUP did not reload"
topo_upstream_has_route "$P4" || die "$P4 lost over the reloads"
pass "reload: good, broken (anycastctl and SIGHUP), good again"

kill -TERM "$apid"
wait "$apid"
rc=$?
apid=
topo_upstream_has_route "$P4" && die "$P4 still announced after SIGTERM"
errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$vglog" | tail -n 1)
if [ "$rc" != 0 ] || [ "$errs" != 0 ]; then
	echo "--- valgrind log"
	cat "$vglog"
	die "valgrind: exit $rc, $errs errors"
fi
heap=$(grep -E 'in use at exit:|total heap usage:|(definitely|indirectly) lost:' "$vglog" |
	sed 's/^==[0-9]*== *//' | tr '\n' ';')
pass "SIGTERM -> withdrawn; valgrind: exit 0, 0 errors; $heap"
pass "valgrind scenario took $(fault_ms_since "$t_start") ms"
echo PASS
