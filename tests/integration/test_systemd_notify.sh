#!/bin/sh
# SPDX-License-Identifier: ISC
# test_systemd_notify.sh - what systemd hears from the real daemon, through a fake systemd
# (tests/integration/notify_listen on $NOTIFY_SOCKET) and a real BIRD 2:
#   READY=1 only after the first reconcile with BIRD (STATUS says BIRD connected and in sync);
#   STATUS= follows the announcement (announced once the check has risen);
#   WATCHDOG=1 from the start, at $WATCHDOG_USEC/2, every datagram from the agent's own pid;
#   SIGHUP: RELOADING=1 (with MONOTONIC_USEC) then READY=1, also when the new config is broken;
#   SIGTERM: STOPPING=1, then no more WATCHDOG=1, exit 0;
#   BIRD unreachable: READY=1 anyway once the first reconcile times out, so systemd does not
#   kill an agent that is up and reporting CRITICAL.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/bird.sh"
. "$top_srcdir/tests/lib/tally.sh"
agent=$top_builddir/anycast-agent
listen=$top_builddir/tests/integration/notify_listen
[ -x "$listen" ] || {
	echo "SKIP: $listen not built (make check builds it)"
	exit 77
}

apid= lpid=
cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null
	wait 2>/dev/null
	bird_fixture_cleanup
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
bird_fixture_need 2
dir=$BIRD_FIXTURE_DIR/notify
mkdir -p "$dir/state"
cat >"$dir/bird.conf" <<CONF
router id 192.0.2.1;
log "$dir/bird.log" all;
protocol device { }
protocol static anycast_web4 {
	disabled yes;
	include "$dir/state/anycast_web4.con[f]";
	ipv4;
	route 192.0.2.80/32 unreachable;
}
CONF
# as bird.service's anycast-agent --init does: the decision file before BIRD reads it
printf 'description "anycast-agent decision %s";\ndisabled yes;\n' "$dir/state/anycast_web4.conf" \
	>"$dir/state/anycast_web4.conf"
bird_start "$dir" 2 || exit 1

tally_on_die() {
	echo "--- notifications"
	cat "$dir/notify.log"
	echo "--- agent log"
	cat "$dir/agent.log"
}
# poll SECONDS CMD...: until CMD succeeds or the deadline passes
poll() { bird_poll "$@"; }
# the payloads only, in order
payloads() { cut -d' ' -f3- "$dir/notify.log"; }
has() { payloads | grep -q -- "$1"; }
# line number of the first payload matching $1 after line $2 (0 if none)
first_after() { payloads | awk -v re="$1" -v from="$2" 'NR > from && $0 ~ re { print NR; exit }'; }
count() { payloads | grep -c -- "$1"; }

write_conf() { # BIRD_SOCKET
	cat >"$dir/agent.conf" <<CONF
bird: { socket = "$1"; state_dir = "$dir/state"; timeout = 0.5; reconcile_interval = 0.5; };
control: { socket = "$dir/agent.ctl"; };
state_file = "$dir/operator.state";
checks: {
  ok: { type = "exec"; command = [ "/bin/true" ]; interval = 0.2; timeout = 0.2; rise = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; requires = [ "ok" ]; prefixes = [ "192.0.2.80/32" ]; };
};
CONF
}
start() { # start the listener and the agent with systemd's environment
	: >"$dir/notify.log"
	"$listen" "$dir/notify" >"$dir/notify.log" 2>&1 &
	lpid=$!
	poll 5 test -S "$dir/notify" || die "notify_listen did not bind $dir/notify"
	NOTIFY_SOCKET=$dir/notify WATCHDOG_USEC=1000000 "$agent" -d -f "$dir/agent.conf" \
		>"$dir/agent.log" 2>&1 &
	apid=$!
}
stop() {
	kill -TERM "$apid"
	wait "$apid"
	rc=$?
	apid=
	kill "$lpid"
	wait "$lpid"
	lpid=
	return $rc
}

