# SPDX-License-Identifier: ISC
# shellcheck shell=bash
# lab/lib.sh - the multi-PoP anycast lab: N PoPs (BIRD + anycast-agent + nginx + nsd on the shared
# anycast addresses), 1-2 transit routers that learn the anycast prefixes over eBGP from every PoP,
# and a client namespace behind transit 1. Built on the test fixtures (tests/lib/topo.sh,
# nginx.sh, nsd.sh), not a copy of them. Source it from a bash script that runs as root:
#
#   . "$top/lab/lib.sh"
#   lab_require || exit 1       # bird2, nginx, nsd, curl, dig, the built agent (names the package)
#   lab_up 3 1                  # 3 PoPs, 1 transit; returns when the client reaches PoP 1
#   lab_http; lab_dns           # which PoP answers the client: "pop1" ("-" when none)
#   lab_ctl 1 status            # anycastctl against PoP 1's agent
#   lab_down                    # everything gone (also on exit, Ctrl-C, and at the next lab_up)
#
# Names: the namespaces are "$LAB_PREFIX-pop<i>", "-up<u>", "-client"; every file is under
# $TOPO_DIR (a temp dir "$LAB_PREFIX.topo.*"). The prefix is fixed (default "aclab") so a lab left
# by a crash or by `--keep` is removed by the next lab_up or by `lab/lab down`.
# Path choice: transit u gives PoP i's routes MED 10*i, so PoP 1 is best, then PoP 2, ...
# Addresses (documentation ranges, only inside the namespaces): web 192.0.2.80 and 2001:db8::80,
# dns 192.0.2.53 and 2001:db8::53 on every PoP's lo; the client is 198.51.100.254.
#
# The agent's timings come from LAB_* variables (defaults suit the demo):
#   LAB_INTERVAL=1 LAB_FAST=0.5 LAB_TIMEOUT=0.5 LAB_RISE=3 LAB_FALL=2 LAB_HOLD_DOWN=5
#   LAB_DRAIN_TIME=3 LAB_DRAIN=1 (0: no drain variants, a failing check withdraws at once)
#   LAB_EXTRA_CHECKS=0 (that many more http+dns checks, gating nothing: the scale benchmark)
#   LAB_ANN_EXTRA (more settings of both announcements, e.g. "damp_max_suppress = 0;")
#   LAB_AGENT_ARGS (extra anycast-agent options).
#   LAB_WATCH=1: the checks get death watches (watch_pidfile and watch_listen of nginx and nsd).
#   LAB_SERVICES="web dns": the checks and announcements each agent has ("web": no dns check,
#   nothing announces 192.0.2.53; nsd still answers).

LAB_PREFIX=${LAB_PREFIX:-aclab}
LAB_TOP=${LAB_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
top_srcdir=${top_srcdir:-$LAB_TOP}
# the binaries: scripts/demo and scripts/check build in build-default
if [ -z "${LAB_BUILDDIR:-}" ]; then
	for LAB_BUILDDIR in "$LAB_TOP/build-default" "$LAB_TOP/build" "$LAB_TOP"; do
		[ -x "$LAB_BUILDDIR/anycast-agent" ] && break
	done
fi
LAB_AGENT=${LAB_AGENT:-$LAB_BUILDDIR/anycast-agent}
LAB_CTL=${LAB_CTL:-$LAB_BUILDDIR/anycastctl}
LAB_INTERVAL=${LAB_INTERVAL:-1}
LAB_FAST=${LAB_FAST:-0.5}
LAB_TIMEOUT=${LAB_TIMEOUT:-0.5}
LAB_RISE=${LAB_RISE:-3}
LAB_FALL=${LAB_FALL:-2}
LAB_HOLD_DOWN=${LAB_HOLD_DOWN:-5}
LAB_DRAIN_TIME=${LAB_DRAIN_TIME:-3}
LAB_EXTRA_CHECKS=${LAB_EXTRA_CHECKS:-0}
LAB_DRAIN=${LAB_DRAIN:-1}
LAB_SERVICES=${LAB_SERVICES:-web dns}
LAB_ANN_EXTRA=${LAB_ANN_EXTRA:-}
LAB_AGENT_ARGS=${LAB_AGENT_ARGS:-}
LAB_WATCH=${LAB_WATCH:-0}
LAB_WEB=192.0.2.80
LAB_DNS=192.0.2.53
LAB_NPOPS=0
LAB_NUPS=0

# shellcheck source=../tests/lib/topo.sh
. "$LAB_TOP/tests/lib/topo.sh"
# shellcheck source=../tests/lib/nginx.sh
. "$LAB_TOP/tests/lib/nginx.sh"
# shellcheck source=../tests/lib/nsd.sh
. "$LAB_TOP/tests/lib/nsd.sh"

_lab_err() { echo "lab: $*" >&2; }

# lab_require: 0 when everything the lab runs is here; else says what to install.
lab_require() {
	local b missing=
	topo_require >&2 || missing=1
	for b in nginx:nginx nsd:nsd curl:curl dig:dnsutils openssl:openssl; do
		command -v "${b%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${b%%:*}" ] || {
			_lab_err "${b%%:*} not found: apt-get install ${b##*:} (or run scripts/install-deps)"
			missing=1
		}
	done
	[ -x /usr/bin/python3 ] || {
		_lab_err "/usr/bin/python3 not found (tests/lib/nsd.sh needs it): apt-get install python3"
		missing=1
	}
	for b in "$LAB_AGENT" "$LAB_CTL"; do
		[ -x "$b" ] || {
			_lab_err "$b not built: run scripts/demo, or build (see README.md) and set LAB_BUILDDIR"
			missing=1
		}
	done
	[ -z "$missing" ]
}

