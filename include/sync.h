/* SPDX-License-Identifier: ISC */
/*
 * sync.h - keeps BIRD's real state equal to the engine's decision.
 *
 * Owns: the decision files (<bird.state_dir>/<protocol>.conf, holding the
 * agent's `description` and `disabled yes;` or `disabled no;`, which
 * bird.conf includes inside the protocol block, so `birdc configure` and a
 * BIRD restart keep the decision of this boot), what each protocol should
 * be, what BIRD last said of it, and the reconcile cycle per BIRD socket:
 * on connect, after every change and at every sync_tick() it reads `show
 * protocols`, enables what should be up, then disables what should be down
 * (make-before-break; the variant upstream prefers least first: drain,
 * degraded, normal), and logs and counts each drift it corrects. It
 * decides nothing: what each protocol should be comes from the engine
 * through sync_want(). It talks to BIRD through struct sync_bird_ops (bird.c's
 * client in the daemon, a simulated BIRD in tests) and keeps no timers: the
 * caller calls sync_tick() every bird.reconcile_interval.
 *
 * Rules that keep a prefix from being announced with nothing behind it:
 *   - SYNC_KEEP (an announcement adopted at start, before its checks decide)
 *     keeps a protocol only if this boot's decision file says `disabled no;`
 *     (the previous agent of this boot announced it); anything else (no file:
 *     a reboot emptied the runtime directory; `disabled yes;`; a foreign
 *     file) is disabled. Nothing is ever enabled before a check passed.
 *   - A protocol that leaves the configuration (reload), or whose decision
 *     file is found at start without being configured, is an orphan: its file
 *     says `disabled yes;` and it is disabled in BIRD (on every socket when
 *     the socket is unknown) until BIRD confirms, then forgotten.
 *   - Make-before-break: a protocol is disabled only once every protocol of
 *     the same announcement on the same socket that should be enabled is
 *     enabled in BIRD: switching variants never leaves none of them carried,
 *     even when the wants change mid-cycle or the agent restarted mid-switch
 *     (KEEP of what this boot announced counts). A variant BIRD does not have
 *     cannot take over, so the old one stays (reported as out of sync), except
 *     for a missing drain variant: a drain withdraws.
 *   - A decision file changed or removed behind the agent's back is rewritten
 *     at the next sync_tick(); files and directories get explicit modes (0644,
 *     0755): BIRD (user bird) must read them whatever the agent's umask.
 *   - <bird.state_dir>/bird-sockets names BIRD's sockets for a withdraw without a loadable
 *     configuration (SYNC_SOCKETS_FILE).
 *   - Include check: `show protocols all NAME` must show the description the
 *     decision file carries, i.e. BIRD read this very file inside this very
 *     protocol (sync_proto_status().include). It sees what BIRD has loaded,
 *     not a bird.conf edited since.
 */
#ifndef AA_SYNC_H
#define AA_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include "bird.h"
#include "conf.h"

enum sync_want { SYNC_KEEP, SYNC_ENABLED, SYNC_DISABLED };

/* What BIRD last said of a protocol. */
enum sync_actual {
	SYNC_ACTUAL_UNKNOWN,
	SYNC_ACTUAL_ENABLED,
	SYNC_ACTUAL_DISABLED,
	SYNC_ACTUAL_MISSING
};

/* What `show protocols all NAME` says of the decision file's include. */
enum sync_include {
	SYNC_INCLUDE_UNKNOWN, /* not asked yet (or BIRD not connected) */
	SYNC_INCLUDE_OK,      /* BIRD shows this file's description: it read it inside NAME */
	SYNC_INCLUDE_MISSING, /* no description: bird.conf does not include the file there (or
	                         BIRD has not read it since it was created) */
	SYNC_INCLUDE_OTHER,   /* another description: another file, or the operator's own */
};

/* How sync reaches BIRD. The daemon uses sync_bird_client_ops (bird.c); a test passes its own.
 * As with bird.c: a command that returns BIRD_OK gets its callback exactly once, later, never
 * from inside the call; open() never calls back from inside; close() runs every pending
 * callback (BIRD_DISCONNECTED) before it returns. bird is what open() returned. */
struct sync_bird_ops {
	void *(*open)(void *ops_arg, const struct bird_socket_conf *sc, double timeout,
	              const struct bird_client_cbs *cbs, void *cb_arg);
	void (*close)(void *bird);
	enum bird_status (*enable)(void *bird, const char *proto, bird_done_cb cb, void *arg);
	enum bird_status (*disable)(void *bird, const char *proto, const char *message,
	                            bird_done_cb cb, void *arg);
	enum bird_status (*show)(void *bird, const char *name, bool all, bird_show_cb cb,
	                         void *arg);
	enum bird_status (*show_route)(void *bird, const char *prefix, bird_route_cb cb, void *arg);
};
/* bird.c's client; ops_arg is the uv_loop_t. */
extern const struct sync_bird_ops sync_bird_client_ops;

