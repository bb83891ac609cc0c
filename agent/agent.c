/* SPDX-License-Identifier: ISC */
/*
 * agent.c - the running daemon's lifecycle (see agent.h): start-up order,
 * the check schedule, results and death watches into the core, systemd
 * notification, signals, reload and shutdown, on a libuv loop. What it
 * decides goes through core.c, which a test can drive without the loop; the
 * control verbs and the status are agent_ctl.c's, privileges priv.c's.
 */
#include <config.h>

#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent_int.h"
#include "core.h"
#include "engine.h"
#include "exec_helper.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "output.h"
#include "priv.h"
#include "schedq.h"
#include "sync.h"
#include "util.h"
#include "watch.h"

/* How long a stop waits for BIRD to confirm the withdraw. */
#define AGENT_WITHDRAW_TIMEOUT(conf) (3 * (conf)->bird.timeout + 1.0)
/* After SIGUSR2, a stop within this many seconds keeps the announcements (a restart). */
#define AGENT_KEEP_ONCE_WINDOW 60.0

static void lag_record(struct agent *a, double lag)
{
	size_t b = lag <= 0 ? 0 : (size_t)(lag * 1e4);

	a->lag[b < LAG_BUCKETS ? b : LAG_BUCKETS - 1]++;
	a->lag_runs++;
	if (lag > a->lag_max)
		a->lag_max = lag;
}

/* The lag below which fraction q of the runs started, in seconds. */
double agent_lag_quantile(const struct agent *a, double q)
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

static double clock_mono(void *arg)
{
	(void)arg;
	return mono_now();
}

static double clock_wall(void *arg)
{
	(void)arg;
	return wall_now();
}

static const struct core_clock agent_clock = {clock_mono, clock_wall, NULL};

static void check_done(struct check_run *run, const struct check_report *rep, void *arg);

/* The state file could not be written (a full disk): retried every second until it is. */
static void state_retry_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	if (core_save(a->core) == 0)
		uv_timer_stop(t);
}

static void on_save_failed(void *arg)
{
	struct agent *a = arg;

	if (!a->stopping && !uv_is_active((uv_handle_t *)&a->state_retry))
		uv_timer_start(&a->state_retry, state_retry_cb, 1000, 1000);
}

/* STATUS=: the Nagios summary line for `systemctl status`, sent only when it changed. The
 * checks are evaluated one at a time: their JSON for 1000 checks would be 4 MB at once. */
static void notify_update_status(struct agent *a)
{
	char line[sizeof(a->status_sent)];
	char summary[sizeof(line) - 32];
	double now_mono = mono_now(), now_wall = wall_now();
	struct nagios_eval *ev;
	json_t *snap;
	int state;

	if (!notify_enabled())
		return;
	snap = agent_snapshot(a, false);
	ev = nagios_eval_begin(snap, now_wall);
	json_decref(snap);
	for (size_t i = 0; i < a->core->engine->nchecks; i++) {
		json_t *chk = agent_check_status(&a->core->engine->checks[i], now_mono, now_wall);

		nagios_eval_check(ev, chk);
		json_decref(chk);
	}
	state = nagios_eval_end(ev, summary, sizeof(summary));
	snprintf(line, sizeof(line), "ANYCAST %s - %s", nagios_state_name(state), summary);
	if (strcmp(line, a->status_sent) == 0)
		return;
	if (notify_status("%s", line) >= 0)
		snprintf(a->status_sent, sizeof(a->status_sent), "%s", line);
}

/* The loop is alive (this timer fired) and every check is being run on time. */
static bool agent_healthy(struct agent *a, double now)
{
	for (size_t i = 0; i < a->core->engine->nchecks; i++) {
		const struct check *c = &a->core->engine->checks[i];
		double late;

		if (engine_check_hung(c, now, &late)) {
			if (!a->unhealthy_logged)
				log_warnx("check \"%s\" is %.0f s %s; no longer feeding systemd's "
				          "watchdog, which will restart the agent",
				          c->conf->name, late,
				          c->running ? "past its timeout" : "overdue");
			a->unhealthy_logged = true;
			return false;
		}
	}
	a->unhealthy_logged = false;
	return true;
}

