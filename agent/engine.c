/*
 * engine.c - owns every state transition of the agent: the per-check
 * hysteresis (rise/fall, fast interval, jitter, degraded) and, later, the
 * per-announcement state machine. Pure logic; see engine.h for the rules.
 */
#include <config.h>

#include <limits.h>
#include <math.h>
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

void engine_check_init(struct check *c, const struct check_conf *conf, double now, double rnd)
{
	memset(c, 0, sizeof(*c));
	c->conf = conf;
	c->state = CHECK_UNKNOWN;
	c->since = now;
	c->next_due = now + clamp_rnd(rnd) * conf_interval(conf);
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
		c->counters.failures++;
		if (rep->code == RES_TIMEOUT)
			c->counters.timeouts++;
	} else {
		bump(&c->pass_streak);
		c->fail_streak = 0;
		if (cls == RESULT_WARN)
			c->counters.warnings++;
		else
			c->counters.passes++;
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

	if (c->state == CHECK_DOWN)
		c->degraded = false;
	else if (cls == RESULT_PASS)
		c->degraded = false;
	else if (cls == RESULT_WARN)
		c->degraded = true;
	ch.new_degraded = c->degraded;
	ch.degraded_changed = ch.old_degraded != ch.new_degraded;

	c->last = *rep;
	c->last.detail[sizeof(c->last.detail) - 1] = '\0';
	c->has_report = true;
	c->last_at = now;

	double pause =
	    engine_check_interval(c) * (1.0 + ENGINE_JITTER * (2.0 * clamp_rnd(rnd) - 1.0));
	c->next_due = now + pause;
	return ch;
}

void engine_check_cancelled(struct check *c, double now)
{
	if (!c->running)
		return;
	c->running = false;
	c->next_due = now;
}

int engine_check_trigger(struct check *c, double now)
{
	if (c->running)
		return -1;
	if (c->next_due > now)
		c->next_due = now;
	return 0;
}

bool engine_check_hung(const struct check *c, double now)
{
	return c->running && now - c->started > conf_timeout(c->conf) + ENGINE_HUNG_GRACE;
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

	return first * j + (fall - 1.0) * fast * j + (fall + 1.0) * conf_timeout(conf);
}

static double engine_rnd(struct engine *e)
{
	return e->rand ? e->rand(e->rand_arg) : 0.0;
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
	return e;
}

static struct check *find_in(struct check *v, size_t n, const char *name)
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
	return kept;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	free(e->checks);
	free(e);
}

struct check *engine_find_check(struct engine *e, const char *name)
{
	return find_in(e->checks, e->nchecks, name);
}

double engine_next_due(const struct engine *e)
{
	double due = INFINITY;

	for (size_t i = 0; i < e->nchecks; i++)
		if (!e->checks[i].running && e->checks[i].next_due < due)
			due = e->checks[i].next_due;
	return due;
}
