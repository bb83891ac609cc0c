/* SPDX-License-Identifier: ISC */
/*
 * control.c - the control-socket server (see control.h): the listening
 * socket, one struct client per connection (framing, caps, timeouts),
 * SO_PEERCRED + SO_PEERGROUPS authorisation, the requesters' user names
 * (a cache filled by a thread of its own: the name service may be slow)
 * and dispatch through the caller's verb table.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "nss.h"
#include "util.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59 /* Linux 4.13 */
#endif

/* One read at a time lands here; libuv hands it to read_cb before the next read. */
#define READ_CHUNK (64 * 1024)
/* A request as logged: enough to see what was asked. */
#define LOG_REQUEST_MAX 300

/* Requesters' user names: how many are kept, how long one is used before it is asked again
 * (the old name is used meanwhile), how long a request waits for a name not yet known (then
 * "uid N"), and how many lookups may wait for the name service at once. */
#define NAME_CACHE_MAX 256
#define NAME_FRESH     60.0
#define NAME_WAIT_MS   500
#define NAME_QUEUE_MAX 64
#define NAME_MAX_LEN   64

struct client;

struct control_req {
	struct client *client; /* NULL once the client has gone */
	json_t *request;
	const struct control_verb *verb;
	bool waiting_name; /* not yet handed to the verb: waits for the user name */
	struct control_req_info info;
	char user[NAME_MAX_LEN];
};

/* One cached name; "uid N" for a uid the name service does not know. */
struct name_entry {
	uid_t uid;
	bool used, known, pending; /* known: name is valid; pending: a lookup is queued */
	double at;                 /* mono_now() of the answer */
	char name[NAME_MAX_LEN];
};

/* Shared by the loop and the lookup thread (under mu); freed by the last of the two. */
struct resolver {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int refs;
	bool closed;
	uid_t queue[NAME_QUEUE_MAX];
	size_t nqueue;
	struct {
		uid_t uid;
		char name[NAME_MAX_LEN];
	} done[NAME_QUEUE_MAX];
	size_t ndone;
	uv_async_t *async; /* wakes the loop; NULL once closed */
};

struct client {
	struct control *ctl;
	struct client *prev, *next;
	uv_pipe_t pipe;
	uv_timer_t timer;
	int open_handles; /* freed when both are closed */
	char *buf;
	size_t len, cap;
	struct control_req *pending; /* one request at a time */
	bool closing, shutting_down;
	bool in_process; /* inside process_input(): a synchronous answer must not recurse */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	bool has_cred;
	gid_t *groups; /* the peer's supplementary groups at connect (SO_PEERGROUPS) */
	size_t ngroups;
};

struct control {
	uv_loop_t *loop;
	struct control_opts opts; /* strings owned */
	bool has_group, has_admin_gid;
	gid_t group_gid, admin_gid;
	const struct control_verb *verbs;
	size_t nverbs;
	void *arg;
	uv_pipe_t server;
	bool server_init, listening, closing;
	int refs; /* the server handle + every client not yet freed */
	struct client *clients;
	struct control_stats stats;
	double last_accept_warn;
	bool groups_warned;
	struct name_entry names[NAME_CACHE_MAX];
	struct resolver *resolver; /* started on first use */
	bool resolver_failed;
	char rbuf[READ_CHUNK];
};

