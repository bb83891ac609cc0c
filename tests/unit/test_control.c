/* SPDX-License-Identifier: ISC */
/*
 * test_control.c - the control-socket server on a real libuv loop (in a
 * thread) with a fake verb table; the tests are blocking clients. Framing,
 * caps, abuse (oversized, invalid UTF-8 and JSON, 500 and 1000 concurrent
 * clients, a client that never reads, one that vanishes mid-reply, a
 * non-admin), socket creation rules and an fd limit of 64.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "log.h"
#include "util.h"

#define NOBODY 65534

static char dir[] = "/tmp/test_control.XXXXXX";

/* ---- the server side: a loop thread with fake verbs ---------------------- */

struct server {
	char path[200];
	uv_loop_t loop;
	uv_async_t stop;
	struct control *ctl;
	pthread_t thread;
	uv_timer_t later;
	struct control_req *later_req[64];
	size_t nlater;
};

/* fake_echo: answers {"ok":true,"echo":REQUEST} */
static void fake_echo(struct control_req *r, void *arg)
{
	(void)arg;
	control_reply(r, json_pack("{s:b, s:O}", "ok", 1, "echo", control_req_info(r)->request));
}

/* fake_big: a 256 KiB answer */
static void fake_big(struct control_req *r, void *arg)
{
	char *s = xmalloc(256 * 1024);
	(void)arg;
	memset(s, 'x', 256 * 1024 - 1);
	s[256 * 1024 - 1] = '\0';
	control_reply(r, json_pack("{s:b, s:s}", "ok", 1, "big", s));
	free(s);
}

static void later_cb(uv_timer_t *t)
{
	struct server *sv = t->data;
	for (size_t i = 0; i < sv->nlater; i++)
		control_reply(sv->later_req[i], json_pack("{s:b, s:s}", "ok", 1, "later", "yes"));
	sv->nlater = 0;
}

/* fake_later: answers 100 ms later (like `check`) */
static void fake_later(struct control_req *r, void *arg)
{
	struct server *sv = arg;
	if (sv->nlater == ARRAY_SIZE(sv->later_req)) {
		control_reply_error(r, CONTROL_E_BUSY, "too many");
		return;
	}
	sv->later_req[sv->nlater++] = r;
	uv_timer_start(&sv->later, later_cb, 100, 0);
}

static void fake_stats(struct control_req *r, void *arg)
{
	struct server *sv = arg;
	struct control_stats st;
	control_stats(sv->ctl, &st);
	control_reply(r,
	              json_pack("{s:b, s:I, s:I, s:I, s:I, s:I}", "ok", 1, "clients",
	                        (json_int_t)st.clients, "busy", (json_int_t)st.busy, "dropped",
	                        (json_int_t)st.dropped, "accept_errors",
	                        (json_int_t)st.accept_errors, "accepted", (json_int_t)st.accepted));
}

static void fake_whoami(struct control_req *r, void *arg)
{
	const struct control_req_info *ri = control_req_info(r);
	(void)arg;
	control_reply(r, json_pack("{s:b, s:I, s:s, s:b}", "ok", 1, "uid", (json_int_t)ri->uid,
	                           "user", ri->user, "admin", ri->admin));
}

/* fake_encoded: an answer encoded by the handler ({"ok":true,"n":N}), or none (NULL) when
 * the request says "fail" */
static void fake_encoded(struct control_req *r, void *arg)
{
	json_t *req = control_req_info(r)->request;
	char *text = NULL;

	(void)arg;
	if (!json_is_true(json_object_get(req, "fail")))
		xasprintf(&text, "{\"ok\":true,\"n\":%d}",
		          (int)json_integer_value(json_object_get(req, "n")));
	control_reply_encoded(r, text);
}

static const struct control_verb fake_verbs[] = {
    {"fake_encoded", false, fake_encoded}, {"fake_echo", false, fake_echo},
    {"fake_admin", true, fake_echo},       {"fake_big", false, fake_big},
    {"fake_later", false, fake_later},     {"fake_stats", false, fake_stats},
    {"fake_whoami", false, fake_whoami},
};

