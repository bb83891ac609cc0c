/* SPDX-License-Identifier: ISC */
/*
 * test_check_exec.c - the exec check type with plugins written into a
 * private temp dir at test time: exit codes, signals, spawn failures, the
 * environment a plugin sees, and hostile plugins (hangs, floods of output,
 * children that keep the pipe open) that must neither wedge a check nor
 * delay the loop.
 *
 * Every case runs twice: plugins run by the agent itself, and through the exec
 * helper (this very program started again with --exec-helper, as the same user:
 * the identity switch is test_privilege.sh's, as root). The results, details
 * and timings must be the same. Then the helper alone: its own timeout and
 * output cap, its death, and fake misbehaving helpers (this program under
 * another name, sending garbage) that must fail the checks closed, never crash.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <dirent.h>

#include "check_testutil.h"
#include "check_util.h"
#include "exec_helper.h"

/* A plugin that blocked the loop would delay the timer by its whole timeout (>= 300 ms);
 * the measured lateness is printed (a few ms; uv_spawn's fork is the one step that blocks).
 * The bound catches blocking without failing when CI's 2 cores are busy. */
#define MAX_LATENESS 0.100

static char dir[256];
/* the second pass: plugins through an exec helper */
static bool via_helper;

static const struct script {
	const char *name;
	const char *body; /* "@DIR@" stands for the temp dir */
	int mode;
} scripts[] = {
    {"ok", "echo 'TEST OK - all good | time=0.1s;1;2;0'\necho 'long output'\nexit 0\n", 0755},
    {"warn", "echo 'TEST WARNING - slow'\nexit 1\n", 0755},
    {"crit", "echo 'TEST CRITICAL - down|x=1'\nexit 2\n", 0755},
    {"unknown", "echo 'TEST UNKNOWN - bad arguments'\nexit 3\n", 0755},
    {"exit7", "echo 'odd plugin'\nexit 7\n", 0755},
    {"silent", "exit 2\n", 0755},
    {"signal", "echo 'about to die'\nkill -TERM $$\nsleep 5\n", 0755},
    {"dirty", "printf '  \\001\\033[31mRED\\377 text \\t | perf=1\\n'\nexit 0\n", 0755},
    {"env",
     "echo \"PATH=$PATH LC_ALL=$LC_ALL HOME=${HOME-unset} LEAK=${AA_TEST_LEAK-unset} "
     "PWD=$(pwd) STDIN=$(wc -c)\"\n",
     0755},
    {"stderr", "echo 'to stderr' >&2\necho 'to stdout'\n", 0755},
    {"args", "echo \"[$1] [$2] [$#]\"\n", 0755},
    {"hang", "echo $$ > @DIR@/hang.pid\nsleep 1000 &\nsleep 1000\n", 0755},
    {"big", "head -c 20000000 /dev/zero | tr '\\0' x\necho\necho second\nexit 0\n", 0755},
    {"endless", "exec yes\n", 0755},
    {"forker", "echo 'PARENT OK - done'\nsleep 1000 &\necho $! > @DIR@/forker.child\nexit 0\n",
     0755},
    {"escaper", "echo 'PARENT OK - escaped'\nsetsid sleep 1000 &\necho $! > @DIR@/escaper.child\n",
     0755},
    {"notexec", "echo never\n", 0644},
};

static int write_scripts(void **state)
{
	char *path;

	snprintf(dir, sizeof(dir), "/tmp/aa-test-exec.XXXXXX");
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
		FILE *f;

		xasprintf(&path, "%s/%s", dir, scripts[i].name);
		f = fopen(path, "w");
		assert_non_null(f);
		fprintf(f, "#!/bin/sh\n");
		for (const char *b = scripts[i].body; *b; b++) {
			if (strncmp(b, "@DIR@", 5) == 0) {
				fputs(dir, f);
				b += 4;
			} else {
				fputc(*b, f);
			}
		}
		fclose(f);
		assert_int_equal(chmod(path, scripts[i].mode), 0);
		free(path);
	}
	xasprintf(&path, "%s/badinterp", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/nonexistent/sh\necho never\n");
	fclose(f);
	chmod(path, 0755);
	free(path);
	/* a variable of the agent's environment that must not reach a plugin */
	setenv("AA_TEST_LEAK", "leaked", 1);
	return 0;
}

static int remove_scripts(void **state)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return 0;
}

