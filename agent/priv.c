/*
 * priv.c - least privilege (see priv.h): the decision who the agent and its
 * exec checks run as, the directories a dropped agent needs, and the drop
 * itself with its verification. Every refusal names the setting to change.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "priv.h"
#include "util.h"

/* 0 found, 1 no such user, -1 lookup error (errno-style code in *e). */
static int lookup_user(const char *name, uid_t *uid, gid_t *gid, int *e)
{
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *res = NULL;
	char *buf;
	int rc;

	if (sz <= 0)
		sz = 16384;
	buf = xmalloc((size_t)sz);
	rc = getpwnam_r(name, &pw, buf, (size_t)sz, &res);
	if (rc == 0 && res != NULL) {
		*uid = pw.pw_uid;
		*gid = pw.pw_gid;
	}
	free(buf);
	*e = rc;
	if (rc != 0)
		return -1;
	return res == NULL ? 1 : 0;
}

/* priv_exec_identity; *cannot_switch tells "exists, but not reachable from euid". */
static int exec_identity(const char *exec_user, uid_t euid, struct priv_exec *out, char *err,
                         size_t errlen, bool *cannot_switch)
{
	uid_t uid;
	gid_t gid;
	int e, rc;

	memset(out, 0, sizeof(*out));
	if (exec_user == NULL)
		return 0;
	rc = lookup_user(exec_user, &uid, &gid, &e);
	if (rc != 0) {
		snprintf(err, errlen,
		         rc > 0 ? "exec_user \"%s\" does not exist; create it (adduser --system "
		                  "--group %s) or change exec_user"
		                : "cannot look up exec_user \"%s\": %s",
		         exec_user, rc > 0 ? exec_user : strerror(e));
		return -1;
	}
	if (uid == euid)
		return 0; /* the agent's own user: nothing to switch */
	if (euid != 0) {
		*cannot_switch = true;
		snprintf(
		    err, errlen,
		    "exec_user \"%s\" (uid %u) needs an agent running as root, but it runs as "
		    "uid %u; remove exec_user (plugins then run as the agent's user) or make it "
		    "the agent's user",
		    exec_user, (unsigned)uid, (unsigned)euid);
		return -1;
	}
	out->setid = true;
	out->uid = uid;
	out->gid = gid;
	return 0;
}

int priv_exec_identity(const char *exec_user, uid_t euid, struct priv_exec *out, char *err,
                       size_t errlen)
{
	bool cannot_switch = false;

	return exec_identity(exec_user, euid, out, err, errlen, &cannot_switch);
}

int priv_plan(const char *user, const char *exec_user, uid_t euid, struct priv_plan *p, char **err)
{
	char why[512];
	bool cannot_switch = false;
	int e, rc;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	p->uid = euid;
	p->gid = getegid();
	if (user != NULL) {
		rc = lookup_user(user, &p->uid, &p->gid, &e);
		if (rc > 0) {
			xasprintf(err,
			          "user \"%s\" does not exist; create it (adduser --system --group "
			          "%s, then adduser %s bird) or change the setting user",
			          user, user, user);
			return -1;
		}
		if (rc < 0) {
			xasprintf(err, "cannot look up user \"%s\": %s", user, strerror(e));
			return -1;
		}
		if (p->uid == 0) {
			xasprintf(
			    err,
			    "user \"%s\" is root; set user to the unprivileged user the agent "
			    "should run as, or remove the setting",
			    user);
			return -1;
		}
		if (p->uid != euid && euid != 0) {
			xasprintf(
			    err,
			    "user = \"%s\" (uid %u), but the agent was started as uid %u, not "
			    "root, and cannot switch users; start it as root or as %s (systemd "
			    "User=), or remove the setting",
			    user, (unsigned)p->uid, (unsigned)euid, user);
			return -1;
		}
		p->drop = p->uid != euid;
		p->name = xstrdup(user);
	} else {
		long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
		struct passwd pw, *res = NULL;
		char *buf = xmalloc(sz > 0 ? (size_t)sz : 16384);

		if (getpwuid_r(euid, &pw, buf, sz > 0 ? (size_t)sz : 16384, &res) == 0 && res)
			p->name = xstrdup(pw.pw_name);
		else
			xasprintf(&p->name, "uid %u", (unsigned)euid);
		free(buf);
		p->as_root = euid == 0;
	}
	if (exec_identity(exec_user, p->uid, &p->exec, why, sizeof(why), &cannot_switch) < 0) {
		if (user != NULL && cannot_switch)
			xasprintf(
			    err,
			    "exec_user \"%s\" differs from user \"%s\": once the agent runs as "
			    "%s it cannot start plugins as anyone else; remove exec_user",
			    exec_user, user, user);
		else
			*err = xstrdup(why);
		priv_plan_free(p);
		return -1;
	}
	return 0;
}