static void stop_cb(uv_async_t *a)
{
	struct server *sv = a->data;
	control_free(sv->ctl);
	uv_close((uv_handle_t *)&sv->stop, NULL);
	uv_close((uv_handle_t *)&sv->later, NULL);
}

static void *loop_thread(void *arg)
{
	struct server *sv = arg;
	uv_run(&sv->loop, UV_RUN_DEFAULT);
	return NULL;
}

static struct server *server_start(const char *name, struct control_opts *o)
{
	struct server *sv = xcalloc(1, sizeof(*sv));
	char *err = NULL;

	snprintf(sv->path, sizeof(sv->path), "%s/%s", dir, name);
	o->path = sv->path;
	uv_loop_init(&sv->loop);
	uv_async_init(&sv->loop, &sv->stop, stop_cb);
	sv->stop.data = sv;
	uv_timer_init(&sv->loop, &sv->later);
	sv->later.data = sv;
	sv->ctl = control_new(&sv->loop, o, fake_verbs, ARRAY_SIZE(fake_verbs), sv);
	if (control_start(sv->ctl, &err) < 0)
		fail_msg("control_start: %s", err);
	pthread_create(&sv->thread, NULL, loop_thread, sv);
	return sv;
}

static void server_stop(struct server *sv)
{
	uv_async_send(&sv->stop);
	pthread_join(sv->thread, NULL);
	assert_int_equal(uv_loop_close(&sv->loop), 0); /* every handle closed: nothing leaks */
	free(sv);
}

/* ---- the client side ----------------------------------------------------- */

static int conn(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		assert_true(w > 0);
		p += w;
		len -= (size_t)w;
	}
}

/* Read one response line (NULL on EOF/timeout); the caller frees it. */
static json_t *recv_line(int fd, int timeout_ms)
{
	static char buf[1 << 20];
	size_t n = 0;
	double deadline = mono_now() + timeout_ms / 1e3;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((deadline - mono_now()) * 1e3);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return NULL;
		/* byte by byte up to the newline: the next response stays in the socket */
		r = read(fd, buf + n, 1);
		if (r <= 0)
			return NULL;
		if (buf[n] == '\n')
			return json_loadb(buf, n, 0, NULL);
		if (++n >= sizeof(buf))
			return NULL;
	}
}

static bool at_eof(int fd, int timeout_ms)
{
	char b[4096];
	double deadline = mono_now() + timeout_ms / 1e3;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((deadline - mono_now()) * 1e3);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		r = read(fd, b, sizeof(b));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
	}
}

static json_t *ask(int fd, const char *line)
{
	send_all(fd, line, strlen(line));
	send_all(fd, "\n", 1);
	return recv_line(fd, 5000);
}

static const char *code_of(json_t *resp)
{
	return json_string_value(json_object_get(resp, "code"));
}

static json_int_t stat_of(const char *path, const char *key)
{
	int fd = conn(path);
	json_t *r;
	json_int_t v;

	assert_true(fd >= 0);
	r = ask(fd, "{\"verb\":\"fake_stats\"}");
	assert_non_null(r);
	v = json_integer_value(json_object_get(r, key));
	json_decref(r);
	close(fd);
	return v;
}

/* ---- tests --------------------------------------------------------------- */

struct bad_request {
	const char *what;
	const char *line;
	const char *code;
};

static const struct bad_request bad_requests[] = {
    {"not JSON", "hello", CONTROL_E_BAD_REQUEST},
    {"invalid UTF-8", "{\"verb\":\"fake_echo\",\"x\":\"\xc3\x28\"}", CONTROL_E_BAD_REQUEST},
    {"overlong UTF-8", "{\"verb\":\"\xc0\xaf\"}", CONTROL_E_BAD_REQUEST},
    {"NUL inside", "{\"verb\":\"fake_echo\\u0000\"}", CONTROL_E_BAD_REQUEST},
    {"an array", "[\"fake_echo\"]", CONTROL_E_BAD_REQUEST},
    {"no verb", "{\"verbs\":\"fake_echo\"}", CONTROL_E_BAD_REQUEST},
    {"verb not a string", "{\"verb\":7}", CONTROL_E_BAD_REQUEST},
    {"unknown verb", "{\"verb\":\"shutdown\"}", CONTROL_E_UNKNOWN_VERB},
    {"duplicate keys", "{\"verb\":\"fake_echo\",\"verb\":\"fake_admin\"}", CONTROL_E_BAD_REQUEST},
    {"truncated JSON", "{\"verb\":\"fake_ec", CONTROL_E_BAD_REQUEST},
};

