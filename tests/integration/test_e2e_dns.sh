#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_dns.sh - one PoP with two announcements, web (requires the http check of nginx) and dns
# (requires the dns check of a local nsd, its SOA serial compared with a second nsd, the
# primary). Asserted at the upstream: a DNS check failing - SERVFAIL (the zone stops loading) or a
# stale serial (the primary moves ahead, max_serial_lag 0) - withdraws the dns announcement only;
# nginx failing withdraws web only; web and dns fail and recover independently of each other.
# Each withdraw is counted at the upstream (exactly one per failure), the other announcement's
# route is checked on every poll.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require
nsd_require

WEB=192.0.2.80/32 DNS=192.0.2.53/32 WEB6=2001:db8::80/128 DNS6=2001:db8::53/128
# detection bound of both checks (interval 0.2, fall 2, timeout 0.1; engine.h) is 0.756 s;
# rise 3 x 0.2 s + hold_down 1 s to come back
DETECT=2 RETURN=6

e2e_web_pop "e2ed$$"
ns=$(topo_ns pop1)
# the PoP's DNS server on the anycast address, the primary it must keep up with beside it
nsd_start local 192.0.2.53 53 100 "$ns" || e2e_die "nsd local"
nsd_start primary 127.0.0.1 5300 100 "$ns" || e2e_die "nsd primary"

e2e_conf >"$E2E_WORK/agent.conf" <<CONF
checks: {
$(e2e_check_web)
  dns: { type = "dns"; server = "192.0.2.53"; qname = "example.test."; transport = "udp";
         expect_authoritative = true; soa_reference = "127.0.0.1:5300"; max_serial_lag = 0;
         interval = 0.2; timeout = 0.1; rise = 3; fall = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ]; requires = [ "web" ];
         prefixes = [ "$WEB", "$WEB6" ]; hold_down = 1.0; damp_max_suppress = 0; };
  dns: { protocols = [ "anycast_dns4", "anycast_dns6" ]; requires = [ "dns" ];
         prefixes = [ "$DNS", "$DNS6" ]; hold_down = 1.0; damp_max_suppress = 0; };
};
CONF

has() { topo_upstream_has_route "$1"; }
hasnt() { ! topo_upstream_has_route "$1"; }
withdraws() { topo_upstream_withdraws pop1 4; }

# break_zone: the local zone file stops loading; nsd answers SERVFAIL for the zone
break_zone() {
	local d gen
	d=$(nsd_dir local)
	gen=$(cat "$d/generation")
	echo "broken ((( line" >>"$d/zone"
	# nsd reloads only a zone whose mtime changed (same scheme as nsd.sh)
	touch -d "@$(($(date +%s) + gen))" "$d/zone"
	echo $((gen + 1)) >"$d/generation"
	kill -HUP "$(cat "$d/main.pid")"
}

# fail_one WHAT GONE STAYS CAUSE-REGEX: after a failure was injected, GONE is withdrawn within
# $DETECT s while STAYS is announced on every poll; exactly one more withdraw at the upstream
fail_one() {
	local what=$1 gone=$2 stays=$3 cause=$4 w0=$5 t0=$6
	e2e_wait_keeping "hasnt $gone" "has $stays" "$DETECT" ||
		e2e_die "$what: $gone not withdrawn within $DETECT s while $stays stayed"
	ms=$(e2e_ms_since "$t0")
	grep -qE "$cause" "$E2E_LOG" || e2e_die "$what: no log line matching '$cause'"
	# the other announcement stays: nothing else is withdrawn over a reconcile period or two
	e2e_hold "has $stays" 1 || e2e_die "$what: $stays went away too"
	w=$(withdraws)
	[ "$w" = $((w0 + 1)) ] || e2e_die "$what: $((w - w0)) withdraws at the upstream, expected 1"
	e2e_pass "$what -> $gone withdrawn in $ms ms, $stays stayed (upstream withdraws +1)"
}

# --- both announced once their checks have risen
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "has $WEB && has $DNS && has $WEB6 && has $DNS6" 10 ||
	e2e_die "web and dns were not both announced (v4 and v6)"
e2e_pass "web and dns announced at the upstream (v4 and v6)"

# --- SERVFAIL: the zone breaks, only dns is withdrawn
w0=$(withdraws) t0=${EPOCHREALTIME/./}
break_zone
fail_one "nsd SERVFAIL" "$DNS" "$WEB" 'check "dns".*DNS_RCODE.*SERVFAIL' "$w0" "$t0"
nsd_set_serial local 100 || e2e_die "repairing the zone"
e2e_wait_keeping "has $DNS" "has $WEB" "$RETURN" || e2e_die "dns not re-announced after repair"
e2e_pass "zone repaired -> $DNS back after $((TOPO_WAITED_US / 1000)) ms (rise + hold-down)"

# --- stale serial: the primary moves on, the local server does not follow
w0=$(withdraws) t0=${EPOCHREALTIME/./}
nsd_set_serial primary 101 || e2e_die "primary serial"
fail_one "serial 100 behind primary 101" "$DNS" "$WEB" 'check "dns".*DNS_SERIAL_LAG' "$w0" "$t0"
nsd_set_serial local 101 || e2e_die "local serial"
e2e_wait_keeping "has $DNS" "has $WEB" "$RETURN" || e2e_die "dns not re-announced after catch-up"
e2e_pass "serial caught up -> $DNS back after $((TOPO_WAITED_US / 1000)) ms"

# --- independent failures: web fails alone, then dns fails too, web recovers alone
w0=$(withdraws)
nginx_stop
t0=${EPOCHREALTIME/./}
fail_one "nginx stopped" "$WEB" "$DNS" 'check "web".*DOWN' "$w0" "$t0"
w0=$(withdraws) t0=${EPOCHREALTIME/./}
break_zone
e2e_wait_keeping "hasnt $DNS" "hasnt $WEB" "$DETECT" || e2e_die "dns not withdrawn while web down"
e2e_pass "dns failed while web was down -> both withdrawn ($(($(withdraws) - w0)) more withdraw)"
nginx_start "$ns" || e2e_die "nginx restart"
e2e_wait_keeping "has $WEB" "hasnt $DNS" "$RETURN" || e2e_die "web not back alone"
e2e_hold "has $WEB && hasnt $DNS" 1 || e2e_die "web and dns did not stay apart"
e2e_pass "nginx back -> $WEB announced again while $DNS stayed withdrawn"
nsd_set_serial local 101 || e2e_die "repairing the zone"
e2e_wait_keeping "has $DNS" "has $WEB" "$RETURN" || e2e_die "dns not back"
has "$WEB6" && has "$DNS6" || e2e_die "IPv6 routes did not follow"
e2e_pass "zone repaired -> $DNS announced again, web untouched (v6 followed both)"

e2e_stop_agent
echo "PASS"
