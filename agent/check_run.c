/* SPDX-License-Identifier: ISC */
/*
 * check_run.c - drives one run of any check type on the libuv loop: picks
 * the type's ops, enforces the timeout with a libuv timer, delivers exactly
 * one report per run, and frees a run only after libuv has closed its timer.
 * Also owns the shared per-loop check environment (check_env) and its socket
 * watcher (iowatch.c).
 *
 * The states of run->running (check.h leaves the values to this file):
 *   RUN_IDLE     no run in progress; start is allowed
 *   RUN_STARTING inside ops->start; a result reported now is deferred
 *   RUN_ACTIVE   the type is working; the timeout guard is armed
 *   RUN_PENDING  the type is done, the result waits for the next loop turn
 */
#include <config.h>

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "log.h"
#include "util.h"

enum { RUN_IDLE = 0, RUN_STARTING, RUN_ACTIVE, RUN_PENDING };

extern const struct check_ops check_http_ops;
extern const struct check_ops check_dns_ops;

static const struct check_ops *type_ops(enum check_type type)
{
	switch (type) {
	case CHECK_HTTP:
		return &check_http_ops;
	case CHECK_DNS:
		return &check_dns_ops;
	case CHECK_TCP:
		return &check_tcp_ops;
	case CHECK_EXEC:
		return &check_exec_ops;
	case CHECK__TYPES:
		break;
	}
	return NULL;
}

static const char *type_label(enum check_type type)
{
	static const char *const names[CHECK__TYPES] = {"http", "dns", "tcp", "exec"};

	return names[type];
}

/*
 * A run whose type cannot work (not built in, or its init failed) keeps the
 * reason in priv and reports it as INTERNAL_ERROR on every start, so the
 * operator sees why instead of a check that silently never runs.
 */
static int broken_start(struct check_run *run)
{
	run->rep.code = RES_INTERNAL_ERROR;
	snprintf(run->rep.detail, sizeof(run->rep.detail), "%s", (const char *)run->priv);
	return -1;
}

static void broken_cancel(struct check_run *run)
{
}

static void broken_free(struct check_run *run)
{
	free(run->priv);
	run->priv = NULL;
}

static const struct check_ops broken_ops = {
    .type = "unavailable",
    .start = broken_start,
    .cancel = broken_cancel,
    .free = broken_free,
};

static void make_broken(struct check_run *run, const char *why)
{
	run->ops = &broken_ops;
	run->priv = xstrdup(why);
	log_warnx("check \"%s\": %s", run->conf->name ? run->conf->name : "?", why);
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
	for (int t = 0; t < CHECK__TYPES; t++) {
		const struct check_ops *ops = type_ops(t);

		if (ops != NULL && ops->env_free != NULL)
			ops->env_free(env);
	}
	iowatch_free(env->io);
	free(env);
}

struct iowatch *check_env_io(struct check_env *env, char *err, size_t errlen)
{
	if (env->io == NULL)
		env->io = iowatch_new(env->loop, err, errlen);
	return env->io;
}

void check_timer_arm(uv_timer_t *t, uv_timer_cb cb, uint64_t ms)
{
	if (uv_is_active((uv_handle_t *)t) && uv_timer_get_due_in(t) == ms)
		return;
	uv_timer_start(t, cb, ms, 0);
}

