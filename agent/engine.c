/* SPDX-License-Identifier: ISC */
/*
 * engine.c - owns every state transition of the agent: the per-check
 * hysteresis (rise/fall, fast interval, jitter, degraded) and the
 * per-announcement state machine (quorum, hold-down, damping, drain, guard).
 * Pure logic; see engine.h for the rules.
 */
#include <config.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

static const char *const state_names[CHECK__STATES] = {
#define X(code, name) [code] = name,
    CHECK_STATES(X)
#undef X
};

const char *check_state_name(enum check_state s)
{
	if ((unsigned)s >= CHECK__STATES)
		return "INVALID";
	return state_names[s];
}

int check_state_from_name(const char *name)
{
	for (int i = 0; i < CHECK__STATES; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

/* A caller's RNG may return 1.0 or NaN; keep the documented ranges regardless. */
static double clamp_rnd(double rnd)
{
	if (!(rnd >= 0.0))
		return 0.0;
	if (rnd >= 1.0)
		return nextafter(1.0, 0.0);
	return rnd;
}

/* A configured interval as used: at least ENGINE_MIN_INTERVAL (NaN included). */
static double sane_interval(double v)
{
	if (!(v >= ENGINE_MIN_INTERVAL) || isinf(v))
		return ENGINE_MIN_INTERVAL;
	return v;
}

static double conf_interval(const struct check_conf *conf)
{
	return sane_interval(conf->interval);
}

static double conf_fast(const struct check_conf *conf)
{
	if (!(conf->fast_interval > 0.0))
		return conf_interval(conf);
	return sane_interval(conf->fast_interval);
}

static double conf_timeout(const struct check_conf *conf)
{
	if (!(conf->timeout > 0.0) || isinf(conf->timeout))
		return 0.0;
	return conf->timeout;
}

static unsigned conf_rise(const struct check_conf *conf)
{
	return conf->rise ? conf->rise : 1;
}

static unsigned conf_fall(const struct check_conf *conf)
{
	return conf->fall ? conf->fall : 1;
}

/* t rounded up to the schedule's grid; exact, as multiplying by a power of two is. */
static double on_tick(double t)
{
	return ceil(t * ENGINE_TICK_HZ) / ENGINE_TICK_HZ;
}

void engine_check_init(struct check *c, const struct check_conf *conf, double now, double rnd)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->state = CHECK_UNKNOWN;
	c->since = now;
	c->next_due = on_tick(now + clamp_rnd(rnd) * conf_interval(conf));
}

bool engine_check_due(const struct check *c, double now)
{
	return !c->running && now >= c->next_due;
}

int engine_check_started(struct check *c, double now)
{
	if (c->running)
		return -1;
	c->running = true;
	c->started = now;
	c->counters.runs++;
	return 0;
}

bool engine_check_between(const struct check *c)
{
	switch (c->state) {
	case CHECK_UP:
		return c->fail_streak > 0;
	case CHECK_DOWN:
		return c->pass_streak > 0;
	default:
		return true;
	}
}

double engine_check_interval(const struct check *c)
{
	return engine_check_between(c) ? conf_fast(c->conf) : conf_interval(c->conf);
}

static void bump(unsigned *streak)
{
	if (*streak < UINT_MAX)
		(*streak)++;
}

struct check_change engine_check_result(struct check *c, const struct check_report *rep, double now,
                                        double rnd)
{
	struct check_change ch = {.old_state = c->state,
	                          .new_state = c->state,
	                          .old_degraded = c->degraded,
	                          .new_degraded = c->degraded};

	if (!c->running) {
		c->counters.discarded++;
		return ch;
	}
	ch.applied = true;
	c->running = false;

	enum result_class cls = result_class(rep->code);
	if (cls == RESULT_FAIL) {
		bump(&c->fail_streak);
		c->pass_streak = 0;
		c->warn_streak = c->clean_streak = 0;
		c->counters.failures++;
		if (rep->code == RES_TIMEOUT)
			c->counters.timeouts++;
	} else {
		bump(&c->pass_streak);
		c->fail_streak = 0;
		if (cls == RESULT_WARN) {
			bump(&c->warn_streak);
			c->clean_streak = 0;
			c->counters.warnings++;
		} else {
			bump(&c->clean_streak);
			c->warn_streak = 0;
			c->counters.passes++;
		}
	}

	enum check_state next = c->state;
	if (c->state != CHECK_DOWN && c->fail_streak >= conf_fall(c->conf))
		next = CHECK_DOWN;
	else if (c->state != CHECK_UP && c->pass_streak >= conf_rise(c->conf))
		next = CHECK_UP;

	if (next != c->state) {
		c->state = next;
		c->since = now;
		c->counters.transitions++;
		ch.state_changed = true;
		ch.new_state = next;
	}

	if (c->state == CHECK_DOWN) {
		c->degraded = false;
		c->degraded_decided = false;
	} else if (c->warn_streak >= conf_fall(c->conf)) {
		c->degraded = true;
		c->degraded_decided = true;
	} else if (c->clean_streak >= conf_rise(c->conf)) {
		c->degraded = false;
		c->degraded_decided = true;
	}
	ch.new_degraded = c->degraded;
	ch.degraded_changed = ch.old_degraded != ch.new_degraded;

	c->last = *rep;
	c->last.detail[sizeof(c->last.detail) - 1] = '\0';
	c->has_report = true;
	c->last_at = now;

	double pause =
	    engine_check_interval(c) * (1.0 + ENGINE_JITTER * (2.0 * clamp_rnd(rnd) - 1.0));
	c->next_due = on_tick(now + pause);
	return ch;
}

void engine_check_cancelled(struct check *c, double now)
{
	if (!c->running)
		return;
	c->running = false;
	c->next_due = now;
}

struct check_change engine_check_death(struct check *c, const char *detail, double now)
{
	struct check_change ch = {.applied = true,
	                          .old_state = c->state,
	                          .new_state = CHECK_DOWN,
	                          .old_degraded = c->degraded};

	c->running = false;
	bump(&c->fail_streak);
	c->pass_streak = 0;
	c->counters.failures++;
	c->counters.deaths++;
	if (c->state != CHECK_DOWN) {
		c->state = CHECK_DOWN;
		c->since = now;
		c->counters.transitions++;
		ch.state_changed = true;
	}
	c->degraded = false;
	ch.degraded_changed = ch.old_degraded;
	memset(&c->last, 0, sizeof(c->last));
	c->last.code = RES_SERVICE_DEAD;
	snprintf(c->last.detail, sizeof(c->last.detail), "%s", detail ? detail : "");
	c->last.started = now;
	c->last.t_connect = c->last.t_tls = c->last.t_first_byte = -1;
	c->last.cert_days_left = INT_MIN;
	c->has_report = true;
	c->last_at = now;
	/* an immediate probe: a service already back starts its rise at once */
	c->next_due = now;
	return ch;
}

int engine_check_trigger(struct check *c, double now)
{
	if (c->running)
		return -1;
	if (c->next_due > now)
		c->next_due = now;
	return 0;
}

bool engine_check_hung(const struct check *c, double now, double *late)
{
	double l = c->running ? now - c->started - conf_timeout(c->conf) : now - c->next_due;

	if (late != NULL)
		*late = l;
	return l > ENGINE_HUNG_GRACE;
}

int engine_check_describe(char *buf, size_t len, const struct check *c,
                          const struct check_change *ch)
{
	const char *name = c->conf && c->conf->name ? c->conf->name : "?";
	const char *res = c->has_report ? result_name(c->last.code) : "no result";
	const char *detail = c->has_report ? c->last.detail : "";
	const char *sep = detail[0] ? ": " : "";

	if (ch->state_changed) {
		bool up = ch->new_state == CHECK_UP;
		unsigned n = up ? c->pass_streak : c->fail_streak;
		return snprintf(buf, len, "check \"%s\": %s -> %s%s after %u %s (%s%s%s)", name,
		                check_state_name(ch->old_state), check_state_name(ch->new_state),
		                ch->new_degraded ? " (degraded)" : "", n,
		                up ? (n == 1 ? "pass" : "passes")
		                   : (n == 1 ? "failure" : "failures"),
		                res, sep, detail);
	}
	if (ch->degraded_changed)
		return snprintf(
		    buf, len, "check \"%s\": %s %s (%s%s%s)", name, check_state_name(ch->new_state),
		    ch->new_degraded ? "degraded" : "no longer degraded", res, sep, detail);
	return snprintf(buf, len, "check \"%s\": %s, no change (%s%s%s)", name,
	                check_state_name(ch->new_state), res, sep, detail);
}

bool engine_check_reload(struct check *c, const struct check *old, const struct check_conf *conf,
                         double now, double rnd)
{
	if (old && old->conf && conf_check_equal(old->conf, conf)) {
		*c = *old;
		c->conf = conf;
		return true;
	}
	engine_check_init(c, conf, now, rnd);
	return false;
}

double engine_detection_bound(const struct check_conf *conf)
{
	double j = 1.0 + ENGINE_JITTER;
	double interval = conf_interval(conf), fast = conf_fast(conf);
	double first = interval > fast ? interval : fast;
	double fall = conf_fall(conf);

	return first * j + (fall - 1.0) * fast * j + (fall + 1.0) * conf_timeout(conf) +
	       fall / ENGINE_TICK_HZ;
}

/* --- announcements -------------------------------------------------------- */

/* snprintf for cause and message lines: truncating a long reason or detail is intended. */
static void fmt(char *buf, size_t len, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static const char *const ann_state_names[ANN__STATES] = {
#define X(code, name) [code] = name,
    ANNOUNCE_STATES(X)
#undef X
};

static const char *const variant_names[VARIANT__COUNT] = {
#define X(code, name) [code] = name,
    ANNOUNCE_VARIANTS(X)
#undef X
};

const char *announce_state_name(enum announce_state s)
{
	if ((unsigned)s >= ANN__STATES)
		return "INVALID";
	return ann_state_names[s];
}

int announce_state_from_name(const char *name)
{
	for (int i = 0; i < ANN__STATES; i++)
		if (strcmp(ann_state_names[i], name) == 0)
			return i;
	return -1;
}

const char *announce_variant_name(enum announce_variant v)
{
	if ((unsigned)v >= VARIANT__COUNT)
		return "INVALID";
	return variant_names[v];
}

enum proto_action engine_variant_action(enum announce_variant v, enum proto_role role)
{
	switch (v) {
	case VARIANT_KEEP:
		return PROTO_UNTOUCHED;
	case VARIANT_NORMAL:
		return role == PROTO_ROLE_NORMAL ? PROTO_ENABLE : PROTO_DISABLE;
	case VARIANT_DRAIN:
		return role == PROTO_ROLE_DRAIN ? PROTO_ENABLE : PROTO_DISABLE;
	case VARIANT_DEGRADED:
		return role == PROTO_ROLE_DEGRADED ? PROTO_ENABLE : PROTO_DISABLE;
	default:
		return PROTO_DISABLE;
	}
}

enum proto_action engine_announcement_action(const struct announcement *a, enum proto_role role)
{
	return engine_variant_action(a->variant, role);
}

static bool carries(enum announce_variant v)
{
	return v == VARIANT_NORMAL || v == VARIANT_DRAIN || v == VARIANT_DEGRADED;
}

static enum announce_variant variant_for(const struct announcement *a, enum announce_state st)
{
	switch (st) {
	case ANN_ADOPTING:
		return VARIANT_KEEP;
	case ANN_ANNOUNCED:
		return VARIANT_NORMAL;
	case ANN_DEGRADED:
		/* No prepended variant configured: the normal one still answers. */
		return a->conf->degraded_protocols.n ? VARIANT_DEGRADED : VARIANT_NORMAL;
	case ANN_DRAINING:
		return VARIANT_DRAIN;
	default:
		return VARIANT_NONE;
	}
}

static enum announce_variant variant_of(const struct announcement *a)
{
	return variant_for(a, a->state);
}

/* --- damping -------------------------------------------------------------- */

static bool damping_on(const struct announcement_conf *cf)
{
	return cf->damp_penalty > 0 && cf->damp_half_life > 0 && isfinite(cf->damp_half_life);
}

static double damp_ceiling(const struct announcement_conf *cf)
{
	double ms = cf->damp_max_suppress > 0 ? cf->damp_max_suppress : 0;
	return cf->damp_reuse * exp2(ms / cf->damp_half_life);
}

double engine_announcement_penalty(const struct announcement *a, double now)
{
	if (!damping_on(a->conf) || !(a->penalty > 0))
		return 0;
	double dt = now - a->penalty_at;
	if (dt <= 0)
		return a->penalty;
	return a->penalty * exp2(-dt / a->conf->damp_half_life);
}

/* Add what one upstream-visible change costs: a withdraw the full damp_penalty, a switch
 * between two carried variants (an attribute change) half of it, as RFC 2439 routers do. */
static void damp_add(struct announcement *a, double amount, double now)
{
	if (!damping_on(a->conf))
		return;
	double p = engine_announcement_penalty(a, now) + amount;
	double cap = damp_ceiling(a->conf);
	a->penalty = p > cap ? cap : p;
	a->penalty_at = now;
	if (a->penalty > a->conf->damp_suppress)
		a->damp_suppressed = true;
}

static void damp_withdraw(struct announcement *a, double now)
{
	damp_add(a, a->conf->damp_penalty, now);
}

void engine_announcement_set_penalty(struct announcement *a, double penalty, bool suppressed,
                                     double now)
{
	double cap = damping_on(a->conf) ? damp_ceiling(a->conf) : 0;

	a->penalty = penalty > 0 && isfinite(penalty) ? fmin(penalty, cap) : 0;
	a->penalty_at = now;
	a->damp_suppressed = suppressed || a->penalty > a->conf->damp_suppress;
}

/* RFC 2439: suppressed from the moment a flap takes the penalty above damp_suppress until it
 * decays to damp_reuse. Damping holds a check-caused announce or variant switch back then. */
static double damp_reuse_at(const struct announcement *a);

static bool damped(const struct announcement *a, double now)
{
	/* the same time engine_next_event() wakes up for: no rounding apart */
	return damping_on(a->conf) && a->damp_suppressed && now < damp_reuse_at(a);
}

/* When the penalty has decayed to reuse (in the past if it already has). */
static double damp_reuse_at(const struct announcement *a)
{
	const struct announcement_conf *cf = a->conf;
	if (!damping_on(cf) || !(a->penalty > cf->damp_reuse) || !(cf->damp_reuse > 0))
		return a->penalty_at;
	return a->penalty_at + cf->damp_half_life * log2(a->penalty / cf->damp_reuse);
}

/* --- evaluation ----------------------------------------------------------- */

struct tally {
	unsigned up, unknown, degraded;
	unsigned undecided; /* UP, degraded not decided yet */
};

static struct tally count_checks(const struct announcement *a)
{
	struct tally t = {0};
	for (size_t i = 0; i < a->nrequires; i++) {
		const struct check *c = a->requires[i];
		if (!c)
			continue; /* unknown check: DOWN */
		if (c->state == CHECK_UP) {
			t.up++;
			if (c->degraded)
				t.degraded++;
			if (!c->degraded_decided)
				t.undecided++;
		} else if (c->state == CHECK_UNKNOWN) {
			t.unknown++;
		}
	}
	return t;
}

static unsigned quorum_of(const struct announcement *a)
{
	return a->conf->quorum ? a->conf->quorum : (unsigned)a->nrequires;
}

static bool guard_holds(const struct engine *e, const struct announcement *a, double now)
{
	return a->conf->last_site_guard && a->has_paths && !a->others_exist &&
	       now < a->paths_at + e->guard_max_age; /* the same sum engine_next_event() uses */
}

/* Printable ASCII: one log line, whatever an operator typed. */
static void sanitize_line(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			*s = '?';
}

/* Also no quotes or backslashes: safe inside BIRD's "...". */
static void sanitize_message(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			*s = '?';
}

static const char *cname(const struct check *c)
{
	return c && c->conf && c->conf->name ? c->conf->name : "?";
}

/* The check a cause line names: the trigger if it fits, else the first required one that does. */
enum pick { PICK_NOT_UP, PICK_UP, PICK_DEGRADED };

static bool fits(const struct check *c, enum pick p)
{
	switch (p) {
	case PICK_NOT_UP:
		return c->state != CHECK_UP;
	case PICK_UP:
		return c->state == CHECK_UP;
	default:
		return c->state == CHECK_UP && c->degraded;
	}
}

static const struct check *pick_check(const struct announcement *a, const struct check *trigger,
                                      enum pick p, const char **missing)
{
	*missing = NULL;
	for (size_t i = 0; trigger && i < a->nrequires; i++)
		if (a->requires[i] == trigger && fits(trigger, p))
			return trigger;
	for (size_t i = 0; i < a->nrequires; i++) {
		if (!a->requires[i]) {
			if (p == PICK_NOT_UP && !*missing)
			*missing = a->conf->requires.n > i ? a->conf->requires.v[i] : "?";
			continue;
		}
		if (fits(a->requires[i], p))
		return a->requires[i];
	}
	return NULL;
}

/* `check "web" DOWN: TIMEOUT (detail) [1 of 2 UP, quorum 2]` */
static void check_cause(char *buf, size_t len, const struct announcement *a,
                        const struct check *trigger, enum pick p, struct tally t)
{
	const char *missing;
	const struct check *c = pick_check(a, trigger, p, &missing);
	char q[64] = "";

	if (a->nrequires > 1)
		fmt(q, sizeof(q), " [%u of %zu UP, quorum %u]", t.up, a->nrequires, quorum_of(a));
	if (!c) {
		if (missing)
			fmt(buf, len, "check \"%s\" is not defined%s", missing, q);
		else
			fmt(buf, len, "%s%s",
			    a->nrequires ? "required checks" : "no required checks", q);
		return;
	}
	const char *st = p == PICK_DEGRADED ? "UP (degraded)" : check_state_name(c->state);
	if (!c->has_report)
		fmt(buf, len, "check \"%s\" %s: no result%s", cname(c), st, q);
	else
		fmt(buf, len, "check \"%s\" %s: %s%s%s%s%s", cname(c), st,
		    result_name(c->last.code), c->last.detail[0] ? " (" : "", c->last.detail,
		    c->last.detail[0] ? ")" : "", q);
}

static void check_message(char *buf, size_t len, const struct announcement *a,
                          const struct check *trigger, enum pick p)
{
	const char *missing;
	const struct check *c = pick_check(a, trigger, p, &missing);
	if (c)
		fmt(buf, len, "anycast-agent: check %s %s", cname(c),
		    p == PICK_DEGRADED ? "degraded" : check_state_name(c->state));
	else
		fmt(buf, len, "anycast-agent: required checks not up");
}

static void drain_message(char *buf, size_t len, const struct announcement *a, bool draining)
{
	fmt(buf, len, "anycast-agent: %s by %s: %s", draining ? "draining" : "drained",
	    a->drain.who[0] ? a->drain.who : "operator", a->drain.reason);
}

/* What evaluate() decided; applied (and reported) by commit(). */
struct step {
	enum announce_state state;
	bool guarded;
	bool held; /* a variant switch damping holds back */
	char cause[ENGINE_CAUSE_MAX];
	char message[ENGINE_MESSAGE_MAX];
};

static void commit(struct engine *e, struct announcement *a, struct step *s, double now)
{
	struct announcement_change ch = {.old_state = a->state,
	                                 .old_variant = a->variant,
	                                 .old_guarded = a->guarded,
	                                 .old_held = a->switch_held};

	if (s->state != ANN_ANNOUNCED && s->state != ANN_DEGRADED)
		s->held = false;
	/* the guard keeps a carried announcement carried: no other state has anything to hold */
	if (s->state != ANN_ANNOUNCED && s->state != ANN_DEGRADED && s->state != ANN_ADOPTING)
		s->guarded = false;
	if (s->state == a->state && s->guarded == a->guarded && s->held == a->switch_held)
		return;
	a->state = s->state;
	a->guarded = s->guarded;
	a->switch_held = s->held;
	a->variant = variant_of(a);
	ch.new_state = a->state;
	ch.new_variant = a->variant;
	ch.new_guarded = a->guarded;
	ch.new_held = a->switch_held;

	if (ch.new_state != ch.old_state) {
		a->since = now;
		a->counters.transitions++;
	}
	if (carries(ch.old_variant) && ch.new_variant == VARIANT_NONE)
		a->counters.withdraws++;
	if (ch.old_variant == VARIANT_NONE && carries(ch.new_variant))
		a->counters.announces++;
	if (a->guarded && !ch.old_guarded)
		a->counters.guard_holds++;
	if (a->state == ANN_SUPPRESSED && ch.old_state != ANN_SUPPRESSED)
		a->counters.suppressions++;
	if (carries(ch.old_variant) && carries(ch.new_variant) && ch.old_variant != ch.new_variant)
		a->counters.switches++;
	if (a->switch_held && !ch.old_held)
		a->counters.switch_holds++;

	fmt(a->cause, sizeof(a->cause), "%s", s->cause);
	sanitize_line(a->cause);
	if (s->message[0]) {
		fmt(a->message, sizeof(a->message), "%s", s->message);
		sanitize_message(a->message);
	}
	ch.cause = a->cause;
	if (e->on_change)
		e->on_change(e, a, &ch, e->on_change_arg);
}

/* The variant the prefix is carried with now: at start, what this boot's decision files say. */
static enum announce_variant current_variant(const struct announcement *a)
{
	return a->state == ANN_ADOPTING ? a->adopted : a->variant;
}

/* ANNOUNCED or DEGRADED as the checks say; while a check's degraded state is undecided the
 * variant carried now stays (a restart must not switch back and forth). */
static void to_announced(struct step *s, const struct announcement *a, const struct check *trigger,
                         struct tally t, const char *cause)
{
	if (t.undecided && current_variant(a) == VARIANT_DEGRADED)
		t.degraded = t.degraded ? t.degraded : 1;
	s->guarded = false;
	if (t.degraded) {
		s->state = ANN_DEGRADED;
		check_message(s->message, sizeof(s->message), a, trigger, PICK_DEGRADED);
	} else {
		s->state = ANN_ANNOUNCED;
		fmt(s->message, sizeof(s->message), "anycast-agent: announced");
	}
	if (cause)
		fmt(s->cause, sizeof(s->cause), "%s", cause);
	else
		check_cause(s->cause, sizeof(s->cause), a, trigger,
		            t.degraded ? PICK_DEGRADED : PICK_UP, t);
}

/* A check-caused withdraw, unless the last-site guard holds it back. */
static void to_withdrawn(const struct engine *e, struct announcement *a, struct step *s,
                         const struct check *trigger, struct tally t, bool penalize, double now)
{
	char why[ENGINE_CAUSE_MAX - 96];
	check_cause(why, sizeof(why), a, trigger, PICK_NOT_UP, t);
	if (guard_holds(e, a, now)) {
		s->guarded = true;
		fmt(s->cause, sizeof(s->cause),
		    "last-site guard: no other path (seen %.1f s ago), not withdrawing: %s",
		    now - a->paths_at, why);
		return;
	}
	s->guarded = false;
	s->state = ANN_WITHDRAWN;
	if (a->guarded)
		fmt(s->cause, sizeof(s->cause), "last-site guard released (%s): %s",
		    a->has_paths && a->others_exist ? "another path exists"
		                                    : "path observation stale",
		    why);
	else
		fmt(s->cause, sizeof(s->cause), "%s", why);
	check_message(s->message, sizeof(s->message), a, trigger, PICK_NOT_UP);
	if (penalize)
		damp_withdraw(a, now);
}

/* drain_time counts from the drain (a drain restored at start does not get a new one). */
static void to_drain(struct announcement *a, struct step *s, bool from_announced, double now)
{
	double end = a->drain.since + a->conf->drain_time;

	s->guarded = false;
	if (from_announced && a->conf->drain_protocols.n && a->conf->drain_time > 0 && now < end) {
		s->state = ANN_DRAINING;
		a->drain_end = end;
		drain_message(s->message, sizeof(s->message), a, true);
	} else {
		s->state = ANN_DRAINED;
		drain_message(s->message, sizeof(s->message), a, false);
	}
}

/* ANNOUNCED <-> DEGRADED moves the prefix between two variants, an attribute change upstream:
 * it costs half a withdraw's penalty. Once the penalty passes damp_suppress, switches are held
 * back (the current variant stays: it carries the prefix either way) until it decays to
 * damp_reuse, whatever the checks do meanwhile. s->state is the target on entry. */
static void switch_damping(struct announcement *a, struct step *s, double now)
{
	enum announce_variant to = variant_for(a, s->state), from = current_variant(a);
	enum announce_state held_state = a->state != ANN_ADOPTING   ? a->state
	                                 : from == VARIANT_DEGRADED ? ANN_DEGRADED
	                                                            : ANN_ANNOUNCED;
	/* from the drain variant is the end of an operator's drain, not a flap */
	bool switching = s->state != a->state && to != from && carries(to) && carries(from) &&
	                 from != VARIANT_DRAIN;

	if (!switching) {
		s->held = a->switch_held && damped(a, now);
		if (a->switch_held && !s->held)
			fmt(s->cause, sizeof(s->cause),
			    "damping: penalty %.0f <= reuse %.0f, variant switches allowed again",
			    engine_announcement_penalty(a, now), a->conf->damp_reuse);
		return;
	}
	if (damped(a, now)) {
		fmt(s->cause, sizeof(s->cause),
		    "damping: penalty %.0f (suppressed until %.0f), the %s variant stays, not "
		    "switching to %s",
		    engine_announcement_penalty(a, now), a->conf->damp_reuse,
		    announce_variant_name(from), announce_variant_name(to));
		s->state = held_state;
		s->message[0] = '\0';
		s->held = true;
		return;
	}
	s->held = false;
	damp_add(a, a->conf->damp_penalty / 2, now);
}

/*
 * The rules of engine.h, one step. trigger: the check whose change caused it (NULL: time or
 * operator); hint: the cause line for an operator action.
 */
static void evaluate(struct engine *e, struct announcement *a, const struct check *trigger,
                     const char *hint, double now)
{
	struct tally t = count_checks(a);
	unsigned q = quorum_of(a);
	bool eligible = t.up >= q;
	bool ineligible = t.up + t.unknown < q;
	struct step s = {.state = a->state, .guarded = a->guarded, .held = a->switch_held};

	if (eligible && !a->eligible)
		a->eligible_since = now;
	a->eligible = eligible;
	bool held = eligible && now >= a->eligible_since + a->conf->hold_down;

	if (a->drain.active) {
		switch (a->state) {
		case ANN_DRAINED:
			return;
		case ANN_DRAINING:
			if (!a->conf->drain_protocols.n || !(a->conf->drain_time > 0)) {
				s.state = ANN_DRAINED;
				fmt(s.cause, sizeof(s.cause),
				    "the configuration no longer has a drain variant");
				drain_message(s.message, sizeof(s.message), a, false);
			} else if (ineligible) {
				s.state = ANN_DRAINED;
				char why[ENGINE_CAUSE_MAX - 64];
				check_cause(why, sizeof(why), a, trigger, PICK_NOT_UP, t);
				fmt(s.cause, sizeof(s.cause), "drain cut short: %s", why);
				drain_message(s.message, sizeof(s.message), a, false);
			} else if (now >= a->drain_end) {
				s.state = ANN_DRAINED;
				fmt(s.cause, sizeof(s.cause), "drain_time %.1f s elapsed",
				    a->conf->drain_time);
				drain_message(s.message, sizeof(s.message), a, false);
			}
			break;
		case ANN_ANNOUNCED:
		case ANN_DEGRADED:
			to_drain(a, &s, true, now);
			break;
		case ANN_ADOPTING:
			/* a restart in mid-drain drains on only what this boot still carries */
			to_drain(a, &s, eligible && carries(a->adopted), now);
			break;
		default:
			to_drain(a, &s, false, now);
			break;
		}
		if (!s.cause[0])
			fmt(s.cause, sizeof(s.cause), "%s", hint ? hint : "drained");
		commit(e, a, &s, now);
		return;
	}

	/* a held switch is over when damping is, whatever else happens now */
	if (a->switch_held && !damped(a, now)) {
		s.held = false;
		fmt(s.cause, sizeof(s.cause),
		    "damping: penalty %.0f <= reuse %.0f, variant switches allowed again",
		    engine_announcement_penalty(a, now), a->conf->damp_reuse);
	}
	/* the guard holds back a withdraw the checks want; undecided checks want none (a reload
	 * restarted them): nothing to hold, and a stale observation must not wake us forever */
	if (a->guarded && !eligible && !ineligible) {
		s.guarded = false;
		fmt(s.cause, sizeof(s.cause),
		    "last-site guard released: the checks are undecided, nothing to hold back");
	}

	switch (a->state) {
	case ANN_ADOPTING:
		if (eligible && !carries(a->adopted) && damped(a, now)) {
			/* nothing carried it in this boot: announcing it is a re-announce */
			s.state = ANN_SUPPRESSED;
			fmt(s.cause, sizeof(s.cause),
			    "damping: penalty %.0f, suppressed until %.0f (kept across the "
			    "restart)",
			    engine_announcement_penalty(a, now), a->conf->damp_reuse);
			fmt(s.message, sizeof(s.message), "anycast-agent: flap damping");
		} else if (eligible) {
			to_announced(&s, a, trigger, t, NULL);
			switch_damping(a, &s, now);
		} else if (ineligible) {
			/* a withdraw upstream only if the previous agent of this boot announced it
			 */
			to_withdrawn(e, a, &s, trigger, t, carries(a->adopted), now);
		}
		break;
	case ANN_ANNOUNCED:
	case ANN_DEGRADED:
		if (ineligible) {
			to_withdrawn(e, a, &s, trigger, t, true, now);
			break;
		}
		if (eligible)
			to_announced(&s, a, trigger, t,
			             a->guarded ? "last-site guard released: checks up again"
			                        : NULL);
		switch_damping(a, &s, now);
		break;
	case ANN_WITHDRAWN:
		if (!held)
			break;
		if (damped(a, now)) {
			s.state = ANN_SUPPRESSED;
			fmt(s.cause, sizeof(s.cause),
			    "damping: penalty %.0f went above suppress %.0f; suppressed until %.0f",
			    engine_announcement_penalty(a, now), a->conf->damp_suppress,
			    a->conf->damp_reuse);
			fmt(s.message, sizeof(s.message), "anycast-agent: flap damping");
		} else {
			char c[64];
			fmt(c, sizeof(c), "hold-down %.1f s elapsed", a->conf->hold_down);
			to_announced(&s, a, trigger, t, c);
		}
		break;
	case ANN_SUPPRESSED:
		if (damped(a, now))
			break;
		char c[96];
		fmt(c, sizeof(c), "damping: penalty %.0f <= reuse %.0f",
		    engine_announcement_penalty(a, now), a->conf->damp_reuse);
		if (held) {
			to_announced(&s, a, trigger, t, c);
		} else {
			s.state = ANN_WITHDRAWN;
			fmt(s.cause, sizeof(s.cause), "%s; %s", c,
			    eligible ? "hold-down goes on" : "checks not eligible");
		}
		break;
	case ANN_DRAINING:
	case ANN_DRAINED:
		/* Undrained (or the drain expired): operator intent, no hold-down. */
		if (eligible) {
			to_announced(&s, a, trigger, t, hint);
		} else {
			s.state = ANN_WITHDRAWN;
			fmt(s.cause, sizeof(s.cause), "%s", hint ? hint : "undrained");
			check_message(s.message, sizeof(s.message), a, trigger, PICK_NOT_UP);
		}
		break;
	default:
		break;
	}
	commit(e, a, &s, now);
}

/* --- engine --------------------------------------------------------------- */

static double engine_rnd(struct engine *e)
{
	return e->rand ? e->rand(e->rand_arg) : 0.0;
}

static struct check *find_in(struct check *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].conf->name && name && strcmp(v[i].conf->name, name) == 0)
			return &v[i];
	return NULL;
}

