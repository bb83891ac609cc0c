/* SPDX-License-Identifier: ISC */
/*
 * notify.c - sd_notify(3) without libsystemd (see notify.h): one datagram per
 * call to $NOTIFY_SOCKET, the STATUS text made safe for systemd, and the
 * watchdog interval from $WATCHDOG_USEC.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

/* Set after a failure is logged, cleared by the next success: one warning per outage. */
static int notify_failing;

bool notify_enabled(void)
{
	const char *path = getenv("NOTIFY_SOCKET");

	return path != NULL && path[0] != '\0';
}

int notify_send(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen;
	socklen_t salen;
	ssize_t n;
	int fd, saved;

	if (path == NULL || path[0] == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
		errno = path[0] != '/' && path[0] != '@' ? EAFNOSUPPORT : ENAMETOOLONG;
		goto failed;
	}
	memcpy(sa.sun_path, path, plen);
	/* "@name" is abstract: a leading NUL, and the length says where the name ends */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto failed;
	n = sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	saved = errno;
	close(fd);
	errno = saved;
	if (n < 0)
		goto failed;
	notify_failing = 0;
	return 1;
failed:
	saved = errno;
	if (!notify_failing)
		log_warn("cannot notify systemd at NOTIFY_SOCKET=%s (systemd may think the agent "
		         "hung: check the unit's NotifyAccess= and sandbox)",
		         path);
	else
		log_debug(LOG_SUB_MAIN, "notify %s: %s", path, strerror(saved));
	notify_failing = 1;
	errno = saved;
	return -1;
}

int notify_ready(void)
{
	return notify_send("READY=1");
}

int notify_stopping(void)
{
	return notify_send("STOPPING=1");
}

int notify_watchdog(void)
{
	return notify_send("WATCHDOG=1");
}

int notify_reloading(void)
{
	struct timespec ts;
	char msg[64];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	         (unsigned long long)ts.tv_sec * 1000000ULL +
	             (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(msg);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	unsigned long cp = len == 1 ? s[0] : s[0] & (0x7f >> len);

	if (len == 0 || len > n || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int notify_status(const char *fmt, ...)
{
	char text[NOTIFY_STATUS_MAX + 1], msg[sizeof("STATUS=") + NOTIFY_STATUS_MAX];
	size_t n, o = 0, len = strlen("STATUS=");
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	n = strlen(text);
	memcpy(msg, "STATUS=", len);
	while (o < n) {
		size_t l = utf8_len((const unsigned char *)text + o, n - o);

		if (l == 0 || (l == 1 && (text[o] < 0x20 || text[o] == 0x7f))) {
			/* a cut multi-byte character at the very end is dropped, not replaced */
			if (l == 0 && (unsigned char)text[o] >= 0xc2 && n == NOTIFY_STATUS_MAX &&
			    n - o < 4)
				break;
			msg[len++] = l == 0 ? '?' : ' ';
			o++;
			continue;
		}
		memcpy(msg + len, text + o, l);
		len += l;
		o += l;
	}
	msg[len] = '\0';
	return notify_send(msg);
}

double notify_watchdog_interval(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	unsigned long long us;
	char *end;

	/* as sd_watchdog_enabled(3): a WATCHDOG_PID that is not ours, or not a pid, means off */
	if (pid != NULL) {
		errno = 0;
		unsigned long long p = strtoull(pid, &end, 10);
		if (errno != 0 || *end != '\0' || p != (unsigned long long)getpid())
			return 0;
	}
	if (usec == NULL || usec[0] < '0' || usec[0] > '9')
		return 0;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (errno != 0 || *end != '\0' || us == 0)
		return 0;
	return (double)us / 2e6;
}
