/* SPDX-License-Identifier: ISC */
/*
 * test_engine.c - the engine, driven by a fake clock, fake results and a
 * seeded fake RNG. Checks: rise/fall edges, degraded, fast interval,
 * timeouts, jitter bounds, no double start, reload, and the detection bound
 * checked against a simulated failing service. Announcements: every rule of
 * engine.h as scenario tables (adopting, quorum, hold-down, degraded, drain,
 * last-site guard), damping numbers, reload, timers and the flapping budget.
 */
#include <config.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "flap_sim.h"

/* n ticks of the schedule's grid, in seconds */
#define TICKS(n) ((double)(n) / ENGINE_TICK_HZ)

/* The earliest next_due of the checks not running; +INFINITY if none. */
static double engine_next_due(const struct engine *e)
{
	double due = INFINITY;

	for (size_t i = 0; i < e->nchecks; i++)
		if (!e->checks[i].running && e->checks[i].next_due < due)
			due = e->checks[i].next_due;
	return due;
}

/* A result, then the announcements requiring c re-evaluated, as core.c does. */
static struct check_change engine_apply_result(struct engine *e, struct check *c,
                                               const struct check_report *rep, double now,
                                               double rnd)
{
	struct check_change ch = engine_check_result(c, rep, now, rnd);

	if (ch.state_changed || ch.degraded_changed)
		engine_check_changed(e, c, now);
	return ch;
}

static bool on_grid(double t)
{
	return t * ENGINE_TICK_HZ == floor(t * ENGINE_TICK_HZ);
}

/* --- fakes ---------------------------------------------------------------- */

/* splitmix64: a seeded fake RNG so every run of the test draws the same values. */
struct fake_rng {
	uint64_t s;
};

static double fake_rand(void *arg)
{
	struct fake_rng *r = arg;
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

static char host_lo[] = "127.0.0.1";

static struct check_conf make_conf(char *name, double interval, double fast, double timeout,
                                   unsigned rise, unsigned fall)
{
	struct check_conf cf = {.name = name,
	                        .type = CHECK_TCP,
	                        .interval = interval,
	                        .fast_interval = fast,
	                        .timeout = timeout,
	                        .rise = rise,
	                        .fall = fall};
	cf.u.tcp.address.host = host_lo;
	cf.u.tcp.address.port = 80;
	cf.u.tcp.address.family = 2;
	return cf;
}

static struct check_report fake_report(enum check_result_code code, double started, double duration)
{
	struct check_report rep = {.code = code, .started = started, .duration = duration};
	snprintf(rep.detail, sizeof(rep.detail), "fake %s", result_name(code));
	return rep;
}

/* Letters used by the tables: P pass, W warning, F failure, T timeout. */
static enum check_result_code code_of(char l)
{
	switch (l) {
	case 'P':
		return RES_OK;
	case 'W':
		return RES_WARNING;
	case 'T':
		return RES_TIMEOUT;
	default:
		return RES_CONNECT_REFUSED;
	}
}

static char state_letter(enum check_state s)
{
	return s == CHECK_UP ? 'U' : s == CHECK_DOWN ? 'D' : '?';
}

/* One run on the fake clock: wait until due, start, take `dur`, deliver. */
static struct check_change fake_run(struct check *c, double *now, char l, double dur, double rnd)
{
	if (*now < c->next_due)
		*now = c->next_due;
	assert_true(engine_check_due(c, *now));
	assert_int_equal(engine_check_started(c, *now), 0);
	double started = *now;
	*now += dur;
	struct check_report rep = fake_report(code_of(l), started, dur);
	return engine_check_result(c, &rep, *now, rnd);
}

/* --- rise / fall / degraded ----------------------------------------------- */

static const struct {
	const char *what;
	unsigned rise, fall;
	const char *results;  /* one letter per run */
	const char *states;   /* state after each run: ? U D */
	const char *degraded; /* degraded after each run: - d */
} hysteresis[] = {
    {"UP exactly at rise", 3, 2, "PPP", "??U", "---"},
    {"UNKNOWN -> DOWN needs fall failures", 3, 2, "FF", "?D", "--"},
    {"UNKNOWN -> DOWN with fall 3", 2, 3, "FFF", "??D", "---"},
    {"a failure resets the pass streak", 3, 2, "PPFPPFPP", "????????", "--------"},
    {"a pass resets the failure streak", 2, 2, "PPFPFPFF", "?UUUUUUD", "--------"},
    {"DOWN -> UP exactly at rise", 3, 2, "PPPFFPPP", "??UUDDDU", "--------"},
    {"a pass below rise keeps DOWN", 3, 2, "PPPFFPPFPPP", "??UUDDDDDDU", "-----------"},
    {"rise 1 fall 1 follow every result", 1, 1, "PFPF", "UDUD", "----"},
    {"rise and fall 0 count as 1", 0, 0, "FP", "DU", "--"},
    {"a timeout counts as a failure", 2, 2, "PPTT", "?UUD", "----"},
    {"timeouts and failures share a streak", 2, 3, "PPTFT", "?UUUD", "-----"},
    {"warnings pass; fall of them in a row mark degraded", 2, 2, "WW", "?U", "-d"},
    {"fall 3 needs three warnings in a row", 2, 3, "PPWWW", "?UUUU", "----d"},
    {"rise passes in a row clear degraded", 2, 2, "WWPP", "?UUU", "-dd-"},
    {"one pass does not clear degraded", 2, 2, "WWPW", "?UUU", "-ddd"},
    {"alternating warnings and passes never flip it", 2, 2, "PPWPWPWPW", "?UUUUUUUU", "---------"},
    {"a failure below fall keeps degraded", 2, 2, "WWFW", "?UUU", "-ddd"},
    {"a failure breaks a warning streak", 2, 2, "PPWFW", "?UUUU", "-----"},
    {"DOWN clears degraded", 2, 2, "WWFF", "?UUD", "-dd-"},
    {"warnings while DOWN are not degraded until UP", 2, 2, "FFWW", "?DDU", "---d"},
    {"a warning streak raises UP degraded", 3, 2, "FFWWW", "?DDDU", "----d"},
    {"mixed passes raise UP not degraded", 3, 2, "FFWPW", "?DDDU", "-----"},
};

static void test_hysteresis_table(void **state)
{
	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(hysteresis); t++) {
		struct check_conf cf =
		    make_conf("web", 10, 1, 0.5, hysteresis[t].rise, hysteresis[t].fall);
		struct check c;
		double now = 100;
		engine_check_init(&c, &cf, now, 0.5);
		const char *r = hysteresis[t].results;
		size_t n = strlen(r);
		assert_int_equal(strlen(hysteresis[t].states), n);
		assert_int_equal(strlen(hysteresis[t].degraded), n);
		unsigned transitions = 0;
		for (size_t i = 0; i < n; i++) {
			enum check_state before = c.state;
			struct check_change ch = fake_run(&c, &now, r[i], 0.1, 0.5);
			char got[3] = {state_letter(c.state), c.degraded ? 'd' : '-', 0};
			char want[3] = {hysteresis[t].states[i], hysteresis[t].degraded[i], 0};
			if (strcmp(got, want) != 0)
				fail_msg("%s: run %zu (%c): got %s, want %s", hysteresis[t].what,
				         i + 1, r[i], got, want);
			assert_true(ch.applied);
			assert_int_equal(ch.state_changed, before != c.state);
			assert_int_equal(ch.old_state, before);
			assert_int_equal(ch.new_state, c.state);
			if (ch.state_changed) {
				transitions++;
				assert_true(c.since == now);
			}
		}
		assert_int_equal(c.counters.transitions, transitions);
		assert_int_equal(c.counters.runs, n);
	}
}

/* --- counters and timeouts ------------------------------------------------ */

static void test_timeout_counts_as_failure(void **state)
{
	(void)state;
	struct check_conf cf = make_conf("dns", 2, 0.5, 1, 2, 1);
	struct check c;
	double now = 0;
	engine_check_init(&c, &cf, now, 0.0);
	fake_run(&c, &now, 'P', 0.1, 0.5);
	fake_run(&c, &now, 'W', 0.1, 0.5);
	assert_int_equal(c.state, CHECK_UP);
	struct check_change ch = fake_run(&c, &now, 'T', 1.0, 0.5);
	assert_true(ch.state_changed);
	assert_int_equal(ch.old_state, CHECK_UP);
	assert_int_equal(ch.new_state, CHECK_DOWN);
	assert_true(ch.degraded_changed);
	assert_false(ch.new_degraded);
	assert_int_equal(c.counters.runs, 3);
	assert_int_equal(c.counters.passes, 1);
	assert_int_equal(c.counters.warnings, 1);
	assert_int_equal(c.counters.failures, 1);
	assert_int_equal(c.counters.timeouts, 1);
	assert_int_equal(c.counters.transitions, 2);
	assert_true(c.has_report);
	assert_int_equal(c.last.code, RES_TIMEOUT);
	assert_string_equal(c.last.detail, "fake TIMEOUT");
	assert_true(c.last_at == now);

	char line[512];
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line,
	                    "check \"dns\": UP -> DOWN after 1 failure (TIMEOUT: fake TIMEOUT)");
}

static void test_describe(void **state)
{
	(void)state;
	struct check_conf cf = make_conf("web", 10, 1, 0.5, 2, 2);
	struct check c;
	double now = 0;
	char line[512];
	engine_check_init(&c, &cf, now, 0.0);
	struct check_change ch = fake_run(&c, &now, 'W', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": UNKNOWN, no change (WARNING: fake WARNING)");
	ch = fake_run(&c, &now, 'W', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line,
	                    "check \"web\": UNKNOWN -> UP (degraded) after 2 passes (WARNING: fake "
	                    "WARNING)");
	ch = fake_run(&c, &now, 'P', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": UP, no change (OK: fake OK)");
	ch = fake_run(&c, &now, 'P', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": UP no longer degraded (OK: fake OK)");
	/* A tiny buffer truncates, never overflows. */
	char small[8];
	assert_true(engine_check_describe(small, sizeof(small), &c, &ch) > 7);
	assert_string_equal(small, "check \"");
}

static void test_state_names(void **state)
{
	(void)state;
	static const struct {
		enum check_state s;
		const char *name;
	} names[] = {{CHECK_UNKNOWN, "UNKNOWN"}, {CHECK_UP, "UP"}, {CHECK_DOWN, "DOWN"}};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_string_equal(check_state_name(names[i].s), names[i].name);
		assert_int_equal(check_state_from_name(names[i].name), names[i].s);
	}
	assert_string_equal(check_state_name((enum check_state)42), "INVALID");
	assert_int_equal(check_state_from_name("up"), -1);
}

/* --- scheduling ----------------------------------------------------------- */

static const struct {
	const char *what;
	unsigned rise, fall;
	const char *results;
	const char *pause; /* pause after each run: f fast, n normal */
} pacing[] = {
    {"UNKNOWN runs fast", 2, 2, "F", "f"},
    {"fast until UP, then normal", 3, 2, "PPPP", "ffnn"},
    {"a failure while UP runs fast, a pass ends it", 2, 2, "PPFPFFPP", "fnfnfnfn"},
    {"fast until DOWN, then normal", 2, 3, "PPFFFF", "fnffnn"},
    {"a pass while DOWN runs fast", 3, 2, "FFPFPPP", "fnfnffn"},
    {"a warning is a pass for pacing", 2, 2, "PWFW", "fnfn"},
};

static void test_fast_interval_table(void **state)
{
	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(pacing); t++) {
		struct check_conf cf = make_conf("web", 10, 1, 0.5, pacing[t].rise, pacing[t].fall);
		struct check c;
		double now = 0;
		engine_check_init(&c, &cf, now, 0.0);
		for (size_t i = 0; pacing[t].results[i]; i++) {
			fake_run(&c, &now, pacing[t].results[i], 0.25, 0.5);
			/* rnd 0.5 is the middle of the jitter range: the pause is the base. */
			double want = pacing[t].pause[i] == 'f' ? 1.0 : 10.0;
			if (fabs(c.next_due - now - want) > 1e-9)
				fail_msg("%s: pause after run %zu is %g, want %g", pacing[t].what,
				         i + 1, c.next_due - now, want);
			assert_true(engine_check_interval(&c) == want);
			assert_int_equal(engine_check_between(&c), pacing[t].pause[i] == 'f');
		}
	}
}

