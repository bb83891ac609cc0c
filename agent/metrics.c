/* SPDX-License-Identifier: ISC */
/*
 * metrics.c - the status snapshot as Prometheus text exposition (0.0.4) for
 * node_exporter's textfile collector. Every family is written whole (HELP,
 * TYPE, then all its samples), as the format requires.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "output.h"
#include "util.h"

#define P "anycast_agent_"

/* A number read from a member path like "counters.runs"; NaN if absent. */
static double num_at(const json_t *obj, const char *path)
{
	char key[64];
	const char *dot;

	while ((dot = strchr(path, '.')) != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		obj = snap_object(obj, key);
		path = dot + 1;
	}
	return snap_num(obj, path, NAN);
}

static void value(FILE *out, double v)
{
	if (isnan(v))
		fputs("NaN", out);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", out);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(out, "%.0f", v);
	else
		fprintf(out, "%.9g", v);
}

/* A label value, escaped: backslash, double quote and newline. */
static void label_value(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", P, name, help, P, name, type);
}

/* name{k1="v1"[,k2="v2"]} value; k2 may be NULL. */
static void sample(FILE *out, const char *name, const char *k1, const char *v1, const char *k2,
                   const char *v2, double v)
{
	fprintf(out, "%s%s", P, name);
	if (k1) {
		fprintf(out, "{%s=", k1);
		label_value(out, v1);
		if (k2) {
			fprintf(out, ",%s=", k2);
			label_value(out, v2);
		}
		fputc('}', out);
	}
	fputc(' ', out);
	value(out, v);
	fputc('\n', out);
}

/* A family with one sample per element of an array, read from a member path. */
struct per_item {
	const char *name, *type, *help, *path;
	double scale;
};

static void per_item(FILE *out, const json_t *arr, const char *label, const struct per_item *m)
{
	const json_t *v;
	size_t i;

	family(out, m->name, m->type, m->help);
	json_array_foreach(arr, i, v)
	{
		double x = num_at(v, m->path);

		if (!isnan(x))
			sample(out, m->name, label, snap_str(v, "name", "?"), NULL, NULL,
			       x * m->scale);
	}
}

static const struct per_item check_metrics[] = {
    {"check_latency_seconds", "gauge", "Duration of the check's last run.", "duration", 1},
    {"check_last_run_timestamp_seconds", "gauge", "When the check's last result arrived.",
     "last_at", 1},
    {"check_fail_streak", "gauge", "Consecutive failed runs (fall reached: DOWN).", "fail_streak",
     1},
    {"check_pass_streak", "gauge", "Consecutive passing runs (rise reached: UP).", "pass_streak",
     1},
    {"check_runs_total", "counter", "Runs of the check.", "counters.runs", 1},
    {"check_timeouts_total", "counter", "Runs that timed out (also counted as failures).",
     "counters.timeouts", 1},
    {"check_transitions_total", "counter", "State changes of the check.", "counters.transitions",
     1},
    {"check_deaths_total", "counter",
     "Deaths seen by the check's death watches (also counted as failures).", "counters.deaths", 1},
    {"check_cert_remaining_seconds", "gauge",
     "Time until the served TLS certificate expires (whole days).", "cert_days_left", 86400},
    {"check_rrsig_expiry_timestamp_seconds", "gauge",
     "When the first DNSSEC signature the dns check judged expires (epoch seconds).",
     "rrsig_expires", 1},
};

static const struct per_item announcement_metrics[] = {
    {"announcement_damping_penalty", "gauge", "Flap damping penalty (RFC 2439 style).", "penalty",
     1},
    {"announcement_last_change_timestamp_seconds", "gauge", "When the state last changed.", "since",
     1},
    {"announcement_transitions_total", "counter", "State changes of the announcement.",
     "counters.transitions", 1},
    {"announcement_announces_total", "counter", "Times the route was announced.",
     "counters.announces", 1},
    {"announcement_withdraws_total", "counter", "Times the route was withdrawn (drains too).",
     "counters.withdraws", 1},
    {"announcement_suppressions_total", "counter", "Re-announces held back by flap damping.",
     "counters.suppressions", 1},
    {"announcement_guard_holds_total", "counter", "Withdraws held back by the last-site guard.",
     "counters.guard_holds", 1},
    {"announcement_drains_total", "counter", "Operator drains begun.", "counters.drains", 1},
    {"announcement_drain_start_timestamp_seconds", "gauge",
     "When the operator drain in force began (absent while not drained).", "drain.since", 1},
    {"announcement_drain_end_timestamp_seconds", "gauge",
     "When the operator drain in force ends by itself (absent without drain --for).", "drain.until",
     1},
    {"announcement_next_change_timestamp_seconds", "gauge",
     "When the state changes by itself unless a check changes first: hold-down or "
     "drain_time over, damping reuse (absent when nothing is due).",
     "next_change", 1},
};

