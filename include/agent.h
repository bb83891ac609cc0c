/* SPDX-License-Identifier: ISC */
/*
 * agent.h - the running daemon: one libuv loop that schedules every check
 * (schedq.h), feeds results to the engine, logs each transition with
 * its cause, and handles signals (SIGTERM/SIGINT stop, SIGHUP reload).
 *
 * Owns the glue between the engine (pure state) and the world (check runs,
 * timers, signals, the sync layer that applies decisions to BIRD). It holds
 * no policy: transitions are the engine's.
 */
#ifndef AA_AGENT_H
#define AA_AGENT_H

#include <stdbool.h>

#include <uv.h>

#include "conf.h"

struct agent;

struct agent_opts {
	const char *conf_path; /* reloaded from here on SIGHUP */
	struct conf_overrides overrides;
	bool dry_run; /* log "would enable/disable"; send BIRD only `show` commands */
};

/* Takes ownership of conf. */
struct agent *agent_new(uv_loop_t *loop, struct agent_conf *conf, const struct agent_opts *opts);
/* Schedule the checks and install the signal handlers. */
int agent_start(struct agent *a);
/* Load the config again; on errors keep running the old one and return them (malloc'd text,
 * "file:line: message" lines) in *errors. Returns 0 on success. */
int agent_reload(struct agent *a, char **errors);
/* Stop every check and close every handle; uv_run() returns once they are closed. */
void agent_stop(struct agent *a);
void agent_free(struct agent *a);
/* 0, or 1 when a stop could not confirm its withdraw with BIRD. */
int agent_exit_code(const struct agent *a);

/* The status snapshot (status.h) as the control socket's `status` returns it. */
#include <jansson.h>
json_t *agent_status(const struct agent *a);

#endif
