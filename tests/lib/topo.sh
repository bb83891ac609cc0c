# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# topo.sh - network-namespace topology for the end-to-end tests, the fault tests and the
# multi-PoP lab: PoP and upstream namespaces joined by veth pairs, a private BIRD 2 in each,
# the PoP's bird.conf built from bird-snippets/bird2 with a private state directory, eBGP from
# every PoP to its upstreams, and helpers to read what an upstream sees. Bash (arrays,
# associative arrays, $EPOCHREALTIME); source it from a bash script that runs as root:
#
#   . "$top_srcdir/tests/lib/topo.sh"
#   topo_require || exit 77            # bird, birdc, ip present (prints the Debian package)
#   topo_init                          # prefix "topo<pid>"; cleans leftovers; traps EXIT/INT/TERM
#   topo_add_upstream up1 1            # INDEX 1..2
#   topo_add_pop pop1 1                # INDEX 1..10
#   topo_link pop1 up1
#   topo_start                         # write every bird.conf, start every BIRD
#   topo_wait_established 30 || exit 1
#   topo_birdc pop1 enable anycast_web4
#   topo_wait_for "topo_upstream_has_route 192.0.2.80/32" 5
#
# Optional, for the lab (call before topo_start):
#   topo_pop_med pop2 20               # the upstreams give pop2's routes MED 20 (lower wins)
#   topo_add_client client up1         # a client namespace behind up1 (after every topo_link)
#
# Nothing is created in the host's namespace: each veth end is created inside its namespace, and
# the documentation ranges are used only there. Addressing, for PoP index i and upstream index u:
#   PoP i   AS 64500 (ANYCAST_LOCAL_AS), router id 192.0.2.(100+i), the anycast addresses of
#           anycast-defs.conf on its lo, interface "up<u>" towards upstream u
#   upst. u AS 64495+u, router id 192.0.2.(200+u), interface "pop<i>" towards PoP i,
#           kernel protocol (routes usable from inside its namespace), forwarding on
#   link    IPv4 198.51.100.0/24 (u=1) or 203.0.113.0/24 (u=2): PoP .4(i-1)+1, upstream +2, /30
#           IPv6 2001:db8:u:i::1/64 (PoP), ::2 (upstream)
#   BGP     on the PoP "<upstream>_v4"/"<upstream>_v6", on the upstream "<pop>_v4"/"<pop>_v6"
#   iBGP    (optional, topo_ibgp POP POP) a veth "ib<j>" in PoP i <-> "ib<i>" in PoP j, with
#           IPv4 198.18.(10 lo + hi).1/30 (PoP lo) and .2 (PoP hi), IPv6 2001:db8:ff:(16 lo + hi)::1
#           and ::2 /64; sessions "ibgp_<peer>_v4"/"ibgp_<peer>_v6" export the PoP's anycast
#           statics and import everything (the other PoPs' paths the last-site guard looks for)
#   client  behind upstream u: interface "up<u>", 198.51.100.254/30 (u=1) or 203.0.113.254/30
#           (u=2), 2001:db8:u:ff::2/64; the upstream's side "client" .253 and ::1; default
#           routes via the upstream; every PoP linked to u routes the client's nets back via u
# Files: $TOPO_DIR/<node>/{bird.conf,bird.ctl,bird.pid,bird.log}; a PoP also has snippets/,
# state/ (the agent's state dir, every file "disabled yes;" at first: fail closed) and an optional
# local.conf the caller may write before topo_start (included at the end of its bird.conf).
#
# Which BIRD every node runs: TOPO_BIRD (set it before topo_require)
#   2.0.12  this machine's bird2 (Debian 12), the default
#   2.17    Debian 13's bird2 } from the trixie root of tests/lib/bird-root.sh (built and cached
#   3.1     Debian 13's bird3 } on first use), run as `chroot ROOT bird ...` inside the node's
#           namespace, with $TOPO_DIR bind-mounted into ROOT at the same path
# TOPO_SNIPPETS defaults to bird-snippets/bird3 for 3.1, else bird-snippets/bird2. topo_require
# sets TOPO_BIRD_VERSION (e.g. "3.1.8"). A flavour that cannot be had is a skip (exit 77 by the
# caller), or a failure (exit 1 here) when BIRD_MATRIX=require, as CI sets it.

