/*
 * test_priv.c - least privilege (priv.c): who the agent and its plugins run
 * as for every combination of user, exec_user and the uid it was started
 * with; and, as root, the drop itself (all ids, groups, no way back to
 * root, directories made for the user) and a plugin run as exec_user.
 * Uses the system users root and nobody; the root-only cases skip otherwise.
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
#include "priv.h"

#define NOUSER "aa-no-such-user"

static uid_t nobody_uid;
static gid_t nobody_gid;

static int find_nobody(void **state)
{
	struct passwd *pw = getpwnam("nobody");

	(void)state;
	if (pw == NULL) {
		fprintf(stderr, "test_priv: the system has no user nobody\n");
		return -1;
	}
	nobody_uid = pw->pw_uid;
	nobody_gid = pw->pw_gid;
	return 0;
}

/* euid values: ROOT, NOBODY (the user itself), OTHER (an unprivileged stranger) */
enum who { ROOT, NOBODY, OTHER };

static uid_t euid_of(enum who w)
{
	return w == ROOT ? 0 : w == NOBODY ? nobody_uid : 12345;
}

static void test_plan_cases(void **state)
{
	static const struct {
		const char *user, *exec_user;
		enum who started_as;
		int rc;
		bool drop, as_root, exec_setid;
		const char *err; /* a substring of the refusal */
	} cases[] = {
	    /* no user: stays what it is; as root the agent warns */
	    {NULL, NULL, ROOT, 0, false, true, false, NULL},
	    {NULL, NULL, OTHER, 0, false, false, false, NULL},
	    /* user: dropped to from root, kept when already it, refused otherwise */
	    {"nobody", NULL, ROOT, 0, true, false, false, NULL},
	    {"nobody", NULL, NOBODY, 0, false, false, false, NULL},
	    {"nobody", NULL, OTHER, -1, false, false, false, "not root, and cannot switch users"},
	    {NOUSER, NULL, ROOT, -1, false, false, false, "user \"" NOUSER "\" does not exist"},
	    {"root", NULL, ROOT, -1, false, false, false, "is root; set user"},
	    /* exec_user: only a root agent switches; the agent's own user needs nothing */
	    {"nobody", "nobody", ROOT, 0, true, false, false, NULL},
	    {"nobody", "root", ROOT, -1, false, false, false, "differs from user \"nobody\""},
	    {"nobody", NOUSER, ROOT, -1, false, false, false, "\"" NOUSER "\" does not exist"},
	    {NULL, "nobody", ROOT, 0, false, true, true, NULL},
	    {NULL, "nobody", NOBODY, 0, false, false, false, NULL},
	    {NULL, "nobody", OTHER, -1, false, false, false, "needs an agent running as root"},
	    {NULL, NOUSER, ROOT, -1, false, false, false, "exec_user \"" NOUSER "\" does not"},
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
		assert_int_equal(p.exec.setid, cases[i].exec_setid);
		if (cases[i].drop) {
			assert_int_equal(p.uid, nobody_uid);
			assert_int_equal(p.gid, nobody_gid);
			assert_string_equal(p.name, "nobody");
		}
		if (cases[i].exec_setid) {
			assert_int_equal(p.exec.uid, nobody_uid);
			assert_int_equal(p.exec.gid, nobody_gid);
		}
		priv_plan_free(&p);
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
	char *err = NULL, deep[300], sock[300], file[340];
	const char *dirs[1], *mine[1] = {deep}, *rootdir[1] = {tmp};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uid_t r, e, s;
	gid_t rg, eg, sg, groups[64], want[64];
	int ng, nwant = 64, fd;

#define FAIL(n, ...)                                                                               \
	do {                                                                                       \
		fprintf(stderr, "drop_child: " __VA_ARGS__);                                       \
		fputc('\n', stderr);                                                               \
		return n;                                                                          \
	} while (0)

	if (priv_plan("nobody", NULL, geteuid(), &p, &err) < 0 || !p.drop)
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
	/* the socket goes to the user, keeping its group when asked */
	snprintf(sock, sizeof(sock), "%s/ctl", tmp);
	if (strlen(sock) >= sizeof(sa.sun_path))
		FAIL(5, "%s is too long for a socket path; set TMPDIR shorter", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		FAIL(5, "bind %s: %s", sock, strerror(errno));
	if (priv_chown_socket(&p, sock, false, &err) < 0 || !owned_by(sock, p.uid, 0))
		FAIL(6, "socket owner: %s", err ? err : "wrong owner or group");
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

/* ---- as root: plugins as exec_user --------------------------------------------- */

static void test_exec_user(void **state)
{
	static const struct {
		const char *exec_user;
		enum check_result_code code;
		const char *detail; /* "@N@" stands for nobody's uid/gid */
	} cases[] = {
	    {NULL, RES_OK, "uid=0 gid=0 groups=0"},
	    {"nobody", RES_OK, "uid=@N@ gid=@G@ groups=@G@"},
	    {"root", RES_OK, "uid=0 gid=0 groups=0"},
	    {NOUSER, RES_INTERNAL_ERROR, "exec_user \"" NOUSER "\" does not exist"},
	};
	char plugin[300], want[128];
	uv_loop_t loop;
	FILE *f;

	(void)state;
	if (geteuid() != 0 || getegid() != 0)
		skip();
	snprintf(plugin, sizeof(plugin), "%s/id-plugin", tmp);
	f = fopen(plugin, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\necho \"uid=$(id -u) gid=$(id -g) groups=$(id -G)\"\n", f);
	fclose(f);
	assert_int_equal(chmod(plugin, 0755), 0);
	uv_loop_init(&loop);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = {plugin, NULL};
		struct check_conf *c = exec_conf_new("id", argv, 5.0, 512);
		struct check_env *env = check_env_new(&loop);
		struct done_rec d = {0};
		struct check_run *run;

		c->u.exec.user = cases[i].exec_user;
		run = check_run_new(env, c, rec_done_cb, &d);
		assert_int_equal(check_run_start(run), 0);
		assert_true(run_until(&loop, rec_is_done, &d, 10.0));
		print_message("exec_user %s: %s\n", cases[i].exec_user ? cases[i].exec_user : "-",
		              d.rep.detail);
		assert_int_equal(d.rep.code, cases[i].code);
		if (strstr(cases[i].detail, "@N@"))
			snprintf(want, sizeof(want), "uid=%u gid=%u groups=%u",
			         (unsigned)nobody_uid, (unsigned)nobody_gid, (unsigned)nobody_gid);
		else
			snprintf(want, sizeof(want), "%s", cases[i].detail);
		assert_non_null(strstr(d.rep.detail, want));
		check_run_free(run);
		check_env_free(env);
		assert_true(loop_drain(&loop, 5.0));
		check_conf_free_test(c);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_cases),
	    cmocka_unit_test_setup_teardown(test_drop_as_root, make_tmp, remove_tmp),
	    cmocka_unit_test_setup_teardown(test_exec_user, make_tmp, remove_tmp),
	};

	return cmocka_run_group_tests(tests, find_nobody, NULL);
}
