# SPDX-License-Identifier: ISC
# bird_real_common.sh - the client (bird.c, through tests/integration/bird_driver)
# against a real BIRD on a private config and socket. Sourced by bird2_real.sh and
# bird16_real.sh with BIRD_VERSION set; exits 77 (skip) with the reason when that
# BIRD is not available.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/lib/bird.sh"
DRIVER=$top_builddir/tests/integration/bird_driver
[ -x "$DRIVER" ] || { echo "SKIP: $DRIVER not built (make check builds it)"; exit 77; }

fails=0
cleanup() { bird_fixture_cleanup; }
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
bird_fixture_init || { echo "FAIL: cannot make a temp dir"; exit 1; }
if ! bird_find "$BIRD_VERSION"; then
	# Debian 13's BIRDs must run in CI (BIRD_MATRIX=require, scripts/check)
	case $BIRD_VERSION:${BIRD_MATRIX:-} in
	2.17:require | 3.1:require)
		echo "FAIL: $BIRD_SKIP_REASON (BIRD_MATRIX=require)"
		exit 1
		;;
	esac
	echo "SKIP: $BIRD_SKIP_REASON"
	exit 77
fi
echo "# $("$BIRD_BIN" --version 2>&1) from $BIRD_BIN"

dir=$BIRD_FIXTURE_DIR/b
mkdir -p "$dir"
if [ "${BIRD_VERSION#1.6}" = "$BIRD_VERSION" ]; then
	cat >"$dir/bird.conf" <<CONF
router id 192.0.2.1;
log "$dir/bird.log" all;
protocol device { }
protocol static anycast4 { ipv4; route 192.0.2.53/32 unreachable; }
protocol static anycast4_drain { disabled yes; ipv4; route 192.0.2.53/32 unreachable; }
protocol static anycast6 { ipv6; route 2001:db8::53/128 unreachable; }
CONF
else
	cat >"$dir/bird.conf" <<CONF
router id 192.0.2.1;
log "$dir/bird.log" all;
protocol device { }
protocol static anycast4 { route 192.0.2.53/32 unreachable; }
protocol static anycast4_drain { disabled yes; route 192.0.2.53/32 unreachable; }
CONF
fi
bird_start "$dir" "$BIRD_VERSION" || exit 1
sock=$dir/bird.ctl

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; fails=$((fails + 1)); }
# expect_out DESCRIPTION PATTERN OUTPUT
expect_out() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: no /$2/ in:"; printf '%s\n' "$3" | sed 's/^/#   /'; fi
}
# the state column of birdc's own view
birdc_state() { bird_cli "$dir" show protocols "$1" | awk -v p="$1" '$1 == p { print $4 }'; }
birdc_state_is() { [ "$(birdc_state "$2")" = "$3" ]; }
# right after disable BIRD 2 shows "flush" for a moment: wait until it settles
# (the client reports settling=1 meanwhile)
settled() { "$DRIVER" "$1" show "$2" | grep -q "^proto $2 .* settling=0 "; }

bird_poll 5 birdc_state_is "$dir" anycast4 up || not_ok "anycast4 did not come up after start"
out=$("$DRIVER" "$sock" show version)
expect_out "banner version" "^version BIRD ${BIRD_VERSION%v6}\." "$out"
expect_out "show lists anycast4 up" "^proto anycast4 Static [a-z0-9]+ up disabled=0 up=1" "$out"
expect_out "show lists anycast4_drain disabled" "^proto anycast4_drain Static [a-z0-9]+ down disabled=1 up=0" "$out"

