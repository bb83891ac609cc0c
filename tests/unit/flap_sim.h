/* SPDX-License-Identifier: ISC */
/*
 * flap_sim.h - the flap simulator: what a flapping service costs in BGP
 * updates under an announcement's hold-down and damping, computed by driving
 * the engine (engine.h) on a virtual clock. For the tests (test_engine, the
 * flapping end-to-end test's flap_budget) and the numbers in engine.h; the
 * daemon does not use it.
 */
#ifndef AA_FLAP_SIM_H
#define AA_FLAP_SIM_H

#include "conf.h"

/* What a flapping service costs in BGP updates (engine_damping_budget()). */
struct engine_flap_budget {
	unsigned long withdraws;
	unsigned long announces;
	unsigned long suppressions;
};

/*
 * Simulate conf's hold-down and damping (its requires and guard are ignored: one check) for
 * period_s seconds: the announcement starts ANNOUNCED with the service healthy; the service
 * then breaks at flap_every_s and alternates broken/healthy every flap_every_s. Its check goes
 * DOWN the moment it breaks (the worst case) and UP rise_s after it recovers if it stays
 * healthy that long (rise_s < flap_every_s; e.g. rise * interval). Counts what the engine
 * emits. flap_every_s is floored at ENGINE_MIN_INTERVAL.
 */
struct engine_flap_budget engine_damping_budget(const struct announcement_conf *conf,
                                                double period_s, double flap_every_s,
                                                double rise_s);

#endif
