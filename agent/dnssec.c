/* SPDX-License-Identifier: ISC */
/*
 * dnssec.c - judges DNSSEC signatures in DNS reply bytes (see dnssec.h):
 * finds the RRset and the RRSIGs that cover it, builds the data a signer
 * signed (RFC 4034 3.1.8.1 and 6: canonical names, RDATA, order), checks the
 * validity window and verifies signatures with OpenSSL's libcrypto (already in
 * the agent's process through libcurl). Every byte is read here with explicit
 * bounds, so the fuzzer's sanitisers see all of the parsing.
 */
#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "dns_eval.h"
#include "dnssec.h"
#include "util.h"

#define HDR_LEN  12
#define WIRE_MAX 255 /* a name in wire form */
#define RSA_MAX_BITS                                                                               \
	4096 /* RFC 3110/5702 keys; a bigger one from a hostile server would cost ms to verify */

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

int64_t dnssec_time(uint32_t field, int64_t now)
{
	return now + (int32_t)(field - (uint32_t)now);
}

unsigned dnssec_keytag(const uint8_t *rd, size_t len)
{
	uint32_t ac = 0;

	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += (ac >> 16) & 0xffff;
	return ac & 0xffff;
}

void dnssec_time_text(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%" PRId64, t);
}

/* --- names ---------------------------------------------------------------- */

/*
 * The name at off in canonical wire form (uncompressed, ASCII lowercased) into
 * out; *enclen is how many bytes it occupies at off. Compression pointers must
 * point backwards, which rules out loops. Returns 0, or -1 if malformed.
 */
static int name_canon(const uint8_t *msg, size_t len, size_t off, uint8_t *out, size_t *outlen,
                      size_t *enclen)
{
	size_t pos = off, n = 0, enc = 0;
	bool jumped = false;

	for (;;) {
		if (pos >= len)
			return -1;
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -1;
			size_t ptr = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (!jumped)
				enc = pos + 2 - off;
			jumped = true;
			if (ptr >= pos)
				return -1;
			pos = ptr;
			continue;
		}
		if (c & 0xc0)
			return -1;
		if (n + 1 + c > WIRE_MAX || c > len - pos - 1)
			return -1;
		out[n++] = c;
		for (size_t i = 0; i < c; i++) {
			uint8_t b = msg[pos + 1 + i];
			out[n++] = b >= 'A' && b <= 'Z' ? (uint8_t)(b + 32) : b;
		}
		pos += 1 + (size_t)c;
		if (c == 0)
			break;
	}
	if (!jumped)
		enc = pos - off;
	*outlen = n;
	*enclen = enc;
	return 0;
}

/* Text form of a wire name, "www.example.test." ("." for the root); odd bytes as \DDD. */
static void name_text(const uint8_t *w, char *out, size_t outlen)
{
	size_t o = 0, i = 0;

	if (outlen < 2) {
		if (outlen == 1)
			out[0] = '\0';
		return;
	}
	if (w[0] == 0)
		out[o++] = '.';
	/* a byte takes at most 4 characters; stop while 5 (and the NUL) still fit */
	while (w[i] != 0 && o + 6 <= outlen) {
		size_t l = w[i++];
		for (size_t j = 0; j < l && o + 6 <= outlen; j++, i++) {
			uint8_t c = w[i];
			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
		out[o++] = '.';
	}
	out[o] = '\0';
}

/* A text name ("example.test" or "example.test.", plain labels) in lowercase wire form. */
static int name_from_text(const char *s, uint8_t *out, size_t *outlen)
{
	size_t n = 0;

	if (s == NULL)
		return -1;
	if (strcmp(s, ".") == 0)
		s = "";
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > 63 || n + 1 + l + 1 > WIRE_MAX)
			return -1;
		out[n++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			out[n++] =
			    s[i] >= 'A' && s[i] <= 'Z' ? (uint8_t)(s[i] + 32) : (uint8_t)s[i];
		s += l;
		if (*s == '.')
			s++;
	}
	out[n++] = 0;
	*outlen = n;
	return 0;
}

static unsigned name_labels(const uint8_t *w)
{
	unsigned n = 0;

	for (size_t i = 0; w[i] != 0; i += 1 + (size_t)w[i])
		n++;
	return n;
}

