/* SPDX-License-Identifier: ISC */
/*
 * check_dns.c - the "dns" check type: one probe of a local DNS server over
 * UDP, TCP or both, judged by dns_eval.c, optionally with the zone's SOA
 * serial compared against a reference server (the primary).
 *
 * c-ares is used as a probe, not a resolver: one channel per query of a run
 * (server, transport), NOCHECKRESP so REFUSED/SERVFAIL reach us, one try, no
 * search list, no resolv.conf servers, no answer cache. A query borrows its
 * channel from a small pool of idle channels in the env and returns it when it
 * ends (one per query, or one per check, costs what BENCHMARKS.md says). A TCP channel opens a
 * fresh connection per query and closes it when the query ends; a UDP channel keeps its connected
 * socket while it waits in the pool (STAYOPEN), as a resolver does. The ID is
 * random per query and every reply's ID and question are checked, so a late
 * reply to an earlier query is dropped (and counted). c-ares closes the socket
 * on an error (a port-unreachable), so a restarted server is asked afresh. The
 * channel owns its sockets: each is in the env's iowatch set while c-ares has
 * it open, and one uv_timer_t per run drives ares_timeout(). Socket functions
 * are wrapped so the check sees what c-ares silently drops: a reply with the
 * right ID but a different question or too short a header ends the query at
 * once with DNS_QUESTION_MISMATCH / DNS_MALFORMED instead of waiting for the
 * timeout.
 *
 * A run sends its queries in parallel: the main query per transport, for
 * soa_reference the local SOA query (only when qtype is not SOA), and the
 * reference's SOA query (over UDP, or TCP for transport "tcp"). The serial
 * of the zone is taken from the SOA of the answer section, else of the
 * authority section, so an SOA query for any name inside the zone works.
 * With transport "both" the UDP reply's serial is the local one. A reference
 * that fails (no reply, refused, no SOA) never fails the check: the detail
 * says "reference unreachable (...)". c-ares gives up at 90% of the check's
 * timeout (at most 50 ms before it), so the run reports which query timed
 * out before the driver's guard would.
 *
 * With expect_dnssec the main queries carry the DO bit (EDNS0, 1232 bytes) and
 * their replies are kept; a DO reply truncated over UDP is asked again over TCP,
 * as a validating resolver does. Once the answers are in and good, one DNSKEY
 * query goes to the zone their RRSIGs name (over UDP, TCP for transport "tcp"),
 * unless a DNSKEY reply younger than DNSKEY_KEEP lets the answers pass; it must
 * end by the same deadline. dnssec.c judges the signatures; verified ones are
 * remembered per check (dnssec_cache).
 *
 * Results: c-ares ARES_ETIMEOUT -> TIMEOUT; ARES_ECONNREFUSED -> CONNECT_REFUSED
 * when the socket said ECONNREFUSED (TCP RST; over UDP the ICMP port
 * unreachable that loopback and most hosts send for a stopped server - a
 * filtered port gives TIMEOUT instead), CONNECT_FAILED when a TCP server
 * closed without a reply or another socket error; replies as judged by
 * dns_eval_reply(). Detail: "udp: NOERROR flags=aa an=1 serial=5 0.4ms",
 * failing queries first as "tcp failed: <why> (<summary>)", then the serial.
 */
#include <config.h>

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"
#include "dns_eval.h"
#include "dnssec.h"
#include "log.h"
#include "util.h"

#define DNS_MSG_MAX 65535
/* udp + tcp + local SOA + reference SOA + DNSKEY, + TCP retries of truncated DO replies */
#define QUERY_MAX 8
/* the EDNS buffer size of a DO query: no IP fragments on any path (DNS flag day 2020) */
#define EDNS_UDP_SIZE 1232

enum query_role { Q_MAIN, Q_LOCAL_SOA, Q_REF, Q_DNSKEY };

struct dns_query;

/* A pooled channel; c-ares callbacks get this holder, which names the query using it now. */
struct dns_chan {
	ares_channel ch;
	struct dns_query *q; /* NULL while idle */
	/* what the channel was made for */
	struct ares_addr_port_node server;
	bool tcp;
	bool edns; /* for DO queries: c-ares keeps UDP replies longer than 512 bytes whole */
	long timeout_ms;
	struct iowatch *io;
	struct dns_sock *socks; /* the sockets c-ares has open for this channel */
	struct dns_chan *next;  /* in the idle list */
};

/* One socket c-ares asked us to watch, in the env's iowatch set. */
struct dns_sock {
	struct iow_fd w;
	struct dns_chan *chan;
	struct dns_sock *next;
};

struct dns_query {
	struct dns_check *dc;
	enum query_role role;
	bool tcp;
	ares_channel ch;       /* chan->ch while the query runs; NULL once it ended */
	struct dns_chan *chan; /* borrowed from the pool */
	bool done;             /* the outcome below is final */
	bool dnssec;           /* asked with the DO bit; the reply is kept for dnssec_eval() */
	bool retry;            /* the TCP retry of a truncated UDP reply */
	int superseded;        /* 1 + index of this truncated query's TCP retry; 0: none */
	struct dns_expect exp;
	bool id_known; /* c-ares picks the ID; we read it from the bytes sent */
	uint8_t sent[4];
	size_t nsent;
	double t_sent;
	/* outcome */
	enum check_result_code code;
	char detail[160];
	bool has_reply;
	struct dns_reply_info info;
	uint8_t *reply; /* the reply's bytes, for a dnssec query */
	size_t reply_len;
	double ms;
	/* what the socket wrappers saw */
	int last_errno;
	bool saw_eof;
	unsigned ignored; /* replies with a wrong ID */
	bool bad;         /* a reply c-ares drops but we judge failed */
	enum check_result_code bad_code;
	char bad_detail[120];
	uint8_t *tcpbuf; /* TCP stream reassembly */
	size_t tcplen;
};

