/* SPDX-License-Identifier: ISC */
/*
 * watch.c - the death watches (see watch.h): pidfiles through inotify and
 * pidfds, systemd units through sd-bus, listening sockets through sock_diag.
 * Every handle is on the libuv loop and unreferenced: a watch never keeps the
 * loop alive by itself. Decides nothing: it reports alive, dead or
 * unavailable to its callback.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/filter.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-bus.h>
#endif

#include "log.h"
#include "util.h"
#include "watch.h"

/* NLMSG_OK without its signed/unsigned comparison (clang warns on the kernel's macro). */
static bool nl_ok(const struct nlmsghdr *h, int len)
{
	return len >= (int)sizeof(*h) && h->nlmsg_len >= sizeof(*h) &&
	       h->nlmsg_len <= (unsigned)len;
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define WATCH_DETAIL_MAX 192
/* TCP_LISTEN and TCP_CLOSE of include/net/tcp_states.h: a listener, an unconnected UDP socket */
#define ST_LISTEN 10
#define ST_CLOSE  7

/* A descriptor polled on the loop, freed with its handle (it may be replaced while the old
 * handle is still closing). */
struct fdpoll {
	uv_poll_t poll;
	int fd;
};

/* The process a pidfile watch follows: its pidfd, polled until it exits. */
struct pidproc {
	uv_poll_t poll;
	int fd;
	pid_t pid;
	struct watch *w;
};

struct watch {
	struct watch_env *env;
	struct watch *next; /* env->watches */
	enum watch_kind kind;
	char *target;
	watch_cb cb;
	void *arg;
	enum watch_state state;
	char detail[WATCH_DETAIL_MAX];
	double since;
	unsigned long deaths;
	bool started;
	uv_timer_t retry; /* pidfile: a missing directory; listen: look again while dead */
	/* pidfile */
	char *dir, *base;
	int wd; /* inotify watch of dir, -1 while none */
	struct pidproc *proc;
	/* unit */
	char *unit_path;
	char active[32], sub[32], load[32];
#if HAVE_LIBSYSTEMD
	sd_bus_slot *match_slot, *call_slot;
#endif
	/* listen */
	struct listen_ref listen;
};

struct watch_env {
	uv_loop_t *loop;
	struct watch *watches;
	/* one inotify instance for every pidfile watch (max_user_instances is 128) */
	int ino;
	uv_poll_t ino_poll;
	/* socket-destroy notifications for every listen watch */
	struct fdpoll *diag;
	unsigned diag_groups;
	char diag_error[WATCH_DETAIL_MAX];
#if HAVE_LIBSYSTEMD
	sd_bus *bus;
	struct fdpoll *bus_poll;
	uv_timer_t bus_timer, bus_retry;
	bool bus_timers_on;
	sd_bus_slot *owner_slot, *subscribe_slot;
#endif
	char bus_error[WATCH_DETAIL_MAX];
	unsigned pending; /* handles of env being closed */
	bool dying;       /* freed when the last of them is closed */
};

static const char *const state_names[] = {
    [WATCH_STARTING] = "starting",
    [WATCH_ALIVE] = "alive",
    [WATCH_DEAD] = "dead",
    [WATCH_UNAVAILABLE] = "unavailable",
};

const char *watch_state_name(enum watch_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "invalid";
}

const char *watch_key(enum watch_kind k)
{
	switch (k) {
	case WATCH_PIDFILE:
		return "watch_pidfile";
	case WATCH_UNIT:
		return "watch_unit";
	default:
		return "watch_listen";
	}
}

static void set_state(struct watch *w, enum watch_state s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the state and its detail; a change of state goes to the callback. */
static void set_state(struct watch *w, enum watch_state s, const char *fmt, ...)
{
	enum watch_state old = w->state;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->detail, sizeof(w->detail), fmt, ap);
	va_end(ap);
	if (s == old)
		return;
	w->state = s;
	w->since = mono_now();
	if (s == WATCH_DEAD)
		w->deaths++;
	if (w->cb)
		w->cb(w, old, w->arg);
}

static void close_free(uv_handle_t *h)
{
	free(h->data);
}

/* A descriptor on the loop, unreferenced; NULL if libuv refuses it (fd left open). */
static struct fdpoll *fdpoll_new(uv_loop_t *loop, int fd, int events, uv_poll_cb cb, void *data)
{
	struct fdpoll *p = xcalloc(1, sizeof(*p));

	p->fd = fd;
	if (uv_poll_init(loop, &p->poll, fd) < 0) {
		free(p);
		return NULL;
	}
	p->poll.data = data;
	uv_unref((uv_handle_t *)&p->poll);
	uv_poll_start(&p->poll, events, cb);
	return p;
}

static void fdpoll_closed(uv_handle_t *h)
{
	free((struct fdpoll *)h); /* poll is its first member */
}

/* Stop polling, close the descriptor; the memory goes with the handle. */
static void fdpoll_close(struct fdpoll *p)
{
	if (p == NULL)
		return;
	uv_poll_stop(&p->poll);
	close(p->fd);
	uv_close((uv_handle_t *)&p->poll, fdpoll_closed);
}

static void env_closed(uv_handle_t *h)
{
	struct watch_env *env = h->data;

	if (--env->pending == 0 && env->dying)
		free(env);
}

static void env_close(struct watch_env *env, uv_handle_t *h)
{
	env->pending++;
	uv_close(h, env_closed);
}

static void retry_in(struct watch *w, uv_timer_cb cb, double s)
{
	uv_timer_start(&w->retry, cb, (uint64_t)(s * 1e3), 0);
}

/* ---- pidfile -------------------------------------------------------------------- */

/* The pid the file holds: > 0, or 0 with the reason in why. */
static pid_t read_pidfile(const char *path, char *why, size_t len)
{
	char buf[64], *end;
	ssize_t n;
	long v;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(why, len, "no pidfile (%s)", strerror(errno));
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, len, "cannot read the pidfile: %s", strerror(errno));
		return 0;
	}
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
		end++;
	if (n == 0 || end == buf || *end != '\0' || errno || v <= 0 || v > INT32_MAX) {
		snprintf(why, len, "the pidfile holds no pid");
		return 0;
	}
	return (pid_t)v;
}

