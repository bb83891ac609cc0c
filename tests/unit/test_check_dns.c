/* SPDX-License-Identifier: ISC */
/*
 * test_check_dns.c - the dns check type on a real libuv loop against fake
 * DNS servers (a thread per fake, UDP and TCP on 127.0.0.1 or ::1) that
 * misbehave on purpose. Every case asserts the result, a detail substring,
 * that it came within the check's timeout, that a 5 ms repeating timer on
 * the same loop was never delayed by the loop being busy for more than
 * LATE_MAX_MS (busy = time between two ticks minus the loop's idle time in
 * the kernel, so a descheduled process on a loaded machine does not count;
 * the raw lateness is printed too), and that the loop closes with no handle left.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "check.h"
#include "check_testutil.h"
#include "dns_eval.h"
#include "dnsbuild.h"
#include "util.h"

/* a blocking probe would stall the loop for its whole timeout (>= 300 ms); measured values
 * are printed and are well under 1 ms; the bound tolerates a busy CI machine */
#define LATE_MAX_MS 50.0
#define TICK_MS     5

enum fake_mode {
	FAKE_OK,
	FAKE_SHORT,      /* ID and 3 bytes: shorter than a header */
	FAKE_BAD_RECORD, /* ancount 1, record cut short */
	FAKE_OTHER_QUESTION,
	FAKE_TC, /* TC bit (over UDP) */
	FAKE_WRONG_ID,
	FAKE_SILENT,
	FAKE_SERVFAIL,
	FAKE_REFUSED,
	FAKE_NOT_AA,
	FAKE_CLOSE,  /* TCP: close without a reply */
	FAKE_EMPTY,  /* UDP: a zero-length datagram */
	FAKE_TWICE,  /* UDP: the reply, then the same reply again (a late duplicate) */
	FAKE_SIGNED, /* SOA and DNSKEY with RRSIGs (made-up signatures, a real time window) */
	FAKE_SIGNED_NOKEYS,  /* FAKE_SIGNED, but DNSKEY queries get no reply */
	FAKE_SIGNED_OLDKEYS, /* FAKE_SIGNED, but the DNSKEY RRset's signature has expired */
};

/* A fake DNS server: one thread answering UDP and TCP on one port. */
struct fake {
	int family;
	int udp, tcp;
	int wake[2];
	uint16_t port;
	enum fake_mode udp_mode, tcp_mode;
	uint32_t serial;
	unsigned queries;
	unsigned conns;       /* TCP connections accepted */
	unsigned udp_sources; /* UDP queries from a source port other than the last one's */
	uint16_t udp_last_src;
	uint32_t rrsig_exp; /* FAKE_SIGNED: the RRSIGs' expiration */
	pthread_t th;
};

/* An RRSIG over `covered` at example.test. with a made-up signature. */
static void fake_rrsig(struct dnsb *d, unsigned covered, uint32_t exp)
{
	db_rr(d, "example.test.", 46, (unsigned)(18 + db_name_len("example.test.") + 64));
	db_u16(d, covered);
	db_u8(d, 13);
	db_u8(d, 2);
	db_u32(d, 300);
	db_u32(d, exp);
	db_u32(d, exp - 20 * 86400);
	db_u16(d, 4242);
	db_name(d, "example.test.");
	for (int i = 0; i < 64; i++)
		db_u8(d, 0x5a);
}

static unsigned query_type(const uint8_t *q, size_t qn)
{
	size_t off = 12;

	while (off < qn && q[off] != 0)
		off += q[off] + 1u;
	return off + 3 <= qn ? (unsigned)(q[off + 1] << 8 | q[off + 2]) : 0;
}