/* A path in the temp dir; a ring of buffers so a few can be alive at once. */
static char *script(const char *name)
{
	static char path[16][512];
	static unsigned next;
	char *p = path[next++ % ARRAY_SIZE(path)];

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	return p;
}

static int read_pid(const char *file)
{
	double end = mono_now() + 2.0;
	int pid = -1;

	/* the plugin writes it; it is there by the time the run ended */
	while (pid < 0 && mono_now() < end) {
		FILE *f = fopen(script(file), "r");

		if (f != NULL) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = -1;
			fclose(f);
		}
		if (pid < 0)
			poll(NULL, 0, 5);
	}
	return pid;
}

struct ctx {
	uv_loop_t loop;
	struct check_env *env;
	struct exec_helper *helper;
};

/* A helper from exe (this program, or a fake under another name), as this user. */
static struct exec_helper *helper_start(uv_loop_t *loop, const char *exe)
{
	struct exec_helper_facts f;
	struct exec_helper *h;
	char *err = NULL;

	h = exec_helper_spawn(loop, exe, "test", false, 0, 0, &err);
	assert_non_null(h);
	if (exec_helper_ready(h, NULL, 0, &f, &err) < 0)
		fail_msg("exec_helper_ready: %s", err);
	assert_int_equal(f.uid, getuid());
	exec_helper_facts_free(&f);
	return h;
}

static int setup(void **state)
{
	struct ctx *c = xcalloc(1, sizeof(*c));

	uv_loop_init(&c->loop);
	c->env = check_env_new(&c->loop);
	if (via_helper) {
		c->helper = helper_start(&c->loop, "/proc/self/exe");
		c->env->exec_helper = c->helper;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	exec_helper_close(c->helper);
	check_env_free(c->env);
	/* every child reaped, every pipe closed */
	assert_true(loop_drain(&c->loop, 3.0));
	assert_int_equal(uv_loop_close(&c->loop), 0);
	free(c);
	return 0;
}

/* Run one exec check to its end on the context's loop. */
static struct check_report run_exec(struct ctx *c, const char *const *argv, double timeout,
                                    size_t output_max)
{
	struct check_conf *conf = exec_conf_new("t", argv, timeout, output_max);
	struct done_rec rec = {0};
	struct check_run *run = check_run_new(c->env, conf, rec_done_cb, &rec);

	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&c->loop, rec_is_done, &rec, timeout + 2.0));
	check_run_free(run);
	assert_true(loop_drain(&c->loop, 3.0));
	check_conf_free_test(conf);
	assert_int_equal(rec.ndone, 1);
	return rec.rep;
}

static const struct exec_case {
	const char *name;
	const char *script; /* in the temp dir; NULL: argv[0] as given */
	const char *argv0;
	const char *arg1, *arg2;
	size_t output_max;
	enum check_result_code code;
	const char *detail; /* exact */
} cases[] = {
    {"exit 0 is OK, perfdata stripped", "ok", NULL, NULL, NULL, 4096, RES_OK, "TEST OK - all good"},
    {"exit 1 is WARNING", "warn", NULL, NULL, NULL, 4096, RES_WARNING, "TEST WARNING - slow"},
    {"exit 2 is EXEC_CRITICAL", "crit", NULL, NULL, NULL, 4096, RES_EXEC_CRITICAL,
     "TEST CRITICAL - down"},
    {"exit 3 is EXEC_UNKNOWN", "unknown", NULL, NULL, NULL, 4096, RES_EXEC_UNKNOWN,
     "TEST UNKNOWN - bad arguments"},
    {"another exit code is EXEC_UNKNOWN", "exit7", NULL, NULL, NULL, 4096, RES_EXEC_UNKNOWN,
     "exit 7: odd plugin"},
    {"no output", "silent", NULL, NULL, NULL, 4096, RES_EXEC_CRITICAL, "exit 2, no output"},
    {"killed by a signal", "signal", NULL, NULL, NULL, 4096, RES_EXEC_SIGNALED,
     "killed by signal 15 (Terminated): about to die"},
    {"non-printable bytes replaced, trimmed", "dirty", NULL, NULL, NULL, 4096, RES_OK,
     "??[31mRED? text"},
    {"minimal environment, cwd /, stdin empty", "env", NULL, NULL, NULL, 4096, RES_OK,
     "PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=unset LEAK=unset PWD=/ STDIN=0"},
    {"stderr discarded", "stderr", NULL, NULL, NULL, 4096, RES_OK, "to stdout"},
    {"argv passed as given, no shell", "args", NULL, "a b", "$HOME;ls", 4096, RES_OK,
     "[a b] [$HOME;ls] [2]"},
    {"output capped at output_max", "ok", NULL, NULL, NULL, 10, RES_OK, "TEST OK -"},
    {"missing binary", NULL, "/nonexistent/check_nothing", NULL, NULL, 4096, RES_EXEC_FAILED,
     "cannot run /nonexistent/check_nothing: no such file or directory"},
    {"not executable", "notexec", NULL, NULL, NULL, 4096, RES_EXEC_FAILED, NULL},
    {"missing interpreter", "badinterp", NULL, NULL, NULL, 4096, RES_EXEC_FAILED, NULL},
};

