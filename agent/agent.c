/*
 * agent.c - the running daemon (see agent.h): start-up order, the check
 * schedule, results into the core, signals, reload and shutdown, the
 * control socket's verbs, on a libuv loop. What it decides goes through
 * core.c, which a test can drive without the loop.
 */
#include <config.h>

#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "agent.h"
#include "check.h"
#include "control.h"
#include "core.h"
#include "engine.h"
#include "exec_helper.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "output.h"
#include "priv.h"
#include "schedq.h"
#include "state.h"
#include "status.h"
#include "sync.h"
#include "util.h"
#include "watch.h"

/* The longest `for` a drain may ask (seconds): ten years is "forever" by mistake. */
#define DRAIN_FOR_MAX (10.0 * 365 * 86400)
/* The longest a `drain --wait` may wait for BIRD to confirm the withdraw (seconds). */
#define DRAIN_WAIT_MAX 86400.0
/* How often a waiting drain looks at the engine and the sync layer (ms): neither calls back
 * when BIRD confirms, and reading their state is cheap. */
#define DRAIN_WAIT_POLL_MS 10

/* How long a stop waits for BIRD to confirm the withdraw. */
#define AGENT_WITHDRAW_TIMEOUT(conf) (3 * (conf)->bird.timeout + 1.0)
/* After SIGUSR2, a stop within this many seconds keeps the announcements (a restart). */
#define AGENT_KEEP_ONCE_WINDOW 60.0

/* The runtime side of one check; engine's struct check points here via ->user. */
struct agent_check {
	struct agent *agent;
	struct check *check; /* in agent->engine; refreshed after a reload */
	struct check_run *run;
	struct schedq_slot slot; /* in agent->sched until the next run */
	/* `check NAME` requests waiting for the run in flight */
	struct control_req **waiting;
	size_t nwaiting;
	/* death watches of the check's definition (watch_pidfile, watch_unit, watch_listen) */
	struct watch **watches;
	size_t nwatches;
};

/* A check running this long past its timeout, or overdue this long, means the loop is not
 * doing its job: stop feeding systemd's watchdog so it restarts the agent. */
#define AGENT_STUCK_GRACE 10.0

/* Schedule lag (actual minus planned start of a run) in 0.1 ms buckets; the last catches all. */
#define LAG_BUCKETS 1001

/* A `drain --wait` request: answered once its announcements are withdrawn, as BIRD confirms. */
struct drain_wait {
	struct control_req *req;
	json_t *resp;  /* the drain's answer, sent when done */
	json_t *names; /* the announcements */
	double started, deadline;
};

struct agent {
	uv_loop_t *loop;
	struct agent_conf *conf;
	struct agent_opts opts;
	struct core *core; /* engine, sync layer and operator state */
	struct check_env *env;
	struct watch_env *watch_env;
	struct schedq *sched;       /* when each check runs next */
	uv_timer_t event_timer;     /* core_next_event(): hold-down, drain_time, expiry, ... */
	uv_timer_t reconcile_timer; /* core_reconcile() every bird.reconcile_interval */
	uv_timer_t flush_timer;     /* how long a sync_flush() may wait */
	uv_timer_t metrics_timer;
	uv_timer_t state_retry; /* rewrites a state file that could not be written */
	bool metrics_failing;   /* log a failing metrics file once, not every interval */
	uv_signal_t sig_term, sig_int, sig_hup, sig_usr2;
	double keep_once_until;   /* mono time: a stop before it leaves BIRD as it is */
	uv_timer_t notify_timer;  /* WATCHDOG=1 and STATUS= refresh; only under systemd */
	double watchdog_interval; /* seconds between WATCHDOG=1; 0: systemd wants none */
	bool ready_sent, unhealthy_logged;
	char status_sent[512];
	unsigned short rand_state[3];
	int stopping;
	int exit_code;
	struct control *ctl;
	struct drain_wait *dwaits; /* `drain --wait` requests not answered yet */
	size_t ndwaits;
	uv_timer_t dwait_timer;
	struct priv_plan priv;      /* who the agent and its plugins run as */
	struct exec_helper *helper; /* runs the plugins as exec_user; NULL: the agent does */
	bool exec_warned;           /* "plugins run as the agent" said once */
	double started_wall;
	size_t last_kept; /* checks the last reload kept */
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
static void arm_events(struct agent *a);

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

static json_t *agent_snapshot(const struct agent *a, bool with_checks);
static json_t *check_status(const struct check *c, double now_mono, double now_wall);

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
		json_t *chk = check_status(&a->core->engine->checks[i], now_mono, now_wall);

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
		double late = c->running ? now - c->started - c->conf->timeout : now - c->next_due;

