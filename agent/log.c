/* SPDX-License-Identifier: ISC */
/*
 * log.c - logging (see log.h). Lines go to stderr (foreground, journald)
 * or syslog; each is one line, so journald and grep see whole events.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_prog = "anycast-agent";
static int log_stderr = 1;
static unsigned debug_mask;
static void (*log_sink)(int prio, const char *line, void *arg);
static void *log_sink_arg;

static const char *const subsys_names[LOG_SUB_COUNT] = {
    [LOG_SUB_MAIN] = "main",
    [LOG_SUB_BIRD] = "bird",
    [LOG_SUB_CHECK] = "check",
    [LOG_SUB_CONTROL] = "control",
};

void log_init(const char *progname, int to_stderr)
{
	log_prog = progname;
	log_stderr = to_stderr;
	if (!to_stderr)
		openlog(progname, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_sink(void (*fn)(int prio, const char *line, void *arg), void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

int log_set_debug(const char *list)
{
	unsigned mask = 0;
	char *copy = strdup(list), *save = NULL;
	if (copy == NULL)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;
		if (strcmp(tok, "all") == 0) {
			mask = ~0u;
			continue;
		}
		for (i = 0; i < LOG_SUB_COUNT; i++)
			if (strcmp(tok, subsys_names[i]) == 0)
				break;
		if (i == LOG_SUB_COUNT) {
			free(copy);
			return -1;
		}
		mask |= 1u << i;
	}
	free(copy);
	debug_mask = mask;
	return 0;
}

int log_debug_enabled(enum log_subsys sub)
{
	return (debug_mask >> sub) & 1;
}

__attribute__((format(printf, 3, 0))) static void
vlog(int prio, const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char buf[2048];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* one event, one line: fold anything that would break it */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	if (log_sink != NULL) {
		char line[2300];
		snprintf(line, sizeof(line), "%s%s%s%s", prefix, buf, suffix ? ": " : "",
		         suffix ? suffix : "");
		log_sink(prio, line, log_sink_arg);
	} else if (log_stderr) {
		fprintf(stderr, "%s: %s%s%s%s\n", log_prog, prefix, buf, suffix ? ": " : "",
		        suffix ? suffix : "");
		fflush(stderr);
	} else {
		syslog(prio, "%s%s%s%s", prefix, buf, suffix ? ": " : "", suffix ? suffix : "");
	}
}

#define LOGFN(fn, prio, prefix, witherr)                                                           \
	void fn(const char *fmt, ...)                                                              \
	{                                                                                          \
		int saved = errno;                                                                 \
		va_list ap;                                                                        \
		va_start(ap, fmt);                                                                 \
		vlog(prio, prefix, fmt, ap, witherr ? strerror(saved) : NULL);                     \
		va_end(ap);                                                                        \
		errno = saved;                                                                     \
	}

LOGFN(log_info, LOG_INFO, "", 0)
LOGFN(log_notice, LOG_NOTICE, "", 0)
LOGFN(log_warn, LOG_WARNING, "warning: ", 1)
LOGFN(log_warnx, LOG_WARNING, "warning: ", 0)

void log_debug(enum log_subsys sub, const char *fmt, ...)
{
	char prefix[32];
	va_list ap;
	if (!log_debug_enabled(sub))
		return;
	snprintf(prefix, sizeof(prefix), "debug %s: ", subsys_names[sub]);
	va_start(ap, fmt);
	vlog(LOG_DEBUG, prefix, fmt, ap, NULL);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog(LOG_CRIT, "fatal: ", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