out=$("$DRIVER" "$sock" disable anycast4 'drained by "bird_real"\')
expect_out "disable with a message" '^disable anycast4: OK changed=1 code=0009' "$out"
bird_poll 5 birdc_state_is "$dir" anycast4 down && ok "birdc sees anycast4 down" ||
	not_ok "birdc sees anycast4 '$(birdc_state anycast4)'"
out=$("$DRIVER" "$sock" showall anycast4 disable anycast4)
expect_out "the client reads it back as disabled" "^proto anycast4 Static [a-z0-9]+ down disabled=1 up=0 .*message=drained by bird_real$" "$out"
expect_out "disable again is OK, unchanged" '^disable anycast4: OK changed=0 code=0008' "$out"
bird_cli "$dir" show protocols all anycast4 | grep -q 'Message: *drained by bird_real$' &&
	ok "birdc shows the sanitised message" || not_ok "birdc does not show the message"

out=$("$DRIVER" "$sock" enable anycast4 enable anycast4)
expect_out "enable" '^enable anycast4: OK changed=1 code=0011' "$out"
expect_out "enable again is OK, unchanged" '^enable anycast4: OK changed=0 code=0010' "$out"
bird_poll 5 settled "$sock" anycast4
out=$("$DRIVER" "$sock" show anycast4)
expect_out "the client reads it back as up" "^proto anycast4 Static [a-z0-9]+ up disabled=0 up=1" "$out"
bird_poll 5 birdc_state_is "$dir" anycast4 up && ok "birdc sees anycast4 up" ||
	not_ok "birdc sees anycast4 '$(birdc_state anycast4)'"

out=$("$DRIVER" "$sock" enable nosuch show nosuch)
[ $? -eq 1 ] && ok "unknown protocol fails the driver" || not_ok "unknown protocol exit status"
expect_out "unknown protocol on enable" '^enable nosuch: NO_SUCH_PROTOCOL changed=0 code=900[12]' "$out"
expect_out "unknown protocol on show" '^show: NO_SUCH_PROTOCOL n=0 code=900[12]' "$out"
out=$("$DRIVER" "$sock" enable '"anycast4*"')
expect_out "a glob name never reaches BIRD" '^enable: REFUSED_LOCALLY' "$out"
st=$(birdc_state anycast4_drain)
[ "$st" = down ] && ok "the glob did not enable anycast4_drain" || not_ok "anycast4_drain is '$st'"

out=$("$DRIVER" "$sock" bench 200 anycast4)
expect_out "200 disable/enable round trips" '^bench anycast4: n=400 ' "$out"
printf '%s\n' "$out" | grep '^bench' | sed "s/^/# BIRD $BIRD_VERSION: /"
# BIRD 3 flushes a disabled protocol in the background: enabled right away, it shows `flush`
# (settling) and comes up by itself once the flush is done
bird_poll 5 settled "$sock" anycast4
out=$("$DRIVER" "$sock" show anycast4)
expect_out "anycast4 ends up enabled" "^proto anycast4 Static [a-z0-9]+ up " "$out"

# BIRD gone: the client reports it within its timeout, never hangs
bird_stop "$dir"
t0=$(date +%s)
out=$("$DRIVER" -t 0.5 "$sock" enable anycast4 2>&1)
rc=$?
t1=$(date +%s)
[ $rc -eq 1 ] && [ $((t1 - t0)) -le 2 ] && ok "BIRD stopped: driver fails in $((t1 - t0)) s" ||
	not_ok "BIRD stopped: rc $rc after $((t1 - t0)) s"
expect_out "BIRD stopped: the error names the cause" 'cannot connect: no such file' "$out"

# The fixture can run BIRD inside a network namespace (the lab does); its
# control socket is a path, so the client outside still reaches it.
ns=birdtest$$
if [ "$(id -u)" = 0 ] && ip netns add "$ns" 2>/dev/null; then
	trap 'ip netns del "$ns" 2>/dev/null; cleanup' EXIT
	ip -n "$ns" link set lo up
	nsdir=$BIRD_FIXTURE_DIR/ns
	mkdir -p "$nsdir"
	sed "s|$dir/bird.log|$nsdir/bird.log|" "$dir/bird.conf" >"$nsdir/bird.conf"
	if bird_start "$nsdir" "$BIRD_VERSION" "$ns"; then
		"$DRIVER" "$nsdir/bird.ctl" disable anycast4 >/dev/null
		bird_poll 5 settled "$nsdir/bird.ctl" anycast4
		out=$("$DRIVER" "$nsdir/bird.ctl" show anycast4)
		expect_out "BIRD in netns $ns: disable through the client" "^proto anycast4 Static [a-z0-9]+ down disabled=1" "$out"
		pid=$(cat "$nsdir/bird.pid")
		[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ] &&
			not_ok "BIRD in netns runs in the host namespace" || ok "BIRD runs inside $ns"
		bird_stop "$nsdir"
	else
		not_ok "BIRD did not start inside netns $ns"
	fi
	ip netns del "$ns"
else
	echo "# no network namespace here (not root or no ip netns): netns fixture not checked"
fi

[ $fails -eq 0 ] || { echo "FAIL: $fails checks failed"; exit 1; }
echo "PASS"
exit 0