static size_t fake_reply(const struct fake *f, enum fake_mode mode, bool tcp, const uint8_t *q,
                         size_t qn, uint8_t *out)
{
	struct dnsb d = {.n = 0};
	size_t off = 12;
	unsigned flags, qtype, id;

	if (qn < 17)
		return 0;
	while (off < qn && q[off] != 0)
		off += q[off] + 1u;
	if (off + 5 > qn)
		return 0;
	qtype = (unsigned)(q[off + 1] << 8 | q[off + 2]);
	id = (unsigned)(q[0] << 8 | q[1]);
	flags = DB_QR | DB_AA | (unsigned)((q[2] & 1) << 8);
	if (mode == FAKE_NOT_AA)
		flags &= ~(unsigned)DB_AA;
	if (mode == FAKE_TC && !tcp)
		flags |= DB_TC;
	if (mode == FAKE_SERVFAIL)
		flags |= 2;
	if (mode == FAKE_REFUSED)
		flags = DB_QR | 5;
	if (mode == FAKE_WRONG_ID)
		id = (id + 1) & 0xffff;

	bool answer =
	    mode == FAKE_OK || mode == FAKE_TWICE || mode == FAKE_NOT_AA || mode == FAKE_BAD_RECORD;
	unsigned an = !answer ? 0 : qtype == 1 ? 2 : 1;
	if (mode == FAKE_SIGNED || mode == FAKE_SIGNED_NOKEYS || mode == FAKE_SIGNED_OLDKEYS)
		an = 2;
	db_header(&d, id, flags, 1, an, 0, 0);
	if (mode == FAKE_OTHER_QUESTION) {
		db_question(&d, "other.example.test.", qtype, 1);
	} else {
		d.n = 12;
		db_bytes(&d, q + 12, off + 5 - 12); /* the question as asked */
	}
	if (mode == FAKE_SHORT) {
		d.n = 5;
	} else if ((mode == FAKE_SIGNED || mode == FAKE_SIGNED_NOKEYS ||
	            mode == FAKE_SIGNED_OLDKEYS) &&
	           qtype == 48) {
		db_rr(&d, "example.test.", 48, 4 + 64);
		db_u16(&d, 257), db_u8(&d, 3), db_u8(&d, 13);
		for (int i = 0; i < 64; i++)
			db_u8(&d, (unsigned)i);
		fake_rrsig(&d, 48,
		           mode == FAKE_SIGNED_OLDKEYS ? f->rrsig_exp - 11 * 86400 : f->rrsig_exp);
	} else if (mode == FAKE_SIGNED || mode == FAKE_SIGNED_NOKEYS ||
	           mode == FAKE_SIGNED_OLDKEYS) {
		db_soa(&d, "example.test.", f->serial);
		fake_rrsig(&d, 6, f->rrsig_exp);
	} else if (answer && qtype == 1) {
		db_u16(&d, 0xc00c);
		db_u16(&d, 1), db_u16(&d, 1), db_u32(&d, 60), db_u16(&d, 4);
		db_bytes(&d, "\xc0\x00\x02\x01", 4);
		db_u16(&d, 0xc00c);
		db_u16(&d, 1), db_u16(&d, 1), db_u32(&d, 60), db_u16(&d, 4);
		db_bytes(&d, "\xc0\x00\x02\x02", 4);
	} else if (answer && qtype == 6) {
		db_soa(&d, "example.test.", f->serial);
	} else if (answer && qtype == 16) {
		db_u16(&d, 0xc00c);
		db_u16(&d, 16), db_u16(&d, 1), db_u32(&d, 60), db_u16(&d, 12);
		db_u8(&d, 5), db_bytes(&d, "hello", 5), db_u8(&d, 5), db_bytes(&d, "world", 5);
	} else if (answer) {
		d.b[7] = 0;
	}
	if (mode == FAKE_BAD_RECORD)
		d.n -= 3;
	memcpy(out, d.b, d.n);
	return d.n;
}

static void fake_tcp_conn(struct fake *f, int c)
{
	uint8_t buf[2 + 512], out[2 + 4096];
	size_t have = 0;

	for (;;) {
		struct pollfd p[2] = {{c, POLLIN, 0}, {f->wake[0], POLLIN, 0}};
		if (poll(p, 2, 5000) <= 0 || (p[1].revents & POLLIN))
			break;
		ssize_t n = read(c, buf + have, sizeof(buf) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have < 2 || have < 2u + (size_t)(buf[0] << 8 | buf[1]))
			continue;
		__atomic_add_fetch(&f->queries, 1, __ATOMIC_SEQ_CST);
		if (f->tcp_mode == FAKE_CLOSE)
			break;
		if (f->tcp_mode == FAKE_SIGNED_NOKEYS && query_type(buf + 2, have - 2) == 48) {
			have = 0; /* no reply; serve the next connection once the client gives up */
			continue;
		}
		if (f->tcp_mode == FAKE_SILENT) {
			poll(&p[1], 1, 5000);
			break;
		}
		size_t rn = fake_reply(f, f->tcp_mode, true, buf + 2, have - 2, out + 2);
		out[0] = (uint8_t)(rn >> 8);
		out[1] = (uint8_t)rn;
		if (write(c, out, rn + 2) < 0)
			break;
		have = 0;
	}
	close(c);
}

static void *fake_thread(void *arg)
{
	struct fake *f = arg;
	uint8_t buf[512], out[4096];

	for (;;) {
		struct pollfd p[3] = {
		    {f->udp, POLLIN, 0}, {f->tcp, POLLIN, 0}, {f->wake[0], POLLIN, 0}};
		if (poll(p, 3, -1) < 0 || (p[2].revents & POLLIN))
			break;
		if (p[0].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n =
			    recvfrom(f->udp, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n <= 0)
				continue;
			__atomic_add_fetch(&f->queries, 1, __ATOMIC_SEQ_CST);
			uint16_t src =
			    ntohs(((struct sockaddr_in *)&from)->sin_port); /* = sin6_port */
			if (src != f->udp_last_src)
				__atomic_add_fetch(&f->udp_sources, 1, __ATOMIC_SEQ_CST);
			f->udp_last_src = src;
			size_t rn = 0;
			if (f->udp_mode == FAKE_SILENT ||
			    (f->udp_mode == FAKE_SIGNED_NOKEYS && query_type(buf, (size_t)n) == 48))
				continue;
			if (f->udp_mode != FAKE_EMPTY)
				rn = fake_reply(f, f->udp_mode, false, buf, (size_t)n, out);
			sendto(f->udp, out, rn, 0, (struct sockaddr *)&from, fl);
			if (f->udp_mode == FAKE_TWICE)
				sendto(f->udp, out, rn, 0, (struct sockaddr *)&from, fl);
		}
		if (p[1].revents & POLLIN) {
			int c = accept(f->tcp, NULL, NULL);
			if (c >= 0) {
				__atomic_add_fetch(&f->conns, 1, __ATOMIC_SEQ_CST);
				fake_tcp_conn(f, c);
			}
		}
	}
	return NULL;
}

