/*
 * priv.h - least privilege: who the agent runs as and who its exec checks
 * run as.
 *
 * Owned by priv.c. The agent started as root with `user` set opens its
 * control socket, creates its missing directories for that user, then drops
 * to the user for good (initgroups + setresgid + setresuid, verified); it
 * connects to BIRD only afterwards. A plugin runs as `exec_user`, which only
 * a root agent can switch to, so with `user` set it runs as `user`.
 */
#ifndef AA_PRIV_H
#define AA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The identity exec checks are spawned with. */
struct priv_exec {
	bool setid; /* spawn with uid/gid (UV_PROCESS_SETUID|SETGID); false: as the agent */
	uid_t uid;
	gid_t gid;
};

/* What the agent does with its identity at start-up. */
struct priv_plan {
	bool drop;    /* switch to user after the control socket is open */
	bool as_root; /* runs as root from start to end: the agent warns */
	char *name;   /* the user it runs as after start-up (malloc'd) */
	uid_t uid;    /* ... and its ids */
	gid_t gid;
	struct priv_exec exec; /* exec checks, as seen after the drop */
};

/*
 * The identity an exec check runs as when the agent runs with effective uid euid:
 * exec_user NULL, or exec_user being the agent's own user, spawns as the agent; another
 * user needs euid 0. Returns 0, or -1 with the reason for an operator in err.
 */
int priv_exec_identity(const char *exec_user, uid_t euid, struct priv_exec *out, char *err,
                       size_t errlen);

/*
 * Decide from the `user` and `exec_user` settings and the effective uid the agent was
 * started with. Refuses (-1, *err malloc'd) a user that does not exist, a user the agent
 * cannot switch to (not root), root as user, and an exec_user the agent will not be able
 * to switch to once it runs as user.
 */
int priv_plan(const char *user, const char *exec_user, uid_t euid, struct priv_plan *p, char **err);
void priv_plan_free(struct priv_plan *p);

/*
 * Create the missing directories among dirs (and their missing parents), mode 0755; with
 * a drop planned, the ones created here are given to the plan's user and group, so the
 * dropped agent can write in them. Existing directories are left alone. -1 with *err.
 */
int priv_make_dirs(const struct priv_plan *p, const char *const *dirs, size_t n, char **err);

/*
 * Give the just-created socket at path to the plan's user (and its group, when group is
 * true): a dropped agent owns its control socket. Nothing without a drop. -1 with *err.
 */
int priv_chown_socket(const struct priv_plan *p, const char *path, bool group, char **err);

/* Become the plan's user for good: supplementary groups of the user (initgroups), then
 * setresgid and setresuid, then verify every id and that root cannot be regained.
 * Nothing without a drop. -1 with *err: the agent must not go on. */
int priv_drop(const struct priv_plan *p, char **err);

/* Log a warning for every directory of dirs the agent (running as user who) cannot write
 * in (the decisions, drains or metrics kept there would not be saved). Returns how many. */
size_t priv_warn_unwritable(const char *const *dirs, size_t n, const char *who);

#endif
