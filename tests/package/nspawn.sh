#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/nspawn.sh - the package under systemd itself. Not part of `make check` (it
# builds the package and a Debian root with systemd; a CI job of its own, see README.md here).
#
# A Debian root with systemd, BIRD 2 and the package (built here) boots in systemd-nspawn:
# systemd is PID 1 and runs the installed unit with its whole sandbox (ExecStart=!, the
# capability bounding set, NoNewPrivileges=, the system-call filter, ProtectSystem=, ...),
# which run.sh's fake systemctl only partly emulates. Then, from the container's /proc, its
# journal and BIRD:
#   1. anycast-agent.service is active (READY=1); the agent runs as anycast-agent with no
#      capability left, no_new_privs and a seccomp filter; its exec helper, its only child, as
#      anycast-plugin without supplementary groups; the control socket is anycast-agent:anycast;
#   2. a plugin runs as anycast-plugin without the group bird; a hostile plugin is refused the
#      decision files and BIRD's socket; the announcement is up in BIRD;
#   3. the helper SIGKILLed: the journal says so once, the exec checks fail, the protocol is
#      withdrawn in BIRD, `systemctl status` says why; `systemctl restart` brings all back;
#   4. exec_user = "bird": the start is refused (the journal names exec_user and BIRD's group);
#   5. an agent that cannot come back withdraws: the agent crashes (SIGKILL) while announcing,
#      its configuration no longer loads, systemd gives up after StartLimitBurst starts and
#      anycast-agent-withdraw.service (OnFailure=) disables the protocol in BIRD.
# Before any of it, the boot itself: systemd-tmpfiles made /run/anycast-agent/bird, the BIRD's
# start pulled in anycast-agent-init.service (the bird.service.d drop-in), which wrote the
# decision file withdrawn before BIRD read it: BIRD shows the agent's description.
#
# Needs root, systemd-nspawn (Debian package systemd-container), debootstrap, dpkg-dev,
# debhelper and the build dependencies; exits 77 naming what is missing. Environment as run.sh:
# PKGTEST_CACHE, PKGTEST_MIRROR, PKGTEST_SUITE, PKGTEST_KEEP=1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

SUITE=${PKGTEST_SUITE:-bookworm}
CACHE=${PKGTEST_CACHE:-/var/cache/anycast-agent-pkgtest}
. "$top_srcdir/tests/lib/apt.sh"
MIRROR=${PKGTEST_MIRROR:-$(apt_mirror | head -n 1)}
T_START=${EPOCHREALTIME/./}
machine=aansp$$
work= nspawn= C=

pass() { echo "ok: $* [$(((${EPOCHREALTIME/./} - T_START) / 1000000)) s]"; }
die() {
	echo "FAIL: $*"
	[ -n "$C" ] && IN journalctl -u anycast-agent --no-pager 2>/dev/null | tail -n 30
	[ -n "$work" ] && [ -f "$work/nspawn.log" ] && { echo "--- nspawn"; tail -n 15 "$work/nspawn.log"; }
	exit 1
}
need() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not found (Debian package $2)"; exit 77; }; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a container)"; exit 77; }
need systemd-nspawn systemd-container
need dpkg-buildpackage dpkg-dev
need dh debhelper
need debootstrap debootstrap
need unshare util-linux

# a command inside the running container (all its namespaces)
IN() { nsenter -t "$C" -a "$@"; }
cleanup() {
	local i
	if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
		[ -n "$C" ] && IN systemctl poweroff >/dev/null 2>&1
		for ((i = 0; i < 100; i++)); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$nspawn" 2>/dev/null
	fi
	wait 2>/dev/null
	if [ -n "$work" ] && [ -z "${PKGTEST_KEEP:-}" ]; then
		rm -rf --one-file-system "$work"
	elif [ -n "$work" ]; then
		echo "kept $work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
work=$(mktemp -d "${TMPDIR:-/var/tmp}/nspawn.$$.XXXXXX") || die "mktemp"

# ---- the package and a root with systemd (cached as a tarball beside run.sh's) ----------------
mkdir -p "$work/src/anycast-agent"
if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src/anycast-agent") ||
		die "copying the source tree"
else
	cp -a "$top_srcdir"/. "$work/src/anycast-agent"/ || die "copying the source tree"
fi
(cd "$work/src/anycast-agent" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b) \
	>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; die "dpkg-buildpackage"; }
deb=$(ls "$work"/src/anycast-agent_*_"$(dpkg --print-architecture)".deb)
pass "built ${deb##*/}"

