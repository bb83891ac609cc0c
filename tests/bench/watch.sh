#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/bench/watch.sh - benchmark (not a test, not in `make check`) of the death watches' cost.
#
# In a network namespace of its own: N services, each a sleeping process with a pidfile, a
# listening TCP socket on 127.0.0.1 (one Python process holds them all) and, on a private
# dbus-daemon, a unit of tests/integration/fake_systemd1 ("active"). The agent has N tcp checks
# at interval 3600 s (their probes cost next to nothing in the window), each with watch_pidfile,
# watch_listen and watch_unit: 3N watches.
#   idle    the agent's CPU (utime+stime, /proc/PID/stat) over WINDOW s when nothing happens
#   churn   the same while loadgen opens and closes CHURN connections a second to a private
#           nginx on 127.0.0.1:8080 in the namespace (every one of their sockets is destroyed
#           while the agent listens for socket-destroy notifications, filtered by its BPF
#           program); beside it the CPU of nginx + loadgen and of the kernel's workqueue threads
#           (kworker/*: sock_diag sends the notifications from one), with the agent's listen
#           watches and without them (the same agent, watch_listen left out), alternately.
# Prints a Markdown table (BENCHMARKS.md, "Death watches").
#
# Usage (root, a built tree): tests/bench/watch.sh [-n SERVICES] [-t WINDOW_S] [-c CHURN] [-r REPEAT]
#   defaults: -n 100 -t 60 -c 2000 -r 3. Run it under the shared heavy lock.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
. "$top_srcdir/tests/lib/nginx.sh"
n=100 window=60 churn=2000 repeat=3
while getopts "n:t:c:r:" o; do
	case $o in
	n) n=$OPTARG ;;
	t) window=$OPTARG ;;
	c) churn=$OPTARG ;;
	r) repeat=$OPTARG ;;
	*) exit 2 ;;
	esac
done
agent=$top_builddir/anycast-agent
fake=$top_builddir/tests/integration/fake_systemd1
loadgen=$top_builddir/tests/integration/loadgen
for b in "$agent" "$fake" "$loadgen"; do
	[ -x "$b" ] || {
		echo "bench: $b not built (make check builds the test programs)" >&2
		exit 1
	}
done
[ "$(id -u)" = 0 ] || {
	echo "bench: run as root (a network namespace)" >&2
	exit 1
}
work=$(mktemp -d /tmp/bench-watch.XXXXXX)
chmod 755 "$work"
ns=bwatch$$
pids=()
cleanup() {
	[ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null
	wait 2>/dev/null
	nginx_cleanup
	ip netns del "$ns" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1
clk=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU ticks of every kworker thread of the host
kworkers() {
	local t=0 f
	for f in /proc/[0-9]*/stat; do
		read -r line <"$f" 2>/dev/null || continue
		case $line in *"(kworker/"*) t=$((t + $(echo "$line" | awk '{ print $14 + $15 }'))) ;; esac
	done
	echo $t
}
pct() { awk -v a="$1" -v b="$2" -v k="$clk" -v s="$3" 'BEGIN { printf "%.3f", (b - a) / k / s * 100 }'; }

# --- the services
mkdir -p "$work/run"
for ((i = 0; i < n; i++)); do
	sleep 1000000 &
	pids+=($!)
	echo $! >"$work/run/svc$i.pid"
done
ip netns exec "$ns" /usr/bin/python3 -c '
import socket, sys, time
socks = []
for i in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 20000 + i)); s.listen(); socks.append(s)
print("ok", flush=True)
time.sleep(10**7)' "$n" >"$work/listen.out" &
pids+=($!)
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/bus
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=$work/bus</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/>
<allow receive_sender="*"/></policy></busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile &
pids+=($!)
for ((k = 0; k < 100; k++)); do [ -S "$work/bus" ] && break; sleep 0.05; done
mkfifo "$work/fake.in"
"$fake" <"$work/fake.in" >"$work/fake.out" &
pids+=($!)
exec 5>"$work/fake.in"
for ((i = 0; i < n; i++)); do echo "set svc$i.service active running" >&5; done
nginx_setup "$work/nginx"
nginx_vhost "127.0.0.1:8080" churn
nginx_start "$ns" || exit 1
for ((k = 0; k < 100; k++)); do [ -s "$work/listen.out" ] && break; sleep 0.05; done

