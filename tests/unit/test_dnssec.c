/* SPDX-License-Identifier: ISC */
/*
 * test_dnssec.c - the pure DNSSEC judge (dnssec.c) at fixed times: real replies
 * of nsd serving zones signed by ldns-signzone (tests/data/dnssec, see its
 * README) verified with three algorithms, tampered and mismatched; replies
 * built here for the validity window (warn, fail, expired, inception in the
 * future, best of several signatures, the DNSKEY RRset expiring first, RFC
 * 4034 serial time arithmetic across 2106) and for broken bytes.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dnssec.h"
#include "dnsbuild.h"

/* the fixtures: RRSIG inception 2026-12-05T13:50:20Z, expiration 2027-01-02T13:50:20Z */
#define FIX_INC 1796478620
#define FIX_EXP 1798897820
#define DAY     86400

struct msg {
	uint8_t b[4096];
	size_t n;
};

static void load(const char *name, struct msg *m)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", DNSSEC_TEST_DATA, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	m->n = fread(m->b, 1, sizeof(m->b), f);
	fclose(f);
	assert_true(m->n > 12);
}

static enum check_result_code judge(const struct msg *a, const struct msg *k, const char *qname,
                                    uint16_t qtype, int64_t now, int warn, int fail, bool validate,
                                    struct dnssec_cache *cache, struct dnssec_info *info,
                                    char *detail, size_t dlen)
{
	char signer[DNSSEC_NAME_MAX];
	struct dnssec_expect e = {.qname = qname,
	                          .qtype = qtype,
	                          .now = now,
	                          .warn_days = warn,
	                          .fail_days = fail,
	                          .validate = validate};
	enum check_result_code rc;

	if (info != NULL)
		memset(info, 0, sizeof(*info));
	rc = dnssec_signer(a->b, a->n, qname, qtype, signer, sizeof(signer), detail, dlen);
	if (rc != RES_OK)
		return rc;
	return dnssec_eval(a->b, a->n, k->b, k->n, signer, &e, cache, info, detail, dlen);
}

static void test_real_signatures(void **state)
{
	static const struct {
		const char *answer, *keys, *qname;
		uint16_t qtype;
		unsigned tag;
		const char *rrset;
	} t[] = {
	    {"ecdsa-soa.bin", "ecdsa-dnskey.bin", "example.test.", 6, 13030, "SOA example.test."},
	    {"rsa-soa.bin", "rsa-dnskey.bin", "example.test", 6, 996, "SOA example.test."},
	    {"ed-soa.bin", "ed-dnskey.bin", "EXAMPLE.test.", 6, 20226, "SOA example.test."},
	    /* two A records: sorted into canonical order before verifying */
	    {"ecdsa-www.bin", "ecdsa-dnskey.bin", "www.example.test.", 1, 13030,
	     "A www.example.test."},
	    /* synthesised from *.wild.example.test.: the RRSIG's labels field is 3 */
	    {"ed-wild.bin", "ed-dnskey.bin", "x.wild.example.test.", 1, 20226,
	     "A x.wild.example.test."},
	};
	char detail[256], want[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct msg a, k;
		struct dnssec_info info;
		struct dnssec_cache cache = {0};
		enum check_result_code rc;

		load(t[i].answer, &a);
		load(t[i].keys, &k);
		rc = judge(&a, &k, t[i].qname, t[i].qtype, FIX_INC + DAY, 7, 2, true, &cache, &info,
		           detail, sizeof(detail));
		if (rc != RES_OK)
			fail_msg("%s: %s: %s", t[i].answer, result_name(rc), detail);
		assert_true(info.has_expiry);
		assert_int_equal(info.expires, FIX_EXP);
		assert_true(info.verified);
		snprintf(want, sizeof(want),
		         "RRSIG %s key %u expires 2027-01-02T13:50:20Z (in 27.0 days), verified",
		         t[i].rrset, t[i].tag);
		assert_string_equal(detail, want);
		/* the answer's RRset and the DNSKEY RRset: two verifications, then the cache */
		assert_int_equal(cache.verifications, 2);
		rc = judge(&a, &k, t[i].qname, t[i].qtype, FIX_INC + DAY, 7, 2, true, &cache, &info,
		           detail, sizeof(detail));
		assert_int_equal(rc, RES_OK);
		assert_int_equal(cache.verifications, 2);
		assert_int_equal(cache.hits, 2);
		dnssec_cache_free(&cache);
	}
}