struct dns_check {
	struct check_run *run;
	uv_timer_t timer; /* drives ares_timeout() */
	bool active;
	int nq;
	struct dns_query q[QUERY_MAX];
	double deadline; /* mono_now() by which every query must have its answer */
	/* expect_dnssec: the DNSKEY query follows the answers, at the zone their RRSIGs name */
	bool dnskey_asked;
	enum check_result_code dnssec_code; /* the answer cannot be judged: why */
	char dnssec_detail[160];
	char signer[DNSSEC_NAME_MAX];
	/* this run judged the answers with the kept DNSKEY reply: the outcome */
	bool keys_kept_used;
	enum check_result_code kept_code;
	char kept_why[CHECK_DETAIL_MAX];
	int64_t kept_expires;
	/* kept across runs: verified signatures, and the last DNSKEY reply (see DNSKEY_KEEP) */
	struct dnssec_cache cache;
	uint8_t *keys;
	size_t keys_len;
	double keys_at; /* mono_now() when it came */
	bool keys_tc;   /* it came over TCP after a truncated UDP reply */
	char keys_signer[DNSSEC_NAME_MAX];
};

/* How long a DNSKEY reply is used again before the zone's keys are asked for afresh. A run
 * whose answers do not pass with the kept keys (a key rollover, a new signer, anything that
 * fails) asks at once, so a kept reply never fails a check; what it can miss for this long is
 * a DNSKEY RRset that disappeared while the signatures of the answers still verify. */
#ifndef DNSKEY_KEEP /* -DDNSKEY_KEEP=0 builds the variant BENCHMARKS.md compares */
#define DNSKEY_KEEP 60.0
#endif

/* Idle channels kept for reuse; enough for the queries one loop has in flight at once. */
#define DNS_POOL_MAX 32

/* The env slot: c-ares library initialisation, once per env, and the channel pool. */
struct dns_env {
	int initialised;
	struct dns_chan *idle;
	int nidle;
};

static void chan_put(struct dns_env *de, struct dns_chan *c);

static void step(struct dns_check *dc);
static void on_timer(uv_timer_t *t);

static const char *tr_name(const struct dns_query *q)
{
	static const char *const names[2][3] = {{"udp", "tcp", "udp TC, tcp"},
	                                        {"dnskey udp", "dnskey tcp", "dnskey udp TC, tcp"}};

	return names[q->role == Q_DNSKEY][q->retry ? 2 : q->tcp];
}

/* Stop watching before c-ares closes the descriptor; nothing of s is used after this. */
static void close_sock(struct dns_sock *s)
{
	iowatch_remove(s->chan->io, &s->w);
	free(s);
}

/* Also for an idle channel's UDP socket: c-ares reads and drops a late reply. */
static void on_ready(struct iow_fd *w, int events)
{
	struct dns_sock *s = w->data;
	struct dns_chan *c = s->chan;
	struct dns_query *q = c->q;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	/* On an error let c-ares try both directions and find it itself. */
	if (events & (IOW_ERR | IOW_IN))
		rfd = w->fd;
	if (events & (IOW_ERR | IOW_OUT))
		wfd = w->fd;
	ares_process_fd(c->ch, rfd, wfd); /* may free s */
	if (q != NULL)
		step(q->dc);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan *c = data;
	struct dns_query *q = c->q;
	struct dns_sock *s, **pp;
	int r;

	for (pp = &c->socks; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->w.fd == fd)
			break;
	s = *pp;
	if (!readable && !writable) {
		if (s != NULL) {
			*pp = s->next;
			close_sock(s);
		}
		return;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		iowatch_fd_init(&s->w, fd, on_ready, s);
		s->chan = c;
		s->next = c->socks;
		c->socks = s;
	}
	r = iowatch_set(c->io, &s->w, (readable ? IOW_IN : 0) | (writable ? IOW_OUT : 0));
	if (r < 0 && q == NULL) {
		log_warnx("dns check: cannot watch a pooled socket: %s", strerror(-r));
	} else if (r < 0) {
		q->bad = true;
		q->bad_code = RES_INTERNAL_ERROR;
		snprintf(q->bad_detail, sizeof(q->bad_detail), "cannot watch socket: %s",
		         strerror(-r));
	}
}

/* --- socket wrappers: plain system calls that also watch the bytes ------- */

static ares_socket_t w_socket(int domain, int type, int protocol, void *arg)
{
	/* c-ares leaves user-managed sockets as they are: make them non-blocking */
	return check_socket(domain, type | SOCK_NONBLOCK, protocol);
}

static int w_close(ares_socket_t fd, void *arg)
{
	return close(fd);
}

static int w_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *arg)
{
	struct dns_query *q = ((struct dns_chan *)arg)->q;
	int r = connect(fd, sa, len);

	if (r < 0 && errno != EINPROGRESS && q != NULL)
		q->last_errno = errno;
	return r;
}

/* A complete message arrived: note what c-ares would drop without a word. */
static void observe(struct dns_query *q, const uint8_t *msg, size_t len)
{
	char detail[sizeof(q->bad_detail)];
	enum check_result_code code;

	if (!q->id_known)
		return;
	if (len >= 2 && (uint16_t)(msg[0] << 8 | msg[1]) != q->exp.id) {
		q->ignored++;
		return;
	}
	code = dns_eval_reply(msg, len, &q->exp, NULL, detail, sizeof(detail));
	if ((code == RES_DNS_MALFORMED || code == RES_DNS_QUESTION_MISMATCH) && !q->bad) {
		q->bad = true;
		q->bad_code = code;
		memcpy(q->bad_detail, detail, sizeof(detail));
	}
}

