/* SPDX-License-Identifier: ISC */
/*
 * test_check_run.c - the generic run driver (check_run.c): the timeout
 * guard, exactly-once delivery, cancel and free semantics, driven with a
 * fake check type implemented here.
 */
#include <config.h>

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check_testutil.h"

enum fake_mode {
	FAKE_HANG,       /* never reports */
	FAKE_LATER,      /* reports OK after delay_ms */
	FAKE_IN_START,   /* reports from inside start */
	FAKE_FAIL_START, /* start returns -1 with rep filled */
	FAKE_DIRTY,      /* reports a detail with control bytes */
};

static struct {
	enum fake_mode mode;
	unsigned delay_ms;
	int starts, cancels, frees, live; /* live: fake attempts not yet freed */
} fake;

struct fake_attempt {
	struct check_run *run;
	uv_timer_t timer;
};

static void fake_closed(uv_handle_t *h)
{
	fake.live--;
	free(h->data);
}

static void fake_end(struct fake_attempt *att)
{
	att->run->priv = NULL;
	att->run = NULL;
	uv_close((uv_handle_t *)&att->timer, fake_closed);
}

static void fake_fire(uv_timer_t *t)
{
	struct fake_attempt *att = t->data;
	struct check_run *run = att->run;

	fake_end(att);
	if (fake.mode == FAKE_DIRTY)
		check_run_finish(run, RES_OK, "a\tb\001c\377");
	else
		check_run_finish(run, RES_OK, "fake done");
}

static int fake_start(struct check_run *run)
{
	struct fake_attempt *att;

	fake.starts++;
	if (fake.mode == FAKE_IN_START) {
		check_run_finish(run, RES_OK, "sync");
		return 0;
	}
	if (fake.mode == FAKE_FAIL_START) {
		run->rep.code = RES_CONNECT_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "fake start failed");
		return -1;
	}
	att = xcalloc(1, sizeof(*att));
	att->run = run;
	run->priv = att;
	uv_timer_init(run->loop, &att->timer);
	att->timer.data = att;
	fake.live++;
	/* a hanging fake still holds an active handle, as a real type would */
	uv_timer_start(&att->timer, fake_fire, fake.mode == FAKE_HANG ? 3600000 : fake.delay_ms, 0);
	return 0;
}

static void fake_cancel(struct check_run *run)
{
	fake.cancels++;
	if (run->priv != NULL)
		fake_end(run->priv);
}

static void fake_free(struct check_run *run)
{
	fake.frees++;
}

static const struct check_ops fake_ops = {
    .type = "fake",
    .start = fake_start,
    .cancel = fake_cancel,
    .free = fake_free,
};

struct fixture {
	uv_loop_t loop;
	struct check_env *env;
	struct check_conf *conf;
	struct done_rec rec;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	memset(&fake, 0, sizeof(fake));
	uv_loop_init(&f->loop);
	f->env = check_env_new(&f->loop);
	f->conf = tcp_conf_new("fake", "127.0.0.1", 9, NULL, 0.2);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	check_env_free(f->env);
	/* every handle a run or the fake type opened must be closed by now */
	assert_true(loop_drain(&f->loop, 2.0));
	assert_int_equal(uv_loop_close(&f->loop), 0);
	assert_int_equal(fake.live, 0);
	check_conf_free_test(f->conf);
	free(f);
	return 0;
}

static struct check_run *fake_run(struct fixture *f, check_done_cb cb, void *arg)
{
	struct check_run *run = check_run_new(f->env, f->conf, cb, arg);

	assert_non_null(run);
	run->ops = &fake_ops;
	return run;
}