static void test_real_window(void **state)
{
	struct msg a, k;
	struct dnssec_info info;
	char detail[256];

	load("ecdsa-soa.bin", &a);
	load("ecdsa-dnskey.bin", &k);
	/* 5 days left: warns at 7, fails at 7 when that is the fail limit */
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_EXP - 5 * DAY, 7, 2, true, NULL,
	                       &info, detail, sizeof(detail)),
	                 RES_DNSSEC_EXPIRING);
	assert_string_equal(detail, "SOA example.test.: RRSIG key 13030 expires "
	                            "2027-01-02T13:50:20Z, in 5.0 days (rrsig_warn_days 7)");
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_EXP - 5 * DAY, 0, 7, true, NULL,
	                       &info, detail, sizeof(detail)),
	                 RES_DNSSEC_EXPIRED);
	assert_string_equal(detail, "SOA example.test.: RRSIG key 13030 expires "
	                            "2027-01-02T13:50:20Z, in 5.0 days (rrsig_fail_days 7)");
	assert_int_equal(info.expires, FIX_EXP);
	/* valid up to and including the expiration second (RFC 4034 3.1.5) */
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_EXP, 0, 0, true, NULL, &info, detail,
	                       sizeof(detail)),
	                 RES_OK);
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_EXP + 1, 0, 0, true, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_DNSSEC_EXPIRED);
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_EXP + DAY + DAY / 2, 0, 0, true,
	                       NULL, &info, detail, sizeof(detail)),
	                 RES_DNSSEC_EXPIRED);
	assert_string_equal(detail, "SOA example.test.: RRSIG key 13030 expired "
	                            "2027-01-02T13:50:20Z (1.5 days ago)");
	assert_true(info.has_expiry);
	/* from the inception second on, not before */
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_INC, 0, 0, true, NULL, &info, detail,
	                       sizeof(detail)),
	                 RES_OK);
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_INC - 2 * DAY, 0, 0, true, NULL,
	                       &info, detail, sizeof(detail)),
	                 RES_DNSSEC_NOT_YET_VALID);
	assert_string_equal(
	    detail, "SOA example.test.: RRSIG key 13030 inception 2026-12-05T13:50:20Z is in "
	            "the future (2.0 days; clock skew or a broken signer)");
	assert_false(info.has_expiry);
}

static void test_real_bogus(void **state)
{
	struct msg a, k, rk;
	struct dnssec_info info;
	char detail[256];
	size_t i;

	load("ecdsa-soa.bin", &a);
	load("ecdsa-dnskey.bin", &k);
	load("rsa-dnskey.bin", &rk);
	/* signed by a key the zone does not publish */
	assert_int_equal(judge(&a, &rk, "example.test.", 6, FIX_INC + DAY, 0, 0, true, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_DNSSEC_BOGUS);
	assert_string_equal(detail,
	                    "SOA example.test.: RRSIG key 13030 algorithm 13: no such key in the "
	                    "DNSKEY RRset of example.test. (signed by another key)");
	/* without validation only the window counts */
	assert_int_equal(judge(&a, &rk, "example.test.", 6, FIX_INC + DAY, 0, 0, false, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_OK);
	assert_false(info.verified);
	/* the SOA serial (100) changed after signing */
	for (i = 12; i + 4 < a.n; i++)
		if (memcmp(a.b + i, "\x00\x00\x00\x64\x00\x00\x0e\x10", 8) == 0)
			break;
	assert_true(i + 4 < a.n);
	a.b[i + 3] = 0x65;
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_INC + DAY, 0, 0, true, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_DNSSEC_BOGUS);
	assert_string_equal(detail, "SOA example.test.: RRSIG key 13030 algorithm 13 does not "
	                            "verify (RRset or signature altered)");
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_INC + DAY, 0, 0, false, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_OK);
	/* a changed letter case is the same name (canonical form) */
	load("ecdsa-soa.bin", &a);
	for (i = 12; i + 10 < a.n; i++)
		if (memcmp(a.b + i, "\x03ns1", 4) == 0)
			break;
	assert_true(i + 10 < a.n);
	a.b[i + 1] = 'N';
	assert_int_equal(judge(&a, &k, "example.test.", 6, FIX_INC + DAY, 0, 0, true, NULL, &info,
	                       detail, sizeof(detail)),
	                 RES_OK);
}

/* --- replies built here ---------------------------------------------------------------- */

