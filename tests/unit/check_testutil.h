/* SPDX-License-Identifier: ISC */
/*
 * check_testutil.h - helpers shared by the check tests: a loop driven
 * until a condition holds (with a deadline, never a sleep), hand-built
 * check_conf structs, and process-group inspection through /proc.
 */
#ifndef AA_CHECK_TESTUTIL_H
#define AA_CHECK_TESTUTIL_H

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"

/* What a done callback saw. */
struct done_rec {
	int ndone;
	struct check_report rep;
	double at; /* mono_now() when done ran */
};

static inline void rec_done_cb(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct done_rec *d = arg;

	d->ndone++;
	d->rep = *rep;
	d->at = mono_now();
}

static inline bool rec_is_done(void *arg)
{
	return ((struct done_rec *)arg)->ndone > 0;
}

static inline bool never(void *arg)
{
	return false;
}

static inline void tick_noop(uv_timer_t *t)
{
}

/* Run the loop until cond(arg) or secs have passed; returns cond(arg). */
static inline bool run_until(uv_loop_t *loop, bool (*cond)(void *), void *arg, double secs)
{
	double end = mono_now() + secs;
	uv_timer_t wake;
	bool ok;

	/* a ticking timer keeps UV_RUN_ONCE from blocking past the deadline */
	uv_timer_init(loop, &wake);
	uv_timer_start(&wake, tick_noop, 5, 5);
	while (!(ok = cond(arg)) && mono_now() < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

static inline bool loop_idle(void *arg)
{
	return !uv_loop_alive(arg);
}

/* Let every close callback run; true if the loop ended up without handles. */
static inline bool loop_drain(uv_loop_t *loop, double secs)
{
	double end = mono_now() + secs;

	while (uv_loop_alive(loop) && mono_now() < end)
		uv_run(loop, UV_RUN_ONCE);
	return !uv_loop_alive(loop);
}

static inline void conf_addr_set(struct conf_addr *a, const char *host, unsigned port)
{
	a->host = xstrdup(host);
	a->port = port;
	a->family = strchr(host, ':') ? AF_INET6 : AF_INET;
}

static inline struct check_conf *tcp_conf_new(const char *name, const char *host, unsigned port,
                                              const char *source, double timeout)
{
	struct check_conf *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->type = CHECK_TCP;
	c->interval = 10;
	c->timeout = timeout;
	c->rise = c->fall = 1;
	conf_addr_set(&c->u.tcp.address, host, port);
	if (source != NULL) {
		c->u.tcp.has_source = true;
		conf_addr_set(&c->u.tcp.source, source, 0);
	}
	return c;
}

/* argv is NULL-terminated. */
static inline struct check_conf *exec_conf_new(const char *name, const char *const *argv,
                                               double timeout, size_t output_max)
{
	struct check_conf *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(name);
	c->type = CHECK_EXEC;
	c->interval = 10;
	c->timeout = timeout;
	c->rise = c->fall = 1;
	for (; *argv; argv++)
		strlist_add(&c->u.exec.argv, *argv);
	c->u.exec.output_max = output_max;
	return c;
}

static inline void check_conf_free_test(struct check_conf *c)
{
	if (c == NULL)
		return;
	if (c->type == CHECK_TCP) {
		free(c->u.tcp.address.host);
		free(c->u.tcp.source.host);
	} else if (c->type == CHECK_EXEC) {
		strlist_free(&c->u.exec.argv);
	}
	free(c->name);
	free(c);
}

/* Live (non-zombie) processes in process group pgid, from /proc. */
static inline int group_members(int pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[512], state;
		const char *p;
		int pgrp, ppid;
		FILE *f;
		size_t len;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = '\0';
		/* "pid (comm) S ppid pgrp ..."; comm may hold spaces and ')' */
		p = strrchr(buf, ')');
		if (p == NULL || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) != 3)
			continue;
		if (pgrp == pgid && state != 'Z' && state != 'X')
			n++;
	}
	closedir(d);
	return n;
}

static inline bool pid_alive(int pid)
{
	char path[64], buf[512], state;
	const char *p;
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || sscanf(p + 1, " %c", &state) != 1)
		return false;
	return state != 'Z' && state != 'X';
}

/* TCP sockets of this host with `port` at either end, in every state but LISTEN (as
 * /proc/net/tcp and tcp6 list them, TIME_WAIT included). */
static inline int tcp_sockets_on_port(unsigned port)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	int n = 0;

	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		char line[512], local[64], remote[64];
		unsigned st;

		if (f == NULL)
			return -1;
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *lp, *rp;

			if (sscanf(line, " %*u: %63s %63s %x", local, remote, &st) != 3 ||
			    st == 0x0A /* LISTEN */)
				continue;
			lp = strrchr(local, ':');
			rp = strrchr(remote, ':');
			if (lp != NULL && rp != NULL &&
			    (strtoul(lp + 1, NULL, 16) == port ||
			     strtoul(rp + 1, NULL, 16) == port))
				n++;
		}
		fclose(f);
	}
	return n;
}

struct group_arg {
	int pgid;
};

static inline bool group_gone(void *arg)
{
	return group_members(((struct group_arg *)arg)->pgid) == 0;
}

#endif