static void observe_tcp(struct dns_query *q, const uint8_t *data, size_t n)
{
	size_t cap = 2 + DNS_MSG_MAX;

	if (q->tcpbuf == NULL)
		q->tcpbuf = xmalloc(cap);
	while (n > 0) {
		size_t take = cap - q->tcplen < n ? cap - q->tcplen : n;
		memcpy(q->tcpbuf + q->tcplen, data, take);
		q->tcplen += take;
		data += take;
		n -= take;
		while (q->tcplen >= 2) {
			size_t mlen = (size_t)q->tcpbuf[0] << 8 | q->tcpbuf[1];
			if (q->tcplen < 2 + mlen)
				break;
			observe(q, q->tcpbuf + 2, mlen);
			memmove(q->tcpbuf, q->tcpbuf + 2 + mlen, q->tcplen - 2 - mlen);
			q->tcplen -= 2 + mlen;
		}
	}
}

static ares_ssize_t w_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                               struct sockaddr *from, ares_socklen_t *fromlen, void *arg)
{
	struct dns_query *q = ((struct dns_chan *)arg)->q;
	ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
	int saved = errno;

	if (q == NULL) {
		/* an idle channel's UDP socket: a late reply, which c-ares drops */
	} else if (n < 0) {
		if (saved != EAGAIN && saved != EWOULDBLOCK && saved != EINTR)
			q->last_errno = saved;
	} else if (n == 0) {
		q->saw_eof = true;
		if (!q->tcp)
			observe(q, buf, 0); /* an empty datagram is no reply at all */
	} else if (q->tcp) {
		observe_tcp(q, buf, (size_t)n);
	} else {
		/* the UDP socket is connected: only the server's datagrams arrive */
		observe(q, buf, (size_t)n);
	}
	errno = saved;
	return n;
}

static ares_ssize_t w_sendv(ares_socket_t fd, const struct iovec *iov, int iovcnt, void *arg)
{
	struct dns_query *q = ((struct dns_chan *)arg)->q;
	ssize_t n = writev(fd, iov, iovcnt);
	int saved = errno;
	size_t want, left;

	if (q == NULL) /* c-ares sends only for a query */
		return n;
	want = q->tcp ? 4 : 2;
	if (n < 0) {
		if (saved != EAGAIN && saved != EWOULDBLOCK && saved != EINTR)
			q->last_errno = saved;
		errno = saved;
		return n;
	}
	left = (size_t)n;
	for (int i = 0; i < iovcnt && q->nsent < want && left > 0; i++) {
		const uint8_t *p = iov[i].iov_base;
		for (size_t j = 0; j < iov[i].iov_len && q->nsent < want && left > 0; j++, left--)
			q->sent[q->nsent++] = p[j];
	}
	if (!q->id_known && q->nsent == want) {
		q->exp.id = (uint16_t)(q->sent[want - 2] << 8 | q->sent[want - 1]);
		q->id_known = true;
	}
	errno = saved;
	return n;
}

static const struct ares_socket_functions sock_funcs = {
    .asocket = w_socket,
    .aclose = w_close,
    .aconnect = w_connect,
    .arecvfrom = w_recvfrom,
    .asendv = w_sendv,
};

/* --- queries ---------------------------------------------------------- */

/* No answer in time; say so, and whether replies with a wrong ID came instead. */
static void timed_out(struct dns_query *q)
{
	q->code = RES_TIMEOUT;
	snprintf(q->detail, sizeof(q->detail), "no reply within %.0f ms", q->ms);
	if (q->ignored > 0) {
		size_t l = strlen(q->detail);
		snprintf(q->detail + l, sizeof(q->detail) - l, " (wrong-ID replies ignored: %u)",
		         q->ignored);
	}
}

static void on_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_query *q = arg;

	/* cancel and destroy call back too; the outcome is already settled */
	if (q->done || status == ARES_ECANCELLED || status == ARES_EDESTRUCTION)
		return;
	q->done = true;
	q->ms = (mono_now() - q->t_sent) * 1000.0;
	if (status == ARES_SUCCESS && abuf != NULL && alen >= 0) {
		q->has_reply = true;
		q->code = dns_eval_reply(abuf, (size_t)alen, &q->exp, &q->info, q->detail,
		                         sizeof(q->detail));
		if (q->dnssec && q->code == RES_OK && alen > 0) {
			q->reply = xmalloc((size_t)alen);
			memcpy(q->reply, abuf, (size_t)alen);
			q->reply_len = (size_t)alen;
		}
		return;
	}
	switch (status) {
	case ARES_ETIMEOUT:
		timed_out(q);
		break;
	case ARES_ECONNREFUSED:
		/* c-ares reports every socket error as refused: say what it was */
		if (q->last_errno == ECONNREFUSED || (q->last_errno == 0 && !q->saw_eof)) {
			q->code = RES_CONNECT_REFUSED;
			snprintf(q->detail, sizeof(q->detail), "%s",
			         q->tcp ? "connection refused"
			                : "port unreachable (ICMP), nothing listens");
		} else if (q->last_errno != 0) {
			q->code = RES_CONNECT_FAILED;
			snprintf(q->detail, sizeof(q->detail), "%s", strerror(q->last_errno));
		} else if (q->tcp) {
			q->code = RES_CONNECT_FAILED;
			snprintf(q->detail, sizeof(q->detail),
			         "server closed the connection without a reply");
		} else {
			q->code = RES_DNS_MALFORMED;
			snprintf(q->detail, sizeof(q->detail), "empty datagram from the server");
		}
		break;
	default:
		q->code = RES_INTERNAL_ERROR;
		snprintf(q->detail, sizeof(q->detail), "c-ares: %s", ares_strerror(status));
		break;
	}
}

