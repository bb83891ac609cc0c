#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon runs its checks on one loop and logs each transition with its
# cause: a real nginx goes away and comes back; --probe agrees; SIGHUP with a
# broken config keeps the old one; SIGTERM stops cleanly.
set -u
. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/tally.sh"
. "$top_srcdir/tests/lib/probe.sh"
nginx_require

# Run in a network namespace of our own: its loopback ports are ours alone.
probe_own_netns "aachecks$$" "$0"

agent="$top_builddir/anycast-agent"
work=$(mktemp -d "${TMPDIR:-/tmp}/agent-checks.XXXXXX")
port=8080
apid=
cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	nginx_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

tally_on_die() {
	echo "--- agent log:"
	cat "$work/agent.log"
}

# wait_for CMD SECONDS: poll CMD until it succeeds or the deadline passes
wait_for() {
	end=$(($(date +%s%N) / 1000000 + $2 * 1000))
	while ! eval "$1" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -ge "$end" ] && return 1
		sleep 0.02
	done
}

nginx_setup "$work/nginx"
nginx_vhost "127.0.0.1:$port" www.example.test
nginx_start

write_conf() {
	cat >"$work/agent.conf" <<CONF
bird: { socket = "$work/bird.ctl"; state_dir = "$work/state"; };
control: { socket = "$work/agent.ctl"; };
state_file = "$work/state/operator";
metrics_file = "$work/agent.prom";
metrics_interval = 1.0;
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "127.0.0.1:$port";
         expect_body = "www.example.test"; interval = 0.2; timeout = 0.1; rise = 2; fall = 2; };
  plugin: { type = "exec"; command = [ "/usr/lib/nagios/plugins/check_dummy", "0", "fine" ];
            interval = 0.5; };
  $1
};
CONF
}
write_conf ""

"$agent" -f "$work/agent.conf" --probe >"$work/probe.out" 2>&1 ||
	{ cat "$work/probe.out"; die "--probe with nginx up did not exit 0"; }
grep -q '^web .*OK' "$work/probe.out" || die "--probe did not print web OK"

"$agent" -d -f "$work/agent.conf" >"$work/agent.log" 2>&1 &
apid=$!
wait_for "grep -q 'check \"web\": UNKNOWN -> UP' '$work/agent.log'" 5 || die "web never came UP"
wait_for "grep -q 'check \"plugin\": UNKNOWN -> UP' '$work/agent.log'" 5 ||
	die "plugin never came UP"

# the Prometheus textfile: written by the daemon, valid exposition format
wait_for "grep -q 'anycast_agent_check_state{check=.web.,state=.UP.} 1' '$work/agent.prom'" 5 ||
	{ cat "$work/agent.prom"; die "metrics file lacks web's state"; }
# the fleet rules (contrib/prometheus) judge the file's age against the agent's own interval
grep -qx 'anycast_agent_metrics_interval_seconds 1' "$work/agent.prom" ||
	{ cat "$work/agent.prom"; die "metrics file lacks metrics_interval_seconds 1"; }
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$work/agent.prom" || die "promtool rejects the metrics file"
fi

# detection bound for interval 0.2, fast 0.1, timeout 0.1, fall 2:
# 0.2*1.1 + 0.1*1.1 + 3*0.1 + 2/128 = 0.646 s
nginx_stop
t0=$(date +%s%N)
wait_for "grep -q 'check \"web\": UP -> DOWN' '$work/agent.log'" 3 || die "web never went DOWN"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "web DOWN ${ms} ms after nginx had stopped (detection bound 646 ms)"
[ "$ms" -lt 1646 ] || die "DOWN took ${ms} ms, over the bound + 1 s"
grep 'check "web": UP -> DOWN' "$work/agent.log" | grep -q CONNECT_REFUSED ||
	die "the DOWN line does not name the cause (CONNECT_REFUSED)"

"$agent" -f "$work/agent.conf" --probe web >"$work/probe.out" 2>&1
rc=$?
[ $rc = 2 ] || { cat "$work/probe.out"; die "--probe with nginx down exited $rc, not 2"; }

nginx_start
wait_for "grep -q 'check \"web\": DOWN -> UP' '$work/agent.log'" 5 || die "web never came back UP"

# a broken config on SIGHUP: logged with file:line, the old one keeps running
write_conf "broken: { type = \"tcp\"; adress = \"127.0.0.1:1\"; };"
kill -HUP "$apid"
wait_for "grep -q 'reload failed' '$work/agent.log'" 5 || die "broken reload not reported"
grep -q 'agent.conf:[0-9]*: .*adress' "$work/agent.log" || die "reload error lacks file:line"
kill -0 "$apid" || die "agent died on a broken reload"

# a good config: the unchanged checks keep their state (no new UNKNOWN -> UP)
write_conf "extra: { type = \"tcp\"; address = \"127.0.0.1:$port\"; interval = 0.2; };"
kill -HUP "$apid"
wait_for "grep -q 'configuration reloaded' '$work/agent.log'" 5 || die "reload not logged"
grep -q '3 checks (2 kept their state)' "$work/agent.log" || die "reload did not keep 2 checks"
wait_for "grep -q 'check \"extra\": UNKNOWN -> UP' '$work/agent.log'" 5 || die "extra never UP"
[ "$(grep -c 'check "web": UNKNOWN -> UP' "$work/agent.log")" = 1 ] ||
	die "web lost its state on reload"

kill -TERM "$apid"
wait_for "! kill -0 $apid" 3 || die "agent did not stop within 3 s of SIGTERM"
wait "$apid"
rc=$?
apid=
[ $rc = 0 ] || die "agent exited $rc after SIGTERM"
echo "PASS"
