#!/bin/bash
# SPDX-License-Identifier: ISC
# test_privilege.sh - least privilege and the exec helper, as root, with temporary users and
# groups (deleted on exit) and a private BIRD 2 whose socket is 0660 root:<a test group
# standing for bird>:
#   started as root with user = U and exec_user = X: /proc says every uid and gid of the agent
#   is U's, its groups are U's (the BIRD group among them, root's not), no capability; the
#   directories it created are U's; the control socket is 0660 U:control.group; a plugin runs
#   as X in the exec helper, its /proc/self/status without BIRD's group; a hostile plugin
#   that tries to overwrite and create decision files in bird.state_dir and to `birdc
#   disable` fails (its own report, BIRD's protocol untouched, no drift, files unchanged);
#   BIRD is reached through the supplementary group, also after a BIRD restart; a member of
#   control.group reads status but cannot drain; someone outside it cannot connect; an admin
#   drains and the dropped agent writes the state file; a reload that asks for another
#   exec_user is refused; the helper killed: the exec check fails with the reason, BIRD's
#   protocol is withdrawn, the agent logs it once; SIGTERM removes the socket.
#   refusals (exit 1, a message naming the setting): exec_user in BIRD's group, exec_user
#   able to write bird.state_dir, exec_user in control.admin_group, exec_user = user, the
#   default plugin user missing, user not in control.group, a user that does not exist, a
#   non-root start with another user or with exec_user.
#   started as root without user: runs, warns, plugins as exec_user in the helper; started
#   unprivileged: plugins run as the agent, with one warning.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/bird.sh"
. "$top_srcdir/tests/lib/tally.sh"
agent=$top_builddir/anycast-agent
anycastctl=$top_builddir/anycastctl
ctl=$top_builddir/tests/integration/ctl_client

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (it creates users and drops privileges)"
	exit 77
fi
for t in useradd groupadd userdel groupdel runuser; do
	command -v $t >/dev/null || {
		echo "SKIP: $t not found (Debian packages passwd and util-linux)"
		exit 77
	}
done

