/* SPDX-License-Identifier: ISC */
/*
 * status.c - builds the status snapshot (see status.h) from the engine, the
 * sync layer, the state file's status and the agent's own numbers. Reads
 * only; decides nothing.
 */
#include <config.h>

#include <limits.h>
#include <math.h>

#include "bird.h"
#include "engine.h"
#include "state.h"
#include "status.h"
#include "sync.h"

/* A monotonic time as wall-clock epoch seconds. */
static json_t *wall(double mono, double now_mono, double now_wall)
{
	if (!isfinite(mono))
		return json_null();
	return json_real(now_wall - (now_mono - mono));
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

static const char *class_name(enum result_class c)
{
	switch (c) {
	case RESULT_PASS:
		return "pass";
	case RESULT_WARN:
		return "warn";
	default:
		return "fail";
	}
}

json_t *status_check(const struct check *c, double now_mono, double now_wall)
{
	const struct check_conf *cf = c->conf;
	const struct check_report *r = &c->last;
	json_t *o;

	o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", cf->name, "type",
	              check_type_name(cf->type), "state", check_state_name(c->state), "degraded",
	              c->degraded, "since", wall(c->since, now_mono, now_wall));
	if (c->has_report) {
		json_object_set_new(o, "result", json_string(result_name(r->code)));
		json_object_set_new(o, "result_class",
		                    json_string(class_name(result_class(r->code))));
		json_object_set_new(o, "detail", json_string(r->detail));
		json_object_set_new(o, "duration", json_real(r->duration));
		json_object_set_new(o, "last_at", wall(c->last_at, now_mono, now_wall));
		json_object_set_new(o, "cert_days_left",
		                    r->cert_days_left == INT_MIN ? json_null()
		                                                 : json_integer(r->cert_days_left));
		/* only where the last run judged DNSSEC signatures: older readers never see it */
		if (r->rrsig_expires != 0)
			json_object_set_new(o, "rrsig_expires", json_integer(r->rrsig_expires));
	} else {
		json_object_set_new(o, "result", json_null());
		json_object_set_new(o, "result_class", json_null());
		json_object_set_new(o, "detail", json_string(""));
		json_object_set_new(o, "duration", json_null());
		json_object_set_new(o, "last_at", json_null());
		json_object_set_new(o, "cert_days_left", json_null());
	}
	json_object_update_new(
	    o, json_pack("{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:b}", "interval", cf->interval,
	                 "fast_interval", cf->fast_interval > 0 ? cf->fast_interval : cf->interval,
	                 "timeout", cf->timeout, "rise", (json_int_t)cf->rise, "fall",
	                 (json_int_t)cf->fall, "pass_streak", (json_int_t)c->pass_streak,
	                 "fail_streak", (json_int_t)c->fail_streak, "running", c->running));
	json_object_set_new(
	    o, "counters",
	    json_pack(
	        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "runs", (json_int_t)c->counters.runs,
	        "passes", (json_int_t)c->counters.passes, "warnings",
	        (json_int_t)c->counters.warnings, "failures", (json_int_t)c->counters.failures,
	        "timeouts", (json_int_t)c->counters.timeouts, "transitions",
	        (json_int_t)c->counters.transitions, "deaths", (json_int_t)c->counters.deaths));
	return o;
}

static json_t *strlist_json(const struct strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *drain_json(const struct announcement_drain *d, double now_mono, double now_wall)
{
	if (!d->active)
		return json_null();
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "reason", d->reason, "who", d->who, "uid",
	                 d->uid >= 0 ? json_integer(d->uid) : json_null(), "since",
	                 wall(d->since, now_mono, now_wall), "until",
	                 wall(d->until, now_mono, now_wall));
}

static json_t *announcement_json(const struct announcement *a, double now_mono, double now_wall)
{
	const struct announcement_conf *cf = a->conf;
	const struct announcement_counters *k = &a->counters;
	double penalty = engine_announcement_penalty(a, now_mono);

	return json_pack(
	    "{s:s, s:s, s:s, s:b, s:o, s:o, s:s, s:o, s:o, s:I, s:f, s:o, s:{s:I, s:I, s:I, s:I, "
	    "s:I, s:I}}",
	    "name", cf->name, "state", announce_state_name(a->state), "variant",
	    announce_variant_name(a->variant), "guarded", a->guarded, "since",
	    wall(a->since, now_mono, now_wall), "next_change",
	    wall(engine_announcement_next_change(a), now_mono, now_wall), "cause", a->cause,
	    "prefixes", strlist_json(&cf->prefixes), "requires", strlist_json(&cf->requires),
	    "quorum", (json_int_t)(cf->quorum ? cf->quorum : cf->requires.n), "penalty",
	    isfinite(penalty) ? penalty : 0.0, "drain", drain_json(&a->drain, now_mono, now_wall),
	    "counters", "transitions", (json_int_t)k->transitions, "announces",
	    (json_int_t)k->announces, "withdraws", (json_int_t)k->withdraws, "suppressions",
	    (json_int_t)k->suppressions, "guard_holds", (json_int_t)k->guard_holds, "drains",
	    (json_int_t)k->drains);
}

