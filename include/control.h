/* SPDX-License-Identifier: ISC */
/*
 * control.h - the control-socket server (protocol: control_proto.h).
 *
 * Owns: the listening Unix socket (created with control.mode and
 * control.group; refuses to start when another agent answers on the path;
 * removes a stale socket file), every client connection (framing, size cap,
 * idle timeout, concurrent-client cap, bounded write queue), peer credentials
 * (SO_PEERCRED, and SO_PEERGROUPS for admin_group membership: no name service
 * on the loop), the requesters' user names (looked up by a thread of its own,
 * cached; a request waits at most half a second for one, then says "uid N")
 * and authorisation. It trusts no byte from a client and knows
 * no verb: a table of {verb, needs_admin, handler} given by the caller does
 * the work (agent.c has the real one; tests a fake one).
 */
#ifndef AA_CONTROL_H
#define AA_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>
#include <uv.h>

#include "control_proto.h"

struct control;
struct control_req;

/* Handle one request. The handler must answer exactly once, now or later, with
 * control_reply() or control_reply_error() (a later answer to a client that left is
 * dropped silently). */
typedef void (*control_handler_fn)(struct control_req *r, void *arg);

struct control_verb {
	const char *verb;
	bool needs_admin;
	control_handler_fn handler;
};

struct control_opts {
	const char *path;
	unsigned mode;           /* permission bits of the socket file */
	const char *group;       /* NULL: the agent's own */
	const char *admin_group; /* NULL: root only */
	/* 0 for the control_proto.h defaults */
	size_t request_max;
	double idle_timeout;
	size_t max_clients;
	size_t write_queue_max;
};

/* One request as the handler sees it. */
struct control_req_info {
	const char *verb;
	json_t *request; /* the whole request object (borrowed) */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const char *user; /* the peer's user name, or "uid N" */
	bool admin;
};

/* verbs is borrowed for the server's life. */
struct control *control_new(uv_loop_t *loop, const struct control_opts *opts,
                            const struct control_verb *verbs, size_t nverbs, void *arg);
/* Create the socket and listen. -1 with *err (malloc'd, for the operator) on failure. */
int control_start(struct control *c, char **err);
/* Change the admin group (reload); NULL: root only. -1 (the old one kept) with *err (malloc'd)
 * if the group does not exist or cannot be looked up. The same group is not looked up again. */
int control_set_admin_group(struct control *c, const char *group, char **err);
/* Close the socket (the file is removed), every client; pending requests stay valid until
 * answered. The memory goes once the loop has closed the handles. */
void control_free(struct control *c);

const struct control_req_info *control_req_info(const struct control_req *r);
/* How responses are encoded: one line; 15 digits keep an epoch time's microseconds and
 * print 0.2 as 0.2. */
#define CONTROL_JSON_FLAGS (JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15))

/* Answer; takes the reference to resp. */
void control_reply(struct control_req *r, json_t *resp);
/* Answer a success with text, one JSON object already encoded with CONTROL_JSON_FLAGS
 * (malloc'd, taken; NULL answers an "internal" error): for answers too big to build as one
 * json_t. */
void control_reply_encoded(struct control_req *r, char *text);
void control_reply_error(struct control_req *r, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer with {"ok":false,"error":...,"code":...} plus the members of extra (stolen; may be
 * NULL). */
void control_reply_error_json(struct control_req *r, const char *code, json_t *extra,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct control_stats {
	size_t clients;              /* connected now */
	unsigned long accepted;      /* connections accepted */
	unsigned long busy;          /* turned away with "busy" */
	unsigned long accept_errors; /* accept() failed (EMFILE, ...) */
	unsigned long requests;      /* requests dispatched */
	unsigned long errors;        /* error responses */
	unsigned long dropped;       /* closed: oversize, idle, unread output, I/O error */
};
void control_stats(const struct control *c, struct control_stats *st);

/* Whether a peer (SO_PEERCRED uid and gid, SO_PEERGROUPS groups) is an admin: uid 0, or
 * admin_gid among its groups. Pure: the kernel's view, no name service. */
bool control_peer_is_admin(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
                           bool has_admin_gid, gid_t admin_gid);

/*
 * Parse one request line (without its newline): a JSON object with a string member "verb",
 * duplicate keys refused. Returns the object (the caller decrefs it) with *verb pointing into
 * it, or NULL with *code (a CONTROL_E_* string) and msg set. Pure: the fuzzer calls it.
 */
json_t *control_parse_request(const char *line, size_t len, const char **verb, const char **code,
                              char *msg, size_t msglen);

#endif