static bool name_eq(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

/* True if zone is name or one of its ancestors (both canonical). */
static bool name_under(const uint8_t *name, size_t nl, const uint8_t *zone, size_t zl)
{
	for (size_t i = 0; i < nl; i += 1 + (size_t)name[i]) {
		if (nl - i == zl && memcmp(name + i, zone, zl) == 0)
			return true;
		if (name[i] == 0)
			break;
	}
	return false;
}

/* --- a growable byte buffer ----------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->n + n)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void buf_u16(struct buf *b, unsigned v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	buf_add(b, x, 2);
}

/* --- records --------------------------------------------------------------- */

struct rec {
	size_t rdoff;
	uint16_t type, rdlen;
};

struct rrset {
	uint8_t owner[WIRE_MAX];
	size_t ownerlen;
	uint16_t type;
	struct rec *rr; /* the records of the RRset */
	size_t nrr;
	struct rec *sig; /* RRSIGs covering it, made by the signer */
	size_t nsig;
};

static void rrset_free(struct rrset *s)
{
	free(s->rr);
	free(s->sig);
	s->rr = s->sig = NULL;
	s->nrr = s->nsig = 0;
}

/* The answer section of a reply: its offset and record count. */
static int answers(const uint8_t *msg, size_t len, size_t *off, unsigned *count)
{
	uint8_t w[WIRE_MAX];
	size_t wl, el, o = HDR_LEN;

	if (len < HDR_LEN || len > 65535 || !(msg[2] & 0x80))
		return -1;
	for (unsigned i = 0, qd = get16(msg + 4); i < qd; i++) {
		if (name_canon(msg, len, o, w, &wl, &el) < 0 || len - o - el < 4)
			return -1;
		o += el + 4;
	}
	*off = o;
	*count = get16(msg + 6);
	return 0;
}

/* The signer name of an RRSIG's RDATA (canonical) and where its signature starts. */
static int sig_signer(const uint8_t *msg, const struct rec *r, uint8_t *signer, size_t *sl,
                      size_t *sigoff)
{
	size_t el;

	if (r->rdlen < 19)
		return -1;
	/* the signer is never compressed (RFC 4034 3.1.7): read it within the RDATA */
	if (name_canon(msg, r->rdoff + r->rdlen, r->rdoff + 18, signer, sl, &el) < 0)
		return -1;
	*sigoff = r->rdoff + 18 + el;
	return 0;
}

/*
 * Collect from the answer section the RRset owner/type of class IN and the RRSIGs
 * covering it; with signer (not NULL) only those it made, else any whose signer is
 * the owner or an ancestor. Returns 0 or -1 (malformed; detail set).
 */
static int collect(const uint8_t *msg, size_t len, struct rrset *s, const uint8_t *signer,
                   size_t signerlen, char *detail, size_t dlen)
{
	size_t off;
	unsigned count;

	if (answers(msg, len, &off, &count) < 0) {
		detail_set(detail, dlen, "reply is malformed (header or question)");
		return -1;
	}
	/* room for every record the bytes can hold (11 bytes each at least): no realloc per record
	 */
	size_t room = count < (len - off) / 11 + 1 ? count : (len - off) / 11 + 1;
	s->rr = xcalloc(room ? room : 1, sizeof(*s->rr));
	s->sig = xcalloc(room ? room : 1, sizeof(*s->sig));
	for (unsigned i = 0; i < count; i++) {
		uint8_t w[WIRE_MAX], sg[WIRE_MAX];
		size_t wl, el, sgl, sigoff;
		struct rec r;

		if (name_canon(msg, len, off, w, &wl, &el) < 0 || len - off - el < 10) {
			detail_set(detail, dlen, "answer record %u of %u is malformed", i + 1,
			           count);
			return -1;
		}
		const uint8_t *p = msg + off + el;
		r.type = get16(p);
		uint16_t cls = get16(p + 2);
		r.rdlen = get16(p + 8);
		r.rdoff = off + el + 10;
		if (r.rdlen > len - r.rdoff) {
			detail_set(detail, dlen, "answer record %u of %u runs past the end", i + 1,
			           count);
			return -1;
		}
		off = r.rdoff + r.rdlen;
		if (cls != DNS_CLASS_IN || !name_eq(w, wl, s->owner, s->ownerlen))
			continue;
		if (r.type == s->type) {
			s->rr[s->nrr++] = r;
		} else if (r.type == DNS_TYPE_RRSIG && r.rdlen >= 19 &&
		           get16(msg + r.rdoff) == s->type &&
		           sig_signer(msg, &r, sg, &sgl, &sigoff) == 0 &&
		           (signer != NULL ? name_eq(sg, sgl, signer, signerlen)
		                           : name_under(s->owner, s->ownerlen, sg, sgl))) {
			s->sig[s->nsig++] = r;
		}
	}
	return 0;
}

/* --- canonical form --------------------------------------------------------- */

/* Append n bytes of RDATA at off verbatim; returns the new offset or 0 on overrun. */
static size_t rd_copy(struct buf *b, const uint8_t *msg, size_t off, size_t end, size_t n)
{
	if (n > end - off)
		return 0;
	buf_add(b, msg + off, n);
	return off + n;
}

static size_t rd_name(struct buf *b, const uint8_t *msg, size_t len, size_t off, size_t end)
{
	uint8_t w[WIRE_MAX];
	size_t wl, el;

	/* a compressed name may point anywhere before it in the message */
	if (off >= end || name_canon(msg, len, off, w, &wl, &el) < 0 || el > end - off)
		return 0;
	buf_add(b, w, wl);
	return off + el;
}

/* Character-strings (NAPTR): one length byte and that many bytes. */
static size_t rd_string(struct buf *b, const uint8_t *msg, size_t off, size_t end)
{
	if (off >= end)
		return 0;
	return rd_copy(b, msg, off, end, 1 + (size_t)msg[off]);
}

/* RDATA in canonical form (RFC 4034 6.2, names uncompressed and lowercased for the types
 * that carry them); returns 0, or -1 when the RDATA does not parse. */
static int rdata_canon(struct buf *b, const uint8_t *msg, size_t len, const struct rec *r)
{
	size_t o = r->rdoff, end = r->rdoff + r->rdlen;

	switch (r->type) {
	case 2:  /* NS */
	case 3:  /* MD */
	case 4:  /* MF */
	case 5:  /* CNAME */
	case 7:  /* MB */
	case 8:  /* MG */
	case 9:  /* MR */
	case 12: /* PTR */
	case 39: /* DNAME */
		o = rd_name(b, msg, len, o, end);
		break;
	case 6: /* SOA */
		o = rd_name(b, msg, len, o, end);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		o = o ? rd_copy(b, msg, o, end, 20) : 0;
		break;
	case 14: /* MINFO */
	case 17: /* RP */
		o = rd_name(b, msg, len, o, end);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		break;
	case 15: /* MX */
	case 18: /* AFSDB */
	case 21: /* RT */
	case 36: /* KX */
		o = rd_copy(b, msg, o, end, 2);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		break;
	case 26: /* PX */
		o = rd_copy(b, msg, o, end, 2);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		o = o ? rd_name(b, msg, len, o, end) : 0;
		break;
	case 33: /* SRV */
		o = rd_copy(b, msg, o, end, 6);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		break;
	case 35: /* NAPTR */
		o = rd_copy(b, msg, o, end, 4);
		for (int i = 0; i < 3 && o; i++)
			o = rd_string(b, msg, o, end);
		o = o ? rd_name(b, msg, len, o, end) : 0;
		break;
	default:
		if (r->rdlen > 0)
			buf_add(b, msg + o, r->rdlen);
		return 0;
	}
	return o == end ? 0 : -1;
}

struct canon_rr {
	size_t off, len; /* of the canonical RDATA in the scratch buffer */
};

static int canon_cmp(const void *a, const void *b, void *base)
{
	const struct canon_rr *x = a, *y = b;
	const uint8_t *p = base;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(p + x->off, p + y->off, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * The data the RRSIG sig signed (RFC 4034 3.1.8.1): its RDATA without the
 * signature, then the RRset in canonical form and order. Returns 0, 1 when the
 * labels field says more labels than the owner has (not a valid signature), or
 * -1 for RDATA that does not parse.
 */
static int signed_data(const uint8_t *msg, size_t len, const struct rrset *s, const struct rec *sig,
                       const uint8_t *signer, size_t signerlen, struct buf *out)
{
	struct buf scratch = {0};
	struct canon_rr *cr = xcalloc(s->nrr, sizeof(*cr));
	const uint8_t *rd = msg + sig->rdoff;
	unsigned labels = rd[3], have = name_labels(s->owner);
	uint8_t owner[WIRE_MAX];
	size_t ownerlen = 0, skip = 0;
	int rc = 0;

	/* a leading "*" label is not counted (RFC 4034 3.1.3) */
	if (s->owner[0] == 1 && s->owner[1] == '*')
		have--;
	if (labels > have) {
		rc = 1;
		goto out;
	}
	/* wildcard expansion: the signer signed "*." + the closest encloser */
	for (unsigned i = labels; i < name_labels(s->owner); i++)
		skip += 1 + (size_t)s->owner[skip];
	if (labels < have) {
		owner[0] = 1;
		owner[1] = '*';
		ownerlen = 2;
	}
	memcpy(owner + ownerlen, s->owner + skip, s->ownerlen - skip);
	ownerlen += s->ownerlen - skip;

	for (size_t i = 0; i < s->nrr; i++) {
		cr[i].off = scratch.n;
		if (rdata_canon(&scratch, msg, len, &s->rr[i]) < 0) {
			rc = -1;
			goto out;
		}
		cr[i].len = scratch.n - cr[i].off;
		if (cr[i].len > 65535) {
			rc = -1;
			goto out;
		}
	}
	qsort_r(cr, s->nrr, sizeof(*cr), canon_cmp, scratch.p);

	buf_add(out, rd, 18);
	buf_add(out, signer, signerlen);
	for (size_t i = 0; i < s->nrr; i++) {
		/* duplicates are one RR in the set (RFC 4034 6.3) */
		if (i > 0 && cr[i].len == cr[i - 1].len &&
		    memcmp(scratch.p + cr[i].off, scratch.p + cr[i - 1].off, cr[i].len) == 0)
			continue;
		buf_add(out, owner, ownerlen);
		buf_u16(out, s->type);
		buf_u16(out, DNS_CLASS_IN);
		buf_add(out, rd + 4, 4); /* the original TTL */
		buf_u16(out, (unsigned)cr[i].len);
		if (cr[i].len > 0)
			buf_add(out, scratch.p + cr[i].off, cr[i].len);
	}
out:
	free(scratch.p);
	free(cr);
	return rc;
}

/* --- signatures --------------------------------------------------------------- */

enum verdict { V_GOOD, V_BAD, V_BADKEY, V_UNSUPPORTED };

static EVP_PKEY *pkey_fromdata(const char *type, OSSL_PARAM *params)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pk = NULL;

	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* RFC 3110: exponent length (1 byte, or 0 and 2 bytes), exponent, modulus. */
static EVP_PKEY *rsa_key(const uint8_t *k, size_t kl)
{
	size_t el, eo;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	BIGNUM *n = NULL, *e = NULL;
	EVP_PKEY *pk = NULL;

	if (kl < 1)
		return NULL;
	if (k[0] != 0) {
		el = k[0];
		eo = 1;
	} else {
		if (kl < 3)
			return NULL;
		el = get16(k + 1);
		eo = 3;
	}
	if (el == 0 || el > kl - eo || kl - eo - el < 64 || (kl - eo - el) * 8 > RSA_MAX_BITS)
		return NULL;
	e = BN_bin2bn(k + eo, (int)el, NULL);
	n = BN_bin2bn(k + eo + el, (int)(kl - eo - el), NULL);
	bld = OSSL_PARAM_BLD_new();
	if (e != NULL && n != NULL && bld != NULL &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
		pk = pkey_fromdata("RSA", params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

/* RFC 6605: the point's X and Y, without the uncompressed-point prefix. */
static EVP_PKEY *ec_key(const char *group, size_t coord, const uint8_t *k, size_t kl)
{
	uint8_t pt[1 + 96];
	OSSL_PARAM params[3];

	if (kl != 2 * coord)
		return NULL;
	pt[0] = 4;
	memcpy(pt + 1, k, kl);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + kl);
	params[2] = OSSL_PARAM_construct_end();
	return pkey_fromdata("EC", params);
}

/* RFC 6605 signatures are r|s; libcrypto wants DER. *der is OPENSSL_malloc'd. */
static int ec_sig_der(const uint8_t *sig, size_t sl, size_t coord, unsigned char **der)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	int n;

	if (sl != 2 * coord)
		return -1;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, (int)coord, NULL);
	s = BN_bin2bn(sig + coord, (int)coord, NULL);
	if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return -1;
	}
	*der = NULL;
	n = i2d_ECDSA_SIG(es, der);
	ECDSA_SIG_free(es);
	return n;
}

static enum verdict verify(unsigned alg, const uint8_t *key, size_t kl, const uint8_t *sig,
                           size_t sl, const uint8_t *data, size_t dl)
{
	const EVP_MD *md = NULL;
	EVP_PKEY *pk = NULL;
	EVP_MD_CTX *mctx;
	unsigned char *der = NULL;
	size_t coord = 0;
	enum verdict v;

	switch (alg) {
	case 5: /* RSASHA1 */
	case 7: /* RSASHA1-NSEC3-SHA1 */
		md = EVP_sha1();
		pk = rsa_key(key, kl);
		break;
	case 8: /* RSASHA256 */
		md = EVP_sha256();
		pk = rsa_key(key, kl);
		break;
	case 10: /* RSASHA512 */
		md = EVP_sha512();
		pk = rsa_key(key, kl);
		break;
	case 13: /* ECDSAP256SHA256 */
		md = EVP_sha256();
		coord = 32;
		pk = ec_key("prime256v1", coord, key, kl);
		break;
	case 14: /* ECDSAP384SHA384 */
		md = EVP_sha384();
		coord = 48;
		pk = ec_key("secp384r1", coord, key, kl);
		break;
	case 15: /* ED25519 */
		pk = kl == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, kl) : NULL;
		break;
	case 16: /* ED448 */
		pk = kl == 57 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL, key, kl) : NULL;
		break;
	default:
		return V_UNSUPPORTED;
	}
	if (pk == NULL)
		return V_BADKEY;
	if (coord > 0) {
		int n = ec_sig_der(sig, sl, coord, &der);
		if (n <= 0) {
			EVP_PKEY_free(pk);
			return V_BAD;
		}
		sig = der;
		sl = (size_t)n;
	}
	mctx = EVP_MD_CTX_new();
	if (mctx != NULL && EVP_DigestVerifyInit(mctx, NULL, md, NULL, pk) == 1 &&
	    EVP_DigestVerify(mctx, sig, sl, data, dl) == 1)
		v = V_GOOD;
	else
		v = V_BAD;
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return v;
}