TOPO_PREFIX=${TOPO_PREFIX:-}
TOPO_DIR=${TOPO_DIR:-}
TOPO_BIRD=${TOPO_BIRD:-2.0.12}
TOPO_BIRD_ROOT= TOPO_BIRD_BIN= TOPO_BIRDC_BIN= TOPO_BIRD_VERSION=
TOPO_POLL_INTERVAL=${TOPO_POLL_INTERVAL:-0.01}
TOPO_TOP=${top_srcdir:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TOPO_SNIPPETS=${TOPO_SNIPPETS:-}
TOPO_WAITED_US=0
TOPO_POP_AS=64500
declare -A TOPO_KIND=() TOPO_INDEX=() TOPO_MED=() TOPO_NODE_ROOT=() TOPO_NODE_BIN=() TOPO_NODE_BIRDC=()
declare -A TOPO_ANYCAST_CONF=()
TOPO_NODES=()
TOPO_UPSTREAMS=()
TOPO_LINKS=()
TOPO_IBGP=()
TOPO_CLEANUP_HOOKS=()
TOPO_CLEANED=

_topo_err() { echo "topo: $*" >&2; }

# _topo_no_bird REASON: TOPO_BIRD cannot be had: a skip (return 1), or with BIRD_MATRIX=require
# (CI, where every version must run) a failure that ends the script.
_topo_no_bird() {
	if [ "${BIRD_MATRIX:-}" = require ]; then
		echo "FAIL: BIRD $TOPO_BIRD: $1 (BIRD_MATRIX=require)"
		exit 1
	fi
	echo "SKIP: BIRD $TOPO_BIRD: $1"
	return 1
}

# _topo_bird_flavour: set TOPO_BIRD_ROOT/BIN/BIRDC_BIN/VERSION and TOPO_SNIPPETS from TOPO_BIRD.
_topo_bird_flavour() {
	local want out
	case $TOPO_BIRD in
	2.0.12)
		TOPO_BIRD_ROOT= want=2.
		TOPO_BIRD_BIN=$(command -v bird) && TOPO_BIRDC_BIN=$(command -v birdc) ||
			_topo_no_bird "bird or birdc not found (Debian package bird2)" || return 1
		;;
	2.17 | 3.1)
		out=$("$TOPO_TOP/tests/lib/bird-root.sh" 2>&1) ||
			_topo_no_bird "no Debian 13 root: ${out##*bird-root: }" || return 1
		TOPO_BIRD_ROOT=${out##*$'\n'} want=$TOPO_BIRD.
		if [ "$TOPO_BIRD" = 3.1 ]; then
			TOPO_BIRD_BIN=/usr/sbin/bird TOPO_BIRDC_BIN=/usr/sbin/birdc
		else
			TOPO_BIRD_BIN=/opt/bird2/usr/sbin/bird TOPO_BIRDC_BIN=/opt/bird2/usr/sbin/birdc
		fi
		;;
	*)
		_topo_err "TOPO_BIRD=$TOPO_BIRD: use 2.0.12, 2.17 or 3.1"
		return 1
		;;
	esac
	out=$(_topo_chroot "$TOPO_BIRD_BIN" --version 2>&1)
	TOPO_BIRD_VERSION=${out#BIRD version }
	case $TOPO_BIRD_VERSION in
	"$want"*) ;;
	*) _topo_no_bird "$TOPO_BIRD_BIN says '$out'" || return 1 ;;
	esac
	if [ -z "$TOPO_SNIPPETS" ]; then
		TOPO_SNIPPETS=$TOPO_TOP/bird-snippets/bird2
		[ "$TOPO_BIRD" = 3.1 ] && TOPO_SNIPPETS=$TOPO_TOP/bird-snippets/bird3
	fi
	return 0
}

# _topo_chroot CMD...: CMD inside TOPO_BIRD's root (as it is without one).
_topo_chroot() {
	if [ -n "$TOPO_BIRD_ROOT" ]; then chroot "$TOPO_BIRD_ROOT" "$@"; else "$@"; fi
}

# topo_require: 0 when ip, root and the BIRD of TOPO_BIRD are there; else says why (SKIP: ...).
topo_require() {
	command -v ip >/dev/null 2>&1 || {
		echo "SKIP: ip not found (Debian package iproute2)"
		return 1
	}
	[ "$(id -u)" = 0 ] || {
		echo "SKIP: network namespaces need root"
		return 1
	}
	_topo_bird_flavour
}

_topo_now_us() { echo "${EPOCHREALTIME/./}"; }

# topo_ns NODE: the namespace name of NODE.
topo_ns() { echo "$TOPO_PREFIX-$1"; }
# topo_exec NODE CMD...: run CMD inside NODE's namespace.
topo_exec() {
	local n=$1
	shift
	ip netns exec "$(topo_ns "$n")" "$@"
}
topo_node_dir() { echo "$TOPO_DIR/$1"; }
topo_socket() { echo "$TOPO_DIR/$1/bird.ctl"; }
topo_state_dir() { echo "$TOPO_DIR/$1/state"; }
# topo_birdc NODE ARGS...: birdc (of TOPO_BIRD, or of topo_node_bird) against NODE's BIRD (a
# path socket needs no namespace).
topo_birdc() {
	local n=$1
	shift
	if [ -n "${TOPO_NODE_ROOT[$n]:-}" ]; then
		chroot "${TOPO_NODE_ROOT[$n]}" "${TOPO_NODE_BIRDC[$n]}" -s "$TOPO_DIR/$n/bird.ctl" "$@"
		return
	fi
	# a caller that joins a running topology (lab/lab show) has not called topo_require
	[ -n "$TOPO_BIRDC_BIN" ] || _topo_bird_flavour >/dev/null || return 1
	_topo_chroot "$TOPO_BIRDC_BIN" -s "$TOPO_DIR/$n/bird.ctl" "$@"
}

