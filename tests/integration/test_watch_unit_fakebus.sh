#!/bin/bash
# SPDX-License-Identifier: ISC
# test_watch_unit_fakebus.sh - watch_unit's D-Bus side, without a real systemd (it is not PID 1
# where the tests run): a private dbus-daemon (Debian package dbus) stands in for the system bus
# ($DBUS_SYSTEM_BUS_ADDRESS) and tests/integration/fake_systemd1 for systemd on it (the name
# org.freedesktop.systemd1, Manager.Subscribe, the Unit properties and their PropertiesChanged).
# The agent, in a namespace of its own, checks a real nginx there (tcp, interval 30 s: its probes
# decide nothing within the test's windows) and watches nginx.service:
#   - no bus at all: the watch is unavailable, the check passes on its probes, anycastctl status
#     warns, --probe says so; systemd not on the bus: unavailable, until it appears (no restart);
#   - active, and deactivating while ExecStop= runs (SubState stop): alive, no death;
#   - deactivating while systemd kills (stop-sigterm), inactive, failed: a death each, the check
#     DOWN at once, then back through rise (nginx still serves);
#   - the same signal sent by another connection than systemd's: ignored;
#   - systemd leaves the bus: unavailable, no death; comes back with the unit failed: a death;
#   - a unit systemd cannot load: unavailable.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
FAKE=$top_builddir/tests/integration/fake_systemd1
CTL=$top_builddir/anycastctl
AGENT=$top_builddir/anycast-agent
[ -x "$FAKE" ] || {
	echo "SKIP: $FAKE not built (this build has no libsystemd: apt-get install libsystemd-dev)"
	exit 77
}
command -v dbus-daemon >/dev/null || {
	echo "SKIP: dbus-daemon not found (Debian package dbus)"
	exit 77
}
[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root (a network namespace)"
	exit 77
}
nginx_require

