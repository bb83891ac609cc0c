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
#include "util.h"

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
	uv_signal_t sig_term, sig_int, sig_hup;
	unsigned short rand_state[3];
	int stopping;
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
		/* a bucket's upper bound, but never above the largest lag seen */
		if (seen >= want && seen > 0)
			return fmin((double)(b + 1) / 1e4, a->lag_max);
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
	if (!a->stopping)
		schedule(ac);
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
	log_notice("received %s, stopping", strsignal(signum));
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
	log_notice("anycast-agent %s starting: %zu checks, %zu announcements", PACKAGE_VERSION,
	           a->conf->nchecks, a->conf->nannouncements);
	return attach_checks(a);
}

int agent_reload(struct agent *a, char **errors)
{
	struct agent_conf *conf = conf_load(a->opts.conf_path, &a->opts.overrides, errors);
	size_t kept;

	if (conf == NULL)
		return -1;
	kept = engine_reload(a->engine, conf, mono_now(), drop_check, a);
	conf_free(a->conf);
	a->conf = conf;
	attach_checks(a);
	log_notice("configuration reloaded from %s: %zu checks (%zu kept their state)",
	           a->opts.conf_path, conf->nchecks, kept);
	return 0;
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