static int fake_bind(int family, int type, uint16_t port, uint16_t *got)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int s = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		sl = sizeof(*a);
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&ss, sl) < 0) {
		close(s);
		return -1;
	}
	if (type == SOCK_STREAM)
		listen(s, 8);
	getsockname(s, (struct sockaddr *)&ss, &sl);
	*got = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
	                               : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return s;
}

/* On port `port`, or on an ephemeral port when it is 0. */
static int fake_start_on(struct fake *f, int family, enum fake_mode udp_mode,
                         enum fake_mode tcp_mode, uint32_t serial, uint16_t port)
{
	memset(f, 0, sizeof(*f));
	f->family = family;
	f->udp_mode = udp_mode;
	f->tcp_mode = tcp_mode;
	f->serial = serial;
	f->rrsig_exp = (uint32_t)wall_now() + 10 * 86400;
	for (int tries = 0; tries < 20; tries++) {
		uint16_t p2;
		if ((f->udp = fake_bind(family, SOCK_DGRAM, port, &f->port)) < 0)
			return -1;
		if ((f->tcp = fake_bind(family, SOCK_STREAM, f->port, &p2)) >= 0)
			break;
		close(f->udp);
		f->udp = -1;
	}
	if (f->udp < 0 || pipe(f->wake) < 0)
		return -1;
	return pthread_create(&f->th, NULL, fake_thread, f) == 0 ? 0 : -1;
}

static int fake_start(struct fake *f, int family, enum fake_mode udp_mode, enum fake_mode tcp_mode,
                      uint32_t serial)
{
	return fake_start_on(f, family, udp_mode, tcp_mode, serial, 0);
}

static void fake_stop(struct fake *f)
{
	if (write(f->wake[1], "x", 1) < 0)
		abort();
	pthread_join(f->th, NULL);
	close(f->udp);
	close(f->tcp);
	close(f->wake[0]);
	close(f->wake[1]);
}

/* A port with nothing on it (bound and released). */
static uint16_t closed_port(int family)
{
	uint16_t p;
	int s = fake_bind(family, SOCK_DGRAM, 0, &p);
	close(s);
	return p;
}

/* --- the harness: run one check on a fresh loop --------------------------- */

struct harness {
	uv_loop_t loop;
	uv_timer_t tick;
	double next_tick, late_max, busy_max, prev;
	uint64_t prev_idle;
	int done;
	int tcp_max, udp_max; /* our sockets to watch_port when a report arrived */
	int not_ok;           /* reports other than OK */
	struct check_report rep;
};

/* If set, on_done counts this process's sockets connected to this port. */
static uint16_t watch_port;

/* Client sockets of this process of this type connected to port `port` of the loopback fake. */
static int count_client_sockets(uint16_t port, int type)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int t = 0;
		socklen_t tl = sizeof(t);

		if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET &&
		    ntohs(((struct sockaddr_in *)&ss)->sin_port) == port &&
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tl) == 0 && t == type)
			n++;
	}
	return n;
}

static void on_tick(uv_timer_t *t)
{
	struct harness *h = t->data;
	double now = mono_now(), late = (now - h->next_tick) * 1000.0;
	uint64_t idle = uv_metrics_idle_time(&h->loop);
	double busy = (now - h->prev) * 1000.0 - (double)(idle - h->prev_idle) / 1e6 - TICK_MS;

	if (late > h->late_max)
		h->late_max = late;
	if (busy > h->busy_max)
		h->busy_max = busy;
	h->next_tick = now + TICK_MS / 1000.0;
	h->prev = now;
	h->prev_idle = idle;
}

static void on_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct harness *h = arg;

	int tcp = watch_port ? count_client_sockets(watch_port, SOCK_STREAM) : 0;
	int udp = watch_port ? count_client_sockets(watch_port, SOCK_DGRAM) : 0;

	h->done++;
	h->rep = *rep;
	if (rep->code != RES_OK)
		h->not_ok++;
	if (tcp > h->tcp_max)
		h->tcp_max = tcp;
	if (udp > h->udp_max)
		h->udp_max = udp;
}

struct conf_spec {
	int family;
	uint16_t port;
	enum dns_transport transport;
	const char *qname;
	int qtype, rcode, aa;
	const char *answers[3];
	bool ref;
	uint16_t ref_port;
	long max_lag;
	double timeout;
};

static void conf_fill(struct check_conf *conf, const struct conf_spec *s)
{
	struct dns_conf *d = &conf->u.dns;
	const char *host = s->family == AF_INET6 ? "::1" : "127.0.0.1";

	memset(conf, 0, sizeof(*conf));
	conf->name = (char *)"dns";
	conf->type = CHECK_DNS;
	conf->timeout = s->timeout > 0 ? s->timeout : 0.5;
	conf->interval = 10;
	d->server = (struct conf_addr){(char *)host, s->port, s->family ? s->family : AF_INET};
	d->transport = s->transport;
	d->qname = (char *)(s->qname ? s->qname : "www.example.test.");
	d->qtype = s->qtype ? s->qtype : 1;
	d->expect_rcode = s->rcode;
	d->expect_authoritative = s->aa;
	for (int i = 0; i < 3 && s->answers[i] != NULL; i++)
		strlist_add(&d->expect_answer, s->answers[i]);
	d->has_soa_reference = s->ref;
	d->soa_reference = (struct conf_addr){(char *)host, s->ref_port, d->server.family};
	d->max_serial_lag = s->max_lag;
}

