/* SPDX-License-Identifier: ISC */
/*
 * engine.h - the one place that owns state transitions: per-check hysteresis
 * (rise/fall, fast interval, jitter, degraded) and the per-announcement state
 * machine (quorum, hold-down, flap damping, operator drain, last-site guard).
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
 *   - A death (engine_check_death(): a death watch saw the process, unit or
 *     listening socket that serves the check go away) is a failure that
 *     does not wait for `fall`: the check is DOWN at once, with result
 *     SERVICE_DEAD; the caller has cancelled the run in flight, and the next
 *     run is due now (an immediate probe). The way back is `rise` passes, as
 *     after any other verdict.
 * Degraded (decided after the state of the same result), with the same
 * hysteresis as the state, because each change switches the announcement
 * between its normal and degraded variants, an attribute change upstream
 * damping counts (undecided until a streak decides it: an announcement then
 * keeps the variant it carries):
 *   - the check is DOWN: not degraded (down wins; the next passing verdict
 *     decides afresh);
 *   - otherwise `fall` WARN results in a row set it and `rise` PASS results
 *     in a row clear it; a FAIL breaks both streaks and leaves it as it was.
 *     A check alternating WARN and PASS never changes it.
 *
 * Scheduling (all times in seconds):
 *   - the first run is due at now + rnd * interval, spread over
 *     [now, now + interval) so the checks of one agent don't fire in step;
 *   - the next run is due a jittered pause after the previous run ENDED (its
 *     result arrived): never two runs at once, and a slow run can't squeeze
 *     the pause. pause = base * (1 + ENGINE_JITTER * (2 * rnd - 1)), i.e.
 *     uniform in [0.9 * base, 1.1 * base);
 *   - every due time is rounded up to the next tick of the monotonic clock
 *     (ENGINE_TICK_HZ, 7.8 ms), so the checks due within one tick start in one
 *     turn of the event loop and share its wake-ups (timer coalescing: at
 *     1000 checks/s it saves 1.1 to 1.6 points of a core, BENCHMARKS.md). A
 *     triggered or cancelled run is due at once, off the grid;
 *   - base is fast_interval while the check is between states (UNKNOWN, UP
 *     with a failure streak, DOWN with a pass streak), else interval;
 *     fast_interval <= 0 means "same as interval"; any base is at least
 *     ENGINE_MIN_INTERVAL so a bad value cannot spin the loop.
 *
 * Detection bound (engine_detection_bound()): the service fails just after a
 * passing probe sampled it. That probe ends within `timeout` (a later answer
 * is a TIMEOUT failure), the next run starts within interval * (1 + J), the
 * first failure switches to the fast interval, each failing run lasts at
 * most `timeout`, and each of the fall runs may wait up to one tick:
 *     bound = max(interval, fast) * (1 + J) + (fall - 1) * fast * (1 + J)
 *             + (fall + 1) * timeout + fall / ENGINE_TICK_HZ
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

#include "conf.h"
#include "control_proto.h"
#include "result.h"

/* Jitter on every pause, as a fraction of the interval: pause in [1-J, 1+J) * interval. */
#define ENGINE_JITTER 0.1
/* Due times are rounded up to this grid of the monotonic clock: 128 per second, a tick of
 * 7.8125 ms (a power of two, so the rounding is exact in binary). */
#define ENGINE_TICK_HZ 128.0
/* No pause is shorter than this (seconds), whatever the config says. */
#define ENGINE_MIN_INTERVAL 0.01
/* A run still going this long (seconds) after its timeout, or a check overdue this long, is hung
 * (engine_check_hung()). */
#define ENGINE_HUNG_GRACE 10.0

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
	unsigned long deaths;      /* deaths reported by a death watch (also failures) */
};

