#!/bin/sh
# SPDX-License-Identifier: ISC
# dns_nsd.sh - the dns check against real nsd: UDP/TCP queries with
# expected answers, RCODE failures, SOA serial freshness against a second
# nsd (within lag, beyond lag, RFC 1982 wraparound, reference down) and a
# stopped server. Everything runs inside a network namespace this test
# creates, so ports cannot collide with anything else on the machine.
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$srcdir/build}
PROBE="$builddir/tests/integration/dns_probe"
. "$srcdir/tests/lib/nsd.sh"
. "$srcdir/tests/lib/tally.sh"
. "$srcdir/tests/lib/probe.sh"

nsd_require
probe_netns "aa-dns-$$" nsd_cleanup
NSD_BASE=$(mktemp -d "${TMPDIR:-/tmp}/aa-dns-nsd.$$.XXXXXX")


# local = the secondary under test, primary = the soa_reference
nsd_start local 127.0.0.1 5353 100 "$NS" || exit 1
nsd_start primary 127.0.0.2 5353 110 "$NS" || exit 1
nsd_start v6 ::1 5354 7 "$NS" || exit 1
L="--server 127.0.0.1 --port 5353"
Z="--qname example.test."

echo "# queries"
probe_expect OK "udp: NOERROR flags=aa an=1 serial=100" $L $Z --transport udp
probe_expect OK "tcp: NOERROR flags=aa an=1 serial=100" $L $Z --transport tcp
probe_expect OK "udp: NOERROR flags=aa an=1 serial=100" $L $Z --transport both
probe_expect OK "tcp: NOERROR" $L $Z --transport both --qtype SOA \
	--answer "ns1.example.test. hostmaster.example.test. 100 3600 900 604800 300"
probe_expect OK "an=1" $L --qname www.example.test --qtype A --transport both --answer 192.0.2.80
probe_expect OK "an=1" $L --qname www.example.test --qtype AAAA --answer 2001:DB8::80
probe_expect OK "an=1" $L --qname txt.example.test --qtype TXT --transport tcp --answer helloworld
probe_expect OK "an=1" $L $Z --qtype TXT --answer "v=spf1 -all"
probe_expect OK "an=1" $L $Z --qtype MX --answer "10 mx.example.test"
probe_expect OK "an=1" $L $Z --qtype NS --answer ns1.example.test.
probe_expect OK "an=1" $L --qname alias.example.test --qtype CNAME --answer www.example.test.
probe_expect DNS_ANSWER_MISMATCH 'expected "192.0.2.81" not in answer (got: 192.0.2.80)' \
	$L --qname www.example.test --qtype A --answer 192.0.2.81
probe_expect DNS_RCODE "udp failed: rcode NXDOMAIN, expected NOERROR" $L --qname nope.example.test --qtype A
probe_expect DNS_RCODE "tcp failed: rcode NXDOMAIN" $L --qname nope.example.test --qtype A --transport tcp
probe_expect OK "NXDOMAIN flags=aa" $L --qname nope.example.test --qtype A --rcode NXDOMAIN
probe_expect DNS_RCODE "rcode REFUSED, expected NOERROR" $L --qname example.org --transport both
probe_expect DNS_NOT_AUTHORITATIVE "AA bit clear" $L --qname example.org --rcode REFUSED
probe_expect OK "udp: NOERROR flags=aa an=1 serial=7" --server ::1 --port 5354 $Z --transport both

echo "# serial freshness (primary 127.0.0.2 serves 110)"
R="--ref 127.0.0.2 --ref-port 5353"
probe_expect OK "serial 100, reference 110, lag 10" $L $Z $R --max-lag 10 --transport both
probe_expect DNS_SERIAL_LAG "serial 100 trails reference 110 by 10 (max_serial_lag 9)" $L $Z $R --max-lag 9
probe_expect DNS_SERIAL_LAG "by 10" $L --qname www.example.test --qtype A $R --max-lag 0
nsd_set_serial local 110 || exit 1
probe_expect OK "lag 0" $L $Z $R --max-lag 0 --transport tcp
nsd_set_serial local 4294967290 || exit 1
nsd_set_serial primary 5 || exit 1
probe_expect OK "serial 4294967290, reference 5, lag 11" $L $Z $R --max-lag 11
probe_expect DNS_SERIAL_LAG "trails reference 5 by 11" $L $Z $R --max-lag 10
nsd_set_serial local 6 || exit 1
probe_expect OK "serial 6 ahead of reference 5" $L $Z $R --max-lag 0
nsd_stop primary
probe_expect OK "reference unreachable (CONNECT_REFUSED" $L $Z $R --max-lag 0

echo "# timing: 100 runs udp+tcp SOA against nsd"
ip netns exec "$NS" "$PROBE" $L $Z --transport both --count 100 | sort -n -k2 | awk '
	{ d[NR] = $2; if ($1 != "OK") bad++ }
	END { printf("# run duration ms: median %.2f, p95 %.2f, max %.2f; failed %d\n",
		d[int(NR / 2)], d[int(NR * 0.95)], d[NR], bad) }'

echo "# server stopped: TCP gets RST, UDP gets ICMP port unreachable on loopback"
nsd_stop local
probe_expect CONNECT_REFUSED "tcp failed: connection refused" $L $Z --transport tcp
probe_expect CONNECT_REFUSED "udp failed: port unreachable (ICMP)" $L $Z --transport udp
probe_expect CONNECT_REFUSED "udp failed: port unreachable (ICMP), nothing listens" $L $Z --transport both

tally_end "the dns check against nsd"