void check_socket_reset_on_close(int fd)
{
	static const struct linger rst = {.l_onoff = 1, .l_linger = 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

int check_socket(int domain, int type, int protocol)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, protocol);

	if (fd >= 0 && (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM)
		check_socket_reset_on_close(fd);
	return fd;
}

struct check_run *check_run_new(struct check_env *env, const struct check_conf *conf,
                                check_done_cb done, void *arg)
{
	struct check_run *run = xcalloc(1, sizeof(*run));
	const struct check_ops *ops = type_ops(conf->type);

	run->conf = conf;
	run->env = env;
	run->loop = env->loop;
	run->done = done;
	run->arg = arg;
	run->running = RUN_IDLE;
	uv_timer_init(run->loop, &run->timer);
	run->timer.data = run;

	if (ops == NULL) {
		char why[128];

		if ((unsigned)conf->type < CHECK__TYPES)
			snprintf(why, sizeof(why),
			         "check type \"%s\" is not built into this agent: "
			         "use a build with check_%s.c or remove the check",
			         type_label(conf->type), type_label(conf->type));
		else
			snprintf(why, sizeof(why), "unknown check type %d (internal error)",
			         (int)conf->type);
		make_broken(run, why);
		return run;
	}
	run->ops = ops;
	if (ops->init != NULL && ops->init(run) < 0) {
		char why[CHECK_DETAIL_MAX + 64];

		/* init leaves its reason in rep.detail */
		snprintf(why, sizeof(why), "cannot set up the %s check: %.*s", ops->type,
		         CHECK_DETAIL_MAX - 1,
		         run->rep.detail[0] ? run->rep.detail : "unknown error");
		run->priv = NULL;
		make_broken(run, why);
	}
	return run;
}

/* One printable line: control bytes and non-ASCII become '?'. */
static void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

/* Hand the report over; the run is idle before done runs, so done may
 * start the run again or free it. */
static void deliver(struct check_run *run)
{
	uv_timer_stop(&run->timer);
	run->rep.duration = mono_now() - run->rep.started;
	run->running = RUN_IDLE;
	sanitize(run->rep.detail);
	if (run->done != NULL)
		run->done(run, &run->rep, run->arg);
}

static void pending_cb(uv_timer_t *timer)
{
	deliver(timer->data);
}

static void timeout_cb(uv_timer_t *timer)
{
	struct check_run *run = timer->data;

	run->ops->cancel(run);
	run->rep.code = RES_TIMEOUT;
	snprintf(run->rep.detail, sizeof(run->rep.detail), "no result within %.3f s",
	         run->conf->timeout);
	deliver(run);
}

/* Defer delivery to the next loop turn: done never runs inside check_run_start. */
static void defer(struct check_run *run)
{
	run->running = RUN_PENDING;
	uv_timer_stop(&run->timer);
	uv_timer_start(&run->timer, pending_cb, 0, 0);
}

int check_run_start(struct check_run *run)
{
	double timeout = run->conf->timeout;
	uint64_t ms;

	if (run->running != RUN_IDLE || run->closing)
		return -1;
	memset(&run->rep, 0, sizeof(run->rep));
	run->rep.code = RES_INTERNAL_ERROR;
	run->rep.duration = -1;
	run->rep.t_connect = run->rep.t_tls = run->rep.t_first_byte = -1;
	run->rep.cert_days_left = INT_MIN;
	run->rep.started = mono_now();

	/* The loop's cached time may be stale; the guard counts from now. */
	uv_update_time(run->loop);
	/* +1: libuv's loop clock truncates to ms, and the guard must not fire early */
	ms = timeout > 0 ? (uint64_t)ceil(timeout * 1000.0) + 1 : 0;
	uv_timer_start(&run->timer, timeout_cb, ms, 0);

	run->running = RUN_STARTING;
	if (run->ops->start(run) < 0) {
		/* start filled rep and holds nothing */
		if (run->rep.detail[0] == '\0')
			snprintf(run->rep.detail, sizeof(run->rep.detail),
			         "%s check failed to start", run->ops->type);
		defer(run);
		return 0;
	}
	if (run->running == RUN_STARTING)
		run->running = RUN_ACTIVE;
	return 0;
}

void check_run_cancel(struct check_run *run)
{
	if (run == NULL || run->running == RUN_IDLE)
		return;
	if (run->running != RUN_PENDING)
		run->ops->cancel(run);
	uv_timer_stop(&run->timer);
	run->running = RUN_IDLE;
}

static void run_closed(uv_handle_t *handle)
{
	free(handle->data);
}

void check_run_free(struct check_run *run)
{
	if (run == NULL || run->closing)
		return;
	check_run_cancel(run);
	if (run->ops->free != NULL)
		run->ops->free(run);
	run->closing = 1;
	uv_close((uv_handle_t *)&run->timer, run_closed);
}

void check_run_finish(struct check_run *run, enum check_result_code code, const char *fmt, ...)
{
	va_list ap;

	/* after a timeout, cancel or an earlier finish the result is not wanted */
	if (run->running != RUN_STARTING && run->running != RUN_ACTIVE)
		return;
	run->rep.code = code;
	va_start(ap, fmt);
	vsnprintf(run->rep.detail, sizeof(run->rep.detail), fmt, ap);
	va_end(ap);
	if (run->running == RUN_STARTING)
		defer(run);
	else
		deliver(run);
}