static const struct delivery_case {
	const char *name;
	enum fake_mode mode;
	unsigned delay_ms;
	double timeout;
	enum check_result_code code;
	const char *detail;
	double min_s, max_s; /* duration bounds */
	int cancels;
} delivery_cases[] = {
    {"the timeout guard fires on a fake that never finishes", FAKE_HANG, 0, 0.2, RES_TIMEOUT,
     "no result within 0.200 s", 0.2, 0.26, 1},
    {"a fake finishing before the timeout", FAKE_LATER, 50, 0.5, RES_OK, "fake done", 0.045, 0.1,
     0},
    {"a result reported inside start", FAKE_IN_START, 0, 0.5, RES_OK, "sync", 0, 0.05, 0},
    {"a start failure keeps its reason", FAKE_FAIL_START, 0, 0.5, RES_CONNECT_FAILED,
     "fake start failed", 0, 0.05, 0},
    {"control bytes in a detail are replaced", FAKE_DIRTY, 10, 0.5, RES_OK, "a?b?c?", 0.008, 0.06,
     0},
};

static void test_delivery(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(delivery_cases); i++) {
		const struct delivery_case *tc = &delivery_cases[i];
		struct fixture *f = *state;
		struct done_rec rec = {0};
		struct check_run *run;
		double t0;

		print_message("case: %s\n", tc->name);
		memset(&fake, 0, sizeof(fake));
		fake.mode = tc->mode;
		fake.delay_ms = tc->delay_ms;
		f->conf->timeout = tc->timeout;
		run = fake_run(f, rec_done_cb, &rec);
		t0 = mono_now();
		assert_int_equal(check_run_start(run), 0);
		/* never delivered from inside check_run_start */
		assert_int_equal(rec.ndone, 0);
		assert_true(run_until(&f->loop, rec_is_done, &rec, tc->timeout + 1.0));
		assert_int_equal(rec.rep.code, tc->code);
		assert_string_equal(rec.rep.detail, tc->detail);
		assert_true(rec.rep.duration >= tc->min_s);
		assert_true(rec.rep.duration <= tc->max_s);
		assert_true(rec.rep.started >= t0 && rec.rep.started <= t0 + 0.01);
		/* timings the type did not fill read "not applicable" */
		assert_true(rec.rep.t_connect < 0 && rec.rep.t_tls < 0 && rec.rep.t_first_byte < 0);
		assert_int_equal(rec.rep.cert_days_left, INT_MIN);
		/* exactly once: nothing more arrives after the timeout would have passed */
		run_until(&f->loop, never, NULL, tc->timeout + 0.1);
		assert_int_equal(rec.ndone, 1);
		assert_int_equal(fake.cancels, tc->cancels);
		check_run_free(run);
		assert_int_equal(fake.frees, 1);
		assert_true(loop_drain(&f->loop, 1.0));
	}
}

static void test_never_two_runs(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	fake.mode = FAKE_LATER;
	fake.delay_ms = 30;
	run = fake_run(f, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	assert_int_equal(check_run_start(run), -1);
	assert_int_equal(fake.starts, 1);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	assert_int_equal(check_run_start(run), 0);
	assert_int_equal(fake.starts, 2);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	check_run_free(run);
}

struct restart_ctx {
	int ndone, max;
};

static void restart_cb(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct restart_ctx *c = arg;

	if (++c->ndone < c->max)
		assert_int_equal(check_run_start(run), 0);
}

static bool restart_done(void *arg)
{
	struct restart_ctx *c = arg;

	return c->ndone >= c->max;
}

static void test_restart_from_done(void **state)
{
	struct fixture *f = *state;
	struct restart_ctx c = {0, 3};
	struct check_run *run;

	fake.mode = FAKE_LATER;
	fake.delay_ms = 5;
	run = fake_run(f, restart_cb, &c);
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, restart_done, &c, 2.0));
	assert_int_equal(fake.starts, 3);
	check_run_free(run);
}