static void test_exec_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct exec_case *tc = &cases[i];
		const char *argv[4] = {tc->script ? script(tc->script) : tc->argv0, tc->arg1,
		                       tc->arg2, NULL};
		struct check_report rep;

		print_message("case: %s\n", tc->name);
		rep = run_exec(*state, argv, 2.0, tc->output_max);
		print_message("      %s: %s (%.1f ms)\n", result_name(rep.code), rep.detail,
		              rep.duration * 1000);
		assert_int_equal(rep.code, tc->code);
		if (tc->detail != NULL)
			assert_string_equal(rep.detail, tc->detail);
		else
			assert_non_null(strstr(rep.detail, "cannot run"));
		assert_true(rep.duration >= 0 && rep.duration < 1.0);
	}
}

static void test_hang_killed_at_timeout(void **state)
{
	struct ctx *c = *state;
	const char *argv[] = {script("hang"), NULL};
	struct check_report rep;
	struct group_arg g;
	double t_end;

	unlink(script("hang.pid"));
	rep = run_exec(c, argv, 0.3, 4096);
	t_end = mono_now();
	assert_int_equal(rep.code, RES_TIMEOUT);
	assert_string_equal(rep.detail, "no result within 0.300 s");
	assert_true(rep.duration >= 0.3 && rep.duration < 0.35);
	g.pgid = read_pid("hang.pid");
	assert_true(g.pgid > 0);
	/* the plugin and the sleep it left in the background are gone */
	assert_true(run_until(&c->loop, group_gone, &g, 2.0));
	print_message("hang: TIMEOUT after %.1f ms (timeout 300 ms, %.1f ms late); "
	              "group gone %.1f ms after the report\n",
	              rep.duration * 1000, (rep.duration - 0.3) * 1000,
	              (mono_now() - t_end) * 1000);
}

static void test_megabytes_capped(void **state)
{
	const char *argv[] = {script("big"), NULL};
	struct check_report rep = run_exec(*state, argv, 5.0, 4096);
	char want[CHECK_DETAIL_MAX];

	memset(want, 'x', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	assert_int_equal(rep.code, RES_OK);
	assert_string_equal(rep.detail, want);
	print_message("20 MB of output read and dropped in %.1f ms\n", rep.duration * 1000);
	assert_true(rep.duration < 5.0);
}

static void test_child_keeps_pipe(void **state)
{
	const char *argv[] = {script("forker"), NULL};
	struct check_report rep;
	int child;

	unlink(script("forker.child"));
	rep = run_exec(*state, argv, 2.0, 4096);
	assert_int_equal(rep.code, RES_OK);
	assert_string_equal(rep.detail, "PARENT OK - done");
	/* ends a grace period after the exit, long before the 2 s timeout */
	assert_true(rep.duration < 0.5);
	child = read_pid("forker.child");
	assert_true(child > 0);
	{
		double end = mono_now() + 2.0;

		while (pid_alive(child) && mono_now() < end)
			run_until(&((struct ctx *)*state)->loop, never, NULL, 0.01);
		assert_false(pid_alive(child));
	}
	print_message("child holding the pipe: finished in %.1f ms, child killed\n",
	              rep.duration * 1000);
}

static void test_escaped_child_keeps_pipe(void **state)
{
	const char *argv[] = {script("escaper"), NULL};
	struct check_report rep;
	int child;

	/* a child in its own session is out of reach of the group kill: the
	 * pipe is closed after the grace period all the same */
	unlink(script("escaper.child"));
	rep = run_exec(*state, argv, 2.0, 4096);
	child = read_pid("escaper.child");
	if (child > 0)
		kill(child, SIGKILL);
	assert_int_equal(rep.code, RES_OK);
	assert_string_equal(rep.detail, "PARENT OK - escaped");
	assert_true(rep.duration < 0.5);
}

/* A plugin holds stdin, stdout and stderr, and no socket of the agent's or the helper's. */
static void test_plugin_fds(void **state)
{
	struct ctx *c = *state;
	const char *argv[] = {script("hang"), NULL};
	struct check_conf *conf = exec_conf_new("t", argv, 5.0, 4096);
	struct done_rec rec = {0};
	struct check_run *run = check_run_new(c->env, conf, rec_done_cb, &rec);
	char path[64], link[128], fds[1024] = "";
	struct dirent *e;
	int pid, sockets = 0;
	DIR *d;

	unlink(script("hang.pid"));
	assert_int_equal(check_run_start(run), 0);
	pid = read_pid("hang.pid");
	assert_true(pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	d = opendir(path);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char fd[340];
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", path, e->d_name);
		n = readlink(fd, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		if (strlen(fds) + strlen(link) + 16 < sizeof(fds))
			snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), " %.8s=%s",
			         e->d_name, link);
		/* 1 is libuv's socketpair for stdout; any other socket is a leak */
		if (strcmp(e->d_name, "1") != 0 && strncmp(link, "socket:", 7) == 0)
			sockets++;
	}
	closedir(d);
	print_message("the plugin's descriptors:%s\n", fds);
	assert_int_equal(sockets, 0);
	check_run_free(run);
	check_conf_free_test(conf);
}