#define ZONE "example.test."

struct sig {
	uint16_t covered;
	uint32_t exp, inc;
	uint16_t tag;
};

static void rrsig(struct dnsb *d, const char *owner, const struct sig *s)
{
	db_rr(d, owner, DNS_TYPE_RRSIG, (unsigned)(18 + db_name_len(ZONE) + 64));
	db_u16(d, s->covered);
	db_u8(d, 13);
	db_u8(d, 2);
	db_u32(d, 300);
	db_u32(d, s->exp);
	db_u32(d, s->inc);
	db_u16(d, s->tag);
	db_name(d, ZONE);
	for (int i = 0; i < 64; i++)
		db_u8(d, 0xaa);
}

/* An SOA answer with RRSIGs sigs[0..n). */
static void soa_answer(struct msg *m, const struct sig *sigs, unsigned n)
{
	struct dnsb d;

	db_header(&d, 7, DB_QR | DB_AA, 1, 1 + n, 0, 0);
	db_question(&d, ZONE, 6, 1);
	db_soa(&d, ZONE, 5);
	for (unsigned i = 0; i < n; i++)
		rrsig(&d, ZONE, &sigs[i]);
	memcpy(m->b, d.b, d.n);
	m->n = d.n;
}

/* A DNSKEY answer: one key (unless nokey) and RRSIGs sigs[0..n). */
static void key_answer(struct msg *m, bool nokey, const struct sig *sigs, unsigned n)
{
	struct dnsb d;

	db_header(&d, 8, DB_QR | DB_AA, 1, (nokey ? 0 : 1) + n, 0, 0);
	db_question(&d, ZONE, DNS_TYPE_DNSKEY, 1);
	if (!nokey) {
		db_rr(&d, ZONE, DNS_TYPE_DNSKEY, 4 + 64);
		db_u16(&d, 257);
		db_u8(&d, 3);
		db_u8(&d, 13);
		for (int i = 0; i < 64; i++)
			db_u8(&d, (unsigned)i);
	}
	for (unsigned i = 0; i < n; i++)
		rrsig(&d, ZONE, &sigs[i]);
	memcpy(m->b, d.b, d.n);
	m->n = d.n;
}

#define NOW 2000000000