/* Point a's requires at the engine's checks: by the loader's index, else by name. */
static void link_requires(struct engine *e, struct announcement *a)
{
	const struct announcement_conf *cf = a->conf;
	free(a->requires);
	a->nrequires = cf->requires.n;
	a->requires = xcalloc(a->nrequires ? a->nrequires : 1, sizeof(*a->requires));
	for (size_t i = 0; i < a->nrequires; i++) {
		if (cf->require_idx && cf->require_idx[i] < e->nchecks)
		a->requires[i] = &e->checks[cf->require_idx[i]];
		else a->requires[i] = find_in(e->checks, e->nchecks, cf->requires.v[i]);
	}
}

static void announcement_init(struct engine *e, struct announcement *a,
                              const struct announcement_conf *cf, double now)
{
	memset(a, 0, sizeof(*a));
	a->conf = cf;
	a->state = ANN_ADOPTING;
	a->variant = VARIANT_KEEP;
	a->adopted = VARIANT_NONE;
	a->since = now;
	a->drain.uid = -1;
	a->drain.until = INFINITY;
	fmt(a->cause, sizeof(a->cause), "adopting: waiting for the checks' verdict");
	link_requires(e, a);
}

static void set_guard_age(struct engine *e)
{
	double r = e->conf->bird.reconcile_interval;
	e->guard_max_age = r > 0 && isfinite(r) ? 3 * r : 3.0;
}

