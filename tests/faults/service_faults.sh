#!/bin/bash
# SPDX-License-Identifier: ISC
# service_faults.sh - faults of the checked services under a running PoP (BIRD + nginx + a fake
# DNS server + an exec plugin + anycast-agent, upstream BIRD, network namespaces). Each time:
# what the upstream sees, what `anycastctl status` says, and that the agent recovers by itself:
#   nginx SIGKILLed (master and worker); the DNS server answering SERVFAIL, then garbage, then
#   nothing; an exec plugin that hangs; one that leaves children behind holding its stdout.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
FAULT_NAME=fsvc
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/faults/common.sh"
fault_require_python3

fault_setup
# the fake DNS server on the PoP's anycast DNS address
dmode=$work/dns.mode
echo ok >"$dmode"
topo_exec pop1 /usr/bin/python3 "$top_srcdir/tests/faults/fake_dns.py" 192.0.2.53 53 "$dmode" \
	>"$work/dns.log" 2>&1 &
dns_pid=$!
topo_on_cleanup "kill $dns_pid 2>/dev/null"
topo_wait_for "[ -f '$dmode.ready' ]" 5 || e2e_die "the fake DNS server did not start: $(cat "$work/dns.log")"

# the exec plugin: its mode file says what it does; it records the pid of what it leaves behind
pmode=$work/plugin.mode
echo ok >"$pmode"
cat >"$work/plugin.sh" <<'EOF'
#!/bin/sh
case "$(cat "$1")" in
hang) echo $$ >>"$1.pids"; exec sleep 1002 ;;
children) sleep 1001 & echo $! >>"$1.pids"; echo "OK - left a child behind"; exit 0 ;;
*) echo "OK - fine"; exit 0 ;;
esac
EOF
chmod 755 "$work/plugin.sh"

e2e_conf "reconcile_interval = 0.5; timeout = 0.5;" >"$work/agent.conf" <<CONF
on_exit = "keep";
checks: {
$(e2e_check_web "interval = 0.2; timeout = 0.1; rise = 2; fall = 2;")
  dns: { type = "dns"; server = "192.0.2.53"; port = 53; transport = "both";
         qname = "example.test."; qtype = "SOA"; expect_authoritative = true;
         interval = 0.2; timeout = 0.2; rise = 2; fall = 2; };
  plugin: { type = "exec"; command = [ "$work/plugin.sh", "$pmode" ];
            interval = 0.5; timeout = 0.4; rise = 2; fall = 2; };
};
# the faults follow each other on purpose: flap damping (tested elsewhere) would hold the
# third re-announce back
announcements: {
  web: { protocols = [ "anycast_web4", "anycast_web6" ];
         requires = [ "web", "plugin" ]; prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ];
         hold_down = 0.5; damp_max_suppress = 0; };
  dns: { protocols = [ "anycast_dns4", "anycast_dns6" ];
         requires = [ "dns" ]; prefixes = [ "192.0.2.53/32", "2001:db8::53/128" ];
         hold_down = 0.5; damp_max_suppress = 0; };
};
CONF
fault_agent_start
topo_wait_for "topo_upstream_has_route $P4 && topo_upstream_has_route $D4" 15 ||
	e2e_die "$P4 and $D4 never both announced"
fault_expect_status 0 '^ANYCAST OK - 2/2 announced, 3/3 checks up' 5 "healthy PoP"

# check_is NAME RESULT: the check's last result in the JSON status
check_is() {
	"$ctl" -s "$sock" status -o json | tr -d ' \n' |
		grep -Eq "\"name\":\"$1\",\"type\":\"[a-z]+\",\"state\":\"DOWN\".*\"result\":\"$2\""
}

# --- nginx SIGKILLed: master and worker ----------------------------------------------------
t0=${EPOCHREALTIME/./}
# shellcheck disable=SC2046
kill -9 "$NGINX_PID" $(pgrep -P "$NGINX_PID")
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "$P4 not withdrawn after nginx was killed"
ms=$(e2e_ms_since "$t0")
fault_expect_status 2 '^ANYCAST CRITICAL - web WITHDRAWN: check "web" DOWN: CONNECT_REFUSED' 5 \
	"nginx killed"
topo_upstream_has_route "$D4" || e2e_die "$D4 withdrawn with nginx"
e2e_pass "nginx SIGKILLed -> $P4 withdrawn at the upstream in ${ms} ms, $D4 kept"
NGINX_PID=
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $P4" 10 || e2e_die "$P4 not back after nginx restarted"
fault_expect_status 0 '^ANYCAST OK - ' 5 "nginx back"
e2e_pass "nginx restarted -> $P4 back in $(e2e_ms_since "$t0") ms"

