/* SPDX-License-Identifier: ISC */
/*
 * status.h - the status snapshot (JSON, "version": 1) that the control
 * socket's `status` verb returns and every renderer (Nagios, text, metrics)
 * reads. Its shape is the contract anycastctl(8) documents (PROTOCOL); in detail:
 *   "state": {"file": PATH, "ok": bool, "error": "..." | null,
 *             "load_error": "..." | null, "save_error": "..." | null}
 * (ok is false while the last load found a corrupted file or the last write
 * failed; drains it forced carry their own reason in the announcement).
 * "agent" also holds "metrics_interval" (seconds, null without a metrics_file).
 * A drain's uid is null when unknown (a fail-safe drain). An announcement's
 * "next_change" is when it leaves its state by itself unless a check changes
 * first (WITHDRAWN: the hold-down ends; SUPPRESSED: damping reuse; DRAINING:
 * drain_time is over), else null.
 *
 * The daemon adds to each check its death watches (watch.h):
 *   "watches": [{"key": "watch_pidfile", "target": "/run/nginx.pid",
 *                "state": "starting"|"alive"|"dead"|"unavailable",
 *                "detail": "pid 1234", "since": TIME, "deaths": N}, ...]
 * (empty when the check has none).
 *
 * Times in the snapshot are wall-clock epoch seconds converted from the
 * engine's monotonic times with the offset (now_wall - now_mono).
 */
#ifndef AA_STATUS_H
#define AA_STATUS_H

#include <stdbool.h>

#include <jansson.h>

struct engine;
struct check;
struct sync;
struct state;

struct status_agent {
	const char *version;
	long pid;
	double started; /* wall */
	const char *config;
	bool dry_run;
	double metrics_interval; /* seconds between metrics file writes; 0: no metrics file */
	unsigned long lag_runs;
	double lag_p50, lag_p99, lag_max; /* seconds */
	bool without_checks;              /* leave "checks" out (the caller walks them) */
};

/* The whole snapshot; sync and state may be NULL. */
json_t *status_snapshot(const struct status_agent *ag, const struct engine *e, const struct sync *s,
                        const struct state *st, double now_mono, double now_wall);
/* One check object as in the snapshot's "checks". */
json_t *status_check(const struct check *c, double now_mono, double now_wall);

#endif