struct sync;

struct sync_proto_status {
	const char *name;
	const char *socket;
	enum sync_want want;
	enum sync_actual actual;
	const char *bird_state; /* BIRD's state column, "" if unknown */
	bool in_sync;           /* actual matches want (keep counts as in sync) */
	bool orphan;            /* no longer configured: being disabled */
	unsigned long corrections;
	bool file_ok;   /* false while its decision file cannot be written (retried each tick) */
	int file_state; /* what its decision file says: 1 enabled, 0 disabled, -1 unknown */
	enum sync_include include;
	const char *bird_description; /* what BIRD shows, "" if none */
};

struct sync_status {
	size_t sockets, sockets_connected;
	bool in_sync; /* every socket connected and every protocol as wanted */
	unsigned long corrections, command_errors, file_errors, files_restored;
	size_t include_problems; /* protocols with include MISSING or OTHER */
};

/* dry_run: log "would enable/disable", write no decision file, send only `show` commands. */
struct sync *sync_new(const struct agent_conf *conf, bool dry_run, const struct sync_bird_ops *ops,
                      void *ops_arg);
/*
 * Read the decision files before anything is decided: a missing one is
 * created `disabled yes;` (fail closed), one that says `disabled no;` lets
 * SYNC_KEEP keep its protocol; files of protocols that are not configured
 * make orphans. Then connect to every BIRD socket. Returns -1 if the state
 * directory is unusable (the reason is logged).
 */
int sync_start(struct sync *s);
/* What protocol `name`'s decision file said at start (or was written since): 1 enabled, 0
 * disabled, -1 unknown or missing. */
int sync_decision(const struct sync *s, const char *name);
/* Set what protocol `name` should be. message goes with a disable (shown by `birdc show
 * protocols all`). Writes the decision file at once, then a sync_kick() applies it. Unknown
 * names are ignored (the config validated them). */
void sync_want(struct sync *s, const char *name, enum sync_want want, const char *message);
/* Reconcile every socket now (after a batch of sync_want calls). */
void sync_kick(struct sync *s);
/* Every bird.reconcile_interval: rewrite decision files that failed or were changed behind
 * the agent's back, reconcile, check one include per socket. */
void sync_tick(struct sync *s);
/* Call cb(true) once every wanted state is confirmed by BIRD (checked after each cycle);
 * sync_flush_cancel() calls it with false (the caller's timeout). One flush at a time. */
void sync_flush(struct sync *s, void (*cb)(bool ok, void *arg), void *arg);
void sync_flush_cancel(struct sync *s);
/* Want every protocol (orphans included) disabled with message. */
void sync_withdraw_all(struct sync *s, const char *message);
/* Switch to a new config: protocols that remain keep their want and BIRD's state; protocols
 * that left become orphans. */
void sync_reload(struct sync *s, const struct agent_conf *conf);
void sync_status(const struct sync *s, struct sync_status *st);
/* Status of protocol i (0 <= i < sync_nprotos()); false past the end. */
size_t sync_nprotos(const struct sync *s);
bool sync_proto_status(const struct sync *s, size_t i, struct sync_proto_status *st);
/* The BIRD sockets open now, and the BIRD handle of each (a struct bird_client * with
 * sync_bird_client_ops); NULL past the end. */
size_t sync_nsockets(const struct sync *s);
void *sync_bird(const struct sync *s, size_t socket);
bool sync_connected(const struct sync *s, size_t socket);
/* Close the BIRD clients (bird.c's client releases its memory once the loop runs). */
void sync_free(struct sync *s);

/* <bird.state_dir>/bird-sockets: the bird section of the configuration the agent last started
 * or reloaded with (sync_start(), sync_reload() and --init write it), so that --withdraw-all
 * reaches BIRD when the configuration no longer loads. */
#define SYNC_SOCKETS_FILE "bird-sockets"
int sync_write_sockets_file(const struct agent_conf *conf);

/* The text a decision file for protocol name in dir holds (malloc'd). */
char *sync_decision_text(const char *dir, const char *name, bool enabled);
/* The description it carries, which `show protocols all` shows once BIRD read it. */
void sync_decision_description(char *buf, size_t len, const char *dir, const char *name);
/* What a decision file's bytes say: 1 `disabled no;`, 0 `disabled yes;`, -1 anything else
 * (a file the agent did not write). Pure. */
int sync_decision_parse(const char *buf, size_t len);

/* The last-site guard's reports (guard.h): announcement is an index into conf->announcements. */
typedef void (*sync_paths_fn)(size_t announcement, bool others_exist, void *arg);
void sync_set_paths_cb(struct sync *s, sync_paths_fn fn, void *arg);
/* Ask now (the daemon calls it every reconcile_interval). */
void sync_guard_poll(struct sync *s);

const char *sync_want_name(enum sync_want w);
const char *sync_actual_name(enum sync_actual a);
const char *sync_include_name(enum sync_include i);

#endif
