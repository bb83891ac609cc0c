# SPDX-License-Identifier: ISC
# nsd.sh - test fixture: private nsd instances with a generated config and
# zone in a temp dir, for the integration tests, the lab and end-to-end tests.
# Source it from a POSIX shell; needs nsd (Debian package nsd), runs as root
# (the config keeps nsd from dropping privileges or chrooting).
#
#   nsd_start NAME ADDR PORT SERIAL [NETNS]
#       Start instance NAME serving zone $NSD_ZONE (default example.test.)
#       on ADDR (IPv4 or IPv6) port PORT, UDP and TCP, with SOA serial SERIAL,
#       inside network namespace NETNS if given. Returns once it answers SOA
#       queries with that serial (5 s deadline), else prints its log and fails.
#       Extra zone lines may be given in $NSD_RECORDS (relative names), extra
#       "server:" options in $NSD_SERVER_OPTS (one per line, e.g. "rrl-ratelimit: 0").
#   nsd_set_serial NAME SERIAL
#       Rewrite the zone with a new serial, reload (SIGHUP) and wait until it
#       is served.
#   nsd_zone_text SERIAL
#       Print the zone the fixture serves (with SERIAL), e.g. to sign it.
#   nsd_serve NAME SERIAL FILE
#       Serve the zone file FILE (e.g. signed by ldns-signzone; its SOA serial must
#       be SERIAL) instead of the generated one, reload and wait until it is served.
#   nsd_stop NAME          Stop the instance (SIGTERM, then wait; SIGKILL after 5 s).
#   nsd_cleanup            Stop every instance and remove $NSD_BASE; call it from a trap.
#   nsd_serial NAME        Print the serial the instance serves now (UDP SOA query).
#   nsd_dir NAME           Print the instance's directory (config, zone, log, pid).
#   nsd_available          True if nsd and /usr/bin/python3 are installed.
#   nsd_require            Skip the test (exit 77) unless they are.
#
# Zone content (ZONE = $NSD_ZONE):
#   @     SOA   ns1.ZONE hostmaster.ZONE SERIAL 3600 900 604800 300
#   @     NS    ns1.ZONE            @   MX  10 mx.ZONE
#   @     TXT   "v=spf1 -all"       ns1 A   192.0.2.53
#   www   A     192.0.2.80          www AAAA 2001:db8::80
#   mx    A     192.0.2.25          txt TXT "hello" "world"
#   alias CNAME www.ZONE
#
# Set NSD_BASE before the first nsd_start to choose the directory; by
# default it is a fresh mktemp -d. Instance names: [A-Za-z0-9_-]+.

NSD_BIN=${NSD_BIN:-/usr/sbin/nsd}
NSD_ZONE=${NSD_ZONE:-example.test.}
NSD_PY=${NSD_PY:-/usr/bin/python3}
NSD_BASE=${NSD_BASE:-}

nsd_available() {
	[ -x "$NSD_BIN" ] && [ -x "$NSD_PY" ]
}

nsd_require() {
	nsd_available || {
		echo "SKIP: nsd or /usr/bin/python3 missing (Debian packages nsd, python3)"
		exit 77
	}
}

nsd_dir() {
	echo "$NSD_BASE/$1"
}

nsd_zone_text() { # serial
	cat <<EOF
\$ORIGIN $NSD_ZONE
\$TTL 300
@	IN SOA ns1.$NSD_ZONE hostmaster.$NSD_ZONE ( $1 3600 900 604800 300 )
@	IN NS ns1.$NSD_ZONE
@	IN MX 10 mx.$NSD_ZONE
@	IN TXT "v=spf1 -all"
ns1	IN A 192.0.2.53
www	IN A 192.0.2.80
www	IN AAAA 2001:db8::80
mx	IN A 192.0.2.25
txt	IN TXT "hello" "world"
alias	IN CNAME www.$NSD_ZONE
${NSD_RECORDS:-}
EOF
}

_nsd_write_zone() { # dir serial [file]
	if [ -n "${3:-}" ]; then
		cp "$3" "$1/zone.tmp" || return 1
	else
		nsd_zone_text "$2" >"$1/zone.tmp"
	fi
	mv "$1/zone.tmp" "$1/zone"
	# nsd reloads a zone only when its mtime changed: make sure it did
	touch -d "@$(($(date +%s) + $(cat "$1/generation" 2>/dev/null || echo 0)))" "$1/zone"
	echo $(($(cat "$1/generation" 2>/dev/null || echo 0) + 1)) >"$1/generation"
}

