/* SPDX-License-Identifier: ISC */
/*
 * fuzz_dnssec.c - libFuzzer harness for the DNSSEC judge (dnssec_signer,
 * dnssec_eval in agent/dnssec.c): the answer and the DNSKEY reply a DNS
 * server sent, through canonical form, key decoding and verification.
 *
 * Input: byte 0 picks the question, validation and the days; bytes 1-2 where
 * the answer ends and the DNSKEY reply begins; byte 3 moves "now"; then the
 * two replies. The detail must always be one printable, terminated line; a
 * pass never comes from a reply without the RRset; the verdict is the same
 * with and without the verification cache, and again from the cache.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnssec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const qnames[] = {"example.test.", "www.example.test.", "x.wild.example.test.",
                                     "."};
static const uint16_t qtypes[] = {6, 1, 28, 48, 16, 15, 2, 33};

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
	static struct dnssec_cache cache; /* across inputs, as across a check's runs */
	char detail[256], d2[256], signer[DNSSEC_NAME_MAX];
	struct dnssec_info info, info2;
	struct dnssec_expect e;
	const uint8_t *a, *k;
	size_t alen, klen, split;
	enum check_result_code rc, rc2, rc3;

	if (size < 4)
		return 0;
	memset(&e, 0, sizeof(e));
	e.qname = qnames[data[0] % NEL(qnames)];
	e.qtype = qtypes[(data[0] / NEL(qnames)) % NEL(qtypes)];
	e.validate = data[0] & 0x80;
	e.warn_days = (data[3] & 1) ? 7 : 0;
	e.fail_days = (data[3] & 2) ? 2 : 0;
	/* around the seeds' signatures (2026-12 to 2027-01), and far off, across 2106 */
	e.now = 1796478620 + (int64_t)(int8_t)data[3] * 86400 * 3;
	if ((data[3] & 0x0c) == 0x0c)
		e.now += 4294967296LL - 1796478620;
	split = (size_t)(data[1] << 8 | data[2]);
	a = data + 4;
	alen = size - 4;
	if (split > alen)
		split = alen;
	k = a + split;
	klen = alen - split;
	alen = split;

	memset(signer, 'X', sizeof(signer));
	rc = dnssec_signer(a, alen, e.qname, e.qtype, signer, sizeof(signer), detail,
	                   sizeof(detail));
	if ((unsigned)rc >= RES__COUNT)
		abort();
	check_detail(detail, sizeof(detail));
	if (rc != RES_OK)
		return 0;
	check_detail(signer, sizeof(signer));

	rc = dnssec_eval(a, alen, k, klen, signer, &e, NULL, &info, detail, sizeof(detail));
	if ((unsigned)rc >= RES__COUNT)
		abort();
	check_detail(detail, sizeof(detail));
	check_detail(info.rrset, sizeof(info.rrset));
	if (rc == RES_OK && (!info.has_expiry || info.expires < e.now))
		abort(); /* a pass with no signature, or an expired one */
	if (rc == RES_OK && e.validate && !info.verified)
		abort();
	/* the cache changes the cost, never the verdict, and remembers it */
	rc2 = dnssec_eval(a, alen, k, klen, signer, &e, &cache, &info2, d2, sizeof(d2));
	rc3 = dnssec_eval(a, alen, k, klen, signer, &e, &cache, &info2, d2, sizeof(d2));
	if (rc2 != rc || rc3 != rc || strcmp(d2, detail) != 0 ||
	    info2.has_expiry != info.has_expiry || info2.expires != info.expires)
		abort();
	/* no detail wanted: the same verdict */
	if (dnssec_eval(a, alen, k, klen, signer, &e, NULL, NULL, NULL, 0) != rc)
		abort();
	return 0;
}