/* Run the check once (or `runs` times back to back) and return the last report. */
static struct harness *run_check(struct check_conf *conf, int runs)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct check_env *env;
	struct check_run *run;

	uv_loop_init(&h->loop);
	uv_loop_configure(&h->loop, UV_METRICS_IDLE_TIME);
	uv_timer_init(&h->loop, &h->tick);
	h->tick.data = h;
	env = check_env_new(&h->loop);
	run = check_run_new(env, conf, on_done, h);
	h->prev = mono_now();
	h->next_tick = h->prev + TICK_MS / 1000.0;
	uv_timer_start(&h->tick, on_tick, TICK_MS, TICK_MS);
	for (int i = 0; i < runs; i++) {
		int before = h->done;
		assert_int_equal(check_run_start(run), 0);
		while (h->done == before)
			uv_run(&h->loop, UV_RUN_ONCE);
	}
	uv_timer_stop(&h->tick);
	uv_close((uv_handle_t *)&h->tick, NULL);
	check_run_free(run);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	check_env_free(env);
	uv_run(&h->loop, UV_RUN_DEFAULT);             /* the env's handles close */
	assert_int_equal(uv_loop_close(&h->loop), 0); /* no handle left behind */
	strlist_free(&conf->u.dns.expect_answer);
	return h;
}

struct fake_case {
	const char *name;
	int family;
	enum fake_mode udp_mode, tcp_mode;
	enum dns_transport transport;
	int qtype, rcode, aa;
	const char *answers[3];
	enum check_result_code want;
	const char *detail;
};

static const struct fake_case fake_cases[] = {
    {"fake ok udp",
     AF_INET,
     FAKE_OK,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {"192.0.2.2"},
     RES_OK,
     "udp: NOERROR flags=aa an=2"},
    {"fake ok tcp",
     AF_INET,
     FAKE_OK,
     FAKE_OK,
     DNS_TCP,
     16,
     0,
     1,
     {"helloworld"},
     RES_OK,
     "tcp: NOERROR flags=aa an=1"},
    {"fake ok both",
     AF_INET,
     FAKE_OK,
     FAKE_OK,
     DNS_BOTH,
     1,
     0,
     1,
     {NULL},
     RES_OK,
     "udp: NOERROR flags=aa an=2"},
    {"fake ok ipv6", AF_INET6, FAKE_OK, FAKE_OK, DNS_BOTH, 6, 0, 1, {NULL}, RES_OK, "serial=42"},
    {"fake answer mismatch",
     AF_INET,
     FAKE_OK,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {"192.0.2.9"},
     RES_DNS_ANSWER_MISMATCH,
     "udp failed: expected \"192.0.2.9\" not in answer"},
    {"fake short packet udp",
     AF_INET,
     FAKE_SHORT,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_MALFORMED,
     "udp failed: reply of 5 bytes is shorter than a DNS header"},
    {"fake short packet tcp",
     AF_INET,
     FAKE_OK,
     FAKE_SHORT,
     DNS_TCP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_MALFORMED,
     "tcp failed: reply of 5 bytes"},
    {"fake cut record",
     AF_INET,
     FAKE_BAD_RECORD,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_MALFORMED,
     "answer record 2 of 2 is malformed"},
    {"fake empty datagram",
     AF_INET,
     FAKE_EMPTY,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_MALFORMED,
     "udp failed: reply of 0 bytes"},
    {"fake other question udp",
     AF_INET,
     FAKE_OTHER_QUESTION,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_QUESTION_MISMATCH,
     "reply is for other.example.test. A"},
    {"fake other question tcp",
     AF_INET,
     FAKE_OK,
     FAKE_OTHER_QUESTION,
     DNS_TCP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_QUESTION_MISMATCH,
     "tcp failed: reply is for other.example.test."},
    {"fake truncated udp",
     AF_INET,
     FAKE_TC,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_TRUNCATED,
     "flags=aa,tc"},
    {"fake wrong id",
     AF_INET,
     FAKE_WRONG_ID,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_TIMEOUT,
     "(wrong-ID replies ignored: 1)"},
    {"fake silent udp",
     AF_INET,
     FAKE_SILENT,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_TIMEOUT,
     "udp failed: no reply within"},
    {"fake silent tcp",
     AF_INET,
     FAKE_OK,
     FAKE_SILENT,
     DNS_TCP,
     1,
     0,
     1,
     {NULL},
     RES_TIMEOUT,
     "tcp failed: no reply within"},
    {"fake servfail",
     AF_INET,
     FAKE_SERVFAIL,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_RCODE,
     "rcode SERVFAIL, expected NOERROR"},
    {"fake refused",
     AF_INET,
     FAKE_REFUSED,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_RCODE,
     "rcode REFUSED, expected NOERROR (REFUSED flags=- an=0"},
    {"fake refused tcp",
     AF_INET,
     FAKE_OK,
     FAKE_REFUSED,
     DNS_TCP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_RCODE,
     "tcp failed: rcode REFUSED"},
    {"fake not authoritative",
     AF_INET,
     FAKE_NOT_AA,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     1,
     {NULL},
     RES_DNS_NOT_AUTHORITATIVE,
     "AA bit clear"},
    {"fake not aa, don't care",
     AF_INET,
     FAKE_NOT_AA,
     FAKE_OK,
     DNS_UDP,
     1,
     0,
     -1,
     {NULL},
     RES_OK,
     "flags=- an=2"},
    {"fake tcp closes",
     AF_INET,
     FAKE_OK,
     FAKE_CLOSE,
     DNS_TCP,
     1,
     0,
     1,
     {NULL},
     RES_CONNECT_FAILED,
     "server closed the connection without a reply"},
    {"fake both, tcp fails",
     AF_INET,
     FAKE_OK,
     FAKE_REFUSED,
     DNS_BOTH,
     1,
     0,
     1,
     {NULL},
     RES_DNS_RCODE,
     "tcp failed: rcode REFUSED, expected NOERROR"},
    {"fake both, udp fails",
     AF_INET,
     FAKE_TC,
     FAKE_OK,
     DNS_BOTH,
     1,
     0,
     1,
     {NULL},
     RES_DNS_TRUNCATED,
     "udp failed: TC bit set"},
};

