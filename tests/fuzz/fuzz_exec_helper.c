/* SPDX-License-Identifier: ISC */
/*
 * fuzz_exec_helper.c - libFuzzer harness for the frames between the agent and
 * its exec helper (exec_proto_decode, agent/exec_proto.c): the helper runs as
 * exec_user, the same user as every plugin, so any plugin may have taken it
 * over and can send the agent these bytes.
 *
 * Input: byte 0 picks the side that reads (bit 7: the helper reading what the
 * agent sends; else the agent reading the helper) and the piece sizes (bits
 * 0-6); the rest is the stream. It is decoded once as a whole and once fed in
 * pieces as the reads arrive, through a buffer as the agent keeps it: both
 * must give the same messages and the same verdict. Every message must lie
 * inside the bytes it came from, have a type the reading side accepts and the
 * fields its type allows, and be encoded again to the very bytes it came
 * from. A refusal comes with a terminated, non-empty reason.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 64

/* The frame as its encoder writes it; NULL for a type this harness cannot rebuild. */
static uint8_t *encode(const struct exec_msg *m, size_t *len)
{
	switch (m->type) {
	case EXEC_MSG_RUN:
		return exec_proto_run(m->id, m->timeout_ms, m->output_max,
		                      (const char *const *)m->strv, m->nstr, len);
	case EXEC_MSG_CANCEL:
		return exec_proto_cancel(m->id, len);
	case EXEC_MSG_VERIFY:
		return m->id == 0 ? exec_proto_verify((const char *const *)m->strv, m->nstr, len)
		                  : NULL;
	case EXEC_MSG_RESULT:
		return exec_proto_result(m->id, m->outcome, m->status, m->signal, m->data, m->len,
		                         len);
	case EXEC_MSG_FACTS:
		return m->id == 0 ? exec_proto_facts(m->uid, m->gid, m->euid, m->egid, m->groups,
		                                     m->ngroups, (const int32_t *)m->access,
		                                     m->naccess, len)
		                  : NULL;
	}
	abort(); /* a type the decoder should have refused */
}

static void check_msg(const struct exec_msg *m, unsigned from, const uint8_t *frame, size_t used)
{
	uint8_t *again;
	size_t len;

	if (used < 9 || used > EXEC_PROTO_FRAME_MAX + 4)
		abort();
	if ((from == EXEC_PROTO_FROM_HELPER) != ((m->type & 0x80) != 0))
		abort(); /* a type the reading side must not accept */
	if (m->type == EXEC_MSG_RESULT) {
		if (m->outcome > EXEC_OUT_SPAWN_FAILED || m->data < (const char *)frame ||
		    m->data + m->len > (const char *)frame + used)
			abort();
		if (m->outcome == EXEC_OUT_DONE &&
		    (m->status < 0 || m->status > 255 || m->signal < 0 || m->signal > 127))
			abort();
		if (m->outcome == EXEC_OUT_SPAWN_FAILED && m->len > EXEC_PROTO_REASON_MAX)
			abort();
	}
	if (m->type == EXEC_MSG_RUN &&
	    (m->nstr < 1 || m->strv[0][0] != '/' || m->output_max > EXEC_OUTPUT_MAX))
		abort();
	if ((m->type == EXEC_MSG_RUN || m->type == EXEC_MSG_VERIFY) && m->strv != NULL) {
		if (m->strv[m->nstr] != NULL)
			abort();
		for (size_t i = 0; i < m->nstr; i++)
			if (m->strv[i][0] == '\0')
				abort();
	}
	if (m->type == EXEC_MSG_FACTS &&
	    (m->ngroups > EXEC_PROTO_GROUPS_MAX || m->naccess > EXEC_PROTO_PATHS_MAX))
		abort();
	/* what was understood is exactly what was sent */
	again = encode(m, &len);
	if (again != NULL && (len != used || memcmp(again, frame, used) != 0))
		abort();
	free(again);
}

/* Decode every frame of the stream given in pieces of at most step bytes (0: at once);
 * returns the number of messages, the verdict in *bad. */
static size_t run(const uint8_t *d, size_t n, unsigned from, size_t step, uint8_t types[],
                  size_t sizes[], bool *bad)
{
	uint8_t *buf = malloc(n + 1);
	size_t have = 0, fed = 0, nmsg = 0;

	*bad = false;
	while (!*bad && nmsg < MAX_MSGS) {
		struct exec_msg m;
		char err[160];
		size_t used;
		int rc;

		memset(err, 'X', sizeof(err));
		rc = exec_proto_decode(buf, have, from, &m, &used, err, sizeof(err));
		if (rc < 0) {
			if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
				abort();
			*bad = true;
			break;
		}
		if (rc == 0) {
			size_t more = step == 0 ? n - fed : (n - fed < step ? n - fed : step);

			if (more == 0)
				break;
			memcpy(buf + have, d + fed, more);
			have += more;
			fed += more;
			continue;
		}
		if (used > have)
			abort();
		check_msg(&m, from, buf, used);
		types[nmsg] = (uint8_t)m.type;
		sizes[nmsg++] = used;
		exec_msg_free(&m);
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	return nmsg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t t1[MAX_MSGS], t2[MAX_MSGS];
	size_t s1[MAX_MSGS], s2[MAX_MSGS], n1, n2;
	unsigned from;
	bool bad1, bad2;

	if (size < 1)
		return 0;
	from = (data[0] & 0x80) ? EXEC_PROTO_FROM_AGENT : EXEC_PROTO_FROM_HELPER;
	n1 = run(data + 1, size - 1, from, 0, t1, s1, &bad1);
	n2 = run(data + 1, size - 1, from, 1 + (data[0] & 0x7f), t2, s2, &bad2);
	/* reads cut anywhere change nothing */
	if (n1 != n2 || bad1 != bad2 || memcmp(t1, t2, n1) != 0 ||
	    memcmp(s1, s2, n1 * sizeof(s1[0])) != 0)
		abort();
	return 0;
}
