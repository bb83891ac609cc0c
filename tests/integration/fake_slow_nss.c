/* SPDX-License-Identifier: ISC */
/*
 * fake_slow_nss.c - a fake for a misbehaving name service (LDAP, sssd that
 * hang or fail), loaded with LD_PRELOAD by test_control_nss.sh.
 *
 * While the file named by $AA_FAKE_NSS exists, the reentrant user and group
 * lookups read its first line first: "sleep SECONDS" answers that much later
 * (then as the real lookup does), "fail" answers EIO (the backend is down).
 * Without the file they are the real ones.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* 0: answer for real; -1: fail with EIO. Sleeps first when asked to. */
static int misbehave(void)
{
	const char *path = getenv("AA_FAKE_NSS");
	char line[64] = "";
	double secs;
	FILE *f;

	if (path == NULL || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	if (strncmp(line, "fail", 4) == 0)
		return -1;
	if (sscanf(line, "sleep %lf", &secs) == 1 && secs > 0) {
		struct timespec ts = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	return 0;
}

#define FAKE(ret, name, params, args, result)                                                      \
	ret name params                                                                            \
	{                                                                                          \
		static ret(*real) params;                                                          \
		if (real == NULL)                                                                  \
			real = (ret(*) params)dlsym(RTLD_NEXT, #name);                             \
		if (misbehave() < 0) {                                                             \
			*(result) = NULL;                                                          \
			return EIO;                                                                \
		}                                                                                  \
		return real args;                                                                  \
	}

FAKE(int, getpwuid_r, (uid_t uid, struct passwd *pw, char *buf, size_t len, struct passwd **res),
     (uid, pw, buf, len, res), res)
FAKE(int, getpwnam_r,
     (const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res),
     (name, pw, buf, len, res), res)
FAKE(int, getgrnam_r,
     (const char *name, struct group *gr, char *buf, size_t len, struct group **res),
     (name, gr, buf, len, res), res)
FAKE(int, getgrgid_r, (gid_t gid, struct group *gr, char *buf, size_t len, struct group **res),
     (gid, gr, buf, len, res), res)
