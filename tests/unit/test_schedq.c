/* SPDX-License-Identifier: ISC */
/*
 * test_schedq.c - the check schedule on a real libuv loop: slots fire in due
 * order and never early, a moved slot fires at its new time and a removed
 * one not at all, a callback may queue slots again (itself too, even for the
 * past, without looping inside one turn), random operations keep the heap
 * right (checked against a plain array), and freeing with queued slots
 * leaves a loop that closes.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "schedq.h"
#include "util.h"

#define NSLOTS 500

struct item {
	struct schedq_slot slot;
	double due; /* what the test asked for; -1 when not queued */
	int fired;
	double fired_at;
};

struct rec {
	struct schedq *s;
	struct item items[NSLOTS];
	int order[4 * NSLOTS]; /* item indexes, in firing order */
	int n;
	bool late; /* an item fired before its due time */
	int requeue_left;
	double requeue_in; /* seconds after now; <= 0 queues for the past */
};

static struct item *item_of(struct schedq_slot *slot)
{
	return (struct item *)((char *)slot - offsetof(struct item, slot));
}

static void on_due(struct schedq_slot *slot, void *arg)
{
	struct rec *r = arg;
	struct item *it = item_of(slot);
	double now = mono_now();

	assert_false(schedq_queued(slot));
	if (now < it->due)
		r->late = true;
	it->fired++;
	it->fired_at = now;
	r->order[r->n++] = (int)(it - r->items);
	it->due = -1;
	if (r->requeue_left > 0) {
		r->requeue_left--;
		it->due = now + r->requeue_in;
		schedq_at(r->s, slot, it->due);
	}
}

static void queue(struct rec *r, int i, double due)
{
	r->items[i].due = due;
	schedq_at(r->s, &r->items[i].slot, due);
}

static int queued_count(const struct rec *r)
{
	int n = 0;

	for (int i = 0; i < NSLOTS; i++)
		n += r->items[i].due >= 0;
	return n;
}

/* Run the loop until nothing is queued, or fail after secs. */
static void run_all(uv_loop_t *loop, struct rec *r, double secs)
{
	double end = mono_now() + secs;

	while (queued_count(r) > 0) {
		assert_true(mono_now() < end);
		uv_run(loop, UV_RUN_ONCE);
	}
}

static struct rec *rec_new(uv_loop_t *loop)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(uv_loop_init(loop), 0);
	r->s = schedq_new(loop, on_due, r);
	for (int i = 0; i < NSLOTS; i++)
		r->items[i].due = -1;
	return r;
}

static void rec_free(uv_loop_t *loop, struct rec *r)
{
	schedq_free(r->s);
	uv_run(loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(loop), 0);
	free(r);
}

/* The due times of the fired items never go down, and each fired once, not early. */
static void assert_in_order(const struct rec *r, const double *due_of, int want)
{
	assert_int_equal(r->n, want);
	assert_false(r->late);
	for (int k = 1; k < r->n; k++)
		assert_true(due_of[r->order[k - 1]] <= due_of[r->order[k]]);
}

static void test_fires_in_due_order(void **state)
{
	uv_loop_t loop;
	struct rec *r = rec_new(&loop);
	double t0 = mono_now(), due[NSLOTS];

	(void)state;
	srand(1);
	for (int i = 0; i < NSLOTS; i++) {
		due[i] = t0 + 0.001 * (rand() % 60);
		queue(r, i, due[i]);
	}
	run_all(&loop, r, 2.0);
	assert_in_order(r, due, NSLOTS);
	for (int i = 0; i < NSLOTS; i++) {
		assert_int_equal(r->items[i].fired, 1);
		/* about a loop turn late, not one interval or more */
		assert_true(r->items[i].fired_at - due[i] < 0.25);
	}
	rec_free(&loop, r);
}

