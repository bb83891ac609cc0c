#!/bin/sh
# SPDX-License-Identifier: ISC
# bird-root.sh - the BIRD versions Debian 13 (trixie) ships, for tests on a Debian 12 machine.
#
# Debian 12 has BIRD 2.0.12 only, and trixie's binaries need trixie's glibc, so this builds a
# trixie minbase root (debootstrap) with bird3 installed (/usr/sbin/bird, birdc: BIRD 3.1) and
# bird2 unpacked beside it (/opt/bird2/usr/sbin/bird, birdc: BIRD 2.17; the two packages
# conflict, their libraries are the same). A test runs them as
#     ip netns exec NS chroot ROOT /usr/sbin/bird -c CONF -s SOCK -P PID
# with its own directory bind-mounted at the same path inside ROOT (tests/lib/bird.sh and
# tests/lib/topo.sh do that).
#
#   tests/lib/bird-root.sh        print ROOT; build it first if needed (debootstrap from the
#                                 network, about a minute), else unpack the cached tarball
#   tests/lib/bird-root.sh -v     also print the BIRD versions in it (stderr)
# Exit 0, or 1 with the reason on stderr (not root, no debootstrap, no network, ...).
#
# Cache: $BIRD_ROOT_CACHE (default /var/cache/anycast-agent-bird) holds
# trixie-bird-<arch>.tar (what CI keeps between runs) and the unpacked ROOT beside it. Delete
# the tarball to rebuild (e.g. after a trixie point release). BIRD_ROOT_MIRROR picks the mirror
# (default: this machine's Debian mirror, else deb.debian.org).
set -u

CACHE=${BIRD_ROOT_CACHE:-/var/cache/anycast-agent-bird}
SUITE=trixie
verbose=
[ "${1:-}" = -v ] && verbose=1

err() {
	echo "bird-root: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || err "needs root (debootstrap, chroot)"
command -v dpkg >/dev/null 2>&1 || err "dpkg not found"
arch=$(dpkg --print-architecture)
TAR=$CACHE/$SUITE-bird-$arch.tar
ROOT=$CACHE/$SUITE-bird-$arch

. "$(dirname "$0")/apt.sh"

# versions ROOT: "3.1.8 2.17.6" (bird3's, bird2's), or nothing when a binary does not run
versions() {
	v3=$(chroot "$1" /usr/sbin/bird --version 2>&1 | sed -n 's/^BIRD version \(3\.[0-9.]*\)$/\1/p')
	v2=$(chroot "$1" /opt/bird2/usr/sbin/bird --version 2>&1 |
		sed -n 's/^BIRD version \(2\.[0-9.]*\)$/\1/p')
	[ -n "$v3" ] && [ -n "$v2" ] && echo "$v3 $v2"
}

build() {
	tmp=$CACHE/build.$$
	rm -rf "$tmp"
	command -v debootstrap >/dev/null 2>&1 || err "debootstrap not found (Debian package debootstrap)"
	mirror=${BIRD_ROOT_MIRROR:-$(apt_mirror | head -n 1)}
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "bird-root: building a $SUITE root with bird3 and bird2 from $mirror (about a minute)" >&2
	if ! debootstrap --variant=minbase --include=bird3 "$SUITE" "$tmp" "$mirror" \
		>"$CACHE/debootstrap.log" 2>&1; then
		tail -n 5 "$CACHE/debootstrap.log" >&2
		rm -rf "$tmp"
		err "debootstrap $SUITE from $mirror failed (log: $CACHE/debootstrap.log)"
	fi
	# bird2 conflicts with bird3 (both are /usr/sbin/bird): unpack it, do not install it
	cp /etc/resolv.conf "$tmp/etc/resolv.conf"
	if ! chroot "$tmp" sh -c 'cd /tmp && apt-get download -q bird2 && mkdir -p /opt/bird2 &&
		dpkg -x bird2_*.deb /opt/bird2 && rm -f bird2_*.deb' >>"$CACHE/debootstrap.log" 2>&1; then
		tail -n 5 "$CACHE/debootstrap.log" >&2
		rm -rf "$tmp"
		err "cannot unpack bird2 in the $SUITE root (log: $CACHE/debootstrap.log)"
	fi
	# what the tests never need: package lists, downloaded packages, docs
	rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin \
		"$tmp"/var/lib/apt/lists/*_* "$tmp"/usr/share/doc/* "$tmp"/usr/share/man/* \
		"$tmp"/usr/share/locale/*
	v=$(versions "$tmp") || {
		rm -rf "$tmp"
		err "the BIRDs in the new $SUITE root do not run"
	}
	echo "$v" >"$tmp/etc/anycast-agent-bird-versions"
	tar -C "$tmp" -cf "$TAR.tmp" . && mv "$TAR.tmp" "$TAR" || {
		rm -rf "$tmp" "$TAR.tmp"
		err "cannot write $TAR"
	}
	rm -rf "$tmp"
	echo "bird-root: cached $TAR (BIRD $v)" >&2
}

# unpack: ROOT from TAR, unless ROOT is already this TAR's
unpack() {
	stamp=$(stat -c '%s %Y' "$TAR")
	[ -f "$ROOT/.anycast-agent-stamp" ] && [ "$(cat "$ROOT/.anycast-agent-stamp")" = "$stamp" ] &&
		return 0
	if [ -d "$ROOT" ]; then
		# a running test's directory is bind-mounted in it: never delete through that
		awk -v r="$ROOT/" 'index($5, r) == 1 { found = 1 } END { exit !found }' \
			/proc/self/mountinfo && err "$ROOT is in use (mounts under it) and out of date"
		rm -rf "$ROOT"
	fi
	rm -rf "$ROOT.new"
	mkdir -p "$ROOT.new" && tar -C "$ROOT.new" -xf "$TAR" || {
		rm -rf "$ROOT.new"
		err "cannot unpack $TAR"
	}
	echo "$stamp" >"$ROOT.new/.anycast-agent-stamp"
	mv "$ROOT.new" "$ROOT" || err "cannot move $ROOT.new into place"
}

mkdir -p "$CACHE" || err "cannot create $CACHE"
# one builder at a time; the others wait for its result
exec 9>"$CACHE/.lock"
command -v flock >/dev/null 2>&1 && flock 9
[ -f "$TAR" ] || build
unpack
v=$(versions "$ROOT") || err "the BIRDs in $ROOT do not run (delete $TAR to rebuild)"
[ -n "$verbose" ] && echo "bird-root: $ROOT: BIRD 3 $(echo "$v" | cut -d' ' -f1), BIRD 2 $(echo "$v" | cut -d' ' -f2)" >&2
echo "$ROOT"
