/* SPDX-License-Identifier: ISC */
/*
 * test_probe.c - `anycast-agent --probe` (probe.c): which checks run, the
 * printed lines and their order, the exit code, and that checks run
 * concurrently. The config is built by hand.
 */
#include <config.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_testutil.h"
#include "probe.h"

struct fixture {
	struct agent_conf conf;
	int listen_fd, closed_fd;
};

static unsigned bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	return ntohs(sa.sin_port);
}

static int loopback_socket(bool listening)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	return fd;
}

/* Move a hand-built check into the conf's array. */
static void add_check(struct agent_conf *conf, struct check_conf *c)
{
	conf->checks = xrealloc(conf->checks, (conf->nchecks + 1) * sizeof(*conf->checks));
	conf->checks[conf->nchecks++] = *c;
	free(c);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *true_argv[] = {"/bin/true", NULL};
	const char *sleep_argv[] = {"/bin/sleep", "5", NULL};

	f->listen_fd = loopback_socket(true);
	f->closed_fd = loopback_socket(false);
	f->conf.path = "/etc/anycast-agent/test.conf";
	add_check(&f->conf, tcp_conf_new("ssh", "127.0.0.1", bound_port(f->listen_fd), NULL, 1.0));
	add_check(&f->conf,
	          tcp_conf_new("closed", "127.0.0.1", bound_port(f->closed_fd), NULL, 1.0));
	add_check(&f->conf, exec_conf_new("true", true_argv, 1.0, 4096));
	add_check(&f->conf, exec_conf_new("slow1", sleep_argv, 0.3, 4096));
	add_check(&f->conf, exec_conf_new("slow2", sleep_argv, 0.3, 4096));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->conf.nchecks; i++) {
		struct check_conf *c = xmalloc(sizeof(*c));

		*c = f->conf.checks[i];
		check_conf_free_test(c);
	}
	free(f->conf.checks);
	close(f->listen_fd);
	close(f->closed_fd);
	free(f);
	return 0;
}

static const struct probe_case {
	const char *name;
	const char *names[4]; /* NULL-terminated; empty: all */
	int rc;
	const char *lines[6]; /* per printed line: "NAME TYPE RESULT", spaces collapsed */
	double max_s;
} cases[] = {
    {"every check, in config order",
     {NULL},
     PROBE_FAIL,
     {"ssh tcp OK", "closed tcp CONNECT_REFUSED", "true exec OK", "slow1 exec TIMEOUT",
      "slow2 exec TIMEOUT"},
     0.6},
    {"a passing subset, printed in config order",
     {"true", "ssh"},
     PROBE_PASS,
     {"ssh tcp OK", "true exec OK"},
     0.5},
    {"a name given twice runs once", {"ssh", "ssh"}, PROBE_PASS, {"ssh tcp OK"}, 0.5},
    {"two slow checks run concurrently",
     {"slow1", "slow2"},
     PROBE_FAIL,
     {"slow1 exec TIMEOUT", "slow2 exec TIMEOUT"},
     0.5},
    {"an unknown name runs nothing", {"ssh", "nope"}, PROBE_USAGE, {NULL}, 0.1},
};

/* "ssh  tcp  OK  0.1 ms  detail" -> "ssh tcp OK" */
static void first_words(const char *line, char *out, size_t n)
{
	int words = 0;
	size_t o = 0;

	while (*line && words < 3 && o + 1 < n) {
		while (*line == ' ')
			line++;
		while (*line && *line != ' ' && o + 1 < n)
			out[o++] = *line++;
		if (++words < 3 && o + 1 < n)
			out[o++] = ' ';
	}
	out[o] = '\0';
}

static void test_probe_cases(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct probe_case *tc = &cases[i];
		size_t nnames = 0, len = 0, nlines = 0;
		char *buf = NULL, *line, *save = NULL;
		FILE *out = open_memstream(&buf, &len);
		double t0;
		int rc;

		print_message("case: %s\n", tc->name);
		while (tc->names[nnames] != NULL)
			nnames++;
		t0 = mono_now();
		rc = probe_run(&f->conf, (char **)tc->names, nnames, out);
		fclose(out);
		print_message("%s", buf);
		assert_int_equal(rc, tc->rc);
		assert_true(mono_now() - t0 < tc->max_s);
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char words[128];

			assert_non_null(tc->lines[nlines]);
			first_words(line, words, sizeof(words));
			assert_string_equal(words, tc->lines[nlines]);
			assert_non_null(strstr(line, " ms  "));
			nlines++;
		}
		assert_null(tc->lines[nlines]);
		free(buf);
	}
}

static void test_unknown_name_message(void **state)
{
	struct fixture *f = *state;
	char *names[] = {"nope"};
	char tmpl[] = "/tmp/aa-test-probe.XXXXXX", msg[512] = {0};
	int fd = mkstemp(tmpl), saved = dup(STDERR_FILENO);
	FILE *out = fopen("/dev/null", "w");
	ssize_t n;

	/* the operator is told what is wrong and which names exist */
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(probe_run(&f->conf, names, 1, out), PROBE_USAGE);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, msg, sizeof(msg) - 1, 0);
	assert_true(n > 0);
	close(fd);
	unlink(tmpl);
	fclose(out);
	assert_non_null(strstr(msg, "no check named \"nope\" in /etc/anycast-agent/test.conf"));
	assert_non_null(strstr(msg, "the checks are: ssh closed true slow1 slow2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_probe_cases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_name_message, setup, teardown),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
