#!/bin/sh
# tests/integration/http.sh - the http check type against a real nginx.
#
# nginx runs inside a network namespace this test creates (loopback only), with
# a test CA and certificates made by openssl now. Probes run through
# tests/integration/http_probe, which prints: RESULT MS LOOP_LATE_MS DAYS DETAIL.
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
PROBE=$top_builddir/tests/integration/http_probe
. "$top_srcdir/tests/lib/nginx.sh"

nginx_require
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root to create a network namespace" >&2
	exit 77
fi
if [ ! -x "$PROBE" ]; then
	echo "FAIL: $PROBE not built (make check builds it)" >&2
	exit 1
fi

NS=aa-http-$$
cleanup()
{
	nginx_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up || exit 1

nginx_setup || exit 1
nginx_ca ca || exit 1
nginx_ca rogue || exit 1
nginx_cert ca a "DNS:a.example.net" || exit 1
nginx_cert ca b "DNS:b.example.net" || exit 1
nginx_cert ca expired "DNS:expired.example.net" -30 -1 || exit 1
nginx_cert ca othername "DNS:other.example.net" || exit 1
nginx_cert rogue rogue "DNS:rogue.example.net" || exit 1
nginx_cert ca soon "DNS:soon.example.net" -1 10 || exit 1

nginx_vhost 127.0.0.1:80 www.example.net - 'location = /down { return 503 "maintenance\n"; }'
# IPv6 may be disabled where CI runs; then the IPv6 cases are left out, loudly
HAVE_V6=0
if ip -n "$NS" -6 addr show dev lo 2>/dev/null | grep -q '::1/'; then
	HAVE_V6=1
	nginx_vhost "[::1]:80" www6.example.net
else
	echo "note: no ::1 in the namespace (IPv6 disabled?): IPv6 cases skipped"
fi
for v in a b expired rogue soon; do
	nginx_vhost 127.0.0.1:443 $v.example.net $v
done
nginx_vhost 127.0.0.1:443 wrong.example.net othername
nginx_start "$NS" || exit 1

CA=$NGINX_PKI/ca/ca.crt
fails=0
out=

probe()
{
	out=$(ip netns exec "$NS" "$PROBE" "$@" 2>&1)
}

# expect NAME RESULT DETAIL_SUBSTRING -- probe args...
expect()
{
	_name=$1 _want=$2 _has=$3
	shift 4
	probe "$@"
	_got=${out%% *}
	case "$out" in
	*"$_has"*) _hasok=1 ;;
	*) _hasok=0 ;;
	esac
	if [ "$_got" = "$_want" ] && [ $_hasok = 1 ]; then
		echo "ok   $_name: $out"
	else
		echo "FAIL $_name: want $_want with \"$_has\", got: $out"
		fails=$((fails + 1))
	fi
}

H="--connect-to 127.0.0.1:80"
S="--connect-to 127.0.0.1:443 --ca $CA"

expect http_ok OK "HTTP 200" -- --url http://www.example.net/ $H --body www.example.net
if [ $HAVE_V6 = 1 ]; then
	expect http_ipv6_connect_to OK "HTTP 200" -- --url http://www6.example.net/ \
		--connect-to "[::1]:80" --body www6.example.net
	expect http_ipv6_source OK "HTTP 200" -- --url http://www6.example.net/ \
		--connect-to "[::1]:80" --source ::1 --body www6.example.net
fi
expect http_source OK "HTTP 200" -- --url http://www.example.net/ $H --source 127.0.0.1
expect http_source_not_local CONNECT_FAILED "bind" -- --url http://www.example.net/ $H \
	--source 192.0.2.1
expect http_head OK "HTTP 200" -- --url http://www.example.net/ $H --head
expect http_503 HTTP_STATUS_MISMATCH "status 503 not in 200-299" -- \
	--url http://www.example.net/down $H
expect http_503_expected OK "HTTP 503" -- --url http://www.example.net/down $H --status 503
expect http_body_regex OK "HTTP 200" -- --url http://www.example.net/ $H \
	--regex '^www\.example\.(net|org)'
