/*
 * check_run_stub.c - a minimal test-only driver of check.h for the dns
 * check's tests (the real one is agent/check_run.c). It keeps check.h's
 * contract: start arms a timeout guard that cancels the type and reports
 * TIMEOUT; the type calls check_run_finish() exactly once otherwise; free
 * waits for the loop to release the guard timer. It also counts finishes
 * so a test can assert "exactly once".
 */
#include <config.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"

int check_run_stub_finishes; /* check_run_finish calls seen, for tests */

static const struct check_ops *ops_for(const struct check_conf *conf)
{
	return conf->type == CHECK_DNS ? &check_dns_ops : NULL;
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
	if (check_dns_ops.env_free != NULL)
		check_dns_ops.env_free(env);
	free(env);
}

struct check_run *check_run_new(struct check_env *env, const struct check_conf *conf,
                                check_done_cb done, void *arg)
{
	struct check_run *run = xcalloc(1, sizeof(*run));

	run->ops = ops_for(conf);
	run->conf = conf;
	run->env = env;
	run->loop = env->loop;
	run->done = done;
	run->arg = arg;
	uv_timer_init(run->loop, &run->timer);
	run->timer.data = run;
	if (run->ops != NULL && run->ops->init != NULL)
		run->ops->init(run);
	return run;
}

static void deliver(struct check_run *run)
{
	run->running = 0;
	uv_timer_stop(&run->timer);
	run->rep.duration = mono_now() - run->rep.started;
	check_run_stub_finishes++;
	if (run->done != NULL)
		run->done(run, &run->rep, run->arg);
}

static void on_guard(uv_timer_t *t)
{
	struct check_run *run = t->data;

	if (!run->running)
		return;
	run->ops->cancel(run);
	run->rep.code = RES_TIMEOUT;
	snprintf(run->rep.detail, sizeof(run->rep.detail), "no result within %.3f s (guard)",
	         run->conf->timeout);
	deliver(run);
}

int check_run_start(struct check_run *run)
{
	if (run->running || run->ops == NULL)
		return -1;
	memset(&run->rep, 0, sizeof(run->rep));
	run->rep.t_connect = run->rep.t_tls = run->rep.t_first_byte = -1;
	run->rep.cert_days_left = INT_MIN;
	run->rep.started = mono_now();
	run->running = 1;
	uv_timer_start(&run->timer, on_guard, (uint64_t)(run->conf->timeout * 1000.0), 0);
	if (run->ops->start(run) < 0)
		deliver(run);
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

void check_run_finish(struct check_run *run, enum check_result_code code, const char *fmt, ...)
{
	va_list ap;

	if (!run->running)
		abort(); /* a type reported twice or after cancel: the test must fail loudly */
	run->rep.code = code;
	va_start(ap, fmt);
	vsnprintf(run->rep.detail, sizeof(run->rep.detail), fmt, ap);
	va_end(ap);
	deliver(run);
}

static void free_run(uv_handle_t *h)
{
	free(h->data);
}

void check_run_free(struct check_run *run)
{
	if (run == NULL)
		return;
	check_run_cancel(run);
	if (run->ops != NULL && run->ops->free != NULL)
		run->ops->free(run);
	uv_close((uv_handle_t *)&run->timer, free_run);
}