static void test_free_while_running(void **state)
{
	struct ctx *c = *state;
	const char *argv[] = {script("hang"), NULL};
	struct check_conf *conf = exec_conf_new("t", argv, 5.0, 4096);
	struct done_rec rec = {0};
	struct check_run *run = check_run_new(c->env, conf, rec_done_cb, &rec);
	struct group_arg g;

	unlink(script("hang.pid"));
	assert_int_equal(check_run_start(run), 0);
	g.pgid = read_pid("hang.pid");
	assert_true(g.pgid > 0);
	check_run_free(run);
	assert_true(run_until(&c->loop, group_gone, &g, 2.0));
	assert_true(loop_drain(&c->loop, 2.0));
	assert_int_equal(rec.ndone, 0);
	check_conf_free_test(conf);
}

/* Ticks of a 100 ms timer while hostile plugins run on the same loop. */
struct ticker {
	uv_timer_t timer;
	double last, worst, sum;
	int n;
};

static void tick_cb(uv_timer_t *t)
{
	struct ticker *k = t->data;
	double now = mono_now(), late = now - k->last - 0.1;

	if (late > k->worst)
		k->worst = late;
	k->sum += late > 0 ? late : 0;
	k->n++;
	k->last = now;
}

struct hostile {
	const char *script;
	double timeout;
	struct check_conf *conf;
	struct check_run *run;
	struct done_rec rec;
	int runs;
};

static void hostile_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct hostile *h = arg;

	h->rec.ndone++;
	h->rec.rep = *rep;
	h->runs++;
}

static void test_loop_not_delayed(void **state)
{
	struct ctx *c = *state;
	struct hostile hs[] = {
	    {.script = "endless", .timeout = 0.7}, {.script = "big", .timeout = 3.0},
	    {.script = "hang", .timeout = 0.5},    {.script = "forker", .timeout = 2.0},
	    {.script = "escaper", .timeout = 2.0},
	};
	struct ticker k = {0};
	double end, spawn_worst = 0;

	uv_timer_init(&c->loop, &k.timer);
	k.timer.data = &k;
	uv_update_time(&c->loop);
	k.last = mono_now();
	uv_timer_start(&k.timer, tick_cb, 100, 100);
	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		const char *argv[] = {script(hs[i].script), NULL};

		hs[i].conf = exec_conf_new(hs[i].script, argv, hs[i].timeout, 4096);
		hs[i].run = check_run_new(c->env, hs[i].conf, hostile_done, &hs[i]);
	}
	/* restart every plugin as soon as it ends, for 2 s */
	end = mono_now() + 2.0;
	while (mono_now() < end) {
		for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
			double t0 = mono_now();

			/* -1 while it runs; the time is uv_spawn's fork + exec wait */
			if (check_run_start(hs[i].run) == 0 && mono_now() - t0 > spawn_worst)
				spawn_worst = mono_now() - t0;
		}
		uv_run(&c->loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&k.timer, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(hs); i++) {
		int child = -1;

		print_message("  %-8s ran %d times, last %s\n", hs[i].script, hs[i].runs,
		              result_name(hs[i].rec.rep.code));
		check_run_free(hs[i].run);
		check_conf_free_test(hs[i].conf);
		if (strcmp(hs[i].script, "escaper") == 0)
			child = read_pid("escaper.child");
		if (child > 0)
			kill(child, SIGKILL);
	}
	assert_true(loop_drain(&c->loop, 3.0));
	print_message("100 ms timer: %d ticks, worst lateness %.2f ms, mean %.2f ms; "
	              "longest check_run_start (uv_spawn) %.2f ms\n",
	              k.n, k.worst * 1000, k.sum / (k.n ? k.n : 1) * 1000, spawn_worst * 1000);
	assert_true(k.n >= 18);
	assert_true(k.worst < MAX_LATENESS);
}

