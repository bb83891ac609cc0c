# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# e2e.sh - the fixture of the end-to-end and fault-injection scripts (bash): PoPs of
# tests/lib/topo.sh with nginx (tests/lib/nginx.sh) and nsd (tests/lib/nsd.sh), anycast-agent run
# inside a PoP's namespace, failing with its log, and polling for conditions with deadlines
# (never sleep-and-hope). Sourcing it sets `set -u`, top_srcdir and top_builddir, and sources
# topo.sh, nginx.sh and nsd.sh.
#
#   e2e_require                          skip (exit 77) without ip, root, BIRD, nginx or openssl
#   e2e_workdir NAME                     topo_init NAME; E2E_WORK=$TOPO_DIR/agent (created), the
#                                        agent's log E2E_LOG, control socket E2E_CTL and state
#                                        file E2E_STATE in it, NSD_BASE=$E2E_WORK/nsd; the agent,
#                                        nginx and nsd are cleaned up with the topology
#   e2e_web_pop NAME                     e2e_workdir NAME, then one upstream (up1) and one PoP
#                                        (pop1) linked, BGP Established, and nginx serving
#                                        www.example.test on 192.0.2.80:80 in pop1
#   e2e_web_pops_ibgp NAME               the same with a second PoP (pop2, also linked to up1),
#                                        the two PoPs peering over iBGP (topo_ibgp), Established
#   e2e_conf [BIRD_OPTS] <REST           the agent config: pop1's BIRD socket and state directory
#                                        with BIRD_OPTS (default "reconcile_interval = 0.5;"),
#                                        E2E_CTL, E2E_STATE, then REST (the checks, announcements)
#   e2e_check_web [TIMINGS]              the lines of check web: http on 192.0.2.80:80 for
#                                        www.example.test, TIMINGS (default "interval = 0.2;
#                                        timeout = 0.1; rise = 3; fall = 2;")
#   e2e_conf_web [TOP [TIMINGS [ANN [BIRD_OPTS]]]]
#                                        e2e_conf with the TOP lines, e2e_check_web TIMINGS and
#                                        announcement web (anycast_web4/6, their drain variants,
#                                        192.0.2.80/32 and 2001:db8::80/128; options ANN, default
#                                        "hold_down = 1.0;")
#   e2e_start_agent POP CONF [ARGS...]   start the agent in POP's namespace, log to $E2E_LOG;
#                                        E2E_APID is its pid (ip netns exec execs it); the array
#                                        E2E_AGENT_PREFIX is put before it (setpriv, valgrind)
#   e2e_agent_alive                      the agent started last still runs
#   e2e_kill_agent [SIGNAL]              signal (default KILL) and reap the agent
#   e2e_stop_agent                       SIGTERM; fail unless it exits 0 and no sanitizer spoke
#   e2e_die MESSAGE                      print FAIL, the agent log's tail, exit 1
#   e2e_pass MESSAGE                     print "ok: MESSAGE"
#   e2e_wait_keeping COND KEEP SECONDS   poll until COND holds; fail (2) the moment KEEP does not
#   e2e_hold KEEP SECONDS                KEEP must hold on every poll for SECONDS (for "nothing
#                                        happens": absence can only be observed over a window)
#   e2e_ms_since T0_US                   milliseconds since a ${EPOCHREALTIME/./} value
#   e2e_log_count REGEX                  lines of the agent log matching REGEX (grep -E)
[ -n "${BASH_VERSION:-}" ] || {
	echo "e2e.sh needs bash" >&2
	exit 99
}
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/topo.sh"
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/nsd.sh"

E2E_AGENT=${E2E_AGENT:-$top_builddir/anycast-agent}
E2E_AGENT_PREFIX=()
E2E_LOG=${E2E_LOG:-}
E2E_APID=
E2E_WORK=
E2E_CTL=
E2E_STATE=

e2e_require() {
	topo_require || exit 77
	nginx_require
}

e2e_die() {
	echo "FAIL: $*"
	if [ -n "$E2E_LOG" ] && [ -f "$E2E_LOG" ]; then
		echo "--- agent log (last 80 lines of $E2E_LOG)"
		tail -n 80 "$E2E_LOG"
	fi
	exit 1
}

e2e_pass() { echo "ok: $*"; }

e2e_start_agent() {
	local pop=$1 conf=$2
	shift 2
	ip netns exec "$(topo_ns "$pop")" "${E2E_AGENT_PREFIX[@]}" "$E2E_AGENT" -d -f "$conf" "$@" \
		>>"$E2E_LOG" 2>&1 &
	E2E_APID=$!
}