struct engine *engine_new(const struct agent_conf *conf, double now, engine_rand_fn rand,
                          void *rand_arg)
{
	struct engine *e = xcalloc(1, sizeof(*e));

	e->conf = conf;
	e->rand = rand;
	e->rand_arg = rand_arg;
	e->nchecks = conf->nchecks;
	e->checks = xcalloc(e->nchecks ? e->nchecks : 1, sizeof(*e->checks));
	for (size_t i = 0; i < e->nchecks; i++)
		engine_check_init(&e->checks[i], &conf->checks[i], now, engine_rnd(e));
	e->nannouncements = conf->nannouncements;
	e->announcements =
	    xcalloc(e->nannouncements ? e->nannouncements : 1, sizeof(*e->announcements));
	for (size_t i = 0; i < e->nannouncements; i++)
		announcement_init(e, &e->announcements[i], &conf->announcements[i], now);
	set_guard_age(e);
	return e;
}

void engine_set_on_change(struct engine *e, engine_change_fn fn, void *arg)
{
	e->on_change = fn;
	e->on_change_arg = arg;
}

static struct announcement *find_ann(struct announcement *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].conf->name && name && strcmp(v[i].conf->name, name) == 0)
			return &v[i];
	return NULL;
}

size_t engine_reload(struct engine *e, const struct agent_conf *conf, double now,
                     engine_dropped_fn dropped, void *arg)
{
	size_t n = conf->nchecks, kept = 0;
	struct check *v = xcalloc(n ? n : 1, sizeof(*v));
	/* Which old checks live on; config.c rejects duplicate names, so one match at most. */
	bool *keep = xcalloc(e->nchecks ? e->nchecks : 1, sizeof(*keep));

	for (size_t i = 0; i < n; i++) {
		struct check *old = find_in(e->checks, e->nchecks, conf->checks[i].name);
		if (old && keep[old - e->checks])
			old = NULL;
		if (engine_check_reload(&v[i], old, &conf->checks[i], now, engine_rnd(e))) {
			keep[old - e->checks] = true;
			kept++;
		}
	}
	for (size_t i = 0; i < e->nchecks; i++)
		if (!keep[i] && dropped)
			dropped(&e->checks[i], arg);

	free(keep);
	free(e->checks);
	e->checks = v;
	e->nchecks = n;
	e->conf = conf;

	size_t na = conf->nannouncements;
	struct announcement *av = xcalloc(na ? na : 1, sizeof(*av));
	bool *akeep = xcalloc(e->nannouncements ? e->nannouncements : 1, sizeof(*akeep));
	for (size_t i = 0; i < na; i++) {
		const struct announcement_conf *cf = &conf->announcements[i];
		struct announcement *old = find_ann(e->announcements, e->nannouncements, cf->name);
		if (old && !akeep[old - e->announcements]) {
			/* the same name keeps its live state whatever changed: what BIRD carries,
			 * the drain, the damping penalty, the hold-down; the checks decide anew */
			akeep[old - e->announcements] = true;
			av[i] = *old;
			av[i].conf = cf;
			av[i].requires = NULL; /* old's array is freed below */
			link_requires(e, &av[i]);
			if (!strlist_equal(&old->conf->prefixes, &cf->prefixes))
				av[i].has_paths = false; /* the guard asks about the new prefixes */
			/* drain_time counts from the drain: a shorter one may end it now */
			if (av[i].state == ANN_DRAINING)
				av[i].drain_end =
				    fmin(av[i].drain_end, av[i].drain.since + cf->drain_time);
			av[i].variant = variant_of(&av[i]);
		} else {
			announcement_init(e, &av[i], cf, now);
		}
	}
	for (size_t i = 0; i < e->nannouncements; i++)
		free(e->announcements[i].requires);
	free(akeep);
	free(e->announcements);
	e->announcements = av;
	e->nannouncements = na;
	set_guard_age(e);
	return kept;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nannouncements; i++)
		free(e->announcements[i].requires);
	free(e->announcements);
	free(e->checks);
	free(e);
}

