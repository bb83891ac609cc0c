/* SPDX-License-Identifier: ISC */
/*
 * priv.c - least privilege (see priv.h): the decision who the agent and its
 * exec checks run as, the directories a dropped agent needs, the drop itself
 * with its verification, the judgement of what a plugin could do, and the
 * agent's start-up steps that use them. Every refusal names the setting to
 * change.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec_helper.h"
#include "log.h"
#include "nss.h"
#include "priv.h"
#include "util.h"

/* The name of gid for messages, or its number. */
static void group_name(gid_t gid, char *out, size_t len)
{
	int e;

	if (nss_group_by_gid(gid, out, len, &e) != NSS_FOUND)
		snprintf(out, len, "%u", (unsigned)gid);
}

static int lookup_failed(char **err, const char *setting, const char *name, enum nss_result r,
                         int e, const char *create)
{
	if (r == NSS_NOT_FOUND)
		xasprintf(err, "%s \"%s\" does not exist; create it (%s) or change %s", setting,
		          name, create, setting);
	else
		xasprintf(err, "cannot look up %s \"%s\": %s", setting, name, nss_strerror(r, e));
	return -1;
}

/* Plugins' identity for a root start; p->uid is the agent's uid after start-up. */
static int plan_exec_root(const char *user, const char *exec_user, struct priv_plan *p, char **err)
{
	struct priv_exec *x = &p->exec;
	const char *name = exec_user;
	enum nss_result r;
	int e;

	if (name == NULL && user != NULL) {
		name = PRIV_EXEC_USER_DEFAULT;
		x->is_default = true;
	}
	if (name == NULL)
		return 0; /* a root agent without user: plugins as root, in its warning */
	r = nss_user_by_name(name, &x->uid, &x->gid, &e);
	if (r != NSS_FOUND) {
		if (x->is_default && r == NSS_NOT_FOUND) {
			xasprintf(
			    err,
			    "exec_user is not set and its default \"%s\" does not exist; "
			    "create it (adduser --system --group --no-create-home %s) or set "
			    "exec_user to an unprivileged user of its own, outside group bird",
			    name, name);
			return -1;
		}
		return lookup_failed(err, "exec_user", name, r, e,
		                     "adduser --system --group --no-create-home USER");
	}
	if (x->uid == 0) {
		xasprintf(err,
		          "exec_user \"%s\" is root: set exec_user to an unprivileged user of its "
		          "own (the package creates %s)",
		          name, PRIV_EXEC_USER_DEFAULT);
		return -1;
	}
	if (x->uid == p->uid) {
		xasprintf(
		    err,
		    "exec_user \"%s\" is the agent's own user: a plugin would hold every right "
		    "of the agent (BIRD's socket, bird.state_dir); set exec_user to a user of "
		    "its own (the package creates %s)",
		    name, PRIV_EXEC_USER_DEFAULT);
		return -1;
	}
	x->helper = true;
	x->name = xstrdup(name);
	return 0;
}

/* Plugins' identity for an unprivileged start: the agent itself, or a refusal. */
static int plan_exec_unprivileged(const char *exec_user, uid_t euid, struct priv_plan *p,
                                  char **err)
{
	uid_t uid;
	gid_t gid;
	enum nss_result r;
	int e;

	if (exec_user == NULL) {
		p->exec.as_agent = true;
		return 0;
	}
	r = nss_user_by_name(exec_user, &uid, &gid, &e);
	if (r != NSS_FOUND)
		return lookup_failed(err, "exec_user", exec_user, r, e,
		                     "adduser --system --group --no-create-home USER");
	if (uid == euid) {
		xasprintf(
		    err,
		    "exec_user \"%s\" is the agent's own user: a plugin would hold every right "
		    "of the agent; remove exec_user, or start the agent as root (the shipped "
		    "unit does) with exec_user a user of its own",
		    exec_user);
		return -1;
	}
	xasprintf(err,
	          "exec_user \"%s\" (uid %u) needs an agent started as root, but it was started "
	          "as uid %u: start it as root (the shipped unit's ExecStart=! does) with user "
	          "set, or remove exec_user (plugins then run as the agent itself)",
	          exec_user, (unsigned)uid, (unsigned)euid);
	return -1;
}

