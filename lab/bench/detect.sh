#!/bin/bash
# SPDX-License-Identifier: ISC
# detect.sh - benchmark: detection-to-withdraw latency at the upstream peer.
#
#   sudo top_builddir=build lab/bench/detect.sh [TRIALS]      (default 30 trials; not in make check)
#   sudo top_builddir=build BENCH_BIRDS="2.0.12 2.17 3.1" lab/bench/detect.sh [TRIALS]
#       the same with each BIRD version in turn as the PoP's BIRD (2.17 and 3.1: Debian 13's,
#       from tests/lib/bird-root.sh), then the versions side by side. The upstream stays this
#       machine's BIRD 2.0.12: its kernel is the clock, and BIRD 3.1.8's kernel protocol was seen
#       to leave a route out of the FIB that BIRD had re-learned a second after a withdraw
#       (BIRD said "exported", `ip route` had nothing for over 5 s; once in 14 to 27 trials).
#
# One PoP (BIRD + anycast-agent + nginx) and one upstream BIRD in network namespaces
# (tests/lib/topo.sh). The web check runs with interval 1 s, fall 2, timeout 0.5 s (rise 2,
# hold_down 0, damping off so trials do not interact). Each trial waits until the route is
# announced, waits a random phase in [0, 1) s against the check schedule, stops nginx (SIGTERM
# to its master) and records three wall-clock times:
#   t_stop     just before the kill                       (this script, $EPOCHREALTIME)
#   t_verdict  the agent's `check "web": UP -> DOWN` line (the agent's stderr is read line by line
#              as it is written and stamped with $EPOCHREALTIME: the agent's log has no clock;
#              a stamp can only be late, so the overhead below can only be under-, never
#              over-estimated by the pipe's delay, which is microseconds)
#   t_gone     the upstream's kernel deleting 192.0.2.80/32 (`ip -ts monitor route` in the
#              upstream namespace: BIRD there removes the route from its FIB when the BGP
#              withdraw arrives - what the Internet sees, with the kernel's timestamp, no polling)
# and reports detection (t_verdict - t_stop), total (t_gone - t_stop) and the agent's overhead
# above the check-side detection (t_gone - t_verdict: engine, sync, BIRD command, BGP UPDATE,
# upstream BIRD) as p50 / p99 / max, next to the documented detection bound (engine.h,
# engine_detection_bound()).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
. "$top_srcdir/tests/lib/topo.sh"
. "$top_srcdir/tests/lib/nginx.sh"
TRIALS=${1:-30}
INTERVAL=1.0 FALL=2 TIMEOUT=0.5 RISE=2

if [ -n "${BENCH_BIRDS:-}" ]; then
	raw=$(mktemp -d "${TMPDIR:-/tmp}/detect-birds.XXXXXX") || exit 1
	trap 'rm -rf "$raw"' EXIT
	for b in $BENCH_BIRDS; do
		echo "=== BIRD $b"
		BENCH_BIRDS= DETECT_BIRD=$b DETECT_RAW=$raw/$b bash "$0" "$TRIALS" || exit 1
		echo
	done
	/usr/bin/python3 - "$raw" $BENCH_BIRDS <<'PY'
import json, math, sys
def q(xs, p):
    s = sorted(xs)
    return s[max(0, math.ceil(p * len(s)) - 1)] * 1e3
rows = [("detection: nginx stopped -> agent DOWN", "det"),
        ("overhead: agent DOWN -> route gone at peer", "over"),
        ("agent DOWN -> BIRD confirmed the disable", "inside"),
        ("BIRD `disable` command round trip", "cmds")]
runs = [(b, json.load(open("%s/%s" % (sys.argv[1], b)))) for b in sys.argv[2:]]
print("| %-44s |" % "ms, p50 / p99" + "".join(" %-17s |" % ("BIRD " + r["version"]) for _, r in runs))
print("|%s|" % ("-" * 46) + "".join("%s|" % ("-" * 19) for _ in runs))
for name, key in rows:
    print("| %-44s |" % name + "".join(" %7.1f / %7.1f |" % (q(r[key], .5), q(r[key], .99))
                                         if r[key] else " %17s |" % "-" for _, r in runs))
