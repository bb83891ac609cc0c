/*
 * agent.c - the running daemon (see agent.h): start-up order, per-check
 * timers, results into the engine, one log line per transition, signals,
 * reload and shutdown.
 */
#include <config.h>

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "agent.h"
#include "check.h"
#include "engine.h"
#include "log.h"
#include "sync.h"
#include "util.h"

/* How long a stop waits for BIRD to confirm the withdraw. */
#define AGENT_WITHDRAW_TIMEOUT(conf) (3 * (conf)->bird.timeout + 1.0)

/* The runtime side of one check; engine's struct check points here via ->user. */
struct agent_check {
	struct agent *agent;
	struct check *check; /* in agent->engine; refreshed after a reload */
	struct check_run *run;
	uv_timer_t timer;
};

/* Schedule lag (actual minus planned start of a run) in 0.1 ms buckets; the last catches all. */
#define LAG_BUCKETS 1001

struct agent {
	uv_loop_t *loop;
	struct agent_conf *conf;
	struct agent_opts opts;
	struct engine *engine;
	struct check_env *env;
	struct sync *sync;
	uv_timer_t event_timer; /* engine_next_event(): hold-down, drain_time, expiry, ... */
	uv_signal_t sig_term, sig_int, sig_hup;
	unsigned short rand_state[3];
	int stopping;
	int exit_code;
	unsigned long lag[LAG_BUCKETS];
	unsigned long lag_runs;
	double lag_max;
};

static void lag_record(struct agent *a, double lag)
{
	size_t b = lag <= 0 ? 0 : (size_t)(lag * 1e4);

	a->lag[b < LAG_BUCKETS ? b : LAG_BUCKETS - 1]++;
	a->lag_runs++;
	if (lag > a->lag_max)
		a->lag_max = lag;
}

/* The lag below which fraction q of the runs started, in seconds. */
static double lag_quantile(const struct agent *a, double q)
{
	unsigned long want = (unsigned long)ceil(q * (double)a->lag_runs), seen = 0;

	for (size_t b = 0; b < LAG_BUCKETS; b++) {
		seen += a->lag[b];
		if (seen >= want && seen > 0)
			return (double)(b + 1) / 1e4;
	}
	return a->lag_max;
}

static double agent_rand(void *arg)
{
	struct agent *a = arg;
	return erand48(a->rand_state);
}

static void check_timer_cb(uv_timer_t *t);
static void check_done(struct check_run *run, const struct check_report *rep, void *arg);
static void arm_events(struct agent *a);

/* Tell the sync layer what each protocol of the announcement should be now. */
static void push_wants(struct agent *a, const struct announcement *ann)
{
	static const enum sync_want map[] = {
	    [PROTO_UNTOUCHED] = SYNC_UNTOUCHED,
	    [PROTO_ENABLE] = SYNC_ENABLED,
	    [PROTO_DISABLE] = SYNC_DISABLED,
	};

	for (int role = 0; role < PROTO__ROLES; role++) {
		const struct proto_list *l = engine_role_protocols(ann->conf, role);
		enum proto_action act = engine_announcement_action(ann, role);

		for (size_t i = 0; i < l->n; i++)
			sync_want(a->sync, l->v[i].name, map[act], ann->message);
	}
}

static void push_all_wants(struct agent *a)
{
	for (size_t i = 0; i < a->engine->nannouncements; i++)
		push_wants(a, &a->engine->announcements[i]);
	sync_kick(a->sync);
}

static void on_announcement_change(struct engine *e, struct announcement *ann,
                                   const struct announcement_change *ch, void *arg)
{
	struct agent *a = arg;
	char line[768];

	engine_announcement_describe(line, sizeof(line), ann, ch);
	log_notice("%s", line);
	if (a->stopping)
		return;
	push_wants(a, ann);
	sync_kick(a->sync);
}

static void event_timer_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	engine_tick(a->engine, mono_now());
	arm_events(a);
}

static void arm_events(struct agent *a)
{
	double next = engine_next_event(a->engine), wait;

	if (a->stopping || isinf(next)) {
		uv_timer_stop(&a->event_timer);
		return;
	}
	wait = next - mono_now();
	uv_timer_start(&a->event_timer, event_timer_cb, wait > 0 ? (uint64_t)ceil(wait * 1e3) : 0,
	               0);
}

/* Arm the check's timer for its next due time. */
static void schedule(struct agent_check *ac)
{
	double wait = ac->check->next_due - mono_now();
	uint64_t ms = wait > 0 ? (uint64_t)ceil(wait * 1000.0) : 0;
	uv_timer_start(&ac->timer, check_timer_cb, ms, 0);
}

