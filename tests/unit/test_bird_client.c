/* SPDX-License-Identifier: ISC */
/*
 * test_bird_client.c - the BIRD client against a fake BIRD: a Unix socket
 * server on the same libuv loop that replays captured replies, hangs,
 * answers garbage, closes mid-reply or never sends the banner. A separate
 * ticker timer on the loop measures that the client never blocks it.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "bird.h"
#include "log.h"
#include "util.h"

#ifndef BIRD_TEST_DATA
#define BIRD_TEST_DATA "tests/data/bird"
#endif

/* Allowed gap between ticker fires beyond its 10 ms period (ASan is slow). */
#define TICK_MS     10
#define MAX_LATE_MS 60

enum fake_mode {
	FAKE_OK,         /* banner, replies from the captured transcripts (5 ms later) */
	FAKE_SILENT,     /* accepts, never sends the banner */
	FAKE_HANG,       /* banner, never answers a command */
	FAKE_GARBAGE,    /* banner, answers every command with garbage */
	FAKE_CLOSE_MID,  /* banner, half a reply, then closes */
	FAKE_BAD_BANNER, /* something that is not BIRD */
};

struct fake_conn {
	uv_pipe_t pipe;
	struct fake *fake;
	char in[2048];
	size_t inlen;
	bool pending; /* a command is being answered */
	size_t bytes; /* received on this connection */
	bool closed;
	uv_timer_t delay;
	char reply_file[64];
	struct fake_conn *next;
};

struct fake {
	uv_pipe_t server;
	char path[108];
	const char *variant; /* "bird2", "bird16", "bird217" or "bird3" */
	enum fake_mode mode;
	const char *banner; /* instead of the captured banner; NULL: that */
	bool no_message;    /* BIRD 1.6.0-1.6.3: a message after enable/disable is a syntax error */
	int accepts;
	int commands;
	bool overlap; /* a command arrived while the previous one was unanswered */
	size_t max_conn_bytes;
	char last_cmd[2048];
	struct fake_conn *conns;
};

static uv_loop_t loop;
static char tmpdir[64];

/* ---- ticker ------------------------------------------------------------------ */

static uv_timer_t ticker;
static uint64_t tick_last, tick_max_gap;

static void tick_cb(uv_timer_t *t)
{
	uint64_t now = uv_hrtime();
	if (tick_last && now - tick_last > tick_max_gap)
		tick_max_gap = now - tick_last;
	tick_last = now;
}

static double max_lateness_ms(void)
{
	return (double)tick_max_gap / 1e6 - TICK_MS;
}

/* ---- fake BIRD ------------------------------------------------------------------- */

