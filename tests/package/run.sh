#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/package/run.sh - the Debian package as an operator meets it. Not part of `make check`:
# it builds two packages and Debian chroots (a CI job of its own; see README.md here).
#
#   1. dpkg-buildpackage -us -uc -b builds anycast-agent_<version>_<arch>.deb, and again from a
#      copy whose debian/changelog has a bumped version; lintian reports no error. For the
#      machine's own release on the machine; for another (PKGTEST_SUITE=trixie on Debian 12) in
#      a cached chroot of that release with the build dependencies (a package built for
#      bookworm cannot install on trixie: libconfig9 is gone there).
#   2. For each BIRD package in PKGTEST_BIRD, in a fresh debootstrap'ed minbase chroot (cached as
#      a tarball): that BIRD is installed first, then the package with `apt-get install
#      ./anycast-agent_*.deb`: only the declared dependencies (and Recommends, as apt does);
#      the BIRD stays, the other BIRD does not come in. Every library the binaries need
#      resolves; `anycast-agent -n` accepts the installed example config; `systemd-analyze
#      verify` accepts the installed unit; user, groups, state directory and conffile are as
#      specified.
#   3. With a fake systemctl in the chroot (no systemd is PID 1 here) that runs the installed
#      unit's ExecStart= as systemd would (its "!" prefix: as root; CapabilityBoundingSet=,
#      NoNewPrivileges=), the agent runs against the BIRD installed beside it (run from the
#      chroot as the PoP of tests/lib/topo.sh) peering with an upstream BIRD, and the upstream
#      gets the route; it dropped to anycast-agent with no capability left, and its plugins run
#      as anycast-plugin without the group bird.
#   4. apt-get installs the bumped package over the running agent. The real maintainer scripts
#      run; their systemctl calls reach the fake. The upstream counts 0 withdraws and never
#      misses the route; the old agent stopped cleanly and said it kept BIRD as it is.
#   5. apt-get remove stops the agent (on_exit = withdraw: the upstream loses the route) and
#      keeps the config and state; dpkg --purge removes both.
#
# Needs root, dpkg-dev, debhelper, lintian, debootstrap, bird2, iproute2, systemd (for
# systemd-analyze) and the build dependencies of debian/control; exits 77 naming what is missing.
# Environment: PKGTEST_CACHE (chroot tarball dir, default /var/cache/anycast-agent-pkgtest),
# PKGTEST_MIRROR, PKGTEST_SUITE (default bookworm; trixie: Debian 13), PKGTEST_BIRD (the BIRD
# packages to install beside it, one pass each; default bird2 on bookworm, "bird3 bird2" on
# trixie), PKGTEST_KEEP=1 keeps the work dir.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/topo.sh"

SUITE=${PKGTEST_SUITE:-bookworm}
HOST_SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
case $SUITE in
bookworm) BIRDS=${PKGTEST_BIRD:-bird2} ;;
*) BIRDS=${PKGTEST_BIRD:-bird3 bird2} ;;
esac
. "$top_srcdir/tests/lib/apt.sh"
MIRROR=${PKGTEST_MIRROR:-$(apt_mirror | head -n 1)}
CACHE=${PKGTEST_CACHE:-/var/cache/anycast-agent-pkgtest}
P4=192.0.2.80/32
P6=2001:db8::80/128
T_START=${EPOCHREALTIME/./}
R= B= work= poller= mounts=()

