/*
 * check_exec.c - the "exec" check type: runs a Nagios plugin with uv_spawn
 * (argv as configured, no shell, a minimal environment, stdin /dev/null,
 * stderr discarded) in its own process group, maps its exit code to a
 * result and its first output line to the detail.
 *
 * A run ends when the plugin has exited and its stdout reached EOF, or
 * EXEC_GRACE_MS after the exit if something it left behind still holds
 * the pipe. The process group is SIGKILLed whenever a run ends, so a
 * plugin never outlives its check. Nothing here blocks the loop.
 *
 * A plugin runs as exec_user (uid and primary group, no supplementary groups)
 * when the agent is root and exec_user is another user, else as the agent
 * itself; the user is looked up once per check set-up (priv.c decides).
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "check_util.h"
#include "priv.h"
#include "util.h"

/* How long output may still arrive after the plugin exited. */
#define EXEC_GRACE_MS   100
#define EXEC_READ_CHUNK 65536

static char *exec_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

/* One exec check (run->priv): who its plugin runs as and the execution in flight. */
struct exec_check {
	struct priv_exec id;
	struct exec_attempt *att;
};

/* One plugin execution. It outlives a cancelled run until libuv has reaped
 * the child and closed every handle (nhandles drops to 0). */
struct exec_attempt {
	struct check_run *run; /* NULL once finished or cancelled */
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t grace;
	int nhandles;
	int pid; /* also the process group id (UV_PROCESS_DETACHED) */
	bool spawned, exited, eof, out_closed;
	int64_t status;
	int term_signal;
	char *buf; /* the first output_max bytes of stdout */
	size_t len, max;
	char chunk[EXEC_READ_CHUNK];
};

static void handle_closed(uv_handle_t *handle)
{
	struct exec_attempt *att = handle->data;

	if (--att->nhandles == 0) {
		free(att->buf);
		free(att);
	}
}

static void kill_group(struct exec_attempt *att)
{
	/* ESRCH: every member is gone already */
	if (att->spawned)
		kill(-att->pid, SIGKILL);
}

static void close_out(struct exec_attempt *att)
{
	if (!att->out_closed) {
		att->out_closed = true;
		uv_close((uv_handle_t *)&att->out, handle_closed);
	}
}

/* Detach from the run and release what can be released now; the process
 * handle stays open until the child is reaped, so no zombie is left. */
static void attempt_end(struct exec_attempt *att)
{
	if (att->run != NULL)
		((struct exec_check *)att->run->priv)->att = NULL;
	att->run = NULL;
	kill_group(att);
	close_out(att);
	uv_close((uv_handle_t *)&att->grace, handle_closed);
	if (!att->spawned || att->exited)
		uv_close((uv_handle_t *)&att->proc, handle_closed);
}

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

static void finish(struct exec_attempt *att)
{
	struct check_run *run = att->run;
	char detail[CHECK_DETAIL_MAX];
	enum check_result_code code;

	code = check_exec_judge(att->status, att->term_signal, att->buf, att->len, detail,
	                        sizeof(detail));
	attempt_end(att);
	check_run_finish(run, code, "%s", detail);
}

static void grace_cb(uv_timer_t *timer)
{
	struct exec_attempt *att = timer->data;

	if (att->run != NULL)
		finish(att);
}

static void exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct exec_attempt *att = proc->data;

	att->exited = true;
	att->status = status;
	att->term_signal = term_signal;
	if (att->run == NULL) { /* cancelled earlier: the child is reaped now */
		uv_close((uv_handle_t *)&att->proc, handle_closed);
		return;
	}
	if (att->eof)
		finish(att);
	else
		uv_timer_start(&att->grace, grace_cb, EXEC_GRACE_MS, 0);
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct exec_attempt *att = handle->data;

	*buf = uv_buf_init(att->chunk, sizeof(att->chunk));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct exec_attempt *att = stream->data;

	if (nread > 0) {
		/* keep the head, read and drop the rest so the plugin never blocks */
		size_t keep = att->max - att->len;

		if (keep > (size_t)nread)
			keep = (size_t)nread;
		memcpy(att->buf + att->len, buf->base, keep);
		att->len += keep;
		return;
	}
	if (nread == 0) /* EAGAIN */
		return;
	att->eof = true; /* UV_EOF, or a read error that ends the output all the same */
	close_out(att);
	if (att->run != NULL && att->exited)
		finish(att);
}

static int exec_init(struct check_run *run)
{
	struct priv_exec id;

	/* the reason stays in rep.detail: check_run reports it on every run */
	if (priv_exec_identity(run->conf->u.exec.user, geteuid(), &id, run->rep.detail,
	                       sizeof(run->rep.detail)) < 0)
		return -1;
	run->priv = xcalloc(1, sizeof(struct exec_check));
	((struct exec_check *)run->priv)->id = id;
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
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	struct exec_attempt *att;
	int err;

	if (c->argv.n == 0 || c->argv.v[0] == NULL) {
		run->rep.code = RES_EXEC_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "no command configured");
		return -1;
	}

	att = xcalloc(1, sizeof(*att));
	att->max = c->output_max;
	att->buf = xmalloc(att->max + 1);
	uv_pipe_init(run->loop, &att->out, 0);
	uv_timer_init(run->loop, &att->grace);
	att->out.data = att->grace.data = att->proc.data = att;
	att->nhandles = 3;
	att->run = run;
	ec->att = att;

	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE; /* libuv opens /dev/null for ignored 0-2 */
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&att->out;
	stdio[2].flags = UV_IGNORE;
	opt.exit_cb = exit_cb;
	opt.file = c->argv.v[0];
	/* strlist has no terminator: pass a NULL-terminated copy of the pointers */
	opt.args = xcalloc(c->argv.n + 1, sizeof(char *));
	memcpy(opt.args, c->argv.v, c->argv.n * sizeof(char *));
	opt.env = exec_env;
	opt.cwd = "/";
	opt.flags = UV_PROCESS_DETACHED; /* setsid(): its own process group to kill */
	if (ec->id.setid) {
		/* libuv also clears the supplementary groups (setgroups(0, NULL)) */
		opt.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
		opt.uid = ec->id.uid;
		opt.gid = ec->id.gid;
	}
	opt.stdio = stdio;
	opt.stdio_count = 3;

	err = uv_spawn(run->loop, &att->proc, &opt);
	free(opt.args);
	if (err != 0) {
		attempt_end(att);
		run->rep.code = RES_EXEC_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "cannot run %s: %s",
		         c->argv.v[0], uv_strerror(err));
		return -1;
	}
	att->spawned = true;
	att->pid = att->proc.pid;
	err = uv_read_start((uv_stream_t *)&att->out, alloc_cb, read_cb);
	if (err != 0) {
		attempt_end(att);
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail),
		         "cannot read the output of %s: %s", c->argv.v[0], uv_strerror(err));
		return -1;
	}
	return 0;
}

static void exec_cancel(struct check_run *run)
{
	struct exec_check *ec = run->priv;

	if (ec != NULL && ec->att != NULL)
		attempt_end(ec->att);
}

const struct check_ops check_exec_ops = {
    .type = "exec",
    .init = exec_init,
    .start = exec_start,
    .cancel = exec_cancel,
    .free = exec_free,
};
