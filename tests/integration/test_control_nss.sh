#!/bin/bash
# SPDX-License-Identifier: ISC
# test_control_nss.sh - the control socket and the name service, as root:
#   1. control.admin_group with a member list far larger than 4 KiB (a group database of the
#      test's own, bind-mounted over /etc/group in a private mount namespace) is accepted at
#      start, and a process in that group drains while one outside it is denied;
#   2. a name service that fails (a fake: fake_slow_nss.so via LD_PRELOAD answers EIO) stops
#      the start with "cannot look up control.admin_group", not "does not exist";
#   3. a slow name service (the same fake, every user lookup 2 s late) stalls neither the
#      loop nor anybody else: a drain by a user the agent has not named yet is answered within
#      1.5 s with who = "uid N", a status request by another one meanwhile too, and the checks
#      keep their schedule (lag below 0.5 s); once the name service answers again the
#      requester is named.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tally.sh"
agent=$top_builddir/anycast-agent
anycastctl=$top_builddir/anycastctl
ctl=$top_builddir/tests/integration/ctl_client
shim=$top_builddir/tests/integration/fake_slow_nss.so

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (a private mount namespace, processes of other users)"
	exit 77
fi
for t in unshare setpriv; do
	command -v $t >/dev/null || { echo "SKIP: $t not found (Debian package util-linux)"; exit 77; }
done
[ -f "$shim" ] || { echo "FAIL: $shim is not built"; exit 99; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/ctlnss.$$.XXXXXX") || exit 99
chmod 0755 "$dir"
apid=
cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

tally_on_die() {
	[ -f "$dir/agent.log" ] && { echo "--- agent log"; tail -n 30 "$dir/agent.log"; }
}
poll() { # SECONDS CMD...: until CMD succeeds
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ ${EPOCHREALTIME/./} -lt $end ] || return 1
		sleep 0.05
	done
}
ms_since() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }

sock=$dir/agent.ctl
write_conf() { # ADMIN_GROUP
	cat >"$dir/agent.conf" <<CONF
bird: { socket = "$dir/no-bird.ctl"; state_dir = "$dir/bird"; timeout = 0.5; };
control: { socket = "$sock"; admin_group = "$1"; mode = "0666"; };
state_file = "$dir/state";
on_exit = "keep";
checks: { tick: { type = "exec"; command = [ "/bin/true" ]; interval = 0.1; timeout = 0.09; }; };
announcements: { web: { protocols = [ "anycast_web4" ]; requires = [ "tick" ]; drain_time = 0; }; };
CONF
}
status() { "$ctl" "$sock" '{"verb":"status"}'; }
answers() { status | grep -q '"ok":true'; }

# --- 1. a group of 500 members (about 8 KiB) ------------------------------------------------------
big=aanssbig$$
gid=$((4200000 + $$ % 100000))
while getent group $gid >/dev/null; do gid=$((gid + 1)); done
cp /etc/group "$dir/group"
members=$(for i in $(seq 1 500); do printf 'aanssmember%04d,' $i; done)
echo "$big:x:$gid:${members%,}" >>"$dir/group"
len=$(grep "^$big:" "$dir/group" | wc -c)
write_conf "$big"
unshare --mount --propagation private sh -c \
	'mount --bind "$1" /etc/group && exec "$2" -d -f "$3"' sh "$dir/group" "$agent" \
	"$dir/agent.conf" >"$dir/agent.log" 2>&1 &
apid=$!
poll 10 answers || die "the agent with admin_group $big ($len bytes in /etc/group) did not start"
pass "admin_group $big, a group entry of $len bytes, is accepted at start"
out=$(setpriv --reuid=65534 --regid=65534 --groups=$gid -- "$anycastctl" -s "$sock" drain web \
	--reason "big group" 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q 'drained: web' &&
	pass "a process in $big drains: $out" || fail "a member of $big could not drain (exit $rc): $out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- "$anycastctl" -s "$sock" undrain 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "needs root or membership of group $big" &&
	pass "a process outside it is denied: $out" || fail "a non-member (exit $rc): $out"
kill -TERM $apid
wait $apid
apid=

# --- 2. the name service fails at start -------------------------------------------------------------
echo fail >"$dir/nss"
write_conf root
AA_FAKE_NSS=$dir/nss LD_PRELOAD=$shim ASAN_OPTIONS=verify_asan_link_order=0 \
	timeout 10 "$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1
rc=$?
msg=$(grep -o 'cannot look up control.admin_group "root": [^;]*' "$dir/agent.log")
[ $rc = 1 ] && [ -n "$msg" ] && ! grep -q 'does not exist' "$dir/agent.log" &&
	pass "a failing name service stops the start as such: $msg" ||
	fail "exit $rc: $(tail -n 2 "$dir/agent.log")"
rm -f "$dir/nss" "$dir/state"

# --- 3. a slow name service -------------------------------------------------------------------------
AA_FAKE_NSS=$dir/nss LD_PRELOAD=$shim ASAN_OPTIONS=verify_asan_link_order=0 \
	"$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1 &
apid=$!
poll 10 answers || die "the agent did not start"
lag() { status | grep -o '"lag_max_ms":[0-9.]*' | cut -d: -f2; }
echo "sleep 2" >"$dir/nss"
# nobody, an admin through the group root, and uid 65533 have not asked before: no name cached
t0=${EPOCHREALTIME/./}
setpriv --reuid=65534 --regid=65534 --groups=0 -- "$anycastctl" -s "$sock" drain web \
	--reason "slow names" >"$dir/drain.out" 2>&1 &
dpid=$!
t1=${EPOCHREALTIME/./}
out=$(setpriv --reuid=65533 --regid=65533 --clear-groups -- "$ctl" "$sock" '{"verb":"status"}' 2>&1)
ts=$(ms_since $t1)
wait $dpid
drc=$?
td=$(ms_since $t0)
echo "  the name service answers after 2000 ms; drain answered after $td ms, status after $ts ms"
[ $drc = 0 ] && [ $td -lt 1500 ] && pass "the drain did not wait for the name service: $td ms, $(cat "$dir/drain.out")" ||
	fail "drain: exit $drc after $td ms: $(cat "$dir/drain.out")"
echo "$out" | grep -q '"ok":true' && [ $ts -lt 1500 ] &&
	pass "a status request meanwhile is answered in $ts ms" || fail "status after $ts ms: $out"
who=$(status | grep -o '"who":"[^"]*"' | head -n 1)
[ "$who" = '"who":"uid 65534"' ] && pass "the drain is recorded as $who (the name was not known in time)" ||
	fail "drain recorded as $who"
l=$(lag)
awk "BEGIN { exit !($l < 500) }" && pass "the checks kept their schedule: lag at most $l ms" ||
	fail "the checks were held up: schedule lag $l ms (the loop waited for the name service)"
# the name arrives off the loop; once the service is quick again, it is used
rm -f "$dir/nss"
named() {
	setpriv --reuid=65534 --regid=65534 --groups=0 -- "$anycastctl" -s "$sock" undrain &&
		grep -q 'control: uid 65534 (nobody) pid [0-9]*: {"verb":"undrain"' "$dir/agent.log"
}
poll 10 named && pass "later requests are named: $(grep -o 'control: uid 65534 (nobody)[^:]*' "$dir/agent.log" | tail -n 1)" ||
	fail "nobody was never named: $(grep 'control: uid 65534' "$dir/agent.log" | tail -n 2)"
kill -TERM $apid
wait $apid
rc=$?
apid=
[ $rc = 0 ] || fail "the agent exited $rc"

tally_end "control socket and name service"
