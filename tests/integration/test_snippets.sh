#!/bin/bash
# SPDX-License-Identifier: ISC
# test_snippets.sh - every file in bird-snippets/ is parsed by a real BIRD 2 and BIRD 1.6
# (`bird -p`) with the agent's state files saying `disabled yes;` and `disabled no;`, and a
# running BIRD keeps the agent's decision across `birdc configure` and a restart because of the
# state-file include (a pattern: a missing file, as after a reboot, is `disabled yes;`, a missing
# directory stops BIRD). Also checks the routes each variant puts into BIRD's table (preference,
# GRACEFUL_SHUTDOWN community, prepended AS path) and the control-socket permissions.
#
# BIRD 2 is Debian's bird2. BIRD 1.6 cannot be installed beside it, so its package is unpacked
# into a private directory: $BIRD16_DEB, else /tmp/bird_1.6.8*.deb, else `apt-get download bird`.
# Exit 77 (skip) when bird2 is missing, or when everything for BIRD 2 passed but BIRD 1.6 could
# not be obtained or run (the reason is printed).
# make check runs tests with $(SHELL), which may be dash: this file needs bash
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/tally.sh"
SNIP=$top_srcdir/bird-snippets
TEMPLATE_STATE_DIR=/run/anycast-agent/bird

for bin in bird birdc; do
	command -v "$bin" >/dev/null 2>&1 || {
		echo "SKIP: $bin not found (Debian package bird2)"
		exit 77
	}
done
[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root (starts BIRD as user bird)"
	exit 77
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/snippets-test.$$.XXXXXX") || exit 99
chmod 0755 "$TMP" # BIRD re-reads its config as user bird on `configure`
BIRD_PIDS=()
cleanup() {
	local p
	for p in "${BIRD_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM


# snip_copy SRC DST STATE: copy the snippet templates, state dir substituted (the README's sed).
snip_copy() {
	mkdir -p "$2" || return 1
	local f
	for f in "$1"/*.conf; do
		sed "s|$TEMPLATE_STATE_DIR|$3|g" "$f" >"$2/${f##*/}" || return 1
	done
}

# state_files DIR...: the decision files the snippets in DIR include (as the pattern
# "<dir>/<protocol>.con[f]", which matches exactly that file).
state_files() {
	local d
	for d in "$@"; do
		sed -n 's/^[[:space:]]*include "\([^"]*\)\.con\[f\]";[[:space:]]*$/\1.conf/p' "$d"/*.conf
	done | sort -u
}

# set_states VALUE FILE...: write `disabled VALUE;` into each state file.
set_states() {
	local v=$1 f
	shift
	for f in "$@"; do
		mkdir -p "${f%/*}" && echo "disabled $v;" >"$f" || return 1
	done
}

# parse BIRD CONF WHAT: `bird -p` must accept CONF.
parse() {
	local out
	if out=$("$1" -p -c "$2" 2>&1); then
		pass "$3"
	else
		fail "$3: $out"
	fi
}

# parse_fails BIRD CONF PATTERN WHAT: `bird -p` must reject CONF with a message matching PATTERN.
parse_fails() {
	local out
	if out=$("$1" -p -c "$2" 2>&1); then
		fail "$4: accepted"
	elif echo "$out" | grep -q -- "$3"; then
		pass "$4 (${out##*: })"
	else
		fail "$4: unexpected error: $out"
	fi
}

# lint_includes DIR: every state-file include sits on a line of its own inside a protocol block.
lint_includes() {
	local bad
	bad=$(grep -n 'include' "$1"/*.conf | grep -v '^[^:]*:[0-9]*:[[:space:]]*#' |
		grep -v ':[[:space:]]*include "[^"]*";[[:space:]]*$')
	if [ -n "$bad" ]; then
		fail "include not on a line of its own: $bad"
	else
		pass "$1: every include is on a line of its own"
	fi
}

# covered DIR CONF...: every snippet in DIR is included by one of the test configs.
covered() {
	local dir=$1 f
	shift
	for f in "$dir"/*.conf; do
		if ! grep -q "include \"$f\";" "$@"; then
			fail "snippet ${f##*/} is not exercised by any test config"
		fi
	done
}

