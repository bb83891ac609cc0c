/* SPDX-License-Identifier: ISC */
/*
 * iowatch.c - owns the epoll set of the check types' sockets (libcurl's and
 * c-ares's) and the dispatch of its events; the libuv loop watches the set's
 * descriptor with one uv_poll_t.
 *
 * Why not a uv_poll_t per socket: libuv 1.44 probes a descriptor on
 * uv_poll_init (EPOLL_CTL_ADD + DEL, ioctl FIONBIO) and removes and re-adds it
 * on every uv_poll_start, so a probe's short-lived socket cost about 6.5
 * epoll_ctl calls and a handle close (BENCHMARKS.md, "Health checks"). Here a socket costs an ADD,
 * a MOD when the library changes direction, and a DEL.
 *
 * The set is level-triggered, like libuv's: an event not consumed is reported
 * again. At most IOW_BATCH events are taken per loop turn; if more are ready,
 * the set stays readable and libuv calls back on the next turn.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "iowatch.h"
#include "log.h"
#include "util.h"

#define IOW_BATCH 64

struct iowatch {
	uv_poll_t poll;
	int epfd;
	/* the batch being dispatched: iowatch_remove() clears its later entries */
	struct epoll_event *batch;
	int nbatch, cur;
};

static void on_ready(uv_poll_t *p, int status, int events)
{
	struct iowatch *w = p->data;
	struct epoll_event ev[IOW_BATCH];
	int n;

	(void)events;
	if (status < 0) {
		log_warnx("check sockets: the epoll set failed: %s", uv_strerror(status));
		return;
	}
	n = epoll_wait(w->epfd, ev, IOW_BATCH, 0);
	if (n < 0) {
		if (errno != EINTR)
			log_warn("check sockets: epoll_wait");
		return;
	}
	w->batch = ev;
	w->nbatch = n;
	for (w->cur = 0; w->cur < n; w->cur++) {
		struct iow_fd *f = ev[w->cur].data.ptr;
		uint32_t e = ev[w->cur].events;
		int what = 0;

		if (f == NULL) /* removed by an earlier callback of this batch */
			continue;
		if (e & EPOLLIN)
			what |= IOW_IN;
		if (e & EPOLLOUT)
			what |= IOW_OUT;
		if (e & (EPOLLERR | EPOLLHUP))
			what |= IOW_ERR;
		f->cb(f, what);
	}
	w->batch = NULL;
	w->nbatch = w->cur = 0;
}

struct iowatch *iowatch_new(uv_loop_t *loop, char *err, size_t errlen)
{
	struct iowatch *w = xcalloc(1, sizeof(*w));
	int r;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		snprintf(err, errlen, "cannot create an epoll set for check sockets: %s",
		         strerror(errno));
		free(w);
		return NULL;
	}
	if ((r = uv_poll_init(loop, &w->poll, w->epfd)) < 0 ||
	    (r = uv_poll_start(&w->poll, UV_READABLE, on_ready)) < 0) {
		snprintf(err, errlen, "cannot watch the check sockets' epoll set: %s",
		         uv_strerror(r));
		close(w->epfd);
		free(w);
		return NULL;
	}
	w->poll.data = w;
	/* a run with a socket also has its timeout guard armed: that keeps the loop alive */
	uv_unref((uv_handle_t *)&w->poll);
	return w;
}

static void closed(uv_handle_t *h)
{
	struct iowatch *w = h->data;

	close(w->epfd);
	free(w);
}

void iowatch_free(struct iowatch *w)
{
	if (w == NULL)
		return;
	uv_close((uv_handle_t *)&w->poll, closed);
}

void iowatch_fd_init(struct iow_fd *f, int fd, iow_cb cb, void *data)
{
	f->fd = fd;
	f->events = 0;
	f->cb = cb;
	f->data = data;
}

int iowatch_set(struct iowatch *w, struct iow_fd *f, int events)
{
	struct epoll_event ev = {.data.ptr = f};
	int op = f->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	events &= IOW_IN | IOW_OUT;
	if (events == f->events)
		return 0;
	if (events == 0) {
		iowatch_remove(w, f);
		return 0;
	}
	ev.events = (events & IOW_IN ? EPOLLIN : 0) | (events & IOW_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(w->epfd, op, f->fd, &ev) < 0) {
		/* the descriptor was closed and reused behind our back: register it afresh */
		if (errno == ENOENT && op == EPOLL_CTL_MOD)
			op = EPOLL_CTL_ADD;
		else if (errno == EEXIST && op == EPOLL_CTL_ADD)
			op = EPOLL_CTL_MOD;
		else
			return -errno;
		if (epoll_ctl(w->epfd, op, f->fd, &ev) < 0)
			return -errno;
	}
	f->events = events;
	return 0;
}

void iowatch_remove(struct iowatch *w, struct iow_fd *f)
{
	if (f->events != 0) {
		/* ENOENT/EBADF: already gone with its descriptor */
		(void)epoll_ctl(w->epfd, EPOLL_CTL_DEL, f->fd, NULL);
		f->events = 0;
	}
	for (int i = w->cur + 1; i < w->nbatch; i++)
		if (w->batch[i].data.ptr == f)
			w->batch[i].data.ptr = NULL;
}
