/*
 * sync.h - keeps BIRD's real state equal to the engine's decision.
 *
 * Owns: one BIRD client per configured socket, the durable state files
 * (<bird.state_dir>/<protocol>.conf holding `disabled yes;` or
 * `disabled no;`, which bird.conf includes inside the protocol block, so
 * `birdc configure` and a BIRD restart keep the last decision), and the
 * reconcile cycle: on connect, after every change and every
 * reconcile_interval it reads `show protocols`, corrects every difference
 * (enables first, then disables: make-before-break), and logs and counts
 * each drift it corrects. It decides nothing: what each protocol should be
 * comes from the engine through sync_want().
 */
#ifndef AA_SYNC_H
#define AA_SYNC_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "bird.h"
#include "conf.h"

enum sync_want { SYNC_UNTOUCHED, SYNC_ENABLED, SYNC_DISABLED };

/* What BIRD last said of a protocol. */
enum sync_actual {
	SYNC_ACTUAL_UNKNOWN,
	SYNC_ACTUAL_ENABLED,
	SYNC_ACTUAL_DISABLED,
	SYNC_ACTUAL_MISSING
};

struct sync;

struct sync_proto_status {
	const char *name;
	const char *socket;
	enum sync_want want;
	enum sync_actual actual;
	const char *bird_state; /* BIRD's state column, "" if unknown */
	bool in_sync;           /* actual matches want (untouched counts as in sync) */
	unsigned long corrections;
	bool file_ok; /* false while its state file cannot be written (retried each reconcile) */
};

struct sync_status {
	size_t sockets, sockets_connected;
	bool in_sync; /* every socket connected and every protocol as wanted */
	unsigned long corrections, command_errors, file_errors;
};

/* dry_run: log "would enable/disable", write no state file, send only `show` commands. */
struct sync *sync_new(uv_loop_t *loop, const struct agent_conf *conf, bool dry_run);
/*
 * Make sure every state file exists before BIRD reads it: a missing one is
 * created `disabled yes;` (fail closed on a fresh host); an existing one is
 * left as it is (a restarted agent adopts what it decided before). Then
 * connect to every BIRD socket. Returns -1 if the state directory is
 * unusable (the reason is logged).
 */
int sync_start(struct sync *s);
/* Set what protocol `name` should be. message goes with a disable (shown by
 * `birdc show protocols all`). Writes the state file at once, then queues a
 * reconcile. Unknown names are ignored (the config validated them). */
void sync_want(struct sync *s, const char *name, enum sync_want want, const char *message);
/* Reconcile every socket now (after a batch of sync_want calls). */
void sync_kick(struct sync *s);
/* Call cb(ok) once every wanted state is confirmed by BIRD, or with ok = false after
 * timeout_s. Used to withdraw before exiting. */
void sync_flush(struct sync *s, double timeout_s, void (*cb)(bool ok, void *arg), void *arg);
/* Switch to a new config (same or different protocols); keeps the wants of protocols that
 * remain. */
void sync_reload(struct sync *s, const struct agent_conf *conf);
void sync_status(const struct sync *s, struct sync_status *st);
/* Status of protocol i (0 <= i < sync_nprotos()); false past the end. */
size_t sync_nprotos(const struct sync *s);
bool sync_proto_status(const struct sync *s, size_t i, struct sync_proto_status *st);
struct bird_client *sync_bird(const struct sync *s, size_t socket);
/* Close the BIRD clients; uv_run afterwards releases the memory. */
void sync_free(struct sync *s);

/*
 * Last-site guard. Every reconcile_interval, for each announcement with last_site_guard, the
 * sync layer asks `show route for PREFIX all` for each of its prefixes on each BIRD socket its
 * protocols use, and reports whether another path exists: every prefix has at least one route
 * that is neither from a protocol the agent toggles nor local to this router
 * (sync_route_is_other_path()), e.g. one learned over iBGP from another PoP. A round with a
 * failed query (timeout, BIRD gone) reports nothing, so the engine's observation goes stale and
 * the guard lets the withdraw happen; a socket that rejects the prefix (BIRD 1.6's IPv4 daemon
 * and an IPv6 prefix) is skipped. announcement is an index into conf->announcements.
 */
typedef void (*sync_paths_fn)(size_t announcement, bool others_exist, void *arg);
void sync_set_paths_cb(struct sync *s, sync_paths_fn fn, void *arg);
/* True if r is another path: not from one of conf's announcement protocols (any role) and not
 * a route of this router itself (origin static, static-device, device, inherit - kernel - or
 * none: bird_route.origin, whatever the BIRD version). */
bool sync_route_is_other_path(const struct agent_conf *conf, const struct bird_route *r);

const char *sync_want_name(enum sync_want w);
const char *sync_actual_name(enum sync_actual a);

#endif