# topo_node_bird NODE ROOT BIRD BIRDC: from now on NODE's BIRD is the one installed in ROOT (e.g. a
# package test's Debian chroot), run as `chroot ROOT BIRD`, and topo_birdc uses `chroot ROOT
# BIRDC`; $TOPO_DIR is bind-mounted into ROOT at the same path. Call it while NODE's BIRD is
# stopped; topo_cleanup unmounts.
topo_node_bird() {
	local n=$1 root=$2
	[ -n "${TOPO_KIND[$n]:-}" ] || {
		_topo_err "topo_node_bird: no node $n"
		return 1
	}
	[ -x "$root$3" ] && [ -x "$root$4" ] || {
		_topo_err "topo_node_bird: no $3 or $4 in $root"
		return 1
	}
	if ! awk -v m="$root$TOPO_DIR" '$5 == m { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		mkdir -p "$root$TOPO_DIR" && mount --bind "$TOPO_DIR" "$root$TOPO_DIR" || {
			_topo_err "cannot bind-mount $TOPO_DIR into $root"
			return 1
		}
	fi
	TOPO_NODE_ROOT[$n]=$root TOPO_NODE_BIN[$n]=$3 TOPO_NODE_BIRDC[$n]=$4
}

# topo_pop_anycast_conf POP FILE: POP's bird.conf includes FILE (what `anycast-agent --print-bird`
# wrote; a path in POP's BIRD root) instead of the snippets, and defines ANYCAST_LOCAL_AS itself.
# Call it before topo_start.
topo_pop_anycast_conf() { TOPO_ANYCAST_CONF[$1]=$2; }

# topo_recover PREFIX: remove what a crashed run with PREFIX left: processes in its namespaces,
# the namespaces (their veths go with them), its temp dirs and their bind mounts in a BIRD root.
topo_recover() {
	local prefix=$1 nss ns pids d i m
	nss=$(ip netns list 2>/dev/null | awk -v p="$prefix-" 'index($1, p) == 1 { print $1 }')
	_topo_recover_pids() { for ns in $nss; do ip netns pids "$ns" 2>/dev/null; done; }
	# every namespace's processes at once, so a lab of many nodes waits once, not once a node
	pids=$(_topo_recover_pids)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		for ((i = 0; i < 200; i++)); do
			pids=$(_topo_recover_pids)
			[ -z "$pids" ] && break
			sleep 0.01
		done
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	fi
	for ns in $nss; do
		ip netns del "$ns" 2>/dev/null || _topo_err "could not delete namespace $ns"
	done
	# the temp dirs bind-mounted into a BIRD root (ROOT/tmp/PREFIX.topo.X), deepest first
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || _topo_err "could not unmount $m"
		rmdir "$m" 2>/dev/null
	done < <(awk -v p="${TMPDIR:-/tmp}/$prefix.topo." 'index($5, p) > 1 { print $5 }' \
		/proc/self/mountinfo | sort -r)
	for d in "${TMPDIR:-/tmp}/$prefix.topo."*; do
		[ -d "$d" ] && rm -rf "$d"
	done
	return 0
}

# topo_init [PREFIX]: start a topology. PREFIX ([A-Za-z0-9_]+, default topo<pid>) names every
# namespace "PREFIX-<node>"; leftovers of an earlier run with the same PREFIX are removed first.
# Installs topo_cleanup on EXIT, INT and TERM (a caller with its own EXIT trap calls it there).
topo_init() {
	TOPO_PREFIX=${1:-topo$$}
	if ! [[ $TOPO_PREFIX =~ ^[A-Za-z0-9_]{1,24}$ ]]; then
		_topo_err "prefix '$TOPO_PREFIX': use 1-24 letters, digits or _"
		return 1
	fi
	[ -n "$TOPO_BIRD_BIN" ] || {
		_topo_err "call topo_require before topo_init"
		return 1
	}
	[ -d "$TOPO_SNIPPETS" ] || {
		_topo_err "no BIRD snippets in $TOPO_SNIPPETS (set TOPO_SNIPPETS or top_srcdir)"
		return 1
	}
	topo_recover "$TOPO_PREFIX"
	TOPO_DIR=$(mktemp -d "${TMPDIR:-/tmp}/$TOPO_PREFIX.topo.XXXXXX") || return 1
	# a BIRD in a root sees this directory at the same path
	if [ -n "$TOPO_BIRD_ROOT" ]; then
		mkdir -p "$TOPO_BIRD_ROOT$TOPO_DIR" && mount --bind "$TOPO_DIR" "$TOPO_BIRD_ROOT$TOPO_DIR" || {
			_topo_err "cannot bind-mount $TOPO_DIR into $TOPO_BIRD_ROOT"
			return 1
		}
	fi
	TOPO_KIND=() TOPO_INDEX=() TOPO_MED=() TOPO_NODES=() TOPO_UPSTREAMS=() TOPO_LINKS=()
	TOPO_NODE_ROOT=() TOPO_NODE_BIN=() TOPO_NODE_BIRDC=()
	TOPO_IBGP=()
	TOPO_CLEANUP_HOOKS=() TOPO_CLEANED=
	trap 'topo_cleanup' EXIT
	trap 'topo_cleanup; trap - EXIT; exit 130' INT
	trap 'topo_cleanup; trap - EXIT; exit 143' TERM
}

# topo_on_cleanup CMD: run CMD (eval) at cleanup, before BIRD is stopped; last added runs first.
topo_on_cleanup() { TOPO_CLEANUP_HOOKS=("$1" "${TOPO_CLEANUP_HOOKS[@]}"); }