die() {
	echo "FAIL: $*"
	[ -n "$work" ] && [ -f "$work/apt.log" ] && { echo "--- apt.log (end)"; tail -n 25 "$work/apt.log"; }
	if [ -n "$R" ] && [ -d "$R/var/log/fake-systemd" ]; then
		for f in "$R"/var/log/fake-systemd/*; do
			echo "--- ${f#"$R"}"
			tail -n 40 "$f"
		done
	fi
	exit 1
}
pass() { echo "ok: $* [$(((${EPOCHREALTIME/./} - T_START) / 1000000)) s]"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "SKIP: $1 not found (Debian package $2)"; exit 77; }; }

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot, namespaces)"; exit 77; }
need dpkg-buildpackage dpkg-dev
need dh debhelper
need lintian lintian
need debootstrap debootstrap
need systemd-analyze systemd
topo_require || exit 77
if [ "$SUITE" = "$HOST_SUITE" ]; then
	for h in libuv1-dev libcurl4-openssl-dev libc-ares-dev libconfig-dev libjansson-dev; do
		dpkg-query -W -f='${Status}' "$h" 2>/dev/null | grep -q 'ok installed' ||
			{ echo "SKIP: build dependency $h is not installed"; exit 77; }
	done
fi

# a command in the chroot, with a clean environment
inroot() {
	chroot "$R" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
}
# a command in the build environment: the machine, or the build chroot of another release (which
# sees $work at the same path)
inbuild() {
	if [ -n "$B" ]; then
		chroot "$B" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	else
		"$@"
	fi
}
agent_pid() { cat "$R/var/log/fake-systemd/main.pid" 2>/dev/null; }
# unmount_under DIR: every mount below DIR, deepest first (rm -rf must never go through one)
unmount_under() {
	local m
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done < <(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
}
# one install pass: its agent, the PoP's BIRD (from its chroot) and its chroot's mounts
cleanup_pass() {
	local p
	[ -n "$poller" ] && kill "$poller" 2>/dev/null && wait "$poller" 2>/dev/null
	poller=
	p=$(agent_pid)
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	[ -n "$TOPO_DIR" ] && topo_bird_stop pop1
	[ -n "$R" ] && unmount_under "$R"
	mounts=()
}
cleanup_pkgtest() {
	[ -n "$work" ] || return 0
	unmount_under "$work"
	if [ -z "${PKGTEST_KEEP:-}" ]; then
		rm -rf --one-file-system "$work"
	else
		echo "kept $work"
	fi
	work=
}
trap 'cleanup_pkgtest' EXIT
trap 'cleanup_pkgtest; trap - EXIT; exit 130' INT
trap 'cleanup_pkgtest; trap - EXIT; exit 143' TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/pkgtest.$$.XXXXXX") || die "mktemp"
# bootstrap SUITE TARBALL [PACKAGE...]: a cached minbase chroot of SUITE, with PACKAGEs installed
# by apt (debootstrap --include resolves no virtual packages: lintian's perl modules fail)
bootstrap() {
	local suite=$1 tar=$2 b=$work/bootstrap
	shift 2
	[ -f "$tar" ] && return 0
	mkdir -p "$CACHE" && rm -rf "$b"
	debootstrap --variant=minbase "$suite" "$b" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log"; die "debootstrap $suite from $MIRROR"; }
	if [ $# -gt 0 ]; then
		cp /etc/resolv.conf "$b/etc/resolv.conf"
		chroot "$b" /usr/bin/env -i DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 \
			PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c 'apt-get update -q && apt-get install -y -q "$@" && apt-get clean' \
			sh "$@" >>"$work/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$work/debootstrap.log"; die "apt-get install $* in the $suite chroot"; }
	fi
	tar -C "$b" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar" || die "caching $tar"
	rm -rf "$b"
}
arch=$(dpkg --print-architecture)

# ---- 1. build twice ------------------------------------------------------------------------
copy_tree() { # DEST
	mkdir -p "$1"
	if git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top_srcdir" && git ls-files -co --exclude-standard -z |
			xargs -0 cp --parents -t "$1") || return 1
	else
		cp -a "$top_srcdir"/. "$1"/ || return 1
	fi
}
build() { # DIR: dpkg-buildpackage there; the test suite is `make check`'s job, not this one's
	inbuild sh -c "cd '$1' && DEB_BUILD_OPTIONS='nocheck parallel=$(nproc)' dpkg-buildpackage -us -uc -b" \
		>"$1.build.log" 2>&1 || { tail -n 30 "$1.build.log"; return 1; }
}
copy_tree "$work/v1/anycast-agent" || die "copying the source tree"
if [ "$SUITE" != "$HOST_SUITE" ]; then
	# another release: build in its own chroot, which keeps the build dependencies (cached)
	btar=$CACHE/$SUITE-build-$arch.tar
	bootstrap "$SUITE" "$btar" build-essential debhelper lintian
	B=$work/build-root
	mkdir -p "$B" && tar -C "$B" -xf "$btar" || die "unpacking $btar"
	cp /etc/resolv.conf "$B/etc/resolv.conf"
	mount -t proc proc "$B/proc" && mkdir -p "$B$work" && mount --bind "$work" "$B$work" ||
		die "mounts in the build chroot"
	{ inbuild apt-get update -q && inbuild apt-get build-dep -y -q "$work/v1/anycast-agent"; } \
		>"$work/build-deps.log" 2>&1 ||
		{ tail -n 20 "$work/build-deps.log"; die "apt-get build-dep in the $SUITE build chroot"; }
	echo "  building in a $SUITE chroot: $(inbuild sh -c '. /etc/os-release && echo "$PRETTY_NAME"')"
fi
v1=$(cd "$work/v1/anycast-agent" && dpkg-parsechangelog -S Version)
v2=$v1+pkgtest1
mkdir -p "$work/v2" && cp -a "$work/v1/anycast-agent" "$work/v2/" || die "copying the source tree"
{
	printf 'anycast-agent (%s) %s; urgency=medium\n\n  * Package test: the upgrade.\n\n' "$v2" "$SUITE"
	printf ' -- anycast-agent package test <pkgtest@anycast-agent.invalid>  %s\n\n' "$(date -R)"
	cat "$work/v2/anycast-agent/debian/changelog"
} >"$work/changelog.new" && mv "$work/changelog.new" "$work/v2/anycast-agent/debian/changelog"
build "$work/v1/anycast-agent" || die "dpkg-buildpackage ($v1)"
build "$work/v2/anycast-agent" || die "dpkg-buildpackage ($v2)"
deb1=$work/v1/anycast-agent_${v1}_$arch.deb
deb2=$work/v2/anycast-agent_${v2}_$arch.deb
[ -f "$deb1" ] && [ -f "$deb2" ] || die "no $deb1 or $deb2"
pass "dpkg-buildpackage -us -uc -b built ${deb1##*/} and ${deb2##*/}"

inbuild lintian --fail-on error --display-info --pedantic "$work/v1/anycast-agent_${v1}_$arch.changes" \
	>"$work/lintian.out" 2>&1
lrc=$?
grep -v 'running with root privileges' "$work/lintian.out" | sed 's/^/  lintian: /'
[ $lrc = 0 ] || die "lintian reports errors"
pass "lintian: no errors"

# the libraries the binaries link, as dpkg-shlibdeps saw them, against the Depends line
depends=$(dpkg-deb -f "$deb1" Depends)
echo "  Depends: $depends"
echo "  Recommends: $(dpkg-deb -f "$deb1" Recommends)"
dpkg-deb -x "$deb1" "$work/x"
for bin in anycast-agent anycastctl; do
	# the libraries a program links itself (NEEDED), at the paths ldd resolves them to
	inbuild ldd "$work/x/usr/sbin/$bin" | awk -v need="$(inbuild objdump -p "$work/x/usr/sbin/$bin" |
		awk '$1 == "NEEDED" { printf " %s", $2 }') " '$2 == "=>" && index(need, " " $1 " ") { print $3 }'
