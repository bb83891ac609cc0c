#!/bin/bash
# test_privilege.sh - least privilege, as root, with temporary users and groups (deleted on
# exit) and a private BIRD 2 whose socket is 0660 root:<test group standing for bird>:
#   started as root with user = U: /proc says every uid and gid is U's, its groups are U's
#   (the BIRD group among them, root's not); the directories it created are U's; the control
#   socket is 0660 U:control.group; an exec plugin runs as exec_user (= U); BIRD is reached
#   through the supplementary group, also after a BIRD restart (and not while the socket's
#   group is wrong); a member of control.group reads status but cannot drain; someone outside
#   it cannot connect; an admin drains and the dropped agent writes the state file; a reload
#   that asks for another exec_user is refused; SIGTERM removes the socket.
#   started as root without user: runs, warns what to set, plugins run as exec_user;
#   user that does not exist, or a non-root start with another user: exit 1, clear message.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
. "$top_srcdir/tests/lib/bird.sh"
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
U_AGENT=aapu$n U_READ=aapr$n U_ADMIN=aapd$n U_OUT=aapo$n U_EXEC=aapx$n
USERS="$U_AGENT $U_READ $U_ADMIN $U_OUT $U_EXEC"
GROUPS_MADE="$G_BIRD $G_CTL $G_ADM"
apid=
cleanup() {
	[ -n "$apid" ] && kill -9 "$apid" 2>/dev/null
	wait 2>/dev/null
	bird_fixture_cleanup
	for u in $USERS; do
		id "$u" >/dev/null 2>&1 && userdel "$u" >/dev/null 2>&1
		getent group "$u" >/dev/null && groupdel "$u" >/dev/null 2>&1
	done
	for g in $GROUPS_MADE; do
		getent group "$g" >/dev/null && groupdel "$g" >/dev/null 2>&1
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

bird_fixture_init || {
	echo "FAIL: cannot make a temp dir"
	exit 1
}
if ! bird_find 2; then
	echo "SKIP: $BIRD_SKIP_REASON"
	exit 77
fi

fails=0
ok() { echo "ok: $*"; }
fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}
die() {
	fail "$*"
	[ -f "$dir/agent.log" ] && { echo "--- agent log"; tail -n 40 "$dir/agent.log"; }
	exit 1
}
poll() { bird_poll "$@"; }

for g in $GROUPS_MADE; do
	groupadd --system "$g" || die "groupadd $g"
done
mkuser() { # NAME [GROUPS]
	useradd --system --user-group --no-create-home --shell /usr/sbin/nologin \
		${2:+--groups "$2"} "$1" || die "useradd $1"
}
mkuser "$U_AGENT" "$G_BIRD"
mkuser "$U_READ" "$G_CTL"
mkuser "$U_ADMIN" "$G_CTL,$G_ADM"
mkuser "$U_OUT"
mkuser "$U_EXEC"
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

cat >"$dir/id-plugin" <<'SH'
#!/bin/sh
echo "ID OK - uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,)"
SH
chmod 0755 "$dir/id-plugin"

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
            rise = 2; };
};
announcements: {
  web: { protocols = [ "anycast_web4" ]; requires = [ "whoami" ]; prefixes = [ "192.0.2.80/32" ];
         drain_time = 0; };
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
check_detail() { status | grep -o '"name":"whoami","type":"exec"[^}]*' | sed 's/.*"detail":"\([^"]*\)".*/\1/'; }
bird_connected() { status | grep -q '"name":"default","path":"[^"]*","connected":true'; }
bird_error() { status | grep -o '"last_error":"[^"]*"' | head -n 1; }
proto_state() { bird_cli "$dir/bird" show protocols anycast_web4 | awk '$1 == "anycast_web4" { print $4 }'; }
proto_is() { [ "$(proto_state)" = "$1" ]; }
plugin_ran() { status | grep -q 'ID OK'; }
bird_refused() { status | grep -q '"last_error":"[^"]*[Pp]ermission denied'; }
proc_field() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }

