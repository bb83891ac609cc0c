#!/bin/bash
# SPDX-License-Identifier: ISC
# test_snippets_bird3.sh - bird-snippets/bird3 against a real BIRD 3.1 (Debian 13's bird3, run
# from the root of tests/lib/bird-root.sh with chroot):
#   every snippet parses (`bird -p`) with no decision file (a fresh boot), with `disabled no;`
#   and `disabled yes;` decision files, and the peer side too; a broken decision file stops BIRD;
#   each toggled protocol says `disabled yes;` and then includes exactly its own decision file
#   (`<dir>/<protocol>.con[f]`) on lines of their own;
#   a running BIRD 3 starts with everything withdrawn, takes the decision file's value across
#   `birdc configure` and a restart, shows the file's description in `show protocols all`, falls
#   back to withdrawn when the file is gone (a reboot), and the drain and degraded variants put
#   (65535,0) and the prepended AS path on the route.
# Exit 77 (skip) when BIRD 3 cannot be had, 1 instead when BIRD_MATRIX=require (CI).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/bird.sh"
. "$top_srcdir/tests/lib/tally.sh"
SNIP=$top_srcdir/bird-snippets/bird3
TEMPLATE_DIR=/run/anycast-agent/bird

[ "$(id -u)" = 0 ] || {
	echo "SKIP: needs root (chroot, bind mounts)"
	exit 77
}
trap bird_fixture_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bird_fixture_init || exit 99
if ! bird_find 3.1; then
	[ "${BIRD_MATRIX:-}" = require ] && {
		echo "FAIL: $BIRD_SKIP_REASON (BIRD_MATRIX=require)"
		exit 1
	}
	echo "SKIP: $BIRD_SKIP_REASON"
	exit 77
fi
echo "# $("$BIRD_BIN" --version 2>&1)"
T=$BIRD_FIXTURE_DIR
ST=$T/state
mkdir -p "$T/snippets" "$ST" "$T/run" || exit 99


for f in "$SNIP"/*.conf; do
	sed "s|$TEMPLATE_DIR|$ST|g" "$f" >"$T/snippets/${f##*/}" || exit 99
done

# --- the form of every toggled protocol ---------------------------------------------------------
# protocol NAME { / disabled yes; / include "<dir>/NAME.con[f]"; on lines of their own
form=$(awk -v dir="$TEMPLATE_DIR" '
	/^protocol static / { name = $3; state = 1; n++; next }
	state == 1 && /^\{$/ { state = 2; next }
	state == 2 { if ($0 ~ /^\tdisabled yes;(\t#.*)?$/) state = 3; else { bad = bad " " name; state = 0 }
		next }
	state == 3 { if ($0 == "\tinclude \"" dir "/" name ".con[f]\";") ok++; else bad = bad " " name
		state = 0 }
	END { printf "%d %d%s\n", n, ok, bad }' "$SNIP/anycast-static.conf")
read -r nprot nok bad <<<"$form"
if [ "$nprot" -ge 12 ] && [ "$nprot" = "$nok" ] && [ -z "${bad:-}" ]; then
	pass "anycast-static.conf: $nprot protocols, each 'disabled yes;' then its own decision file"
else
	fail "anycast-static.conf: $nok of $nprot protocols in the decision-file form; wrong:${bad:-}"
fi
mapfile -t protos < <(awk '/^protocol static / { print $3 }' "$SNIP/anycast-static.conf")

cat >"$T/pop.conf" <<EOF
router id 192.0.2.1;
protocol device {}
include "$T/snippets/anycast-defs.conf";
include "$T/snippets/anycast-filters.conf";
include "$T/snippets/anycast-static.conf";
include "$T/snippets/upstream-bgp.conf";
EOF
cat >"$T/peer.conf" <<EOF
router id 198.51.100.2;
protocol device {}
include "$T/snippets/peer-graceful-shutdown.conf";
protocol bgp anycast_pop1 {
	local 198.51.100.2 as 64496;
	neighbor 198.51.100.1 as 64500;
	ipv4 { import filter import_honour_graceful_shutdown; export none; };
}
EOF
for f in "$SNIP"/*.conf; do
	grep -q "include \"$T/snippets/${f##*/}\";" "$T/pop.conf" "$T/peer.conf" ||
		fail "snippet ${f##*/} is not exercised by any test config"
done

parse() { # CONF WHAT
	local out
	if out=$("$BIRD_BIN" -p -c "$1" 2>&1); then pass "$2"; else fail "$2: $out"; fi
}
decide() { # VALUE PROTO...: the decision files as the agent writes them
	local v=$1 p
	shift
	for p in "$@"; do
		printf 'description "anycast-agent decision %s";\ndisabled %s;\n' "$ST/$p.conf" "$v" \
			>"$ST/$p.conf" || exit 99
	done
}

rm -f "$ST"/*.conf
parse "$T/pop.conf" "bird3: PoP snippets parse with no decision file (a fresh boot)"
decide no "${protos[@]}"
parse "$T/pop.conf" "bird3: PoP snippets parse with 'disabled no;' decision files"
decide yes "${protos[@]}"
parse "$T/pop.conf" "bird3: PoP snippets parse with 'disabled yes;' decision files"
parse "$T/peer.conf" "bird3: peer-side graceful-shutdown import parses"
echo 'disabled maybe;' >"$ST/anycast_web4.conf"
if out=$("$BIRD_BIN" -p -c "$T/pop.conf" 2>&1); then
	fail "bird3: a broken decision file was accepted"
elif echo "$out" | grep -q "anycast_web4.conf"; then
	pass "bird3: a broken decision file stops BIRD and is named (${out##*: })"
else
	fail "bird3: a broken decision file: unexpected error: $out"
fi

# --- a running BIRD 3 ------------------------------------------------------------------------
rm -f "$ST"/*.conf
dir=$T/run
cat >"$dir/bird.conf" <<EOF
log "$dir/bird.log" all;
router id 192.0.2.1;
include "$T/snippets/anycast-defs.conf";
include "$T/snippets/anycast-filters.conf";
include "$T/snippets/anycast-static.conf";
EOF
state() { bird_cli "$dir" show protocols "$1" | awk -v n="$1" '$1 == n { print $4 }'; }
expect_state() { # PROTO STATE WHAT
	local s
	s=$(state "$1")
	[ "$s" = "$2" ] && pass "$3: $1 is $s" || fail "$3: $1 is '$s', expected $2"
}
# configure returns 0003, or 0004 while protocols restart: done once show status says so
configure() {
	local out
	out=$(bird_cli "$dir" configure 2>&1)
	case $out in
	*Reconfigured* | *"Reconfiguration in progress"*) ;;
	*) fail "birdc configure: $out" ;;
	esac
	bird_poll 5 sh -c "'$BIRDC_BIN' -s '$dir/bird.ctl' show status | grep -q 'Daemon is up'"
}
best() { # PREFIX: protocol of the best route, then its attributes
	bird_cli "$dir" show route "$1" all | awk '
		/\[/ { best = ($0 ~ /\] \* \(/); if (best) { s = $0; sub(/.*\[/, "", s); sub(/ .*/, "", s)
			printf "%s", s } next }
		best && /bgp_/ { sub(/^[ \t]*/, " "); printf "%s", $0 }
		END { print "" }'
}
expect_best() { # PREFIX PATTERN WHAT
	local b
	b=$(best "$1")
	echo "$b" | grep -q -- "$2" && pass "$3: best route for $1 is [$b]" ||
		fail "$3: best route for $1 is [$b], expected /$2/"
}