_topo_new_node() { # NAME KIND INDEX MAX
	local name=$1 kind=$2 idx=$3 max=$4 n ns
	if ! [[ $name =~ ^[a-z][a-z0-9]{0,11}$ ]]; then
		_topo_err "node name '$name': use a lowercase letter then up to 11 letters or digits"
		return 1
	fi
	if ! [[ $idx =~ ^[0-9]+$ ]] || ((idx < 1 || idx > max)); then
		_topo_err "$kind $name: index '$idx' must be 1..$max"
		return 1
	fi
	[ -n "${TOPO_KIND[$name]:-}" ] && {
		_topo_err "node $name exists already"
		return 1
	}
	for n in "${TOPO_NODES[@]}"; do
		if [ "${TOPO_KIND[$n]}" = "$kind" ] && [ "${TOPO_INDEX[$n]}" = "$idx" ]; then
			_topo_err "$kind index $idx is taken by $n"
			return 1
		fi
	done
	ns=$(topo_ns "$name")
	ip netns add "$ns" || return 1
	TOPO_KIND[$name]=$kind TOPO_INDEX[$name]=$idx
	TOPO_NODES+=("$name")
	mkdir -p "$TOPO_DIR/$name" || return 1
	ip -n "$ns" link set lo up || return 1
	# addresses on a fresh link are usable at once: no duplicate address detection delay
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
}

# _topo_anycast_addrs: the anycast prefixes of the snippets' anycast-defs.conf.
_topo_anycast_addrs() {
	sed -n 's/^define ANYCAST_PREFIXES[46] *= *\[\(.*\)\];.*/\1/p' "$TOPO_SNIPPETS/anycast-defs.conf" |
		tr ',' '\n' | tr -d ' \t' | grep .
}