# names of at most 32 characters, unique to this run
n=$$
G_BIRD=aapb$n G_CTL=aapc$n G_ADM=aapa$n
U_AGENT=aapu$n U_READ=aapr$n U_ADMIN=aapd$n U_OUT=aapo$n U_EXEC=aapx$n U_EVIL=aape$n
U_LONE=aapl$n U_ADMX=aapm$n U_SUPP=aaps$n
USERS="$U_AGENT $U_READ $U_ADMIN $U_OUT $U_EXEC $U_EVIL $U_LONE $U_ADMX $U_SUPP"
GROUPS_MADE="$G_BIRD $G_CTL $G_ADM"
apid=
cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	wait 2>/dev/null
	pkill_helpers
	bird_fixture_cleanup
	for u in $USERS; do
		id "$u" >/dev/null 2>&1 && userdel "$u" >/dev/null 2>&1
		getent group "$u" >/dev/null && groupdel "$u" >/dev/null 2>&1
	done
	for g in $GROUPS_MADE; do
		getent group "$g" >/dev/null && groupdel "$g" >/dev/null 2>&1
	done
}
# the helpers this test started (their user is one of ours), by pid
pkill_helpers() {
	local u p
	for u in $USERS; do
		for p in $(pgrep -u "$u" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bird_fixture_need 2

tally_on_die() {
	[ -f "$dir/agent.log" ] && { echo "--- agent log"; tail -n 40 "$dir/agent.log"; }
}
poll() { bird_poll "$@"; }

for g in $GROUPS_MADE; do
	groupadd --system "$g" || die "groupadd $g"
done
mkuser() { # NAME [GROUPS]
	useradd --system --user-group --no-create-home --shell /usr/sbin/nologin \
		${2:+--groups "$2"} "$1" || die "useradd $1"
}
# the agent's user reaches BIRD (G_BIRD) and gives its control socket to G_CTL
mkuser "$U_AGENT" "$G_BIRD,$G_CTL"
mkuser "$U_READ" "$G_CTL"
mkuser "$U_ADMIN" "$G_CTL,$G_ADM"
mkuser "$U_OUT"
mkuser "$U_EXEC"
mkuser "$U_LONE" "$G_BIRD"
# plugin users whose primary group is BIRD's or the admin group: refused
useradd --system --gid "$G_BIRD" --no-create-home --shell /usr/sbin/nologin "$U_EVIL" ||
	die "useradd $U_EVIL"
useradd --system --gid "$G_ADM" --no-create-home --shell /usr/sbin/nologin "$U_ADMX" ||
	die "useradd $U_ADMX"
# one listed in both groups in /etc/group: a plugin gets no supplementary group at all
mkuser "$U_SUPP" "$G_BIRD,$G_ADM"
uid_of() { id -u "$1"; }
gid_of() { getent group "$1" | cut -d: -f3; }

# every user must reach the files: the fixture's temp dir is 0700
chmod 0755 "$BIRD_FIXTURE_DIR"
dir=$BIRD_FIXTURE_DIR/priv
mkdir -p "$dir/bird"
chmod 0755 "$dir" "$dir/bird"
cat >"$dir/bird/bird.conf" <<CONF
router id 192.0.2.1;
log "$dir/bird/bird.log" all;
protocol device { }
protocol static anycast_web4 { disabled yes; ipv4; route 192.0.2.80/32 unreachable; }
CONF
# BIRD's socket as Debian has it (0660, group bird), with a test group for bird
start_bird() {
	bird_start "$dir/bird" 2 || die "BIRD did not start"
	[ "${1:-}" = wrong-group ] && return
	chgrp "$G_BIRD" "$dir/bird/bird.ctl" && chmod 0660 "$dir/bird/bird.ctl" ||
		die "cannot give BIRD's socket to $G_BIRD"
}
start_bird

# a plugin that says who it is, from id(1) and from the kernel's /proc/self/status
cat >"$dir/id-plugin" <<'SH'
#!/bin/sh
groups=$(awk '$1 == "Groups:" { $1 = ""; print substr($0, 2) }' /proc/self/status | tr ' ' ,)
echo "ID OK - uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,) proc_groups=$groups"
SH
# a plugin gone bad: it tries to take BIRD's authority; it exits 0 only if all was refused
cat >"$dir/hostile-plugin" <<'SH'
#!/bin/sh
sd=$1 sock=$2 birdc=$3
if (echo 'disabled yes;' >"$sd/anycast_web4.conf") 2>/dev/null; then ow=WROTE; else ow=denied; fi
if (echo 'disabled yes;' >"$sd/injected.conf") 2>/dev/null; then cr=CREATED; else cr=denied; fi
b=$("$birdc" -s "$sock" disable anycast_web4 2>&1 | head -n 1)
case $b in *disabled*) br=DISABLED ;; *"ermission denied"*) br=denied ;; *) br="other: $b" ;; esac
if [ $ow$cr$br = denieddenieddenied ]; then
	echo "HOSTILE OK - overwrite: denied; create: denied; birdc: denied ($b)"
	exit 0
fi
echo "HOSTILE CRITICAL - overwrite: $ow; create: $cr; birdc: $br"
exit 2
SH
chmod 0755 "$dir/id-plugin" "$dir/hostile-plugin"

