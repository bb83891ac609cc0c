/* SPDX-License-Identifier: ISC */
/*
 * bird.c - the BIRD control-socket client (see bird.h): reply parser,
 * command queue, timeouts and reconnect with backoff on the libuv loop.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "bird.h"
#include "log.h"
#include "util.h"

/* ---- reply parser --------------------------------------------------------- */

void bird_parser_init(struct bird_parser *p, size_t max_line)
{
	memset(p, 0, sizeof(*p));
	p->max_line = max_line ? max_line : BIRD_LINE_MAX;
	p->code = -1;
}

void bird_parser_reset(struct bird_parser *p)
{
	p->len = 0;
	p->code = -1;
	p->failed = false;
	p->error[0] = '\0';
}

void bird_parser_free(struct bird_parser *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
}

bool bird_parser_in_reply(const struct bird_parser *p)
{
	return p->code >= 0;
}

static int parser_fail(struct bird_parser *p, const char *msg)
{
	p->failed = true;
	snprintf(p->error, sizeof(p->error), "%s", msg);
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One complete line (without its newline) sits in p->buf[0..p->len). */
static int parser_line(struct bird_parser *p, bird_line_cb cb, void *arg)
{
	char *s = p->buf;
	size_t n = p->len;
	struct bird_line l;

	s[n] = '\0';
	if (memchr(s, '\0', n) != NULL)
		return parser_fail(p, "NUL byte in a reply line");
	if (n == 0)
		return parser_fail(p, "empty reply line");
	if (s[0] == '+') {
		l.code = -1;
		l.kind = BIRD_LINE_ASYNC;
		l.text = s + 1;
		l.len = n - 1;
	} else if (s[0] == ' ') {
		if (p->code < 0)
			return parser_fail(p, "continuation line outside a reply");
		l.code = p->code;
		l.kind = BIRD_LINE_CONT;
		l.text = s + 1;
		l.len = n - 1;
	} else if (n >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	           (s[4] == '-' || s[4] == ' ')) {
		l.code =
		    (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
		l.kind = s[4] == '-' ? BIRD_LINE_MORE : BIRD_LINE_LAST;
		l.text = s + 5;
		l.len = n - 5;
	} else {
		return parser_fail(p, "reply line without a reply code");
	}
	if (l.kind == BIRD_LINE_MORE)
		p->code = l.code;
	else if (l.kind == BIRD_LINE_LAST)
		p->code = -1;
	return cb(&l, arg);
}

int bird_parser_feed(struct bird_parser *p, const void *data, size_t len, bird_line_cb cb,
                     void *arg)
{
	const char *d = data;

	if (p->failed)
		return -1;
	while (len > 0) {
		const char *nl = memchr(d, '\n', len);
		size_t take = nl ? (size_t)(nl - d) : len;
		int rc;

		if (p->len + take > p->max_line)
			return parser_fail(p, "reply line too long");
		if (p->len + take + 1 > p->cap) {
			size_t cap = p->cap ? p->cap : 256;
			while (cap < p->len + take + 1)
				cap *= 2;
			p->buf = xrealloc(p->buf, cap);
			p->cap = cap;
		}
		memcpy(p->buf + p->len, d, take);
		p->len += take;
		if (nl == NULL)
			return 0;
		d += take + 1;
		len -= take + 1;
		rc = parser_line(p, cb, arg);
		p->len = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

int bird_parser_eof(struct bird_parser *p)
{
	if (p->failed)
		return -1;
	if (p->len > 0)
		return parser_fail(p, "connection closed in the middle of a line");
	if (p->code >= 0)
		return parser_fail(p, "connection closed in the middle of a reply");
	return 0;
}

/* ---- results -------------------------------------------------------------- */

static const char *const status_names[] = {
#define X(code, name) [code] = name,
    BIRD_STATUSES(X)
#undef X
};

const char *bird_status_name(enum bird_status st)
{
	if ((unsigned)st >= BIRD__STATUS_COUNT)
		return "?";
	return status_names[st];
}

int bird_status_from_code(int code)
{
	if (code < 0 || code > 9999)
		return BIRD_ERROR;
	if (code < 1000)
		return BIRD_OK;
	if (code == 8003 || code == 9001 || code == 9002)
		return BIRD_NO_SUCH_PROTOCOL;
	if (code == 8007)
		return BIRD_ACCESS_DENIED;
	if (code >= 8000)
		return BIRD_ERROR;
	return -1;
}

size_t bird_message_sanitize(char *dst, size_t dstsz, const char *src)
{
	size_t n = 0, max = BIRD_MSG_MAX;

	if (dstsz == 0)
		return 0;
	if (dstsz - 1 < max)
		max = dstsz - 1;
	for (; src && *src && n < max; src++) {
		unsigned char c = (unsigned char)*src;
		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			continue;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return n;
}

/* Copy at most dstsz - 1 bytes of s[0..n) into dst. */
static void copy_field(char *dst, size_t dstsz, const char *s, size_t n)
{
	if (n > dstsz - 1)
		n = dstsz - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static const char *next_token(const char **cur, size_t *n)
{
	const char *s = *cur, *start;
	while (*s == ' ')
		s++;
	start = s;
	while (*s && *s != ' ')
		s++;
	*n = (size_t)(s - start);
	*cur = s;
	return start;
}

int bird_protocol_parse_row(const char *text, struct bird_protocol *out)
{
	struct {
		char *dst;
		size_t sz;
	} cols[] = {
	    {out->name, sizeof(out->name)},
	    {out->proto, sizeof(out->proto)},
	    {out->table, sizeof(out->table)},
	    {out->state, sizeof(out->state)},
	};
	const char *cur = text, *since, *end;
	size_t n;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
		const char *tok = next_token(&cur, &n);
		if (n == 0)
			return -1;
		copy_field(cols[i].dst, cols[i].sz, tok, n);
	}
	/* "since" may hold one space ("2026-11-25 13:36:24"); BIRD puts two
	 * spaces between it and the info column. */
	while (*cur == ' ')
		cur++;
	if (*cur == '\0')
		return -1;
	since = cur;
	end = strstr(since, "  ");
	if (end == NULL)
		end = since + strlen(since);
	copy_field(out->since, sizeof(out->since), since, (size_t)(end - since));
	cur = end;
	while (*cur == ' ')
		cur++;
	n = strlen(cur);
	while (n > 0 && cur[n - 1] == ' ')
		n--;
	copy_field(out->info, sizeof(out->info), cur, n);
	out->up = strcmp(out->state, "up") == 0;
	out->disabled = strcmp(out->state, "down") == 0;
	out->settling = strcmp(out->state, "stop") == 0 || strcmp(out->state, "flush") == 0;
	return 0;
}

/* ---- show route ------------------------------------------------------------ */

/* The origin of the route being read, from `Type: X ...` (1008, BIRD 1.6/2, BIRD 3 with `v2
 * attributes`) or `source: X` (1012, BIRD 3); the first one seen counts. */
static void route_origin(struct bird_route_list *l, const struct bird_line *line)
{
	const char *t = line->text, *end;
	const char *key = line->code == 1008 ? "Type:" : "source:";
	struct bird_route *r = &l->v[l->n - 1];

	while (*t == ' ' || *t == '\t')
		t++;
	if (strncmp(t, key, strlen(key)) != 0 || r->origin[0] != '\0')
		return;
	t += strlen(key);
	while (*t == ' ')
		t++;
	end = t + strcspn(t, " \t");
	copy_field(r->origin, sizeof(r->origin), t, (size_t)(end - t));
}

void bird_route_parse_line(struct bird_route_list *l, const struct bird_line *line)
{
	const char *t = line->text, *end;
	struct bird_route *r;

	if (line->kind == BIRD_LINE_ASYNC)
		return;
	if ((line->code == 1008 || line->code == 1012) && l->n > 0) {
		route_origin(l, line);
		return;
	}
	if (line->code != 1007)
		return;
	t = strchr(t, '[');
	if (t == NULL) /* "Table master4:", "via ... on ..." */
		return;
	t++;
	end = t + strcspn(t, " ]");
	if (end == t || *end == '\0' || (size_t)(end - t) > BIRD_NAME_MAX) {
		l->bad = true;
		return;
	}
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	r = &l->v[l->n++];
	memset(r, 0, sizeof(*r));
	copy_field(r->proto, sizeof(r->proto), t, (size_t)(end - t));
	end = strchr(end, ']');
	/* "[proto time ...] * (pref)": the star after the bracket marks the best route */
	r->best = end != NULL && strncmp(end, "] *", 3) == 0;
}

void bird_route_list_free(struct bird_route_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

bool bird_version_parse(const char *version, unsigned v[3])
{
	const char *t = version;

	v[0] = v[1] = v[2] = 0;
	if (t == NULL || strncmp(t, "BIRD ", 5) != 0 || !is_digit(t[5]))
		return false;
	t += 5;
	for (int i = 0; i < 3; i++) {
		unsigned long n = 0;

		if (!is_digit(*t))
			break;
		for (; is_digit(*t); t++) /* saturates: no overflow on absurd input */
			if (n < 100000)
				n = n * 10 + (unsigned long)(*t - '0');
		v[i] = (unsigned)n;
		if (*t != '.')
			break;
		t++;
	}
	return true;
}

bool bird_version_takes_message(const char *version)
{
	unsigned v[3];

	if (!bird_version_parse(version, v))
		return true;
	return v[0] > 1 || (v[0] == 1 && (v[1] > 6 || (v[1] == 6 && v[2] >= 4)));
}

bool bird_prefix_valid(const char *prefix)
{
	char addr[INET6_ADDRSTRLEN + 1], bin[16], *end;
	const char *slash = prefix ? strchr(prefix, '/') : NULL;
	size_t n;
	long len;
	int af;

	if (slash == NULL || (n = (size_t)(slash - prefix)) == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, prefix, n);
	addr[n] = '\0';
	af = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, addr, bin) != 1)
		return false;
	if (slash[1] < '0' || slash[1] > '9')
		return false;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	return errno == 0 && *end == '\0' && len >= 0 && len <= (af == AF_INET ? 32 : 128) &&
	       end - (slash + 1) <= 3;
}

/* ---- client --------------------------------------------------------------- */

enum cmd_kind { CMD_ENABLE, CMD_DISABLE, CMD_SHOW, CMD_ROUTE };

struct bird_cmd {
	TAILQ_ENTRY(bird_cmd) entry;
	enum cmd_kind kind;
	char line[BIRD_CMD_MAX + 1]; /* with the newline */
	size_t len;
	char proto[BIRD_NAME_MAX + 1]; /* enable/disable: the name BIRD must echo */
	size_t bare_len;               /* enable/disable: length of the line without its message */
	bird_done_cb done;
	bird_show_cb show;
	bird_route_cb route;
	struct bird_route_list routes;
	void *arg;
	bool show_all;
	/* the reply so far */
	int decided_code; /* first line that decides the status; -1 none */
	char decided_text[256];
	bool changed, bad_row;
	struct bird_protocol *protos;
	size_t nprotos, cap;
	size_t reply_bytes;
	uint64_t sent_ns;
};
TAILQ_HEAD(cmd_queue, bird_cmd);

enum conn_state {
	BC_BACKOFF,    /* not connected; the timer fires the next attempt */
	BC_CONNECTING, /* uv_pipe_connect in progress */
	BC_BANNER,     /* connected, waiting for 0001 */
	BC_READY,      /* idle or a command in flight (inflight != NULL) */
};

/* One connection; freed in its close callback, so late libuv callbacks
 * after a drop find conn->bc == NULL and do nothing. */
struct bird_conn {
	uv_pipe_t pipe;
	uv_connect_t creq;
	struct bird_client *bc;
	char rbuf[4096];
};

struct bird_client {
	uv_loop_t *loop;
	char *name, *path;
	double cmd_timeout, backoff_min, backoff_max;
	struct bird_client_cbs cbs;
	void *arg;

	uv_timer_t timer; /* connect/banner timeout, command timeout or backoff */
	struct bird_conn *conn;
	enum conn_state state;
	bool closing;
	struct bird_parser parser;
	struct cmd_queue queue;
	struct bird_cmd *inflight;
	uint64_t rng;

	char version[64];
	char last_error[256];
	size_t conn_bytes; /* sent on this connection */
	bool recycling;    /* planned reconnect (BIRD 1.x budget): no callbacks */
	unsigned failures;
	bool not_answering; /* the last failure was a timeout: BIRD is alive but stopped */
	uint64_t commands_ok, commands_failed, connects;
	bool error_logged; /* last_error was logged; repeat failures go to debug */
};

static void client_connect(struct bird_client *bc);
static void client_drop(struct bird_client *bc, enum bird_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static uint64_t ms_of(double s)
{
	return s <= 0 ? 0 : (uint64_t)(s * 1e3 + 0.5);
}

static double jitter01(struct bird_client *bc)
{
	/* xorshift64: only spreads reconnects of many agents apart. */
	bc->rng ^= bc->rng << 13;
	bc->rng ^= bc->rng >> 7;
	bc->rng ^= bc->rng << 17;
	return (double)(bc->rng >> 11) / (double)(1ULL << 53);
}

static void sanitize_text(char *dst, size_t dstsz, const char *src, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[j++] = (c >= 0x20 && c <= 0x7e) ? (char)c : '?';
	}
	dst[j] = '\0';
}

static void cmd_free(struct bird_cmd *c)
{
	free(c->protos);
	bird_route_list_free(&c->routes);
	free(c);
}

/* Run the command's callback once and free it. */
static void cmd_finish(struct bird_client *bc, struct bird_cmd *c, enum bird_status st, int code,
                       const char *text)
{
	struct bird_reply r = {
	    .status = st,
	    .code = code,
	    .text = text ? text : "",
	    .changed = c->changed,
	    .latency = c->sent_ns ? (double)(uv_hrtime() - c->sent_ns) / 1e9 : 0,
	};
	if (st == BIRD_OK)
		bc->commands_ok++;
	else
		bc->commands_failed++;
	if (c->kind == CMD_SHOW)
		c->show(bc, &r, st == BIRD_OK ? c->protos : NULL, st == BIRD_OK ? c->nprotos : 0,
		        c->arg);
	else if (c->kind == CMD_ROUTE)
		c->route(bc, &r, st == BIRD_OK ? c->routes.v : NULL,
		         st == BIRD_OK ? c->routes.n : 0, c->arg);
	else
		c->done(bc, &r, c->arg);
	cmd_free(c);
}

/* Fail every command (in flight first) with st. The queue is detached
 * first, so callbacks that queue or free see a consistent client. */
static void fail_all(struct bird_client *bc, enum bird_status inflight_st, enum bird_status st,
                     const char *text)
{
	struct cmd_queue q = TAILQ_HEAD_INITIALIZER(q);
	struct bird_cmd *c = bc->inflight;

	TAILQ_CONCAT(&q, &bc->queue, entry);
	bc->inflight = NULL;
	if (c != NULL)
		cmd_finish(bc, c, inflight_st, 0, text);
	while ((c = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, c, entry);
		cmd_finish(bc, c, st, 0, text);
	}
}

static void conn_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void conn_close(struct bird_client *bc)
{
	struct bird_conn *conn = bc->conn;
	if (conn == NULL)
		return;
	bc->conn = NULL;
	conn->bc = NULL;
	/* A plain close, never uv_shutdown: BIRD drops queued output on EOF. */
	uv_close((uv_handle_t *)&conn->pipe, conn_close_cb);
}

static void set_error(struct bird_client *bc, const char *msg)
{
	bool same = strcmp(bc->last_error, msg) == 0;
	snprintf(bc->last_error, sizeof(bc->last_error), "%s", msg);
	/* A BIRD that stays down would log every retry: log changes only. */
	if (same && bc->error_logged)
		log_debug(LOG_SUB_BIRD, "bird %s: %s", bc->name, msg);
	else
		log_warnx("bird %s (%s): %s", bc->name, bc->path, msg);
	bc->error_logged = true;
}

static void timer_cb(uv_timer_t *t);

static void schedule_reconnect(struct bird_client *bc)
{
	double d = bc->backoff_min;
	/* A stopped BIRD (SIGSTOP, a long reconfigure) answers as soon as it resumes: retry at
	 * the shortest delay so the decision reaches it then, not after a grown backoff. */
	for (unsigned i = 1; !bc->not_answering && i < bc->failures && d < bc->backoff_max; i++)
		d *= 2;
	bc->not_answering = false;
	if (d > bc->backoff_max)
		d = bc->backoff_max;
	d = d / 2 + d / 2 * jitter01(bc);
	bc->state = BC_BACKOFF;
	uv_timer_start(&bc->timer, timer_cb, ms_of(d), 0);
	log_debug(LOG_SUB_BIRD, "bird %s: reconnecting in %.3f s (failure %u)", bc->name, d,
	          bc->failures);
}

/* Drop the connection (or the attempt), fail the commands, plan a retry. */
static void client_drop(struct bird_client *bc, enum bird_status st, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	bool was_up = bc->state == BC_READY || bc->recycling;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	conn_close(bc);
	bird_parser_reset(&bc->parser);
	bc->recycling = false;
	bc->failures++;
	set_error(bc, reason);
	uv_timer_stop(&bc->timer);
	schedule_reconnect(bc);
	fail_all(bc, st, BIRD_DISCONNECTED, reason);
	if (was_up && !bc->closing && bc->cbs.disconnected)
		bc->cbs.disconnected(bc, reason, bc->arg);
}

static void write_cb(uv_write_t *req, int status)
{
	struct bird_conn *conn = req->data;
	free(req);
	if (status < 0 && status != UV_ECANCELED && conn->bc != NULL)
		client_drop(conn->bc, BIRD_DISCONNECTED, "cannot send to BIRD: %s",
		            uv_strerror(status));
}

/*
 * BIRD 1.6.8 resets its CLI read position only when the CLI goes idle; a
 * client that sends each command right after the previous reply walks
 * through the 1024-byte buffer and BIRD closes the connection (measured:
 * after ~40 enable/disable pairs). Only bytes sent on one connection can
 * move it, so on BIRD 1.x we reconnect before sending more than this.
 */
#define BIRD1_CONN_BUDGET 900

static bool needs_budget(const struct bird_client *bc)
{
	return strncmp(bc->version, "BIRD 1.", 7) == 0;
}

static void send_next(struct bird_client *bc)
{
	struct bird_cmd *c;
	uv_write_t *req;
	uv_buf_t buf;
	int rc;

	if (bc->state != BC_READY || bc->inflight != NULL || bc->closing)
		return;
	c = TAILQ_FIRST(&bc->queue);
	if (c == NULL)
		return;
	if (c->bare_len > 0 && !bird_version_takes_message(bc->version)) {
		/* BIRD < 1.6.4 reads `disable P "msg"` as a syntax error: send `disable P` */
		c->line[c->bare_len] = '\n';
		c->line[c->bare_len + 1] = '\0';
		c->len = c->bare_len + 1;
		c->bare_len = 0;
	}
	if (needs_budget(bc) && bc->conn_bytes + c->len > BIRD1_CONN_BUDGET) {
		log_debug(LOG_SUB_BIRD, "bird %s: %zu bytes sent, reconnecting (BIRD 1.x)",
		          bc->name, bc->conn_bytes);
		conn_close(bc);
		bc->recycling = true;
		client_connect(bc);
		return;
	}
	bc->conn_bytes += c->len;
	TAILQ_REMOVE(&bc->queue, c, entry);
	bc->inflight = c;
	log_debug(LOG_SUB_BIRD, "bird %s: > %.*s", bc->name, (int)c->len - 1, c->line);
	req = xcalloc(1, sizeof(*req));
	req->data = bc->conn;
	/* c->line lives until the reply arrives, which is after the write. */
	buf = uv_buf_init(c->line, (unsigned)c->len);
	c->sent_ns = uv_hrtime();
	uv_timer_start(&bc->timer, timer_cb, ms_of(bc->cmd_timeout), 0);
	rc = uv_write(req, (uv_stream_t *)&bc->conn->pipe, &buf, 1, write_cb);
	if (rc < 0) {
		free(req);
		client_drop(bc, BIRD_DISCONNECTED, "cannot send to BIRD: %s", uv_strerror(rc));
	}
}

static void cmd_add_proto(struct bird_cmd *c, const char *text)
{
	struct bird_protocol p;
	if (bird_protocol_parse_row(text, &p) < 0) {
		c->bad_row = true;
		return;
	}
	if (c->nprotos == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->protos = xrealloc(c->protos, c->cap * sizeof(*c->protos));
	}
	c->protos[c->nprotos++] = p;
}

/* A line of the reply to the command in flight. */
static void cmd_line(struct bird_client *bc, struct bird_cmd *c, const struct bird_line *l)
{
	int st = bird_status_from_code(l->code);

	if (c->kind == CMD_ROUTE && (l->code == 1007 || l->code == 1008 || l->code == 1012)) {
		bird_route_parse_line(&c->routes, l);
	} else if (c->kind == CMD_ROUTE && l->code == 8001) {
		/* "Network not found": no route at all, an answer like any other */
	} else if (c->kind == CMD_SHOW && l->code == 1002) {
		cmd_add_proto(c, l->text);
	} else if (c->kind == CMD_SHOW && l->code == 1006 && c->nprotos > 0) {
		const char *t = l->text;
		while (*t == ' ')
			t++;
		struct bird_protocol *p = &c->protos[c->nprotos - 1];
		if (strncmp(t, "Message:", 8) == 0) {
			t += 8;
			while (*t == ' ')
				t++;
			copy_field(p->message, sizeof(p->message), t, strlen(t));
		} else if (strncmp(t, "Description:", 12) == 0) {
			t += 12;
			while (*t == ' ')
				t++;
			copy_field(p->description, sizeof(p->description), t, strlen(t));
		}
	} else if (st != BIRD_OK && st >= 0 && c->decided_code < 0) {
		c->decided_code = l->code;
		sanitize_text(c->decided_text, sizeof(c->decided_text), l->text, l->len);
	} else if (c->kind != CMD_SHOW && l->code >= 8 && l->code <= 11 && c->decided_code < 0) {
		size_t n = strlen(c->proto);
		/* BIRD echoes "NAME: enabled"; anything else is not our answer. */
		if (strncmp(l->text, c->proto, n) == 0 && l->text[n] == ':') {
			bool want_enable = c->kind == CMD_ENABLE;
			bool is_enable = l->code == 10 || l->code == 11;
			if (want_enable == is_enable) {
				c->decided_code = l->code;
				c->changed = l->code == 9 || l->code == 11;
				sanitize_text(c->decided_text, sizeof(c->decided_text), l->text,
				              l->len);
			}
		}
	}
}

static void cmd_complete(struct bird_client *bc, struct bird_cmd *c, const struct bird_line *last)
{
	enum bird_status st;
	int code = c->decided_code;
	const char *text = c->decided_text;

	if (code >= 0) {
		st = bird_status_from_code(code);
	} else if (bird_status_from_code(last->code) == BIRD_OK && c->kind == CMD_SHOW) {
		st = BIRD_OK;
		code = last->code;
		text = "";
	} else if (c->kind == CMD_ROUTE &&
	           (last->code == 8001 || bird_status_from_code(last->code) == BIRD_OK)) {
		st = BIRD_OK;
		code = last->code;
		text = "";
	} else {
		st = BIRD_ERROR;
		code = last->code;
		text = "unexpected reply from BIRD";
	}
	if (st == BIRD_OK && c->routes.bad) {
		st = BIRD_ERROR;
		text = "cannot parse a `show route` line from BIRD";
	}
	if (st == BIRD_OK && c->bad_row) {
		st = BIRD_ERROR;
		text = "cannot parse a `show protocols` row from BIRD";
	}
	bc->failures = 0;
	cmd_finish(bc, c, st, code, text);
}

static int on_line(const struct bird_line *l, void *arg)
{
	struct bird_client *bc = arg;
	struct bird_cmd *c = bc->inflight;

	if (l->kind == BIRD_LINE_ASYNC)
		return 0;
	if (bc->state == BC_BANNER) {
		char text[128];
		sanitize_text(text, sizeof(text), l->text, l->len);
		if (l->kind != BIRD_LINE_LAST || l->code != 1 || strncmp(text, "BIRD ", 5) != 0) {
			client_drop(bc, BIRD_DISCONNECTED,
			            "no BIRD banner (got %04d \"%.60s\"): is %s BIRD's control "
			            "socket?",
			            l->code, text, bc->path);
			return 1;
		}
		char *ready = strstr(text, " ready.");
		if (ready)
			*ready = '\0';
		copy_field(bc->version, sizeof(bc->version), text, strlen(text));
		bc->state = BC_READY;
		bc->connects++;
		uv_timer_stop(&bc->timer);
		if (TAILQ_EMPTY(&bc->queue))
			bc->failures = 0;
		if (bc->recycling) {
			/* the same session as far as callers are concerned */
			bc->recycling = false;
			send_next(bc);
			return bc->closing || bc->state != BC_READY;
		}
		if (bc->error_logged || log_debug_enabled(LOG_SUB_BIRD))
			log_info("bird %s: connected to %s (%s)", bc->name, bc->path, bc->version);
		bc->error_logged = false;
		bc->last_error[0] = '\0';
		if (bc->cbs.connected)
			bc->cbs.connected(bc, bc->version, bc->arg);
		if (bc->closing || bc->state != BC_READY)
			return 1;
		send_next(bc);
		return 0;
	}
	if (c == NULL) {
		client_drop(bc, BIRD_DISCONNECTED, "BIRD sent a reply nobody asked for (code %04d)",
		            l->code);
		return 1;
	}
	c->reply_bytes += l->len + 6;
	if (c->reply_bytes > BIRD_REPLY_MAX) {
		client_drop(bc, BIRD_DISCONNECTED, "reply from BIRD larger than %d bytes",
		            BIRD_REPLY_MAX);
		return 1;
	}
	cmd_line(bc, c, l);
	if (l->kind != BIRD_LINE_LAST)
		return 0;
	bc->inflight = NULL;
	uv_timer_stop(&bc->timer);
	cmd_complete(bc, c, l);
	if (bc->closing || bc->state != BC_READY)
		return 1;
	send_next(bc);
	return 0;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct bird_conn *conn = h->data;
	*buf = uv_buf_init(conn->rbuf, sizeof(conn->rbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct bird_conn *conn = s->data;
	struct bird_client *bc = conn->bc;

	if (bc == NULL || n == 0)
		return;
	if (n == UV_EOF) {
		if (bird_parser_eof(&bc->parser) < 0)
			client_drop(bc, BIRD_DISCONNECTED, "BIRD closed the connection: %s",
			            bc->parser.error);
		else
			client_drop(bc, BIRD_DISCONNECTED, "BIRD closed the connection");
		return;
	}
	if (n < 0) {
		client_drop(bc, BIRD_DISCONNECTED, "cannot read from BIRD: %s",
		            uv_strerror((int)n));
		return;
	}
	if (bird_parser_feed(&bc->parser, buf->base, (size_t)n, on_line, bc) < 0)
		client_drop(bc, BIRD_DISCONNECTED, "garbled reply from BIRD: %s", bc->parser.error);
}

/* False only when path exists and is something other than a socket. */
static bool path_is_socket(const char *path)
{
	struct stat st;
	return stat(path, &st) < 0 || S_ISSOCK(st.st_mode);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct bird_conn *conn = req->data;
	struct bird_client *bc = conn->bc;
	int rc;

	if (bc == NULL)
		return;
	if (status < 0) {
		const char *hint = "";
		if (status == UV_ENOENT)
			hint = " (is BIRD running? check the socket path)";
		else if (status == UV_ECONNREFUSED && !path_is_socket(bc->path))
			/* connect(2) to a regular file also says ECONNREFUSED */
			hint = " (the path is not a socket: check the socket path, restart BIRD)";
		else if (status == UV_ECONNREFUSED)
			hint = " (stale socket: is BIRD running?)";
		else if (status == UV_EACCES)
			hint = " (the agent needs BIRD's group, e.g. bird)";
		else if (status == UV_EAGAIN) {
			hint = " (BIRD's listen queue is full: BIRD is not answering)";
			bc->not_answering = true;
		}
		client_drop(bc, BIRD_DISCONNECTED, "cannot connect: %s%s", uv_strerror(status),
		            hint);
		return;
	}
	bc->state = BC_BANNER;
	rc = uv_read_start((uv_stream_t *)&conn->pipe, alloc_cb, read_cb);
	if (rc < 0)
		client_drop(bc, BIRD_DISCONNECTED, "cannot read from BIRD: %s", uv_strerror(rc));
}

static void client_connect(struct bird_client *bc)
{
	struct bird_conn *conn = xcalloc(1, sizeof(*conn));
	int rc = uv_pipe_init(bc->loop, &conn->pipe, 0);

	if (rc < 0)
		fatalx("bird %s: uv_pipe_init: %s", bc->name, uv_strerror(rc));
	conn->bc = bc;
	conn->pipe.data = conn;
	conn->creq.data = conn;
	bc->conn = conn;
	bc->conn_bytes = 0;
	bc->state = BC_CONNECTING;
	bird_parser_reset(&bc->parser);
	/* One timeout covers connect and banner. */
	uv_timer_start(&bc->timer, timer_cb, ms_of(bc->cmd_timeout), 0);
	uv_pipe_connect(&conn->creq, &conn->pipe, bc->path, connect_cb);
}

static void timer_cb(uv_timer_t *t)
{
	struct bird_client *bc = t->data;

	switch (bc->state) {
	case BC_BACKOFF:
		client_connect(bc);
		break;
	case BC_CONNECTING:
		bc->not_answering = true;
		client_drop(bc, BIRD_DISCONNECTED,
		            "connect timed out after %.1f s (BIRD is not answering)",
		            bc->cmd_timeout);
		break;
	case BC_BANNER:
		bc->not_answering = true;
		client_drop(bc, BIRD_DISCONNECTED,
		            "no banner from BIRD within %.1f s (BIRD is not answering)",
		            bc->cmd_timeout);
		break;
	case BC_READY:
		if (bc->inflight == NULL)
			break;
		bc->not_answering = true;
		client_drop(bc, BIRD_TIMEOUT,
		            "no reply from BIRD within %.1f s to \"%.*s\" (BIRD is not answering)",
		            bc->cmd_timeout, (int)bc->inflight->len - 1, bc->inflight->line);
		break;
	}
}

struct bird_client *bird_client_new(uv_loop_t *loop, const char *name, const char *path,
                                    double cmd_timeout_s, const struct bird_client_cbs *cbs,
                                    void *arg)
{
	struct bird_client *bc;

	if (loop == NULL || path == NULL || *path == '\0' || !(cmd_timeout_s > 0))
		fatalx("bird_client_new: a loop, a socket path and a positive timeout are needed");
	bc = xcalloc(1, sizeof(*bc));
	bc->loop = loop;
	bc->name = xstrdup(name ? name : "bird");
	bc->path = xstrdup(path);
	bc->cmd_timeout = cmd_timeout_s;
	bc->backoff_min = 0.1;
	bc->backoff_max = 5.0;
	if (cbs)
		bc->cbs = *cbs;
	bc->arg = arg;
	bc->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)bc ^ 0x9e3779b97f4a7c15ULL;
	if (bc->rng == 0)
		bc->rng = 1;
	TAILQ_INIT(&bc->queue);
	bird_parser_init(&bc->parser, BIRD_LINE_MAX);
	uv_timer_init(loop, &bc->timer);
	bc->timer.data = bc;
	client_connect(bc);
	return bc;
}

void bird_client_set_backoff(struct bird_client *bc, double min_s, double max_s)
{
	if (min_s > 0)
		bc->backoff_min = min_s;
	if (max_s >= bc->backoff_min)
		bc->backoff_max = max_s;
}

static void client_close_cb(uv_handle_t *h)
{
	struct bird_client *bc = h->data;
	bird_parser_free(&bc->parser);
	free(bc->name);
	free(bc->path);
	free(bc);
}

void bird_client_free(struct bird_client *bc)
{
	if (bc == NULL || bc->closing)
		return;
	bc->closing = true;
	conn_close(bc);
	uv_timer_stop(&bc->timer);
	fail_all(bc, BIRD_DISCONNECTED, BIRD_DISCONNECTED, "client closed");
	uv_close((uv_handle_t *)&bc->timer, client_close_cb);
}

static enum bird_status queue_cmd(struct bird_client *bc, struct bird_cmd *c)
{
	size_t n = 0;
	struct bird_cmd *it;

	if (bc->closing || bc->state == BC_BACKOFF) {
		cmd_free(c);
		return BIRD_DISCONNECTED;
	}
	TAILQ_FOREACH(it, &bc->queue, entry)
	{
		if (++n >= BIRD_QUEUE_MAX) {
			log_warnx("bird %s: %d commands queued; refusing more", bc->name,
			          BIRD_QUEUE_MAX);
			cmd_free(c);
			return BIRD_REFUSED_LOCALLY;
		}
	}
	c->decided_code = -1;
	TAILQ_INSERT_TAIL(&bc->queue, c, entry);
	send_next(bc);
	return BIRD_OK;
}

/* Build "fmt\n" into c->line; refuse what would exceed BIRD_CMD_MAX. */
static int cmd_format(struct bird_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int cmd_format(struct bird_cmd *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->line, sizeof(c->line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n + 1 > BIRD_CMD_MAX)
		return -1;
	c->line[n] = '\n';
	c->line[n + 1] = '\0';
	c->len = (size_t)n + 1;
	return 0;
}

static enum bird_status toggle(struct bird_client *bc, enum cmd_kind kind, const char *proto,
                               const char *reason, bird_done_cb cb, void *arg)
{
	const char *verb = kind == CMD_ENABLE ? "enable" : "disable";
	char msg[BIRD_MSG_MAX + 1];
	struct bird_cmd *c;
	int rc;

	if (cb == NULL || !bird_symbol_valid(proto))
		return BIRD_REFUSED_LOCALLY;
	bird_message_sanitize(msg, sizeof(msg), reason);
	c = xcalloc(1, sizeof(*c));
	c->kind = kind;
	c->done = cb;
	c->arg = arg;
	snprintf(c->proto, sizeof(c->proto), "%s", proto);
	if (msg[0]) {
		rc = cmd_format(c, "%s %s \"%s\"", verb, proto, msg);
		c->bare_len = strlen(verb) + 1 + strlen(proto);
	} else
		rc = cmd_format(c, "%s %s", verb, proto);
	if (rc < 0) {
		cmd_free(c);
		return BIRD_REFUSED_LOCALLY;
	}
	return queue_cmd(bc, c);
}

enum bird_status bird_enable(struct bird_client *bc, const char *proto, const char *reason,
                             bird_done_cb cb, void *arg)
{
	return toggle(bc, CMD_ENABLE, proto, reason, cb, arg);
}

enum bird_status bird_disable(struct bird_client *bc, const char *proto, const char *reason,
                              bird_done_cb cb, void *arg)
{
	return toggle(bc, CMD_DISABLE, proto, reason, cb, arg);
}

enum bird_status bird_show_protocols(struct bird_client *bc, const char *name, bool all,
                                     bird_show_cb cb, void *arg)
{
	struct bird_cmd *c;

	if (cb == NULL || (name != NULL && !bird_symbol_valid(name)))
		return BIRD_REFUSED_LOCALLY;
	c = xcalloc(1, sizeof(*c));
	c->kind = CMD_SHOW;
	c->show = cb;
	c->arg = arg;
	c->show_all = all;
	if (cmd_format(c, "show protocols%s%s%s", all ? " all" : "", name ? " " : "",
	               name ? name : "") < 0) {
		cmd_free(c);
		return BIRD_REFUSED_LOCALLY;
	}
	return queue_cmd(bc, c);
}

enum bird_status bird_show_route_for(struct bird_client *bc, const char *prefix, bird_route_cb cb,
                                     void *arg)
{
	struct bird_cmd *c;

	/* only a validated prefix reaches BIRD's command line */
	if (cb == NULL || !bird_prefix_valid(prefix))
		return BIRD_REFUSED_LOCALLY;
	c = xcalloc(1, sizeof(*c));
	c->kind = CMD_ROUTE;
	c->route = cb;
	c->arg = arg;
	if (cmd_format(c, "show route for %s all", prefix) < 0) {
		cmd_free(c);
		return BIRD_REFUSED_LOCALLY;
	}
	return queue_cmd(bc, c);
}

void bird_client_state(const struct bird_client *bc, struct bird_client_state *st)
{
	const struct bird_cmd *c;

	memset(st, 0, sizeof(*st));
	st->name = bc->name;
	st->path = bc->path;
	st->connected = bc->state == BC_READY && !bc->closing;
	st->version = bc->version;
	st->last_error = bc->last_error;
	st->consecutive_failures = bc->failures;
	st->queued = bc->inflight ? 1 : 0;
	TAILQ_FOREACH(c, &bc->queue, entry)
	st->queued++;
	st->commands_ok = bc->commands_ok;
	st->commands_failed = bc->commands_failed;
	st->connects = bc->connects;
}
