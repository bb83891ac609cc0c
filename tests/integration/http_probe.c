/* SPDX-License-Identifier: ISC */
/*
 * http_probe.c - run the http check type from the command line, for the
 * integration tests against real nginx (tests/integration/http.sh).
 *
 * Prints one line per run: RESULT DURATION_MS LOOP_LATE_MS DAYS DETAIL,
 * where LOOP_LATE_MS is the worst lateness of a 5 ms timer on the same loop
 * during that run and DAYS the certificate's days left (or "-").
 */
#include <config.h>

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "check_http.h"
#include "util.h"

#define TICK_MS 5

struct state {
	uv_timer_t tick;
	uint64_t last;
	double late_ms;
	int done;
	struct check_report rep;
};

static void tick_cb(uv_timer_t *t)
{
	struct state *st = t->data;
	uint64_t now = uv_hrtime();
	double late = (double)(now - st->last) / 1e6 - TICK_MS;

	if (late > st->late_ms)
		st->late_ms = late;
	st->last = now;
}

static void done_cb(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct state *st = arg;

	st->rep = *rep;
	st->done = 1;
}

static void parse_addr(const char *s, struct conf_addr *a)
{
	const char *colon;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL) {
			fprintf(stderr, "http_probe: bad address \"%s\"\n", s);
			exit(2);
		}
		a->host = xstrndup(s + 1, (size_t)(end - s - 1));
		a->family = AF_INET6;
		if (end[1] == ':')
			a->port = (unsigned)atoi(end + 2);
		return;
	}
	colon = strrchr(s, ':');
	a->family = AF_INET;
	if (colon != NULL && strchr(s, ':') == colon) {
		a->host = xstrndup(s, (size_t)(colon - s));
		a->port = (unsigned)atoi(colon + 1);
	} else {
		a->host = xstrdup(s);
		if (colon != NULL)
			a->family = AF_INET6;
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: http_probe --url URL [--connect-to ADDR:PORT] [--source ADDR]\n"
	                "  [--head] [--header H]... [--status LO[-HI]]... [--body S | --regex RE]\n"
	                "  [--body-max N] [--ca FILE] [--no-verify] [--warn-days N] [--timeout S]\n"
	                "  [--count N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"connect-to", required_argument, NULL, 'c'},
	    {"source", required_argument, NULL, 's'},
	    {"head", no_argument, NULL, 'H'},
	    {"header", required_argument, NULL, 'h'},
	    {"status", required_argument, NULL, 'S'},
	    {"body", required_argument, NULL, 'b'},
	    {"regex", required_argument, NULL, 'r'},
	    {"body-max", required_argument, NULL, 'm'},
	    {"ca", required_argument, NULL, 'a'},
	    {"no-verify", no_argument, NULL, 'n'},
	    {"warn-days", required_argument, NULL, 'w'},
	    {"timeout", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0},
	};
	struct check_conf conf = {.name = (char *)"probe", .type = CHECK_HTTP, .timeout = 2.0};
	struct http_conf *hc = &conf.u.http;
	struct check_env *env;
	struct check_run *run;
	struct state st = {0};
	uv_loop_t loop;
	int c, count = 1, i;

	hc->tls_verify = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			hc->url = optarg;
			break;
		case 'c':
			hc->has_connect_to = true;
			parse_addr(optarg, &hc->connect_to);
			break;
		case 's':
			hc->has_source = true;
			parse_addr(optarg, &hc->source);
			break;
		case 'H':
			hc->head = true;
			break;
		case 'h':
			strlist_add(&hc->headers, optarg);
			break;
		case 'S': {
			unsigned lo, hi;

			if (sscanf(optarg, "%u-%u", &lo, &hi) != 2)
				hi = lo = (unsigned)atoi(optarg);
			hc->status = xrealloc(hc->status, (hc->nstatus + 1) * sizeof(*hc->status));
			hc->status[hc->nstatus].lo = lo;
			hc->status[hc->nstatus++].hi = hi;
			break;
		}
		case 'b':
			hc->expect_body = optarg;
			break;
		case 'r':
			hc->expect_body_regex = optarg;
			break;
		case 'm':
			hc->body_max = (size_t)atol(optarg);
			break;
		case 'a':
			hc->ca_file = optarg;
			break;
		case 'n':
			hc->tls_verify = false;
			break;
		case 'w':
			hc->cert_warn_days = atoi(optarg);
			break;
		case 't':
			conf.timeout = atof(optarg);
			break;
		case 'N':
			count = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (hc->url == NULL || optind != argc)
		usage();

	signal(SIGPIPE, SIG_IGN); /* as the daemon does */
	if (check_http_global_init() < 0)
		return 1;
	uv_loop_init(&loop);
	uv_timer_init(&loop, &st.tick);
	st.tick.data = &st;
	env = check_env_new(&loop);
	run = check_run_new(env, &conf, done_cb, &st);
	for (i = 0; i < count; i++) {
		st.done = 0;
		st.late_ms = 0;
		st.last = uv_hrtime();
		uv_timer_start(&st.tick, tick_cb, TICK_MS, TICK_MS);
		check_run_start(run);
		while (!st.done)
			uv_run(&loop, UV_RUN_ONCE);
		/* timers run first in an iteration: let a tick the run held up report it */
		uv_run(&loop, UV_RUN_NOWAIT);
		uv_timer_stop(&st.tick);
		if (st.rep.cert_days_left == INT_MIN)
			printf("%s %.2f %.2f - %s\n", result_name(st.rep.code),
			       st.rep.duration * 1e3, st.late_ms, st.rep.detail);
		else
			printf("%s %.2f %.2f %d %s\n", result_name(st.rep.code),
			       st.rep.duration * 1e3, st.late_ms, st.rep.cert_days_left,
			       st.rep.detail);
		fflush(stdout);
	}
	check_run_free(run);
	check_env_free(env);
	uv_close((uv_handle_t *)&st.tick, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "http_probe: handles left open on the loop\n");
		return 1;
	}
	strlist_free(&hc->headers);
	free(hc->status);
	free(hc->connect_to.host);
	free(hc->source.host);
	return 0;
}