		if (late > AGENT_STUCK_GRACE) {
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
	arm_events(a);
}

static void event_timer_cb(uv_timer_t *t)
{
	struct agent *a = t->data;

	core_tick(a->core);
	arm_events(a);
}

static void arm_events(struct agent *a)
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

/* Queue the check for its next due time. */
static void schedule(struct agent_check *ac)
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

/* Answer every `check` request waiting on ac: the check after its run, or an error. */
static void answer_waiting(struct agent_check *ac, const char *error)
{
	struct control_req **w = ac->waiting;
	size_t n = ac->nwaiting;

	ac->waiting = NULL;
	ac->nwaiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (error)
			control_reply_error(w[i], CONTROL_E_INTERNAL, "%s", error);
		else
			control_reply(w[i],
			              json_pack("{s:b, s:o}", "ok", 1, "check",
			                        check_status(ac->check, mono_now(), wall_now())));
	}
	free(w);
}

static void check_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct agent_check *ac = arg;
	struct agent *a = ac->agent;
	struct check_change ch = core_result(a->core, ac->check, rep, agent_rand(a));

	if (!a->stopping)
		schedule(ac);
	arm_events(a);
	if (ch.applied)
		answer_waiting(ac, NULL);
}

/* ---- death watches ---------------------------------------------------------- */

/* A death watch saw the service die: the check is DOWN at once (the engine's rule), its run
 * in flight is cancelled (it would only tell what the watch knows) and a probe starts now. */
static void check_died(struct agent_check *ac, const char *detail)
{
	struct agent *a = ac->agent;

	check_run_cancel(ac->run);
	core_death(a->core, ac->check, detail);
	schedule(ac);
	arm_events(a);
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
				schedule(ac);
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

/* The check as status shows it: status_check() and its death watches. */
static json_t *check_status(const struct check *c, double now_mono, double now_wall)
{
	json_t *o = status_check(c, now_mono, now_wall), *list = json_array();
	const struct agent_check *ac = c->user;

	for (size_t i = 0; ac != NULL && i < ac->nwatches; i++) {
		struct watch_info wi;

		watch_info(ac->watches[i], &wi);
		json_array_append_new(
		    list,
		    json_pack("{s:s, s:s, s:s, s:s, s:f, s:I}", "key", wi.key, "target", wi.target,
		              "state", watch_state_name(wi.state), "detail", wi.detail, "since",
		              now_wall - (now_mono - wi.since), "deaths", (json_int_t)wi.deaths));
	}
	json_object_set_new(o, "watches", list);
	return o;
}

/* Attach runtime glue to every check of the engine that has none. */
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
		schedule(ac);
		watches_attach(ac);
	}
	return 0;
}

static void drop_check(struct check *old, void *arg)
{
	struct agent_check *ac = old->user;

	if (ac == NULL)
		return;
	answer_waiting(ac, ac->agent->stopping ? "the agent is stopping"
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
	         lag_quantile(a, 0.5) * 1e3, lag_quantile(a, 0.99) * 1e3, a->lag_max * 1e3);
	agent_stop(a);
}

/* ---- control verbs ---------------------------------------------------------- */