# topo_add_upstream NAME INDEX: an upstream router (INDEX 1..2).
topo_add_upstream() {
	_topo_new_node "$1" upstream "$2" 2 || return 1
	TOPO_UPSTREAMS+=("$1")
	topo_exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# topo_add_pop NAME INDEX: a PoP (INDEX 1..10) with the anycast addresses on its lo and
# the snippets copied with its private state dir substituted, every state file "disabled yes;".
topo_add_pop() {
	local name=$1 d a f
	_topo_new_node "$name" pop "$2" 10 || return 1
	d=$TOPO_DIR/$name
	mkdir -p "$d/snippets" "$d/state" || return 1
	for f in "$TOPO_SNIPPETS"/*.conf; do
		# the decision directory moved to the PoP's own (bird1.6, bird2, bird3 alike)
		sed "s|/run/anycast-agent/bird|$d/state|g" "$f" >"$d/snippets/${f##*/}" || return 1
	done
	# decision files that say "withdrawn", as anycast-agent --init writes them before BIRD starts
	# (a missing one would mean the same: the include is a glob)
	while read -r f; do
		printf 'description "anycast-agent decision %s";\ndisabled yes;\n' "$f" >"$f" || return 1
	done < <(sed -n 's/^[[:space:]]*include "\([^"]*\)\.con\[f\]";[[:space:]]*$/\1.conf/p' "$d/snippets"/*.conf)
	# on lo: works on kernels without the dummy driver, and lo is this namespace's own
	for a in $(_topo_anycast_addrs); do
		ip -n "$(topo_ns "$name")" addr add "$a" dev lo || return 1
	done
}

# topo_link_addr POP UPSTREAM AF SIDE: the link address (no length) of SIDE (pop|upstream).
topo_link_addr() {
	local i=${TOPO_INDEX[$1]} u=${TOPO_INDEX[$2]} host
	[ "$4" = pop ] && host=1 || host=2
	if [ "$3" = 4 ]; then
		local nets=("" 198.51.100 203.0.113)
		echo "${nets[$u]}.$((4 * (i - 1) + host))"
	else
		echo "2001:db8:$u:$i::$host"
	fi
}

# topo_link POP UPSTREAM: a veth pair "up<u>" (in the PoP) <-> "pop<i>" (in the upstream).
topo_link() {
	local pop=$1 up=$2 pns uns pif uif
	[ "${TOPO_KIND[$pop]:-}" = pop ] || {
		_topo_err "topo_link: $pop is not a PoP"
		return 1
	}
	[ "${TOPO_KIND[$up]:-}" = upstream ] || {
		_topo_err "topo_link: $up is not an upstream"
		return 1
	}
	pns=$(topo_ns "$pop") uns=$(topo_ns "$up")
	pif=up${TOPO_INDEX[$up]} uif=pop${TOPO_INDEX[$pop]}
	ip link add "$pif" netns "$pns" type veth peer name "$uif" netns "$uns" || return 1
	ip -n "$pns" link set "$pif" alias "$TOPO_PREFIX" up || return 1
	ip -n "$uns" link set "$uif" alias "$TOPO_PREFIX" up || return 1
	ip -n "$pns" addr add "$(topo_link_addr "$pop" "$up" 4 pop)/30" dev "$pif" || return 1
	ip -n "$uns" addr add "$(topo_link_addr "$pop" "$up" 4 upstream)/30" dev "$uif" || return 1
	ip -n "$pns" addr add "$(topo_link_addr "$pop" "$up" 6 pop)/64" dev "$pif" nodad || return 1
	ip -n "$uns" addr add "$(topo_link_addr "$pop" "$up" 6 upstream)/64" dev "$uif" nodad || return 1
	TOPO_LINKS+=("$pop $up")
}

# topo_ibgp_addr POP PEER AF: POP's address (no length) on its iBGP link to PEER.
topo_ibgp_addr() {
	local i=${TOPO_INDEX[$1]} j=${TOPO_INDEX[$2]} lo hi host
	if ((i < j)); then lo=$i hi=$j host=1; else lo=$j hi=$i host=2; fi
	if [ "$3" = 4 ]; then
		echo "198.18.$((10 * lo + hi)).$host"
	else
		printf '2001:db8:ff:%x::%d\n' $((16 * lo + hi)) "$host"
	fi
}

# topo_ibgp POP1 POP2: a veth pair between two PoPs and iBGP sessions over it (see the header).
topo_ibgp() {
	local a=$1 b=$2 n me peer ifn
	for n in "$a" "$b"; do
		[ "${TOPO_KIND[$n]:-}" = pop ] || {
			_topo_err "topo_ibgp: $n is not a PoP"
			return 1
		}
	done
	[ "$a" != "$b" ] || {
		_topo_err "topo_ibgp: a PoP cannot peer with itself"
		return 1
	}
	ip link add "ib${TOPO_INDEX[$b]}" netns "$(topo_ns "$a")" type veth \
		peer name "ib${TOPO_INDEX[$a]}" netns "$(topo_ns "$b")" || return 1
	for n in "$a:$b" "$b:$a"; do
		me=${n%:*} peer=${n#*:} ifn=ib${TOPO_INDEX[${n#*:}]}
		ip -n "$(topo_ns "$me")" link set "$ifn" alias "$TOPO_PREFIX" up || return 1
		ip -n "$(topo_ns "$me")" addr add "$(topo_ibgp_addr "$me" "$peer" 4)/30" dev "$ifn" ||
			return 1
		ip -n "$(topo_ns "$me")" addr add "$(topo_ibgp_addr "$me" "$peer" 6)/64" dev "$ifn" nodad ||
			return 1
	done
	TOPO_IBGP+=("$a $b")
}

# topo_ibgp_established POP PEER [AF]: 0 when POP's iBGP session to PEER is Established.
topo_ibgp_established() {
	topo_birdc "$1" show protocols "ibgp_${2}_v${3:-4}" 2>/dev/null |
		awk -v n="ibgp_${2}_v${3:-4}" '$1 == n && /Established/ { ok = 1 } END { exit !ok }'
}

# topo_pop_med POP MED: the upstreams set MED (0..4294967295) on the routes they learn from POP,
# so the best path is deterministic: lower MED wins among PoPs (all AS ANYCAST_LOCAL_AS) after
# local-pref (graceful shutdown sets 0) and AS-path length (the degraded variant), so draining
# and degrading still move traffic. Without it the upstream's own tie-breaks decide.
topo_pop_med() {
	[ "${TOPO_KIND[$1]:-}" = pop ] || {
		_topo_err "topo_pop_med: $1 is not a PoP"
		return 1
	}
	[[ $2 =~ ^[0-9]{1,10}$ ]] && (($2 <= 4294967295)) || {
		_topo_err "topo_pop_med: MED '$2' must be 0..4294967295"
		return 1
	}
	TOPO_MED[$1]=$2
}

# topo_client_addr UPSTREAM AF SIDE: the client link's address (no length) on SIDE
# (client|upstream|net: the network's own address).
topo_client_addr() {
	local u=${TOPO_INDEX[$1]} host
	case $3 in client) host=2 ;; upstream) host=1 ;; *) host=0 ;; esac
	if [ "$2" = 4 ]; then
		local nets=("" 198.51.100 203.0.113)
		echo "${nets[$u]}.$((252 + host))"
	else
		[ "$host" = 0 ] && host=
		echo "2001:db8:$u:ff::$host"
	fi
}

# topo_add_client NAME UPSTREAM: a client namespace behind UPSTREAM (no BIRD): a veth pair
# "up<u>" (client) <-> "client" (upstream), default routes via the upstream, and a route back to
# the client's nets in every PoP already linked to UPSTREAM. The client reaches the anycast
# addresses along the upstream's best route (its kernel table).
topo_add_client() {
	local name=$1 up=$2 cns uns l u
	[ "${TOPO_KIND[$up]:-}" = upstream ] || {
		_topo_err "topo_add_client: $up is not an upstream"
		return 1
	}
	u=${TOPO_INDEX[$up]}
	_topo_new_node "$name" client "$u" 2 || return 1
	cns=$(topo_ns "$name") uns=$(topo_ns "$up")
	ip link add "up$u" netns "$cns" type veth peer name client netns "$uns" || return 1
	ip -n "$cns" link set "up$u" alias "$TOPO_PREFIX" up || return 1
	ip -n "$uns" link set client alias "$TOPO_PREFIX" up || return 1
	ip -n "$cns" addr add "$(topo_client_addr "$up" 4 client)/30" dev "up$u" || return 1
	ip -n "$uns" addr add "$(topo_client_addr "$up" 4 upstream)/30" dev client || return 1
	ip -n "$cns" addr add "$(topo_client_addr "$up" 6 client)/64" dev "up$u" nodad || return 1
	ip -n "$uns" addr add "$(topo_client_addr "$up" 6 upstream)/64" dev client nodad || return 1
	ip -n "$cns" route add default via "$(topo_client_addr "$up" 4 upstream)" || return 1
	ip -n "$cns" -6 route add default via "$(topo_client_addr "$up" 6 upstream)" || return 1
	for l in "${TOPO_LINKS[@]}"; do
		[ "${l#* }" = "$up" ] || continue
		ip -n "$(topo_ns "${l% *}")" route add "$(topo_client_addr "$up" 4 net)/30" \
			via "$(topo_link_addr "${l% *}" "$up" 4 upstream)" || return 1
		ip -n "$(topo_ns "${l% *}")" -6 route add "$(topo_client_addr "$up" 6 net)/64" \
			via "$(topo_link_addr "${l% *}" "$up" 6 upstream)" || return 1
	done
}

# BGP timers for tests: retry at once instead of BIRD's 5 s delay and 120 s retry.
_TOPO_BGP_TIMERS='connect delay time 1; connect retry time 1; error wait time 1, 4;'

_topo_pop_conf() { # POP
	local pop=$1 d=$TOPO_DIR/$1 l up af peer_as peer
	{
		echo "log \"$d/bird.log\" all;"
		echo "router id 192.0.2.$((100 + TOPO_INDEX[$pop]));"
		echo "protocol device { scan time 10; }"
		if [ -n "${TOPO_ANYCAST_CONF[$pop]:-}" ]; then
			echo "define ANYCAST_LOCAL_AS = $TOPO_POP_AS;"
			echo "include \"${TOPO_ANYCAST_CONF[$pop]}\";"
		else
			echo "include \"$d/snippets/anycast-defs.conf\";"
			echo "include \"$d/snippets/anycast-filters.conf\";"
			echo "include \"$d/snippets/anycast-static.conf\";"
		fi
		for l in "${TOPO_LINKS[@]}"; do
			[ "${l% *}" = "$pop" ] || continue
			up=${l#* }
			peer_as=$((64495 + TOPO_INDEX[$up]))
			for af in 4 6; do
				cat <<EOF
protocol bgp ${up}_v$af {
	local $(topo_link_addr "$pop" "$up" $af pop) as ANYCAST_LOCAL_AS;
	neighbor $(topo_link_addr "$pop" "$up" $af upstream) as $peer_as;
	$_TOPO_BGP_TIMERS
	ipv$af { import none; export filter anycast_export$af; };
}
EOF
			done
		done
		for l in "${TOPO_IBGP[@]}"; do
			if [ "${l% *}" = "$pop" ]; then peer=${l#* }; elif [ "${l#* }" = "$pop" ]; then
				peer=${l% *}
			else continue; fi
			for af in 4 6; do
				cat <<EOF
protocol bgp ibgp_${peer}_v$af {
	local $(topo_ibgp_addr "$pop" "$peer" $af) as ANYCAST_LOCAL_AS;
	neighbor $(topo_ibgp_addr "$peer" "$pop" $af) as ANYCAST_LOCAL_AS;
	direct;
	$_TOPO_BGP_TIMERS
	ipv$af { import all; export filter anycast_export$af; next hop self; gateway direct; };
}
EOF
			done
		done
		if [ -f "$d/local.conf" ]; then echo "include \"$d/local.conf\";"; fi
	} >"$d/bird.conf"
}

_topo_upstream_conf() { # UPSTREAM
	local up=$1 d=$TOPO_DIR/$1 l pop af imp my_as=$((64495 + TOPO_INDEX[$1]))
	cp "$TOPO_SNIPPETS/peer-graceful-shutdown.conf" "$d/" || return 1
	{
		echo "log \"$d/bird.log\" all;"
		echo "router id 192.0.2.$((200 + TOPO_INDEX[$up]));"
		echo "protocol device { scan time 10; }"
		echo "protocol kernel { ipv4 { export all; }; }"
		echo "protocol kernel { ipv6 { export all; }; }"
		echo "include \"$d/peer-graceful-shutdown.conf\";"
		for l in "${TOPO_LINKS[@]}"; do
			[ "${l#* }" = "$up" ] || continue
			pop=${l% *}
			imp="filter import_honour_graceful_shutdown"
			[ -n "${TOPO_MED[$pop]:-}" ] &&
				imp="filter { bgp_med = ${TOPO_MED[$pop]}; honour_graceful_shutdown(); accept; }"
			for af in 4 6; do
				cat <<EOF
protocol bgp ${pop}_v$af {
	local $(topo_link_addr "$pop" "$up" $af upstream) as $my_as;
	neighbor $(topo_link_addr "$pop" "$up" $af pop) as $TOPO_POP_AS;
	$_TOPO_BGP_TIMERS
	ipv$af { import $imp; export none; };
}
EOF
			done
		done
		if [ -f "$d/local.conf" ]; then echo "include \"$d/local.conf\";"; fi
	} >"$d/bird.conf"
}

# topo_bird_start NODE: start NODE's BIRD in its namespace; wait (5 s) until its socket answers.
topo_bird_start() {
	local n=$1 d=$TOPO_DIR/$1 out root=$TOPO_BIRD_ROOT bin=$TOPO_BIRD_BIN
	[ -n "${TOPO_NODE_ROOT[$n]:-}" ] && root=${TOPO_NODE_ROOT[$n]} bin=${TOPO_NODE_BIN[$n]}
	if ! out=$(topo_exec "$n" ${root:+chroot "$root"} "$bin" \
		-c "$d/bird.conf" -s "$d/bird.ctl" -P "$d/bird.pid" 2>&1); then
		_topo_err "BIRD for $n did not start: $out"
		return 1
	fi
	topo_wait_for "topo_birdc $n show status 2>/dev/null | grep -q 'Daemon is up'" 5 || {
		_topo_err "BIRD for $n does not answer on $d/bird.ctl; see $d/bird.log"
		return 1
	}
}

# topo_bird_stop NODE: SIGTERM NODE's BIRD, SIGKILL after 5 s.
topo_bird_stop() {
	local pidf=$TOPO_DIR/$1/bird.pid pid i
	pid=$(cat "$pidf" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || {
		rm -f "$pidf"
		return 0
	}
	for ((i = 0; i < 500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	kill -9 "$pid" 2>/dev/null
	rm -f "$pidf"
}

# topo_bird_restart NODE: rewrite nothing, stop and start NODE's BIRD.
topo_bird_restart() { topo_bird_stop "$1" && topo_bird_start "$1"; }

# topo_start: write every node's bird.conf and start every BIRD (upstreams first).
topo_start() {
	local n
	for n in "${TOPO_NODES[@]}"; do
		case ${TOPO_KIND[$n]} in
		pop) _topo_pop_conf "$n" ;;
		upstream) _topo_upstream_conf "$n" ;;
		esac || return 1
	done
	for n in "${TOPO_UPSTREAMS[@]}"; do topo_bird_start "$n" || return 1; done
	for n in "${TOPO_NODES[@]}"; do
		[ "${TOPO_KIND[$n]}" = pop ] && { topo_bird_start "$n" || return 1; }
	done
	return 0
}

# topo_wait_for CMD TIMEOUT: eval CMD until it succeeds (0) or TIMEOUT seconds (may be
# fractional) pass (1, with a message). Polls every $TOPO_POLL_INTERVAL s (0: no pause).
# TOPO_WAITED_US holds how long it waited, in microseconds.
topo_wait_for() {
	local cmd=$1 timeout=${2:-10} start now limit
	start=$(_topo_now_us)
	limit=$(awk -v t="$timeout" 'BEGIN { printf "%d", t * 1000000 }')
	while :; do
		if eval "$cmd"; then
			TOPO_WAITED_US=$(($(_topo_now_us) - start))
			return 0
		fi
		now=$(_topo_now_us)
		if ((now - start >= limit)); then
			TOPO_WAITED_US=$((now - start))
			_topo_err "timed out after ${timeout} s waiting for: $cmd"
			return 1
		fi
		[ "$TOPO_POLL_INTERVAL" = 0 ] || sleep "$TOPO_POLL_INTERVAL"
	done
}

# topo_configure NODE: `birdc configure` on NODE; 0 once BIRD has finished it. BIRD answers
# 0003 Reconfigured, or 0004 Reconfiguration in progress while protocols restart (BIRD 2 and 3),
# and `show status` says so until it is done. Prints BIRD's answer when it is not one of those.
topo_configure() {
	local out
	out=$(topo_birdc "$1" configure 2>&1)
	case $out in
	*Reconfigured* | *"Reconfiguration in progress"* | *"Reconfiguration already in progress"*) ;;
	*)
		echo "$out"
		return 1
		;;
	esac
	topo_wait_for "topo_birdc $1 show status 2>/dev/null | grep -q 'Daemon is up and running'" 10
}

# topo_proto_state NODE PROTO: BIRD's state column (up, down, start, ...).
topo_proto_state() {
	topo_birdc "$1" show protocols "$2" 2>/dev/null | awk -v n="$2" '$1 == n { print $4 }'
}

# topo_established POP UPSTREAM [AF]: 0 when the PoP's session to UPSTREAM (AF 4 or 6, default
# 4) is Established.
topo_established() {
	topo_birdc "$1" show protocols "${2}_v${3:-4}" 2>/dev/null |
		awk -v n="${2}_v${3:-4}" '$1 == n && /Established/ { ok = 1 } END { exit !ok }'
}

# topo_all_established: 0 when every session of every link (IPv4 and IPv6) is Established.
topo_all_established() {
	local l
	for l in "${TOPO_LINKS[@]}"; do
		topo_established "${l% *}" "${l#* }" 4 && topo_established "${l% *}" "${l#* }" 6 || return 1
	done
}

# topo_wait_established TIMEOUT: wait for topo_all_established.
topo_wait_established() { topo_wait_for topo_all_established "${1:-30}"; }

# topo_set_state POP PROTO yes|no: write the state file as the agent does (not BIRD's state).
topo_set_state() {
	local f=$TOPO_DIR/$1/state/$2.conf
	[ -f "$f" ] || {
		_topo_err "no state file $f: is $2 a protocol of the snippets?"
		return 1
	}
	printf 'description "anycast-agent decision %s";\ndisabled %s;\n' "$f" "$3" >"$f.tmp" &&
		mv "$f.tmp" "$f"
}

# --- what an upstream sees (UPSTREAM defaults to the first one added) ---------------------------

_topo_up() { echo "${1:-${TOPO_UPSTREAMS[0]}}"; }

# topo_upstream_route PREFIX [UPSTREAM]: `show route PREFIX all` on the upstream.
topo_upstream_route() { topo_birdc "$(_topo_up "${2:-}")" show route "$1" all 2>/dev/null; }

# topo_upstream_has_route PREFIX [UPSTREAM]: 0 when the upstream has a route for exactly PREFIX.
topo_upstream_has_route() {
	topo_birdc "$(_topo_up "${2:-}")" show route "$1" 2>/dev/null |
		awk -v p="$1" '$1 == p { ok = 1 } END { exit !ok }'
}

# _topo_best PREFIX UPSTREAM: the best route's block: "proto <name>" then its attribute lines.
_topo_best() {
	topo_upstream_route "$1" "${2:-}" | awk '
		/\[.*\]/ { best = ($0 ~ /\] \* \(/)
			if (best) { s = $0; sub(/^[^[]*\[/, "", s); sub(/ .*/, "", s); print "proto " s }
			next }
		best { sub(/^[ \t]+/, ""); print }'
}