static char *read_data(const char *variant, const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s/%s", BIRD_TEST_DATA, variant, name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void fake_write_cb(uv_write_t *req, int status)
{
	free(req->data);
	free(req);
}

static void fake_send(struct fake_conn *fc, const char *data, size_t len)
{
	uv_write_t *req = xcalloc(1, sizeof(*req));
	char *copy = xmalloc(len);
	uv_buf_t buf;

	if (fc->closed) {
		free(copy);
		free(req);
		return;
	}
	memcpy(copy, data, len);
	req->data = copy;
	buf = uv_buf_init(copy, (unsigned)len);
	if (uv_write(req, (uv_stream_t *)&fc->pipe, &buf, 1, fake_write_cb) < 0) {
		free(copy);
		free(req);
	}
}

static void fake_send_file(struct fake_conn *fc, const char *name)
{
	size_t len;
	char *d = read_data(fc->fake->variant, name, &len);
	fake_send(fc, d, len);
	free(d);
}

static void fake_close_cb(uv_handle_t *h)
{
}

static void fake_conn_close(struct fake_conn *fc)
{
	if (fc->closed)
		return;
	fc->closed = true;
	uv_close((uv_handle_t *)&fc->pipe, fake_close_cb);
	uv_close((uv_handle_t *)&fc->delay, fake_close_cb);
}

/* Which captured reply answers a command. */
static const struct {
	const char *cmd, *file;
} fake_replies[] = {
    {"disable anycast4 \"drained by test\"", "disable_message"},
    {"disable anycast4", "already_disabled"},
    {"enable anycast4", "enable"},
    {"enable anycast4 \"again\"", "already_enabled"},
    {"show protocols", "show_protocols"},
    {"show protocols all anycast4", "show_protocols_all_disabled"},
    {"show protocols all peer1", "show_protocols_all_bgp_error"},
    {"disable nosuch", "unknown_protocol"},
    {"show protocols nosuch", "show_protocols_unknown"},
    {"disable restricted", "access_denied"},
    /* a reply about another protocol must not count as ours */
    {"disable anycast9", "disable_message"},
    {"show route for 192.0.2.80/32 all", "show_route_for_ibgp4"},
    {"show route for 192.0.2.53/32 all", "show_route_for_not_found"},
};

static void fake_delay_cb(uv_timer_t *t)
{
	struct fake_conn *fc = t->data;
	fake_send_file(fc, fc->reply_file);
	fc->pending = false;
}

static void fake_command(struct fake_conn *fc, const char *cmd)
{
	struct fake *f = fc->fake;

	f->commands++;
	snprintf(f->last_cmd, sizeof(f->last_cmd), "%s", cmd);
	if (fc->pending)
		f->overlap = true;
	switch (f->mode) {
	case FAKE_OK:
		if (f->no_message && strchr(cmd, '"') != NULL &&
		    (strncmp(cmd, "disable ", 8) == 0 || strncmp(cmd, "enable ", 7) == 0)) {
			/* what BIRD 1.6.3 answers (captured): no text after the name */
			size_t len;
			char *d = read_data("bird163", "disable_message", &len);
			fake_send(fc, d, len);
			free(d);
			return;
		}
		for (size_t i = 0; i < ARRAY_SIZE(fake_replies); i++) {
			if (strcmp(cmd, fake_replies[i].cmd) == 0) {
				snprintf(fc->reply_file, sizeof(fc->reply_file), "%s",
				         fake_replies[i].file);
				fc->pending = true;
				uv_timer_start(&fc->delay, fake_delay_cb, 5, 0);
				return;
			}
		}
		fake_send(fc, "9001 syntax error\n", 18);
		break;
	case FAKE_GARBAGE:
		fake_send(fc, "HTTP/1.0 400 Bad Request\r\n", 26);
		break;
	case FAKE_CLOSE_MID: {
		const char *half =
		    "2002-Name       Proto      Table      State  Since         Info\n"
		    "1002-device1    Device     ---        up     13:36:24.508  \n";
		fake_send(fc, half, strlen(half));
		fake_conn_close(fc);
		break;
	}
	default:
		break;
	}
}

static void fake_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	struct fake_conn *fc = h->data;
	*buf = uv_buf_init(fc->in + fc->inlen, (unsigned)(sizeof(fc->in) - fc->inlen));
}

static void fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct fake_conn *fc = s->data;
	char *nl;

	if (n < 0) {
		fake_conn_close(fc);
		return;
	}
	fc->inlen += (size_t)n;
	fc->bytes += (size_t)n;
	if (fc->bytes > fc->fake->max_conn_bytes)
		fc->fake->max_conn_bytes = fc->bytes;
	while (!fc->closed && (nl = memchr(fc->in, '\n', fc->inlen)) != NULL) {
		size_t l = (size_t)(nl - fc->in);
		char cmd[2048];
		memcpy(cmd, fc->in, l);
		cmd[l] = '\0';
		memmove(fc->in, nl + 1, fc->inlen - l - 1);
		fc->inlen -= l + 1;
		fake_command(fc, cmd);
	}
	if (fc->inlen == sizeof(fc->in))
		fake_conn_close(fc);
}

static void fake_accept(uv_stream_t *server, int status)
{
	struct fake *f = server->data;
	struct fake_conn *fc = xcalloc(1, sizeof(*fc));

	assert_int_equal(status, 0);
	fc->fake = f;
	uv_pipe_init(&loop, &fc->pipe, 0);
	uv_timer_init(&loop, &fc->delay);
	fc->pipe.data = fc;
	fc->delay.data = fc;
	fc->next = f->conns;
	f->conns = fc;
	assert_int_equal(uv_accept(server, (uv_stream_t *)&fc->pipe), 0);
	f->accepts++;
	uv_read_start((uv_stream_t *)&fc->pipe, fake_alloc, fake_read);
	switch (f->mode) {
	case FAKE_SILENT:
		break;
	case FAKE_BAD_BANNER:
		fake_send(fc, "0000 hello\n", 11);
		break;
	default:
		if (f->banner)
			fake_send(fc, f->banner, strlen(f->banner));
		else
			fake_send_file(fc, "banner");
	}
}