struct check *engine_find_check(struct engine *e, const char *name)
{
	return find_in(e->checks, e->nchecks, name);
}

struct announcement *engine_find_announcement(struct engine *e, const char *name)
{
	return find_ann(e->announcements, e->nannouncements, name);
}

void engine_check_changed(struct engine *e, const struct check *c, double now)
{
	for (size_t i = 0; i < e->nannouncements; i++) {
		struct announcement *a = &e->announcements[i];
		for (size_t j = 0; j < a->nrequires; j++) {
			if (a->requires[j] == c) {
				evaluate(e, a, c, NULL, now);
				break;
			}
		}
	}
}

static void drain_expire(struct engine *e, struct announcement *a, double now)
{
	char hint[ENGINE_CAUSE_MAX];
	fmt(hint, sizeof(hint), "drain by %s expired: %s",
	    a->drain.who[0] ? a->drain.who : "operator", a->drain.reason);
	a->drain.active = false;
	evaluate(e, a, NULL, hint, now);
}

void engine_tick(struct engine *e, double now)
{
	for (size_t i = 0; i < e->nannouncements; i++) {
		struct announcement *a = &e->announcements[i];
		if (a->drain.active && now >= a->drain.until)
			drain_expire(e, a, now);
		else
			evaluate(e, a, NULL, NULL, now);
	}
}