static const struct {
	double interval, fast, want_fast; /* want_fast: the fast interval the engine uses */
} bases[] = {
    {1.0, 0.2, 0.2},
    {10.0, 2.0, 2.0},
    {30.0, 0.0, 30.0} /* unset: interval */,
    {0.5, 0.5, 0.5},
    {0.0, 0.0, ENGINE_MIN_INTERVAL} /* bad: the floor */,
};

static void test_jitter_bounds(void **state)
{
	(void)state;
	struct fake_rng rng = {42};
	enum { DRAWS = 20000 };
	for (size_t t = 0; t < ARRAY_SIZE(bases); t++) {
		struct check_conf cf =
		    make_conf("web", bases[t].interval, bases[t].fast, 0.1, 1, 1);
		double interval = bases[t].interval > 0 ? bases[t].interval : ENGINE_MIN_INTERVAL;
		/* First runs: spread over [now, now + interval), really spread, each rounded up
		 * to the grid. */
		double lo = INFINITY, hi = -INFINITY;
		for (int i = 0; i < DRAWS; i++) {
			struct check c;
			engine_check_init(&c, &cf, 1000, fake_rand(&rng));
			double d = c.next_due - 1000;
			assert_true(on_grid(c.next_due));
			assert_true(d >= 0 && d < interval + TICKS(1));
			lo = fmin(lo, d);
			hi = fmax(hi, d);
		}
		assert_true(lo < 0.01 * interval + TICKS(1) && hi > 0.99 * interval);

		/* Later pauses: uniform in [0.9, 1.1) * base, for both bases, then rounded up to
		 * the grid. rise and fall are out of reach, so the state stays what the test sets:
		 * UNKNOWN runs fast. */
		for (int fast = 0; fast < 2; fast++) {
			double base = fast ? bases[t].want_fast : interval;
			struct check_conf far = cf;
			far.rise = far.fall = 1000000;
			struct check c;
			double now = 1000, tick = TICKS(1) / base;
			engine_check_init(&c, &far, now, 0.0);
			c.state = fast ? CHECK_UNKNOWN : CHECK_UP;
			double sum = 0;
			lo = INFINITY, hi = -INFINITY;
			for (int i = 0; i < DRAWS; i++) {
				fake_run(&c, &now, 'P', 0, fake_rand(&rng));
				assert_int_equal(engine_check_between(&c), fast);
				assert_true(on_grid(c.next_due));
				double p = (c.next_due - now) / base;
				assert_true(p >= 1 - ENGINE_JITTER - 1e-12 &&
				            p < 1 + ENGINE_JITTER + tick + 1e-12);
				lo = fmin(lo, p);
				hi = fmax(hi, p);
				sum += p;
			}
			/* The whole range is used, centred on the base plus half a tick. */
			assert_true(lo < 1 - 0.99 * ENGINE_JITTER + tick &&
			            hi > 1 + 0.99 * ENGINE_JITTER);
			assert_true(fabs(sum / DRAWS - 1 - tick / 2) < 0.005 + tick / 2);
		}
	}

	/* A bad rnd from the caller stays inside the bounds. */
	static const double bad[] = {-1.0, 1.0, 7.5, NAN, INFINITY};
	struct check_conf cf = make_conf("web", 10, 1, 0.5, 2, 2);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct check c;
		double now = 0;
		engine_check_init(&c, &cf, now, bad[i]);
		assert_true(c.next_due >= 0 && c.next_due < 10 + TICKS(1));
		fake_run(&c, &now, 'P', 0, bad[i]);
		double p = c.next_due - now;
		assert_true(p >= 0.9 - 1e-12 && p < 1.1 + TICKS(1) + 1e-12);
	}
}

static void test_no_double_start(void **state)
{
	(void)state;
	struct check_conf cf = make_conf("web", 10, 1, 0.5, 1, 1);
	struct check c;
	engine_check_init(&c, &cf, 0, 0.0);
	assert_true(engine_check_due(&c, 0));
	assert_int_equal(engine_check_started(&c, 0), 0);
	assert_false(engine_check_due(&c, 100));
	assert_int_equal(engine_check_started(&c, 0.1), -1);
	assert_int_equal(engine_check_trigger(&c, 0.1), -1);
	assert_true(c.started == 0);
	assert_int_equal(c.counters.runs, 1);

	/* A hung run is reported only after timeout + grace, with how late it is. */
	double late = 0;
	assert_false(engine_check_hung(&c, 0.5 + ENGINE_HUNG_GRACE, &late));
	assert_true(engine_check_hung(&c, 0.5 + ENGINE_HUNG_GRACE + 0.01, &late));
	assert_float_equal(late, ENGINE_HUNG_GRACE + 0.01, 1e-9);

	struct check_report rep = fake_report(RES_OK, 0, 0.2);
	struct check_change ch = engine_check_result(&c, &rep, 0.2, 0.5);
	assert_true(ch.applied);
	assert_int_equal(c.state, CHECK_UP);
	/* Finished: not hung when the run would have been, only once overdue by the grace. */
	assert_false(engine_check_hung(&c, 0.5 + ENGINE_HUNG_GRACE + 0.01, NULL));
	assert_false(engine_check_hung(&c, c.next_due + ENGINE_HUNG_GRACE, NULL));
	assert_true(engine_check_hung(&c, c.next_due + ENGINE_HUNG_GRACE + 0.01, &late));
	assert_float_equal(late, ENGINE_HUNG_GRACE + 0.01, 1e-9);

	/* A second result for the same run is refused and changes nothing. */
	rep = fake_report(RES_CONNECT_REFUSED, 0, 0.2);
	double due = c.next_due;
	ch = engine_check_result(&c, &rep, 0.3, 0.5);
	assert_false(ch.applied);
	assert_false(ch.state_changed);
	assert_int_equal(c.state, CHECK_UP);
	assert_true(c.next_due == due);
	assert_int_equal(c.counters.discarded, 1);
	assert_int_equal(c.counters.failures, 0);

	/* anycastctl check: due at once; a cancelled run counts nothing and re-runs now. */
	assert_false(engine_check_due(&c, 1));
	assert_int_equal(engine_check_trigger(&c, 1), 0);
	assert_true(engine_check_due(&c, 1));
	assert_int_equal(engine_check_started(&c, 1), 0);
	engine_check_cancelled(&c, 1.2);
	assert_false(c.running);
	assert_true(engine_check_due(&c, 1.2));
	assert_int_equal(c.state, CHECK_UP);
	assert_int_equal(c.counters.passes, 1);
}

/* --- reload --------------------------------------------------------------- */

struct dropped_log {
	char names[8][16];
	bool running[8];
	size_t n;
};

static void note_dropped(struct check *old, void *arg)
{
	struct dropped_log *log = arg;
	assert_true(log->n < 8);
	snprintf(log->names[log->n], sizeof(log->names[0]), "%s", old->conf->name);
	log->running[log->n] = old->running;
	log->n++;
}

/* Run every due check of e once with result l until `until`. */
static void drive(struct engine *e, double *now, double until, char l)
{
	while (*now < until) {
		double due = engine_next_due(e);
		if (due > until)
			break;
		*now = fmax(*now, due);
		for (size_t i = 0; i < e->nchecks; i++) {
			struct check *c = &e->checks[i];
			if (!engine_check_due(c, *now))
				continue;
			assert_int_equal(engine_check_started(c, *now), 0);
			struct check_report rep = fake_report(code_of(l), *now, 0);
			engine_check_result(c, &rep, *now, fake_rand(e->rand_arg));
		}
	}
}

static void test_reload_keeps_unchanged(void **state)
{
	(void)state;
	struct fake_rng rng = {7};
	char a[] = "a", b[] = "b", c[] = "c", d[] = "d";
	struct check_conf old_checks[] = {make_conf(a, 5, 1, 0.5, 2, 2),
	                                  make_conf(b, 5, 1, 0.5, 2, 2),
	                                  make_conf(c, 5, 1, 0.5, 2, 2)};
	struct agent_conf old_conf = {.checks = old_checks, .nchecks = 3};
	double now = 0;
	struct engine *e = engine_new(&old_conf, now, fake_rand, &rng);
	assert_int_equal(e->nchecks, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(e->checks[i].state, CHECK_UNKNOWN);
		assert_ptr_equal(e->checks[i].conf, &old_checks[i]);
		assert_true(e->checks[i].next_due >= 0 && e->checks[i].next_due < 5);
	}
	drive(e, &now, 60, 'P');
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(e->checks[i].state, CHECK_UP);
	struct check *ca = engine_find_check(e, "a");
	assert_non_null(ca);
	ca->user = &rng;
	struct check before = *ca;
	/* a's run and b's run are in flight across the reload. */
	assert_int_equal(engine_check_started(ca, now), 0);
	assert_int_equal(engine_check_started(engine_find_check(e, "b"), now), 0);

	/* a unchanged (a fresh copy, equal content), b changed, c removed, d new. */
	struct check_conf new_checks[] = {make_conf(d, 5, 1, 0.5, 2, 2),
	                                  make_conf(b, 5, 1, 0.5, 3, 2),
	                                  make_conf(a, 5, 1, 0.5, 2, 2)};
	struct agent_conf new_conf = {.checks = new_checks, .nchecks = 3};
	struct dropped_log log = {0};
	assert_int_equal(engine_reload(e, &new_conf, now, note_dropped, &log), 1);
	assert_ptr_equal(e->conf, &new_conf);
	assert_int_equal(e->nchecks, 3);

	/* b (running) and c were dropped, in the old order. */
	assert_int_equal(log.n, 2);
	assert_string_equal(log.names[0], "b");
	assert_true(log.running[0]);
	assert_string_equal(log.names[1], "c");
	assert_false(log.running[1]);

	/* a kept everything, now on the new definition, its run still in flight. */
	ca = engine_find_check(e, "a");
	assert_ptr_equal(ca, &e->checks[2]);
	assert_ptr_equal(ca->conf, &new_checks[2]);
	assert_int_equal(ca->state, CHECK_UP);
	assert_true(ca->since == before.since);
	assert_true(ca->running);
	assert_ptr_equal(ca->user, &rng);
	assert_int_equal(ca->counters.passes, before.counters.passes);
	assert_int_equal(ca->pass_streak, before.pass_streak);
	struct check_report rep = fake_report(RES_OK, now, 0.1);
	assert_true(engine_check_result(ca, &rep, now + 0.1, 0.5).applied);

	/* b and d start fresh; b's in-flight result is discarded. */
	for (size_t i = 0; i < 2; i++) {
		struct check *x = &e->checks[i];
		assert_ptr_equal(x->conf, &new_checks[i]);
		assert_int_equal(x->state, CHECK_UNKNOWN);
		assert_false(x->running);
		assert_int_equal(x->counters.runs, 0);
		assert_null(x->user);
		assert_true(x->since == now);
		assert_true(x->next_due >= now && x->next_due < now + 5);
	}
	struct check *cb = engine_find_check(e, "b");
	rep = fake_report(RES_OK, now, 0.1);
	assert_false(engine_check_result(cb, &rep, now + 0.1, 0.5).applied);
	assert_int_equal(cb->state, CHECK_UNKNOWN);
	assert_int_equal(cb->counters.discarded, 1);
	assert_null(engine_find_check(e, "c"));

	/* The new b needs its new rise of 3. */
	now += 0.1;
	drive(e, &now, now + 60, 'P');
	assert_int_equal(cb->state, CHECK_UP);
	assert_int_equal(cb->counters.transitions, 1);
	engine_free(e);
}