/* A pidfd of a running process, or -1 with the reason in why (no such process, exited). */
static int open_pidfd(pid_t pid, char *why, size_t len)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p;

	if (fd < 0) {
		if (errno == ESRCH)
			snprintf(why, len, "pid %ld, which is not running", (long)pid);
		else
			snprintf(why, len, "pidfd_open(%ld): %s", (long)pid, strerror(errno));
		return -1;
	}
	/* an exited process not yet reaped still has a pidfd: readable at once */
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 0) > 0) {
		close(fd);
		snprintf(why, len, "pid %ld, which has exited", (long)pid);
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

static void pidproc_close(struct pidproc *p)
{
	if (p == NULL)
		return;
	uv_poll_stop(&p->poll);
	close(p->fd);
	uv_close((uv_handle_t *)&p->poll, close_free);
}

static void pidfile_eval(struct watch *w, pid_t exited);

static void pidproc_cb(uv_poll_t *h, int status, int events)
{
	struct pidproc *p = h->data;
	struct watch *w = p->w;
	pid_t pid = p->pid;

	(void)status;
	(void)events;
	/* the process exited (or the poll failed: the same, we lost it) */
	w->proc = NULL;
	pidproc_close(p);
	pidfile_eval(w, pid);
}

/* Follow pid through fd. */
static void pidproc_follow(struct watch *w, pid_t pid, int fd)
{
	struct pidproc *p = xcalloc(1, sizeof(*p));

	p->fd = fd;
	p->pid = pid;
	p->w = w;
	p->poll.data = p;
	if (uv_poll_init(w->env->loop, &p->poll, fd) < 0) {
		close(fd);
		free(p);
		return;
	}
	uv_unref((uv_handle_t *)&p->poll);
	uv_poll_start(&p->poll, UV_READABLE, pidproc_cb);
	pidproc_close(w->proc);
	w->proc = p;
}

/*
 * Read the file and decide. exited: the pid that just exited (0: a file event or the start).
 * The file is the truth when it names a running process; otherwise the process followed
 * until now stays followed while it runs.
 */
static void pidfile_eval(struct watch *w, pid_t exited)
{
	char why[WATCH_DETAIL_MAX] = "", perr[WATCH_DETAIL_MAX];
	pid_t pid = read_pidfile(w->target, why, sizeof(why));
	int fd = -1;

	if (pid > 0 && pid == exited)
		pid = 0; /* the file still names the process that exited */
	else if (pid > 0 && w->proc != NULL && pid == w->proc->pid)
		return; /* rewritten with the same pid (a reload) */
	else if (pid > 0 && (fd = open_pidfd(pid, perr, sizeof(perr))) < 0)
		snprintf(why, sizeof(why), "the pidfile names %.150s", perr);
	if (fd >= 0) {
		pid_t before = w->proc ? w->proc->pid : exited;

		pidproc_follow(w, pid, fd);
		if (before > 0 && before != pid)
			set_state(w, WATCH_ALIVE, "pid %ld (followed from pid %ld)", (long)pid,
			          (long)before);
		else
			set_state(w, WATCH_ALIVE, "pid %ld", (long)pid);
		return;
	}
	if (w->proc != NULL) {
		/* the file went or changed, the process runs on: keep following it */
		snprintf(w->detail, sizeof(w->detail), "pid %ld (%.160s)", (long)w->proc->pid, why);
		return;
	}
	if (exited > 0)
		set_state(w, WATCH_DEAD, "pid %ld exited", (long)exited);
	else
		set_state(w, WATCH_DEAD, "%s", why);
}

static void ino_cb(uv_poll_t *h, int status, int events);

/* The shared inotify instance, made on first use; -1 with the reason in why. */
static int ino_fd(struct watch_env *env, char *why, size_t len)
{
	if (env->ino >= 0)
		return env->ino;
	env->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (env->ino < 0) {
		snprintf(why, len, "inotify_init1: %s", strerror(errno));
		return -1;
	}
	uv_poll_init(env->loop, &env->ino_poll, env->ino);
	env->ino_poll.data = env;
	uv_unref((uv_handle_t *)&env->ino_poll);
	uv_poll_start(&env->ino_poll, UV_READABLE, ino_cb);
	return env->ino;
}

static void pidfile_retry_cb(uv_timer_t *t);

/* Watch the pidfile's directory; false (and a retry armed) while it cannot be watched. */
static bool pidfile_arm(struct watch *w)
{
	char why[WATCH_DETAIL_MAX];
	int fd = ino_fd(w->env, why, sizeof(why)), err;

	if (fd >= 0)
		w->wd =
		    inotify_add_watch(fd, w->dir,
		                      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
		                          IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
	if (fd >= 0 && w->wd >= 0)
		return true;
	err = errno;
	if (fd >= 0)
		snprintf(why, sizeof(why), "cannot watch the directory %s: %s", w->dir,
		         strerror(err));
	w->wd = -1;
	retry_in(w, pidfile_retry_cb, WATCH_RETRY_S);
	/* without the directory there is no file, so no process: dead, not unavailable */
	if (fd >= 0 && (err == ENOENT || err == ENOTDIR))
		pidfile_eval(w, 0);
	else
		set_state(w, WATCH_UNAVAILABLE, "%s", why);
	return false;
}

static void pidfile_retry_cb(uv_timer_t *t)
{
	struct watch *w = t->data;

	if (pidfile_arm(w))
		pidfile_eval(w, 0);
}

/* Another watch of the same inotify instance still uses wd. */
static bool wd_shared(const struct watch *self, int wd)
{
	for (const struct watch *o = self->env->watches; o; o = o->next)
		if (o != self && o->kind == WATCH_PIDFILE && o->wd == wd)
			return true;
	return false;
}

static void ino_cb(uv_poll_t *h, int status, int events)
{
	struct watch_env *env = h->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	(void)status;
	(void)events;
	while ((n = read(env->ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			for (struct watch *w = env->watches, *next; w; w = next) {
				next = w->next;
				if (w->kind != WATCH_PIDFILE)
					continue;
				if (ev->mask & IN_Q_OVERFLOW) {
					pidfile_eval(w, 0);
				} else if (ev->wd != w->wd) {
					continue;
				} else if (ev->mask &
				           (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
					/* the directory went: look for it again shortly */
					if (!wd_shared(w, w->wd) && !(ev->mask & IN_IGNORED))
						inotify_rm_watch(env->ino, w->wd);
					w->wd = -1;
					pidfile_eval(w, 0);
					retry_in(w, pidfile_retry_cb, WATCH_RETRY_S);
				} else if (ev->len > 0 && strcmp(ev->name, w->base) == 0) {
					pidfile_eval(w, 0);
				}
			}
		}
	}
}

static void pidfile_start(struct watch *w)
{
	if (pidfile_arm(w))
		pidfile_eval(w, 0);
}

static void pidfile_stop(struct watch *w)
{
	pidproc_close(w->proc);
	w->proc = NULL;
	if (w->wd >= 0 && w->env->ino >= 0 && !wd_shared(w, w->wd))
		inotify_rm_watch(w->env->ino, w->wd);
	w->wd = -1;
}

/* ---- listen: sock_diag ----------------------------------------------------------- */

static void listen_format(const struct listen_ref *l, char *buf, size_t len)
{
	if (l->addr.family == AF_INET6)
		snprintf(buf, len, "%s:[%s]:%u", l->proto == IPPROTO_UDP ? "udp" : "tcp",
		         l->addr.host, l->addr.port);
	else
		snprintf(buf, len, "%s:%s:%u", l->proto == IPPROTO_UDP ? "udp" : "tcp",
		         l->addr.host, l->addr.port);
}

/* Does a socket of family fam bound to addr (v6only as the kernel says) serve l? */
static bool serves(const struct listen_ref *l, int fam, const void *addr, int v6only)
{
	unsigned char want[16] = {0};
	static const unsigned char any[16] = {0};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	inet_pton(l->addr.family, l->addr.host, want);
	if (l->addr.family == AF_INET && fam == AF_INET)
		return memcmp(addr, want, 4) == 0 || memcmp(addr, any, 4) == 0;
	if (l->addr.family == AF_INET6 && fam == AF_INET6)
		return memcmp(addr, want, 16) == 0 || memcmp(addr, any, 16) == 0;
	if (l->addr.family == AF_INET && fam == AF_INET6) {
		/* a dual-stack wildcard, or bound to the IPv4-mapped address */
		if (memcmp(addr, any, 16) == 0)
			return v6only == 0;
		return memcmp(addr, mapped, 12) == 0 &&
		       memcmp((const char *)addr + 12, want, 4) == 0;
	}
	return false;
}

/* One SOCK_DIAG_BY_FAMILY dump on fd: add to *count the sockets of family fam serving l.
 * 0 or -errno. */
static int dump_family(int fd, const struct listen_ref *l, int fam, int *count)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req = {
	    .nlh = {.nlmsg_len = sizeof(req),
	            .nlmsg_type = SOCK_DIAG_BY_FAMILY,
	            .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	            .nlmsg_seq = 1},
	    .r = {.sdiag_family = (__u8)fam,
	          .sdiag_protocol = (__u8)l->proto,
	          .idiag_states = 1u << (l->proto == IPPROTO_TCP ? ST_LISTEN : ST_CLOSE)},
	};
	struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		int n = (int)got;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EPROTO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nl_ok(h, n);
		     h = NLMSG_NEXT(h, n)) {
			const struct inet_diag_msg *m = NLMSG_DATA(h);
			int v6only = 0, alen;

			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error < 0 ? e->error : -EPROTO;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)) ||
			    ntohs(m->id.idiag_sport) != l->addr.port || m->id.idiag_dport != 0)
				continue;
			alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (struct rtattr *a =
			         (struct rtattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
			     RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == INET_DIAG_SKV6ONLY &&
				    RTA_PAYLOAD(a) >= (int)sizeof(uint8_t))
					v6only = *(const uint8_t *)RTA_DATA(a);
			if (serves(l, m->idiag_family, m->id.idiag_src, v6only))
				(*count)++;
		}
	}
}

