/* SPDX-License-Identifier: ISC */
/*
 * loadgen.c - what clients of an anycast address see: HTTP GETs, each over a
 * fresh TCP connection, and DNS queries, each from a fresh UDP socket, started
 * at a fixed rate whatever the answers do (an open loop: a dead server does
 * not slow the client down), each recorded with its start, end, outcome and
 * the PoP that answered. For test_e2e_planned_stop.sh and lab/bench/clients.
 *
 *   loadgen [-H ADDR[:PORT]] [-D ADDR[:PORT]] [-r PER_SECOND] [-t TIMEOUT_MS]
 *           [-d SECONDS] [-o LOG] [-n HOST] [-q QNAME]
 *
 * -H: HTTP to ADDR (port 80), GET / with Host: -n (www.example.test); the body's first
 * line names the PoP. -D: DNS to ADDR (port 53), TXT -q (pop.example.test.); the TXT
 * names the PoP. Each kind at -r requests per second (default 500), each failing after
 * -t ms (default 1000) without an answer. Runs -d seconds (0: until SIGTERM or SIGINT).
 * LOG gets one line per request as it ends:
 *   START_US END_US KIND OK POP|ERROR        (wall clock, microseconds; KIND http or dns)
 * and stdout a summary at the end: "http 1000 sent, 998 ok, 2 failed" per kind.
 * A failure: refused, reset, unreachable, timed out, or an answer that is not 200 /
 * NOERROR with a TXT.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { K_HTTP, K_DNS };

struct req {
	enum kind kind;
	int fd;
	uint64_t start_us;
	uint16_t id;
	char buf[1024];
	size_t len;
	bool sent;
	struct req *next; /* in flight */
};

struct target {
	bool on;
	struct sockaddr_storage sa;
	socklen_t salen;
	uint64_t next_us, sent, ok, failed;
};

static struct target targets[2];
static struct req *inflight;
static int ep;
static FILE *logfile;
static const char *host = "www.example.test", *qname = "pop.example.test.";
static volatile sig_atomic_t stop;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static bool parse_target(const char *s, unsigned defport, struct target *t)
{
	char addr[128];
	unsigned port = defport;
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *a4 = (struct sockaddr_in *)&t->sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&t->sa;

	if (s[0] == '[') { /* [2001:db8::53]:53 */
		const char *e = strchr(s, ']');
		if (!e || (size_t)(e - s - 1) >= sizeof(addr))
			return false;
		snprintf(addr, sizeof(addr), "%.*s", (int)(e - s - 1), s + 1);
		if (e[1] == ':')
			port = (unsigned)atoi(e + 2);
	} else if (colon && strchr(s, ':') == colon) { /* 192.0.2.80:80 */
		snprintf(addr, sizeof(addr), "%.*s", (int)(colon - s), s);
		port = (unsigned)atoi(colon + 1);
	} else {
		snprintf(addr, sizeof(addr), "%s", s);
	}
	memset(&t->sa, 0, sizeof(t->sa));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		t->salen = sizeof(*a4);
	} else if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		t->salen = sizeof(*a6);
	} else {
		return false;
	}
	t->on = port > 0 && port < 65536;
	return t->on;
}