static void check_timer_cb(uv_timer_t *t)
{
	struct agent_check *ac = t->data;
	double now = mono_now();

	if (ac->agent->stopping)
		return;
	if (!engine_check_due(ac->check, now)) {
		if (!ac->check->running)
			schedule(ac);
		return;
	}
	if (engine_check_started(ac->check, now) < 0)
		return;
	lag_record(ac->agent, now - ac->check->next_due);
	if (check_run_start(ac->run) < 0) {
		/* the runner still holds the previous run: count this one as lost */
		engine_check_cancelled(ac->check, now);
		schedule(ac);
	}
}

static void check_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct agent_check *ac = arg;
	struct agent *a = ac->agent;
	double now = mono_now();
	struct check_change ch = engine_check_result(ac->check, rep, now, agent_rand(a));
	char line[512];

	if (ch.state_changed || ch.degraded_changed) {
		engine_check_describe(line, sizeof(line), ac->check, &ch);
		log_notice("%s", line);
	} else {
		log_debug(LOG_SUB_CHECK, "check \"%s\": %s %.1f ms %s", ac->check->conf->name,
		          result_name(rep->code), rep->duration * 1000.0, rep->detail);
	}
	/* the check's line first, then what it did to the announcements */
	if (ch.state_changed || ch.degraded_changed)
		engine_check_changed(a->engine, ac->check, now);
	if (!a->stopping)
		schedule(ac);
	arm_events(a);
}

static void agent_check_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Attach runtime glue to every check of the engine that has none. */
static int attach_checks(struct agent *a)
{
	for (size_t i = 0; i < a->engine->nchecks; i++) {
		struct check *c = &a->engine->checks[i];
		struct agent_check *ac = c->user;

		if (ac == NULL) {
			ac = xcalloc(1, sizeof(*ac));
			ac->agent = a;
			uv_timer_init(a->loop, &ac->timer);
			ac->timer.data = ac;
			c->user = ac;
		}
		ac->check = c;
		/* a run is bound to the conf it was made from: make a fresh one */
		if (ac->run != NULL) {
			if (c->running)
				engine_check_cancelled(c, mono_now());
			check_run_free(ac->run);
		}
		ac->run = check_run_new(a->env, c->conf, check_done, ac);
		if (ac->run == NULL) {
			log_warnx("check \"%s\": cannot set up its runner", c->conf->name);
			return -1;
		}
		schedule(ac);
	}
	return 0;
}

static void drop_check(struct check *old, void *arg)
{
	struct agent_check *ac = old->user;

	if (ac == NULL)
		return;
	check_run_free(ac->run);
	uv_timer_stop(&ac->timer);
	uv_close((uv_handle_t *)&ac->timer, agent_check_closed);
	old->user = NULL;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct agent *a = s->data;
	char *errors = NULL;

	if (signum == SIGHUP) {
		if (agent_reload(a, &errors) < 0) {
			log_warnx("reload failed; still running the previous configuration:");
			for (char *line = strtok(errors, "\n"); line; line = strtok(NULL, "\n"))
				log_warnx("%s", line);
			free(errors);
		}
		return;
	}
	log_notice("received %s, stopping (on_exit = %s)", strsignal(signum),
	           a->conf->on_exit == ON_EXIT_KEEP ? "keep" : "withdraw");
	log_info("schedule lag over %lu runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms", a->lag_runs,
	         lag_quantile(a, 0.5) * 1e3, lag_quantile(a, 0.99) * 1e3, a->lag_max * 1e3);
	agent_stop(a);
}

struct agent *agent_new(uv_loop_t *loop, struct agent_conf *conf, const struct agent_opts *opts)
{
	struct agent *a = xcalloc(1, sizeof(*a));
	uint16_t seed[3];

	a->loop = loop;
	a->conf = conf;
	a->opts = *opts;
	if (getrandom(seed, sizeof(seed), 0) != sizeof(seed)) {
		double t = mono_now();
		memcpy(seed, &t, sizeof(seed));
	}
	memcpy(a->rand_state, seed, sizeof(seed));
	a->env = check_env_new(loop);
	a->engine = engine_new(conf, mono_now(), agent_rand, a);
	engine_set_on_change(a->engine, on_announcement_change, a);
	a->sync = sync_new(loop, conf, opts->dry_run);
	uv_timer_init(loop, &a->event_timer);
	a->event_timer.data = a;
	return a;
}