int watch_listen_count(const struct listen_ref *l)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG), count = 0, r;
	struct timeval tv = {.tv_sec = 1};

	if (fd < 0)
		return -errno;
	/* the kernel answers at once; the bound only guards against a wedge */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = dump_family(fd, l, AF_INET6, &count);
	if (r == 0 && l->addr.family == AF_INET)
		r = dump_family(fd, l, AF_INET, &count);
	close(fd);
	return r < 0 ? r : count;
}

static void listen_retry_cb(uv_timer_t *t);

static void listen_eval(struct watch *w)
{
	int n = watch_listen_count(&w->listen);
	const char *what = w->listen.proto == IPPROTO_TCP ? "listening" : "bound";

	if (n < 0) {
		set_state(w, WATCH_UNAVAILABLE, "cannot read the socket table (sock_diag): %s",
		          strerror(-n));
		retry_in(w, listen_retry_cb, WATCH_RETRY_S);
	} else if (n == 0) {
		set_state(w, WATCH_DEAD, "no socket %s on %s", what, w->target + 4);
		/* no event says a socket came back: look again */
		retry_in(w, listen_retry_cb, WATCH_RETRY_S);
	} else {
		uv_timer_stop(&w->retry);
		set_state(w, WATCH_ALIVE, "%d %s socket%s", n, what, n == 1 ? "" : "s");
	}
}