sock=$dir/run/agent.ctl
write_conf() { # extra top-level lines
	cat >"$dir/agent.conf" <<CONF
bird: { socket = "$dir/bird/bird.ctl"; state_dir = "$dir/lib/bird"; timeout = 0.5;
        reconcile_interval = 0.5; };
control: { socket = "$sock"; group = "$G_CTL"; admin_group = "$G_ADM"; };
state_file = "$dir/lib/operator.state";
$1
checks: {
  whoami: { type = "exec"; command = [ "$dir/id-plugin" ]; interval = 0.2; timeout = 0.2;
            rise = 2; fall = 1; };
  hostile: { type = "exec"; command = [ "$dir/hostile-plugin", "$dir/lib/bird",
             "$dir/bird/bird.ctl", "$BIRDC_BIN" ]; interval = 0.3; timeout = 0.29; };
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; requires = [ "whoami" ]; prefixes = [ "192.0.2.80/32" ];
         drain_time = 0; hold_down = 0; };
};
CONF
	chmod 0644 "$dir/agent.conf"
}
start_agent() {
	"$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1 &
	apid=$!
	poll 10 "$ctl" "$sock" '{"verb":"status"}' || die "the control socket never answered"
}
stop_agent() {
	kill -TERM "$apid"
	wait "$apid"
	rc=$?
	apid=
	return $rc
}
status() { "$ctl" "$sock" '{"verb":"status"}'; }
check_detail() { # CHECK
	status | grep -o "\"name\":\"$1\",\"type\":\"exec\"[^}]*" | sed 's/.*"detail":"\([^"]*\)".*/\1/'
}
bird_connected() { status | grep -q '"name":"default","path":"[^"]*","connected":true'; }
bird_error() { status | grep -o '"last_error":"[^"]*"' | head -n 1; }
proto_row() { bird_cli "$dir/bird" show protocols anycast_web4 | awk '$1 == "anycast_web4"'; }
proto_state() { proto_row | awk '{ print $4 }'; }
proto_is() { [ "$(proto_state)" = "$1" ]; }
plugin_ran() { check_detail whoami | grep -q 'ID OK'; }
# plugin_as_exec_user WHAT: the plugin ran as exec_user (X, XG), its primary group only
plugin_as_exec_user() {
	local det
	poll 10 plugin_ran || die "the plugin never ran"
	det=$(check_detail whoami)
	[ "$det" = "ID OK - uid=$X gid=$XG groups=$XG proc_groups=" ] && pass "$1: $det" ||
		fail "plugin identity '$det', want uid=$X gid=$XG groups=$XG and no supplementary group"
}
hostile_ran() { check_detail hostile | grep -q 'HOSTILE'; }
counter() { # CHECK NAME
	status | grep -o "\"name\":\"$1\",\"type\".*" | grep -o "\"$2\":[0-9]*" | head -n 1 | cut -d: -f2
}
bird_refused() { status | grep -q '"last_error":"[^"]*[Pp]ermission denied'; }
proc_field() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }
helper_pid() { pgrep -u "$1" -f -- '--exec-helper' | head -n 1; }

# --- started as root with user and exec_user --------------------------------------------------
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_EXEC\";"
start_agent
U=$(uid_of "$U_AGENT") G=$(gid_of "$U_AGENT") GB=$(gid_of "$G_BIRD") GC=$(gid_of "$G_CTL")
X=$(uid_of "$U_EXEC") XG=$(gid_of "$U_EXEC")

uids=$(proc_field "$apid" Uid) gids=$(proc_field "$apid" Gid) groups=$(proc_field "$apid" Groups)
[ "$(echo $uids)" = "$U $U $U $U" ] && [ "$(echo $gids)" = "$G $G $G $G" ] &&
	pass "the agent runs as $U_AGENT: Uid: $uids, Gid: $gids (real, effective, saved, fs)" ||
	fail "the agent's ids are Uid: $uids, Gid: $gids; want all $U and $G"
case " $groups " in
*" 0 "*) fail "the agent kept group root: Groups: $groups" ;;
*" $GB "*) pass "its supplementary groups are $U_AGENT's: Groups: $groups ($G_BIRD = $GB)" ;;
*) fail "the agent is not in $G_BIRD ($GB): Groups: $groups" ;;
esac
caps=$(proc_field "$apid" CapEff)/$(proc_field "$apid" CapPrm)
[ "$caps" = 0000000000000000/0000000000000000 ] && pass "no capability left: CapEff/CapPrm $caps" ||
	fail "the agent kept capabilities: CapEff/CapPrm $caps"
grep -q "dropped root: running as user $U_AGENT" "$dir/agent.log" && pass "the drop is logged" ||
	fail "no 'dropped root' line in the log"

perm=$(stat -c '%a %U %G' "$sock")
[ "$perm" = "660 $U_AGENT $G_CTL" ] && pass "control socket: $perm" ||
	fail "control socket is '$perm', want '660 $U_AGENT $G_CTL'"
for d in "$dir/run" "$dir/lib" "$dir/lib/bird"; do
	o=$(stat -c '%U:%G %a' "$d")
	[ "$o" = "$U_AGENT:$U_AGENT 755" ] || fail "$d is $o, want $U_AGENT:$U_AGENT 755"
done
pass "the directories it created are $U_AGENT's"

# the helper: a process of exec_user, not dumpable, child of the agent
hp=$(helper_pid "$U_EXEC")
[ -n "$hp" ] || die "no exec helper running as $U_EXEC"
[ "$(echo $(proc_field "$hp" Uid))" = "$X $X $X $X" ] && [ "$(proc_field "$hp" PPid)" = "$apid" ] &&
	[ -z "$(proc_field "$hp" Groups)" ] &&
	pass "the exec helper (pid $hp, $(cat /proc/$hp/comm)) runs as $U_EXEC, no supplementary group, child of the agent" ||
	fail "exec helper $hp: Uid $(proc_field "$hp" Uid), PPid $(proc_field "$hp" PPid), Groups $(proc_field "$hp" Groups)"