static json_t *agent_snapshot(const struct agent *a, bool with_checks)
{
	struct status_agent ag = {
	    .version = PACKAGE_VERSION,
	    .pid = (long)getpid(),
	    .started = a->started_wall,
	    .config = a->opts.conf_path,
	    .dry_run = a->opts.dry_run,
	    .metrics_interval = a->conf->metrics_file ? a->conf->metrics_interval : 0,
	    .lag_runs = a->lag_runs,
	    .lag_p50 = lag_quantile(a, 0.5),
	    .lag_p99 = lag_quantile(a, 0.99),
	    .lag_max = a->lag_max,
	    .without_checks = true,
	};
	double now_mono = mono_now(), now_wall = wall_now();
	json_t *snap = status_snapshot(&ag, a->core->engine, a->core->sync, a->core->state,
	                               now_mono, now_wall);

	if (with_checks) {
		json_t *checks = json_array();

		for (size_t i = 0; i < a->core->engine->nchecks; i++)
			json_array_append_new(
			    checks, check_status(&a->core->engine->checks[i], now_mono, now_wall));
		json_object_set_new(snap, "checks", checks);
	}
	return snap;
}

json_t *agent_status(const struct agent *a)
{
	return agent_snapshot(a, true);
}

/* {"ok":true,"status":SNAPSHOT}, written one check at a time: the checks of a big
 * configuration as one json_t would take 4 KB each at once (4 MB for 1000). */
static void verb_status(struct control_req *r, void *arg)
{
	const struct agent *a = arg;
	double now_mono = mono_now(), now_wall = wall_now();
	json_t *snap = agent_snapshot(a, false);
	char *base, *text = NULL;
	size_t len = 0, n;
	FILE *f;

	base = json_dumps(snap, CONTROL_JSON_FLAGS);
	json_decref(snap);
	n = base != NULL ? strlen(base) : 0;
	/* an object with members: "{...}" */
	f = n > 2 && base[n - 1] == '}' ? open_memstream(&text, &len) : NULL;
	if (f == NULL) {
		free(base);
		control_reply_error(r, CONTROL_E_INTERNAL,
		                    "cannot encode the status (out of memory)");
		return;
	}
	/* the snapshot object without its closing brace, then its "checks" */
	fprintf(f, "{\"ok\":true,\"status\":%.*s,\"checks\":[", (int)(n - 1), base);
	free(base);
	for (size_t i = 0; i < a->core->engine->nchecks; i++) {
		json_t *chk = check_status(&a->core->engine->checks[i], now_mono, now_wall);

		if (i > 0)
			fputc(',', f);
		json_dumpf(chk, f, CONTROL_JSON_FLAGS);
		json_decref(chk);
	}
	fputs("]}}", f);
	if (ferror(f)) {
		fclose(f);
		free(text);
		control_reply_error(r, CONTROL_E_INTERNAL,
		                    "cannot encode the status (out of memory)");
		return;
	}
	fclose(f);
	control_reply_encoded(r, text);
}

/*
 * The announcements a drain/undrain names: absent or empty = all (or, with only_drained,
 * all drained ones). A name the engine does not know is accepted only with known_extra
 * (undrain of a drain kept in the state file). Returns NULL after answering on an error.
 */
static json_t *pick_announcements(struct agent *a, struct control_req *r, bool undrain)
{
	json_t *req = control_req_info(r)->request, *names = json_object_get(req, "announcements");
	json_t *out = json_array(), *v;
	size_t i;

	if (names == NULL || json_is_null(names) ||
	    (json_is_array(names) && !json_array_size(names))) {
		for (i = 0; i < a->core->engine->nannouncements; i++) {
			const struct announcement *ann = &a->core->engine->announcements[i];
			if (!undrain || ann->drain.active)
				json_array_append_new(out, json_string(ann->conf->name));
		}
		if (undrain)
			for (i = 0; i < a->core->state->ndrains; i++)
				if (!engine_find_announcement(a->core->engine,
				                              a->core->state->drains[i].name))
					json_array_append_new(
					    out, json_string(a->core->state->drains[i].name));
		return out;
	}
	if (!json_is_array(names)) {
		json_decref(out);
		control_reply_error(r, CONTROL_E_BAD_REQUEST,
		                    "\"announcements\" must be an array of names");
		return NULL;
	}
	json_array_foreach(names, i, v)
	{
		const char *n = json_string_value(v);

		if (n == NULL) {
			json_decref(out);
			control_reply_error(r, CONTROL_E_BAD_REQUEST,
			                    "\"announcements\" must be an array of names");
			return NULL;
		}
		if (!engine_find_announcement(a->core->engine, n) &&
		    !(undrain && state_find(a->core->state, n))) {
			json_decref(out);
			control_reply_error(
			    r, CONTROL_E_UNKNOWN_ANNOUNCEMENT,
			    "no announcement \"%.64s\" in %s; see anycastctl status", n,
			    a->opts.conf_path);
			return NULL;
		}
		json_array_append_new(out, json_string(n));
	}
	return out;
}

