/* SPDX-License-Identifier: ISC */
/*
 * test_dns_eval.c - the pure DNS reply evaluator: header, question, walk,
 * RCODE/AA, text forms of answers, SOA serial, RFC 1982 serial lag.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dns_eval.h"
#include "dnsbuild.h"

#define ID 0x1234
#define QN "www.example.test."

static void q_a(struct dnsb *d, unsigned flags, unsigned an)
{
	db_header(d, ID, DB_QR | flags, 1, an, 0, 0);
	db_question(d, QN, 1, 1);
}

static void m_ok_a(struct dnsb *d)
{
	q_a(d, DB_AA, 2);
	db_rr(d, QN, 1, 4);
	db_bytes(d, "\xc0\x00\x02\x01", 4);
	db_rr(d, QN, 1, 4);
	db_bytes(d, "\xc0\x00\x02\x02", 4);
}

static void m_short(struct dnsb *d)
{
	d->n = 0;
	db_u16(d, ID);
	db_u8(d, 0x84);
}

static void m_query_bit(struct dnsb *d)
{
	m_ok_a(d);
	d->b[2] &= 0x7f;
}

static void m_wrong_id(struct dnsb *d)
{
	m_ok_a(d);
	d->b[1] ^= 1;
}

static void m_no_question(struct dnsb *d)
{
	db_header(d, ID, DB_QR | 1, 0, 0, 0, 0); /* FORMERR without question */
}

static void m_other_name(struct dnsb *d)
{
	db_header(d, ID, DB_QR | DB_AA, 1, 0, 0, 0);
	db_question(d, "other.example.test.", 1, 1);
}

static void m_upper_name(struct dnsb *d)
{
	db_header(d, ID, DB_QR | DB_AA, 1, 0, 0, 0);
	db_question(d, "WWW.Example.TEST.", 1, 1);
}

static void m_other_type(struct dnsb *d)
{
	db_header(d, ID, DB_QR | DB_AA, 1, 0, 0, 0);
	db_question(d, QN, 28, 1);
}

static void m_other_class(struct dnsb *d)
{
	db_header(d, ID, DB_QR | DB_AA, 1, 0, 0, 0);
	db_question(d, QN, 1, 3);
}

static void m_tc(struct dnsb *d)
{
	q_a(d, DB_AA | DB_TC, 0);
}

static void m_cut_record(struct dnsb *d)
{
	m_ok_a(d);
	d->n -= 2;
}

static void m_rdlen_past_end(struct dnsb *d)
{
	q_a(d, DB_AA, 1);
	db_rr(d, QN, 1, 40);
	db_bytes(d, "\xc0\x00\x02\x01", 4);
}

static void m_pointer_loop(struct dnsb *d)
{
	q_a(d, DB_AA, 1);
	size_t at = d->n;
	db_u16(d, 0xc000 | (unsigned)at); /* a name pointing at itself */
	db_u16(d, 1);
	db_u16(d, 1);
	db_u32(d, 1);
	db_u16(d, 4);
	db_bytes(d, "\1\2\3\4", 4);
}

static void m_bad_a_len(struct dnsb *d)
{
	q_a(d, DB_AA, 1);
	db_rr(d, QN, 1, 3);
	db_bytes(d, "\1\2\3", 3);
}

static void m_servfail(struct dnsb *d)
{
	q_a(d, 2, 0);
}

static void m_nxdomain(struct dnsb *d)
{
	q_a(d, DB_AA | 3, 0);
	d->b[9] = 1; /* nscount */
	db_soa(d, "example.test.", 77);
}

static void m_not_aa(struct dnsb *d)
{
	m_ok_a(d);
	d->b[2] &= (uint8_t)~0x04;
}

static void m_trailing_junk(struct dnsb *d)
{
	m_ok_a(d);
	db_bytes(d, "junk", 4); /* ignored: counts say where records end */
}

struct eval_case {
	const char *name;
	void (*build)(struct dnsb *);
	bool tcp;
	int rcode, aa;
	const char *answers[3];
	enum check_result_code want;
	const char *detail; /* substring */
};

