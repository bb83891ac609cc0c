/* SPDX-License-Identifier: ISC */
/*
 * dns_eval.h - judge the bytes of one DNS reply against what the query
 * asked and what the check expects. Pure: no sockets, no clock, no
 * allocation visible to the caller, safe on any input (a fuzzer calls it).
 *
 * Text form of answer records (what expect_answer values are compared with):
 *   A      "192.0.2.1"                    (compared as addresses)
 *   AAAA   "2001:db8::1"                  (compared as addresses)
 *   NS, CNAME, PTR, DNAME  "ns1.example.net."  (case-insensitive; trailing dot optional)
 *   MX     "10 mx.example.net."           (case-insensitive; trailing dot optional)
 *   TXT    the character-strings of one record joined with nothing between them;
 *          bytes outside 0x20-0x7e and '\' written as \DDD (decimal)
 *   SOA    "mname. rname. serial refresh retry expire minimum" (case-insensitive)
 *   other  RFC 3597 generic form "\# LEN HEX" (hex lowercase, case-insensitive)
 * Only answer-section records of class IN whose type is the query type
 * (any type for a query of type ANY) are compared.
 */
#ifndef AA_DNS_EVAL_H
#define AA_DNS_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define DNS_CLASS_IN 1
#define DNS_TYPE_SOA 6
#define DNS_TYPE_ANY 255

/* What a reply must match. */
struct dns_expect {
	uint16_t id;       /* the query's ID */
	const char *qname; /* the query name; trailing dot optional */
	uint16_t qtype;
	uint16_t qclass;
	bool tcp;             /* TC only fails a reply that came over UDP */
	int rcode;            /* expected RCODE, or -1 for any */
	int aa;               /* expected AA bit: 0/1, or -1 for don't care */
	char *const *answers; /* text forms that must all appear among the answers */
	size_t nanswers;
};

/* What the evaluator read from the reply (valid as far as it got). */
struct dns_reply_info {
	bool header_ok; /* at least a full 12-byte header */
	bool id_match;  /* ID equals dns_expect.id */
	uint16_t id;
	unsigned rcode;
	bool qr, aa, tc, rd, ra;
	unsigned qdcount, ancount, nscount, arcount;
	bool has_serial; /* an SOA was found: answer section first, else authority */
	uint32_t serial;
};

/*
 * Judge one reply. Returns RES_OK or the first failure, in this order:
 * DNS_MALFORMED (short header, QR clear, opcode not QUERY), DNS_QUESTION_MISMATCH
 * (ID, or question name/type/class differ), DNS_TRUNCATED (TC over UDP),
 * DNS_MALFORMED (a record runs past the end, bad name compression),
 * DNS_RCODE, DNS_NOT_AUTHORITATIVE, DNS_ANSWER_MISMATCH.
 * detail (may be NULL) gets one printable line saying why.
 */
enum check_result_code dns_eval_reply(const uint8_t *buf, size_t len, const struct dns_expect *exp,
                                      struct dns_reply_info *info, char *detail, size_t detail_len);

/*
 * RFC 1982 serial arithmetic: how far local trails ref. Returns 0 when equal,
 * > 0 when ref is ahead of local by that much, < 0 when local is ahead of ref,
 * and sets *undefined when the two are exactly 2^31 apart (no order exists).
 */
int64_t dns_serial_lag(uint32_t local, uint32_t ref, bool *undefined);

/* RES_OK or RES_DNS_SERIAL_LAG: local may trail ref by at most max_lag. */
enum check_result_code dns_eval_serial(uint32_t local, uint32_t ref, long max_lag, char *detail,
                                       size_t detail_len);

/* Names of RCODEs and RR types ("NOERROR", "SOA"); numbers print as "RCODE17"/"TYPE65". */
const char *dns_rcode_name(unsigned rcode, char *buf, size_t len);
const char *dns_type_name(unsigned type, char *buf, size_t len);
/* Inverse: -1 if unknown. Accepts "TYPE65"/"RCODE17" forms too; case-insensitive. */
int dns_rcode_from_name(const char *name);
int dns_type_from_name(const char *name);

/*
 * Text form of one record's RDATA (see the top of this file). msg/len is the
 * whole message (for name compression); rdata is at offset rdoff. Returns 0,
 * or -1 when the RDATA is malformed. With outlen 0 (out may be NULL) it only
 * validates the RDATA and formats nothing.
 */
int dns_rdata_text(const uint8_t *msg, size_t len, size_t rdoff, uint16_t rdlen, uint16_t type,
                   char *out, size_t outlen);

#endif
