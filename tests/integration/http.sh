#!/bin/sh
# SPDX-License-Identifier: ISC
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
. "$top_srcdir/tests/lib/tally.sh"
. "$top_srcdir/tests/lib/probe.sh"

nginx_require
probe_netns "aa-http-$$" nginx_cleanup

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
H="--connect-to 127.0.0.1:80"
S="--connect-to 127.0.0.1:443 --ca $CA"

probe_expect OK "HTTP 200" --url http://www.example.net/ $H --body www.example.net
if [ $HAVE_V6 = 1 ]; then
	probe_expect OK "HTTP 200" --url http://www6.example.net/ \
		--connect-to "[::1]:80" --body www6.example.net
	probe_expect OK "HTTP 200" --url http://www6.example.net/ \
		--connect-to "[::1]:80" --source ::1 --body www6.example.net
fi
probe_expect OK "HTTP 200" --url http://www.example.net/ $H --source 127.0.0.1
probe_expect CONNECT_FAILED "bind" --url http://www.example.net/ $H \
	--source 192.0.2.1
probe_expect OK "HTTP 200" --url http://www.example.net/ $H --head
probe_expect HTTP_STATUS_MISMATCH "status 503 not in 200-299" \
	--url http://www.example.net/down $H
probe_expect OK "HTTP 503" --url http://www.example.net/down $H --status 503
probe_expect OK "HTTP 200" --url http://www.example.net/ $H \
	--regex '^www\.example\.(net|org)'
probe_expect HTTP_BODY_MISMATCH 'does not contain "healthy"' \
	--url http://www.example.net/ $H --body healthy
probe_expect OK "certificate expires in" --url https://a.example.net/ $S \
	--body a.example.net
probe_expect OK "HTTP 200" --url https://b.example.net/ $S --body b.example.net
probe_expect HTTP_BODY_MISMATCH "does not contain" \
	--url https://b.example.net/ $S --body a.example.net
probe_expect CERT_INVALID "expired" --url https://expired.example.net/ $S
probe_expect CERT_INVALID "wrong.example.net" --url https://wrong.example.net/ $S
probe_expect CERT_INVALID "certificate" --url https://rogue.example.net/ $S
probe_expect CERT_INVALID "certificate" \
	--url https://a.example.net/ --connect-to 127.0.0.1:443
probe_expect OK "HTTP 200" --url https://expired.example.net/ \
	--connect-to 127.0.0.1:443 --no-verify
probe_expect CERT_EXPIRING "(warning at 30)" \
	--url https://soon.example.net/ $S --warn-days 30
probe_expect OK "HTTP 200" --url https://a.example.net/ $S \
	--warn-days 30
probe_expect TLS_ERROR "" --url https://www.example.net/ $H

# the certificate's days left: 10 days minus the seconds since it was made
probe --url https://soon.example.net/ $S --warn-days 30
days=$(echo "$out" | cut -d' ' -f4)
if [ "$days" = 9 ] || [ "$days" = 10 ]; then
	pass "cert_days_left: $days"
else
	fail "cert_days_left: want 9 or 10, got \"$days\" in: $out"
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
	fail "https_repeated: not every probe passed"
elif awk "BEGIN { exit !($later_med_late < 15) }"; then
	pass "https_repeated: later probes leave the loop late by $later_med_late ms (median)"
else
	fail "https_repeated: later probes delay the loop by $later_med_late ms (median):" \
		"is the CA store reloaded on every probe?"
fi

nginx_stop
probe_expect CONNECT_REFUSED "Connection refused" --url http://www.example.net/ $H
probe_expect CONNECT_REFUSED "Connection refused" --url https://a.example.net/ $S

tally_on_die() {
	echo "--- nginx error log"
	cat "$NGINX_DIR/logs/error.log" 2>/dev/null
}
tally_end "the http check against nginx"
