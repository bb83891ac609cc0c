# SPDX-License-Identifier: ISC
# tests/lib/bird.sh - start and stop private BIRD daemons for tests and the lab.
#
# Source it (POSIX sh), then:
#   bird_fixture_init            make $BIRD_FIXTURE_DIR (a private temp dir)
#   bird_fixture_need VERSION    bird_fixture_init and bird_find VERSION, for a script: exit 1
#                                when there is no temp dir, skip (77) without that BIRD
#   bird_find VERSION            VERSION 2 | 1.6 | 1.6v6 | 2.17 | 3.1: set BIRD_BIN and
#                                BIRDC_BIN; 1.6 is unpacked privately from Debian's `bird`
#                                .deb (apt-get download, or $BIRD16_DEB if set); it cannot be
#                                installed beside bird2. 2.17 and 3.1 are Debian 13's bird2
#                                and bird3 in the root of tests/lib/bird-root.sh: BIRD_BIN and
#                                BIRDC_BIN are wrappers that run them there with chroot, and
#                                $BIRD_FIXTURE_DIR is bind-mounted into that root at the same
#                                path. On failure returns 1 and sets BIRD_SKIP_REASON.
#   bird_start DIR VERSION [NETNS]
#                                run BIRD on DIR/bird.conf (write it first) with socket
#                                DIR/bird.ctl, pid DIR/bird.pid, stderr in DIR/bird.out,
#                                optionally inside network namespace NETNS; returns once
#                                the socket answers (deadline 10 s), 1 on failure.
#   bird_cli DIR CMD...          birdc of the right version against DIR/bird.ctl
#   bird_stop DIR                SIGTERM, wait (deadline 5 s), then SIGKILL; removes socket
#   bird_fixture_cleanup         stop every BIRD started here and remove the temp dir;
#                                call it from the caller's trap on every exit path.
# Nothing here touches /run/bird or the system BIRD.

bird_fixture_init()
{
	BIRD_FIXTURE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bird-fixture.$$.XXXXXX") || return 1
	: >"$BIRD_FIXTURE_DIR/started"
	export BIRD_FIXTURE_DIR
}

bird_fixture_need()
{
	bird_fixture_init || {
		echo "FAIL: cannot make a temp dir"
		exit 1
	}
	if ! bird_find "$1"; then
		echo "SKIP: $BIRD_SKIP_REASON"
		exit 77
	fi
}

# Poll "$@" until it succeeds or DEADLINE (seconds) passes.
bird_poll()
{
	_deadline=$1
	shift
	_tries=$(awk "BEGIN { print int($_deadline / 0.05) }")
	while [ "$_tries" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		_tries=$((_tries - 1))
	done
	return 1
}

bird16_unpack()
{
	_root=$BIRD_FIXTURE_DIR/bird16-root
	[ -x "$_root/usr/sbin/bird" ] && return 0
	_deb=${BIRD16_DEB:-}
	if [ -z "$_deb" ]; then
		_dl=$BIRD_FIXTURE_DIR/bird16-deb
		mkdir -p "$_dl"
		if ! (cd "$_dl" && apt-get download bird) >"$_dl/apt.log" 2>&1; then
			BIRD_SKIP_REASON="cannot fetch BIRD 1.6 (apt-get download bird failed: $(tail -n 1 "$_dl/apt.log")); set BIRD16_DEB=/path/to/bird_1.6*.deb"
			return 1
		fi
		_deb=$(ls "$_dl"/bird_*.deb 2>/dev/null | head -n 1)
	fi
	if [ ! -f "$_deb" ]; then
		BIRD_SKIP_REASON="no BIRD 1.6 package found (apt-get download bird gave nothing)"
		return 1
	fi
	mkdir -p "$_root"
	if ! dpkg -x "$_deb" "$_root"; then
		BIRD_SKIP_REASON="dpkg -x $_deb failed"
		return 1
	fi
	if ! "$_root/usr/sbin/bird" --version >/dev/null 2>&1; then
		BIRD_SKIP_REASON="the unpacked BIRD 1.6 does not run here: $("$_root/usr/sbin/bird" --version 2>&1 | head -n 1)"
		return 1
	fi
}

# bird_root_wrappers VERSION: BIRD_BIN/BIRDC_BIN for Debian 13's BIRD (2.17 or 3.1).
bird_root_wrappers()
{
	_out=$("${top_srcdir:-.}/tests/lib/bird-root.sh" 2>&1) || {
		BIRD_SKIP_REASON="no Debian 13 root for BIRD $1: ${_out##*bird-root: }"
		return 1
	}
	_root=$(printf '%s\n' "$_out" | tail -n 1)
	_sbin=/usr/sbin
	[ "$1" = 2.17 ] && _sbin=/opt/bird2/usr/sbin
	# the fixture's files are where BIRD in the root looks for them
	if ! grep -q " $_root$BIRD_FIXTURE_DIR " /proc/self/mountinfo; then
		mkdir -p "$_root$BIRD_FIXTURE_DIR" &&
			mount --bind "$BIRD_FIXTURE_DIR" "$_root$BIRD_FIXTURE_DIR" || {
			BIRD_SKIP_REASON="cannot bind-mount $BIRD_FIXTURE_DIR into $_root"
			return 1
		}
		echo "$_root$BIRD_FIXTURE_DIR" >>"$BIRD_FIXTURE_DIR/mounts"
	fi
	mkdir -p "$BIRD_FIXTURE_DIR/bin"
	for _b in bird birdc; do
		printf '#!/bin/sh\nexec chroot %s %s/%s "$@"\n' "$_root" "$_sbin" "$_b" \
			>"$BIRD_FIXTURE_DIR/bin/$_b-$1" && chmod 0755 "$BIRD_FIXTURE_DIR/bin/$_b-$1"
	done
	BIRD_BIN=$BIRD_FIXTURE_DIR/bin/bird-$1
	BIRDC_BIN=$BIRD_FIXTURE_DIR/bin/birdc-$1
	if ! "$BIRD_BIN" --version 2>&1 | grep -q "version $1\."; then
		BIRD_SKIP_REASON="$BIRD_BIN is not BIRD $1: $("$BIRD_BIN" --version 2>&1 | head -n 1)"
		return 1
	fi
}

bird_find()
{
	BIRD_SKIP_REASON=
	case $1 in
	2.17 | 3.1)
		bird_root_wrappers "$1" || return 1
		;;
	2)
		BIRD_BIN=$(command -v bird || echo /usr/sbin/bird)
		BIRDC_BIN=$(command -v birdc || echo /usr/sbin/birdc)
		if [ ! -x "$BIRD_BIN" ] || ! "$BIRD_BIN" --version 2>&1 | grep -q 'version 2\.'; then
			BIRD_SKIP_REASON="BIRD 2 not found: install the Debian package bird2"
			return 1
		fi
		;;
	1.6 | 1.6v6)
		command -v dpkg >/dev/null || {
			BIRD_SKIP_REASON="dpkg is needed to unpack BIRD 1.6"
			return 1
		}
		bird16_unpack || return 1
		if [ "$1" = 1.6v6 ]; then
			BIRD_BIN=$BIRD_FIXTURE_DIR/bird16-root/usr/sbin/bird6
			BIRDC_BIN=$BIRD_FIXTURE_DIR/bird16-root/usr/sbin/birdc6
		else
			BIRD_BIN=$BIRD_FIXTURE_DIR/bird16-root/usr/sbin/bird
			BIRDC_BIN=$BIRD_FIXTURE_DIR/bird16-root/usr/sbin/birdc
		fi
		;;
	*)
		BIRD_SKIP_REASON="unknown BIRD version $1 (2, 1.6, 1.6v6, 2.17 or 3.1)"
		return 1
		;;
	esac
	export BIRD_BIN BIRDC_BIN
}