static void test_reload_table(void **state)
{
	(void)state;
	/* Which change of one check's definition keeps its live state. */
	static const struct {
		const char *what;
		double interval, fast, timeout;
		unsigned rise, fall;
		bool kept;
	} rows[] = {
	    {"identical", 5, 1, 0.5, 2, 2, true},      {"interval", 6, 1, 0.5, 2, 2, false},
	    {"fast interval", 5, 2, 0.5, 2, 2, false}, {"timeout", 5, 1, 0.7, 2, 2, false},
	    {"rise", 5, 1, 0.5, 3, 2, false},          {"fall", 5, 1, 0.5, 2, 3, false},
	};
	for (size_t t = 0; t < ARRAY_SIZE(rows); t++) {
		struct check_conf oldc = make_conf("web", 5, 1, 0.5, 2, 2);
		struct check_conf newc = make_conf("web", rows[t].interval, rows[t].fast,
		                                   rows[t].timeout, rows[t].rise, rows[t].fall);
		struct check old, now_c;
		double now = 0;
		engine_check_init(&old, &oldc, now, 0.0);
		fake_run(&old, &now, 'F', 0.1, 0.5);
		fake_run(&old, &now, 'F', 0.1, 0.5);
		assert_int_equal(old.state, CHECK_DOWN);
		bool kept = engine_check_reload(&now_c, &old, &newc, now, 0.5);
		if (kept != rows[t].kept)
			fail_msg("%s: kept %d, want %d", rows[t].what, kept, rows[t].kept);
		assert_ptr_equal(now_c.conf, &newc);
		assert_int_equal(now_c.state, kept ? CHECK_DOWN : CHECK_UNKNOWN);
		assert_int_equal(now_c.counters.failures, kept ? 2 : 0);
	}
	/* No old check: fresh. */
	struct check_conf cf = make_conf("web", 5, 1, 0.5, 2, 2);
	struct check c;
	assert_false(engine_check_reload(&c, NULL, &cf, 3, 0.5));
	assert_int_equal(c.state, CHECK_UNKNOWN);
	assert_true(c.next_due == 3 + 2.5);
}

/* --- detection bound ------------------------------------------------------ */

static const struct {
	double interval, fast, timeout;
	unsigned rise, fall;
	double want; /* the formula, by hand */
} bounds[] = {
    /* 1.1 * 1 + 1 * 1.1 * 0.2 + 3 * 0.5 + 2 ticks */
    {1.0, 0.2, 0.5, 3, 2, 1.1 + 0.22 + 1.5 + TICKS(2)},
    /* 1.1 * 10 + 2 * 1.1 * 1 + 4 * 2 + 3 ticks */
    {10.0, 1.0, 2.0, 2, 3, 11 + 2.2 + 8 + TICKS(3)},
    /* fall 1: 1.1 * 30 + 2 * 5 + 1 tick */
    {30.0, 0.0, 5.0, 1, 1, 33 + 10 + TICKS(1)},
    /* fast unset = interval: 1.1 * 2 + 2 * 1.1 * 2 + 4 * 1 + 3 ticks */
    {2.0, 0.0, 1.0, 2, 3, 2.2 + 4.4 + 4 + TICKS(3)},
    /* fast above interval: the first pause may be fast too */
    {1.0, 3.0, 0.1, 2, 2, 3.3 + 3.3 + 0.3 + TICKS(2)},
};

/*
 * A fake service that is healthy until `fail_at` and failing after it; a probe
 * sees the service as it was when the probe started (the worst case for
 * detection). Returns the seconds from fail_at to the DOWN verdict.
 */
static double simulate_failure(const struct check_conf *cf, struct fake_rng *rng, bool worst)
{
	struct check c;
	double now = 0;
	engine_check_init(&c, cf, now, fake_rand(rng));
	/* Healthy until UP, plus a few more passes. The worst case with a fast interval
	 * above the interval is a check still UNKNOWN: it runs fast all the way. */
	int extra = (int)(fake_rand(rng) * 5);
	bool from_unknown = worst && cf->fast_interval > cf->interval;
	while (!from_unknown && (c.state != CHECK_UP || extra-- > 0)) {
		double rnd = worst ? nextafter(1.0, 0.0) : fake_rand(rng);
		fake_run(&c, &now, 'P', fake_rand(rng) * cf->timeout, rnd);
	}
	double fail_at;
	if (worst) {
		/* Fails just after a probe that still passes and takes all of its timeout. */
		now = c.next_due;
		fail_at = now + 1e-9;
		fake_run(&c, &now, 'P', cf->timeout * (1 - 1e-9), nextafter(1.0, 0.0));
	} else {
		fail_at = now + fake_rand(rng) * 3 * (cf->interval + cf->timeout);
	}
	for (int runs = 0; c.state != CHECK_DOWN; runs++) {
		assert_true(runs < 1000);
		now = fmax(now, c.next_due);
		double rnd = worst ? nextafter(1.0, 0.0) : fake_rand(rng);
		char l;
		double dur;
		if (now < fail_at) {
			l = 'P';
			dur = fake_rand(rng) * cf->timeout;
		} else if (worst || fake_rand(rng) < 0.5) {
			l = 'T';
			dur = cf->timeout;
		} else {
			l = 'F';
			dur = fake_rand(rng) * cf->timeout;
		}
		fake_run(&c, &now, l, dur, rnd);
		assert_int_equal(c.state == CHECK_DOWN, l != 'P' && c.fail_streak >= cf->fall);
	}
	return now - fail_at;
}

static void test_detection_bound_simulation(void **state)
{
	(void)state;
	struct fake_rng rng = {2026};
	for (size_t t = 0; t < ARRAY_SIZE(bounds); t++) {
		struct check_conf cf = make_conf("web", bounds[t].interval, bounds[t].fast,
		                                 bounds[t].timeout, bounds[t].rise, bounds[t].fall);
		double bound = engine_detection_bound(&cf);
		if (fabs(bound - bounds[t].want) > 1e-9)
			fail_msg("row %zu: bound %g, want %g", t, bound, bounds[t].want);

		/* Random failure times, jitter and probe durations: always within the bound. */
		double worst_seen = 0;
		for (int i = 0; i < 3000; i++) {
			double d = simulate_failure(&cf, &rng, false);
			if (d > bound + 1e-9)
				fail_msg("row %zu trial %d: DOWN after %g s, bound %g", t, i, d,
				         bound);
			worst_seen = fmax(worst_seen, d);
		}
		assert_true(worst_seen > 0.5 * bound);

		/* The adversarial case reaches the bound: it is tight, not just safe. Up to the
		 * ticks: a due time rounds up by a whole tick only when it falls just after one. */
		double d = simulate_failure(&cf, &rng, true);
		if (d > bound + 1e-9 || d < bound - TICKS(bounds[t].fall) - 1e-6)
			fail_msg("row %zu: worst case DOWN after %.9f s, bound %.9f", t, d, bound);
	}
}

static double fixed_rand(void *arg)
{
	return *(double *)arg;
}

static void test_engine_next_due(void **state)
{
	(void)state;
	double r = 0.25;
	char a[] = "a", b[] = "b";
	struct check_conf checks[] = {make_conf(a, 8, 1, 0.5, 2, 2), make_conf(b, 4, 1, 0.5, 2, 2)};
	struct agent_conf conf = {.checks = checks, .nchecks = 2};
	struct engine *e = engine_new(&conf, 10, fixed_rand, &r);
	assert_true(e->checks[0].next_due == 12 && e->checks[1].next_due == 11);
	assert_true(engine_next_due(e) == 11);
	assert_int_equal(engine_check_started(&e->checks[1], 11), 0);
	assert_true(engine_next_due(e) == 12); /* a running check arms no timer */
	assert_int_equal(engine_check_started(&e->checks[0], 12), 0);
	assert_true(isinf(engine_next_due(e)));
	engine_free(e);

	struct agent_conf empty = {0};
	e = engine_new(&empty, 0, NULL, NULL);
	assert_true(isinf(engine_next_due(e)));
	assert_null(engine_find_check(e, "a"));
	assert_int_equal(engine_reload(e, &conf, 0, NULL, NULL), 0);
	assert_int_equal(e->nchecks, 2);
	assert_int_equal(engine_reload(e, &empty, 0, NULL, NULL), 0);
	assert_int_equal(e->nchecks, 0);
	engine_free(e);
}

/* --- announcements: fixture ------------------------------------------------ */

enum { FX_NO_DRAIN = 1, FX_NO_DEGRADED = 2, FX_GUARD = 4 };

struct change_rec {
	enum announce_state from, to;
	enum announce_variant vfrom, vto;
	bool guarded;
	char cause[ENGINE_CAUSE_MAX];
};

/* One engine with checks a, b, c (rise 1, fall 1: one result is one verdict) and one
 * announcement "web" requiring some of them. */
struct fx {
	char names[3][2];
	char *req[3];
	size_t idx[3];
	char pn[8], pd[8], pg[8], an[8];
	struct proto_ref normal, drain, degraded;
	struct check_conf checks[3];
	struct announcement_conf ann;
	struct agent_conf conf;
	struct engine *e;
	struct announcement *a;
	struct change_rec log[256];
	size_t nlog;
	double now;
};

static void record_change(struct engine *e, struct announcement *a,
                          const struct announcement_change *ch, void *arg)
{
	struct fx *fx = arg;
	(void)e;
	assert_true(fx->nlog < ARRAY_SIZE(fx->log));
	/* A change record always says what it changed, and matches the announcement. */
	assert_true(ch->old_state != ch->new_state || ch->old_guarded != ch->new_guarded ||
	            ch->old_variant != ch->new_variant || ch->old_held != ch->new_held);
	assert_int_equal(ch->new_state, a->state);
	assert_int_equal(ch->new_variant, a->variant);
	assert_ptr_equal(ch->cause, a->cause);
	assert_true(strlen(ch->cause) > 0);
	struct change_rec *r = &fx->log[fx->nlog++];
	r->from = ch->old_state;
	r->to = ch->new_state;
	r->vfrom = ch->old_variant;
	r->vto = ch->new_variant;
	r->guarded = ch->new_guarded;
	snprintf(r->cause, sizeof(r->cause), "%s", ch->cause);
}

/* The defaults of the issue: penalty 1000, suppress 2000, reuse 750, half-life 900, max 3600. */
static void default_damping(struct announcement_conf *ac)
{
	ac->damp_penalty = 1000;
	ac->damp_suppress = 2000;
	ac->damp_reuse = 750;
	ac->damp_half_life = 900;
	ac->damp_max_suppress = 3600;
}

static void fx_conf(struct fx *fx, const char *requires, unsigned quorum, unsigned flags,
                    double hold_down, double drain_time)
{
	memset(fx, 0, sizeof(*fx));
	for (int i = 0; i < 3; i++) {
		fx->names[i][0] = (char)('a' + i);
		fx->checks[i] = make_conf(fx->names[i], 1, 1, 0.5, 1, 1);
	}
	snprintf(fx->pn, sizeof(fx->pn), "web4");
	snprintf(fx->pd, sizeof(fx->pd), "web4_dr");
	snprintf(fx->pg, sizeof(fx->pg), "web4_dg");
	snprintf(fx->an, sizeof(fx->an), "web");
	fx->normal.name = fx->pn;
	fx->drain.name = fx->pd;
	fx->degraded.name = fx->pg;
	struct announcement_conf *ac = &fx->ann;
	ac->name = fx->an;
	ac->protocols = (struct proto_list){&fx->normal, 1};
	if (!(flags & FX_NO_DRAIN))
		ac->drain_protocols = (struct proto_list){&fx->drain, 1};
	if (!(flags & FX_NO_DEGRADED))
		ac->degraded_protocols = (struct proto_list){&fx->degraded, 1};
	size_t n = strlen(requires);
	for (size_t i = 0; i < n; i++) {
		fx->idx[i] = (size_t)(requires[i] - 'a');
		fx->req[i] = fx->names[fx->idx[i]];
	}
	ac->requires = (struct strlist){fx->req, n};
	ac->require_idx = fx->idx;
	ac->quorum = quorum;
	ac->hold_down = hold_down;
	ac->drain_time = drain_time;
	default_damping(ac);
	ac->last_site_guard = flags & FX_GUARD;
	fx->conf = (struct agent_conf){
	    .checks = fx->checks, .nchecks = 3, .announcements = &fx->ann, .nannouncements = 1};
	fx->conf.bird.reconcile_interval = 1.0; /* guard observations stale after 3 s */
}

static void fx_start(struct fx *fx)
{
	fx->e = engine_new(&fx->conf, fx->now, NULL, NULL);
	engine_set_on_change(fx->e, record_change, fx);
	engine_tick(fx->e, fx->now);
	fx->a = &fx->e->announcements[0];
}

static void fx_init(struct fx *fx, const char *requires, unsigned quorum, unsigned flags,
                    double hold_down, double drain_time)
{
	fx_conf(fx, requires, quorum, flags, hold_down, drain_time);
	fx_start(fx);
}

/* What an event loop does: tick at every engine_next_event() up to `at`. */
static void fx_advance(struct fx *fx, double at)
{
	for (int i = 0;; i++) {
		assert_true(i < 1000);
		double ev = engine_next_event(fx->e);
		if (ev > at)
			break;
		assert_true(ev >= fx->now - 1e-9); /* never an event in the past */
		fx->now = fmax(fx->now, ev);
		size_t before = fx->nlog;
		engine_tick(fx->e, fx->now);
		/* Something was due, so something changed. */
		assert_true(fx->nlog > before);
	}
	fx->now = at;
}

