/* SPDX-License-Identifier: ISC */
/*
 * exec_proto.c - the agent <-> exec helper frames (see exec_proto.h).
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec_proto.h"
#include "util.h"

#define HEADER 9 /* u32 length, u8 type, u32 id */

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A frame of type with room for payload bytes; the payload starts at frame + HEADER. */
static uint8_t *frame_new(enum exec_msg_type type, uint32_t id, size_t payload, size_t *len)
{
	uint8_t *f = xmalloc(HEADER + payload);

	put32(f, (uint32_t)(5 + payload));
	f[4] = (uint8_t)type;
	put32(f + 5, id);
	*len = HEADER + payload;
	return f;
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* NUL-ended strings filling p[0..n) exactly: between min and max of them, none empty. */
static int split_strings(const uint8_t *p, size_t n, size_t min, size_t max, struct exec_msg *m,
                         char *err, size_t errlen)
{
	size_t count = 0, at = 0;
	char *copy;

	if (n > 0 && p[n - 1] != '\0')
		return bad(err, errlen, "a string list that does not end with NUL");
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\0') {
			if (i == at)
				return bad(err, errlen, "an empty string in a list");
			count++;
			at = i + 1;
		}
	if (count < min || count > max)
		return bad(err, errlen, "%zu strings, want %zu to %zu", count, min, max);
	copy = xmalloc(n + 1);
	memcpy(copy, p, n);
	copy[n] = '\0';
	m->strv = xcalloc(count + 2, sizeof(char *));
	/* strv[count + 1] keeps the copy for exec_msg_free */
	m->strv[count + 1] = copy;
	for (size_t i = 0, s = 0; i < count; i++) {
		m->strv[i] = copy + s;
		s += strlen(copy + s) + 1;
	}
	m->nstr = count;
	return 0;
}

static int decode_payload(const uint8_t *p, size_t n, struct exec_msg *m, char *err, size_t errlen)
{
	switch (m->type) {
	case EXEC_MSG_RUN:
		if (n < 8)
			return bad(err, errlen, "RUN of %zu bytes", n);
		m->timeout_ms = get32(p);
		m->output_max = get32(p + 4);
		if (m->output_max < 1 || m->output_max > EXEC_OUTPUT_MAX)
			return bad(err, errlen, "RUN with output_max %u", m->output_max);
		if (split_strings(p + 8, n - 8, 1, EXEC_PROTO_ARGV_MAX, m, err, errlen) < 0)
			return -1;
		if (m->strv[0][0] != '/')
			return bad(err, errlen, "RUN of a program without an absolute path");
		return 0;
	case EXEC_MSG_CANCEL:
		return n == 0 ? 0 : bad(err, errlen, "CANCEL with %zu bytes of payload", n);
	case EXEC_MSG_VERIFY:
		return split_strings(p, n, 0, EXEC_PROTO_PATHS_MAX, m, err, errlen);
	case EXEC_MSG_RESULT:
		if (n < 9)
			return bad(err, errlen, "RESULT of %zu bytes", n);
		if (p[0] > EXEC_OUT_SPAWN_FAILED)
			return bad(err, errlen, "RESULT with outcome %u", p[0]);
		m->outcome = (enum exec_outcome)p[0];
		m->status = (int32_t)get32(p + 1);
		m->signal = (int32_t)get32(p + 5);
		m->data = (const char *)p + 9;
		m->len = n - 9;
		if (m->outcome == EXEC_OUT_DONE &&
		    (m->status < 0 || m->status > 255 || m->signal < 0 || m->signal > 127))
			return bad(err, errlen, "RESULT with exit status %d, signal %d", m->status,
			           m->signal);
		if (m->outcome == EXEC_OUT_SPAWN_FAILED && m->len > EXEC_PROTO_REASON_MAX)
			return bad(err, errlen, "RESULT with a reason of %zu bytes", m->len);
		return 0;
	case EXEC_MSG_FACTS: {
		size_t ng, na;

		if (n < 20)
			return bad(err, errlen, "FACTS of %zu bytes", n);
		m->uid = get32(p);
		m->gid = get32(p + 4);
		m->euid = get32(p + 8);
		m->egid = get32(p + 12);
		ng = get32(p + 16);
		if (ng > EXEC_PROTO_GROUPS_MAX || n - 20 < ng * 4 + 4)
			return bad(err, errlen, "FACTS with %zu groups in %zu bytes", ng, n);
		na = get32(p + 20 + ng * 4);
		if (na > EXEC_PROTO_PATHS_MAX || n != 24 + ng * 4 + na * 4)
			return bad(err, errlen, "FACTS with %zu paths in %zu bytes", na, n);
		m->groups = xcalloc(ng + 1, sizeof(uint32_t));
		for (size_t i = 0; i < ng; i++)
			m->groups[i] = get32(p + 20 + i * 4);
		m->ngroups = ng;
		m->access = xcalloc(na + 1, sizeof(int32_t));
		for (size_t i = 0; i < na; i++) {
			m->access[i] = (int32_t)get32(p + 24 + ng * 4 + i * 4);
			if (m->access[i] < 0 || m->access[i] > 4095)
				return bad(err, errlen, "FACTS with access result %d",
				           m->access[i]);
		}
		m->naccess = na;
		return 0;
	}
	}
	return bad(err, errlen, "unknown type %u", m->type);
}