# --- the DNS server: SERVFAIL, garbage, then nothing ---------------------------------------
dns_fault() { # MODE RESULT_REGEX
	local m=$1 before
	echo ok >"$dmode"
	topo_wait_for "topo_upstream_has_route $D4" 10 || e2e_die "$D4 not announced before '$m'"
	fault_expect_status 0 '^ANYCAST OK - ' 5 "DNS ok before '$m'"
	echo "$m" >"$dmode"
	t0=${EPOCHREALTIME/./}
	topo_wait_for "! topo_upstream_has_route $D4" 5 || e2e_die "$D4 not withdrawn with DNS '$m'"
	ms=$(e2e_ms_since "$t0")
	topo_wait_for "check_is dns '$2'" 3 || e2e_die "the dns check does not say $2 with DNS '$m': $("$ctl" -s "$sock" status -o text)"
	fault_expect_status 2 "^ANYCAST CRITICAL - dns WITHDRAWN" 3 "DNS '$m'"
	topo_upstream_has_route "$P4" || e2e_die "$P4 withdrawn with DNS '$m'"
	before=$(awk -v m="$m" '$1 == m { print $2 }' "$dmode.count")
	topo_wait_for "[ \"\$(awk -v m='$m' '\$1 == m { print \$2 }' '$dmode.count')\" -ge $((before + 5)) ]" 5 ||
		e2e_die "the agent stopped asking the DNS server"
	e2e_agent_alive || e2e_die "the agent died on DNS '$m'"
	e2e_pass "DNS $m -> $D4 withdrawn in ${ms} ms, check result $2, queries go on ($(grep "^$m " "$dmode.count"))"
}
dns_fault servfail DNS_RCODE
dns_fault garbage 'DNS_MALFORMED|DNS_QUESTION_MISMATCH'
dns_fault silent TIMEOUT
echo ok >"$dmode"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $D4" 10 || e2e_die "$D4 not back after the DNS server answered again"
fault_expect_status 0 '^ANYCAST OK - ' 5 "DNS answers again"
e2e_pass "DNS answers again -> $D4 back in $(e2e_ms_since "$t0") ms"

# --- exec plugins: one that hangs, one that leaves children --------------------------------
alive_pids() { # how many recorded plugin pids still run (a zombie is dead: init may be slow)
	local p n=0
	for p in $(cat "$pmode.pids" 2>/dev/null); do
		case $(ps -o stat= -p "$p" 2>/dev/null) in
		"" | Z*) ;;
		*) n=$((n + 1)) ;;
		esac
	done
	echo $n
}
echo hang >"$pmode"
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "$P4 not withdrawn with a hanging plugin"
ms=$(e2e_ms_since "$t0")
topo_wait_for "check_is plugin TIMEOUT" 3 || e2e_die "the plugin check does not say TIMEOUT"
fault_expect_status 2 '^ANYCAST CRITICAL - web WITHDRAWN' 3 "hanging plugin"
max=0
for _ in $(seq 20); do # sample while it keeps hanging: at most the current run is alive
	n=$(alive_pids)
	((n > max)) && max=$n
	sleep 0.1
done
[ "$max" -le 1 ] || e2e_die "$max hung plugins alive at once: they are not killed at the timeout"
echo ok >"$pmode"
topo_wait_for "[ \$(alive_pids) = 0 ]" 3 || e2e_die "a hung plugin survived"
runs=$(wc -l <"$pmode.pids")
topo_wait_for "topo_upstream_has_route $P4" 10 || e2e_die "$P4 not back after the plugin recovered"
e2e_pass "hanging plugin -> $P4 withdrawn in ${ms} ms (TIMEOUT), $runs hung runs, never more than $max alive, none left"

: >"$pmode.pids"
echo children >"$pmode"
max=0
t0=${EPOCHREALTIME/./}
while (($(e2e_ms_since "$t0") < 4000)); do
	n=$(alive_pids)
	((n > max)) && max=$n
	topo_upstream_has_route "$P4" || e2e_die "$P4 withdrawn by a plugin that exits 0 but leaves children"
	sleep 0.1
done
runs=$(wc -l <"$pmode.pids")
[ "$runs" -ge 4 ] || e2e_die "only $runs plugin runs in 4 s: the agent waits for the children"
[ "$max" -le 1 ] || e2e_die "$max children alive at once: they outlive their run"
echo ok >"$pmode"
topo_wait_for "[ \$(alive_pids) = 0 ]" 3 || e2e_die "a plugin's child survived"
fault_expect_status 0 '^ANYCAST OK - ' 5 "plugin with children"
e2e_pass "plugin leaving children -> stays UP, $runs runs in 4 s, at most $max child alive, none left"
e2e_agent_alive || e2e_die "the agent died"
echo PASS
