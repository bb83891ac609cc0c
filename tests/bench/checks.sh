#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/bench/checks.sh - benchmark (not a test, not in `make check`) of the check scheduler.
#
# Starts a private nginx and nsd on loopback (tests/lib fixtures), then for each N runs
# `anycast-agent -d -f CONF` with N checks at interval 1 s: half "http" (GET of a 17-byte page
# over plain HTTP via connect_to, a fresh TCP connection per run) and half "dns" (SOA query for
# the zone over UDP, expect NOERROR + AA), or with -m tcp a third each of http, dns and "tcp"
# (connect to nginx). After a warm-up it measures a fixed window:
#   CPU     utime+stime of the agent (/proc/PID/stat) over the window / wall time of the window,
#           in % of one core
#   RSS     peak resident set (VmHWM in /proc/PID/status) at the end of the window; "anon" is
#           RssAnon there (the agent's own memory; the rest is shared library pages)
#   lag     actual minus planned start of every run, from the agent's own SIGTERM line
#           "schedule lag over N runs: p50 X ms, p99 Y ms, max Z ms" (whole life, warm-up included)
#   checks/s  runs counted by that line / the agent's lifetime (checks that have not risen yet
#           run at fast_interval, so this is a little above N at first)
#   load    the machine's 1-minute load average at the end of the window: other work on the
#           machine shows in CPU and lag
# and prints a Markdown table (paste into BENCHMARKS.md).
# With -F it measures the floor instead of the agent: tests/bench/floor.c (built into the temp
# dir with ${CC:-cc}), a minimal libc + epoll client that does the same probes at the same rate
# (N/2 http GETs/s and N/2 dns SOA queries/s, a fresh socket each, 0.5 s timeout) without
# libcurl, c-ares or libuv; its rows read "floor N" and are measured exactly like the agent's
# (its lag is that of its own probe starts, "checks/s" its probes started per second). -o http
# or -o dns runs only that half of the floor's probes (N/2 per second of one kind).
# AGENT_B=path/to/another/anycast-agent runs that agent beside the first, at the same time, with
# the same checks against the same servers; a row each ("N A", "N B"). Both see the same machine,
# so the difference of a pair is steadier than that of runs one after the other: two copies of
# one binary differed by 0.1-0.2 points at 1000 checks, separate runs by up to 1.5.
# FLOOR_ARGS passes options to the floor: -k keeps its UDP sockets between DNS queries (as the
# agent's pooled c-ares channels do), -c makes its GETs with libcurl (what libcurl alone costs),
# -r ends its HTTP connections with a RST, as the agent does.
# -m soa and -m dnssec compare DNS checks alone: every check is "dns" (SOA of the zone over UDP,
# NOERROR + AA), with -m dnssec also expect_dnssec, dnssec_validate and rrsig_warn_days; for both
# nsd serves the zone signed by ldns-signzone (ECDSA P-256 KSK + ZSK, ldnsutils), so they ask the
# same server for the same zone.
#
# Usage: tests/bench/checks.sh [-w WARMUP_S] [-t WINDOW_S] [-r REPEAT] [-m tcp|soa|dnssec]
#                              [-F [-o http|dns]] [N ...]
#   (default: -w 5 -t 30 -r 1, N = 10 100 1000; -r runs each N that many times, a row each)
#   make bench [BENCH_ARGS="-t 60 1000"]
# Needs root only if nginx must drop to nobody; runs as any user otherwise. Environment:
#   AGENT    the anycast-agent binary (default $top_builddir/anycast-agent, else ./build/...)
#   AGENT_B  a second anycast-agent binary, run beside the first (see above)
#   PROFILE  a command that gets the agent's pid appended and runs over the measured window,
#            stopped with SIGINT: PROFILE="perf record -e cpu-clock -g -o /tmp/perf.data -p"
set -u

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
agent=${AGENT:-${top_builddir:-$top_srcdir/build}/anycast-agent}
warmup=5
window=30
mix=dns
repeat=1
floor=
only=
while getopts "w:t:r:m:Fo:h" o; do
	case $o in
	w) warmup=$OPTARG ;;
	r) repeat=$OPTARG ;;
	t) window=$OPTARG ;;
	m) mix=$OPTARG ;;
	F) floor=1 ;;
	o) only=$OPTARG ;;
	*)
		sed -n '3,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- 10 100 1000
case $mix in dns | tcp | soa | dnssec) ;; *)
	echo "checks.sh: -m takes \"tcp\" (add tcp checks), \"soa\" or \"dnssec\" (dns checks" \
		"only, plain or DNSSEC) or \"dns\" (default)" >&2
	exit 2
	;;
