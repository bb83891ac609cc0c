/* SPDX-License-Identifier: ISC */
/*
 * check_util.h - the pure pieces of the check types that judge bytes a
 * service sent (HTTP bodies, plugin output), exposed so unit tests and the
 * fuzzers in tests/fuzz/ call exactly what the checks call.
 */
#ifndef AA_CHECK_UTIL_H
#define AA_CHECK_UTIL_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

/*
 * Append n bytes to body, which holds *len bytes and has room for max + 1
 * (the NUL kept after the data). Returns true if all n fit; false once the
 * body reached max (what fit is kept, the rest dropped).
 */
bool check_http_body_append(char *body, size_t *len, size_t max, const char *data, size_t n);
/*
 * Does the body (len bytes, NUL bytes allowed, body[len] == '\0') pass:
 * contain expect_body when it is not NULL, else match re (compiled with
 * REG_EXTENDED | REG_NOSUB) when it is not NULL, else pass.
 */
bool check_http_body_matches(const char *body, size_t len, const char *expect_body,
                             const regex_t *re);

/*
 * The result and detail line of one plugin run from its exit status (or the
 * signal that killed it, when term_signal != 0) and the head of its stdout.
 * detail gets the first output line without perfdata, trimmed, NUL bytes as
 * '?'; other control bytes are left for check_run to replace.
 */
enum check_result_code check_exec_judge(int64_t status, int term_signal, const char *out,
                                        size_t len, char *detail, size_t detail_len);

#endif
