/*
 * test_engine.c - the check half of the engine, driven by a fake clock,
 * fake results and a seeded fake RNG: rise/fall edges, degraded, fast
 * interval, timeouts, jitter bounds, no double start, reload, and the
 * detection bound checked against a simulated failing service.
 */
#include <config.h>

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"

/*
 * Stand-in for config.c's conf_check_equal() until the loader lands in this
 * branch; weak, so the real one wins whenever config.o is linked in. It
 * compares everything these tests vary.
 */
__attribute__((weak)) bool conf_check_equal(const struct check_conf *a, const struct check_conf *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type && a->interval == b->interval &&
	       a->fast_interval == b->fast_interval && a->timeout == b->timeout &&
	       a->rise == b->rise && a->fall == b->fall &&
	       strcmp(a->u.tcp.address.host, b->u.tcp.address.host) == 0 &&
	       a->u.tcp.address.port == b->u.tcp.address.port;
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
    {"a warning passes and marks degraded", 2, 2, "WW", "?U", "dd"},
    {"a pass clears degraded", 2, 2, "PPWP", "?UUU", "--d-"},
    {"a failure below fall keeps degraded", 2, 2, "PPWFW", "?UUUU", "--ddd"},
    {"a failure keeps not-degraded", 2, 2, "PPFW", "?UUU", "---d"},
    {"DOWN clears degraded", 2, 2, "PWFF", "?UUD", "-dd-"},
    {"warnings while DOWN are not degraded until UP", 2, 2, "FFWW", "?DDU", "---d"},
    {"a warning streak raises UP degraded", 3, 2, "FFWPW", "?DDDU", "----d"},
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
	struct check_change ch = fake_run(&c, &now, 'P', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line, "check \"web\": UNKNOWN, no change (OK: fake OK)");
	ch = fake_run(&c, &now, 'W', 0.1, 0.5);
	engine_check_describe(line, sizeof(line), &c, &ch);
	assert_string_equal(line,
	                    "check \"web\": UNKNOWN -> UP (degraded) after 2 passes (WARNING: fake "
	                    "WARNING)");
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
		/* First runs: spread over [now, now + interval), really spread. */
		double lo = INFINITY, hi = -INFINITY;
		for (int i = 0; i < DRAWS; i++) {
			struct check c;
			engine_check_init(&c, &cf, 1000, fake_rand(&rng));
			double d = c.next_due - 1000;
			assert_true(d >= 0 && d < interval);
			lo = fmin(lo, d);
			hi = fmax(hi, d);
		}
		assert_true(lo < 0.01 * interval && hi > 0.99 * interval);

		/* Later pauses: uniform in [0.9, 1.1) * base, for both bases. rise and fall are
		 * out of reach, so the state stays what the test sets: UNKNOWN runs fast. */
		for (int fast = 0; fast < 2; fast++) {
			double base = fast ? bases[t].want_fast : interval;
			struct check_conf far = cf;
			far.rise = far.fall = 1000000;
			struct check c;
			double now = 1000;
			engine_check_init(&c, &far, now, 0.0);
			c.state = fast ? CHECK_UNKNOWN : CHECK_UP;
			double sum = 0;
			lo = INFINITY, hi = -INFINITY;
			for (int i = 0; i < DRAWS; i++) {
				fake_run(&c, &now, 'P', 0, fake_rand(&rng));
				assert_int_equal(engine_check_between(&c), fast);
				double p = (c.next_due - now) / base;
				assert_true(p >= 1 - ENGINE_JITTER - 1e-12 &&
				            p < 1 + ENGINE_JITTER + 1e-12);
				lo = fmin(lo, p);
				hi = fmax(hi, p);
				sum += p;
			}
			/* The whole range is used, centred on the base. */
			assert_true(lo < 1 - 0.99 * ENGINE_JITTER && hi > 1 + 0.99 * ENGINE_JITTER);
			assert_true(fabs(sum / DRAWS - 1) < 0.005);
		}
	}

	/* A bad rnd from the caller stays inside the bounds. */
	static const double bad[] = {-1.0, 1.0, 7.5, NAN, INFINITY};
	struct check_conf cf = make_conf("web", 10, 1, 0.5, 2, 2);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct check c;
		double now = 0;
		engine_check_init(&c, &cf, now, bad[i]);
		assert_true(c.next_due >= 0 && c.next_due < 10);
		fake_run(&c, &now, 'P', 0, bad[i]);
		double p = c.next_due - now;
		assert_true(p >= 0.9 - 1e-12 && p < 1.1 + 1e-12);
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

	/* A hung run is reported only after timeout + grace. */
	assert_false(engine_check_hung(&c, 0.5 + ENGINE_HUNG_GRACE));
	assert_true(engine_check_hung(&c, 0.5 + ENGINE_HUNG_GRACE + 0.01));

	struct check_report rep = fake_report(RES_OK, 0, 0.2);
	struct check_change ch = engine_check_result(&c, &rep, 0.2, 0.5);
	assert_true(ch.applied);
	assert_int_equal(c.state, CHECK_UP);
	assert_false(engine_check_hung(&c, 1000));

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
    /* 1.1 * 1 + 1 * 1.1 * 0.2 + 3 * 0.5 */
    {1.0, 0.2, 0.5, 3, 2, 1.1 + 0.22 + 1.5},
    /* 1.1 * 10 + 2 * 1.1 * 1 + 4 * 2 */
    {10.0, 1.0, 2.0, 2, 3, 11 + 2.2 + 8},
    /* fall 1: 1.1 * 30 + 2 * 5 */
    {30.0, 0.0, 5.0, 1, 1, 33 + 10},
    /* fast unset = interval: 1.1 * 2 + 2 * 1.1 * 2 + 4 * 1 */
    {2.0, 0.0, 1.0, 2, 3, 2.2 + 4.4 + 4},
    /* fast above interval: the first pause may be fast too */
    {1.0, 3.0, 0.1, 2, 2, 3.3 + 3.3 + 0.3},
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

		/* The adversarial case reaches the bound: it is tight, not just safe. */
		double d = simulate_failure(&cf, &rng, true);
		if (d > bound + 1e-9 || d < bound - 1e-6)
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
