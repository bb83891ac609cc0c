/* SPDX-License-Identifier: ISC */
/*
 * check_exec.c - the "exec" check type: runs a Nagios plugin (argv as
 * configured, no shell; exec_job.h says how), maps its exit code to a result
 * and its first output line to the detail.
 *
 * Who runs it: the exec helper when the check env has one (the agent was
 * started as root: the plugin runs as exec_user, see exec_helper.h), else the
 * agent itself (exec_job.c on the agent's loop). Both report the same
 * results, details and timings; a helper that is gone fails the check
 * (EXEC_FAILED, its reason in the detail). Nothing here blocks the loop.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_util.h"
#include "exec_helper.h"
#include "exec_job.h"
#include "util.h"

/* One exec check (run->priv): the run in flight, by the agent or by the helper. */
struct exec_check {
	struct check_run *run;
	struct exec_job *job; /* run by the agent */
	uint32_t remote;      /* run by the helper: its id, 0 when none */
};

/* The first line, without perfdata, trimmed, at most n-1 bytes. */
static void first_line(const char *buf, size_t len, char *line, size_t n)
{
	size_t i = 0, end;

	while (i < len && buf[i] != '\n' && buf[i] != '|')
		i++;
	end = i;
	i = 0;
	while (i < end && isspace((unsigned char)buf[i]))
		i++;
	while (end > i && isspace((unsigned char)buf[end - 1]))
		end--;
	if (end - i >= n)
		end = i + n - 1;
	memcpy(line, buf + i, end - i);
	line[end - i] = '\0';
	for (size_t k = 0; k < end - i; k++)
		if (line[k] == '\0') /* the rest is sanitised by check_run */
			line[k] = '?';
}

enum check_result_code check_exec_judge(int64_t status, int term_signal, const char *out,
                                        size_t len, char *detail, size_t detail_len)
{
	char line[CHECK_DETAIL_MAX];
	enum check_result_code code;

	first_line(out, len, line, sizeof(line));
	if (term_signal != 0) {
		snprintf(detail, detail_len, "killed by signal %d (%s)%s%s", term_signal,
		         strsignal(term_signal), line[0] ? ": " : "", line);
		return RES_EXEC_SIGNALED;
	}
	switch (status) {
	case 0:
		code = RES_OK;
		break;
	case 1:
		code = RES_WARNING;
		break;
	case 2:
		code = RES_EXEC_CRITICAL;
		break;
	default:
		code = RES_EXEC_UNKNOWN;
		break;
	}
	if (line[0] == '\0')
		snprintf(detail, detail_len, "exit %d, no output", (int)status);
	else if (status >= 0 && status <= 3)
		snprintf(detail, detail_len, "%s", line);
	else
		snprintf(detail, detail_len, "exit %d: %s", (int)status, line);
	return code;
}

static void finish(struct check_run *run, int64_t status, int term_signal, const char *out,
                   size_t len)
{
	char detail[CHECK_DETAIL_MAX];
	enum check_result_code code;

	code = check_exec_judge(status, term_signal, out, len, detail, sizeof(detail));
	check_run_finish(run, code, "%s", detail);
}

static void local_done(const struct exec_job_result *res, void *arg)
{
	struct exec_check *ec = arg;

	ec->job = NULL;
	finish(ec->run, res->status, res->term_signal, res->out, res->len);
}

static void remote_done(const struct exec_helper_result *res, void *arg)
{
	struct exec_check *ec = arg;
	struct check_run *run = ec->run;
	int n = res->len > CHECK_DETAIL_MAX ? CHECK_DETAIL_MAX : (int)res->len;

	ec->remote = 0;
	if (res->gone)
		check_run_finish(run, RES_EXEC_FAILED, "exec helper gone: %.*s", n, res->data);
	else if (res->outcome == EXEC_OUT_SPAWN_FAILED)
		check_run_finish(run, RES_EXEC_FAILED, "cannot run %s: %.*s",
		                 run->conf->u.exec.argv.v[0], n, res->data);
	else if (res->outcome == EXEC_OUT_TIMEOUT)
		/* the helper's clock ran out first: as check_run says it */
		check_run_finish(run, RES_TIMEOUT, "no result within %.3f s", run->conf->timeout);
	else
		finish(run, res->status, res->signal, res->data, res->len);
}

static int exec_init(struct check_run *run)
{
	struct exec_check *ec = xcalloc(1, sizeof(*ec));

	ec->run = run;
	run->priv = ec;
	return 0;
}

static void exec_free(struct check_run *run)
{
	free(run->priv);
	run->priv = NULL;
}

static int exec_start(struct check_run *run)
{
	const struct exec_conf *c = &run->conf->u.exec;
	struct exec_check *ec = run->priv;
	struct exec_helper *h = run->env->exec_helper;
	char **argv;
	int err;

	if (c->argv.n == 0 || c->argv.v[0] == NULL) {
		run->rep.code = RES_EXEC_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "no command configured");
		return -1;
	}
	/* strlist has no terminator: pass a NULL-terminated copy of the pointers */
	argv = xcalloc(c->argv.n + 1, sizeof(char *));
	memcpy(argv, c->argv.v, c->argv.n * sizeof(char *));
	if (h != NULL) {
		/* +1: the check's own guard (check_run.c) fires first and cancels */
		uint32_t ms = (uint32_t)(run->conf->timeout * 1000.0) + 1;

		ec->remote =
		    exec_helper_run(h, argv, c->argv.n, ms, c->output_max, remote_done, ec);
		free(argv);
		if (ec->remote == 0) {
			run->rep.code = RES_EXEC_FAILED;
			if (exec_helper_gone(h) != NULL)
				snprintf(run->rep.detail, sizeof(run->rep.detail),
				         "exec helper gone: %s", exec_helper_gone(h));
			else
				snprintf(run->rep.detail, sizeof(run->rep.detail),
				         "command too long for the exec helper");
			return -1;
		}
		return 0;
	}
	ec->job = exec_job_start(run->loop, argv, c->output_max, 0, local_done, ec, &err);
	free(argv);
	if (ec->job == NULL) {
		run->rep.code = RES_EXEC_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "cannot run %s: %s",
		         c->argv.v[0], uv_strerror(err));
		return -1;
	}
	return 0;
}

static void exec_cancel(struct check_run *run)
{
	struct exec_check *ec = run->priv;

	if (ec == NULL)
		return;
	if (ec->job != NULL)
		exec_job_cancel(ec->job);
	ec->job = NULL;
	if (ec->remote != 0 && run->env->exec_helper != NULL)
		exec_helper_cancel(run->env->exec_helper, ec->remote);
	ec->remote = 0;
}

const struct check_ops check_exec_ops = {
    .type = "exec",
    .init = exec_init,
    .start = exec_start,
    .cancel = exec_cancel,
    .free = exec_free,
};
