/* SPDX-License-Identifier: ISC */
/*
 * state.h - persistent operator state: the drains (announcement, reason,
 * who, uid, since, until) and the flap-damping penalties that must survive a
 * restart, SIGKILL or reboot (upstream routers do not forget a flap because
 * this PoP rebooted).
 *
 * Owns the state file (conf->state_file): JSON written atomically (tmp,
 * fsync, rename, fsync of the directory) on every change, read tolerantly at
 * start:
 *   {"version":1,"drains":{"web":{"reason":"maintenance","who":"alice","uid":1000,
 *                                 "since":1700000000.5,"until":null}},
 *    "damping":{"web":{"penalty":2500.0,"at":1700000100.0,"suppressed":true}}}
 * ("damping" is optional; an agent that does not know it ignores it).
 * Times are wall-clock epoch seconds (a monotonic clock does not survive a
 * reboot); until null = until undrained.
 *
 * Decisions:
 *   - a missing file is "nothing drained" (a fresh host);
 *   - a drain whose until has passed is dropped at load (logged);
 *   - a file that does not parse (corrupted, truncated, empty, wrong shape) is
 *     reported (load_error) and fails safe: every configured announcement
 *     whose name appears in its raw bytes is drained; when the file was cut
 *     short (it lacks the "}\n" every write ends with) every configured
 *     announcement is drained, as the lost tail may have named any of them. Its bytes are kept in
 *     <state_file>.corrupt for the operator. Such drains last until an operator
 *     undrains them;
 *   - drains of announcements that are no longer configured stay in the file:
 *     the announcement may come back with a reload or the next release, and an
 *     operator's drain must not vanish because of a config edit;
 *   - a failed write (full filesystem, read-only, ...) is logged and reported;
 *     the caller keeps the drain in memory and BIRD regardless, and the old
 *     file stays whole (atomic_write_file leaves no truncated file).
 */
#ifndef AA_STATE_H
#define AA_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "control_proto.h"

#define STATE_VERSION 1
#define STATE_WHO_MAX 64

struct state_drain {
	char *name;
	char reason[CONTROL_REASON_MAX + 1]; /* as the control socket takes it */
	char who[STATE_WHO_MAX];
	long uid;     /* -1: unknown (e.g. a fail-safe drain) */
	double since; /* wall epoch */
	double until; /* wall epoch; INFINITY: until undrained */
};

/* A damping penalty as of wall-clock time at, and whether it was suppressed. */
struct state_penalty {
	char *name;
	double penalty;
	double at;
	bool suppressed;
};

struct state {
	char *path;
	struct state_drain *drains;
	size_t ndrains;
	struct state_penalty *penalties;
	size_t npenalties;
	bool corrupt; /* the last load found a corrupted file */
	char load_error[256];
	bool save_failed; /* the last write failed */
	char save_error[256];
	unsigned long saves, save_failures;
};

enum state_load_result { STATE_LOADED, STATE_MISSING, STATE_CORRUPT, STATE_UNREADABLE };

struct state *state_new(const char *path);
void state_free(struct state *s);

/*
 * Read the file. names: the configured announcements (for the fail-safe
 * rule). now: wall clock. Expired drains are dropped (logged). A corrupted file
 * gives STATE_CORRUPT with the fail-safe drains in s (and is copied aside); an
 * unreadable one (EACCES, EIO) STATE_UNREADABLE with every configured
 * announcement drained (the same fail-safe: we cannot know).
 */
enum state_load_result state_load(struct state *s, const char *const *names, size_t nnames,
                                  double now);
/* Write the file now. -1 on failure (s->save_error says why; logged). */
int state_save(struct state *s);

/* Parse a state file's bytes (pure; for state_load, tests and fuzzing). 0 on success with
 * out and n filled (expired entries kept); -1 with err on a bad file, *truncated set when the
 * JSON ended early. */
int state_parse(const char *buf, size_t len, struct state_drain **out, size_t *n, bool *truncated,
                char *err, size_t errlen);
/* The file's bytes for the drains (malloc'd, NUL-terminated). */
char *state_format(const struct state_drain *d, size_t n);

const struct state_drain *state_find(const struct state *s, const char *name);
/* Add or replace a drain; true if anything changed. */
bool state_set(struct state *s, const char *name, const char *reason, const char *who, long uid,
               double since, double until);
/* True if there was one. */
bool state_remove(struct state *s, const char *name);
/* The penalty of an announcement as of wall time at; 0 removes it. True if anything changed. */
bool state_set_penalty(struct state *s, const char *name, double penalty, bool suppressed,
                       double at);
const struct state_penalty *state_find_penalty(const struct state *s, const char *name);
/* Parse the "damping" member of a state file's bytes (pure; entries that do not parse are
 * skipped). Returns how many it found, in *out (malloc'd). */
size_t state_parse_damping(const char *buf, size_t len, struct state_penalty **out);
void state_drains_free(struct state_drain *d, size_t n);

#endif
