#!/bin/bash
# SPDX-License-Identifier: ISC
# test_print_bird.sh - real BIRDs take what `anycast-agent --print-bird` writes.
#
# For each BIRD (2 from Debian's bird2; 1.6 unpacked from Debian's bird package, its IPv4 and its
# IPv6 daemon; 3 when BIRD3_BIN is set) and each agent configuration (the shipped example, and
# tests/data/birdconf with every variant):
#   - the output, included from a bird.conf of the operator's kind (router id, device protocol,
#     ANYCAST_LOCAL_AS, an upstream BGP session exporting through its filter), passes `bird -p`
#     without decision files, with every one saying `disabled no;`, and fails on a bad one (the
#     include is really read) or without the state directory (what the output's header warns);
#   - a running BIRD starts with every protocol down; decision files written as the agent writes
#     them (description + `disabled no;`) and `birdc configure` bring each protocol up with its
#     `Description:`; the variants carry preference 200/150/100, the degraded AS path and the
#     drain community; the export filter passes exactly the announced prefixes;
#   - --print-bird without --bird-version reads the version from that BIRD and prints the same,
#     and says clearly that it cannot once BIRD is gone.
#
# BIRD 3 is not in Debian 12: the test takes BIRD 3.1 (and Debian 13's BIRD 2.17) from
# tests/lib/bird.sh (`bird_find 3.1`) where it provides them, or BIRD3_BIN and BIRDC3_BIN:
# programs that run BIRD 3's bird and birdc with the arguments given and see
# $BIRD_FIXTURE_DIR at the same path (a Debian 13 chroot with it bind-mounted, for example).
# Needs root (BIRD's device protocol), runs BIRD: take /tmp/anycast-heavy.lock.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
agent=$top_builddir/anycast-agent
[ -x "$agent" ] || {
	echo "$agent is not built"
	exit 99
}
[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root (BIRD's device protocol)"
	exit 77
}
. "$top_srcdir/tests/lib/bird.sh"
. "$top_srcdir/tests/lib/tally.sh"
bird_fixture_init || exit 99
TMP=$BIRD_FIXTURE_DIR/print-bird
mkdir -p "$TMP" && chmod 0755 "$BIRD_FIXTURE_DIR" "$TMP"
RUNNING=()
cleanup() {
	local p
	for p in "${RUNNING[@]}"; do
		kill "$p" 2>/dev/null
	done
	bird_fixture_cleanup
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

tested=()

# decision FILE [yes|no]: what the agent writes into a decision file
decision() {
	printf 'description "anycast-agent decision %s";\ndisabled %s;\n' "$1" "${2:-no}" >"$1"
}

# wrapper DIR VER FAMILY RUN: an operator's bird.conf around DIR/anycast.conf; RUN=1 leaves the
# BGP session disabled (a running test BIRD opens no connection) and logs to DIR/bird.log
wrapper() {
	local dir=$1 ver=$2 fam=$3 run=$4 dis="" n4=203.0.113.0/24 n6=2001:db8:ffff::/48
	[ "$run" = 1 ] && dis="disabled yes;" && echo "log \"$dir/bird.log\" all;"
	cat <<EOF
router id 192.0.2.1;
define ANYCAST_LOCAL_AS = 64500;
protocol device {}
include "$dir/anycast.conf";
EOF
	if [ "$ver" = 1.6 ]; then
		local n=$n4 nb=198.51.100.2 lo=198.51.100.1
		[ "$fam" = 6 ] && n=$n6 nb=2001:db8:1:1::2 lo=2001:db8:1:1::1
		cat <<EOF
# a route that is not the agent's: the export filter must not pass it
protocol static not_anycast { route $n blackhole; }
protocol bgp upstream {
	$dis
	local $lo as ANYCAST_LOCAL_AS;
	neighbor $nb as 64496;
	import none;
	export filter anycast_export;
}
EOF
	else
		cat <<EOF
protocol static not_anycast4 { ipv4; route $n4 blackhole; }
protocol static not_anycast6 { ipv6; route $n6 blackhole; }
protocol bgp upstream4 {
	$dis
	local 198.51.100.1 as ANYCAST_LOCAL_AS;
	neighbor 198.51.100.2 as 64496;
	ipv4 { import none; export filter anycast_export4; };
}
protocol bgp upstream6 {
	$dis
	local 2001:db8:1:1::1 as ANYCAST_LOCAL_AS;
	neighbor 2001:db8:1:1::2 as 64496;
	ipv6 { import none; export filter anycast_export6; };
}
EOF
	fi
}

# protocols FILE ROLE: the static protocols of a role (normal, degraded, drain) in the output
protocols() {
	awk -v role="$2" '/^# / { r = $2; sub(/:$/, "", r) }
		/^protocol static / && r == role { print $3 }' "$1"
}

# prefixes FILE FAMILY: the prefixes of the export set (ANYCAST_PREFIXES, ...4 or ...6)
prefixes() {
	sed -n "s/^define ANYCAST_PREFIXES$2 = \[ \(.*\) \];$/\1/p" "$1" | tr -d ' ' | tr ',' '\n' |
		sort
}

bird_up() { # BIRD BIRDC DIR: start, wait for the socket (deadline 10 s)
	local dir=$3 i
	rm -f "$dir/bird.ctl" "$dir/bird.pid"
	$1 -c "$dir/run.conf" -s "$dir/bird.ctl" -P "$dir/bird.pid" >"$dir/bird.out" 2>&1 || return 1
	for ((i = 0; i < 200; i++)); do
		if [ -s "$dir/bird.pid" ] && $2 -s "$dir/bird.ctl" show status 2>/dev/null |
			grep -q 'Daemon is up'; then
			RUNNING+=("$(cat "$dir/bird.pid")")
			return 0
		fi
		sleep 0.05
	done
	return 1
}

up_with_description() { # BIRDC DIR PROTOCOL DECISION_FILE
	local got
	got=$($1 -s "$2/bird.ctl" show protocols all "$3") &&
		echo "$got" | grep -Eq "^$3 +Static +[^ ]+ +up" &&
		echo "$got" | grep -Eq "^ +Description: +anycast-agent decision $4\$"
}

# check LABEL VER BIRD BIRDC FAMILY(4, 6 or 46) AGENT_ARGS...: everything above for one BIRD and
# one agent configuration; AGENT_ARGS select it (-f CONF, overrides, --print-bird[=SOCKET])
check() {
	local label=$1 ver=$2 bird=$3 birdc=$4 fam=$5
	shift 5
	local dir=$TMP/$label st=$TMP/$label/state out p f want got n bad attr
	local -a normal degraded drain
	mkdir -p "$st" && chmod 0755 "$dir" "$st"
	echo "--- $label: BIRD $ver ($($bird --version 2>&1 | head -n 1))"
	if ! "$agent" "$@" --state-dir "$st" --bird-version "$ver" >"$dir/anycast.conf" \
		2>"$dir/agent.err"; then
		fail "$label: --print-bird: $(cat "$dir/agent.err")"
		return
	fi
	wrapper "$dir" "$ver" "$fam" 0 >"$dir/bird.conf"
	wrapper "$dir" "$ver" "$fam" 1 >"$dir/run.conf"
	mapfile -t normal < <(protocols "$dir/anycast.conf" normal)
	mapfile -t degraded < <(protocols "$dir/anycast.conf" degraded)
	mapfile -t drain < <(protocols "$dir/anycast.conf" drain)
	local all=("${normal[@]}" "${degraded[@]}" "${drain[@]}")
	[ ${#normal[@]} -gt 0 ] && pass "$label: ${#all[@]} static protocols" ||
		{ fail "$label: no protocol in the output"; return; }

	# parse: no decision files, all `disabled no;`, a bad one, no state directory
	out=$($bird -p -c "$dir/bird.conf" 2>&1) && pass "$label: parses without decision files" ||
		fail "$label: without decision files: $out"
	for p in "${all[@]}"; do decision "$st/$p.conf"; done
	out=$($bird -p -c "$dir/bird.conf" 2>&1) && pass "$label: parses with every decision" ||
		fail "$label: with decision files: $out"
	echo 'disabled maybe;' >"$st/${normal[0]}.conf"
	out=$($bird -p -c "$dir/bird.conf" 2>&1) && fail "$label: a bad decision file was accepted" ||
		{ echo "$out" | grep -q "${normal[0]}.conf" &&
			pass "$label: a bad decision file stops BIRD ($out)" ||
			fail "$label: a bad decision file: unexpected $out"; }
	rm -rf "$st"
	out=$($bird -p -c "$dir/bird.conf" 2>&1) && fail "$label: accepted without the state directory" ||
		{ echo "$out" | grep -q 'Unable to match pattern' &&
			pass "$label: without its directory the include is an error, as the header says" ||
			fail "$label: without the state directory: $out"; }
	mkdir -p "$st" && chmod 0755 "$st"

	# run: every protocol down until its decision says otherwise
	if ! bird_up "$bird" "$birdc" "$dir"; then
		fail "$label: BIRD does not start: $(cat "$dir/bird.out")"
		return
	fi
	got=$($birdc -s "$dir/bird.ctl" show protocols)
	bad=
	for p in "${all[@]}"; do
		echo "$got" | grep -Eq "^$p +Static +[^ ]+ +down" || bad="$bad $p"
	done
	[ -z "$bad" ] && pass "$label: every protocol down before the agent decided" ||
		fail "$label: not down:$bad"$'\n'"$got"

	# the version comes from the running BIRD
	if "$agent" "$@" --state-dir "$st" >"$dir/detected.conf" 2>"$dir/detect.err" &&
		cmp -s "$dir/anycast.conf" "$dir/detected.conf"; then
		pass "$label: without --bird-version, the same output for the BIRD it asked"
	else
		fail "$label: version detection: $(cat "$dir/detect.err")"
	fi

	for p in "${normal[@]}"; do decision "$st/$p.conf"; done
	$birdc -s "$dir/bird.ctl" configure >/dev/null
	bad=
	for p in "${normal[@]}"; do
		bird_poll 5 up_with_description "$birdc" "$dir" "$p" "$st/$p.conf" || bad="$bad $p"
	done
	[ -z "$bad" ] &&
		pass "$label: decisions 'disabled no;' + configure: ${#normal[@]} up with their Description:" ||
		fail "$label: not up with its Description:$bad"$'\n'"$($birdc -s "$dir/bird.ctl" show protocols all)"

	# the export filters pass exactly the announced prefixes
	for f in $(echo "$fam" | sed 's/./& /g'); do
		local filter=anycast_export$f table="table master$f" set=$f
		[ "$ver" = 1.6 ] && filter=anycast_export table= set=
		want=$(prefixes "$dir/anycast.conf" "$set")
		got=$($birdc -s "$dir/bird.ctl" show route $table filter $filter |
			awk '$1 ~ /^[0-9a-f:.]+\/[0-9]+$/ { print $1 }' | sort)
		[ -n "$want" ] && [ "$got" = "$want" ] &&
			pass "$label: $filter passes $(echo $got)" ||
			fail "$label: $filter passes [$(echo $got)], want [$(echo $want)]"
	done

	# the variants: preference, AS path, community
	for p in "${degraded[@]}" "${drain[@]}"; do decision "$st/$p.conf"; done
	$birdc -s "$dir/bird.ctl" configure >/dev/null
	for p in "${degraded[@]}" "${drain[@]}"; do
		bird_poll 5 up_with_description "$birdc" "$dir" "$p" "$st/$p.conf"
	done
	n=0
	bad=
	for p in "${normal[@]}" "${degraded[@]}" "${drain[@]}"; do
		got=$($birdc -s "$dir/bird.ctl" show route protocol "$p" all)
		case " ${degraded[*]} " in
		*" $p "*) want='\(150\)' attr='(BGP\.as_path|bgp_path): 64500 64500' ;;
		*)
			case " ${drain[*]} " in
			*" $p "*) want='\(100\)' attr='(BGP\.community|bgp_community): \(65535,0\)' ;;
			*) want='\(200\)' attr= ;;
			esac
			;;
		esac
		echo "$got" | grep -Eq "\[$p .*$want" && { [ -z "$attr" ] || echo "$got" | grep -Eq "$attr"; } ||
			bad="$bad $p"
		n=$((n + 1))
	done
	[ -z "$bad" ] && pass "$label: $n protocols up with their preference and marking" ||
		fail "$label: wrong route attributes:$bad"
	bird_stop "$dir"
	if grep -q '<ERR>' "$dir/bird.log"; then
		fail "$label: BIRD logged errors: $(grep '<ERR>' "$dir/bird.log" | sort -u)"
	else
		pass "$label: BIRD logged no errors"
	fi

	# no BIRD to ask: a clear failure, nothing on stdout
	if "$agent" "$@" --state-dir "$st" >"$dir/nobird.out" 2>"$dir/nobird.err"; then
		fail "$label: --print-bird without BIRD and without --bird-version succeeded"
	elif [ -s "$dir/nobird.out" ] || ! grep -q 'cannot tell the BIRD version.*give --bird-version 1.6|2|3' "$dir/nobird.err"; then
		fail "$label: without BIRD: stdout [$(cat "$dir/nobird.out")], stderr [$(cat "$dir/nobird.err")]"
	else
		pass "$label: without BIRD: $(tail -n 1 "$dir/nobird.err")"
	fi
	tested+=("$label")
}

