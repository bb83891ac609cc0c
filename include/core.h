/* SPDX-License-Identifier: ISC */
/*
 * core.h - the agent's decisions without its I/O: the engine (checks and
 * announcements), the sync layer (what BIRD should carry, decision files)
 * and the operator state (drains, damping penalties) wired together in the
 * one order that keeps a prefix from being announced with nothing behind it.
 * agent.c drives it on libuv with real checks and BIRD sockets; the lifecycle
 * simulation (tests/sim) drives the same code on a simulated clock with a
 * simulated BIRD.
 *
 * Owns: start (decision files first, then what this boot announced, then the
 * persisted drains and penalties, then the first evaluation), results into
 * the engine, time, drains, reload, stop, and pushing the engine's decisions
 * to the sync layer after every change. Decides nothing itself: the engine
 * decides, sync applies.
 */
#ifndef AA_CORE_H
#define AA_CORE_H

#include <stdbool.h>

#include "conf.h"
#include "engine.h"
#include "state.h"
#include "sync.h"

/* Where core gets the time: monotonic and wall-clock seconds. */
struct core_clock {
	double (*mono)(void *arg);
	double (*wall)(void *arg);
	void *arg;
};

/* What the driver hears about; any may be NULL. */
struct core_hooks {
	/* an announcement changed (after its wants went to sync) */
	void (*changed)(void *arg, const struct announcement *a);
	/* the state file could not be written; the driver calls core_save() again later */
	void (*save_failed)(void *arg);
	void *arg;
};

struct core {
	const struct agent_conf *conf; /* the driver's; replaced by core_reload() */
	struct engine *engine;
	struct sync *sync;
	struct state *state;
	struct core_clock clock;
	struct core_hooks hooks;
	bool dry_run;
	bool started;  /* core_start() ran: stopping may touch BIRD */
	bool stopping; /* core_stop() ran: changes no longer reach BIRD */
};

struct core *core_new(const struct agent_conf *conf, const struct core_clock *clock,
                      engine_rand_fn rand, void *rand_arg, const struct sync_bird_ops *ops,
                      void *ops_arg, bool dry_run);
void core_set_hooks(struct core *c, const struct core_hooks *h);
/* Decision files, what this boot announced, drains and penalties, first evaluation, connect
 * to BIRD. -1 if the decision directory is unusable (logged; the agent runs on). */
int core_start(struct core *c);
/* The result of check ch's run in flight (engine_check_result(), logged), then its
 * announcements. */
struct check_change core_result(struct core *c, struct check *ch, const struct check_report *rep,
                                double rnd);
/* A death watch of check ch saw its service die (engine_check_death(), logged; the driver has
 * cancelled the run in flight), then its announcements. */
void core_death(struct core *c, struct check *ch, const char *detail);
/* Time passed: hold-down, drain_time and drain ends, damping reuse, stale guard observations. */
void core_tick(struct core *c);
double core_next_event(const struct core *c);
/* Every bird.reconcile_interval: sync_tick() and the last-site guard's questions. */
void core_reconcile(struct core *c);
/* The sync layer's path observation (sync_set_paths_cb). */
void core_paths(struct core *c, size_t announcement, bool others_exist);
/* Operator drain; until_wall INFINITY for none. Returns -1 if until is not in the future, else
 * what saving the state file returned (0, or -1: in effect but not persisted). */
int core_drain(struct core *c, struct announcement *a, const char *reason, const char *who,
               long uid, double until_wall);
/* Undrain name: the announcement and/or a drain kept in the state file for an announcement
 * that is not configured. 1 if there was a drain, 0 if not; *save_rc gets the save's result. */
int core_undrain(struct core *c, const char *name, const char *who, long uid, int *save_rc);
/* Write the state file (never in a dry run). */
int core_save(struct core *c);
/* Switch to conf (the caller frees the old one afterwards). dropped: engine_reload()'s. */
size_t core_reload(struct core *c, const struct agent_conf *conf, engine_dropped_fn dropped,
                   void *arg);
/* Stop deciding; unless keep, want every protocol disabled (the caller flushes). */
void core_stop(struct core *c, bool keep, const char *message);
void core_free(struct core *c);

#endif
