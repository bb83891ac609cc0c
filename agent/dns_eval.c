/* SPDX-License-Identifier: ISC */
/*
 * dns_eval.c - judges the bytes of a DNS reply (see dns_eval.h): header,
 * question, a bounded walk over every record, RCODE/AA, expected answers,
 * SOA serial, and RFC 1982 serial comparison. Owns the text form of RDATA.
 * Names are expanded by c-ares (ares_expand_name), which guards against
 * compression loops and reads past the end.
 */
#include <config.h>

#include <ares.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_eval.h"

#define HDR_LEN  12
#define TEXT_MAX 1024 /* longer RDATA texts are cut; they then fail to match */

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_DNAME = 39,
};

static const struct {
	const char *name;
	unsigned value;
} rr_types[] =
    {
        {"A", 1},     {"NS", 2},     {"CNAME", 5},  {"SOA", 6},   {"PTR", 12},    {"HINFO", 13},
        {"MX", 15},   {"TXT", 16},   {"AAAA", 28},  {"SRV", 33},  {"NAPTR", 35},  {"DNAME", 39},
        {"DS", 43},   {"SSHFP", 44}, {"RRSIG", 46}, {"NSEC", 47}, {"DNSKEY", 48}, {"NSEC3", 50},
        {"TLSA", 52}, {"SVCB", 64},  {"HTTPS", 65}, {"ANY", 255}, {"CAA", 257},
},
  rcodes[] = {
      {"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2}, {"NXDOMAIN", 3},
      {"NOTIMP", 4},  {"REFUSED", 5}, {"YXDOMAIN", 6}, {"YXRRSET", 7},
      {"NXRRSET", 8}, {"NOTAUTH", 9}, {"NOTZONE", 10},
};

const char *dns_rcode_name(unsigned rcode, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++)
		if (rcodes[i].value == rcode)
			return rcodes[i].name;
	snprintf(buf, len, "RCODE%u", rcode);
	return buf;
}

const char *dns_type_name(unsigned type, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(rr_types) / sizeof(rr_types[0]); i++)
		if (rr_types[i].value == type)
			return rr_types[i].name;
	snprintf(buf, len, "TYPE%u", type);
	return buf;
}

static int from_name(const char *name, const char *prefix, unsigned max, int table)
{
	size_t n =
	    table ? sizeof(rcodes) / sizeof(rcodes[0]) : sizeof(rr_types) / sizeof(rr_types[0]);
	size_t plen = strlen(prefix);

	if (name == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *nm = table ? rcodes[i].name : rr_types[i].name;
		if (strcasecmp(nm, name) == 0)
			return (int)(table ? rcodes[i].value : rr_types[i].value);
	}
	if (strncasecmp(name, prefix, plen) == 0 && name[plen] >= '0' && name[plen] <= '9') {
		char *end;
		unsigned long v = strtoul(name + plen, &end, 10);
		if (*end == '\0' && v <= max)
			return (int)v;
	}
	return -1;
}

int dns_rcode_from_name(const char *name)
{
	return from_name(name, "RCODE", 15, 1);
}

int dns_type_from_name(const char *name)
{
	return from_name(name, "TYPE", 65535, 0);
}