int exec_proto_decode(const uint8_t *buf, size_t len, unsigned from, struct exec_msg *m,
                      size_t *used, char *err, size_t errlen)
{
	uint32_t flen;
	unsigned type, want;

	memset(m, 0, sizeof(*m));
	*used = 0;
	if (len < 4)
		return 0;
	flen = get32(buf);
	if (flen < 5 || flen > EXEC_PROTO_FRAME_MAX)
		return bad(err, errlen, "a frame of %u bytes (5 to %u allowed)", flen,
		           EXEC_PROTO_FRAME_MAX);
	if (len - 4 < flen)
		return 0;
	type = buf[4];
	want = (type & 0x80) ? EXEC_PROTO_FROM_HELPER : EXEC_PROTO_FROM_AGENT;
	if (!(from & want))
		return bad(err, errlen, "a frame of type 0x%02x from the wrong side", type);
	m->type = (enum exec_msg_type)type;
	m->id = get32(buf + 5);
	if (decode_payload(buf + HEADER, flen - 5, m, err, errlen) < 0) {
		exec_msg_free(m);
		return -1;
	}
	*used = 4 + (size_t)flen;
	return 1;
}

void exec_msg_free(struct exec_msg *m)
{
	if (m->strv != NULL)
		free(m->strv[m->nstr + 1]);
	free(m->strv);
	free(m->groups);
	free(m->access);
	m->strv = NULL;
	m->groups = NULL;
	m->access = NULL;
}

/* argv as NUL-ended strings after skip bytes of header payload. */
static uint8_t *strings_frame(enum exec_msg_type type, uint32_t id, size_t skip,
                              const char *const *v, size_t n, size_t *len)
{
	size_t total = skip;
	uint8_t *f, *p;

	for (size_t i = 0; i < n; i++)
		total += strlen(v[i]) + 1;
	f = frame_new(type, id, total, len);
	p = f + HEADER + skip;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		memcpy(p, v[i], l);
		p += l;
	}
	return f;
}

uint8_t *exec_proto_run(uint32_t id, uint32_t timeout_ms, uint32_t output_max,
                        const char *const *argv, size_t argc, size_t *len)
{
	uint8_t *f = strings_frame(EXEC_MSG_RUN, id, 8, argv, argc, len);

	put32(f + HEADER, timeout_ms);
	put32(f + HEADER + 4, output_max);
	return f;
}

uint8_t *exec_proto_cancel(uint32_t id, size_t *len)
{
	return frame_new(EXEC_MSG_CANCEL, id, 0, len);
}

uint8_t *exec_proto_verify(const char *const *paths, size_t n, size_t *len)
{
	return strings_frame(EXEC_MSG_VERIFY, 0, 0, paths, n, len);
}

uint8_t *exec_proto_result(uint32_t id, enum exec_outcome outcome, int32_t status, int32_t signal,
                           const void *data, size_t dlen, size_t *len)
{
	uint8_t *f = frame_new(EXEC_MSG_RESULT, id, 9 + dlen, len);

	f[HEADER] = (uint8_t)outcome;
	put32(f + HEADER + 1, (uint32_t)status);
	put32(f + HEADER + 5, (uint32_t)signal);
	if (dlen > 0)
		memcpy(f + HEADER + 9, data, dlen);
	return f;
}

uint8_t *exec_proto_facts(uint32_t uid, uint32_t gid, uint32_t euid, uint32_t egid,
                          const uint32_t *groups, size_t ngroups, const int32_t *access,
                          size_t naccess, size_t *len)
{
	uint8_t *f = frame_new(EXEC_MSG_FACTS, 0, 24 + 4 * ngroups + 4 * naccess, len);
	uint8_t *p = f + HEADER;

	put32(p, uid);
	put32(p + 4, gid);
	put32(p + 8, euid);
	put32(p + 12, egid);
	put32(p + 16, (uint32_t)ngroups);
	for (size_t i = 0; i < ngroups; i++)
		put32(p + 20 + 4 * i, groups[i]);
	put32(p + 20 + 4 * ngroups, (uint32_t)naccess);
	for (size_t i = 0; i < naccess; i++)
		put32(p + 24 + 4 * ngroups + 4 * i, (uint32_t)access[i]);
	return f;
}