static struct fake *fake_new(const char *name, const char *variant, enum fake_mode mode)
{
	struct fake *f = xcalloc(1, sizeof(*f));

	snprintf(f->path, sizeof(f->path), "%s/%s.ctl", tmpdir, name);
	f->variant = variant;
	f->mode = mode;
	uv_pipe_init(&loop, &f->server, 0);
	f->server.data = f;
	assert_int_equal(uv_pipe_bind(&f->server, f->path), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&f->server, 8, fake_accept), 0);
	return f;
}

/* Close every accepted connection (BIRD restarting), keep listening. */
static void fake_drop_conns(struct fake *f)
{
	for (struct fake_conn *fc = f->conns; fc; fc = fc->next)
		fake_conn_close(fc);
}

static void fake_free(struct fake *f)
{
	fake_drop_conns(f);
	uv_close((uv_handle_t *)&f->server, fake_close_cb);
	uv_run(&loop, UV_RUN_NOWAIT);
	while (f->conns) {
		struct fake_conn *fc = f->conns;
		f->conns = fc->next;
		free(fc);
	}
	unlink(f->path);
	free(f);
}

/* ---- helpers ---------------------------------------------------------------------- */

static bool run_until(bool (*pred)(void *), void *arg, double timeout_s)
{
	double deadline = mono_now() + timeout_s;
	while (!pred(arg)) {
		if (mono_now() > deadline)
			return false;
		uv_run(&loop, UV_RUN_ONCE);
	}
	return true;
}

struct result {
	bool done;
	enum bird_status st;
	int code;
	char text[256];
	bool changed;
	double at; /* mono_now() when the callback ran */
	struct bird_protocol protos[16];
	size_t n;
};

static void done_cb(struct bird_client *bc, const struct bird_reply *r, void *arg)
{
	struct result *res = arg;
	assert_false(res->done);
	res->done = true;
	res->st = r->status;
	res->code = r->code;
	res->changed = r->changed;
	res->at = mono_now();
	snprintf(res->text, sizeof(res->text), "%s", r->text);
}

static void show_cb(struct bird_client *bc, const struct bird_reply *r,
                    const struct bird_protocol *p, size_t n, void *arg)
{
	struct result *res = arg;
	done_cb(bc, r, arg);
	res->n = n;
	for (size_t i = 0; i < n && i < ARRAY_SIZE(res->protos); i++)
		res->protos[i] = p[i];
}

static bool is_done(void *arg)
{
	return ((struct result *)arg)->done;
}

struct events {
	int connected, disconnected;
	char version[64];
	char reason[256];
};

static void on_connected(struct bird_client *bc, const char *version, void *arg)
{
	struct events *ev = arg;
	ev->connected++;
	snprintf(ev->version, sizeof(ev->version), "%s", version);
}

static void on_disconnected(struct bird_client *bc, const char *reason, void *arg)
{
	struct events *ev = arg;
	ev->disconnected++;
	snprintf(ev->reason, sizeof(ev->reason), "%s", reason);
}

static const struct bird_client_cbs cbs = {on_connected, on_disconnected};

static bool connected_once(void *arg)
{
	return ((struct events *)arg)->connected >= 1;
}

static bool connected_twice(void *arg)
{
	return ((struct events *)arg)->connected >= 2;
}

static void client_free_and_drain(struct bird_client *bc)
{
	bird_client_free(bc);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_bird_client.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	uv_loop_init(&loop);
	uv_timer_init(&loop, &ticker);
	tick_last = tick_max_gap = 0;
	uv_timer_start(&ticker, tick_cb, TICK_MS, TICK_MS);
	return 0;
}

