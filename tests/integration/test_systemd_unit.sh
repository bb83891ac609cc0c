#!/bin/sh
# SPDX-License-Identifier: ISC
# test_systemd_unit.sh - the generated systemd files (contrib/):
#  1. every @variable@ was substituted by make;
#  2. `systemd-analyze verify` prints nothing (no warning at all) for anycast-agent.service,
#     anycast-agent-init.service and anycast-agent-withdraw.service, and for Debian's bird.service
#     with the shipped drop-in; the man pages are found through MANPATH;
#  3. an agent that cannot come back withdraws: OnFailure= names the withdraw unit, systemd gives
#     up within the start limit (RestartSec x StartLimitBurst < StartLimitIntervalSec), the
#     withdraw unit runs `--withdraw-all -f CONF` with the agent's CONF; BIRD's start pulls in
#     `--init -f CONF` before it (the drop-in), and the tmpfiles.d entry makes the runtime
#     directory the decisions live in;
#  4. the sandbox stays hardened (`systemd-analyze security` exposure below 2.5);
#  5. the unit agrees with the example config (decisions in the runtime directory, drains in the
#     state directory) and with the sysusers.d entry, which systemd-sysusers accepts;
#  6. privilege separation: ExecStart= runs the agent as root ("!") with no capability but
#     CAP_SETUID and CAP_SETGID, the system-call filter allows exactly what the drop needs,
#     and the example config drops to User= and runs plugins as a user of their own that
#     sysusers.d creates.
# ExecStart= points at the configured sbindir; before `make install` that binary does not exist,
# so the copies being verified run the anycast-agent just built instead.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/tally.sh"
unit=$top_builddir/contrib/anycast-agent.service

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (Debian package systemd)"
	exit 77
fi
if [ ! -f "$unit" ] || [ ! -x "$top_builddir/anycast-agent" ]; then
	echo "FAIL: $unit or $top_builddir/anycast-agent missing: run make first"
	exit 99
fi

