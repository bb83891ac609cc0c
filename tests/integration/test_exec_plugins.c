/* SPDX-License-Identifier: ISC */
/*
 * test_exec_plugins.c - exec checks and --probe with the real Nagios
 * plugins of Debian's monitoring-plugins-basic, run exactly as an operator
 * would configure them. Exits 77 (skip) when the plugins are missing.
 */
#include <config.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../unit/check_testutil.h"
#include "probe.h"

#define PLUGINS "/usr/lib/nagios/plugins"

static unsigned listen_port, closed_port;
static int listen_fd = -1, closed_fd = -1;
static char port_s[16], closed_s[16];

/* A loopback listener for check_tcp, and a bound port that does not listen. */
static int open_ports(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	closed_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || closed_fd < 0 || bind(listen_fd, (struct sockaddr *)&sa, len) < 0 ||
	    bind(closed_fd, (struct sockaddr *)&sa, len) < 0 || listen(listen_fd, 64) < 0)
		return -1;
	getsockname(listen_fd, (struct sockaddr *)&sa, &len);
	listen_port = ntohs(sa.sin_port);
	getsockname(closed_fd, (struct sockaddr *)&sa, &len);
	closed_port = ntohs(sa.sin_port);
	snprintf(port_s, sizeof(port_s), "%u", listen_port);
	snprintf(closed_s, sizeof(closed_s), "%u", closed_port);
	return 0;
}

static int close_ports(void **state)
{
	close(listen_fd);
	close(closed_fd);
	return 0;
}

static const struct plugin_case {
	const char *name;
	const char *argv[10];
	enum check_result_code code;
	const char *detail_prefix;
} cases[] = {
    {"check_disk on / passes",
     {PLUGINS "/check_disk", "-w", "1%", "-c", "1%", "-p", "/"},
     RES_OK,
     "DISK OK - free space: / "},
    {"check_disk with impossible thresholds fails",
     {PLUGINS "/check_disk", "-w", "100%", "-c", "100%", "-p", "/"},
     RES_EXEC_CRITICAL,
     "DISK CRITICAL - free space: / "},
    {"check_dummy 0", {PLUGINS "/check_dummy", "0", "all fine"}, RES_OK, "OK: all fine"},
    {"check_dummy 1", {PLUGINS "/check_dummy", "1", "degraded"}, RES_WARNING, "WARNING: degraded"},
    {"check_dummy 2",
     {PLUGINS "/check_dummy", "2", "broken"},
     RES_EXEC_CRITICAL,
     "CRITICAL: broken"},
    {"check_dummy 3",
     {PLUGINS "/check_dummy", "3", "confused"},
     RES_EXEC_UNKNOWN,
     "UNKNOWN: confused"},
    {"check_tcp against a listener",
     {PLUGINS "/check_tcp", "-H", "127.0.0.1", "-p", port_s},
     RES_OK,
     "TCP OK - "},
    {"check_tcp against a closed port",
     {PLUGINS "/check_tcp", "-H", "127.0.0.1", "-p", closed_s},
     RES_EXEC_CRITICAL,
     "connect to address 127.0.0.1 and port"},
};

static void test_plugins(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct plugin_case *tc = &cases[i];
		struct check_conf *conf = exec_conf_new("plugin", tc->argv, 10.0, 8192);
		struct done_rec rec = {0};
		struct check_env *env;
		struct check_run *run;
		uv_loop_t loop;

		print_message("case: %s\n", tc->name);
		uv_loop_init(&loop);
		env = check_env_new(&loop);
		run = check_run_new(env, conf, rec_done_cb, &rec);
		assert_int_equal(check_run_start(run), 0);
		assert_true(run_until(&loop, rec_is_done, &rec, 12.0));
		print_message("      %s: %s (%.1f ms)\n", result_name(rec.rep.code), rec.rep.detail,
		              rec.rep.duration * 1000);
		assert_int_equal(rec.rep.code, tc->code);
		assert_memory_equal(rec.rep.detail, tc->detail_prefix, strlen(tc->detail_prefix));
		/* perfdata never reaches the detail */
		assert_null(strchr(rec.rep.detail, '|'));
		check_run_free(run);
		check_env_free(env);
		assert_true(loop_drain(&loop, 2.0));
		assert_int_equal(uv_loop_close(&loop), 0);
		check_conf_free_test(conf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plugins),
	};

	if (access(PLUGINS "/check_disk", X_OK) != 0 || access(PLUGINS "/check_dummy", X_OK) != 0 ||
	    access(PLUGINS "/check_tcp", X_OK) != 0) {
		fprintf(stderr,
		        "SKIP: %s/check_{disk,dummy,tcp} missing: "
		        "apt-get install monitoring-plugins-basic\n",
		        PLUGINS);
		return 77;
	}
	return cmocka_run_group_tests_name("exec_plugins", tests, open_ports, close_ports);
}