static void test_cancel_running(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	fake.mode = FAKE_HANG;
	run = fake_run(f, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	check_run_cancel(run);
	assert_int_equal(fake.cancels, 1);
	check_run_cancel(run);
	assert_int_equal(fake.cancels, 1);
	/* no report, not even a timeout, for a cancelled run */
	run_until(&f->loop, never, NULL, f->conf->timeout + 0.15);
	assert_int_equal(rec.ndone, 0);
	/* and it can run again */
	fake.mode = FAKE_LATER;
	fake.delay_ms = 5;
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	assert_int_equal(rec.rep.code, RES_OK);
	check_run_free(run);
}

static void test_cancel_after_finish(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	fake.mode = FAKE_LATER;
	fake.delay_ms = 5;
	run = fake_run(f, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	check_run_cancel(run);
	assert_int_equal(fake.cancels, 0);
	assert_int_equal(rec.ndone, 1);
	check_run_free(run);
	assert_int_equal(fake.cancels, 0);
}

static void test_cancel_pending_result(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	/* the result is waiting for the next loop turn when the caller cancels */
	fake.mode = FAKE_IN_START;
	run = fake_run(f, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	check_run_cancel(run);
	assert_int_equal(fake.cancels, 0); /* the type holds nothing any more */
	run_until(&f->loop, never, NULL, 0.1);
	assert_int_equal(rec.ndone, 0);
	check_run_free(run);
}

static void test_free_while_running(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	fake.mode = FAKE_HANG;
	run = fake_run(f, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	check_run_free(run);
	assert_int_equal(fake.cancels, 1);
	assert_int_equal(fake.frees, 1);
	/* memory is released in the close callbacks; ASan checks the rest */
	assert_true(loop_drain(&f->loop, 1.0));
	assert_int_equal(rec.ndone, 0);
}

static void free_cb(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct done_rec *d = arg;

	d->ndone++;
	check_run_free(run);
}

static void test_free_from_done(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	fake.mode = FAKE_HANG; /* freed from the timeout's delivery */
	run = fake_run(f, free_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	assert_true(loop_drain(&f->loop, 1.0));
	assert_int_equal(fake.frees, 1);
}

static void test_free_never_started(void **state)
{
	struct fixture *f = *state;

	check_run_free(fake_run(f, NULL, NULL));
	check_run_free(NULL);
	assert_true(loop_drain(&f->loop, 1.0));
	assert_int_equal(fake.cancels, 0);
}

static void test_type_unknown(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec = {0};
	struct check_run *run;

	f->conf->type = (enum check_type)CHECK__TYPES;
	run = check_run_new(f->env, f->conf, rec_done_cb, &rec);
	f->conf->type = CHECK_TCP;
	assert_non_null(run);
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	assert_int_equal(rec.rep.code, RES_INTERNAL_ERROR);
	assert_string_equal(rec.rep.detail, "unknown check type 4 (internal error)");
	/* the same, clear answer on every run */
	rec.ndone = 0;
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&f->loop, rec_is_done, &rec, 1.0));
	assert_int_equal(rec.rep.code, RES_INTERNAL_ERROR);
	check_run_free(run);
}

static void test_many_runs_one_loop(void **state)
{
	struct fixture *f = *state;
	struct done_rec rec[20] = {0};
	struct check_run *run[20];
	double t0 = mono_now();

	/* concurrent hanging runs each time out on their own guard */
	fake.mode = FAKE_HANG;
	for (int i = 0; i < 20; i++) {
		run[i] = fake_run(f, rec_done_cb, &rec[i]);
		assert_int_equal(check_run_start(run[i]), 0);
	}
	for (int i = 0; i < 20; i++) {
		assert_true(run_until(&f->loop, rec_is_done, &rec[i], 1.0));
		assert_int_equal(rec[i].rep.code, RES_TIMEOUT);
	}
	assert_true(mono_now() - t0 < f->conf->timeout + 0.1);
	assert_int_equal(fake.cancels, 20);
	for (int i = 0; i < 20; i++)
		check_run_free(run[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_two_runs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_from_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_after_finish, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_pending_result, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_while_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_from_done, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_never_started, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_type_unknown, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_runs_one_loop, setup, teardown),
	};

	return cmocka_run_group_tests_name("check_run", tests, NULL, NULL);
}
