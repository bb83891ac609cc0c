# shellcheck shell=bash
# common.sh - what the fault-injection scripts share: one PoP (BIRD + nginx on 192.0.2.80:80 +
# anycast-agent) peering with one upstream BIRD in network namespaces (tests/lib/topo.sh), the
# agent's start/stop, `anycastctl status` as the Nagios plugin sees it, and timing helpers.
# Source it from bash after setting FAULT_NAME (a short [a-z0-9] tag for namespaces and dirs).
#
#   fault_setup                  topology + nginx, $work = private dir for the agent
#   fault_agent_start [ARGS]     start the agent (-d -f $work/agent.conf) in the PoP namespace;
#                                FAULT_AGENT_PREFIX (an array) is put before it (setpriv,
#                                prlimit, valgrind); waits until the control socket answers
#   fault_agent_kill             SIGKILL the agent
#   fault_status                 run anycastctl status: $st_rc, $st_first (first line), $st_out
#   fault_status_is RC REGEX     status exits RC and its first line matches REGEX (ERE)
#   fault_expect_status RC REGEX SECONDS WHAT
#   fault_ms_since T0            milliseconds since T0 (from fault_now_us)
[ -n "${BASH_VERSION:-}" ] || {
	echo "common.sh needs bash" >&2
	exit 99
}
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/topo.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/e2e.sh"
topo_require || exit 77
nginx_require

P4=192.0.2.80/32
D4=192.0.2.53/32
agent="$top_builddir/anycast-agent"
ctl="$top_builddir/anycastctl"
apid=
work=
sock=
FAULT_AGENT_PREFIX=()

die() {
	echo "FAIL: $*"
	[ -n "$work" ] && [ -f "$work/agent.log" ] && {
		echo "--- agent log (last 60 lines)"
		tail -n 60 "$work/agent.log"
	}
	exit 1
}
pass() { echo "ok: $*"; }

fault_now_us() { echo "${EPOCHREALTIME/./}"; }
fault_ms_since() { echo $((($(fault_now_us) - $1) / 1000)); }

fault_agent_stop() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	apid=
}

fault_setup() {
	e2e_web_pop "${FAULT_NAME}$$" || die "the PoP did not come up"
	work=$E2E_WORK
	chmod 755 "$TOPO_DIR" "$work"
	sock=$work/agent.ctl
	topo_on_cleanup fault_agent_stop
}

# fault_status: anycastctl status once; never fails
st_rc= st_first= st_out=
fault_status() {
	st_out=$("$ctl" -s "$sock" -t 2 status 2>&1)
	st_rc=$?
	st_first=$(printf '%s\n' "$st_out" | head -n 1)
	return 0
}
fault_status_is() {
	fault_status
	[ "$st_rc" = "$1" ] && printf '%s\n' "$st_first" | grep -Eq "$2"
}
fault_expect_status() {
	topo_wait_for "fault_status_is $1 '$2'" "$3" ||
		die "$4: anycastctl status wants exit $1 and /$2/, got exit $st_rc: $st_first"
	pass "$4: status exit $st_rc: $(echo "$st_first" | cut -c1-150)"
}

# fault_ctl_answers: the agent answered a status request (whatever its verdict)
fault_ctl_answers() {
	fault_status
	[ "$st_rc" -le 2 ] && ! printf '%s\n' "$st_first" | grep -q 'agent not answering'
}

fault_agent_start() {
	ip netns exec "$(topo_ns pop1)" "${FAULT_AGENT_PREFIX[@]}" "$agent" -d -f "$work/agent.conf" \
		"$@" >>"$work/agent.log" 2>&1 &
	apid=$!
	topo_wait_for "! fault_agent_alive || { [ -S '$sock' ] && fault_ctl_answers; }" 20 &&
		fault_agent_alive ||
		die "the control socket never answered"
}
fault_agent_kill() {
	kill -9 "$apid" 2>/dev/null
	wait "$apid" 2>/dev/null
	apid=
}
fault_agent_alive() { [ -n "$apid" ] && kill -0 "$apid" 2>/dev/null; }

# fault_log_has REGEX: the agent logged a line matching REGEX (ERE)
fault_log_has() { grep -Eq "$1" "$work/agent.log"; }