lab_pop_dir() { echo "$TOPO_DIR/pop$1"; }
lab_sock() { echo "$TOPO_DIR/pop$1/agent/agent.ctl"; }
# lab_ctl I ARGS...: anycastctl against PoP I's agent.
lab_ctl() {
	local i=$1
	shift
	"$LAB_CTL" -s "$(lab_sock "$i")" "$@"
}
lab_client() { topo_exec client "$@"; }

# lab_http [PATH]: the PoP whose nginx answers the client on http://192.0.2.80/ ("-" if none).
lab_http() {
	local out
	out=$(lab_client curl -s --max-time 0.5 "http://$LAB_WEB${1:-/}" 2>/dev/null) || out=
	echo "${out:--}"
}
# lab_dns: the PoP whose nsd answers TXT pop.example.test at 192.0.2.53 ("-" if none).
lab_dns() {
	local out
	out=$(lab_client dig +short +time=1 +tries=1 @"$LAB_DNS" pop.example.test TXT 2>/dev/null |
		tr -d '"') || out=
	case $out in pop*) echo "$out" ;; *) echo - ;; esac
}

# lab_routes PREFIX [UPSTREAM]: one line per route the transit holds: "pop1 best (65535,0)".
lab_routes() {
	topo_upstream_route "$1" "${2:-}" | awk '
		/\[.*\]/ { if (p) print p, b, c; s = $0; sub(/^[^[]*\[/, "", s); sub(/_v[46] .*/, "", s)
			p = s; b = ($0 ~ /\] \* \(/) ? "best" : "-"; c = "" }
		/BGP.community:/ { c = $2 }
		END { if (p) print p, b, c }'
}
# lab_route_has PREFIX POP [UPSTREAM]: 0 when the transit holds a route for PREFIX from POP.
lab_route_has() { lab_routes "$1" "${3:-}" | grep -q "^$2 "; }
# lab_route_gshut PREFIX POP [UPSTREAM]: 0 when POP's route carries GRACEFUL_SHUTDOWN (65535,0).
lab_route_gshut() { lab_routes "$1" "${3:-}" | grep "^$2 " | grep -q '(65535,0)'; }
lab_best() { topo_upstream_route_from "$1" "${2:-}"; }

# lab_nginx_use I: point nginx.sh's globals at PoP I's instance.
lab_nginx_use() {
	NGINX_DIR=$TOPO_DIR/pop$1/nginx NGINX_PKI=$TOPO_DIR/pop$1/nginx/pki
	NGINX_NETNS=$(topo_ns "pop$1")
	NGINX_PID=$(cat "$NGINX_DIR/nginx.pid" 2>/dev/null)
}
lab_nginx_start() {
	lab_nginx_use "$1"
	nginx_start "$(topo_ns "pop$1")"
}
# lab_nginx_kill I: PoP I's nginx dies (SIGKILL, master and workers: connections are refused).
lab_nginx_kill() {
	local pids
	lab_nginx_use "$1"
	pids=$(ip netns pids "$(topo_ns "pop$1")" | while read -r p; do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = nginx ] && echo "$p"
	done)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -9 $pids
	topo_wait_for "! ip netns pids $NGINX_NETNS | grep -qxF '$NGINX_PID'" 5
	rm -f "$NGINX_DIR/nginx.pid"
}
# lab_nsd_start I: PoP I's nsd (TXT pop.example.test "popI"), e.g. after lab_nsd_kill.
lab_nsd_start() {
	NSD_RECORDS="pop IN TXT \"pop$1\"" NSD_SERVER_OPTS="	ip-address: 2001:db8::53@53
	rrl-ratelimit: 0" nsd_start "pop$1" "$LAB_DNS" 53 1 "$(topo_ns "pop$1")"
}
# lab_nsd_kill I: PoP I's nsd dies (SIGKILL to all of it: "nsd: main", "nsd: xfrd", the servers).
lab_nsd_kill() {
	local pids
	pids=$(ip netns pids "$(topo_ns "pop$1")" | while read -r p; do
		case $(cat "/proc/$p/comm" 2>/dev/null) in nsd*) printf '%s ' "$p" ;; esac
	done)
	# shellcheck disable=SC2086
	[ -n "$pids" ] && kill -9 $pids
	# shellcheck disable=SC2086
	topo_wait_for "! _lab_alive $pids" 5
	nsd_stop "pop$1" # reaps it and forgets its pid
}
# lab_health I on|off: PoP I's /healthz answers 200 "ok" (on) or 503 (off); an atomic rename,
# so the moment of the failure is known to the microsecond.
lab_health() {
	local d=$TOPO_DIR/pop$1/nginx/www
	if [ "$2" = on ]; then mv "$d/healthz.off" "$d/healthz"; else mv "$d/healthz" "$d/healthz.off"; fi
}