/* verify() through the cache: an entry holds everything the verdict depends on. */
static enum verdict verify_cached(struct dnssec_cache *c, unsigned alg, const uint8_t *key,
                                  size_t kl, const uint8_t *sig, size_t sl, const uint8_t *data,
                                  size_t dl)
{
	struct dnssec_verified *e;
	enum verdict v;

	if (c == NULL)
		return verify(alg, key, kl, sig, sl, data, dl);
	for (unsigned i = 0; i < c->used; i++) {
		e = &c->slot[i];
		if (e->alg == alg && e->klen == kl && e->slen == sl && e->dlen == dl &&
		    memcmp(e->bytes, key, kl) == 0 && memcmp(e->bytes + kl, sig, sl) == 0 &&
		    memcmp(e->bytes + kl + sl, data, dl) == 0) {
			c->hits++;
			return e->good ? V_GOOD : V_BAD;
		}
	}
	v = verify(alg, key, kl, sig, sl, data, dl);
	c->verifications++;
	if (v != V_GOOD && v != V_BAD)
		return v;
	e = &c->slot[c->next];
	e->bytes = xrealloc(e->bytes, kl + sl + dl);
	memcpy(e->bytes, key, kl);
	memcpy(e->bytes + kl, sig, sl);
	memcpy(e->bytes + kl + sl, data, dl);
	e->klen = kl;
	e->slen = sl;
	e->dlen = dl;
	e->alg = alg;
	e->good = v == V_GOOD;
	c->next = (c->next + 1) % DNSSEC_CACHE_SLOTS;
	if (c->used < DNSSEC_CACHE_SLOTS)
		c->used++;
	return v;
}

