/* SPDX-License-Identifier: ISC */
/* tests/bench/floor.c - the CPU floor of the check benchmark (tests/bench/checks.sh -F).
 *
 * A standalone client (libc + epoll, nothing of the agent, no libcurl/c-ares/libuv) that does
 * the same network work as the agent's checks, so the agent's CPU can be compared with the
 * least any client can spend on it: every probe a fresh socket, evenly spread over the second.
 *   http: nonblocking TCP connect to 127.0.0.1:PORT (TCP_NODELAY), GET / with
 *         Host: www.example.test, read the headers + Content-Length body, expect 200, close.
 *   dns:  UDP socket connected to 127.0.0.1:DNSPORT, SOA query for example.test. (RD=0),
 *         expect the same ID, NOERROR and AA, close.
 * Every probe has a 500 ms timeout. At the end (after -t seconds, or SIGTERM/SIGINT) it prints
 * the probes done, the failures, the schedule lag (in the agent's own format, so checks.sh
 * parses both alike) and its CPU (getrusage utime+stime / wall) in % of one core.
 * Two variants, to tell what the agent's own choices cost:
 *   -k  dns: keep the connected UDP sockets between queries, as the agent's pooled c-ares
 *       channels do (a reply with another ID, a late one, is read and dropped);
 *   -c  http: make each GET with libcurl (multi socket interface on this epoll set, a new easy
 *       handle per probe, the agent's options: connect_to, a fresh connection, no proxy, no
 *       signals, 500 ms timeout), expecting status 200: libcurl's cost with nothing around it.
 *   -r  http: end every connection with a RST (SO_LINGER 0), as the agent does since
 *       2026-11-26, instead of a FIN (no TIME_WAIT left behind).
 *
 * Usage: floor [-k] [-c] [-r] [-H HTTP_PER_S] [-D DNS_PER_S] [-t SECONDS] -p HTTP_PORT -d DNS_PORT
 *   (default -H 500 -D 500 -t 10; -t 0 runs until SIGTERM)
 * Build: cc -O2 -Wall -Wextra -o floor floor.c -lcurl
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_NS    500000000LL
#define MAX_PROBES    8192 /* in flight at once: 1000/s * 0.5 s needs 500 */
#define RBUF          2048
#define LAG_BUCKET_NS 10000LL /* lag histogram: 10 us buckets up to 1 s */
#define LAG_BUCKETS   100000
#define MAX_FD        65536
/* epoll data: a probe pointer, or one of these tags with a descriptor in the low bits */
#define TAG_DNS_SOCK (1ULL << 63) /* -k: a kept UDP socket */
#define TAG_CURL     (1ULL << 62) /* -c: a socket of libcurl's */

enum kind { HTTP, DNS };
enum fail { F_TIMEOUT, F_SOCKET, F_CONNECT, F_SEND, F_RECV, F_REPLY, F_COUNT };
static const char *const fail_name[F_COUNT] = {"timeout", "socket", "connect",
                                               "send",    "recv",   "bad reply"};

struct probe {
	struct probe *prev, *next; /* in flight, oldest first: all share one timeout */
	int fd;
	enum kind kind;
	int sent;
	uint16_t id;
	long long deadline;
	size_t got;
	char buf[RBUF];
};

static const char http_req[] = "GET / HTTP/1.1\r\nHost: www.example.test\r\nUser-Agent: floor\r\n"
                               "Accept: */*\r\n\r\n";