_lab_has() { [[ " $LAB_SERVICES " == *" $1 "* ]]; }

# lab_exabgp_start I "web dns" INTERVAL FALL FAST TIMEOUT RISE: an ExaBGP speaker in PoP I's
# namespace, on an eBGP session of its own ("exa<I>_v4" at transit 1, from a second /30 on the
# same link, the PoP's AS), announcing each service's IPv4 prefix as ExaBGP's healthcheck
# decides (`python3 -m exabgp healthcheck --withdraw-on-down`, one process per service, checking
# what the agent's check checks: GET /healthz with the Host, or an SOA answer from nsd), with the
# MED the transit gives PoP I's own routes (10 * I: the client's path choice is the same). Returns
# once the transit has every route. Needs ExaBGP (scripts/install-deps --bench). Its healthcheck
# takes whole seconds for --timeout. Files in $TOPO_DIR/popI/exabgp (healthcheck-SERVICE.pid).
lab_exabgp_start() {
	local i=$1 svcs=$2 iv=$3 fall=$4 fast=$5 to=$6 rise=$7 s ip cmd procs=
	local d=$TOPO_DIR/pop$i/exabgp itimeout=${6%.*} me peer py=/usr/bin/python3
	((itimeout < 1)) && itimeout=1
	me=198.51.100.$((128 + 4 * (i - 1) + 1)) peer=198.51.100.$((128 + 4 * (i - 1) + 2))
	mkdir -p "$d" && : >"$d/exabgp.conf.proc"
	ip -n "$(topo_ns "pop$i")" addr add "$me/30" dev up1 || return 1
	ip -n "$(topo_ns up1)" addr add "$peer/30" dev "pop$i" || return 1
	cat >>"$TOPO_DIR/up1/local.conf" <<CONF
protocol bgp exa${i}_v4 {
	local $peer as 64496;
	neighbor $me as $TOPO_POP_AS;
	connect delay time 1; connect retry time 1; error wait time 1, 4;
	ipv4 { import filter import_honour_graceful_shutdown; export none; };
}
CONF
	topo_birdc up1 configure >/dev/null || return 1
	for s in $svcs; do
		if [ "$s" = web ]; then
			ip=$LAB_WEB
			cmd="curl -sf -o /dev/null --max-time $to -H 'Host: www.example.test' http://$LAB_WEB/healthz"
		else
			ip=$LAB_DNS
			# dig prints its errors on stdout too: look for the SOA's primary name
			cmd="dig +short +time=$itimeout +tries=1 @$LAB_DNS example.test SOA | grep -q '^ns1[.]'"
		fi
		cat >"$d/healthcheck-$s.sh" <<CONF
#!/bin/sh
exec $py -m exabgp healthcheck --no-syslog --name pop$i-$s --cmd "$cmd" \\
	--ip $ip/32 --no-ip-setup --interval $iv --fast-interval $fast --timeout $itimeout \\
	--rise $rise --fall $fall --withdraw-on-down --up-metric $((10 * i)) \\
	--pid $d/healthcheck-$s.pid
CONF
		chmod 755 "$d/healthcheck-$s.sh"
		cat >>"$d/exabgp.conf.proc" <<CONF
process hc_$s {
	run $d/healthcheck-$s.sh;
	encoder text;
}
CONF
		procs="$procs${procs:+, }hc_$s"
	done
	{
		cat "$d/exabgp.conf.proc"
		cat <<CONF
neighbor $peer {
	router-id 192.0.2.$((150 + i));
	local-address $me;
	local-as $TOPO_POP_AS;
	peer-as 64496;
	api { processes [ $procs ]; }
}
CONF
	} >"$d/exabgp.conf"
	(cd "$d" && exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_log_destination="$d/exabgp.log" \
		exabgp_daemon_pid="$d/exabgp.pid" topo_exec "pop$i" "$py" -m exabgp "$d/exabgp.conf" \
		>"$d/exabgp.out" 2>&1 &)
	for s in $svcs; do
		[ "$s" = web ] && ip=$LAB_WEB || ip=$LAB_DNS
		topo_wait_for "lab_route_has $ip/32 exa$i" 30 || {
			_lab_err "ExaBGP never announced $ip/32; its output:"
			tail -n 20 "$d/exabgp.out" >&2
			return 1
		}
	done
}