static void checks(FILE *out, const json_t *arr)
{
	static const char *const states[] = {"UP", "DOWN", "UNKNOWN"};
	static const struct {
		const char *result, *path;
	} results[] = {{"pass", "counters.passes"},
	               {"warning", "counters.warnings"},
	               {"failure", "counters.failures"}};
	const json_t *v;
	size_t i, j;

	family(out, "check_info", "gauge", "A configured check and its type.");
	json_array_foreach(arr, i, v) sample(out, "check_info", "check", snap_str(v, "name", "?"),
	                                     "type", snap_str(v, "type", "?"), 1);
	family(out, "check_up", "gauge", "1 if the check is UP.");
	json_array_foreach(arr, i, v)
	    sample(out, "check_up", "check", snap_str(v, "name", "?"), NULL, NULL,
	           strcmp(snap_str(v, "state", ""), "UP") == 0);
	family(out, "check_state", "gauge", "1 for the check's current state (UP, DOWN, UNKNOWN).");
	json_array_foreach(arr, i, v) for (j = 0; j < ARRAY_SIZE(states); j++)
	    sample(out, "check_state", "check", snap_str(v, "name", "?"), "state", states[j],
	           strcmp(snap_str(v, "state", ""), states[j]) == 0);
	family(out, "check_degraded", "gauge", "1 if the check passes with a warning (degraded).");
	json_array_foreach(arr, i, v)
	    sample(out, "check_degraded", "check", snap_str(v, "name", "?"), NULL, NULL,
	           snap_bool(v, "degraded", false));
	for (j = 0; j < ARRAY_SIZE(check_metrics); j++) {
		/* a check that never ran has no latency: leave the sample out */
		if (strcmp(check_metrics[j].path, "duration") == 0) {
			family(out, check_metrics[j].name, check_metrics[j].type,
			       check_metrics[j].help);
			json_array_foreach(arr, i,
			                   v) if (json_is_number(json_object_get(v, "last_at")))
			    sample(out, check_metrics[j].name, "check", snap_str(v, "name", "?"),
			           NULL, NULL, snap_num(v, "duration", 0));
			continue;
		}
		per_item(out, arr, "check", &check_metrics[j]);
	}
	family(out, "check_results_total", "counter",
	       "Results by class: pass, warning (passed, degraded), failure (timeouts included).");
	json_array_foreach(arr, i, v) for (j = 0; j < ARRAY_SIZE(results); j++)
	{
		double x = num_at(v, results[j].path);

		if (!isnan(x))
			sample(out, "check_results_total", "check", snap_str(v, "name", "?"),
			       "result", results[j].result, x);
	}
}

static void announcements(FILE *out, const json_t *arr)
{
	static const char *const states[] = {"ADOPTING", "ANNOUNCED", "DEGRADED",  "WITHDRAWN",
	                                     "DRAINING", "DRAINED",   "SUPPRESSED"};
	const json_t *v;
	size_t i, j;

	family(out, "announcement_state", "gauge", "1 for the announcement's current state.");
	json_array_foreach(arr, i, v) for (j = 0; j < ARRAY_SIZE(states); j++)
	    sample(out, "announcement_state", "announcement", snap_str(v, "name", "?"), "state",
	           states[j], strcmp(snap_str(v, "state", ""), states[j]) == 0);
	family(out, "announcement_announced", "gauge",
	       "1 if the route is carried (ANNOUNCED, DEGRADED, DRAINING or guarded).");
	json_array_foreach(arr, i, v)
	    sample(out, "announcement_announced", "announcement", snap_str(v, "name", "?"), NULL,
	           NULL, snap_announced(v));
	family(out, "announcement_guarded", "gauge",
	       "1 while the last-site guard holds a withdraw back.");
	json_array_foreach(arr, i, v)
	    sample(out, "announcement_guarded", "announcement", snap_str(v, "name", "?"), NULL,
	           NULL, snap_bool(v, "guarded", false));
	family(out, "announcement_drained", "gauge", "1 while an operator drain is in force.");
	json_array_foreach(arr, i, v)
	    sample(out, "announcement_drained", "announcement", snap_str(v, "name", "?"), NULL,
	           NULL, snap_object(v, "drain") != NULL);
	/* the fleet's rules join on prefix: PoPs may name one prefix's announcement differently */
	family(out, "announcement_prefix_info", "gauge",
	       "A prefix the announcement carries; always 1.");
	json_array_foreach(arr, i, v)
	{
		const json_t *p;

		json_array_foreach(snap_array(v, "prefixes"), j, p) if (json_is_string(p))
		    sample(out, "announcement_prefix_info", "announcement",
		           snap_str(v, "name", "?"), "prefix", json_string_value(p), 1);
	}
	for (j = 0; j < ARRAY_SIZE(announcement_metrics); j++)
		per_item(out, arr, "announcement", &announcement_metrics[j]);
}

