#!/bin/bash
# SPDX-License-Identifier: ISC
# test_e2e_basic.sh - one PoP (BIRD + anycast-agent + nginx) peering with an upstream BIRD in
# network namespaces. Asserted at the upstream, what the Internet would see:
#   the route appears only after the check has risen; nginx stopped -> the route is withdrawn;
#   nginx back -> the route returns after rise + hold-down; --dry-run changes nothing;
#   SIGTERM with on_exit = withdraw -> the route is gone before the agent exits.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/lib/e2e.sh"
e2e_require

P4=192.0.2.80/32
e2e_web_pop "e2eb$$"
e2e_conf_web 'on_exit = "withdraw";' "" "hold_down = 2.0;" >"$E2E_WORK/agent.conf"

# --dry-run: everything runs, BIRD is only read
e2e_start_agent pop1 "$E2E_WORK/agent.conf" --dry-run
topo_wait_for "grep -q 'would enable BIRD protocol anycast_web4' '$E2E_LOG'" 10 ||
	e2e_die "dry run did not log the enable it would make"
topo_upstream_has_route "$P4" && e2e_die "dry run announced $P4"
grep -q "disabled yes;" "$(topo_state_dir pop1)/anycast_web4.conf" || e2e_die "dry run wrote a state file"
e2e_stop_agent
e2e_pass "--dry-run logged 'would enable' and changed nothing at the upstream"

# fail closed, then announced once the check has risen
t0=${EPOCHREALTIME/./}
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "topo_upstream_has_route $P4" 10 || e2e_die "$P4 never announced"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
grep -q 'check "web": UNKNOWN -> UP' "$E2E_LOG" || e2e_die "announced before the check rose"
grep -q "disabled no;" "$(topo_state_dir pop1)/anycast_web4.conf" || e2e_die "state file not updated"
e2e_pass "$P4 announced ${ms} ms after start, after the check rose (rise 3 x 0.2 s)"

# nginx dies: withdrawn within the detection bound (0.646 s) + 1 s
nginx_stop
t0=${EPOCHREALTIME/./}
topo_wait_for "! topo_upstream_has_route $P4" 5 || e2e_die "$P4 not withdrawn after nginx stopped"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
[ "$ms" -le 1646 ] || e2e_die "withdraw took ${ms} ms (bound 646 ms + 1 s)"
e2e_pass "nginx stopped -> $P4 withdrawn at the upstream in ${ms} ms"

# nginx back: announced again after rise and the 2 s hold-down
nginx_start "$(topo_ns pop1)" || e2e_die "nginx restart"
t0=${EPOCHREALTIME/./}
topo_wait_for "topo_upstream_has_route $P4" 10 || e2e_die "$P4 not re-announced"
ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
[ "$ms" -ge 2000 ] || e2e_die "re-announced after ${ms} ms, before the 2 s hold-down"
e2e_pass "nginx back -> $P4 re-announced after ${ms} ms (rise + hold-down 2 s)"

# SIGUSR2 then SIGTERM (a package upgrade's restart): this one stop keeps BIRD as it is, and
# the next agent adopts the announced route without a withdraw
w0=$(topo_upstream_withdraws pop1)
kill -USR2 "$E2E_APID"
topo_wait_for "grep -q 'a stop within 60 s leaves BIRD as it is' '$E2E_LOG'" 5 ||
	e2e_die "SIGUSR2 not acknowledged"
kill -TERM "$E2E_APID"
wait "$E2E_APID"
rc=$?
E2E_APID=
[ "$rc" = 0 ] || e2e_die "agent exited $rc after SIGUSR2 + SIGTERM"
topo_upstream_has_route "$P4" || e2e_die "$P4 withdrawn by a stop that SIGUSR2 asked to keep"
e2e_start_agent pop1 "$E2E_WORK/agent.conf"
topo_wait_for "grep -c 'check \"web\": UNKNOWN -> UP' '$E2E_LOG' | grep -qx 3" 10 ||
	e2e_die "the restarted agent's check never rose"
[ "$(topo_upstream_withdraws pop1)" = "$w0" ] || e2e_die "the restart withdrew $P4 at the upstream"
topo_upstream_has_route "$P4" || e2e_die "$P4 gone after the hitless restart"
e2e_pass "SIGUSR2 + SIGTERM + restart: $P4 kept, 0 withdraws at the upstream"

# SIGTERM with on_exit = withdraw: the route is gone before the process exits
kill -TERM "$E2E_APID"
wait "$E2E_APID"
rc=$?
E2E_APID=
topo_upstream_has_route "$P4" && e2e_die "$P4 still announced after the agent exited"
[ "$rc" = 0 ] || e2e_die "agent exited $rc"
grep -q "withdrawn, confirmed by BIRD" "$E2E_LOG" || e2e_die "withdraw not confirmed in the log"
e2e_pass "SIGTERM -> withdrawn and confirmed by BIRD before exit"
echo "PASS"