double engine_announcement_next_change(const struct announcement *a)
{
	switch (a->state) {
	case ANN_WITHDRAWN:
		return a->eligible && !a->drain.active ? a->eligible_since + a->conf->hold_down
		                                       : INFINITY;
	case ANN_SUPPRESSED:
		return a->drain.active ? INFINITY : damp_reuse_at(a);
	case ANN_DRAINING:
		return a->drain_end;
	default:
		return INFINITY;
	}
}

static double ann_next_event(const struct engine *e, const struct announcement *a)
{
	double t = engine_announcement_next_change(a);

	if (a->drain.active && a->drain.until < t)
		t = a->drain.until;
	if (a->guarded)
		t = fmin(t, a->paths_at + e->guard_max_age);
	if (a->switch_held)
		t = fmin(t, damp_reuse_at(a));
	return t;
}

double engine_next_event(const struct engine *e)
{
	double t = INFINITY;
	for (size_t i = 0; i < e->nannouncements; i++)
		t = fmin(t, ann_next_event(e, &e->announcements[i]));
	return t;
}

int engine_announcement_drain(struct engine *e, struct announcement *a, const char *reason,
                              const char *who, long uid, double until, double now)
{
	if (!(until > now))
		return -1;
	bool again = a->drain.active;
	a->drain.active = true;
	fmt(a->drain.reason, sizeof(a->drain.reason), "%s", reason ? reason : "");
	fmt(a->drain.who, sizeof(a->drain.who), "%s", who ? who : "");
	sanitize_line(a->drain.reason);
	sanitize_line(a->drain.who);
	a->drain.uid = uid;
	a->drain.until = until;
	if (!again) {
		a->drain.since = now;
		a->counters.drains++;
	}

	char hint[ENGINE_CAUSE_MAX], uidbuf[32] = "";
	if (uid >= 0)
		fmt(uidbuf, sizeof(uidbuf), " (uid %ld)", uid);
	fmt(hint, sizeof(hint), "drained by %s%s: %s", a->drain.who[0] ? a->drain.who : "operator",
	    uidbuf, a->drain.reason);
	evaluate(e, a, NULL, hint, now);
	return 0;
}