static char *dupnull(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void control_unref(struct control *c)
{
	if (--c->refs > 0 || !c->closing)
		return;
	free((char *)c->opts.path);
	free((char *)c->opts.group);
	free((char *)c->opts.admin_group);
	free(c);
}

struct control *control_new(uv_loop_t *loop, const struct control_opts *opts,
                            const struct control_verb *verbs, size_t nverbs, void *arg)
{
	struct control *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->opts = *opts;
	c->opts.path = xstrdup(opts->path);
	c->opts.group = dupnull(opts->group);
	c->opts.admin_group = dupnull(opts->admin_group);
	if (!c->opts.request_max)
		c->opts.request_max = CONTROL_REQUEST_MAX;
	if (!(c->opts.idle_timeout > 0))
		c->opts.idle_timeout = CONTROL_IDLE_TIMEOUT;
	if (!c->opts.max_clients)
		c->opts.max_clients = CONTROL_MAX_CLIENTS;
	if (!c->opts.write_queue_max)
		c->opts.write_queue_max = CONTROL_WRITE_QUEUE_MAX;
	c->verbs = verbs;
	c->nverbs = nverbs;
	c->arg = arg;
	c->refs = 1;
	c->last_accept_warn = -1e9;
	return c;
}

/* The gid of group, or -1 with *err saying whether it does not exist or could not be
 * looked up (a name service that failed must not read as "does not exist"). */
static int lookup_group(const char *setting, const char *name, gid_t *gid, char **err)
{
	int e;
	enum nss_result r = nss_group_by_name(name, gid, &e);

	if (r == NSS_FOUND)
		return 0;
	if (r == NSS_NOT_FOUND)
		xasprintf(err, "%s \"%s\" does not exist; create it or remove the setting", setting,
		          name);
	else
		xasprintf(err,
		          "cannot look up %s \"%s\": %s; the name service (files, LDAP, sssd) "
		          "failed, so the agent cannot tell who may use the control socket",
		          setting, name, nss_strerror(r, e));
	return -1;
}

int control_set_admin_group(struct control *c, const char *group, char **err)
{
	gid_t gid;
	char *copy;

	*err = NULL;
	if (group == NULL) {
		c->has_admin_gid = false;
		free((char *)c->opts.admin_group);
		c->opts.admin_group = NULL;
		return 0;
	}
	/* a reload that keeps the group asks no name service (it may hang: this is the loop) */
	if (c->has_admin_gid && c->opts.admin_group != NULL &&
	    strcmp(group, c->opts.admin_group) == 0)
		return 0;
	if (lookup_group("control.admin_group", group, &gid, err) < 0)
		return -1;
	copy = xstrdup(group); /* group may be c->opts.admin_group itself */
	free((char *)c->opts.admin_group);
	c->opts.admin_group = copy;
	c->admin_gid = gid;
	c->has_admin_gid = true;
	return 0;
}

bool control_peer_is_admin(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups,
                           bool has_admin_gid, gid_t admin_gid)
{
	if (uid == 0)
		return true;
	if (!has_admin_gid)
		return false;
	if (gid == admin_gid)
		return true;
	for (size_t i = 0; i < ngroups; i++)
		if (groups[i] == admin_gid)
			return true;
	return false;
}

/* ---- requesters' names, looked up off the loop ------------------------------------ */

static void resolver_unref_locked(struct resolver *rs, bool *free_it)
{
	*free_it = --rs->refs == 0;
}

static void resolver_free(struct resolver *rs)
{
	pthread_mutex_destroy(&rs->mu);
	pthread_cond_destroy(&rs->cv);
	free(rs);
}

/* The lookup thread: one uid at a time; a name service that hangs holds only this thread. */
static void *resolver_main(void *arg)
{
	struct resolver *rs = arg;
	bool free_it;

	pthread_mutex_lock(&rs->mu);
	for (;;) {
		uid_t uid;
		char name[NAME_MAX_LEN];
		int e;

		while (rs->nqueue == 0 && !rs->closed)
			pthread_cond_wait(&rs->cv, &rs->mu);
		if (rs->closed)
			break;
		uid = rs->queue[0];
		memmove(rs->queue, rs->queue + 1, --rs->nqueue * sizeof(rs->queue[0]));
		pthread_mutex_unlock(&rs->mu);
		if (nss_user_by_uid(uid, name, sizeof(name), &e) != NSS_FOUND)
			snprintf(name, sizeof(name), "uid %lu", (unsigned long)uid);
		pthread_mutex_lock(&rs->mu);
		if (rs->closed)
			break;
		if (rs->ndone < NAME_QUEUE_MAX) {
			rs->done[rs->ndone].uid = uid;
			memcpy(rs->done[rs->ndone].name, name, sizeof(name));
			rs->ndone++;
		}
		uv_async_send(rs->async); /* under mu: the loop closes it only after closed */
	}
	resolver_unref_locked(rs, &free_it);
	pthread_mutex_unlock(&rs->mu);
	if (free_it)
		resolver_free(rs);
	return NULL;
}

static void process_input(struct client *cl);
static void handle(struct client *cl, struct control_req *r);

static struct name_entry *name_find(struct control *c, uid_t uid)
{
	for (size_t i = 0; i < NAME_CACHE_MAX; i++)
		if (c->names[i].used && c->names[i].uid == uid)
			return &c->names[i];
	return NULL;
}

/* A slot for uid: a free one, else the oldest answered one. NULL if all wait for answers. */
static struct name_entry *name_slot(struct control *c, uid_t uid)
{
	struct name_entry *best = NULL;

	for (size_t i = 0; i < NAME_CACHE_MAX; i++) {
		struct name_entry *n = &c->names[i];

		if (!n->used) {
			best = n;
			break;
		}
		if (!n->pending && (best == NULL || n->at < best->at))
			best = n;
	}
	if (best != NULL) {
		memset(best, 0, sizeof(*best));
		best->used = true;
		best->uid = uid;
	}
	return best;
}

static void resolver_async_cb(uv_async_t *h)
{
	struct control *c = h->data;
	struct resolver *rs = c->resolver;
	size_t n;
	struct {
		uid_t uid;
		char name[NAME_MAX_LEN];
	} got[NAME_QUEUE_MAX];

	if (rs == NULL)
		return;
	pthread_mutex_lock(&rs->mu);
	n = rs->ndone;
	memcpy(got, rs->done, n * sizeof(got[0]));
	rs->ndone = 0;
	pthread_mutex_unlock(&rs->mu);
	for (size_t i = 0; i < n; i++) {
		struct name_entry *e = name_find(c, got[i].uid);
		struct client *cl, *next;

		if (e == NULL)
			e = name_slot(c, got[i].uid);
		if (e != NULL) {
			memcpy(e->name, got[i].name, sizeof(e->name));
			e->known = true;
			e->pending = false;
			e->at = mono_now();
		}
		/* the requests that waited for this name go on now */
		for (cl = c->clients; cl != NULL; cl = next) {
			struct control_req *r = cl->pending;

			next = cl->next;
			if (r == NULL || !r->waiting_name || cl->uid != got[i].uid)
				continue;
			memcpy(r->user, got[i].name, sizeof(r->user));
			uv_timer_stop(&cl->timer);
			handle(cl, r);
		}
	}
}

static void async_closed(uv_handle_t *h)
{
	struct control *c = h->data;

	free(h);
	control_unref(c);
}

static bool resolver_start(struct control *c)
{
	struct resolver *rs;
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int rc;

	if (c->resolver != NULL || c->resolver_failed)
		return c->resolver != NULL;
	rs = xcalloc(1, sizeof(*rs));
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->cv, NULL);
	rs->refs = 2;
	rs->async = xcalloc(1, sizeof(*rs->async));
	uv_async_init(c->loop, rs->async, resolver_async_cb);
	rs->async->data = c;
	c->refs++; /* the async handle */
	/* signals stay with the loop's thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, resolver_main, rs);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_warnx("control: cannot start the user name lookup thread: %s; requesters are "
		          "named \"uid N\"",
		          strerror(rc));
		uv_close((uv_handle_t *)rs->async, async_closed);
		resolver_free(rs);
		c->resolver_failed = true;
		return false;
	}
	c->resolver = rs;
	return true;
}

static void resolver_stop(struct control *c)
{
	struct resolver *rs = c->resolver;
	bool free_it;

	if (rs == NULL)
		return;
	c->resolver = NULL;
	pthread_mutex_lock(&rs->mu);
	rs->closed = true;
	pthread_cond_signal(&rs->cv);
	uv_close((uv_handle_t *)rs->async, async_closed);
	rs->async = NULL;
	resolver_unref_locked(rs, &free_it);
	pthread_mutex_unlock(&rs->mu);
	if (free_it)
		resolver_free(rs);
}

/* Ask the thread for uid's name; false when it cannot take more. */
static bool name_queue(struct control *c, struct name_entry *e)
{
	struct resolver *rs;
	bool ok;

	if (e->pending)
		return true;
	if (!resolver_start(c))
		return false;
	rs = c->resolver;
	pthread_mutex_lock(&rs->mu);
	ok = rs->nqueue < NAME_QUEUE_MAX;
	if (ok) {
		rs->queue[rs->nqueue++] = e->uid;
		pthread_cond_signal(&rs->cv);
	}
	pthread_mutex_unlock(&rs->mu);
	e->pending = ok;
	return ok;
}

/*
 * The requester's name into out: true if known now (a stale one is used and refreshed in
 * the background), false if the caller should wait for the thread's answer. A name that
 * cannot be asked for (the queue is full) is "uid N" at once.
 */
static bool name_of(struct control *c, uid_t uid, char *out, size_t len)
{
	struct name_entry *e = name_find(c, uid);

	if (e != NULL && e->known) {
		snprintf(out, len, "%s", e->name);
		if (mono_now() - e->at > NAME_FRESH)
			(void)name_queue(c, e);
		return true;
	}
	if (e == NULL)
		e = name_slot(c, uid);
	snprintf(out, len, "uid %lu", (unsigned long)uid);
	return e == NULL || !name_queue(c, e);
}

/* ---- writing ------------------------------------------------------------ */

struct wreq {
	uv_write_t req;
	struct client *cl;
	size_t len;
	char data[];
};

static void client_close(struct client *cl);
static void req_free(struct control_req *r);

static void client_handle_closed(uv_handle_t *h)
{
	struct client *cl = h->data;
	struct control *c = cl->ctl;

	if (--cl->open_handles > 0)
		return;
	free(cl->buf);
	free(cl->groups);
	free(cl);
	control_unref(c);
}

static void client_close(struct client *cl)
{
	struct control *c = cl->ctl;

	if (cl->closing)
		return;
	cl->closing = true;
	if (cl->pending && cl->pending->waiting_name) {
		req_free(cl->pending); /* no verb has it yet */
		cl->pending = NULL;
	} else if (cl->pending) {
		cl->pending->client = NULL; /* its answer will be dropped */
		cl->pending = NULL;
	}
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->stats.clients--;
	uv_close((uv_handle_t *)&cl->timer, client_handle_closed);
	uv_close((uv_handle_t *)&cl->pipe, client_handle_closed);
}

static void client_drop(struct client *cl, const char *why)
{
	if (cl->closing)
		return;
	cl->ctl->stats.dropped++;
	if (cl->has_cred)
		log_debug(LOG_SUB_CONTROL, "control: closing client pid %ld uid %lu: %s",
		          (long)cl->pid, (unsigned long)cl->uid, why);
	else
		log_debug(LOG_SUB_CONTROL, "control: closing client: %s", why);
	client_close(cl);
}

static void write_done(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;

	if (status < 0 && status != UV_ECANCELED)
		client_drop(w->cl, uv_strerror(status));
	free(w);
}

static void shutdown_done(uv_shutdown_t *req, int status)
{
	struct client *cl = req->data;

	(void)status;
	free(req);
	client_close(cl);
}

/* No more requests from this client: close once its responses are out. */
static void client_finish(struct client *cl)
{
	uv_shutdown_t *sr;

	if (cl->closing || cl->shutting_down)
		return;
	cl->shutting_down = true;
	uv_read_stop((uv_stream_t *)&cl->pipe);
	sr = xmalloc(sizeof(*sr));
	sr->data = cl;
	if (uv_shutdown(sr, (uv_stream_t *)&cl->pipe, shutdown_done) < 0) {
		free(sr);
		client_close(cl);
	}
	/* the idle timer still runs: a peer that never reads cannot hold the shutdown */
}

/* Queue one response line; takes text (malloc'd, or NULL when encoding failed). */
static void client_send_text(struct client *cl, char *text)
{
	size_t n;
	struct wreq *w;
	uv_buf_t b;

	if (text == NULL) {
		text = xstrdup("{\"ok\":false,\"error\":\"response could not be encoded\","
		               "\"code\":\"internal\"}");
	}
	n = strlen(text);
	w = xmalloc(sizeof(*w) + n + 1);
	memcpy(w->data, text, n);
	w->data[n] = '\n';
	w->len = n + 1;
	w->cl = cl;
	free(text);
	b = uv_buf_init(w->data, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, write_done) < 0) {
		free(w);
		client_drop(cl, "write failed");
		return;
	}
	if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) >
	    cl->ctl->opts.write_queue_max)
		client_drop(cl, "it does not read its responses");
}