/* ok: 1 answered, 0 failed, -1 still in flight at the end (neither) */
static void finish(struct req *r, int ok, const char *what)
{
	struct req **pp;
	struct target *t = &targets[r->kind];

	for (pp = &inflight; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	epoll_ctl(ep, EPOLL_CTL_DEL, r->fd, NULL);
	close(r->fd);
	if (ok > 0)
		t->ok++;
	else if (ok == 0)
		t->failed++;
	if (logfile && ok >= 0)
		fprintf(logfile, "%llu %llu %s %d %s\n", (unsigned long long)r->start_us,
		        (unsigned long long)now_us(), r->kind == K_HTTP ? "http" : "dns", ok, what);
	free(r);
}

/* The first line of an HTTP body, if the status is 200. */
static bool http_answer(struct req *r, char *pop, size_t len)
{
	char *body;

	r->buf[r->len] = '\0';
	if (strncmp(r->buf, "HTTP/1.", 7) != 0 || strncmp(r->buf + 8, " 200", 4) != 0)
		return false;
	body = strstr(r->buf, "\r\n\r\n");
	if (!body)
		return false;
	body += 4;
	snprintf(pop, len, "%.*s", (int)strcspn(body, "\r\n "), body);
	return pop[0] != '\0';
}

static size_t dns_query(uint16_t id, unsigned char *q)
{
	size_t n = 12;
	const char *p = qname;

	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[5] = 1; /* one question, RD off */
	while (*p && *p != '.') {
		size_t l = strcspn(p, ".");
		q[n++] = (unsigned char)l;
		memcpy(q + n, p, l);
		n += l;
		p += l;
		if (*p == '.')
			p++;
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = 16; /* TXT */
	q[n++] = 0, q[n++] = 1;  /* IN */
	return n;
}

/* The first TXT string of a NOERROR answer with our id. */
static bool dns_answer(const struct req *r, const unsigned char *m, size_t len, char *pop,
                       size_t plen)
{
	size_t o = 12;

	if (len < 12 || ((m[0] << 8) | m[1]) != r->id || (m[3] & 0x0f) != 0 ||
	    ((m[6] << 8) | m[7]) == 0)
		return false;
	/* skip the question */
	while (o < len && m[o] != 0) {
		if (m[o] >= 0xc0) {
			o++;
			break;
		}
		o += m[o] + 1u;
	}
	o += 5;
	/* the answer: name, type, class, ttl, rdlength, then the TXT's first string */
	if (o < len && m[o] >= 0xc0)
		o += 2;
	else
		while (o < len && m[o] != 0)
			o += m[o] + 1u;
	o += 10;
	if (o >= len || o + 1 + m[o] > len)
		return false;
	snprintf(pop, plen, "%.*s", (int)m[o], (const char *)m + o + 1);
	return true;
}

static void start(enum kind k)
{
	struct target *t = &targets[k];
	struct req *r = calloc(1, sizeof(*r));
	struct epoll_event ev = {.data.ptr = r};
	int fd;

	t->sent++;
	r->kind = k;
	r->start_us = now_us();
	fd = socket(t->sa.ss_family,
	            (k == K_HTTP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	r->fd = fd;
	r->next = inflight;
	inflight = r;
	if (fd < 0) {
		finish(r, 0, "socket");
		return;
	}
	if (k == K_HTTP) {
		static const struct linger rst = {1, 0};
		/* no TIME_WAIT pile-up at hundreds of connections a second */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	}
	if (connect(fd, (struct sockaddr *)&t->sa, t->salen) < 0 && errno != EINPROGRESS) {
		finish(r, 0, strerror(errno));
		return;
	}
	if (k == K_DNS) {
		unsigned char q[512];
		size_t n;

		r->id = (uint16_t)(t->sent * 2654435761u >> 16);
		n = dns_query(r->id, q);
		if (send(fd, q, n, 0) < 0) {
			finish(r, 0, strerror(errno));
			return;
		}
		r->sent = true;
		ev.events = EPOLLIN;
	} else {
		ev.events = EPOLLOUT | EPOLLIN;
	}
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void on_event(struct req *r, uint32_t events)
{
	char pop[64];
	int err = 0;
	socklen_t el = sizeof(err);

	if (events & EPOLLERR) {
		getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		finish(r, 0, strerror(err ? err : EIO));
		return;
	}
	if (r->kind == K_DNS) {
		unsigned char m[1500];
		ssize_t n = recv(r->fd, m, sizeof(m), 0);

		if (n < 0) {
			if (errno != EAGAIN)
				finish(r, 0, strerror(errno));
			return;
		}
		if (dns_answer(r, m, (size_t)n, pop, sizeof(pop)))
			finish(r, 1, pop);
		else
			finish(r, 0, "bad-answer");
		return;
	}
	if (!r->sent && (events & EPOLLOUT)) {
		char req[256];
		int n = snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = r};

		if (send(r->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
			getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &el);
			finish(r, 0, strerror(err ? err : errno));
			return;
		}
		r->sent = true;
		epoll_ctl(ep, EPOLL_CTL_MOD, r->fd, &ev);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP)) {
		for (;;) {
			ssize_t n = recv(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len, 0);

			if (n < 0 && errno == EAGAIN)
				return;
			if (n < 0) {
				finish(r, 0, strerror(errno));
				return;
			}
			if (n == 0 || r->len + (size_t)n >= sizeof(r->buf) - 1) {
				r->len += (size_t)n;
				if (http_answer(r, pop, sizeof(pop)))
					finish(r, 1, pop);
				else
					finish(r, 0, r->len ? "bad-answer" : "closed");
				return;
			}
			r->len += (size_t)n;
		}
	}
}

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	double rate = 500, secs = 0, timeout_ms = 1000;
	uint64_t step, end_us, t0;
	const char *logpath = NULL;
	int c;

	while ((c = getopt(argc, argv, "H:D:r:t:d:o:n:q:")) != -1) {
		switch (c) {
		case 'H':
			if (!parse_target(optarg, 80, &targets[K_HTTP]))
				return fprintf(stderr, "loadgen: bad address %s\n", optarg), 2;
			break;
		case 'D':
			if (!parse_target(optarg, 53, &targets[K_DNS]))
				return fprintf(stderr, "loadgen: bad address %s\n", optarg), 2;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 't':
			timeout_ms = atof(optarg);
			break;
		case 'd':
			secs = atof(optarg);
			break;
		case 'o':
			logpath = optarg;
			break;
		case 'n':
			host = optarg;
			break;
		case 'q':
			qname = optarg;
			break;
		default:
			fprintf(stderr,
			        "usage: loadgen [-H ADDR[:PORT]] [-D ADDR[:PORT]] [-r PER_S] "
			        "[-t TIMEOUT_MS] [-d SECONDS] [-o LOG] [-n HOST] [-q QNAME]\n");
			return 2;
		}
	}
	if (!(rate > 0) || (!targets[K_HTTP].on && !targets[K_DNS].on)) {
		fprintf(stderr, "loadgen: give -H and/or -D, and a rate above 0\n");
		return 2;
	}
	if (logpath && !(logfile = fopen(logpath, "w"))) {
		perror(logpath);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	step = (uint64_t)(1e6 / rate);
	t0 = now_us();
	end_us = secs > 0 ? t0 + (uint64_t)(secs * 1e6) : UINT64_MAX;
	/* the two kinds half a step apart */
	targets[K_HTTP].next_us = t0;
	targets[K_DNS].next_us = t0 + step / 2;
	while (!stop) {
		struct epoll_event evs[64];
		uint64_t now = now_us(), next = end_us;
		int n, wait_ms;

		if (now >= end_us)
			break;
		for (int k = 0; k < 2; k++) {
			struct target *t = &targets[k];

			while (t->on && t->next_us <= now) {
				start((enum kind)k);
				t->next_us += step;
			}
			if (t->on && t->next_us < next)
				next = t->next_us;
		}
		/* time outs */
		for (struct req *r = inflight, *nx; r; r = nx) {
			nx = r->next;
			if (now > r->start_us && now - r->start_us >= (uint64_t)(timeout_ms * 1e3))
				finish(r, 0, "timeout");
		}
		wait_ms = next > now ? (int)((next - now + 999) / 1000) : 0;
		n = epoll_wait(ep, evs, 64, wait_ms > 10 ? 10 : wait_ms);
		for (int i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events);
	}
	while (inflight)
		finish(inflight, -1, "stopped");
	if (logfile)
		fclose(logfile);
	for (int k = 0; k < 2; k++)
		if (targets[k].on)
			printf("%s %llu sent, %llu ok, %llu failed\n", k == K_HTTP ? "http" : "dns",
			       (unsigned long long)targets[k].sent,
			       (unsigned long long)targets[k].ok,
			       (unsigned long long)targets[k].failed);
	return 0;
}
