/* SPDX-License-Identifier: ISC */
/*
 * core.c - the agent's decisions without its I/O (see core.h): engine, sync
 * layer and operator state wired together.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "util.h"

static double mono(const struct core *c)
{
	return c->clock.mono(c->clock.arg);
}

static double wall(const struct core *c)
{
	return c->clock.wall(c->clock.arg);
}

/* Tell the sync layer what each protocol of the announcement should be now. */
static void push_wants(struct core *c, const struct announcement *a)
{
	static const enum sync_want map[] = {
	    [PROTO_UNTOUCHED] = SYNC_KEEP,
	    [PROTO_ENABLE] = SYNC_ENABLED,
	    [PROTO_DISABLE] = SYNC_DISABLED,
	};

	for (int role = 0; role < PROTO__ROLES; role++) {
		const struct proto_list *l = conf_role_protocols(a->conf, role);
		enum proto_action act = engine_announcement_action(a, role);

		for (size_t i = 0; i < l->n; i++)
			sync_want(c->sync, l->v[i].name, map[act], a->message);
	}
}

static void push_all_wants(struct core *c)
{
	for (size_t i = 0; i < c->engine->nannouncements; i++)
		push_wants(c, &c->engine->announcements[i]);
	sync_kick(c->sync);
}

int core_save(struct core *c)
{
	int rc;

	if (c->dry_run) {
		log_info("dry run: would write the state file %s", c->state->path);
		return 0;
	}
	rc = state_save(c->state);
	if (rc < 0 && !c->stopping && c->hooks.save_failed)
		c->hooks.save_failed(c->hooks.arg);
	return rc;
}

/* The engine's penalty as the state file keeps it: a value as of a wall-clock time. */
static bool note_penalty(struct core *c, const struct announcement *a)
{
	double at = a->penalty > 0 ? wall(c) - (mono(c) - a->penalty_at) : 0;

	return state_set_penalty(c->state, a->conf->name, a->penalty, a->damp_suppressed, at);
}

static void on_change(struct engine *e, struct announcement *a,
                      const struct announcement_change *ch, void *arg)
{
	struct core *c = arg;
	char line[768];
	bool save = false;

	(void)e;
	engine_announcement_describe(line, sizeof(line), a, ch);
	log_notice("%s", line);
	if (c->stopping)
		return;
	/* a drain that ended by itself (`for` expired) leaves the state file too */
	if (!a->drain.active && (ch->old_state == ANN_DRAINING || ch->old_state == ANN_DRAINED) &&
	    state_remove(c->state, a->conf->name))
		save = true;
	/* upstream routers remember a flap across our restarts and reboots: so do we */
	if (note_penalty(c, a))
		save = true;
	if (save && c->started)
		core_save(c);
	push_wants(c, a);
	sync_kick(c->sync);
	if (c->hooks.changed)
		c->hooks.changed(c->hooks.arg, a);
}

struct core *core_new(const struct agent_conf *conf, const struct core_clock *clock,
                      engine_rand_fn rand, void *rand_arg, const struct sync_bird_ops *ops,
                      void *ops_arg, bool dry_run)
{
	struct core *c = xcalloc(1, sizeof(*c));

	c->conf = conf;
	c->clock = *clock;
	c->dry_run = dry_run;
	c->engine = engine_new(conf, mono(c), rand, rand_arg);
	engine_set_on_change(c->engine, on_change, c);
	c->sync = sync_new(conf, dry_run, ops, ops_arg);
	c->state = state_new(conf->state_file);
	return c;
}

void core_set_hooks(struct core *c, const struct core_hooks *h)
{
	c->hooks = *h;
}

/* Re-apply every drain of the state file whose announcement the engine has but is not
 * drained: at start (before any verdict can announce) and after a reload brought one back. */
static void restore_drains(struct core *c)
{
	double now = mono(c), wnow = wall(c);

	for (size_t i = 0; i < c->state->ndrains; i++) {
		const struct state_drain *d = &c->state->drains[i];
		struct announcement *a = engine_find_announcement(c->engine, d->name);
		double until = isfinite(d->until) ? now + (d->until - wnow) : INFINITY;

		if (a == NULL) {
			log_info(
			    "state: drain of \"%s\" kept in the state file; no such announcement "
			    "in the configuration",
			    d->name);
			continue;
		}
		if (a->drain.active)
			continue;
		/* expired this very moment: the tick will not find it drained */
		engine_announcement_restore_drain(c->engine, a, d->reason, d->who, d->uid,
		                                  now - (wnow - d->since), until, now);
	}
}