static const struct eval_case eval_cases[] = {
    {"ok", m_ok_a, false, 0, 1, {NULL}, RES_OK, "ok"},
    {"answers all present", m_ok_a, false, 0, 1, {"192.0.2.2", "192.0.2.1"}, RES_OK, "ok"},
    {"answer missing",
     m_ok_a,
     false,
     0,
     1,
     {"192.0.2.9"},
     RES_DNS_ANSWER_MISMATCH,
     "expected \"192.0.2.9\" not in answer (got: 192.0.2.1, 192.0.2.2)"},
    {"short header", m_short, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "shorter than a DNS"},
    {"QR clear", m_query_bit, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "QR bit clear"},
    {"wrong id",
     m_wrong_id,
     false,
     0,
     1,
     {NULL},
     RES_DNS_QUESTION_MISMATCH,
     "does not match query ID"},
    {"no question", m_no_question, false, 0, 1, {NULL}, RES_DNS_QUESTION_MISMATCH, "0 questions"},
    {"other name",
     m_other_name,
     false,
     0,
     1,
     {NULL},
     RES_DNS_QUESTION_MISMATCH,
     "reply is for other.example.test. A"},
    {"name case-insensitive", m_upper_name, false, 0, 1, {NULL}, RES_OK, "ok"},
    {"other type", m_other_type, false, 0, 1, {NULL}, RES_DNS_QUESTION_MISMATCH, "AAAA"},
    {"other class", m_other_class, false, 0, 1, {NULL}, RES_DNS_QUESTION_MISMATCH, "class 3"},
    {"TC over udp", m_tc, false, 0, 1, {NULL}, RES_DNS_TRUNCATED, "truncated"},
    {"TC over tcp ignored", m_tc, true, 0, 1, {NULL}, RES_OK, "ok"},
    {"record cut", m_cut_record, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "answer record 2 of 2"},
    {"rdlen past end", m_rdlen_past_end, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "malformed"},
    {"pointer loop", m_pointer_loop, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "malformed"},
    {"A of 3 bytes", m_bad_a_len, false, 0, 1, {NULL}, RES_DNS_MALFORMED, "malformed"},
    {"servfail",
     m_servfail,
     false,
     0,
     1,
     {NULL},
     RES_DNS_RCODE,
     "rcode SERVFAIL, expected NOERROR"},
    {"servfail any rcode", m_servfail, false, -1, -1, {NULL}, RES_OK, "ok"},
    {"nxdomain", m_nxdomain, false, 0, 1, {NULL}, RES_DNS_RCODE, "NXDOMAIN"},
    {"nxdomain expected", m_nxdomain, false, 3, 1, {NULL}, RES_OK, "ok"},
    {"not aa", m_not_aa, false, 0, 1, {NULL}, RES_DNS_NOT_AUTHORITATIVE, "AA bit clear"},
    {"aa unexpected", m_ok_a, false, 0, 0, {NULL}, RES_DNS_NOT_AUTHORITATIVE, "AA bit set"},
    {"aa don't care", m_not_aa, false, 0, -1, {NULL}, RES_OK, "ok"},
    {"trailing bytes", m_trailing_junk, false, 0, 1, {"192.0.2.1"}, RES_OK, "ok"},
};

static void test_eval_table(void **state)
{
	for (size_t i = 0; i < sizeof(eval_cases) / sizeof(eval_cases[0]); i++) {
		const struct eval_case *c = &eval_cases[i];
		struct dnsb d = {.n = 0};
		struct dns_reply_info info;
		char detail[256];
		size_t na = 0;
		while (na < 3 && c->answers[na] != NULL)
			na++;
		struct dns_expect e = {.id = ID,
		                       .qname = QN,
		                       .qtype = 1,
		                       .qclass = 1,
		                       .tcp = c->tcp,
		                       .rcode = c->rcode,
		                       .aa = c->aa,
		                       .answers = (char *const *)c->answers,
		                       .nanswers = na};
		c->build(&d);
		enum check_result_code got =
		    dns_eval_reply(d.b, d.n, &e, &info, detail, sizeof(detail));
		if (got != c->want || strstr(detail, c->detail) == NULL)
			fail_msg("case \"%s\": got %s \"%s\", want %s \"%s\"", c->name,
			         result_name(got), detail, result_name(c->want), c->detail);
	}
}

/* Every prefix of a valid reply is judged without crashing, never OK. */
static void test_eval_every_prefix(void **state)
{
	struct dnsb d = {.n = 0};
	const char *want[] = {"192.0.2.2"};
	struct dns_expect e = {.id = ID,
	                       .qname = QN,
	                       .qtype = 1,
	                       .qclass = 1,
	                       .rcode = 0,
	                       .aa = 1,
	                       .answers = (char *const *)want,
	                       .nanswers = 1};

	m_ok_a(&d);
	for (size_t n = 0; n < d.n; n++) {
		enum check_result_code got = dns_eval_reply(d.b, n, &e, NULL, NULL, 0);
		if (got == RES_OK)
			fail_msg("prefix of %zu bytes judged OK", n);
	}
	assert_int_equal(dns_eval_reply(d.b, d.n, &e, NULL, NULL, 0), RES_OK);
}