static void listen_retry_cb(uv_timer_t *t)
{
	listen_eval(t->data);
}

/* The sock_diag multicast groups the listen watches need. */
static unsigned diag_groups_wanted(const struct watch_env *env)
{
	unsigned g = 0;

	for (const struct watch *w = env->watches; w; w = w->next) {
		if (w->kind != WATCH_LISTEN)
			continue;
		if (w->listen.proto == IPPROTO_TCP)
			g |= 1u << SKNLGRP_INET_TCP_DESTROY | 1u << SKNLGRP_INET6_TCP_DESTROY;
		else
			g |= 1u << SKNLGRP_INET_UDP_DESTROY | 1u << SKNLGRP_INET6_UDP_DESTROY;
	}
	return g;
}

/*
 * The socket filter: pass only the destruction of unconnected sockets (dport 0: listeners,
 * unbound or unconnected UDP) on a watched port. Without it every closed connection of the
 * host would wake the agent; with it, the kernel drops them before they are queued.
 */
static int diag_filter(const struct watch_env *env, int fd)
{
	struct sock_filter f[256];
	unsigned n = 0, nports = 0;
	unsigned ports[200];
	struct sock_fprog prog;

	for (const struct watch *w = env->watches; w; w = w->next) {
		bool dup = false;

		if (w->kind != WATCH_LISTEN)
			continue;
		for (unsigned i = 0; i < nports; i++)
			dup |= ports[i] == w->listen.addr.port;
		if (!dup && nports < ARRAY_SIZE(ports))
			ports[nports++] = w->listen.addr.port;
	}
	/* nlmsghdr (16 bytes), then inet_diag_msg: 4 bytes, sport at 20, dport at 22 */
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 22);
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, (__u8)(nports + 1));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20);
	for (unsigned i = 0; i < nports; i++)
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ports[i],
		                                      (__u8)(nports - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0xffff);
	prog = (struct sock_fprog){.len = (unsigned short)n, .filter = f};
	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void diag_cb(uv_poll_t *h, int status, int events);

/* Open, filter and subscribe the notification socket as the listen watches need it; closed
 * when none is left (the kernel then stops queueing a notification per socket destroyed). */
static void diag_update(struct watch_env *env)
{
	unsigned want = diag_groups_wanted(env);
	int rcvbuf = 1 << 20;

	if (want == 0) {
		fdpoll_close(env->diag);
		env->diag = NULL;
		env->diag_groups = 0;
		return;
	}
	if (env->diag == NULL) {
		struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
		int fd =
		    socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG);

		/* the filter before the groups: no notification is queued unfiltered */
		if (fd < 0 || diag_filter(env, fd) < 0 ||
		    bind(fd, (struct sockaddr *)&nl, sizeof(nl)) < 0 ||
		    (env->diag = fdpoll_new(env->loop, fd, UV_READABLE, diag_cb, env)) == NULL) {
			snprintf(env->diag_error, sizeof(env->diag_error),
			         "cannot receive socket-destroy notifications (sock_diag): %s",
			         strerror(errno));
			if (fd >= 0)
				close(fd);
			return;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		env->diag_groups = 0;
	} else if (diag_filter(env, env->diag->fd) < 0) {
		log_warn("watch_listen: cannot update the socket filter");
	}
	for (unsigned g = 1; g <= SKNLGRP_INET6_UDP_DESTROY; g++) {
		int grp = (int)g;
		bool on = want & (1u << g), was = env->diag_groups & (1u << g);

		if (on == was)
			continue;
		if (setsockopt(env->diag->fd, SOL_NETLINK,
		               on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP, &grp,
		               sizeof(grp)) < 0) {
			snprintf(env->diag_error, sizeof(env->diag_error),
			         "cannot join the sock_diag destroy group %u: %s", g,
			         strerror(errno));
			continue;
		}
		env->diag_groups ^= 1u << g;
	}
	if ((env->diag_groups & want) == want)
		env->diag_error[0] = '\0';
}