esac
case $floor,$mix,$only in 1,dns, | 1,dns,http | 1,dns,dns | ,dns, | ,tcp, | ,soa, | ,dnssec,) ;; *)
	echo "checks.sh: -o takes \"http\" or \"dns\" and needs -F; -F has no -m tcp" >&2
	exit 2
	;;
esac
[ -n "$floor" ] || [ -x "$agent" ] || {
	echo "checks.sh: $agent not found: build first, or set AGENT=path/to/anycast-agent" >&2
	exit 2
}

. "$top_srcdir/tests/lib/nginx.sh"
. "$top_srcdir/tests/lib/nsd.sh"
nginx_require
nsd_available || {
	echo "checks.sh: nsd (Debian package nsd) and /usr/bin/python3 are needed" >&2
	exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-checks.$$.XXXXXX")
pids=() npid=
cleanup() {
	[ ${#pids[@]} -gt 0 ] && kill -9 "${pids[@]}" 2>/dev/null
	[ -n "$npid" ] && kill "$npid" 2>/dev/null
	nginx_cleanup
	nsd_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ -n "$floor" ]; then
	${CC:-cc} -O2 -Wall -Wextra -o "$work/floor" "$top_srcdir/tests/bench/floor.c" -lcurl || {
		echo "checks.sh: cannot build tests/bench/floor.c with ${CC:-cc}: set CC" >&2
		exit 2
	}
fi

# Ports above the ephemeral range (the agent's own connections use that), a few tries in
# case another process holds one.
read -r _ eph_hi </proc/sys/net/ipv4/ip_local_port_range
[ "$eph_hi" -lt 64000 ] && pbase=$((eph_hi + 1)) || pbase=10000
# nsd's response rate limiting (200 qps per /24 by default) answers the excess truncated
# shellcheck disable=SC2034 # NSD_SERVER_OPTS and NSD_BASE are read by tests/lib/nsd.sh
NSD_SERVER_OPTS="	rrl-ratelimit: 0"
for try in 1 2 3 4 5; do
	hport=$((pbase + (RANDOM + $$) % 1000 * 2)) dport=$((hport + 1))
	nginx_setup "$work/nginx"
	nginx_vhost "127.0.0.1:$hport" www.example.test - "access_log off;"
	if nginx_start 2>"$work/start.err"; then
		# shellcheck disable=SC2034
		NSD_BASE=$work/nsd
		nsd_start bench 127.0.0.1 "$dport" 1 2>>"$work/start.err" && break
		nsd_cleanup
	fi
	nginx_cleanup
	[ "$try" = 5 ] && { cat "$work/start.err" >&2; exit 1; }
done
if [ "$mix" = soa ] || [ "$mix" = dnssec ]; then
	command -v ldns-signzone >/dev/null || {
		echo "checks.sh: -m $mix needs ldns-signzone (Debian package ldnsutils)" >&2
		exit 2
	}
	mkdir -p "$work/keys"
	(cd "$work/keys" && ksk=$(ldns-keygen -a ECDSAP256SHA256 -k example.test) &&
		zsk=$(ldns-keygen -a ECDSAP256SHA256 example.test) &&
		nsd_zone_text 2 >"$work/zone" &&
		ldns-signzone -o example.test. -f "$work/zone.signed" "$work/zone" "$ksk" "$zsk") &&
		nsd_serve bench 2 "$work/zone.signed" || {
		echo "checks.sh: cannot sign and serve the zone" >&2
		exit 1
	}
fi

hz=$(getconf CLK_TCK)
now_ns() { date +%s%N; }
# utime + stime in clock ticks: fields 14 and 15, counted after the ")" that ends comm
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

write_conf() { # N DIR
	local n=$1 d=$2 i kinds=2 dnssec=""
	[ "$mix" = tcp ] && kinds=3
	[ "$mix" = soa ] || [ "$mix" = dnssec ] && kinds=1
	[ "$mix" = dnssec ] &&
		dnssec="expect_dnssec = true; dnssec_validate = true; rrsig_warn_days = 7;"
	mkdir -p "$d/state"
	{
		echo "bird: { socket = \"$d/bird.ctl\"; state_dir = \"$d/state\"; };"
		echo "control: { socket = \"$d/agent.ctl\"; };"
		echo "state_file = \"$d/state/operator\";"
		echo "checks: {"
		for ((i = 0; i < n; i++)); do
			case $((i % kinds + (kinds == 1))) in
			0) echo "  h$i: { type = \"http\"; url = \"http://www.example.test/\";" \
				"connect_to = \"127.0.0.1:$hport\"; expect_body = \"www.example.test\";" \
				"interval = 1.0; timeout = 0.5; };" ;;
			1) echo "  d$i: { type = \"dns\"; server = \"127.0.0.1\"; port = $dport;" \
				"transport = \"udp\"; qname = \"example.test.\"; qtype = \"SOA\";" \
				"expect_rcode = \"NOERROR\"; expect_authoritative = true; $dnssec" \
				"interval = 1.0; timeout = 0.5; };" ;;
			2) echo "  t$i: { type = \"tcp\"; address = \"127.0.0.1:$hport\";" \
				"interval = 1.0; timeout = 0.5; };" ;;
			esac
		done
		echo "};"
	} >"$d/agent.conf"
}

