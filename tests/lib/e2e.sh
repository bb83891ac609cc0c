# shellcheck shell=bash
# e2e.sh - helpers shared by the end-to-end scripts tests/integration/test_e2e_*.sh (bash, after
# tests/lib/topo.sh): run anycast-agent inside a PoP namespace, fail with its log, and poll for
# conditions with deadlines (never sleep-and-hope).
#
#   e2e_start_agent POP CONF [ARGS...]   start the agent in POP's namespace, log to $E2E_LOG;
#                                        E2E_APID is its pid (ip netns exec execs it)
#   e2e_kill_agent [SIGNAL]              signal (default KILL) and reap the agent
#   e2e_stop_agent                       SIGTERM; fail unless it exits 0 and no sanitizer spoke
#   e2e_die MESSAGE                      print FAIL, the agent log's tail, exit 1
#   e2e_pass MESSAGE                     print "ok: MESSAGE"
#   e2e_wait_keeping COND KEEP SECONDS   poll until COND holds; fail (2) the moment KEEP does not
#   e2e_hold KEEP SECONDS                KEEP must hold on every poll for SECONDS (for "nothing
#                                        happens": absence can only be observed over a window)
#   e2e_ms_since T0_US                   milliseconds since a ${EPOCHREALTIME/./} value
#   e2e_log_count REGEX                  lines of the agent log matching REGEX (grep -E)
#   e2e_web_pop NAME                     topo_init NAME, then one upstream (up1) and one PoP
#                                        (pop1) linked, BGP Established, and nginx (tests/lib/
#                                        nginx.sh, sourced by the caller) serving
#                                        www.example.test on 192.0.2.80:80 in pop1; E2E_WORK is
#                                        $TOPO_DIR/agent. Returns 1, the failed step on stderr.

E2E_AGENT=${E2E_AGENT:-${top_builddir:-.}/anycast-agent}
E2E_LOG=${E2E_LOG:-}
E2E_APID=

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
	ip netns exec "$(topo_ns "$pop")" "$E2E_AGENT" -d -f "$conf" "$@" >>"$E2E_LOG" 2>&1 &
	E2E_APID=$!
}

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

e2e_web_pop() {
	topo_init "$1" || {
		echo "e2e: topo_init failed" >&2
		return 1
	}
	E2E_WORK=$TOPO_DIR/agent
	mkdir -p "$E2E_WORK"
	topo_on_cleanup nginx_cleanup
	{ topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_link pop1 up1 && topo_start; } || {
		echo "e2e: the topology did not start" >&2
		return 1
	}
	topo_wait_established 30 || {
		echo "e2e: BGP not Established" >&2
		return 1
	}
	nginx_setup "$E2E_WORK/nginx"
	nginx_vhost "192.0.2.80:80" www.example.test
	nginx_start "$(topo_ns pop1)" || {
		echo "e2e: nginx did not start" >&2
		return 1
	}
}