static void test_move_and_remove(void **state)
{
	uv_loop_t loop;
	struct rec *r = rec_new(&loop);
	double t0 = mono_now(), due[NSLOTS];

	(void)state;
	for (int i = 0; i < 100; i++) {
		due[i] = t0 + 0.010 + 0.0001 * i;
		queue(r, i, due[i]);
	}
	/* 0..19 later than all the others, 20..39 earlier, every third of 40..99 removed */
	for (int i = 0; i < 20; i++) {
		due[i] = t0 + 0.030 - 0.0001 * i;
		queue(r, i, due[i]);
	}
	for (int i = 20; i < 40; i++) {
		due[i] = t0 + 0.001;
		queue(r, i, due[i]);
	}
	for (int i = 40; i < 100; i += 3) {
		schedq_remove(r->s, &r->items[i].slot);
		assert_false(schedq_queued(&r->items[i].slot));
		r->items[i].due = -1;
	}
	schedq_remove(r->s, &r->items[40].slot); /* twice: no effect */
	run_all(&loop, r, 2.0);
	assert_in_order(r, due, 100 - 20);
	for (int i = 0; i < 100; i++)
		assert_int_equal(r->items[i].fired, i >= 40 && (i - 40) % 3 == 0 ? 0 : 1);
	for (int k = 0; k < 20; k++) /* the ones moved later came last */
		assert_true(r->order[r->n - 1 - k] < 20);
	rec_free(&loop, r);
}

/* A callback that queues its own slot again, every 2 ms, and then for the past. */
static void test_requeue_from_callback(void **state)
{
	uv_loop_t loop;
	struct rec *r = rec_new(&loop);

	(void)state;
	r->requeue_left = 9;
	r->requeue_in = 0.002;
	queue(r, 0, mono_now());
	run_all(&loop, r, 2.0);
	assert_int_equal(r->items[0].fired, 10);
	assert_false(r->late);

	/* due in the past, queued again from its callback: it waits for a later turn, so one
	 * uv_run turn fires it once, not 1000 times, and the loop gets to its I/O */
	r->requeue_left = 1000;
	r->requeue_in = -1.0;
	r->n = 0;
	queue(r, 1, mono_now() - 1.0);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(r->items[1].fired, 1);
	assert_true(schedq_queued(&r->items[1].slot));
	while (r->items[1].fired < 2)
		uv_run(&loop, UV_RUN_ONCE);
	r->requeue_left = 0;
	run_all(&loop, r, 1.0);
	rec_free(&loop, r);
}

/* Random queueing, moving and removal against a plain array; then every due time is put in
 * the past and one turn must fire exactly the queued items, in order. */
static void test_random_against_model(void **state)
{
	uv_loop_t loop;
	struct rec *r = rec_new(&loop);
	double base = mono_now() + 100.0, due[NSLOTS];

	(void)state;
	srand(7);
	for (int round = 0; round < 20; round++) {
		for (int op = 0; op < 2000; op++) {
			int i = rand() % NSLOTS;

			if (rand() % 4 == 0) {
				schedq_remove(r->s, &r->items[i].slot);
				r->items[i].due = -1;
			} else {
				/* many equal due times on purpose */
				queue(r, i, base + (rand() % 300));
			}
			assert_int_equal(schedq_queued(&r->items[i].slot), r->items[i].due >= 0);
		}
		/* same order, all in the past: keep the relative order of the model */
		int want = queued_count(r);
		for (int i = 0; i < NSLOTS; i++) {
			due[i] = r->items[i].due;
			if (due[i] >= 0)
				queue(r, i, due[i] - base - 1000.0 + mono_now());
		}
		for (int i = 0; i < NSLOTS; i++)
			r->items[i].fired = 0;
		r->n = 0;
		uv_run(&loop, UV_RUN_NOWAIT);
		assert_int_equal(queued_count(r), 0);
		assert_in_order(r, due, want);
		for (int i = 0; i < NSLOTS; i++)
			assert_int_equal(r->items[i].fired, due[i] >= 0 ? 1 : 0);
	}
	rec_free(&loop, r);
}

static void test_free_with_queued_slots(void **state)
{
	uv_loop_t loop;
	struct rec *r = rec_new(&loop);

	(void)state;
	for (int i = 0; i < 10; i++)
		queue(r, i, mono_now() + 60.0);
	schedq_free(r->s);
	for (int i = 0; i < 10; i++)
		assert_false(schedq_queued(&r->items[i].slot));
	uv_run(&loop, UV_RUN_DEFAULT); /* returns: nothing keeps the loop alive */
	assert_int_equal(r->n, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fires_in_due_order),
	    cmocka_unit_test(test_move_and_remove),
	    cmocka_unit_test(test_requeue_from_callback),
	    cmocka_unit_test(test_random_against_model),
	    cmocka_unit_test(test_free_with_queued_slots),
	};

	return cmocka_run_group_tests_name("schedq", tests, NULL, NULL);
}