done | sort -u >"$work/needed"
[ -s "$work/needed" ] || die "found no linked library"
for lib in $(cat "$work/needed"); do
	# the path ldd found, or its other spelling across the /usr merge
	pkg=$(inbuild dpkg -S "$lib" 2>/dev/null || inbuild dpkg -S "${lib#/usr}" 2>/dev/null ||
		inbuild dpkg -S "/usr$lib" 2>/dev/null)
	pkg=${pkg%%:*}
	[ -n "$pkg" ] || die "no package ships $lib"
	echo "$depends" | grep -qE "(^|, )$pkg( |,|$)" || die "$lib ($pkg) is linked but not in Depends"
done
pass "every library the programs link is in Depends"

# ---- 2. a chroot with only the declared dependencies and a BIRD ------------------------------
tarball=$CACHE/$SUITE-minbase-$arch.tar
bootstrap "$SUITE" "$tarball"
[ -n "$B" ] && unmount_under "$B"
# install_pass BIRD: steps 2-5 beside the Debian package BIRD, in a subshell (its own topology)
install_pass() (
bird=$1
R=$work/root-$bird
topo_init "pkgt$$" || die "topo_init"
topo_on_cleanup cleanup_pass
mkdir -p "$R" && tar -C "$R" -xf "$tarball" || die "unpacking $tarball"
mount -t proc proc "$R/proc" && mounts+=("$R/proc") || die "mount proc"
cp /etc/resolv.conf "$R/etc/resolv.conf"
# services of other packages (bird2's init script) must not start here; ours goes to the fake
cat >"$R/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh
case "$1" in anycast-agent.service) exit 0 ;; esac
exit 101
EOF
chmod 0755 "$R/usr/sbin/policy-rc.d"
cp "$deb1" "$deb2" "$R/tmp/"
inroot apt-get update -q >"$work/apt.log" 2>&1 || { tail "$work/apt.log"; die "apt-get update in the chroot"; }
inroot apt-get install -y -q "$bird" >>"$work/apt.log" 2>&1 || die "apt-get install $bird"
bird_version() { inroot dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null | sed -n 's/^ii *//p'; }
bv=$(bird_version "$bird")
[ -n "$bv" ] || die "$bird is not installed"
before=$(inroot dpkg-query -W -f='${Package}\n' | sort)
inroot apt-get install -y -q "/tmp/${deb1##*/}" >>"$work/apt.log" 2>&1 ||
	{ tail -n 30 "$work/apt.log"; die "apt-get install ./${deb1##*/}"; }
