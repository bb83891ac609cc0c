#!/bin/sh
# test_systemd_unit.sh - the generated contrib/anycast-agent.service:
#  1. every @variable@ was substituted by make;
#  2. `systemd-analyze verify` prints nothing (no warning at all) for the unit as shipped and
#     with its opt-in ExecStopPost= line enabled; its man pages are found through MANPATH;
#  3. the ExecStopPost= guard runs `--withdraw-all -f CONF` for every failed SERVICE_RESULT and
#     not after a clean stop;
#  4. the sandbox stays hardened (`systemd-analyze security` exposure below 2.5);
#  5. the unit agrees with the example config (state and runtime directories) and with the
#     sysusers.d entry, which systemd-sysusers accepts;
#  6. privilege separation: ExecStart= runs the agent as root ("!") with no capability but
#     CAP_SETUID and CAP_SETGID, the system-call filter allows exactly what the drop needs,
#     and the example config drops to User= and runs plugins as a user of their own that
#     sysusers.d creates.
# ExecStart= points at the configured sbindir; before `make install` that binary does not exist,
# so the copy being verified runs the anycast-agent just built instead.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
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
fails=0
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
ok() {
	echo "ok: $*"
}

# --- 1. substitution --------------------------------------------------------------------------
if grep -n '@[a-z_]*@' "$unit"; then
	fail "unsubstituted @variable@ left in $unit"
else
	ok "every @variable@ substituted"
fi

# --- 2. systemd-analyze verify ----------------------------------------------------------------
exec_start=$(sed -n 's/^ExecStart=!\{0,1\}\([^ ]*\) .*/\1/p' "$unit")
conf=$(sed -n 's/^ExecStart=.* -f \([^ ]*\)$/\1/p' "$unit")
[ -n "$exec_start" ] && [ -n "$conf" ] || fail "cannot read ExecStart= binary and -f CONF"
binary=$exec_start
[ -x "$binary" ] || binary=$top_builddir/anycast-agent
mkdir -p "$tmp/shipped" "$tmp/optin" "$tmp/man/man8" "$tmp/man/man5"
sed "s|$exec_start|$binary|g" "$unit" >"$tmp/shipped/anycast-agent.service"
sed "s|^#ExecStopPost=|ExecStopPost=|" "$tmp/shipped/anycast-agent.service" \
	>"$tmp/optin/anycast-agent.service"
grep -q '^ExecStopPost=' "$tmp/optin/anycast-agent.service" || fail "no opt-in ExecStopPost= line"
cp "$top_srcdir/doc/anycast-agent.8" "$tmp/man/man8/"
cp "$top_srcdir/doc/anycast-agent.conf.5" "$tmp/man/man5/"