/* One verdict for check l: '+' UP, '~' UP degraded, '-' DOWN. */
static void fx_verdict(struct fx *fx, char l, char v)
{
	struct check *c = &fx->e->checks[l - 'a'];
	assert_int_equal(engine_check_started(c, fx->now), 0);
	char r = v == '+' ? 'P' : v == '~' ? 'W' : 'F';
	struct check_report rep = fake_report(code_of(r), fx->now, 0);
	assert_true(engine_apply_result(fx->e, c, &rep, fx->now, 0.5).applied);
	assert_int_equal(c->state, v == '-' ? CHECK_DOWN : CHECK_UP);
}

static void fx_op(struct fx *fx, const char *op)
{
	if (op[0] >= 'a' && op[0] <= 'c' && strlen(op) == 2) {
		fx_verdict(fx, op[0], op[1]);
	} else if (strcmp(op, "tick") == 0) {
		engine_tick(fx->e, fx->now);
	} else if (strncmp(op, "drain", 5) == 0) {
		double until = op[5] == ':' ? fx->now + atof(op + 6) : INFINITY;
		assert_int_equal(engine_announcement_drain(fx->e, fx->a, "maintenance", "alice",
		                                           1000, until, fx->now),
		                 0);
	} else if (strcmp(op, "undrain") == 0) {
		assert_int_equal(engine_announcement_undrain(fx->e, fx->a, "bob", 1001, fx->now),
		                 0);
	} else if (strcmp(op, "alone") == 0) {
		engine_announcement_observe_paths(fx->e, fx->a, false, fx->now);
	} else if (strcmp(op, "others") == 0) {
		engine_announcement_observe_paths(fx->e, fx->a, true, fx->now);
	} else {
		fail_msg("bad op %s", op);
	}
}

static void fx_free(struct fx *fx)
{
	engine_free(fx->e);
	fx->e = NULL;
}

/* "STATE VARIANT" plus " guarded" */
static void fx_describe_state(const struct announcement *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s", announce_state_name(a->state),
	         announce_variant_name(a->variant), a->guarded ? " guarded" : "");
}

/* --- announcements: rule tables --------------------------------------------- */

struct step {
	double at;
	const char *op;
	const char *want; /* "STATE VARIANT[ guarded]" after the op */
};

static const struct scenario {
	const char *what;
	const char *requires;
	unsigned quorum, flags;
	double hold_down, drain_time;
	struct step steps[16];
	long withdraws, announces; /* at the end; -1: not checked */
} scenarios[] = {
    /* ADOPTING */
    {"hitless: eligible at start announces without a withdraw",
     "a",
     0,
     0,
     10,
     30,
     {{0, "tick", "ADOPTING KEEP"},
      {0.5, "a+", "ANNOUNCED NORMAL"},
      {100, "tick", "ANNOUNCED NORMAL"}},
     0,
     0},
    {"fail closed: ineligible at start withdraws, re-announce after hold-down",
     "a",
     0,
     0,
     10,
     30,
     {{0.5, "a-", "WITHDRAWN NONE"},
      {1, "a+", "WITHDRAWN NONE"},
      {10.9, "tick", "WITHDRAWN NONE"},
      {11, "tick", "ANNOUNCED NORMAL"}},
     0,
     1},
    {"adopting waits for every check it needs",
     "ab",
     0,
     0,
     10,
     30,
     {{0, "a+", "ADOPTING KEEP"}, {1, "b+", "ANNOUNCED NORMAL"}},
     0,
     0},
    {"adopting: one DOWN of all is ineligible at once",
     "ab",
     0,
     0,
     10,
     30,
     {{0, "a-", "WITHDRAWN NONE"}, {1, "b+", "WITHDRAWN NONE"}},
     0,
     0},
    /* quorum */
    {"quorum all: one check down withdraws",
     "ab",
     2,
     0,
     10,
     30,
     {{0, "a+", "ADOPTING KEEP"},
      {0, "b+", "ANNOUNCED NORMAL"},
      {5, "b-", "WITHDRAWN NONE"},
      {6, "b+", "WITHDRAWN NONE"},
      {16, "tick", "ANNOUNCED NORMAL"}},
     1,
     1},
    {"quorum any: one UP is enough",
     "ab",
     1,
     0,
     10,
     30,
     {{0, "a-", "ADOPTING KEEP"},
      {0, "b+", "ANNOUNCED NORMAL"},
      {5, "a+", "ANNOUNCED NORMAL"},
      {6, "b-", "ANNOUNCED NORMAL"},
      {7, "a-", "WITHDRAWN NONE"}},
     1,
     0},
    {"quorum 2 of 3",
     "abc",
     2,
     0,
     10,
     30,
     {{0, "a+", "ADOPTING KEEP"},
      {0, "b-", "ADOPTING KEEP"},
      {0, "c+", "ANNOUNCED NORMAL"},
      {5, "b+", "ANNOUNCED NORMAL"},
      {6, "a-", "ANNOUNCED NORMAL"},
      {7, "c-", "WITHDRAWN NONE"},
      {8, "a+", "WITHDRAWN NONE"},
      {18, "tick", "ANNOUNCED NORMAL"}},
     1,
     1},
    /* hold-down */
    {"hold-down restarts on a failure",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {1, "a-", "WITHDRAWN NONE"},
      {2, "a+", "WITHDRAWN NONE"},
      {8, "a-", "WITHDRAWN NONE"},
      {9, "a+", "WITHDRAWN NONE"},
      {12, "tick", "WITHDRAWN NONE"},
      {18.99, "tick", "WITHDRAWN NONE"},
      {19, "tick", "ANNOUNCED NORMAL"}},
     1,
     1},
    {"hold-down 0 re-announces at once",
     "a",
     0,
     0,
     0,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {1, "a-", "WITHDRAWN NONE"}, {2, "a+", "ANNOUNCED NORMAL"}},
     1,
     1},
    /* degraded */
    {"degraded variant and back",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a~", "DEGRADED DEGRADED"},
      {1, "a+", "ANNOUNCED NORMAL"},
      {2, "a~", "DEGRADED DEGRADED"},
      {3, "a-", "WITHDRAWN NONE"},
      {4, "a~", "WITHDRAWN NONE"},
      {14, "tick", "DEGRADED DEGRADED"}},
     1,
     1},
    {"degraded without degraded_protocols keeps the normal variant",
     "a",
     0,
     FX_NO_DEGRADED,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {1, "a~", "DEGRADED NORMAL"}, {2, "a+", "ANNOUNCED NORMAL"}},
     0,
     0},
    {"any required UP check degraded degrades",
     "ab",
     1,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {1, "b~", "DEGRADED DEGRADED"}, {2, "b-", "ANNOUNCED NORMAL"}},
     0,
     0},
    /* drain */
    {"drain: DRAINING for drain_time, then DRAINED; undrain announces at once",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {5, "drain", "DRAINING DRAIN"},
      {34.9, "tick", "DRAINING DRAIN"},
      {35, "tick", "DRAINED NONE"},
      {40, "undrain", "ANNOUNCED NORMAL"}},
     1,
     1},
    {"drain without drain_protocols: DRAINED at once",
     "a",
     0,
     FX_NO_DRAIN,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {5, "drain", "DRAINED NONE"},
      {6, "undrain", "ANNOUNCED NORMAL"}},
     1,
     1},
    {"drain_time 0: DRAINED at once",
     "a",
     0,
     0,
     10,
     0,
     {{0, "a+", "ANNOUNCED NORMAL"}, {5, "drain", "DRAINED NONE"}},
     1,
     0},
    {"drain with until expires by itself",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {5, "drain:100", "DRAINING DRAIN"},
      {35, "tick", "DRAINED NONE"},
      {104.9, "tick", "DRAINED NONE"},
      {105, "tick", "ANNOUNCED NORMAL"}},
     1,
     1},
    {"a drain expiring mid drain_time ends it",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {5, "drain:10", "DRAINING DRAIN"},
      {15, "tick", "ANNOUNCED NORMAL"}},
     0,
     0},
    {"drain while checks down: DRAINED, never the drain variant",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a-", "WITHDRAWN NONE"},
      {1, "drain", "DRAINED NONE"},
      {2, "a+", "DRAINED NONE"},
      {30, "tick", "DRAINED NONE"},
      {31, "a-", "DRAINED NONE"},
      {32, "undrain", "WITHDRAWN NONE"},
      {33, "a+", "WITHDRAWN NONE"},
      {43, "tick", "ANNOUNCED NORMAL"}},
     0,
     1},
    {"undrain right after the checks rise: no hold-down",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a-", "WITHDRAWN NONE"},
      {1, "drain", "DRAINED NONE"},
      {2, "a+", "DRAINED NONE"},
      {3, "undrain", "ANNOUNCED NORMAL"}},
     0,
     1},
    {"checks failing while DRAINING cut the drain short",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {5, "drain", "DRAINING DRAIN"}, {6, "a-", "DRAINED NONE"}},
     1,
     0},
    {"drain wins over degraded and failures",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a~", "DEGRADED DEGRADED"},
      {1, "drain", "DRAINING DRAIN"},
      {2, "a+", "DRAINING DRAIN"},
      {31, "a-", "DRAINED NONE"},
      {32, "a+", "DRAINED NONE"}},
     1,
     0},
    {"drain while adopting and undecided: DRAINED",
     "a",
     0,
     0,
     10,
     30,
     {{0, "drain", "DRAINED NONE"}, {1, "a+", "DRAINED NONE"}, {2, "undrain", "ANNOUNCED NORMAL"}},
     0,
     1},
    {"drain again updates, does not restart",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {5, "drain", "DRAINING DRAIN"},
      {20, "drain", "DRAINING DRAIN"},
      {35, "tick", "DRAINED NONE"}},
     1,
     0},
    /* last-site guard */
    {"guard: fresh 'no other path' holds the withdraw, stale releases it",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {1, "alone", "ANNOUNCED NORMAL"},
      {2, "a-", "ANNOUNCED NORMAL guarded"},
      {3.9, "tick", "ANNOUNCED NORMAL guarded"},
      {4, "tick", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard: a fresh observation keeps holding, 'others exist' releases",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {1, "alone", "ANNOUNCED NORMAL"},
      {2, "a-", "ANNOUNCED NORMAL guarded"},
      {3.5, "alone", "ANNOUNCED NORMAL guarded"},
      {6, "alone", "ANNOUNCED NORMAL guarded"},
      {7, "others", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard: no observation lets the withdraw happen",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {2, "a-", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard: a stale observation lets the withdraw happen",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {0, "alone", "ANNOUNCED NORMAL"}, {3, "a-", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard: 'others exist' lets the withdraw happen",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {1, "others", "ANNOUNCED NORMAL"},
      {2, "a-", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard off: 'no other path' changes nothing",
     "a",
     0,
     0,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"}, {1, "alone", "ANNOUNCED NORMAL"}, {2, "a-", "WITHDRAWN NONE"}},
     1,
     0},
    {"guard: checks back while guarded announce on, no hold-down",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "a~", "DEGRADED DEGRADED"},
      {1, "alone", "DEGRADED DEGRADED"},
      {2, "a-", "DEGRADED DEGRADED guarded"},
      {2.5, "a+", "ANNOUNCED NORMAL"}},
     0,
     0},
    {"guard while adopting: touches nothing until the observation is stale",
     "a",
     0,
     FX_GUARD,
     10,
     30,
     {{0, "alone", "ADOPTING KEEP"},
      {1, "a-", "ADOPTING KEEP guarded"},
      {3, "tick", "WITHDRAWN NONE"}},
     0,
     0},
    {"guard does not hold an operator drain",
     "a",
     0,
     FX_GUARD | FX_NO_DRAIN,
     10,
     30,
     {{0, "a+", "ANNOUNCED NORMAL"},
      {1, "alone", "ANNOUNCED NORMAL"},
      {2, "drain", "DRAINED NONE"}},
     1,
     0},
};

static void test_announcement_rules(void **state)
{
	(void)state;
	for (size_t t = 0; t < ARRAY_SIZE(scenarios); t++) {
		const struct scenario *sc = &scenarios[t];
		struct fx fx;
		fx_init(&fx, sc->requires, sc->quorum, sc->flags, sc->hold_down, sc->drain_time);
		assert_int_equal(fx.a->state, ANN_ADOPTING);
		for (size_t i = 0; i < ARRAY_SIZE(sc->steps) && sc->steps[i].op; i++) {
			const struct step *st = &sc->steps[i];
			fx_advance(&fx, st->at);
			fx_op(&fx, st->op);
			char got[64];
			fx_describe_state(fx.a, got, sizeof(got));
			if (strcmp(got, st->want) != 0)
				fail_msg("%s: step %zu (%g %s): got \"%s\", want \"%s\"", sc->what,
				         i + 1, st->at, st->op, got, st->want);
		}
		const struct announcement_counters *n = &fx.a->counters;
		if (sc->withdraws >= 0 && n->withdraws != (unsigned long)sc->withdraws)
			fail_msg("%s: %lu withdraws, want %ld", sc->what, n->withdraws,
			         sc->withdraws);
		if (sc->announces >= 0 && n->announces != (unsigned long)sc->announces)
			fail_msg("%s: %lu announces, want %ld", sc->what, n->announces,
			         sc->announces);
		/* The log and the counters agree: one record per change. */
		unsigned long transitions = 0, guard = 0;
		for (size_t i = 0; i < fx.nlog; i++) {
			transitions += fx.log[i].from != fx.log[i].to;
			guard += fx.log[i].guarded && (i == 0 || !fx.log[i - 1].guarded);
		}
		assert_int_equal(n->transitions, transitions);
		assert_int_equal(n->guard_holds, guard);
		fx_free(&fx);
	}
}

/* Fail closed with a real rise: nothing is announced before `rise` passes, and an
 * announcement is never withdrawn on the way (ADOPTING touches nothing). */
static void test_fail_closed_rise(void **state)
{
	(void)state;
	struct fx fx;
	fx_conf(&fx, "a", 0, 0, 10, 30);
	fx.checks[0].rise = 3;
	fx.checks[0].fall = 2;
	fx_start(&fx);
	struct check *c = &fx.e->checks[0];
	static const char results[] = "PFPPP";
	static const enum announce_state want[] = {ANN_ADOPTING, ANN_ADOPTING, ANN_ADOPTING,
	                                           ANN_ADOPTING, ANN_ANNOUNCED};
	for (size_t i = 0; results[i]; i++) {
		fx.now += 1;
		assert_int_equal(engine_check_started(c, fx.now), 0);
		struct check_report rep = fake_report(code_of(results[i]), fx.now, 0);
		engine_apply_result(fx.e, c, &rep, fx.now, 0.5);
		assert_int_equal(fx.a->state, want[i]);
		assert_int_equal(engine_announcement_action(fx.a, PROTO_ROLE_NORMAL),
		                 want[i] == ANN_ADOPTING ? PROTO_UNTOUCHED : PROTO_ENABLE);
	}
	assert_int_equal(fx.nlog, 1);
	assert_int_equal(fx.log[0].vfrom, VARIANT_KEEP);
	assert_int_equal(fx.log[0].vto, VARIANT_NORMAL);
	assert_string_equal(fx.log[0].cause, "check \"a\" UP: OK (fake OK)");
	assert_int_equal(fx.a->counters.withdraws, 0);
	fx_free(&fx);
}

/* --- deaths (engine_check_death) ----------------------------------------------- */

/* A death from each state: DOWN at once whatever fall says, SERVICE_DEAD with the watch's
 * detail, the pass streak gone, the run in flight forgotten and the next run due now. */
static void test_death_is_down_at_once(void **state)
{
	(void)state;
	static const struct {
		const char *what;
		const char *before; /* results before the death */
		bool running;       /* a run in flight when the death arrives */
		bool changed;       /* the death changes the state */
		bool was_degraded;
	} cases[] = {
	    {"UP, idle", "PPP", false, true, false},
	    {"UP, a run in flight", "PPP", true, true, false},
	    {"UP with a failure below fall", "PPPF", false, true, false},
	    {"UP degraded (fall WARNs in a row)", "PPWWW", false, true, true},
	    {"UNKNOWN, no verdict yet", "", false, true, false},
	    {"UNKNOWN, one pass", "P", true, true, false},
	    {"DOWN already", "PPPFFF", false, false, false},
	    {"DOWN, rising again", "PPPFFFPP", true, false, false},
	};
	for (size_t t = 0; t < ARRAY_SIZE(cases); t++) {
		/* fall 3: a failure streak alone would need three runs */
		struct check_conf cf = make_conf("web", 10, 1, 0.5, 3, 3);
		struct check c;
		double now = 100;
		engine_check_init(&c, &cf, now, 0.5);
		for (const char *r = cases[t].before; *r; r++)
			fake_run(&c, &now, *r, 0.1, 0.5);
		assert_int_equal(c.degraded, cases[t].was_degraded);
		if (cases[t].running) {
			now = c.next_due;
			assert_int_equal(engine_check_started(&c, now), 0);
		}
		now += 0.25;
		struct check_counters k = c.counters;
		unsigned fails = c.fail_streak;
		enum check_state before = c.state;
		struct check_change ch = engine_check_death(&c, "pid 4242 exited", now);
		if (c.state != CHECK_DOWN)
			fail_msg("%s: not DOWN after a death", cases[t].what);
		assert_true(ch.applied);
		assert_int_equal(ch.state_changed, cases[t].changed);
		assert_int_equal(ch.old_state, before);
		assert_int_equal(ch.new_state, CHECK_DOWN);
		assert_int_equal(ch.degraded_changed, cases[t].was_degraded);
		assert_false(ch.new_degraded);
		assert_false(c.degraded);
		assert_int_equal(c.pass_streak, 0);
		assert_int_equal(c.fail_streak, fails + 1);
		assert_int_equal(c.last.code, RES_SERVICE_DEAD);
		assert_string_equal(c.last.detail, "pid 4242 exited");
		assert_true(c.last_at == now);
		assert_true(c.has_report);
		assert_int_equal(c.counters.deaths, k.deaths + 1);
		assert_int_equal(c.counters.failures, k.failures + 1);
		assert_int_equal(c.counters.runs, k.runs);
		assert_int_equal(c.counters.transitions,
		                 k.transitions + (cases[t].changed ? 1 : 0));
		if (cases[t].changed)
			assert_true(c.since == now);
		/* the run in flight was cancelled: its result, should one still come, is refused */
		assert_false(c.running);
		struct check_report late = fake_report(RES_OK, now - 0.1, 0.1);
		struct check_change lc = engine_check_result(&c, &late, now, 0.5);
		assert_false(lc.applied);
		assert_int_equal(c.state, CHECK_DOWN);
		assert_int_equal(c.last.code, RES_SERVICE_DEAD);
		/* an immediate probe, off the tick grid */
		assert_true(c.next_due == now);
		assert_true(engine_check_due(&c, now));
	}
}

/* After a death the check comes back through rise, at the fast interval, and a second
 * death on the way restarts the rise. */
static void test_death_then_rise(void **state)
{
	(void)state;
	struct check_conf cf = make_conf("web", 10, 1, 0.5, 3, 2);
	struct check c;
	double now = 0;
	char line[512];
	engine_check_init(&c, &cf, now, 0.0);
	for (int i = 0; i < 3; i++)
		fake_run(&c, &now, 'P', 0.1, 0.5);
	assert_int_equal(c.state, CHECK_UP);
	now += 3;
	struct check_change ch =
	    engine_check_death(&c, "watch_pidfile /run/nginx.pid: pid 7 exited", now);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": UP -> DOWN after 1 failure (SERVICE_DEAD: "
	                          "watch_pidfile /run/nginx.pid: pid 7 exited)");
	/* the immediate probe: the service is back already */
	double t0 = now;
	ch = fake_run(&c, &now, 'P', 0.01, 0.5);
	assert_true(now - 0.01 == t0);
	assert_false(ch.state_changed);
	assert_int_equal(c.state, CHECK_DOWN);
	/* between states: the fast interval (1 s, +-10 %), not the interval (10 s) */
	assert_true(c.next_due - now >= 0.9 && c.next_due - now <= 1.1 + TICKS(1));
	fake_run(&c, &now, 'P', 0.01, 0.5);
	assert_int_equal(c.state, CHECK_DOWN);
	/* a second death resets the rise */
	now += 0.5;
	ch = engine_check_death(&c, "again", now);
	assert_false(ch.state_changed);
	assert_int_equal(c.pass_streak, 0);
	for (int i = 0; i < 2; i++) {
		fake_run(&c, &now, 'P', 0.01, 0.5);
		assert_int_equal(c.state, CHECK_DOWN);
	}
	ch = fake_run(&c, &now, 'P', 0.01, 0.5);
	assert_true(ch.state_changed);
	assert_int_equal(c.state, CHECK_UP);
	assert_int_equal(c.counters.deaths, 2);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": DOWN -> UP after 3 passes (OK: fake OK)");
}