arch=$(dpkg --print-architecture)
minbase=$CACHE/$SUITE-minbase-$arch.tar
# systemd, BIRD, a plugin set and what the package depends on (so it installs offline); the
# tarball's name changes with the list
pkgs="systemd systemd-sysv dbus bird2 monitoring-plugins-basic adduser
	$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*//; s/|.*//' | tr -d ' ' | sort -u | tr '\n' ' ')"
tarball=$CACHE/$SUITE-nspawn-$(echo $pkgs | md5sum | cut -c1-8)-$arch.tar
R=$work/root
mkdir -p "$R"
if [ ! -f "$tarball" ]; then
	mkdir -p "$CACHE"
	if [ -f "$minbase" ]; then
		tar -C "$R" -xf "$minbase" || die "unpacking $minbase"
	else
		debootstrap --variant=minbase "$SUITE" "$R" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$work/debootstrap.log"; die "debootstrap $SUITE from $MIRROR"; }
	fi
	cp /etc/resolv.conf "$R/etc/resolv.conf"
	printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod 0755 "$R/usr/sbin/policy-rc.d"
	mount -t proc proc "$R/proc" || die "mount proc"
	chroot "$R" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		sh -c "apt-get update -q && apt-get install -y -q $(echo $pkgs)" >"$work/apt.log" 2>&1
	rc=$?
	umount "$R/proc"
	[ $rc = 0 ] || { tail -n 20 "$work/apt.log"; die "apt-get install systemd bird2 in the root"; }
	rm -f "$R/usr/sbin/policy-rc.d"
	tar -C "$R" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" || die "caching $tarball"
else
	tar -C "$R" -xf "$tarball" || die "unpacking $tarball"
fi
cp "$deb" "$R/tmp/"
printf '#!/bin/sh\nexit 101\n' >"$R/usr/sbin/policy-rc.d" && chmod 0755 "$R/usr/sbin/policy-rc.d"
chroot "$R" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	dpkg -i "/tmp/${deb##*/}" >"$work/dpkg.log" 2>&1 ||
	{ tail -n 20 "$work/dpkg.log"; die "dpkg -i ${deb##*/} (its dependencies are in the cached root)"; }
rm -f "$R/usr/sbin/policy-rc.d"
pass "a $SUITE root with systemd, BIRD 2 and the package"

# BIRD with one toggled protocol that includes the agent's decision file; plugins that tell
cat >"$R/etc/bird/bird.conf" <<'EOF'
router id 192.0.2.1;
protocol device { }
protocol static anycast_web4 {
	disabled yes;
	include "/run/anycast-agent/bird/anycast_web4.con[f]";
	ipv4;
	route 192.0.2.80/32 unreachable;
}
EOF
cat >"$R/usr/local/bin/id-plugin" <<'EOF'
#!/bin/sh
g=$(awk '$1 == "Groups:" { $1 = ""; print substr($0, 2) }' /proc/self/status | tr ' ' ,)
echo "ID OK - uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,) proc_groups=$g"
EOF
cat >"$R/usr/local/bin/hostile-plugin" <<'EOF'
#!/bin/sh
sd=/run/anycast-agent/bird
if (echo 'disabled yes;' >"$sd/anycast_web4.conf") 2>/dev/null; then ow=WROTE; else ow=denied; fi
if (echo x >"$sd/injected.conf") 2>/dev/null; then cr=CREATED; else cr=denied; fi
b=$(birdc -s /run/bird/bird.ctl disable anycast_web4 2>&1 | head -n 1)
case $b in *"ermission denied"*) br=denied ;; *) br="GOT THROUGH: $b" ;; esac
echo "HOSTILE overwrite: $ow; create: $cr; birdc: $br"
[ $ow$cr$br = denieddenieddenied ]
EOF
chmod 0755 "$R/usr/local/bin/id-plugin" "$R/usr/local/bin/hostile-plugin"
conf() { # EXEC_USER
	cat >"$R/etc/anycast-agent/anycast-agent.conf" <<EOF
bird: { socket = "/run/bird/bird.ctl"; reconcile_interval = 0.5; };
control: { socket = "/run/anycast-agent/anycast-agent.ctl"; group = "anycast"; admin_group = "anycast-admin"; };
state_file = "/var/lib/anycast-agent/state";
user = "anycast-agent";
exec_user = "$1";
checks: {
  web: { type = "exec"; command = [ "/usr/lib/nagios/plugins/check_dummy", "0", "fine" ];
         interval = 0.5; rise = 2; fall = 1; };
  who: { type = "exec"; command = [ "/usr/local/bin/id-plugin" ]; interval = 1.0; };
  hostile: { type = "exec"; command = [ "/usr/local/bin/hostile-plugin" ]; interval = 1.0; };
};
announcements: { web: { protocols = [ "anycast_web4" ]; requires = [ "web" ]; prefixes = [ "192.0.2.80/32" ]; }; };
EOF
}
conf anycast-plugin
chroot "$R" systemctl enable bird.service anycast-agent.service >/dev/null 2>&1 || die "systemctl enable"

