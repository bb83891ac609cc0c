/* SPDX-License-Identifier: ISC */
/*
 * priv.h - least privilege: who the agent runs as, who its exec checks run
 * as, and the proof that a plugin holds none of the agent's authority.
 *
 * Owned by priv.c. Started as root with `user` set, the agent creates its
 * missing directories for that user, starts the exec helper as exec_user
 * (default PRIV_EXEC_USER_DEFAULT; exec_helper.h), then drops to the user for
 * good (initgroups + setresgid + setresuid, verified: no id, no capability
 * and no way back to root left); it opens its control socket, connects to
 * BIRD and writes files only afterwards. It then asks the helper who it is and
 * what it can write, and refuses to start unless a plugin has another uid,
 * neither BIRD's group nor any group of the agent or control.admin_group, and
 * no write access to bird.state_dir, the directories of state_file, the
 * control socket and metrics_file, or BIRD's sockets (priv_judge_plugins).
 * Started as root without `user`, it stays root (warned) and plugins run as
 * exec_user through the helper when it is set, else as root. Started
 * unprivileged, no helper is possible: plugins run as the agent (warned).
 */
#ifndef AA_PRIV_H
#define AA_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "conf.h"

/* exec_user when it is not set and the agent drops root to `user`. */
#define PRIV_EXEC_USER_DEFAULT "anycast-plugin"

/* Who exec checks run as. */
struct priv_exec {
	bool helper;     /* through the exec helper, as name (uid, gid): the agent starts as root */
	bool as_agent;   /* as the agent itself, which is not root: no helper possible (warned) */
	bool is_default; /* name is PRIV_EXEC_USER_DEFAULT: exec_user is not set */
	char *name;      /* with helper (malloc'd) */
	uid_t uid;
	gid_t gid;
};

/* What the agent does with its identity at start-up. */
struct priv_plan {
	bool root_start; /* started with euid 0 */
	bool drop;       /* switch to user after the helper is started */
	bool as_root;    /* runs as root from start to end: the agent warns */
	char *name;      /* the user it runs as after start-up (malloc'd) */
	uid_t uid;       /* ... and its ids */
	gid_t gid;
	struct priv_exec exec;
};

/*
 * Decide from the `user` and `exec_user` settings and the effective uid the agent was
 * started with. Refuses (-1, *err malloc'd) a user or exec_user that does not exist or cannot
 * be looked up, root as either, an exec_user that is the agent's own user, a user the agent
 * cannot switch to and an exec_user it cannot start plugins as (not started as root).
 */
int priv_plan(const char *user, const char *exec_user, uid_t euid, struct priv_plan *p, char **err);
void priv_plan_free(struct priv_plan *p);

/* A reload keeps the plugins' identity (the helper cannot change it): -1 with *err when the
 * new settings would need another one. */
int priv_reload_check(const struct priv_plan *p, const char *user, const char *exec_user,
                      char **err);

/*
 * Create the missing directories among dirs (and their missing parents), mode 0755, owned by
 * the plan's user. Existing directories are left alone; one that root may not create (the
 * unit's sandbox: no CAP_DAC_OVERRIDE) is left to the dropped agent. -1 with *err.
 */
int priv_make_dirs(const struct priv_plan *p, const char *const *dirs, size_t n, char **err);

/* Become the plan's user for good: supplementary groups of the user (initgroups), then
 * setresgid and setresuid, then verify every id, that no capability is left and that root
 * cannot be regained. Nothing without a drop. -1 with *err: the agent must not go on. */
int priv_drop(const struct priv_plan *p, char **err);

/* Log a warning for every directory of dirs the agent (running as user who) cannot write
 * in (the decisions, drains or metrics kept there would not be saved). Returns how many. */
size_t priv_warn_unwritable(const char *const *dirs, size_t n, const char *who);
/* Warn about each existing BIRD socket the agent cannot connect to, naming its group. */
size_t priv_warn_bird_access(const struct agent_conf *conf, const char *who);

/* ---- the proof that plugins hold none of the agent's authority ------------------------ */

/* A path a plugin must not write in, and what writing there would let it do. */
struct priv_guard {
	char *what;  /* "bird.state_dir (/var/lib/...)" */
	char *harm;  /* "inject BIRD configuration ..." */
	char *fix;   /* "make it writable by the agent's user only" */
	char *path;  /* what the helper is asked about: the path, or its nearest existing parent */
	bool parent; /* path is that parent: the configured one does not exist yet */
};

/* The paths of conf a plugin must not write: n entries (free with priv_guards_free). */
struct priv_guard *priv_guards(const struct agent_conf *conf, size_t *n);
void priv_guards_free(struct priv_guard *g, size_t n);

/* Everything the judgement needs; the plugin's side comes from the helper itself. */
struct priv_judge_in {
	const char *exec_user;
	const char *agent_user;
	uid_t agent_uid;
	const gid_t *agent_gids; /* the agent's primary and supplementary groups */
	size_t nagent_gids;
	const gid_t *bird_gids; /* the group of each existing BIRD socket */
	const char *const *bird_sockets;
	size_t nbird;
	bool has_admin_gid;
	gid_t admin_gid;
	const struct priv_guard *guards;
	size_t nguards;
	/* the helper's FACTS */
	uid_t uid, euid;
	gid_t gid, egid;
	const gid_t *groups;
	size_t ngroups;
	const int *access; /* per guard: 0 writable */
};

/* 0 when a plugin holds none of the agent's authority; else -1 and *err (malloc'd) with one
 * line per violation, each naming exec_user and what to change. Pure. */
int priv_judge_plugins(const struct priv_judge_in *in, char **err);

struct exec_helper;
/* Ask the running helper and judge, for conf and the agent as it runs now (after the drop).
 * 0, or -1 with *err. */
int priv_verify_plugins(const struct agent_conf *conf, const struct priv_plan *p,
                        struct exec_helper *h, char **err);

/* ---- the agent's start-up steps: each logs what went wrong -------------------------- */

/* Decide who the agent runs as (priv_plan into *p); with a drop ahead, make its directories
 * its own (only the control socket's on a dry run, which writes no state). -1: do not start. */
int priv_prepare(const struct agent_conf *conf, const char *conf_path, bool dry_run,
                 struct priv_plan *p);
/* While still root: the helper that runs the plugins as exec_user (*out; NULL when the plan
 * has none). -1: do not start. */
struct uv_loop_s;
int priv_start_helper(struct uv_loop_s *loop, const struct priv_plan *p, struct exec_helper **out);
/* Become the plan's user for good (priv_drop) and say so. -1: do not start. */
int priv_drop_logged(const struct priv_plan *p);
/* Ask helper h (none: nothing to do) who it is and what it can write; -1 (refuse to start)
 * unless a plugin holds none of the agent's authority. */
int priv_verify_helper(const struct agent_conf *conf, const char *conf_path,
                       const struct priv_plan *p, struct exec_helper *h);
/* An agent that is not root at start cannot separate its plugins: said once (*warned). */
void priv_warn_plugins_as_agent(const struct agent_conf *conf, const struct priv_plan *p,
                                bool *warned);
/* Warn about BIRD sockets and directories the running agent cannot use (not on a dry run). */
void priv_warn_access(const struct agent_conf *conf, const struct priv_plan *p, bool dry_run);

#endif