static json_t *bird_json(const struct sync *s)
{
	struct sync_status st;
	json_t *socks = json_array(), *protos = json_array();

	if (s == NULL)
		return json_pack("{s:b, s:I, s:I, s:I, s:o, s:o}", "in_sync", 0, "corrections",
		                 (json_int_t)0, "command_errors", (json_int_t)0, "file_errors",
		                 (json_int_t)0, "sockets", socks, "protocols", protos);
	sync_status(s, &st);
	for (size_t i = 0; i < st.sockets; i++) {
		struct bird_client_state bs;
		const struct bird_client *bc = sync_bird(s, i);

		if (bc == NULL)
			continue;
		bird_client_state(bc, &bs);
		json_array_append_new(
		    socks, json_pack("{s:s, s:s, s:b, s:s, s:s, s:I}", "name", bs.name, "path",
		                     bs.path, "connected", bs.connected, "version", bs.version,
		                     "last_error", bs.last_error, "consecutive_failures",
		                     (json_int_t)bs.consecutive_failures));
	}
	for (size_t i = 0; i < sync_nprotos(s); i++) {
		struct sync_proto_status ps;

		sync_proto_status(s, i, &ps);
		json_array_append_new(
		    protos,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:b, s:s, s:b}", "name", ps.name,
		              "socket", ps.socket, "want", sync_want_name(ps.want), "actual",
		              sync_actual_name(ps.actual), "bird_state",
		              ps.bird_state ? ps.bird_state : "", "in_sync", ps.in_sync,
		              "corrections", (json_int_t)ps.corrections, "file_ok", ps.file_ok,
		              "include", sync_include_name(ps.include), "orphan", ps.orphan));
	}
	return json_pack("{s:b, s:I, s:I, s:I, s:o, s:o}", "in_sync", st.in_sync, "corrections",
	                 (json_int_t)st.corrections, "command_errors",
	                 (json_int_t)st.command_errors, "file_errors", (json_int_t)st.file_errors,
	                 "sockets", socks, "protocols", protos);
}

static json_t *state_json(const struct state *st)
{
	const char *err;

	if (st == NULL)
		return json_null();
	err = st->save_failed ? st->save_error : st->corrupt ? st->load_error : NULL;
	return json_pack("{s:s, s:b, s:o, s:o, s:o}", "file", st->path, "ok",
	                 !st->corrupt && !st->save_failed, "error", str_or_null(err), "load_error",
	                 str_or_null(st->load_error), "save_error", str_or_null(st->save_error));
}

json_t *status_snapshot(const struct status_agent *ag, const struct engine *e, const struct sync *s,
                        const struct state *st, double now_mono, double now_wall)
{
	json_t *anns = json_array(), *snap, *checks;

	for (size_t i = 0; i < e->nannouncements; i++)
		json_array_append_new(anns,
		                      announcement_json(&e->announcements[i], now_mono, now_wall));
	snap = json_pack(
	    "{s:i, s:{s:s, s:I, s:f, s:f, s:s, s:b, s:o}, s:o, s:o, s:{s:I, s:f, s:f, s:f}, s:o}",
	    "version", 1, "agent", "version", ag->version, "pid", (json_int_t)ag->pid, "started",
	    ag->started, "uptime", now_wall - ag->started, "config", ag->config ? ag->config : "",
	    "dry_run", ag->dry_run, "metrics_interval",
	    ag->metrics_interval > 0 ? json_real(ag->metrics_interval) : json_null(), "bird",
	    bird_json(s), "announcements", anns, "schedule", "runs", (json_int_t)ag->lag_runs,
	    "lag_p50_ms", ag->lag_p50 * 1e3, "lag_p99_ms", ag->lag_p99 * 1e3, "lag_max_ms",
	    ag->lag_max * 1e3, "state", state_json(st));
	if (ag->without_checks)
		return snap;
	checks = json_array();
	for (size_t i = 0; i < e->nchecks; i++)
		json_array_append_new(checks, status_check(&e->checks[i], now_mono, now_wall));
	json_object_set_new(snap, "checks", checks);
	return snap;
}
