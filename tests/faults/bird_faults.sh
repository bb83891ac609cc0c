#!/bin/bash
# SPDX-License-Identifier: ISC
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
	E2E_STATE=$1
	e2e_conf_web 'on_exit = "keep";' "interval = 0.2; timeout = 0.1; rise = 2; fall = 2;" \
		"hold_down = 0.5; drain_time = 0.5;" "reconcile_interval = 0.5; timeout = 0.5;" \
		>"$work/agent.conf"
}
write_conf "$work/operator.state"
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 never announced"
fault_expect_status 0 '^ANYCAST OK - ' 5 "healthy PoP"

# --- BIRD SIGKILLed, then restarted --------------------------------------------------------
bpid=$(cat "$(topo_node_dir pop1)/bird.pid")
kill -9 "$bpid"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected' 5 "BIRD killed"
topo_wait_for "! topo_upstream_has_route $P4" 10 || e2e_die "$P4 still at the upstream with BIRD dead"
rm -f "$(topo_node_dir pop1)/bird.pid"
t0=${EPOCHREALTIME/./}
topo_bird_start pop1 || e2e_die "BIRD restart"
fault_expect_status 0 '^ANYCAST OK - ' 10 "BIRD restarted"
ms=$(e2e_ms_since "$t0")
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 not back after the BIRD restart"
e2e_pass "BIRD SIGKILLed and restarted -> status OK ${ms} ms after the restart, $P4 back at the upstream"
topo_wait_established 30 || e2e_die "BGP not Established again"

# --- the BIRD socket path replaced by a regular file ---------------------------------------
topo_bird_stop pop1
rm -f "$bsock"
echo "not a socket" >"$bsock"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*not a socket' 10 \
	"socket path is a regular file"
e2e_agent_alive || e2e_die "the agent died on a regular file at the BIRD socket path"
fault_log_has "bird .*$bsock.*the path is not a socket" || e2e_die "the log does not name the fault"
t0=${EPOCHREALTIME/./}
topo_bird_start pop1 || e2e_die "BIRD did not start over the regular file"
fault_expect_status 0 '^ANYCAST OK - ' 10 "BIRD started over the regular file"
e2e_pass "regular file at the socket path -> recovered $(e2e_ms_since "$t0") ms after BIRD started"
topo_wait_established 30 || e2e_die "BGP not Established again"
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 not back"

# --- BIRD frozen for $FREEZE s, nginx stops during the freeze ------------------------------
bpid=$(cat "$(topo_node_dir pop1)/bird.pid")
kill -STOP "$bpid"
topo_on_cleanup "kill -CONT $bpid 2>/dev/null"
t_stop=${EPOCHREALTIME/./}
nginx_stop
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*(no reply|no banner|timed out|not answering)' \
	5 "BIRD frozen"
topo_wait_for "'$ctl' -s '$sock' status -o json | grep -Eq '\"state\": ?\"DOWN\"'" 5 ||
	e2e_die "the check did not go DOWN while BIRD was frozen"
e2e_pass "BIRD frozen: the check went DOWN, status answers"
n=0
while (($(e2e_ms_since "$t_stop") < FREEZE * 1000)); do
	fault_status
	[ "$st_rc" = 2 ] || e2e_die "during the freeze status exited $st_rc: $st_first"
	n=$((n + 1))
	sleep 0.5
done
e2e_agent_alive || e2e_die "the agent died while BIRD was frozen"
topo_upstream_has_route "$P4" || e2e_die "$P4 left the upstream while BIRD was frozen (hold timer?)"
kill -CONT "$bpid"
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "$P4 not withdrawn after SIGCONT"
ms=$(e2e_ms_since "$t0")
[ "$ms" -le 1000 ] || e2e_die "the withdraw reached the upstream ${ms} ms after SIGCONT (bound 1 s)"
e2e_pass "BIRD frozen ${FREEZE} s ($n status answers, all CRITICAL) -> withdrawn at the upstream ${ms} ms after SIGCONT"
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
fault_expect_status 0 '^ANYCAST OK - ' 10 "nginx back after the freeze"
topo_wait_for "topo_upstream_has_route $P4" 5 || e2e_die "$P4 not back"

# --- BIRD socket permission denied: the agent as nobody ------------------------------------
e2e_kill_agent
nb=$work/nobody
mkdir -p "$nb"
sock=$nb/agent.ctl E2E_CTL=$nb/agent.ctl
write_conf "$nb/operator.state"
chown -R nobody:nogroup "$nb" "$(topo_state_dir pop1)"
chmod 600 "$bsock"
E2E_AGENT_PREFIX=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
fault_agent_start
[ "$(ps -o user= -p "$E2E_APID")" = nobody ] || e2e_die "the agent does not run as nobody"
fault_expect_status 2 '^ANYCAST CRITICAL - .*BIRD socket [^ ]+ not connected: .*permission denied' \
	10 "BIRD socket permission denied"
fault_log_has "needs BIRD's group" || e2e_die "the log does not tell the operator what to do"
topo_upstream_has_route "$P4" || e2e_die "the unprivileged agent withdrew $P4 without reaching BIRD"
t0=${EPOCHREALTIME/./}
chmod 666 "$bsock"
fault_expect_status 0 '^ANYCAST OK - ' 10 "permission granted"
e2e_pass "permission denied -> CRITICAL; chmod -> OK $(e2e_ms_since "$t0") ms later (reconnect backoff)"
nginx_stop
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "the unprivileged agent cannot withdraw"
e2e_pass "the agent running as nobody withdraws $P4 once it reaches BIRD"
echo PASS