tmp=$(mktemp -d "/tmp/anycast-systemd.$$.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

# --- 1. substitution --------------------------------------------------------------------------
init=$top_builddir/contrib/anycast-agent-init.service
withdraw=$top_builddir/contrib/anycast-agent-withdraw.service
tmpfiles=$top_builddir/contrib/tmpfiles.d/anycast-agent.conf
dropin=$top_srcdir/contrib/bird.service.d/anycast-agent.conf
if grep -n '@[a-z_]*@' "$unit" "$init" "$withdraw" "$tmpfiles"; then
	fail "unsubstituted @variable@ left"
else
	pass "every @variable@ substituted"
fi

# --- 2. systemd-analyze verify ----------------------------------------------------------------
exec_start=$(sed -n 's/^ExecStart=!\{0,1\}\([^ ]*\) .*/\1/p' "$unit")
conf=$(sed -n 's/^ExecStart=.* -f \([^ ]*\)$/\1/p' "$unit")
[ -n "$exec_start" ] && [ -n "$conf" ] || fail "cannot read ExecStart= binary and -f CONF"
binary=$exec_start
[ -x "$binary" ] || binary=$top_builddir/anycast-agent
units=$tmp/units
mkdir -p "$units/bird.service.d" "$tmp/man/man8" "$tmp/man/man5"
for u in "$unit" "$init" "$withdraw"; do
	sed "s|$exec_start|$binary|g" "$u" >"$units/${u##*/}"
done
cp "$dropin" "$units/bird.service.d/"
cp "$top_srcdir/doc/anycast-agent.8" "$tmp/man/man8/"
cp "$top_srcdir/doc/anycast-agent.conf.5" "$tmp/man/man5/"
verify() { # UNIT: from inside the directory (verify reads a unit's name from its file name)
	out=$(cd "$units" && MANPATH="$tmp/man" SYSTEMD_UNIT_PATH="$units:" \
		systemd-analyze verify "$1" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify $1 exited $rc:"
		printf '%s\n' "$out"
	else
		pass "systemd-analyze verify $1: no warnings"
	fi
}
for u in anycast-agent.service anycast-agent-init.service anycast-agent-withdraw.service; do
	verify "$u"
done
if [ -f /lib/systemd/system/bird.service ]; then
	sed -e "s|^ExecStartPre=|ExecStartPre=/bin/true |" -e "s|^ExecStart=[^ ]*|ExecStart=/bin/true|" \
		-e '/^EnvironmentFile=/d' /lib/systemd/system/bird.service >"$units/bird.service"
	verify bird.service
	deps=$(cd "$units" && SYSTEMD_UNIT_PATH="$units:" systemd-analyze verify bird.service >/dev/null 2>&1 &&
		grep -h '^\(Wants\|After\)=' "$units/bird.service.d/anycast-agent.conf")
	[ "$(echo "$deps" | grep -c 'anycast-agent-init.service')" = 2 ] &&
		pass "bird.service drop-in: Wants= and After= anycast-agent-init.service" ||
		fail "bird.service drop-in does not order anycast-agent-init.service before BIRD: $deps"
else
	fail "no /lib/systemd/system/bird.service to verify the drop-in with (install bird2)"
fi

# --- 3. an agent that cannot come back withdraws; BIRD starts from withdrawn decisions ---------
val() { sed -n "s/^$2=//p" "$1" | tail -n 1; }
[ "$(val "$unit" OnFailure)" = anycast-agent-withdraw.service ] &&
	pass "OnFailure=anycast-agent-withdraw.service" || fail "OnFailure= is '$(val "$unit" OnFailure)'"
rs=$(val "$unit" RestartSec) burst=$(val "$unit" StartLimitBurst) iv=$(val "$unit" StartLimitIntervalSec)
if [ -n "$rs" ] && [ -n "$burst" ] && [ -n "$iv" ] && [ $((rs * burst)) -lt "$iv" ] &&
	[ "$(val "$unit" Restart)" = on-failure ]; then
	pass "a crash loop fails the unit: $burst starts $rs s apart within StartLimitIntervalSec=$iv"
else
	fail "RestartSec=$rs x StartLimitBurst=$burst must stay under StartLimitIntervalSec=$iv"
fi
[ "$(val "$withdraw" ExecStart)" = "$exec_start --withdraw-all -f $conf" ] &&
	pass "the withdraw unit runs --withdraw-all -f $conf" ||
	fail "withdraw unit ExecStart=$(val "$withdraw" ExecStart)"
[ "$(val "$init" ExecStart)" = "$exec_start --init -f $conf" ] &&
	pass "the init unit runs --init -f $conf" || fail "init unit ExecStart=$(val "$init" ExecStart)"
grep -q "^Before=.*bird.service" "$init" || fail "the init unit is not ordered before bird.service"
[ "$(val "$unit" RuntimeDirectoryPreserve)" = yes ] &&
	pass "RuntimeDirectoryPreserve=yes: a stop leaves the decisions BIRD includes" ||
	fail "RuntimeDirectoryPreserve is not yes: a stop would delete the decision files"
rundir=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
# the example as `make install` installs it: this build's runstatedir
statedir_run=$(sed -n 's/^\s*state_dir = "\(.*\)";/\1/p' "$top_builddir/contrib/anycast-agent.conf.installed")
grep -q "^d $statedir_run 0755 " "$tmpfiles" || fail "tmpfiles.d does not make $statedir_run"
if command -v systemd-tmpfiles >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && id anycast-agent >/dev/null 2>&1; then
	mkdir -p "$tmp/root/run"
	systemd-tmpfiles --create --root="$tmp/root" "$tmpfiles" >/dev/null 2>&1
	[ -d "$tmp/root$statedir_run" ] && pass "systemd-tmpfiles makes $statedir_run" ||
		fail "systemd-tmpfiles did not make $statedir_run"
fi

# --- 4. hardening -----------------------------------------------------------------------------
level=$(cd "$units" && systemd-analyze security --offline=yes anycast-agent.service 2>&1 |
	sed -n 's/.*Overall exposure level for anycast-agent.service: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	fail "systemd-analyze security gave no exposure level"
elif awk "BEGIN { exit !($level < 2.5) }"; then
	pass "systemd-analyze security: exposure $level"
else
	fail "systemd-analyze security: exposure $level, want < 2.5 (hardening removed?)"
fi
# The offline analysis scores User=, but ExecStart=! runs the agent as root until it drops:
# scored as a root service (no User=), the exposure must stay below 2.5 too.
mkdir -p "$tmp/asroot"
sed '/^User=/d; /^Group=/d; /^SupplementaryGroups=/d' "$units/anycast-agent.service" \
	>"$tmp/asroot/anycast-agent.service"
level=$(cd "$tmp/asroot" && systemd-analyze security --offline=yes anycast-agent.service 2>&1 |
	sed -n 's/.*Overall exposure level for anycast-agent.service: \([0-9.]*\).*/\1/p')
if [ -n "$level" ] && awk "BEGIN { exit !($level < 2.5) }"; then
	pass "systemd-analyze security, scored as root until the drop: exposure $level"
else
	fail "systemd-analyze security scored as root: exposure '$level', want < 2.5"
fi

# --- 5. consistency with the example config and sysusers.d ------------------------------------
example=$top_srcdir/contrib/anycast-agent.conf
statedir=$(sed -n 's/^StateDirectory=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
grep -q "state_dir = \"/run/$rundir/" "$example" &&
	grep -q "state_file = \"/var/lib/$statedir/" "$example" &&
	grep -q "socket = \"/run/$rundir/" "$example" &&
	pass "example config: decisions and socket in /run/$rundir, drains in /var/lib/$statedir" ||
	fail "contrib/anycast-agent.conf paths are outside StateDirectory=$statedir or" \
		"RuntimeDirectory=$rundir (ProtectSystem=strict makes them read-only)"
sysusers=$top_srcdir/contrib/sysusers.d/anycast-agent.conf
grep -q "^u $user " "$sysusers" || fail "sysusers.d entry does not create User=$user"
if command -v systemd-sysusers >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	mkdir -p "$tmp/root/etc"
	if systemd-sysusers --root="$tmp/root" "$sysusers" >"$tmp/sysusers.out" 2>&1 &&
		grep -q "^$user:x:[0-9]*:[0-9]*:.*:/var/lib/$statedir:" "$tmp/root/etc/passwd" &&
		grep -q "^$user:x:" "$tmp/root/etc/group"; then
		pass "systemd-sysusers creates user and group $user"
	else
		fail "systemd-sysusers did not create $user:"
		cat "$tmp/sysusers.out" "$tmp/root/etc/passwd" 2>/dev/null
	fi
fi

# --- 6. privilege separation -------------------------------------------------------------------
grep -q '^ExecStart=!/' "$unit" && pass "ExecStart=! : the agent starts as root to start its exec helper and drop" ||
	fail "ExecStart= lacks the \"!\" prefix: the agent could not start its exec helper as exec_user"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ "$caps" = "CAP_SETUID CAP_SETGID" ] && pass "CapabilityBoundingSet=$caps" ||
	fail "CapabilityBoundingSet=$caps, want exactly CAP_SETUID CAP_SETGID"
[ -z "$(sed -n 's/^AmbientCapabilities=//p' "$unit")" ] || fail "AmbientCapabilities= is not empty"
# the unit's SystemCallFilter= lines in order (an allow list, then ~ removes, a plain one adds
# back), expanded by systemd-analyze; every call the start makes must be in what is left
expand() {
	local x
	for x in "$@"; do
		case $x in
		@*) systemd-analyze syscall-filter "$x" 2>/dev/null |
			awk 'NR > 2 && $1 !~ /^#/ && NF { print $1 }' | while read -r y; do expand "$y"; done ;;
		*) echo "$x" ;;
		esac
	done
}
: >"$tmp/allowed"
while read -r line; do
	case $line in
	'~'*) expand ${line#\~} | sort -u >"$tmp/drop" && grep -vxF -f "$tmp/drop" "$tmp/allowed" >"$tmp/a2"
		mv "$tmp/a2" "$tmp/allowed" ;;
	*) { cat "$tmp/allowed"; expand $line; } | sort -u >"$tmp/a2" && mv "$tmp/a2" "$tmp/allowed" ;;
	esac
