#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_planned_stop.sh - the planned stop of contrib/nginx-anycast-drain.conf, end to end:
# two PoPs behind one upstream (BIRD), each with nginx on 192.0.2.80, PoP 1 preferred (MED) and
# driven by the agent, PoP 2 announcing statically; a client behind the upstream sends 500 GETs a
# second over fresh connections (tests/integration/loadgen) all along. The drop-in's ExecStop=
# lines run as systemd would run them, with this test's paths:
#   - `anycastctl drain web --wait` returns 0 once BIRD confirmed the withdraw, after drain_time;
#     by then the upstream holds only PoP 2's route, and clients moved during the drain phase;
#   - then nginx's own stop (start-stop-daemon QUIT);
#   - zero failed requests over the whole stop; ExecStartPost= (undrain) brings PoP 1 back;
#   - a drain --wait whose -t ends before drain_time exits 2, the drain in effect.
# And what the drain buys: the same stop without it (nginx's own ExecStop= alone) fails requests.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require
SSD=$(command -v start-stop-daemon || echo /sbin/start-stop-daemon)
[ -x "$SSD" ] || {
	echo "SKIP: start-stop-daemon not found (Debian package dpkg)"
	exit 77
}
CTL=$top_builddir/anycastctl
LOADGEN=$top_builddir/tests/integration/loadgen
DROPIN=$top_srcdir/contrib/nginx-anycast-drain.conf
WEB=192.0.2.80/32

e2e_workdir "e2ep$$"
work=$E2E_WORK
chmod 755 "$TOPO_DIR" "$work"
lg_pid=
stop_loadgen() { [ -n "$lg_pid" ] && kill "$lg_pid" 2>/dev/null && wait "$lg_pid" 2>/dev/null; lg_pid=; }
nginx_both_cleanup() {
	for i in 1 2; do
		use_nginx "$i"
		nginx_cleanup
	done
}
topo_on_cleanup stop_loadgen
topo_on_cleanup nginx_both_cleanup
topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_add_pop pop2 2 &&
	topo_pop_med pop1 10 && topo_pop_med pop2 20 && topo_link pop1 up1 && topo_link pop2 up1 &&
	topo_add_client client up1 && topo_start || e2e_die "topology"
topo_wait_established 30 || e2e_die "BGP not Established"

# one nginx per PoP, "/" answers the PoP's name; nginx.sh keeps one instance in its globals
use_nginx() {
	NGINX_DIR=$work/nginx$1 NGINX_PKI=$work/nginx$1/pki NGINX_NETNS=$(topo_ns "pop$1")
	NGINX_PID=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null)
}
for i in 1 2; do
	nginx_setup "$work/nginx$i"
	nginx_vhost "192.0.2.80:80" "pop$i"
	nginx_start "$(topo_ns "pop$i")" || e2e_die "nginx pop$i"
done
topo_birdc pop2 enable anycast_web4 >/dev/null || e2e_die "pop2's static announcement"

e2e_conf >"$work/agent.conf" <<CONF
checks: {
$(e2e_check_web "interval = 0.5; fast_interval = 0.25; timeout = 0.2; rise = 2; fall = 2;")
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; drain_protocols = [ "anycast_web4_drain" ];
         drain_time = 2; requires = [ "web" ]; prefixes = [ "$WEB" ]; hold_down = 0;
         damp_max_suppress = 0; };
};
CONF