void dnssec_cache_free(struct dnssec_cache *c)
{
	for (unsigned i = 0; i < DNSSEC_CACHE_SLOTS; i++)
		free(c->slot[i].bytes);
	memset(c, 0, sizeof(*c));
}

/* --- judging one RRset ------------------------------------------------------------ */

struct judgement {
	enum check_result_code code;
	bool has_best;
	int64_t best_exp;
	unsigned best_tag;
	bool verified;
};

static void type_text(uint16_t t, char *buf, size_t len)
{
	char tmp[16];
	snprintf(buf, len, "%s", dns_type_name(t, tmp, sizeof(tmp)));
}

static void days_text(int64_t secs, char *buf, size_t len)
{
	double d = (double)(secs < 0 ? -secs : secs) / 86400.0;

	if (secs < 0)
		snprintf(buf, len, "%.1f days ago", d);
	else
		snprintf(buf, len, "in %.1f days", d);
}

/*
 * Judge one RRset by its signatures (see dnssec.h). keys is the DNSKEY RRset
 * (from kmsg) the signatures must verify with, or NULL without validate.
 */
static struct judgement judge(const uint8_t *msg, size_t len, const struct rrset *s,
                              const uint8_t *kmsg, const struct rrset *keys, const uint8_t *signer,
                              size_t signerlen, const struct dnssec_expect *exp,
                              struct dnssec_cache *cache, char *detail, size_t dlen)
{
	struct judgement j = {.code = RES_OK};
	char what[80], ts[32], tt[16], zone[DNSSEC_NAME_MAX], owner[DNSSEC_NAME_MAX], ago[40];
	enum check_result_code why = RES_OK; /* why no signature was usable */
	char whybuf[200] = "";
	struct buf data = {0};