int engine_announcement_restore_drain(struct engine *e, struct announcement *a, const char *reason,
                                      const char *who, long uid, double since, double until,
                                      double now)
{
	if (!(until > now) || a->drain.active)
		return -1;
	a->drain.active = true;
	a->drain.since = since <= now ? since : now;
	a->counters.drains++;
	fmt(a->drain.reason, sizeof(a->drain.reason), "%s", reason ? reason : "");
	fmt(a->drain.who, sizeof(a->drain.who), "%s", who ? who : "");
	sanitize_line(a->drain.reason);
	sanitize_line(a->drain.who);
	a->drain.uid = uid;
	a->drain.until = until;

	char hint[ENGINE_CAUSE_MAX];
	fmt(hint, sizeof(hint), "drain by %s kept across the restart: %s",
	    a->drain.who[0] ? a->drain.who : "operator", a->drain.reason);
	evaluate(e, a, NULL, hint, now);
	return 0;
}

int engine_announcement_undrain(struct engine *e, struct announcement *a, const char *who, long uid,
                                double now)
{
	if (!a->drain.active)
		return -1;
	char hint[ENGINE_CAUSE_MAX], uidbuf[32] = "";
	if (uid >= 0)
		fmt(uidbuf, sizeof(uidbuf), " (uid %ld)", uid);
	fmt(hint, sizeof(hint), "undrained by %s%s", who && who[0] ? who : "operator", uidbuf);
	a->drain.active = false;
	evaluate(e, a, NULL, hint, now);
	return 0;
}