# ---- boot: systemd as PID 1 (on a cgroup2 hierarchy of a private mount namespace if the host
# has none), no network but loopback ---------------------------------------------------------------
boot='exec systemd-nspawn -q -D "$1" -b --register=no --keep-unit --private-network --machine="$2"'
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] || boot="mount -t cgroup2 none /sys/fs/cgroup && $boot"
unshare -m --propagation private sh -c "$boot" sh "$R" "$machine" >"$work/nspawn.log" 2>&1 </dev/null &
nspawn=$!
booted() {
	C=$(pgrep -P "$nspawn" -x systemd | head -n 1)
	[ -n "$C" ] || C=$(pgrep -P "$(pgrep -P "$nspawn" | head -n 1)" -x systemd 2>/dev/null | head -n 1)
	[ -n "$C" ] && case $(IN systemctl is-system-running 2>/dev/null) in running | degraded) true ;; *) false ;; esac
}
wait_for() { # SECONDS CMD...
	local end=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ ${EPOCHREALTIME/./} -lt "$end" ] || return 1
		sleep 0.1
	done
}
wait_for 60 booted || die "the container did not boot (systemd-nspawn: $(tail -n 3 "$work/nspawn.log"))"
pass "booted: systemd is PID 1 of the container ($(IN systemctl is-system-running))"

# ---- 0. the boot: decision files withdrawn before BIRD starts -------------------------------------
prop() { IN systemctl show -p "$2" --value "$1"; }
init_done=$(prop anycast-agent-init.service ExecMainExitTimestampMonotonic)
bird_start=$(prop bird.service ExecMainStartTimestampMonotonic)
[ "$(prop anycast-agent-init.service Result)" = success ] && [ -n "$init_done" ] && [ "$init_done" -gt 0 ] &&
	[ "$init_done" -lt "$bird_start" ] ||
	die "anycast-agent-init.service (result $(prop anycast-agent-init.service Result), done at $init_done) did not run before bird.service ($bird_start)"
IN journalctl -u anycast-agent-init --no-pager | grep -q 'created /run/anycast-agent/bird/anycast_web4.conf: withdrawn' ||
	die "anycast-agent-init did not create the decision file: $(IN journalctl -u anycast-agent-init --no-pager | tail -n 5)"
desc=$(IN birdc show protocols all anycast_web4 | sed -n 's/^ *Description: *//p')
[ "$desc" = "anycast-agent decision /run/anycast-agent/bird/anycast_web4.conf" ] ||
	die "BIRD did not read the decision file written before its start: description '$desc'"
pass "boot: tmpfiles, then anycast-agent-init done $(((bird_start - init_done) / 1000)) ms before bird.service started; BIRD shows '$desc'"

# ---- 1. who runs as whom -------------------------------------------------------------------------
active() { IN systemctl is-active --quiet anycast-agent.service; }
wait_for 20 active || die "anycast-agent.service is $(IN systemctl is-active anycast-agent.service)"
main=$(IN systemctl show -p MainPID --value anycast-agent.service)
pf() { IN awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }
au=$(IN id -u anycast-agent) pu=$(IN id -u anycast-plugin) pg=$(IN id -g anycast-plugin)
[ "$(echo $(pf "$main" Uid))" = "$au $au $au $au" ] || die "the agent runs as Uid $(pf "$main" Uid), not anycast-agent ($au)"
[ "$(pf "$main" CapEff)/$(pf "$main" CapPrm)" = 0000000000000000/0000000000000000 ] ||
	die "the agent kept capabilities: CapEff $(pf "$main" CapEff), CapPrm $(pf "$main" CapPrm)"
[ "$(pf "$main" NoNewPrivs)" = 1 ] && [ "$(pf "$main" Seccomp)" = 2 ] ||
	die "NoNewPrivs $(pf "$main" NoNewPrivs), Seccomp $(pf "$main" Seccomp): the unit's sandbox is not applied"
helper=$(IN pgrep -P "$main" -u anycast-plugin)
[ -n "$helper" ] && [ "$(echo $(pf "$helper" Uid))" = "$pu $pu $pu $pu" ] && [ -z "$(pf "$helper" Groups)" ] ||
	die "no exec helper running as anycast-plugin without groups under the agent ($helper)"
sock=$(IN stat -c '%U:%G %a' /run/anycast-agent/anycast-agent.ctl)
[ "$sock" = "anycast-agent:anycast 660" ] || die "control socket $sock"
pass "systemd runs the agent (pid $main) as anycast-agent, no capability, no_new_privs, seccomp; helper $helper as anycast-plugin; socket $sock"

