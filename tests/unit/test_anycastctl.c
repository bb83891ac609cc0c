/* SPDX-License-Identifier: ISC */
/*
 * test_anycastctl.c - the anycastctl binary against a fake control server
 * (a thread on a private Unix socket with canned replies): the request
 * each verb sends, the output and exit code of every reply, an error
 * reply, garbage, a server that never answers, no socket, a refused
 * connection, a socket an unprivileged user may not open, bad arguments.
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
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "snapshot_testutil.h"
#include "util.h"

enum fake_mode { FAKE_REPLY, FAKE_SILENT, FAKE_CLOSE, FAKE_PARTIAL };

struct fake {
	char dir[64], path[128];
	int lfd;
	pthread_t thread;
	volatile int stop;
	enum fake_mode mode;
	char *reply; /* one line, '\n' added */
	pthread_mutex_t lock;
	char request[8192]; /* the last request line */
	int nrequests;
};

static bool stopped(struct fake *f, int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};

	while (!f->stop)
		if (poll(&p, 1, 20) > 0)
			return false;
	return true;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!stopped(f, f->lfd, POLLIN)) {
		int fd = accept(f->lfd, NULL, NULL);
		char buf[8192];
		size_t len = 0;

		if (fd < 0)
			continue;
		while (len < sizeof(buf) - 1 && !memchr(buf, '\n', len) &&
		       !stopped(f, fd, POLLIN)) {
			ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

			if (n <= 0)
				break;
			len += (size_t)n;
		}
		buf[len] = '\0';
		pthread_mutex_lock(&f->lock);
		snprintf(f->request, sizeof(f->request), "%.*s", (int)strcspn(buf, "\n"), buf);
		f->nrequests++;
		pthread_mutex_unlock(&f->lock);
		if (f->mode == FAKE_REPLY) {
			char *line;
			int n = xasprintf(&line, "%s\n", f->reply);

			(void)!write(fd, line, (size_t)n);
			free(line);
		} else if (f->mode == FAKE_PARTIAL) {
			(void)!write(fd, "{\"ok\":true,\"sta", 15);
		} else if (f->mode == FAKE_SILENT) {
			/* hold the connection open, never answering, until the test ends */
			while (!stopped(f, fd, 0))
				;
		}
		close(fd);
	}
	return NULL;
}

static struct fake *fake_start(enum fake_mode mode, const char *reply)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	strcpy(f->dir, "/tmp/test_anycastctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/ctl", f->dir);
	strcpy(sa.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	f->mode = mode;
	f->reply = reply ? xstrdup(reply) : NULL;
	pthread_mutex_init(&f->lock, NULL);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	return f;
}

static void fake_stop(struct fake *f)
{
	f->stop = 1;
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->lock);
	free(f->reply);
	free(f);
}

/* The parsed last request. */
static json_t *fake_request(struct fake *f)
{
	json_t *j;

	pthread_mutex_lock(&f->lock);
	j = json_loads(f->request, 0, NULL);
	pthread_mutex_unlock(&f->lock);
	assert_non_null(j);
	return j;
}

struct run {
	int code;
	char *out, *err;
	double secs;
};

