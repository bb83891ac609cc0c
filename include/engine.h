/*
 * engine.h - the one place that owns state transitions: per-check hysteresis
 * (rise/fall, fast interval, jitter, degraded) now, and the per-announcement
 * state machine (issue 4) beside it later.
 *
 * Pure logic: no I/O, no libuv, no clock reads. Every function that needs
 * time takes `now` (monotonic seconds, as mono_now() returns); every function
 * that needs chance takes a uniform value in [0,1) (`rnd`) or an
 * engine_rand_fn. A test drives it with a fake clock and fake results.
 *
 * Checks
 * ------
 * States: UNKNOWN until the first verdict, then UP or DOWN.
 *   - A PASS or WARN result is a pass; a FAIL result (TIMEOUT included) is a
 *     failure. A pass resets the failure streak and a failure the pass streak.
 *   - UNKNOWN -> UP after `rise` consecutive passes; UNKNOWN -> DOWN after
 *     `fall` consecutive failures (one failed first probe is not yet a
 *     verdict; UNKNOWN is "not up", so nothing is announced meanwhile).
 *   - UP -> DOWN after `fall` consecutive failures; DOWN -> UP after `rise`
 *     consecutive passes. A streak already past its threshold changes nothing.
 *   - rise or fall of 0 counts as 1.
 * Degraded (decided after the state of the same result):
 *   - the check is DOWN: not degraded (down wins; the next passing verdict
 *     decides afresh);
 *   - otherwise a PASS clears it and a WARN sets it; a FAIL leaves it as it
 *     was, so one failure below `fall` does not flip an announcement between
 *     its normal and degraded variants (an attribute change costs damping
 *     penalty upstream; the fall hysteresis already covers the failure).
 *
 * Scheduling (all times in seconds):
 *   - the first run is due at now + rnd * interval, spread over
 *     [now, now + interval) so the checks of one agent don't fire in step;
 *   - the next run is due a jittered pause after the previous run ENDED (its
 *     result arrived): never two runs at once, and a slow run can't squeeze
 *     the pause. pause = base * (1 + ENGINE_JITTER * (2 * rnd - 1)), i.e.
 *     uniform in [0.9 * base, 1.1 * base);
 *   - base is fast_interval while the check is between states (UNKNOWN, UP
 *     with a failure streak, DOWN with a pass streak), else interval;
 *     fast_interval <= 0 means "same as interval"; any base is at least
 *     ENGINE_MIN_INTERVAL so a bad value cannot spin the loop.
 *
 * Detection bound (engine_detection_bound()): the service fails just after a
 * passing probe sampled it. That probe ends within `timeout` (a later answer
 * is a TIMEOUT failure), the next run starts within interval * (1 + J), the
 * first failure switches to the fast interval, and each failing run lasts at
 * most `timeout`:
 *     bound = max(interval, fast) * (1 + J) + (fall - 1) * fast * (1 + J)
 *             + (fall + 1) * timeout
 * with J = ENGINE_JITTER, fast the effective fast interval and rise/fall of 0
 * counted as 1 (max() covers a check still UNKNOWN when fast > interval). It
 * assumes the caller starts a run when it is due and delivers its result when
 * the run ends.
 *
 * Reload: a check whose definition is unchanged (same name and
 * conf_check_equal()) keeps its live state, counters and a run in flight; a
 * changed or new check starts fresh (UNKNOWN, first run spread as above); a
 * changed or removed check is handed to the caller's `dropped` callback, which
 * must cancel its run: that run's result is discarded (the new check is not
 * running, so engine_check_result() refuses it).
 */
#ifndef AA_ENGINE_H
#define AA_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

/* check.h names struct check_env in a prototype before defining it. */
struct check_env;
#include "check.h"
#include "conf.h"
#include "result.h"

/* Jitter on every pause, as a fraction of the interval: pause in [1-J, 1+J) * interval. */
#define ENGINE_JITTER 0.1
/* No pause is shorter than this (seconds), whatever the config says. */
#define ENGINE_MIN_INTERVAL 0.01
/* A run still going this long (seconds) after its timeout is hung (engine_check_hung()). */
#define ENGINE_HUNG_GRACE 5.0

/* A uniform random value in [0,1). */
typedef double (*engine_rand_fn)(void *arg);

#define CHECK_STATES(X)                                                                            \
	X(CHECK_UNKNOWN, "UNKNOWN")                                                                \
	X(CHECK_UP, "UP")                                                                          \
	X(CHECK_DOWN, "DOWN")

enum check_state {
#define X(code, name) code,
	CHECK_STATES(X)
#undef X
	    CHECK__STATES
};