echo "  installed with it: $(comm -13 <(echo "$before") <(inroot dpkg-query -W -f='${Package}\n' | sort) | tr '\n' ' ')"
[ "$(bird_version "$bird")" = "$bv" ] || die "installing the package changed $bird $bv"
for other in bird bird2 bird3; do
	[ "$other" = "$bird" ] || [ -z "$(bird_version "$other")" ] || die "the package brought in $other"
done
pass "apt-get install ./${deb1##*/} in a $SUITE minbase chroot beside $bird $bv"

inroot ldd /usr/sbin/anycast-agent /usr/sbin/anycastctl | grep 'not found' && die "unresolved libraries"
inroot anycast-agent -V | grep -q "^anycast-agent " || die "anycast-agent -V does not run"
pass "every library resolves in the chroot"

inroot dpkg-query -W -f='${Conffiles}\n' anycast-agent | grep -q '/etc/anycast-agent/anycast-agent.conf ' ||
	die "/etc/anycast-agent/anycast-agent.conf is not a conffile"
inroot getent passwd anycast-agent | grep -q ':/var/lib/anycast-agent:' || die "no system user anycast-agent"
for g in anycast bird; do
	inroot id -nG anycast-agent | tr ' ' '\n' | grep -qx "$g" || die "anycast-agent is not in group $g"
done
# the plugins' user: in none of the agent's groups
inroot getent passwd anycast-plugin >/dev/null || die "no system user anycast-plugin"
for g in $(inroot id -nG anycast-agent); do
	inroot id -nG anycast-plugin | tr ' ' '\n' | grep -qx "$g" && die "anycast-plugin is in group $g"
done
owner=$(inroot stat -c %U:%G /var/lib/anycast-agent)
[ "$owner" = anycast-agent:anycast-agent ] || die "state directory owned by $owner"
out=$(inroot setpriv --reuid=anycast-agent --regid=anycast-agent --init-groups \
	anycast-agent -n -f /etc/anycast-agent/anycast-agent.conf 2>&1) ||
	die "anycast-agent -n on the installed config: $out"
echo "  anycast-agent -n (as anycast-agent): $out"
pass "users anycast-agent (groups anycast, bird) and anycast-plugin, state directory, conffile; the installed config validates"

# The chroot has no systemd (not a dependency): the host's systemd-analyze verifies the installed
# unit, in a private mount namespace where /usr/sbin is the chroot's (ExecStart= must exist)
# and MANPATH the chroot's (Documentation=man:... must resolve). It must print nothing.
out=$(cd "$R/lib/systemd/system" && MANPATH="$R/usr/share/man" unshare -m --propagation private \
	sh -c 'mount --bind "$1/usr/sbin" /usr/sbin && systemd-analyze verify anycast-agent.service' \
	sh "$R" 2>&1)
rc=$?
[ $rc = 0 ] && [ -z "$out" ] || die "systemd-analyze verify (exit $rc): $out"
pass "systemd-analyze verify: the installed unit, binary and man pages, no warning"

# ---- 3. README's install steps, then the agent as the unit runs it -------------------------
# The operator's config (the default bird.state_dir, /run/anycast-agent/bird): one healthy check
# (a plugin that always passes) gates one announcement; another plugin says who it runs as.
cat >"$R/usr/local/bin/id-plugin" <<'EOF'
#!/bin/sh
echo "ID OK - uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ,)"
EOF
chmod 0755 "$R/usr/local/bin/id-plugin"
cat >"$R/etc/anycast-agent/anycast-agent.conf" <<'EOF'
bird: { socket = "/run/bird/bird.ctl"; reconcile_interval = 0.5; };
control: { socket = "/run/anycast-agent/anycast-agent.ctl"; group = "anycast"; admin_group = "anycast-admin"; mode = "0660"; };
state_file = "/var/lib/anycast-agent/state";
on_exit = "withdraw";
user = "anycast-agent";
exec_user = "anycast-plugin";
checks: { web: { type = "exec"; command = [ "/bin/true" ]; interval = 0.5; rise = 2; fall = 2; };
          who: { type = "exec"; command = [ "/usr/local/bin/id-plugin" ]; interval = 0.5; }; };