static char *slurp(FILE *f)
{
	char *buf = xmalloc(1 << 20);
	size_t n;

	rewind(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Run anycastctl (as the user uid when uid >= 0) with args, NULL-terminated; 10 s deadline. */
static struct run run_as(const char *binary, long uid, const char *arg, ...)
{
	const char *argv[32] = {binary};
	FILE *out = tmpfile(), *err = tmpfile();
	struct run r = {.code = -1};
	double start = mono_now();
	va_list ap;
	int n = 1, status;
	pid_t pid, w;

	va_start(ap, arg);
	for (const char *a = arg; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	assert_non_null(out);
	assert_non_null(err);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		if (uid >= 0 &&
		    (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0))
			_exit(120);
		execv(binary, (char **)argv);
		_exit(127);
	}
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && mono_now() < start + 10)
		poll(NULL, 0, 5);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("anycastctl %s did not finish within 10 s", arg);
	}
	r.secs = mono_now() - start;
	r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

#define run(...) run_as(ANYCASTCTL, -1, __VA_ARGS__, (const char *)NULL)

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void expect(const struct run *r, int code, const char *out, const char *err)
{
	if (r->code != code || (out && !strstr(r->out, out)) || (err && !strstr(r->err, err)))
		fail_msg(
		    "exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout \"%s\", stderr \"%s\"",
		    r->code, code, r->out, r->err, out ? out : "", err ? err : "");
}

static char *status_reply(const char *fixture)
{
	json_t *snap = load_fixture(fixture),
	       *reply = json_pack("{s:b, s:o}", "ok", 1, "status", snap);
	char *s = json_dumps(reply, JSON_COMPACT);

	json_decref(reply);
	return s;
}

/* status: every fixture's Nagios state is the exit code, in each output format. */
static void test_status_fixtures(void **unused)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		char *reply = status_reply(fixtures[i].name), want[64];
		struct fake *f = fake_start(FAKE_REPLY, reply);
		struct run r = run("-s", f->path, "status");
		json_t *req = fake_request(f), *back, *want_snap;

		snprintf(want, sizeof(want), "ANYCAST %s - ", nagios_state_name(fixtures[i].state));
		expect(&r, fixtures[i].state, want, NULL);
		assert_true(strncmp(r.out, want, strlen(want)) == 0);
		assert_true(check_plugin_output(r.out, fixtures[i].state) > 0);
		assert_string_equal(json_string_value(json_object_get(req, "verb")), "status");
		run_free(&r);
		r = run("-s", f->path, "status", "-o", "json");
		expect(&r, fixtures[i].state, "\"announcements\"", NULL);
		back = json_loads(r.out, 0, NULL);
		want_snap = load_fixture(fixtures[i].name);
		assert_true(json_equal(back, want_snap));
		json_decref(want_snap);
		json_decref(back);
		run_free(&r);
		r = run("-s", f->path, "status", "--output=text");
		expect(&r, fixtures[i].state, "ANNOUNCEMENT  STATE", NULL);
		run_free(&r);
		json_decref(req);
		fake_stop(f);
		free(reply);
	}
}