/* Attach the state file's health to a response when the last write failed. */
static void report_save(struct agent *a, json_t *resp, int save_rc)
{
	if (save_rc < 0)
		json_object_set_new(resp, "warning",
		                    json_sprintf("%s; the drain is in effect but will not survive "
		                                 "a restart",
		                                 a->core->state->save_error));
}

enum drain_progress { DRAIN_PENDING, DRAIN_WITHDRAWN, DRAIN_GONE };

/* Is announcement name DRAINED with every protocol of it disabled, as BIRD last said? why
 * gets what is missing. */
static enum drain_progress drain_progress(const struct agent *a, const char *name, char *why,
                                          size_t len)
{
	struct announcement *ann = engine_find_announcement(a->core->engine, name);

	if (ann == NULL) {
		snprintf(why, len, "announcement \"%s\" was removed by a reload", name);
		return DRAIN_GONE;
	}
	if (!ann->drain.active) {
		snprintf(why, len, "announcement \"%s\" was undrained", name);
		return DRAIN_GONE;
	}
	if (ann->state != ANN_DRAINED) {
		snprintf(why, len, "announcement \"%s\" is %s", name,
		         announce_state_name(ann->state));
		return DRAIN_PENDING;
	}
	for (int role = 0; role < PROTO__ROLES; role++) {
		const struct proto_list *l = conf_role_protocols(ann->conf, role);

		for (size_t i = 0; i < l->n; i++) {
			for (size_t j = 0; j < sync_nprotos(a->core->sync); j++) {
				struct sync_proto_status ps;

				sync_proto_status(a->core->sync, j, &ps);
				if (strcmp(ps.name, l->v[i].name) != 0)
					continue;
				if (ps.want != SYNC_DISABLED ||
				    (ps.actual != SYNC_ACTUAL_DISABLED &&
				     ps.actual != SYNC_ACTUAL_MISSING)) {
					snprintf(why, len,
					         "BIRD has not confirmed protocol %s of \"%s\" "
					         "disabled (it is %s)",
					         ps.name, name, sync_actual_name(ps.actual));
					return DRAIN_PENDING;
				}
			}
		}
	}
	return DRAIN_WITHDRAWN;
}

static void drain_wait_done(struct agent *a, size_t i)
{
	json_decref(a->dwaits[i].names);
	a->dwaits[i] = a->dwaits[--a->ndwaits];
	if (a->ndwaits == 0)
		uv_timer_stop(&a->dwait_timer);
}

/* Answer every waiting drain whose announcements are withdrawn, gone or out of time; with
 * stopping, every one. */
static void drain_waits_check(struct agent *a, const char *stopping)
{
	double now = mono_now();

	for (size_t i = 0; i < a->ndwaits;) {
		struct drain_wait *w = &a->dwaits[i];
		enum drain_progress p = DRAIN_WITHDRAWN;
		char why[256] = "";
		json_t *v;
		size_t k;

		json_array_foreach(w->names, k, v)
		{
			p = drain_progress(a, json_string_value(v), why, sizeof(why));
			if (p != DRAIN_WITHDRAWN)
				break;
		}
		if (p == DRAIN_WITHDRAWN && !stopping) {
			json_object_set_new(w->resp, "withdrawn", json_true());
			json_object_set_new(w->resp, "waited", json_real(now - w->started));
			control_reply(w->req, w->resp);
		} else if (stopping || p == DRAIN_GONE || now >= w->deadline) {
			json_decref(w->resp);
			control_reply_error_json(
			    w->req, CONTROL_E_WAIT_TIMEOUT,
			    json_pack("{s:O, s:b}", "announcements", w->names, "withdrawn", 0),
			    "not confirmed withdrawn after %.1f s: %s%s", now - w->started,
			    stopping ? stopping : why,
			    p == DRAIN_GONE ? "" : "; the drain is in effect");
		} else {
			i++;
			continue;
		}
		drain_wait_done(a, i);
	}
}