/* A death withdraws the announcement in the same call chain (no fall, no timer); a
 * DRAINING announcement is DRAINED at once; a reload keeps the death counter. */
static void test_death_withdraws(void **state)
{
	(void)state;
	struct fx fx;
	fx_conf(&fx, "a", 0, 0, 10, 30);
	fx.checks[0].rise = 3;
	fx.checks[0].fall = 3;
	fx_start(&fx);
	struct check *c = &fx.e->checks[0];
	for (int i = 0; i < 3; i++) {
		fx.now += 1;
		assert_int_equal(engine_check_started(c, fx.now), 0);
		struct check_report rep = fake_report(RES_OK, fx.now, 0);
		engine_apply_result(fx.e, c, &rep, fx.now, 0.5);
	}
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	fx.now += 0.5;
	struct check_change ch = engine_check_death(c, "pid 9 exited", fx.now);
	assert_true(ch.state_changed);
	engine_check_changed(fx.e, c, fx.now);
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	assert_int_equal(engine_announcement_action(fx.a, PROTO_ROLE_NORMAL), PROTO_DISABLE);
	assert_string_equal(fx.a->cause, "check \"a\" DOWN: SERVICE_DEAD (pid 9 exited)");
	fx_free(&fx);

	/* in the drain phase of an operator drain */
	fx_conf(&fx, "a", 0, 0, 10, 30);
	fx_start(&fx);
	c = &fx.e->checks[0];
	fx.now += 1;
	assert_int_equal(engine_check_started(c, fx.now), 0);
	struct check_report ok = fake_report(RES_OK, fx.now, 0);
	engine_apply_result(fx.e, c, &ok, fx.now, 0.5);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	assert_int_equal(
	    engine_announcement_drain(fx.e, fx.a, "stop nginx", "root", 0, INFINITY, fx.now), 0);
	assert_int_equal(fx.a->state, ANN_DRAINING);
	fx.now += 1;
	ch = engine_check_death(c, "pid 9 exited", fx.now);
	engine_check_changed(fx.e, c, fx.now);
	assert_int_equal(fx.a->state, ANN_DRAINED);
	assert_int_equal(engine_announcement_action(fx.a, PROTO_ROLE_DRAIN), PROTO_DISABLE);
	/* an unchanged definition keeps the counters, deaths included */
	assert_int_equal(engine_reload(fx.e, &fx.conf, fx.now, NULL, NULL), 3);
	assert_int_equal(fx.e->checks[0].counters.deaths, 1);
	fx_free(&fx);
}

/* --- announcements: variants, names, causes --------------------------------- */