/* End the query and give its channel back to the pool; its outcome stays. */
static void query_destroy(struct dns_query *q)
{
	ares_channel ch = q->ch;

	q->done = true;
	if (ch != NULL) {
		q->ch = NULL;
		chan_put(q->dc->run->env->dns, q->chan);
		q->chan = NULL;
	}
	free(q->tcpbuf);
	q->tcpbuf = NULL;
	q->tcplen = 0;
}

static int parse_server(const struct conf_addr *a, struct ares_addr_port_node *node)
{
	memset(node, 0, sizeof(*node));
	node->family = a->family == AF_INET6 ? AF_INET6 : AF_INET;
	node->udp_port = node->tcp_port = a->port ? (int)a->port : 53;
	if (inet_pton(node->family, a->host ? a->host : "",
	              node->family == AF_INET6 ? (void *)&node->addr.addr6
	                                       : (void *)&node->addr.addr4) != 1)
		return -1;
	return 0;
}

/* c-ares closes the channel's sockets, telling sock_state_cb first; drop any it did not. */
static void chan_free(struct dns_chan *c)
{
	ares_destroy(c->ch);
	while (c->socks != NULL) {
		struct dns_sock *s = c->socks;
		c->socks = s->next;
		close_sock(s);
	}
	free(c);
}

/* Return a channel to the pool: end its query (on_reply ignores ECANCELLED), which closes a
 * TCP channel's connection (a UDP channel keeps its socket); keep it unless the pool is full. */
static void chan_put(struct dns_env *de, struct dns_chan *c)
{
	ares_cancel(c->ch);
	c->q = NULL;
	if (de == NULL || de->nidle >= DNS_POOL_MAX) {
		chan_free(c);
		return;
	}
	c->next = de->idle;
	de->idle = c;
	de->nidle++;
}