/* What BIRD said last of configured protocol name (UNKNOWN: it has not answered since). */
static enum sync_actual bird_actual(const struct sync *s, const char *name)
{
	struct sync_proto_status ps;

	for (size_t i = 0; i < sync_nprotos(s); i++)
		if (sync_proto_status(s, i, &ps) && !ps.orphan && strcmp(ps.name, name) == 0)
			return ps.actual;
	return SYNC_ACTUAL_MISSING;
}

/* BIRD may still have protocol name up: it said so last, or it has not answered since (a
 * disable it refused, or one that waits for a hung BIRD, leaves it up whatever the decision
 * file says). */
static bool bird_may_carry(const struct sync *s, const char *name)
{
	enum sync_actual act = bird_actual(s, name);

	return act == SYNC_ACTUAL_ENABLED || act == SYNC_ACTUAL_UNKNOWN;
}

/* Whether any protocol the announcement has now is up by this boot's decision files or by
 * what BIRD showed. */
static bool still_carried(const struct core *c, const struct announcement *a)
{
	for (int r = 0; r < PROTO__ROLES; r++) {
		const struct proto_list *l = conf_role_protocols(a->conf, r);
		for (size_t k = 0; k < l->n; k++)
			if (sync_decision(c->sync, l->v[k].name) == 1 ||
			    bird_actual(c->sync, l->v[k].name) == SYNC_ACTUAL_ENABLED)
				return true;
	}
	return false;
}

/* Announcements that start ADOPTING (all at start; after a reload the new ones, not in
 * `before`): what this boot carried for them, and the penalty the state file kept. What was
 * carried is what the decision files say, and after a reload also what BIRD may still have
 * up: upstream damping counts what the routers saw, so a protocol whose disable BIRD refused
 * or has not received yet (an announcement renamed while BIRD refused or hung) is carried.
 * One still ADOPTING that a reload left without a carrying protocol carries nothing now. */
static void adopt(struct core *c, const struct strlist *before)
{
	double now = mono(c), wnow = wall(c);

	for (size_t i = 0; i < c->engine->nannouncements; i++) {
		struct announcement *a = &c->engine->announcements[i];
		/* the variant upstream prefers when several are enabled: normal, degraded, drain */
		static const struct {
			enum proto_role role;
			enum announce_variant v;
		} order[] = {{PROTO_ROLE_NORMAL, VARIANT_NORMAL},
		             {PROTO_ROLE_DEGRADED, VARIANT_DEGRADED},
		             {PROTO_ROLE_DRAIN, VARIANT_DRAIN}};
		enum announce_variant carried = VARIANT_NONE;
		const struct state_penalty *p;

		bool known = false;
		for (size_t j = 0; before && j < before->n && !known; j++)
			known = strcmp(before->v[j], a->conf->name) == 0;
		if (a->state != ANN_ADOPTING)
			continue;
		if (known) {
			/* a reload took away the protocols that carried it (they are disabled at
			 * once) before its checks decided: announcing it now is a re-announce */
			if (a->adopted != VARIANT_NONE && !still_carried(c, a))
				engine_announcement_adopt(a, VARIANT_NONE);
			continue;
		}
		for (size_t r = 0; r < ARRAY_SIZE(order) && carried == VARIANT_NONE; r++) {
			const struct proto_list *l = conf_role_protocols(a->conf, order[r].role);
			for (size_t k = 0; k < l->n; k++)
				if (sync_decision(c->sync, l->v[k].name) == 1 ||
				    (before != NULL && bird_may_carry(c->sync, l->v[k].name)))
					carried = order[r].v;
		}
		engine_announcement_adopt(a, carried);
		p = state_find_penalty(c->state, a->conf->name);
		if (p != NULL)
			engine_announcement_set_penalty(a, p->penalty, p->suppressed,
			                                now - fmax(0, wnow - p->at));
	}
}

static void load_state(struct core *c)
{
	const char **names = xcalloc(c->conf->nannouncements + 1, sizeof(*names));
	enum state_load_result r;

	for (size_t i = 0; i < c->conf->nannouncements; i++)
		names[i] = c->conf->announcements[i].name;
	r = state_load(c->state, names, c->conf->nannouncements, wall(c));
	free(names);
	adopt(c, NULL);
	restore_drains(c);
	/* the fail-safe drains must outlive this run too; the bad bytes are in .corrupt */
	if (r == STATE_CORRUPT || r == STATE_UNREADABLE)
		core_save(c);
	if (c->state->ndrains)
		log_notice("state: %zu drain(s) restored from %s", c->state->ndrains,
		           c->state->path);
}