# Query SOA of $NSD_ZONE at addr port (in netns) and print the serial, or fail.
_nsd_query_serial() { # addr port [netns]
	_q='
import socket, struct, sys
addr, port, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
q = struct.pack(">HHHHHH", 0x5eed, 0, 1, 0, 0, 0)
for l in zone.rstrip(".").split("."):
    q += bytes([len(l)]) + l.encode()
q += b"\0" + struct.pack(">HH", 6, 1)
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(0.3)
s.sendto(q, (addr, port))
r = s.recv(4096)
def skip(m, o):
    while True:
        n = m[o]
        if n >= 0xc0: return o + 2
        if n == 0: return o + 1
        o += n + 1
if struct.unpack(">H", r[:2])[0] != 0x5eed or struct.unpack(">H", r[6:8])[0] < 1: sys.exit(1)
o = skip(r, 12) + 4
o = skip(r, o) + 10
o = skip(r, skip(r, o))
print(struct.unpack(">I", r[o:o + 4])[0])
'
	if [ -n "${3:-}" ]; then
		ip netns exec "$3" "$NSD_PY" -c "$_q" "$1" "$2" "$NSD_ZONE" 2>/dev/null
	else
		"$NSD_PY" -c "$_q" "$1" "$2" "$NSD_ZONE" 2>/dev/null
	fi
}

nsd_serial() {
	_d=$(nsd_dir "$1")
	_nsd_query_serial "$(cat "$_d/addr")" "$(cat "$_d/port")" "$(cat "$_d/netns")"
}

_nsd_wait_serial() { # name serial
	_i=0
	while [ "$_i" -lt 100 ]; do
		[ "$(nsd_serial "$1")" = "$2" ] && return 0
		_i=$((_i + 1))
		sleep 0.05
	done
	echo "nsd.sh: instance $1 does not serve serial $2; its log:" >&2
	cat "$(nsd_dir "$1")/log" >&2
	return 1
}

nsd_start() { # name addr port serial [netns]
	if [ -z "$NSD_BASE" ]; then
		NSD_BASE=$(mktemp -d "${TMPDIR:-/tmp}/nsd-fixture.XXXXXX") || return 1
	fi
	_d="$NSD_BASE/$1"
	mkdir -p "$_d" || return 1
	echo "$2" >"$_d/addr"
	echo "$3" >"$_d/port"
	echo "${5:-}" >"$_d/netns"
	_nsd_write_zone "$_d" "$4"
	cat >"$_d/nsd.conf" <<EOF
server:
	ip-address: $2@$3
	port: $3
	username: ""
	chroot: ""
	zonesdir: "$_d"
	zonelistfile: "$_d/zone.list"
	xfrdfile: "$_d/xfrd.state"
	xfrdir: "$_d"
	pidfile: "$_d/nsd.pid"
	logfile: "$_d/log"
	database: ""
	server-count: 1
	reuseport: no
	verbosity: 1
	hide-version: yes
	tcp-count: 16
${NSD_SERVER_OPTS:-}
remote-control:
	control-enable: no
zone:
	name: "$NSD_ZONE"
	zonefile: "$_d/zone"
EOF
	# -d keeps nsd in the foreground, so $! is its pid (ip netns exec execs it)
	if [ -n "${5:-}" ]; then
		ip netns exec "$5" "$NSD_BIN" -d -c "$_d/nsd.conf" >>"$_d/log" 2>&1 &
	else
		"$NSD_BIN" -d -c "$_d/nsd.conf" >>"$_d/log" 2>&1 &
	fi
	echo $! >"$_d/main.pid"
	_nsd_wait_serial "$1" "$4"
}

nsd_set_serial() { # name serial
	_d=$(nsd_dir "$1")
	_nsd_write_zone "$_d" "$2"
	kill -HUP "$(cat "$_d/main.pid")" && _nsd_wait_serial "$1" "$2"
}

nsd_serve() { # name serial file
	_d=$(nsd_dir "$1")
	_nsd_write_zone "$_d" "$2" "$3" || return 1
	kill -HUP "$(cat "$_d/main.pid")" && _nsd_wait_serial "$1" "$2"
}

nsd_stop() { # name
	_d=$(nsd_dir "$1")
	[ -f "$_d/main.pid" ] || return 0
	_p=$(cat "$_d/main.pid")
	kill -TERM "$_p" 2>/dev/null
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ "$_i" -lt 100 ]; do
		_i=$((_i + 1))
		sleep 0.05
	done
	kill -KILL "$_p" 2>/dev/null
	wait "$_p" 2>/dev/null
	rm -f "$_d/main.pid"
	return 0
}

nsd_cleanup() {
	[ -n "$NSD_BASE" ] && [ -d "$NSD_BASE" ] || return 0
	for _d in "$NSD_BASE"/*/; do
		[ -d "$_d" ] && nsd_stop "$(basename "$_d")"
	done
	rm -rf "$NSD_BASE"
	NSD_BASE=
}