static void client_send(struct client *cl, json_t *resp)
{
	char *text = json_dumps(resp, CONTROL_JSON_FLAGS);

	json_decref(resp);
	client_send_text(cl, text);
}

static json_t *error_obj(const char *code, const char *msg)
{
	char clean[512];
	size_t i = 0;

	/* a name cut at a byte limit may end mid-character: keep the message ASCII */
	for (; msg[i] && i < sizeof(clean) - 1; i++)
		clean[i] =
		    (unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] > 0x7e ? '?' : msg[i];
	clean[i] = '\0';
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "error", clean, "code", code);
}

/* ---- requests ----------------------------------------------------------- */

static void idle_cb(uv_timer_t *t)
{
	client_drop(t->data, "idle timeout");
}

static void arm_idle(struct client *cl)
{
	uv_timer_start(&cl->timer, idle_cb, (uint64_t)(cl->ctl->opts.idle_timeout * 1e3), 0);
}

static void process_input(struct client *cl);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void req_free(struct control_req *r)
{
	json_decref(r->request);
	free(r);
}

const struct control_req_info *control_req_info(const struct control_req *r)
{
	return &r->info;
}

/* Send text (taken) as the answer to r and read the client's next request. */
static void reply_text(struct control_req *r, char *text, bool error)
{
	struct client *cl = r->client;

	if (cl == NULL || cl->closing) {
		free(text);
		req_free(r);
		return;
	}
	if (error || text == NULL)
		cl->ctl->stats.errors++;
	cl->pending = NULL;
	req_free(r);
	client_send_text(cl, text);
	if (cl->closing || cl->shutting_down)
		return;
	arm_idle(cl);
	uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, read_cb);
	if (!cl->in_process)
		process_input(cl);
}