static void check_timing(const struct fake_case *c, const struct harness *h, double timeout)
{
	if (h->rep.duration > timeout + 0.05)
		fail_msg("%s: result after %.0f ms, timeout %.0f ms", c->name,
		         h->rep.duration * 1000, timeout * 1000);
	if (h->busy_max > LATE_MAX_MS)
		fail_msg("%s: the loop was busy %.1f ms between two 5 ms ticks", c->name,
		         h->busy_max);
}

static void test_fake_servers(void **state)
{
	for (size_t i = 0; i < sizeof(fake_cases) / sizeof(fake_cases[0]); i++) {
		const struct fake_case *c = &fake_cases[i];
		struct fake f;
		struct check_conf conf;

		if (fake_start(&f, c->family, c->udp_mode, c->tcp_mode, 42) < 0) {
			if (c->family == AF_INET6) {
				printf("# %s: no ::1 here, skipped\n", c->name);
				continue;
			}
			fail_msg("%s: cannot start the fake server", c->name);
		}
		struct conf_spec s = {.family = c->family,
		                      .port = f.port,
		                      .transport = c->transport,
		                      .qtype = c->qtype,
		                      .rcode = c->rcode,
		                      .aa = c->aa,
		                      .timeout = 0.4};
		memcpy(s.answers, c->answers, sizeof(s.answers));
		if (c->qtype == 6)
			s.qname = "example.test.";
		conf_fill(&conf, &s);
		struct harness *h = run_check(&conf, 1);
		fake_stop(&f);
		printf("# %-28s %-24s %6.1f ms late<=%.1f busy<=%.1f ms  %s\n", c->name,
		       result_name(h->rep.code), h->rep.duration * 1000, h->late_max, h->busy_max,
		       h->rep.detail);
		if (h->rep.code != c->want || strstr(h->rep.detail, c->detail) == NULL)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", c->name,
			         result_name(h->rep.code), h->rep.detail, result_name(c->want),
			         c->detail);
		assert_int_equal(h->done, 1);
		assert_true(f.queries >= 1);
		check_timing(c, h, conf.timeout);
		free(h);
	}
}

/* expect_dnssec against fakes: the DNSKEY query follows the answer within the run's timeout,
 * a truncated DO reply is asked again over TCP, the report carries the expiry. */