/* A channel for q: an idle one made for the same server, transport and timeout, or a new one. */
static struct dns_chan *chan_get(struct dns_env *de, struct dns_query *q,
                                 const struct conf_addr *server, char *err, size_t errlen)
{
	struct dns_chan *c, **pp;
	struct ares_options o;
	struct ares_addr_port_node node;
	int r, mask;
	long ms = (long)(q->dc->run->conf->timeout * 1000.0);

	/* give up a little before the run's guard, so the report names the query */
	ms -= ms / 10 < 50 ? ms / 10 : 50;
	if (ms < 1)
		ms = 1;
	if (parse_server(server, &node) < 0) {
		snprintf(err, errlen, "server address \"%s\" is not a numeric IP address",
		         server->host ? server->host : "");
		return NULL;
	}
	for (pp = de != NULL ? &de->idle : NULL; pp != NULL && *pp != NULL; pp = &(*pp)->next) {
		c = *pp;
		if (c->tcp == q->tcp && c->edns == q->dnssec && c->timeout_ms == ms &&
		    memcmp(&c->server, &node, sizeof(node)) == 0) {
			*pp = c->next;
			de->nidle--;
			c->next = NULL;
			c->q = q;
			return c;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->server = node;
	c->tcp = q->tcp;
	c->edns = q->dnssec;
	c->timeout_ms = ms;
	c->io = q->dc->run->env->io;
	memset(&o, 0, sizeof(o));
	/* UDP: STAYOPEN keeps the socket while the channel waits in the pool; TCP: a fresh
	 * connection per query, closed when it ends */
	o.flags = ARES_FLAG_NOCHECKRESP | ARES_FLAG_NOSEARCH |
	          (q->tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC | ARES_FLAG_STAYOPEN);
	o.timeout = (int)ms;
	o.tries = 1;
	o.ndots = 1;
	o.lookups = (char *)"b";
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = c;
	mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
	       ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS | ARES_OPT_SERVERS | ARES_OPT_SORTLIST |
	       ARES_OPT_SOCK_STATE_CB;
	if (c->edns) {
		/* without EDNS c-ares cuts a UDP reply to 512 bytes before handing it over; the
		 * query says 1232 (EDNS_UDP_SIZE), this is only how much of a reply c-ares keeps */
		o.flags |= ARES_FLAG_EDNS;
		o.ednspsz = 4096;
		mask |= ARES_OPT_EDNSPSZ;
	}
#ifdef ARES_OPT_QUERY_CACHE
	/* c-ares >= 1.23 caches answers: a reused channel must ask the server every run */
	o.qcache_max_ttl = 0;
	mask |= ARES_OPT_QUERY_CACHE;
#endif
	r = ares_init_options(&c->ch, &o, mask);
	if (r != ARES_SUCCESS) {
		free(c);
		snprintf(err, errlen, "c-ares init: %s", ares_strerror(r));
		return NULL;
	}
	ares_set_socket_functions(c->ch, &sock_funcs, c);
	if ((r = ares_set_servers_ports(c->ch, &node)) != ARES_SUCCESS) {
		chan_free(c);
		snprintf(err, errlen, "c-ares servers: %s", ares_strerror(r));
		return NULL;
	}
	c->q = q;
	return c;
}

/* Ask qname/qtype; q->dnssec adds an EDNS0 OPT record with the DO bit. */
static int query_start(struct dns_check *dc, struct dns_query *q, const struct conf_addr *server,
                       const char *qname, uint16_t qtype, bool rd, char *err, size_t errlen)
{
	unsigned char *qbuf = NULL;
	int qlen = 0, r;

	q->exp.qname = qname;
	q->exp.qtype = qtype;
	q->exp.qclass = DNS_CLASS_IN;
	q->exp.tcp = q->tcp;

	if ((q->chan = chan_get(dc->run->env->dns, q, server, err, errlen)) == NULL)
		return -1;
	q->ch = q->chan->ch;
	r = ares_create_query(qname, DNS_CLASS_IN, qtype, 0, rd ? 1 : 0, &qbuf, &qlen,
	                      q->dnssec ? EDNS_UDP_SIZE : 0);
	if (r != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot build a query for \"%s\": %s", qname,
		         ares_strerror(r));
		return -1;
	}
	if (q->dnssec) {
		/* c-ares ends the query with the OPT record (root name, type 41, class = size,
		 * TTL = ext-rcode, version, flags, rdlen 0); DO is the top bit of the flags */
		if (qlen < 12 + 11 || qbuf[qlen - 10] != 0 || qbuf[qlen - 9] != 41) {
			ares_free_string(qbuf);
			snprintf(err, errlen, "c-ares built no EDNS0 record for \"%s\"", qname);
			return -1;
		}
		qbuf[qlen - 4] |= 0x80;
	}
	q->t_sent = mono_now();
	ares_send(q->ch, qbuf, qlen, on_reply, q);
	ares_free_string(qbuf);
	return 0;
}

/* --- the run ------------------------------------------------------------ */

static void arm_timer(struct dns_check *dc)
{
	long best = -1;
	bool waiting = false;

	for (int i = 0; i < dc->nq; i++) {
		struct timeval tv, *t;
		struct dns_query *q = &dc->q[i];
		if (q->done || q->ch == NULL)
			continue;
		waiting = true;
		t = ares_timeout(q->ch, NULL, &tv);
		if (t == NULL)
			continue;
		long ms = (long)t->tv_sec * 1000 + (t->tv_usec + 999) / 1000;
		if (best < 0 || ms < best)
			best = ms;
	}
	/* a query sent after the first ones (DNSKEY, a TCP retry) still ends by the deadline */
	if (waiting) {
		double left = (dc->deadline - mono_now()) * 1000.0;
		long ms = left > 0 ? (long)left + 1 : 0;
		if (best < 0 || ms < best)
			best = ms;
	}
	if (best < 0)
		uv_timer_stop(&dc->timer);
	else
		check_timer_arm(&dc->timer, on_timer, (uint64_t)best);
}

static void on_timer(uv_timer_t *t)
{
	struct dns_check *dc = t->data;
	double now = mono_now();

	for (int i = 0; i < dc->nq; i++) {
		struct dns_query *q = &dc->q[i];
		if (q->done || q->ch == NULL)
			continue;
		ares_process_fd(q->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		if (!q->done && now >= dc->deadline) {
			q->ms = (now - q->t_sent) * 1000.0;
			timed_out(q);
			query_destroy(q);
		}
	}
	step(dc);
}

/* The query of a role whose outcome counts: a truncated one that was retried does not. */
static struct dns_query *find_query(struct dns_check *dc, enum query_role role)
{
	for (int i = 0; i < dc->nq; i++)
		if (dc->q[i].role == role && dc->q[i].superseded == 0)
			return &dc->q[i];
	return NULL;
}

static void flags_text(const struct dns_reply_info *in, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s", in->aa ? "aa," : "", in->tc ? "tc," : "",
	         in->rd ? "rd," : "", in->ra ? "ra," : "");
	size_t l = strlen(buf);
	if (l > 0)
		buf[l - 1] = '\0';
	else
		snprintf(buf, len, "-");
}

/* "NOERROR flags=aa an=1 serial=5 0.4ms" for a query that got a reply. */
static void reply_summary(const struct dns_query *q, char *buf, size_t len)
{
	char rb[16], fl[16], ser[24] = "";

	if (!q->has_reply) {
		snprintf(buf, len, "%.1fms", q->ms);
		return;
	}
	flags_text(&q->info, fl, sizeof(fl));
	if (q->info.has_serial)
		snprintf(ser, sizeof(ser), " serial=%u", q->info.serial);
	snprintf(buf, len, "%s flags=%s an=%u%s %.1fms",
	         dns_rcode_name(q->info.rcode, rb, sizeof(rb)), fl, q->info.ancount, ser, q->ms);
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	if (l + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, len - l, fmt, ap);
	va_end(ap);
}

/* Put text before what detail holds, so a cut detail keeps the reason. */
static void prepend(char *detail, size_t len, const char *text)
{
	char rest[CHECK_DETAIL_MAX];

	snprintf(rest, sizeof(rest), "%s", detail);
	snprintf(detail, len, "%s", text);
	if (rest[0])
		append(detail, len, "; %s", rest);
}

/* Judge every answer's signatures with the DNSKEY reply keys/klen: the first failure, else the
 * first warning, else the first answer's summary into why; the earliest expiry into *expires. */
static enum check_result_code judge_answers(struct dns_check *dc, const uint8_t *keys, size_t klen,
                                            int64_t *expires, char *why, size_t whylen)
{
	const struct dns_conf *c = &dc->run->conf->u.dns;
	struct dnssec_expect e = {.qname = c->qname,
	                          .qtype = (uint16_t)c->qtype,
	                          .now = (int64_t)wall_now(),
	                          .warn_days = c->rrsig_warn_days,
	                          .fail_days = c->rrsig_fail_days,
	                          .validate = c->dnssec_validate};
	enum check_result_code worst = RES_OK;
	char d[CHECK_DETAIL_MAX];

	*expires = 0;
	why[0] = '\0';
	for (int i = 0; i < dc->nq; i++) {
		struct dns_query *q = &dc->q[i];
		struct dnssec_info info;
		enum check_result_code rc;
		if (q->role != Q_MAIN || q->superseded || q->reply == NULL)
			continue;
		rc = dnssec_eval(q->reply, q->reply_len, keys, klen, dc->signer, &e, &dc->cache,
		                 &info, d, sizeof(d));
		if (info.has_expiry && (*expires == 0 || info.expires < *expires))
			*expires = info.expires;
		if (why[0] == '\0' || (worst == RES_OK && rc != RES_OK) ||
		    (result_class(rc) == RESULT_FAIL && result_class(worst) != RESULT_FAIL)) {
			if (rc != RES_OK)
				worst = rc;
			snprintf(why, whylen, "%s", d);
		}
	}
	return worst;
}

/* expect_dnssec: the run's verdict on the signatures, with the kept or the fresh DNSKEY reply. */
static enum check_result_code judge_dnssec(struct dns_check *dc, char *detail, size_t len)
{
	struct check_run *run = dc->run;
	struct dns_query *keys = find_query(dc, Q_DNSKEY);
	enum check_result_code code;
	char why[CHECK_DETAIL_MAX], d[CHECK_DETAIL_MAX];
	bool tc;

	if (dc->dnssec_code != RES_OK) {
		prepend(detail, len, dc->dnssec_detail);
		return dc->dnssec_code;
	}
	if (dc->keys_kept_used) {
		code = dc->kept_code;
		snprintf(why, sizeof(why), "%s", dc->kept_why);
		run->rep.rrsig_expires = dc->kept_expires;
		tc = dc->keys_tc;
	} else if (keys == NULL) {
		prepend(detail, len, "DNSKEY query not sent");
		return RES_INTERNAL_ERROR;
	} else if (keys->code != RES_OK) {
		d[0] = '\0';
		append(d, sizeof(d), "%s %s failed: %s", tr_name(keys), dc->signer, keys->detail);
		prepend(detail, len, d);
		return keys->code;
	} else {
		code = judge_answers(dc, keys->reply, keys->reply_len, &run->rep.rrsig_expires, why,
		                     sizeof(why));
		tc = keys->retry;
		/* keep the reply for the next runs */
		free(dc->keys);
		dc->keys = xmalloc(keys->reply_len);
		memcpy(dc->keys, keys->reply, keys->reply_len);
		dc->keys_len = keys->reply_len;
		dc->keys_at = mono_now();
		dc->keys_tc = tc;
		snprintf(dc->keys_signer, sizeof(dc->keys_signer), "%s", dc->signer);
	}
	if (code != RES_OK)
		prepend(detail, len, why);
	else
		append(detail, len, "; %s%s", why,
		       tc ? "; DNSKEY over TCP (UDP reply truncated)" : "");
	return code;
}

static void finish(struct dns_check *dc)
{
	struct check_run *run = dc->run;
	const struct dns_conf *c = &run->conf->u.dns;
	enum check_result_code code = RES_OK;
	char detail[CHECK_DETAIL_MAX] = "", sum[96];
	double slowest = 0;

	uv_timer_stop(&dc->timer);
	for (int i = 0; i < dc->nq; i++)
		query_destroy(&dc->q[i]);
	dc->active = false;

	/* failing main queries first, so a cut detail keeps the reason */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < dc->nq; i++) {
			struct dns_query *q = &dc->q[i];
			if (q->role != Q_MAIN || q->superseded ||
			    (pass == 0) != (q->code != RES_OK))
				continue;
			if (q->ms > slowest)
				slowest = q->ms;
			reply_summary(q, sum, sizeof(sum));
			if (q->code != RES_OK) {
				if (code == RES_OK)
					code = q->code;
				append(detail, sizeof(detail), "%s%s failed: %s (%s)",
				       detail[0] ? "; " : "", tr_name(q), q->detail, sum);
			} else {
				append(detail, sizeof(detail), "%s%s: %s", detail[0] ? "; " : "",
				       tr_name(q), sum);
			}
		}
	}

	if (code == RES_OK && c->has_soa_reference) {
		struct dns_query *ref = find_query(dc, Q_REF);
		struct dns_query *loc = find_query(dc, Q_LOCAL_SOA);
		if (loc == NULL)
			loc = find_query(dc, Q_MAIN);
		char sd[128];
		if (loc->code != RES_OK) {
			code = loc->code;
			append(detail, sizeof(detail), "; local SOA %s failed: %s", tr_name(loc),
			       loc->detail);
		} else if (!loc->info.has_serial) {
			code = RES_DNS_SERIAL_LAG;
			append(detail, sizeof(detail),
			       "; local reply has no SOA for %s: cannot compare serials", c->qname);
		} else if (ref->code != RES_OK || !ref->info.has_serial) {
			append(detail, sizeof(detail), "; reference unreachable (%s: %s)",
			       ref->code != RES_OK ? result_name(ref->code) : "no SOA",
			       ref->code != RES_OK ? ref->detail : "reply has no SOA");
		} else {
			code = dns_eval_serial(loc->info.serial, ref->info.serial,
			                       c->max_serial_lag, sd, sizeof(sd));
			if (code != RES_OK)
				prepend(detail, sizeof(detail), sd);
			else
				append(detail, sizeof(detail), "; %s", sd);
		}
	}
	if (code == RES_OK && c->expect_dnssec)
		code = judge_dnssec(dc, detail, sizeof(detail));
	run->rep.t_connect = -1;
	run->rep.t_tls = -1;
	run->rep.t_first_byte = slowest / 1000.0;
	/* last: the done callback may free or restart the run */
	check_run_finish(run, code, "%s", detail);
}

