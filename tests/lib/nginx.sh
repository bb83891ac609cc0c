# SPDX-License-Identifier: ISC
# tests/lib/nginx.sh - a private nginx for tests, the lab and end-to-end runs.
#
# Source it from a POSIX sh script. Everything lives in one temp dir
# ($NGINX_DIR: config, pid, logs, temp paths, CA and certificates generated
# with openssl at test time); nothing touches /etc/nginx or /var/log/nginx.
#
#   . "$top_srcdir/tests/lib/nginx.sh"
#   nginx_require                  exit 77 naming the Debian package if nginx/openssl are missing
#   nginx_setup [DIR]              start a fresh fixture in DIR (default: a new temp dir);
#                                  the caller installs `trap nginx_cleanup EXIT` (or calls it)
#   nginx_ca NAME                  a self-signed CA: $NGINX_PKI/ca/NAME.crt (and .key)
#   nginx_cert CA NAME SAN [FROM TO]
#                                  a server certificate $NGINX_PKI/NAME.crt (and .key) signed by
#                                  CA for SAN
#                                  ("DNS:www.example.net,IP:127.0.0.1"), valid from FROM to TO
#                                  days relative to now (default -1 365; TO < 0: already expired)
#   nginx_vhost LISTEN NAME [CERT [EXTRA]]
#                                  a server block on LISTEN ("127.0.0.1:80", "[::1]:443") for
#                                  server_name NAME; "/" answers 200 with the body "NAME\n".
#                                  CERT (a nginx_cert NAME, or "-" for plain HTTP) turns on TLS;
#                                  EXTRA is raw nginx directives added to the server block
#   nginx_start [NETNS]            write nginx.conf, check it, start nginx (inside network namespace
#                                  NETNS if given); returns once every listen socket is bound
#   nginx_stop                     stop nginx and wait until it is gone (connections now refused)
#   nginx_cleanup                  stop and remove $NGINX_DIR
#
# Variables after nginx_setup: NGINX_DIR, NGINX_PKI ($NGINX_DIR/pki); after nginx_start:
# NGINX_PID. Started as root, the workers run as nobody:nogroup (the master keeps the keys).

nginx_require()
{
	if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
		echo "SKIP: nginx not found (install the Debian package nginx-light or nginx)" >&2
		exit 77
	fi
	if ! command -v openssl >/dev/null 2>&1; then
		echo "SKIP: openssl not found (install the Debian package openssl)" >&2
		exit 77
	fi
}

nginx_bin()
{
	command -v nginx 2>/dev/null || echo /usr/sbin/nginx
}

nginx_setup()
{
	if [ -n "${1:-}" ]; then
		NGINX_DIR=$1
		mkdir -p "$NGINX_DIR"
	else
		NGINX_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nginx-fixture.XXXXXX") || return 1
	fi
	NGINX_PKI=$NGINX_DIR/pki
	NGINX_PID=
	NGINX_NETNS=
	mkdir -p "$NGINX_PKI/ca" "$NGINX_DIR/tmp" "$NGINX_DIR/logs" || return 1
	chmod 700 "$NGINX_PKI"
	# workers (nobody) must reach their temp paths
	chmod 755 "$NGINX_DIR"
	: >"$NGINX_DIR/servers.conf"
}

nginx_ca()
{
	_name=$1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$NGINX_PKI/ca/$_name.key" -out "$NGINX_PKI/ca/$_name.crt" -days 3650 \
		-subj "/CN=$_name test CA" 2>"$NGINX_PKI/ca/$_name.log" || {
		cat "$NGINX_PKI/ca/$_name.log" >&2
		return 1
	}
	mkdir -p "$NGINX_PKI/ca/$_name.db"
	: >"$NGINX_PKI/ca/$_name.db/index.txt"
	echo 1000 >"$NGINX_PKI/ca/$_name.db/serial"
	cat >"$NGINX_PKI/ca/$_name.cnf" <<EOF
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $NGINX_PKI/ca/$_name.db
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
[ policy_any ]
commonName = supplied
EOF
}

# openssl ca wants YYYYMMDDHHMMSSZ; GNU date does the arithmetic
nginx__date()
{
	date -u -d "$1 days" +%Y%m%d%H%M%SZ
}