# wait_for CMD SECONDS: poll until CMD succeeds or the deadline passes
wait_for() {
	local end=$(($(now_ns) / 1000000 + $2 * 1000))
	while ! eval "$1" >/dev/null 2>&1; do
		[ $(($(now_ns) / 1000000)) -ge "$end" ] && return 1
		sleep 0.05
	done
}

# A stand-in for systemd: the agent runs as the shipped unit runs it (Type=notify,
# WatchdogSec=10), so its STATUS= and WATCHDOG=1 work is in the numbers.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    s.recv(4096)' "$work/notify.sock" &
npid=$!
wait_for "test -S '$work/notify.sock'" 5 || {
	echo "checks.sh: the stand-in for systemd's notify socket did not start" >&2
	exit 1
}

model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "machine: $(nproc) CPUs, ${model:-unknown CPU}, Linux $(uname -r)"
if [ -n "$floor" ]; then
	echo "floor:   $work/floor ${FLOOR_ARGS:+$FLOOR_ARGS }(tests/bench/floor.c: libc + epoll, no agent)"
else
	echo "agent:   $agent ($("$agent" -V 2>&1 | head -1))"
	[ -n "${AGENT_B:-}" ] && echo "agent B: $AGENT_B ($("$AGENT_B" -V 2>&1 | head -1)), at the same time"
fi
if [ -n "$only" ]; then
	echo "checks:  only the $only half: N/2 $only probes/s (fresh socket each), timeout 0.5 s"
elif [ "$mix" = soa ]; then
	echo "checks:  dns SOA over UDP (the zone signed, asked without DO); interval 1 s, timeout 0.5 s"
elif [ "$mix" = dnssec ]; then
	echo "checks:  dns SOA over UDP with expect_dnssec, dnssec_validate, rrsig_warn_days 7" \
		"(DO, then DNSKEY); interval 1 s, timeout 0.5 s"
elif [ "$mix" = tcp ]; then
	echo "checks:  1/3 http GET (plain HTTP, fresh connection), 1/3 dns SOA over UDP," \
		"1/3 tcp connect; interval 1 s, timeout 0.5 s"
else
	echo "checks:  1/2 http GET (plain HTTP, fresh connection), 1/2 dns SOA over UDP;" \
		"interval 1 s, timeout 0.5 s"
fi
echo "servers: nginx 127.0.0.1:$hport, nsd 127.0.0.1:$dport; warm-up ${warmup} s," \
	"measured window ${window} s"
echo