void control_reply(struct control_req *r, json_t *resp)
{
	bool error = json_is_false(json_object_get(resp, "ok"));
	char *text = json_dumps(resp, CONTROL_JSON_FLAGS);

	json_decref(resp);
	reply_text(r, text, error);
}

void control_reply_encoded(struct control_req *r, char *text)
{
	reply_text(r, text, false);
}

void control_reply_error_json(struct control_req *r, const char *code, json_t *extra,
                              const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *resp;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp = error_obj(code, msg);
	if (extra) {
		json_object_update(resp, extra);
		json_decref(extra);
	}
	control_reply(r, resp);
}

void control_reply_error(struct control_req *r, const char *code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	control_reply(r, error_obj(code, msg));
}

/* An error before any handler: answer at once. */
static void early_error(struct client *cl, const char *code, const char *msg)
{
	cl->ctl->stats.errors++;
	client_send(cl, error_obj(code, msg));
}

static const struct control_verb *find_verb(const struct control *c, const char *verb)
{
	for (size_t i = 0; i < c->nverbs; i++)
		if (strcmp(c->verbs[i].verb, verb) == 0)
			return &c->verbs[i];
	return NULL;
}

json_t *control_parse_request(const char *line, size_t len, const char **verb, const char **code,
                              char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);

	*verb = NULL;
	if (req == NULL) {
		*code = CONTROL_E_BAD_REQUEST;
		snprintf(msg, msglen, "request is not valid JSON (UTF-8): %s at byte %d", jerr.text,
		         jerr.position);
		return NULL;
	}
	if (!json_is_object(req) || !json_is_string(json_object_get(req, "verb"))) {
		json_decref(req);
		*code = CONTROL_E_BAD_REQUEST;
		snprintf(msg, msglen, "a request is a JSON object with a string member \"verb\"");
		return NULL;
	}
	*verb = json_string_value(json_object_get(req, "verb"));
	return req;
}

