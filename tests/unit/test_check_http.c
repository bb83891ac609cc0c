/* SPDX-License-Identifier: ISC */
/*
 * test_check_http.c - the http check type against fake HTTP servers that
 * misbehave on purpose (garbage, silence, trickling, a 100 MB body, ...).
 *
 * Each fake server runs in its own thread on 127.0.0.1 with an ephemeral
 * port; the check runs on a libuv loop beside a 5 ms repeating timer whose
 * lateness is measured: the probe must never stall the loop.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "check_http.h"
#include "check_testutil.h"
#include "check_util.h"
#include "util.h"

#define TICK_MS 5
/* a blocking probe would stall the loop for its whole timeout (>= 300 ms); measured values
 * are printed (a few ms at most); the bound tolerates ASan on a busy 2-core CI machine */
#define LATE_MAX_MS 50.0
#define HUGE_BODY   (100ull * 1024 * 1024)

/* ---- fake servers ------------------------------------------------------------------------- */

enum fake_mode {
	FAKE_REPLY,     /* send a canned reply, then close */
	FAKE_GARBAGE,   /* bytes that are not HTTP */
	FAKE_SILENT,    /* accept, read the request, never answer */
	FAKE_TRICKLE,   /* one byte every 20 ms */
	FAKE_HUGE,      /* a 100 MB body, as fast as the client takes it */
	FAKE_RESET,     /* accept and close at once */
	FAKE_KEEPALIVE, /* reply, then wait for the client to end the connection, as nginx does */
};

struct fake {
	enum fake_mode mode;
	const char *reply;
	int lfd, stop[2];
	unsigned port;
	pthread_t th;
	char request[4096];
	size_t request_len;
	unsigned long long sent;
	int ended_by_fin, ended_by_rst; /* FAKE_KEEPALIVE: how clients ended (atomic) */
};

/* Wait up to ms for fd to be readable; -1 when told to stop. */
static int fake_wait(struct fake *f, int fd, int events, int ms)
{
	struct pollfd pf[2] = {{.fd = fd, .events = (short)events},
	                       {.fd = f->stop[0], .events = POLLIN}};

	if (poll(pf, 2, ms) < 0)
		return -1;
	if (pf[1].revents)
		return -1;
	return pf[0].revents != 0;
}

/* True once the client has closed its end. */
static bool fake_peer_closed(struct fake *f, int fd, int ms)
{
	char buf[512];
	int r = fake_wait(f, fd, POLLIN, ms);

	if (r < 0)
		return true;
	if (r == 0)
		return false;
	return recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0;
}

static void fake_read_request(struct fake *f, int fd)
{
	while (f->request_len < sizeof(f->request) - 1) {
		ssize_t n;

		if (fake_wait(f, fd, POLLIN, 2000) != 1)
			return;
		n = recv(fd, f->request + f->request_len, sizeof(f->request) - 1 - f->request_len,
		         0);
		if (n <= 0)
			return;
		f->request_len += (size_t)n;
		f->request[f->request_len] = '\0';
		if (strstr(f->request, "\r\n\r\n") != NULL)
			return;
	}
}

