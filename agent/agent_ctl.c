/* SPDX-License-Identifier: ISC */
/*
 * agent_ctl.c - the daemon's control verbs (status, drain with its --wait,
 * undrain, check, reload) and its status snapshot, on struct agent
 * (agent_int.h). Every answer on the control socket is written here;
 * decisions go through core.c like any other.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_int.h"
#include "control_proto.h"
#include "core.h"
#include "engine.h"
#include "state.h"
#include "status.h"
#include "sync.h"
#include "util.h"
#include "watch.h"

/* The longest `for` a drain may ask (seconds): ten years is "forever" by mistake. */
#define DRAIN_FOR_MAX (10.0 * 365 * 86400)
/* The longest a `drain --wait` may wait for BIRD to confirm the withdraw (seconds). */
#define DRAIN_WAIT_MAX 86400.0
/* How often a waiting drain looks at the engine and the sync layer (ms): neither calls back
 * when BIRD confirms, and reading their state is cheap. */
#define DRAIN_WAIT_POLL_MS 10

/* ---- status ------------------------------------------------------------------ */

/* The check as status shows it: status_check() and its death watches. */
json_t *agent_check_status(const struct check *c, double now_mono, double now_wall)
{
	json_t *o = status_check(c, now_mono, now_wall), *list = json_array();
	const struct agent_check *ac = c->user;

	for (size_t i = 0; ac != NULL && i < ac->nwatches; i++) {
		struct watch_info wi;

		watch_info(ac->watches[i], &wi);
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s, s:s, s:f, s:I}", "key", wi.key, "target", wi.target,
		              "state", watch_state_name(wi.state), "detail", wi.detail, "since",
		              now_wall - (now_mono - wi.since), "deaths", (json_int_t)wi.deaths));
	}
	json_object_set_new(o, "watches", list);
	return o;
}

json_t *agent_snapshot(const struct agent *a, bool with_checks)
{
	struct status_agent ag = {
	    .version = PACKAGE_VERSION,
	    .pid = (long)getpid(),
	    .started = a->started_wall,
	    .config = a->opts.conf_path,
	    .dry_run = a->opts.dry_run,
	    .metrics_interval = a->conf->metrics_file ? a->conf->metrics_interval : 0,
	    .lag_runs = a->lag_runs,
	    .lag_p50 = agent_lag_quantile(a, 0.5),
	    .lag_p99 = agent_lag_quantile(a, 0.99),
	    .lag_max = a->lag_max,
	    .without_checks = true,
	};
	double now_mono = mono_now(), now_wall = wall_now();
	json_t *snap = status_snapshot(&ag, a->core->engine, a->core->sync, a->core->state,
	                               now_mono, now_wall);

	if (with_checks) {
		json_t *checks = json_array();

		for (size_t i = 0; i < a->core->engine->nchecks; i++)
			json_array_append_new(
			    checks,
			    agent_check_status(&a->core->engine->checks[i], now_mono, now_wall));
		json_object_set_new(snap, "checks", checks);
	}
	return snap;
}

json_t *agent_status(const struct agent *a)
{
	return agent_snapshot(a, true);
}

/* ---- verbs ------------------------------------------------------------------- */

/* Answer every `check` request waiting on ac: the check after its run, or an error. */
void agent_answer_waiting(struct agent_check *ac, const char *error)
{
	struct control_req **w = ac->waiting;
	size_t n = ac->nwaiting;

	ac->waiting = NULL;
	ac->nwaiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (error)
			control_reply_error(w[i], CONTROL_E_INTERNAL, "%s", error);
		else
			control_reply(
			    w[i], json_pack("{s:b, s:o}", "ok", 1, "check",
			                    agent_check_status(ac->check, mono_now(), wall_now())));
	}
	free(w);
}

/* {"ok":true,"status":SNAPSHOT}, written one check at a time: the checks of a big
 * configuration as one json_t would take 4 KB each at once (4 MB for 1000). */
