/* SPDX-License-Identifier: ISC */
/*
 * flap_sim.c - the flap simulator (see flap_sim.h), on the engine's public
 * interface only.
 */
#include <config.h>

#include <math.h>

#include "engine.h"
#include "flap_sim.h"

struct engine_flap_budget engine_damping_budget(const struct announcement_conf *conf,
                                                double period_s, double flap_every_s, double rise_s)
{
	struct engine_flap_budget b = {0};
	if (!(period_s > 0) || !isfinite(period_s))
		return b;
	double x = flap_every_s >= ENGINE_MIN_INTERVAL ? flap_every_s : ENGINE_MIN_INTERVAL;

	char cname_[] = "service";
	char *names[] = {cname_};
	size_t idx[] = {0};
	struct check_conf cc = {.name = cname_, .interval = 1, .rise = 1, .fall = 1};
	struct announcement_conf ac = *conf;
	ac.requires.v = names;
	ac.requires.n = 1;
	ac.require_idx = idx;
	ac.quorum = 1;
	ac.last_site_guard = false;
	struct agent_conf agent = {
	    .checks = &cc, .nchecks = 1, .announcements = &ac, .nannouncements = 1};

	struct engine *e = engine_new(&agent, 0, NULL, NULL);
	struct check *c = &e->checks[0];
	struct announcement *a = &e->announcements[0];
	c->state = CHECK_UP;
	engine_tick(e, 0);

	/* The check's verdicts: DOWN at each break, UP rise_s after each recovery. */
	bool rises = rise_s < x;
	double last = -INFINITY;
	for (unsigned long k = 0;; k++) {
		double brk = x * (double)(2 * k + 1);
		double up = x * (double)(2 * k + 2) + (rise_s > 0 ? rise_s : 0);
		for (int phase = 0; phase < 2; phase++) {
			double at = phase ? up : brk;
			if (phase && !rises)
				continue;
			/* Each tick consumes its event; a repeat would be an engine bug, not a
			 * loop. */
			for (double ev;
			     (ev = engine_next_event(e)) <= fmin(at, period_s) && ev > last;)
				engine_tick(e, last = ev);
			if (at > period_s)
				goto done;
			c->state = phase ? CHECK_UP : CHECK_DOWN;
			c->since = at;
			engine_check_changed(e, c, at);
		}
	}
done:
	b.withdraws = a->counters.withdraws;
	b.announces = a->counters.announces;
	b.suppressions = a->counters.suppressions;
	engine_free(e);
	return b;
}