static void notify_timer_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	if (a->watchdog_interval > 0 && agent_healthy(a, mono_now()))
		notify_watchdog();
	if (a->ready_sent)
		notify_update_status(a);
}

/* The first reconcile with BIRD is done (or BIRD did not answer in time): READY=1. */
static void first_sync_cb(bool ok, void *arg)
{
	struct agent *a = arg;

	uv_timer_stop(&a->flush_timer);
	if (!ok)
		log_warnx("BIRD did not confirm the first reconcile in time; running anyway and "
		          "reconnecting (is BIRD running, and is the agent in its group?)");
	a->ready_sent = true;
	notify_ready();
	notify_update_status(a);
}

static void on_announcement_change(void *arg, const struct announcement *ann)
{
	struct agent *a = arg;

	(void)ann;
	if (a->ready_sent)
		notify_update_status(a);
}

/* The sync layer's answer for the last-site guard (announcement index in conf order). */
static void on_paths(size_t idx, bool others_exist, void *arg)
{
	struct agent *a = arg;

	if (a->stopping)
		return;
	core_paths(a->core, idx, others_exist);
	agent_arm_events(a);
}

static void event_timer_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	core_tick(a->core);
	agent_arm_events(a);
}

void agent_arm_events(struct agent *a)
{
	double next = core_next_event(a->core), wait;

	if (a->stopping || isinf(next)) {
		uv_timer_stop(&a->event_timer);
		return;
	}
	wait = next - mono_now();
	uv_timer_start(&a->event_timer, event_timer_cb, wait > 0 ? (uint64_t)ceil(wait * 1e3) : 0,
	               0);
}

void agent_schedule(struct agent_check *ac)
{
	schedq_at(ac->agent->sched, &ac->slot, ac->check->next_due);
}

static void check_due_cb(struct schedq_slot *slot, void *arg)
{
	struct agent_check *ac =
	    (struct agent_check *)((char *)slot - offsetof(struct agent_check, slot));
	double now = mono_now();

	if (ac->agent->stopping)
		return;
	if (!engine_check_due(ac->check, now)) {
		if (!ac->check->running)
			agent_schedule(ac);
		return;
	}
	if (engine_check_started(ac->check, now) < 0)
		return;
	lag_record(ac->agent, now - ac->check->next_due);
	if (check_run_start(ac->run) < 0) {
		/* the runner still holds the previous run: count this one as lost */
		engine_check_cancelled(ac->check, now);
		agent_schedule(ac);
	}
}

static void check_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct agent_check *ac = arg;
	struct agent *a = ac->agent;
	struct check_change ch = core_result(a->core, ac->check, rep, agent_rand(a));

	if (!a->stopping)
		agent_schedule(ac);
	agent_arm_events(a);
	if (ch.applied)
		agent_answer_waiting(ac, NULL);
}

/* ---- death watches ---------------------------------------------------------- */

/* A death watch saw the service die: the check is DOWN at once (the engine's rule), its run
 * in flight is cancelled (it would only tell what the watch knows) and a probe starts now. */
static void check_died(struct agent_check *ac, const char *detail)
{
	struct agent *a = ac->agent;

	check_run_cancel(ac->run);
	core_death(a->core, ac->check, detail);
	agent_schedule(ac);
	agent_arm_events(a);
}