static bool fake_send(struct fake *f, int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n;

		if (fake_wait(f, fd, POLLOUT, 2000) != 1)
			return false;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return false;
		f->sent += (size_t)n;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void fake_serve(struct fake *f, int fd)
{
	static const char garbage[] = "\x16\x03\x01garbage\x00 this is not HTTP\r\n\r\n";
	static const char trickle[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nok";
	char chunk[64 * 1024];
	unsigned long long left;
	size_t i;

	if (f->mode == FAKE_RESET)
		return;
	fake_read_request(f, fd);
	switch (f->mode) {
	case FAKE_REPLY:
		fake_send(f, fd, f->reply, strlen(f->reply));
		shutdown(fd, SHUT_WR);
		fake_peer_closed(f, fd, 2000);
		break;
	case FAKE_GARBAGE:
		fake_send(f, fd, garbage, sizeof(garbage) - 1);
		break;
	case FAKE_SILENT:
		while (!fake_peer_closed(f, fd, 100))
			;
		break;
	case FAKE_TRICKLE:
		for (i = 0; !fake_peer_closed(f, fd, 20); i++)
			if (!fake_send(f, fd, &trickle[i % (sizeof(trickle) - 1)], 1))
				break;
		break;
	case FAKE_HUGE:
		snprintf(chunk, sizeof(chunk), "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
		         HUGE_BODY);
		if (!fake_send(f, fd, chunk, strlen(chunk)))
			break;
		memset(chunk, 'x', sizeof(chunk));
		memcpy(chunk, "ok ", 3);
		for (left = HUGE_BODY; left > 0; left -= sizeof(chunk))
			if (!fake_send(f, fd, chunk, sizeof(chunk)))
				break;
		break;
	case FAKE_RESET:
		break;
	case FAKE_KEEPALIVE:
		fake_send(f, fd, f->reply, strlen(f->reply));
		if (fake_wait(f, fd, POLLIN, 2000) == 1) {
			ssize_t n = recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);

			if (n == 0)
				__atomic_add_fetch(&f->ended_by_fin, 1, __ATOMIC_SEQ_CST);
			else if (n < 0 && errno == ECONNRESET)
				__atomic_add_fetch(&f->ended_by_rst, 1, __ATOMIC_SEQ_CST);
		}
		break;
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		int fd, r = fake_wait(f, f->lfd, POLLIN, -1);

		if (r < 0)
			break;
		fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		fake_serve(f, fd);
		close(fd);
	}
	return NULL;
}

static int listen_any(unsigned *port, bool do_listen)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct fake *fake_start(enum fake_mode mode, const char *reply)
{
	struct fake *f = xcalloc(1, sizeof(*f));

	f->mode = mode;
	f->reply = reply;
	f->lfd = listen_any(&f->port, true);
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->th, NULL);
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
}

/* ---- running one probe on a loop, measuring the loop ------------------------------------- */

struct probe {
	uv_loop_t loop;
	uv_timer_t tick;
	uint64_t last_tick;
	double max_late_ms;
	unsigned nticks;
	int ndone;
	struct check_report rep;
};

static void tick_cb(uv_timer_t *t)
{
	struct probe *pr = t->data;
	uint64_t now = uv_hrtime();
	double late = (double)(now - pr->last_tick) / 1e6 - TICK_MS;

	if (late > pr->max_late_ms)
		pr->max_late_ms = late;
	pr->last_tick = now;
	pr->nticks++;
}

static void done_cb(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct probe *pr = arg;

	pr->rep = *rep;
	pr->ndone++;
}

static void probe_init(struct probe *pr)
{
	memset(pr, 0, sizeof(*pr));
	assert_int_equal(uv_loop_init(&pr->loop), 0);
	uv_timer_init(&pr->loop, &pr->tick);
	pr->tick.data = pr;
	pr->last_tick = uv_hrtime();
	uv_timer_start(&pr->tick, tick_cb, TICK_MS, TICK_MS);
}

/* Run the loop until `want` results arrived, or fail after `limit` seconds. */
static void probe_wait(struct probe *pr, int want, double limit)
{
	double deadline = mono_now() + limit;

	while (pr->ndone < want) {
		assert_true(mono_now() < deadline);
		uv_run(&pr->loop, UV_RUN_ONCE);
	}
	/* timers run first in an iteration: one more lets a tick the run held up report it */
	uv_run(&pr->loop, UV_RUN_NOWAIT);
}

/* Everything the check type opened must close: the loop ends empty. */
static void probe_fini(struct probe *pr)
{
	uv_close((uv_handle_t *)&pr->tick, NULL);
	uv_run(&pr->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&pr->loop), 0);
}

/* ---- the table ----------------------------------------------------------------------------- */

static const struct status_range st_2xx_404[] = {{200, 299}, {404, 404}};

struct http_case {
	const char *name;
	enum fake_mode mode;
	const char *reply;
	const char *url_fmt; /* %u is the fake's port; default http://127.0.0.1:%u/healthz */
	bool connect_to;     /* connect_to 127.0.0.1:port */
	const char *source;
	bool refused;   /* no server at all */
	bool proxy_env; /* a proxy that refuses, in the environment */
	bool head;
	const char *header;
	const struct status_range *status;
	size_t nstatus;
	const char *expect_body, *expect_body_regex;
	size_t body_max;
	double timeout;
	enum check_result_code want;
	const char *detail_has;
	const char *request_has;
};