announcements: { web: { protocols = [ "anycast_web4", "anycast_web6" ]; requires = [ "web" ];
                        prefixes = [ "192.0.2.80/32", "2001:db8::80/128" ]; }; };
EOF
out=$(inroot anycast-agent -n 2>&1) && [ "$out" = "configuration OK" ] || die "anycast-agent -n: $out"
# anycast-agent --init: the decision files, withdrawn, the agent's and readable by BIRD
out=$(inroot anycast-agent --init 2>&1) || die "anycast-agent --init: $out"
echo "  anycast-agent --init: $(echo "$out" | tail -n 1)"
for p in anycast_web4 anycast_web6; do
	f=/run/anycast-agent/bird/$p.conf
	got=$(inroot stat -c '%U:%G %a' "$f" /run/anycast-agent/bird | tr '\n' ' ')
	[ "$got" = "anycast-agent:anycast-agent 644 anycast-agent:anycast-agent 755 " ] ||
		die "--init made $f and its directory $got"
	grep -qx 'disabled yes;' "$R$f" || die "--init wrote $f without disabled yes: $(cat "$R$f")"
done
out=$(inroot anycast-agent --init 2>&1) && echo "$out" | grep -q '^0 decision file(s) created, 2 already there' ||
	die "a second --init is not idempotent: $out"
# anycast-agent --print-bird > /etc/bird/anycast.conf, included from the PoP's bird.conf (whose
# BGP sessions export with its filters); BIRD is not running yet, so the version is given
bmajor=$(bird_version "$bird" | cut -d. -f1)
inroot anycast-agent --print-bird --bird-version "$bmajor" >"$R/etc/bird/anycast.conf" ||
	die "anycast-agent --print-bird --bird-version $bmajor"
topo_add_upstream up1 1 && topo_add_pop pop1 1 && topo_link pop1 up1 || die "topology"
topo_node_bird pop1 "$R" /usr/sbin/bird /usr/sbin/birdc || die "no BIRD in the chroot"
topo_pop_anycast_conf pop1 /etc/bird/anycast.conf
topo_start || die "BIRD did not start with what --print-bird wrote: $(tail -n 5 "$(topo_node_dir pop1)/bird.log")"
echo "  the PoP runs BIRD $(topo_birdc pop1 show status | sed -n 's/^BIRD \([0-9.]*\)$/\1/p') from the chroot"
topo_wait_established 30 || die "BGP not Established"
# BIRD's socket at /run/bird/bird.ctl in the chroot, bird:bird 0660 as Debian's bird.service has it
chmod 0755 "$(topo_node_dir pop1)"
mkdir -p "$R/run/bird" && mount --bind "$(topo_node_dir pop1)" "$R/run/bird" && mounts+=("$R/run/bird") ||
	die "bind mount of the BIRD socket"
chgrp "$(inroot getent group bird | cut -d: -f3)" "$R/run/bird/bird.ctl" && chmod 0660 "$R/run/bird/bird.ctl"
# with BIRD running, --print-bird reads the version from its socket: the same file
inroot anycast-agent --print-bird | cmp -s - "$R/etc/bird/anycast.conf" ||
	die "--print-bird with the version from BIRD's socket differs from --bird-version $bmajor"
# birdc configure && anycast-agent --check-bird: BIRD includes every decision file
topo_configure pop1 || die "birdc configure"
out=$(inroot anycast-agent --check-bird 2>&1) || die "anycast-agent --check-bird: $out"
echo "  anycast-agent --check-bird: $(echo "$out" | tail -n 1)"
[ "$(topo_proto_state pop1 anycast_web4)" = down ] ||
	die "anycast_web4 is $(topo_proto_state pop1 anycast_web4) before the agent ran"
pass "README's steps: -n, --init (idempotent), --print-bird (BIRD $bmajor takes it), configure, --check-bird"