static void test_fake_dnssec(void **state)
{
	static const struct fake_case cases[] = {
	    {"dnssec udp",
	     AF_INET,
	     FAKE_SIGNED,
	     FAKE_OK,
	     DNS_UDP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_OK,
	     "udp: NOERROR flags=aa an=2 serial=42 "},
	    {"dnssec both",
	     AF_INET,
	     FAKE_SIGNED,
	     FAKE_SIGNED,
	     DNS_BOTH,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_OK,
	     "RRSIG SOA example.test. key 4242 expires "},
	    {"dnssec no DNSKEY reply",
	     AF_INET,
	     FAKE_SIGNED_NOKEYS,
	     FAKE_OK,
	     DNS_UDP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_TIMEOUT,
	     "dnskey udp example.test. failed: no reply within "},
	    {"dnssec no DNSKEY reply tcp",
	     AF_INET,
	     FAKE_OK,
	     FAKE_SIGNED_NOKEYS,
	     DNS_TCP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_TIMEOUT,
	     "dnskey tcp example.test. failed: no reply within "},
	    {"dnssec TC over udp",
	     AF_INET,
	     FAKE_TC,
	     FAKE_SIGNED,
	     DNS_UDP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_OK,
	     "udp TC, tcp: NOERROR flags=aa an=2 serial=42 "},
	    {"dnssec unsigned",
	     AF_INET,
	     FAKE_OK,
	     FAKE_OK,
	     DNS_UDP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_DNSSEC_MISSING,
	     "SOA example.test.: no RRSIG in the answer"},
	    {"dnssec DNSKEY signature expired",
	     AF_INET,
	     FAKE_SIGNED_OLDKEYS,
	     FAKE_OK,
	     DNS_UDP,
	     6,
	     0,
	     1,
	     {NULL},
	     RES_DNSSEC_EXPIRED,
	     "DNSKEY example.test.: RRSIG key 4242 expired "},
	};
	/* queries the fake saw in the two runs: the second run asks for the DNSKEY RRset again
	 * only when its answers fail with the kept one */
	static const unsigned queries[] = {2 + 1, 3 + 2, 2 + 2, 2 + 2, 4 + 2, 1 + 1, 2 + 2};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct fake_case *c = &cases[i];
		struct fake f;
		struct check_conf conf;

		assert_int_equal(fake_start(&f, c->family, c->udp_mode, c->tcp_mode, 42), 0);
		struct conf_spec s = {.family = c->family,
		                      .port = f.port,
		                      .transport = c->transport,
		                      .qname = "example.test.",
		                      .qtype = c->qtype,
		                      .rcode = c->rcode,
		                      .aa = c->aa,
		                      .timeout = 0.4};
		conf_fill(&conf, &s);
		conf.u.dns.expect_dnssec = true;
		conf.u.dns.rrsig_warn_days = 7;
		struct harness *h = run_check(&conf, 2);
		fake_stop(&f);
		printf("# %-28s %-24s %6.1f ms  %s [%lld]\n", c->name, result_name(h->rep.code),
		       h->rep.duration * 1000, h->rep.detail, (long long)h->rep.rrsig_expires);
		if (h->rep.code != c->want || strstr(h->rep.detail, c->detail) == NULL)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", c->name,
			         result_name(h->rep.code), h->rep.detail, result_name(c->want),
			         c->detail);
		/* the expiry is known whenever a signature was judged, failing or not */
		assert_int_equal(h->rep.rrsig_expires, c->want == RES_OK ? f.rrsig_exp
		                                       : c->want == RES_DNSSEC_EXPIRED
		                                           ? f.rrsig_exp - 11 * 86400
		                                           : 0);
		if (c->udp_mode == FAKE_TC)
			assert_non_null(
			    strstr(h->rep.detail, "DNSKEY over TCP (UDP reply truncated)"));
		if (f.queries != queries[i])
			fail_msg("%s: the fake saw %u queries, want %u", c->name, f.queries,
			         queries[i]);
		check_timing(c, h, conf.timeout);
		free(h);
	}
}

/* Nothing listens: ICMP port unreachable (UDP) and RST (TCP) on loopback. */
static void test_closed_port(void **state)
{
	static const struct {
		enum dns_transport t;
		const char *detail;
	} cases[] = {
	    {DNS_UDP, "udp failed: port unreachable (ICMP)"},
	    {DNS_TCP, "tcp failed: connection refused"},
	    {DNS_BOTH, "tcp failed: connection refused"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct check_conf conf;
		struct conf_spec s = {.family = AF_INET,
		                      .port = closed_port(AF_INET),
		                      .transport = cases[i].t,
		                      .timeout = 0.4,
		                      .aa = 1};
		conf_fill(&conf, &s);
		struct harness *h = run_check(&conf, 1);
		printf("# closed port %zu: %s %.1f ms %s\n", i, result_name(h->rep.code),
		       h->rep.duration * 1000, h->rep.detail);
		assert_int_equal(h->rep.code, RES_CONNECT_REFUSED);
		assert_non_null(strstr(h->rep.detail, cases[i].detail));
		assert_true(h->rep.duration < 0.1);
		free(h);
	}
}

struct serial_case {
	const char *name;
	uint32_t local, ref;
	bool ref_down;
	int qtype;
	enum dns_transport transport;
	long max_lag;
	enum check_result_code want;
	const char *detail;
};

static const struct serial_case serial_cases[] = {
    {"equal", 10, 10, false, 6, DNS_UDP, 0, RES_OK, "serial 10, reference 10, lag 0"},
    {"within lag", 10, 12, false, 6, DNS_UDP, 2, RES_OK, "lag 2"},
    {"beyond lag", 10, 13, false, 6, DNS_UDP, 2, RES_DNS_SERIAL_LAG,
     "serial 10 trails reference 13 by 3 (max_serial_lag 2)"},
    {"wraparound within", 0xffffffffu, 1, false, 6, DNS_UDP, 2, RES_OK, "lag 2"},
    {"wraparound beyond", 0xfffffffeu, 1, false, 6, DNS_TCP, 2, RES_DNS_SERIAL_LAG, "by 3"},
    {"local ahead", 20, 10, false, 6, DNS_BOTH, 0, RES_OK, "ahead of reference"},
    {"A query, SOA asked too", 10, 13, false, 1, DNS_UDP, 2, RES_DNS_SERIAL_LAG, "by 3"},
    {"reference down", 10, 99, true, 6, DNS_UDP, 0, RES_OK,
     "reference unreachable (CONNECT_REFUSED"},
};

static void test_fake_serial_lag(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(serial_cases); i++) {
		const struct serial_case *c = &serial_cases[i];
		struct fake local, ref;
		struct check_conf conf;

		assert_int_equal(fake_start(&local, AF_INET, FAKE_OK, FAKE_OK, c->local), 0);
		assert_int_equal(fake_start(&ref, AF_INET, FAKE_OK, FAKE_OK, c->ref), 0);
		struct conf_spec s = {.family = AF_INET,
		                      .port = local.port,
		                      .transport = c->transport,
		                      .qtype = c->qtype,
		                      .aa = 1,
		                      .qname = "example.test.",
		                      .ref = true,
		                      .ref_port = c->ref_down ? closed_port(AF_INET) : ref.port,
		                      .max_lag = c->max_lag,
		                      .timeout = 0.4};
		conf_fill(&conf, &s);
		struct harness *h = run_check(&conf, 1);
		fake_stop(&local);
		fake_stop(&ref);
		printf("# serial %-24s %s %.1f ms %s\n", c->name, result_name(h->rep.code),
		       h->rep.duration * 1000, h->rep.detail);
		if (h->rep.code != c->want || strstr(h->rep.detail, c->detail) == NULL)
			fail_msg("%s: got %s \"%s\", want %s \"%s\"", c->name,
			         result_name(h->rep.code), h->rep.detail, result_name(c->want),
			         c->detail);
		/* the A query also asks the local server for the SOA: 2 queries */
		assert_int_equal(local.queries,
		                 (c->qtype != 6 ? 2u : 1u) * (c->transport == DNS_BOTH ? 2u : 1u));
		free(h);
	}
}