# --- started as root with user ---------------------------------------------------------------
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_AGENT\";"
start_agent
U=$(uid_of "$U_AGENT") G=$(gid_of "$U_AGENT") GB=$(gid_of "$G_BIRD")

uids=$(proc_field "$apid" Uid) gids=$(proc_field "$apid" Gid) groups=$(proc_field "$apid" Groups)
[ "$(echo $uids)" = "$U $U $U $U" ] && [ "$(echo $gids)" = "$G $G $G $G" ] &&
	ok "the agent runs as $U_AGENT: Uid: $uids, Gid: $gids (real, effective, saved, fs)" ||
	fail "the agent's ids are Uid: $uids, Gid: $gids; want all $U and $G"
case " $groups " in
*" 0 "*) fail "the agent kept group root: Groups: $groups" ;;
*" $GB "*) ok "its supplementary groups are $U_AGENT's: Groups: $groups ($G_BIRD = $GB)" ;;
*) fail "the agent is not in $G_BIRD ($GB): Groups: $groups" ;;
esac
grep -q "dropped root: running as user $U_AGENT" "$dir/agent.log" && ok "the drop is logged" ||
	fail "no 'dropped root' line in the log"

perm=$(stat -c '%a %U %G' "$sock")
[ "$perm" = "660 $U_AGENT $G_CTL" ] && ok "control socket: $perm" ||
	fail "control socket is '$perm', want '660 $U_AGENT $G_CTL'"
for d in "$dir/run" "$dir/lib" "$dir/lib/bird"; do
	o=$(stat -c '%U:%G %a' "$d")
	[ "$o" = "$U_AGENT:$U_AGENT 755" ] || fail "$d is $o, want $U_AGENT:$U_AGENT 755"
done
ok "the directories it created are $U_AGENT's"

poll 10 plugin_ran || die "the plugin never ran"
det=$(check_detail)
case $det in
"ID OK - uid=$U gid=$G groups="*)
	case ",${det##*groups=}," in
	*",0,"*) fail "the plugin kept group root: $det" ;;
	*) ok "the exec plugin ran as exec_user $U_AGENT: $det" ;;
	esac
	;;
*) fail "the plugin ran as someone else: $det (want uid=$U gid=$G)" ;;
esac

poll 10 bird_connected && ok "BIRD (socket 0660 root:$G_BIRD) reached through the supplementary group" ||
	fail "not connected to BIRD: $(bird_error)"
poll 10 proto_is up &&
	ok "the dropped agent enabled anycast_web4 in BIRD" ||
	fail "anycast_web4 is $(proto_state), not up"

# BIRD restarts; its new socket is root's group first: refused, then given to the group
bird_stop "$dir/bird"
start_bird wrong-group
poll 15 bird_refused &&
	ok "with BIRD's socket in group root the agent is refused: $(bird_error)" ||
	fail "no 'permission denied' from BIRD's socket in group root: $(bird_error)"
chgrp "$G_BIRD" "$dir/bird/bird.ctl"
poll 15 bird_connected && ok "after chgrp $G_BIRD the agent reconnects as $U_AGENT" ||
	fail "no reconnect after chgrp: $(bird_error)"