static void close_any(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int teardown(void **state)
{
	/* after a failed assertion some handles are still open */
	uv_walk(&loop, close_any, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	/* sockets left behind by a failed test */
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		char p[512];
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(tmpdir);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------- */

/* Every command of the API against replies captured from BIRD 2 and 1.6,
 * queued all at once: answered in order, one at a time. */
static void test_fake_replays_real_replies(void **state)
{
	static const char *const variants[] = {"bird2", "bird16", "bird217", "bird3"};
	static const char *const versions[] = {"BIRD 2.0.12", "BIRD 1.6.8", "BIRD 2.17.6",
	                                       "BIRD 3.1.8"};
	static const size_t rows[] = {5, 4, 6, 6};
	static const int unknown_code[] = {9001, 9002, 9001, 9001};

	for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
		struct fake *f = fake_new("ok", variants[v], FAKE_OK);
		struct events ev = {0};
		struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, &cbs, &ev);
		struct result r[10] = {{0}};
		struct bird_client_state st;

		/* queued while connecting */
		assert_int_equal(
		    bird_disable(bc, "anycast4", "drained by \"test\"\n", done_cb, &r[0]), BIRD_OK);
		assert_int_equal(bird_disable(bc, "anycast4", NULL, done_cb, &r[1]), BIRD_OK);
		assert_int_equal(bird_enable(bc, "anycast4", "", done_cb, &r[2]), BIRD_OK);
		assert_int_equal(bird_enable(bc, "anycast4", "again", done_cb, &r[3]), BIRD_OK);
		assert_int_equal(bird_show_protocols(bc, NULL, false, show_cb, &r[4]), BIRD_OK);
		assert_int_equal(bird_show_protocols(bc, "anycast4", true, show_cb, &r[5]),
		                 BIRD_OK);
		assert_int_equal(bird_disable(bc, "nosuch", NULL, done_cb, &r[6]), BIRD_OK);
		assert_int_equal(bird_show_protocols(bc, "nosuch", false, show_cb, &r[7]), BIRD_OK);
		assert_int_equal(bird_disable(bc, "restricted", NULL, done_cb, &r[8]), BIRD_OK);
		assert_int_equal(bird_disable(bc, "anycast9", NULL, done_cb, &r[9]), BIRD_OK);
		bird_client_state(bc, &st);
		assert_int_equal(st.queued, 10);
		assert_false(st.connected);

		assert_true(run_until(is_done, &r[9], 5.0));
		assert_int_equal(ev.connected, 1);
		assert_string_equal(ev.version, versions[v]);
		assert_false(f->overlap);
		assert_int_equal(f->commands, 10);
		for (size_t i = 0; i + 1 < ARRAY_SIZE(r); i++)
			assert_true(r[i].at <= r[i + 1].at);

		assert_int_equal(r[0].st, BIRD_OK);
		assert_true(r[0].changed);
		assert_int_equal(r[0].code, 9);
		assert_int_equal(r[1].st, BIRD_OK);
		assert_false(r[1].changed);
		assert_int_equal(r[2].st, BIRD_OK);
		assert_true(r[2].changed);
		assert_int_equal(r[3].st, BIRD_OK);
		assert_false(r[3].changed);

		assert_int_equal(r[4].st, BIRD_OK);
		assert_int_equal(r[4].n, rows[v]);
		assert_string_equal(r[4].protos[1].name, "anycast4");
		assert_true(r[4].protos[1].up);
		assert_string_equal(r[4].protos[2].name, "anycast4_drain");
		assert_true(r[4].protos[2].disabled);

		assert_int_equal(r[5].st, BIRD_OK);
		assert_int_equal(r[5].n, 1);
		assert_string_equal(r[5].protos[0].name, "anycast4");
		assert_true(r[5].protos[0].disabled);
		assert_string_equal(r[5].protos[0].message, "drained by test");

		assert_int_equal(r[6].st, BIRD_NO_SUCH_PROTOCOL);
		assert_int_equal(r[6].code, unknown_code[v]);
		assert_int_equal(r[7].st, BIRD_NO_SUCH_PROTOCOL);
		assert_int_equal(r[7].n, 0);
		assert_int_equal(r[8].st, BIRD_ACCESS_DENIED);
		assert_string_equal(r[8].text, "Access denied");
		/* BIRD answered about anycast4, not anycast9 */
		assert_int_equal(r[9].st, BIRD_ERROR);

		bird_client_state(bc, &st);
		assert_true(st.connected);
		assert_int_equal(st.queued, 0);
		assert_int_equal(st.commands_ok, 6);
		assert_int_equal(st.commands_failed, 4);
		assert_string_equal(st.last_error, "");
		client_free_and_drain(bc);
		fake_free(f);
	}
	assert_true(max_lateness_ms() < MAX_LATE_MS);
}

struct route_result {
	struct result r;
	char routes[256]; /* "proto/origin/best ..." */
};

static void route_cb(struct bird_client *bc, const struct bird_reply *r,
                     const struct bird_route *routes, size_t n, void *arg)
{
	struct route_result *res = arg;
	done_cb(bc, r, &res->r);
	res->r.n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(res->routes + strlen(res->routes),
		         sizeof(res->routes) - strlen(res->routes), "%s%s/%s/%s", i ? " " : "",
		         routes[i].proto, routes[i].origin, routes[i].best ? "*" : "-");
}

/* `show route for PREFIX all` through the client: BIRD 2 says where a route comes from in a
 * `Type:` line (1008), BIRD 3 in a `source:` attribute (1012); the client reads both. */
static void test_fake_show_route(void **state)
{
	static const char *const variants[] = {"bird2", "bird217", "bird3"};
	static const char *const want =
	    "anycast_web4/static/* anycast_web4_drain/static/- ibgp_pop2_v4/BGP/-";

	for (size_t v = 0; v < ARRAY_SIZE(variants); v++) {
		struct fake *f = fake_new("route", variants[v], FAKE_OK);
		struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, NULL, NULL);
		struct route_result r[2];

		memset(r, 0, sizeof(r));
		assert_int_equal(bird_show_route_for(bc, "192.0.2.80/32", route_cb, &r[0]),
		                 BIRD_OK);
		assert_int_equal(bird_show_route_for(bc, "192.0.2.53/32", route_cb, &r[1]),
		                 BIRD_OK);
		assert_true(run_until(is_done, &r[1].r, 5.0));
		assert_int_equal(r[0].r.st, BIRD_OK);
		if (strcmp(r[0].routes, want) != 0)
			fail_msg("%s: routes \"%s\", expected \"%s\"", variants[v], r[0].routes,
			         want);
		/* Network not found: an answer, no route */
		assert_int_equal(r[1].r.st, BIRD_OK);
		assert_int_equal(r[1].r.n, 0);
		client_free_and_drain(bc);
		fake_free(f);
	}
}

