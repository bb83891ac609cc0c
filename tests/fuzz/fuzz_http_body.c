/* SPDX-License-Identifier: ISC */
/*
 * fuzz_http_body.c - libFuzzer harness for HTTP body handling: the body
 * arrives in pieces of any size (check_http_body_append, capped at
 * body_max) and is judged by substring or regex (check_http_body_matches).
 *
 * Input: byte 0 picks body_max and the regex, byte 1 seeds the piece sizes,
 * then a NUL-terminated substring to look for, then the body. The regexes
 * are a fixed set of the kind operators write: the pattern comes from the
 * operator's config, the body from the network.
 */
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {
    "ok",
    "^OK$",
    "status: (green|yellow)",
    "\"status\" *: *\"(ok|up|pass)\"",
    "^[[:space:]]*healthy[[:space:]]*$",
    "version=[0-9]+\\.[0-9]+",
    "(a|b)*c",
    "[^<]*</html>",
    "^$",
    "^ok( [0-9]+)?$",
    ".*",
};

#define NEL(a) (sizeof(a) / sizeof((a)[0]))

static regex_t compiled[NEL(patterns)];
static bool ready;

/* The reference: does needle occur in hay[0..len)? */
static bool naive_contains(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return true;
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *needle, *in;
	const uint8_t *nul;
	char *body;
	size_t body_max, len = 0, inlen, off = 0, kept;
	uint32_t seed;
	bool all_fit = true, m;

	if (!ready) {
		for (size_t i = 0; i < NEL(patterns); i++)
			if (regcomp(&compiled[i], patterns[i], REG_EXTENDED | REG_NOSUB) != 0)
				abort();
		ready = true;
	}
	if (size < 2)
		return 0;
	body_max = (size_t)(data[0] >> 4) * (data[0] >> 4) * 16; /* 0 .. 3600 */
	seed = data[1] | 0x100u;
	nul = memchr(data + 2, '\0', size - 2);
	if (nul == NULL)
		return 0;
	needle = (const char *)data + 2;
	in = (const char *)nul + 1;
	inlen = size - (size_t)((const uint8_t *)in - data);

	/* a heap block of exactly body_max + 1 bytes: ASan sees any overrun */
	body = malloc(body_max + 1);
	if (body == NULL)
		abort();
	body[0] = '\0';
	while (off < inlen && all_fit) {
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 64; /* pieces of 0 bytes happen too */
		if (n > inlen - off)
			n = inlen - off;
		all_fit = check_http_body_append(body, &len, body_max, in + off, n);
		off += n;
	}
	kept = inlen < body_max ? inlen : body_max;
	if (len != kept || body[len] != '\0' || memcmp(body, in, len) != 0)
		abort(); /* the body kept is not the head of what was sent */
	if (all_fit != (inlen <= body_max))
		abort(); /* a body over body_max was not reported as cut */

	m = check_http_body_matches(body, len, needle, NULL);
	if (m != naive_contains(body, len, needle))
		abort();
	m = check_http_body_matches(body, len, NULL, &compiled[data[0] % NEL(compiled)]);
	(void)m;
	if (!check_http_body_matches(body, len, NULL, NULL))
		abort(); /* nothing expected: every body passes */
	free(body);
	return 0;
}
