/* SPDX-License-Identifier: ISC */
/*
 * agent_int.h - what agent.c (the daemon's lifecycle) and agent_ctl.c (its
 * control verbs and status) share: struct agent and the few calls each makes
 * into the other. Not for any other file.
 */
#ifndef AA_AGENT_INT_H
#define AA_AGENT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include "agent.h"
#include "check.h"
#include "control.h"
#include "priv.h"
#include "schedq.h"

/* The runtime side of one check; engine's struct check points here via ->user. */
struct agent_check {
	struct agent *agent;
	struct check *check; /* in agent->engine; refreshed after a reload */
	struct check_run *run;
	struct schedq_slot slot; /* in agent->sched until the next run */
	/* `check NAME` requests waiting for the run in flight */
	struct control_req **waiting;
	size_t nwaiting;
	/* death watches of the check's definition (watch_pidfile, watch_unit, watch_listen) */
	struct watch **watches;
	size_t nwatches;
};

/* Schedule lag (actual minus planned start of a run) in 0.1 ms buckets; the last catches all. */
#define LAG_BUCKETS 1001

/* A `drain --wait` request: answered once its announcements are withdrawn, as BIRD confirms. */
struct drain_wait {
	struct control_req *req;
	json_t *resp;  /* the drain's answer, sent when done */
	json_t *names; /* the announcements */
	double started, deadline;
};

struct agent {
	uv_loop_t *loop;
	struct agent_conf *conf;
	struct agent_opts opts;
	struct core *core; /* engine, sync layer and operator state */
	struct check_env *env;
	struct watch_env *watch_env;
	struct schedq *sched;       /* when each check runs next */
	uv_timer_t event_timer;     /* core_next_event(): hold-down, drain_time, expiry, ... */
	uv_timer_t reconcile_timer; /* core_reconcile() every bird.reconcile_interval */
	uv_timer_t flush_timer;     /* how long a sync_flush() may wait */
	uv_timer_t metrics_timer;
	uv_timer_t state_retry; /* rewrites a state file that could not be written */
	bool metrics_failing;   /* log a failing metrics file once, not every interval */
	uv_signal_t sig_term, sig_int, sig_hup, sig_usr2;
	double keep_once_until;   /* mono time: a stop before it leaves BIRD as it is */
	uv_timer_t notify_timer;  /* WATCHDOG=1 and STATUS= refresh; only under systemd */
	double watchdog_interval; /* seconds between WATCHDOG=1; 0: systemd wants none */
	bool ready_sent, unhealthy_logged;
	char status_sent[512];
	unsigned short rand_state[3];
	int stopping;
	int exit_code;
	struct control *ctl;
	struct drain_wait *dwaits; /* `drain --wait` requests not answered yet */
	size_t ndwaits;
	uv_timer_t dwait_timer;
	struct priv_plan priv;      /* who the agent and its plugins run as */
	struct exec_helper *helper; /* runs the plugins as exec_user; NULL: the agent does */
	bool exec_warned;           /* "plugins run as the agent" said once */
	double started_wall;
	size_t last_kept; /* checks the last reload kept */
	unsigned long lag[LAG_BUCKETS];
	unsigned long lag_runs;
	double lag_max;
};

/* ---- agent.c ---- */

/* Queue the check for its next due time. */
void agent_schedule(struct agent_check *ac);
/* Set the event timer to core_next_event() (after anything that changed the core). */
void agent_arm_events(struct agent *a);
/* The lag below which fraction q of the runs started, in seconds. */
double agent_lag_quantile(const struct agent *a, double q);

/* ---- agent_ctl.c ---- */

/* The verbs of the control socket; arg is the struct agent. */
extern const struct control_verb agent_verbs[];
extern const size_t agent_nverbs;
/* The status snapshot, without checks unless with_checks. */
json_t *agent_snapshot(const struct agent *a, bool with_checks);
/* One check as status shows it: status_check() and its death watches. */
json_t *agent_check_status(const struct check *c, double now_mono, double now_wall);
/* Answer every `check` request waiting on ac: the check after its run, or an error. */
void agent_answer_waiting(struct agent_check *ac, const char *error);
/* Answer every `drain --wait` whose announcements are withdrawn, gone or out of time; with
 * stopping (the reason), every one. */
void agent_drain_waits_check(struct agent *a, const char *stopping);

#endif