static struct probe pool[MAX_PROBES], *free_list;
static int pool_used; /* pool[pool_used..] never used yet: untouched, not resident */
static struct probe inflight = {.prev = &inflight, .next = &inflight};
static int ep;
static struct sockaddr_in http_addr, dns_addr;
static unsigned long done[2], failed[2][F_COUNT];
static uint32_t lag_hist[LAG_BUCKETS + 1];
static unsigned long lag_n;
static long long lag_max;
static volatile sig_atomic_t stop;
static uint64_t rng;
/* -k: who waits on a kept UDP socket (NULL: idle), and the idle ones */
static int keep_dns;
static struct probe *dns_owner[MAX_FD];
static int dns_idle[MAX_FD], n_idle;
/* -r */
static int reset_close;
/* -c */
static int use_curl;
static CURLM *multi;
static long long curl_due = -1;
static char probe_url[64];
static struct curl_slist *connect_to;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint16_t rand16(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint16_t)(rng >> 24);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void finish(struct probe *p, int fail)
{
	if (fail < 0)
		done[p->kind]++;
	else
		failed[p->kind][fail]++;
	if (p->fd >= 0 && keep_dns && p->kind == DNS)
		dns_owner[p->fd] = NULL;
	/* -k: a socket that answered or stayed silent is kept; one that failed is closed */
	if (p->fd >= 0 && keep_dns && p->kind == DNS && (fail < 0 || fail == F_TIMEOUT))
		dns_idle[n_idle++] = p->fd;
	else if (p->fd >= 0)
		close(p->fd); /* also drops it from the epoll set */
	p->prev->next = p->next;
	p->next->prev = p->prev;
	p->next = free_list;
	free_list = p;
}

static void record_lag(long long lag)
{
	long long b = lag / LAG_BUCKET_NS;

	lag_hist[b < LAG_BUCKETS ? b : LAG_BUCKETS]++;
	lag_n++;
	if (lag > lag_max)
		lag_max = lag;
}

/* 12-byte header + example.test. + QTYPE SOA + QCLASS IN */
static size_t dns_query(unsigned char *q, uint16_t id)
{
	static const unsigned char rest[] = {0x00, 0x00, /* flags: QUERY, RD=0 */
	                                     0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7,
	                                     'e',  'x',  'a',  'm',  'p',  'l',  'e',  4,    't',
	                                     'e',  's',  't',  0,    0x00, 0x06, 0x00, 0x01};

	q[0] = id >> 8;
	q[1] = id & 0xff;
	memcpy(q + 2, rest, sizeof(rest));
	return 2 + sizeof(rest);
}

static size_t curl_discard(char *ptr, size_t size, size_t n, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * n;
}

static void set_reset_close(int fd)
{
	static const struct linger rst = {.l_onoff = 1, .l_linger = 0};

	if (reset_close)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

static int curl_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	(void)arg;
	(void)purpose;
	set_reset_close(fd);
	return CURL_SOCKOPT_OK;
}

static void curl_start(void)
{
	CURL *e = curl_easy_init();

	if (!e) {
		failed[HTTP][F_SOCKET]++;
		return;
	}
	curl_easy_setopt(e, CURLOPT_URL, probe_url);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, connect_to);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(TIMEOUT_NS / 1000000));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, curl_discard);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, curl_sockopt);
	curl_multi_add_handle(multi, e);
}

static void curl_collect(void)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(multi, &left)) != NULL) {
		long code = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
		if (m->data.result == CURLE_OK && code == 200)
			done[HTTP]++;
		else
			failed[HTTP][m->data.result == CURLE_OPERATION_TIMEDOUT ? F_TIMEOUT
			             : m->data.result == CURLE_OK               ? F_REPLY
			                                                        : F_RECV]++;
		curl_multi_remove_handle(multi, m->easy_handle);
		curl_easy_cleanup(m->easy_handle);
	}
}

static int curl_socket_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct epoll_event ev = {.data.u64 = TAG_CURL | (uint64_t)s};

	(void)e;
	(void)userp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(ep, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0) {
		perror("floor: epoll_ctl (curl)");
		exit(1);
	}
	if (!socketp)
		curl_multi_assign(multi, s, (void *)1);
	return 0;
}

static int curl_timer_cb(CURLM *m, long ms, void *userp)
{
	(void)m;
	(void)userp;
	curl_due = ms < 0 ? -1 : now_ns() + ms * 1000000LL;
	return 0;
}