static void test_variant_actions(void **state)
{
	(void)state;
	/* Rows: variant; columns: normal, drain, degraded. U untouched, E enable, D disable. */
	static const struct {
		enum announce_variant v;
		const char *want;
	} rows[] = {
	    {VARIANT_KEEP, "UUU"},  {VARIANT_NONE, "DDD"},     {VARIANT_NORMAL, "EDD"},
	    {VARIANT_DRAIN, "DED"}, {VARIANT_DEGRADED, "DDE"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		for (int r = 0; r < PROTO__ROLES; r++) {
			enum proto_action act =
			    engine_variant_action(rows[i].v, (enum proto_role)r);
			char got = act == PROTO_UNTOUCHED ? 'U' : act == PROTO_ENABLE ? 'E' : 'D';
			if (got != rows[i].want[r])
				fail_msg("variant %s role %d: %c, want %c",
				         announce_variant_name(rows[i].v), r, got, rows[i].want[r]);
		}

	struct fx fx;
	fx_conf(&fx, "a", 0, 0, 10, 30);
	assert_ptr_equal(conf_role_protocols(&fx.ann, PROTO_ROLE_NORMAL)->v, &fx.normal);
	assert_ptr_equal(conf_role_protocols(&fx.ann, PROTO_ROLE_DRAIN)->v, &fx.drain);
	assert_ptr_equal(conf_role_protocols(&fx.ann, PROTO_ROLE_DEGRADED)->v, &fx.degraded);

	static const char *const states[] = {"ADOPTING", "ANNOUNCED", "DEGRADED",  "WITHDRAWN",
	                                     "DRAINING", "DRAINED",   "SUPPRESSED"};
	for (int i = 0; i < ANN__STATES; i++) {
		assert_string_equal(announce_state_name((enum announce_state)i), states[i]);
		assert_int_equal(announce_state_from_name(states[i]), i);
	}
	assert_int_equal(announce_state_from_name("announced"), -1);
	assert_string_equal(announce_state_name((enum announce_state)99), "INVALID");
	assert_string_equal(announce_variant_name(VARIANT_DRAIN), "DRAIN");
	assert_string_equal(announce_variant_name((enum announce_variant)99), "INVALID");
}

static void test_causes_and_messages(void **state)
{
	(void)state;
	struct fx fx;
	char line[512];
	fx_init(&fx, "ab", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	fx_op(&fx, "b+");
	assert_string_equal(fx.a->cause, "check \"b\" UP: OK (fake OK) [2 of 2 UP, quorum 2]");
	fx.now = 5;
	fx_op(&fx, "a-");
	assert_string_equal(fx.a->cause,
	                    "check \"a\" DOWN: CONNECT_REFUSED (fake CONNECT_REFUSED) [1 of 2 UP, "
	                    "quorum 2]");
	assert_string_equal(fx.a->message, "anycast-agent: check a DOWN");
	struct announcement_change ch = {.old_state = ANN_ANNOUNCED,
	                                 .new_state = ANN_WITHDRAWN,
	                                 .old_variant = VARIANT_NORMAL,
	                                 .new_variant = VARIANT_NONE};
	engine_announcement_describe(line, sizeof(line), fx.a, &ch);
	assert_string_equal(line, "announcement \"web\": ANNOUNCED -> WITHDRAWN: check \"a\" DOWN: "
	                          "CONNECT_REFUSED (fake CONNECT_REFUSED) [1 of 2 UP, quorum 2]");
	fx_op(&fx, "a+");
	fx_advance(&fx, 15);
	assert_string_equal(fx.a->cause, "hold-down 10.0 s elapsed");
	assert_string_equal(fx.a->message, "anycast-agent: announced");
	fx.now = 16;
	fx_op(&fx, "b~");
	assert_string_equal(fx.a->message, "anycast-agent: check b degraded");
	assert_string_equal(
	    fx.a->cause, "check \"b\" UP (degraded): WARNING (fake WARNING) [2 of 2 UP, quorum 2]");

	/* Operator text is kept on one line and out of BIRD's quotes. */
	assert_int_equal(
	    engine_announcement_drain(fx.e, fx.a, "swap \"rack\"\n2", "alice", 1000, INFINITY, 20),
	    0);
	assert_string_equal(fx.a->cause, "drained by alice (uid 1000): swap \"rack\"?2");
	assert_string_equal(fx.a->message, "anycast-agent: draining by alice: swap ?rack??2");
	assert_true(fx.a->drain.since == 20 && fx.a->drain.uid == 1000);
	assert_string_equal(fx.a->drain.who, "alice");
	fx_advance(&fx, 50);
	assert_string_equal(fx.a->cause, "drain_time 30.0 s elapsed");
	assert_string_equal(fx.a->message, "anycast-agent: drained by alice: swap ?rack??2");
	/* Bad requests change nothing. */
	assert_int_equal(engine_announcement_drain(fx.e, fx.a, "x", "eve", 1, 50, 50), -1);
	assert_int_equal(engine_announcement_drain(fx.e, fx.a, "x", "eve", 1, NAN, 50), -1);
	assert_string_equal(fx.a->drain.who, "alice");
	assert_int_equal(engine_announcement_undrain(fx.e, fx.a, "bob", 1001, 51), 0);
	assert_string_equal(fx.a->cause, "undrained by bob (uid 1001)");
	assert_int_equal(engine_announcement_undrain(fx.e, fx.a, "bob", 1001, 52), -1);
	assert_int_equal(fx.a->counters.drains, 1);

	/* A long detail is truncated, never overflowing, and a tiny buffer is fine too. */
	char small[8];
	assert_true(engine_announcement_describe(small, sizeof(small), fx.a, &ch) > 7);
	assert_string_equal(small, "announc");
	fx_free(&fx);

	/* A guard hold and its release say so. */
	fx_init(&fx, "a", 0, FX_GUARD, 10, 30);
	fx_op(&fx, "a+");
	fx.now = 1;
	fx_op(&fx, "alone");
	fx.now = 2;
	fx_op(&fx, "a-");
	assert_string_equal(fx.a->cause, "last-site guard: no other path (seen 1.0 s ago), not "
	                                 "withdrawing: check \"a\" DOWN: CONNECT_REFUSED (fake "
	                                 "CONNECT_REFUSED)");
	ch = (struct announcement_change){
	    .old_state = ANN_ANNOUNCED, .new_state = ANN_ANNOUNCED, .new_guarded = true};
	engine_announcement_describe(line, sizeof(line), fx.a, &ch);
	assert_true(
	    strncmp(line, "announcement \"web\": ANNOUNCED guarded by the last-site guard: ", 60) ==
	    0);
	fx_advance(&fx, 10);
	assert_string_equal(fx.a->cause, "last-site guard released (path observation stale): check "
	                                 "\"a\" DOWN: CONNECT_REFUSED (fake CONNECT_REFUSED)");
	assert_int_equal(fx.a->counters.guard_holds, 1);
	fx_free(&fx);
}

/* --- damping ------------------------------------------------------------------ */

static void test_damping_numbers(void **state)
{
	(void)state;
	struct fx fx;
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	/* Withdraw 1 at 10: penalty 1000, halving every 900 s. */
	fx_advance(&fx, 10);
	fx_op(&fx, "a-");
	assert_true(fabs(engine_announcement_penalty(fx.a, 10) - 1000) < 1e-9);
	assert_true(fabs(engine_announcement_penalty(fx.a, 910) - 500) < 1e-9);
	assert_true(fabs(engine_announcement_penalty(fx.a, 1810) - 250) < 1e-9);
	/* Back after hold-down; withdraw 2 at 40. */
	fx_advance(&fx, 20);
	fx_op(&fx, "a+");
	fx_advance(&fx, 40);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	fx_op(&fx, "a-");
	double p2 = 1000 * pow(2, -30.0 / 900) + 1000;
	assert_true(fabs(engine_announcement_penalty(fx.a, 40) - p2) < 1e-6);
	/* 1977 at 51 is below suppress: re-announced. */
	fx_advance(&fx, 41);
	fx_op(&fx, "a+");
	fx_advance(&fx, 51);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	/* Withdraw 3 at 60: about 2950 > 2000 at the end of hold-down -> SUPPRESSED. */
	fx_advance(&fx, 60);
	fx_op(&fx, "a-");
	double p3 = p2 * pow(2, -20.0 / 900) + 1000;
	assert_true(fabs(engine_announcement_penalty(fx.a, 60) - p3) < 1e-6);
	fx_advance(&fx, 61);
	fx_op(&fx, "a+");
	fx_advance(&fx, 71);
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	assert_int_equal(fx.a->counters.suppressions, 1);
	char want[96];
	snprintf(want, sizeof(want),
	         "damping: penalty %.0f went above suppress 2000; suppressed until 750",
	         p3 * pow(2, -11.0 / 900));
	assert_string_equal(fx.a->cause, want);
	/* Reuse when the penalty has decayed to 750: 60 + 900 * log2(p3 / 750). */
	double reuse = 60 + 900 * log2(p3 / 750);
	assert_true(fabs(engine_next_event(fx.e) - reuse) < 1e-6);
	fx_advance(&fx, reuse - 0.01);
	fx_op(&fx, "tick");
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	fx_advance(&fx, reuse + 0.01);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	assert_string_equal(fx.a->cause, "damping: penalty 750 <= reuse 750");
	assert_true(isinf(engine_next_event(fx.e)));
	assert_int_equal(fx.a->counters.withdraws, 3);
	assert_int_equal(fx.a->counters.announces, 3);
	fx_free(&fx);
}

static void test_damping_cap(void **state)
{
	(void)state;
	struct fx fx;
	/* Hold-down 0 and an unreachable suppress: every flap withdraws and adds 1000. */
	fx_init(&fx, "a", 0, 0, 0, 30);
	fx.ann.damp_suppress = 1e12;
	fx_op(&fx, "a+");
	for (int i = 0; i < 40; i++) {
		fx.now += 1;
		fx_op(&fx, "a-");
		fx_op(&fx, "a+");
	}
	assert_int_equal(fx.a->counters.withdraws, 40);
	/* Capped at reuse * 2^(max_suppress / half_life) = 750 * 16. */
	assert_true(fabs(engine_announcement_penalty(fx.a, fx.now) - 12000) < 1e-6);
	/* With the real threshold, the next withdraw suppresses for exactly max_suppress. */
	fx.ann.damp_suppress = 2000;
	fx.now += 1;
	double last = fx.now;
	fx_op(&fx, "a-");
	fx_op(&fx, "a+");
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	assert_true(fabs(engine_next_event(fx.e) - (last + 3600)) < 1e-6);
	/* SUPPRESSED holds whatever the checks do; at reuse the hold-down (0 here) applies. */
	fx.now += 100;
	fx_op(&fx, "a-");
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	fx_advance(&fx, last + 3600);
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	assert_true(isinf(engine_next_event(fx.e)));
	fx_op(&fx, "a+");
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	fx_free(&fx);
}

/* At reuse the hold-down still applies: eligible for less than hold_down -> WITHDRAWN first. */
static void test_damping_reuse_then_hold_down(void **state)
{
	(void)state;
	struct fx fx;
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx.ann.damp_penalty = 3000; /* one withdraw suppresses */
	fx_op(&fx, "a+");
	fx.now = 1;
	fx_op(&fx, "a-");
	fx.now = 2;
	fx_op(&fx, "a+");
	fx_advance(&fx, 12);
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	double reuse = 1 + 900 * log2(3000.0 / 750);
	assert_true(fabs(engine_announcement_next_change(fx.a) - reuse) < 1e-6);
	fx_advance(&fx, reuse - 5);
	fx_op(&fx, "a-");
	fx_advance(&fx, reuse - 3);
	fx_op(&fx, "a+");
	fx_advance(&fx, reuse);
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	assert_string_equal(fx.a->cause, "damping: penalty 750 <= reuse 750; hold-down goes on");
	assert_true(fabs(engine_next_event(fx.e) - (reuse + 7)) < 1e-6);
	assert_true(fabs(engine_announcement_next_change(fx.a) - (reuse + 7)) < 1e-6);
	fx_advance(&fx, reuse + 7);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	fx_free(&fx);

	/* ADOPTING -> WITHDRAWN is no flap: nothing is known to have been announced. */
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a-");
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	assert_true(engine_announcement_penalty(fx.a, fx.now) == 0);
	assert_int_equal(fx.a->counters.withdraws, 0);
	fx_free(&fx);

	/* Drains are operator actions, not flaps: no penalty however often. */
	fx_init(&fx, "a", 0, FX_NO_DRAIN, 10, 30);
	fx_op(&fx, "a+");
	for (int i = 0; i < 10; i++) {
		fx.now += 1;
		fx_op(&fx, "drain");
		assert_int_equal(fx.a->state, ANN_DRAINED);
		fx_op(&fx, "undrain");
		assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	}
	assert_int_equal(fx.a->counters.withdraws, 10);
	assert_true(engine_announcement_penalty(fx.a, fx.now) == 0);
	fx_free(&fx);

	/* Damping off: never suppressed, the penalty stays 0. */
	fx_init(&fx, "a", 0, 0, 0, 30);
	fx.ann.damp_penalty = 0;
	fx_op(&fx, "a+");
	for (int i = 0; i < 10; i++) {
		fx.now += 1;
		fx_op(&fx, "a-");
		fx_op(&fx, "a+");
		assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	}
	assert_true(engine_announcement_penalty(fx.a, fx.now) == 0);
	fx_free(&fx);
}

/* --- timers --------------------------------------------------------------------- */

static void test_next_event(void **state)
{
	(void)state;
	struct fx fx;
	fx_init(&fx, "a", 0, FX_GUARD, 10, 30);
	assert_true(isinf(engine_next_event(fx.e))); /* adopting: waits for checks, not time */
	fx.now = 1;
	fx_op(&fx, "a-");
	assert_true(isinf(engine_next_event(fx.e))); /* withdrawn, not eligible */
	assert_true(isinf(engine_announcement_next_change(fx.a)));
	fx.now = 2;
	fx_op(&fx, "a+");
	assert_true(engine_next_event(fx.e) == 12); /* hold-down end */
	assert_true(engine_announcement_next_change(fx.a) == 12);
	fx_advance(&fx, 12);
	assert_true(isinf(engine_next_event(fx.e)));
	assert_true(isinf(engine_announcement_next_change(fx.a))); /* announced: none */
	fx.now = 13;
	fx_op(&fx, "drain:100");
	assert_true(engine_next_event(fx.e) == 43); /* drain_time end before the expiry */
	assert_true(engine_announcement_next_change(fx.a) == 43);
	fx_advance(&fx, 43);
	assert_true(engine_next_event(fx.e) == 113);               /* expiry */
	assert_true(isinf(engine_announcement_next_change(fx.a))); /* drained: the expiry is
	                                                              drain.until */
	fx_advance(&fx, 113);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	assert_true(isinf(engine_next_event(fx.e)));
	fx.now = 120;
	fx_op(&fx, "alone");
	assert_true(isinf(engine_next_event(fx.e))); /* an observation alone arms nothing */
	fx.now = 121;
	fx_op(&fx, "a-");
	assert_true(fx.a->guarded);
	assert_true(engine_next_event(fx.e) == 123); /* the observation goes stale */
	fx_free(&fx);

	/* The earliest of several announcements; ticking early changes nothing. */
	char a[] = "a", w[] = "w", d[] = "d", pn[] = "p1", pm[] = "p2";
	struct check_conf checks[] = {make_conf(a, 1, 1, 0.5, 1, 1)};
	char *req[] = {a};
	size_t idx[] = {0};
	struct proto_ref p1 = {.name = pn}, p2 = {.name = pm};
	struct announcement_conf anns[2] = {{.name = w,
	                                     .protocols = {&p1, 1},
	                                     .requires = {req, 1},
	                                     .require_idx = idx,
	                                     .hold_down = 10},
	                                    {.name = d,
	                                     .protocols = {&p2, 1},
	                                     .requires = {req, 1},
	                                     .require_idx = idx,
	                                     .hold_down = 4}};
	struct agent_conf conf = {
	    .checks = checks, .nchecks = 1, .announcements = anns, .nannouncements = 2};
	struct engine *e = engine_new(&conf, 0, NULL, NULL);
	engine_tick(e, 0);
	struct check *c = &e->checks[0];
	engine_check_started(c, 0);
	struct check_report rep = fake_report(RES_TIMEOUT, 0, 0.5);
	engine_apply_result(e, c, &rep, 0.5, 0.5);
	engine_check_started(c, 1);
	rep = fake_report(RES_OK, 1, 0.1);
	engine_apply_result(e, c, &rep, 1, 0.5);
	assert_true(engine_next_event(e) == 5);
	engine_tick(e, 4.9);
	assert_int_equal(e->announcements[1].state, ANN_WITHDRAWN);
	engine_tick(e, 5);
	assert_int_equal(e->announcements[1].state, ANN_ANNOUNCED);
	assert_int_equal(e->announcements[0].state, ANN_WITHDRAWN);
	assert_true(engine_next_event(e) == 11);
	assert_ptr_equal(engine_find_announcement(e, "d"), &e->announcements[1]);
	assert_null(engine_find_announcement(e, "x"));
	engine_free(e);
}

/* An announcement without required checks is always eligible; one needing an unknown check
 * is never announced. */
static void test_requires_edge_cases(void **state)
{
	(void)state;
	char a[] = "a", w[] = "w", x[] = "x", ghost[] = "ghost", pn[] = "p1";
	struct check_conf checks[] = {make_conf(a, 1, 1, 0.5, 1, 1)};
	char *req[] = {ghost};
	struct proto_ref p1 = {.name = pn};
	struct announcement_conf anns[2] = {
	    {.name = w, .protocols = {&p1, 1}, .hold_down = 10},
	    {.name = x, .protocols = {&p1, 1}, .requires = {req, 1}, .hold_down = 10}};
	struct agent_conf conf = {
	    .checks = checks, .nchecks = 1, .announcements = anns, .nannouncements = 2};
	struct engine *e = engine_new(&conf, 0, NULL, NULL);
	assert_int_equal(e->announcements[0].state, ANN_ADOPTING);
	engine_tick(e, 0);
	assert_int_equal(e->announcements[0].state, ANN_ANNOUNCED);
	assert_int_equal(e->announcements[1].state, ANN_WITHDRAWN);
	assert_null(e->announcements[1].requires[0]);
	assert_string_equal(e->announcements[1].cause, "check \"ghost\" is not defined");
	engine_free(e);
}

/* --- reload ----------------------------------------------------------------------- */

static void test_announcement_reload(void **state)
{
	(void)state;
	char a[] = "a", b[] = "b", web[] = "web", dns[] = "dns", ntp[] = "ntp", pn[] = "p1",
	     pd[] = "p2";
	struct proto_ref p1 = {.name = pn}, p2 = {.name = pd};
	char *ra[] = {a}, *rb[] = {b};
	size_t ia[] = {0}, ib[] = {1};
	struct check_conf checks[] = {make_conf(a, 1, 1, 0.5, 1, 1), make_conf(b, 1, 1, 0.5, 1, 1)};
	struct announcement_conf anns[] = {{.name = web,
	                                    .protocols = {&p1, 1},
	                                    .requires = {ra, 1},
	                                    .require_idx = ia,
	                                    .hold_down = 10},
	                                   {.name = dns,
	                                    .protocols = {&p1, 1},
	                                    .drain_protocols = {&p2, 1},
	                                    .requires = {rb, 1},
	                                    .require_idx = ib,
	                                    .hold_down = 10,
	                                    .drain_time = 30}};
	default_damping(&anns[0]);
	struct agent_conf conf = {
	    .checks = checks, .nchecks = 2, .announcements = anns, .nannouncements = 2};
	struct fx log = {0};
	struct engine *e = engine_new(&conf, 0, NULL, NULL);
	engine_set_on_change(e, record_change, &log);
	double now = 0;
	for (int i = 0; i < 2; i++) {
		engine_check_started(&e->checks[i], now);
		struct check_report rep = fake_report(RES_OK, now, 0);
		engine_apply_result(e, &e->checks[i], &rep, now, 0.5);
	}
	/* web: flapped once (penalty), withdrawn, eligible again, in hold-down; dns: drained. */
	struct announcement *aw = engine_find_announcement(e, "web");
	struct announcement *ad = engine_find_announcement(e, "dns");
	static int before_tag;
	aw->user = &log;
	ad->user = &before_tag;
	now = 5;
	engine_check_started(&e->checks[0], now);
	struct check_report rep = fake_report(RES_CONNECT_REFUSED, now, 0);
	engine_apply_result(e, &e->checks[0], &rep, now, 0.5);
	now = 6;
	engine_check_started(&e->checks[0], now);
	rep = fake_report(RES_OK, now, 0);
	engine_apply_result(e, &e->checks[0], &rep, now, 0.5);
	assert_int_equal(aw->state, ANN_WITHDRAWN);
	assert_int_equal(engine_announcement_drain(e, ad, "upgrade", "alice", 1000, INFINITY, 6),
	                 0);
	assert_int_equal(ad->state, ANN_DRAINING);
	struct announcement before = *aw;

	/* New conf: a changed (restarts UNKNOWN), b same; web same (copy), dns changed, ntp new,
	 * in a new order. */
	struct check_conf checks2[] = {make_conf(b, 1, 1, 0.5, 1, 1),
	                               make_conf(a, 2, 1, 0.5, 1, 1)};
	size_t ia2[] = {1}, ib2[] = {0};
	struct announcement_conf anns2[] = {{.name = ntp,
	                                     .protocols = {&p1, 1},
	                                     .requires = {rb, 1},
	                                     .require_idx = ib2,
	                                     .hold_down = 10},
	                                    {.name = dns,
	                                     .protocols = {&p1, 1},
	                                     .drain_protocols = {&p2, 1},
	                                     .requires = {rb, 1},
	                                     .require_idx = ib2,
	                                     .hold_down = 20,
	                                     .drain_time = 30},
	                                    {.name = web,
	                                     .protocols = {&p1, 1},
	                                     .requires = {ra, 1},
	                                     .require_idx = ia2,
	                                     .hold_down = 10}};
	default_damping(&anns2[2]);
	struct agent_conf conf2 = {
	    .checks = checks2, .nchecks = 2, .announcements = anns2, .nannouncements = 3};
	size_t nlog = log.nlog;
	now = 8;
	assert_int_equal(engine_reload(e, &conf2, now, NULL, NULL), 1);
	/* nothing is evaluated before the caller's tick (it restores drains first) */
	assert_int_equal(log.nlog, nlog);
	assert_int_equal(engine_find_announcement(e, "ntp")->state, ANN_ADOPTING);
	engine_tick(e, now);
	aw = engine_find_announcement(e, "web");
	ad = engine_find_announcement(e, "dns");
	struct announcement *an = engine_find_announcement(e, "ntp");
	assert_ptr_equal(aw, &e->announcements[2]);

	/* web kept its live state, re-linked to the new check array. */
	assert_ptr_equal(aw->conf, &anns2[2]);
	assert_ptr_equal(aw->requires[0], &e -> checks[1]);
	assert_int_equal(e->checks[1].state, CHECK_UNKNOWN);
	assert_int_equal(aw->state, ANN_WITHDRAWN);
	assert_true(aw->penalty == before.penalty && aw->penalty_at == before.penalty_at);
	assert_int_equal(aw->counters.withdraws, 1);
	assert_ptr_equal(aw->user, &log);
	/* Its check restarted UNKNOWN: undecided, no hold-down runs until it rises again (the
	 * next event is dns's drain_time end). */
	assert_false(aw->eligible);
	assert_true(engine_next_event(e) == 36);

	/* ntp is new: ADOPTING resolved at once from b, UP. dns changed (hold_down): its live
	 * state is kept whole, the drain goes on to its old end, nothing is re-announced. */
	assert_int_equal(an->state, ANN_ANNOUNCED);
	assert_int_equal(ad->state, ANN_DRAINING);
	assert_int_equal(ad->variant, VARIANT_DRAIN);
	assert_true(ad->drain_end == 36);
	assert_true(ad->drain.active);
	assert_string_equal(ad->drain.reason, "upgrade");
	assert_ptr_equal(ad->user, &before_tag); /* the caller's glue follows the name */
	assert_null(an->user);
	assert_int_equal(ad->counters.withdraws, 0);
	assert_int_equal(log.nlog, nlog + 1); /* ntp, from ADOPTING */

	/* The restarted check rises: web's hold-down starts then. */
	now = 9;
	engine_check_started(&e->checks[1], now);
	rep = fake_report(RES_OK, now, 0);
	engine_apply_result(e, &e->checks[1], &rep, now, 0.5);
	assert_true(engine_next_event(e) == 19);
	engine_tick(e, 19);
	assert_int_equal(aw->state, ANN_ANNOUNCED);

	/* A kept announcement whose check was changed stays announced across the reload. */
	struct agent_conf conf3 = conf2;
	struct check_conf checks3[] = {make_conf(b, 1, 1, 0.5, 1, 1),
	                               make_conf(a, 3, 1, 0.5, 1, 1)};
	conf3.checks = checks3;
	now = 20;
	engine_reload(e, &conf3, now, NULL, NULL);
	aw = engine_find_announcement(e, "web");
	assert_int_equal(aw->state, ANN_ANNOUNCED);
	assert_int_equal(e->checks[1].state, CHECK_UNKNOWN);
	assert_ptr_equal(aw->requires[0], &e -> checks[1]);
	engine_free(e);
}

/* --- lifecycle safety: reload, restart, degraded flapping ---------------------------- */

/* Reload the fixture's announcement with one key changed (hold_down), as an operator's edit
 * of the config does, and let the caller's tick run. */
static void fx_reload_edited(struct fx *fx, struct announcement_conf *copy)
{
	struct agent_conf conf2 = fx->conf;
	*copy = fx->ann;
	copy->hold_down += 1;
	conf2.announcements = copy;
	fx->conf = conf2;
	engine_reload(fx->e, &fx->conf, fx->now, NULL, NULL);
	engine_tick(fx->e, fx->now);
	fx->a = &fx->e->announcements[0];
}

static void test_reload_keeps_what_holds_back(void **state)
{
	(void)state;
	struct fx fx;
	struct announcement_conf copy1, copy2, copy3;

	/* drained: an edit does not bring it back, not even as a GRACEFUL_SHUTDOWN drain */
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	fx_op(&fx, "drain");
	fx_advance(&fx, 31);
	assert_int_equal(fx.a->state, ANN_DRAINED);
	size_t nlog = fx.nlog;
	fx_reload_edited(&fx, &copy1);
	assert_int_equal(fx.a->state, ANN_DRAINED);
	assert_int_equal(fx.a->variant, VARIANT_NONE);
	assert_int_equal(fx.nlog, nlog);
	fx_free(&fx);

	/* suppressed by damping: the penalty survives the edit, so does the suppression */
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	for (int i = 0; i < 3; i++) {
		fx.now += 1;
		fx_op(&fx, "a-");
		fx.now += 1;
		fx_op(&fx, "a+");
		fx_advance(&fx, fx.now + 10);
	}
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	double p = engine_announcement_penalty(fx.a, fx.now);
	assert_true(p > 2000);
	fx_reload_edited(&fx, &copy2);
	assert_int_equal(fx.a->state, ANN_SUPPRESSED);
	assert_true(engine_announcement_penalty(fx.a, fx.now) == p);
	fx_free(&fx);

	/* in hold-down: the edit does not cut it short */
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	fx.now = 1;
	fx_op(&fx, "a-");
	fx.now = 2;
	fx_op(&fx, "a+");
	fx.now = 3;
	fx_reload_edited(&fx, &copy3);
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	/* the hold-down counts from when it became eligible, now with the edited length */
	assert_true(engine_announcement_next_change(fx.a) == 2 + 11);
	fx_advance(&fx, 12.9);
	assert_int_equal(fx.a->state, ANN_WITHDRAWN);
	fx_advance(&fx, 13);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	fx_free(&fx);
}

/* A check flapping between WARNING and OK switches the announcement between its normal and
 * degraded variants; each switch is an attribute change upstream damping counts. */
static void test_degraded_switch_damping(void **state)
{
	(void)state;
	struct fx fx;
	unsigned long none_seen = 0;

	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	/* a verdict every 10 s for an hour, degraded and back (rise = fall = 1) */
	for (int i = 0; i < 360; i++) {
		fx.nlog = 0; /* only the counters matter here */
		fx_advance(&fx, fx.now + 10);
		fx_op(&fx, i % 2 ? "a+" : "a~");
		none_seen += fx.a->variant == VARIANT_NONE;
	}
	/* undamped that is 360 switches; with penalty 500 each, suppress 2000, reuse 750 and a
	 * 900 s half-life: five in a row, then one burst of three per ~25 minutes */
	if (fx.a->counters.switches < 8 || fx.a->counters.switches > 12 ||
	    fx.a->counters.switch_holds < 2)
		fail_msg("switches %lu holds %lu", fx.a->counters.switches,
		         fx.a->counters.switch_holds);
	assert_int_equal(fx.a->counters.withdraws, 0);
	assert_int_equal(none_seen, 0);
	/* while held it stays on a carried variant and says why */
	fx_free(&fx);

	/* held: the hold ends when the penalty decays to reuse, then the switch happens */
	fx_init(&fx, "a", 0, 0, 10, 30);
	fx_op(&fx, "a+");
	for (int i = 0; i < 5; i++) {
		fx.now += 1;
		fx_op(&fx, i % 2 ? "a+" : "a~");
	}
	assert_int_equal(fx.a->state, ANN_DEGRADED);
	fx.now += 1;
	fx_op(&fx, "a+");
	assert_true(fx.a->switch_held);
	assert_int_equal(fx.a->state, ANN_DEGRADED);
	assert_non_null(strstr(fx.a->cause, "damping: penalty"));
	double reuse_at = engine_next_event(fx.e);
	assert_true(isfinite(reuse_at));
	assert_true(engine_announcement_penalty(fx.a, reuse_at) <= 750.0 + 1e-6);
	fx_advance(&fx, reuse_at);
	assert_int_equal(fx.a->state, ANN_ANNOUNCED);
	assert_false(fx.a->switch_held);
	fx_free(&fx);

	/* without degraded_protocols the variant never changes: no penalty, no hold */
	fx_init(&fx, "a", 0, FX_NO_DEGRADED, 10, 30);
	fx_op(&fx, "a+");
	for (int i = 0; i < 20; i++) {
		fx.now += 1;
		fx_op(&fx, i % 2 ? "a+" : "a~");
	}
	assert_true(engine_announcement_penalty(fx.a, fx.now) == 0);
	assert_false(fx.a->switch_held);
	fx_free(&fx);
}

/* At start the caller says what this boot's decision files announced, and the penalty the
 * state file kept: damping decides a re-announce, a real withdraw costs a penalty. */
static void test_adopt_restart(void **state)
{
	(void)state;
	static const struct {
		enum announce_variant carried;
		double penalty;
		char verdict;
		enum announce_state want;
		double want_penalty;
	} rows[] = {
	    /* not carried: a re-announce, damped */
	    {VARIANT_NONE, 2500, '+', ANN_SUPPRESSED, 2500},
	    /* carried: stays, no change upstream */
	    {VARIANT_NORMAL, 2500, '+', ANN_ANNOUNCED, 2500},
	    /* below suppress: announce */
	    {VARIANT_NONE, 1500, '+', ANN_ANNOUNCED, 1500},
	    /* carried: a withdraw upstream */
	    {VARIANT_NORMAL, 500, '-', ANN_WITHDRAWN, 1500},
	    /* was not carried: nothing upstream */
	    {VARIANT_NONE, 500, '-', ANN_WITHDRAWN, 500},
	    /* carried degraded, the check up and clean: a switch upstream, half a penalty */
	    {VARIANT_DEGRADED, 500, '+', ANN_ANNOUNCED, 1000},
	    /* ... unless damping suppresses it: the degraded variant stays */
	    {VARIANT_DEGRADED, 2500, '+', ANN_DEGRADED, 2500},
	    /* carried degraded, the check warns: no change */
	    {VARIANT_DEGRADED, 500, '~', ANN_DEGRADED, 500},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct fx fx;

		fx_conf(&fx, "a", 0, 0, 10, 30);
		fx.e = engine_new(&fx.conf, fx.now, NULL, NULL);
		engine_set_on_change(fx.e, record_change, &fx);
		fx.a = &fx.e->announcements[0];
		engine_announcement_adopt(fx.a, rows[i].carried);
		engine_announcement_set_penalty(fx.a, rows[i].penalty, false, fx.now);
		engine_tick(fx.e, fx.now);
		assert_int_equal(fx.a->state, ANN_ADOPTING);
		char op[3] = {'a', rows[i].verdict, 0};
		fx_op(&fx, op);
		if (fx.a->state != rows[i].want)
			fail_msg("row %zu: %s, want %s", i, announce_state_name(fx.a->state),
			         announce_state_name(rows[i].want));
		assert_true(fabs(engine_announcement_penalty(fx.a, fx.now) - rows[i].want_penalty) <
		            1e-6);
		fx_free(&fx);
	}
}

/* --- the flapping budget ------------------------------------------------------------ */

static void test_flapping_budget(void **state)
{
	(void)state;
	struct announcement_conf ac = {.hold_down = 10};
	default_damping(&ac);
	double rise_s = 3 * 1.0; /* rise 3, interval 1 */

	/* The case: flapping every 2 s for an hour. The check never rises again. */
	struct engine_flap_budget b = engine_damping_budget(&ac, 3600, 2, rise_s);
	assert_int_equal(b.withdraws, 1);
	assert_int_equal(b.announces, 0);
	/* Even if every flap reached the engine as a verdict, hold-down holds the route back. */
	b = engine_damping_budget(&ac, 3600, 2, 0);
	assert_int_equal(b.withdraws, 1);
	assert_int_equal(b.announces, 0);

	/* Slower flaps get past rise and hold-down; damping bounds them. */
	static const struct {
		double every, period;
		unsigned long withdraws, announces, suppressions;
	} rows[] = {
	    /* Hand-checked: W at 13.5, A at 40 (hold-down), W at 40.5 (penalty 1979), A at 67
	     * (1939 < 2000), W at 67.5 (2939 > 2000: suppressed from here until it decays to 750
	     * at ~1836), A at 1836, W (1735), A, W (2690 > 2000: suppressed until ~3480), A. */
	    {13.5, 3600, 5, 4, 3},
	    {15, 3600, 5, 4, 3},
	    {30, 3600, 5, 4, 3},
	    {120, 3600, 5, 4, 2},
	    {300, 3600, 4, 3, 1},
	    {900, 3600, 2, 1, 0},
	    /* Withdraws 900 s apart or more never reach suppress: RFC 2439's blind spot (8/h). */
	    {450, 86400, 96, 95, 0},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		b = engine_damping_budget(&ac, rows[i].period, rows[i].every, rise_s);
		if (b.withdraws != rows[i].withdraws || b.announces != rows[i].announces ||
		    b.suppressions != rows[i].suppressions)
			fail_msg(
			    "flapping every %g s: %lu withdraws %lu announces %lu suppressions, "
			    "want %lu %lu %lu",
			    rows[i].every, b.withdraws, b.announces, b.suppressions,
			    rows[i].withdraws, rows[i].announces, rows[i].suppressions);
	}

	/* "A handful per hour" whatever the flap period. */
	unsigned long worst = 0;
	double worst_at = 0;
	for (double x = 0.5; x <= 3600; x += x < 60 ? 0.5 : 10) {
		b = engine_damping_budget(&ac, 3600, x, rise_s);
		if (b.withdraws + b.announces > worst) {
			worst = b.withdraws + b.announces;
			worst_at = x;
		}
	}
	print_message("worst flap period %g s: %lu BGP updates in the first hour\n", worst_at,
	              worst);
	assert_int_equal(worst, 9);

	/* Without damping the same flapping costs a lot more: damping is what bounds it. */
	ac.damp_penalty = 0;
	b = engine_damping_budget(&ac, 3600, 15, rise_s);
	assert_int_equal(b.withdraws, 120);
	assert_int_equal(b.announces, 119);

	/* Bad input: nothing. */
	b = engine_damping_budget(&ac, -1, 2, 3);
	assert_int_equal(b.withdraws + b.announces, 0);
	b = engine_damping_budget(&ac, 60, 0, 0);
	assert_true(b.withdraws >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hysteresis_table),
	    cmocka_unit_test(test_timeout_counts_as_failure),
	    cmocka_unit_test(test_describe),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_fast_interval_table),
	    cmocka_unit_test(test_jitter_bounds),
	    cmocka_unit_test(test_no_double_start),
	    cmocka_unit_test(test_reload_keeps_unchanged),
	    cmocka_unit_test(test_reload_table),
	    cmocka_unit_test(test_detection_bound_simulation),
	    cmocka_unit_test(test_engine_next_due),
	    cmocka_unit_test(test_announcement_rules),
	    cmocka_unit_test(test_fail_closed_rise),
	    cmocka_unit_test(test_variant_actions),
	    cmocka_unit_test(test_causes_and_messages),
	    cmocka_unit_test(test_damping_numbers),
	    cmocka_unit_test(test_damping_cap),
	    cmocka_unit_test(test_damping_reuse_then_hold_down),
	    cmocka_unit_test(test_next_event),
	    cmocka_unit_test(test_requires_edge_cases),
	    cmocka_unit_test(test_announcement_reload),
	    cmocka_unit_test(test_reload_keeps_what_holds_back),
	    cmocka_unit_test(test_degraded_switch_damping),
	    cmocka_unit_test(test_adopt_restart),
	    cmocka_unit_test(test_flapping_budget),
	    cmocka_unit_test(test_death_is_down_at_once),
	    cmocka_unit_test(test_death_then_rise),
	    cmocka_unit_test(test_death_withdraws),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