work=$(mktemp -d "/tmp/watch-fakebus.$$.XXXXXX") || exit 99
chmod 755 "$work"
ns=wfb$$
E2E_LOG=$work/agent.log
bus_pid='' fake_pid=''
cleanup() {
	e2e_kill_agent
	kill_fake
	[ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
	nginx_cleanup
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" && ip -n "$ns" link set lo up || e2e_die "netns"
nginx_setup "$work/nginx"
nginx_vhost "127.0.0.1:80" www.example.test
nginx_start "$ns" || e2e_die "nginx"

export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
cat >"$work/agent.conf" <<CONF
bird: { socket = "$work/no-bird.ctl"; state_dir = "$work/state"; };
control: { socket = "$work/agent.ctl"; };
state_file = "$work/operator.state";
checks: {
  web: { type = "tcp"; address = "127.0.0.1:80"; interval = 30; fast_interval = 0.3;
         timeout = 0.2; rise = 2; fall = 10; watch_unit = "nginx"; };
};
CONF

ctl() { "$CTL" -s "$work/agent.ctl" "$@"; }
field() { # PYTHON-EXPR over the status snapshot s and the check c
	ctl status -o json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
c = [c for c in s["checks"] if c["name"] == "web"][0]
w = c["watches"][0]
print(eval(sys.argv[1]))' "$1"
}
wstate() { field 'w["state"]'; }
deaths() { field 'c["counters"]["deaths"]'; }
cstate() { field 'c["state"]'; }
# fake CMD...: one command to the fake systemd, wait for its "ok"
fake() {
	echo "$*" >&5
	local reply
	read -r -t 5 reply <&6 || e2e_die "fake_systemd1 did not answer '$*'"
	[ "$reply" = ok ] || [ "$1" = subscribers ] || e2e_die "fake_systemd1: $reply"
	REPLY=$reply
}
start_fake() {
	rm -f "$work/fake.in" "$work/fake.out"
	mkfifo "$work/fake.in" "$work/fake.out"
	"$FAKE" <"$work/fake.in" >"$work/fake.out" 2>>"$work/fake.err" &
	fake_pid=$!
	exec 5>"$work/fake.in" 6<"$work/fake.out"
	local ready
	read -r -t 5 ready <&6 && [ "$ready" = ready ] || e2e_die "fake_systemd1 did not start"
}
stop_fake() {
	echo quit >&5
	exec 5>&- 6<&-
	wait "$fake_pid"
	fake_pid=
}

kill_fake() {
	[ -n "$fake_pid" ] || return 0
	exec 5>&- 6<&-
	kill "$fake_pid" 2>/dev/null
	wait "$fake_pid" 2>/dev/null
	fake_pid=
}
wait_for() { e2e_wait_keeping "$1" true "$2"; }
start_agent() {
	ip netns exec "$ns" "$AGENT" -d -f "$work/agent.conf" >>"$E2E_LOG" 2>&1 &
	E2E_APID=$!
	wait_for "[ -S $work/agent.ctl ] && ctl status -o json | grep -q checks" 5 || e2e_die "agent did not start"
}

# --- no bus at all
start_agent
ctl check web >/dev/null
wait_for '[ "$(cstate)" = UP ]' 5 || e2e_die "web not UP on its probes"
[ "$(wstate)" = unavailable ] && field 'w["detail"]' | grep -q "no system bus" ||
	e2e_die "no bus: watch $(wstate): $(field 'w["detail"]')"
ctl status | grep -q "check web: watch_unit nginx.service unavailable: no system bus" ||
	e2e_die "anycastctl status does not warn: $(ctl status)"
ip netns exec "$ns" "$AGENT" -f "$work/agent.conf" --probe web | grep -q "watch_unit nginx.service: unavailable (no system bus" ||
	e2e_die "--probe: $(ip netns exec "$ns" "$AGENT" -f "$work/agent.conf" --probe web)"
e2e_pass "no system bus: watch unavailable (status warns, --probe says so), web UP on its probes"
e2e_kill_agent

# --- a bus without systemd; then systemd appears
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile >"$work/bus.log" 2>&1 &
bus_pid=$!
wait_for "[ -S $work/bus ]" 5 || e2e_die "dbus-daemon did not start"
start_agent
ctl check web >/dev/null
wait_for '[ "$(cstate)" = UP ] && [ "$(wstate)" = unavailable ]' 5 ||
	e2e_die "bus without systemd: check $(cstate), watch $(wstate)"
field 'w["detail"]' | grep -q "systemd is not on the system bus" ||
	e2e_die "detail: $(field 'w["detail"]')"
e2e_pass "a bus without systemd: watch unavailable ($(field 'w["detail"]'))"
start_fake
fake set nginx.service active running
wait_for '[ "$(wstate)" = alive ]' 5 || e2e_die "systemd appeared, watch still $(wstate)"
fake subscribers
[ "$REPLY" -ge 1 ] || e2e_die "the agent did not call Subscribe"
e2e_pass "systemd appears: the agent subscribes and the watch is alive ($(field 'w["detail"]'))"

# --- ExecStop= running is not a death
fake set nginx.service deactivating stop
e2e_hold '[ "$(cstate)" = UP ] && [ "$(deaths)" = 0 ]' 1 || e2e_die "deactivating (stop) was a death"
[ "$(wstate)" = alive ] || e2e_die "deactivating (stop): watch $(wstate)"
e2e_pass "deactivating while ExecStop= runs: alive, no death"

# --- deaths: each one DOWN at once, back through rise (nginx still serves)
n=0
for st in "deactivating stop-sigterm" "inactive dead" "failed failed"; do
	fake set nginx.service active running
	wait_for '[ "$(wstate)" = alive ] && [ "$(cstate)" = UP ]' 5 || e2e_die "not alive/UP"
	t0=${EPOCHREALTIME/./}
	# shellcheck disable=SC2086
	fake set nginx.service $st
	n=$((n + 1))
	wait_for "[ \"\$(deaths)\" = $n ]" 1 || e2e_die "$st: no death within 1 s"
	grep -q "check \"web\": UP -> DOWN after 1 failure (SERVICE_DEAD: watch_unit nginx.service: ${st% *} (${st#* }))" "$E2E_LOG" ||
		e2e_die "$st: no UP -> DOWN line in the log"
	e2e_pass "$st: a death, web DOWN in $(e2e_ms_since "$t0") ms"
	wait_for '[ "$(cstate)" = UP ]' 5 || e2e_die "$st: web did not rise again"
done

# --- a spoofed signal from another connection is not systemd's
fake set nginx.service active running
wait_for '[ "$(wstate)" = alive ] && [ "$(cstate)" = UP ]' 5 || e2e_die "not alive/UP"
fake spoof nginx.service failed failed
e2e_hold "[ \"\$(deaths)\" = $n ] && [ \"\$(wstate)\" = alive ]" 1 ||
	e2e_die "a PropertiesChanged from another connection was believed"
e2e_pass "the same signal from another connection: ignored"

# --- systemd leaves: unavailable, no death; it comes back with the unit failed: a death
stop_fake
wait_for '[ "$(wstate)" = unavailable ]' 5 || e2e_die "systemd left: watch $(wstate)"
[ "$(deaths)" = $n ] && [ "$(cstate)" = UP ] || e2e_die "systemd leaving was a death"
field 'w["detail"]' | grep -q "systemd left the system bus" || e2e_die "$(field 'w["detail"]')"
e2e_pass "systemd left the bus: unavailable, no death, web UP"
start_fake
fake set nginx.service failed failed
n=$((n + 1))
wait_for "[ \"\$(deaths)\" = $n ] && [ \"\$(wstate)\" = dead ]" 5 ||
	e2e_die "systemd back with nginx.service failed: watch $(wstate), deaths $(deaths)"
e2e_pass "systemd back with the unit failed: a death"

# --- a unit systemd cannot load
sed -i 's/watch_unit = "nginx";/watch_unit = "no-such-unit";/' "$work/agent.conf"
ctl reload >/dev/null || e2e_die "reload"
wait_for '[ "$(wstate)" = unavailable ]' 5 || e2e_die "no-such-unit: watch $(wstate)"
field 'w["detail"]' | grep -q "systemd cannot load no-such-unit.service (LoadState not-found)" ||
	e2e_die "$(field 'w["detail"]')"
e2e_pass "a unit systemd cannot load: unavailable"

# --- the bus goes away
kill "$bus_pid" && wait "$bus_pid" 2>/dev/null
bus_pid=
wait_for '[ "$(wstate)" = unavailable ] && field "w[\"detail\"]" | grep -q "lost the system bus"' 5 ||
	e2e_die "bus gone: $(field 'w["detail"]')"
e2e_pass "the bus went away: unavailable ($(field 'w["detail"]'))"
kill_fake
e2e_stop_agent
echo PASS
