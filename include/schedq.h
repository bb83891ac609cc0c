/* SPDX-License-Identifier: ISC */
/*
 * schedq.h - when each check runs next (schedq.c): a binary min-heap of due
 * times kept in one array, and one libuv timer armed for the earliest.
 *
 * libuv keeps its timers in a heap linked through the handles, so with a
 * timer per check every start, stop and expiry walked pointers spread over
 * every check structure (BENCHMARKS.md, "Health checks"). Here the due times sit side by side in
 * one array; the slot the caller embeds knows its place in it, so a slot is moved or removed
 * without a search.
 */
#ifndef AA_SCHEDQ_H
#define AA_SCHEDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct schedq_slot {
	size_t pos; /* 1 + its index in the heap; 0 while not queued */
};

struct schedq;

/* Called once for each slot whose due time has come, the slot already off the queue. It may
 * queue or remove any slot, this one too, but not free the sched. */
typedef void (*schedq_cb)(struct schedq_slot *slot, void *arg);

struct schedq *schedq_new(uv_loop_t *loop, schedq_cb cb, void *arg);
/* The memory goes once libuv has closed the timer; queued slots are simply forgotten. */
void schedq_free(struct schedq *s);

/* Queue slot for `due` (mono_now() seconds), or move it there if it is queued. */
void schedq_at(struct schedq *s, struct schedq_slot *slot, double due);
void schedq_remove(struct schedq *s, struct schedq_slot *slot);

static inline bool schedq_queued(const struct schedq_slot *slot)
{
	return slot->pos != 0;
}

#endif