/* Add a query to the run and send it; NULL (with the reason in err) if it cannot be sent. */
static struct dns_query *query_add(struct dns_check *dc, const struct dns_query *tmpl,
                                   const struct conf_addr *server, const char *qname,
                                   uint16_t qtype, bool rd, char *err, size_t errlen)
{
	struct dns_query *q;

	if (dc->nq >= QUERY_MAX) {
		snprintf(err, errlen, "too many queries in one run");
		return NULL;
	}
	q = &dc->q[dc->nq++];
	*q = *tmpl;
	q->dc = dc;
	if (query_start(dc, q, server, qname, qtype, rd, err, errlen) < 0) {
		query_destroy(q);
		q->code = RES_INTERNAL_ERROR;
		snprintf(q->detail, sizeof(q->detail), "%s", err);
		return NULL;
	}
	return q;
}

/* A DO reply truncated over UDP: ask again over TCP, as a validating resolver does. */
static void retry_truncated(struct dns_check *dc, int i)
{
	const struct dns_conf *c = &dc->run->conf->u.dns;
	struct dns_query *q = &dc->q[i], tmpl;
	char err[160];

	if (!q->done || q->tcp || !q->dnssec || q->superseded || q->code != RES_DNS_TRUNCATED)
		return;
	tmpl = (struct dns_query){.role = q->role, .tcp = true, .retry = true, .dnssec = true};
	tmpl.exp = q->exp;
	tmpl.exp.tcp = true;
	tmpl.exp.id = 0;
	if (query_add(dc, &tmpl, &c->server, q->exp.qname, q->exp.qtype,
	              q->role == Q_MAIN && c->recursion_desired, err, sizeof(err)) != NULL)
		q->superseded = dc->nq;
}

