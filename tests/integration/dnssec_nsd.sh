#!/bin/sh
# SPDX-License-Identifier: ISC
# dnssec_nsd.sh - the dns check's DNSSEC judgement against real nsd serving a
# zone signed by ldns-signzone (ldnsutils) with chosen inception and expiration
# times: valid (ECDSA P-256, RSA/SHA-256, Ed25519), expiring within
# rrsig_warn_days, within rrsig_fail_days, expired, inception in the future,
# DNSKEY missing, a signature made by another key, a tampered RRset, an
# unsigned zone; over UDP, TCP and both; and an nsd that answers DO queries
# truncated over UDP (ipv4-edns-size 512), which the check retries over TCP.
# Runs inside a network namespace this test creates.
set -u

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$srcdir/build}
PROBE="$builddir/tests/integration/dns_probe"
AGENT="$builddir/anycast-agent"
. "$srcdir/tests/lib/nsd.sh"
. "$srcdir/tests/lib/tally.sh"
. "$srcdir/tests/lib/probe.sh"

nsd_require
if ! command -v ldns-signzone >/dev/null 2>&1 || ! command -v ldns-keygen >/dev/null 2>&1; then
	echo "SKIP: ldns-signzone/ldns-keygen missing: apt-get install ldnsutils"
	exit 77
fi
cleanup() {
	nsd_cleanup
	rm -rf "${W:-}"
}
probe_netns "aa-dnssec-$$" cleanup
W=$(mktemp -d "${TMPDIR:-/tmp}/aa-dnssec.$$.XXXXXX")
NSD_BASE=$W/nsd

# a TXT RRset of about 320 bytes: its answer fits 512 bytes, not with an RSA RRSIG beside it
big='"0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"'
NSD_RECORDS="big	IN TXT $big $big $big
big	IN TXT x"


mkdir -p "$W/keys"
# key ALG [-k]: a new key pair in $W/keys; prints its base name
key() {
	(cd "$W/keys" && ldns-keygen -a "$@" example.test) || exit 1
}
ksk=$(key ECDSAP256SHA256 -k) zsk=$(key ECDSAP256SHA256)
other=$(key ECDSAP256SHA256)
rsa_ksk=$(key RSASHA256 -b 2048 -k) rsa_zsk=$(key RSASHA256 -b 2048)
ed_ksk=$(key ED25519 -k) ed_zsk=$(key ED25519)

now=$(date +%s)
day=86400
serial=1000
# signed INCEPTION EXPIRATION KEY...: the fixture's zone with the next serial, signed with
# those keys and RRSIG times (epoch seconds), in $W/signed.$serial
signed() {
	_inc=$1 _exp=$2
	shift 2
	serial=$((serial + 1))
	nsd_zone_text "$serial" >"$W/zone.$serial"
	(cd "$W/keys" && ldns-signzone -o example.test. -i "$_inc" -e "$_exp" \
		-f "$W/signed.$serial" "$W/zone.$serial" "$@") || exit 1
}
# serve INCEPTION EXPIRATION KEY...: sign and serve on nsd "local"
serve() {
	signed "$@"
	nsd_serve local "$serial" "$W/signed.$serial" || exit 1
}

nsd_start local 127.0.0.1 5353 "$serial" "$NS" || exit 1
L="--server 127.0.0.1 --port 5353 --qname example.test."
V="--dnssec --validate"

echo "# valid signatures, three algorithms"
exp=$((now + 30 * day))
serve $((now - 3600)) "$exp" "$ksk" "$zsk"
probe_expect OK "udp: NOERROR flags=aa an=2 serial=$serial" $L $V --transport udp
probe_expect OK "verified [rrsig_expires=$exp]" $L $V --transport udp
probe_expect OK "tcp: NOERROR flags=aa an=2" $L $V --transport tcp
probe_expect OK "RRSIG SOA example.test. key" $L $V --transport both --rrsig-warn 7 --rrsig-fail 2
probe_expect OK "RRSIG A www.example.test." --server 127.0.0.1 --port 5353 --qname www.example.test \
	--qtype A --answer 192.0.2.80 $V --transport both
probe_expect OK "[rrsig_expires=$exp]" $L --dnssec --transport udp
serve $((now - 3600)) "$exp" "$rsa_ksk" "$rsa_zsk"
probe_expect OK "verified [rrsig_expires=$exp]" $L $V --transport both
serve $((now - 3600)) "$exp" "$ed_ksk" "$ed_zsk"
probe_expect OK "verified [rrsig_expires=$exp]" $L $V --transport both

echo "# validity window (rrsig_warn_days 7, rrsig_fail_days 2)"
T="--rrsig-warn 7 --rrsig-fail 2"
exp=$((now + 5 * day))
serve $((now - 3600)) "$exp" "$ksk" "$zsk"
probe_expect DNSSEC_EXPIRING "(rrsig_warn_days 7)" $L $V $T --transport both
probe_expect DNSSEC_EXPIRING "[rrsig_expires=$exp]" $L $V $T --transport tcp
probe_expect OK "[rrsig_expires=$exp]" $L $V --transport udp
exp=$((now + day))
serve $((now - 3600)) "$exp" "$ksk" "$zsk"
probe_expect DNSSEC_EXPIRED "in 1.0 days (rrsig_fail_days 2)" $L $V $T --transport udp
probe_expect DNSSEC_EXPIRED "[rrsig_expires=$exp]" $L --dnssec $T --transport tcp
exp=$((now - day))
serve $((now - 10 * day)) "$exp" "$ksk" "$zsk"
probe_expect DNSSEC_EXPIRED "SOA example.test.: RRSIG key" $L $V --transport both
probe_expect DNSSEC_EXPIRED "(1.0 days ago)" $L --dnssec --transport udp
serve $((now + 2 * day)) $((now + 30 * day)) "$ksk" "$zsk"
probe_expect DNSSEC_NOT_YET_VALID "is in the future (2.0 days; clock skew" $L $V --transport udp
probe_expect DNSSEC_NOT_YET_VALID "in the future" $L --dnssec --transport tcp

