# SPDX-License-Identifier: ISC
# probe.sh - network namespaces for the tests that need loopback ports of their own, and what
# the probe scripts share (tests/integration/dns_nsd.sh, dnssec_nsd.sh, http.sh): run a check's
# probe program inside the namespace and judge the verdict line it prints (POSIX sh; source
# tests/lib/tally.sh first).
#
#   probe_own_netns NAME SCRIPT      outside it ($PROBE_NS unset): run `sh SCRIPT` again inside
#                                    a new namespace NAME (lo up), delete it, exit with SCRIPT's
#                                    status; skip (77) unless root
#   probe_netns NAME CLEANUP         skip (77) unless root, fail unless $PROBE (the probe
#                                    program) is built; create the namespace NS=NAME (lo up);
#                                    at exit run the command CLEANUP, then delete NS
#   probe ARGS...                    run PROBE ARGS... in NS; everything it printed in $out
#   probe_expect CODE SUBSTRING ARGS...
#                                    the last line PROBE ARGS... prints starts with the result
#                                    CODE and contains SUBSTRING: pass, else fail

out=

probe_own_netns() {
	[ -z "${PROBE_NS:-}" ] || return 0
	[ "$(id -u)" = 0 ] || {
		echo "SKIP: needs root for a private network namespace"
		exit 77
	}
	PROBE_NS=$1
	export PROBE_NS
	ip netns add "$PROBE_NS" || exit 99
	ip -n "$PROBE_NS" link set lo up
	ip netns exec "$PROBE_NS" sh "$2"
	_rc=$?
	ip netns del "$PROBE_NS"
	exit $_rc
}

probe_netns() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root for a network namespace"
		exit 77
	fi
	[ -x "$PROBE" ] || {
		echo "FAIL: $PROBE not built (make check builds it)"
		exit 1
	}
	NS=$1 _probe_cleanup=$2
	trap '$_probe_cleanup; ip netns del "$NS" 2>/dev/null' EXIT
	trap 'exit 1' INT TERM
	ip netns add "$NS" || exit 1
	ip -n "$NS" link set lo up || exit 1
}

probe() {
	out=$(ip netns exec "$NS" "$PROBE" "$@" 2>&1)
}

probe_expect() {
	_want=$1 _sub=$2
	shift 2
	probe "$@"
	_last=$(printf '%s\n' "$out" | tail -n 1)
	_has=0
	case "$_last" in
	*"$_sub"*) _has=1 ;;
	esac
	if [ "${_last%% *}" = "$_want" ] && [ $_has = 1 ]; then
		pass "$_want: $_last"
	else
		fail "want $_want \"$_sub\": $_last    (args: $*)"
	fi
}