/* Every way of not getting a usable answer is CRITICAL for status and 1 for other verbs. */
static void test_status_failures(void **unused)
{
	static const struct {
		enum fake_mode mode;
		const char *reply, *status_out, *drain_err;
	} cases[] = {
	    {FAKE_REPLY, "{\"ok\":false,\"error\":\"internal trouble\",\"code\":\"internal\"}",
	     "refused status: internal trouble", "drain: internal trouble"},
	    {FAKE_REPLY, "this is not json", "answered garbage", "answered garbage"},
	    {FAKE_REPLY, "{\"status\":{}}", "answered garbage: a reply without \"ok\"",
	     "answered garbage"},
	    {FAKE_REPLY, "{\"ok\":true}", "answered garbage: a reply without \"status\"", NULL},
	    {FAKE_CLOSE, NULL, "closed the connection before a complete reply",
	     "closed the connection"},
	    {FAKE_PARTIAL, NULL, "closed the connection before a complete reply",
	     "closed the connection"},
	    {FAKE_SILENT, NULL, "agent not answering on", "no reply within 0.3 s"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake *f = fake_start(cases[i].mode, cases[i].reply);
		struct run r = run("-s", f->path, "-t", "0.3", "status");

		expect(&r, NAGIOS_CRITICAL, "ANYCAST CRITICAL - ", NULL);
		expect(&r, NAGIOS_CRITICAL, cases[i].status_out, NULL);
		/* the timeout holds: a silent agent costs -t, not NRPE's whole budget */
		assert_true(r.secs < 3.0);
		run_free(&r);
		if (cases[i].drain_err) {
			r = run("-s", f->path, "-t", "0.3", "drain", "--reason", "x");
			expect(&r, 1, NULL, cases[i].drain_err);
			run_free(&r);
		}
		fake_stop(f);
	}
}

static void test_no_agent(void **unused)
{
	char dir[] = "/tmp/test_anycastctl.XXXXXX", path[128];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct run r;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	r = run("-s", path, "status");
	expect(&r, NAGIOS_CRITICAL, "ANYCAST CRITICAL - agent not answering on ", "");
	expect(&r, NAGIOS_CRITICAL, "no such socket (is anycast-agent running?", NULL);
	assert_non_null(strstr(r.out, path));
	run_free(&r);
	r = run("-s", path, "reload");
	expect(&r, 1, NULL, "no such socket");
	run_free(&r);
	/* a stale socket file: nobody listens */
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	r = run("-s", path, "status");
	expect(&r, NAGIOS_CRITICAL, "connection refused", NULL);
	run_free(&r);
	r = run("-s", path, "undrain");
	expect(&r, 1, NULL, "connection refused");
	run_free(&r);
	unlink(path);
	rmdir(dir);
}

/* A socket of mode 000, an unprivileged user: the message names the group to join. */
static void test_not_permitted(void **unused)
{
	struct fake *f;
	struct group *gr;
	char bin[160], want[128];
	struct run r;
	int in, outfd;
	ssize_t n;
	char buf[65536];

	if (geteuid() != 0)
		skip(); /* needs root to change to nobody */
	f = fake_start(FAKE_REPLY, "{\"ok\":true,\"announcements\":[]}");
	gr = getgrnam("nogroup");
	assert_non_null(gr);
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(chown(f->path, 0, gr->gr_gid), 0);
	assert_int_equal(chmod(f->path, 0), 0);
	/* nobody may not reach the build tree: run a copy from the private dir */
	snprintf(bin, sizeof(bin), "%s/anycastctl", f->dir);
	in = open(ANYCASTCTL, O_RDONLY);
	outfd = open(bin, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	assert_true(in >= 0 && outfd >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(outfd, buf, (size_t)n), n);
	close(in);
	close(outfd);
	snprintf(want, sizeof(want), "join group \"%s\"", gr->gr_name);

	r = run_as(bin, 65534, "-s", f->path, "status", (const char *)NULL);
	expect(&r, NAGIOS_CRITICAL, "ANYCAST CRITICAL - not permitted to connect to ", NULL);
	expect(&r, NAGIOS_CRITICAL, want, NULL);
	run_free(&r);
	r = run_as(bin, 65534, "-s", f->path, "drain", "--reason", "x", (const char *)NULL);
	expect(&r, 1, NULL, want);
	run_free(&r);
	/* nothing reached the agent */
	assert_int_equal(f->nrequests, 0);
	unlink(bin);
	fake_stop(f);
}

/* What each verb sends, prints and exits with. */
static void test_verbs(void **unused)
{
	static const struct {
		const char *reply;
		const char *args[8];
		const char *request; /* the request, compact JSON with sorted keys */
		int code;
		const char *out, *err;
	} cases[] = {
	    {"{\"ok\":true,\"announcements\":[\"web\",\"dns\"]}",
	     {"drain", "web", "dns", "--reason", "kernel upgrade", "--for", "1h30m"},
	     "{\"announcements\":[\"web\",\"dns\"],\"for\":5400,\"reason\":\"kernel upgrade\","
	     "\"verb\":\"drain\"}",
	     0,
	     "drained: web dns",
	     NULL},
	    {"{\"ok\":true,\"announcements\":[\"web\"]}",
	     {"drain", "--reason=x", "--for", "90"},
	     "{\"announcements\":[],\"for\":90,\"reason\":\"x\",\"verb\":\"drain\"}",
	     0,
	     "drained: web",
	     NULL},
	    {"{\"ok\":true,\"announcements\":[\"web\"]}",
	     {"drain", "-r", "x", "-f", "1.5"},
	     "{\"announcements\":[],\"for\":1.5,\"reason\":\"x\",\"verb\":\"drain\"}",
	     0,
	     "drained: web",
	     NULL},
	    {"{\"ok\":true,\"announcements\":[]}",
	     {"drain", "-r", "x", "-f", "2d"},
	     "{\"announcements\":[],\"for\":172800,\"reason\":\"x\",\"verb\":\"drain\"}",
	     0,
	     "drained: nothing",
	     NULL},
	    {"{\"ok\":true,\"announcements\":[\"web\"]}",
	     {"drain", "web", "--reason", "x"},
	     "{\"announcements\":[\"web\"],\"reason\":\"x\",\"verb\":\"drain\"}",
	     0,
	     "drained: web",
	     NULL},
	    {"{\"ok\":false,\"code\":\"unknown_announcement\",\"error\":\"no announcement named "
	     "\\\"foo\\\"; the announcements are: web dns\"}",
	     {"drain", "foo", "--reason", "x"},
	     NULL,
	     1,
	     NULL,
	     "drain: no announcement named \"foo\"; the announcements are: web dns"},
	    {"{\"ok\":false,\"code\":\"denied\",\"error\":\"drain needs root or group anycast\"}",
	     {"drain", "--reason", "x"},
	     NULL,
	     1,
	     NULL,
	     "drain needs root or group anycast"},
	    /* drain --wait: the agent waits up to -t minus a second, so it answers first */
	    {"{\"ok\":true,\"announcements\":[\"web\"],\"withdrawn\":true,\"waited\":3.25}",
	     {"-t", "90", "drain", "web", "--reason", "stop nginx", "--wait"},
	     "{\"announcements\":[\"web\"],\"reason\":\"stop nginx\",\"verb\":\"drain\","
	     "\"wait\":89.0}",
	     0,
	     "drained: web\nwithdrawn, confirmed by BIRD: web\nwaited 3.2 s\n",
	     NULL},
	    /* without -t: 10 minutes, drain_time (up to an hour) is the operator's */
	    {"{\"ok\":true,\"announcements\":[\"web\"],\"withdrawn\":true,\"waited\":30.5}",
	     {"drain", "web", "-r", "x", "-w"},
	     "{\"announcements\":[\"web\"],\"reason\":\"x\",\"verb\":\"drain\",\"wait\":599.0}",
	     0,
	     "withdrawn, confirmed by BIRD: web",
	     NULL},
	    /* not confirmed in time: 2, the drain stays */
	    {"{\"ok\":false,\"code\":\"wait_timeout\",\"announcements\":[\"web\"],"
	     "\"withdrawn\":false,\"error\":\"not confirmed withdrawn after 89.0 s: BIRD has "
	     "not confirmed protocol anycast_web4 of \\\"web\\\" disabled (it is unknown); the "
	     "drain is in effect\"}",
	     {"-t", "90", "drain", "web", "--reason", "x", "--wait"},
	     NULL,
	     2,
	     NULL,
	     "anycastctl: drain: not confirmed withdrawn after 89.0 s: BIRD has not confirmed "
	     "protocol anycast_web4 of \"web\" disabled (it is unknown); the drain is in effect"},
	    {"{\"ok\":true,\"announcements\":[\"web\",\"dns\"]}",
	     {"undrain"},
	     "{\"announcements\":[],\"verb\":\"undrain\"}",
	     0,
	     "undrained: web dns",
	     NULL},
	    {"{\"ok\":true,\"check\":{\"name\":\"web\",\"type\":\"http\",\"state\":\"UP\","
	     "\"result\":\"OK\",\"result_class\":\"pass\",\"detail\":\"HTTP 200\","
	     "\"duration\":0.0042}}",
	     {"check", "web"},
	     "{\"name\":\"web\",\"verb\":\"check\"}",
	     0,
	     "web  http  OK       4.2 ms  HTTP 200\n",
	     NULL},
	    {"{\"ok\":true,\"check\":{\"name\":\"web\",\"type\":\"http\",\"state\":\"UP\","
	     "\"result\":\"CERT_EXPIRING\",\"result_class\":\"warn\",\"detail\":\"5 days\","
	     "\"duration\":0.0042}}",
	     {"check", "web"},
	     NULL,
	     0,
	     "web  http  CERT_EXPIRING",
	     NULL},
	    {"{\"ok\":true,\"check\":{\"name\":\"dns\",\"type\":\"dns\",\"state\":\"DOWN\","
	     "\"result\":\"TIMEOUT\",\"result_class\":\"fail\",\"detail\":\"no answer\","
	     "\"duration\":0.5}}",
	     {"check", "dns"},
	     NULL,
	     2,
	     "dns  dns   TIMEOUT     500.0 ms  no answer\n",
	     NULL},
	    {"{\"ok\":false,\"code\":\"unknown_check\",\"error\":\"no check named \\\"x\\\"\"}",
	     {"check", "x"},
	     NULL,
	     1,
	     NULL,
	     "check: no check named \"x\""},
	    {"{\"ok\":true,\"kept_checks\":3,\"checks\":4}",
	     {"reload"},
	     "{\"verb\":\"reload\"}",
	     0,
	     "reloaded: 3 of 4 checks kept their state",
	     NULL},
	    {"{\"ok\":false,\"code\":\"reload_failed\",\"error\":\"the new configuration is "
	     "invalid\","
	     "\"errors\":[\"/etc/anycast-agent/anycast-agent.conf:12: unknown key "
	     "\\\"intervl\\\"\","
	     "\"/etc/anycast-agent/anycast-agent.conf:30: bad\"]}",
	     {"reload"},
	     NULL,
	     1,
	     NULL,
	     "/etc/anycast-agent/anycast-agent.conf:12: unknown key \"intervl\"\n"
	     "/etc/anycast-agent/anycast-agent.conf:30: bad\n"
	     "anycastctl: reload: the agent keeps running the previous configuration"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake *f = fake_start(FAKE_REPLY, cases[i].reply);
		const char *argv[12] = {"-s", f->path};
		size_t n = 2;
		struct run r;

		for (size_t j = 0; j < 8 && cases[i].args[j]; j++)
			argv[n++] = cases[i].args[j];
		r = run(argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7],
		        argv[8], argv[9]);
		expect(&r, cases[i].code, cases[i].out, cases[i].err);
		if (cases[i].request) {
			json_t *req = fake_request(f);
			char *got = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);

			assert_string_equal(got, cases[i].request);
			free(got);
			json_decref(req);
		}
		run_free(&r);
		fake_stop(f);
	}
}

/* Bad arguments: usage on stderr, exit 3 for every verb, nothing sent. */
static void test_bad_arguments(void **unused)
{
	static const struct {
		const char *args[6];
		const char *out, *err;
	} cases[] = {
	    {{NULL}, NULL, "name a command"},
	    {{"frobnicate"}, NULL, "unknown command \"frobnicate\""},
	    {{"-x", "status"}, NULL, "unknown option -x"},
	    {{"-t", "soon", "status"}, NULL, "-t soon"},
	    {{"status", "-o", "xml"}, "ANYCAST UNKNOWN - bad arguments: -o xml", "usage:"},
	    {{"status", "extra"}, "ANYCAST UNKNOWN - ", "unexpected argument"},
	    {{"status", "-o"}, "ANYCAST UNKNOWN - ", "missing the value"},
	    {{"drain", "web"}, NULL, "--reason TEXT is required"},
	    {{"drain", "--reason", ""}, NULL, "--reason must be 1 to 200 bytes"},
	    {{"drain", "--reason", "x", "--for", "0"}, NULL, "--for 0: not a duration"},
	    {{"drain", "--reason", "x", "--for", "-5m"}, NULL, "not a duration"},
	    {{"drain", "--reason", "x", "--for", "1h30"}, NULL, "not a duration"},
	    {{"drain", "--reason", "x", "--for", "5x"}, NULL, "not a duration"},
	    {{"drain", "--reason", "x", "--for", "m"}, NULL, "not a duration"},
	    {{"drain", "--bogus"}, NULL, "unknown option --bogus"},
	    {{"check"}, NULL, "name exactly one check"},
	    {{"check", "a", "b"}, NULL, "name exactly one check"},
	    {{"reload", "now"}, NULL, "unexpected argument"},
	};
	struct fake *f = fake_start(FAKE_REPLY, "{\"ok\":true}");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *a[10] = {"-s", f->path};
		size_t n = 2;
		struct run r;

		for (size_t j = 0; j < 6 && cases[i].args[j]; j++)
			a[n++] = cases[i].args[j];
		r = run(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
		expect(&r, 3, cases[i].out, cases[i].err);
		run_free(&r);
	}
	assert_int_equal(f->nrequests, 0);
	fake_stop(f);
}

static void test_help_version(void **unused)
{
	struct run r = run("--version");

	expect(&r, 0, "anycastctl " PACKAGE_VERSION "\n", NULL);
	run_free(&r);
	r = run("--help");
	expect(&r, 0, "usage: anycastctl", NULL);
	run_free(&r);
	r = run("drain", "--help");
	expect(&r, 0, "--reason TEXT", NULL);
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_fixtures), cmocka_unit_test(test_status_failures),
	    cmocka_unit_test(test_no_agent),        cmocka_unit_test(test_not_permitted),
	    cmocka_unit_test(test_verbs),           cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_help_version),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