/* A bounded string being built; silently cut at its capacity. */
struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (sb->cap == 0 || sb->len >= sb->cap - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(sb->p + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb->len += (size_t)n;
	if (sb->len >= sb->cap)
		sb->len = sb->cap - 1;
}

static void detail_set(char *detail, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void detail_set(char *detail, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, len, fmt, ap);
	va_end(ap);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Expand the name at off; on success *out is malloc'd (ares) and *enclen set. */
static int expand_name(const uint8_t *msg, size_t len, size_t off, char **out, size_t *enclen)
{
	long el = 0;

	if (off >= len || len > 65535 + 2)
		return -1;
	if (ares_expand_name(msg + off, msg, (int)len, out, &el) != ARES_SUCCESS)
		return -1;
	if (el <= 0 || (size_t)el > len - off) {
		ares_free_string(*out);
		return -1;
	}
	*enclen = (size_t)el;
	return 0;
}

/* Append a name in text form, always absolute (trailing dot). */
static int sb_name(struct sbuf *sb, const uint8_t *msg, size_t len, size_t off, size_t *enclen)
{
	char *name;

	if (expand_name(msg, len, off, &name, enclen) < 0)
		return -1;
	sb_printf(sb, "%s.", name);
	ares_free_string(name);
	return 0;
}

/* The rdata in presentation form, or -1 if it is malformed; an sb of capacity 0 only checks. */
static int rdata_text(const uint8_t *msg, size_t len, size_t off, uint16_t rdlen, uint16_t type,
                      struct sbuf *sb)
{
	const uint8_t *rd = msg + off;
	size_t el, el2;
	char addr[INET6_ADDRSTRLEN];

	if (off > len || rdlen > len - off)
		return -1;
	switch (type) {
	case T_A:
	case T_AAAA:
		if (rdlen != (type == T_A ? 4 : 16))
			return -1;
		if (sb->cap > 0) {
			inet_ntop(type == T_A ? AF_INET : AF_INET6, rd, addr, sizeof(addr));
			sb_printf(sb, "%s", addr);
		}
		return 0;
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
		if (sb_name(sb, msg, off + rdlen, off, &el) < 0 || el != rdlen)
			return -1;
		return 0;
	case T_MX:
		if (rdlen < 3)
			return -1;
		sb_printf(sb, "%u ", get16(rd));
		if (sb_name(sb, msg, off + rdlen, off + 2, &el) < 0 || el + 2 != rdlen)
			return -1;
		return 0;
	case T_TXT:
		for (size_t i = 0; i < rdlen;) {
			size_t n = rd[i++];
			if (n > rdlen - i)
				return -1;
			for (size_t j = 0; j < n; j++, i++) {
				uint8_t c = rd[i];
				if (c < 0x20 || c > 0x7e || c == '\\')
					sb_printf(sb, "\\%03u", c);
				else
					sb_printf(sb, "%c", c);
			}
		}
		return 0;
	case T_SOA:
		if (sb_name(sb, msg, off + rdlen, off, &el) < 0)
			return -1;
		sb_printf(sb, " ");
		if (sb_name(sb, msg, off + rdlen, off + el, &el2) < 0 || el + el2 + 20 != rdlen)
			return -1;
		rd += el + el2;
		sb_printf(sb, " %u %u %u %u %u", get32(rd), get32(rd + 4), get32(rd + 8),
		          get32(rd + 12), get32(rd + 16));
		return 0;
	default:
		sb_printf(sb, "\\# %u", rdlen);
		if (rdlen > 0)
			sb_printf(sb, " ");
		for (size_t i = 0; i < rdlen; i++)
			sb_printf(sb, "%02x", rd[i]);
		return 0;
	}
}

int dns_rdata_text(const uint8_t *msg, size_t len, size_t rdoff, uint16_t rdlen, uint16_t type,
                   char *out, size_t outlen)
{
	struct sbuf sb = {out, 0, outlen};

	if (outlen > 0)
		out[0] = '\0';
	return rdata_text(msg, len, rdoff, rdlen, type, &sb);
}

/* One resource record's position in the message. */
struct rr {
	size_t name_off, rdoff;
	uint16_t type, class;
	uint16_t rdlen;
};

/* Read the record at *off; on success advance *off past it. */
static int read_rr(const uint8_t *msg, size_t len, size_t *off, struct rr *rr)
{
	char *name;
	size_t el;

	if (expand_name(msg, len, *off, &name, &el) < 0)
		return -1;
	ares_free_string(name);
	rr->name_off = *off;
	if (len - *off - el < 10)
		return -1;
	const uint8_t *p = msg + *off + el;
	rr->type = get16(p);
	rr->class = get16(p + 2);
	rr->rdlen = get16(p + 8);
	rr->rdoff = *off + el + 10;
	if (rr->rdlen > len - rr->rdoff)
		return -1;
	*off = rr->rdoff + rr->rdlen;
	return 0;
}

/* Compare two names as text: ASCII case-insensitive, one trailing dot optional. */
static bool name_text_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.' && (la < 2 || a[la - 2] != '\\'))
		la--;
	if (lb > 0 && b[lb - 1] == '.' && (lb < 2 || b[lb - 2] != '\\'))
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static bool value_match(uint16_t type, const char *want, const char *got)
{
	uint8_t aw[16], ag[16];

	switch (type) {
	case T_A:
	case T_AAAA: {
		int af = type == T_A ? AF_INET : AF_INET6;
		if (inet_pton(af, want, aw) == 1 && inet_pton(af, got, ag) == 1)
			return memcmp(aw, ag, type == T_A ? 4 : 16) == 0;
		return strcmp(want, got) == 0;
	}
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
	case T_MX:
		return name_text_eq(want, got);
	case T_TXT:
		return strcmp(want, got) == 0;
	default:
		return strcasecmp(want, got) == 0;
	}
}

static bool type_selected(uint16_t qtype, const struct rr *rr)
{
	return rr->class == DNS_CLASS_IN && (qtype == DNS_TYPE_ANY || rr->type == qtype);
}

/* Look for one expected value among the answers (already validated by the walk). */
static bool answer_has(const uint8_t *msg, size_t len, size_t an_off, unsigned ancount,
                       uint16_t qtype, const char *want, struct sbuf *seen)
{
	size_t off = an_off;
	char text[TEXT_MAX];
	struct rr rr;

	for (unsigned i = 0; i < ancount; i++) {
		if (read_rr(msg, len, &off, &rr) < 0)
			return false;
		if (!type_selected(qtype, &rr))
			continue;
		if (dns_rdata_text(msg, len, rr.rdoff, rr.rdlen, rr.type, text, sizeof(text)) < 0)
			continue;
		if (value_match(rr.type, want, text))
			return true;
		if (seen != NULL)
			sb_printf(seen, "%s%s", seen->len ? ", " : "", text);
	}
	return false;
}

static int soa_serial(const uint8_t *msg, size_t len, const struct rr *rr, uint32_t *serial)
{
	size_t el, el2;
	char *name;

	if (expand_name(msg, rr->rdoff + rr->rdlen, rr->rdoff, &name, &el) < 0)
		return -1;
	ares_free_string(name);
	if (expand_name(msg, rr->rdoff + rr->rdlen, rr->rdoff + el, &name, &el2) < 0)
		return -1;
	ares_free_string(name);
	if (el + el2 + 20 != rr->rdlen)
		return -1;
	*serial = get32(msg + rr->rdoff + el + el2);
	return 0;
}

enum check_result_code dns_eval_reply(const uint8_t *buf, size_t len, const struct dns_expect *exp,
                                      struct dns_reply_info *info, char *detail, size_t detail_len)
{
	struct dns_reply_info local;
	char tbuf[16], tbuf2[16], rbuf[16], rbuf2[16];
	size_t off, an_off;
	char *name;
	size_t el;

	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	detail_set(detail, detail_len, "ok");

	if (len < HDR_LEN) {
		detail_set(detail, detail_len, "reply of %zu bytes is shorter than a DNS header",
		           len);
		return RES_DNS_MALFORMED;
	}
	if (len > 65535) {
		detail_set(detail, detail_len, "reply of %zu bytes is longer than a DNS message",
		           len);
		return RES_DNS_MALFORMED;
	}
	info->header_ok = true;
	info->id = get16(buf);
	info->id_match = info->id == exp->id;
	info->qr = buf[2] & 0x80;
	info->aa = buf[2] & 0x04;
	info->tc = buf[2] & 0x02;
	info->rd = buf[2] & 0x01;
	info->ra = buf[3] & 0x80;
	info->rcode = buf[3] & 0x0f;
	info->qdcount = get16(buf + 4);
	info->ancount = get16(buf + 6);
	info->nscount = get16(buf + 8);
	info->arcount = get16(buf + 10);

	if (!info->qr) {
		detail_set(detail, detail_len, "QR bit clear: the packet is a query, not a reply");
		return RES_DNS_MALFORMED;
	}
	if (((buf[2] >> 3) & 0x0f) != 0) {
		detail_set(detail, detail_len, "opcode %u in reply, expected QUERY",
		           (buf[2] >> 3) & 0x0f);
		return RES_DNS_MALFORMED;
	}
	if (!info->id_match) {
		detail_set(detail, detail_len, "reply ID %u does not match query ID %u", info->id,
		           exp->id);
		return RES_DNS_QUESTION_MISMATCH;
	}
	if (info->qdcount != 1) {
		detail_set(detail, detail_len, "reply has %u questions, the query had 1",
		           info->qdcount);
		return RES_DNS_QUESTION_MISMATCH;
	}

	off = HDR_LEN;
	if (expand_name(buf, len, off, &name, &el) < 0) {
		detail_set(detail, detail_len, "question name is malformed");
		return RES_DNS_MALFORMED;
	}
	off += el;
	if (len - off < 4) {
		ares_free_string(name);
		detail_set(detail, detail_len, "question section cut short");
		return RES_DNS_MALFORMED;
	}
	uint16_t qtype = get16(buf + off), qclass = get16(buf + off + 2);
	off += 4;
	bool same_name = name_text_eq(name, exp->qname ? exp->qname : "");
	if (!same_name || qtype != exp->qtype || qclass != exp->qclass) {
		char shown[80];
		snprintf(shown, sizeof(shown), "%s", name);
		ares_free_string(name);
		detail_set(detail, detail_len, "reply is for %s. %s class %u, asked %s %s class %u",
		           shown, dns_type_name(qtype, tbuf, sizeof(tbuf)), qclass, exp->qname,
		           dns_type_name(exp->qtype, tbuf2, sizeof(tbuf2)), exp->qclass);
		return RES_DNS_QUESTION_MISMATCH;
	}
	ares_free_string(name);

	if (info->tc && !exp->tcp) {
		detail_set(detail, detail_len, "TC bit set: the UDP reply was truncated");
		return RES_DNS_TRUNCATED;
	}

	/* Walk every record so a broken one is reported, not half-read. */
	an_off = off;
	unsigned counts[3] = {info->ancount, info->nscount, info->arcount};
	static const char *const section[3] = {"answer", "authority", "additional"};
	for (int s = 0; s < 3; s++) {
		for (unsigned i = 0; i < counts[s]; i++) {
			struct rr rr;
			if (read_rr(buf, len, &off, &rr) < 0 ||
			    (s < 2 &&
			     dns_rdata_text(buf, len, rr.rdoff, rr.rdlen, rr.type, NULL, 0) < 0)) {
				detail_set(detail, detail_len, "%s record %u of %u is malformed",
				           section[s], i + 1, counts[s]);
				return RES_DNS_MALFORMED;
			}
			/* answers are walked first, so an answer SOA wins */
			if (s < 2 && rr.type == T_SOA && rr.class == DNS_CLASS_IN &&
			    !info->has_serial && soa_serial(buf, len, &rr, &info->serial) == 0)
				info->has_serial = true;
		}
	}

	if (exp->rcode >= 0 && info->rcode != (unsigned)exp->rcode) {
		detail_set(detail, detail_len, "rcode %s, expected %s",
		           dns_rcode_name(info->rcode, rbuf, sizeof(rbuf)),
		           dns_rcode_name((unsigned)exp->rcode, rbuf2, sizeof(rbuf2)));
		return RES_DNS_RCODE;
	}
	if (exp->aa >= 0 && info->aa != (exp->aa != 0)) {
		if (info->aa)
			detail_set(detail, detail_len,
			           "AA bit set, expected a non-authoritative reply");
		else
			detail_set(detail, detail_len,
			           "AA bit clear: the server is not authoritative for %s",
			           exp->qname);
		return RES_DNS_NOT_AUTHORITATIVE;
	}
	for (size_t i = 0; i < exp->nanswers; i++) {
		char seen_buf[160];
		struct sbuf seen = {seen_buf, 0, sizeof(seen_buf)};
		seen_buf[0] = '\0';
		if (!answer_has(buf, len, an_off, info->ancount, exp->qtype, exp->answers[i],
		                &seen)) {
			detail_set(detail, detail_len, "expected \"%s\" not in answer (got: %s)",
			           exp->answers[i], seen.len ? seen_buf : "nothing");
			return RES_DNS_ANSWER_MISMATCH;
		}
	}
	return RES_OK;
}

int64_t dns_serial_lag(uint32_t local, uint32_t ref, bool *undefined)
{
	uint32_t d = ref - local;

	*undefined = false;
	if (d == 0x80000000u) {
		*undefined = true;
		return 0;
	}
	if (d < 0x80000000u)
		return (int64_t)d;
	return -(int64_t)(0x100000000ull - d);
}

enum check_result_code dns_eval_serial(uint32_t local, uint32_t ref, long max_lag, char *detail,
                                       size_t detail_len)
{
	bool undefined;
	int64_t lag = dns_serial_lag(local, ref, &undefined);

	if (undefined) {
		detail_set(detail, detail_len,
		           "serial %u and reference %u are 2^31 apart: no order (RFC 1982)", local,
		           ref);
		return RES_DNS_SERIAL_LAG;
	}
	if (lag > max_lag) {
		detail_set(detail, detail_len,
		           "serial %u trails reference %u by %lld (max_serial_lag %ld)", local, ref,
		           (long long)lag, max_lag);
		return RES_DNS_SERIAL_LAG;
	}
	if (lag < 0)
		detail_set(detail, detail_len, "serial %u ahead of reference %u", local, ref);
	else
		detail_set(detail, detail_len, "serial %u, reference %u, lag %lld", local, ref,
		           (long long)lag);
	return RES_OK;
}
