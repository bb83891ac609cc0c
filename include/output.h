/* SPDX-License-Identifier: ISC */
/*
 * output.h - renderers of one status snapshot (status.h, "version": 1): a Nagios plugin report, a
 * table for people and the pretty-printed JSON. Shared by anycastctl and the daemon (sd_notify
 * STATUS uses the Nagios summary).
 *
 * Every renderer accepts any json_t: a missing or mistyped member reads as
 * absent, never as a crash; the Nagios renderer reports a snapshot it does not
 * understand as CRITICAL.
 */
#ifndef AA_OUTPUT_H
#define AA_OUTPUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Plugin exit codes (Nagios plugin guidelines). */
enum nagios_state { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

/* The snapshot version these renderers understand. */
#define SNAPSHOT_VERSION 1
/* The first line of a plugin report, '\n' included, fits this (NRPE <= 2.15 keeps 1 KiB). */
#define NAGIOS_FIRST_LINE_MAX 1024
/* Service name at the start of the first line. */
#define NAGIOS_SERVICE "ANYCAST"

/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *nagios_state_name(int state);

/*
 * Evaluate the snapshot (worst finding wins, see anycastctl(8)) and write the
 * summary of the first line, without "ANYCAST STATE - " and without perfdata,
 * truncated to fit len. Returns the state. now: wall-clock epoch seconds
 * (for "ends in 55m").
 */
int nagios_summary(const json_t *snap, double now, char *buf, size_t len);
/*
 * The same summary, fed one check at a time so that a caller with many checks
 * never holds them all as JSON at once: begin with a snapshot whose "checks"
 * are left out (or empty), pass each check object (as in "checks"), then end,
 * which writes the summary as nagios_summary() would and frees the evaluation.
 */
struct nagios_eval;
struct nagios_eval *nagios_eval_begin(const json_t *snap, double now);
void nagios_eval_check(struct nagios_eval *ev, const json_t *chk);
int nagios_eval_end(struct nagios_eval *ev, char *buf, size_t len);

/*
 * The full plugin report: first line `ANYCAST STATE - summary | perfdata`
 * (at most NAGIOS_FIRST_LINE_MAX bytes), then one long-output line per BIRD
 * socket, announcement and check; perfdata that does not fit the first line
 * follows the long output after '|'. Returns the state (the exit code).
 */
int output_nagios(const json_t *snap, double now, FILE *out);

/* A report without a snapshot (agent not answering...): `ANYCAST STATE - text`.
 * Returns state. */
int output_nagios_message(FILE *out, int state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Tables for people: agent, BIRD, announcements, checks. */
void output_text(const json_t *snap, double now, FILE *out);

/* The snapshot, pretty-printed, with a final newline. Returns 0, or -1 on a write error. */
int output_json(const json_t *snap, FILE *out);

/* "45s", "3m12s", "2h3m", "4d2h" (rounded down); "-" for a negative or non-finite value. */
void output_duration(char *buf, size_t len, double secs);

/* Typed reads that treat a missing or mistyped member as the default. */
const char *snap_str(const json_t *obj, const char *key, const char *def);
double snap_num(const json_t *obj, const char *key, double def);
bool snap_bool(const json_t *obj, const char *key, bool def);
/* An array member, or an empty array (never NULL; not to be decref'd). */
const json_t *snap_array(const json_t *obj, const char *key);
/* An object member, or NULL. */
const json_t *snap_object(const json_t *obj, const char *key);

/* What the announcement's "next_change" means, for people: "hold-down ends in 7s" (WITHDRAWN),
 * "damping reuse in 3m0s" (SUPPRESSED), "withdrawn in 20s" (DRAINING); "" when it has none. */
void snap_next_change(char *buf, size_t len, const json_t *ann, double now);
/* True if the announcement's route is carried now: ANNOUNCED, DEGRADED, DRAINING, or a
 * withdraw held back by the last-site guard. */
bool snap_announced(const json_t *ann);

#endif