/* BIRD 1.6.0-1.6.3 take no message after disable: the banner's version decides whether the
 * client sends one, so the disable still happens there. */
static void test_message_by_version(void **state)
{
	size_t len;
	char *banner163 = read_data("bird163", "banner", &len); /* captured from BIRD 1.6.3 */

	banner163 = xrealloc(banner163, len + 1);
	banner163[len] = '\0';
	const struct {
		const char *banner, *cmd;
		bool no_message;
	} cases[] = {
	    {banner163, "disable anycast4", true},
	    {"0001 BIRD 1.6.0 ready.\n", "disable anycast4", true},
	    {"0001 BIRD 1.6.4 ready.\n", "disable anycast4 \"drained by test\"", false},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake *f = fake_new("old16", "bird16", FAKE_OK);
		struct bird_client *bc;
		struct result r = {0};

		f->banner = cases[i].banner;
		f->no_message = cases[i].no_message;
		bc = bird_client_new(&loop, "test", f->path, 1.0, NULL, NULL);
		/* queued before the banner: the version is known only when it is sent */
		assert_int_equal(bird_disable(bc, "anycast4", "drained by test", done_cb, &r),
		                 BIRD_OK);
		assert_true(run_until(is_done, &r, 5.0));
		assert_string_equal(f->last_cmd, cases[i].cmd);
		assert_int_equal(r.st, BIRD_OK);
		assert_int_equal(r.code, i < 2 ? 8 : 9);
		client_free_and_drain(bc);
		fake_free(f);
	}
	free(banner163);
}

/* The reason is sanitised before it reaches BIRD. */
static void test_fake_sees_sanitised_message(void **state)
{
	struct fake *f = fake_new("msg", "bird2", FAKE_OK);
	struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, NULL, NULL);
	struct result r = {0};
	char longreason[1000];

	memset(longreason, 'x', sizeof(longreason) - 1);
	longreason[sizeof(longreason) - 1] = '\0';
	assert_int_equal(bird_disable(bc, "anycast4", longreason, done_cb, &r), BIRD_OK);
	assert_true(run_until(is_done, &r, 5.0));
	assert_int_equal(strlen(f->last_cmd), strlen("disable anycast4 \"\"") + BIRD_MSG_MAX);
	client_free_and_drain(bc);
	fake_free(f);
}