static void on_watch(struct watch *w, enum watch_state old, void *arg)
{
	struct agent_check *ac = arg;
	const char *name = ac->check->conf->name;
	char detail[CHECK_DETAIL_MAX];
	struct watch_info wi;

	if (ac->agent->stopping)
		return;
	watch_info(w, &wi);
	switch (wi.state) {
	case WATCH_DEAD:
		snprintf(detail, sizeof(detail), "%s %s: %s", wi.key, wi.target, wi.detail);
		check_died(ac, detail);
		break;
	case WATCH_ALIVE:
		if (old == WATCH_DEAD) {
			/* back: the probe starts the rise now rather than at the fast interval */
			log_notice("check \"%s\": %s %s alive again (%s); probing now", name,
			           wi.key, wi.target, wi.detail);
			if (engine_check_trigger(ac->check, mono_now()) == 0)
				agent_schedule(ac);
		} else if (old == WATCH_UNAVAILABLE) {
			log_notice("check \"%s\": %s %s: watching again (%s)", name, wi.key,
			           wi.target, wi.detail);
		}
		break;
	case WATCH_UNAVAILABLE:
		log_warnx("check \"%s\": %s %s unavailable: %s", name, wi.key, wi.target,
		          wi.detail);
		break;
	default:
		break;
	}
}

static void watch_add(struct agent_check *ac, enum watch_kind kind, const char *target,
                      const struct listen_ref *l)
{
	ac->watches = xrealloc(ac->watches, (ac->nwatches + 1) * sizeof(*ac->watches));
	ac->watches[ac->nwatches++] =
	    watch_new(ac->agent->watch_env, kind, target, l, on_watch, ac);
}

/* The watches of the check's definition, started (a death at start is a death). */
static void watches_attach(struct agent_check *ac)
{
	const struct watch_conf *wc = &ac->check->conf->watch;

	if (ac->watches != NULL)
		return; /* a kept check keeps its watches: same definition */
	if (wc->pidfile != NULL)
		watch_add(ac, WATCH_PIDFILE, wc->pidfile, NULL);
	if (wc->unit != NULL)
		watch_add(ac, WATCH_UNIT, wc->unit, NULL);
	for (size_t i = 0; i < wc->nlisten; i++)
		watch_add(ac, WATCH_LISTEN, NULL, &wc->listen[i]);
	for (size_t i = 0; i < ac->nwatches; i++)
		watch_start(ac->watches[i]);
}

static void watches_free(struct agent_check *ac)
{
	for (size_t i = 0; i < ac->nwatches; i++)
		watch_free(ac->watches[i]);
	free(ac->watches);
	ac->watches = NULL;
	ac->nwatches = 0;
}