rows=()
fail=0
for n in "$@"; do
	for ((rep = 0; rep < repeat; rep++)); do
		pids=() logs=() labels=()
		if [ -n "$floor" ]; then
			# the agent's split: h on even i, d on odd i; -t 0: until SIGTERM
			nh=$(((n + 1) / 2)) nd=$((n / 2)) label="floor${FLOOR_ARGS:+ $FLOOR_ARGS} $n"
			case $only in http) nd=0 label="$label (http only)" ;;
			dns) nh=0 label="$label (dns only)" ;;
			esac
			mkdir -p "$work/a0"
			# shellcheck disable=SC2086 # FLOOR_ARGS: options, split on purpose
			"$work/floor" ${FLOOR_ARGS:-} -H "$nh" -D "$nd" -t 0 -p "$hport" -d "$dport" \
				>"$work/a0/agent.log" 2>&1 &
			pids+=($!) logs+=("$work/a0/agent.log") labels+=("$label")
		else
			bins=("$agent")
			[ -n "${AGENT_B:-}" ] && bins+=("$AGENT_B")
			for k in "${!bins[@]}"; do
				write_conf "$n" "$work/a$k"
				NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=10000000 \
					"${bins[$k]}" -d -f "$work/a$k/agent.conf" >"$work/a$k/agent.log" 2>&1 &
				pids+=($!) logs+=("$work/a$k/agent.log")
				if [ ${#bins[@]} -gt 1 ]; then
					labels+=("$n $([ "$k" = 0 ] && echo A || echo B)")
				else
					labels+=("$n")
				fi
			done
		fi
		t_start=$(now_ns)
		for k in "${!pids[@]}"; do
			if [ -z "$floor" ] &&
				! wait_for "grep -q 'starting: $n checks' '${logs[$k]}'" 10; then
				echo "checks.sh: the agent did not start with $n checks; its log:" >&2
				cat "${logs[$k]}" >&2
				exit 1
			fi
		done
		sleep "$warmup"
		c0=() c1=() hwm=() anon=()
		for k in "${!pids[@]}"; do c0+=("$(cpu_ticks "${pids[$k]}")"); done
		w0=$(now_ns)
		ppid=
		if [ -n "${PROFILE:-}" ]; then
			# e.g. PROFILE="perf record -e cpu-clock -g -o perf.data -p": runs over the window
			$PROFILE "${pids[0]}" >"$work/profile.log" 2>&1 &
			ppid=$!
		fi
		sleep "$window"
		[ -n "$ppid" ] && kill -INT "$ppid" && wait "$ppid"
		for k in "${!pids[@]}"; do
			if ! kill -0 "${pids[$k]}" 2>/dev/null; then
				echo "checks.sh: ${labels[$k]} ended during the window; its log:" >&2
				tail -5 "${logs[$k]}" >&2
				exit 1
			fi
			c1+=("$(cpu_ticks "${pids[$k]}")")
			hwm+=("$(hwm_kb "${pids[$k]}")") anon+=("$(anon_kb "${pids[$k]}")")
		done
		w1=$(now_ns)
		load=$(cut -d' ' -f1 /proc/loadavg)
		kill -TERM "${pids[@]}"
		for k in "${!pids[@]}"; do
			wait "${pids[$k]}"
			rc=$?
			t_end=$(now_ns)
			log=${logs[$k]} label=${labels[$k]}
			lag=$(grep -o 'schedule lag over .*' "$log")
			[ "$rc" = 0 ] && [ -n "$lag" ] || {
				echo "checks.sh: $label exited $rc or printed no lag line; its log:" >&2
				tail -20 "$log" >&2
				exit 1
			}
			if [ -n "$floor" ]; then
				failures=$(awk '/^failures:/ { print $2 }' "$log")
				[ "$failures" = 0 ] || {
					echo "WARNING: $label: ${failures:-?} probes failed:"
					cat "$log"
					fail=1
				}
				grep "^floor:\\|^cpu:" "$log" >&2
			else
				up=$(grep -c -- '-> UP' "$log")
				down=$(grep -c -- '-> DOWN' "$log")
				[ "$up" = "$n" ] && [ "$down" = 0 ] || {
					echo "WARNING: $label: $up of $n checks came UP, $down went DOWN; first failures:"
					grep -- '-> DOWN\|fail' "$log" | head -5
					fail=1
				}
			fi
			read -r runs p50 p99 max <<<"$(echo "$lag" |
				sed -E 's/.*over ([0-9]+) runs: p50 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+) ms.*/\1 \2 \3 \4/')"
			rows+=("$(awk -v n="$label" -v runs="$runs" -v life=$((t_end - t_start)) \
				-v dc=$((c1[k] - c0[k])) -v hz="$hz" -v dw=$((w1 - w0)) -v hwm="${hwm[$k]}" \
				-v p50="$p50" -v p99="$p99" -v max="$max" -v anon="${anon[$k]}" -v load="$load" \
				'BEGIN { printf "| %s | %.0f | %.1f | %.1f | %s | %s | %s | %.1f | %s |", n,
				         runs / (life / 1e9), 100 * dc / hz / (dw / 1e9), hwm / 1024, p50, p99, max,
				         anon / 1024, load }')")
			if [ -n "$floor" ]; then
				echo "$label done: $lag; $failures failures" >&2
			else
				echo "$label done: $lag; $up UP, $down DOWN" >&2
			fi
		done
		pids=()
	done
done

echo "| checks | checks/s | CPU % of one core | peak RSS MB | lag p50 ms | lag p99 ms |" \
	"lag max ms | anon RSS MB | load |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit $fail