static void verb_status(struct control_req *r, void *arg)
{
	const struct agent *a = arg;
	double now_mono = mono_now(), now_wall = wall_now();
	json_t *snap = agent_snapshot(a, false);
	char *base, *text = NULL;
	size_t len = 0, n;
	FILE *f;

	base = json_dumps(snap, CONTROL_JSON_FLAGS);
	json_decref(snap);
	n = base != NULL ? strlen(base) : 0;
	/* an object with members: "{...}" */
	f = n > 2 && base[n - 1] == '}' ? open_memstream(&text, &len) : NULL;
	if (f == NULL) {
		free(base);
		control_reply_error(r, CONTROL_E_INTERNAL,
		                    "cannot encode the status (out of memory)");
		return;
	}
	/* the snapshot object without its closing brace, then its "checks" */
	fprintf(f, "{\"ok\":true,\"status\":%.*s,\"checks\":[", (int)(n - 1), base);
	free(base);
	for (size_t i = 0; i < a->core->engine->nchecks; i++) {
		json_t *chk = agent_check_status(&a->core->engine->checks[i], now_mono, now_wall);

		if (i > 0)
			fputc(',', f);
		json_dumpf(chk, f, CONTROL_JSON_FLAGS);
		json_decref(chk);
	}
	fputs("]}}", f);
	if (ferror(f)) {
		fclose(f);
		free(text);
		control_reply_error(r, CONTROL_E_INTERNAL,
		                    "cannot encode the status (out of memory)");
		return;
	}
	fclose(f);
	control_reply_encoded(r, text);
}

/*
 * The announcements a drain/undrain names: absent or empty = all (or, with only_drained,
 * all drained ones). A name the engine does not know is accepted only with known_extra
 * (undrain of a drain kept in the state file). Returns NULL after answering on an error.
 */
static json_t *pick_announcements(struct agent *a, struct control_req *r, bool undrain)
{
	json_t *req = control_req_info(r)->request, *names = json_object_get(req, "announcements");
	json_t *out = json_array(), *v;
	size_t i;

	if (names == NULL || json_is_null(names) ||
	    (json_is_array(names) && !json_array_size(names))) {
		for (i = 0; i < a->core->engine->nannouncements; i++) {
			const struct announcement *ann = &a->core->engine->announcements[i];
			if (!undrain || ann->drain.active)
				json_array_append_new(out, json_string(ann->conf->name));
		}
		if (undrain)
			for (i = 0; i < a->core->state->ndrains; i++)
				if (!engine_find_announcement(a->core->engine,
				                              a->core->state->drains[i].name))
					json_array_append_new(
					    out, json_string(a->core->state->drains[i].name));
		return out;
	}
	if (!json_is_array(names)) {
		json_decref(out);
		control_reply_error(r, CONTROL_E_BAD_REQUEST,
		                    "\"announcements\" must be an array of names");
		return NULL;
	}
	json_array_foreach(names, i, v)
	{
		const char *n = json_string_value(v);

		if (n == NULL) {
			json_decref(out);
			control_reply_error(r, CONTROL_E_BAD_REQUEST,
			                    "\"announcements\" must be an array of names");
			return NULL;
		}
		if (!engine_find_announcement(a->core->engine, n) &&
		    !(undrain && state_find(a->core->state, n))) {
			json_decref(out);
			control_reply_error(
			    r, CONTROL_E_UNKNOWN_ANNOUNCEMENT,
			    "no announcement \"%.64s\" in %s; see anycastctl status", n,
			    a->opts.conf_path);
			return NULL;
		}
		json_array_append_new(out, json_string(n));
	}
	return out;
}

/* Attach the state file's health to a response when the last write failed. */
static void report_save(struct agent *a, json_t *resp, int save_rc)
{
	if (save_rc < 0)
		json_object_set_new(resp, "warning",
		                    json_sprintf("%s; the drain is in effect but will not survive "
		                                 "a restart",
		                                 a->core->state->save_error));
}

enum drain_progress { DRAIN_PENDING, DRAIN_WITHDRAWN, DRAIN_GONE };

/* Is announcement name DRAINED with every protocol of it disabled, as BIRD last said? why
 * gets what is missing. */