static int attach_checks(struct agent *a)
{
	for (size_t i = 0; i < a->core->engine->nchecks; i++) {
		struct check *c = &a->core->engine->checks[i];
		struct agent_check *ac = c->user;

		if (ac == NULL) {
			ac = xcalloc(1, sizeof(*ac));
			ac->agent = a;
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
		agent_schedule(ac);
		watches_attach(ac);
	}
	return 0;
}

static void drop_check(struct check *old, void *arg)
{
	struct agent_check *ac = old->user;

	if (ac == NULL)
		return;
	agent_answer_waiting(ac, ac->agent->stopping
	                             ? "the agent is stopping"
	                             : "the check was changed by a reload; ask again");
	watches_free(ac);
	check_run_free(ac->run);
	schedq_remove(ac->agent->sched, &ac->slot);
	free(ac);
	old->user = NULL;
}

/* A stop keeps the announcements with on_exit = "keep", or once, for a restart (SIGUSR2). */
static bool stop_keeps(const struct agent *a)
{
	return a->conf->on_exit == ON_EXIT_KEEP || mono_now() < a->keep_once_until;
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
	if (signum == SIGUSR2) {
		/* the package's upgrade: the restart that follows must not withdraw */
		a->keep_once_until = mono_now() + AGENT_KEEP_ONCE_WINDOW;
		log_notice("received %s: a stop within %.0f s leaves BIRD as it is (restart)",
		           strsignal(signum), AGENT_KEEP_ONCE_WINDOW);
		return;
	}
	log_notice("received %s, stopping (on_exit = %s)", strsignal(signum),
	           stop_keeps(a) ? (a->conf->on_exit == ON_EXIT_KEEP ? "keep" : "keep, restart")
	                         : "withdraw");
	log_info("schedule lag over %lu runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms", a->lag_runs,
	         agent_lag_quantile(a, 0.5) * 1e3, agent_lag_quantile(a, 0.99) * 1e3,
	         a->lag_max * 1e3);
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
	a->watch_env = watch_env_new(loop);
	a->sched = schedq_new(loop, check_due_cb, a);
	a->core =
	    core_new(conf, &agent_clock, agent_rand, a, &sync_bird_client_ops, loop, opts->dry_run);
	core_set_hooks(a->core, &(struct core_hooks){on_announcement_change, on_save_failed, a});
	sync_set_paths_cb(a->core->sync, on_paths, a);
	uv_timer_init(loop, &a->event_timer);
	a->event_timer.data = a;
	uv_timer_init(loop, &a->reconcile_timer);
	a->reconcile_timer.data = a;
	uv_timer_init(loop, &a->flush_timer);
	a->flush_timer.data = a;
	uv_timer_init(loop, &a->metrics_timer);
	a->metrics_timer.data = a;
	uv_timer_init(loop, &a->state_retry);
	a->state_retry.data = a;
	uv_timer_init(loop, &a->notify_timer);
	a->notify_timer.data = a;
	uv_timer_init(loop, &a->dwait_timer);
	a->dwait_timer.data = a;
	a->started_wall = wall_now();
	return a;
}

static int start_control(struct agent *a)
{
	struct control_opts co = {
	    .path = a->conf->control.socket,
	    .mode = a->conf->control.mode,
	    .group = a->conf->control.group,
	    .admin_group = a->conf->control.admin_group,
	};
	char *err = NULL;

	a->ctl = control_new(a->loop, &co, agent_verbs, agent_nverbs, a);
	if (control_start(a->ctl, &err) < 0) {
		log_warnx("%s", err);
		free(err);
		control_free(a->ctl);
		a->ctl = NULL;
		return -1;
	}
	return 0;
}

static void metrics_cb(uv_timer_t *t)
{
	struct agent *a = t->data;
	json_t *snap = agent_status(a);
	int rc = metrics_write_file(snap, a->conf->metrics_file);

	json_decref(snap);
	if (rc < 0 && !a->metrics_failing)
		log_warn("cannot write the metrics file %s", a->conf->metrics_file);
	else if (rc == 0 && a->metrics_failing)
		log_notice("metrics file %s written again", a->conf->metrics_file);
	a->metrics_failing = rc < 0;
}

static void arm_metrics(struct agent *a)
{
	uint64_t ms = (uint64_t)(a->conf->metrics_interval * 1e3);

	uv_timer_stop(&a->metrics_timer);
	if (a->conf->metrics_file != NULL)
		uv_timer_start(&a->metrics_timer, metrics_cb, 0, ms);
}

static void reconcile_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	core_reconcile(a->core);
}

static void arm_reconcile(struct agent *a)
{
	uint64_t ms = (uint64_t)(a->conf->bird.reconcile_interval * 1000.0);

	uv_timer_start(&a->reconcile_timer, reconcile_cb, ms, ms);
}

static void flush_timeout_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	if (a->core->sync != NULL)
		sync_flush_cancel(a->core->sync);
}

/* cb(ok) once BIRD confirmed every decision, or cb(false) after AGENT_WITHDRAW_TIMEOUT. */
static void flush(struct agent *a, void (*cb)(bool ok, void *arg))
{
	uv_timer_start(&a->flush_timer, flush_timeout_cb,
	               (uint64_t)(AGENT_WITHDRAW_TIMEOUT(a->conf) * 1000.0), 0);
	sync_flush(a->core->sync, cb, a);
}