/* The pure output-to-detail step on its own (what the fuzzer calls). */
static void test_judge_output(void **state)
{
	static const struct {
		const char *name;
		int64_t status;
		int sig;
		const char *out;
		size_t len, detail_len;
		enum check_result_code code;
		const char *detail;
	} jc[] = {
	    {"perfdata cut, first line only", 0, 0, "DISK OK - 56% free| /=2643MB\nmore\n", 0, 256,
	     RES_OK, "DISK OK - 56% free"},
	    {"trimmed", 1, 0, " \t WARNING - slow \r\n", 0, 256, RES_WARNING, "WARNING - slow"},
	    {"NUL byte shown as ?", 2, 0, "a\0b\n", 4, 256, RES_EXEC_CRITICAL, "a?b"},
	    {"empty output", 3, 0, "", 0, 256, RES_EXEC_UNKNOWN, "exit 3, no output"},
	    {"odd exit code named", 127, 0, "not found", 0, 256, RES_EXEC_UNKNOWN,
	     "exit 127: not found"},
	    {"signal wins over the status", 0, 9, "bye", 0, 256, RES_EXEC_SIGNALED,
	     "killed by signal 9 (Killed): bye"},
	    {"detail cut to its buffer", 0, 0, "0123456789", 0, 5, RES_OK, "0123"},
	    {"one byte buffer", 0, 0, "x", 0, 1, RES_OK, ""},
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(jc); i++) {
		char detail[256];
		size_t len = jc[i].len ? jc[i].len : strlen(jc[i].out);

		print_message("case: %s\n", jc[i].name);
		assert_int_equal(check_exec_judge(jc[i].status, jc[i].sig, jc[i].out, len, detail,
		                                  jc[i].detail_len),
		                 jc[i].code);
		assert_string_equal(detail, jc[i].detail);
	}
}

/* ---- the helper on its own -------------------------------------------------------- */

struct hres {
	int n;
	struct exec_helper_result res;
	char data[EXEC_OUTPUT_MAX];
};

static void hres_cb(const struct exec_helper_result *res, void *arg)
{
	struct hres *r = arg;

	r->n++;
	r->res = *res;
	memcpy(r->data, res->data, res->len < sizeof(r->data) ? res->len : sizeof(r->data));
	r->res.data = r->data;
}

static bool hres_done(void *arg)
{
	return ((struct hres *)arg)->n > 0;
}

/* The helper kills a plugin at the run's timeout by itself and says so. */
static void test_helper_enforces_timeout(void **state)
{
	struct ctx *c = *state;
	char *argv[] = {script("hang"), NULL};
	struct hres *r = xcalloc(1, sizeof(*r));
	struct group_arg g;
	double t0 = mono_now(), took;

	unlink(script("hang.pid"));
	assert_int_not_equal(exec_helper_run(c->helper, argv, 1, 300, 4096, hres_cb, r), 0);
	assert_true(run_until(&c->loop, hres_done, r, 3.0));
	took = mono_now() - t0;
	assert_false(r->res.gone);
	assert_int_equal(r->res.outcome, EXEC_OUT_TIMEOUT);
	assert_true(took >= 0.3 && took < 1.0);
	g.pgid = read_pid("hang.pid");
	assert_true(g.pgid > 0);
	assert_true(run_until(&c->loop, group_gone, &g, 2.0));
	print_message("helper timeout: reported after %.1f ms (300 ms asked), group gone\n",
	              took * 1000);
	free(r);
}