	type_text(s->type, tt, sizeof(tt));
	name_text(s->owner, owner, sizeof(owner));
	name_text(signer, zone, sizeof(zone));
	detail_set(what, sizeof(what), "%s %s", tt, owner);

	for (size_t i = 0; i < s->nsig; i++) {
		const struct rec *g = &s->sig[i];
		const uint8_t *rd = msg + g->rdoff;
		unsigned alg = rd[2], tag = get16(rd + 16);
		int64_t inc = dnssec_time(get32(rd + 12), exp->now);
		int64_t ex = dnssec_time(get32(rd + 8), exp->now);
		uint8_t sg[WIRE_MAX];
		size_t sgl, sigoff;

		if (sig_signer(msg, g, sg, &sgl, &sigoff) < 0)
			continue; /* collect() read it already */
		if (exp->validate) {
			enum verdict best = V_UNSUPPORTED;
			bool any_key = false;
			int sd;

			data.n = 0;
			sd = signed_data(msg, len, s, g, signer, signerlen, &data);
			if (sd < 0) {
				detail_set(detail, dlen, "%s: RDATA does not parse", what);
				j.code = RES_DNS_MALFORMED;
				goto out;
			}
			for (size_t k = 0; sd == 0 && k < keys->nrr && best != V_GOOD; k++) {
				const struct rec *kr = &keys->rr[k];
				const uint8_t *kd = kmsg + kr->rdoff;
				if (kr->rdlen < 4 || !(get16(kd) & 0x0100) || kd[2] != 3 ||
				    kd[3] != alg || dnssec_keytag(kd, kr->rdlen) != tag)
					continue;
				any_key = true;
				enum verdict v =
				    verify_cached(cache, alg, kd + 4, kr->rdlen - 4u, msg + sigoff,
				                  g->rdoff + g->rdlen - sigoff, data.p, data.n);
				best = v;
			}
			if (best != V_GOOD) {
				if (why == RES_OK || why == RES_DNSSEC_BOGUS) {
					why = RES_DNSSEC_BOGUS;
					if (sd == 1)
						detail_set(
						    whybuf, sizeof(whybuf),
						    "%s: RRSIG key %u has labels %u, more than "
						    "the owner has",
						    what, tag, rd[3]);
					else if (!any_key)
						detail_set(
						    whybuf, sizeof(whybuf),
						    "%s: RRSIG key %u algorithm %u: no such key in "
						    "the DNSKEY RRset of %s (signed by another "
						    "key)",
						    what, tag, alg, zone);
					else if (best == V_UNSUPPORTED)
						detail_set(
						    whybuf, sizeof(whybuf),
						    "%s: RRSIG key %u: algorithm %u cannot be "
						    "verified (supported: 5 7 8 10 13 14 15 16)",
						    what, tag, alg);
					else if (best == V_BADKEY)
						detail_set(
						    whybuf, sizeof(whybuf),
						    "%s: DNSKEY %u algorithm %u of %s is malformed",
						    what, tag, alg, zone);
					else
						detail_set(
						    whybuf, sizeof(whybuf),
						    "%s: RRSIG key %u algorithm %u does not verify "
						    "(RRset or signature altered)",
						    what, tag, alg);
				}
				continue;
			}
		}
		if (inc > exp->now) {
			if (why != RES_DNSSEC_NOT_YET_VALID) {
				why = RES_DNSSEC_NOT_YET_VALID;
				dnssec_time_text(inc, ts, sizeof(ts));
				days_text(inc - exp->now, ago, sizeof(ago));
				detail_set(whybuf, sizeof(whybuf),
				           "%s: RRSIG key %u inception %s is in the future (%.1f "
				           "days; clock skew or a broken signer)",
				           what, tag, ts, (double)(inc - exp->now) / 86400.0);
			}
			continue;
		}
		if (!j.has_best || ex > j.best_exp) {
			j.has_best = true;
			j.best_exp = ex;
			j.best_tag = tag;
		}
	}
	j.verified = exp->validate && j.has_best;
	if (!j.has_best) {
		j.code = why;
		detail_set(detail, dlen, "%s", whybuf);
		goto out;
	}
	int64_t rem = j.best_exp - exp->now;
	dnssec_time_text(j.best_exp, ts, sizeof(ts));
	days_text(rem, ago, sizeof(ago));
	if (rem < 0) {
		j.code = RES_DNSSEC_EXPIRED;
		detail_set(detail, dlen, "%s: RRSIG key %u expired %s (%s)", what, j.best_tag, ts,
		           ago);
	} else if (rem < (int64_t)exp->fail_days * 86400) {
		j.code = RES_DNSSEC_EXPIRED;
		detail_set(detail, dlen, "%s: RRSIG key %u expires %s, %s (rrsig_fail_days %d)",
		           what, j.best_tag, ts, ago, exp->fail_days);
	} else if (exp->warn_days > 0 && rem < (int64_t)exp->warn_days * 86400) {
		j.code = RES_DNSSEC_EXPIRING;
		detail_set(detail, dlen, "%s: RRSIG key %u expires %s, %s (rrsig_warn_days %d)",
		           what, j.best_tag, ts, ago, exp->warn_days);
	}
out:
	free(data.p);
	return j;
}