static enum drain_progress drain_progress(const struct agent *a, const char *name, char *why,
                                          size_t len)
{
	struct announcement *ann = engine_find_announcement(a->core->engine, name);

	if (ann == NULL) {
		snprintf(why, len, "announcement \"%s\" was removed by a reload", name);
		return DRAIN_GONE;
	}
	if (!ann->drain.active) {
		snprintf(why, len, "announcement \"%s\" was undrained", name);
		return DRAIN_GONE;
	}
	if (ann->state != ANN_DRAINED) {
		snprintf(why, len, "announcement \"%s\" is %s", name,
		         announce_state_name(ann->state));
		return DRAIN_PENDING;
	}
	for (int role = 0; role < PROTO__ROLES; role++) {
		const struct proto_list *l = conf_role_protocols(ann->conf, role);

		for (size_t i = 0; i < l->n; i++) {
			for (size_t j = 0; j < sync_nprotos(a->core->sync); j++) {
				struct sync_proto_status ps;

				sync_proto_status(a->core->sync, j, &ps);
				if (strcmp(ps.name, l->v[i].name) != 0)
					continue;
				if (ps.want != SYNC_DISABLED ||
				    (ps.actual != SYNC_ACTUAL_DISABLED &&
				     ps.actual != SYNC_ACTUAL_MISSING)) {
					snprintf(why, len,
					         "BIRD has not confirmed protocol %s of \"%s\" "
					         "disabled (it is %s)",
					         ps.name, name, sync_actual_name(ps.actual));
					return DRAIN_PENDING;
				}
			}
		}
	}
	return DRAIN_WITHDRAWN;
}

static void drain_wait_done(struct agent *a, size_t i)
{
	json_decref(a->dwaits[i].names);
	a->dwaits[i] = a->dwaits[--a->ndwaits];
	if (a->ndwaits == 0)
		uv_timer_stop(&a->dwait_timer);
}

/* Answer every waiting drain whose announcements are withdrawn, gone or out of time; with
 * stopping, every one. */
void agent_drain_waits_check(struct agent *a, const char *stopping)
{
	double now = mono_now();

	for (size_t i = 0; i < a->ndwaits;) {
		struct drain_wait *w = &a->dwaits[i];
		enum drain_progress p = DRAIN_WITHDRAWN;
		char why[256] = "";
		json_t *v;
		size_t k;

		json_array_foreach(w->names, k, v)
		{
			p = drain_progress(a, json_string_value(v), why, sizeof(why));
			if (p != DRAIN_WITHDRAWN)
				break;
		}
		if (p == DRAIN_WITHDRAWN && !stopping) {
			json_object_set_new(w->resp, "withdrawn", json_true());
			json_object_set_new(w->resp, "waited", json_real(now - w->started));
			control_reply(w->req, w->resp);
		} else if (stopping || p == DRAIN_GONE || now >= w->deadline) {
			json_decref(w->resp);
			control_reply_error_json(
			    w->req, CONTROL_E_WAIT_TIMEOUT,
			    json_pack("{s:O, s:b}", "announcements", w->names, "withdrawn", 0),
			    "not confirmed withdrawn after %.1f s: %s%s", now - w->started,
			    stopping ? stopping : why,
			    p == DRAIN_GONE ? "" : "; the drain is in effect");
		} else {
			i++;
			continue;
		}
		drain_wait_done(a, i);
	}
}

static void dwait_timer_cb(uv_timer_t *t)
{
	agent_drain_waits_check(t->data, NULL);
}

