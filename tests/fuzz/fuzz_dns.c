/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dns.c - libFuzzer harness for DNS reply evaluation (dns_eval_reply),
 * the code that judges bytes a DNS server sent back.
 *
 * Input: 4 bytes that pick the expectation (query ID, name, type, RCODE, AA,
 * transport, expected answers, detail buffer size), then the reply itself.
 * The detail must always be one printable, terminated line and the header
 * fields reported must be those of the bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_eval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const qnames[] = {
    "www.example.test.", "example.test",           ".",  "a.b.c.example.net.",
    "EXAMPLE.test.",     "xn--bcher-kva.example.", "x.",
};
static const uint16_t qtypes[] = {1, 28, 6, 255, 15, 16, 2, 5, 12, 39, 65, 0};
/* Expected answers: text forms of every kind the evaluator compares. */
static const char *const answers[] = {
    "192.0.2.1",         "2001:db8::1",
    "ns1.example.test.", "10 mx.example.test.",
    "v=spf1 -all",       "ns1.example.test. hostmaster.example.test. 2024010101 3600 600 86400 300",
    "\\# 4 c0000201",    "",
    "not an address",
};

#define NEL(a) (sizeof(a) / sizeof((a)[0]))

static void check_detail(const char *d, size_t cap)
{
	size_t n = strnlen(d, cap);

	if (n == cap)
		abort(); /* not terminated inside the buffer */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)d[i] < 0x20 || (unsigned char)d[i] > 0x7e)
			abort(); /* not one printable line */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t detail_sizes[] = {1, 2, 16, 64, 256, 1024};
	char detail[1024];
	char *want[2];
	struct dns_reply_info info;
	struct dns_expect e;
	const uint8_t *msg;
	size_t len, dsz;
	enum check_result_code rc, rc2;

	if (size < 4)
		return 0;
	msg = data + 4;
	len = size - 4;
	memset(&e, 0, sizeof(e));
	/* match the reply's ID half the time, so the fuzzer gets past that check */
	e.id = (data[3] & 1) && len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0x1234;
	e.qname = qnames[data[0] % NEL(qnames)];
	e.qtype = qtypes[(data[0] / NEL(qnames)) % NEL(qtypes)];
	e.qclass = (data[3] & 2) ? 3 : DNS_CLASS_IN;
	e.tcp = data[1] & 1;
	e.aa = (int)((data[1] >> 1) % 3) - 1;
	e.rcode = (int)((data[1] >> 3) % 18) - 1;
	e.nanswers = data[2] % 3;
	want[0] = (char *)answers[(data[2] / 3) % NEL(answers)];
	want[1] = (char *)answers[(data[2] / 3 + data[3] / 4) % NEL(answers)];
	e.answers = want;
	dsz = detail_sizes[(data[3] >> 2) % NEL(detail_sizes)];

	memset(detail, 'X', sizeof(detail));
	rc = dns_eval_reply(msg, len, &e, &info, detail, dsz);
	if ((unsigned)rc >= RES__COUNT)
		abort();
	check_detail(detail, dsz);
	for (size_t i = dsz; i < sizeof(detail); i++)
		if (detail[i] != 'X')
			abort(); /* wrote past the size it was given */
	if (info.header_ok != (len >= 12 && len <= 65535))
		abort();
	if (info.header_ok && (info.id != (uint16_t)(msg[0] << 8 | msg[1]) ||
	                       info.qdcount != (unsigned)(msg[4] << 8 | msg[5]) ||
	                       info.rcode != (msg[3] & 0x0fu) || info.qr != !!(msg[2] & 0x80) ||
	                       info.aa != !!(msg[2] & 0x04) || info.tc != !!(msg[2] & 0x02)))
		abort();
	if (rc == RES_OK && (!info.header_ok || !info.id_match))
		abort();

	/* the verdict does not depend on the caller wanting a detail */
	rc2 = dns_eval_reply(msg, len, &e, NULL, NULL, 0);
	if (rc2 != rc)
		abort();
	if (info.has_serial) {
		bool undef;

		(void)dns_serial_lag(info.serial, 0x80000000u ^ info.serial, &undef);
		rc2 = dns_eval_serial(info.serial, info.serial + 1, 0, detail, sizeof(detail));
		if (rc2 == RES_OK)
			abort(); /* a secondary one serial behind passed max_serial_lag = 0 */
		check_detail(detail, sizeof(detail));
	}
	return 0;
}
