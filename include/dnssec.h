/* SPDX-License-Identifier: ISC */
/*
 * dnssec.h - judge the DNSSEC signatures of a zone from the bytes of two DNS
 * replies: the answer to the check's question (asked with the DO bit) and the
 * zone's DNSKEY RRset. Owns the RRSIG validity window (RFC 4034 3.1.5 serial
 * arithmetic against a time the caller passes in), the canonical form of an
 * RRset (RFC 4034 6), key tags (RFC 4034 appendix B) and the verification of
 * signatures with OpenSSL's libcrypto. Pure: no sockets, no clock; safe on any
 * input (a fuzzer calls it). The verification cache is the only state, and the
 * caller owns it.
 *
 * Each RRset checked (the answer's qname/qtype RRset, then the DNSKEY RRset at
 * the signer's name) is judged by its best signature: of the RRSIGs that cover
 * it, were made by the zone (signer name), have begun (inception <= now) and,
 * with validate, verify against a DNSKEY of the set, the one that expires last
 * (what a validating resolver can use longest). The check's expiry is the
 * earliest of the two RRsets' expiries.
 */
#ifndef AA_DNSSEC_H
#define AA_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define DNS_TYPE_RRSIG  46
#define DNS_TYPE_DNSKEY 48
#define DNSSEC_NAME_MAX 256 /* a name in text form, with the trailing dot */

struct dnssec_expect {
	const char *qname; /* the question; trailing dot optional */
	uint16_t qtype;
	int64_t now;   /* seconds since the epoch */
	int warn_days; /* an expiry within this many days warns; 0: never */
	int fail_days; /* within this many days fails; 0: only once expired */
	bool validate; /* verify the signatures with the zone's DNSKEYs */
};

/* Signatures already verified, with exactly what was verified (algorithm, key, signature,
 * signed data), so a server that answers the same bytes every run costs one verification, not
 * one per run. Comparing those bytes costs less than hashing them. */
#define DNSSEC_CACHE_SLOTS 4
struct dnssec_cache {
	struct dnssec_verified {
		uint8_t *bytes; /* key, signature, data; malloc'd */
		size_t klen, slen, dlen;
		unsigned alg;
		bool good;
	} slot[DNSSEC_CACHE_SLOTS];
	unsigned used, next;
	unsigned long hits, verifications; /* for tests and benchmarks */
};

/* Release what the cache holds; it is empty (and usable) afterwards. */
void dnssec_cache_free(struct dnssec_cache *cache);

struct dnssec_info {
	bool has_expiry;
	int64_t expires; /* earliest expiry of the RRsets judged, epoch seconds */
	char rrset[80];  /* the RRset that expires first, "SOA example.test." */
	unsigned keytag; /* of its best signature */
	bool verified;   /* every RRset's best signature verified (validate) */
};

/*
 * Find the zone that signed the answer: the signer name of the first RRSIG in
 * the answer section that covers qname/qtype. Returns RES_OK with the name in
 * text form (trailing dot) in signer, RES_DNSSEC_MISSING when the answer holds
 * no such RRset or no RRSIG covers it, RES_DNS_MALFORMED for broken bytes.
 * detail (may be NULL) says why.
 */
enum check_result_code dnssec_signer(const uint8_t *msg, size_t len, const char *qname,
                                     uint16_t qtype, char *signer, size_t signer_len, char *detail,
                                     size_t detail_len);

/*
 * Judge the answer (msg/len, the reply to qname/qtype) and the zone's DNSKEY
 * reply (keys/klen, the reply to signer/DNSKEY). Returns RES_OK, RES_DNSSEC_EXPIRING
 * (a WARN), or the first failure: DNS_MALFORMED, DNSSEC_MISSING (no RRset, no
 * RRSIG, no DNSKEY), DNSSEC_BOGUS (with validate: no signature verifies, or
 * none was made by a key of the set), DNSSEC_NOT_YET_VALID (inception in the
 * future), DNSSEC_EXPIRED (expired, or within fail_days). The answer's RRset is
 * judged before the DNSKEY RRset. info (may be NULL) gets the earliest expiry
 * even for a failure when one is known; detail names the RRset, key tag and
 * time. cache may be NULL.
 */
enum check_result_code dnssec_eval(const uint8_t *msg, size_t len, const uint8_t *keys, size_t klen,
                                   const char *signer, const struct dnssec_expect *exp,
                                   struct dnssec_cache *cache, struct dnssec_info *info,
                                   char *detail, size_t detail_len);

/* An RRSIG time field as seconds since the epoch: the instant nearest to now
 * with those low 32 bits (RFC 4034 3.1.5: serial arithmetic, so 2106 wraps). */
int64_t dnssec_time(uint32_t field, int64_t now);

/* RFC 4034 appendix B key tag of a DNSKEY's RDATA. */
unsigned dnssec_keytag(const uint8_t *rdata, size_t rdlen);

/* "2026-12-01T00:00:00Z" */
void dnssec_time_text(int64_t t, char *buf, size_t len);

#endif