const char *check_state_name(enum check_state s);
/* Parse a state name; returns -1 if unknown. */
int check_state_from_name(const char *name);

struct check_counters {
	unsigned long runs;        /* runs started */
	unsigned long passes;      /* PASS results */
	unsigned long warnings;    /* WARN results (also passes for rise) */
	unsigned long failures;    /* FAIL results, timeouts included */
	unsigned long timeouts;    /* TIMEOUT results */
	unsigned long transitions; /* state changes, UNKNOWN -> UP/DOWN included */
	unsigned long discarded;   /* results refused: no run was in flight */
};

/* One check's live state; conf is the (immutable) definition it runs. */
struct check {
	const struct check_conf *conf;
	enum check_state state;
	bool degraded;
	unsigned pass_streak; /* consecutive passes (PASS or WARN) */
	unsigned fail_streak; /* consecutive failures */
	bool running;
	double started;  /* when the run in flight started */
	double next_due; /* when the next run is due (valid while !running) */
	double since;    /* last state change (or creation) */
	bool has_report;
	struct check_report last; /* the last result applied */
	double last_at;           /* when it was applied */
	struct check_counters counters;
	void *user; /* the caller's (e.g. its check_run); carried across reloads */
};

/* What one result changed, so the caller can log one line with the cause. */
struct check_change {
	bool applied; /* false: no run in flight, the result was discarded */
	bool state_changed;
	enum check_state old_state, new_state;
	bool degraded_changed;
	bool old_degraded, new_degraded;
};

/* Fresh live state: UNKNOWN, first run due in [now, now + interval). */
void engine_check_init(struct check *c, const struct check_conf *conf, double now, double rnd);
/* True if a run should start now: not running and due. */
bool engine_check_due(const struct check *c, double now);
/* Record the start of a run; -1 if one is already running (never two at once). */
int engine_check_started(struct check *c, double now);
/* Apply the result of the run in flight and schedule the next run. */
struct check_change engine_check_result(struct check *c, const struct check_report *rep, double now,
                                        double rnd);
/* The caller cancelled the run in flight: no result counts, the next run is due now. */
void engine_check_cancelled(struct check *c, double now);
/* Run as soon as possible (anycastctl check NAME); -1 if a run is in flight already. */
int engine_check_trigger(struct check *c, double now);
/* True if the run in flight is past timeout + ENGINE_HUNG_GRACE: the runner lost it; the caller
 * should cancel it and deliver a failure. */
bool engine_check_hung(const struct check *c, double now);
/* The pause base that applies now: fast_interval between states, else interval. */
double engine_check_interval(const struct check *c);
/* True while a streak is under way that would change the state (fast interval applies). */
bool engine_check_between(const struct check *c);
/* One log line for a change: `check "web": UP -> DOWN after 2 failures: TIMEOUT (detail)`.
 * Returns what snprintf returns. */
int engine_check_describe(char *buf, size_t len, const struct check *c,
                          const struct check_change *ch);
/* Keep old's live state if its definition equals conf (returns true), else start fresh. old may
 * be NULL. c and old may not be the same object. */
bool engine_check_reload(struct check *c, const struct check *old, const struct check_conf *conf,
                         double now, double rnd);
/* Worst-case seconds from a service failure to the DOWN verdict (formula above). */
double engine_detection_bound(const struct check_conf *conf);

/* The engine: every live object of one agent, built from one agent_conf. */
struct engine {
	const struct agent_conf *conf;
	struct check *checks; /* conf->nchecks, in the order of conf->checks */
	size_t nchecks;
	engine_rand_fn rand;
	void *rand_arg;
	/* issue 4: struct announcement *announcements; size_t nannouncements; */
};

/* Called for each old check a reload does not keep (changed or removed), before it is freed;
 * the caller cancels its run (c->running) and releases c->user. */
typedef void (*engine_dropped_fn)(struct check *old, void *arg);

struct engine *engine_new(const struct agent_conf *conf, double now, engine_rand_fn rand,
                          void *rand_arg);
/* Switch to conf (see "Reload" above). The old conf may be freed when this returns, except
 * what a kept check's in-flight run still uses: the caller points that run at c->conf (equal
 * content) or cancels it with engine_check_cancelled(). Returns the number of checks kept. */
size_t engine_reload(struct engine *e, const struct agent_conf *conf, double now,
                     engine_dropped_fn dropped, void *arg);
void engine_free(struct engine *e);
struct check *engine_find_check(struct engine *e, const char *name);
/* The earliest next_due of the checks not running; +INFINITY if none (to arm one timer). */
double engine_next_due(const struct engine *e);

#endif
