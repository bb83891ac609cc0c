#!/bin/bash
# SPDX-License-Identifier: ISC
# agent_faults.sh - faults of the agent's own resources under a running PoP (BIRD + nginx +
# anycast-agent, upstream BIRD, network namespaces). Each time: what the upstream sees, what
# `anycastctl status` says, and that the agent recovers by itself:
#   the state directory on a full filesystem while draining; the agent SIGKILLed during a
#   drain and restarted; SIGHUP with a broken config; 1000 control-socket clients at once;
#   the agent started with a file-descriptor limit of 64 (and the 1000 clients again).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FAULT_NAME=fagent
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/faults/common.sh"
fault_require_python3
STORM=${FAULT_STORM_CLIENTS:-1000}

fault_setup
# the state directory (BIRD's durable decisions and the operator state) on a tiny tmpfs
sdir=$(topo_state_dir pop1)
cp -a "$sdir" "$work/state.orig"
mount -t tmpfs -o size=256k,mode=755 "fagent$$" "$sdir" || e2e_die "cannot mount a tmpfs on $sdir"
topo_on_cleanup "umount '$sdir' 2>/dev/null"
cp -a "$work/state.orig/." "$sdir/"
state=$sdir/operator.state

E2E_STATE=$state
e2e_conf_web 'on_exit = "keep";' "interval = 0.2; timeout = 0.1; rise = 2; fall = 2;" \
	"hold_down = 0.5; drain_time = 2.0;" "reconcile_interval = 0.5; timeout = 0.5;" >"$work/agent.conf"
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4" 15 || e2e_die "$P4 never announced"
fault_expect_status 0 '^ANYCAST OK - ' 5 "healthy PoP"
has_community() { topo_upstream_route_communities "$P4" | grep -q '(65535,0)'; }

# --- the state directory full while draining -----------------------------------------------
# a first drain and undrain leave a valid state file behind
"$ctl" -s "$sock" drain web --reason "first" >/dev/null || e2e_die "drain"
"$ctl" -s "$sock" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "topo_upstream_has_route $P4 && ! has_community" 5 || e2e_die "$P4 not back"
cp "$state" "$work/state.before"
/usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$state" ||
	e2e_die "the state file is not JSON before the fault: $(cat "$state")"
dd if=/dev/zero of="$sdir/fill" bs=4k >/dev/null 2>&1
[ "$(df --output=avail "$sdir" | tail -n 1 | tr -d ' ')" = 0 ] || e2e_die "the tmpfs is not full"
t0=${EPOCHREALTIME/./}
out=$("$ctl" -s "$sock" drain web --reason "disk full drain" 2>&1)
echo "drain answered: $out"
topo_wait_for has_community 5 || e2e_die "no (65535,0) at the upstream: the drain did not take effect"
ms=$(e2e_ms_since "$t0")
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "$P4 not withdrawn after drain_time"
e2e_pass "drain on a full filesystem -> (65535,0) at the upstream in ${ms} ms, then withdrawn"
fault_expect_status 1 '^ANYCAST WARNING - .*BIRD state file of anycast_web[46](_drain)? not written.*state file: cannot write .*: No space left on device' \
	5 "state files not written"
cmp -s "$state" "$work/state.before" || e2e_die "the state file changed on a full filesystem: $(cat "$state")"
ls -a "$sdir" | grep -v '^\(\.\|\.\.\|fill\|operator\.state\|bird-sockets\|.*\.conf\)$' &&
	e2e_die "temporary files left in the state directory"
