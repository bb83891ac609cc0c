/* SPDX-License-Identifier: ISC */
/*
 * test_check_tcp.c - the tcp check type against loopback sockets the test
 * owns: a listener (v4, v6), a bound port that does not listen (refused),
 * a fake peer whose accept queue is full (SYNs dropped: a connect that
 * really hangs), and source address binding.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_testutil.h"

enum peer { PEER_LISTEN, PEER_CLOSED, PEER_FULL_BACKLOG, PEER_NONE };

/* A loopback socket on an ephemeral port; returns the fd and sets *port. */
static int peer_socket(int family, enum peer kind, unsigned *port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len =
	    family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	int fd = socket(family, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                 : ((struct sockaddr_in *)&ss)->sin_port);
	/* PEER_CLOSED: bound but not listening, so a SYN gets a RST */
	if (kind == PEER_LISTEN)
		assert_int_equal(listen(fd, 16), 0);
	if (kind == PEER_FULL_BACKLOG)
		assert_int_equal(listen(fd, 0), 0);
	return fd;
}

/* Fill the accept queue of a backlog-0 listener: later SYNs are dropped. */
static int fill_backlog(int family, unsigned port, int *fillers, int max)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int n = 0;

	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	/* backlog 0 holds one established connection; two fillers make sure */
	for (n = 0; n < max; n++) {
		fillers[n] = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fillers[n] >= 0);
		if (connect(fillers[n], (struct sockaddr *)&ss, len) < 0)
			assert_int_equal(errno, EINPROGRESS);
		if (n == 0) {
			/* the first one completes and fills the queue (waits at most 1 s) */
			struct pollfd p = {.fd = fillers[0], .events = POLLOUT};

			assert_int_equal(poll(&p, 1, 1000), 1);
		}
	}
	return n;
}

static const struct tcp_case {
	const char *name;
	int family;
	enum peer peer;
	const char *host;   /* NULL: loopback of the family */
	const char *source; /* NULL: none */
	double timeout;
	enum check_result_code code;
	const char *detail;      /* a substring of the detail */
	const char *peer_source; /* the address the listener sees, or NULL */
} cases[] = {
    {"v4 listener", AF_INET, PEER_LISTEN, NULL, NULL, 1.0, RES_OK, "connected to 127.0.0.1:", NULL},
    {"v6 listener", AF_INET6, PEER_LISTEN, NULL, NULL, 1.0, RES_OK, "connected to [::1]:", NULL},
    {"v4 closed port", AF_INET, PEER_CLOSED, NULL, NULL, 1.0, RES_CONNECT_REFUSED,
     "refused the connection", NULL},
    {"v6 closed port", AF_INET6, PEER_CLOSED, NULL, NULL, 1.0, RES_CONNECT_REFUSED,
     "refused the connection", NULL},
    {"v4 fake peer with a full accept queue hangs", AF_INET, PEER_FULL_BACKLOG, NULL, NULL, 0.3,
     RES_TIMEOUT, "no result within 0.300 s", NULL},
    {"v6 fake peer with a full accept queue hangs", AF_INET6, PEER_FULL_BACKLOG, NULL, NULL, 0.3,
     RES_TIMEOUT, "no result within 0.300 s", NULL},
    {"v4 from source 127.0.0.2", AF_INET, PEER_LISTEN, NULL, "127.0.0.2", 1.0, RES_OK,
     "connected to", "127.0.0.2"},
    {"v6 from source ::1", AF_INET6, PEER_LISTEN, NULL, "::1", 1.0, RES_OK, "connected to", "::1"},
    {"source address not on this host", AF_INET, PEER_LISTEN, NULL, "192.0.2.1", 1.0,
     RES_CONNECT_FAILED, "cannot use source address 192.0.2.1", NULL},
    {"unroutable destination", AF_INET, PEER_NONE, "224.0.0.1", NULL, 1.0, RES_CONNECT_FAILED,
     "connect to 224.0.0.1:", NULL},
    {"not a numeric address", AF_INET, PEER_NONE, "localhost", NULL, 1.0, RES_INTERNAL_ERROR,
     "not a numeric address", NULL},
};

static void test_tcp_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcp_case *tc = &cases[i];
		const char *host = tc->host                 ? tc->host
		                   : tc->family == AF_INET6 ? "::1"
		                                            : "127.0.0.1";
		unsigned port = 80;
		int fd = -1, fillers[2], nfill = 0;
		struct done_rec rec = {0};
		struct check_conf *conf;
		struct check_env *env;
		struct check_run *run;
		uv_loop_t loop;

		print_message("case: %s\n", tc->name);
		if (tc->peer != PEER_NONE)
			fd = peer_socket(tc->family, tc->peer, &port);
		if (tc->peer == PEER_FULL_BACKLOG)
			nfill = fill_backlog(tc->family, port, fillers, 2);
		uv_loop_init(&loop);
		env = check_env_new(&loop);
		conf = tcp_conf_new(tc->name, host, port, tc->source, tc->timeout);
		if (tc->host != NULL)
			conf->u.tcp.address.family = AF_INET; /* as the loader would decide */
		run = check_run_new(env, conf, rec_done_cb, &rec);
		assert_int_equal(check_run_start(run), 0);
		assert_true(run_until(&loop, rec_is_done, &rec, tc->timeout + 1.0));
		print_message("      %s %s (%.1f ms)\n", result_name(rec.rep.code), rec.rep.detail,
		              rec.rep.duration * 1000);
		assert_int_equal(rec.rep.code, tc->code);
		assert_non_null(strstr(rec.rep.detail, tc->detail));
		if (tc->code == RES_OK) {
			assert_true(rec.rep.t_connect >= 0 &&
			            rec.rep.t_connect <= rec.rep.duration);
			assert_non_null(strstr(rec.rep.detail, " ms"));
		}
		if (tc->code == RES_TIMEOUT) {
			/* the guard ends a hanging connect on time */
			assert_true(rec.rep.duration >= tc->timeout);
			assert_true(rec.rep.duration <= tc->timeout + 0.05);
		}
		if (tc->peer_source != NULL) {
			struct sockaddr_storage ss;
			socklen_t len = sizeof(ss);
			char addr[INET6_ADDRSTRLEN];
			int c = accept(fd, (struct sockaddr *)&ss, &len);

			assert_true(c >= 0);
			inet_ntop(ss.ss_family,
			          ss.ss_family == AF_INET6
			              ? (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
			              : (void *)&((struct sockaddr_in *)&ss)->sin_addr,
			          addr, sizeof(addr));
			assert_string_equal(addr, tc->peer_source);
			close(c);
		}
		check_run_free(run);
		check_env_free(env);
		assert_true(loop_drain(&loop, 1.0));
		assert_int_equal(uv_loop_close(&loop), 0);
		check_conf_free_test(conf);
		for (int k = 0; k < nfill; k++)
			close(fillers[k]);
		if (fd >= 0)
			close(fd);
	}
}