/* The request's verb, now that its requester's name is known (or given up on). */
static void handle(struct client *cl, struct control_req *r)
{
	struct control *c = cl->ctl;
	const struct control_verb *v = r->verb;
	char msg[300];

	r->waiting_name = false;
	if (v->needs_admin) {
		char *text = json_dumps(r->request, JSON_COMPACT | JSON_ENSURE_ASCII);
		size_t tl = text ? strlen(text) : 0;

		if (!r->info.admin) {
			log_warnx("control: denied \"%s\" to uid %lu (%s) pid %ld: needs root or "
			          "group %s",
			          v->verb, (unsigned long)cl->uid, r->user, (long)cl->pid,
			          c->opts.admin_group ? c->opts.admin_group
			                              : "(none: set control.admin_group)");
			free(text);
			snprintf(msg, sizeof(msg),
			         "\"%s\" needs root or membership of %s%s; you are %s (uid %lu)",
			         v->verb, c->opts.admin_group ? "group " : "the admin group",
			         c->opts.admin_group ? c->opts.admin_group
			                             : " (control.admin_group)",
			         r->user, (unsigned long)cl->uid);
			control_reply_error(r, CONTROL_E_DENIED, "%s", msg);
			return;
		}
		log_notice("control: uid %lu (%s) pid %ld: %.*s%s", (unsigned long)cl->uid, r->user,
		           (long)cl->pid, (int)(tl < LOG_REQUEST_MAX ? tl : LOG_REQUEST_MAX),
		           text ? text : "", tl > LOG_REQUEST_MAX ? "..." : "");
		free(text);
	}
	v->handler(r, c->arg);
}

