/* SPDX-License-Identifier: ISC */
/*
 * nss.c - user and group lookups with growing buffers (see nss.h).
 */
#include <config.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nss.h"
#include "util.h"

#define NSS_BUF_START 1024

/* getpwnam_r(3): 0 with no result, or one of these, means "not found" */
static enum nss_result verdict(int rc, const void *res, int *e)
{
	*e = rc;
	if (rc == 0)
		return res != NULL ? NSS_FOUND : NSS_NOT_FOUND;
	if (rc == ENOENT || rc == ESRCH)
		return NSS_NOT_FOUND;
	return NSS_ERROR;
}

/* Call lookup with a buffer doubled on ERANGE up to NSS_BUF_MAX; returns its rc. */
#define NSS_GROW(call)                                                                             \
	do {                                                                                       \
		for (size_t sz = NSS_BUF_START;; sz *= 2) {                                        \
			buf = xrealloc(buf, sz);                                                   \
			buflen = sz;                                                               \
			rc = (call);                                                               \
			if (rc != ERANGE || sz >= NSS_BUF_MAX)                                     \
				break;                                                             \
		}                                                                                  \
	} while (0)

enum nss_result nss_user_by_name(const char *name, uid_t *uid, gid_t *gid, int *e)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t buflen;
	enum nss_result r;
	int rc;

	NSS_GROW(getpwnam_r(name, &pw, buf, buflen, &res));
	r = verdict(rc, res, e);
	if (r == NSS_FOUND) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	return r;
}

enum nss_result nss_user_by_uid(uid_t uid, char *name, size_t len, int *e)
{
	struct passwd pw, *res = NULL;
	char *buf = NULL;
	size_t buflen;
	enum nss_result r;
	int rc;

	NSS_GROW(getpwuid_r(uid, &pw, buf, buflen, &res));
	r = verdict(rc, res, e);
	if (r == NSS_FOUND)
		snprintf(name, len, "%s", pw.pw_name);
	free(buf);
	return r;
}

enum nss_result nss_group_by_name(const char *name, gid_t *gid, int *e)
{
	struct group gr, *res = NULL;
	char *buf = NULL;
	size_t buflen;
	enum nss_result r;
	int rc;

	NSS_GROW(getgrnam_r(name, &gr, buf, buflen, &res));
	r = verdict(rc, res, e);
	if (r == NSS_FOUND)
		*gid = gr.gr_gid;
	free(buf);
	return r;
}

enum nss_result nss_group_by_gid(gid_t gid, char *name, size_t len, int *e)
{
	struct group gr, *res = NULL;
	char *buf = NULL;
	size_t buflen;
	enum nss_result r;
	int rc;

	NSS_GROW(getgrgid_r(gid, &gr, buf, buflen, &res));
	r = verdict(rc, res, e);
	if (r == NSS_FOUND)
		snprintf(name, len, "%s", gr.gr_name);
	free(buf);
	return r;
}

const char *nss_strerror(enum nss_result r, int e)
{
	if (r == NSS_NOT_FOUND)
		return "no such entry";
	if (e == ERANGE)
		return "entry larger than 1 MiB";
	return strerror(e);
}