int agent_start(struct agent *a)
{
	struct {
		uv_signal_t *h;
		int signum;
	} sigs[] = {{&a->sig_term, SIGTERM},
	            {&a->sig_int, SIGINT},
	            {&a->sig_hup, SIGHUP},
	            {&a->sig_usr2, SIGUSR2}};

	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error return, not a death */
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		uv_signal_init(a->loop, sigs[i].h);
		sigs[i].h->data = a;
		uv_signal_start(sigs[i].h, on_signal, sigs[i].signum);
	}
	log_notice("anycast-agent %s starting: %zu checks, %zu announcements%s", PACKAGE_VERSION,
	           a->conf->nchecks, a->conf->nannouncements,
	           a->opts.dry_run ? " (dry run: BIRD is only read)" : "");
	if (priv_prepare(a->conf, a->opts.conf_path, a->opts.dry_run, &a->priv) < 0)
		return -1;
	/* root is needed only to start the exec helper as exec_user and to drop: both happen
	 * before a socket is opened, BIRD is connected, a file is written or a plugin is run */
	if (priv_start_helper(a->loop, &a->priv, &a->helper) < 0)
		return -1;
	a->env->exec_helper = a->helper;
	if (priv_drop_logged(&a->priv) < 0)
		return -1;
	/* then: a second agent must not touch what the running one decided */
	if (start_control(a) < 0 ||
	    priv_verify_helper(a->conf, a->opts.conf_path, &a->priv, a->helper) < 0)
		return -1;
	priv_warn_plugins_as_agent(a->conf, &a->priv, &a->exec_warned);
	/* decision files, what this boot announced, drains and penalties, then BIRD */
	core_start(a->core);
	priv_warn_access(a->conf, &a->priv, a->opts.dry_run);
	if (attach_checks(a) < 0)
		return -1;
	agent_arm_events(a);
	arm_reconcile(a);
	arm_metrics(a);
	/* systemd's watchdog runs from the start, before READY=1 */
	a->watchdog_interval = notify_watchdog_interval();
	if (notify_enabled()) {
		double every = a->watchdog_interval > 0 && a->watchdog_interval < 5.0
		                   ? a->watchdog_interval
		                   : 5.0;
		uv_timer_start(&a->notify_timer, notify_timer_cb, 0, (uint64_t)(every * 1e3));
	}
	notify_status("starting: %zu checks, %zu announcements, connecting to BIRD",
	              a->conf->nchecks, a->conf->nannouncements);
	flush(a, first_sync_cb);
	return 0;
}

int agent_reload(struct agent *a, char **errors)
{
	struct agent_conf *conf;
	size_t kept;

	char *why = NULL, *why2 = NULL;

	notify_reloading();
	conf = conf_load(a->opts.conf_path, &a->opts.overrides, errors);
	if (conf != NULL && priv_reload_check(&a->priv, conf->user, conf->exec_user, &why) < 0) {
		xasprintf(errors, "%s: %s\n", a->opts.conf_path, why);
		free(why);
		conf_free(conf);
		conf = NULL;
	}
	if (conf == NULL) {
		notify_ready(); /* still running the previous configuration */
		return -1;
	}
	if ((conf->user == NULL) != (a->conf->user == NULL) ||
	    (conf->user != NULL && strcmp(conf->user, a->conf->user) != 0))
		log_warnx("a change of user takes effect at the next start; still running as %s",
		          a->priv.name ? a->priv.name : "before");
	kept = core_reload(a->core, conf, drop_check, a);
	if (a->ctl && control_set_admin_group(a->ctl, conf->control.admin_group, &why2) < 0) {
		log_warnx("%s; keeping the previous one", why2);
		free(why2);
	}
	if (strcmp(conf->control.socket, a->conf->control.socket) != 0 ||
	    strcmp(conf->state_file, a->conf->state_file) != 0)
		log_warnx("control.socket and state_file changes take effect at the next start");
	/* a new interval starts now; the same one keeps its rhythm (reloads more often than the
	 * interval must not starve the reconcile) */
	bool new_interval = conf->bird.reconcile_interval != a->conf->bird.reconcile_interval;
	conf_free(a->conf);
	a->conf = conf;
	a->last_kept = kept;
	priv_warn_plugins_as_agent(a->conf, &a->priv, &a->exec_warned);
	attach_checks(a);
	agent_arm_events(a);
	if (new_interval)
		arm_reconcile(a);
	arm_metrics(a);
	log_notice("configuration reloaded from %s: %zu checks (%zu kept their state)",
	           a->opts.conf_path, conf->nchecks, kept);
	notify_ready();
	a->status_sent[0] = '\0';
	notify_update_status(a);
	return 0;
}

