/* SPDX-License-Identifier: ISC */
/*
 * test_watch.c - the death watches on a real libuv loop with processes and
 * sockets the test owns: a pidfile's process exits, is replaced the way
 * nginx (binary upgrade) and nsd (reload) replace it, its file is removed,
 * rewritten, stale or garbage, its directory missing; a listening TCP or
 * bound UDP socket closes, another still serves, a wildcard or dual-stack
 * socket serves, connections on the port come and go. And the unit rule of
 * watch_unit (the D-Bus side is tests/integration/test_watch_unit_fakebus.sh).
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_testutil.h"
#include "watch.h"

struct rec {
	int calls;
	enum watch_state old, now;
	char detail[256];
	double at;
};

static void rec_cb(struct watch *w, enum watch_state old, void *arg)
{
	struct rec *r = arg;
	struct watch_info wi;

	watch_info(w, &wi);
	r->calls++;
	r->old = old;
	r->now = wi.state;
	snprintf(r->detail, sizeof(r->detail), "%s", wi.detail);
	r->at = mono_now();
}

struct wait_for {
	struct rec *r;
	int calls;
};

static bool called(void *arg)
{
	struct wait_for *wf = arg;
	return wf->r->calls >= wf->calls;
}

/* Run the loop until r has seen its n-th call (or secs passed). */
static bool wait_calls(uv_loop_t *loop, struct rec *r, int n, double secs)
{
	struct wait_for wf = {r, n};
	return run_until(loop, called, &wf, secs);
}