bird_cli()
{
	_dir=$1
	shift
	"$(cat "$_dir/birdc")" -s "$_dir/bird.ctl" "$@"
}

bird_start()
{
	_dir=$1 _ver=$2 _ns=${3:-}
	bird_find "$_ver" || {
		echo "bird_start: $BIRD_SKIP_REASON" >&2
		return 1
	}
	[ -f "$_dir/bird.conf" ] || {
		echo "bird_start: write $_dir/bird.conf first" >&2
		return 1
	}
	echo "$BIRDC_BIN" >"$_dir/birdc"
	echo "$_dir" >>"$BIRD_FIXTURE_DIR/started"
	rm -f "$_dir/bird.ctl" "$_dir/bird.pid"
	if [ -n "$_ns" ]; then
		set -- ip netns exec "$_ns" "$BIRD_BIN"
	else
		set -- "$BIRD_BIN"
	fi
	# BIRD forks once its config is loaded; a config error exits non-zero here.
	if ! "$@" -c "$_dir/bird.conf" -s "$_dir/bird.ctl" -P "$_dir/bird.pid" \
		>"$_dir/bird.out" 2>&1; then
		echo "bird_start: BIRD $_ver failed to start in $_dir:" >&2
		cat "$_dir/bird.out" >&2
		return 1
	fi
	if ! bird_poll 10 bird_cli "$_dir" show status; then
		echo "bird_start: BIRD $_ver in $_dir did not answer on its socket within 10 s" >&2
		cat "$_dir/bird.out" >&2
		return 1
	fi
}

bird_stop()
{
	_dir=$1
	[ -f "$_dir/bird.pid" ] || return 0
	_pid=$(cat "$_dir/bird.pid")
	case $_pid in '' | *[!0-9]*) return 0 ;; esac
	kill "$_pid" 2>/dev/null
	if ! bird_poll 5 bird_gone "$_pid"; then
		kill -9 "$_pid" 2>/dev/null
		bird_poll 5 bird_gone "$_pid"
	fi
	rm -f "$_dir/bird.pid" "$_dir/bird.ctl"
}

bird_gone()
{
	! kill -0 "$1" 2>/dev/null
}

bird_fixture_cleanup()
{
	[ -n "${BIRD_FIXTURE_DIR:-}" ] && [ -d "$BIRD_FIXTURE_DIR" ] || return 0
	if [ -f "$BIRD_FIXTURE_DIR/started" ]; then
		while read -r _d; do
			bird_stop "$_d"
		done <"$BIRD_FIXTURE_DIR/started"
	fi
	if [ -f "$BIRD_FIXTURE_DIR/mounts" ]; then
		while read -r _m; do
			umount "$_m" 2>/dev/null || umount -l "$_m"
			rmdir "$_m" 2>/dev/null
		done <"$BIRD_FIXTURE_DIR/mounts"
	fi
	rm -rf "$BIRD_FIXTURE_DIR"
	BIRD_FIXTURE_DIR=
}