data=$top_srcdir/tests/data/birdconf
contrib=$top_srcdir/contrib/anycast-agent.conf

# --- BIRD 2 ------------------------------------------------------------------------------------
if bird_find 2; then
	check bird2-example 2 "$BIRD_BIN" "$BIRDC_BIN" 46 -f "$contrib" \
		--bird-socket "$TMP/bird2-example/bird.ctl" --print-bird
	check bird2-variants 2 "$BIRD_BIN" "$BIRDC_BIN" 46 -f "$data/pop.conf" \
		--bird-socket "$TMP/bird2-variants/bird.ctl" --print-bird
else
	echo "SKIP: $BIRD_SKIP_REASON"
	exit 77
fi

# --- BIRD 1.6: one daemon per family, each configured through its own socket -------------------
skip16=
if bird_find 1.6 && b16=$BIRD_BIN c16=$BIRDC_BIN && bird_find 1.6v6; then
	sed -e "s|\"/run/bird/bird.ctl\"|\"$TMP/bird16-v4/bird.ctl\"|" \
		-e "s|\"/run/bird/bird6.ctl\"|\"$TMP/bird16-v6/bird.ctl\"|" "$data/bird16.conf" \
		>"$TMP/bird16.conf"
	check bird16-v4 1.6 "$b16" "$c16" 4 -f "$TMP/bird16.conf" --print-bird=v4
	check bird16-v6 1.6 "$BIRD_BIN" "$BIRDC_BIN" 6 -f "$TMP/bird16.conf" --print-bird=v6