/* The helper keeps output_max bytes and drops the rest. */
static void test_helper_caps_output(void **state)
{
	struct ctx *c = *state;
	char *argv[] = {script("big"), NULL};
	struct hres *r = xcalloc(1, sizeof(*r));

	assert_int_not_equal(exec_helper_run(c->helper, argv, 1, 5000, 100, hres_cb, r), 0);
	assert_true(run_until(&c->loop, hres_done, r, 6.0));
	assert_int_equal(r->res.outcome, EXEC_OUT_DONE);
	assert_int_equal(r->res.status, 0);
	assert_int_equal(r->res.len, 100);
	assert_int_equal(r->data[0], 'x');
	free(r);
}

/* gone, and its exit status known (the EOF on its channel may come first) */
static bool helper_is_dead(void *arg)
{
	return exec_helper_gone(arg) != NULL && strstr(exec_helper_gone(arg), "signal") != NULL;
}

/* A helper that dies fails the run in flight and every later one, closed, with the reason. */
static void test_helper_killed(void **state)
{
	struct ctx *c = *state;
	const char *argv[] = {script("hang"), NULL};
	struct check_conf *conf = exec_conf_new("t", argv, 5.0, 4096);
	struct done_rec rec = {0};
	struct check_run *run = check_run_new(c->env, conf, rec_done_cb, &rec);
	struct check_report rep;
	int plugin;

	unlink(script("hang.pid"));
	assert_int_equal(check_run_start(run), 0);
	plugin = read_pid("hang.pid");
	assert_true(plugin > 0);
	assert_int_equal(kill(exec_helper_pid(c->helper), SIGKILL), 0);
	assert_true(run_until(&c->loop, rec_is_done, &rec, 2.0));
	print_message("helper killed: %s: %s after %.1f ms\n", result_name(rec.rep.code),
	              rec.rep.detail, rec.rep.duration * 1000);
	assert_int_equal(rec.rep.code, RES_EXEC_FAILED);
	assert_non_null(strstr(rec.rep.detail, "exec helper gone: "));
	assert_true(rec.rep.duration < 1.0);
	/* the next run fails at once, with the cause of death */
	assert_true(run_until(&c->loop, helper_is_dead, c->helper, 2.0));
	rec.ndone = 0;
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&c->loop, rec_is_done, &rec, 2.0));
	rep = rec.rep;
	print_message("next run: %s: %s\n", result_name(rep.code), rep.detail);
	assert_int_equal(rep.code, RES_EXEC_FAILED);
	assert_string_equal(rep.detail, "exec helper gone: was killed by signal 9 (Killed)");
	/* what the dead helper ran finishes on its own (under systemd, the unit's stop kills it) */
	kill(-plugin, SIGKILL);
	check_run_free(run);
	check_conf_free_test(conf);
}

/* ---- fake misbehaving helpers: this program under another name --------------------- */

static const char *const fakes[] = {"fake-helper-oversize", "fake-helper-overflow",
                                    "fake-helper-unasked", "fake-helper-badtype",
                                    "fake-helper-badexit"};

/* frame is made first: its size is known only then */
#define fake_send(fd, make)                                                                        \
	do {                                                                                       \
		size_t n_;                                                                         \
		uint8_t *f_ = make;                                                                \
		if (write(fd, f_, n_) != (ssize_t)n_)                                              \
			_exit(3);                                                                  \
		free(f_);                                                                          \
	} while (0)