print("trials per version: " + ", ".join("%s %d" % (r["version"], len(r["over"])) for _, r in runs))
PY
	exit
fi
P4=192.0.2.80/32
agent=$top_builddir/anycast-agent
[ -x "$agent" ] || {
	echo "no $agent: build first (top_builddir=...)"
	exit 1
}
topo_require || exit 77
nginx_require
[ -x /usr/bin/python3 ] || {
	echo "SKIP: /usr/bin/python3 needed for the statistics (Debian package python3)"
	exit 77
}

topo_init "bdet$$" || exit 1
work=$TOPO_DIR/bench
mkdir -p "$work"
apid= mpid=
stop_all() {
	[ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null
	nginx_cleanup
}
topo_on_cleanup stop_all
topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_link pop1 up1 || exit 1
# DETECT_BIRD: the PoP's BIRD (2.0.12, this machine's, by default; 2.17 or 3.1)
pop_bird=${TOPO_BIRD_VERSION}
case ${DETECT_BIRD:-2.0.12} in
2.0.12) ;;
2.17 | 3.1)
	root=$("$top_srcdir/tests/lib/bird-root.sh") || exit 1
	sbin=/usr/sbin
	[ "$DETECT_BIRD" = 2.17 ] && sbin=/opt/bird2/usr/sbin
	topo_node_bird pop1 "$root" "$sbin/bird" "$sbin/birdc" || exit 1
	pop_bird=$(chroot "$root" "$sbin/bird" --version 2>&1 | sed -n 's/^BIRD version //p')
	;;
*)
	echo "DETECT_BIRD=$DETECT_BIRD: use 2.0.12, 2.17 or 3.1"
	exit 1
	;;
esac
topo_start || exit 1
topo_wait_established 30 || exit 1
nginx_setup "$work/nginx"
nginx_vhost "192.0.2.80:80" www.example.test
nginx_start "$(topo_ns pop1)" || exit 1

cat >"$work/agent.conf" <<CONF
bird: { socket = "$(topo_socket pop1)"; state_dir = "$(topo_state_dir pop1)"; };
control: { socket = "$work/agent.ctl"; };
state_file = "$work/operator.state";
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = $INTERVAL; timeout = $TIMEOUT; rise = $RISE; fall = $FALL; };
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; requires = [ "web" ]; prefixes = [ "$P4" ];
         hold_down = 0; damp_max_suppress = 0; };
};
CONF

# the effective fast_interval (it defaults from interval and timeout) for the bound
FAST=$("$agent" -n -v -f "$work/agent.conf" 2>&1 | sed -n 's/^[[:space:]]*fast_interval = \([0-9.]*\);/\1/p')
[ -n "$FAST" ] || {
	echo "cannot read fast_interval from anycast-agent -n -v"
	exit 1
}

