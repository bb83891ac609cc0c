/* SPDX-License-Identifier: ISC */
/*
 * exec_proto.h - the messages between the agent and its exec helper over
 * their socketpair: encoding, and a decoder that trusts no byte.
 *
 * Owned by exec_proto.c; pure (no I/O), so the fuzzer drives the decoder
 * with exactly the bytes a hostile helper could send. A frame is
 *
 *   u32 length of what follows (big-endian, 5 .. EXEC_PROTO_FRAME_MAX)
 *   u8  type
 *   u32 id        (the run it is about; 0 for VERIFY and FACTS)
 *   ... payload, by type:
 *
 *   agent -> helper
 *   RUN     u32 timeout_ms, u32 output_max, then argv: strings each ended by NUL (1..4096)
 *   CANCEL  nothing
 *   VERIFY  paths, each ended by NUL (0..EXEC_PROTO_PATHS_MAX)
 *   helper -> agent
 *   RESULT  u8 outcome, i32 status, i32 signal, then the output (DONE, TIMEOUT) or the
 *           reason it could not start (SPAWN_FAILED, at most EXEC_PROTO_REASON_MAX bytes)
 *   FACTS   u32 uid, gid, euid, egid, u32 n, n x u32 supplementary groups (n <= 65536),
 *           u32 m, m x i32 access(path, W_OK): 0 writable, else the errno (m = paths asked)
 */
#ifndef AA_EXEC_PROTO_H
#define AA_EXEC_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "exec_job.h"

#define EXEC_PROTO_FRAME_MAX  (EXEC_OUTPUT_MAX + 4096)
#define EXEC_PROTO_ARGV_MAX   4096
#define EXEC_PROTO_PATHS_MAX  256
#define EXEC_PROTO_GROUPS_MAX 65536
#define EXEC_PROTO_REASON_MAX 200

enum exec_msg_type {
	EXEC_MSG_RUN = 1,
	EXEC_MSG_CANCEL = 2,
	EXEC_MSG_VERIFY = 3,
	EXEC_MSG_RESULT = 0x81,
	EXEC_MSG_FACTS = 0x82,
};

enum exec_outcome {
	EXEC_OUT_DONE = 0,         /* exited (status) or killed by a signal (signal) */
	EXEC_OUT_TIMEOUT = 1,      /* the helper killed it at the run's timeout */
	EXEC_OUT_SPAWN_FAILED = 2, /* could not be started; data is the reason */
};

/* One decoded message. Pointers point into the frame given to the decoder (data) or into
 * arrays the decoder allocated (exec_msg_free releases them). */
struct exec_msg {
	enum exec_msg_type type;
	uint32_t id;
	/* RUN, VERIFY */
	uint32_t timeout_ms, output_max;
	char **strv; /* argv or paths; NULL-terminated */
	size_t nstr;
	/* RESULT */
	enum exec_outcome outcome;
	int32_t status, signal;
	const char *data;
	size_t len;
	/* FACTS */
	uint32_t uid, gid, euid, egid;
	uint32_t *groups;
	size_t ngroups;
	int32_t *access;
	size_t naccess;
};

/*
 * Decode the first frame of buf[0..len). Returns 1 with *m filled and *used the frame's
 * size, 0 when more bytes are needed, -1 when the bytes cannot be a valid frame sent by
 * from (the agent's or the helper's types), with the reason in err. Strings in m point into
 * a copy the decoder made; data points into buf.
 */
#define EXEC_PROTO_FROM_AGENT  1u
#define EXEC_PROTO_FROM_HELPER 2u
int exec_proto_decode(const uint8_t *buf, size_t len, unsigned from, struct exec_msg *m,
                      size_t *used, char *err, size_t errlen);
void exec_msg_free(struct exec_msg *m);

/* Encoders: a malloc'd frame and its size in *len. */
uint8_t *exec_proto_run(uint32_t id, uint32_t timeout_ms, uint32_t output_max,
                        const char *const *argv, size_t argc, size_t *len);
uint8_t *exec_proto_cancel(uint32_t id, size_t *len);
uint8_t *exec_proto_verify(const char *const *paths, size_t n, size_t *len);
uint8_t *exec_proto_result(uint32_t id, enum exec_outcome outcome, int32_t status, int32_t signal,
                           const void *data, size_t dlen, size_t *len);
uint8_t *exec_proto_facts(uint32_t uid, uint32_t gid, uint32_t euid, uint32_t egid,
                          const uint32_t *groups, size_t ngroups, const int32_t *access,
                          size_t naccess, size_t *len);

#endif
