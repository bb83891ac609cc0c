/* SPDX-License-Identifier: ISC */
/*
 * test_priv.c - least privilege (priv.c): who the agent and its plugins run
 * as for every combination of user, exec_user and the uid it was started
 * with; what a reload may change; the judgement of what a plugin could do
 * (every rule, table-driven); and, as root, the drop itself (all ids, groups,
 * no capability, no way back to root, directories made for the user) and a
 * plugin run by an exec helper started as another user.
 * Uses the system users root, daemon and nobody; the root-only cases skip otherwise.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "check_testutil.h"
#include "exec_helper.h"
#include "priv.h"

#define NOUSER "aa-no-such-user"

static uid_t nobody_uid, daemon_uid;
static gid_t nobody_gid;
static bool have_default; /* the system has PRIV_EXEC_USER_DEFAULT */

static int find_users(void **state)
{
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	if (pw == NULL) {
		fprintf(stderr, "test_priv: the system has no user nobody\n");
		return -1;
	}
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	pw = getpwnam("daemon");
	if (pw == NULL) {
		fprintf(stderr, "test_priv: the system has no user daemon\n");
		return -1;
	}
	daemon_uid = pw->pw_uid;
	have_default = getpwnam(PRIV_EXEC_USER_DEFAULT) != NULL;
	return 0;
}

/* euid values: ROOT, NOBODY (the user itself), OTHER (an unprivileged stranger) */
enum who { ROOT, NOBODY, OTHER };

static uid_t euid_of(enum who w)
{
	return w == ROOT ? 0 : w == NOBODY ? nobody_uid : 12345;
}

enum exec_by { BY_SELF, BY_HELPER, AS_AGENT };