static void test_window_table(void **state)
{
	const struct sig ok = {6, NOW + 30 * DAY, NOW - DAY, 1111};
	const struct sig kok = {DNS_TYPE_DNSKEY, NOW + 30 * DAY, NOW - DAY, 2222};
	static const struct {
		const char *what;
		struct sig s[3];
		unsigned ns;
		struct sig k[2];
		unsigned nk;
		int warn, fail;
		enum check_result_code want;
		int64_t expires; /* 0: none */
		const char *detail;
	} t[] = {
	    {"valid",
	     {ok},
	     1,
	     {kok},
	     1,
	     7,
	     2,
	     RES_OK,
	     NOW + 30 * DAY,
	     "RRSIG SOA example.test. key 1111 expires 2033-06-17T03:33:20Z (in 30.0 days)"},
	    {"warn",
	     {{6, NOW + 6 * DAY, NOW - DAY, 1111}},
	     1,
	     {kok},
	     1,
	     7,
	     2,
	     RES_DNSSEC_EXPIRING,
	     NOW + 6 * DAY,
	     "SOA example.test.: RRSIG key 1111 expires 2033-05-24T03:33:20Z, in 6.0 days "
	     "(rrsig_warn_days 7)"},
	    {"warn off",
	     {{6, NOW + 6 * DAY, NOW - DAY, 1111}},
	     1,
	     {kok},
	     1,
	     0,
	     2,
	     RES_OK,
	     NOW + 6 * DAY,
	     NULL},
	    {"fail",
	     {{6, NOW + DAY, NOW - DAY, 1111}},
	     1,
	     {kok},
	     1,
	     7,
	     2,
	     RES_DNSSEC_EXPIRED,
	     NOW + DAY,
	     "SOA example.test.: RRSIG key 1111 expires 2033-05-19T03:33:20Z, in 1.0 days "
	     "(rrsig_fail_days 2)"},
	    {"expired",
	     {{6, NOW - 60, NOW - DAY, 1111}},
	     1,
	     {kok},
	     1,
	     0,
	     0,
	     RES_DNSSEC_EXPIRED,
	     NOW - 60,
	     "SOA example.test.: RRSIG key 1111 expired 2033-05-18T03:32:20Z (0.0 days ago)"},
	    {"future",
	     {{6, NOW + 30 * DAY, NOW + 3600, 1111}},
	     1,
	     {kok},
	     1,
	     0,
	     0,
	     RES_DNSSEC_NOT_YET_VALID,
	     NOW + 30 * DAY,
	     "SOA example.test.: RRSIG key 1111 inception 2033-05-18T04:33:20Z is in the future "
	     "(0.0 days; clock skew or a broken signer)"},
	    /* the best signature counts: the one that lasts longest of those begun */
	    {"best of two",
	     {{6, NOW + DAY, NOW - DAY, 1111}, {6, NOW + 20 * DAY, NOW - DAY, 3333}},
	     2,
	     {kok},
	     1,
	     7,
	     2,
	     RES_OK,
	     NOW + 20 * DAY,
	     NULL},
	    {"future one ignored",
	     {{6, NOW + 40 * DAY, NOW + DAY, 1111}, {6, NOW + 20 * DAY, NOW - DAY, 3333}},
	     2,
	     {kok},
	     1,
	     7,
	     2,
	     RES_OK,
	     NOW + 20 * DAY,
	     "RRSIG SOA example.test. key 3333 expires 2033-06-07T03:33:20Z (in 20.0 days)"},
	    /* the DNSKEY RRset's signature runs out first: it is the check's expiry */
	    {"dnskey first",
	     {ok},
	     1,
	     {{DNS_TYPE_DNSKEY, NOW + 3 * DAY, NOW - DAY, 2222}},
	     1,
	     7,
	     2,
	     RES_DNSSEC_EXPIRING,
	     NOW + 3 * DAY,
	     "DNSKEY example.test.: RRSIG key 2222 expires 2033-05-21T03:33:20Z, in 3.0 days "
	     "(rrsig_warn_days 7)"},
	    {"dnskey fails, answer warns",
	     {{6, NOW + 5 * DAY, NOW - DAY, 1111}},
	     1,
	     {{DNS_TYPE_DNSKEY, NOW - 1, NOW - DAY, 2222}},
	     1,
	     7,
	     2,
	     RES_DNSSEC_EXPIRED,
	     NOW - 1,
	     "DNSKEY example.test.: RRSIG key 2222 expired 2033-05-18T03:33:19Z (0.0 days ago)"},
	    {"answer fails first",
	     {{6, NOW - 1, NOW - DAY, 1111}},
	     1,
	     {{DNS_TYPE_DNSKEY, NOW + DAY, NOW - DAY, 2222}},
	     1,
	     7,
	     2,
	     RES_DNSSEC_EXPIRED,
	     NOW - 1,
	     "SOA example.test.: RRSIG key 1111 expired 2033-05-18T03:33:19Z (0.0 days ago)"},
	    {"no dnskey sig",
	     {ok},
	     1,
	     {{0}},
	     0,
	     0,
	     0,
	     RES_DNSSEC_MISSING,
	     0,
	     "DNSKEY example.test.: no RRSIG made by example.test."},
	    /* an RRSIG covering another type does not cover the SOA */
	    {"wrong cover",
	     {{2, NOW + DAY, NOW - DAY, 1111}},
	     1,
	     {kok},
	     1,
	     0,
	     0,
	     RES_DNSSEC_MISSING,
	     0,
	     "SOA example.test.: no RRSIG in the answer (zone unsigned, or DO ignored)"},
	};
	char detail[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct msg a, k;
		struct dnssec_info info;
		enum check_result_code rc;

		soa_answer(&a, t[i].s, t[i].ns);
		key_answer(&k, false, t[i].k, t[i].nk);
		rc = judge(&a, &k, ZONE, 6, NOW, t[i].warn, t[i].fail, false, NULL, &info, detail,
		           sizeof(detail));
		if (rc != t[i].want)
			fail_msg("%s: got %s (%s), want %s", t[i].what, result_name(rc), detail,
			         result_name(t[i].want));
		if (t[i].detail != NULL && strcmp(detail, t[i].detail) != 0)
			fail_msg("%s: detail \"%s\", want \"%s\"", t[i].what, detail, t[i].detail);
		/* "future": the DNSKEY RRset's signature is usable, so its expiry is known */
		if ((info.has_expiry ? info.expires : 0) != t[i].expires)
			fail_msg("%s: expiry %lld, want %lld", t[i].what,
			         (long long)(info.has_expiry ? info.expires : 0),
			         (long long)t[i].expires);
	}
}