int core_start(struct core *c)
{
	/* the decision files first: they must exist, fail closed, before BIRD reads them, and
	 * they say what the previous agent of this boot announced */
	int rc = sync_start(c->sync);

	if (rc < 0)
		log_warnx("some BIRD decision files could not be prepared; decisions may not "
		          "survive a BIRD configure or restart");
	/* operator drains before any verdict: a drained PoP never re-announces on restart */
	load_state(c);
	c->started = true;
	engine_tick(c->engine, mono(c));
	push_all_wants(c);
	return rc;
}

struct check_change core_result(struct core *c, struct check *ch, const struct check_report *rep,
                                double rnd)
{
	double now = mono(c);
	struct check_change chg = engine_check_result(ch, rep, now, rnd);
	char line[512];

	if (chg.state_changed || chg.degraded_changed) {
		engine_check_describe(line, sizeof(line), ch, &chg);
		log_notice("%s", line);
		/* the check's line first, then what it did to the announcements */
		engine_check_changed(c->engine, ch, now);
	} else {
		log_debug(LOG_SUB_CHECK, "check \"%s\": %s %.1f ms %s", ch->conf->name,
		          result_name(rep->code), rep->duration * 1000.0, rep->detail);
	}
	return chg;
}

void core_death(struct core *c, struct check *ch, const char *detail)
{
	double now = mono(c);
	struct check_change chg = engine_check_death(ch, detail, now);
	char line[512];

	engine_check_describe(line, sizeof(line), ch, &chg);
	log_notice("%s", line);
	if (chg.state_changed || chg.degraded_changed)
		engine_check_changed(c->engine, ch, now);
}

void core_tick(struct core *c)
{
	engine_tick(c->engine, mono(c));
}

double core_next_event(const struct core *c)
{
	return engine_next_event(c->engine);
}

void core_reconcile(struct core *c)
{
	sync_tick(c->sync);
	sync_guard_poll(c->sync);
}

void core_paths(struct core *c, size_t announcement, bool others_exist)
{
	if (c->stopping || announcement >= c->engine->nannouncements)
		return;
	engine_announcement_observe_paths(c->engine, &c->engine->announcements[announcement],
	                                  others_exist, mono(c));
}

int core_drain(struct core *c, struct announcement *a, const char *reason, const char *who,
               long uid, double until_wall)
{
	double now = mono(c), wnow = wall(c);
	double until = isfinite(until_wall) ? now + (until_wall - wnow) : INFINITY;
	const struct state_drain *old = state_find(c->state, a->conf->name);
	double since = old ? old->since : wnow;

	if (engine_announcement_drain(c->engine, a, reason, who, uid, until, now) < 0)
		return -1;
	state_set(c->state, a->conf->name, a->drain.reason, a->drain.who, a->drain.uid, since,
	          until_wall);
	return core_save(c);
}

int core_undrain(struct core *c, const char *name, const char *who, long uid, int *save_rc)
{
	struct announcement *a = engine_find_announcement(c->engine, name);
	bool hit = state_remove(c->state, name);

	*save_rc = 0;
	if (a != NULL && engine_announcement_undrain(c->engine, a, who, uid, mono(c)) == 0)
		hit = true;
	if (hit)
		*save_rc = core_save(c);
	return hit ? 1 : 0;
}

size_t core_reload(struct core *c, const struct agent_conf *conf, engine_dropped_fn dropped,
                   void *arg)
{
	struct strlist before = {0};
	size_t kept;

	for (size_t i = 0; i < c->engine->nannouncements; i++)
		strlist_add(&before, c->engine->announcements[i].conf->name);
	kept = engine_reload(c->engine, conf, mono(c), dropped, arg);
	sync_reload(c->sync, conf);
	c->conf = conf;
	/* a new announcement adopts what this boot's decision files say of its protocols */
	adopt(c, &before);
	strlist_free(&before);
	/* an announcement that came back finds its drain again */
	restore_drains(c);
	engine_tick(c->engine, mono(c));
	push_all_wants(c);
	return kept;
}

void core_stop(struct core *c, bool keep, const char *message)
{
	c->stopping = true;
	if (!keep && c->started)
		sync_withdraw_all(c->sync, message);
}

void core_free(struct core *c)
{
	if (c == NULL)
		return;
	sync_free(c->sync);
	engine_free(c->engine);
	state_free(c->state);
	free(c);
}