for f in "$sdir"/*.conf; do
	grep -qx 'disabled \(yes\|no\);' "$f" || e2e_die "$f is truncated: '$(cat "$f")'"
done
grep -qx 'disabled no;' "$sdir/anycast_web4.conf" || e2e_die "anycast_web4.conf lost its last decision"
e2e_pass "full filesystem: every state file intact, holding the last decision written (no truncation, no temporaries)"
rm -f "$sdir/fill"
t0=${EPOCHREALTIME/./}
topo_wait_for "grep -qx 'disabled yes;' '$sdir/anycast_web4.conf' && grep -qx 'disabled yes;' '$sdir/anycast_web4_drain.conf'" 5 ||
	e2e_die "BIRD's state files were not rewritten once space was back"
e2e_pass "space freed -> BIRD's state files rewritten by the agent $(e2e_ms_since "$t0") ms later"
fault_log_has "anycast_web4.conf written again" || e2e_die "the recovery is not logged"
topo_wait_for "grep -q 'disk full drain' '$state'" 3 ||
	e2e_die "the operator state file was not rewritten once space was back"
e2e_pass "space freed -> the operator state file rewritten by itself (retried every second)"
fault_expect_status 1 '^ANYCAST WARNING - web DRAINED by root: disk full drain; 0/1' 5 "space back"
/usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$state" ||
	e2e_die "the state file is not JSON after the fault: $(cat "$state")"

# --- agent SIGKILLed during a drain, restarted ---------------------------------------------
"$ctl" -s "$sock" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "topo_upstream_has_route $P4 && ! has_community" 5 || e2e_die "$P4 not back"
"$ctl" -s "$sock" drain web --reason "killed mid-drain" >/dev/null || e2e_die "drain"
topo_wait_for has_community 5 || e2e_die "no graceful shutdown"
e2e_kill_agent
t0=${EPOCHREALTIME/./}
e2e_start_agent pop1 "$work/agent.conf"
bad=0 polls=0
while (($(e2e_ms_since "$t0") < 4000)); do
	# one query: the route without the graceful-shutdown community (two queries would race)
	r=$(topo_upstream_route "$P4")
	if echo "$r" | grep -q '\[' && ! echo "$r" | grep -q '(65535,0)'; then bad=$((bad + 1)); fi
	polls=$((polls + 1))
done
[ "$bad" = 0 ] || e2e_die "$P4 was announced without (65535,0) in $bad of $polls polls after the restart"
topo_upstream_has_route "$P4" && e2e_die "$P4 still announced after drain_time"
fault_expect_status 1 '^ANYCAST WARNING - .*killed mid-drain' 5 "restarted mid-drain"
e2e_pass "SIGKILL mid-drain + restart -> $polls upstream polls, never announced without (65535,0); withdrawn"
"$ctl" -s "$sock" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "topo_upstream_has_route $P4" 5 || e2e_die "$P4 not back after undrain"

# --- SIGHUP with a broken config -----------------------------------------------------------
cp "$work/agent.conf" "$work/agent.conf.good"
echo 'checks: { web: { type = "http"; url = 5; } ' >>"$work/agent.conf"
kill -HUP "$E2E_APID"
topo_wait_for "fault_log_has 'reload failed; still running the previous configuration'" 5 ||
	e2e_die "SIGHUP with a broken config not reported"
fault_log_has "$work/agent.conf:[0-9]+: " || e2e_die "no file:line for the broken config"
e2e_agent_alive || e2e_die "the agent died on SIGHUP"
fault_expect_status 0 '^ANYCAST OK - ' 3 "broken config, old one still running"
topo_upstream_has_route "$P4" || e2e_die "$P4 lost on a broken reload"
cp "$work/agent.conf.good" "$work/agent.conf"
kill -HUP "$E2E_APID"
topo_wait_for "fault_log_has 'configuration reloaded from $work/agent.conf'" 5 ||
	e2e_die "SIGHUP with the fixed config did not reload"
fault_expect_status 0 '^ANYCAST OK - ' 3 "config fixed, SIGHUP again"
e2e_pass "SIGHUP with a broken config -> logged with file:line, old config runs, $P4 kept"

# --- 1000 control-socket clients at once ---------------------------------------------------
storm() { # WHAT: run the storm, then status must answer and the agent live
	local res
	res=$(/usr/bin/python3 "$top_srcdir/tests/faults/ctl_storm.py" "$sock" "$STORM" 20)
	e2e_agent_alive || e2e_die "$1: the agent died under $STORM clients ($res)"
	fault_expect_status 0 '^ANYCAST OK - ' 5 "$1: status after the storm"
	topo_upstream_has_route "$P4" || e2e_die "$1: $P4 lost"
	echo "$res" | grep -q ' ok=[1-9]' || e2e_die "$1: no client got an answer: $res"
	echo "$res" | grep -q ' errors=0 ' || e2e_die "$1: clients got garbage or hung: $res"
	storm_res=$res
}
storm "$STORM clients"
e2e_pass "$STORM control clients at once -> $storm_res; agent alive, status OK"

# --- file-descriptor limit 64 ----------------------------------------------------------------
e2e_kill_agent
E2E_AGENT_PREFIX=(prlimit --nofile=64)
fault_agent_start
[ "$(prlimit --pid "$E2E_APID" --nofile --output SOFT --noheadings | tr -d ' ')" = 64 ] ||
	e2e_die "the agent does not run with 64 descriptors"
fault_expect_status 0 '^ANYCAST OK - ' 10 "fd limit 64: started, checks run, announced"
storm "fd limit 64, $STORM clients"
# (the clients beyond the limit are closed by libuv's EMFILE reserve-fd trick, which does not
# call the agent back, so the agent cannot log them: see doc/faults.md)
e2e_pass "fd limit 64, $STORM clients -> $storm_res; agent alive, status OK"
"$ctl" -s "$sock" drain web --reason "after the storm" >/dev/null || e2e_die "drain after the storm"
topo_wait_for has_community 5 || e2e_die "drain after the storm: no graceful shutdown"
e2e_pass "fd limit 64: drain still works after the storm"
echo PASS
