/* SPDX-License-Identifier: ISC */
/*
 * exec_helper.c - the exec helper (see exec_helper.h): the agent's side
 * (start, handshake, runs, death) and the helper process itself.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec_helper.h"
#include "exec_job.h"
#include "log.h"
#include "util.h"

/* Reads land in a buffer that grows to one frame at most. */
#define READ_CHUNK (64 * 1024)
#define RBUF_MAX   (EXEC_PROTO_FRAME_MAX + 4 + READ_CHUNK)
/* After an EOF, how long the agent waits for the helper's exit status to log it. */
#define EXIT_WAIT_MS 200
/* Plugins one helper runs at once; beyond, a run fails to start. */
#define HELPER_JOBS_MAX 4096

static char *helper_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};

/* ---- input buffer shared by both sides ----------------------------------------------- */

struct rbuf {
	uint8_t *p;
	size_t len, cap;
};

static void rbuf_alloc(struct rbuf *b, uv_buf_t *out)
{
	if (b->cap - b->len < READ_CHUNK && b->cap < RBUF_MAX) {
		b->cap = b->len + READ_CHUNK > RBUF_MAX ? RBUF_MAX : b->len + READ_CHUNK;
		b->p = xrealloc(b->p, b->cap);
	}
	*out = uv_buf_init((char *)b->p + b->len, (unsigned)(b->cap - b->len));
}

