/* SPDX-License-Identifier: ISC */
/*
 * iowatch.h - one epoll set for the sockets that libcurl and c-ares open for
 * the checks, watched by the libuv loop as a single uv_poll_t (iowatch.c).
 *
 * A watched socket is a struct iow_fd the caller embeds and owns. The caller
 * sets the events it wants (ADD or MOD only when they change) and removes the
 * socket before closing it; after iowatch_remove() its callback is never
 * called again, not even for an event already fetched in the same batch, so
 * the iow_fd may be freed at once.
 */
#ifndef AA_IOWATCH_H
#define AA_IOWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

enum { IOW_IN = 1, IOW_OUT = 2, IOW_ERR = 4 };

struct iow_fd;
/* events: IOW_IN, IOW_OUT, and IOW_ERR for an error or hang-up on the socket */
typedef void (*iow_cb)(struct iow_fd *f, int events);

struct iow_fd {
	int fd;
	int events; /* what epoll watches now; 0 while not in the set */
	iow_cb cb;
	void *data;
};

struct iowatch;

/* NULL with the reason in err when the epoll set or its uv_poll_t cannot be made. */
struct iowatch *iowatch_new(uv_loop_t *loop, char *err, size_t errlen);
/* Sockets must be removed first; the memory goes once libuv has closed the poll handle. */
void iowatch_free(struct iowatch *w);

void iowatch_fd_init(struct iow_fd *f, int fd, iow_cb cb, void *data);
/* Watch f for events (IOW_IN | IOW_OUT; 0 removes it). 0, or -errno from epoll_ctl. */
int iowatch_set(struct iowatch *w, struct iow_fd *f, int events);
void iowatch_remove(struct iowatch *w, struct iow_fd *f);

#endif