bird_start "$dir" 3.1 || exit 1
n_up=0
for p in "${protos[@]}"; do [ "$(state "$p")" = up ] && n_up=$((n_up + 1)); done
[ "$n_up" = 0 ] && pass "no decision file: all ${#protos[@]} protocols withdrawn (fail closed)" ||
	fail "no decision file: $n_up protocols up"

decide no anycast_web4
configure
expect_state anycast_web4 up "'disabled no;' + configure"
bird_cli "$dir" show protocols all anycast_web4 |
	grep -q "Description: *anycast-agent decision $ST/anycast_web4.conf$" &&
	pass "show protocols all shows the decision file's description" ||
	fail "no Description line naming $ST/anycast_web4.conf"
expect_best 192.0.2.80/32 '^anycast_web4$' "normal variant"

bird_cli "$dir" disable anycast_web4 >/dev/null
expect_state anycast_web4 down "birdc disable"
configure
expect_state anycast_web4 up "configure puts the decision file's value back"
bird_cli "$dir" disable anycast_web4 >/dev/null
decide yes anycast_web4
configure
expect_state anycast_web4 down "'disabled yes;' + configure keeps it"
bird_stop "$dir"
bird_start "$dir" 3.1 || exit 1
expect_state anycast_web4 down "restart keeps 'disabled yes;'"
decide no anycast_web4
bird_stop "$dir"
bird_start "$dir" 3.1 || exit 1
expect_state anycast_web4 up "restart keeps 'disabled no;'"
# a reboot empties /run: the decision is gone and BIRD withdraws until the agent decides again
rm -f "$ST/anycast_web4.conf"
bird_stop "$dir"
bird_start "$dir" 3.1 || exit 1
expect_state anycast_web4 down "decision file gone (reboot) -> withdrawn"

decide no anycast_web4 anycast_web4_drain
configure
expect_best 192.0.2.80/32 '^anycast_web4$' "normal beats drain"
bird_cli "$dir" disable anycast_web4 >/dev/null
expect_best 192.0.2.80/32 '^anycast_web4_drain bgp_community: (65535,0)' \
	"drain variant carries GRACEFUL_SHUTDOWN"
bird_cli "$dir" enable anycast_web4_degraded >/dev/null
expect_best 192.0.2.80/32 '^anycast_web4_degraded.*bgp_path: 64500 64500' \
	"degraded beats drain, AS path prepended"
bird_stop "$dir"
if grep -q '<ERR>' "$dir/bird.log"; then
	fail "BIRD logged errors: $(grep '<ERR>' "$dir/bird.log" | sort -u)"
else
	pass "BIRD logged no errors"
fi

echo
tally_end "every BIRD 3 snippet check"