static void test_plan_cases(void **state)
{
	static const struct {
		const char *user, *exec_user;
		enum who started_as;
		int rc;
		bool drop, as_root;
		enum exec_by exec;
		const char *exec_name; /* with BY_HELPER */
		const char *err;       /* a substring of the refusal */
	} cases[] = {
	    /* no user: stays what it is; as root the agent warns, plugins as root */
	    {NULL, NULL, ROOT, 0, false, true, BY_SELF, NULL, NULL},
	    {NULL, NULL, OTHER, 0, false, false, AS_AGENT, NULL, NULL},
	    /* user: dropped to from root, kept when already it, refused otherwise */
	    {"nobody", NULL, NOBODY, 0, false, false, AS_AGENT, NULL, NULL},
	    {"nobody", NULL, OTHER, -1, false, false, 0, NULL, "not root, and cannot switch users"},
	    {NOUSER, NULL, ROOT, -1, false, false, 0, NULL, "user \"" NOUSER "\" does not exist"},
	    {"root", NULL, ROOT, -1, false, false, 0, NULL, "is root; set user"},
	    /* exec_user: a user of its own, never the agent's or root; only from root */
	    {"nobody", "daemon", ROOT, 0, true, false, BY_HELPER, "daemon", NULL},
	    {"nobody", "nobody", ROOT, -1, false, false, 0, NULL,
	     "exec_user \"nobody\" is the agent's own user"},
	    {"nobody", "root", ROOT, -1, false, false, 0, NULL, "exec_user \"root\" is root"},
	    {"nobody", NOUSER, ROOT, -1, false, false, 0, NULL, "\"" NOUSER "\" does not exist"},
	    {NULL, "nobody", ROOT, 0, false, true, BY_HELPER, "nobody", NULL},
	    {NULL, "root", ROOT, -1, false, false, 0, NULL, "exec_user \"root\" is root"},
	    {NULL, "nobody", NOBODY, -1, false, false, 0, NULL, "is the agent's own user"},
	    {NULL, "nobody", OTHER, -1, false, false, 0, NULL, "needs an agent started as root"},
	    {NULL, NOUSER, ROOT, -1, false, false, 0, NULL, "exec_user \"" NOUSER "\" does not"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct priv_plan p;
		char *err = NULL;
		int rc = priv_plan(cases[i].user, cases[i].exec_user, euid_of(cases[i].started_as),
		                   &p, &err);

		print_message("case %zu: user %s, exec_user %s -> %d %s\n", i,
		              cases[i].user ? cases[i].user : "-",
		              cases[i].exec_user ? cases[i].exec_user : "-", rc, err ? err : "");
		assert_int_equal(rc, cases[i].rc);
		if (rc < 0) {
			assert_non_null(err);
			assert_non_null(strstr(err, cases[i].err));
			free(err);
			continue;
		}
		assert_null(err);
		assert_int_equal(p.drop, cases[i].drop);
		assert_int_equal(p.as_root, cases[i].as_root);
		assert_int_equal(p.root_start, cases[i].started_as == ROOT);
		assert_int_equal(p.exec.helper, cases[i].exec == BY_HELPER);
		assert_int_equal(p.exec.as_agent, cases[i].exec == AS_AGENT);
		assert_false(p.exec.is_default);
		if (cases[i].drop) {
			assert_int_equal(p.uid, nobody_uid);
			assert_int_equal(p.gid, nobody_gid);
			assert_string_equal(p.name, "nobody");
		}
		if (cases[i].exec == BY_HELPER) {
			assert_string_equal(p.exec.name, cases[i].exec_name);
			assert_int_equal(p.exec.uid, strcmp(cases[i].exec_name, "nobody") == 0
			                                 ? nobody_uid
			                                 : daemon_uid);
		}
		priv_plan_free(&p);
	}
}

/* exec_user unset, dropping root to user: the default plugin user, or a refusal naming it. */
static void test_plan_default(void **state)
{
	struct priv_plan p;
	char *err = NULL;
	int rc = priv_plan("nobody", NULL, 0, &p, &err);

	(void)state;
	print_message("default exec_user (%s %s): %d %s\n", PRIV_EXEC_USER_DEFAULT,
	              have_default ? "exists" : "does not exist", rc, err ? err : "");
	if (!have_default) {
		assert_int_equal(rc, -1);
		assert_non_null(
		    strstr(err, "exec_user is not set and its default \"" PRIV_EXEC_USER_DEFAULT
		                "\" does not exist; create it (adduser --system"));
		free(err);
		return;
	}
	assert_int_equal(rc, 0);
	assert_true(p.drop);
	assert_true(p.exec.helper);
	assert_true(p.exec.is_default);
	assert_string_equal(p.exec.name, PRIV_EXEC_USER_DEFAULT);
	priv_plan_free(&p);
}

/* A reload cannot change who plugins run as: the helper keeps its user. */
static void test_reload_check(void **state)
{
	struct priv_plan p;
	char *err = NULL;

	(void)state;
	assert_int_equal(priv_plan("nobody", "daemon", 0, &p, &err), 0);
	assert_int_equal(priv_reload_check(&p, "nobody", "daemon", &err), 0);
	assert_int_equal(priv_reload_check(&p, "nobody", "nobody", &err), -1);
	assert_non_null(strstr(err, "exec_user \"nobody\" differs from the user plugins run as "
	                            "(daemon)"));
	free(err);
	assert_int_equal(priv_reload_check(&p, "nobody", NULL, &err), -1);
	assert_non_null(strstr(err, "\"" PRIV_EXEC_USER_DEFAULT "\" differs"));
	free(err);
	priv_plan_free(&p);
	/* an unprivileged agent refuses a new exec_user as at start */
	assert_int_equal(priv_plan(NULL, NULL, 12345, &p, &err), 0);
	assert_int_equal(priv_reload_check(&p, NULL, NULL, &err), 0);
	assert_int_equal(priv_reload_check(&p, NULL, "nobody", &err), -1);
	assert_non_null(strstr(err, "needs an agent started as root"));
	free(err);
	priv_plan_free(&p);
}

/* ---- the judgement: what a plugin must not be able to do ----------------------------- */

#define AGENT 1000
#define PLUG  2000
#define BIRDG 110
#define ADMG  120
#define CTLG  130

static void test_judge(void **state)
{
	static struct priv_guard guards[] = {
	    {"bird.state_dir (/s/bird)", "inject BIRD configuration", "fix it", "/s/bird", false},
	    {"the directory of state_file (/s)", "forge drains", "fix it", "/s", false},
	    /* missing: its parent */
	    {"bird.state_dir (/run/x/bird)", "inject", "fix it", "/run/x", true},
	};
	static const gid_t agent_gids[] = {AGENT, AGENT, BIRDG, CTLG};
	static const gid_t bird_gids[] = {BIRDG};
	static const char *const socks[] = {"/run/bird/bird.ctl"};
	static const struct {
		const char *name;
		uid_t uid, euid;
		gid_t gid;
		gid_t groups[3];
		size_t ngroups;
		int access[3];
		const char *want[3]; /* substrings of the lines; none: accepted */
	} cases[] = {
	    {"a user of its own, nothing writable",
	     PLUG,
	     PLUG,
	     PLUG,
	     {0},
	     0,
	     {EACCES, EACCES, EROFS},
	     {NULL}},
	    {"the agent's uid",
	     AGENT,
	     AGENT,
	     PLUG,
	     {0},
	     0,
	     {EACCES, EACCES, EACCES},
	     {"plugins run as the agent's own uid 1000"}},
	    {"root", 0, 0, PLUG, {0}, 0, {EACCES, EACCES, EACCES}, {"plugins run as root"}},
	    {"BIRD's group",
	     PLUG,
	     PLUG,
	     PLUG,
	     {BIRDG},
	     1,
	     {EACCES, EACCES, EACCES},
	     {"which owns BIRD's socket /run/bird/bird.ctl: a plugin could enable, disable"}},
	    {"BIRD's group as primary",
	     PLUG,
	     PLUG,
	     BIRDG,
	     {0},
	     0,
	     {EACCES, EACCES, EACCES},
	     {"(gid 110), which owns BIRD's socket"}},
	    {"admin group",
	     PLUG,
	     PLUG,
	     PLUG,
	     {ADMG},
	     1,
	     {EACCES, EACCES, EACCES},
	     {"which is control.admin_group: a plugin could drain"}},
	    {"a group of the agent",
	     PLUG,
	     PLUG,
	     PLUG,
	     {7, CTLG},
	     2,
	     {EACCES, EACCES, EACCES},
	     {"which is a group of the agent's user aa: a plugin would share"}},
	    {"root's group",
	     PLUG,
	     PLUG,
	     PLUG,
	     {0},
	     1,
	     {EACCES, EACCES, EACCES},
	     {"(gid 0), which is root's group"}},
	    {"writes bird.state_dir",
	     PLUG,
	     PLUG,
	     PLUG,
	     {0},
	     0,
	     {0, EACCES, EACCES},
	     {"exec_user \"plug\" can write bird.state_dir (/s/bird): a plugin could inject BIRD "
	      "configuration; fix it (user aa)"}},
	    {"can create the missing state_dir",
	     PLUG,
	     PLUG,
	     PLUG,
	     {0},
	     0,
	     {EACCES, EACCES, 0},
	     {"can write bird.state_dir (/run/x/bird), which does not exist yet, by creating it "
	      "in /run/x"}},
	    {"everything at once",
	     AGENT,
	     AGENT,
	     BIRDG,
	     {ADMG},
	     1,
	     {0, 0, EACCES},
	     {"agent's own uid", "owns BIRD's socket", "control.admin_group"}},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct priv_judge_in in = {
		    .exec_user = "plug",
		    .agent_user = "aa",
		    .agent_uid = AGENT,
		    .agent_gids = agent_gids,
		    .nagent_gids = ARRAY_SIZE(agent_gids),
		    .bird_gids = bird_gids,
		    .bird_sockets = socks,
		    .nbird = 1,
		    .has_admin_gid = true,
		    .admin_gid = ADMG,
		    .guards = guards,
		    .nguards = ARRAY_SIZE(guards),
		    .uid = cases[i].uid,
		    .euid = cases[i].euid,
		    .gid = cases[i].gid,
		    .egid = cases[i].gid,
		    .groups = cases[i].groups,
		    .ngroups = cases[i].ngroups,
		    .access = cases[i].access,
		};
		char *err = NULL;
		int rc = priv_judge_plugins(&in, &err);

		print_message("case: %s -> %d\n%s%s", cases[i].name, rc, err ? err : "",
		              err ? "\n" : "");
		if (cases[i].want[0] == NULL) {
			assert_int_equal(rc, 0);
			assert_null(err);
			continue;
		}
		assert_int_equal(rc, -1);
		for (size_t k = 0; k < 3 && cases[i].want[k]; k++)
			assert_non_null(strstr(err, cases[i].want[k]));
		/* every line names the setting to change */
		for (char *line = err; line; line = strchr(line, '\n')) {
			line += *line == '\n';
			assert_memory_equal(line, "exec_user \"plug\"", 16);
		}
		free(err);
	}
}

/* ---- as root: the drop in a child process ------------------------------------ */

static char tmp[256];

static int make_tmp(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/test_priv.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmp) == NULL || chmod(tmp, 0755) < 0)
		return -1;
	return 0;
}

