#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_lifecycle.sh - the operator's weekly paths never leave a prefix announced with nothing
# behind it. One PoP (real BIRD 2, real nginx) peering with an upstream BIRD; everything judged
# at the upstream:
#   --init creates the decision files withdrawn, 0644 under umask 077, and leaves existing ones;
#   --check-bird says BIRD includes every decision file, and names the protocol whose include
#     was taken out of bird.conf;
#   a decision file deleted behind the agent's back is written again before `birdc configure`
#     can lose the route;
#   drain, withdrawn, then a config edit of that announcement and a reload: the route does not
#     come back, not even with GRACEFUL_SHUTDOWN;
#   an announcement removed from the configuration is withdrawn at once, and stays withdrawn
#     across a BIRD restart;
#   an agent killed whose configuration no longer loads: --withdraw-all (the withdraw unit's
#     command) withdraws through the BIRD sockets the agent recorded in bird-sockets;
#   a reboot (everything killed, the runtime decision directory emptied, BIRD started first)
#     announces nothing until the agent's checks pass again, and nothing while nginx is down.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

WEB=192.0.2.80/32 DNS=192.0.2.53/32
e2e_web_pop "e2elc$$"
work=$E2E_WORK
sdir=$(topo_state_dir pop1)

conf() { # conf HOLD_DOWN WITH_EXTRA
	e2e_conf <<CONF
checks: {
$(e2e_check_web)
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; drain_protocols = [ "anycast_web4_drain" ];
         requires = [ "web" ]; prefixes = [ "$WEB" ]; hold_down = $1; drain_time = 1.0; };
CONF
	[ "$2" = yes ] && cat <<CONF
  extra: { protocols = [ "anycast_dns4" ]; requires = [ "web" ]; prefixes = [ "$DNS" ];
           hold_down = 0.5; };
CONF
	echo "};"
}
conf 0.5 yes >"$work/agent.conf"
agent=$E2E_AGENT
has() { topo_upstream_has_route "$1"; }
hasnt() { ! topo_upstream_has_route "$1"; }
mode() { stat -c %a "$1"; }