enum check_result_code dnssec_signer(const uint8_t *msg, size_t len, const char *qname,
                                     uint16_t qtype, char *signer, size_t signer_len, char *detail,
                                     size_t detail_len)
{
	struct rrset s = {.type = qtype};
	char tt[16], owner[DNSSEC_NAME_MAX];
	enum check_result_code rc = RES_OK;
	uint8_t sg[WIRE_MAX];
	size_t sgl, sigoff;

	if (signer_len > 0)
		signer[0] = '\0';
	detail_set(detail, detail_len, "ok");
	if (name_from_text(qname, s.owner, &s.ownerlen) < 0) {
		detail_set(detail, detail_len, "qname is not a plain domain name");
		return RES_INTERNAL_ERROR;
	}
	if (collect(msg, len, &s, NULL, 0, detail, detail_len) < 0) {
		rrset_free(&s); /* what it collected before the broken record */
		return RES_DNS_MALFORMED;
	}
	type_text(qtype, tt, sizeof(tt));
	name_text(s.owner, owner, sizeof(owner));
	if (s.nrr == 0) {
		detail_set(detail, detail_len, "no %s RRset for %s in the answer", tt, owner);
		rc = RES_DNSSEC_MISSING;
	} else if (s.nsig == 0) {
		detail_set(detail, detail_len,
		           "%s %s: no RRSIG in the answer (zone unsigned, or DO ignored)", tt,
		           owner);
		rc = RES_DNSSEC_MISSING;
	} else if (sig_signer(msg, &s.sig[0], sg, &sgl, &sigoff) < 0) {
		rc = RES_DNS_MALFORMED;
	} else {
		/* the signer is queried by name next: it must be a plain hostname */
		for (size_t i = 0; i < sgl && sg[i] != 0; i += 1 + (size_t)sg[i])
			for (size_t k = 1; k <= sg[i]; k++) {
				uint8_t c = sg[i + k];
				if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
				      c == '-' || c == '_'))
					rc = RES_DNS_MALFORMED;
			}
		if (rc != RES_OK)
			detail_set(detail, detail_len, "%s %s: RRSIG signer name is not a hostname",
			           tt, owner);
		else
			name_text(sg, signer, signer_len);
	}
	rrset_free(&s);
	return rc;
}