/* Once the answers are in and good: ask for the DNSKEY RRset of the zone that signed them.
 * Returns true if a query was sent. */
static bool ask_dnskey(struct dns_check *dc)
{
	const struct dns_conf *c = &dc->run->conf->u.dns;
	struct dns_query *first = NULL, tmpl;
	char err[160];

	dc->dnskey_asked = true;
	for (int i = 0; i < dc->nq; i++) {
		struct dns_query *q = &dc->q[i];
		if (q->role != Q_MAIN || q->superseded)
			continue;
		if (q->code != RES_OK)
			return false; /* the check fails on that already */
		if (first == NULL)
			first = q;
	}
	if (first == NULL || first->reply == NULL)
		return false;
	dc->dnssec_code =
	    dnssec_signer(first->reply, first->reply_len, c->qname, (uint16_t)c->qtype, dc->signer,
	                  sizeof(dc->signer), dc->dnssec_detail, sizeof(dc->dnssec_detail));
	if (dc->dnssec_code != RES_OK)
		return false;
	if (dc->keys != NULL && strcmp(dc->keys_signer, dc->signer) == 0 &&
	    mono_now() - dc->keys_at < DNSKEY_KEEP) {
		dc->kept_code = judge_answers(dc, dc->keys, dc->keys_len, &dc->kept_expires,
		                              dc->kept_why, sizeof(dc->kept_why));
		if (result_class(dc->kept_code) != RESULT_FAIL) {
			dc->keys_kept_used = true;
			return false;
		}
	}
	/* one DNSKEY query per run: over TCP for transport "tcp", else over UDP */
	tmpl = (struct dns_query){.role = Q_DNSKEY, .tcp = c->transport == DNS_TCP, .dnssec = true};
	tmpl.exp.rcode = 0;
	tmpl.exp.aa = c->expect_authoritative;
	if (query_add(dc, &tmpl, &c->server, dc->signer, DNS_TYPE_DNSKEY, false, err,
	              sizeof(err)) == NULL) {
		dc->dnssec_code = RES_INTERNAL_ERROR;
		dc->dnssec_detail[0] = '\0';
		append(dc->dnssec_detail, sizeof(dc->dnssec_detail), "DNSKEY query: %s", err);
		return false;
	}
	return true;
}

static void step(struct dns_check *dc)
{
	bool all_done = true;

	if (!dc->active)
		return;
	for (int i = 0; i < dc->nq; i++) {
		struct dns_query *q = &dc->q[i];
		if (!q->done && q->bad) {
			/* c-ares drops this reply and would wait; the answer is in */
			q->code = q->bad_code;
			q->ms = (mono_now() - q->t_sent) * 1000.0;
			memcpy(q->detail, q->bad_detail, sizeof(q->bad_detail));
			query_destroy(q);
		}
		retry_truncated(dc, i);
		if (!q->done)
			all_done = false;
	}
	for (int i = 0; i < dc->nq; i++)
		if (!dc->q[i].done)
			all_done = false;
	if (all_done && dc->run->conf->u.dns.expect_dnssec && !dc->dnskey_asked && ask_dnskey(dc))
		all_done = false;
	if (all_done)
		finish(dc);
	else
		arm_timer(dc);
}

static int dns_init(struct check_run *run)
{
	struct dns_check *dc;

	if (run->priv != NULL)
		return 0;
	dc = xcalloc(1, sizeof(*dc));
	dc->run = run;
	uv_timer_init(run->loop, &dc->timer);
	dc->timer.data = dc;
	run->priv = dc;
	return 0;
}