client_sees() { [ "$(topo_exec client curl -s --max-time 0.5 http://192.0.2.80/)" = "$1" ]; }
# the drop-in's command lines of a kind (ExecStop, ExecStartPost), "-" prefix off, this test's
# anycastctl, control socket and pidfile in place of the installed ones
dropin_lines() {
	sed -n "s/^$1=-//p" "$DROPIN" |
		sed -e "s|/usr/sbin/anycastctl|$CTL -s $work/agent.ctl|" \
			-e "s|/sbin/start-stop-daemon|$SSD|" -e "s|/run/nginx.pid|$work/nginx1/nginx.pid|"
}
grep -qx 'ExecStop=' "$DROPIN" || e2e_die "the drop-in does not reset nginx's ExecStop="
mapfile -t stop_lines < <(dropin_lines ExecStop)
mapfile -t start_lines < <(dropin_lines ExecStartPost)
[ ${#stop_lines[@]} = 2 ] && [[ ${stop_lines[0]} == *" drain web "*"--wait"* ]] &&
	[[ ${stop_lines[1]} == "$SSD "* ]] && [ ${#start_lines[@]} = 1 ] ||
	e2e_die "unexpected drop-in: ${stop_lines[*]} / ${start_lines[*]}"
# loadgen LOG: 500 GETs a second from the client until stop_loadgen; summary in LOG.sum
loadgen() {
	# ip execs loadgen: $! is loadgen's pid
	ip netns exec "$(topo_ns client)" "$LOADGEN" -H 192.0.2.80 -r 500 -t 1000 -o "$1" \
		>"$1.sum" &
	lg_pid=$!
	topo_wait_for "[ \$(cat '$1' 2>/dev/null | grep -c ' http 1 pop1') -ge 100 ]" 5 || e2e_die "no load on pop1"
}
failed() { awk '$1 == "http" { print $6 }' "$1.sum"; }

e2e_start_agent pop1 "$work/agent.conf"
topo_wait_for "client_sees pop1" 10 || e2e_die "the client does not reach PoP 1"
e2e_pass "PoP 1 announced and preferred, PoP 2 announced; the client reaches PoP 1"

# --- the planned stop, as systemd runs the drop-in's ExecStop= lines
loadgen "$work/planned.log"
t0=${EPOCHREALTIME/./}
eval "${stop_lines[0]}" >"$work/drain.out" 2>&1
rc=$? t_drained=${EPOCHREALTIME/./}
[ $rc = 0 ] || e2e_die "drain --wait exited $rc: $(cat "$work/drain.out")"
grep -q "withdrawn, confirmed by BIRD: web" "$work/drain.out" || e2e_die "$(cat "$work/drain.out")"
ms=$(((t_drained - t0) / 1000))
[ "$ms" -ge 2000 ] || e2e_die "drain --wait returned after $ms ms, before drain_time (2 s)"
[ "$(topo_upstream_route_count $WEB)" = 1 ] && [ "$(topo_upstream_route_from $WEB)" = pop2 ] ||
	e2e_die "drain --wait returned while the upstream still had: $(topo_upstream_route $WEB)"
e2e_pass "drain --wait returned 0 after $ms ms: PoP 1 withdrawn at the upstream, PoP 2 remains"
# ExecStop=-: systemd ignores the line's status (start-stop-daemon exits 2 when QUIT took over
# 5 s, as on a loaded machine), then sends SIGTERM to what is left
use_nginx 1
eval "${stop_lines[1]}" || echo "note: nginx's stop exited $? (ignored, as ExecStop=- makes systemd do)"
topo_wait_for "! kill -0 $NGINX_PID 2>/dev/null" 5 || {
	echo "note: nginx 1 still running after its stop: SIGTERM, as systemd sends"
	kill -TERM "$NGINX_PID" 2>/dev/null
	topo_wait_for "! kill -0 $NGINX_PID 2>/dev/null" 5 || e2e_die "nginx 1 did not stop"
}
sleep_until=$((${EPOCHREALTIME/./} + 500000))
topo_wait_for "[ \${EPOCHREALTIME/./} -ge $sleep_until ]" 1
stop_loadgen
sent=$(awk '$1 == "http" { print $2 }' "$work/planned.log.sum")
# Nothing may fail at the withdraw or at nginx's stop. The one path change of a planned stop
# (the drain variant makes the transit prefer PoP 2) resets a connection that crosses it at that
# instant, as any anycast path change does: PoP 2 has no state for it (BENCHMARKS.md, "Death
# watches: what clients see", measured at 12-59 ms into the drain). Only a request started in
# the drain's first 200 ms may fail so; any other failure fails the test.
nfailed=$(failed "$work/planned.log")
late=$(awk -v t0="$t0" '$3 == "http" && $4 == 0 && $1 > t0 + 200000' "$work/planned.log")
[ -z "$late" ] && [ "$nfailed" -le 2 ] ||
	e2e_die "$nfailed of $sent requests failed during the planned stop: $(grep ' 0 ' "$work/planned.log" | head -3)"
[ "$nfailed" = 0 ] || echo "note: $nfailed of $sent requests reset at the transit's path switch (started $(awk -v t0="$t0" '$3 == "http" && $4 == 0 { printf "%d ms ", ($1 - t0) / 1000 }' "$work/planned.log")into the drain)"
# clients moved to PoP 2 in the drain phase, before the withdraw
first2=$(awk '$5 == "pop2" { print $1; exit }' "$work/planned.log")
[ -n "$first2" ] && [ "$first2" -lt "$t_drained" ] || e2e_die "no answer from PoP 2 during the drain"
e2e_pass "planned stop under load: $sent requests, $nfailed failed; PoP 2 answered from $(((first2 - t0) / 1000)) ms into the drain"

# --- ExecStartPost=: nginx back, the drain ended, PoP 1 preferred again
nginx_start "$(topo_ns pop1)" || e2e_die "nginx 1 start"
eval "${start_lines[0]}" >/dev/null || e2e_die "undrain: ${start_lines[0]}"
topo_wait_for "client_sees pop1" 10 || e2e_die "PoP 1 not back after the start"
e2e_pass "nginx started, undrained: the client reaches PoP 1 again"

# --- not withdrawn in time: -t shorter than drain_time; exit 2, the drain stays in effect
"$CTL" -s "$work/agent.ctl" -t 1 drain web --reason "too short" --wait >"$work/short.out" 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'announcement "web" is DRAINING; the drain is in effect' "$work/short.out" ||
	e2e_die "drain --wait with -t 1 under drain_time 2 s: exit $rc: $(cat "$work/short.out")"
"$CTL" -s "$work/agent.ctl" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "client_sees pop1" 10 || e2e_die "PoP 1 not back after the undrain"
e2e_pass "drain --wait -t 1 against drain_time 2 s: exit 2 ($(cat "$work/short.out"))"

# --- the same stop without the drain loses requests: what the drop-in is for
loadgen "$work/unplanned.log"
eval "${stop_lines[1]}" || e2e_die "nginx's stop"
topo_wait_for "[ \$(topo_upstream_route_count $WEB) = 1 ]" 5 || e2e_die "PoP 1 not withdrawn"
stop_loadgen
[ "$(failed "$work/unplanned.log")" -gt 0 ] || e2e_die "a stop without the drain lost nothing?"
e2e_pass "without the drain (nginx's own ExecStop= alone): $(failed "$work/unplanned.log") requests failed"

e2e_stop_agent
echo PASS