done <<EOF
$(sed -n 's/^SystemCallFilter=//p' "$unit")
EOF
missing=
for sc in setgroups setresgid setresuid getresuid getresgid capget prctl close_range socketpair \
	fchown execve setsid kill; do
	grep -qx "$sc" "$tmp/allowed" || missing="$missing $sc"
done
[ -z "$missing" ] && [ -s "$tmp/allowed" ] &&
	pass "SystemCallFilter= allows what the drop and the exec helper call ($(wc -l <"$tmp/allowed") calls)" ||
	fail "SystemCallFilter= refuses:$missing (the start would fail with EPERM under the unit)"
cuser=$(sed -n 's/^user = "\([^"]*\)".*/\1/p' "$example")
cexec=$(sed -n 's/^exec_user = "\([^"]*\)".*/\1/p' "$example")
[ "$cuser" = "$user" ] && [ -n "$cexec" ] && [ "$cexec" != "$user" ] &&
	grep -q "^u $cexec " "$sysusers" &&
	pass "the example config drops to user = $cuser (User=) and runs plugins as exec_user = $cexec (sysusers.d)" ||
	fail "example config user=\"$cuser\" exec_user=\"$cexec\", User=$user; sysusers.d: $(grep '^u ' "$sysusers")"
if [ -f "$tmp/root/etc/passwd" ]; then
	grep -q "^$cexec:x:" "$tmp/root/etc/passwd" && pass "systemd-sysusers creates $cexec" ||
		fail "systemd-sysusers did not create $cexec"
fi

tally_end "systemd unit"