/* One check's live state; conf is the (immutable) definition it runs. */
struct check {
	const struct check_conf *conf;
	enum check_state state;
	bool degraded;
	unsigned pass_streak;  /* consecutive passes (PASS or WARN) */
	unsigned fail_streak;  /* consecutive failures */
	unsigned warn_streak;  /* consecutive WARN results */
	unsigned clean_streak; /* consecutive PASS results */
	bool degraded_decided; /* a streak decided `degraded` since the check (re)started or fell */
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
/* A death watch saw the service die: DOWN at once with RES_SERVICE_DEAD and detail (the
 * caller cancels the run in flight first; no result of it counts), the next run due now. */
struct check_change engine_check_death(struct check *c, const char *detail, double now);
/* Run as soon as possible (anycastctl check NAME); -1 if a run is in flight already. */
int engine_check_trigger(struct check *c, double now);
/* True if the run in flight is past timeout + ENGINE_HUNG_GRACE, or a check not running is past
 * its due time + ENGINE_HUNG_GRACE: the loop is not doing its job (the daemon stops feeding
 * systemd's watchdog). *late (if not NULL) gets how far past (seconds). */
bool engine_check_hung(const struct check *c, double now, double *late);
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

/*
 * Announcements
 * -------------
 * An announcement is a set of BIRD protocols gated by its required checks.
 * States (announce_state_name()): ADOPTING (start-up or a changed definition,
 * before the checks decide), ANNOUNCED, DEGRADED, WITHDRAWN, DRAINING,
 * DRAINED, SUPPRESSED. Plus `guarded`: the last-site guard holds a withdraw
 * back (the route stays; report CRITICAL).
 *
 * Variant (what the sync layer makes BIRD carry): KEEP in ADOPTING (touch
 * nothing: hitless restart), NORMAL in ANNOUNCED, DEGRADED in DEGRADED (NORMAL
 * when degraded_protocols is empty), DRAIN in DRAINING, NONE otherwise. The
 * protocols of the variant are enabled, every other protocol of the
 * announcement disabled (engine_variant_action()).
 *
 * Rules (q = conf->quorum, 0 read as "all"; a required check the engine does
 * not know counts as DOWN):
 *   - eligible: UP checks >= q; ineligible: UP + UNKNOWN < q; otherwise
 *     undecided. UNKNOWN arises at start-up and when a reload restarts a
 *     check: undecided never changes what is announced, so neither a restart
 *     nor a reload withdraws anything; the check's first verdict decides.
 *   - ADOPTING (engine_announcement_adopt() says whether this boot carried it:
 *     its decision files, after a reload also what BIRD may still have up): eligible ->
 * ANNOUNCED/DEGRADED at once (no hold-down: rise is the confidence), unless it was not carried and
 * the penalty is above damp_suppress -> SUPPRESSED; ineligible -> WITHDRAWN, adding damp_penalty if
 * it was carried. The sync layer keeps (KEEP) only what this boot's decision files announce, so
 * nothing is announced before the checks rise, not after a reboot either.
 *   - ANNOUNCED/DEGRADED: ineligible -> WITHDRAWN at once, adding
 *     damp_penalty to the penalty. DEGRADED while eligible and any UP
 *     required check is degraded, else ANNOUNCED. A switch between them that
 *     changes the variant BIRD carries (degraded_protocols configured) is an
 *     attribute change upstream: it adds damp_penalty / 2, and while damping
 *     suppresses the announcement the switch is held back: the current
 *     variant stays (switch_held), which carries the prefix either way.
 *   - WITHDRAWN -> ANNOUNCED/DEGRADED once continuously eligible for
 *     hold_down s (a lost eligibility restarts it); if damping suppresses it
 *     then -> SUPPRESSED instead.
 *   - Suppressed (RFC 2439): from the moment a flap takes the penalty above
 *     damp_suppress until it decays to damp_reuse, whatever the checks do
 *     meanwhile (damp_suppressed). SUPPRESSED lasts that long; then
 *     ANNOUNCED/DEGRADED if eligible for hold_down s already, else WITHDRAWN
 *     (the hold-down goes on). An upstream router with the same parameters
 *     suppresses the prefix over exactly that time, so a re-announce never
 *     lands in its damping.
 *   - Damping: penalty(t) = p0 * 2^-((t - t0) / damp_half_life), capped at
 *     damp_reuse * 2^(damp_max_suppress / damp_half_life) so no announcement
 *     stays suppressed longer than damp_max_suppress after its last withdraw.
 *     Only check-caused withdraws and switches add penalty: an operator drain
 *     or undrain is not a flap. The penalty survives reloads, restarts and
 *     reboots (the caller keeps it in the state file). damp_max_suppress = 0
 *     turns damping off: the penalty never exceeds damp_reuse, which the
 *     config keeps below damp_suppress. (A conf not from the config with
 *     damp_penalty or damp_half_life <= 0 has no damping either.)
 *   - Drain (engine_announcement_drain()) wins over the checks: from
 *     ANNOUNCED/DEGRADED (or ADOPTING when eligible: a restart in mid-drain)
 *     -> DRAINING for drain_time, then DRAINED; without drain_protocols or
 *     with drain_time <= 0, or when nothing is announced -> DRAINED at once
 *     (never announce a broken service, not even at low preference). A
 *     DRAINING announcement whose checks become ineligible -> DRAINED at once.
 *     `until` ends the drain by itself (engine_tick()). A DRAINING announcement
 *     whose configuration lost its drain variant -> DRAINED. Undrain: eligible ->
 *     ANNOUNCED/DEGRADED at once (operator intent: no hold-down, no damping),
 *     else WITHDRAWN.
 *   - Last-site guard (conf->last_site_guard): a check-caused withdraw while
 *     the last path observation (engine_announcement_observe_paths()) is
 *     younger than e->guard_max_age and says no other path exists keeps the
 *     current state with guarded = true. "Others exist", a stale observation
 *     or none at all lets the withdraw happen (engine_next_event() includes
 *     the moment an observation goes stale).
 *
 * Every change (state, variant or guarded) is recorded in the announcement
 * (cause, message, counters) and handed to e->on_change, synchronously,
 * from whichever call caused it: engine_check_changed(),
 * engine_tick(), drain/undrain, observe_paths, engine_reload().
 *
 * Flapping budget (the simulator tests/unit/flap_sim.c; BGP updates = withdraws +
 * announces), defaults penalty 1000, suppress 2000, reuse 750, half-life
 * 900 s, max_suppress 3600 s, hold_down 10 s, checks rise 3 x interval 1 s:
 *   - a service flapping every 2 s for 1 hour: 1 update (the withdraw). Its
 *     check never sees 3 passes in a row; were every flap a verdict, the
 *     10 s hold-down alone would still hold the route back.
 *   - flapping just slowly enough to pass rise + hold-down (every 13-14 s):
 *     9 updates in the first hour, the worst of any period: the third
 *     withdraw takes the penalty above suppress and it stays suppressed for
 *     ~30 min, then A W A W and suppressed again.
 *   - every 20-120 s: 9 in the first hour; every 15 min: 3.
 *   - RFC 2439's blind spot: a flap period just long enough never to reach
 *     suppress (withdraws 900 s apart, flapping every 7.5 min) costs 8
 *     updates/h indefinitely (191 in 24 h, the worst of any period).
 *     Half-life 1800 / max_suppress 7200 bound every period to 4/h (95 in 24 h).
 * Without damping, flapping every 15 s costs 239 updates/h.
 */

#define ANNOUNCE_STATES(X)                                                                         \
	X(ANN_ADOPTING, "ADOPTING")                                                                \
	X(ANN_ANNOUNCED, "ANNOUNCED")                                                              \
	X(ANN_DEGRADED, "DEGRADED")                                                                \
	X(ANN_WITHDRAWN, "WITHDRAWN")                                                              \
	X(ANN_DRAINING, "DRAINING")                                                                \
	X(ANN_DRAINED, "DRAINED")                                                                  \
	X(ANN_SUPPRESSED, "SUPPRESSED")

enum announce_state {
#define X(code, name) code,
	ANNOUNCE_STATES(X)
#undef X
	    ANN__STATES
};

const char *announce_state_name(enum announce_state s);
/* Parse a state name; returns -1 if unknown. */
int announce_state_from_name(const char *name);

#define ANNOUNCE_VARIANTS(X)                                                                       \
	X(VARIANT_KEEP, "KEEP")                                                                    \
	X(VARIANT_NONE, "NONE")                                                                    \
	X(VARIANT_NORMAL, "NORMAL")                                                                \
	X(VARIANT_DRAIN, "DRAIN")                                                                  \
	X(VARIANT_DEGRADED, "DEGRADED")

enum announce_variant {
#define X(code, name) code,
	ANNOUNCE_VARIANTS(X)
#undef X
	    VARIANT__COUNT
};

const char *announce_variant_name(enum announce_variant v);

/* What the sync layer does with one protocol. */
enum proto_action { PROTO_UNTOUCHED, PROTO_ENABLE, PROTO_DISABLE };

/* KEEP: untouched; otherwise the variant's own role enabled, every other role disabled. */
enum proto_action engine_variant_action(enum announce_variant v, enum proto_role role);

#define ENGINE_CAUSE_MAX 320
/* BIRD's `disable "P" "message"` text: printable ASCII, no quotes, RFC 8203 size. */
#define ENGINE_MESSAGE_MAX 128

/* An operator drain (anycastctl drain). Times are monotonic seconds. */
struct announcement_drain {
	bool active;
	char reason[CONTROL_REASON_MAX + 1];
	char who[CONF_NAME_MAX]; /* user name, "" if unknown */
	long uid;                /* -1 if unknown */
	double since;            /* when it was asked */
	double until;            /* ends by itself then; INFINITY: until undrained */
};

struct announcement_counters {
	unsigned long transitions;  /* state changes */
	unsigned long announces;    /* variant NONE -> a carrying variant */
	unsigned long withdraws;    /* a carrying variant -> NONE (drains included) */
	unsigned long suppressions; /* re-announces damping held back */
	unsigned long guard_holds;  /* withdraws the last-site guard held back */
	unsigned long drains;       /* operator drains begun */
	unsigned long switches;     /* switches between two carried variants */
	unsigned long switch_holds; /* variant switches damping held back */
};

/* One announcement's live state; conf is its (immutable) definition. */
struct announcement {
	const struct announcement_conf *conf;
	struct check *
	    *requires; /* conf->requires resolved into the engine's checks; NULL: unknown */
	size_t nrequires;
	enum announce_state state;
	enum announce_variant variant;
	bool guarded;
	bool switch_held;              /* damping holds a switch between variants back */
	enum announce_variant adopted; /* at start: the variant this boot's decision files carry */
	double since;                  /* last state change (or creation) */
	bool eligible;
	double eligible_since; /* valid while eligible */
	double drain_end;      /* DRAINING: when drain_time is over */
	/* Damping: penalty as of penalty_at (decay with engine_announcement_penalty()), and the
	 * RFC 2439 suppression: set when a flap took it above damp_suppress, over once it decays
	 * to damp_reuse. */
	double penalty, penalty_at;
	bool damp_suppressed;
	/* The last path observation for the last-site guard. */
	bool has_paths, others_exist;
	double paths_at;
	struct announcement_drain drain;
	char cause[ENGINE_CAUSE_MAX];     /* why the last change happened, one line */
	char message[ENGINE_MESSAGE_MAX]; /* what to tell BIRD with disable */
	struct announcement_counters counters;
	void *user; /* the caller's; carried across reloads */
};

/* One change, handed to on_change; cause is a->cause. */
struct announcement_change {
	enum announce_state old_state, new_state;
	enum announce_variant old_variant, new_variant;
	bool old_guarded, new_guarded;
	bool old_held, new_held;
	const char *cause;
};

struct engine;
typedef void (*engine_change_fn)(struct engine *e, struct announcement *a,
                                 const struct announcement_change *ch, void *arg);

/* The engine: every live object of one agent, built from one agent_conf. */
struct engine {
	const struct agent_conf *conf;
	struct check *checks; /* conf->nchecks, in the order of conf->checks */
	size_t nchecks;
	engine_rand_fn rand;
	void *rand_arg;
	struct announcement *announcements; /* conf->nannouncements, in conf order */
	size_t nannouncements;
	/* A path observation older than this (s) is stale for the last-site guard; set from
	 * 3 * bird.reconcile_interval (3 s when unset) by engine_new/engine_reload. */
	double guard_max_age;
	engine_change_fn on_change; /* may be NULL */
	void *on_change_arg;
};

/* Called for each old check a reload does not keep (changed or removed), before it is freed;
 * the caller cancels its run (c->running) and releases c->user. */
typedef void (*engine_dropped_fn)(struct check *old, void *arg);

/* Every announcement starts ADOPTING; set on_change, then call engine_tick() once (it resolves
 * announcements with nothing to wait for, e.g. no required checks). */
struct engine *engine_new(const struct agent_conf *conf, double now, engine_rand_fn rand,
                          void *rand_arg);
void engine_set_on_change(struct engine *e, engine_change_fn fn, void *arg);
/* Switch to conf (see "Reload" above). The old conf may be freed when this returns, except
 * what a kept check's in-flight run still uses: the caller points that run at c->conf (equal
 * content) or cancels it with engine_check_cancelled(). Returns the number of checks kept.
 * Announcements: one that keeps its name keeps its live state whatever changed in its
 * definition (state, variant, drain, penalty, hold-down, counters): a reload never
 * re-announces what a drain, a withdraw or damping holds back. Its required checks are
 * re-linked and decide from their own state (a restarted check is UNKNOWN: nothing changes
 * until its verdict). `user` follows the name; a removed announcement's user is the caller's
 * to release (walk e->announcements before the reload and look each name up in the new
 * conf). Nothing is evaluated yet: the caller restores what it keeps elsewhere (drains),
 * then calls engine_tick(). */
size_t engine_reload(struct engine *e, const struct agent_conf *conf, double now,
                     engine_dropped_fn dropped, void *arg);
void engine_free(struct engine *e);
struct check *engine_find_check(struct engine *e, const char *name);
struct announcement *engine_find_announcement(struct engine *e, const char *name);
/* c's state or degraded changed: re-evaluate the announcements requiring it. A caller using
 * engine_check_result() directly calls this whenever the change says so. */
void engine_check_changed(struct engine *e, const struct check *c, double now);
/* Time passed: hold-down and drain_time ends, drain expiry, damping reuse, stale guard
 * observations. Call at engine_next_event() (calling more often is harmless). */
void engine_tick(struct engine *e, double now);
/* The earliest time engine_tick() has something to do; +INFINITY if nothing is pending. */
double engine_next_event(const struct engine *e);

/* Operator drain; until = INFINITY for none. Draining again updates reason, who and until.
 * Returns -1 (nothing changed) if until is NaN or not after now. */
int engine_announcement_drain(struct engine *e, struct announcement *a, const char *reason,
                              const char *who, long uid, double until, double now);
/* A drain the caller kept (the state file), begun at since (monotonic, may be in the past):
 * drain_time counts from then. -1 if until is not after now or a is drained already. */
int engine_announcement_restore_drain(struct engine *e, struct announcement *a, const char *reason,
                                      const char *who, long uid, double since, double until,
                                      double now);
/* Ends a drain; who/uid name the operator for the cause line. -1 if a is not drained. */
int engine_announcement_undrain(struct engine *e, struct announcement *a, const char *who, long uid,
                                double now);
/* At start, before the first engine_tick(): the variant this boot's decision files say the
 * previous agent announced (VARIANT_NONE: nothing; the sync layer knows). An adopted
 * announcement that was not carried is re-announced only as damping allows; one that was
 * keeps its variant while the checks' degraded state is undecided, switches only as damping
 * allows, and is withdrawn with a penalty. */
void engine_announcement_adopt(struct announcement *a, enum announce_variant carried);
/* A damping penalty kept across a restart (the state file), as of now, and whether it was
 * suppressed (went above damp_suppress and has not decayed to damp_reuse since). */
void engine_announcement_set_penalty(struct announcement *a, double penalty, bool suppressed,
                                     double now);
/* The sync layer's path observation for the last-site guard: does another path exist? */
void engine_announcement_observe_paths(struct engine *e, struct announcement *a, bool others_exist,
                                       double now);
/* When the announcement leaves its state by itself unless a check changes first: WITHDRAWN
 * with its checks eligible at the end of the hold-down, SUPPRESSED at damping reuse, DRAINING
 * when drain_time is over; +INFINITY otherwise (a drain's own expiry is drain.until). */
double engine_announcement_next_change(const struct announcement *a);
/* The damping penalty decayed to now. */
double engine_announcement_penalty(const struct announcement *a, double now);
/* What to do with the protocols of a role now (from a->variant). */
enum proto_action engine_announcement_action(const struct announcement *a, enum proto_role role);
/* One log line: `announcement "web": ANNOUNCED -> WITHDRAWN: check "web" DOWN: ...`. Returns
 * what snprintf returns. */
int engine_announcement_describe(char *buf, size_t len, const struct announcement *a,
                                 const struct announcement_change *ch);

#endif