static int remove_tmp(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static bool owned_by(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_uid == uid && st.st_gid == gid;
}

/* The child's verdict: 0, or the number of the first broken promise (printed). */
static int drop_child(void)
{
	struct priv_plan p;
	char *err = NULL, deep[300], file[340], line[256];
	const char *dirs[1], *mine[1] = {deep}, *rootdir[1] = {tmp};
	FILE *st;
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[64], want[64];
	int ng, nwant = 64, fd;

#define FAIL(n, ...)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "drop_child: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		return n;                                                                          \
	} while (0)

	if (priv_plan("nobody", "daemon", geteuid(), &p, &err) < 0 || !p.drop)
		FAIL(1, "no drop planned: %s", err ? err : "");
	/* two missing levels are created for the user; the existing parent stays root's */
	snprintf(deep, sizeof(deep), "%s/made/deeper", tmp);
	dirs[0] = deep;
	if (priv_make_dirs(&p, dirs, 1, &err) < 0)
		FAIL(2, "priv_make_dirs: %s", err);
	snprintf(file, sizeof(file), "%s/made", tmp);
	if (!owned_by(deep, p.uid, p.gid) || !owned_by(file, p.uid, p.gid))
		FAIL(3, "the directories made are not nobody's");
	if (!owned_by(tmp, 0, 0))
		FAIL(4, "the existing directory changed owner");
	if (priv_drop(&p, &err) < 0)
		FAIL(7, "priv_drop: %s", err);
	if (getresuid(&r, &e, &s) < 0 || r != nobody_uid || e != nobody_uid || s != nobody_uid)
		FAIL(8, "uids %u %u %u", (unsigned)r, (unsigned)e, (unsigned)s);
	if (getresgid(&rg, &eg, &sg) < 0 || rg != nobody_gid || eg != nobody_gid ||
	    sg != nobody_gid)
		FAIL(9, "gids %u %u %u", (unsigned)rg, (unsigned)eg, (unsigned)sg);
	/* exactly the user's groups (initgroups), none of root's */
	ng = getgroups(64, groups);
	if (getgrouplist("nobody", nobody_gid, want, &nwant) < 0 || ng != nwant)
		FAIL(10, "%d groups, nobody has %d", ng, nwant);
	for (int i = 0; i < ng; i++)
		if (groups[i] == 0)
			FAIL(11, "group root kept");
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		FAIL(12, "root could be regained");
	/* not one capability left, as the kernel reports it */
	st = fopen("/proc/self/status", "r");
	while (st != NULL && fgets(line, sizeof(line), st) != NULL)
		if ((strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "CapPrm:", 7) == 0) &&
		    strtoull(line + 8, NULL, 16) != 0)
			FAIL(15, "%s", line);
	if (st != NULL)
		fclose(st);
	/* the user writes where it was given a directory, not where root keeps its own */
	snprintf(file, sizeof(file), "%s/state", deep);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	if (fd < 0)
		FAIL(13, "cannot write in %s: %s", deep, strerror(errno));
	close(fd);
	if (priv_warn_unwritable(mine, 1, p.name) != 0 ||
	    priv_warn_unwritable(rootdir, 1, p.name) != 1)
		FAIL(14, "priv_warn_unwritable misjudged");
	priv_plan_free(&p);
	return 0;
