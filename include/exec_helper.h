/* SPDX-License-Identifier: ISC */
/*
 * exec_helper.h - privilege separation for exec checks: a small process with
 * an identity of its own (exec_user) that runs the plugins for the agent.
 *
 * Owned by exec_helper.c. The agent, while still root, starts it: its own
 * binary again (/proc/self/exe --exec-helper: a fresh process image, with
 * none of the agent's memory, libuv loop or descriptors), with exec_user's
 * uid and primary group and no supplementary group, in a session of its own,
 * fd 3 one end of a socketpair. The agent then drops root and can no longer
 * start anything as another user. Over the socketpair (exec_proto.h) it asks
 * the helper to run a plugin (argv, timeout, output cap) or to cancel one;
 * the helper runs it as exec_job.h says, enforces the timeout and the cap,
 * kills the plugin's process group, and reports exit status and output. At
 * start-up the agent asks the helper who it is and what it can write
 * (exec_helper_ready), and refuses to start when a plugin would hold any of
 * the agent's authority (priv_judge_plugins, priv.c).
 *
 * The agent trusts no byte from the helper: frames are size-capped and parsed
 * by exec_proto.c. A malformed frame, an EOF or the helper's death fails every
 * exec check (closed: what requires them is withdrawn) until the agent is
 * restarted, and is logged once: a dropped agent cannot start another helper.
 * The helper sets itself non-dumpable, so the plugins (same user) cannot
 * ptrace it; they can kill it, which fails closed as above.
 */
#ifndef AA_EXEC_HELPER_H
#define AA_EXEC_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "exec_proto.h"

/* The hidden command-line mode of anycast-agent that runs the helper (main.c). */
#define EXEC_HELPER_ARG "--exec-helper"
/* The socketpair end the helper finds open. */
#define EXEC_HELPER_FD 3
/* How long the agent waits at start for the helper's first answer. */
#define EXEC_HELPER_READY_TIMEOUT 10.0

struct exec_helper;

/* What the helper says about itself (FACTS). */
struct exec_helper_facts {
	uid_t uid, euid;
	gid_t gid, egid;
	gid_t *groups; /* supplementary */
	size_t ngroups;
	int *access; /* per path asked: 0 writable, else the errno of access(W_OK) */
	size_t naccess;
};
void exec_helper_facts_free(struct exec_helper_facts *f);

/*
 * Start the helper: exe (normally "/proc/self/exe") with EXEC_HELPER_ARG, as uid/gid when
 * setid (the caller must be root), else as the caller (tests). user names it in messages.
 * NULL with *err (malloc'd) on failure.
 */
struct exec_helper *exec_helper_spawn(uv_loop_t *loop, const char *exe, const char *user,
                                      bool setid, uid_t uid, gid_t gid, char **err);

/*
 * The start-up handshake, before the loop runs (it blocks up to EXEC_HELPER_READY_TIMEOUT):
 * asks the helper for its identity and whether it can write each of paths (access W_OK),
 * then attaches it to the loop. -1 with *err (malloc'd) if it does not answer properly.
 */
int exec_helper_ready(struct exec_helper *h, const char *const *paths, size_t npaths,
                      struct exec_helper_facts *facts, char **err);

/* How a run ended. */
struct exec_helper_result {
	bool gone;                 /* the helper is gone: data is why */
	enum exec_outcome outcome; /* otherwise */
	int status, signal;
	const char *data; /* output (DONE, TIMEOUT) or reason (SPAWN_FAILED, gone) */
	size_t len;
};
typedef void (*exec_helper_cb)(const struct exec_helper_result *res, void *arg);

/*
 * Ask for a run of argv (argc strings). Returns its id (never 0); cb is called once, from the
 * loop, unless exec_helper_cancel(id) is called first. 0 when the helper is gone, with
 * exec_helper_gone() saying why.
 */
uint32_t exec_helper_run(struct exec_helper *h, char *const *argv, size_t argc, uint32_t timeout_ms,
                         size_t output_max, exec_helper_cb cb, void *arg);
void exec_helper_cancel(struct exec_helper *h, uint32_t id);

/* NULL while the helper works, else why it does not (one line). */
const char *exec_helper_gone(const struct exec_helper *h);
int exec_helper_pid(const struct exec_helper *h);
const char *exec_helper_user(const struct exec_helper *h);

/* Disconnect (the helper kills its plugins and exits); pending runs get no callback. The
 * memory goes once the loop has closed the handles. */
void exec_helper_close(struct exec_helper *h);

/* The helper process: serve the agent on fd until it disconnects. Returns the exit code. */
int exec_helper_main(int fd);

#endif
