/* SPDX-License-Identifier: ISC */
/*
 * schedq.c - the check schedule (see schedq.h). Owns the heap array of
 * (due, slot) pairs and the one uv_timer_t armed for its top; every move of
 * an entry rewrites that slot's `pos`.
 */
#include <config.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "schedq.h"
#include "util.h"

struct schedq_ent {
	double due;
	struct schedq_slot *slot;
};

struct schedq {
	uv_timer_t timer;
	struct schedq_ent *h;
	size_t n, cap;
	schedq_cb cb;
	void *arg;
	double armed; /* the due time the timer is armed for; NAN while it is not */
	bool firing;  /* inside fire(): it arms the timer itself when done */
};

#define PARENT(i) (((i)-1) / 2)

static void put(struct schedq *s, size_t i, struct schedq_ent e)
{
	s->h[i] = e;
	e.slot->pos = i + 1;
}

static void sift_up(struct schedq *s, size_t i)
{
	struct schedq_ent e = s->h[i];

	while (i > 0 && e.due < s->h[PARENT(i)].due) {
		put(s, i, s->h[PARENT(i)]);
		i = PARENT(i);
	}
	put(s, i, e);
}

static void sift_down(struct schedq *s, size_t i)
{
	struct schedq_ent e = s->h[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && s->h[c + 1].due < s->h[c].due)
			c++;
		if (e.due <= s->h[c].due)
			break;
		put(s, i, s->h[c]);
		i = c;
	}
	put(s, i, e);
}

/* Put the entry now at i where its due time belongs. */
static void settle(struct schedq *s, size_t i)
{
	if (i > 0 && s->h[i].due < s->h[PARENT(i)].due)
		sift_up(s, i);
	else
		sift_down(s, i);
}

static void take(struct schedq *s, size_t i)
{
	s->h[i].slot->pos = 0;
	if (--s->n > i) {
		put(s, i, s->h[s->n]);
		settle(s, i);
	}
}

static void fire(uv_timer_t *t);

/* Arm the timer for the top of the heap, unless it already is; at least min_ms ahead. */
static void arm(struct schedq *s, uint64_t min_ms)
{
	double wait;
	uint64_t ms;

	if (s->firing)
		return;
	if (s->n == 0) {
		uv_timer_stop(&s->timer);
		s->armed = NAN;
		return;
	}
	if (s->h[0].due == s->armed)
		return;
	s->armed = s->h[0].due;
	wait = s->armed - mono_now();
	ms = wait > 0 ? (uint64_t)ceil(wait * 1000.0) : 0;
	uv_timer_start(&s->timer, fire, ms > min_ms ? ms : min_ms, 0);
}

static void fire(uv_timer_t *t)
{
	struct schedq *s = t->data;
	double now = mono_now();

	s->armed = NAN;
	s->firing = true;
	/* at most the entries queued now: a slot queued again for the past waits a turn */
	for (size_t k = s->n; k > 0 && s->n > 0 && s->h[0].due <= now; k--) {
		struct schedq_slot *slot = s->h[0].slot;

		take(s, 0);
		s->cb(slot, s->arg);
	}
	s->firing = false;
	/* libuv 1.44 runs a timer re-armed for 0 ms again in the same pass: a slot queued for
	 * the past from its callback would keep the loop from I/O */
	arm(s, 1);
}

struct schedq *schedq_new(uv_loop_t *loop, schedq_cb cb, void *arg)
{
	struct schedq *s = xcalloc(1, sizeof(*s));

	uv_timer_init(loop, &s->timer);
	s->timer.data = s;
	s->cb = cb;
	s->arg = arg;
	s->armed = NAN;
	return s;
}

static void closed(uv_handle_t *h)
{
	struct schedq *s = h->data;

	free(s->h);
	free(s);
}

void schedq_free(struct schedq *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		s->h[i].slot->pos = 0;
	s->n = 0;
	uv_close((uv_handle_t *)&s->timer, closed);
}

void schedq_at(struct schedq *s, struct schedq_slot *slot, double due)
{
	if (slot->pos != 0) {
		s->h[slot->pos - 1].due = due;
		settle(s, slot->pos - 1);
	} else {
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 64;
			s->h = xrealloc(s->h, s->cap * sizeof(*s->h));
		}
		s->h[s->n++] = (struct schedq_ent){due, slot};
		sift_up(s, s->n - 1);
	}
	arm(s, 0);
}

void schedq_remove(struct schedq *s, struct schedq_slot *slot)
{
	if (slot->pos == 0)
		return;
	take(s, slot->pos - 1);
	arm(s, 0);
}
