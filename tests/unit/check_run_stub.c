/*
 * check_run_stub.c - a test-only stand-in for agent/check_run.c, following
 * check.h: one run at a time, a timeout guard that cancels the type and
 * reports TIMEOUT, check_run_finish() delivering exactly one report.
 *
 * It is compiled into the http tests only (never into libagent), so they run
 * before the real driver lands; at merge the tests link the real one.
 */
#include <config.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"

static const struct check_ops *ops_for(enum check_type t)
{
	return t == CHECK_HTTP ? &check_http_ops : NULL;
}

struct check_env *check_env_new(uv_loop_t *loop)
{
	struct check_env *env = xcalloc(1, sizeof(*env));

	env->loop = loop;
	return env;
}

void check_env_free(struct check_env *env)
{
	if (env == NULL)
		return;
	check_http_ops.env_free(env);
	free(env);
}

struct check_run *check_run_new(struct check_env *env, const struct check_conf *conf,
                                check_done_cb done, void *arg)
{
	struct check_run *run = xcalloc(1, sizeof(*run));

	run->ops = ops_for(conf->type);
	run->conf = conf;
	run->env = env;
	run->loop = env->loop;
	run->done = done;
	run->arg = arg;
	uv_timer_init(env->loop, &run->timer);
	run->timer.data = run;
	if (run->ops != NULL && run->ops->init != NULL)
		run->ops->init(run);
	return run;
}

static void guard_cb(uv_timer_t *t)
{
	struct check_run *run = t->data;

	if (!run->running)
		return;
	run->ops->cancel(run);
	check_run_finish(run, RES_TIMEOUT, "no result within %.3f s", run->conf->timeout);
}

int check_run_start(struct check_run *run)
{
	if (run->running || run->closing)
		return -1;
	memset(&run->rep, 0, sizeof(run->rep));
	run->rep.started = mono_now();
	run->rep.t_connect = run->rep.t_tls = run->rep.t_first_byte = -1;
	run->rep.cert_days_left = INT_MIN;
	run->running = 1;
	uv_timer_start(&run->timer, guard_cb, (uint64_t)(run->conf->timeout * 1000.0), 0);
	if (run->ops->start(run) < 0) {
		char detail[CHECK_DETAIL_MAX];

		snprintf(detail, sizeof(detail), "%s", run->rep.detail);
		check_run_finish(run, run->rep.code, "%s", detail);
	}
	return 0;
}

void check_run_cancel(struct check_run *run)
{
	if (!run->running)
		return;
	run->running = 0;
	uv_timer_stop(&run->timer);
	run->ops->cancel(run);
}

static void run_close_cb(uv_handle_t *h)
{
	free(h->data);
}

void check_run_free(struct check_run *run)
{
	if (run == NULL)
		return;
	check_run_cancel(run);
	if (run->ops->free != NULL)
		run->ops->free(run);
	run->closing = 1;
	uv_close((uv_handle_t *)&run->timer, run_close_cb);
}

void check_run_finish(struct check_run *run, enum check_result_code code, const char *fmt, ...)
{
	va_list ap;

	if (!run->running)
		return;
	run->running = 0;
	uv_timer_stop(&run->timer);
	run->rep.code = code;
	va_start(ap, fmt);
	vsnprintf(run->rep.detail, sizeof(run->rep.detail), fmt, ap);
	va_end(ap);
	run->rep.duration = mono_now() - run->rep.started;
	run->done(run, &run->rep, run->arg);
}