void engine_announcement_adopt(struct announcement *a, enum announce_variant carried)
{
	a->adopted = carried;
}

void engine_announcement_observe_paths(struct engine *e, struct announcement *a, bool others_exist,
                                       double now)
{
	a->has_paths = true;
	a->others_exist = others_exist;
	a->paths_at = now;
	evaluate(e, a, NULL, NULL, now);
}

int engine_announcement_describe(char *buf, size_t len, const struct announcement *a,
                                 const struct announcement_change *ch)
{
	const char *name = a->conf && a->conf->name ? a->conf->name : "?";
	const char *cause = ch->cause ? ch->cause : a->cause;

	if (ch->old_state != ch->new_state)
		return snprintf(buf, len, "announcement \"%s\": %s -> %s%s: %s", name,
		                announce_state_name(ch->old_state),
		                announce_state_name(ch->new_state),
		                ch->new_guarded ? " (guarded)" : "", cause);
	if (ch->old_held != ch->new_held)
		return snprintf(buf, len, "announcement \"%s\": %s, %s: %s", name,
		                announce_state_name(ch->new_state),
		                ch->new_held ? "variant switch held back" : "no switch held back",
		                cause);
	return snprintf(
	    buf, len, "announcement \"%s\": %s%s: %s", name, announce_state_name(ch->new_state),
	    ch->new_guarded ? " guarded by the last-site guard" : " no longer guarded", cause);
}