stamp() { while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
ip -n "$(topo_ns up1)" -ts monitor route >"$work/monitor.log" 2>&1 &
mpid=$!
ip netns exec "$(topo_ns pop1)" "$agent" -d -f "$work/agent.conf" > >(stamp >"$work/agent.log") 2>&1 &
apid=$!

kernel_has() { [ -n "$(ip -n "$(topo_ns up1)" route show "$P4" 2>/dev/null)" ]; }
: >"$work/trials"
for ((i = 1; i <= TRIALS; i++)); do
	topo_wait_for kernel_has 15 || exit 1
	# run a check or two in the announced state, then stop at a random phase of the schedule
	sleep "$(awk -v r="$RANDOM" -v i="$INTERVAL" 'BEGIN { printf "%.3f", 1.5 * i + r / 32768 * i }')"
	t_stop=$EPOCHREALTIME
	kill -TERM "$NGINX_PID"
	echo "$t_stop" >>"$work/trials"
	topo_wait_for "! kernel_has" 10 || exit 1
	nginx_stop
	nginx_start "$(topo_ns pop1)" || exit 1
	printf '.'
done
echo
topo_wait_for kernel_has 15
kill "$mpid"
mpid=

echo "the PoP runs BIRD $pop_bird, the upstream BIRD $TOPO_BIRD_VERSION"
/usr/bin/python3 - "$work/trials" "$work/agent.log" "$work/monitor.log" "$INTERVAL" "$FALL" \
	"$TIMEOUT" "$FAST" "${DETECT_RAW:-}" "$pop_bird" <<'PY'
import datetime, json, math, re, sys
trials = [float(l) for l in open(sys.argv[1])]
verdicts, confirmed, cmds = [], [], []
for l in open(sys.argv[2]):
    t, _, text = l.partition(" ")
    if 'check "web": UP -> DOWN' in text:
        verdicts.append(float(t))
    m = re.search(r"disabled anycast_web4 \(([0-9.]+) ms\)", text)
    if m:
        cmds.append(float(m.group(1)))
        confirmed.append(float(t))
gone = []
for l in open(sys.argv[3]):
    m = re.match(r"\[([0-9T:.-]+)\] Deleted 192\.0\.2\.80 ", l)
    if m:
        gone.append(datetime.datetime.fromisoformat(m.group(1)).timestamp())
interval, fall, timeout = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
J = 0.1  # ENGINE_JITTER
fast = float(sys.argv[7])  # effective fast_interval (default max(timeout, interval / 2))
TICK = 1 / 128  # 1 / ENGINE_TICK_HZ
bound = max(interval, fast) * (1 + J) + (fall - 1) * fast * (1 + J) + (fall + 1) * timeout + fall * TICK
det, tot, over, inside = [], [], [], []
for t0 in trials:
    v = min((x for x in verdicts if x >= t0), default=None)
    g = min((x for x in gone if x >= t0), default=None)
    if v is None or g is None:
        sys.exit("trial at %.6f: no verdict or no deletion found" % t0)
    c = min((x for x in confirmed if x >= v), default=None)
    det.append(v - t0); tot.append(g - t0); over.append(g - v)
    if c is not None:
        inside.append(c - v)
def q(xs, p):  # nearest-rank percentile
    s = sorted(xs)
    return s[max(0, math.ceil(p * len(s)) - 1)]
def row(name, xs):
    print("| %-44s | %8.1f | %8.1f | %8.1f |" % (name, q(xs, .5) * 1e3, q(xs, .99) * 1e3, max(xs) * 1e3))
print("trials: %d (interval %.1f s, fall %d, timeout %.1f s, fast_interval %.2f s by default)" %
      (len(trials), interval, fall, timeout, fast))
print("documented detection bound: %.0f ms (engine.h: max(interval, fast)(1+J) + (fall-1) fast (1+J)"
      " + (fall+1) timeout + fall / 128, J = %.1f)" % (bound * 1e3, J))
print()
print("| %-44s | %8s | %8s | %8s |" % ("ms", "p50", "p99", "max"))
print("|%s|%s|%s|%s|" % ("-" * 46, "-" * 10, "-" * 10, "-" * 10))
row("detection: nginx stopped -> agent DOWN", det)
row("total: nginx stopped -> route gone at peer", tot)
row("overhead: agent DOWN -> route gone at peer", over)
if inside:
    row("agent DOWN -> BIRD confirmed the disable", inside)
if cmds:
    row("BIRD `disable` command round trip", [c / 1e3 for c in cmds])
print()
print("within the bound + 1 s: %d/%d; overhead p99 %.1f ms (goal < 50 ms): %s" %
      (sum(1 for x in tot if x <= bound + 1), len(tot), q(over, .99) * 1e3,
       "met" if q(over, .99) < 0.05 else "NOT met"))
if sys.argv[8]:  # the samples, for BENCH_BIRDS's side-by-side table (seconds)
    json.dump({"version": sys.argv[9], "det": det, "over": over, "inside": inside,
               "cmds": [c / 1e3 for c in cmds]}, open(sys.argv[8], "w"))
PY
