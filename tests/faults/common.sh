# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# common.sh - what the fault-injection scripts share beyond tests/lib/e2e.sh (one PoP: BIRD +
# nginx on 192.0.2.80:80 + anycast-agent, peering with one upstream BIRD): the agent's start,
# waiting for its control socket, and `anycastctl status` as the Nagios plugin sees it.
# Source it from bash after setting FAULT_NAME (a short [a-z0-9] tag for namespaces and dirs).
#
#   fault_require_python3        skip (exit 77) without /usr/bin/python3
#   fault_setup                  e2e_web_pop; $work = private dir for the agent, $sock its
#                                control socket
#   fault_agent_start [ARGS]     e2e_start_agent pop1 $work/agent.conf (E2E_AGENT_PREFIX, an
#                                array, goes before it: setpriv, prlimit, valgrind); waits until
#                                the control socket answers
#   fault_status                 run anycastctl status: $st_rc, $st_first (first line), $st_out
#   fault_status_is RC REGEX     status exits RC and its first line matches REGEX (ERE)
#   fault_expect_status RC REGEX SECONDS WHAT
#   fault_log_has REGEX          the agent logged a line matching REGEX (ERE)
. "${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

P4=192.0.2.80/32
D4=192.0.2.53/32
ctl="$top_builddir/anycastctl"
work=
sock=

fault_require_python3() {
	[ -x /usr/bin/python3 ] || {
		echo "SKIP: /usr/bin/python3 not found (Debian package python3)"
		exit 77
	}
}

fault_setup() {
	e2e_web_pop "${FAULT_NAME}$$"
	work=$E2E_WORK
	chmod 755 "$TOPO_DIR" "$work"
	sock=$E2E_CTL
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
		e2e_die "$4: anycastctl status wants exit $1 and /$2/, got exit $st_rc: $st_first"
	e2e_pass "$4: status exit $st_rc: $(echo "$st_first" | cut -c1-150)"
}

# fault_ctl_answers: the agent answered a status request (whatever its verdict)
fault_ctl_answers() {
	fault_status
	[ "$st_rc" -le 2 ] && ! printf '%s\n' "$st_first" | grep -q 'agent not answering'
}

fault_agent_start() {
	e2e_start_agent pop1 "$work/agent.conf" "$@"
	topo_wait_for "! e2e_agent_alive || { [ -S '$sock' ] && fault_ctl_answers; }" 20 &&
		e2e_agent_alive ||
		e2e_die "the control socket never answered"
}

fault_log_has() { grep -Eq "$1" "$E2E_LOG"; }