/* Every bad request gets its error code, and the connection goes on working. */
static void test_bad_requests(void **st)
{
	struct control_opts o = {.mode = 0600};
	struct server *sv = server_start("bad.ctl", &o);
	int fd = conn(sv->path);
	json_t *r;

	(void)st;
	assert_true(fd >= 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad_requests); i++) {
		print_message("case: %s\n", bad_requests[i].what);
		r = ask(fd, bad_requests[i].line);
		assert_non_null(r);
		assert_true(json_is_false(json_object_get(r, "ok")));
		assert_string_equal(code_of(r), bad_requests[i].code);
		assert_non_null(json_string_value(json_object_get(r, "error")));
		json_decref(r);
	}
	/* several requests in one write, CRLF and blank lines tolerated */
	{
		const char *two =
		    "{\"verb\":\"fake_echo\",\"n\":1}\r\n\n{\"verb\":\"fake_echo\",\"n\":2}\n";
		send_all(fd, two, strlen(two));
	}
	for (int n = 1; n <= 2; n++) {
		r = recv_line(fd, 5000);
		assert_non_null(r);
		assert_int_equal(
		    json_integer_value(json_object_get(json_object_get(r, "echo"), "n")), n);
		json_decref(r);
	}
	close(fd);
	server_stop(sv);
}

/* An answer the handler encoded itself arrives as one line, in order with the others; one
 * it could not encode (NULL) is an "internal" error and the connection stays usable. */
static void test_encoded_reply(void **st)
{
	struct control_opts o = {.mode = 0600};
	struct server *sv = server_start("enc.ctl", &o);
	int fd = conn(sv->path);
	json_t *r;

	(void)st;
	assert_true(fd >= 0);
	r = ask(fd, "{\"verb\":\"fake_encoded\",\"n\":7}\n");
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 7);
	json_decref(r);
	r = ask(fd, "{\"verb\":\"fake_encoded\",\"fail\":true}\n");
	assert_non_null(r);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_string_equal(code_of(r), CONTROL_E_INTERNAL);
	json_decref(r);
	r = ask(fd, "{\"verb\":\"fake_encoded\",\"n\":8}\n");
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "n")), 8);
	json_decref(r);
	close(fd);
	server_stop(sv);
}

/* A line over the cap: request_too_large, then the connection closes. */
static void test_oversized(void **st)
{
	struct control_opts o = {.mode = 0600};
	struct server *sv = server_start("big.ctl", &o);
	int fd = conn(sv->path);
	size_t n = CONTROL_REQUEST_MAX + 100;
	char *big = xmalloc(n);
	json_t *r;

	(void)st;
	memset(big, ' ', n);
	send_all(fd, big, n);
	r = recv_line(fd, 5000);
	assert_non_null(r);
	assert_string_equal(code_of(r), CONTROL_E_REQUEST_TOO_LARGE);
	json_decref(r);
	assert_true(at_eof(fd, 5000));
	close(fd);
	/* just under the cap is fine */
	fd = conn(sv->path);
	memcpy(big, "{\"verb\":\"fake_echo\"}", 20);
	big[CONTROL_REQUEST_MAX - 1] = '\n';
	send_all(fd, big, CONTROL_REQUEST_MAX);
	r = recv_line(fd, 5000);
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	close(fd);
	free(big);
	server_stop(sv);
}