/* Reference silent: the check still ends, before the guard, and passes. */
static void test_fake_reference_silent(void **state)
{
	struct fake local, ref;
	struct check_conf conf;

	assert_int_equal(fake_start(&local, AF_INET, FAKE_OK, FAKE_OK, 5), 0);
	assert_int_equal(fake_start(&ref, AF_INET, FAKE_SILENT, FAKE_SILENT, 9), 0);
	struct conf_spec s = {.family = AF_INET,
	                      .port = local.port,
	                      .transport = DNS_UDP,
	                      .qtype = 6,
	                      .aa = 1,
	                      .qname = "example.test.",
	                      .ref = true,
	                      .ref_port = ref.port,
	                      .timeout = 0.3};
	conf_fill(&conf, &s);
	struct harness *h = run_check(&conf, 1);
	fake_stop(&local);
	fake_stop(&ref);
	printf("# reference silent: %s %.1f ms %s\n", result_name(h->rep.code),
	       h->rep.duration * 1000, h->rep.detail);
	assert_int_equal(h->rep.code, RES_OK);
	assert_non_null(strstr(h->rep.detail, "reference unreachable (TIMEOUT"));
	assert_null(strstr(h->rep.detail, "guard"));
	assert_true(h->rep.duration < 0.3);
	free(h);
}

/* The same run object, many runs in a row: the channels are reused; every run opens a new TCP
 * connection and closes it before it reports, while the UDP channel keeps one socket. A late
 * duplicate of every UDP reply (FAKE_TWICE) reaches that socket between runs or during the next
 * one: it is dropped and no run fails for it. */
static void test_fake_repeated_runs(void **state)
{
	struct fake f;
	struct check_conf conf;

	assert_int_equal(fake_start(&f, AF_INET, FAKE_TWICE, FAKE_OK, 1), 0);
	struct conf_spec s = {.family = AF_INET,
	                      .port = f.port,
	                      .transport = DNS_BOTH,
	                      .qtype = 1,
	                      .aa = 1,
	                      .answers = {"192.0.2.1"},
	                      .timeout = 0.4};
	conf_fill(&conf, &s);
	double t0 = mono_now();
	watch_port = f.port;
	struct harness *h = run_check(&conf, 200);
	watch_port = 0;
	double per = (mono_now() - t0) / 200 * 1000;
	fake_stop(&f);
	printf("# 200 runs udp+tcp: %.2f ms per run, timer late <= %.1f ms, busy <= %.1f ms\n", per,
	       h->late_max, h->busy_max);
	assert_int_equal(h->not_ok, 0);
	assert_int_equal(h->done, 200);
	assert_int_equal(f.queries, 400);
	assert_int_equal(f.conns, 200);
	assert_int_equal(h->tcp_max, 0);
	assert_int_equal(h->udp_max, 1);
	assert_int_equal(f.udp_sources, 1);
	/* the fake waits for more queries, as nsd does, so the client closes first: a RST,
	 * or 200 TIME_WAIT entries would be left for 60 s */
	assert_int_equal(tcp_sockets_on_port(f.port), 0);
	/* runs back to back keep the loop busy on purpose: timings are only printed */
	free(h);
}

