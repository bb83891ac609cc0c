/* SPDX-License-Identifier: ISC */
/*
 * fuzz_state.c - libFuzzer harness for the readers of the files the agent
 * keeps: the operator state file (state_parse and state_parse_damping,
 * agent/state.c) and the BIRD decision files (sync_decision_parse,
 * agent/sync.c). Any of them may be corrupted, truncated, written by
 * another version or edited behind the agent's back.
 *
 * Input: the file's bytes. A file that parses is written again with
 * state_format() and parsed back: every drain must survive with the same
 * fields (losing a drain across a restart is the one thing state.c must not
 * do). A file that does not parse must come with a terminated error text.
 * Every damping penalty read is a finite positive number with a finite time.
 * A decision file reads as withdrawn, announced or "not the agent's", and
 * what the agent writes for either decision reads back as that decision.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "sync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_drain(const struct state_drain *d)
{
	if (d->name == NULL || d->name[0] == '\0' ||
	    memchr(d->reason, '\0', sizeof(d->reason)) == NULL ||
	    memchr(d->who, '\0', sizeof(d->who)) == NULL || !isfinite(d->since) || isnan(d->until))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_drain *a, *b;
	size_t na, nb;
	bool trunc;
	char err[256], *text;

	struct state_penalty *pen;
	size_t np = state_parse_damping((const char *)data, size, &pen);
	for (size_t i = 0; i < np; i++) {
		if (pen[i].name == NULL || !(pen[i].penalty > 0) || !isfinite(pen[i].penalty) ||
		    !isfinite(pen[i].at))
			abort();
		free(pen[i].name);
	}
	free(pen);

	int d = sync_decision_parse((const char *)data, size);
	if (d < -1 || d > 1)
		abort();
	if (d >= 0) {
		char *again = sync_decision_text("/run/anycast-agent/bird", "p", d == 1);
		if (sync_decision_parse(again, strlen(again)) != d)
			abort();
		free(again);
	}

	memset(err, 'X', sizeof(err));
	if (state_parse((const char *)data, size, &a, &na, &trunc, err, sizeof(err)) != 0) {
		if (a != NULL || na != 0 || memchr(err, '\0', sizeof(err)) == NULL ||
		    err[0] == '\0')
			abort();
		return 0;
	}
	for (size_t i = 0; i < na; i++)
		check_drain(&a[i]);
	text = state_format(a, na);
	if (state_parse(text, strlen(text), &b, &nb, &trunc, err, sizeof(err)) != 0)
		abort(); /* what the agent wrote, it cannot read back */
	if (nb != na)
		abort(); /* a drain was lost (or invented) across a write and a read */
	for (size_t i = 0; i < na; i++) {
		const struct state_drain *x = &a[i], *y = NULL;

		for (size_t k = 0; k < nb && y == NULL; k++)
			if (strcmp(b[k].name, x->name) == 0)
				y = &b[k];
		if (y == NULL || strcmp(x->reason, y->reason) != 0 || strcmp(x->who, y->who) != 0 ||
		    (x->uid >= 0 ? x->uid != y->uid : y->uid != -1) || x->since != y->since ||
		    x->until != y->until)
			abort(); /* a drain changed across a write and a read */
	}
	state_drains_free(a, na);
	state_drains_free(b, nb);
	free(text);
	return 0;
}