/* -k: an idle kept socket, or a new connected one in the epoll set for good; -1 on failure */
static int dns_socket(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd;

	if (n_idle > 0)
		return dns_idle[--n_idle];
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0 || fd >= MAX_FD ||
	    connect(fd, (struct sockaddr *)&dns_addr, sizeof(dns_addr)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ev.data.u64 = TAG_DNS_SOCK | (uint64_t)fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("floor: epoll_ctl ADD");
		exit(1);
	}
	return fd;
}

/* A DNS probe's query on its connected socket; 0, or -1 when it could not be sent. */
static int dns_send(struct probe *p)
{
	unsigned char q[64];
	size_t n;

	p->id = rand16();
	n = dns_query(q, p->id);
	if (send(p->fd, q, n, 0) != (ssize_t)n)
		return -1;
	p->sent = 1;
	return 0;
}

static void start(enum kind kind, long long planned)
{
	struct probe *p = free_list;
	struct epoll_event ev;
	long long t = now_ns();

	record_lag(t - planned);
	if (kind == HTTP && use_curl) {
		curl_start();
		return;
	}
	if (p) {
		free_list = p->next;
	} else if (pool_used < MAX_PROBES) {
		p = &pool[pool_used++];
	} else {
		fprintf(stderr, "floor: more than %d probes in flight\n", MAX_PROBES);
		exit(1);
	}
	p->kind = kind;
	p->sent = 0;
	p->got = 0;
	p->deadline = t + TIMEOUT_NS;
	p->prev = inflight.prev;
	p->next = &inflight;
	inflight.prev->next = p;
	inflight.prev = p;
	if (kind == DNS && keep_dns) {
		if ((p->fd = dns_socket()) < 0) {
			finish(p, F_SOCKET);
			return;
		}
		dns_owner[p->fd] = p;
		if (dns_send(p) < 0)
			finish(p, F_SEND);
		return;
	}
	p->fd = socket(AF_INET, (kind == HTTP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (p->fd < 0) {
		finish(p, F_SOCKET);
		return;
	}
	ev.data.ptr = p;
	if (kind == HTTP) {
		int one = 1;

		setsockopt(p->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		set_reset_close(p->fd);
		if (connect(p->fd, (struct sockaddr *)&http_addr, sizeof(http_addr)) < 0 &&
		    errno != EINPROGRESS) {
			finish(p, F_CONNECT);
			return;
		}
		ev.events = EPOLLOUT;
	} else {
		if (connect(p->fd, (struct sockaddr *)&dns_addr, sizeof(dns_addr)) < 0) {
			finish(p, F_CONNECT);
			return;
		}
		if (dns_send(p) < 0) {
			finish(p, F_SEND);
			return;
		}
		ev.events = EPOLLIN;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p->fd, &ev) < 0) {
		perror("floor: epoll_ctl ADD");
		exit(1);
	}
}

/* -1 while incomplete, 1 when a 200 with its whole Content-Length body is in, 0 if bad */
static int http_complete(struct probe *p)
{
	const char *end, *cl;
	size_t hlen;
	long len;

	end = memmem(p->buf, p->got, "\r\n\r\n", 4);
	if (!end)
		return p->got < sizeof(p->buf) ? -1 : 0;
	if (p->got < 13 || memcmp(p->buf, "HTTP/1.", 7) || memcmp(p->buf + 8, " 200", 4))
		return 0;
	hlen = end + 4 - p->buf;
	p->buf[hlen - 2] = '\0'; /* the headers end here; strcasestr stops */
	cl = strcasestr(p->buf, "\r\nContent-Length:");
	p->buf[hlen - 2] = '\r';
	if (!cl)
		return 0;
	len = strtol(cl + 17, NULL, 10);
	if (len < 0 || hlen + len > sizeof(p->buf))
		return 0;
	return p->got >= hlen + (size_t)len ? 1 : -1;
}

static void on_event(struct probe *p)
{
	ssize_t n;

	if (p->kind == HTTP && !p->sent) {
		int err = 0;
		socklen_t el = sizeof(err);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};

		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			finish(p, F_CONNECT);
			return;
		}
		if (send(p->fd, http_req, sizeof(http_req) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(http_req) - 1) {
			finish(p, F_SEND);
			return;
		}
		p->sent = 1;
		if (epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &ev) < 0) {
			perror("floor: epoll_ctl MOD");
			exit(1);
		}
		return;
	}
	if (p->kind == DNS) {
		unsigned char *r = (unsigned char *)p->buf;

		n = recv(p->fd, r, sizeof(p->buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			finish(p, F_RECV);
			return;
		}
		/* -k: a late reply to an earlier query on this socket */
		if (keep_dns && n >= 2 && ((r[0] << 8) | r[1]) != p->id)
			return;
		/* ID, QR=1, AA=1, RCODE=0 */
		if (n < 12 || ((r[0] << 8) | r[1]) != p->id || !(r[2] & 0x80) || !(r[2] & 0x04) ||
		    (r[3] & 0x0f)) {
			finish(p, F_REPLY);
			return;
		}
		finish(p, -1);
		return;
	}
	for (;;) {
		int c;

		n = recv(p->fd, p->buf + p->got, sizeof(p->buf) - p->got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			finish(p, F_RECV);
			return;
		}
		p->got += n;
		c = http_complete(p);
		if (c >= 0) {
			finish(p, c ? -1 : F_REPLY);
			return;
		}
	}
}

static int port_arg(const char *s)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*e || v < 1 || v > 65535) {
		fprintf(stderr, "floor: \"%s\" is not a port (1-65535)\n", s);
		exit(2);
	}
	return (int)v;
}