/* Checks of one loop share the env's channel pool: each still asks its own server. */
static void test_fake_shared_pool(void **state)
{
	struct fake f[2];
	struct check_conf conf[2];
	struct harness h[2] = {{.done = 0}};
	const enum fake_mode modes[2] = {FAKE_OK, FAKE_REFUSED};
	const enum check_result_code want[2] = {RES_OK, RES_DNS_RCODE};
	struct check_run *run[2];
	uv_loop_t loop;

	uv_loop_init(&loop);
	struct check_env *env = check_env_new(&loop);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fake_start(&f[i], AF_INET, modes[i], modes[i], 1), 0);
		struct conf_spec s = {.family = AF_INET,
		                      .port = f[i].port,
		                      .transport = DNS_UDP,
		                      .qtype = 1,
		                      .aa = 1,
		                      .timeout = 0.4};
		conf_fill(&conf[i], &s);
		run[i] = check_run_new(env, &conf[i], on_done, &h[i]);
	}
	for (int n = 0; n < 20; n++) {
		for (int i = 0; i < 2; i++) {
			int before = h[i].done;
			assert_int_equal(check_run_start(run[i]), 0);
			while (h[i].done == before)
				uv_run(&loop, UV_RUN_ONCE);
			assert_int_equal(h[i].rep.code, want[i]);
		}
	}
	for (int i = 0; i < 2; i++) {
		check_run_free(run[i]);
		fake_stop(&f[i]);
		assert_int_equal(f[i].queries, 20);
		strlist_free(&conf[i].u.dns.expect_answer);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	check_env_free(env);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* The server stops and comes back on the same port while a pooled UDP channel keeps its
 * socket: the run in between reports the port unreachable, the next one is OK again. */
static void test_fake_server_restart(void **state)
{
	struct fake f;
	struct check_conf conf;
	struct harness h = {.done = 0};
	const enum check_result_code want[] = {RES_OK, RES_CONNECT_REFUSED, RES_OK, RES_OK};
	uv_loop_t loop;
	uint16_t port;

	uv_loop_init(&loop);
	struct check_env *env = check_env_new(&loop);
	assert_int_equal(fake_start(&f, AF_INET, FAKE_OK, FAKE_OK, 1), 0);
	port = f.port;
	struct conf_spec s = {.family = AF_INET,
	                      .port = port,
	                      .transport = DNS_UDP,
	                      .qtype = 1,
	                      .aa = 1,
	                      .timeout = 0.4};
	conf_fill(&conf, &s);
	struct check_run *run = check_run_new(env, &conf, on_done, &h);
	for (int n = 0; n < 4; n++) {
		int before = h.done;
		if (n == 1)
			fake_stop(&f);
		if (n == 2)
			assert_int_equal(fake_start_on(&f, AF_INET, FAKE_OK, FAKE_OK, 1, port), 0);
		assert_int_equal(check_run_start(run), 0);
		while (h.done == before)
			uv_run(&loop, UV_RUN_ONCE);
		printf("# restart step %d: %s %s\n", n, result_name(h.rep.code), h.rep.detail);
		assert_int_equal(h.rep.code, want[n]);
	}
	check_run_free(run);
	fake_stop(&f);
	assert_int_equal(f.queries, 2);
	strlist_free(&conf.u.dns.expect_answer);
	check_env_free(env);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

struct cancel_ctx {
	struct check_run *run;
	int how; /* 0: cancel, 1: free */
	bool fired;
};

static void do_cancel(uv_timer_t *t)
{
	struct cancel_ctx *cc = t->data;

	cc->fired = true;
	if (cc->how == 0)
		check_run_cancel(cc->run);
	else
		check_run_free(cc->run);
	uv_close((uv_handle_t *)t, NULL);
}

/* Cancel (or free) mid-query: no report, every handle released. */
static void test_fake_cancel(void **state)
{
	for (int how = 0; how < 2; how++) {
		struct fake f;
		struct check_conf conf;
		uv_loop_t loop;
		uv_timer_t t;
		struct harness h = {0};

		assert_int_equal(fake_start(&f, AF_INET, FAKE_SILENT, FAKE_SILENT, 1), 0);
		struct conf_spec s = {.family = AF_INET,
		                      .port = f.port,
		                      .transport = DNS_BOTH,
		                      .qtype = 6,
		                      .aa = 1,
		                      .ref = true,
		                      .ref_port = f.port,
		                      .timeout = 2.0};
		conf_fill(&conf, &s);
		uv_loop_init(&loop);
		struct check_env *env = check_env_new(&loop);
		struct cancel_ctx cc = {.run = check_run_new(env, &conf, on_done, &h), .how = how};
		double t0 = mono_now();
		assert_int_equal(check_run_start(cc.run), 0);
		uv_timer_init(&loop, &t);
		t.data = &cc;
		uv_timer_start(&t, do_cancel, 50, 0);
		uv_run(&loop, UV_RUN_DEFAULT); /* returns only when nothing is left */
		double took = mono_now() - t0;
		assert_true(cc.fired);
		assert_int_equal(h.done, 0);
		assert_true(took < 1.0); /* nothing kept the loop alive after the cancel */
		if (how == 0)
			check_run_free(cc.run);
		uv_run(&loop, UV_RUN_DEFAULT);
		check_env_free(env);
		uv_run(&loop, UV_RUN_DEFAULT);
		assert_int_equal(uv_loop_close(&loop), 0);
		fake_stop(&f);
		strlist_free(&conf.u.dns.expect_answer);
	}
}

static void test_bad_server_address(void **state)
{
	struct check_conf conf;
	struct conf_spec s = {.family = AF_INET, .port = 53, .transport = DNS_UDP, .aa = 1};

	conf_fill(&conf, &s);
	conf.u.dns.server.host = (char *)"not-an-address";
	struct harness *h = run_check(&conf, 1);
	assert_int_equal(h->rep.code, RES_INTERNAL_ERROR);
	assert_non_null(strstr(h->rep.detail, "is not a numeric IP address"));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fake_servers),
	    cmocka_unit_test(test_fake_dnssec),
	    cmocka_unit_test(test_closed_port),
	    cmocka_unit_test(test_fake_serial_lag),
	    cmocka_unit_test(test_fake_reference_silent),
	    cmocka_unit_test(test_fake_repeated_runs),
	    cmocka_unit_test(test_fake_shared_pool),
	    cmocka_unit_test(test_fake_cancel),
	    cmocka_unit_test(test_bad_server_address),
	    cmocka_unit_test(test_fake_server_restart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