int agent_start(struct agent *a)
{
	struct {
		uv_signal_t *h;
		int signum;
	} sigs[] = {{&a->sig_term, SIGTERM}, {&a->sig_int, SIGINT}, {&a->sig_hup, SIGHUP}};

	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error return, not a death */
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(a->loop, sigs[i].h);
		sigs[i].h->data = a;
		uv_signal_start(sigs[i].h, on_signal, sigs[i].signum);
	}
	log_notice("anycast-agent %s starting: %zu checks, %zu announcements%s", PACKAGE_VERSION,
	           a->conf->nchecks, a->conf->nannouncements,
	           a->opts.dry_run ? " (dry run: BIRD is only read)" : "");
	/* the state files first: they must exist, fail closed, before BIRD reads them */
	if (sync_start(a->sync) < 0)
		log_warnx("some BIRD state files could not be prepared; decisions may not survive "
		          "a BIRD configure or restart");
	if (attach_checks(a) < 0)
		return -1;
	engine_tick(a->engine, mono_now());
	push_all_wants(a);
	arm_events(a);
	return 0;
}

int agent_reload(struct agent *a, char **errors)
{
	struct agent_conf *conf = conf_load(a->opts.conf_path, &a->opts.overrides, errors);
	size_t kept;

	if (conf == NULL)
		return -1;
	kept = engine_reload(a->engine, conf, mono_now(), drop_check, a);
	sync_reload(a->sync, conf);
	conf_free(a->conf);
	a->conf = conf;
	attach_checks(a);
	engine_tick(a->engine, mono_now());
	push_all_wants(a);
	arm_events(a);
	log_notice("configuration reloaded from %s: %zu checks (%zu kept their state)",
	           a->opts.conf_path, conf->nchecks, kept);
	return 0;
}

/* Last step of a stop: close what keeps the loop running. */
static void stop_finish(struct agent *a)
{
	uv_close((uv_handle_t *)&a->event_timer, NULL);
	sync_free(a->sync);
	a->sync = NULL;
}

static void withdrawn_cb(bool ok, void *arg)
{
	struct agent *a = arg;

	if (ok) {
		log_notice("every announcement withdrawn, confirmed by BIRD");
	} else {
		log_warnx("could not confirm the withdraw with BIRD before the deadline; the state "
		          "files say disabled, so BIRD drops the routes on its next configure or "
		          "restart");
		a->exit_code = 1;
	}
	stop_finish(a);
}

void agent_stop(struct agent *a)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	for (size_t i = 0; i < a->engine->nchecks; i++)
		drop_check(&a->engine->checks[i], a);
	uv_close((uv_handle_t *)&a->sig_term, NULL);
	uv_close((uv_handle_t *)&a->sig_int, NULL);
	uv_close((uv_handle_t *)&a->sig_hup, NULL);
	uv_timer_stop(&a->event_timer);
	if (a->conf->on_exit == ON_EXIT_KEEP || a->conf->nannouncements == 0) {
		stop_finish(a);
		return;
	}
	for (size_t i = 0; i < sync_nprotos(a->sync); i++) {
		struct sync_proto_status ps;
		sync_proto_status(a->sync, i, &ps);
		sync_want(a->sync, ps.name, SYNC_DISABLED, "anycast-agent stopped");
	}
	sync_flush(a->sync, AGENT_WITHDRAW_TIMEOUT(a->conf), withdrawn_cb, a);
}

int agent_exit_code(const struct agent *a)
{
	return a->exit_code;
}

void agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	engine_free(a->engine);
	check_env_free(a->env);
	conf_free(a->conf);
	free(a);
}

const struct engine *agent_engine(const struct agent *a)
{
	return a->engine;
}

struct withdraw_all_ctx {
	struct sync *sync;
	int rc;
};

static void withdraw_all_done(bool ok, void *arg)
{
	struct withdraw_all_ctx *w = arg;

	w->rc = ok ? 0 : 1;
	if (ok)
		log_notice("every protocol of every announcement is disabled, confirmed by BIRD");
	else
		log_warnx("BIRD did not confirm every disable in time; the state files say "
		          "disabled");
	sync_free(w->sync);
}

int agent_withdraw_all(const struct agent_conf *conf)
{
	uv_loop_t loop;
	struct withdraw_all_ctx w = {NULL, 1};

	uv_loop_init(&loop);
	w.sync = sync_new(&loop, conf, false);
	sync_start(w.sync);
	for (size_t i = 0; i < sync_nprotos(w.sync); i++) {
		struct sync_proto_status ps;
		sync_proto_status(w.sync, i, &ps);
		sync_want(w.sync, ps.name, SYNC_DISABLED,
		          "withdrawn: anycast-agent is not running");
	}
	sync_flush(w.sync, AGENT_WITHDRAW_TIMEOUT(conf), withdraw_all_done, &w);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return w.rc;
}