static void name_wait_cb(uv_timer_t *t)
{
	struct client *cl = t->data;

	/* the name service is slow: the request goes on as "uid N" (already in r->user) */
	if (cl->pending != NULL && cl->pending->waiting_name)
		handle(cl, cl->pending);
}

static void dispatch(struct client *cl, const char *line, size_t len)
{
	struct control *c = cl->ctl;
	const char *verb, *code;
	json_t *req;
	const struct control_verb *v;
	struct control_req *r;
	char msg[300];

	c->stats.requests++;
	req = control_parse_request(line, len, &verb, &code, msg, sizeof(msg));
	if (req == NULL) {
		early_error(cl, code, msg);
		return;
	}
	v = find_verb(c, verb);
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "unknown verb \"%.64s\"", verb);
		json_decref(req);
		early_error(cl, CONTROL_E_UNKNOWN_VERB, msg);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->client = cl;
	r->request = req;
	r->verb = v;
	r->info.verb = v->verb;
	r->info.request = req;
	r->info.uid = cl->uid;
	r->info.gid = cl->gid;
	r->info.pid = cl->pid;
	r->info.user = r->user;
	/* the kernel's view of the peer: no name service on the loop */
	r->info.admin =
	    cl->has_cred && control_peer_is_admin(cl->uid, cl->gid, cl->groups, cl->ngroups,
	                                          c->has_admin_gid, c->admin_gid);
	cl->pending = r;
	/* one request at a time: read no more until it is answered */
	uv_read_stop((uv_stream_t *)&cl->pipe);
	uv_timer_stop(&cl->timer);
	if (!cl->has_cred) {
		snprintf(r->user, sizeof(r->user), "uid %lu", (unsigned long)cl->uid);
	} else if (!name_of(c, cl->uid, r->user, sizeof(r->user))) {
		r->waiting_name = true;
		uv_timer_start(&cl->timer, name_wait_cb, NAME_WAIT_MS, 0);
		return;
	}
	handle(cl, r);
}