int priv_plan(const char *user, const char *exec_user, uid_t euid, struct priv_plan *p, char **err)
{
	enum nss_result r;
	int e;

	memset(p, 0, sizeof(*p));
	*err = NULL;
	p->root_start = euid == 0;
	p->uid = euid;
	p->gid = getegid();
	if (user != NULL) {
		r = nss_user_by_name(user, &p->uid, &p->gid, &e);
		if (r == NSS_NOT_FOUND) {
			xasprintf(err,
			          "user \"%s\" does not exist; create it (adduser --system --group "
			          "%s, then adduser %s bird) or change the setting user",
			          user, user, user);
			return -1;
		}
		if (r != NSS_FOUND) {
			xasprintf(err, "cannot look up user \"%s\": %s", user, nss_strerror(r, e));
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
			    "root, and cannot switch users; start it as root (the shipped unit's "
			    "ExecStart=! does) or as %s, or remove the setting",
			    user, (unsigned)p->uid, (unsigned)euid, user);
			return -1;
		}
		p->drop = p->uid != euid;
		p->name = xstrdup(user);
	} else {
		char name[256];

		if (nss_user_by_uid(euid, name, sizeof(name), &e) == NSS_FOUND)
			p->name = xstrdup(name);
		else
			xasprintf(&p->name, "uid %u", (unsigned)euid);
		p->as_root = euid == 0;
	}
	if ((euid == 0 ? plan_exec_root(user, exec_user, p, err)
	               : plan_exec_unprivileged(exec_user, euid, p, err)) < 0) {
		priv_plan_free(p);
		return -1;
	}
	return 0;
}

void priv_plan_free(struct priv_plan *p)
{
	free(p->name);
	free(p->exec.name);
	p->name = NULL;
	p->exec.name = NULL;
}

int priv_reload_check(const struct priv_plan *p, const char *user, const char *exec_user,
                      char **err)
{
	const char *want = exec_user;

	*err = NULL;
	if (!p->root_start && exec_user == NULL)
		return 0; /* plugins run as the agent, as before; no lookup on the loop */
	if (!p->root_start) {
		struct priv_plan q;
		int rc = priv_plan(NULL, exec_user, p->uid, &q, err);

		priv_plan_free(&q);
		return rc;
	}
	if (want == NULL && user != NULL)
		want = PRIV_EXEC_USER_DEFAULT;
	if ((want == NULL) != (p->exec.name == NULL) ||
	    (want != NULL && strcmp(want, p->exec.name) != 0)) {
		xasprintf(err,
		          "exec_user \"%s\" differs from the user plugins run as (%s): the exec "
		          "helper keeps its user until anycast-agent restarts; restart it, or set "
		          "exec_user back",
		          want ? want : "(none)", p->exec.name ? p->exec.name : "the agent's own");
		return -1;
	}
	return 0;
}

/* Create path (and missing parents) for the plan's user. */
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
			if (errno == EACCES)
				break; /* root without CAP_DAC_OVERRIDE: the dropped agent makes it
				        */
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

