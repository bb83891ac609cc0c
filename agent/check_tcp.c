/* SPDX-License-Identifier: ISC */
/*
 * check_tcp.c - the "tcp" check type: a TCP connect to address:port (IPv4
 * or IPv6), optionally from a chosen source address. It passes when the
 * handshake completes; it never sends a byte, and closes with a RST. The
 * timeout is check_run's.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util.h"

/* One connect attempt. It outlives the run when cancelled: the handle is
 * closed by libuv and the attempt freed in the close callback. */
struct tcp_attempt {
	struct check_run *run; /* NULL once finished or cancelled */
	uv_tcp_t tcp;
	uv_connect_t req;
	double t0;
	char peer[64]; /* "192.0.2.1:22" or "[2001:db8::1]:22" for details */
};

static void attempt_closed(uv_handle_t *handle)
{
	free(handle->data);
}

/* Detach from the run and release the socket; safe to call once. */
static struct check_run *attempt_end(struct tcp_attempt *att)
{
	struct check_run *run = att->run;

	att->run = NULL;
	if (run != NULL)
		run->priv = NULL;
	uv_close((uv_handle_t *)&att->tcp, attempt_closed);
	return run;
}

static int make_sockaddr(const struct conf_addr *a, unsigned port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6)
		return uv_ip6_addr(a->host, (int)port, (struct sockaddr_in6 *)ss);
	return uv_ip4_addr(a->host, (int)port, (struct sockaddr_in *)ss);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct tcp_attempt *att = req->data;
	struct check_run *run = att->run;
	double ms;

	if (run == NULL) /* cancelled: the close is already under way */
		return;
	run->rep.t_connect = mono_now() - att->t0;
	ms = run->rep.t_connect * 1000.0;
	attempt_end(att);
	if (status == 0)
		check_run_finish(run, RES_OK, "connected to %s in %.1f ms", att->peer, ms);
	else if (status == UV_ECONNREFUSED)
		check_run_finish(run, RES_CONNECT_REFUSED,
		                 "%s refused the connection after %.1f ms", att->peer, ms);
	else
		check_run_finish(run, RES_CONNECT_FAILED, "connect to %s failed after %.1f ms: %s",
		                 att->peer, ms, uv_strerror(status));
}

static int tcp_start(struct check_run *run)
{
	const struct tcp_conf *c = &run->conf->u.tcp;
	struct sockaddr_storage dst, src;
	struct tcp_attempt *att;
	uv_os_fd_t fd;
	int err;

	if (make_sockaddr(&c->address, c->address.port, &dst) != 0) {
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail),
		         "address \"%s\" is not a numeric address", c->address.host);
		return -1;
	}
	if (c->has_source && make_sockaddr(&c->source, 0, &src) != 0) {
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail),
		         "source \"%s\" is not a numeric address", c->source.host);
		return -1;
	}

	att = xcalloc(1, sizeof(*att));
	snprintf(att->peer, sizeof(att->peer), c->address.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
	         c->address.host, c->address.port);
	err = uv_tcp_init_ex(run->loop, &att->tcp,
	                     c->address.family == AF_INET6 ? AF_INET6 : AF_INET);
	if (err != 0) {
		free(att);
		run->rep.code = RES_CONNECT_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "cannot create a socket: %s",
		         uv_strerror(err));
		return -1;
	}
	if (uv_fileno((uv_handle_t *)&att->tcp, &fd) == 0)
		check_socket_reset_on_close(fd);
	att->tcp.data = att;
	att->req.data = att;
	att->run = run;
	run->priv = att;

	if (c->has_source) {
		err = uv_tcp_bind(&att->tcp, (const struct sockaddr *)&src, 0);
		if (err != 0) {
			attempt_end(att);
			run->rep.code = RES_CONNECT_FAILED;
			snprintf(
			    run->rep.detail, sizeof(run->rep.detail),
			    "cannot use source address %s: %s (is it configured on this host?)",
			    c->source.host, uv_strerror(err));
			return -1;
		}
	}
	att->t0 = mono_now();
	err = uv_tcp_connect(&att->req, &att->tcp, (const struct sockaddr *)&dst, connect_cb);
	if (err != 0) {
		attempt_end(att);
		run->rep.code = err == UV_ECONNREFUSED ? RES_CONNECT_REFUSED : RES_CONNECT_FAILED;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "connect to %s failed: %s",
		         att->peer, uv_strerror(err));
		return -1;
	}
	return 0;
}

static void tcp_cancel(struct check_run *run)
{
	struct tcp_attempt *att = run->priv;

	if (att != NULL)
		attempt_end(att);
}

const struct check_ops check_tcp_ops = {
    .type = "tcp",
    .start = tcp_start,
    .cancel = tcp_cancel,
};
