#!/bin/bash
# bird_faults.sh - faults of BIRD under a running PoP (BIRD + nginx + anycast-agent, upstream
# BIRD, network namespaces). Each time: what the upstream sees, what `anycastctl status` says
# (exit code, first line), and that the agent recovers by itself:
#   BIRD SIGKILLed and restarted; the BIRD socket path replaced by a regular file;
#   BIRD frozen (SIGSTOP) for 30 s while the check flips; the socket denied to an agent that
#   runs as an unprivileged user.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FAULT_NAME=fbird
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/faults/common.sh"
FREEZE=${FAULT_FREEZE_SECONDS:-30}

fault_setup
bsock=$(topo_socket pop1)
write_conf() { # STATE_FILE
	cat >"$work/agent.conf" <<CONF
bird: { socket = "$bsock"; state_dir = "$(topo_state_dir pop1)";
        reconcile_interval = 0.5; timeout = 0.5; };
control: { socket = "$sock"; };
state_file = "$1";
on_exit = "keep";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 0.2; timeout = 0.1; rise = 2; fall = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 0.5; drain_time = 0.5; };
};
CONF
}
write_conf "$work/operator.state"
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4" 15 || die "$P4 never announced"
fault_expect_status 0 '^ANYCAST OK - ' 5 "healthy PoP"

# --- BIRD SIGKILLed, then restarted --------------------------------------------------------
bpid=$(cat "$(topo_node_dir pop1)/bird.pid")
kill -9 "$bpid"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected' 5 "BIRD killed"
topo_wait_for "! topo_upstream_has_route $P4" 10 || die "$P4 still at the upstream with BIRD dead"
rm -f "$(topo_node_dir pop1)/bird.pid"
t0=$(fault_now_us)
topo_bird_start pop1 || die "BIRD restart"
fault_expect_status 0 '^ANYCAST OK - ' 10 "BIRD restarted"
ms=$(fault_ms_since "$t0")
topo_wait_for "topo_upstream_has_route $P4" 15 || die "$P4 not back after the BIRD restart"
pass "BIRD SIGKILLed and restarted -> status OK ${ms} ms after the restart, $P4 back at the upstream"
topo_wait_established 30 || die "BGP not Established again"

# --- the BIRD socket path replaced by a regular file ---------------------------------------
topo_bird_stop pop1
rm -f "$bsock"
echo "not a socket" >"$bsock"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*not a socket' 10 \
	"socket path is a regular file"
fault_agent_alive || die "the agent died on a regular file at the BIRD socket path"
fault_log_has "bird .*$bsock.*the path is not a socket" || die "the log does not name the fault"
t0=$(fault_now_us)
topo_bird_start pop1 || die "BIRD did not start over the regular file"
fault_expect_status 0 '^ANYCAST OK - ' 10 "BIRD started over the regular file"
pass "regular file at the socket path -> recovered $(fault_ms_since "$t0") ms after BIRD started"
topo_wait_established 30 || die "BGP not Established again"
topo_wait_for "topo_upstream_has_route $P4" 15 || die "$P4 not back"

# --- BIRD frozen for $FREEZE s, nginx stops during the freeze ------------------------------
bpid=$(cat "$(topo_node_dir pop1)/bird.pid")
kill -STOP "$bpid"
topo_on_cleanup "kill -CONT $bpid 2>/dev/null"
t_stop=$(fault_now_us)
nginx_stop
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*(no reply|no banner|timed out|not answering)' \
	5 "BIRD frozen"
topo_wait_for "'$ctl' -s '$sock' status -o json | grep -Eq '\"state\": ?\"DOWN\"'" 5 ||
	die "the check did not go DOWN while BIRD was frozen"
pass "BIRD frozen: the check went DOWN, status answers"
n=0
while (($(fault_ms_since "$t_stop") < FREEZE * 1000)); do
	fault_status
	[ "$st_rc" = 2 ] || die "during the freeze status exited $st_rc: $st_first"
	n=$((n + 1))
	sleep 0.5
done
fault_agent_alive || die "the agent died while BIRD was frozen"
topo_upstream_has_route "$P4" || die "$P4 left the upstream while BIRD was frozen (hold timer?)"
kill -CONT "$bpid"
t0=$(fault_now_us)
topo_wait_for "! topo_upstream_has_route $P4" 5 || die "$P4 not withdrawn after SIGCONT"
ms=$(fault_ms_since "$t0")
[ "$ms" -le 1000 ] || die "the withdraw reached the upstream ${ms} ms after SIGCONT (bound 1 s)"
pass "BIRD frozen ${FREEZE} s ($n status answers, all CRITICAL) -> withdrawn at the upstream ${ms} ms after SIGCONT"
nginx_start "$(topo_ns pop1)" || die "nginx restart"
fault_expect_status 0 '^ANYCAST OK - ' 10 "nginx back after the freeze"
topo_wait_for "topo_upstream_has_route $P4" 5 || die "$P4 not back"

# --- BIRD socket permission denied: the agent as nobody ------------------------------------
fault_agent_kill
nb=$work/nobody
mkdir -p "$nb"
sock=$nb/agent.ctl
write_conf "$nb/operator.state"
sed -i "s|control: { socket = \"[^\"]*\"|control: { socket = \"$sock\"|" "$work/agent.conf"
chown -R nobody:nogroup "$nb" "$(topo_state_dir pop1)"
chmod 600 "$bsock"
FAULT_AGENT_PREFIX=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fault_agent_start
[ "$(ps -o user= -p "$apid")" = nobody ] || die "the agent does not run as nobody"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*permission denied' \
	10 "BIRD socket permission denied"
fault_log_has "needs BIRD's group" || die "the log does not tell the operator what to do"
topo_upstream_has_route "$P4" || die "the unprivileged agent withdrew $P4 without reaching BIRD"
t0=$(fault_now_us)
chmod 666 "$bsock"
fault_expect_status 0 '^ANYCAST OK - ' 10 "permission granted"
pass "permission denied -> CRITICAL; chmod -> OK $(fault_ms_since "$t0") ms later (reconnect backoff)"
nginx_stop
topo_wait_for "! topo_upstream_has_route $P4" 5 || die "the unprivileged agent cannot withdraw"
pass "the agent running as nobody withdraws $P4 once it reaches BIRD"
echo PASS