/* A silent client and a slow one are closed after the idle timeout. */
static void test_idle_and_slow(void **st)
{
	struct control_opts o = {.mode = 0600, .idle_timeout = 0.2};
	struct server *sv = server_start("idle.ctl", &o);
	int silent = conn(sv->path), slow = conn(sv->path);
	double t0 = mono_now();

	(void)st;
	send_all(slow, "{\"verb\":", 8);
	assert_true(at_eof(silent, 3000));
	assert_true(at_eof(slow, 3000));
	assert_true(mono_now() - t0 >= 0.15);
	close(silent);
	close(slow);
	server_stop(sv);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* n clients connect at once, then each asks; answered or turned away busy, never hung. */
static void concurrent(const char *name, int n, size_t max_clients)
{
	struct control_opts o = {.mode = 0600, .max_clients = max_clients};
	struct server *sv = server_start(name, &o);
	int *fds = xcalloc((size_t)n, sizeof(int));
	int answered = 0, busy = 0;
	double t0 = mono_now(), ms;

	raise_nofile();
	for (int i = 0; i < n; i++) {
		fds[i] = conn(sv->path);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < n; i++) {
		/* a busy client may be closed already: its write may fail */
		if (write(fds[i], "{\"verb\":\"fake_echo\"}\n", 21) < 0)
			assert_true(errno == EPIPE || errno == ECONNRESET);
	}
	for (int i = 0; i < n; i++) {
		json_t *r = recv_line(fds[i], 10000);
		assert_non_null(r);
		if (json_is_true(json_object_get(r, "ok")))
			answered++;
		else if (strcmp(code_of(r), CONTROL_E_BUSY) == 0)
			busy++;
		json_decref(r);
		close(fds[i]);
	}
	ms = (mono_now() - t0) * 1e3;
	print_message("%d concurrent clients (cap %zu): %d answered, %d busy, %.1f ms\n", n,
	              max_clients, answered, busy, ms);
	assert_int_equal(answered + busy, n);
	assert_true(answered >= (int)(max_clients < (size_t)n ? max_clients : (size_t)n));
	/* and it still answers */
	assert_int_equal(stat_of(sv->path, "clients"), 1);
	free(fds);
	server_stop(sv);
}

static void test_500_clients(void **st)
{
	(void)st;
	concurrent("c500.ctl", 500, CONTROL_MAX_CLIENTS);
}

static void test_1000_clients(void **st)
{
	(void)st;
	concurrent("c1000.ctl", 1000, CONTROL_MAX_CLIENTS);
}

/* A client that asks and never reads is dropped once its unread output passes the cap. */
static void test_never_reads(void **st)
{
	struct control_opts o = {.mode = 0600, .write_queue_max = 512 * 1024};
	struct server *sv = server_start("noread.ctl", &o);
	int fd = conn(sv->path), one = 1;
	double deadline = mono_now() + 10;

	(void)st;
	(void)one;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* 64 requests for 256 KiB each, never reading: 16 MiB owed */
	for (int i = 0; i < 64; i++)
		if (write(fd, "{\"verb\":\"fake_big\"}\n", 20) < 0)
			break;
	while (stat_of(sv->path, "dropped") < 1 && mono_now() < deadline)
		usleep(10000);
	assert_true(stat_of(sv->path, "dropped") >= 1);
	assert_int_equal(stat_of(sv->path, "clients"), 1); /* the stats client only */
	close(fd);
	server_stop(sv);
}

/* Clients that vanish with an answer pending (async) or mid-way through a big one. */
static void test_vanish_mid_reply(void **st)
{
	struct control_opts o = {.mode = 0600};
	struct server *sv = server_start("vanish.ctl", &o);
	json_t *r;
	int fd;

	(void)st;
	fd = conn(sv->path);
	send_all(fd, "{\"verb\":\"fake_later\"}\n", 22);
	close(fd);
	for (int i = 0; i < 20; i++) {
		fd = conn(sv->path);
		send_all(fd, "{\"verb\":\"fake_big\"}\n", 20);
		close(fd);
	}
	/* the vanished client's answer (due in 100 ms) goes nowhere, harmlessly: this one waits
	 * on the same timer */
	fd = conn(sv->path);
	r = ask(fd, "{\"verb\":\"fake_later\"}");
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "later")), "yes");
	json_decref(r);
	close(fd);
	server_stop(sv);
}