echo "# broken zones"
exp=$((now + 30 * day))
signed $((now - 3600)) "$exp" "$ksk" "$zsk"
# nsd keeps answering with RRSIGs while an RRSIG over DNSKEY stays at the apex
awk '$4 != "DNSKEY"' "$W/signed.$serial" >"$W/nokey"
nsd_serve local "$serial" "$W/nokey" || exit 1
probe_expect DNSSEC_MISSING "no DNSKEY RRset at example.test." $L $V --transport both
probe_expect DNSSEC_MISSING "no DNSKEY RRset" $L --dnssec --transport udp
# the SOA signed by a key the zone does not publish: one zone text signed twice
serial=$((serial + 1))
nsd_zone_text "$serial" >"$W/zone.other"
(cd "$W/keys" && ldns-signzone -o example.test. -i $((now - 3600)) -e "$exp" -f "$W/a" \
	"$W/zone.other" "$ksk" "$zsk" && ldns-signzone -o example.test. -i $((now - 3600)) \
	-e "$exp" -f "$W/b" "$W/zone.other" "$other") || exit 1
tag=$(awk '$4 == "RRSIG" && $5 == "SOA" { print $11 }' "$W/b")
{
	awk '!($4 == "RRSIG" && $5 == "SOA")' "$W/a"
	awk '$4 == "RRSIG" && $5 == "SOA"' "$W/b"
} >"$W/otherkey"
nsd_serve local "$serial" "$W/otherkey" || exit 1
probe_expect DNSSEC_BOGUS "RRSIG key $tag algorithm 13: no such key in the DNSKEY RRset of example.test. (signed by another key)" \
	$L $V --transport both
probe_expect OK "[rrsig_expires=$exp]" $L --dnssec --transport udp
# the SOA's refresh changed after signing
signed $((now - 3600)) "$exp" "$ksk" "$zsk"
awk '$4 == "SOA" { $8 = 7200 } { print }' "$W/signed.$serial" >"$W/tampered"
nsd_serve local "$serial" "$W/tampered" || exit 1
probe_expect DNSSEC_BOGUS "does not verify (RRset or signature altered)" $L $V --transport udp
probe_expect DNSSEC_BOGUS "does not verify" $L $V --transport tcp
probe_expect OK "[rrsig_expires=$exp]" $L --dnssec --transport both
# no signatures at all
serial=$((serial + 1))
nsd_zone_text "$serial" >"$W/unsigned"
nsd_serve local "$serial" "$W/unsigned" || exit 1
probe_expect DNSSEC_MISSING "SOA example.test.: no RRSIG in the answer" $L --dnssec --transport both
probe_expect OK "udp: NOERROR flags=aa an=1 serial=$serial" $L --transport udp

echo "# truncated over UDP (nsd ipv4-edns-size 512): retried over TCP"
NSD_SERVER_OPTS="	ipv4-edns-size: 512"
nsd_start small 127.0.0.2 5353 "$serial" "$NS" || exit 1
signed $((now - 3600)) "$exp" "$rsa_ksk" "$rsa_zsk"
nsd_serve small "$serial" "$W/signed.$serial" || exit 1
S="--server 127.0.0.2 --port 5353"
probe_expect OK "udp: NOERROR flags=aa an=2 serial=$serial" $S --qname example.test. $V --transport udp
probe_expect OK "DNSKEY over TCP (UDP reply truncated)" $S --qname example.test. $V --transport udp
probe_expect OK "udp TC, tcp: NOERROR flags=aa an=3" $S --qname big.example.test --qtype TXT $V \
	--transport udp
probe_expect OK "udp TC, tcp: NOERROR flags=aa an=3 " $S --qname big.example.test --qtype TXT $V \
	--transport both
probe_expect OK "[rrsig_expires=$exp]" $S --qname big.example.test --qtype TXT --dnssec --transport udp
# without DO the answer fits: the TXT RRset alone is under 512 bytes
probe_expect OK "udp: NOERROR flags=aa an=2 " $S --qname big.example.test --qtype TXT --transport udp
nsd_stop small
probe_expect CONNECT_REFUSED "udp failed: port unreachable" $S --qname example.test. $V --transport udp

echo "# --probe shows the expiry"
cat >"$W/agent.conf" <<EOF
bird: { socket = "$W/bird.ctl"; state_dir = "$W/state"; };
control: { socket = "$W/agent.ctl"; };
state_file = "$W/state/operator";
checks: {
	zone: { type = "dns"; server = "127.0.0.1:5353"; qname = "example.test."; transport = "both";
	        expect_dnssec = true; dnssec_validate = true; rrsig_warn_days = 7; timeout = 1.0; };
};
announcements: { dns: { protocols = [ "anycast_dns4" ]; requires = [ "zone" ]; }; };
EOF
exp=$((now + 3 * day))
serve $((now - 3600)) "$exp" "$ksk" "$zsk"
out=$(ip netns exec "$NS" "$AGENT" -f "$W/agent.conf" --probe 2>&1)
when=$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)
case "$out" in
*"zone"*"DNSSEC_EXPIRING"*"SOA example.test.: RRSIG key"*"expires $when, in 3.0 days (rrsig_warn_days 7)"*)
	pass "--probe: $out" ;;
*)
	fail "--probe: want DNSSEC_EXPIRING, expires $when: $out" ;;
esac

tally_end "the dns check's DNSSEC judgement against nsd"