# _topo_best_attr PREFIX ATTR [UPSTREAM]: value of BGP.ATTR (BIRD 2) or bgp_ATTR (BIRD 3, which
# calls as_path bgp_path) on the best route.
_topo_best_attr() {
	local v3=$2
	[ "$2" = as_path ] && v3=path
	_topo_best "$1" "${3:-}" | sed -n -e "s/^BGP\.$2: //p" -e "s/^bgp_$v3: //p"
}

# topo_upstream_route_communities PREFIX [UPSTREAM]: e.g. "(65535,0)"; empty when none.
topo_upstream_route_communities() { _topo_best_attr "$1" community "${2:-}"; }
# topo_upstream_route_local_pref PREFIX [UPSTREAM]
topo_upstream_route_local_pref() { _topo_best_attr "$1" local_pref "${2:-}"; }
# topo_upstream_route_as_path PREFIX [UPSTREAM]: e.g. "64500 64500 64500"
topo_upstream_route_as_path() { _topo_best_attr "$1" as_path "${2:-}"; }
# topo_upstream_route_from PREFIX [UPSTREAM]: the PoP whose route is best; empty when none.
topo_upstream_route_from() {
	_topo_best "$1" "${2:-}" | sed -n 's/^proto \(.*\)_v[46]$/\1/p'
}
# topo_upstream_route_time PREFIX [UPSTREAM]: when the best route arrived, in ms since midnight
# (BIRD's own timestamp, so a latency measured with it does not include polling).
topo_upstream_route_time() {
	topo_upstream_route "$1" "${2:-}" | awk '/\] \* \(/ { sub(/^[^[]*\[[^ ]* /, ""); sub(/\].*/, "")
		split($0, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 + 0.5 }'
}
# topo_proto_since NODE PROTO: when PROTO last changed state, in ms since midnight.
topo_proto_since() {
	topo_birdc "$1" show protocols "$2" 2>/dev/null | awk -v n="$2" '$1 == n {
		split($5, t, ":"); printf "%d\n", (t[1] * 3600 + t[2] * 60 + t[3]) * 1000 + 0.5 }'
}
# topo_upstream_route_count PREFIX [UPSTREAM]: how many PoPs' routes the upstream holds.
topo_upstream_route_count() {
	topo_upstream_route "$1" "${2:-}" | grep -c '\[.*\]'
}