# who may do what on the control socket
out=$(runuser -u "$U_READ" -- "$anycastctl" -s "$sock" status -o json 2>&1)
case $out in *'"version"'*) ok "$U_READ (in $G_CTL) reads status" ;;
*) fail "$U_READ cannot read status: $out" ;;
esac
out=$(runuser -u "$U_READ" -- "$anycastctl" -s "$sock" drain --reason test 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "needs root or membership of group $G_ADM" &&
	ok "$U_READ cannot drain: $out" ||
	fail "$U_READ drained (exit $rc): $out"
out=$(runuser -u "$U_OUT" -- "$anycastctl" -s "$sock" status -o json 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q 'not permitted to connect' &&
	ok "$U_OUT (not in $G_CTL) cannot connect: $out" ||
	fail "$U_OUT got an answer (exit $rc): $out"
out=$(runuser -u "$U_ADMIN" -- "$anycastctl" -s "$sock" drain --reason "privilege test" 2>&1)
rc=$?
[ $rc = 0 ] && ! echo "$out" | grep -qi warning && ok "$U_ADMIN (in $G_ADM) drains: $out" ||
	fail "$U_ADMIN could not drain cleanly (exit $rc): $out"
o=$(stat -c '%U' "$dir/lib/operator.state" 2>&1)
[ "$o" = "$U_AGENT" ] && ok "the dropped agent wrote the state file (owner $o)" ||
	fail "state file: $o"
poll 10 proto_is down &&
	ok "the drain disabled anycast_web4 in BIRD" || fail "anycast_web4 is $(proto_state) after the drain"
runuser -u "$U_ADMIN" -- "$anycastctl" -s "$sock" undrain >/dev/null 2>&1 || fail "undrain"

# a reload cannot ask for another exec user
write_conf "user = \"$U_AGENT\";
exec_user = \"$U_EXEC\";"
out=$("$anycastctl" -s "$sock" reload 2>&1)
rc=$?
[ $rc != 0 ] && echo "$out" | grep -q "exec_user \"$U_EXEC\" differs from user \"$U_AGENT\"" &&
	ok "reload with another exec_user refused: $(echo "$out" | grep differs | head -n 1)" ||
	fail "reload with another exec_user (exit $rc): $out"
kill -0 "$apid" 2>/dev/null || die "the agent died on the refused reload"

stop_agent || fail "the agent exited $rc on SIGTERM"
[ -e "$sock" ] && fail "the control socket was left behind" ||
	ok "SIGTERM: the dropped agent removed its control socket"

# --- started as root without user -------------------------------------------------------------
rm -rf "$dir/run" "$dir/lib"
write_conf "exec_user = \"$U_EXEC\";"
start_agent
X=$(uid_of "$U_EXEC") XG=$(gid_of "$U_EXEC")
[ "$(echo $(proc_field "$apid" Uid))" = "0 0 0 0" ] || fail "the agent without user is not root"
grep -q 'running as root: set user = ' "$dir/agent.log" &&
	ok "root without user: warns '$(grep -o 'running as root: set user[^;]*' "$dir/agent.log")'" ||
	fail "no warning about running as root"
poll 10 plugin_ran || die "the plugin never ran"
det=$(check_detail)
[ "$det" = "ID OK - uid=$X gid=$XG groups=$XG" ] &&
	ok "a root agent runs the plugin as exec_user $U_EXEC, primary group only: $det" ||
	fail "plugin identity '$det', want uid=$X gid=$XG groups=$XG"
stop_agent || fail "the agent exited $rc on SIGTERM"

# --- refusals ----------------------------------------------------------------------------------
try() { # EXPECTED-MESSAGE [runuser -u USER --]: the agent must exit 1 within 10 s saying it
	want=$1
	shift
	timeout 10 "$@" "$agent" -d -f "$dir/agent.conf" >"$dir/agent.log" 2>&1
	rc=$?
	msg=$(grep -F "$want" "$dir/agent.log" | head -n 1)
	[ $rc = 1 ] && [ -n "$msg" ] && ok "exit 1: $msg" ||
		fail "exit $rc, want 1 with '$want': $(tail -n 3 "$dir/agent.log")"
	[ -e "$sock" ] && fail "a refused start left $sock"
}
write_conf "user = \"aap-nosuch$n\";"
try "user \"aap-nosuch$n\" does not exist; create it"
write_conf "user = \"$U_AGENT\";"
try "but the agent was started as uid $(uid_of "$U_READ"), not root" runuser -u "$U_READ" --
write_conf "exec_user = \"$U_EXEC\";"
try "exec_user \"$U_EXEC\" (uid $X) needs an agent running as root" runuser -u "$U_READ" --

[ $fails = 0 ] && echo "PASS: least privilege" || echo "$fails failure(s)"
[ $fails = 0 ]