nginx_cert()
{
	_ca=$1 _name=$2 _san=$3 _from=${4:--1} _to=${5:-365}
	_p=$NGINX_PKI/$_name
	cat >"$_p.ext" <<EOF
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $_san
EOF
	{
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$_p.key" -out "$_p.csr" -subj "/CN=$_name" &&
			openssl ca -batch -notext -config "$NGINX_PKI/ca/$_ca.cnf" \
				-cert "$NGINX_PKI/ca/$_ca.crt" -keyfile "$NGINX_PKI/ca/$_ca.key" \
				-in "$_p.csr" -out "$_p.crt" -extfile "$_p.ext" -extensions leaf \
				-startdate "$(nginx__date "$_from")" -enddate "$(nginx__date "$_to")"
	} >"$_p.log" 2>&1 || {
		cat "$_p.log" >&2
		return 1
	}
}

nginx_vhost()
{
	_listen=$1 _name=$2 _cert=${3:--} _extra=${4:-}
	{
		echo "server {"
		if [ "$_cert" = "-" ]; then
			echo "	listen $_listen;"
		else
			echo "	listen $_listen ssl;"
			echo "	ssl_certificate $NGINX_PKI/$_cert.crt;"
			echo "	ssl_certificate_key $NGINX_PKI/$_cert.key;"
		fi
		echo "	server_name $_name;"
		printf '\tlocation / { return 200 "%s\\n"; }\n' "$_name"
		[ -n "$_extra" ] && echo "	$_extra"
		echo "}"
	} >>"$NGINX_DIR/servers.conf"
}

nginx__conf()
{
	_user=
	[ "$(id -u)" = 0 ] && _user="user nobody nogroup;"
	cat >"$NGINX_DIR/nginx.conf" <<EOF
# generated by tests/lib/nginx.sh
$_user
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/logs/error.log warn;
events { worker_connections 256; }
http {
	access_log $NGINX_DIR/logs/access.log;
	client_body_temp_path $NGINX_DIR/tmp/body;
	proxy_temp_path $NGINX_DIR/tmp/proxy;
	fastcgi_temp_path $NGINX_DIR/tmp/fastcgi;
	uwsgi_temp_path $NGINX_DIR/tmp/uwsgi;
	scgi_temp_path $NGINX_DIR/tmp/scgi;
	default_type text/plain;
	server_tokens off;
	include $NGINX_DIR/servers.conf;
}
EOF
}

# Run a command inside $NGINX_NETNS when one is set.
nginx__exec()
{
	if [ -n "$NGINX_NETNS" ]; then
		ip netns exec "$NGINX_NETNS" "$@"
	else
		"$@"
	fi
}

nginx_start()
{
	NGINX_NETNS=${1:-}
	_nginx=$(nginx_bin)
	nginx__conf
	rm -f "$NGINX_DIR/nginx.pid"
	if ! nginx__exec "$_nginx" -t -q -p "$NGINX_DIR" -e "$NGINX_DIR/logs/error.log" \
		-c "$NGINX_DIR/nginx.conf"; then
		echo "nginx_start: the generated $NGINX_DIR/nginx.conf does not load" >&2
		return 1
	fi
	# daemon on: nginx binds every listen socket before it forks, so once this returns
	# connections are queued; the pid file follows from the daemonised master
	if ! nginx__exec "$_nginx" -p "$NGINX_DIR" -e "$NGINX_DIR/logs/error.log" \
		-c "$NGINX_DIR/nginx.conf"; then
		echo "nginx_start: nginx failed; see $NGINX_DIR/logs/error.log:" >&2
		cat "$NGINX_DIR/logs/error.log" >&2
		return 1
	fi
	_i=0
	while [ ! -s "$NGINX_DIR/nginx.pid" ]; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ]; then
			echo "nginx_start: no pid file after 10 s" >&2
			return 1
		fi
		sleep 0.05
	done
	NGINX_PID=$(cat "$NGINX_DIR/nginx.pid")
}

nginx_stop()
{
	[ -n "${NGINX_PID:-}" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null
	_i=0
	while kill -0 "$NGINX_PID" 2>/dev/null; do
		_i=$((_i + 1))
		if [ $_i -gt 200 ]; then
			kill -KILL "$NGINX_PID" 2>/dev/null
			break
		fi
		sleep 0.05
	done
	NGINX_PID=
}

nginx_cleanup()
{
	nginx_stop
	if [ -n "${NGINX_DIR:-}" ] && [ -d "$NGINX_DIR" ]; then
		rm -rf "$NGINX_DIR"
	fi
	NGINX_DIR=
}