static const struct http_case cases[] = {
    {.name = "fake_ok_body_substring",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nhealthy\n",
     .expect_body = "healthy",
     .want = RES_OK,
     .detail_has = "HTTP 200, ",
     .request_has = "GET /healthz HTTP/1.1\r\n"},
    {.name = "fake_status_mismatch_503",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\ndown\n",
     .want = RES_HTTP_STATUS_MISMATCH,
     .detail_has = "status 503 not in 200-299"},
    {.name = "fake_status_in_second_range",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
     .status = st_2xx_404,
     .nstatus = 2,
     .want = RES_OK},
    {.name = "fake_status_not_in_ranges",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 302 Found\r\nLocation: http://elsewhere/\r\nContent-Length: 0\r\n\r\n",
     .status = st_2xx_404,
     .nstatus = 2,
     .want = RES_HTTP_STATUS_MISMATCH,
     .detail_has = "status 302 not in 200-299,404"},
    {.name = "fake_body_substring_missing",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot here\n",
     .expect_body = "healthy",
     .want = RES_HTTP_BODY_MISMATCH,
     .detail_has = "does not contain \"healthy\""},
    {.name = "fake_body_regex_pass",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\nstatus: green\n",
     .expect_body_regex = "status: (green|yellow)",
     .want = RES_OK},
    {.name = "fake_body_regex_fail",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nstatus: red\n",
     .expect_body_regex = "status: (green|yellow)",
     .want = RES_HTTP_BODY_MISMATCH,
     .detail_has = "does not match"},
    {.name = "fake_body_beyond_body_max",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789 healthy\n",
     .expect_body = "healthy",
     .body_max = 10,
     .want = RES_HTTP_BODY_MISMATCH,
     .detail_has = "10 bytes, truncated"},
    {.name = "fake_head",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
     .head = true,
     .want = RES_OK,
     .request_has = "HEAD /healthz HTTP/1.1\r\n"},
    {.name = "fake_extra_header_and_connect_to",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 204 No Content\r\n\r\n",
     .url_fmt = "http://www.example.net/healthz",
     .connect_to = true,
     .header = "X-Probe: anycast",
     .want = RES_OK,
     .request_has = "Host: www.example.net\r\n"},
    /* a proxy in the environment (http_proxy, all_proxy) never carries a probe of the local
     * server: here it would be refused */
    {.name = "fake_proxy_in_environment_ignored",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     .url_fmt = "http://www.example.net:%u/healthz",
     .proxy_env = true,
     .want = RES_OK,
     .request_has = "GET /healthz HTTP/1.1\r\n"},
    {.name = "fake_source_address",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     .source = "127.0.0.1",
     .want = RES_OK},
    {.name = "fake_source_address_not_local",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     .source = "192.0.2.55",
     .want = RES_CONNECT_FAILED},
    {.name = "fake_garbage", .mode = FAKE_GARBAGE, .want = RES_HTTP_ERROR},
    {.name = "fake_reset_without_reply", .mode = FAKE_RESET, .want = RES_HTTP_ERROR},
    {.name = "fake_silent_server", .mode = FAKE_SILENT, .timeout = 0.4, .want = RES_TIMEOUT},
    {.name = "fake_trickling_server", .mode = FAKE_TRICKLE, .timeout = 0.4, .want = RES_TIMEOUT},
    {.name = "fake_100MB_body_found_early",
     .mode = FAKE_HUGE,
     .expect_body = "ok x",
     .want = RES_OK},
    /* the second 64 KB chunk starts with "ok ": found after the body buffer grew */
    {.name = "fake_body_match_past_first_kilobytes",
     .mode = FAKE_HUGE,
     .expect_body = "xok x",
     .body_max = 100000,
     .want = RES_OK},
    {.name = "fake_100MB_body_match_missing",
     .mode = FAKE_HUGE,
     .expect_body = "END",
     .body_max = 100000,
     .want = RES_HTTP_BODY_MISMATCH,
     .detail_has = "100000 bytes, truncated"},
    {.name = "connection_refused", .refused = true, .want = RES_CONNECT_REFUSED},
    {.name = "bad_regex_reported_at_start",
     .mode = FAKE_REPLY,
     .reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     .expect_body_regex = "(unclosed",
     .want = RES_INTERNAL_ERROR,
     .detail_has = "expect_body_regex"},
    {.name = "non_http_url_rejected",
     .mode = FAKE_REPLY,
     .reply = "",
     .url_fmt = "ftp://127.0.0.1:%u/",
     .want = RES_INTERNAL_ERROR,
     .detail_has = "must start with http:// or https://"},
};

