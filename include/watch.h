/* SPDX-License-Identifier: ISC */
/*
 * watch.h - death watches: the agent learns the moment the thing that serves
 * a check goes away, from the kernel (or from systemd), instead of at the
 * check's next probe (watch.c).
 *
 * Owns: the kernel and bus handles the watches share (one inotify instance,
 * one NETLINK_SOCK_DIAG socket, one system bus connection) and each watch's
 * view of its target. A watch only reports: its state (alive, dead,
 * unavailable) to its callback. What a death means is the engine's
 * (engine_check_death()); the agent wires the two.
 *
 * Kinds (the check keys of anycast-agent.conf(5)):
 *   watch_pidfile  the process whose pid the file holds: a pidfd polled on
 *                  the loop, the file re-read whenever its directory says it
 *                  was written, replaced or removed (inotify), and when the
 *                  process exits. Dead: the process exited and the file
 *                  names no other running process; or the file names no
 *                  running process (missing, empty, garbage, a stale pid).
 *                  A removed file alone is no death while its process runs.
 *   watch_unit     a systemd unit over systemd's D-Bus API (sd-bus): its
 *                  ActiveState and SubState, pushed by PropertiesChanged.
 *                  Alive: active, reloading, or deactivating while ExecStop=
 *                  runs (SubState "stop": the service may still serve, e.g.
 *                  while a drain in ExecStop= waits). Dead: everything else
 *                  (inactive, failed, activating, deactivating while systemd
 *                  kills it). Unavailable: no system bus, systemd not on it,
 *                  no such unit; the watch reconnects by itself.
 *   watch_listen   a listening TCP socket (or bound UDP socket) on
 *                  address:port, served by a socket bound to the address or
 *                  to the wildcard of its family (an IPv6 wildcard without
 *                  V6ONLY serves IPv4 too). The kernel's socket-destroy
 *                  notifications (sock_diag multicast groups, no capability
 *                  needed), filtered in the kernel by a BPF program to
 *                  unconnected sockets on the watched ports, wake the watch,
 *                  which then dumps the socket table (SOCK_DIAG_BY_FAMILY) to
 *                  see whether another socket still serves it. While dead,
 *                  the dump is repeated every WATCH_RETRY_S to see it back.
 *
 * States: STARTING (unit: the bus has not answered yet), ALIVE, DEAD,
 * UNAVAILABLE (the watch cannot see its target; the check keeps polling).
 * The callback gets every change of state, with the state before.
 */
#ifndef AA_WATCH_H
#define AA_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <uv.h>

#include "conf.h"

/* While dead (listen) or unavailable (no bus, a missing directory), look again this often. */
#define WATCH_RETRY_S 1.0
/* How long a lost or absent system bus waits before the next connection attempt. */
#define WATCH_BUS_RETRY_S 10.0

enum watch_kind { WATCH_PIDFILE, WATCH_UNIT, WATCH_LISTEN };
enum watch_state { WATCH_STARTING, WATCH_ALIVE, WATCH_DEAD, WATCH_UNAVAILABLE };

struct watch;
struct watch_env;

/* The state of w changed from old to watch_state(w). */
typedef void (*watch_cb)(struct watch *w, enum watch_state old, void *arg);

/* What status and --probe show of a watch. */
struct watch_info {
	enum watch_kind kind;
	const char *key;    /* "watch_pidfile", "watch_unit", "watch_listen" */
	const char *target; /* the path, the unit, "tcp:192.0.2.80:80" */
	enum watch_state state;
	const char *detail; /* one line: "pid 1234", "active (running)", "2 sockets" */
	double since;       /* mono time of the last change of state */
	unsigned long deaths;
};

struct watch_env *watch_env_new(uv_loop_t *loop);
/* Free every watch first; the handles are released by the loop. */
void watch_env_free(struct watch_env *env);

/*
 * One watch. target is the pidfile's path (WATCH_PIDFILE) or the unit's name (WATCH_UNIT);
 * listen the socket (WATCH_LISTEN). Copies what it needs. The first state is decided by
 * watch_start(), which may call cb at once (pidfile, listen) or later (unit).
 */
struct watch *watch_new(struct watch_env *env, enum watch_kind kind, const char *target,
                        const struct listen_ref *listen, watch_cb cb, void *arg);
void watch_start(struct watch *w);
/* cb is never called again; the memory goes once the loop has closed its handles. */
void watch_free(struct watch *w);

enum watch_state watch_state(const struct watch *w);
void watch_info(const struct watch *w, struct watch_info *out);
const char *watch_state_name(enum watch_state s);
const char *watch_key(enum watch_kind k);

/* --probe: the state now, decided at once (the unit over a blocking bus call of at most
 * timeout_s); detail gets the same line the running agent shows. */
enum watch_state watch_probe(enum watch_kind kind, const char *target,
                             const struct listen_ref *listen, double timeout_s, char *detail,
                             size_t len);

/* For the tests: how many sockets serve l now (sock_diag dump), or -errno. */
int watch_listen_count(const struct listen_ref *l);
/* For the tests: the unit rule, from ActiveState and SubState. */
enum watch_state watch_unit_rule(const char *active, const char *sub);

#endif