static void test_refused_locally(void **state)
{
	static const char *const bad[] = {
	    "",
	    "1abc",
	    "a-b",
	    "\"anycast4*\"",
	    "anycast4*",
	    "a b",
	    "a;b",
	    "anycast4\n",
	    "x12345678901234567890123456789012345678901234567890123456789012345",
	};
	struct fake *f = fake_new("refuse", "bird2", FAKE_OK);
	struct events ev = {0};
	struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, &cbs, &ev);
	struct result r = {0};

	assert_true(run_until(connected_once, &ev, 5.0));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(bird_enable(bc, bad[i], NULL, done_cb, &r), BIRD_REFUSED_LOCALLY);
		assert_int_equal(bird_disable(bc, bad[i], "x", done_cb, &r), BIRD_REFUSED_LOCALLY);
		assert_int_equal(bird_show_protocols(bc, bad[i], true, show_cb, &r),
		                 BIRD_REFUSED_LOCALLY);
	}
	assert_int_equal(bird_enable(bc, NULL, NULL, done_cb, &r), BIRD_REFUSED_LOCALLY);
	assert_int_equal(bird_enable(bc, "anycast4", NULL, NULL, NULL), BIRD_REFUSED_LOCALLY);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(f->commands, 0);
	assert_false(r.done);
	client_free_and_drain(bc);
	fake_free(f);
}

/* A fake that misbehaves: the caller gets an error within the timeout, the
 * client reconnects, and the loop keeps running on time. */
static const struct misbehave_case {
	const char *what;
	enum fake_mode mode;
	enum bird_status st;
	double min_s, max_s; /* when the callback must come, after the command */
	const char *error;   /* in bird_client_state().last_error */
	bool was_connected;  /* the banner came, so disconnected() fires */
} misbehave[] = {
    {"fake hangs on a command", FAKE_HANG, BIRD_TIMEOUT, 0.29, 0.6, "no reply from BIRD", true},
    {"fake never sends the banner", FAKE_SILENT, BIRD_DISCONNECTED, 0.2, 0.6, "no banner", false},
    {"fake answers garbage", FAKE_GARBAGE, BIRD_DISCONNECTED, 0, 0.2, "garbled reply", true},
    {"fake closes mid-reply", FAKE_CLOSE_MID, BIRD_DISCONNECTED, 0, 0.2, "middle of a reply", true},
    {"fake is not BIRD", FAKE_BAD_BANNER, BIRD_DISCONNECTED, 0, 0.2, "no BIRD banner", false},
};

static bool accepted_twice(void *arg)
{
	return ((struct fake *)arg)->accepts >= 2;
}

static void test_fake_misbehaves(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(misbehave); i++) {
		const struct misbehave_case *mc = &misbehave[i];
		struct fake *f = fake_new("bad", "bird2", mc->mode);
		struct events ev = {0};
		struct bird_client *bc = bird_client_new(&loop, "test", f->path, 0.3, &cbs, &ev);
		struct result r = {0}, r2 = {0};
		struct bird_client_state st;
		double t0;

		bird_client_set_backoff(bc, 0.05, 0.2);
		if (mc->was_connected)
			assert_true(run_until(connected_once, &ev, 5.0));
		t0 = mono_now();
		assert_int_equal(bird_disable(bc, "anycast4", NULL, done_cb, &r), BIRD_OK);
		assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &r2), BIRD_OK);
		assert_true(run_until(is_done, &r, 5.0));
		if (r.st != mc->st || r.at - t0 < mc->min_s || r.at - t0 > mc->max_s)
			fail_msg("%s: %s after %.3f s", mc->what, bird_status_name(r.st),
			         r.at - t0);
		/* the queued command fails at the same time */
		assert_true(r2.done);
		assert_int_equal(r2.st, BIRD_DISCONNECTED);
		bird_client_state(bc, &st);
		if (strstr(st.last_error, mc->error) == NULL)
			fail_msg("%s: last_error \"%s\"", mc->what, st.last_error);
		assert_false(st.connected);
		assert_true(st.consecutive_failures >= 1);
		assert_int_equal(ev.disconnected, mc->was_connected ? 1 : 0);
		/* while waiting to reconnect, commands are refused at once */
		assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &r), BIRD_DISCONNECTED);
		/* and it reconnects */
		assert_true(run_until(accepted_twice, f, 2.0));
		if (max_lateness_ms() >= MAX_LATE_MS)
			fail_msg("%s: loop blocked %.1f ms", mc->what, max_lateness_ms());
		print_message("%s: %s after %.3f s, ticker at most %.2f ms late\n", mc->what,
		              bird_status_name(r.st), r.at - t0, max_lateness_ms());
		client_free_and_drain(bc);
		fake_free(f);
	}
}

