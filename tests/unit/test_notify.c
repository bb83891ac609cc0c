/* SPDX-License-Identifier: ISC */
/*
 * test_notify.c - notify.c against a fake systemd: a Unix datagram socket the
 * test binds (a path in a private temp dir, and an abstract "@" name) and
 * exports as $NOTIFY_SOCKET. Checks the exact datagram of every call, that
 * the sender is this process (what NotifyAccess=main needs), STATUS made safe
 * (no injected assignments, valid UTF-8, cut at a character), no-op without
 * $NOTIFY_SOCKET, errors for unusable sockets, and the watchdog interval.
 */
#include <config.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "notify.h"

enum sock_kind { SOCK_PATH, SOCK_ABSTRACT };

struct fake_systemd {
	enum sock_kind kind;
	int fd;
	char dir[64];
	char env[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static struct fake_systemd fakes[] = {{.kind = SOCK_PATH}, {.kind = SOCK_ABSTRACT}};

static int fake_setup(void **state)
{
	struct fake_systemd *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len;
	int one = 1;

	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f->fd >= 0);
	/* SO_PASSCRED: systemd reads the sender's pid the same way */
	assert_int_equal(setsockopt(f->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	if (f->kind == SOCK_PATH) {
		snprintf(f->dir, sizeof(f->dir), "/tmp/test_notify.XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->env, sizeof(f->env), "%s/notify", f->dir);
		memcpy(sa.sun_path, f->env, strlen(f->env) + 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(f->env) + 1);
	} else {
		snprintf(f->env, sizeof(f->env), "@anycast-agent/test_notify/%ld", (long)getpid());
		memcpy(sa.sun_path, f->env, strlen(f->env));
		sa.sun_path[0] = '\0';
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(f->env));
	}
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->env, 1), 0);
	return 0;
}

static int fake_teardown(void **state)
{
	struct fake_systemd *f = *state;
	char path[128];

	close(f->fd);
	unsetenv("NOTIFY_SOCKET");
	if (f->kind == SOCK_PATH) {
		snprintf(path, sizeof(path), "%s/notify", f->dir);
		unlink(path);
		rmdir(f->dir);
	}
	return 0;
}

/* One datagram (waits at most 2 s for it), NUL-terminated; its sender must be this process. */
static size_t fake_recv(struct fake_systemd *f, char *buf, size_t size)
{
	struct pollfd pfd = {.fd = f->fd, .events = POLLIN};
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr mh = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &ctl, .msg_controllen = sizeof(ctl)};
	struct cmsghdr *c;
	struct ucred uc;
	ssize_t n;

	assert_int_equal(poll(&pfd, 1, 2000), 1);
	n = recvmsg(f->fd, &mh, MSG_DONTWAIT);
	assert_true(n >= 0);
	assert_int_equal(mh.msg_flags & MSG_TRUNC, 0);
	buf[n] = '\0';
	c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_CREDENTIALS);
	memcpy(&uc, CMSG_DATA(c), sizeof(uc));
	assert_int_equal(uc.pid, getpid());
	return (size_t)n;
}