static void bird(FILE *out, const json_t *b)
{
	const json_t *socks = snap_array(b, "sockets"), *protos = snap_array(b, "protocols"), *v;
	size_t i;

	family(out, "bird_connected", "gauge", "1 if the agent is connected to the BIRD socket.");
	json_array_foreach(socks, i, v)
	    sample(out, "bird_connected", "socket", snap_str(v, "name", "?"), NULL, NULL,
	           snap_bool(v, "connected", false));
	family(out, "bird_socket_failures", "gauge", "Consecutive failures on the BIRD socket.");
	json_array_foreach(socks, i, v)
	    sample(out, "bird_socket_failures", "socket", snap_str(v, "name", "?"), NULL, NULL,
	           snap_num(v, "consecutive_failures", 0));
	family(out, "bird_in_sync", "gauge", "1 if every BIRD protocol is as the agent wants it.");
	sample(out, "bird_in_sync", NULL, NULL, NULL, NULL, snap_bool(b, "in_sync", false));
	family(out, "bird_drift_corrections_total", "counter",
	       "Protocols found in the wrong state in BIRD and corrected.");
	sample(out, "bird_drift_corrections_total", NULL, NULL, NULL, NULL,
	       snap_num(b, "corrections", 0));
	family(out, "bird_command_errors_total", "counter", "BIRD commands that failed.");
	sample(out, "bird_command_errors_total", NULL, NULL, NULL, NULL,
	       snap_num(b, "command_errors", 0));
	family(out, "bird_state_file_errors_total", "counter",
	       "Failed writes of the state files BIRD includes.");
	sample(out, "bird_state_file_errors_total", NULL, NULL, NULL, NULL,
	       snap_num(b, "file_errors", 0));
	family(out, "bird_protocol_in_sync", "gauge", "1 if the BIRD protocol is as wanted.");
	json_array_foreach(protos, i, v)
	    sample(out, "bird_protocol_in_sync", "protocol", snap_str(v, "name", "?"), "socket",
	           snap_str(v, "socket", "?"), snap_bool(v, "in_sync", false));
}

int metrics_render(const json_t *snap, FILE *out)
{
	const json_t *agent = snap_object(snap, "agent"), *sched = snap_object(snap, "schedule");

	family(out, "build_info", "gauge", "The agent's version; always 1.");
	sample(out, "build_info", "version", snap_str(agent, "version", "unknown"), NULL, NULL, 1);
	family(out, "start_time_seconds", "gauge", "When the agent started (epoch seconds).");
	sample(out, "start_time_seconds", NULL, NULL, NULL, NULL, snap_num(agent, "started", NAN));
	family(out, "dry_run", "gauge", "1 if the agent runs with --dry-run (BIRD never changed).");
	sample(out, "dry_run", NULL, NULL, NULL, NULL, snap_bool(agent, "dry_run", false));
	/* the fleet's staleness rule compares the file's age with this */
	if (isfinite(snap_num(agent, "metrics_interval", NAN))) {
		family(out, "metrics_interval_seconds", "gauge",
		       "How often the agent rewrites this file (metrics_interval).");
		sample(out, "metrics_interval_seconds", NULL, NULL, NULL, NULL,
		       snap_num(agent, "metrics_interval", NAN));
	}
	if (sched) {
		family(out, "schedule_runs_total", "counter", "Check runs the scheduler started.");
		sample(out, "schedule_runs_total", NULL, NULL, NULL, NULL,
		       snap_num(sched, "runs", 0));
		family(out, "schedule_lag_p99_seconds", "gauge",
		       "99th percentile of how late check runs started.");
		sample(out, "schedule_lag_p99_seconds", NULL, NULL, NULL, NULL,
		       snap_num(sched, "lag_p99_ms", NAN) / 1000.0);
		family(out, "schedule_lag_max_seconds", "gauge", "Latest start of a check run.");
		sample(out, "schedule_lag_max_seconds", NULL, NULL, NULL, NULL,
		       snap_num(sched, "lag_max_ms", NAN) / 1000.0);
	}
	checks(out, snap_array(snap, "checks"));
	announcements(out, snap_array(snap, "announcements"));
	bird(out, snap_object(snap, "bird"));
	fflush(out);
	return ferror(out) ? -1 : 0;
}

int metrics_write_file(const json_t *snap, const char *path)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc, saved;

	if (!mem)
		return -1;
	rc = metrics_render(snap, mem);
	if (fclose(mem) != 0)
		rc = -1;
	if (rc == 0)
		rc = atomic_write_file(path, buf, len, 0644);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}