struct fx {
	uv_loop_t loop;
	struct watch_env *env;
	char dir[64], path[96];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->env = watch_env_new(&fx->loop);
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_watch.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/svc.pid", fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	watch_env_free(fx->env);
	assert_true(loop_drain(&fx->loop, 2));
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* A child that sleeps until killed. */
static pid_t spawn(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* Write the file the way daemons do: atomically (rename) or in place (truncate + write). */
static void write_pid(const char *path, long pid, bool rename_it)
{
	char tmp[128], buf[32];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(rename_it ? tmp : path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	snprintf(buf, sizeof(buf), "%ld\n", pid);
	assert_int_equal(write(fd, buf, strlen(buf)), (ssize_t)strlen(buf));
	close(fd);
	if (rename_it)
		assert_int_equal(rename(tmp, path), 0);
}

static void test_pidfile_exit(void **state)
{
	struct fx *fx = *state;
	struct rec r = {0};
	pid_t pid = spawn();
	char want[64];
	struct watch *w;

	write_pid(fx->path, pid, false);
	w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
	watch_start(w);
	/* decided at once, without a loop turn */
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.old, WATCH_STARTING);
	assert_int_equal(r.now, WATCH_ALIVE);
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	assert_string_equal(r.detail, want);
	/* SIGKILL: nothing is written anywhere, the kernel alone says so */
	kill(pid, SIGKILL);
	assert_true(wait_calls(&fx->loop, &r, 2, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	snprintf(want, sizeof(want), "pid %ld exited", (long)pid);
	assert_string_equal(r.detail, want);
	waitpid(pid, NULL, 0);
	{
		struct watch_info wi;
		watch_info(w, &wi);
		assert_int_equal(wi.deaths, 1);
		assert_string_equal(wi.key, "watch_pidfile");
		assert_string_equal(wi.target, fx->path);
	}
	/* a restart: a new process writes its pid */
	pid = spawn();
	write_pid(fx->path, pid, false);
	assert_true(wait_calls(&fx->loop, &r, 3, 2));
	assert_int_equal(r.now, WATCH_ALIVE);
	watch_free(w);
	reap(pid);
}

/* nginx's binary upgrade renames the old file and writes a new one; nsd's reload writes the
 * new main pid before the old main exits. Neither is a death; the old process's exit is not
 * either once the file names the new one. A rewrite with the same pid is no event at all. */
static void test_pidfile_replaced(void **state)
{
	struct fx *fx = *state;
	struct rec r = {0};
	pid_t a = spawn(), b = spawn(), c = spawn();
	char want[96], old[128];
	struct watch *w;

	write_pid(fx->path, a, true);
	w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.calls, 1);
	/* a reload rewrites the same pid: nothing */
	write_pid(fx->path, a, false);
	assert_false(wait_calls(&fx->loop, &r, 2, 0.2));
	/* binary upgrade: nginx.pid -> nginx.pid.oldbin, a new nginx.pid */
	snprintf(old, sizeof(old), "%s.oldbin", fx->path);
	assert_int_equal(rename(fx->path, old), 0);
	write_pid(fx->path, b, false);
	assert_false(wait_calls(&fx->loop, &r, 2, 0.2));
	reap(a); /* the old master quits */
	assert_false(wait_calls(&fx->loop, &r, 2, 0.3));
	assert_int_equal(watch_state(w), WATCH_ALIVE);
	/* nsd's reload: the new pid is written first, then the old main exits */
	write_pid(fx->path, c, true);
	reap(b);
	assert_false(wait_calls(&fx->loop, &r, 2, 0.3));
	assert_int_equal(watch_state(w), WATCH_ALIVE);
	{
		struct watch_info wi;
		watch_info(w, &wi);
		snprintf(want, sizeof(want), "pid %ld", (long)c);
		assert_non_null(strstr(wi.detail, want));
	}
	reap(c);
	assert_true(wait_calls(&fx->loop, &r, 2, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	watch_free(w);
}

/* A removed pidfile is no death while its process runs; the exit is. */
static void test_pidfile_removed(void **state)
{
	struct fx *fx = *state;
	struct rec r = {0};
	pid_t pid = spawn();
	struct watch *w;
	struct watch_info wi;
	char want[64];

	write_pid(fx->path, pid, false);
	w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.now, WATCH_ALIVE);
	assert_int_equal(unlink(fx->path), 0);
	assert_false(wait_calls(&fx->loop, &r, 2, 0.3));
	watch_info(w, &wi);
	assert_int_equal(wi.state, WATCH_ALIVE);
	assert_non_null(strstr(wi.detail, "No such file"));
	kill(pid, SIGKILL);
	assert_true(wait_calls(&fx->loop, &r, 2, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	snprintf(want, sizeof(want), "pid %ld exited", (long)pid);
	assert_string_equal(r.detail, want);
	waitpid(pid, NULL, 0);
	watch_free(w);
}

/* A pidfile that names no process is dead from the start: missing, empty, garbage, a pid
 * that does not run, a process that exited but was not reaped (a zombie), a directory that
 * does not exist (yet: it is looked for again). */
static void test_pidfile_names_no_process(void **state)
{
	struct fx *fx = *state;
	static const char *const contents[] = {NULL, "", "nginx\n", "0\n", "-5\n", "123abc\n"};
	struct rec r;
	struct watch *w;
	char sub[128], subpath[160];
	pid_t z;

	for (size_t i = 0; i < ARRAY_SIZE(contents); i++) {
		unlink(fx->path);
		if (contents[i] != NULL) {
			FILE *f = fopen(fx->path, "w");
			assert_non_null(f);
			fputs(contents[i], f);
			fclose(f);
		}
		memset(&r, 0, sizeof(r));
		w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
		watch_start(w);
		if (r.calls != 1 || r.now != WATCH_DEAD)
			fail_msg("content %zu: state %s", i, watch_state_name(r.now));
		watch_free(w);
	}
	/* a pid that does not run: a reaped child's */
	z = spawn();
	reap(z);
	write_pid(fx->path, z, false);
	memset(&r, 0, sizeof(r));
	w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.now, WATCH_DEAD);
	assert_non_null(strstr(r.detail, "is not running"));
	watch_free(w);
	/* a zombie */
	z = spawn();
	kill(z, SIGKILL);
	{
		siginfo_t si;
		assert_int_equal(waitid(P_PID, (id_t)z, &si, WEXITED | WNOWAIT), 0);
	}
	write_pid(fx->path, z, false);
	memset(&r, 0, sizeof(r));
	w = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.now, WATCH_DEAD);
	assert_non_null(strstr(r.detail, "has exited"));
	watch_free(w);
	waitpid(z, NULL, 0);
	/* the directory comes later (a RuntimeDirectory made at the service's start) */
	snprintf(sub, sizeof(sub), "%s/run", fx->dir);
	snprintf(subpath, sizeof(subpath), "%s/svc.pid", sub);
	memset(&r, 0, sizeof(r));
	w = watch_new(fx->env, WATCH_PIDFILE, subpath, NULL, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.now, WATCH_DEAD);
	z = spawn();
	assert_int_equal(mkdir(sub, 0755), 0);
	write_pid(subpath, z, false);
	assert_true(wait_calls(&fx->loop, &r, 2, WATCH_RETRY_S + 2));
	assert_int_equal(r.now, WATCH_ALIVE);
	/* and it goes again, with the service */
	assert_int_equal(unlink(subpath), 0);
	assert_int_equal(rmdir(sub), 0);
	reap(z);
	assert_true(wait_calls(&fx->loop, &r, 3, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	watch_free(w);
}

/* Two watches in one directory share the inotify watch; freeing one keeps the other. */
static void test_pidfile_shared_directory(void **state)
{
	struct fx *fx = *state;
	struct rec ra = {0}, rb = {0};
	char pb[128];
	pid_t a = spawn(), b = spawn(), b2 = spawn();
	struct watch *wa, *wb;

	snprintf(pb, sizeof(pb), "%s/other.pid", fx->dir);
	write_pid(fx->path, a, false);
	write_pid(pb, b, false);
	wa = watch_new(fx->env, WATCH_PIDFILE, fx->path, NULL, rec_cb, &ra);
	wb = watch_new(fx->env, WATCH_PIDFILE, pb, NULL, rec_cb, &rb);
	watch_start(wa);
	watch_start(wb);
	watch_free(wa);
	reap(b);
	assert_true(wait_calls(&fx->loop, &rb, 2, 2));
	assert_int_equal(rb.now, WATCH_DEAD);
	/* the directory is still watched for wb */
	write_pid(pb, b2, true);
	assert_true(wait_calls(&fx->loop, &rb, 3, 2));
	assert_int_equal(rb.now, WATCH_ALIVE);
	assert_int_equal(ra.calls, 1);
	watch_free(wb);
	reap(a);
	reap(b2);
}

/* ---- listen ------------------------------------------------------------------------ */

/* A socket bound to host (port 0: any), listening for TCP; its port in *port. */
static int bound(int fam, int type, const char *host, unsigned *port, int v6only, bool reuse)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1;
	int fd = socket(fam, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (reuse)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	if (fam == AF_INET6)
		assert_int_equal(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)),
		                 0);
	if (fam == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)*port);
		inet_pton(AF_INET, host, &s->sin_addr);
		len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)*port);
		inet_pton(AF_INET6, host, &s->sin6_addr);
		len = sizeof(*s);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	if (type == SOCK_STREAM)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                             : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

static struct listen_ref ref(int proto, const char *host, unsigned port)
{
	struct listen_ref l = {.proto = proto};
	l.addr.host = (char *)host;
	l.addr.port = port;
	l.addr.family = strchr(host, ':') ? AF_INET6 : AF_INET;
	return l;
}

static void test_listen_tcp(void **state)
{
	struct fx *fx = *state;
	struct rec r = {0};
	unsigned port = 0;
	int l1 = bound(AF_INET, SOCK_STREAM, "127.0.0.1", &port, 0, true), l2, c;
	struct listen_ref lr = ref(IPPROTO_TCP, "127.0.0.1", port);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct watch *w;
	double t0;

	l2 = bound(AF_INET, SOCK_STREAM, "127.0.0.1", &port, 0, true);
	fcntl(l1, F_SETFL, O_NONBLOCK);
	fcntl(l2, F_SETFL, O_NONBLOCK);
	w = watch_new(fx->env, WATCH_LISTEN, NULL, &lr, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.now, WATCH_ALIVE);
	assert_string_equal(r.detail, "2 listening sockets");
	/* connections come and go on the port: their sockets' ends are filtered away */
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (int i = 0; i < 20; i++) {
		int a;
		c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
		/* reuseport hashes each connection to one of the two */
		a = accept4(l1, NULL, NULL, SOCK_NONBLOCK);
		if (a < 0)
			a = accept4(l2, NULL, NULL, SOCK_NONBLOCK);
		assert_true(a >= 0);
		close(c);
		close(a);
	}
	/* one of two goes (a worker of a reuseport pool): still served */
	close(l2);
	assert_false(wait_calls(&fx->loop, &r, 2, 0.3));
	{
		struct watch_info wi;
		watch_info(w, &wi);
		assert_int_equal(wi.state, WATCH_ALIVE);
		assert_string_equal(wi.detail, "1 listening socket");
		char want[64];
		snprintf(want, sizeof(want), "tcp:127.0.0.1:%u", port);
		assert_string_equal(wi.target, want);
		assert_string_equal(wi.key, "watch_listen");
	}
	/* the last one: dead at once (no timer runs while alive: only the kernel's
	 * notification can tell) */
	t0 = mono_now();
	close(l1);
	assert_true(wait_calls(&fx->loop, &r, 2, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	assert_true(r.at - t0 < WATCH_RETRY_S);
	assert_non_null(strstr(r.detail, "no socket listening on 127.0.0.1:"));
	/* back: seen by the look-again of a dead watch */
	l1 = bound(AF_INET, SOCK_STREAM, "127.0.0.1", &port, 0, false);
	assert_true(wait_calls(&fx->loop, &r, 3, WATCH_RETRY_S + 2));
	assert_int_equal(r.now, WATCH_ALIVE);
	watch_free(w);
	close(l1);
}

static void test_listen_wildcards(void **state)
{
	struct fx *fx = *state;
	static const struct {
		int fam;
		const char *bind_host;
		int v6only;
		const char *watch_host;
		bool serves;
	} cases[] = {
	    {AF_INET, "0.0.0.0", 0, "127.0.0.1", true},
	    {AF_INET, "127.0.0.2", 0, "127.0.0.1", false},
	    {AF_INET6, "::", 0, "127.0.0.1", true},
	    {AF_INET6, "::", 1, "127.0.0.1", false},
	    {AF_INET6, "::ffff:127.0.0.1", 0, "127.0.0.1", true},
	    {AF_INET6, "::1", 1, "::1", true},
	    {AF_INET6, "::", 1, "::1", true},
	    {AF_INET, "0.0.0.0", 0, "::1", false},
	};

	(void)fx;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned port = 0;
		int fd = bound(cases[i].fam, SOCK_STREAM, cases[i].bind_host, &port,
		               cases[i].v6only, false);
		struct listen_ref lr = ref(IPPROTO_TCP, cases[i].watch_host, port);
		int n = watch_listen_count(&lr);

		if ((n > 0) != cases[i].serves)
			fail_msg("case %zu: %s (v6only %d) serving %s: count %d", i,
			         cases[i].bind_host, cases[i].v6only, cases[i].watch_host, n);
		close(fd);
	}
}

static void test_listen_udp(void **state)
{
	struct fx *fx = *state;
	struct rec r = {0};
	unsigned port = 0;
	int u = bound(AF_INET, SOCK_DGRAM, "127.0.0.1", &port, 0, false);
	struct listen_ref lr = ref(IPPROTO_UDP, "127.0.0.1", port),
	                  tcp = ref(IPPROTO_TCP, "127.0.0.1", port);
	struct watch *w;
	char buf[64];

	/* a TCP watch on the same port sees no TCP socket */
	assert_int_equal(watch_listen_count(&tcp), 0);
	w = watch_new(fx->env, WATCH_LISTEN, NULL, &lr, rec_cb, &r);
	watch_start(w);
	assert_int_equal(r.now, WATCH_ALIVE);
	assert_string_equal(r.detail, "1 bound socket");
	assert_int_equal(watch_probe(WATCH_LISTEN, NULL, &lr, 1, buf, sizeof(buf)), WATCH_ALIVE);
	close(u);
	assert_true(wait_calls(&fx->loop, &r, 2, 2));
	assert_int_equal(r.now, WATCH_DEAD);
	assert_non_null(strstr(r.detail, "no socket bound on 127.0.0.1:"));
	assert_int_equal(watch_probe(WATCH_LISTEN, NULL, &lr, 1, buf, sizeof(buf)), WATCH_DEAD);
	watch_free(w);
}

/* ---- --probe and the unit rule ----------------------------------------------------- */

static void test_probe_pidfile(void **state)
{
	struct fx *fx = *state;
	char detail[256], want[64];
	pid_t pid = spawn();

	write_pid(fx->path, pid, false);
	assert_int_equal(watch_probe(WATCH_PIDFILE, fx->path, NULL, 1, detail, sizeof(detail)),
	                 WATCH_ALIVE);
	snprintf(want, sizeof(want), "pid %ld", (long)pid);
	assert_string_equal(detail, want);
	reap(pid);
	assert_int_equal(watch_probe(WATCH_PIDFILE, fx->path, NULL, 1, detail, sizeof(detail)),
	                 WATCH_DEAD);
	assert_non_null(strstr(detail, "is not running"));
	unlink(fx->path);
	assert_int_equal(watch_probe(WATCH_PIDFILE, fx->path, NULL, 1, detail, sizeof(detail)),
	                 WATCH_DEAD);
	assert_non_null(strstr(detail, "No such file"));
}

static void test_unit_rule(void **state)
{
	static const struct {
		const char *active, *sub;
		enum watch_state want;
	} cases[] = {
	    {"active", "running", WATCH_ALIVE},
	    {"active", "exited", WATCH_ALIVE},
	    {"reloading", "reload", WATCH_ALIVE},
	    {"refreshing", "running", WATCH_ALIVE},
	    /* ExecStop= runs (a drain in a drop-in): still serving */
	    {"deactivating", "stop", WATCH_ALIVE},
	    /* systemd kills what is left: a crash or the end of a stop */
	    {"deactivating", "stop-sigterm", WATCH_DEAD},
	    {"deactivating", "stop-sigkill", WATCH_DEAD},
	    {"deactivating", "stop-post", WATCH_DEAD},
	    {"deactivating", "final-sigterm", WATCH_DEAD},
	    {"inactive", "dead", WATCH_DEAD},
	    {"failed", "failed", WATCH_DEAD},
	    {"activating", "auto-restart", WATCH_DEAD},
	    {"activating", "start", WATCH_DEAD},
	    {"maintenance", "", WATCH_DEAD},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (watch_unit_rule(cases[i].active, cases[i].sub) != cases[i].want)
			fail_msg("%s (%s): want %s", cases[i].active, cases[i].sub,
			         watch_state_name(cases[i].want));
	assert_string_equal(watch_key(WATCH_UNIT), "watch_unit");
	assert_string_equal(watch_state_name(WATCH_UNAVAILABLE), "unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pidfile_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pidfile_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pidfile_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pidfile_names_no_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pidfile_shared_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_wildcards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_udp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_probe_pidfile, setup, teardown),
	    cmocka_unit_test(test_unit_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
