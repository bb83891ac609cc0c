/* SPDX-License-Identifier: ISC */
/*
 * guard.h - the last-site guard's route observation. Every reconcile_interval
 * (guard_poll), for each announcement with last_site_guard, it asks `show route
 * for PREFIX all` for each of its prefixes on each BIRD socket its protocols
 * use, and reports whether another path exists: every prefix has at least one
 * route that is neither from a protocol the agent toggles nor local to this
 * router (guard_route_is_other_path()), e.g. one learned over iBGP from another
 * PoP. A round with a failed query (timeout, BIRD gone) reports nothing, so the
 * engine's observation goes stale and the guard lets the withdraw happen; a
 * socket that rejects the prefix (BIRD 1.6's IPv4 daemon and an IPv6 prefix) is
 * skipped.
 *
 * Owned by guard.c. It only observes: what the engine makes of a report is the
 * engine's. The sync layer holds one guard and lends it its BIRD sockets.
 */
#ifndef AA_GUARD_H
#define AA_GUARD_H

#include <stdbool.h>

#include "bird.h"
#include "conf.h"
#include "sync.h"

struct guard;

/* A guard asking through ops on the sockets of s. */
struct guard *guard_new(const struct sync *s, const struct sync_bird_ops *ops);
/* Call only after s closed its sockets: rounds under way end then. */
void guard_free(struct guard *g);
/* A (new) configuration: rounds of the previous one report nothing. */
void guard_reset(struct guard *g, const struct agent_conf *conf);
/* Reports go to fn (announcement is an index into conf->announcements); NULL: none. */
void guard_set_cb(struct guard *g, sync_paths_fn fn, void *arg);
/* Ask now, for every announcement with last_site_guard and no round under way. */
void guard_poll(struct guard *g);

/* True if r is another path: not from one of conf's announcement protocols (any role) and not
 * a route of this router itself (origin static, static-device, device, inherit - kernel - or
 * none: bird_route.origin, whatever the BIRD version). */
bool guard_route_is_other_path(const struct agent_conf *conf, const struct bird_route *r);

#endif