# --- --init: withdrawn files, modes that do not follow the umask, idempotent
rm -f "$sdir"/*.conf
out=$( (umask 077 && "$agent" -f "$work/agent.conf" --init)) || e2e_die "--init failed: $out"
for p in anycast_web4 anycast_web4_drain anycast_dns4; do
	f=$sdir/$p.conf
	grep -qx "disabled yes;" "$f" || e2e_die "--init: $f does not say disabled yes"
	grep -q "description \"anycast-agent decision $f\";" "$f" || e2e_die "--init: $f lacks the description"
	[ "$(mode "$f")" = 644 ] || e2e_die "--init under umask 077 made $f mode $(mode "$f")"
done
echo "$out" | grep -q "^3 decision file(s) created" || e2e_die "--init said: $out"
out=$("$agent" -f "$work/agent.conf" --init) || e2e_die "second --init failed"
echo "$out" | grep -q "^0 decision file(s) created, 3 already there" || e2e_die "second --init said: $out"
e2e_pass "--init: 3 files withdrawn, mode 644 under umask 077; run again: 0 created"

# --- --check-bird: BIRD read every decision file inside its protocol ... or not
topo_birdc pop1 configure >/dev/null || e2e_die "birdc configure"
out=$("$agent" -f "$work/agent.conf" --check-bird 2>/dev/null) || e2e_die "--check-bird after configure: $out"
[ "$(echo "$out" | grep -c ' included$')" = 3 ] || e2e_die "--check-bird: $out"
snip=$(topo_node_dir pop1)/snippets/anycast-static.conf
cp "$snip" "$work/static.orig"
sed -i "\|include \"$sdir/anycast_dns4.con\[f\]\";|d" "$snip"
topo_birdc pop1 configure >/dev/null || e2e_die "birdc configure without the include"
out=$("$agent" -f "$work/agent.conf" --check-bird 2>/dev/null)
rc=$?
[ $rc = 1 ] || e2e_die "--check-bird with an include taken out exited $rc: $out"
echo "$out" | grep -q "^anycast_dns4 .*NOT INCLUDED" || e2e_die "--check-bird did not name anycast_dns4: $out"
cp "$work/static.orig" "$snip"
topo_birdc pop1 configure >/dev/null || e2e_die "birdc configure with the include back"
e2e_pass "--check-bird: 3 included; with one include taken out: exit 1 naming anycast_dns4"

# --- the agent, started with umask 027: announces, its files stay readable for BIRD
old_umask=$(umask)
umask 027
e2e_start_agent pop1 "$work/agent.conf"
umask "$old_umask"
topo_wait_for "has $WEB && has $DNS" 10 || e2e_die "web and extra never announced"
grep -qx "disabled no;" "$sdir/anycast_web4.conf" || e2e_die "decision file not written"
[ "$(mode "$sdir/anycast_web4.conf")" = 644 ] || e2e_die "agent under umask 027 wrote mode $(mode "$sdir/anycast_web4.conf")"
e2e_pass "announced; decision files mode 644 under umask 027"

# --- a decision file removed behind the agent's back is written again, before a configure
rm -f "$sdir/anycast_web4.conf"
topo_wait_for "grep -qx 'disabled no;' '$sdir/anycast_web4.conf' 2>/dev/null" 2 ||
	e2e_die "the removed decision file was not written again"
topo_birdc pop1 configure >/dev/null || e2e_die "birdc configure"
e2e_hold "has $WEB" 1.5 || e2e_die "configure after the removal lost the route"
e2e_pass "decision file removed -> written again within a reconcile interval; configure kept the route"

# --- drained and withdrawn, then an edit of that announcement and a reload: nothing comes back
out=$("$top_builddir/anycastctl" -s "$work/agent.ctl" drain web --reason "lifecycle test") ||
	e2e_die "drain: $out"
topo_wait_for "hasnt $WEB" 5 || e2e_die "drained web never withdrawn"
conf 0.7 yes >"$work/agent.conf"
kill -HUP "$E2E_APID"
topo_wait_for "grep -q 'configuration reloaded' '$E2E_LOG'" 5 || e2e_die "reload not done"
e2e_hold "hasnt $WEB" 3 || e2e_die "the reload brought the drained announcement back"
e2e_pass "drained web, config edited and reloaded -> still withdrawn 3 s later"
"$top_builddir/anycastctl" -s "$work/agent.ctl" undrain web >/dev/null || e2e_die "undrain"
topo_wait_for "has $WEB" 5 || e2e_die "undrained web not back"

# --- an announcement removed from the configuration is withdrawn, across a BIRD restart too
conf 0.7 no >"$work/agent.conf"
t0=${EPOCHREALTIME/./}
kill -HUP "$E2E_APID"
topo_wait_for "hasnt $DNS" 3 || e2e_die "the removed announcement stays announced"
ms=$(e2e_ms_since "$t0")
grep -qx "disabled yes;" "$sdir/anycast_dns4.conf" || e2e_die "its decision file still announces"
topo_bird_restart pop1 || e2e_die "BIRD restart"
topo_wait_established 30 || e2e_die "BGP not Established after the BIRD restart"
topo_wait_for "has $WEB" 10 || e2e_die "web not back after the BIRD restart"
e2e_hold "hasnt $DNS" 1.5 || e2e_die "the removed announcement came back with BIRD's restart"
e2e_pass "announcement removed -> withdrawn in $ms ms; still withdrawn after a BIRD restart"

# --- an agent that cannot come back: it dies and its configuration no longer loads; what the
# withdraw unit runs (--withdraw-all) still withdraws, through the sockets the agent recorded
cp "$work/agent.conf" "$work/agent.good"
echo "this is not libconfig" >>"$work/agent.conf"
e2e_kill_agent KILL
e2e_hold "has $WEB" 1 || e2e_die "a killed agent withdrew (it should leave BIRD as it is)"
t0=${EPOCHREALTIME/./}
out=$("$agent" -f "$work/agent.conf" --state-dir "$sdir" --withdraw-all 2>&1) ||
	e2e_die "--withdraw-all with a broken configuration exited $?: $out"
topo_wait_for "hasnt $WEB" 5 || e2e_die "--withdraw-all with a broken configuration left $WEB: $out"
ms=$(e2e_ms_since "$t0")
echo "$out" | grep -q "through the BIRD sockets of $sdir/bird-sockets" || e2e_die "--withdraw-all said: $out"
grep -qx "disabled yes;" "$sdir/anycast_web4.conf" || e2e_die "its decision file still announces"
[ "$(topo_proto_state pop1 anycast_web4)" = down ] || e2e_die "anycast_web4 is still up in BIRD"
cp "$work/agent.good" "$work/agent.conf"
e2e_pass "agent dead, configuration broken: --withdraw-all withdrew $WEB in $ms ms (sockets from bird-sockets)"

# --- a reboot: everything dies, /run is emptied, BIRD starts first; nginx is down at boot
topo_bird_stop pop1
nginx_stop
rm -f "$sdir"/*.conf
topo_bird_start pop1 || e2e_die "BIRD did not start with the runtime directory empty"
topo_wait_established 30 || e2e_die "BGP not Established after the reboot"
e2e_hold "hasnt $WEB" 2 || e2e_die "BIRD announced at boot before any check passed"
e2e_start_agent pop1 "$work/agent.conf"
e2e_hold "hasnt $WEB" 3 || e2e_die "announced after the reboot with nginx down"
nginx_start "$(topo_ns pop1)" || e2e_die "nginx"
topo_wait_for "has $WEB" 10 || e2e_die "not announced once nginx was up after the reboot"
e2e_pass "reboot: nothing announced by BIRD at boot, nor with nginx down; announced once it passed"

e2e_stop_agent
echo "PASS"