#undef FAIL
}

static void test_drop_as_root(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(drop_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- as root: plugins through an exec helper started as another user ------------- */

static void test_helper_as_nobody(void **state)
{
	char plugin[300], want[128];
	const char *argv[2] = {plugin, NULL};
	struct exec_helper_facts f;
	struct exec_helper *h;
	struct check_conf *c;
	struct check_env *env;
	struct done_rec d = {0};
	struct check_run *run;
	char *err = NULL;
	uv_loop_t loop;
	FILE *fp;

	(void)state;
	if (geteuid() != 0 || getegid() != 0)
		skip();
	snprintf(plugin, sizeof(plugin), "%s/id-plugin", tmp);
	fp = fopen(plugin, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho \"uid=$(id -u) gid=$(id -g) groups=$(id -G)\"\n", fp);
	fclose(fp);
	assert_int_equal(chmod(plugin, 0755), 0);
	uv_loop_init(&loop);
	h = exec_helper_spawn(&loop, "/proc/self/exe", "nobody", true, nobody_uid, nobody_gid,
	                      &err);
	assert_non_null(h);
	{
		const char *paths[] = {tmp, "/proc/self/exe"};

		if (exec_helper_ready(h, paths, 2, &f, &err) < 0)
			fail_msg("%s", err);
	}
	/* the helper itself: nobody, no supplementary group, cannot write root's temp dir */
	assert_int_equal(f.uid, nobody_uid);
	assert_int_equal(f.euid, nobody_uid);
	assert_int_equal(f.gid, nobody_gid);
	assert_int_equal(f.ngroups, 0);
	assert_int_equal(f.access[0], EACCES);
	exec_helper_facts_free(&f);
	env = check_env_new(&loop);
	env->exec_helper = h;
	c = exec_conf_new("id", argv, 5.0, 512);
	run = check_run_new(env, c, rec_done_cb, &d);
	assert_int_equal(check_run_start(run), 0);
	assert_true(run_until(&loop, rec_is_done, &d, 10.0));
	print_message("plugin through a helper as nobody: %s\n", d.rep.detail);
	assert_int_equal(d.rep.code, RES_OK);
	snprintf(want, sizeof(want), "uid=%u gid=%u groups=%u", (unsigned)nobody_uid,
	         (unsigned)nobody_gid, (unsigned)nobody_gid);
	assert_string_equal(d.rep.detail, want);
	check_run_free(run);
	exec_helper_close(h);
	env->exec_helper = NULL;
	check_env_free(env);
	assert_true(loop_drain(&loop, 5.0));
	check_conf_free_test(c);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_cases),
	    cmocka_unit_test(test_plan_default),
	    cmocka_unit_test(test_reload_check),
	    cmocka_unit_test(test_judge),
	    cmocka_unit_test_setup_teardown(test_drop_as_root, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_helper_as_nobody, make_tmp, remove_tmp),
	};

	if (argc == 2 && strcmp(argv[1], EXEC_HELPER_ARG) == 0)
		return exec_helper_main(EXEC_HELPER_FD);
	return cmocka_run_group_tests(tests, find_users, NULL);
}