else
	skip16=$BIRD_SKIP_REASON
fi

# --- BIRD 3 (and Debian 13's BIRD 2): from tests/lib/bird.sh where it provides them, or given --
notes=()
for v in 3.1 2.17; do
	if bird_find "$v" 2>/dev/null; then
		check "bird$v-variants" "${v%%.*}" "$BIRD_BIN" "$BIRDC_BIN" 46 -f "$data/pop.conf" \
			--bird-socket "$TMP/bird$v-variants/bird.ctl" --print-bird
	else
		notes+=("BIRD $v not tested: $BIRD_SKIP_REASON")
	fi
done
if [ -n "${BIRD3_BIN:-}" ]; then
	check bird3-given 3 "$BIRD3_BIN" "${BIRDC3_BIN:?set BIRDC3_BIN too}" 46 -f "$data/pop.conf" \
		--bird-socket "$TMP/bird3-given/bird.ctl" --print-bird
fi

# --- fake BIRD sockets (misbehaving peers): one that never greets, one of an unknown version ---
# fake_bird SOCK [BANNER]: accept connections, send BANNER if given, then say nothing
fake_bird() {
	/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
conns = []
while True:
    c, _ = s.accept()
    if len(sys.argv) > 2:
        c.sendall(sys.argv[2].encode() + b"\n")
    conns.append(c)
' "$@" &
	RUNNING+=($!)
	bird_poll 5 test -S "$1"
}
fake=$TMP/fake
mkdir -p "$fake"
printf 'bird: { socket = "%s"; timeout = 0.5; };\n%s\n' "$fake/silent.ctl" \
	"$(sed -n '/^checks:/,$p' "$data/pop.conf")" >"$fake/silent.conf"