static void dwait_timer_cb(uv_timer_t *t)
{
	drain_waits_check(t->data, NULL);
}

static void verb_drain(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	const struct control_req_info *ri = control_req_info(r);
	json_t *reason = json_object_get(ri->request, "reason");
	json_t *jfor = json_object_get(ri->request, "for"), *names, *resp, *v;
	json_t *jwait = json_object_get(ri->request, "wait");
	double now = mono_now(), until = INFINITY, wait = 0;
	int save_rc = 0;
	size_t i;

	if (!json_is_string(reason) || json_string_length(reason) == 0 ||
	    json_string_length(reason) > CONTROL_REASON_MAX) {
		control_reply_error(r, CONTROL_E_BAD_REQUEST,
		                    "a drain needs \"reason\": a string of 1 to %d bytes",
		                    CONTROL_REASON_MAX);
		return;
	}
	if (jfor != NULL && !json_is_null(jfor)) {
		double f = json_number_value(jfor);
		if (!json_is_number(jfor) || !(f > 0) || f > DRAIN_FOR_MAX) {
			control_reply_error(
			    r, CONTROL_E_BAD_REQUEST,
			    "\"for\" is a number of seconds, above 0 and at most %.0f",
			    DRAIN_FOR_MAX);
			return;
		}
		until = wall_now() + f;
	}
	if (jwait != NULL && !json_is_null(jwait)) {
		wait = json_number_value(jwait);
		if (!json_is_number(jwait) || !(wait > 0) || wait > DRAIN_WAIT_MAX) {
			control_reply_error(
			    r, CONTROL_E_BAD_REQUEST,
			    "\"wait\" is a number of seconds, above 0 and at most %.0f",
			    DRAIN_WAIT_MAX);
			return;
		}
	}
	names = pick_announcements(a, r, false);
	if (names == NULL)
		return;
	json_array_foreach(names, i, v)
	{
		struct announcement *ann =
		    engine_find_announcement(a->core->engine, json_string_value(v));

		if (core_drain(a->core, ann, json_string_value(reason), ri->user, (long)ri->uid,
		               until) < 0)
			save_rc = -1;
	}
	arm_events(a);
	resp = json_pack("{s:b, s:O}", "ok", 1, "announcements", names);
	report_save(a, resp, save_rc);
	if (wait > 0) {
		/* answered once BIRD confirms the withdraw (drain_waits_check) */
		a->dwaits = xrealloc(a->dwaits, (a->ndwaits + 1) * sizeof(*a->dwaits));
		a->dwaits[a->ndwaits++] = (struct drain_wait){
		    .req = r, .resp = resp, .names = names, .started = now, .deadline = now + wait};
		if (!uv_is_active((uv_handle_t *)&a->dwait_timer))
			uv_timer_start(&a->dwait_timer, dwait_timer_cb, DRAIN_WAIT_POLL_MS,
			               DRAIN_WAIT_POLL_MS);
		return;
	}
	json_decref(names);
	control_reply(r, resp);
}

static void verb_undrain(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	const struct control_req_info *ri = control_req_info(r);
	json_t *names = pick_announcements(a, r, true), *done, *resp, *v;
	int save_rc = 0, rc;
	size_t i;

	if (names == NULL)
		return;
	done = json_array();
	json_array_foreach(names, i, v)
	{
		const char *n = json_string_value(v);

		if (core_undrain(a->core, n, ri->user, (long)ri->uid, &rc) > 0)
			json_array_append_new(done, json_string(n));
		if (rc < 0)
			save_rc = -1;
	}
	json_decref(names);
	arm_events(a);
	resp = json_pack("{s:b, s:o}", "ok", 1, "announcements", done);
	report_save(a, resp, save_rc);
	control_reply(r, resp);
}