static long count_arg(const char *s)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*e || v < 0 || v > 100000) {
		fprintf(stderr, "floor: \"%s\" is not a count (0-100000)\n", s);
		exit(2);
	}
	return v;
}

static double lag_pct(double q)
{
	unsigned long want = (unsigned long)(q * lag_n), seen = 0;
	int b;

	for (b = 0; b < LAG_BUCKETS; b++) {
		seen += lag_hist[b];
		if (seen > want)
			break;
	}
	return b * LAG_BUCKET_NS / 1e6;
}

int main(int argc, char **argv)
{
	long n_http = 500, n_dns = 500, secs = 10;
	int hport = 0, dport = 0, o, i, k;
	long long t0, end, next[2], step[2], no = -1;
	struct epoll_event evs[64];
	struct sigaction sa = {.sa_handler = on_signal};
	struct rusage ru;
	double wall, cpu;
	unsigned long nfail = 0;

	while ((o = getopt(argc, argv, "krcH:D:t:p:d:")) != -1) {
		switch (o) {
		case 'k':
			keep_dns = 1;
			break;
		case 'r':
			reset_close = 1;
			break;
		case 'c':
			use_curl = 1;
			break;
		case 'H':
			n_http = count_arg(optarg);
			break;
		case 'D':
			n_dns = count_arg(optarg);
			break;
		case 't':
			secs = count_arg(optarg);
			break;
		case 'p':
			hport = port_arg(optarg);
			break;
		case 'd':
			dport = port_arg(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: floor [-k] [-c] [-r] [-H HTTP_PER_S] [-D DNS_PER_S] "
			        "[-t SECONDS] -p HTTP_PORT -d DNS_PORT\n");
			return 2;
		}
	}
	if ((n_http && !hport) || (n_dns && !dport)) {
		fprintf(stderr, "floor: give -p HTTP_PORT (or -H 0) and -d DNS_PORT (or -D 0)\n");
		return 2;
	}
	http_addr.sin_family = dns_addr.sin_family = AF_INET;
	http_addr.sin_addr.s_addr = dns_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	http_addr.sin_port = htons(hport);
	dns_addr.sin_port = htons(dport);
	if (getrandom(&rng, sizeof(rng), 0) != sizeof(rng) || !rng)
		rng = (uint64_t)now_ns() | 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		perror("floor: epoll_create1");
		return 1;
	}
	if (use_curl) {
		char to[64];

		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
		    !(multi = curl_multi_init())) {
			fprintf(stderr, "floor: cannot set up libcurl\n");
			return 1;
		}
		snprintf(probe_url, sizeof(probe_url), "http://www.example.test:%d/", hport);
		snprintf(to, sizeof(to), "www.example.test:%d:127.0.0.1:%d", hport, hport);
		connect_to = curl_slist_append(NULL, to);
		curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
		curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	}

	t0 = now_ns();
	end = secs ? t0 + secs * 1000000000LL : -1;
	/* http and dns each evenly spread over the second, dns half a step after http */
	step[HTTP] = n_http ? 1000000000LL / n_http : 0;
	step[DNS] = n_dns ? 1000000000LL / n_dns : 0;
	next[HTTP] = n_http ? t0 : no;
	next[DNS] = n_dns ? t0 + step[DNS] / 2 : no;
	while (!stop) {
		long long t = now_ns(), wake = end;
		int n, timeout;

		if (end >= 0 && t >= end)
			break;
		for (k = HTTP; k <= DNS; k++) {
			while (next[k] >= 0 && next[k] <= t) {
				start(k, next[k]);
				next[k] += step[k];
			}
			if (next[k] >= 0 && (wake < 0 || next[k] < wake))
				wake = next[k];
		}
		while (inflight.next != &inflight && inflight.next->deadline <= t)
			finish(inflight.next, F_TIMEOUT);
		if (inflight.next != &inflight && (wake < 0 || inflight.next->deadline < wake))
			wake = inflight.next->deadline;
		if (curl_due >= 0 && curl_due <= t) {
			int running;

			curl_due = -1;
			curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
			curl_collect();
		}
		if (curl_due >= 0 && (wake < 0 || curl_due < wake))
			wake = curl_due;
		/* whole ms, rounded up, like a libuv timer */
		timeout = wake < 0 ? -1 : (int)((wake - t + 999999) / 1000000);
		n = epoll_wait(ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			perror("floor: epoll_wait");
			return 1;
		}
		for (i = 0; i < n; i++) {
			uint64_t u = evs[i].data.u64;
			int fd = (int)(u & 0xffffffffu);

			if (u & TAG_CURL) {
				int running,
				    what = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
				           (evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
				           (evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR
				                                                  : 0);

				curl_multi_socket_action(multi, fd, what, &running);
				curl_collect();
			} else if (u & TAG_DNS_SOCK) {
				unsigned char drop[512];

				if (dns_owner[fd])
					on_event(dns_owner[fd]);
				else /* idle: a late reply */
					while (recv(fd, drop, sizeof(drop), 0) >= 0)
						;
			} else {
				on_event(evs[i].data.ptr);
			}
		}
	}
	/* what is still in flight at the end is neither done nor failed */
	wall = (now_ns() - t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	      ru.ru_stime.tv_usec / 1e6;
	printf("floor: %.1f s, http %lu done, dns %lu done", wall, done[HTTP], done[DNS]);
	for (k = HTTP; k <= DNS; k++)
		for (i = 0; i < F_COUNT; i++)
			if (failed[k][i])
				printf(", %s %s %lu", k == HTTP ? "http" : "dns", fail_name[i],
				       failed[k][i]);
	for (k = HTTP; k <= DNS; k++)
		for (i = 0; i < F_COUNT; i++)
			nfail += failed[k][i];
	printf("\nfailures: %lu\n", nfail);
	printf("schedule lag over %lu runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", lag_n,
	       lag_pct(0.5), lag_pct(0.99), lag_max / 1e6);
	printf("cpu: %.1f %% of one core (user %.2f s, sys %.2f s over %.1f s)\n", 100 * cpu / wall,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, wall);
	return 0;
}