static void verb_drain(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	const struct control_req_info *ri = control_req_info(r);
	json_t *reason = json_object_get(ri->request, "reason");
	json_t *jfor = json_object_get(ri->request, "for"), *names, *resp, *v;
	json_t *jwait = json_object_get(ri->request, "wait");
	double now = mono_now(), until = INFINITY, wait = 0;
	int save_rc = 0;
	size_t i;

	if (!json_is_string(reason) || json_string_length(reason) == 0 ||
	    json_string_length(reason) > CONTROL_REASON_MAX) {
		control_reply_error(r, CONTROL_E_BAD_REQUEST,
		                    "a drain needs \"reason\": a string of 1 to %d bytes",
		                    CONTROL_REASON_MAX);
		return;
	}
	if (jfor != NULL && !json_is_null(jfor)) {
		double f = json_number_value(jfor);
		if (!json_is_number(jfor) || !(f > 0) || f > DRAIN_FOR_MAX) {
			control_reply_error(
			    r, CONTROL_E_BAD_REQUEST,
			    "\"for\" is a number of seconds, above 0 and at most %.0f",
			    DRAIN_FOR_MAX);
			return;
		}
		until = wall_now() + f;
	}
	if (jwait != NULL && !json_is_null(jwait)) {
		wait = json_number_value(jwait);
		if (!json_is_number(jwait) || !(wait > 0) || wait > DRAIN_WAIT_MAX) {
			control_reply_error(
			    r, CONTROL_E_BAD_REQUEST,
			    "\"wait\" is a number of seconds, above 0 and at most %.0f",
			    DRAIN_WAIT_MAX);
			return;
		}
	}
	names = pick_announcements(a, r, false);
	if (names == NULL)
		return;
	json_array_foreach(names, i, v)
	{
		struct announcement *ann =
		    engine_find_announcement(a->core->engine, json_string_value(v));

		if (core_drain(a->core, ann, json_string_value(reason), ri->user, (long)ri->uid,
		               until) < 0)
			save_rc = -1;
	}
	agent_arm_events(a);
	resp = json_pack("{s:b, s:O}", "ok", 1, "announcements", names);
	report_save(a, resp, save_rc);
	if (wait > 0) {
		/* answered once BIRD confirms the withdraw (drain_waits_check) */
		a->dwaits = xrealloc(a->dwaits, (a->ndwaits + 1) * sizeof(*a->dwaits));
		a->dwaits[a->ndwaits++] = (struct drain_wait){
		    .req = r, .resp = resp, .names = names, .started = now, .deadline = now + wait};
		if (!uv_is_active((uv_handle_t *)&a->dwait_timer))
			uv_timer_start(&a->dwait_timer, dwait_timer_cb, DRAIN_WAIT_POLL_MS,
			               DRAIN_WAIT_POLL_MS);
		return;
	}
	json_decref(names);
	control_reply(r, resp);
}

static void verb_undrain(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	const struct control_req_info *ri = control_req_info(r);
	json_t *names = pick_announcements(a, r, true), *done, *resp, *v;
	int save_rc = 0, rc;
	size_t i;

	if (names == NULL)
		return;
	done = json_array();
	json_array_foreach(names, i, v)
	{
		const char *n = json_string_value(v);

		if (core_undrain(a->core, n, ri->user, (long)ri->uid, &rc) > 0)
			json_array_append_new(done, json_string(n));
		if (rc < 0)
			save_rc = -1;
	}
	json_decref(names);
	agent_arm_events(a);
	resp = json_pack("{s:b, s:o}", "ok", 1, "announcements", done);
	report_save(a, resp, save_rc);
	control_reply(r, resp);
}

static void verb_check(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	json_t *name = json_object_get(control_req_info(r)->request, "name");
	struct check *c;
	struct agent_check *ac;

	if (!json_is_string(name)) {
		control_reply_error(r, CONTROL_E_BAD_REQUEST, "a check request needs \"name\"");
		return;
	}
	c = engine_find_check(a->core->engine, json_string_value(name));
	if (c == NULL || c->user == NULL) {
		control_reply_error(r, CONTROL_E_UNKNOWN_CHECK,
		                    "no check \"%.64s\" in %s; see anycastctl status",
		                    json_string_value(name), a->opts.conf_path);
		return;
	}
	ac = c->user;
	ac->waiting = xrealloc(ac->waiting, (ac->nwaiting + 1) * sizeof(*ac->waiting));
	ac->waiting[ac->nwaiting++] = r;
	/* a run in flight answers too: its result is as fresh as a new one */
	if (engine_check_trigger(c, mono_now()) == 0)
		agent_schedule(ac);
}

static void verb_reload(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	char *errors = NULL;
	json_t *list;

	if (agent_reload(a, &errors) < 0) {
		list = json_array();
		for (char *save = NULL, *line = strtok_r(errors, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(list, json_string(line));
		free(errors);
		control_reply_error_json(r, CONTROL_E_RELOAD_FAILED,
		                         json_pack("{s:o}", "errors", list),
		                         "the new configuration has errors; still running the "
		                         "previous one");
		return;
	}
	control_reply(r,
	              json_pack("{s:b, s:I, s:I}", "ok", 1, "kept_checks", (json_int_t)a->last_kept,
	                        "checks", (json_int_t)a->conf->nchecks));
}

const struct control_verb agent_verbs[] = {
    {"status", false, verb_status}, {"drain", true, verb_drain},   {"undrain", true, verb_undrain},
    {"check", true, verb_check},    {"reload", true, verb_reload},
};

const size_t agent_nverbs = ARRAY_SIZE(agent_verbs);