expect http_body_mismatch HTTP_BODY_MISMATCH 'does not contain "healthy"' -- \
	--url http://www.example.net/ $H --body healthy
expect https_sni_a OK "certificate expires in" -- --url https://a.example.net/ $S \
	--body a.example.net
expect https_sni_b OK "HTTP 200" -- --url https://b.example.net/ $S --body b.example.net
expect https_sni_b_is_not_a HTTP_BODY_MISMATCH "does not contain" -- \
	--url https://b.example.net/ $S --body a.example.net
expect https_expired CERT_INVALID "expired" -- --url https://expired.example.net/ $S
expect https_wrong_name CERT_INVALID "wrong.example.net" -- --url https://wrong.example.net/ $S
expect https_untrusted_ca CERT_INVALID "certificate" -- --url https://rogue.example.net/ $S
expect https_system_store_rejects_test_ca CERT_INVALID "certificate" -- \
	--url https://a.example.net/ --connect-to 127.0.0.1:443
expect https_no_verify OK "HTTP 200" -- --url https://expired.example.net/ \
	--connect-to 127.0.0.1:443 --no-verify
expect https_cert_expiring CERT_EXPIRING "(warning at 30)" -- \
	--url https://soon.example.net/ $S --warn-days 30
expect https_cert_not_yet_expiring OK "HTTP 200" -- --url https://a.example.net/ $S \
	--warn-days 30
expect https_plain_port TLS_ERROR "" -- --url https://www.example.net/ $H

# the certificate's days left: 10 days minus the seconds since it was made
probe --url https://soon.example.net/ $S --warn-days 30
days=$(echo "$out" | cut -d' ' -f4)
if [ "$days" = 9 ] || [ "$days" = 10 ]; then
	echo "ok   cert_days_left: $days"
else
	echo "FAIL cert_days_left: want 9 or 10, got \"$days\" in: $out"
	fails=$((fails + 1))
fi

# First HTTPS probe vs later ones, with a full CA bundle (the system store plus our CA):
# the CA-store cache makes the later ones cheap and keeps the loop responsive.
BUNDLE=$NGINX_DIR/bundle.crt
cat /etc/ssl/certs/ca-certificates.crt "$CA" >"$BUNDLE" 2>/dev/null || cp "$CA" "$BUNDLE"
probe --url https://a.example.net/ --connect-to 127.0.0.1:443 --ca "$BUNDLE" --count 10
echo "$out" | sed 's/^/     timing: /'
first=$(echo "$out" | head -n 1 | cut -d' ' -f2,3)
later_worst_late=$(echo "$out" | tail -n +2 | cut -d' ' -f3 | sort -n | tail -n 1)
# the median, not the worst: one probe late because the machine was busy is not a CA reload
later_med_late=$(echo "$out" | tail -n +2 | cut -d' ' -f3 | sort -n | sed -n 5p)
later_med=$(echo "$out" | tail -n +2 | cut -d' ' -f2 | sort -n | sed -n 5p)
echo "     https first probe (ms, loop late ms): $first; later: median $later_med ms," \
	"worst loop lateness $later_worst_late ms"
if [ "$(echo "$out" | grep -c '^OK ')" != 10 ]; then
	echo "FAIL https_repeated: not every probe passed"
	fails=$((fails + 1))
elif awk "BEGIN { exit !($later_med_late < 15) }"; then
	echo "ok   https_repeated: later probes leave the loop late by $later_med_late ms (median)"
else
	echo "FAIL https_repeated: later probes delay the loop by $later_med_late ms (median):" \
		"is the CA store reloaded on every probe?"
	fails=$((fails + 1))
fi

nginx_stop
expect http_refused CONNECT_REFUSED "Connection refused" -- --url http://www.example.net/ $H
expect https_refused CONNECT_REFUSED "Connection refused" -- --url https://a.example.net/ $S

if [ $fails -ne 0 ]; then
	echo "$fails failure(s); nginx error log:"
	cat "$NGINX_DIR/logs/error.log" 2>/dev/null
	exit 1
fi
exit 0