/* No socket at all: capped exponential backoff, never a busy loop. */
static void test_backoff_without_bird(void **state)
{
	char path[128];
	struct bird_client *bc;
	struct bird_client_state st;
	struct result r = {0};
	double t0 = mono_now();

	snprintf(path, sizeof(path), "%s/missing.ctl", tmpdir);
	bc = bird_client_new(&loop, "test", path, 1.0, NULL, NULL);
	bird_client_set_backoff(bc, 0.02, 0.16);
	/* queued during the first attempt, failed when it fails */
	assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &r), BIRD_OK);
	assert_true(run_until(is_done, &r, 2.0));
	assert_int_equal(r.st, BIRD_DISCONNECTED);
	assert_non_null(strstr(r.text, "no such file"));
	while (mono_now() - t0 < 1.0)
		uv_run(&loop, UV_RUN_ONCE);
	bird_client_state(bc, &st);
	/* delays 0.01-0.02, 0.02-0.04, 0.04-0.08, then 0.08-0.16: 7..16 tries in 1 s */
	if (st.consecutive_failures < 6 || st.consecutive_failures > 18)
		fail_msg("%u connect attempts in 1 s", st.consecutive_failures);
	assert_non_null(strstr(st.last_error, "is BIRD running"));
	assert_string_equal(st.version, "");
	assert_true(max_lateness_ms() < MAX_LATE_MS);
	client_free_and_drain(bc);
}

/* A BIRD that is alive but not answering (SIGSTOP): the client retries at the shortest delay,
 * not a growing backoff, so it reaches BIRD as soon as BIRD resumes (found by
 * tests/faults/bird_faults.sh: the decision reached a resumed BIRD 3 s late). */
static void test_fake_silent_retries_promptly(void **state)
{
	struct fake *f = fake_new("silent", "bird2", FAKE_SILENT);
	struct bird_client *bc = bird_client_new(&loop, "test", f->path, 0.1, NULL, NULL);
	struct bird_client_state st;
	double t0 = mono_now();

	/* a growing backoff (0.05, 0.1, 0.2, 0.4, 0.8 s) allows at most 5 tries in 2 s */
	bird_client_set_backoff(bc, 0.05, 5.0);
	while (mono_now() - t0 < 2.0)
		uv_run(&loop, UV_RUN_ONCE);
	bird_client_state(bc, &st);
	if (f->accepts < 8)
		fail_msg("%d connections to a silent BIRD in 2 s: the backoff grew", f->accepts);
	assert_non_null(strstr(st.last_error, "BIRD is not answering"));
	print_message("%d connections to a silent BIRD in 2 s\n", f->accepts);
	client_free_and_drain(bc);
	fake_free(f);
}

/* BIRD restarts: disconnected(), then connected() again by itself. */
static void test_fake_restarts(void **state)
{
	struct fake *f = fake_new("restart", "bird16", FAKE_OK);
	struct events ev = {0};
	struct bird_client *bc = bird_client_new(&loop, "v4", f->path, 1.0, &cbs, &ev);
	struct result r = {0};

	bird_client_set_backoff(bc, 0.02, 0.1);
	assert_true(run_until(connected_once, &ev, 5.0));
	fake_drop_conns(f);
	assert_true(run_until(connected_twice, &ev, 5.0));
	assert_int_equal(ev.disconnected, 1);
	assert_non_null(strstr(ev.reason, "closed the connection"));
	assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &r), BIRD_OK);
	assert_true(run_until(is_done, &r, 5.0));
	assert_int_equal(r.st, BIRD_OK);
	client_free_and_drain(bc);
	fake_free(f);
}

/* BIRD 1.6.8 closes a CLI connection once ~1 KiB of back-to-back commands
 * went through it: on 1.x the client moves to a fresh connection first,
 * without failing a command or telling the caller. BIRD 2 keeps one. */
