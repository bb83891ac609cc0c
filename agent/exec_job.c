/* SPDX-License-Identifier: ISC */
/*
 * exec_job.c - one plugin run on the libuv loop (see exec_job.h).
 */
#include <config.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "exec_job.h"
#include "util.h"

#define EXEC_READ_CHUNK 65536

static char *exec_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

/* A job outlives its end (finished or cancelled) until libuv has reaped the child and
 * closed every handle (nhandles drops to 0). */
struct exec_job {
	exec_job_cb cb; /* NULL once finished or cancelled */
	void *arg;
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t grace;   /* output still arriving after the exit */
	uv_timer_t timeout; /* the job's own limit (0: none) */
	int nhandles;
	int pid; /* also the process group id (UV_PROCESS_DETACHED) */
	bool spawned, exited, eof, out_closed;
	bool timed_out;
	int64_t status;
	int term_signal;
	char *buf; /* the first max bytes of stdout */
	size_t len, max;
	char chunk[EXEC_READ_CHUNK];
};

static void handle_closed(uv_handle_t *handle)
{
	struct exec_job *job = handle->data;

	if (--job->nhandles == 0) {
		free(job->buf);
		free(job);
	}
}

static void kill_group(struct exec_job *job)
{
	/* ESRCH: every member is gone already */
	if (job->spawned)
		kill(-job->pid, SIGKILL);
}

static void close_out(struct exec_job *job)
{
	if (!job->out_closed) {
		job->out_closed = true;
		uv_close((uv_handle_t *)&job->out, handle_closed);
	}
}

/* Release what can be released now; the process handle stays open until the child is
 * reaped, so no zombie is left. */
static void job_end(struct exec_job *job)
{
	job->cb = NULL;
	kill_group(job);
	close_out(job);
	uv_close((uv_handle_t *)&job->grace, handle_closed);
	uv_close((uv_handle_t *)&job->timeout, handle_closed);
	if (!job->spawned || job->exited)
		uv_close((uv_handle_t *)&job->proc, handle_closed);
}

static void finish(struct exec_job *job)
{
	exec_job_cb cb = job->cb;
	void *arg = job->arg;
	struct exec_job_result res = {
	    .timed_out = job->timed_out,
	    .status = job->status,
	    .term_signal = job->term_signal,
	    .out = job->buf,
	    .len = job->len,
	};

	/* the buffer lives until the close callbacks run, after cb */
	job_end(job);
	cb(&res, arg);
}

static void grace_cb(uv_timer_t *timer)
{
	struct exec_job *job = timer->data;

	if (job->cb != NULL)
		finish(job);
}

static void timeout_cb(uv_timer_t *timer)
{
	struct exec_job *job = timer->data;

	if (job->cb != NULL) {
		job->timed_out = true;
		finish(job);
	}
}

static void exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct exec_job *job = proc->data;

	job->exited = true;
	job->status = status;
	job->term_signal = term_signal;
	if (job->cb == NULL) { /* ended earlier: the child is reaped now */
		uv_close((uv_handle_t *)&job->proc, handle_closed);
		return;
	}
	if (job->eof)
		finish(job);
	else
		uv_timer_start(&job->grace, grace_cb, EXEC_GRACE_MS, 0);
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct exec_job *job = handle->data;

	(void)suggested;
	*buf = uv_buf_init(job->chunk, sizeof(job->chunk));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct exec_job *job = stream->data;

	if (nread > 0) {
		/* keep the head, read and drop the rest so the plugin never blocks */
		size_t keep = job->max - job->len;

		if (keep > (size_t)nread)
			keep = (size_t)nread;
		memcpy(job->buf + job->len, buf->base, keep);
		job->len += keep;
		return;
	}
	if (nread == 0) /* EAGAIN */
		return;
	job->eof = true; /* UV_EOF, or a read error that ends the output all the same */
	close_out(job);
	if (job->cb != NULL && job->exited)
		finish(job);
}

struct exec_job *exec_job_start(uv_loop_t *loop, char *const *argv, size_t output_max,
                                uint64_t timeout_ms, exec_job_cb cb, void *arg, int *err)
{
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	struct exec_job *job = xcalloc(1, sizeof(*job));

	job->max = output_max;
	job->buf = xmalloc(job->max + 1);
	job->cb = cb;
	job->arg = arg;
	uv_pipe_init(loop, &job->out, 0);
	uv_timer_init(loop, &job->grace);
	uv_timer_init(loop, &job->timeout);
	job->out.data = job->grace.data = job->timeout.data = job->proc.data = job;
	job->nhandles = 4;

	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE; /* libuv opens /dev/null for ignored 0-2 */
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&job->out;
	stdio[2].flags = UV_IGNORE;
	opt.exit_cb = exit_cb;
	opt.file = argv[0];
	opt.args = (char **)argv;
	opt.env = exec_env;
	opt.cwd = "/";
	opt.flags = UV_PROCESS_DETACHED; /* setsid(): its own process group to kill */
	opt.stdio = stdio;
	opt.stdio_count = 3;

	*err = uv_spawn(loop, &job->proc, &opt);
	if (*err != 0) {
		job_end(job);
		return NULL;
	}
	job->spawned = true;
	job->pid = job->proc.pid;
	*err = uv_read_start((uv_stream_t *)&job->out, alloc_cb, read_cb);
	if (*err != 0) {
		job_end(job);
		return NULL;
	}
	if (timeout_ms > 0)
		uv_timer_start(&job->timeout, timeout_cb, timeout_ms, 0);
	return job;
}

void exec_job_cancel(struct exec_job *job)
{
	if (job != NULL && job->cb != NULL)
		job_end(job);
}

int exec_job_pid(const struct exec_job *job)
{
	return job->pid;
}