static void rbuf_consume(struct rbuf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

struct wreq {
	uv_write_t req;
	uint8_t *frame;
};

/* ==== the agent's side ================================================================= */

struct call {
	uint32_t id;
	size_t output_max;
	exec_helper_cb cb;
	void *arg;
	struct call *next;
};

struct exec_helper {
	uv_loop_t *loop;
	uv_process_t proc;
	uv_pipe_t pipe;
	uv_timer_t exit_wait;
	int handles; /* open handles; freed at 0 once closing */
	int fd;      /* the socketpair end; owned by pipe once attached */
	bool attached, closing, logged, exited;
	int pid;
	char *user;
	char *gone; /* why it does not work; NULL while it does */
	uint32_t next_id;
	struct call *calls;
	struct rbuf in;
};

static void helper_free(struct exec_helper *h)
{
	struct call *c, *next;

	for (c = h->calls; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(h->in.p);
	free(h->gone);
	free(h->user);
	free(h);
}

static void handle_closed(uv_handle_t *handle)
{
	struct exec_helper *h = handle->data;

	if (--h->handles == 0 && h->closing)
		helper_free(h);
}

static void log_gone(struct exec_helper *h)
{
	if (h->logged || h->closing)
		return;
	h->logged = true;
	uv_timer_stop(&h->exit_wait);
	log_warnx("exec checks fail from now on: the exec helper (pid %d, user %s) %s; restart "
	          "anycast-agent to start a new one",
	          h->pid, h->user, h->gone);
}

static void exit_wait_cb(uv_timer_t *t)
{
	log_gone(t->data);
}

/* The helper no longer works: every run in flight fails now, and so will every new one. */
static void set_gone(struct exec_helper *h, bool log_now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_gone(struct exec_helper *h, bool log_now, const char *fmt, ...)
{
	struct call *calls = h->calls, *next;
	char why[EXEC_PROTO_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (h->gone == NULL || (h->exited && !h->logged)) {
		free(h->gone);
		h->gone = xstrdup(why);
	}
	if (h->attached) {
		uv_read_stop((uv_stream_t *)&h->pipe);
		/* the helper reads EOF: it kills its plugins and exits */
		if (!uv_is_closing((uv_handle_t *)&h->pipe))
			uv_close((uv_handle_t *)&h->pipe, handle_closed);
	}
	if (log_now)
		log_gone(h);
	else if (!h->logged)
		uv_timer_start(&h->exit_wait, exit_wait_cb, EXIT_WAIT_MS, 0);
	h->calls = NULL;
	for (; calls != NULL; calls = next) {
		struct exec_helper_result res = {
		    .gone = true, .data = h->gone, .len = strlen(h->gone)};

		next = calls->next;
		calls->cb(&res, calls->arg);
		free(calls);
	}
}

static void proc_exit_cb(uv_process_t *proc, int64_t status, int term_signal)
{
	struct exec_helper *h = proc->data;

	h->exited = true;
	if (!h->closing) {
		if (term_signal != 0)
			set_gone(h, true, "was killed by signal %d (%s)", term_signal,
			         strsignal(term_signal));
		else
			set_gone(h, true, "exited with status %d", (int)status);
	}
	uv_close((uv_handle_t *)proc, handle_closed);
}

struct exec_helper *exec_helper_spawn(uv_loop_t *loop, const char *exe, const char *user,
                                      bool setid, uid_t uid, gid_t gid, char **err)
{
	struct exec_helper *h;
	uv_process_options_t opt;
	uv_stdio_container_t stdio[EXEC_HELPER_FD + 1];
	char self[512], *args[] = {(char *)exe, EXEC_HELPER_ARG, NULL};
	ssize_t n;
	int sv[2], rc;

	*err = NULL;
	/* ps shows the program's own path, not /proc/self/exe */
	if (strcmp(exe, "/proc/self/exe") == 0 && (n = readlink(exe, self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		args[0] = self;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		xasprintf(err, "cannot start the exec helper: socketpair: %s", strerror(errno));
		return NULL;
	}
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->fd = sv[0];
	h->user = xstrdup(user);
	h->next_id = 1;
	h->proc.data = h->pipe.data = h->exit_wait.data = h;
	uv_timer_init(loop, &h->exit_wait);
	h->handles = 1;

	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_IGNORE;
	stdio[2].flags = UV_INHERIT_FD; /* its own complaints go where the agent's go */
	stdio[2].data.fd = 2;
	stdio[EXEC_HELPER_FD].flags = UV_INHERIT_FD;
	stdio[EXEC_HELPER_FD].data.fd = sv[1];
	opt.exit_cb = proc_exit_cb;
	opt.file = exe;
	opt.args = args;
	opt.env = helper_env;
	opt.cwd = "/";
	/* a session of its own: a terminal's ^C does not reach it; it ends on EOF */
	opt.flags = UV_PROCESS_DETACHED;
	if (setid) {
		/* libuv drops the supplementary groups (setgroups(0)), then setgid, setuid */
		opt.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
		opt.uid = uid;
		opt.gid = gid;
	}
	opt.stdio = stdio;
	opt.stdio_count = EXEC_HELPER_FD + 1;
	rc = uv_spawn(loop, &h->proc, &opt);
	close(sv[1]);
	h->handles++; /* the process handle, initialised even when the spawn failed */
	if (rc != 0) {
		xasprintf(err, "cannot start the exec helper %s as user %s: %s", exe, user,
		          uv_strerror(rc));
		exec_helper_close(h);
		return NULL;
	}
	h->pid = h->proc.pid;
	/* the helper must not keep a stopping agent's loop alive; it ends on EOF */
	uv_unref((uv_handle_t *)&h->proc);
	return h;
}

/* Blocking read of one frame from the raw fd until the deadline (start-up only). */
static int read_frame_blocking(struct exec_helper *h, struct exec_msg *m, double deadline,
                               char *err, size_t errlen)
{
	for (;;) {
		size_t used;
		int rc = exec_proto_decode(h->in.p, h->in.len, EXEC_PROTO_FROM_HELPER, m, &used,
		                           err, errlen);
		struct pollfd pfd = {.fd = h->fd, .events = POLLIN};
		double left = deadline - mono_now();
		uv_buf_t b;
		ssize_t n;

		if (rc < 0)
			return -1;
		if (rc > 0) {
			rbuf_consume(&h->in, used);
			return 0;
		}
		if (left <= 0) {
			snprintf(err, errlen, "no answer within %.0f s", EXEC_HELPER_READY_TIMEOUT);
			return -1;
		}
		n = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			continue;
		rbuf_alloc(&h->in, &b);
		n = read(h->fd, b.base, b.len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "%s",
			         n == 0 ? "it exited before answering" : strerror(errno));
			return -1;
		}
		h->in.len += (size_t)n;
	}
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct exec_helper *h = handle->data;

	(void)suggested;
	rbuf_alloc(&h->in, buf);
}

static struct call *take_call(struct exec_helper *h, uint32_t id)
{
	for (struct call **pp = &h->calls; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct call *c = *pp;

			*pp = c->next;
			return c;
		}
	return NULL;
}

/* One message from the helper; -1 with why when it breaks the protocol. */
static int handle_msg(struct exec_helper *h, const struct exec_msg *m, char *why, size_t len)
{
	struct exec_helper_result res = {0};
	struct call *c;

	if (m->type != EXEC_MSG_RESULT) {
		snprintf(why, len, "a message of type 0x%02x it was not asked for", m->type);
		return -1;
	}
	c = take_call(h, m->id);
	if (c == NULL) {
		/* a run cancelled meanwhile is normal; one never asked for is not */
		if (m->id == 0 || m->id >= h->next_id) {
			snprintf(why, len, "a result for run %u it was never asked for", m->id);
			return -1;
		}
		return 0;
	}
	if (m->outcome != EXEC_OUT_SPAWN_FAILED && m->len > c->output_max) {
		snprintf(why, len, "%zu bytes of output for a run capped at %zu", m->len,
		         c->output_max);
		c->next = h->calls; /* set_gone fails it with the others */
		h->calls = c;
		return -1;
	}
	res.outcome = m->outcome;
	res.status = m->status;
	res.signal = m->signal;
	res.data = m->data;
	res.len = m->len;
	c->cb(&res, c->arg);
	free(c);
	return 0;
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct exec_helper *h = stream->data;
	char err[160], why[EXEC_PROTO_REASON_MAX];

	(void)buf;
	if (nread < 0) {
		set_gone(h, false, "closed its channel (%s)",
		         nread == UV_EOF ? "end of file" : uv_strerror((int)nread));
		return;
	}
	h->in.len += (size_t)nread;
	while (h->gone == NULL) {
		struct exec_msg m;
		size_t used;
		int rc = exec_proto_decode(h->in.p, h->in.len, EXEC_PROTO_FROM_HELPER, &m, &used,
		                           err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0) {
			set_gone(h, true, "sent a malformed message (%s); disconnected", err);
			break;
		}
		rc = handle_msg(h, &m, why, sizeof(why));
		exec_msg_free(&m);
		rbuf_consume(&h->in, used);
		if (rc < 0)
			set_gone(h, true, "sent %s; disconnected", why);
	}
}

int exec_helper_ready(struct exec_helper *h, const char *const *paths, size_t npaths,
                      struct exec_helper_facts *facts, char **err)
{
	double deadline = mono_now() + EXEC_HELPER_READY_TIMEOUT;
	struct exec_msg m;
	char why[200];
	size_t len, off = 0;
	uint8_t *frame = exec_proto_verify(paths, npaths, &len);
	int rc;

	*err = NULL;
	memset(facts, 0, sizeof(*facts));
	while (off < len) {
		ssize_t n = write(h->fd, frame + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(frame);
			xasprintf(err, "the exec helper (pid %d, user %s) does not answer: %s",
			          h->pid, h->user, strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	free(frame);
	if (read_frame_blocking(h, &m, deadline, why, sizeof(why)) < 0) {
		xasprintf(err, "the exec helper (pid %d, user %s) did not start properly: %s",
		          h->pid, h->user, why);
		return -1;
	}
	if (m.type != EXEC_MSG_FACTS || m.naccess != npaths) {
		exec_msg_free(&m);
		xasprintf(err, "the exec helper (pid %d, user %s) answered something else", h->pid,
		          h->user);
		return -1;
	}
	facts->uid = m.uid;
	facts->gid = m.gid;
	facts->euid = m.euid;
	facts->egid = m.egid;
	facts->groups = xcalloc(m.ngroups + 1, sizeof(gid_t));
	for (size_t i = 0; i < m.ngroups; i++)
		facts->groups[i] = m.groups[i];
	facts->ngroups = m.ngroups;
	facts->access = xcalloc(m.naccess + 1, sizeof(int));
	for (size_t i = 0; i < m.naccess; i++)
		facts->access[i] = m.access[i];
	facts->naccess = m.naccess;
	exec_msg_free(&m);

	rc = uv_pipe_init(h->loop, &h->pipe, 0);
	if (rc == 0) {
		h->attached = true;
		h->handles++;
		rc = uv_pipe_open(&h->pipe, h->fd);
		if (rc != 0)
			close(h->fd);
		h->fd = -1; /* the pipe owns it, or it is closed */
	}
	if (rc == 0) {
		rc = uv_read_start((uv_stream_t *)&h->pipe, alloc_cb, read_cb);
		/* runs keep the loop alive by their own timers; the helper alone does not */
		uv_unref((uv_handle_t *)&h->pipe);
	}
	if (rc != 0) {
		xasprintf(err, "cannot watch the exec helper's channel: %s", uv_strerror(rc));
		return -1;
	}
	return 0;
}

void exec_helper_facts_free(struct exec_helper_facts *f)
{
	free(f->groups);
	free(f->access);
	f->groups = NULL;
	f->access = NULL;
}

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct exec_helper *h = req->data;

	free(w->frame);
	free(w);
	if (status < 0 && status != UV_ECANCELED && h->gone == NULL && !h->closing)
		set_gone(h, false, "cannot be written to (%s)", uv_strerror(status));
}

static int send_frame(struct exec_helper *h, uint8_t *frame, size_t len)
{
	struct wreq *w = xmalloc(sizeof(*w));
	uv_buf_t b = uv_buf_init((char *)frame, (unsigned)len);
	int rc;

	w->frame = frame;
	w->req.data = h;
	rc = uv_write(&w->req, (uv_stream_t *)&h->pipe, &b, 1, write_done);
	if (rc != 0) {
		free(frame);
		free(w);
	}
	return rc;
}

uint32_t exec_helper_run(struct exec_helper *h, char *const *argv, size_t argc, uint32_t timeout_ms,
                         size_t output_max, exec_helper_cb cb, void *arg)
{
	struct call *c;
	uint8_t *frame;
	size_t len;
	int rc;

	if (h->gone != NULL)
		return 0;
	if (!h->attached) {
		h->gone = xstrdup("was never asked whether it works (internal error)");
		return 0;
	}
	frame = exec_proto_run(h->next_id, timeout_ms, (uint32_t)output_max,
	                       (const char *const *)argv, argc, &len);
	if (len > EXEC_PROTO_FRAME_MAX) {
		free(frame);
		return 0; /* the caller reports a command too long; the helper is fine */
	}
	rc = send_frame(h, frame, len);
	if (rc != 0) {
		set_gone(h, false, "cannot be written to (%s)", uv_strerror(rc));
		return 0;
	}
	c = xcalloc(1, sizeof(*c));
	c->id = h->next_id++;
	if (h->next_id == 0)
		h->next_id = 1;
	c->output_max = output_max;
	c->cb = cb;
	c->arg = arg;
	c->next = h->calls;
	h->calls = c;
	return c->id;
}

void exec_helper_cancel(struct exec_helper *h, uint32_t id)
{
	struct call *c = take_call(h, id);
	uint8_t *frame;
	size_t len;

	if (c == NULL)
		return;
	free(c);
	if (h->gone != NULL)
		return;
	frame = exec_proto_cancel(id, &len);
	if (send_frame(h, frame, len) != 0)
		set_gone(h, false, "cannot be written to");
}

const char *exec_helper_gone(const struct exec_helper *h)
{
	return h->gone;
}

int exec_helper_pid(const struct exec_helper *h)
{
	return h->pid;
}

const char *exec_helper_user(const struct exec_helper *h)
{
	return h->user;
}

void exec_helper_close(struct exec_helper *h)
{
	struct call *c, *next;

	if (h == NULL || h->closing)
		return;
	h->closing = true;
	for (c = h->calls; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	h->calls = NULL;
	if (h->attached && !uv_is_closing((uv_handle_t *)&h->pipe))
		uv_close((uv_handle_t *)&h->pipe, handle_closed);
	else if (!h->attached && h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	uv_close((uv_handle_t *)&h->exit_wait, handle_closed);
	/* the child, if still running, exits on EOF; init reaps it if we are gone first */
	if (!uv_is_closing((uv_handle_t *)&h->proc))
		uv_close((uv_handle_t *)&h->proc, handle_closed);
}

/* ==== the helper process ================================================================ */

struct hjob {
	struct helper *helper;
	uint32_t id;
	struct exec_job *job;
	struct hjob *next;
};

struct helper {
	uv_loop_t loop;
	uv_pipe_t pipe;
	struct rbuf in;
	struct hjob *jobs;
	size_t njobs;
	bool done;
	int exit_code;
};

static void helper_stop(struct helper *hp, int code)
{
	if (hp->done)
		return;
	hp->done = true;
	hp->exit_code = code;
	/* every plugin's process group dies with the agent's interest in it */
	while (hp->jobs != NULL) {
		struct hjob *j = hp->jobs;

		hp->jobs = j->next;
		exec_job_cancel(j->job);
		free(j);
	}
	hp->njobs = 0;
	uv_read_stop((uv_stream_t *)&hp->pipe);
	uv_close((uv_handle_t *)&hp->pipe, NULL);
}

static void hwrite_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct helper *hp = req->data;

	free(w->frame);
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		helper_stop(hp, 0); /* the agent is gone */
}

static void hsend(struct helper *hp, uint8_t *frame, size_t len)
{
	struct wreq *w;
	uv_buf_t b = uv_buf_init((char *)frame, (unsigned)len);

	if (hp->done) {
		free(frame);
		return;
	}
	w = xmalloc(sizeof(*w));
	w->frame = frame;
	w->req.data = hp;
	if (uv_write(&w->req, (uv_stream_t *)&hp->pipe, &b, 1, hwrite_done) != 0) {
		free(frame);
		free(w);
		helper_stop(hp, 0);
	}
}

static void job_done(const struct exec_job_result *res, void *arg)
{
	struct hjob *j = arg, **pp;
	struct helper *hp = j->helper;
	size_t len;
	uint8_t *frame;

	frame = exec_proto_result(j->id, res->timed_out ? EXEC_OUT_TIMEOUT : EXEC_OUT_DONE,
	                          res->timed_out ? 0 : (int32_t)res->status,
	                          res->timed_out ? 0 : res->term_signal, res->out, res->len, &len);
	for (pp = &hp->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	hp->njobs--;
	free(j);
	hsend(hp, frame, len);
}

static void spawn_failed(struct helper *hp, uint32_t id, const char *why)
{
	size_t len, n = strlen(why);
	uint8_t *frame =
	    exec_proto_result(id, EXEC_OUT_SPAWN_FAILED, 0, 0, why,
	                      n > EXEC_PROTO_REASON_MAX ? EXEC_PROTO_REASON_MAX : n, &len);

	hsend(hp, frame, len);
}

static void do_run(struct helper *hp, const struct exec_msg *m)
{
	struct hjob *j;
	int err;

	if (hp->njobs >= HELPER_JOBS_MAX) {
		spawn_failed(hp, m->id, "too many plugins running at once");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->helper = hp;
	j->id = m->id;
	j->job =
	    exec_job_start(&hp->loop, m->strv, m->output_max, m->timeout_ms, job_done, j, &err);
	if (j->job == NULL) {
		free(j);
		spawn_failed(hp, m->id, uv_strerror(err));
		return;
	}
	j->next = hp->jobs;
	hp->jobs = j;
	hp->njobs++;
}

static void do_cancel(struct helper *hp, uint32_t id)
{
	for (struct hjob **pp = &hp->jobs; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct hjob *j = *pp;

			*pp = j->next;
			exec_job_cancel(j->job);
			free(j);
			hp->njobs--;
			return;
		}
}

static void do_verify(struct helper *hp, const struct exec_msg *m)
{
	int n = getgroups(0, NULL);
	gid_t *g = xcalloc(n > 0 ? (size_t)n : 1, sizeof(gid_t));
	uint32_t *groups = xcalloc(n > 0 ? (size_t)n : 1, sizeof(uint32_t));
	int32_t *acc = xcalloc(m->nstr + 1, sizeof(int32_t));
	size_t len;
	uint8_t *frame;

	n = n > 0 ? getgroups(n, g) : 0;
	if (n < 0)
		n = 0;
	for (int i = 0; i < n; i++)
		groups[i] = g[i];
	for (size_t i = 0; i < m->nstr; i++)
		acc[i] = access(m->strv[i], W_OK) == 0 ? 0 : errno;
	frame = exec_proto_facts(getuid(), getgid(), geteuid(), getegid(), groups, (size_t)n, acc,
	                         m->nstr, &len);
	hsend(hp, frame, len);
	free(g);
	free(groups);
	free(acc);
}

static void halloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	struct helper *hp = handle->data;

	(void)suggested;
	rbuf_alloc(&hp->in, buf);
}

static void hread_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct helper *hp = stream->data;
	char err[160];

	(void)buf;
	if (nread < 0) {
		helper_stop(hp, 0); /* the agent stopped, or died */
		return;
	}
	hp->in.len += (size_t)nread;
	while (!hp->done) {
		struct exec_msg m;
		size_t used;
		int rc = exec_proto_decode(hp->in.p, hp->in.len, EXEC_PROTO_FROM_AGENT, &m, &used,
		                           err, sizeof(err));

		if (rc == 0)
			break;
		if (rc < 0) {
			fprintf(stderr,
			        "anycast-agent exec helper: a bad request from the agent (%s); "
			        "exiting\n",
			        err);
			helper_stop(hp, 1);
			break;
		}
		if (m.type == EXEC_MSG_RUN)
			do_run(hp, &m);
		else if (m.type == EXEC_MSG_CANCEL)
			do_cancel(hp, m.id);
		else
			do_verify(hp, &m);
		exec_msg_free(&m);
		rbuf_consume(&hp->in, used);
	}
}

int exec_helper_main(int fd)
{
	struct helper hp;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
		        "anycast-agent: %s is started by anycast-agent itself, not by hand\n",
		        EXEC_HELPER_ARG);
		return 2;
	}
	/* nothing of the agent's but the channel: a descriptor it leaked stays out of reach */
	if (close_range((unsigned)fd + 1, ~0U, 0) < 0)
		for (int i = fd + 1; i < 1024; i++)
			close(i);
	/* and the channel is not the plugins': one could speak for the helper long after it */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "anycast-agent exec helper: FD_CLOEXEC: %s\n", strerror(errno));
		return 1;
	}
	/* the plugins run as this user too: they must not ptrace this process or read its
	 * memory through /proc */
	(void)prctl(PR_SET_NAME, "anycast-exec", 0, 0, 0); /* its name in ps, top, the journal */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		fprintf(stderr, "anycast-agent exec helper: PR_SET_DUMPABLE: %s\n",
		        strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN); /* a vanished agent is an error return */
	memset(&hp, 0, sizeof(hp));
	uv_loop_init(&hp.loop);
	uv_pipe_init(&hp.loop, &hp.pipe, 0);
	hp.pipe.data = &hp;
	if (uv_pipe_open(&hp.pipe, fd) != 0 ||
	    uv_read_start((uv_stream_t *)&hp.pipe, halloc_cb, hread_cb) != 0) {
		fprintf(stderr, "anycast-agent exec helper: cannot read its channel\n");
		return 1;
	}
	uv_run(&hp.loop, UV_RUN_DEFAULT);
	free(hp.in.p);
	uv_loop_close(&hp.loop);
	return hp.exit_code;
}
