/* SPDX-License-Identifier: ISC */
/*
 * result.h - what a check run can report, and the one string table that
 * names each result (shared by the daemon, anycastctl and the tests), and
 * struct check_report, what one run reports to the engine.
 *
 * Every result has a class: PASS (the check passed), WARN (passed but the
 * check is degraded), FAIL (counts towards fall). SERVICE_DEAD is not a
 * probe's result: a death watch (watch.h) saw the service die, and the
 * engine applies it at once (engine_check_death()).
 */
#ifndef AA_RESULT_H
#define AA_RESULT_H

#include <stdint.h>

enum result_class { RESULT_PASS, RESULT_WARN, RESULT_FAIL };

/* X(code, name, class) */
#define CHECK_RESULTS(X)                                                                           \
	X(RES_OK, "OK", RESULT_PASS)                                                               \
	X(RES_WARNING, "WARNING", RESULT_WARN)                                                     \
	X(RES_CERT_EXPIRING, "CERT_EXPIRING", RESULT_WARN)                                         \
	X(RES_DNSSEC_EXPIRING, "DNSSEC_EXPIRING", RESULT_WARN)                                     \
	X(RES_TIMEOUT, "TIMEOUT", RESULT_FAIL)                                                     \
	X(RES_CONNECT_REFUSED, "CONNECT_REFUSED", RESULT_FAIL)                                     \
	X(RES_CONNECT_FAILED, "CONNECT_FAILED", RESULT_FAIL)                                       \
	X(RES_TLS_ERROR, "TLS_ERROR", RESULT_FAIL)                                                 \
	X(RES_CERT_INVALID, "CERT_INVALID", RESULT_FAIL)                                           \
	X(RES_HTTP_ERROR, "HTTP_ERROR", RESULT_FAIL)                                               \
	X(RES_HTTP_STATUS_MISMATCH, "HTTP_STATUS_MISMATCH", RESULT_FAIL)                           \
	X(RES_HTTP_BODY_MISMATCH, "HTTP_BODY_MISMATCH", RESULT_FAIL)                               \
	X(RES_DNS_RCODE, "DNS_RCODE", RESULT_FAIL)                                                 \
	X(RES_DNS_NOT_AUTHORITATIVE, "DNS_NOT_AUTHORITATIVE", RESULT_FAIL)                         \
	X(RES_DNS_ANSWER_MISMATCH, "DNS_ANSWER_MISMATCH", RESULT_FAIL)                             \
	X(RES_DNS_QUESTION_MISMATCH, "DNS_QUESTION_MISMATCH", RESULT_FAIL)                         \
	X(RES_DNS_MALFORMED, "DNS_MALFORMED", RESULT_FAIL)                                         \
	X(RES_DNS_TRUNCATED, "DNS_TRUNCATED", RESULT_FAIL)                                         \
	X(RES_DNS_SERIAL_LAG, "DNS_SERIAL_LAG", RESULT_FAIL)                                       \
	X(RES_DNSSEC_MISSING, "DNSSEC_MISSING", RESULT_FAIL)                                       \
	X(RES_DNSSEC_BOGUS, "DNSSEC_BOGUS", RESULT_FAIL)                                           \
	X(RES_DNSSEC_NOT_YET_VALID, "DNSSEC_NOT_YET_VALID", RESULT_FAIL)                           \
	X(RES_DNSSEC_EXPIRED, "DNSSEC_EXPIRED", RESULT_FAIL)                                       \
	X(RES_EXEC_CRITICAL, "EXEC_CRITICAL", RESULT_FAIL)                                         \
	X(RES_EXEC_UNKNOWN, "EXEC_UNKNOWN", RESULT_FAIL)                                           \
	X(RES_EXEC_SIGNALED, "EXEC_SIGNALED", RESULT_FAIL)                                         \
	X(RES_EXEC_FAILED, "EXEC_FAILED", RESULT_FAIL)                                             \
	X(RES_SERVICE_DEAD, "SERVICE_DEAD", RESULT_FAIL)                                           \
	X(RES_INTERNAL_ERROR, "INTERNAL_ERROR", RESULT_FAIL)

enum check_result_code {
#define X(code, name, cls) code,
	CHECK_RESULTS(X)
#undef X
	    RES__COUNT
};

#define CHECK_DETAIL_MAX 256

/* One run of a check, as the check type reports it and the engine takes it. */
struct check_report {
	enum check_result_code code;
	char detail[CHECK_DETAIL_MAX]; /* one line, printable */
	double started;                /* mono_now() at start */
	double duration;               /* seconds from start to result */
	/* type-specific timings in seconds, < 0 when not applicable */
	double t_connect, t_tls, t_first_byte;
	int cert_days_left; /* http over TLS; INT_MIN when unknown */
	/* dns with expect_dnssec: the earliest RRSIG expiry, seconds since the epoch; 0 unknown */
	int64_t rrsig_expires;
};

const char *result_name(enum check_result_code code);
enum result_class result_class(enum check_result_code code);

#endif