/* True if the process has no capability left (effective, permitted or inheritable). */
static bool no_capabilities(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) < 0)
		return false;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	return true;
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
	if (!no_capabilities()) {
		xasprintf(err, "user %s kept a capability after the switch; refusing to go on",
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

size_t priv_warn_bird_access(const struct agent_conf *conf, const char *who)
{
	size_t bad = 0;

	for (size_t i = 0; i < conf->bird.nsockets; i++) {
		const char *path = conf->bird.sockets[i].path;
		struct stat st;
		char g[64];

		/* a missing socket: BIRD is not running yet, the sync layer says so */
		if (stat(path, &st) < 0 || access(path, W_OK) == 0)
			continue;
		group_name(st.st_gid, g, sizeof(g));
		log_warnx("%s cannot connect to BIRD's socket %s (group %s): make %s a member "
		          "(adduser %s %s) and restart the agent",
		          who, path, g, who, who, g);
		bad++;
	}
	return bad;
}

/* ---- what a plugin must not be able to do ------------------------------------------ */

static char *dir_of(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

/* The path itself if it exists, else its nearest existing parent (who can write there can
 * create it). */
static char *nearest_existing(const char *path)
{
	char *p = xstrdup(path);
	struct stat st;

	while (lstat(p, &st) < 0 && errno == ENOENT && strcmp(p, "/") != 0) {
		char *up = dir_of(p);

		free(p);
		p = up;
	}
	return p;
}

static void guard_add(struct priv_guard **g, size_t *n, const char *what, const char *path,
                      const char *harm, bool dir)
{
	struct priv_guard *x;

	*g = xrealloc(*g, (*n + 1) * sizeof(**g));
	x = &(*g)[(*n)++];
	xasprintf(&x->what, "%s (%s)", what, path);
	x->harm = xstrdup(harm);
	x->fix = xstrdup(dir ? "make it writable by the agent's user only"
	                     : "keep it writable by its owner and group only");
	x->path = dir ? nearest_existing(path) : xstrdup(path);
	x->parent = strcmp(x->path, path) != 0;
}

struct priv_guard *priv_guards(const struct agent_conf *conf, size_t *n)
{
	struct priv_guard *g = NULL;
	char *d;
	struct stat st;

	*n = 0;
	guard_add(&g, n, "bird.state_dir", conf->bird.state_dir,
	          "inject BIRD configuration or forge the agent's decisions", true);
	d = dir_of(conf->state_file);
	guard_add(&g, n, "the directory of state_file", d, "forge or remove the operator's drains",
	          true);
	free(d);
	if (lstat(conf->state_file, &st) == 0)
		guard_add(&g, n, "state_file", conf->state_file,
		          "forge or remove the operator's drains", false);
	d = dir_of(conf->control.socket);
	guard_add(&g, n, "the directory of control.socket", d, "replace the agent's control socket",
	          true);
	free(d);
	if (conf->metrics_file != NULL) {
		d = dir_of(conf->metrics_file);
		guard_add(&g, n, "the directory of metrics_file", d, "forge the agent's metrics",
		          true);
		free(d);
	}
	for (size_t i = 0; i < conf->bird.nsockets; i++)
		if (stat(conf->bird.sockets[i].path, &st) == 0)
			guard_add(&g, n, "BIRD's socket", conf->bird.sockets[i].path,
			          "enable, disable or reconfigure every BIRD protocol", false);
	return g;
}

void priv_guards_free(struct priv_guard *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(g[i].what);
		free(g[i].harm);
		free(g[i].fix);
		free(g[i].path);
	}
	free(g);
}

static void violation(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void violation(char **err, const char *fmt, ...)
{
	char *line, *joined;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line == NULL)
		return;
	if (*err == NULL) {
		*err = line;
		return;
	}
	xasprintf(&joined, "%s\n%s", *err, line);
	free(*err);
	free(line);
	*err = joined;
}

/* Why gid is forbidden to plugins, or NULL. */
static const char *forbidden_group(const struct priv_judge_in *in, gid_t gid, char *why, size_t len)
{
	if (gid == 0)
		return "is root's group: a plugin could read and write what root's group may";
	for (size_t i = 0; i < in->nbird; i++)
		if (gid == in->bird_gids[i]) {
			snprintf(
			    why, len,
			    "owns BIRD's socket %s: a plugin could enable, disable or reconfigure "
			    "every BIRD protocol",
			    in->bird_sockets[i]);
			return why;
		}
	if (in->has_admin_gid && gid == in->admin_gid)
		return "is control.admin_group: a plugin could drain, undrain and reload the agent";
	for (size_t i = 0; i < in->nagent_gids; i++)
		if (gid == in->agent_gids[i]) {
			snprintf(
			    why, len,
			    "is a group of the agent's user %s: a plugin would share its access",
			    in->agent_user);
			return why;
		}
	return NULL;
}

int priv_judge_plugins(const struct priv_judge_in *in, char **err)
{
	gid_t seen[2 + 64];
	size_t nseen = 0;

	*err = NULL;
	if (in->uid == 0 || in->euid == 0)
		violation(err,
		          "exec_user \"%s\": plugins run as root (uid %u, euid %u); set exec_user "
		          "to an unprivileged user of its own",
		          in->exec_user, (unsigned)in->uid, (unsigned)in->euid);
	else if (in->uid == in->agent_uid || in->euid == in->agent_uid)
		violation(err,
		          "exec_user \"%s\": plugins run as the agent's own uid %u: a plugin would "
		          "hold every right of the agent; set exec_user to a user of its own",
		          in->exec_user, (unsigned)in->agent_uid);
	for (size_t i = 0; i < 2 + in->ngroups; i++) {
		gid_t gid = i == 0 ? in->gid : i == 1 ? in->egid : in->groups[i - 2];
		const char *why;
		char buf[300], name[64];
		bool dup = false;

		for (size_t k = 0; k < nseen; k++)
			dup |= seen[k] == gid;
		if (dup)
			continue;
		if (nseen < ARRAY_SIZE(seen))
			seen[nseen++] = gid;
		why = forbidden_group(in, gid, buf, sizeof(buf));
		if (why == NULL)
			continue;
		group_name(gid, name, sizeof(name));
		if (i < 2)
			violation(
			    err,
			    "exec_user \"%s\" has the primary group %s (gid %u), which %s; give it "
			    "a group of its own (usermod -g) or set exec_user to another user",
			    in->exec_user, name, (unsigned)gid, why);
		else
			violation(
			    err,
			    "exec_user \"%s\" is in group %s (gid %u), which %s; take %s out of "
			    "it (deluser %s %s) or set exec_user to another user",
			    in->exec_user, name, (unsigned)gid, why, in->exec_user, in->exec_user,
			    name);
	}
	for (size_t i = 0; i < in->nguards; i++) {
		if (in->access[i] != 0)
			continue;
		violation(err,
		          "exec_user \"%s\" can write %s%s%s: a plugin could %s; %s (user %s), or "
		          "set exec_user to another user",
		          in->exec_user, in->guards[i].what,
		          in->guards[i].parent ? ", which does not exist yet, by creating it in "
		                               : "",
		          in->guards[i].parent ? in->guards[i].path : "", in->guards[i].harm,
		          in->guards[i].fix, in->agent_user);
	}
	return *err == NULL ? 0 : -1;
}

int priv_verify_plugins(const struct agent_conf *conf, const struct priv_plan *p,
                        struct exec_helper *h, char **err)
{
	struct exec_helper_facts f;
	size_t ng = 0, nb = 0;
	struct priv_guard *g = priv_guards(conf, &ng);
	const char **paths = xcalloc(ng + 1, sizeof(char *));
	gid_t *bird = xcalloc(conf->bird.nsockets + 1, sizeof(gid_t));
	const char **socks = xcalloc(conf->bird.nsockets + 1, sizeof(char *));
	int n = getgroups(0, NULL), rc;
	gid_t *mine = xcalloc((n > 0 ? (size_t)n : 0) + 2, sizeof(gid_t));
	gid_t admin = 0;
	bool has_admin = false;
	int e;

	*err = NULL;
	for (size_t i = 0; i < ng; i++)
		paths[i] = g[i].path;
	for (size_t i = 0; i < conf->bird.nsockets; i++) {
		struct stat st;

		if (stat(conf->bird.sockets[i].path, &st) == 0) {
			bird[nb] = st.st_gid;
			socks[nb++] = conf->bird.sockets[i].path;
		}
	}
	mine[0] = getgid();
	mine[1] = getegid();
	n = n > 0 ? getgroups(n, mine + 2) : 0;
	if (conf->control.admin_group != NULL &&
	    nss_group_by_name(conf->control.admin_group, &admin, &e) == NSS_FOUND)
		has_admin = true;
	rc = exec_helper_ready(h, paths, ng, &f, err);
	if (rc == 0) {
		struct priv_judge_in in = {
		    .exec_user = p->exec.name,
		    .agent_user = p->name,
		    .agent_uid = geteuid(),
		    .agent_gids = mine,
		    .nagent_gids = 2 + (n > 0 ? (size_t)n : 0),
		    .bird_gids = bird,
		    .bird_sockets = socks,
		    .nbird = nb,
		    .has_admin_gid = has_admin,
		    .admin_gid = admin,
		    .guards = g,
		    .nguards = ng,
		    .uid = f.uid,
		    .euid = f.euid,
		    .gid = f.gid,
		    .egid = f.egid,
		    .groups = f.groups,
		    .ngroups = f.ngroups,
		    .access = f.access,
		};

		rc = priv_judge_plugins(&in, err);
		exec_helper_facts_free(&f);
	}
	priv_guards_free(g, ng);
	free(paths);
	free(bird);
	free(socks);
	free(mine);
	return rc;
}

/* ---- the agent's start-up steps, each logging what went wrong ------------------------- */

/* The directory holding path, malloc'd. */
static char *parent_dir(const char *path)
{
	char *copy = xstrdup(path), *d = xstrdup(dirname(copy));

	free(copy);
	return d;
}

/* The directories the agent writes in after start-up: BIRD state files, the drains and
 * the metrics file (NULL where unset); with_control adds the control socket's. */
static size_t write_dirs(const struct agent_conf *conf, bool with_control, char *dirs[4])
{
	size_t n = 0;

	if (with_control)
		dirs[n++] = parent_dir(conf->control.socket);
	dirs[n++] = xstrdup(conf->bird.state_dir);
	dirs[n++] = parent_dir(conf->state_file);
	if (conf->metrics_file != NULL)
		dirs[n++] = parent_dir(conf->metrics_file);
	return n;
}

static void free_dirs(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
}

int priv_prepare(const struct agent_conf *conf, const char *conf_path, bool dry_run,
                 struct priv_plan *p)
{
	char *err = NULL, *dirs[4];
	size_t n;
	int rc;

	if (priv_plan(conf->user, conf->exec_user, geteuid(), p, &err) < 0) {
		log_warnx("%s: %s", conf_path, err);
		free(err);
		return -1;
	}
	if (p->as_root)
		log_warnx("running as root: set user = \"anycast-agent\" (an unprivileged user in "
		          "group bird) in %s so the agent drops root once the exec helper runs; "
		          "exec checks run as root too unless exec_user is set",
		          conf_path);
	if (!p->drop)
		return 0;
	/* a dry run writes no state: it may share the real agent's directories */
	n = write_dirs(conf, true, dirs);
	rc = priv_make_dirs(p, (const char *const *)dirs, dry_run ? 1 : n, &err);
	free_dirs(dirs, n);
	if (rc < 0) {
		log_warnx("%s", err);
		free(err);
	}
	return rc;
}

static bool has_exec_checks(const struct agent_conf *conf)
{
	for (size_t i = 0; i < conf->nchecks; i++)
		if (conf->checks[i].type == CHECK_EXEC)
			return true;
	return false;
}

void priv_warn_plugins_as_agent(const struct agent_conf *conf, const struct priv_plan *p,
                                bool *warned)
{
	if (!p->exec.as_agent || *warned || !has_exec_checks(conf))
		return;
	*warned = true;
	log_warnx("not started as root: exec checks (plugins) run as the agent itself (%s) with "
	          "all its rights, BIRD's socket and bird.state_dir included; start it as root "
	          "with user set (the shipped unit does) so they run as exec_user",
	          p->name);
}

int priv_start_helper(struct uv_loop_s *loop, const struct priv_plan *p, struct exec_helper **out)
{
	char *err = NULL;

	*out = NULL;
	if (!p->exec.helper)
		return 0;
	/* a fresh image of this very binary: none of this process's memory or loop */
	*out = exec_helper_spawn(loop, "/proc/self/exe", p->exec.name, true, p->exec.uid,
	                         p->exec.gid, &err);
	if (*out == NULL) {
		log_warnx("%s", err);
		free(err);
		return -1;
	}
	return 0;
}

int priv_verify_helper(const struct agent_conf *conf, const char *conf_path,
                       const struct priv_plan *p, struct exec_helper *h)
{
	char *err = NULL;

	if (h == NULL)
		return 0;
	if (priv_verify_plugins(conf, p, h, &err) < 0) {
		for (char *save = NULL, *line = strtok_r(err, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			log_warnx("%s: %s", conf_path, line);
		log_warnx("refusing to start: plugins would hold the agent's authority");
		free(err);
		return -1;
	}
	log_notice("exec checks run as %s%s (uid %u, gid %u) in the exec helper, pid %d",
	           p->exec.name, p->exec.is_default ? " (exec_user's default)" : "",
	           (unsigned)p->exec.uid, (unsigned)p->exec.gid, exec_helper_pid(h));
	return 0;
}

int priv_drop_logged(const struct priv_plan *p)
{
	char *err = NULL;

	if (priv_drop(p, &err) < 0) {
		log_warnx("%s", err);
		free(err);
		return -1;
	}
	if (p->drop)
		log_notice("dropped root: running as user %s (uid %u, gid %u) with its groups",
		           p->name, (unsigned)p->uid, (unsigned)p->gid);
	return 0;
}

void priv_warn_access(const struct agent_conf *conf, const struct priv_plan *p, bool dry_run)
{
	char *dirs[4];
	size_t n;

	priv_warn_bird_access(conf, p->name);
	if (dry_run)
		return;
	n = write_dirs(conf, false, dirs);
	priv_warn_unwritable((const char *const *)dirs, n, p->name);
	free_dirs(dirs, n);
}