for variant in shipped optin; do
	# from inside the directory: verify reads the unit's own name from the file name
	out=$(cd "$tmp/$variant" && MANPATH="$tmp/man" systemd-analyze verify anycast-agent.service 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify ($variant unit) exited $rc:"
		printf '%s\n' "$out"
	else
		ok "systemd-analyze verify ($variant unit): no warnings"
	fi
done

# --- 3. ExecStopPost= guard -------------------------------------------------------------------
# The line's shell script, with systemd's "$$" unescaped, run by sh as systemd would run it.
script=$(sed -n "s/^#ExecStopPost=\/bin\/sh -c '\(.*\)'\$/\1/p" "$unit" | sed 's/\$\$/$/g')
[ -n "$script" ] || fail "cannot read the ExecStopPost= /bin/sh -c '...' script"
cat >"$tmp/fake-agent" <<EOF
#!/bin/sh
echo "\$*" >>"$tmp/calls"
EOF
chmod +x "$tmp/fake-agent"
script=$(printf '%s' "$script" | sed "s|$exec_start|$tmp/fake-agent|g")
for result in success exit-code signal core-dump watchdog timeout oom-kill protocol resources; do
	rm -f "$tmp/calls"
	SERVICE_RESULT=$result /bin/sh -c "$script" || fail "ExecStopPost script failed ($result)"
	if [ $result = success ]; then
		[ ! -e "$tmp/calls" ] && ok "SERVICE_RESULT=success: no withdraw (the agent did it)" ||
			fail "SERVICE_RESULT=success ran: $(cat "$tmp/calls")"
	else
		got=$(cat "$tmp/calls" 2>/dev/null)
		[ "$got" = "--withdraw-all -f $conf" ] && ok "SERVICE_RESULT=$result: withdraw-all" ||
			fail "SERVICE_RESULT=$result ran \"$got\", want \"--withdraw-all -f $conf\""
	fi
done

# --- 4. hardening -----------------------------------------------------------------------------
level=$(cd "$tmp/shipped" && systemd-analyze security --offline=yes anycast-agent.service 2>&1 |
	sed -n 's/.*Overall exposure level for anycast-agent.service: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	fail "systemd-analyze security gave no exposure level"
elif awk "BEGIN { exit !($level < 2.5) }"; then
	ok "systemd-analyze security: exposure $level"
else
	fail "systemd-analyze security: exposure $level, want < 2.5 (hardening removed?)"
fi
# The offline analysis scores User=, but ExecStart=! runs the agent as root until it drops:
# scored as a root service (no User=), the exposure must stay below 2.5 too.
mkdir -p "$tmp/asroot"
sed '/^User=/d; /^Group=/d; /^SupplementaryGroups=/d' "$tmp/shipped/anycast-agent.service" \
	>"$tmp/asroot/anycast-agent.service"
level=$(cd "$tmp/asroot" && systemd-analyze security --offline=yes anycast-agent.service 2>&1 |
	sed -n 's/.*Overall exposure level for anycast-agent.service: \([0-9.]*\).*/\1/p')
if [ -n "$level" ] && awk "BEGIN { exit !($level < 2.5) }"; then
	ok "systemd-analyze security, scored as root until the drop: exposure $level"
else
	fail "systemd-analyze security scored as root: exposure '$level', want < 2.5"
fi

# --- 5. consistency with the example config and sysusers.d ------------------------------------
example=$top_srcdir/contrib/anycast-agent.conf
statedir=$(sed -n 's/^StateDirectory=//p' "$unit")
rundir=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
grep -q "state_dir = \"/var/lib/$statedir/" "$example" &&
	grep -q "socket = \"/run/$rundir/" "$example" &&
	ok "example config uses /var/lib/$statedir and /run/$rundir" ||
	fail "contrib/anycast-agent.conf paths are outside StateDirectory=$statedir or" \
		"RuntimeDirectory=$rundir (ProtectSystem=strict makes them read-only)"
sysusers=$top_srcdir/contrib/sysusers.d/anycast-agent.conf
grep -q "^u $user " "$sysusers" || fail "sysusers.d entry does not create User=$user"
if command -v systemd-sysusers >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	mkdir -p "$tmp/root/etc"
	if systemd-sysusers --root="$tmp/root" "$sysusers" >"$tmp/sysusers.out" 2>&1 &&
		grep -q "^$user:x:[0-9]*:[0-9]*:.*:/var/lib/$statedir:" "$tmp/root/etc/passwd" &&
		grep -q "^$user:x:" "$tmp/root/etc/group"; then
		ok "systemd-sysusers creates user and group $user"
	else
		fail "systemd-sysusers did not create $user:"
		cat "$tmp/sysusers.out" "$tmp/root/etc/passwd" 2>/dev/null
	fi
fi

# --- 6. privilege separation -------------------------------------------------------------------
grep -q '^ExecStart=!/' "$unit" && ok "ExecStart=! : the agent starts as root to start its exec helper and drop" ||
	fail "ExecStart= lacks the \"!\" prefix: the agent could not start its exec helper as exec_user"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
[ "$caps" = "CAP_SETUID CAP_SETGID" ] && ok "CapabilityBoundingSet=$caps" ||
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
	ok "SystemCallFilter= allows what the drop and the exec helper call ($(wc -l <"$tmp/allowed") calls)" ||
	fail "SystemCallFilter= refuses:$missing (the start would fail with EPERM under the unit)"
cuser=$(sed -n 's/^user = "\([^"]*\)".*/\1/p' "$example")
cexec=$(sed -n 's/^exec_user = "\([^"]*\)".*/\1/p' "$example")
[ "$cuser" = "$user" ] && [ -n "$cexec" ] && [ "$cexec" != "$user" ] &&
	grep -q "^u $cexec " "$sysusers" &&
	ok "the example config drops to user = $cuser (User=) and runs plugins as exec_user = $cexec (sysusers.d)" ||
	fail "example config user=\"$cuser\" exec_user=\"$cexec\", User=$user; sysusers.d: $(grep '^u ' "$sysusers")"
if [ -f "$tmp/root/etc/passwd" ]; then
	grep -q "^$cexec:x:" "$tmp/root/etc/passwd" && ok "systemd-sysusers creates $cexec" ||
		fail "systemd-sysusers did not create $cexec"
fi

[ $fails = 0 ] && echo "PASS: systemd unit" || echo "$fails failure(s)"
[ $fails = 0 ]