# apt gives maintainer scripts PATH=/usr/sbin:/usr/bin:/sbin:/bin: the fake goes where systemd's
# would be (systemd is no dependency, so there is none to shadow)
[ ! -e "$R/usr/bin/systemctl" ] || die "the chroot has a real systemctl: systemd became a dependency?"
install -m 0755 "$top_srcdir/tests/package/fake-systemctl" "$R/usr/bin/systemctl"
mkdir -p "$R/run/systemd/system"
inroot systemctl enable anycast-agent.service && inroot systemctl start anycast-agent.service ||
	die "systemctl start"
pid1=$(agent_pid)
topo_wait_for "topo_upstream_has_route $P4 && topo_upstream_has_route $P6" 20 ||
	die "the upstream never got $P4 and $P6"
topo_wait_for "inroot anycastctl status >/dev/null" 10 || die "anycastctl status: $(inroot anycastctl status)"
echo "  $(inroot anycastctl status | head -n1)"
pass "the agent, run as the unit says (pid $pid1), announces at the upstream"

# who runs as whom under the unit's ExecStart=! and capability bounding set
pf() { awk -v f="$2:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$1/status"; }
au=$(inroot id -u anycast-agent) pu=$(inroot id -u anycast-plugin) pg=$(inroot id -g anycast-plugin)
bg=$(inroot getent group bird | cut -d: -f3)
[ "$(echo $(pf "$pid1" Uid))" = "$au $au $au $au" ] || die "the agent runs as Uid $(pf "$pid1" Uid), not anycast-agent ($au)"
[ "$(pf "$pid1" CapEff)/$(pf "$pid1" CapPrm)" = 0000000000000000/0000000000000000 ] ||
	die "the agent kept capabilities: CapEff $(pf "$pid1" CapEff), CapPrm $(pf "$pid1" CapPrm)"
[ "$(pf "$pid1" CapBnd)" = 00000000000000c0 ] || die "bounding set $(pf "$pid1" CapBnd), want CAP_SETUID CAP_SETGID"
[ "$(pf "$pid1" NoNewPrivs)" = 1 ] || die "NoNewPrivileges= not in effect"
hp=$(pgrep -P "$pid1" -u "$pu" | head -n 1)
[ -n "$hp" ] || die "no exec helper running as anycast-plugin under the agent"
who() { inroot anycastctl status -o json | sed -n 's/.*"detail": *"\(ID OK[^"]*\)".*/\1/p'; }
who_ran() { [ -n "$(who)" ]; }
topo_wait_for who_ran 10 || die "the id plugin never ran: $(inroot anycastctl status -o json)"
det=$(who)
[ "$det" = "ID OK - uid=$pu gid=$pg groups=$pg" ] ||
	die "the plugin ran as '$det', want anycast-plugin ($pu:$pg) without bird ($bg)"
pass "dropped to anycast-agent, no capability left (bounding set CAP_SETUID CAP_SETGID, no_new_privs); helper $hp and plugins as anycast-plugin, without bird: ${det#ID OK - }"

# ---- 4. upgrade over the running agent: no withdraw ------------------------------------------
w4=$(topo_upstream_withdraws pop1 4) w6=$(topo_upstream_withdraws pop1 6)
: >"$work/absent"
touch "$work/polling"
(
	while [ -e "$work/polling" ]; do
		topo_upstream_has_route $P4 || echo "$P4 ${EPOCHREALTIME}" >>"$work/absent"
		topo_upstream_has_route $P6 || echo "$P6 ${EPOCHREALTIME}" >>"$work/absent"
	done
) &
poller=$!
: >"$R/var/log/fake-systemd/calls.log"
t0=${EPOCHREALTIME/./}
inroot apt-get install -y -q "/tmp/${deb2##*/}" >>"$work/apt.log" 2>&1 ||
	{ tail -n 30 "$work/apt.log"; die "apt-get install ./${deb2##*/} (upgrade)"; }
t_up=$(((${EPOCHREALTIME/./} - t0) / 1000))
pid2=$(agent_pid)
[ -n "$pid2" ] && [ "$pid2" != "$pid1" ] || die "the upgrade did not restart the agent"
# the new agent has decided: its check rose and it reports the announcement as announced
topo_wait_for "inroot anycastctl status >/dev/null" 20 || die "after the upgrade: $(inroot anycastctl status)"
rm -f "$work/polling"
wait "$poller"
poller=
echo "  maintainer scripts called: $(tr '\n' ';' <"$R/var/log/fake-systemd/calls.log")"
grep -q 'kill --kill-who=main --signal=SIGUSR2 anycast-agent.service' "$R/var/log/fake-systemd/calls.log" ||
	die "the postinst did not send SIGUSR2 before the restart"