static void conf_fill(struct check_conf *c, const struct http_case *tc, unsigned port, char *url,
                      size_t urllen)
{
	memset(c, 0, sizeof(*c));
	c->name = (char *)tc->name;
	c->type = CHECK_HTTP;
	c->timeout = tc->timeout > 0 ? tc->timeout : 2.0;
	c->interval = 10;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* the table's URL templates take the fake's port */
	snprintf(url, urllen, tc->url_fmt ? tc->url_fmt : "http://127.0.0.1:%u/healthz", port);
#pragma GCC diagnostic pop
	c->u.http.url = url;
	if (tc->connect_to) {
		c->u.http.has_connect_to = true;
		c->u.http.connect_to.host = (char *)"127.0.0.1";
		c->u.http.connect_to.port = port;
		c->u.http.connect_to.family = AF_INET;
	}
	if (tc->source != NULL) {
		c->u.http.has_source = true;
		c->u.http.source.host = (char *)tc->source;
		c->u.http.source.family = AF_INET;
	}
	c->u.http.head = tc->head;
	if (tc->header != NULL)
		strlist_add(&c->u.http.headers, tc->header);
	c->u.http.status = (struct status_range *)tc->status;
	c->u.http.nstatus = tc->nstatus;
	c->u.http.expect_body = (char *)tc->expect_body;
	c->u.http.expect_body_regex = (char *)tc->expect_body_regex;
	c->u.http.body_max = tc->body_max;
	c->u.http.tls_verify = true;
}

static void test_case(void **state)
{
	const struct http_case *tc = *state;
	struct fake *f = NULL;
	struct probe pr;
	struct check_conf conf;
	struct check_env *env;
	struct check_run *run;
	char url[256];
	unsigned port;
	int fd = -1;

	if (tc->refused)
		fd = listen_any(&port, false); /* bound, not listening: refused */
	else {
		f = fake_start(tc->mode, tc->reply);
		port = f->port;
	}
	conf_fill(&conf, tc, port, url, sizeof(url));
	if (tc->proxy_env) {
		/* the host name resolves only through connect_to */
		conf.u.http.has_connect_to = true;
		conf.u.http.connect_to.host = (char *)"127.0.0.1";
		conf.u.http.connect_to.family = AF_INET;
		setenv("http_proxy", "http://127.0.0.1:9", 1);
		setenv("all_proxy", "http://127.0.0.1:9", 1);
		unsetenv("no_proxy");
	}

	probe_init(&pr);
	env = check_env_new(&pr.loop);
	run = check_run_new(env, &conf, done_cb, &pr);
	assert_int_equal(check_run_start(run), 0);
	probe_wait(&pr, 1, conf.timeout + 1.0);
	unsetenv("http_proxy");
	unsetenv("all_proxy");

	print_message("    %-34s %-22s %6.1f ms, loop late max %.2f ms: %s\n", tc->name,
	              result_name(pr.rep.code), pr.rep.duration * 1e3, pr.max_late_ms,
	              pr.rep.detail);
	assert_string_equal(result_name(pr.rep.code), result_name(tc->want));
	assert_int_equal(pr.ndone, 1);
	assert_true(pr.rep.duration < conf.timeout + 0.15);
	if (tc->detail_has != NULL)
		assert_non_null(strstr(pr.rep.detail, tc->detail_has));
	assert_true(pr.max_late_ms < LATE_MAX_MS);

	check_run_free(run);
	check_env_free(env);
	probe_fini(&pr);
	assert_int_equal(pr.ndone, 1);

	if (fd >= 0)
		close(fd);
	if (f != NULL) {
		fake_stop(f);
		if (tc->request_has != NULL)
			assert_non_null(strstr(f->request, tc->request_has));
		if (tc->header != NULL)
			assert_non_null(strstr(f->request, tc->header));
		if (tc->mode == FAKE_HUGE) {
			print_message("    fake sent %.1f MB of the %llu MB body\n", f->sent / 1e6,
			              HUGE_BODY >> 20);
			assert_true(f->sent < 16ull * 1024 * 1024);
		}
		free(f);
	}
	strlist_free(&conf.u.http.headers);
}