static void test_missing_and_broken(void **state)
{
	const struct sig ok = {6, NOW + 30 * DAY, NOW - DAY, 1111};
	const struct sig kok = {DNS_TYPE_DNSKEY, NOW + 30 * DAY, NOW - DAY, 2222};
	struct msg a, k;
	struct dnsb d;
	char detail[256], signer[DNSSEC_NAME_MAX];

	/* no DNSKEY at the apex */
	soa_answer(&a, &ok, 1);
	key_answer(&k, true, NULL, 0);
	assert_int_equal(
	    judge(&a, &k, ZONE, 6, NOW, 0, 0, false, NULL, NULL, detail, sizeof(detail)),
	    RES_DNSSEC_MISSING);
	assert_string_equal(detail, "no DNSKEY RRset at example.test.");
	/* with validation, the made-up signatures match no published key */
	key_answer(&k, false, &kok, 1);
	assert_int_equal(
	    judge(&a, &k, ZONE, 6, NOW, 0, 0, true, NULL, NULL, detail, sizeof(detail)),
	    RES_DNSSEC_BOGUS);
	/* no RRset: NXDOMAIN, NODATA */
	db_header(&d, 7, DB_QR | DB_AA | 3, 1, 0, 1, 0);
	db_question(&d, "nope." ZONE, 1, 1);
	db_soa(&d, ZONE, 5);
	assert_int_equal(dnssec_signer(d.b, d.n, "nope." ZONE, 1, signer, sizeof(signer), detail,
	                               sizeof(detail)),
	                 RES_DNSSEC_MISSING);
	assert_string_equal(detail, "no A RRset for nope.example.test. in the answer");
	/* a signer outside the owner's ancestors did not sign it */
	soa_answer(&a, &ok, 1);
	assert_int_equal(dnssec_eval(a.b, a.n, k.b, k.n, "other.test.",
	                             &(struct dnssec_expect){.qname = ZONE, .qtype = 6, .now = NOW},
	                             NULL, NULL, detail, sizeof(detail)),
	                 RES_DNSSEC_BOGUS);
	/* every cut of a signed answer: malformed or missing, never a pass */
	for (size_t n = 0; n < a.n; n++) {
		enum check_result_code rc =
		    dnssec_signer(a.b, n, ZONE, 6, signer, sizeof(signer), detail, sizeof(detail));
		if (rc == RES_OK)
			fail_msg("a reply cut to %zu of %zu bytes passed", n, a.n);
	}
	/* a compression pointer that points forward (a loop) is malformed */
	soa_answer(&a, &ok, 1);
	a.b[12 + db_name_len(ZONE) + 4] = 0xc0;
	a.b[12 + db_name_len(ZONE) + 5] = 0xff;
	assert_int_equal(
	    dnssec_signer(a.b, a.n, ZONE, 6, signer, sizeof(signer), detail, sizeof(detail)),
	    RES_DNS_MALFORMED);
}

static void test_time_arithmetic(void **state)
{
	char b[32];

	/* RFC 4034 3.1.5: the instant nearest to now with those 32 bits */
	assert_int_equal(dnssec_time(2000000100u, 2000000000), 2000000100);
	assert_int_equal(dnssec_time(1999999900u, 2000000000), 1999999900);
	/* across 2106-02-07 (2^32 s): an expiry just after the wrap, an inception before */
	assert_int_equal(dnssec_time(50u, 4294967200LL), 4294967346LL);
	assert_int_equal(dnssec_time(4294967000u, 4294967400LL), 4294967000LL);
	assert_int_equal(dnssec_time(100u, 4294967396LL + 10), 4294967396LL);
	dnssec_time_text(FIX_EXP, b, sizeof(b));
	assert_string_equal(b, "2027-01-02T13:50:20Z");
	/* RFC 4034 appendix B (the verified fixtures prove it on real keys) */
	assert_int_equal(dnssec_keytag((const uint8_t *)"\x01\x01\x03\x0d\xff", 5),
	                 (0x1030e + (0x1030e >> 16)) & 0xffff); /* the carry folds back in */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_signatures),    cmocka_unit_test(test_real_window),
	    cmocka_unit_test(test_real_bogus),         cmocka_unit_test(test_window_table),
	    cmocka_unit_test(test_missing_and_broken), cmocka_unit_test(test_time_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
