#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_watch.sh - death watches (watch_pidfile, watch_listen) against real nginx and nsd in a
# PoP namespace, asserted at a real BIRD upstream. The checks' probes are made too slow to see
# anything within the test's windows (interval 30 s, fall 10 at 0.3 s: at least 2.7 s of failing
# probes), so every withdraw within WITHDRAW s of a kill is the watch's doing:
#   - nginx reload (SIGHUP), its pidfile removed, a binary upgrade (a new master with a new pid,
#     the old file renamed, the old master gone): no death, the route stays, the watch follows;
#   - nginx's master killed: withdrawn at once; its workers still serve, so the check comes back
#     through rise; then the workers killed: the listening socket goes, withdrawn again;
#   - the whole of nginx killed (restarted first): withdrawn at once;
#   - nginx stopped and started (a restart with a new pid): withdrawn, then back, new pid followed;
#   - nsd reloaded: nothing; the whole of nsd killed: dns withdrawn at once, web untouched.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require
nsd_require
CTL=$top_builddir/anycastctl
WEB=192.0.2.80/32 DNS=192.0.2.53/32
# the watch's path is milliseconds; the probes' is at least 10 x 0.3 s
WITHDRAW=1.5 RETURN=5

e2e_web_pop "e2ew$$"
ns=$(topo_ns pop1)
nsd_start local 192.0.2.53 53 100 "$ns" || e2e_die "nsd"

e2e_conf >"$E2E_WORK/agent.conf" <<CONF
checks: {
  web: { type = "http"; url = "http://www.example.test/"; connect_to = "192.0.2.80:80";
         interval = 30; fast_interval = 0.3; timeout = 0.2; rise = 2; fall = 10;
         watch_pidfile = "$NGINX_DIR/nginx.pid"; watch_listen = "192.0.2.80:80"; };
  dns: { type = "dns"; server = "192.0.2.53"; qname = "example.test."; transport = "udp";
         interval = 30; fast_interval = 0.3; timeout = 0.2; rise = 2; fall = 10;
         watch_pidfile = "$(nsd_dir local)/nsd.pid"; watch_listen = "udp:192.0.2.53:53"; };
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; requires = [ "web" ]; prefixes = [ "$WEB" ];
         hold_down = 0; damp_max_suppress = 0; };
  dns: { protocols = [ "anycast_dns4" ]; requires = [ "dns" ]; prefixes = [ "$DNS" ];
         hold_down = 0; damp_max_suppress = 0; };
};
CONF

has() { topo_upstream_has_route "$1"; }
hasnt() { ! topo_upstream_has_route "$1"; }
ctl() { "$CTL" -s "$E2E_CTL" "$@"; }
# watch_field CHECK KEY FIELD: a field of one of the check's watches in the agent's status
watch_field() {
	ctl status -o json | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
for c in s["checks"]:
    if c["name"] == sys.argv[1]:
        for w in c["watches"]:
            if w["key"] == sys.argv[2]:
                print(w[sys.argv[3]])' "$1" "$2" "$3"
}
nginx_pids() {
	local p
	for p in $(ip netns pids "$ns"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = nginx ] && echo "$p"
	done
}
master() { cat "$NGINX_DIR/nginx.pid" 2>/dev/null; }
deaths() { e2e_log_count "SERVICE_DEAD"; }
# killed WHAT GONE STAYS CAUSE: GONE withdrawn within $WITHDRAW s of the kill, STAYS on every
# poll, and the agent's log names the watch that saw it
killed() {
	local what=$1 gone=$2 stays=$3 cause=$4 t0=$5
	e2e_wait_keeping "hasnt $gone" "has $stays" "$WITHDRAW" ||
		e2e_die "$what: $gone not withdrawn within $WITHDRAW s (the probes cannot be this fast)"
	grep -qF "$cause" "$E2E_LOG" || e2e_die "$what: no log line with '$cause'"
	e2e_pass "$what -> $gone withdrawn in $(e2e_ms_since "$t0") ms ($cause)"
}
back() {
	e2e_wait_keeping "has $1" "has $2" "$RETURN" || e2e_die "$1 not announced again"
}

# --- announced: the first probes now, not somewhere in the first 30 s
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "[ -S $E2E_CTL ]" 5 || e2e_die "no control socket"
ctl check web >/dev/null
ctl check dns >/dev/null
topo_wait_for "has $WEB && has $DNS" 10 || e2e_die "web and dns not announced"
[ "$(watch_field web watch_pidfile state)" = alive ] && [ "$(watch_field web watch_listen state)" = alive ] ||
	e2e_die "web's watches not alive: $(ctl status -o text | grep watch_)"
e2e_pass "web and dns announced; pidfile and listen watches alive"

# --- no deaths: reload, pidfile removed, binary upgrade
m=$(master)
kill -HUP "$m"
e2e_hold "has $WEB && has $DNS" 1.5 || e2e_die "nginx reload withdrew web"
[ "$(deaths)" = 0 ] || e2e_die "nginx reload was taken for a death"
e2e_pass "nginx reload (SIGHUP): no death, web stays"

