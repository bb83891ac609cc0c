/* SPDX-License-Identifier: ISC */
/*
 * log.h - logging for the daemon and its tools.
 *
 * Owns: where log lines go (stderr for -d and journald, or syslog), the
 * per-subsystem debug switches, and the fatal()/fatalx() exits.
 * log_warn() appends strerror(errno); log_warnx() does not (relayd style).
 */
#ifndef AA_LOG_H
#define AA_LOG_H

#include <stdarg.h>

enum log_subsys { LOG_SUB_MAIN = 0, LOG_SUB_BIRD, LOG_SUB_CHECK, LOG_SUB_CONTROL, LOG_SUB_COUNT };

/* to_stderr: 1 writes to stderr, 0 to syslog. */
void log_init(const char *progname, int to_stderr);
/* Send every line to fn instead (a test or a simulation); NULL restores the default. */
void log_set_sink(void (*fn)(int prio, const char *line, void *arg), void *arg);
/* Enable debug for a comma-separated list of subsystems ("all", "bird", ...).
 * Returns -1 and leaves the mask alone on an unknown name. */
int log_set_debug(const char *list);
int log_debug_enabled(enum log_subsys sub);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(enum log_subsys sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