static void diag_cb(uv_poll_t *h, int status, int events)
{
	struct watch_env *env = h->data;
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	bool all = false;
	unsigned ports[64], nports = 0;

	(void)status;
	(void)events;
	for (;;) {
		ssize_t got = recv(env->diag->fd, buf, sizeof(buf), 0);
		int n = (int)got;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && errno == ENOBUFS) {
			/* notifications were lost: look at every watched socket */
			all = true;
			continue;
		}
		if (got <= 0)
			break;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; nl_ok(nh, n);
		     nh = NLMSG_NEXT(nh, n)) {
			const struct inet_diag_msg *m = NLMSG_DATA(nh);
			unsigned port;
			bool seen = false;

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				continue;
			port = ntohs(m->id.idiag_sport);
			for (unsigned i = 0; i < nports; i++)
				seen |= ports[i] == port;
			if (!seen && nports < ARRAY_SIZE(ports))
				ports[nports++] = port;
			else if (!seen)
				all = true;
		}
	}
	for (struct watch *w = env->watches, *next; w; w = next) {
		bool hit = all;

		next = w->next;
		if (w->kind != WATCH_LISTEN)
			continue;
		for (unsigned i = 0; i < nports && !hit; i++)
			hit = ports[i] == w->listen.addr.port;
		if (hit)
			listen_eval(w);
	}
}

static void listen_start(struct watch *w)
{
	diag_update(w->env);
	if (w->env->diag == NULL || w->env->diag_error[0]) {
		set_state(w, WATCH_UNAVAILABLE, "%s", w->env->diag_error);
		return;
	}
	listen_eval(w);
}

/* ---- unit: systemd over D-Bus ------------------------------------------------------ */

enum watch_state watch_unit_rule(const char *active, const char *sub)
{
	if (strcmp(active, "active") == 0 || strcmp(active, "reloading") == 0 ||
	    strcmp(active, "refreshing") == 0)
		return WATCH_ALIVE;
	/* ExecStop= runs: the service may still serve (a drain waits there) */
	if (strcmp(active, "deactivating") == 0 && strcmp(sub, "stop") == 0)
		return WATCH_ALIVE;
	return WATCH_DEAD;
}

#if HAVE_LIBSYSTEMD

#define SD_DEST    "org.freedesktop.systemd1"
#define SD_PATH    "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT    "org.freedesktop.systemd1.Unit"
#define SD_PROPS   "org.freedesktop.DBus.Properties"

/* A call to systemd that never asks the bus to start it (no systemd: an error at once). args:
 * NULL for none, else one string argument. */
static int sd_call(sd_bus *bus, sd_bus_slot **slot, const char *path, const char *iface,
                   const char *member, const char *arg, sd_bus_message_handler_t cb, void *data)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, path, iface, member);

	if (r >= 0)
		r = sd_bus_message_set_auto_start(m, 0);
	if (r >= 0 && arg != NULL)
		r = sd_bus_message_append(m, "s", arg);
	if (r >= 0)
		r = sd_bus_call_async(bus, slot, m, cb, data, 0);
	sd_bus_message_unref(m);
	return r;
}

static void unit_apply(struct watch *w)
{
	if (strcmp(w->load, "not-found") == 0 || strcmp(w->load, "bad-setting") == 0 ||
	    strcmp(w->load, "error") == 0 || strcmp(w->load, "masked") == 0) {
		set_state(w, WATCH_UNAVAILABLE, "systemd cannot load %s (LoadState %s)", w->target,
		          w->load);
		return;
	}
	set_state(w, watch_unit_rule(w->active, w->sub), "%s (%s)", w->active, w->sub);
}

/* Read ActiveState, SubState and LoadState out of an a{sv}; returns how many were there. */
static int unit_read_props(struct watch *w, sd_bus_message *m)
{
	int found = 0, r;

	r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
		const char *name, *val;
		char *dst = NULL;
		size_t len = 0;

		if ((r = sd_bus_message_read(m, "s", &name)) < 0)
			return r;
		if (strcmp(name, "ActiveState") == 0)
			dst = w->active, len = sizeof(w->active);
		else if (strcmp(name, "SubState") == 0)
			dst = w->sub, len = sizeof(w->sub);
		else if (strcmp(name, "LoadState") == 0)
			dst = w->load, len = sizeof(w->load);
		if (dst != NULL) {
			if ((r = sd_bus_message_read(m, "v", "s", &val)) < 0)
				return r;
			snprintf(dst, len, "%s", val);
			found++;
		} else if ((r = sd_bus_message_skip(m, "v")) < 0) {
			return r;
		}
		if ((r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : found;
}

/* An error from the bus as a detail line. */
static void bus_error_detail(const struct watch *w, const sd_bus_error *e, char *buf, size_t len)
{
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
		snprintf(buf, len, "systemd is not on the system bus; the check keeps polling");
	else
		snprintf(buf, len, "systemd did not answer for %s: %s", w->target,
		         e->message ? e->message : e->name);
}

static int unit_getall_cb(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct watch *w = arg;
	const sd_bus_error *e = sd_bus_message_get_error(m);
	char why[WATCH_DETAIL_MAX];

	w->call_slot = sd_bus_slot_unref(w->call_slot);
	if (e != NULL) {
		bus_error_detail(w, e, why, sizeof(why));
		set_state(w, WATCH_UNAVAILABLE, "%s", why);
		return 0;
	}
	if (unit_read_props(w, m) < 0) {
		set_state(w, WATCH_UNAVAILABLE, "systemd's answer for %s cannot be read",
		          w->target);
		return 0;
	}
	unit_apply(w);
	return 0;
}

static void unit_query(struct watch *w)
{
	int r;

	w->call_slot = sd_bus_slot_unref(w->call_slot);
	r = sd_call(w->env->bus, &w->call_slot, w->unit_path, SD_PROPS, "GetAll", SD_UNIT,
	            unit_getall_cb, w);
	if (r < 0)
		set_state(w, WATCH_UNAVAILABLE, "cannot ask systemd about %s: %s", w->target,
		          strerror(-r));
}

static int unit_changed_cb(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct watch *w = arg;
	const char *iface;

	char load[sizeof(w->load)];

	if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, SD_UNIT) != 0)
		return 0;
	memcpy(load, w->load, sizeof(load));
	w->load[0] = '\0';
	if (unit_read_props(w, m) > 0 && (w->load[0] || strcmp(load, "loaded") == 0)) {
		if (!w->load[0])
			memcpy(w->load, load, sizeof(load));
		unit_apply(w);
		return 0;
	}
	/* only invalidated, unreadable, or no LoadState for a unit not loaded before: ask */
	memcpy(w->load, load, sizeof(load));
	unit_query(w);
	return 0;
}