static void env_init(struct check_env *env)
{
	if (env == NULL || env->dns != NULL)
		return;
	struct dns_env *de = xcalloc(1, sizeof(*de));
	de->initialised = ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS;
	env->dns = de;
}

static void dns_env_free(struct check_env *env)
{
	struct dns_env *de = env->dns;

	if (de == NULL)
		return;
	/* runs are freed first: every channel is idle */
	while (de->idle != NULL) {
		struct dns_chan *c = de->idle;
		de->idle = c->next;
		chan_free(c);
	}
	if (de->initialised)
		ares_library_cleanup();
	free(de);
	env->dns = NULL;
}

static void dns_cancel(struct check_run *run)
{
	struct dns_check *dc = run->priv;

	if (dc == NULL || !dc->active)
		return;
	dc->active = false;
	uv_timer_stop(&dc->timer);
	for (int i = 0; i < dc->nq; i++)
		query_destroy(&dc->q[i]);
}

/* Forget the last run's queries and the replies they kept. */
static void queries_clear(struct dns_check *dc)
{
	for (int i = 0; i < dc->nq; i++)
		free(dc->q[i].reply);
	memset(dc->q, 0, sizeof(dc->q));
	dc->nq = 0;
	dc->dnskey_asked = false;
	dc->keys_kept_used = false;
	dc->dnssec_code = RES_OK;
	dc->dnssec_detail[0] = '\0';
	dc->signer[0] = '\0';
}

static int dns_start(struct check_run *run)
{
	const struct dns_conf *c;
	struct dns_check *dc;
	struct dns_query tmpl[QUERY_MAX];
	char err[160];
	int n = 0;
	long ms;

	if (run->conf->type != CHECK_DNS || run->conf->u.dns.qname == NULL) {
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "not a dns check");
		return -1;
	}
	c = &run->conf->u.dns;
	if (check_env_io(run->env, run->rep.detail, sizeof(run->rep.detail)) == NULL) {
		run->rep.code = RES_INTERNAL_ERROR;
		return -1;
	}
	env_init(run->env);
	dns_init(run);
	dc = run->priv;
	if (dc->active)
		dns_cancel(run);
	queries_clear(dc);

	if (c->transport != DNS_TCP)
		tmpl[n++] = (struct dns_query){.role = Q_MAIN, .tcp = false};
	if (c->transport != DNS_UDP)
		tmpl[n++] = (struct dns_query){.role = Q_MAIN, .tcp = true};
	if (c->has_soa_reference) {
		bool tcp = c->transport == DNS_TCP;
		if (c->qtype != DNS_TYPE_SOA)
			tmpl[n++] = (struct dns_query){.role = Q_LOCAL_SOA, .tcp = tcp};
		tmpl[n++] = (struct dns_query){.role = Q_REF, .tcp = tcp};
	}
	/* as chan_get: give up a little before the run's guard, so the report names the query */
	ms = (long)(run->conf->timeout * 1000.0);
	ms -= ms / 10 < 50 ? ms / 10 : 50;
	dc->deadline = mono_now() + (double)(ms < 1 ? 1 : ms) / 1000.0;
	dc->active = true;
	for (int i = 0; i < n; i++) {
		struct dns_query *q;
		if (tmpl[i].role == Q_MAIN) {
			tmpl[i].dnssec = c->expect_dnssec;
			tmpl[i].exp.rcode = c->expect_rcode;
			tmpl[i].exp.aa = c->expect_authoritative;
			tmpl[i].exp.answers = c->expect_answer.v;
			tmpl[i].exp.nanswers = c->expect_answer.n;
			q = query_add(dc, &tmpl[i], &c->server, c->qname, (uint16_t)c->qtype,
			              c->recursion_desired, err, sizeof(err));
		} else {
			/* SOA of the zone: any rcode, the SOA may be in the authority section */
			tmpl[i].exp.rcode = -1;
			tmpl[i].exp.aa = -1;
			q = query_add(dc, &tmpl[i],
			              tmpl[i].role == Q_REF ? &c->soa_reference : &c->server,
			              c->qname, DNS_TYPE_SOA, false, err, sizeof(err));
		}
		if (q == NULL) {
			dns_cancel(run);
			run->rep.code = RES_INTERNAL_ERROR;
			snprintf(run->rep.detail, sizeof(run->rep.detail), "%s%s",
			         tmpl[i].role == Q_REF ? "soa_reference: " : "", err);
			return -1;
		}
	}
	/* a query may already have ended inside ares_send: report from the loop; else wait for
	 * c-ares's first timeout (a zero timer here cost a heap insert and a pass per run) */
	for (int i = 0; i < n; i++) {
		if (dc->q[i].done || dc->q[i].bad) {
			uv_timer_start(&dc->timer, on_timer, 0, 0);
			return 0;
		}
	}
	arm_timer(dc);
	return 0;
}

static void free_check(uv_handle_t *h)
{
	free(h->data);
}

static void dns_free(struct check_run *run)
{
	struct dns_check *dc = run->priv;

	if (dc == NULL)
		return;
	dns_cancel(run);
	queries_clear(dc);
	dnssec_cache_free(&dc->cache);
	free(dc->keys);
	run->priv = NULL;
	uv_close((uv_handle_t *)&dc->timer, free_check);
}

const struct check_ops check_dns_ops = {
    .type = "dns",
    .init = dns_init,
    .start = dns_start,
    .cancel = dns_cancel,
    .free = dns_free,
    .env_free = dns_env_free,
};