/* Last step of a stop: close what keeps the loop running. */
static void stop_finish(struct agent *a)
{
	uv_close((uv_handle_t *)&a->event_timer, NULL);
	uv_close((uv_handle_t *)&a->reconcile_timer, NULL);
	uv_close((uv_handle_t *)&a->flush_timer, NULL);
	schedq_free(a->sched);
	a->sched = NULL;
	uv_close((uv_handle_t *)&a->metrics_timer, NULL);
	uv_close((uv_handle_t *)&a->state_retry, NULL);
	uv_close((uv_handle_t *)&a->notify_timer, NULL);
	uv_close((uv_handle_t *)&a->dwait_timer, NULL);
	sync_free(a->core->sync);
	a->core->sync = NULL;
}

static void withdrawn_cb(bool ok, void *arg)
{
	struct agent *a = arg;

	if (ok) {
		log_notice("every announcement withdrawn, confirmed by BIRD");
	} else {
		log_warnx("could not confirm the withdraw with BIRD before the deadline; the "
		          "decision files say disabled, so BIRD drops the routes on its next "
		          "configure or restart");
		a->exit_code = 1;
	}
	stop_finish(a);
}

void agent_stop(struct agent *a)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	/* systemd stops its watchdog on STOPPING=1; the withdraw below may take seconds */
	notify_stopping();
	uv_timer_stop(&a->notify_timer);
	notify_status("stopping: %s", stop_keeps(a) || a->conf->nannouncements == 0
	                                  ? "leaving BIRD as it is"
	                                  : "withdrawing every announcement");
	for (size_t i = 0; i < a->core->engine->nchecks; i++)
		drop_check(&a->core->engine->checks[i], a);
	agent_drain_waits_check(a, "the agent is stopping");
	/* the helper reads EOF, kills what it still runs and exits */
	exec_helper_close(a->helper);
	a->helper = NULL;
	a->env->exec_helper = NULL;
	control_free(a->ctl);
	a->ctl = NULL;
	uv_close((uv_handle_t *)&a->sig_term, NULL);
	uv_close((uv_handle_t *)&a->sig_int, NULL);
	uv_close((uv_handle_t *)&a->sig_hup, NULL);
	uv_close((uv_handle_t *)&a->sig_usr2, NULL);
	uv_timer_stop(&a->event_timer);
	uv_timer_stop(&a->reconcile_timer);
	if (stop_keeps(a) || a->conf->nannouncements == 0 || !a->core->started) {
		core_stop(a->core, true, NULL);
		stop_finish(a);
		return;
	}
	core_stop(a->core, false, "anycast-agent stopped");
	flush(a, withdrawn_cb);
}

int agent_exit_code(const struct agent *a)
{
	return a->exit_code;
}

void agent_free(struct agent *a)
{
	if (a == NULL)
		return;
	core_free(a->core);
	check_env_free(a->env);
	watch_env_free(a->watch_env);
	free(a->dwaits);
	priv_plan_free(&a->priv);
	conf_free(a->conf);
	free(a);
}