/* Text forms: one record per type, compared with what expect_answer accepts. */
struct text_case {
	const char *name;
	unsigned type;
	void (*rdata)(struct dnsb *);
	const char *text;  /* the exact text form */
	const char *match; /* another spelling expect_answer accepts, or NULL */
};

static void rd_a(struct dnsb *d)
{
	db_bytes(d, "\xc0\x00\x02\x01", 4);
}

static void rd_aaaa(struct dnsb *d)
{
	db_bytes(d, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
}

static void rd_ns(struct dnsb *d)
{
	db_name(d, "ns1.example.test.");
}

static void rd_mx(struct dnsb *d)
{
	db_u16(d, 10);
	db_name(d, "mx.example.test.");
}

static void rd_txt(struct dnsb *d)
{
	db_u8(d, 5);
	db_bytes(d, "v=spf", 5);
	db_u8(d, 6);
	db_bytes(d, "1 -all", 6);
	db_u8(d, 3);
	db_bytes(d, "\\\n!", 3);
}

static void rd_soa(struct dnsb *d)
{
	db_name(d, "ns1.example.test.");
	db_name(d, "hostmaster.example.test.");
	db_u32(d, 2024010101);
	db_u32(d, 3600);
	db_u32(d, 900);
	db_u32(d, 604800);
	db_u32(d, 300);
}

static void rd_other(struct dnsb *d)
{
	db_bytes(d, "\x00\xff\x10", 3);
}

static const struct text_case text_cases[] = {
    {"A", 1, rd_a, "192.0.2.1", NULL},
    {"AAAA", 28, rd_aaaa, "2001:db8::1", "2001:DB8:0:0::1"},
    {"NS", 2, rd_ns, "ns1.example.test.", "NS1.Example.Test"},
    {"CNAME", 5, rd_ns, "ns1.example.test.", "ns1.example.test"},
    {"MX", 15, rd_mx, "10 mx.example.test.", "10 MX.example.test"},
    {"TXT", 16, rd_txt, "v=spf1 -all\\092\\010!", NULL},
    {"SOA", 6, rd_soa, "ns1.example.test. hostmaster.example.test. 2024010101 3600 900 604800 300",
     NULL},
    {"generic", 99, rd_other, "\\# 3 00ff10", "\\# 3 00FF10"},
};

static void test_text_forms(void **state)
{
	for (size_t i = 0; i < sizeof(text_cases) / sizeof(text_cases[0]); i++) {
		const struct text_case *c = &text_cases[i];
		struct dnsb d = {.n = 0}, rd = {.n = 0};
		char out[512];
		const char *want[1];

		c->rdata(&rd);
		db_header(&d, ID, DB_QR | DB_AA, 1, 1, 0, 0);
		db_question(&d, QN, c->type, 1);
		db_rr(&d, QN, c->type, (unsigned)rd.n);
		size_t rdoff = d.n;
		db_bytes(&d, rd.b, rd.n);
		assert_int_equal(dns_rdata_text(d.b, d.n, rdoff, (uint16_t)rd.n, (uint16_t)c->type,
		                                out, sizeof(out)),
		                 0);
		if (strcmp(out, c->text) != 0)
			fail_msg("%s: text form \"%s\", want \"%s\"", c->name, out, c->text);
		for (int k = 0; k < 2; k++) {
			want[0] = k == 0 ? c->text : c->match;
			if (want[0] == NULL)
				continue;
			struct dns_expect e = {.id = ID,
			                       .qname = QN,
			                       .qtype = (uint16_t)c->type,
			                       .qclass = 1,
			                       .rcode = 0,
			                       .aa = 1,
			                       .answers = (char *const *)want,
			                       .nanswers = 1};
			char detail[256];
			if (dns_eval_reply(d.b, d.n, &e, NULL, detail, sizeof(detail)) != RES_OK)
				fail_msg("%s: \"%s\" does not match: %s", c->name, want[0], detail);
		}
	}
}

static void test_serial_in_answer_and_authority(void **state)
{
	struct dnsb d = {.n = 0};
	struct dns_reply_info info;
	struct dns_expect e = {
	    .id = ID, .qname = QN, .qtype = 1, .qclass = 1, .rcode = -1, .aa = -1};

	m_nxdomain(&d); /* SOA only in the authority section */
	assert_int_equal(dns_eval_reply(d.b, d.n, &e, &info, NULL, 0), RES_OK);
	assert_true(info.has_serial);
	assert_int_equal(info.serial, 77);

	db_header(&d, ID, DB_QR | DB_AA, 1, 1, 1, 0);
	db_question(&d, "example.test.", 6, 1);
	db_soa(&d, "example.test.", 4000000000u);
	db_soa(&d, "example.test.", 5);
	e.qname = "example.test";
	e.qtype = 6;
	assert_int_equal(dns_eval_reply(d.b, d.n, &e, &info, NULL, 0), RES_OK);
	assert_true(info.has_serial);
	assert_int_equal(info.serial, 4000000000u);
}

struct lag_case {
	uint32_t local, ref;
	int64_t lag;
	bool undefined;
};

static const struct lag_case lag_cases[] = {
    {1, 1, 0, false},
    {1, 2, 1, false},
    {5, 4, -1, false},
    {0xffffffffu, 1, 2, false}, /* ref wrapped past 2^32 */
    {1, 0xffffffffu, -2, false},
    {0xfffffff0u, 0x10, 0x20, false},
    {0, 0x7fffffffu, 0x7fffffff, false},
    {0, 0x80000000u, 0, true},
    {0x80000000u, 0, 0, true},
    {0, 0x80000001u, -0x7fffffff, false},
    {2024010101u, 2024010100u, -1, false},
};

static void test_serial_lag_table(void **state)
{
	for (size_t i = 0; i < sizeof(lag_cases) / sizeof(lag_cases[0]); i++) {
		const struct lag_case *c = &lag_cases[i];
		bool undef = !c->undefined;
		int64_t lag = dns_serial_lag(c->local, c->ref, &undef);
		if (undef != c->undefined || (!undef && lag != c->lag))
			fail_msg("lag(%u, %u) = %lld%s, want %lld%s", c->local, c->ref,
			         (long long)lag, undef ? " undefined" : "", (long long)c->lag,
			         c->undefined ? " undefined" : "");
	}
}

struct serial_case {
	uint32_t local, ref;
	long max;
	enum check_result_code want;
	const char *detail;
};

static const struct serial_case serial_cases[] = {
    {10, 10, 0, RES_OK, "lag 0"},
    {10, 11, 0, RES_DNS_SERIAL_LAG, "trails reference 11 by 1"},
    {10, 12, 2, RES_OK, "lag 2"},
    {10, 13, 2, RES_DNS_SERIAL_LAG, "by 3 (max_serial_lag 2)"},
    {0xfffffffeu, 1, 2, RES_DNS_SERIAL_LAG, "by 3"},
    {0xfffffffeu, 0, 2, RES_OK, "lag 2"},
    {12, 10, 0, RES_OK, "ahead of reference"},
    {0, 0x80000000u, 1000, RES_DNS_SERIAL_LAG, "no order"},
};

static void test_serial_eval_table(void **state)
{
	for (size_t i = 0; i < sizeof(serial_cases) / sizeof(serial_cases[0]); i++) {
		const struct serial_case *c = &serial_cases[i];
		char d[160];
		enum check_result_code got =
		    dns_eval_serial(c->local, c->ref, c->max, d, sizeof(d));
		if (got != c->want || strstr(d, c->detail) == NULL)
			fail_msg("serial(%u, %u, %ld): %s \"%s\", want %s \"%s\"", c->local, c->ref,
			         c->max, result_name(got), d, result_name(c->want), c->detail);
	}
}

static void test_names(void **state)
{
	char b[16];

	assert_int_equal(dns_type_from_name("soa"), 6);
	assert_int_equal(dns_type_from_name("AAAA"), 28);
	assert_int_equal(dns_type_from_name("TYPE65"), 65);
	assert_int_equal(dns_type_from_name("TYPE65536"), -1);
	assert_int_equal(dns_type_from_name("BOGUS"), -1);
	assert_int_equal(dns_rcode_from_name("nxdomain"), 3);
	assert_int_equal(dns_rcode_from_name("RCODE15"), 15);
	assert_int_equal(dns_rcode_from_name("RCODE16"), -1);
	assert_string_equal(dns_rcode_name(5, b, sizeof(b)), "REFUSED");
	assert_string_equal(dns_rcode_name(12, b, sizeof(b)), "RCODE12");
	assert_string_equal(dns_type_name(99, b, sizeof(b)), "TYPE99");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_table),
	    cmocka_unit_test(test_eval_every_prefix),
	    cmocka_unit_test(test_text_forms),
	    cmocka_unit_test(test_serial_in_answer_and_authority),
	    cmocka_unit_test(test_serial_lag_table),
	    cmocka_unit_test(test_serial_eval_table),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