/* Nothing more arrived: each call sends exactly one datagram. */
static void fake_assert_empty(struct fake_systemd *f)
{
	char b[8];
	assert_int_equal(recv(f->fd, b, sizeof(b), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* --- exact payloads -------------------------------------------------------- */

static char long_ascii[NOTIFY_STATUS_MAX + 1];
static char long_cut[NOTIFY_STATUS_MAX + 16];

static int call_ready(void)
{
	return notify_ready();
}
static int call_stopping(void)
{
	return notify_stopping();
}
static int call_watchdog(void)
{
	return notify_watchdog();
}
static int call_status_summary(void)
{
	return notify_status("ANYCAST %s - %d of %d announced", "OK", 2, 2);
}
static int call_status_injection(void)
{
	return notify_status("check web: body \"ok\r\nREADY=1\n\tWATCHDOG=1\x7f\"");
}
static int call_status_utf8(void)
{
	return notify_status("drained by j\xc3\xb6rg \xe2\x80\x94 maintenance \xf0\x9f\x94\xa7");
}
static int call_status_bad_utf8(void)
{
	/* a lone continuation, an overlong '/', a UTF-16 surrogate, a lead byte without its tail */
	return notify_status("a\x80"
	                     "b\xc0\xaf"
	                     "c\xed\xa0\x80"
	                     "d\xe2\x80"
	                     "e");
}
static int call_status_long(void)
{
	return notify_status("%s%s", long_ascii, "tail");
}
static int call_status_cut_char(void)
{
	/* NOTIFY_STATUS_MAX - 1 ASCII bytes, then a 2-byte character that does not fit */
	return notify_status("%s\xc3\xa9", long_cut);
}
static int call_send_raw(void)
{
	return notify_send("READY=1\nSTATUS=up");
}

struct payload_case {
	const char *name;
	int (*call)(void);
	const char *expect; /* NULL: built by the test (long cases) */
};

static const struct payload_case payload_cases[] = {
    {"ready", call_ready, "READY=1"},
    {"stopping", call_stopping, "STOPPING=1"},
    {"watchdog", call_watchdog, "WATCHDOG=1"},
    {"status: the Nagios summary", call_status_summary, "STATUS=ANYCAST OK - 2 of 2 announced"},
    {"status: newlines cannot inject assignments", call_status_injection,
     "STATUS=check web: body \"ok  READY=1  WATCHDOG=1 \""},
    {"status: valid UTF-8 kept", call_status_utf8,
     "STATUS=drained by j\xc3\xb6rg \xe2\x80\x94 maintenance \xf0\x9f\x94\xa7"},
    {"status: invalid UTF-8 replaced", call_status_bad_utf8, "STATUS=a?b??c???d??e"},
    {"status: cut at NOTIFY_STATUS_MAX", call_status_long, NULL},
    {"status: cut before a character that does not fit", call_status_cut_char, NULL},
    {"send: assignments as given", call_send_raw, "READY=1\nSTATUS=up"},
};

static void test_payloads(void **state)
{
	struct fake_systemd *f = *state;
	char buf[8192], want[NOTIFY_STATUS_MAX + 64];

	memset(long_ascii, 'x', NOTIFY_STATUS_MAX);
	memset(long_cut, 'y', NOTIFY_STATUS_MAX - 1);
	for (size_t i = 0; i < sizeof(payload_cases) / sizeof(payload_cases[0]); i++) {
		const struct payload_case *pc = &payload_cases[i];
		const char *expect = pc->expect;

		if (pc->call == call_status_long) {
			snprintf(want, sizeof(want), "STATUS=%s", long_ascii);
			expect = want;
		} else if (pc->call == call_status_cut_char) {
			snprintf(want, sizeof(want), "STATUS=%s", long_cut);
			expect = want;
		}
		print_message("%s socket: %s\n", f->kind == SOCK_PATH ? "path" : "abstract",
		              pc->name);
		assert_int_equal(pc->call(), 1);
		fake_recv(f, buf, sizeof(buf));
		assert_string_equal(buf, expect);
		fake_assert_empty(f);
	}
}

static unsigned long long mono_usec(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* RELOADING=1 carries the monotonic time of the call (required by notify-reload, systemd 253+). */
static void test_reloading(void **state)
{
	struct fake_systemd *f = *state;
	unsigned long long before, after, t;
	char buf[256], *end;

	before = mono_usec();
	assert_int_equal(notify_reloading(), 1);
	after = mono_usec();
	fake_recv(f, buf, sizeof(buf));
	assert_memory_equal(buf, "RELOADING=1\nMONOTONIC_USEC=", 27);
	t = strtoull(buf + 27, &end, 10);
	assert_string_equal(end, "");
	assert_true(t >= before && t <= after);
	/* then READY=1 when the reload is done */
	assert_int_equal(notify_ready(), 1);
	fake_recv(f, buf, sizeof(buf));
	assert_string_equal(buf, "READY=1");
	fake_assert_empty(f);
}

/* --- no systemd, broken sockets --------------------------------------------- */

static void test_unset_is_noop(void **state)
{
	static const char *const values[] = {NULL, ""};

	for (size_t i = 0; i < 2; i++) {
		if (values[i] == NULL)
			unsetenv("NOTIFY_SOCKET");
		else
			setenv("NOTIFY_SOCKET", values[i], 1);
		errno = 0;
		assert_false(notify_enabled());
		assert_int_equal(notify_ready(), 0);
		assert_int_equal(notify_status("x %d", 1), 0);
		assert_int_equal(notify_reloading(), 0);
		assert_int_equal(notify_stopping(), 0);
		assert_int_equal(notify_watchdog(), 0);
		assert_int_equal(errno, 0);
	}
	setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
	assert_true(notify_enabled());
	unsetenv("NOTIFY_SOCKET");
}

static void test_unusable_socket(void **state)
{
	char too_long[200];
	struct {
		const char *value;
		int err;
	} cases[] = {
	    {"/nonexistent/anycast-agent/notify", ENOENT},
	    {"relative/notify", EAFNOSUPPORT},
	    {"vsock:2:1234", EAFNOSUPPORT},
	    {too_long, ENAMETOOLONG},
	};

	too_long[0] = '/';
	memset(too_long + 1, 'n', sizeof(too_long) - 2);
	too_long[sizeof(too_long) - 1] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("NOTIFY_SOCKET", cases[i].value, 1);
		errno = 0;
		/* twice: the second failure is quiet but still reported */
		assert_int_equal(notify_watchdog(), -1);
		assert_int_equal(errno, cases[i].err);
		assert_int_equal(notify_watchdog(), -1);
		assert_int_equal(errno, cases[i].err);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* --- watchdog interval -------------------------------------------------------- */

static void test_watchdog_interval(void **state)
{
	char self[32], other[32];
	struct {
		const char *usec, *pid;
		double expect;
	} cases[] = {
	    {NULL, NULL, 0},        {"10000000", NULL, 5.0}, {"3000000", self, 1.5},
	    {"10000000", other, 0}, {"10000000", "x", 0},    {"0", NULL, 0},
	    {"", NULL, 0},          {"abc", NULL, 0},        {"-10000000", NULL, 0},
	    {"10000000s", NULL, 0}, {"1", NULL, 0.0000005},  {"99999999999999999999", NULL, 0},
	    {"10000000", "", 0},
	};

	snprintf(self, sizeof(self), "%ld", (long)getpid());
	snprintf(other, sizeof(other), "%ld", (long)getpid() + 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].usec)
			setenv("WATCHDOG_USEC", cases[i].usec, 1);
		else
			unsetenv("WATCHDOG_USEC");
		if (cases[i].pid)
			setenv("WATCHDOG_PID", cases[i].pid, 1);
		else
			unsetenv("WATCHDOG_PID");
		print_message("WATCHDOG_USEC=%s WATCHDOG_PID=%s\n",
		              cases[i].usec ? cases[i].usec : "-",
		              cases[i].pid ? cases[i].pid : "-");
		double got = notify_watchdog_interval();
		if (fabs(got - cases[i].expect) > 1e-9)
			fail_msg("interval %g, want %g", got, cases[i].expect);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_payloads, fake_setup, fake_teardown,
	                                             &fakes[SOCK_PATH]),
	    cmocka_unit_test_prestate_setup_teardown(test_payloads, fake_setup, fake_teardown,
	                                             &fakes[SOCK_ABSTRACT]),
	    cmocka_unit_test_prestate_setup_teardown(test_reloading, fake_setup, fake_teardown,
	                                             &fakes[SOCK_PATH]),
	    cmocka_unit_test_prestate_setup_teardown(test_reloading, fake_setup, fake_teardown,
	                                             &fakes[SOCK_ABSTRACT]),
	    cmocka_unit_test(test_unset_is_noop),
	    cmocka_unit_test(test_unusable_socket),
	    cmocka_unit_test(test_watchdog_interval),
	};

	log_init("test_notify", 1);
	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