_lab_agent_conf() { # I
	local i=$1 d=$TOPO_DIR/pop$1 k p
	cat <<CONF
# anycast-agent of lab PoP $i (generated by lab/lib.sh)
bird: { socket = "$(topo_socket "pop$i")"; state_dir = "$(topo_state_dir "pop$i")";
        reconcile_interval = 1.0; };
control: { socket = "$d/agent/agent.ctl"; };
state_file = "$d/agent/operator.state";
metrics_file = "$d/agent/metrics.prom";
on_exit = "withdraw";
checks: {
CONF
	local wweb='' wdns=''
	if [ "$LAB_WATCH" = 1 ]; then
		wweb="watch_pidfile = \"$d/nginx/nginx.pid\"; watch_listen = \"$LAB_WEB:80\";"
		wdns="watch_pidfile = \"$(nsd_dir "pop$i")/nsd.pid\"; watch_listen = \"udp:$LAB_DNS:53\";"
	fi
	_lab_has web && cat <<CONF
  web: { type = "http"; url = "http://www.example.test/healthz"; connect_to = "$LAB_WEB:80";
         expect_body = "ok"; interval = $LAB_INTERVAL; fast_interval = $LAB_FAST;
         timeout = $LAB_TIMEOUT; rise = $LAB_RISE; fall = $LAB_FALL; $wweb };
CONF
	_lab_has dns && cat <<CONF
  dns: { type = "dns"; server = "$LAB_DNS"; qname = "example.test."; qtype = "SOA";
         expect_authoritative = true; interval = $LAB_INTERVAL; fast_interval = $LAB_FAST;
         timeout = $LAB_TIMEOUT; rise = $LAB_RISE; fall = $LAB_FALL; $wdns };
CONF
	for ((k = 1; k <= LAB_EXTRA_CHECKS / 2; k++)); do
		cat <<CONF
  web$k: { type = "http"; url = "http://www.example.test/healthz"; connect_to = "$LAB_WEB:80";
         expect_body = "ok"; interval = $LAB_INTERVAL; timeout = $LAB_TIMEOUT; };
  dns$k: { type = "dns"; server = "$LAB_DNS"; qname = "example.test."; transport = "udp";
         interval = $LAB_INTERVAL; timeout = $LAB_TIMEOUT; };
CONF
	done
	echo "};"
	echo "announcements: {"
	for k in $LAB_SERVICES; do
		cat <<CONF
  $k: { protocols = [ "anycast_${k}4", "anycast_${k}6" ]; requires = [ "$k" ];
CONF
		[ "$LAB_DRAIN" = 1 ] && cat <<CONF
        drain_protocols = [ "anycast_${k}4_drain", "anycast_${k}6_drain" ];
        drain_time = $LAB_DRAIN_TIME;
CONF
		[ "$k" = web ] && p='"192.0.2.80/32", "2001:db8::80/128"' || p='"192.0.2.53/32", "2001:db8::53/128"'
		cat <<CONF
        prefixes = [ $p ]; hold_down = $LAB_HOLD_DOWN; $LAB_ANN_EXTRA };
CONF
	done
	echo "};"
}

# lab_agent_start I: start PoP I's agent in its namespace (foreground mode, logs in agent.log);
# returns once its control socket answers.
lab_agent_start() {
	local i=$1 d=$TOPO_DIR/pop$1/agent
	# ip execs the agent, so $! is the agent's pid
	# shellcheck disable=SC2086
	ip netns exec "$(topo_ns "pop$i")" "$LAB_AGENT" -d -f "$d/agent.conf" $LAB_AGENT_ARGS \
		>>"$d/agent.log" 2>&1 &
	echo $! >"$d/agent.pid"
	disown $! # no "Killed" notice from bash when the lab goes
	topo_wait_for "[ -S '$(lab_sock "$i")' ] && ! lab_ctl $i status | grep -q 'not answering'" 10 || {
		_lab_err "PoP $i's agent does not answer on $(lab_sock "$i"); its log:"
		tail -n 20 "$d/agent.log" >&2
		return 1
	}
}
lab_agent_pid() { cat "$TOPO_DIR/pop$1/agent/agent.pid" 2>/dev/null; }
lab_agent_stop() {
	local pid
	pid=$(lab_agent_pid "$1") || return 0
	kill "$pid" 2>/dev/null && topo_wait_for "! _lab_alive $pid" 5
	rm -f "$TOPO_DIR/pop$1/agent/agent.pid"
}

# _lab_pop_services I: PoP I's nginx (page "popI", /healthz from a file) and nsd (TXT "popI").
_lab_pop_services() {
	local i=$1 d=$TOPO_DIR/pop$1
	mkdir -p "$d/agent" || return 1
	nginx_setup "$d/nginx" || return 1
	mkdir -p "$d/nginx/www" && echo ok >"$d/nginx/www/healthz" || return 1
	# server_name popI: "/" answers "popI"; the only server, so it is the default for any Host
	nginx_vhost "$LAB_WEB:80" "pop$i" - "listen [2001:db8::80]:80; location = /healthz { root $d/nginx/www; try_files /healthz =503; }" || return 1
	nginx_start "$(topo_ns "pop$i")" || return 1
	lab_nsd_start "$i" || return 1
	_lab_agent_conf "$i" >"$d/agent/agent.conf"
	"$LAB_AGENT" -n -f "$d/agent/agent.conf" >/dev/null || {
		_lab_err "the generated $d/agent/agent.conf does not load:"
		"$LAB_AGENT" -n -f "$d/agent/agent.conf" >&2
		return 1
	}
}

# _lab_alive PID...: 0 while one of them runs (a zombie does not: where pid 1 reaps late, waiting
# for the pid to vanish would take seconds per process)
_lab_alive() {
	local p st
	for p in "$@"; do
		st=$(awk '{ print $3 }' "/proc/$p/stat" 2>/dev/null) && [ "$st" != Z ] && return 0
	done
	return 1
}

# _lab_cleanup_services: stop every process of every lab namespace at once (agents, nginx, nsd,
# BIRD, ExaBGP...), so topo_cleanup finds nothing left to wait for.
_lab_cleanup_services() {
	local n i pids=()
	# the agents first, while BIRD still answers their withdraw (on_exit)
	for ((i = 1; i <= LAB_NPOPS; i++)); do
		pids+=("$(lab_agent_pid "$i")")
	done
	kill "${pids[@]}" 2>/dev/null && topo_wait_for "! _lab_alive ${pids[*]}" 3 2>/dev/null
	pids=()
	for n in "${TOPO_NODES[@]}"; do
		# shellcheck disable=SC2207
		pids+=($(ip netns pids "$(topo_ns "$n")" 2>/dev/null))
	done
	if [ ${#pids[@]} -gt 0 ]; then
		kill "${pids[@]}" 2>/dev/null
		topo_wait_for "! _lab_alive ${pids[*]}" 5 2>/dev/null || kill -9 "${pids[@]}" 2>/dev/null
	fi
	rm -f "$TOPO_DIR"/*/bird.pid
}

# lab_up NPOPS NUPSTREAMS: build and start the lab; returns 0 once every agent has announced
# web and dns and the client reaches PoP 1 over HTTP and DNS.
lab_up() {
	local n=${1:-3} nu=${2:-1} i u
	[[ $n =~ ^[0-9]+$ ]] && ((n >= 1 && n <= 10)) || {
		_lab_err "number of PoPs '$n': use 1 to 10"
		return 1
	}
	[[ $nu =~ ^[12]$ ]] || {
		_lab_err "number of transit routers '$nu': use 1 or 2"
		return 1
	}
	LAB_NPOPS=$n LAB_NUPS=$nu
	topo_init "$LAB_PREFIX" || return 1
	# nginx workers (nobody) read /healthz below it
	chmod 755 "$TOPO_DIR"
	NSD_BASE=$TOPO_DIR/nsd
	topo_on_cleanup _lab_cleanup_services
	for ((u = 1; u <= nu; u++)); do topo_add_upstream "up$u" "$u" || return 1; done
	for ((i = 1; i <= n; i++)); do
		topo_add_pop "pop$i" "$i" && topo_pop_med "pop$i" $((10 * i)) || return 1
		for ((u = 1; u <= nu; u++)); do topo_link "pop$i" "up$u" || return 1; done
	done
	topo_add_client client up1 || return 1
	# an include for callers (lab/bench adds sessions), and route times in milliseconds in logs
	for ((u = 1; u <= nu; u++)); do
		echo 'timeformat log "%F %T.%3f";' >"$TOPO_DIR/up$u/local.conf"
	done
	topo_start || return 1
	topo_wait_established 30 || return 1
	for ((i = 1; i <= n; i++)); do
		chmod 755 "$TOPO_DIR/pop$i"
		_lab_pop_services "$i" || return 1
	done
	for ((i = 1; i <= n; i++)); do lab_agent_start "$i" || return 1; done
	topo_wait_for "{ ! _lab_has web || lab_all_announced $LAB_WEB/32; } &&
		{ ! _lab_has dns || lab_all_announced $LAB_DNS/32; }" 30 || {
		_lab_err "not every PoP announced within 30 s:"
		lab_routes "$LAB_WEB/32" >&2
		return 1
	}
	topo_wait_for '{ ! _lab_has web || [ "$(lab_http)" = pop1 ]; } &&
		{ ! _lab_has dns || [ "$(lab_dns)" = pop1 ]; }' 10 || {
		_lab_err "the client does not reach PoP 1 (HTTP: $(lab_http), DNS: $(lab_dns))"
		return 1
	}
}

# lab_all_announced PREFIX: every PoP's route is at every transit, none draining.
lab_all_announced() {
	local u c
	for ((u = 1; u <= LAB_NUPS; u++)); do
		c=$(lab_routes "$1" "up$u" | grep -vc '(65535,0)')
		[ "$c" = "$LAB_NPOPS" ] || return 1
	done
}

# lab_info: how to look around a running lab and how to remove it.
lab_info() {
	local i u
	cat <<EOF
The lab "$LAB_PREFIX": $LAB_NPOPS PoPs, $LAB_NUPS transit router(s), files in $TOPO_DIR

  the client:    ip netns exec $(topo_ns client) bash
                 then: curl http://$LAB_WEB/   dig @$LAB_DNS pop.example.test TXT +short
EOF
	for ((u = 1; u <= LAB_NUPS; u++)); do
		echo "  transit $u:     birdc -s $(topo_socket "up$u") show route $LAB_WEB/32 all"
	done
	for ((i = 1; i <= LAB_NPOPS; i++)); do
		echo "  PoP $i:         ip netns exec $(topo_ns "pop$i") bash    (BIRD: birdc -s $(topo_socket "pop$i"))"
		echo "                 $LAB_CTL -s $(lab_sock "$i") status -o text"
	done
	cat <<EOF
  agent logs:    $TOPO_DIR/pop<i>/agent/agent.log, configs beside them

  remove it:     $LAB_TOP/lab/lab down      (or run the demo or lab/lab again: it removes it first)
EOF
}

# lab_keep: leave the lab running when the script exits.
lab_keep() {
	TOPO_CLEANED=1
	trap - EXIT INT TERM
}

# lab_down: remove the lab this shell started, or (none) whatever a crashed or kept lab left.
lab_down() {
	if [ -n "$TOPO_PREFIX" ] && [ -z "$TOPO_CLEANED" ]; then
		topo_cleanup
	else
		topo_recover "$LAB_PREFIX"
	fi
}