static void verb_check(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	json_t *name = json_object_get(control_req_info(r)->request, "name");
	struct check *c;
	struct agent_check *ac;

	if (!json_is_string(name)) {
		control_reply_error(r, CONTROL_E_BAD_REQUEST, "a check request needs \"name\"");
		return;
	}
	c = engine_find_check(a->core->engine, json_string_value(name));
	if (c == NULL || c->user == NULL) {
		control_reply_error(r, CONTROL_E_UNKNOWN_CHECK,
		                    "no check \"%.64s\" in %s; see anycastctl status",
		                    json_string_value(name), a->opts.conf_path);
		return;
	}
	ac = c->user;
	ac->waiting = xrealloc(ac->waiting, (ac->nwaiting + 1) * sizeof(*ac->waiting));
	ac->waiting[ac->nwaiting++] = r;
	/* a run in flight answers too: its result is as fresh as a new one */
	if (engine_check_trigger(c, mono_now()) == 0)
		schedule(ac);
}

static void verb_reload(struct control_req *r, void *arg)
{
	struct agent *a = arg;
	char *errors = NULL;
	json_t *list;

	if (agent_reload(a, &errors) < 0) {
		list = json_array();
		for (char *save = NULL, *line = strtok_r(errors, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			json_array_append_new(list, json_string(line));
		free(errors);
		control_reply_error_json(r, CONTROL_E_RELOAD_FAILED,
		                         json_pack("{s:o}", "errors", list),
		                         "the new configuration has errors; still running the "
		                         "previous one");
		return;
	}
	control_reply(r,
	              json_pack("{s:b, s:I, s:I}", "ok", 1, "kept_checks", (json_int_t)a->last_kept,
	                        "checks", (json_int_t)a->conf->nchecks));
}

static const struct control_verb agent_verbs[] = {
    {"status", false, verb_status}, {"drain", true, verb_drain},   {"undrain", true, verb_undrain},
    {"check", true, verb_check},    {"reload", true, verb_reload},
};

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

	a->ctl = control_new(a->loop, &co, agent_verbs, ARRAY_SIZE(agent_verbs), a);
	if (control_start(a->ctl, &err) < 0) {
		log_warnx("%s", err);
		free(err);
		control_free(a->ctl);
		a->ctl = NULL;
		return -1;
	}
	return 0;
}

/* ---- privileges ----------------------------------------------------------- */

/* The directory holding path, malloc'd. */
static char *parent_dir(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

/* The directories the agent writes in after start-up: BIRD state files, the drains and
 * the metrics file (NULL where unset); with_control adds the control socket's. */
static size_t write_dirs(const struct agent_conf *conf, bool with_control, char *dirs[4])
{
	size_t n = 0;

	if (with_control)
		dirs[n++] = parent_dir(conf->control.socket);
	dirs[n++] = xstrdup(conf->bird.state_dir);
	dirs[n++] = parent_dir(conf->state_file);
	if (conf->metrics_file != NULL)
		dirs[n++] = parent_dir(conf->metrics_file);
	return n;
}

static void free_dirs(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
}

/* Decide who the agent runs as; with a drop ahead, make its directories its own. */
static int prepare_privileges(struct agent *a)
{
	char *err = NULL, *dirs[4];
	size_t n;
	int rc;

	if (priv_plan(a->conf->user, a->conf->exec_user, geteuid(), &a->priv, &err) < 0) {
		log_warnx("%s: %s", a->opts.conf_path, err);
		free(err);
		return -1;
	}
	if (a->priv.as_root)
		log_warnx("running as root: set user = \"anycast-agent\" (an unprivileged user in "
		          "group bird) in %s so the agent drops root once the exec helper runs; "
		          "exec checks run as root too unless exec_user is set",
		          a->opts.conf_path);
	if (!a->priv.drop)
		return 0;
	/* a dry run writes no state: it may share the real agent's directories */
	n = write_dirs(a->conf, true, dirs);
	rc = priv_make_dirs(&a->priv, (const char *const *)dirs, a->opts.dry_run ? 1 : n, &err);
	free_dirs(dirs, n);
	if (rc < 0) {
		log_warnx("%s", err);
		free(err);
	}
	return rc;
}

static bool has_exec_checks(const struct agent_conf *conf)
{
	for (size_t i = 0; i < conf->nchecks; i++)
		if (conf->checks[i].type == CHECK_EXEC)
			return true;
	return false;
}

/* An agent that is not root at start cannot separate its plugins: say so once. */
static void warn_plugins_as_agent(struct agent *a)
{
	if (!a->priv.exec.as_agent || a->exec_warned || !has_exec_checks(a->conf))
		return;
	a->exec_warned = true;
	log_warnx("not started as root: exec checks (plugins) run as the agent itself (%s) with "
	          "all its rights, BIRD's socket and bird.state_dir included; start it as root "
	          "with user set (the shipped unit does) so they run as exec_user",
	          a->priv.name);
}

/* While still root: the helper that runs the plugins as exec_user from now on. */
static int start_exec_helper(struct agent *a)
{
	char *err = NULL;

	if (!a->priv.exec.helper)
		return 0;
	/* a fresh image of this very binary: none of this process's memory or loop */
	a->helper = exec_helper_spawn(a->loop, "/proc/self/exe", a->priv.exec.name, true,
	                              a->priv.exec.uid, a->priv.exec.gid, &err);
	if (a->helper == NULL) {
		log_warnx("%s", err);
		free(err);
		return -1;
	}
	a->env->exec_helper = a->helper;
	return 0;
}

/* Ask the helper who it is and what it can write; refuse to go on unless a plugin holds
 * none of the agent's authority. */
static int verify_exec_helper(struct agent *a)
{
	char *err = NULL;

	if (a->helper == NULL)
		return 0;
	if (priv_verify_plugins(a->conf, &a->priv, a->helper, &err) < 0) {
		for (char *save = NULL, *line = strtok_r(err, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			log_warnx("%s: %s", a->opts.conf_path, line);
		log_warnx("refusing to start: plugins would hold the agent's authority");
		free(err);
		return -1;
	}
	log_notice("exec checks run as %s%s (uid %u, gid %u) in the exec helper, pid %d",
	           a->priv.exec.name, a->priv.exec.is_default ? " (exec_user's default)" : "",
	           (unsigned)a->priv.exec.uid, (unsigned)a->priv.exec.gid,
	           exec_helper_pid(a->helper));
	return 0;
}

/* Become the user for good (the helper is already running as exec_user). */
static int drop_privileges(struct agent *a)
{
	char *err = NULL;

	if (priv_drop(&a->priv, &err) < 0) {
		log_warnx("%s", err);
		free(err);
		return -1;
	}
	if (a->priv.drop)
		log_notice("dropped root: running as user %s (uid %u, gid %u) with its groups",
		           a->priv.name, (unsigned)a->priv.uid, (unsigned)a->priv.gid);
	return 0;
}

static void warn_unwritable(struct agent *a)
{
	char *dirs[4];
	size_t n;

	priv_warn_bird_access(a->conf, a->priv.name);
	if (a->opts.dry_run)
		return;
	n = write_dirs(a->conf, false, dirs);
	priv_warn_unwritable((const char *const *)dirs, n, a->priv.name);
	free_dirs(dirs, n);
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
	if (prepare_privileges(a) < 0)
		return -1;
	/* root is needed only to start the exec helper as exec_user and to drop: both happen
	 * before a socket is opened, BIRD is connected, a file is written or a plugin is run */
	if (start_exec_helper(a) < 0 || drop_privileges(a) < 0)
		return -1;
	/* then: a second agent must not touch what the running one decided */
	if (start_control(a) < 0 || verify_exec_helper(a) < 0)
		return -1;
	warn_plugins_as_agent(a);
	/* decision files, what this boot announced, drains and penalties, then BIRD */
	core_start(a->core);
	warn_unwritable(a);
	if (attach_checks(a) < 0)
		return -1;
	arm_events(a);
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
	warn_plugins_as_agent(a);
	attach_checks(a);
	arm_events(a);
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
	drain_waits_check(a, "the agent is stopping");
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