# ---- 2. the plugins ---------------------------------------------------------------------------------
detail() { IN anycastctl status -o json | sed -n "/\"name\": \"$1\"/,/\"detail\"/s/.*\"detail\": *\"\\([^\"]*\\)\".*/\\1/p" | head -n 1; }
ran() { [ -n "$(detail "$1")" ]; }
wait_for 20 ran who && wait_for 20 ran hostile || die "the plugins did not run: $(IN anycastctl status)"
[ "$(detail who)" = "ID OK - uid=$pu gid=$pg groups=$pg proc_groups=" ] ||
	die "the plugin ran as: $(detail who)"
[ "$(detail hostile)" = "HOSTILE overwrite: denied; create: denied; birdc: denied" ] ||
	die "the hostile plugin says: $(detail hostile)"
up() { IN birdc show protocols anycast_web4 | awk '$1 == "anycast_web4" { exit $4 != "up" }'; }
wait_for 20 up || die "anycast_web4 is not up in BIRD: $(IN birdc show protocols anycast_web4)"
pass "plugins run as anycast-plugin without bird ($(detail who)); a hostile one: $(detail hostile); anycast_web4 up"

# ---- 3. the helper dies, then a restart ---------------------------------------------------------------
IN kill -9 "$helper"
down() { ! up; }
wait_for 20 down || die "anycast_web4 stayed up without a helper"
status_says() {
	st=$(IN systemctl show -p StatusText --value anycast-agent.service)
	case $st in *"exec helper gone: "*) true ;; *) false ;; esac
}
wait_for 20 status_says || die "systemctl status does not say why: $st"
said=$(IN journalctl -u anycast-agent --no-pager | grep -c 'exec checks fail from now on: the exec helper')
IN journalctl -u anycast-agent --no-pager | grep -q "the exec helper (pid $helper, user anycast-plugin) was killed by signal 9" &&
	[ "$said" = 1 ] || die "the helper's death logged $said times: $(IN journalctl -u anycast-agent --no-pager | grep 'exec helper')"
pass "helper SIGKILLed: withdrawn in BIRD, logged once, systemctl status says: ${st:0:90}..."
IN systemctl restart anycast-agent.service
wait_for 20 active && wait_for 30 up || die "no recovery after systemctl restart"
pass "systemctl restart: a new helper, anycast_web4 up again"

# ---- 4. a plugin user that holds BIRD's group is refused ---------------------------------------------
conf bird
IN systemctl restart anycast-agent.service >/dev/null 2>&1
refused() { IN journalctl -u anycast-agent --no-pager | grep -q "exec_user \"bird\" has the primary group bird"; }
wait_for 20 refused || die "exec_user = bird was not refused: $(IN systemctl is-active anycast-agent.service)"
pass "exec_user = \"bird\" refused: $(IN journalctl -u anycast-agent --no-pager | grep -o 'exec_user "bird" has the primary group bird[^:]*' | head -n 1)"

# ---- 5. an agent that cannot come back withdraws ----------------------------------------------------
conf anycast-plugin
IN systemctl reset-failed anycast-agent.service
IN systemctl restart anycast-agent.service
wait_for 20 active && wait_for 30 up || die "no announcement before the crash loop"
# the configuration breaks (as an upgrade can leave it), then the agent dies without a stop
echo 'this is not libconfig' >>"$R/etc/anycast-agent/anycast-agent.conf"
main=$(IN systemctl show -p MainPID --value anycast-agent.service)
t0=${EPOCHREALTIME/./}
IN kill -9 "$main"
failed() { [ "$(IN systemctl is-failed anycast-agent.service)" = failed ]; }
wait_for 60 failed || die "systemd did not give up on the agent: $(IN systemctl is-active anycast-agent.service)"
wait_for 20 down || die "anycast_web4 stays up after the agent failed for good: $(IN birdc show protocols anycast_web4)"
t_down=$(((${EPOCHREALTIME/./} - t0) / 1000))
starts=$(prop anycast-agent.service NRestarts)
IN journalctl -u anycast-agent-withdraw --no-pager | grep -q 'withdrew\|disabled' ||
	die "anycast-agent-withdraw.service did not run: $(IN journalctl -u anycast-agent-withdraw --no-pager | tail -n 5)"
[ "$(prop anycast-agent-withdraw.service Result)" = success ] ||
	die "anycast-agent-withdraw.service: $(prop anycast-agent-withdraw.service Result)"
pass "crash with a broken config: $starts restarts, then failed; anycast-agent-withdraw.service withdrew anycast_web4 $t_down ms after the crash"

echo "nspawn test passed in $(((${EPOCHREALTIME/./} - T_START) / 1000000)) s"