[ "$(stat -c %U "/proc/$hp/mem" 2>/dev/null)" = root ] &&
	pass "the helper is not dumpable: its /proc files are root's, plugins cannot ptrace it" ||
	fail "the helper's /proc/$hp/mem belongs to $(stat -c %U "/proc/$hp/mem")"
grep -q "exec checks run as $U_EXEC (uid $X, gid $XG) in the exec helper, pid $hp" "$dir/agent.log" &&
	pass "logged: $(grep -o 'exec checks run as .*, pid [0-9]*' "$dir/agent.log")" ||
	fail "no 'exec checks run as $U_EXEC' line"

plugin_as_exec_user "the plugin runs as exec_user $U_EXEC, no BIRD group in /proc/self/status"

poll 10 bird_connected && pass "BIRD (socket 0660 root:$G_BIRD) reached through the supplementary group" ||
	fail "not connected to BIRD: $(bird_error)"
poll 10 proto_is up &&
	pass "the dropped agent enabled anycast_web4 in BIRD" ||
	fail "anycast_web4 is $(proto_state), not up"

# the hostile plugin, seen from its own report, from BIRD and from the files
since=$(proto_row | awk '{ print $5, $6 }')
decision=$(cat "$dir/lib/bird/anycast_web4.conf")
poll 10 hostile_ran || die "the hostile plugin never ran"
r0=$(counter hostile runs)
three_more() { [ "$(counter hostile runs)" -ge $((r0 + 3)) ]; }
poll 10 three_more || fail "the hostile plugin stopped running"
det=$(check_detail hostile)
case $det in
"HOSTILE OK - overwrite: denied; create: denied; birdc: denied ("*"ermission denied"*)
	pass "a hostile plugin is refused everything: $det" ;;
*) fail "the hostile plugin reports: $det" ;;
esac
[ "$(counter hostile failures)" = 0 ] && pass "in all $(counter hostile runs) runs it never got through" ||
	fail "the hostile plugin failed $(counter hostile failures) of $(counter hostile runs) runs: $det"
[ "$(proto_row | awk '{ print $5, $6 }')" = "$since" ] && proto_is up &&
	pass "BIRD's anycast_web4 stayed up since $since: the plugin's birdc disable never reached BIRD" ||
	fail "anycast_web4 changed: $(proto_row) (was up since $since)"
grep -q 'drifted' "$dir/agent.log" && fail "the agent corrected a drift: $(grep drifted "$dir/agent.log" | head -n 1)" ||
	pass "no drift for the agent to correct"
[ "$(cat "$dir/lib/bird/anycast_web4.conf")" = "$decision" ] && [ ! -e "$dir/lib/bird/injected.conf" ] &&
	pass "the decision file is unchanged and nothing was added to bird.state_dir" ||
	fail "bird.state_dir changed: $(ls -l "$dir/lib/bird")"

# BIRD restarts; its new socket is root's group first: refused, then given to the group
bird_stop "$dir/bird"
start_bird wrong-group
poll 15 bird_refused &&
	pass "with BIRD's socket in group root the agent is refused: $(bird_error)" ||
	fail "no 'permission denied' from BIRD's socket in group root: $(bird_error)"
chgrp "$G_BIRD" "$dir/bird/bird.ctl"
poll 15 bird_connected && pass "after chgrp $G_BIRD the agent reconnects as $U_AGENT" ||
	fail "no reconnect after chgrp: $(bird_error)"