# --- running BIRD -------------------------------------------------------------------------

# snip_setup VERSION DIR ARRAY: bird-snippets/VERSION copied into DIR/snippets with the state
# directory DIR/state, BIRD's run directory DIR/run, the includes linted; ARRAY gets the
# state-file includes (at least 12)
snip_setup() {
	local -n files=$3
	snip_copy "$SNIP/$1" "$2/snippets" "$2/state" || exit 99
	mkdir -p "$2/run" && chown "${bird_user:-root}" "$2/run"
	lint_includes "$SNIP/$1"
	mapfile -t "$3" < <(state_files "$2/snippets")
	[ "${#files[@]}" -ge 12 ] && pass "$1: ${#files[@]} state-file includes" ||
		fail "$1: only ${#files[@]} state-file includes found"
}

# bird_start BIRD CONF SOCK PIDFILE [USER]: start a daemon, wait until its socket answers.
bird_start() {
	local bird=$1 conf=$2 sock=$3 pidf=$4 user=${5:-} args=() i
	[ -n "$user" ] && args=(-u "$user" -g "$user")
	"$bird" -c "$conf" -s "$sock" -P "$pidf" "${args[@]}" || return 1
	for ((i = 0; i < 500; i++)); do
		if [ -s "$pidf" ] && "$BIRDC" -s "$sock" show status 2>/dev/null | grep -q 'Daemon is up'; then
			BIRD_PIDS+=("$(cat "$pidf")")
			return 0
		fi
		sleep 0.01
	done
	echo "BIRD did not answer on $sock within 5 s" >&2
	return 1
}