e2e_agent_alive() { [ -n "$E2E_APID" ] && kill -0 "$E2E_APID" 2>/dev/null; }

e2e_kill_agent() {
	[ -n "$E2E_APID" ] || return 0
	kill "-${1:-KILL}" "$E2E_APID" 2>/dev/null
	wait "$E2E_APID" 2>/dev/null
	E2E_APID=
}

e2e_stop_agent() {
	local rc
	[ -n "$E2E_APID" ] || return 0
	kill -TERM "$E2E_APID" 2>/dev/null
	wait "$E2E_APID"
	rc=$?
	E2E_APID=
	[ "$rc" = 0 ] || e2e_die "the agent exited $rc on SIGTERM"
	! grep -q "Sanitizer" "$E2E_LOG" || e2e_die "a sanitizer reported an error"
}

e2e_wait_keeping() {
	local cond=$1 keep=$2 timeout=$3 start limit
	start=${EPOCHREALTIME/./}
	limit=$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')
	while :; do
		eval "$keep" || {
			echo "e2e: broken while waiting for '$cond': $keep" >&2
			return 2
		}
		if eval "$cond"; then
			TOPO_WAITED_US=$((${EPOCHREALTIME/./} - start))
			return 0
		fi
		if ((${EPOCHREALTIME/./} - start >= limit)); then
			echo "e2e: timed out after $timeout s waiting for: $cond" >&2
			return 1
		fi
		sleep "${TOPO_POLL_INTERVAL:-0.01}"
	done
}

e2e_hold() {
	local keep=$1 secs=$2 start limit
	start=${EPOCHREALTIME/./}
	limit=$(awk -v t="$secs" 'BEGIN { printf "%d", t * 1000000 }')
	while ((${EPOCHREALTIME/./} - start < limit)); do
		eval "$keep" || {
			echo "e2e: no longer true after $(((${EPOCHREALTIME/./} - start) / 1000)) ms: $keep" >&2
			return 1
		}
		sleep 0.05
	done
}

e2e_ms_since() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }

e2e_log_count() { grep -cE "$1" "$E2E_LOG" 2>/dev/null; }

e2e_workdir() {
	topo_init "$1" || e2e_die "topo_init $1"
	E2E_WORK=$TOPO_DIR/agent
	mkdir -p "$E2E_WORK"
	E2E_LOG=$E2E_WORK/agent.log
	E2E_CTL=$E2E_WORK/agent.ctl
	E2E_STATE=$E2E_WORK/operator.state
	NSD_BASE=$E2E_WORK/nsd
	# hooks run last-registered first: the agent goes before the services it checks
	topo_on_cleanup nsd_cleanup
	topo_on_cleanup nginx_cleanup
	topo_on_cleanup e2e_kill_agent
}

# _e2e_nginx: nginx serving www.example.test on 192.0.2.80:80 in pop1
_e2e_nginx() {
	nginx_setup "$E2E_WORK/nginx"
	nginx_vhost "192.0.2.80:80" www.example.test
	nginx_start "$(topo_ns pop1)" || e2e_die "nginx did not start"
}

e2e_web_pop() {
	e2e_workdir "$1"
	topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_link pop1 up1 && topo_start ||
		e2e_die "the topology did not start"
	topo_wait_established 30 || e2e_die "BGP not Established"
	_e2e_nginx
}

e2e_web_pops_ibgp() {
	e2e_workdir "$1"
	topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_add_pop pop2 2 &&
		topo_link pop1 up1 && topo_link pop2 up1 && topo_ibgp pop1 pop2 && topo_start ||
		e2e_die "the topology did not start"
	topo_wait_established 30 || e2e_die "BGP not Established"
	topo_wait_for "topo_ibgp_established pop1 pop2 4 && topo_ibgp_established pop1 pop2 6" 30 ||
		e2e_die "iBGP between the PoPs not Established"
	_e2e_nginx
}

e2e_conf() {
	cat <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)";
        ${1:-reconcile_interval = 0.5;} };
control: { socket = "$E2E_CTL"; };
state_file = "$E2E_STATE";
CONF
	cat
}

e2e_check_web() {
	cat <<CONF
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         ${1:-interval = 0.2; timeout = 0.1; rise = 3; fall = 2;} };
CONF
}

e2e_conf_web() {
	e2e_conf "${4:-}" <<CONF
${1:-}
checks: {
$(e2e_check_web "${2:-}")
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         drain_protocols = [ "anycast_web4_drain", "anycast_web6_drain" ];
         requires = [ "web" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         ${3:-hold_down = 1.0;} };
};
CONF
}
