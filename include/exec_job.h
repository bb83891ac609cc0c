/* SPDX-License-Identifier: ISC */
/*
 * exec_job.h - one run of a program the way an exec check runs a Nagios
 * plugin: argv as given (no shell), a minimal environment, cwd /, stdin
 * /dev/null, stderr discarded, in a process group of its own; the head of
 * its stdout kept (output_max, the rest read and dropped so it never
 * blocks); the run ends when it exited and its stdout reached EOF, or
 * EXEC_GRACE_MS after the exit if something it left behind still holds the
 * pipe, or at the optional timeout. The process group is SIGKILLed whenever
 * a run ends, so a plugin never outlives its run. Nothing blocks the loop.
 *
 * Owned by exec_job.c. Used by check_exec.c when the agent runs plugins
 * itself, and by the exec helper (exec_helper.c) that runs them for it.
 */
#ifndef AA_EXEC_JOB_H
#define AA_EXEC_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* How long output may still arrive after the plugin exited. */
#define EXEC_GRACE_MS 100
/* The largest output_max (config.c allows up to this). */
#define EXEC_OUTPUT_MAX (1024 * 1024)

struct exec_job;

struct exec_job_result {
	bool timed_out;  /* the timeout ended it (status and signal mean nothing) */
	int64_t status;  /* exit status */
	int term_signal; /* the signal that killed it, 0 if it exited */
	const char *out; /* the first output_max bytes of stdout */
	size_t len;
};

/* Called once when the run ends (not after exec_job_cancel). The job is gone when it returns;
 * res->out is valid only during the call. */
typedef void (*exec_job_cb)(const struct exec_job_result *res, void *arg);

/*
 * Start argv (NULL-terminated, argv[0] an absolute path) with at most output_max bytes of its
 * output kept and, with timeout_ms > 0, killed after that long. NULL if it cannot be
 * started, with the libuv error code in *err (uv_strerror() says why).
 */
struct exec_job *exec_job_start(uv_loop_t *loop, char *const *argv, size_t output_max,
                                uint64_t timeout_ms, exec_job_cb cb, void *arg, int *err);
/* End a run now: its process group is killed and cb is not called. */
void exec_job_cancel(struct exec_job *job);
/* The plugin's pid, also its process group id. */
int exec_job_pid(const struct exec_job *job);

#endif