# bird_stop SOCK PIDFILE: `down`, then wait for the process to exit.
bird_stop() {
	local pid i
	pid=$(cat "$2" 2>/dev/null) || return 0
	"$BIRDC" -s "$1" down >/dev/null 2>&1
	for ((i = 0; i < 500; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.01
	done
	kill -9 "$pid" 2>/dev/null
}

# proto_state SOCK NAME: up, down, start, ... as `show protocols` reports it.
proto_state() {
	"$BIRDC" -s "$1" show protocols "$2" | awk -v n="$2" '$1 == n { print $4 }'
}

# expect_state SOCK NAME STATE WHAT
expect_state() {
	local s
	s=$(proto_state "$1" "$2")
	if [ "$s" = "$3" ]; then
		pass "$4: $2 is $s"
	else
		fail "$4: $2 is '$s', expected $3"
	fi
}

# best_route SOCK PREFIX: "protocol-name attribute-lines..." of the best route for PREFIX.
best_route() {
	"$BIRDC" -s "$1" show route "$2" all | awk '
		/^[^ \t].*\[/ || /^[ ]+[a-z].*\[/ { inbest = ($0 ~ /\] \* \(/) }
		inbest && /\[/ { sub(/.*\[/, ""); sub(/ .*/, ""); printf "%s", $0; next }
		inbest && /BGP\./ { sub(/^[ \t]*/, " "); printf "%s", $0 }
		END { print "" }'
}

# expect_best SOCK PREFIX PATTERN WHAT
expect_best() {
	local b
	b=$(best_route "$1" "$2")
	if echo "$b" | grep -q -- "$3"; then
		pass "$4: best route for $2 is [$b]"
	else
		fail "$4: best route for $2 is [$b], expected /$3/"
	fi
}

configure() {
	local out
	out=$("$BIRDC" -s "$1" configure 2>&1)
	case $out in
	*Reconfigured* | *"Reconfiguration in progress"* | *"Reconfiguration already in progress"*) ;;
	*) fail "birdc configure: $out" ;;
	esac
}

# durable_test LABEL BIRD CONF STATE_DIR RUNDIR [USER]: the agent's decision survives
# `configure` and a restart only because of the include; without the state file write it does not.
durable_test() {
	local label=$1 bird=$2 conf=$3 st=$4 run=$5 user=${6:-}
	local sock=$run/bird.ctl pidf=$run/bird.pid
	local web4=$st/anycast_web4.conf

	local all
	mapfile -t all < <(state_files "${conf%/*}/snippets")
	set_states yes "${all[@]}" || return
	set_states no "$web4"
	bird_start "$bird" "$conf" "$sock" "$pidf" "$user" || {
		fail "$label: BIRD did not start: $(tail -5 "$run/bird.log" 2>/dev/null)"
		return
	}
	expect_state "$sock" anycast_web4 up "$label: started with 'disabled no;'"
	expect_state "$sock" anycast_web4_drain down "$label: started with 'disabled yes;'"
	expect_best "$sock" 192.0.2.80/32 '^anycast_web4$' "$label: normal variant"

	"$BIRDC" -s "$sock" disable anycast_web4 >/dev/null
	expect_state "$sock" anycast_web4 down "$label: birdc disable"
	# what the include is for: without the state file, configure undoes the runtime disable
	configure "$sock"
	expect_state "$sock" anycast_web4 up "$label: configure without state write resets"

	"$BIRDC" -s "$sock" disable anycast_web4 >/dev/null
	set_states yes "$web4"
	configure "$sock"
	expect_state "$sock" anycast_web4 down "$label: 'disabled yes;' + configure keeps it"
	bird_stop "$sock" "$pidf"
	bird_start "$bird" "$conf" "$sock" "$pidf" "$user" || {
		fail "$label: BIRD did not restart"
		return
	}
	expect_state "$sock" anycast_web4 down "$label: restart keeps it"

	set_states no "$web4"
	configure "$sock"
	expect_state "$sock" anycast_web4 up "$label: 'disabled no;' + configure"
	# no decision file (a reboot emptied /run): withdrawn, whatever BIRD had
	rm -f "$web4"
	configure "$sock"
	expect_state "$sock" anycast_web4 down "$label: decision file gone + configure: withdrawn"
	set_states no "$web4"
	configure "$sock"
	expect_state "$sock" anycast_web4 up "$label: 'disabled no;' again + configure"

	# the variants: preference decides while both are up; marking shows in BIRD's table
	set_states no "$st/anycast_web4_drain.conf"
	configure "$sock"
	expect_state "$sock" anycast_web4_drain up "$label: drain variant enabled"
	expect_best "$sock" 192.0.2.80/32 '^anycast_web4$' "$label: normal beats drain"
	"$BIRDC" -s "$sock" disable anycast_web4 >/dev/null
	expect_best "$sock" 192.0.2.80/32 '^anycast_web4_drain.*(65535,0)' \
		"$label: drain variant carries GRACEFUL_SHUTDOWN"
	"$BIRDC" -s "$sock" enable anycast_web4_degraded >/dev/null
	expect_best "$sock" 192.0.2.80/32 '^anycast_web4_degraded.*as_path: 64500 64500' \
		"$label: degraded beats drain, AS path prepended"
	bird_stop "$sock" "$pidf"
	# a filter that fails at run time only logs: the route silently disappears
	if grep -q '<ERR>' "$run/bird.log"; then
		fail "$label: BIRD logged errors: $(grep '<ERR>' "$run/bird.log" | sort -u)"
	else
		pass "$label: BIRD logged no errors"
	fi
}

# socket_perm_test LABEL BIRD: with -u bird -g bird the socket is 0660 bird:bird, a process with
# the supplementary group bird may use it, one without may not (the README's group setup).
socket_perm_test() {
	local label=$1 run=$TMP/perm-$1 out
	if ! getent passwd bird >/dev/null || ! command -v setpriv >/dev/null; then
		echo "note: $label: no user bird or no setpriv, socket permission check not run"
		return
	fi
	mkdir -p "$run" && chown bird:bird "$run"
	printf 'router id 192.0.2.1;\nprotocol device {}\n' >"$run/bird.conf"
	bird_start "$2" "$run/bird.conf" "$run/bird.ctl" "$run/bird.pid" bird || {
		fail "$label: BIRD did not start as user bird"
		return
	}
	out=$(stat -c '%a %U:%G' "$run/bird.ctl")
	[ "$out" = "660 bird:bird" ] && pass "$label: socket is $out" ||
		fail "$label: socket is $out, expected 660 bird:bird"
	if setpriv --reuid=nobody --regid=nogroup --groups=bird \
		"$BIRDC" -s "$run/bird.ctl" show status 2>&1 | grep -q 'Daemon is up'; then
		pass "$label: a user in group bird can use the socket"
	else
		fail "$label: a user in group bird cannot use the socket"
	fi
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BIRDC" -s "$run/bird.ctl" show status 2>&1)
	if echo "$out" | grep -q 'Permission denied'; then
		pass "$label: a user outside group bird is refused"
	else
		fail "$label: a user outside group bird got: $out"
	fi
	bird_stop "$run/bird.ctl" "$run/bird.pid"
}

bird_user=
getent passwd bird >/dev/null && bird_user=bird

# === BIRD 2 ====================================================================================
echo "--- BIRD 2: $(bird --version 2>&1)"
BIRDC=birdc
B2=$TMP/b2
ST2=$B2/state
snip_setup bird2 "$B2" states2

cat >"$B2/pop.conf" <<EOF
router id 192.0.2.1;
protocol device {}
include "$B2/snippets/anycast-defs.conf";
include "$B2/snippets/anycast-filters.conf";
include "$B2/snippets/anycast-static.conf";
include "$B2/snippets/upstream-bgp.conf";
EOF
cat >"$B2/peer.conf" <<EOF
router id 198.51.100.2;
protocol device {}
include "$B2/snippets/peer-graceful-shutdown.conf";
filter my_import { honour_graceful_shutdown(); if net.len > 24 then accept; reject; }
protocol bgp anycast_pop1 {
	local 198.51.100.2 as 64496;
	neighbor 198.51.100.1 as 64500;
	ipv4 { import filter import_honour_graceful_shutdown; export none; };
}
protocol bgp anycast_pop2 {
	local 198.51.100.6 as 64496;
	neighbor 198.51.100.5 as 64500;
	ipv4 { import filter my_import; export none; };
}
EOF
covered "$B2/snippets" "$B2/pop.conf" "$B2/peer.conf"
for v in yes no; do
	set_states "$v" "${states2[@]}" || exit 99
	parse bird "$B2/pop.conf" "bird2: PoP snippets parse with 'disabled $v;'"
done
parse bird "$B2/peer.conf" "bird2: peer-side graceful-shutdown import parses"
# a missing decision file (a reboot emptied /run) is `disabled yes;`: BIRD starts, withdrawn
rm -f "${states2[0]}"
parse bird "$B2/pop.conf" "bird2: a missing decision file parses (the include is a pattern)"
# ... but the decision directory itself must exist (tmpfiles.d and --init make it at boot)
mv "$ST2" "$ST2.away"
parse_fails bird "$B2/pop.conf" "Unable to match pattern" "bird2: a missing decision directory stops BIRD"
mv "$ST2.away" "$ST2"
echo 'disabled maybe;' >"${states2[0]}"
parse_fails bird "$B2/pop.conf" "${states2[0]##*/}" "bird2: a bad state file stops BIRD"

# runtime: no BGP, no kernel protocol, so this BIRD touches no network
cat >"$B2/run.conf" <<EOF
log "$B2/run/bird.log" all;
router id 192.0.2.1;
include "$B2/snippets/anycast-defs.conf";
include "$B2/snippets/anycast-filters.conf";
include "$B2/snippets/anycast-static.conf";
EOF
durable_test bird2 bird "$B2/run.conf" "$ST2" "$B2/run" "$bird_user"
socket_perm_test bird2 bird

# === BIRD 1.6 ==================================================================================
skip16=
find_bird16() {
	local deb=${BIRD16_DEB:-} d
	if [ -z "$deb" ]; then
		for d in /tmp/bird_1.6.8*_amd64.deb /tmp/bird_1.6*.deb; do
			[ -f "$d" ] && deb=$d && break
		done
	fi
	if [ -z "$deb" ]; then
		mkdir -p "$TMP/deb" || return 1
		if ! (cd "$TMP/deb" && timeout 120 apt-get download bird) >"$TMP/deb/log" 2>&1; then
			skip16="could not get the BIRD 1.6 package: apt-get download bird: $(tail -1 "$TMP/deb/log")"
			return 1
		fi
		deb=$(ls "$TMP"/deb/bird_*.deb 2>/dev/null | head -1)
	fi
	[ -f "$deb" ] || {
		skip16="no BIRD 1.6 package found"
		return 1
	}
	dpkg -x "$deb" "$TMP/b16root" || {
		skip16="dpkg -x $deb failed"
		return 1
	}
	chmod 0755 "$TMP/b16root"
	BIRD16=$TMP/b16root/usr/sbin/bird
	BIRD6_16=$TMP/b16root/usr/sbin/bird6
	BIRDC16=$TMP/b16root/usr/sbin/birdc
	local v
	v=$("$BIRD16" --version 2>&1)
	case $v in
	*"BIRD version 1."*) echo "--- BIRD 1.6: $v (from ${deb##*/})" ;;
	*)
		skip16="the unpacked BIRD 1.6 does not run: $v"
		return 1
		;;
	esac
}

if find_bird16; then
	B16=$TMP/b16
	ST16=$B16/state
	snip_setup bird1.6 "$B16" states16
	for fam in 4 6; do
		cat >"$B16/pop$fam.conf" <<EOF
router id 192.0.2.1;
protocol device {}
include "$B16/snippets/anycast-defs$fam.conf";
include "$B16/snippets/anycast-filters.conf";
include "$B16/snippets/anycast-static$fam.conf";
include "$B16/snippets/upstream-bgp$fam.conf";
EOF
	done
	cat >"$B16/peer.conf" <<EOF
router id 198.51.100.2;
protocol device {}
include "$B16/snippets/peer-graceful-shutdown.conf";
protocol bgp anycast_pop1 {
	local as 64496;
	neighbor NEIGHBOR as 64500;
	import filter import_honour_graceful_shutdown;
	export none;
}
EOF
	sed 's/NEIGHBOR/2001:db8:1:1::1/' "$B16/peer.conf" >"$B16/peer6.conf"
	sed -i 's/NEIGHBOR/198.51.100.1/' "$B16/peer.conf"
	covered "$B16/snippets" "$B16/pop4.conf" "$B16/pop6.conf" "$B16/peer.conf"
	for v in yes no; do
		set_states "$v" "${states16[@]}" || exit 99
		parse "$BIRD16" "$B16/pop4.conf" "bird1.6: bird.conf snippets parse with 'disabled $v;'"
		parse "$BIRD6_16" "$B16/pop6.conf" "bird1.6: bird6.conf snippets parse with 'disabled $v;'"
	done
	parse "$BIRD16" "$B16/peer.conf" "bird1.6: peer-side graceful-shutdown import parses (bird)"
	parse "$BIRD6_16" "$B16/peer6.conf" "bird1.6: peer-side graceful-shutdown import parses (bird6)"
	rm -f "$ST16/anycast_web4.conf"
	parse "$BIRD16" "$B16/pop4.conf" "bird1.6: a missing decision file parses (the include is a pattern)"

	cat >"$B16/run.conf" <<EOF
log "$B16/run/bird.log" all;
router id 192.0.2.1;
include "$B16/snippets/anycast-defs4.conf";
include "$B16/snippets/anycast-filters.conf";
include "$B16/snippets/anycast-static4.conf";
EOF
	BIRDC=$BIRDC16
	durable_test bird1.6 "$BIRD16" "$B16/run.conf" "$ST16" "$B16/run" "$bird_user"
	socket_perm_test bird1.6 "$BIRD16"
	BIRDC=birdc
fi

echo
tally_end "every snippet check of BIRD 2 (and BIRD 1.6)" "${skip16:+BIRD 1.6 not tested: $skip16}"