static void units_unavailable(struct watch_env *env, const char *why)
{
	for (struct watch *w = env->watches, *next; w; w = next) {
		next = w->next;
		if (w->kind == WATCH_UNIT && w->started)
			set_state(w, WATCH_UNAVAILABLE, "%s", why);
	}
}

static void bus_close(struct watch_env *env, const char *why);
static void bus_connect(struct watch_env *env);

static void bus_retry_cb(uv_timer_t *t)
{
	bus_connect(t->data);
}

static void bus_poll_cb(uv_poll_t *h, int status, int events);
static void bus_timer_cb(uv_timer_t *t);

/* Let sd-bus work, then wait for what it waits for: its fd's events and its timeout. */
static void bus_pump(struct watch_env *env)
{
	uint64_t until, now_us;
	struct timespec ts;
	int r, ev;

	if (env->bus == NULL)
		return;
	while ((r = sd_bus_process(env->bus, NULL)) > 0)
		;
	if (r < 0) {
		bus_close(env, strerror(-r));
		return;
	}
	ev = sd_bus_get_events(env->bus);
	if (ev >= 0)
		uv_poll_start(&env->bus_poll->poll,
		              (ev & POLLIN ? UV_READABLE : 0) | (ev & POLLOUT ? UV_WRITABLE : 0),
		              bus_poll_cb);
	uv_timer_stop(&env->bus_timer);
	if (sd_bus_get_timeout(env->bus, &until) >= 0 && until != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		uv_timer_start(&env->bus_timer, bus_timer_cb,
		               until > now_us ? (until - now_us + 999) / 1000 : 0, 0);
	}
}

static void bus_poll_cb(uv_poll_t *h, int status, int events)
{
	bus_pump(h->data);
}

static void bus_timer_cb(uv_timer_t *t)
{
	bus_pump(t->data);
}

static void unit_watch_bus(struct watch *w)
{
	int r;

	w->match_slot = sd_bus_slot_unref(w->match_slot);
	if (w->unit_path == NULL) {
		set_state(w, WATCH_UNAVAILABLE, "%s has no D-Bus object path", w->target);
		return;
	}
	/* the bus daemon passes only systemd's own signals (sender), for this unit (path) */
	r = sd_bus_match_signal_async(w->env->bus, &w->match_slot, SD_DEST, w->unit_path, SD_PROPS,
	                              "PropertiesChanged", unit_changed_cb, NULL, w);
	if (r < 0) {
		set_state(w, WATCH_UNAVAILABLE, "cannot subscribe to %s: %s", w->target,
		          strerror(-r));
		return;
	}
	unit_query(w);
}

/* systemd (re)appeared on the bus, or left it. */
static int owner_cb(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct watch_env *env = arg;
	const char *name, *old, *new;

	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0 || strcmp(name, SD_DEST) != 0)
		return 0;
	if (new[0] == '\0') {
		units_unavailable(env, "systemd left the system bus; the check keeps polling");
		return 0;
	}
	/* systemd emits unit signals only while someone is subscribed */
	sd_call(env->bus, NULL, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, NULL);
	for (struct watch *w = env->watches, *next; w; w = next) {
		next = w->next;
		if (w->kind == WATCH_UNIT && w->started)
			unit_query(w);
	}
	return 0;
}