void priv_plan_free(struct priv_plan *p)
{
	free(p->name);
	p->name = NULL;
}

/* Create path (and missing parents); give what was created to the plan's user. */
static int make_dir(const struct priv_plan *p, const char *path, char **err)
{
	char *d = xstrdup(path);
	size_t len = strlen(d);
	int rc = 0;

	for (size_t i = 1; i <= len && rc == 0; i++) {
		int fd;

		if (d[i] != '/' && d[i] != '\0')
			continue;
		if (d[i] == '/' && d[i + 1] == '/')
			continue;
		d[i] = '\0';
		if (mkdir(d, 0755) < 0) {
			if (errno != EEXIST) {
				xasprintf(err, "cannot create directory %s: %s", d,
				          strerror(errno));
				rc = -1;
			}
		} else if (p->drop) {
			/* O_NOFOLLOW: what was made here is a directory, not a planted link */
			fd = open(d, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || fchown(fd, p->uid, p->gid) < 0) {
				xasprintf(err, "cannot give directory %s to user %s: %s", d,
				          p->name, strerror(errno));
				rc = -1;
			} else {
				log_info("created %s for user %s", d, p->name);
			}
			if (fd >= 0)
				close(fd);
		}
		if (i < len)
			d[i] = '/';
	}
	free(d);
	return rc;
}

int priv_make_dirs(const struct priv_plan *p, const char *const *dirs, size_t n, char **err)
{
	*err = NULL;
	for (size_t i = 0; i < n; i++)
		if (dirs[i] != NULL && dirs[i][0] == '/' && make_dir(p, dirs[i], err) < 0)
			return -1;
	return 0;
}

int priv_chown_socket(const struct priv_plan *p, const char *path, bool group, char **err)
{
	*err = NULL;
	if (!p->drop)
		return 0;
	if (lchown(path, p->uid, group ? p->gid : (gid_t)-1) < 0) {
		xasprintf(err, "cannot give control socket %s to user %s: %s", path, p->name,
		          strerror(errno));
		return -1;
	}
	return 0;
}

int priv_drop(const struct priv_plan *p, char **err)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	*err = NULL;
	if (!p->drop)
		return 0;
	if (initgroups(p->name, p->gid) < 0) {
		xasprintf(err, "cannot set the groups of user %s: %s", p->name, strerror(errno));
		return -1;
	}
	if (setresgid(p->gid, p->gid, p->gid) < 0) {
		xasprintf(err, "cannot switch to group %u of user %s: %s", (unsigned)p->gid,
		          p->name, strerror(errno));
		return -1;
	}
	if (setresuid(p->uid, p->uid, p->uid) < 0) {
		xasprintf(err, "cannot switch to user %s: %s", p->name, strerror(errno));
		return -1;
	}
	if (getresuid(&r, &e, &s) < 0 || getresgid(&rg, &eg, &sg) < 0 || r != p->uid ||
	    e != p->uid || s != p->uid || rg != p->gid || eg != p->gid || sg != p->gid) {
		xasprintf(err, "switching to user %s left other ids behind; refusing to go on",
		          p->name);
		return -1;
	}
	/* a saved root id or a capability left would let a bug become root again */
	if (setuid(0) == 0 || seteuid(0) == 0) {
		xasprintf(err,
		          "user %s could become root again after the switch; refusing to go on",
		          p->name);
		return -1;
	}
	return 0;
}

size_t priv_warn_unwritable(const char *const *dirs, size_t n, const char *who)
{
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		/* a missing one is created when first written, or reported then */
		if (dirs[i] == NULL || access(dirs[i], W_OK | X_OK) == 0 || errno == ENOENT)
			continue;
		log_warnx("%s is not writable by %s (%s): what the agent keeps there will not be "
		          "saved; chown it to %s, or let systemd create it (StateDirectory=)",
		          dirs[i], who, strerror(errno), who);
		bad++;
	}
	return bad;
}
