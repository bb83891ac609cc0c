/* SPDX-License-Identifier: ISC */
/*
 * nss.h - user and group lookups (the name service switch: /etc/passwd,
 * /etc/group, LDAP, sssd, ...) that tell "no such entry" from "the lookup
 * failed", with buffers that grow on ERANGE, so a group with thousands of
 * members is found like any other.
 *
 * Owned by nss.c. Every call may block for as long as the backend takes:
 * the agent calls them at start-up and reload, and control.c from its own
 * thread, never from the event loop per request.
 */
#ifndef AA_NSS_H
#define AA_NSS_H

#include <stddef.h>
#include <sys/types.h>

/* The largest entry a lookup reads: a group of ~60000 members. Beyond it: ERANGE. */
#define NSS_BUF_MAX (1024 * 1024)

enum nss_result {
	NSS_FOUND = 0,
	NSS_NOT_FOUND = 1, /* the backends answered: there is no such entry */
	NSS_ERROR = -1,    /* the lookup itself failed; *e holds the errno value */
};

enum nss_result nss_user_by_name(const char *name, uid_t *uid, gid_t *gid, int *e);
/* The name of uid, cut to len - 1 bytes. */
enum nss_result nss_user_by_uid(uid_t uid, char *name, size_t len, int *e);
enum nss_result nss_group_by_name(const char *name, gid_t *gid, int *e);
/* The name of gid, cut to len - 1 bytes. */
enum nss_result nss_group_by_gid(gid_t gid, char *name, size_t len, int *e);

/* The text an operator reads for a failed lookup: "no such entry", or strerror(e). */
const char *nss_strerror(enum nss_result r, int e);

#endif