/* Answer every complete line in the buffer, one request at a time. */
static void process_input(struct client *cl)
{
	cl->in_process = true;
	while (!cl->closing && !cl->shutting_down && cl->pending == NULL) {
		char *nl = memchr(cl->buf, '\n', cl->len);
		size_t ll;

		if (nl == NULL) {
			if (cl->len > cl->ctl->opts.request_max)
				goto too_large;
			break;
		}
		ll = (size_t)(nl - cl->buf);
		if (ll > cl->ctl->opts.request_max)
			goto too_large;
		if (ll > 0 && cl->buf[ll - 1] == '\r')
			ll--;
		/* the line is consumed before dispatch: a synchronous answer re-enters here */
		{
			char *line = xstrndup(cl->buf, ll);
			size_t rest = cl->len - (size_t)(nl + 1 - cl->buf);

			memmove(cl->buf, nl + 1, rest);
			cl->len = rest;
			if (ll > 0)
				dispatch(cl, line, ll);
			free(line);
		}
	}
	cl->in_process = false;
	return;

too_large : {
	char msg[128];
	snprintf(msg, sizeof(msg), "request longer than %zu bytes; closing",
	         cl->ctl->opts.request_max);
	cl->ctl->stats.dropped++;
	early_error(cl, CONTROL_E_REQUEST_TOO_LARGE, msg);
	cl->len = 0;
	cl->in_process = false;
	client_finish(cl);
}
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct client *cl = h->data;

	(void)suggested;
	*buf = uv_buf_init(cl->ctl->rbuf, sizeof(cl->ctl->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct client *cl = s->data;

	if (nread < 0) {
		/* EOF or error: whatever it asked last is answered into the void */
		client_drop(cl, nread == UV_EOF ? "end of input" : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (cl->len + (size_t)nread > cl->cap) {
		cl->cap = cl->len + (size_t)nread + 1024;
		cl->buf = xrealloc(cl->buf, cl->cap);
	}
	memcpy(cl->buf + cl->len, buf->base, (size_t)nread);
	cl->len += (size_t)nread;
	process_input(cl);
}

/* ---- accepting ---------------------------------------------------------- */

/* The peer's supplementary groups as the kernel recorded them at connect(). */
static void peer_groups(struct control *c, struct client *cl, int fd)
{
	socklen_t len = 32 * sizeof(gid_t);

	for (;;) {
		socklen_t got = len;

		cl->groups = xrealloc(cl->groups, len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups, &got) == 0) {
			cl->ngroups = got / sizeof(gid_t);
			return;
		}
		if (errno != ERANGE || got <= len)
			break;
		len = got; /* the kernel says how much it needs */
	}
	cl->ngroups = 0;
	if (!c->groups_warned)
		log_warnx(
		    "control: cannot read a client's groups (SO_PEERGROUPS needs Linux 4.13): "
		    "%s; only root and members by primary group are admins",
		    strerror(errno));
	c->groups_warned = true;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct control *c = server->data;
	struct client *cl;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uv_os_fd_t fd;

	if (status < 0) {
		double now = mono_now();

		/* libuv accepted and closed the connection with its reserve fd (EMFILE) */
		c->stats.accept_errors++;
		if (now - c->last_accept_warn > 10.0) {
			log_warnx("control: cannot accept a client: %s (raise LimitNOFILE or "
			          "reduce concurrent anycastctl clients)",
			          uv_strerror(status));
			c->last_accept_warn = now;
		}
		return;
	}
	cl = xcalloc(1, sizeof(*cl));
	cl->ctl = c;
	uv_pipe_init(c->loop, &cl->pipe, 0);
	uv_timer_init(c->loop, &cl->timer);
	cl->pipe.data = cl;
	cl->timer.data = cl;
	cl->open_handles = 2;
	c->refs++;
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->stats.clients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) < 0) {
		c->stats.accept_errors++;
		client_close(cl);
		return;
	}
	c->stats.accepted++;
	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
		cl->uid = cred.uid;
		cl->gid = cred.gid;
		cl->pid = cred.pid;
		cl->has_cred = true;
		peer_groups(c, cl, fd);
	} else {
		/* without credentials it is nobody: status only */
		cl->uid = (uid_t)-1;
		cl->gid = (gid_t)-1;
	}
	arm_idle(cl);
	if (c->stats.clients > c->opts.max_clients) {
		c->stats.busy++;
		early_error(cl, CONTROL_E_BUSY, "too many control clients; try again");
		client_finish(cl);
		return;
	}
	uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, read_cb);
}