# _topo_counter POP ROW [AF] [UPSTREAM]: the "received" column of a route change stats row
# of the upstream's session with POP.
_topo_counter() {
	topo_birdc "$(_topo_up "${4:-}")" show protocols all "${1}_v${3:-4}" 2>/dev/null |
		awk -v r="$2:" '$1 " " $2 == r { print $3; f = 1 } END { if (!f) print "?" }'
}
# topo_upstream_updates POP [AF] [UPSTREAM]: route updates the upstream received from POP.
topo_upstream_updates() { _topo_counter "$1" "Import updates" "${2:-4}" "${3:-}"; }
# topo_upstream_withdraws POP [AF] [UPSTREAM]: route withdraws the upstream received from POP.
topo_upstream_withdraws() { _topo_counter "$1" "Import withdraws" "${2:-4}" "${3:-}"; }

# topo_leftovers [PREFIX]: print what of a topology remains (namespaces, host links with its
# alias, temp dirs); nothing when clean.
topo_leftovers() {
	local p=${1:-$TOPO_PREFIX} d
	ip netns list 2>/dev/null | awk -v p="$p-" 'index($1, p) == 1 { print "namespace " $1 }'
	ip -o link show 2>/dev/null | awk -v p="$p" '$0 ~ ("alias " p "$") { print "link " $2 }'
	for d in "${TMPDIR:-/tmp}/$p.topo."*; do
		[ -e "$d" ] && echo "dir $d"
	done
	awk -v p="${TMPDIR:-/tmp}/$p.topo." 'index($5, p) > 1 { print "mount " $5 }' /proc/self/mountinfo
	return 0
}

# topo_cleanup: cleanup hooks, stop every BIRD, kill what else runs in the namespaces, delete the
# namespaces and the temp dir. Idempotent.
topo_cleanup() {
	local h n
	[ -n "$TOPO_CLEANED" ] || [ -z "$TOPO_PREFIX" ] && return 0
	TOPO_CLEANED=1
	for h in "${TOPO_CLEANUP_HOOKS[@]}"; do
		eval "$h"
	done
	for n in "${TOPO_NODES[@]}"; do
		topo_bird_stop "$n"
	done
	topo_recover "$TOPO_PREFIX"
	[ -n "$TOPO_DIR" ] && rm -rf "$TOPO_DIR"
	return 0
}