# --- start, READY, STATUS, WATCHDOG --------------------------------------------------------
write_conf "$dir/bird.ctl"
start
poll 10 has '^READY=1$' || die "no READY=1 within 10 s"
ready=$(first_after '^READY=1$' 0)
pre=$(payloads | head -n $((ready - 1)))
printf '%s\n' "$pre" | grep -q '^STATUS=starting' || fail "no STATUS=starting before READY=1"
printf '%s\n' "$pre" | grep -q '^WATCHDOG=1$' || fail "no WATCHDOG=1 before READY=1"
# the STATUS right after READY=1 shows the reconcile READY waited for
after=$(payloads | sed -n "$((ready + 1))p")
printf '%s\n' "$after" | grep -q '^STATUS=ANYCAST ' &&
	! printf '%s\n' "$after" | grep -q 'not connected' &&
	pass "READY=1 after the first reconcile, then STATUS: $after" ||
	fail "STATUS after READY=1 is not a summary with BIRD connected: $after"
poll 10 has '^STATUS=ANYCAST OK - 1/1 announced' || die "STATUS never said 'ANYCAST OK - 1/1 announced'"
pass "STATUS follows the announcement: $(payloads | grep '^STATUS=ANYCAST OK' | head -n 1)"

poll 10 sh -c "[ \$(cut -d' ' -f3- '$dir/notify.log' | grep -c '^WATCHDOG=1\$') -ge 5 ]" ||
	die "fewer than 5 WATCHDOG=1 within 10 s"
gaps=$(awk '$3 == "WATCHDOG=1" { if (t) printf "%.2f\n", $1 - t; t = $1 }' "$dir/notify.log")
worst=$(printf '%s\n' "$gaps" | sort -n | tail -n 1)
awk "BEGIN { exit !($worst < 0.9) }" &&
	pass "WATCHDOG=1 every $(printf '%s\n' "$gaps" | sort -n | sed -n 2p) s, worst gap $worst s (WATCHDOG_USEC=1 s)" ||
	fail "WATCHDOG=1 gap $worst s exceeds WATCHDOG_USEC/2 + slack (0.9 s)"
awk -v pid="$apid" '$2 != pid { bad = 1 } END { exit bad }' "$dir/notify.log" &&
	pass "every datagram from the agent's own pid $apid (NotifyAccess=main)" ||
	fail "a datagram from another pid than the agent ($apid)"

# --- reload ---------------------------------------------------------------------------------
for cfg in good broken; do
	[ $cfg = broken ] && echo 'checks: { ok: { type = "nonsense"; }; };' >>"$dir/agent.conf"
	mark=$(payloads | wc -l)
	kill -HUP "$apid"
	poll 5 sh -c "cut -d' ' -f3- '$dir/notify.log' | tail -n +$((mark + 1)) | grep -q '^READY=1\$'" ||
		die "no READY=1 after SIGHUP ($cfg config)"
	r=$(first_after '^RELOADING=1[|]MONOTONIC_USEC=[0-9]+$' "$mark")
	d=$(first_after '^READY=1$' "$mark")
	[ -n "$r" ] && [ "$r" -lt "$d" ] &&
		pass "SIGHUP ($cfg config): RELOADING=1|MONOTONIC_USEC=... then READY=1" ||
		fail "SIGHUP ($cfg config): no RELOADING=1 with MONOTONIC_USEC before READY=1"
done
kill -0 "$apid" || die "the agent died on a broken reload"
grep -q "reload failed" "$dir/agent.log" || fail "the broken reload was not logged"

# --- stop -----------------------------------------------------------------------------------
mark=$(payloads | wc -l)
stop
rc=$?
[ $rc = 0 ] || fail "agent exited $rc on SIGTERM"
s=$(first_after '^STOPPING=1$' "$mark")
[ -n "$s" ] || die "no STOPPING=1 after SIGTERM"
payloads | tail -n +$((s + 1)) | grep -q '^WATCHDOG=1$' && fail "WATCHDOG=1 after STOPPING=1" ||
	pass "SIGTERM: STOPPING=1, $(payloads | tail -n +$((s + 1)) | tr '\n' ' ')no WATCHDOG after, exit 0"

# --- BIRD unreachable ------------------------------------------------------------------------
write_conf "$dir/nonexistent.ctl"
start
# the first reconcile times out after 3 * bird.timeout + 1 = 2.5 s
poll 10 has '^READY=1$' || die "no READY=1 with BIRD unreachable"
grep -q "did not confirm the first reconcile" "$dir/agent.log" ||
	fail "the unreachable BIRD at start was not logged"
poll 5 has 'ANYCAST CRITICAL - BIRD socket default not connected' &&
	pass "BIRD unreachable: READY=1 anyway, STATUS: $(payloads | grep 'not connected' | tail -n 1)" ||
	fail "STATUS does not say the BIRD socket is not connected"
stop

tally_end "systemd notifications"