# who may do what on the control socket
out=$(runuser -u "$U_READ" -- "$anycastctl" -s "$sock" status -o json 2>&1)
case $out in *'"version"'*) pass "$U_READ (in $G_CTL) reads status" ;;
*) fail "$U_READ cannot read status: $out" ;;
esac
out=$(runuser -u "$U_READ" -- "$anycastctl" -s "$sock" drain --reason test 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "needs root or membership of group $G_ADM" &&
	pass "$U_READ cannot drain: $out" ||
	fail "$U_READ drained (exit $rc): $out"
out=$(runuser -u "$U_OUT" -- "$anycastctl" -s "$sock" status -o json 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q 'not permitted to connect' &&
	pass "$U_OUT (not in $G_CTL) cannot connect: $out" ||
	fail "$U_OUT got an answer (exit $rc): $out"
out=$(runuser -u "$U_ADMIN" -- "$anycastctl" -s "$sock" drain --reason "privilege test" 2>&1)
rc=$?
[ $rc = 0 ] && ! echo "$out" | grep -qi warning && pass "$U_ADMIN (in $G_ADM) drains: $out" ||
	fail "$U_ADMIN could not drain cleanly (exit $rc): $out"
o=$(stat -c '%U' "$dir/lib/operator.state" 2>&1)
[ "$o" = "$U_AGENT" ] && pass "the dropped agent wrote the state file (owner $o)" ||
	fail "state file: $o"
poll 10 proto_is down &&
	pass "the drain disabled anycast_web4 in BIRD" || fail "anycast_web4 is $(proto_state) after the drain"
runuser -u "$U_ADMIN" -- "$anycastctl" -s "$sock" undrain >/dev/null 2>&1 || fail "undrain"
poll 10 proto_is up || fail "anycast_web4 is $(proto_state) after the undrain"

# a reload cannot ask for another exec user: the helper keeps its user
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_OUT\";"
out=$("$anycastctl" -s "$sock" reload 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "exec_user \"$U_OUT\" differs from the user plugins run as ($U_EXEC)" &&
	pass "reload with another exec_user refused: $(echo "$out" | grep differs | head -n 1)" ||
	fail "reload with another exec_user (exit $rc): $out"
kill -0 "$apid" 2>/dev/null || die "the agent died on the refused reload"

# the helper dies: exec checks fail closed, the announcement is withdrawn, logged once
kill -9 "$hp"
gone() { check_detail whoami | grep -q 'exec helper gone'; }
poll 10 gone && pass "the helper killed: the check says '$(check_detail whoami)'" ||
	fail "after the helper died the check says: $(check_detail whoami)"
poll 10 proto_is down && pass "fail closed: anycast_web4 withdrawn in BIRD" ||
	fail "anycast_web4 is $(proto_state) with no helper"
status | grep -q '"name":"whoami","type":"exec","state":"DOWN"' &&
	pass "status: whoami is down" || fail "status: $(status | grep -o '"name":"whoami"[^}]*')"
nlog=$(grep -c 'exec checks fail from now on: the exec helper' "$dir/agent.log")
[ "$nlog" = 1 ] && grep -q "the exec helper (pid $hp, user $U_EXEC) was killed by signal 9" "$dir/agent.log" &&
	pass "logged once: $(grep -o 'exec checks fail from now on.*' "$dir/agent.log")" ||
	fail "the helper's death logged $nlog times: $(grep 'exec helper' "$dir/agent.log")"
kill -0 "$apid" 2>/dev/null && pass "the agent keeps running (other checks, drains, BIRD)" ||
	die "the agent died with its helper"

stop_agent || fail "the agent exited $rc on SIGTERM"
[ -e "$sock" ] && fail "the control socket was left behind" ||
	pass "SIGTERM: the dropped agent removed its control socket"
[ -z "$(helper_pid "$U_EXEC")" ] || fail "a helper was left behind"

# --- a stop ends the helper and what it runs ----------------------------------------------------
rm -rf "$dir/run" "$dir/lib"
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_EXEC\";"
start_agent
poll 10 plugin_ran || die "the plugin never ran"
hp=$(helper_pid "$U_EXEC")
stop_agent || fail "the agent exited $rc on SIGTERM"
helper_left() { kill -0 "$hp" 2>/dev/null; }
poll 5 sh -c "! kill -0 $hp 2>/dev/null" && pass "SIGTERM to the agent: its helper (pid $hp) exited too" ||
	fail "the helper $hp outlived the agent"

# --- refusals ------------------------------------------------------------------------------------
try() { # EXPECTED-MESSAGE [runuser -u USER --]: the agent must exit 1 within 10 s saying it
	want=$1
	shift
	timeout 10 "$@" "$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1
	rc=$?
	msg=$(grep -F "$want" "$dir/agent.log" | head -n 1)
	[ $rc = 1 ] && [ -n "$msg" ] && pass "exit 1: $msg" ||
		fail "exit $rc, want 1 with '$want': $(tail -n 3 "$dir/agent.log")"
	[ -e "$sock" ] && fail "a refused start left $sock"
	pkill_helpers
}
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_EVIL\";"
try "exec_user \"$U_EVIL\" has the primary group $G_BIRD (gid $GB), which owns BIRD's socket $dir/bird/bird.ctl"
# a state_dir the plugin user may write: refused before a plugin can use it
rm -rf "$dir/lib" && mkdir -p "$dir/lib/bird" && chown "$U_EXEC" "$dir/lib/bird"
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_EXEC\";"
try "exec_user \"$U_EXEC\" can write bird.state_dir ($dir/lib/bird): a plugin could inject BIRD configuration"
rm -rf "$dir/lib"
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_ADMX\";"
try "exec_user \"$U_ADMX\" has the primary group $G_ADM (gid $(gid_of "$G_ADM")), which is control.admin_group: a plugin could drain"
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_AGENT\";"
try "exec_user \"$U_AGENT\" is the agent's own user"
if ! getent passwd anycast-plugin >/dev/null; then
	write_conf "user = \"$U_AGENT\";"
	try "exec_user is not set and its default \"anycast-plugin\" does not exist; create it"
fi
# the control socket's group must be one of the user's: the dropped agent gives it away
write_conf "user = \"$U_LONE\";
exec_user = \"$U_EXEC\";"
rm -rf "$dir/run" "$dir/lib"
try "the agent's user must be a member of control.group (adduser USER $G_CTL)"
rm -rf "$dir/run" "$dir/lib"
write_conf "user = \"aap-nosuch$n\";"
try "user \"aap-nosuch$n\" does not exist; create it"
write_conf "user = \"$U_AGENT\";"
try "but the agent was started as uid $(uid_of "$U_READ"), not root" runuser -u "$U_READ" --
write_conf "exec_user = \"$U_EXEC\";"
try "exec_user \"$U_EXEC\" (uid $X) needs an agent started as root" runuser -u "$U_READ" --

# --- exec_user listed in BIRD's and the admin group: plugins do not get them -----------------------
rm -rf "$dir/run" "$dir/lib"
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_SUPP\";"
start_agent
poll 10 plugin_ran || die "the plugin never ran"
S=$(uid_of "$U_SUPP") SG=$(gid_of "$U_SUPP")
det=$(check_detail whoami)
[ "$det" = "ID OK - uid=$S gid=$SG groups=$SG proc_groups=" ] &&
	pass "exec_user $U_SUPP, listed in $G_BIRD and $G_ADM: the plugin has neither: $det" ||
	fail "plugin identity '$det', want uid=$S gid=$SG and no supplementary group"
stop_agent || fail "the agent exited $rc on SIGTERM"

# --- started as root without user -------------------------------------------------------------
rm -rf "$dir/run" "$dir/lib"
write_conf "exec_user = \"$U_EXEC\";"
start_agent
[ "$(echo $(proc_field "$apid" Uid))" = "0 0 0 0" ] || fail "the agent without user is not root"
grep -q 'running as root: set user = ' "$dir/agent.log" &&
	pass "root without user: warns '$(grep -o 'running as root: set user[^;]*' "$dir/agent.log")'" ||
	fail "no warning about running as root"
plugin_as_exec_user "a root agent runs the plugin as exec_user $U_EXEC in the helper, primary group only"
stop_agent || fail "the agent exited $rc on SIGTERM"

# --- started unprivileged: plugins run as the agent, said once ------------------------------------
rm -rf "$dir/run" "$dir/lib"
mkdir -p "$dir/run" "$dir/lib" && chown "$U_READ" "$dir/run" "$dir/lib"
write_conf ""
sed -i "s/group = \"$G_CTL\"; //" "$dir/agent.conf"
runuser -u "$U_READ" -- "$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1 &
apid=$!
poll 10 "$ctl" "$sock" '{"verb":"status"}' || die "the unprivileged agent never answered"
poll 10 plugin_ran || die "the plugin never ran"
R=$(uid_of "$U_READ")
det=$(check_detail whoami)
case $det in "ID OK - uid=$R "*) pass "unprivileged: the plugin runs as the agent: $det" ;;
*) fail "unprivileged: plugin identity '$det', want uid=$R" ;; esac
[ "$(grep -c 'not started as root: exec checks (plugins) run as the agent itself' "$dir/agent.log")" = 1 ] &&
	pass "warned once: $(grep -o 'not started as root:[^;]*' "$dir/agent.log")" ||
	fail "no single 'not started as root' warning: $(grep -c 'not started as root' "$dir/agent.log")"
kill -TERM "$apid"
wait "$apid"
apid=

tally_end "least privilege"