# conf WITH_LISTEN
conf() {
	echo "bird: { socket = \"$work/no-bird.ctl\"; state_dir = \"$work/state\"; };"
	echo "control: { socket = \"$work/agent.ctl\"; };"
	echo "state_file = \"$work/op.state\";"
	echo "checks: {"
	for ((i = 0; i < n; i++)); do
		echo "  s$i: { type = \"tcp\"; address = \"127.0.0.1:$((20000 + i))\"; interval = 3600;"
		echo "        timeout = 1; watch_pidfile = \"$work/run/svc$i.pid\"; watch_unit = \"svc$i\";"
		[ "$1" = 1 ] && echo "        watch_listen = \"127.0.0.1:$((20000 + i))\";"
		echo "  };"
	done
	echo "};"
}
conf 1 >"$work/with.conf"
conf 0 >"$work/without.conf"
mkdir -p "$work/state"

# run CONF CHURN: one window; prints "agent% churn% kworker% alive"
run() {
	local apid lpid a0 a1 c0 c1 k0 k1 t0 t1 secs alive
	ip netns exec "$ns" "$agent" -d -f "$1" >"$work/agent.log" 2>&1 &
	apid=$!
	sleep 10 # warm-up: watches set up, first verdicts
	alive=$(grep -c "unavailable\|SERVICE_DEAD" "$work/agent.log")
	lpid=
	if [ "$2" = 1 ]; then
		ip netns exec "$ns" "$loadgen" -H 127.0.0.1:8080 -r "$churn" -t 1000 >"$work/lg.out" &
		lpid=$!
		sleep 2
	fi
	churn_ticks() {
		local t=0 p
		for p in $(ip netns pids "$ns"); do
			case $(cat "/proc/$p/comm" 2>/dev/null) in nginx | loadgen) t=$((t + $(ticks "$p"))) ;; esac
		done
		echo $t
	}
	a0=$(ticks "$apid") c0=$(churn_ticks) k0=$(kworkers) t0=${EPOCHREALTIME/./}
	sleep "$window"
	a1=$(ticks "$apid") c1=$(churn_ticks) k1=$(kworkers) t1=${EPOCHREALTIME/./}
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e6 }')
	[ -n "$lpid" ] && kill "$lpid" && wait "$lpid" 2>/dev/null
	kill "$apid" && wait "$apid" 2>/dev/null
	cp "$work/agent.log" "${BENCH_LOG:-/dev/null}"
	echo "$(pct "$a0" "$a1" "$secs") $(pct "$c0" "$c1" "$secs") $(pct "$k0" "$k1" "$secs") $alive"
}

echo "| watches | load | agent CPU % | nginx+loadgen CPU % | kworker CPU % | problems at start | load avg |"
echo "|---|---|---:|---:|---:|---:|---:|"
for ((r = 1; r <= repeat; r++)); do
	read -r a c k p <<<"$(run "$work/with.conf" 0)"
	echo "| $((3 * n)) (pidfile, unit, listen) | idle | $a | - | $k | $p | $(cut -d' ' -f1 /proc/loadavg) |"
	read -r a c k p <<<"$(run "$work/with.conf" 1)"
	echo "| $((3 * n)) (pidfile, unit, listen) | $churn conn/s | $a | $c | $k | $p | $(cut -d' ' -f1 /proc/loadavg) |"
	read -r a c k p <<<"$(run "$work/without.conf" 1)"
	echo "| $((2 * n)) (pidfile, unit) | $churn conn/s | $a | $c | $k | $p | $(cut -d' ' -f1 /proc/loadavg) |"
done