static void bus_connect(struct watch_env *env)
{
	char match[256];
	int r, fd;

	if (env->bus != NULL)
		return;
	r = sd_bus_open_system(&env->bus);
	if (r >= 0 && (fd = sd_bus_get_fd(env->bus)) >= 0) {
		/* sd-bus owns the descriptor: poll a duplicate the handle may close */
		int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

		env->bus_poll = dup >= 0 ? fdpoll_new(env->loop, dup, UV_READABLE | UV_WRITABLE,
		                                      bus_poll_cb, env)
		                         : NULL;
		if (env->bus_poll == NULL) {
			if (dup >= 0)
				close(dup);
			r = -EBADF;
		}
	} else if (r >= 0) {
		r = fd;
	}
	if (r < 0) {
		snprintf(env->bus_error, sizeof(env->bus_error),
		         "no system bus (%s); the check keeps polling", strerror(-r));
		env->bus = sd_bus_flush_close_unref(env->bus);
		units_unavailable(env, env->bus_error);
		uv_timer_start(&env->bus_retry, bus_retry_cb, (uint64_t)(WATCH_BUS_RETRY_S * 1e3),
		               0);
		return;
	}
	env->bus_error[0] = '\0';
	sd_call(env->bus, NULL, SD_PATH, SD_MANAGER, "Subscribe", NULL, NULL, NULL);
	snprintf(match, sizeof(match),
	         "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
	         "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='%s'",
	         SD_DEST);
	sd_bus_add_match_async(env->bus, &env->owner_slot, match, owner_cb, NULL, env);
	for (struct watch *w = env->watches, *next; w; w = next) {
		next = w->next;
		if (w->kind == WATCH_UNIT && w->started)
			unit_watch_bus(w);
	}
	bus_pump(env);
}

/* Lost (or done with) the bus: every unit watch is unavailable until the next connection. */
static void bus_close(struct watch_env *env, const char *why)
{
	for (struct watch *w = env->watches; w; w = w->next) {
		if (w->kind != WATCH_UNIT)
			continue;
		w->match_slot = sd_bus_slot_unref(w->match_slot);
		w->call_slot = sd_bus_slot_unref(w->call_slot);
	}
	env->owner_slot = sd_bus_slot_unref(env->owner_slot);
	fdpoll_close(env->bus_poll);
	env->bus_poll = NULL;
	if (env->bus_timers_on)
		uv_timer_stop(&env->bus_timer);
	env->bus = sd_bus_flush_close_unref(env->bus);
	if (why == NULL)
		return;
	snprintf(env->bus_error, sizeof(env->bus_error),
	         "lost the system bus (%s); the check keeps polling", why);
	units_unavailable(env, env->bus_error);
	uv_timer_start(&env->bus_retry, bus_retry_cb, (uint64_t)(WATCH_BUS_RETRY_S * 1e3), 0);
}

static void unit_start(struct watch *w)
{
	struct watch_env *env = w->env;

	if (!env->bus_timers_on) {
		uv_timer_init(env->loop, &env->bus_timer);
		uv_timer_init(env->loop, &env->bus_retry);
		env->bus_timer.data = env->bus_retry.data = env;
		uv_unref((uv_handle_t *)&env->bus_timer);
		uv_unref((uv_handle_t *)&env->bus_retry);
		env->bus_timers_on = true;
	}
	if (env->bus == NULL) {
		if (uv_is_active((uv_handle_t *)&env->bus_retry))
			set_state(w, WATCH_UNAVAILABLE, "%s", env->bus_error);
		else
			bus_connect(env); /* it covers w, already started */
		return;
	}
	unit_watch_bus(w);
	bus_pump(env);
}

static void unit_stop(struct watch *w)
{
	w->match_slot = sd_bus_slot_unref(w->match_slot);
	w->call_slot = sd_bus_slot_unref(w->call_slot);
}

/* --probe: one blocking GetAll. */
static enum watch_state unit_probe(const char *unit, double timeout_s, char *detail, size_t len)
{
	struct watch w = {.target = (char *)unit};
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	char *path = NULL;
	enum watch_state st = WATCH_UNAVAILABLE;
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		snprintf(detail, len, "no system bus (%s)", strerror(-r));
		goto out;
	}
	if ((r = sd_bus_path_encode(SD_PATH "/unit", unit, &path)) < 0 ||
	    (r = sd_bus_message_new_method_call(bus, &m, SD_DEST, path, SD_PROPS, "GetAll")) < 0 ||
	    (r = sd_bus_message_set_auto_start(m, 0)) < 0 ||
	    (r = sd_bus_message_append(m, "s", SD_UNIT)) < 0) {
		snprintf(detail, len, "cannot ask systemd about %s: %s", unit, strerror(-r));
		goto out;
	}
	r = sd_bus_call(bus, m, (uint64_t)(timeout_s * 1e6), &err, &reply);
	if (r < 0) {
		if (sd_bus_error_is_set(&err))
			bus_error_detail(&w, &err, detail, len);
		else
			snprintf(detail, len, "systemd did not answer for %s: %s", unit,
			         strerror(-r));
		goto out;
	}
	if (unit_read_props(&w, reply) < 0) {
		snprintf(detail, len, "systemd's answer for %s cannot be read", unit);
		goto out;
	}
	w.state = WATCH_STARTING;
	unit_apply(&w);
	st = w.state;
	snprintf(detail, len, "%s", w.detail);
out:
	sd_bus_error_free(&err);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	free(path);
	return st;
}

#else /* !HAVE_LIBSYSTEMD */

static void unit_start(struct watch *w)
{
	set_state(w, WATCH_UNAVAILABLE,
	          "this anycast-agent was built without sd-bus (configure found no libsystemd); "
	          "the check keeps polling");
}

static void unit_stop(struct watch *w)
{
}

static enum watch_state unit_probe(const char *unit, double timeout_s, char *detail, size_t len)
{
	snprintf(detail, len, "this anycast-agent was built without sd-bus (no libsystemd)");
	return WATCH_UNAVAILABLE;
}

#endif

/* ---- the watches ------------------------------------------------------------------- */

struct watch_env *watch_env_new(uv_loop_t *loop)
{
	struct watch_env *env = xcalloc(1, sizeof(*env));