static void test_bird1_connection_budget(void **state)
{
	static const struct {
		const char *variant;
		int min_accepts, max_accepts;
	} cases[] = {{"bird16", 2, 2}, {"bird2", 1, 1}}; /* 100 x 16 bytes */

	for (size_t v = 0; v < ARRAY_SIZE(cases); v++) {
		struct fake *f = fake_new("budget", cases[v].variant, FAKE_OK);
		struct events ev = {0};
		struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, &cbs, &ev);
		struct result r[100];

		memset(r, 0, sizeof(r));
		for (size_t i = 0; i < ARRAY_SIZE(r); i++)
			assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &r[i]),
			                 BIRD_OK);
		assert_true(run_until(is_done, &r[ARRAY_SIZE(r) - 1], 10.0));
		for (size_t i = 0; i < ARRAY_SIZE(r); i++)
			assert_int_equal(r[i].st, BIRD_OK);
		assert_int_equal(f->commands, 100);
		if (f->accepts < cases[v].min_accepts || f->accepts > cases[v].max_accepts)
			fail_msg("%s: %d connections", cases[v].variant, f->accepts);
		if (v == 0)
			assert_true(f->max_conn_bytes <= 900);
		assert_int_equal(ev.connected, 1);
		assert_int_equal(ev.disconnected, 0);
		client_free_and_drain(bc);
		fake_free(f);
	}
}

/* Two clients (BIRD 1.6 runs v4 and v6 apart) share one loop. */
static void test_two_clients(void **state)
{
	struct fake *f4 = fake_new("v4", "bird16", FAKE_OK);
	struct fake *f6 = fake_new("v6", "bird2", FAKE_HANG);
	struct bird_client *c4 = bird_client_new(&loop, "v4", f4->path, 0.3, NULL, NULL);
	struct bird_client *c6 = bird_client_new(&loop, "v6", f6->path, 0.3, NULL, NULL);
	struct result r4 = {0}, r6 = {0};

	assert_int_equal(bird_enable(c4, "anycast4", NULL, done_cb, &r4), BIRD_OK);
	assert_int_equal(bird_enable(c6, "anycast4", NULL, done_cb, &r6), BIRD_OK);
	assert_true(run_until(is_done, &r6, 5.0));
	assert_true(r4.done);
	assert_int_equal(r4.st, BIRD_OK);
	assert_int_equal(r6.st, BIRD_TIMEOUT);
	client_free_and_drain(c4);
	client_free_and_drain(c6);
	fake_free(f4);
	fake_free(f6);
}

/* Freeing with commands queued: each callback runs once, with DISCONNECTED. */
static void test_free_with_queue(void **state)
{
	struct fake *f = fake_new("free", "bird2", FAKE_HANG);
	struct events ev = {0};
	struct bird_client *bc = bird_client_new(&loop, "test", f->path, 5.0, &cbs, &ev);
	struct result r[3] = {{0}};

	assert_true(run_until(connected_once, &ev, 5.0));
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		assert_int_equal(bird_disable(bc, "anycast4", NULL, done_cb, &r[i]), BIRD_OK);
	uv_run(&loop, UV_RUN_NOWAIT);
	bird_client_free(bc);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
		assert_true(r[i].done);
		assert_int_equal(r[i].st, BIRD_DISCONNECTED);
		assert_string_equal(r[i].text, "client closed");
	}
	assert_int_equal(ev.disconnected, 0);
	uv_run(&loop, UV_RUN_NOWAIT);
	fake_free(f);
}

struct free_in_cb {
	struct result r;
	struct bird_client *bc;
	enum bird_status again;
};

static void free_in_cb(struct bird_client *bc, const struct bird_reply *r, void *arg)
{
	struct free_in_cb *x = arg;
	done_cb(bc, r, &x->r);
	bird_client_free(bc);
	/* from inside, new commands are refused */
	x->again = bird_enable(bc, "anycast4", NULL, done_cb, &x->r);
}

static void test_free_inside_callback(void **state)
{
	struct fake *f = fake_new("freecb", "bird2", FAKE_OK);
	struct bird_client *bc = bird_client_new(&loop, "test", f->path, 1.0, NULL, NULL);
	struct free_in_cb x = {.bc = bc};
	struct result later = {0};

	assert_int_equal(bird_enable(bc, "anycast4", NULL, free_in_cb, &x), BIRD_OK);
	assert_int_equal(bird_enable(bc, "anycast4", NULL, done_cb, &later), BIRD_OK);
	assert_true(run_until(is_done, &x.r, 5.0));
	assert_int_equal(x.r.st, BIRD_OK);
	assert_int_equal(x.again, BIRD_DISCONNECTED);
	assert_true(later.done);
	assert_int_equal(later.st, BIRD_DISCONNECTED);
	uv_run(&loop, UV_RUN_NOWAIT);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fake_replays_real_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_sees_sanitised_message, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_show_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_message_by_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_locally, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_misbehaves, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backoff_without_bird, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_silent_retries_promptly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_restarts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bird1_connection_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_with_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_inside_callback, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	log_init("test_bird_client", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