/* This process's socket connected to port `port` on 127.0.0.1, or -1. */
static int client_socket_to(unsigned port)
{
	for (int fd = 0; fd < 1024; fd++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0 &&
		    sa.sin_family == AF_INET && ntohs(sa.sin_port) == port)
			return fd;
	}
	return -1;
}

/* A cancelled run reports nothing and leaves no handle behind; the run can start again. */
static void test_fake_cancel_then_rerun(void **state)
{
	struct http_case tc = {.name = "cancel", .timeout = 1.0};
	struct fake *f = fake_start(FAKE_SILENT, NULL);
	struct fake *ok = fake_start(FAKE_REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	struct check_conf conf;
	struct probe pr;
	struct check_env *env;
	struct check_run *run;
	char url[256];
	double until;
	int fd;

	conf_fill(&conf, &tc, f->port, url, sizeof(url));
	probe_init(&pr);
	env = check_env_new(&pr.loop);
	run = check_run_new(env, &conf, done_cb, &pr);
	assert_int_equal(check_run_start(run), 0);
	/* let the connection get established, then cancel */
	until = mono_now() + 0.1;
	while (mono_now() < until)
		uv_run(&pr.loop, UV_RUN_ONCE);
	/* the probe's socket is close-on-exec: a plugin spawned meanwhile does not inherit it */
	fd = client_socket_to(f->port);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	check_run_cancel(run);
	until = mono_now() + 1.2;
	while (mono_now() < until)
		uv_run(&pr.loop, UV_RUN_ONCE);
	assert_int_equal(pr.ndone, 0);

	/* the same run object, now pointed at a server that answers */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", ok->port);
	assert_int_equal(check_run_start(run), 0);
	probe_wait(&pr, 1, 2.0);
	assert_string_equal(result_name(pr.rep.code), "OK");

	check_run_free(run);
	check_env_free(env);
	probe_fini(&pr);
	fake_stop(f);
	fake_stop(ok);
	free(f);
	free(ok);
}

/* A probe ends its connection with a RST once the answer is in: against a keep-alive server,
 * which waits for the client to close, a FIN would leave a TIME_WAIT entry per probe for 60 s
 * (500 probes/s to one server need more than Linux's 28,232 ephemeral ports). */
static void test_fake_keepalive_no_time_wait(void **state)
{
	struct http_case tc = {.name = "keep-alive", .timeout = 1.0};
	struct fake *f =
	    fake_start(FAKE_KEEPALIVE, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	struct check_conf conf;
	struct probe pr;
	struct check_env *env;
	struct check_run *run;
	char url[256];
	double deadline;
	int ended = 0;

	conf_fill(&conf, &tc, f->port, url, sizeof(url));
	probe_init(&pr);
	env = check_env_new(&pr.loop);
	run = check_run_new(env, &conf, done_cb, &pr);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(check_run_start(run), 0);
		probe_wait(&pr, i + 1, 2.0);
		assert_string_equal(result_name(pr.rep.code), "OK");
	}
	deadline = mono_now() + 2.0;
	while (mono_now() < deadline &&
	       (ended = __atomic_load_n(&f->ended_by_fin, __ATOMIC_SEQ_CST) +
	                __atomic_load_n(&f->ended_by_rst, __ATOMIC_SEQ_CST)) < 5)
		poll(NULL, 0, 1);
	assert_int_equal(ended, 5);
	assert_int_equal(f->ended_by_rst, 5);
	assert_int_equal(tcp_sockets_on_port(f->port), 0);

	check_run_free(run);
	check_env_free(env);
	probe_fini(&pr);
	fake_stop(f);
	free(f);
}

/* Several probes share one multi handle: a silent server does not hold up the others. */
static void test_fake_concurrent_runs(void **state)
{
	struct http_case tc_slow = {.name = "slow", .timeout = 0.5};
	struct http_case tc_fast = {.name = "fast", .timeout = 0.5};
	struct fake *slow = fake_start(FAKE_SILENT, NULL);
	struct fake *fast = fake_start(FAKE_REPLY, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	struct check_conf cs, cf;
	struct probe ps, pf;
	struct check_env *env;
	struct check_run *rs, *rf;
	char us[256], uf[256];

	conf_fill(&cs, &tc_slow, slow->port, us, sizeof(us));
	conf_fill(&cf, &tc_fast, fast->port, uf, sizeof(uf));
	probe_init(&ps);
	memset(&pf, 0, sizeof(pf));
	env = check_env_new(&ps.loop);
	rs = check_run_new(env, &cs, done_cb, &ps);
	rf = check_run_new(env, &cf, done_cb, &pf);
	assert_int_equal(check_run_start(rs), 0);
	assert_int_equal(check_run_start(rf), 0);
	while (pf.ndone == 0) {
		assert_int_equal(ps.ndone, 0);
		uv_run(&ps.loop, UV_RUN_ONCE);
	}
	assert_string_equal(result_name(pf.rep.code), "OK");
	probe_wait(&ps, 1, 1.5);
	assert_string_equal(result_name(ps.rep.code), "TIMEOUT");

	check_run_free(rs);
	check_run_free(rf);
	check_env_free(env);
	probe_fini(&ps);
	fake_stop(slow);
	fake_stop(fast);
	free(slow);
	free(fast);
}

/* The body helpers on their own (what the fuzzer calls): pieces kept up to
 * body_max, the cut reported; NUL bytes do not end a substring or regex match. */
static void test_body_helpers(void **state)
{
	static const struct {
		const char *name;
		size_t body_max;
		const char *pieces[3];
		bool all_fit;
		const char *kept;
	} ac[] = {
	    {"fits", 10, {"abc", "def", NULL}, true, "abcdef"},
	    {"exactly body_max", 6, {"abc", "def", NULL}, true, "abcdef"},
	    {"cut inside a piece", 4, {"abc", "def", NULL}, false, "abcd"},
	    {"body_max 0", 0, {"a", NULL, NULL}, false, ""},
	    {"empty piece", 2, {"", "ab", NULL}, true, "ab"},
	};
	regex_t re;
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ac); i++) {
		char body[16];
		size_t len = 0;
		bool fit = true;

		body[0] = '\0';
		for (size_t k = 0; k < 3 && ac[i].pieces[k] != NULL && fit; k++)
			fit = check_http_body_append(body, &len, ac[i].body_max, ac[i].pieces[k],
			                             strlen(ac[i].pieces[k]));
		print_message("case: %s\n", ac[i].name);
		assert_int_equal(fit, ac[i].all_fit);
		assert_int_equal(len, strlen(ac[i].kept));
		assert_string_equal(body, ac[i].kept);
	}
	assert_int_equal(regcomp(&re, "status: (green|yellow)", REG_EXTENDED | REG_NOSUB), 0);
	assert_true(check_http_body_matches("x\0status: green", 16, NULL, &re));
	assert_false(check_http_body_matches("x\0status: red", 14, NULL, &re));
	assert_true(check_http_body_matches("\0\0ok", 4, "ok", NULL));
	assert_false(check_http_body_matches("o\0k", 3, "ok", NULL));
	assert_true(check_http_body_matches("anything", 8, NULL, NULL));
	/* the substring wins when both are set, as in the check */
	assert_true(check_http_body_matches("ok", 2, "ok", &re));
	regfree(&re);
}

int main(void)
{
	struct CMUnitTest tests[ARRAY_SIZE(cases) + 4];
	size_t i;

	signal(SIGPIPE, SIG_IGN); /* as the daemon does */
	if (check_http_global_init() < 0)
		return 1;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = cases[i].name;
		tests[i].test_func = test_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_fake_cancel_then_rerun);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_fake_concurrent_runs);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_fake_keepalive_no_time_wait);
	tests[i++] = (struct CMUnitTest)cmocka_unit_test(test_body_helpers);
	return _cmocka_run_group_tests("check_http", tests, i, NULL, NULL);
}