/* Answer VERIFY properly, then RUN with the misbehaviour its name says. */
static int fake_helper_main(const char *mode)
{
	uint8_t buf[65536];
	size_t len = 0, used;
	struct exec_msg m;
	char err[160];

	for (;;) {
		ssize_t got = read(EXEC_HELPER_FD, buf + len, sizeof(buf) - len);
		int rc;

		if (got <= 0)
			return 0;
		len += (size_t)got;
		while ((rc = exec_proto_decode(buf, len, EXEC_PROTO_FROM_AGENT, &m, &used, err,
		                               sizeof(err))) == 1) {
			if (m.type == EXEC_MSG_VERIFY) {
				fake_send(EXEC_HELPER_FD,
				          exec_proto_facts(getuid(), getgid(), geteuid(), getegid(),
				                           NULL, 0, NULL, 0, &n_));
			} else if (m.type == EXEC_MSG_RUN) {
				static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x81};
				char *big = xcalloc(1, m.output_max + 1);

				if (strstr(mode, "oversize"))
					(void)!write(EXEC_HELPER_FD, huge, sizeof(huge));
				else if (strstr(mode, "overflow"))
					fake_send(EXEC_HELPER_FD,
					          exec_proto_result(m.id, EXEC_OUT_DONE, 0, 0, big,
					                            m.output_max + 1, &n_));
				else if (strstr(mode, "unasked"))
					fake_send(EXEC_HELPER_FD,
					          exec_proto_result(m.id + 1000, EXEC_OUT_DONE, 0,
					                            0, "OK", 2, &n_));
				else if (strstr(mode, "badtype"))
					fake_send(
					    EXEC_HELPER_FD,
					    exec_proto_facts(0, 0, 0, 0, NULL, 0, NULL, 0, &n_));
				else
					fake_send(EXEC_HELPER_FD,
					          exec_proto_result(m.id, EXEC_OUT_DONE, 300, 0,
					                            "x", 1, &n_));
				free(big);
			}
			exec_msg_free(&m);
			memmove(buf, buf + used, len - used);
			len -= used;
		}
		if (rc < 0)
			return 1;
	}
}

static void test_fake_helpers(void **state)
{
	struct ctx *c = *state;
	const char *argv[] = {script("ok"), NULL};

	for (size_t i = 0; i < ARRAY_SIZE(fakes); i++) {
		char exe[600];
		struct check_conf *conf = exec_conf_new("t", argv, 2.0, 4096);
		struct done_rec rec = {0};
		struct exec_helper *h;
		struct check_run *run;

		snprintf(exe, sizeof(exe), "%s/%s", dir, fakes[i]);
		h = helper_start(&c->loop, exe);
		c->env->exec_helper = h;
		run = check_run_new(c->env, conf, rec_done_cb, &rec);
		assert_int_equal(check_run_start(run), 0);
		assert_true(run_until(&c->loop, rec_is_done, &rec, 3.0));
		print_message("%s: %s: %s\n", fakes[i], result_name(rec.rep.code), rec.rep.detail);
		assert_int_equal(rec.rep.code, RES_EXEC_FAILED);
		assert_non_null(strstr(rec.rep.detail, "exec helper gone: sent "));
		assert_true(rec.rep.duration < 1.0);
		assert_non_null(exec_helper_gone(h));
		check_run_free(run);
		exec_helper_close(h);
		c->env->exec_helper = NULL;
		assert_true(loop_drain(&c->loop, 3.0));
		check_conf_free_test(conf);
	}
}

static int group_local(void **state)
{
	via_helper = false;
	return write_scripts(state);
}

static int group_helper(void **state)
{
	int rc;

	via_helper = true;
	rc = write_scripts(state);
	/* the fake helpers are this program under other names */
	for (size_t i = 0; i < ARRAY_SIZE(fakes) && rc == 0; i++) {
		char *link;

		xasprintf(&link, "%s/%s", dir, fakes[i]);
		if (symlink("/proc/self/exe", link) < 0) {
			char self[512];
			ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

			self[n > 0 ? n : 0] = '\0';
			rc = symlink(self, link);
		}
		free(link);
	}
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exec_cases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hang_killed_at_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_megabytes_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_keeps_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaped_child_keeps_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_while_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop_not_delayed, setup, teardown),
	    cmocka_unit_test(test_judge_output),
	};
	const struct CMUnitTest helper_tests[] = {
	    cmocka_unit_test_setup_teardown(test_exec_cases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hang_killed_at_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_megabytes_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_keeps_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaped_child_keeps_pipe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_while_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plugin_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_loop_not_delayed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helper_enforces_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helper_caps_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_helper_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fake_helpers, setup, teardown),
	};
	int rc;

	if (argc == 2 && strcmp(argv[1], EXEC_HELPER_ARG) == 0)
		return strstr(argv[0], "fake-helper-") ? fake_helper_main(argv[0])
		                                       : exec_helper_main(EXEC_HELPER_FD);
	rc = cmocka_run_group_tests_name("check_exec", tests, group_local, remove_scripts);
	rc |= cmocka_run_group_tests_name("check_exec through the exec helper", helper_tests,
	                                  group_helper, remove_scripts);
	return rc;
}