sed "s|$fake/silent.ctl|$fake/future.ctl|" "$fake/silent.conf" >"$fake/future.conf"
if fake_bird "$fake/silent.ctl" && fake_bird "$fake/future.ctl" "0001 BIRD 4.0.0 ready."; then
	for t in silent future; do
		if "$agent" -f "$fake/$t.conf" --print-bird >"$fake/$t.out" 2>"$fake/$t.err"; then
			fail "fake $t BIRD: --print-bird succeeded"
		elif [ -s "$fake/$t.out" ] || ! grep -Eq '(cannot tell the BIRD version|answers as BIRD 4.0.0, a version --print-bird does not know).*give --bird-version' "$fake/$t.err"; then
			fail "fake $t BIRD: stdout [$(cat "$fake/$t.out")], stderr [$(cat "$fake/$t.err")]"
		else
			pass "fake $t BIRD: $(tail -n 1 "$fake/$t.err")"
		fi
	done
	grep -q 'answers as BIRD 4.0.0' "$fake/future.err" ||
		fail "fake future BIRD: the version it gave is not named"
else
	fail "the fake BIRD sockets did not appear"
fi

echo
for n in "${notes[@]}"; do echo "note: $n"; done
tally_end "--print-bird output taken by ${tested[*]}" "${skip16:+BIRD 1.6 not tested: $skip16}"