/* A non-admin (nobody, via setuid in a child) is denied an admin verb but may read. */
static void test_non_admin_denied(void **st)
{
	struct control_opts o = {.mode = 0666, .admin_group = "root"};
	struct server *sv;
	pid_t pid;
	int status;

	(void)st;
	if (geteuid() != 0)
		skip();
	sv = server_start("admin.ctl", &o);
	pid = fork();
	if (pid == 0) {
		int fd, rc = 0;
		json_t *r;

		if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(10);
		fd = conn(sv->path);
		if (fd < 0)
			_exit(11);
		r = ask(fd, "{\"verb\":\"fake_admin\",\"reason\":\"x\"}");
		if (r == NULL || !json_is_false(json_object_get(r, "ok")) ||
		    strcmp(code_of(r), CONTROL_E_DENIED) != 0)
			rc = 12;
		json_decref(r);
		r = ask(fd, "{\"verb\":\"fake_whoami\"}");
		if (r == NULL || json_integer_value(json_object_get(r, "uid")) != NOBODY ||
		    strcmp(json_string_value(json_object_get(r, "user")), "nobody") != 0 ||
		    !json_is_false(json_object_get(r, "admin")))
			rc = 13;
		json_decref(r);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* root is admin */
	{
		int fd = conn(sv->path);
		json_t *r = ask(fd, "{\"verb\":\"fake_admin\"}");
		assert_true(json_is_true(json_object_get(r, "ok")));
		json_decref(r);
		close(fd);
	}
	server_stop(sv);
}

static void test_admin_membership(void **st)
{
	static const gid_t groups[] = {100, 4242, 7};

	(void)st;
	assert_true(control_peer_is_admin(0, 0, NULL, 0, false, 0));
	assert_false(control_peer_is_admin(NOBODY, NOBODY, NULL, 0, false, 0));
	assert_true(control_peer_is_admin(NOBODY, NOBODY, NULL, 0, true, NOBODY)); /* primary */
	assert_false(control_peer_is_admin(NOBODY, NOBODY, NULL, 0, true, 0));
	/* a supplementary group of the peer process */
	assert_true(control_peer_is_admin(NOBODY, NOBODY, groups, 3, true, 4242));
	assert_true(control_peer_is_admin(NOBODY, NOBODY, groups, 3, true, 7));
	assert_false(control_peer_is_admin(NOBODY, NOBODY, groups, 3, true, 4243));
	assert_false(control_peer_is_admin(NOBODY, NOBODY, groups, 2, true, 7));
}

/* Admin by a supplementary group of the peer process (SO_PEERGROUPS): nobody with the group
 * root added may use an admin verb although the group database does not list it. */
static void test_admin_by_peer_groups(void **st)
{
	struct control_opts o = {.mode = 0666, .admin_group = "root"};
	struct server *sv;
	pid_t pid;
	int status;

	(void)st;
	if (geteuid() != 0)
		skip();
	sv = server_start("peergroups.ctl", &o);
	pid = fork();
	if (pid == 0) {
		static const gid_t root_group[] = {0};
		int fd, rc = 0;
		json_t *r;

		if (setgroups(1, root_group) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0)
			_exit(10);
		fd = conn(sv->path);
		if (fd < 0)
			_exit(11);
		r = ask(fd, "{\"verb\":\"fake_admin\",\"reason\":\"x\"}");
		if (r == NULL || !json_is_true(json_object_get(r, "ok")))
			rc = 12;
		json_decref(r);
		r = ask(fd, "{\"verb\":\"fake_whoami\"}");
		if (r == NULL || !json_is_true(json_object_get(r, "admin")))
			rc = 13;
		json_decref(r);
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	server_stop(sv);
}

/* Mode and group as configured; a second server on the same path is refused; a stale
 * socket is replaced; a regular file is left alone. */
static void test_socket_rules(void **st)
{
	struct control_opts o = {.mode = 0640, .group = "nogroup"};
	struct server *sv = server_start("rules/sub/agent.ctl", &o);
	struct control_opts o2 = {.path = sv->path, .mode = 0600};
	struct control *c2;
	struct stat sb;
	char *err = NULL, path[100];
	uv_loop_t loop;
	int fd;

	(void)st;
	assert_int_equal(stat(sv->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	assert_int_equal(sb.st_gid, NOBODY);
	uv_loop_init(&loop);
	c2 = control_new(&loop, &o2, fake_verbs, 1, NULL);
	assert_int_equal(control_start(c2, &err), -1);
	assert_non_null(strstr(err, "another anycast-agent is running on"));
	free(err);
	control_free(c2);
	uv_run(&loop, UV_RUN_DEFAULT);
	server_stop(sv);

	/* a stale socket file: bound, nobody listening */
	snprintf(path, sizeof(path), "%s/stale.ctl", dir);
	{
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	o2.path = path;
	c2 = control_new(&loop, &o2, fake_verbs, 1, NULL);
	assert_int_equal(control_start(c2, &err), 0);
	control_free(c2);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(access(path, F_OK), -1); /* removed on close */

	/* a regular file is not ours to remove */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	c2 = control_new(&loop, &o2, fake_verbs, 1, NULL);
	assert_int_equal(control_start(c2, &err), -1);
	assert_non_null(strstr(err, "is not a socket"));
	free(err);
	control_free(c2);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);

	/* an unknown group is an error that names it */
	o2.group = "no-such-group-xyz";
	c2 = control_new(&loop, &o2, fake_verbs, 1, NULL);
	assert_int_equal(control_start(c2, &err), -1);
	assert_non_null(strstr(err, "no-such-group-xyz"));
	free(err);
	control_free(c2);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* The server in a child with an fd limit of 64; 200 clients at once: the extra ones are
 * closed (EMFILE), the server keeps running and answers once they are gone. */
static void test_fd_limit_64(void **st)
{
	char path[100];
	pid_t pid;
	int status, fds[200], n = 0;
	json_t *r;
	double deadline;

	(void)st;
	snprintf(path, sizeof(path), "%s/emfile.ctl", dir);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {64, 64};
		struct control_opts o = {.path = path, .mode = 0600};
		uv_loop_t loop;
		struct control *c;
		char *err;

		setrlimit(RLIMIT_NOFILE, &rl);
		uv_loop_init(&loop);
		c = control_new(&loop, &o, fake_verbs, ARRAY_SIZE(fake_verbs), NULL);
		if (control_start(c, &err) < 0)
			_exit(20);
		uv_run(&loop, UV_RUN_DEFAULT); /* until killed */
		_exit(0);
	}
	deadline = mono_now() + 5;
	while (access(path, F_OK) < 0 && mono_now() < deadline)
		usleep(5000);
	raise_nofile();
	for (int i = 0; i < 200; i++) {
		fds[i] = conn(path);
		if (fds[i] >= 0)
			n++;
	}
	/* each either gets an answer or is closed; none hangs */
	for (int i = 0; i < 200; i++) {
		if (fds[i] < 0)
			continue;
		if (write(fds[i], "{\"verb\":\"fake_echo\"}\n", 21) >= 0) {
			r = recv_line(fds[i], 5000);
			json_decref(r);
		}
		close(fds[i]);
	}
	/* still alive and answering */
	deadline = mono_now() + 5;
	r = NULL;
	while (r == NULL && mono_now() < deadline) {
		int fd = conn(path);
		if (fd >= 0) {
			r = ask(fd, "{\"verb\":\"fake_echo\"}");
			close(fd);
		}
	}
	assert_non_null(r);
	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0); /* did not die */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	print_message("fd limit 64: %d of 200 connected; the server survived\n", n);
}

static int setup(void **st)
{
	(void)st;
	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL || chmod(dir, 0755) < 0)
		return -1;
	return 0;
}

static int teardown(void **st)
{
	char cmd[300];
	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_encoded_reply),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_idle_and_slow),
	    cmocka_unit_test(test_500_clients),
	    cmocka_unit_test(test_1000_clients),
	    cmocka_unit_test(test_never_reads),
	    cmocka_unit_test(test_vanish_mid_reply),
	    cmocka_unit_test(test_non_admin_denied),
	    cmocka_unit_test(test_admin_membership),
	    cmocka_unit_test(test_admin_by_peer_groups),
	    cmocka_unit_test(test_socket_rules),
	    cmocka_unit_test(test_fd_limit_64),
	};
	log_init("test_control", 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