rm -f "$NGINX_DIR/nginx.pid"
e2e_hold "has $WEB" 1 || e2e_die "a removed pidfile withdrew web"
[ "$(deaths)" = 0 ] && [ "$(watch_field web watch_pidfile state)" = alive ] ||
	e2e_die "a removed pidfile was taken for a death"
echo "$m" >"$NGINX_DIR/nginx.pid"
e2e_pass "pidfile removed while nginx runs: no death, still following pid $m"

# binary upgrade: USR2 starts a new master (nginx.pid -> nginx.pid.oldbin, a new nginx.pid),
# QUIT ends the old one; connections are served throughout
kill -USR2 "$m"
topo_wait_for "[ -s '$NGINX_DIR/nginx.pid.oldbin' ] && [ -s '$NGINX_DIR/nginx.pid' ]" 5 ||
	e2e_die "nginx binary upgrade did not start a new master"
kill -QUIT "$m"
topo_wait_for "! kill -0 $m 2>/dev/null" 5 || e2e_die "the old master did not quit"
e2e_hold "has $WEB" 1 || e2e_die "a binary upgrade withdrew web"
new=$(master)
[ "$new" != "$m" ] && [ "$(deaths)" = 0 ] &&
	[ "$(watch_field web watch_pidfile detail)" = "pid $new (followed from pid $m)" ] ||
	e2e_die "binary upgrade: deaths $(deaths), watch: $(watch_field web watch_pidfile detail)"
e2e_pass "binary upgrade: new master pid $new followed, no death, web stays"

# --- the master killed: its workers still serve
t0=${EPOCHREALTIME/./}
kill -KILL "$(master)"
killed "nginx master SIGKILLed" "$WEB" "$DNS" "SERVICE_DEAD: watch_pidfile $NGINX_DIR/nginx.pid: pid $new exited" "$t0"
back "$WEB" "$DNS"
[ "$(watch_field web watch_listen state)" = alive ] || e2e_die "the workers' socket not seen"
e2e_pass "its workers still serve: web back through rise, the listening socket still alive"
t0=${EPOCHREALTIME/./}
# shellcheck disable=SC2046
kill -KILL $(nginx_pids)
killed "nginx workers SIGKILLed" "$WEB" "$DNS" "SERVICE_DEAD: watch_listen tcp:192.0.2.80:80: no socket listening on 192.0.2.80:80" "$t0"

# --- the whole service killed, after a restart
rm -f "$NGINX_DIR/nginx.pid"
nginx_start "$ns" || e2e_die "nginx start"
back "$WEB" "$DNS"
n=$(deaths)
t0=${EPOCHREALTIME/./}
# shellcheck disable=SC2046
kill -KILL $(nginx_pids)
killed "all of nginx SIGKILLed" "$WEB" "$DNS" "pid $(master) exited" "$t0"
[ "$(deaths)" -gt "$n" ] || e2e_die "no death logged"

# --- restart with a new pid: stop, start
rm -f "$NGINX_DIR/nginx.pid"
nginx_start "$ns" || e2e_die "nginx start"
back "$WEB" "$DNS"
old=$(master)
t0=${EPOCHREALTIME/./}
kill -TERM "$old"
killed "nginx stopped (SIGTERM)" "$WEB" "$DNS" "pid $old exited" "$t0"
nginx_stop
nginx_start "$ns" || e2e_die "nginx start"
back "$WEB" "$DNS"
[ "$(master)" != "$old" ] && [ "$(watch_field web watch_pidfile detail)" = "pid $(master)" ] ||
	e2e_die "restart: watch says $(watch_field web watch_pidfile detail), pid $(master)"
e2e_pass "nginx restarted with pid $(master): followed, web back"

# --- nsd: a reload is nothing, the whole service killed is a death
n=$(deaths)
kill -HUP "$(cat "$(nsd_dir local)/main.pid")"
e2e_hold "has $DNS && has $WEB" 1 || e2e_die "nsd reload withdrew dns"
[ "$(deaths)" = "$n" ] || e2e_die "nsd reload was taken for a death"
e2e_pass "nsd reload (SIGHUP): no death, dns stays"
nsd_pid=$(cat "$(nsd_dir local)/nsd.pid")
t0=${EPOCHREALTIME/./}
# shellcheck disable=SC2046
kill -KILL $(for p in $(ip netns pids "$ns"); do
	# "nsd: main", "nsd: xfrd" (the pidfile's), "nsd: server 1"
	case $(cat "/proc/$p/comm" 2>/dev/null) in nsd*) echo "$p" ;; esac
done)
killed "all of nsd SIGKILLed" "$DNS" "$WEB" "SERVICE_DEAD: watch_pidfile $(nsd_dir local)/nsd.pid: pid $nsd_pid exited" "$t0"
nsd_stop local
nsd_start local 192.0.2.53 53 100 "$ns" || e2e_die "nsd restart"
back "$DNS" "$WEB"
e2e_pass "nsd restarted: dns back"

ctl status >/dev/null
e2e_stop_agent
echo "PASS"