# an agent without the SIGUSR2 handler dies of the signal (exit 140) instead
grep -q 'leaves BIRD as it is' "$R/var/log/fake-systemd/anycast-agent.service.log" ||
	die "the old agent did not acknowledge SIGUSR2: it needs the keep-once handler in agent.c"
grep -q "^pid $pid1 exit 0\$" "$R/var/log/fake-systemd/exit.log" ||
	die "the old agent did not stop cleanly: $(grep "^pid $pid1 " "$R/var/log/fake-systemd/exit.log")"
[ "$(inroot dpkg-query -W -f='${Version}' anycast-agent)" = "$v2" ] || die "not upgraded to $v2"
dw4=$(($(topo_upstream_withdraws pop1 4) - w4)) dw6=$(($(topo_upstream_withdraws pop1 6) - w6))
nabs=$(wc -l <"$work/absent")
echo "  upgrade $v1 -> $v2 took $t_up ms; upstream withdraws: IPv4 $dw4, IPv6 $dw6; polls without the route: $nabs"
[ "$dw4" = 0 ] && [ "$dw6" = 0 ] && [ "$nabs" = 0 ] || die "the upgrade withdrew"
pass "upgrade over the running agent: 0 withdraws at the upstream, old agent exited 0 keeping BIRD"

# ---- 5. remove (stops, withdraws, keeps config and state), purge -----------------------------
# an operator's drain, ended: the state file holds drains and damping penalties
inroot anycastctl drain web --reason "pkgtest" >/dev/null || die "anycastctl drain web"
topo_wait_for "! topo_upstream_has_route $P4" 5 || die "the drain did not withdraw $P4"
grep -q pkgtest "$R/var/lib/anycast-agent/state" || die "the drain is not in /var/lib/anycast-agent/state"
inroot anycastctl undrain web >/dev/null || die "anycastctl undrain web"
topo_wait_for "topo_upstream_has_route $P4" 10 || die "$P4 not back after the undrain"
w4=$(topo_upstream_withdraws pop1 4)
inroot apt-get remove -y -q anycast-agent >>"$work/apt.log" 2>&1 || die "apt-get remove"
grep -q "^pid $pid2 exit 0\$" "$R/var/log/fake-systemd/exit.log" || die "remove did not stop the agent cleanly"
topo_wait_for "! topo_upstream_has_route $P4" 5 || die "remove did not withdraw $P4 (on_exit = withdraw)"
[ "$(($(topo_upstream_withdraws pop1 4) - w4))" -ge 1 ] || die "no withdraw counted at the upstream"
[ ! -e "$R/usr/sbin/anycast-agent" ] || die "remove left /usr/sbin/anycast-agent"
[ -f "$R/etc/anycast-agent/anycast-agent.conf" ] || die "remove deleted the config"
[ -f "$R/var/lib/anycast-agent/state" ] || die "remove deleted the state file"
inroot dpkg-query -W -f='${db:Status-Abbrev}' anycast-agent | grep -q '^rc' || die "not in state rc"
pass "apt-get remove: agent stopped with a withdraw; config and state kept"

inroot dpkg --purge anycast-agent >>"$work/apt.log" 2>&1 || die "dpkg --purge"
for f in /etc/anycast-agent /var/lib/anycast-agent /lib/systemd/system/anycast-agent.service \
	/usr/share/anycast-agent /usr/share/doc/anycast-agent; do
	[ ! -e "$R$f" ] || die "purge left $f"
done
inroot dpkg-query -W anycast-agent >/dev/null 2>&1 && die "dpkg still knows anycast-agent"
pass "dpkg --purge: config and state gone (the system user and groups stay, as Debian does)"
cleanup_pass
topo_cleanup
rm -rf --one-file-system "$R"
)

failed=
for b in $BIRDS; do
	echo "--- $SUITE, beside $b"
	install_pass "$b" || failed="$failed $b"
done
[ -z "$failed" ] || die "the pass beside$failed failed"

echo "package test passed in $(((${EPOCHREALTIME/./} - T_START) / 1000000)) s"