/* Create the directory of path (and its parents) 0755 if missing. */
static int make_dirs(const char *path, char **err)
{
	char *d = xstrdup(path);

	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST) {
			xasprintf(err, "cannot create directory %s for the control socket: %s", d,
			          strerror(errno));
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

/* Another agent on the path: refuse; a stale socket: remove. */
static int clear_path(const char *path, char **err)
{
	struct stat st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		xasprintf(err, "cannot inspect control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		xasprintf(err,
		          "%s exists and is not a socket; remove it or set another "
		          "control.socket",
		          path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		xasprintf(err, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc == 0) {
		close(fd);
		xasprintf(err,
		          "another anycast-agent is running on %s; stop it first or set "
		          "another control.socket",
		          path);
		return -1;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED) {
		xasprintf(err, "cannot tell whether another agent listens on %s: %s", path,
		          strerror(rc));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		xasprintf(err, "cannot remove stale control socket %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removed stale control socket %s", path);
	return 0;
}

int control_start(struct control *c, char **err)
{
	const char *path = c->opts.path;
	mode_t old;
	int rc;

	*err = NULL;
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		xasprintf(err, "control socket path %s is too long (max %zu bytes)", path,
		          sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return -1;
	}
	if (c->opts.group) {
		if (lookup_group("control.group", c->opts.group, &c->group_gid, err) < 0)
			return -1;
		c->has_group = true;
	}
	if (c->opts.admin_group && control_set_admin_group(c, c->opts.admin_group, err) < 0)
		return -1;
	if (make_dirs(path, err) < 0 || clear_path(path, err) < 0)
		return -1;
	uv_pipe_init(c->loop, &c->server, 0);
	c->server.data = c;
	c->server_init = true;
	/* born owner-only; opened up to control.mode once the group is right */
	old = umask(0177);
	rc = uv_pipe_bind(&c->server, path);
	umask(old);
	if (rc < 0) {
		xasprintf(err, "cannot create control socket %s: %s", path, uv_strerror(rc));
		return -1;
	}
	if (c->has_group && chown(path, (uid_t)-1, c->group_gid) < 0) {
		int e = errno;

		/* an unprivileged owner may give a file only to a group it is in */
		xasprintf(err, "cannot give control socket %s to group %s: %s%s%s%s", path,
		          c->opts.group, strerror(e),
		          e == EPERM && geteuid() != 0 ? "; the agent's user must be a member of "
		                                         "control.group (adduser USER "
		                                       : "",
		          e == EPERM && geteuid() != 0 ? c->opts.group : "",
		          e == EPERM && geteuid() != 0 ? "), or remove the setting" : "");
		unlink(path);
		return -1;
	}
	if (chmod(path, c->opts.mode & 0777) < 0) {
		xasprintf(err, "cannot chmod control socket %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	rc = uv_listen((uv_stream_t *)&c->server, 128, on_connection);
	if (rc < 0) {
		xasprintf(err, "cannot listen on control socket %s: %s", path, uv_strerror(rc));
		unlink(path);
		return -1;
	}
	c->listening = true;
	log_info("control socket %s (mode %04o%s%s)", path, c->opts.mode & 0777,
	         c->opts.group ? ", group " : "", c->opts.group ? c->opts.group : "");
	return 0;
}

static void server_closed(uv_handle_t *h)
{
	control_unref(h->data);
}

void control_free(struct control *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = true;
	resolver_stop(c);
	while (c->clients)
		client_close(c->clients);
	if (c->listening)
		unlink(c->opts.path);
	if (c->server_init)
		uv_close((uv_handle_t *)&c->server, server_closed);
	else
		control_unref(c);
}

void control_stats(const struct control *c, struct control_stats *st)
{
	*st = c->stats;
}