	env->loop = loop;
	env->ino = -1;
	return env;
}

void watch_env_free(struct watch_env *env)
{
	if (env == NULL)
		return;
	env->watches = NULL;
	diag_update(env);
	if (env->ino >= 0) {
		uv_poll_stop(&env->ino_poll);
		close(env->ino);
		env_close(env, (uv_handle_t *)&env->ino_poll);
	}
#if HAVE_LIBSYSTEMD
	bus_close(env, NULL);
	if (env->bus_timers_on) {
		env_close(env, (uv_handle_t *)&env->bus_timer);
		env_close(env, (uv_handle_t *)&env->bus_retry);
	}
#endif
	env->dying = true;
	if (env->pending == 0)
		free(env);
}

struct watch *watch_new(struct watch_env *env, enum watch_kind kind, const char *target,
                        const struct listen_ref *listen, watch_cb cb, void *arg)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	char buf[INET6_ADDRSTRLEN + 32];

	w->env = env;
	w->kind = kind;
	w->cb = cb;
	w->arg = arg;
	w->state = WATCH_STARTING;
	w->since = mono_now();
	w->wd = -1;
	snprintf(w->detail, sizeof(w->detail), "starting");
	uv_timer_init(env->loop, &w->retry);
	w->retry.data = w;
	uv_unref((uv_handle_t *)&w->retry);
	if (kind == WATCH_LISTEN) {
		w->listen = *listen;
		w->listen.addr.host = xstrdup(listen->addr.host);
		listen_format(listen, buf, sizeof(buf));
		w->target = xstrdup(buf);
	} else {
		w->target = xstrdup(target);
	}
	if (kind == WATCH_PIDFILE) {
		char *a = xstrdup(target), *b = xstrdup(target);

		w->dir = xstrdup(dirname(a));
		w->base = xstrdup(basename(b));
		free(a);
		free(b);
	}
#if HAVE_LIBSYSTEMD
	if (kind == WATCH_UNIT && sd_bus_path_encode(SD_PATH "/unit", target, &w->unit_path) < 0)
		w->unit_path = NULL;
#endif
	w->next = env->watches;
	env->watches = w;
	return w;
}

void watch_start(struct watch *w)
{
	if (w->started)
		return;
	w->started = true;
	switch (w->kind) {
	case WATCH_PIDFILE:
		pidfile_start(w);
		break;
	case WATCH_UNIT:
		unit_start(w);
		break;
	case WATCH_LISTEN:
		listen_start(w);
		break;
	}
}

static void watch_closed(uv_handle_t *h)
{
	struct watch *w = h->data;

	free(w->target);
	free(w->dir);
	free(w->base);
	free(w->unit_path);
	free(w->listen.addr.host);
	free(w);
}

void watch_free(struct watch *w)
{
	struct watch **pp;

	if (w == NULL)
		return;
	w->cb = NULL;
	switch (w->kind) {
	case WATCH_PIDFILE:
		pidfile_stop(w);
		break;
	case WATCH_UNIT:
		unit_stop(w);
		break;
	case WATCH_LISTEN:
		break;
	}
	for (pp = &w->env->watches; *pp && *pp != w; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = w->next;
	if (w->kind == WATCH_LISTEN)
		diag_update(w->env);
	uv_close((uv_handle_t *)&w->retry, watch_closed);
}

enum watch_state watch_state(const struct watch *w)
{
	return w->state;
}

void watch_info(const struct watch *w, struct watch_info *out)
{
	*out = (struct watch_info){
	    .kind = w->kind,
	    .key = watch_key(w->kind),
	    .target = w->target,
	    .state = w->state,
	    .detail = w->detail,
	    .since = w->since,
	    .deaths = w->deaths,
	};
}

enum watch_state watch_probe(enum watch_kind kind, const char *target,
                             const struct listen_ref *listen, double timeout_s, char *detail,
                             size_t len)
{
	char why[WATCH_DETAIL_MAX];
	pid_t pid;
	int n, fd;

	switch (kind) {
	case WATCH_PIDFILE:
		pid = read_pidfile(target, why, sizeof(why));
		if (pid > 0 && (fd = open_pidfd(pid, why + 64, sizeof(why) - 64)) >= 0) {
			close(fd);
			snprintf(detail, len, "pid %ld", (long)pid);
			return WATCH_ALIVE;
		}
		if (pid > 0)
			snprintf(detail, len, "the pidfile names %s", why + 64);
		else
			snprintf(detail, len, "%s", why);
		return WATCH_DEAD;
	case WATCH_UNIT:
		return unit_probe(target, timeout_s, detail, len);
	case WATCH_LISTEN:
		n = watch_listen_count(listen);
		if (n < 0) {
			snprintf(detail, len, "cannot read the socket table (sock_diag): %s",
			         strerror(-n));
			return WATCH_UNAVAILABLE;
		}
		listen_format(listen, why, sizeof(why));
		if (n == 0) {
			snprintf(detail, len, "no socket %s on %s",
			         listen->proto == IPPROTO_TCP ? "listening" : "bound", why + 4);
			return WATCH_DEAD;
		}
		snprintf(detail, len, "%d %s socket%s", n,
		         listen->proto == IPPROTO_TCP ? "listening" : "bound", n == 1 ? "" : "s");
		return WATCH_ALIVE;
	}
	snprintf(detail, len, "unknown watch");
	return WATCH_UNAVAILABLE;
}