enum check_result_code dnssec_eval(const uint8_t *msg, size_t len, const uint8_t *keys, size_t klen,
                                   const char *signer, const struct dnssec_expect *exp,
                                   struct dnssec_cache *cache, struct dnssec_info *info,
                                   char *detail, size_t detail_len)
{
	struct dnssec_info local;
	struct rrset a = {.type = exp->qtype}, k = {.type = DNS_TYPE_DNSKEY};
	uint8_t zone[WIRE_MAX];
	size_t zl;
	char zt[DNSSEC_NAME_MAX], d2[200] = "", ts[32], ago[40];
	enum check_result_code rc = RES_OK;
	struct judgement ja = {0}, jk = {0};

	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	detail_set(detail, detail_len, "ok");
	if (name_from_text(exp->qname, a.owner, &a.ownerlen) < 0 ||
	    name_from_text(signer, zone, &zl) < 0 || !name_under(a.owner, a.ownerlen, zone, zl)) {
		detail_set(detail, detail_len, "signer %s does not enclose %s",
		           signer ? signer : "", exp->qname ? exp->qname : "");
		return RES_DNSSEC_BOGUS;
	}
	memcpy(k.owner, zone, zl);
	k.ownerlen = zl;
	name_text(zone, zt, sizeof(zt));

	if (collect(msg, len, &a, zone, zl, detail, detail_len) < 0 ||
	    collect(keys, klen, &k, zone, zl, detail, detail_len) < 0) {
		rc = RES_DNS_MALFORMED;
		goto out;
	}
	if (a.nrr == 0 || a.nsig == 0) {
		char tt[16], ow[DNSSEC_NAME_MAX];
		type_text(a.type, tt, sizeof(tt));
		name_text(a.owner, ow, sizeof(ow));
		if (a.nrr == 0)
			detail_set(detail, detail_len, "no %s RRset for %s in the answer", tt, ow);
		else
			detail_set(detail, detail_len, "%s %s: no RRSIG made by %s", tt, ow, zt);
		rc = RES_DNSSEC_MISSING;
		goto out;
	}
	if (k.nrr == 0) {
		detail_set(detail, detail_len, "no DNSKEY RRset at %s", zt);
		rc = RES_DNSSEC_MISSING;
		goto out;
	}
	if (k.nsig == 0) {
		detail_set(detail, detail_len, "DNSKEY %s: no RRSIG made by %s", zt, zt);
		rc = RES_DNSSEC_MISSING;
		goto out;
	}
	ja = judge(msg, len, &a, keys, &k, zone, zl, exp, cache, detail, detail_len);
	jk = judge(keys, klen, &k, keys, &k, zone, zl, exp, cache, d2, sizeof(d2));
	/* the answer's RRset first; a failure wins over a warning */
	if (result_class(ja.code) != RESULT_FAIL &&
	    (result_class(jk.code) == RESULT_FAIL || ja.code == RES_OK)) {
		rc = jk.code;
		if (rc != RES_OK)
			detail_set(detail, detail_len, "%s", d2);
	} else {
		rc = ja.code;
	}
	if (ja.has_best || jk.has_best) {
		const struct judgement *e = !jk.has_best                                ? &ja
		                            : !ja.has_best || jk.best_exp < ja.best_exp ? &jk
		                                                                        : &ja;
		char tt[16], ow[DNSSEC_NAME_MAX];
		const struct rrset *es = e == &ja ? &a : &k;
		info->has_expiry = true;
		info->expires = e->best_exp;
		info->keytag = e->best_tag;
		type_text(es->type, tt, sizeof(tt));
		name_text(es->owner, ow, sizeof(ow));
		detail_set(info->rrset, sizeof(info->rrset), "%s %s", tt, ow);
	}
	info->verified = ja.verified && jk.verified;
	if (rc == RES_OK && info->has_expiry) {
		dnssec_time_text(info->expires, ts, sizeof(ts));
		days_text(info->expires - exp->now, ago, sizeof(ago));
		detail_set(detail, detail_len, "RRSIG %s key %u expires %s (%s)%s", info->rrset,
		           info->keytag, ts, ago, info->verified ? ", verified" : "");
	}
out:
	rrset_free(&a);
	rrset_free(&k);
	return rc;
}
