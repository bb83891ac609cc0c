/* SPDX-License-Identifier: ISC */
/*
 * notify.h - the systemd notification protocol (sd_notify(3)) without libsystemd.
 *
 * Owns: one datagram per call to $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract socket), the state assignments the daemon sends (READY, STATUS,
 * RELOADING, STOPPING, WATCHDOG) and the watchdog interval from
 * $WATCHDOG_USEC / $WATCHDOG_PID. Without $NOTIFY_SOCKET (not run by
 * systemd, or Type= is not notify) every call is a silent no-op.
 *
 * Each call returns 1 when the datagram was sent, 0 when there is no
 * $NOTIFY_SOCKET, -1 on an error (errno set). The first failure after a
 * success is logged with log_warn(); repeats are logged at debug level only,
 * so a caller may ignore the result, even in a timer.
 *
 * Reload: systemd 252 has no Type=notify-reload; the unit reloads with
 * `kill -HUP $MAINPID`, and the agent still sends RELOADING=1 (with
 * MONOTONIC_USEC, which notify-reload in systemd >= 253 requires) before and
 * READY=1 after, so `systemctl reload` on a newer systemd waits for it.
 */
#ifndef AA_NOTIFY_H
#define AA_NOTIFY_H

#include <stdbool.h>

/* Longest STATUS= text sent; systemd reads one datagram of at most PIPE_BUF (4096) bytes. */
#define NOTIFY_STATUS_MAX 2048

/* True when $NOTIFY_SOCKET names a socket: systemd listens, the calls below send. */
bool notify_enabled(void);
/* "READY=1": start-up (or a reload) is complete. */
int notify_ready(void);
/* "STATUS=<text>": one line shown by `systemctl status`. Control characters (a newline would
 * start a new assignment) become spaces and invalid UTF-8 (systemd drops the whole status) '?';
 * text past NOTIFY_STATUS_MAX bytes is cut at a character boundary. */
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC in us>": a reload has begun. */
int notify_reloading(void);
/* "STOPPING=1": shutdown has begun (the withdraw may still take a while). */
int notify_stopping(void);
/* "WATCHDOG=1": the event loop is alive. */
int notify_watchdog(void);
/* Send any newline-separated assignments, as given. */
int notify_send(const char *msg);

/* Seconds between two WATCHDOG=1 (half of $WATCHDOG_USEC), or 0 when systemd expects none:
 * unset, unparsable or zero $WATCHDOG_USEC, or $WATCHDOG_PID naming another process. */
double notify_watchdog_interval(void);

#endif