/* A run freed while its connect hangs releases the socket. */
static void test_free_while_connecting(void **state)
{
	int fd, fillers[2], nfill;
	unsigned port;
	struct done_rec rec = {0};
	struct check_conf *conf;
	struct check_env *env;
	struct check_run *run;
	uv_loop_t loop;

	fd = peer_socket(AF_INET, PEER_FULL_BACKLOG, &port);
	nfill = fill_backlog(AF_INET, port, fillers, 2);
	uv_loop_init(&loop);
	env = check_env_new(&loop);
	conf = tcp_conf_new("hang", "127.0.0.1", port, NULL, 5.0);
	run = check_run_new(env, conf, rec_done_cb, &rec);
	assert_int_equal(check_run_start(run), 0);
	run_until(&loop, never, NULL, 0.05);
	check_run_free(run);
	check_env_free(env);
	assert_true(loop_drain(&loop, 1.0));
	assert_int_equal(uv_loop_close(&loop), 0);
	assert_int_equal(rec.ndone, 0);
	check_conf_free_test(conf);
	for (int k = 0; k < nfill; k++)
		close(fillers[k]);
	close(fd);
}

/* Many checks of one loop run concurrently: ten hanging connects take one timeout. */
static void test_concurrent_timeouts(void **state)
{
	int fd, fillers[2], nfill;
	unsigned port;
	struct done_rec rec[10] = {0};
	struct check_conf *conf;
	struct check_env *env;
	struct check_run *run[10];
	uv_loop_t loop;
	double t0;

	fd = peer_socket(AF_INET, PEER_FULL_BACKLOG, &port);
	nfill = fill_backlog(AF_INET, port, fillers, 2);
	uv_loop_init(&loop);
	env = check_env_new(&loop);
	conf = tcp_conf_new("hang", "127.0.0.1", port, NULL, 0.2);
	t0 = mono_now();
	for (int i = 0; i < 10; i++) {
		run[i] = check_run_new(env, conf, rec_done_cb, &rec[i]);
		assert_int_equal(check_run_start(run[i]), 0);
	}
	for (int i = 0; i < 10; i++) {
		assert_true(run_until(&loop, rec_is_done, &rec[i], 1.0));
		assert_int_equal(rec[i].rep.code, RES_TIMEOUT);
	}
	assert_true(mono_now() - t0 < 0.3);
	for (int i = 0; i < 10; i++)
		check_run_free(run[i]);
	check_env_free(env);
	assert_true(loop_drain(&loop, 1.0));
	assert_int_equal(uv_loop_close(&loop), 0);
	check_conf_free_test(conf);
	for (int k = 0; k < nfill; k++)
		close(fillers[k]);
	close(fd);
}

/* A connection the check made is reset when it closes: nothing of it is left on the host, no
 * TIME_WAIT or FIN_WAIT entry, even when the listener never accepts it. */
static void test_no_connection_left(void **state)
{
	struct done_rec rec;
	struct check_conf *conf;
	struct check_env *env;
	struct check_run *run;
	uv_loop_t loop;
	unsigned port;
	int fd = peer_socket(AF_INET, PEER_LISTEN, &port);

	uv_loop_init(&loop);
	env = check_env_new(&loop);
	conf = tcp_conf_new("reset", "127.0.0.1", port, NULL, 1.0);
	run = check_run_new(env, conf, rec_done_cb, &rec);
	for (int i = 0; i < 5; i++) {
		memset(&rec, 0, sizeof(rec));
		assert_int_equal(check_run_start(run), 0);
		assert_true(run_until(&loop, rec_is_done, &rec, 2.0));
		assert_int_equal(rec.rep.code, RES_OK);
	}
	check_run_free(run);
	check_env_free(env);
	assert_true(loop_drain(&loop, 1.0));
	assert_int_equal(uv_loop_close(&loop), 0);
	/* the close (and its RST) is done by the time the loop has drained */
	assert_int_equal(tcp_sockets_on_port(port), 0);
	check_conf_free_test(conf);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_cases),
	    cmocka_unit_test(test_no_connection_left),
	    cmocka_unit_test(test_free_while_connecting),
	    cmocka_unit_test(test_concurrent_timeouts),
	};

	return cmocka_run_group_tests_name("check_tcp", tests, NULL, NULL);
}
