/* SPDX-License-Identifier: ISC */
/*
 * dnsbuild.h - test helper: build DNS messages byte by byte (header,
 * names without compression, records), for the dns_eval table and the fake
 * DNS servers of test_check_dns. Bounded; no validation on purpose.
 */
#ifndef AA_TEST_DNSBUILD_H
#define AA_TEST_DNSBUILD_H

#include <stdint.h>
#include <string.h>

struct dnsb {
	uint8_t b[4096];
	size_t n;
};

static inline void db_u8(struct dnsb *d, unsigned v)
{
	if (d->n < sizeof(d->b))
		d->b[d->n++] = (uint8_t)v;
}

static inline void db_u16(struct dnsb *d, unsigned v)
{
	db_u8(d, v >> 8);
	db_u8(d, v & 0xff);
}

static inline void db_u32(struct dnsb *d, uint32_t v)
{
	db_u16(d, v >> 16);
	db_u16(d, v & 0xffff);
}

static inline void db_bytes(struct dnsb *d, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		db_u8(d, ((const uint8_t *)p)[i]);
}

/* "www.example.test." or "www.example.test" as labels; "." is the root. */
static inline void db_name(struct dnsb *d, const char *name)
{
	while (*name && *name != '.') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		db_u8(d, (unsigned)l);
		db_bytes(d, name, l);
		name += l;
		if (*name == '.')
			name++;
	}
	db_u8(d, 0);
}

/* flags: the 16 bits after the ID (QR/opcode/AA/TC/RD/RA/rcode). */
static inline void db_header(struct dnsb *d, unsigned id, unsigned flags, unsigned qd, unsigned an,
                             unsigned ns, unsigned ar)
{
	d->n = 0;
	db_u16(d, id);
	db_u16(d, flags);
	db_u16(d, qd);
	db_u16(d, an);
	db_u16(d, ns);
	db_u16(d, ar);
}

static inline void db_question(struct dnsb *d, const char *name, unsigned type, unsigned cls)
{
	db_name(d, name);
	db_u16(d, type);
	db_u16(d, cls);
}

/* A record's fixed part; the caller appends rdlen bytes of RDATA. */
static inline void db_rr(struct dnsb *d, const char *owner, unsigned type, unsigned rdlen)
{
	db_name(d, owner);
	db_u16(d, type);
	db_u16(d, 1);
	db_u32(d, 300);
	db_u16(d, rdlen);
}

static inline size_t db_name_len(const char *name)
{
	struct dnsb t = {.n = 0};
	db_name(&t, name);
	return t.n;
}

static inline void db_soa(struct dnsb *d, const char *owner, uint32_t serial)
{
	const char *m = "ns1.example.test.", *r = "hostmaster.example.test.";
	db_rr(d, owner, 6, (unsigned)(db_name_len(m) + db_name_len(r) + 20));
	db_name(d, m);
	db_name(d, r);
	db_u32(d, serial);
	db_u32(d, 3600);
	db_u32(d, 900);
	db_u32(d, 604800);
	db_u32(d, 300);
}

#define DB_QR 0x8000
#define DB_AA 0x0400
#define DB_TC 0x0200
#define DB_RD 0x0100
#define DB_RA 0x0080

#endif
