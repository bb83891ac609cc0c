/* SPDX-License-Identifier: ISC */
/*
 * bird_driver.c - run bird.c's client against a real BIRD from the shell
 * (tests/integration/bird_real.sh, the lab). One connection, the commands
 * in order, one output line each:
 *
 *   bird_driver [-t TIMEOUT] SOCKET CMD...
 *     enable NAME [REASON] | disable NAME [REASON]
 *         -> "enable NAME: OK changed=1 code=0011 ms=0.214"
 *     show [NAME] | showall NAME
 *         -> "show: OK n=5" then "proto NAME TYPE TABLE STATE disabled=0 up=1 info=... message=..."
 *     bench N NAME  (disable+enable N times)
 *         -> "bench NAME: n=N median_ms=... p99_ms=... max_ms=..."
 *     version -> "version BIRD 2.0.12" (after a command has connected)
 * Exit status 0 if every command came back OK, 1 if one did not, 2 on usage.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include <uv.h>

#include "bird.h"
#include "log.h"
#include "util.h"

static uv_loop_t *loop;
static struct bird_client *bc;
static char **cmds;
static int ncmds, next_cmd, failed;
static char version[64];
static double *lat;
static int bench_n, bench_i;
static const char *bench_name;
static uv_timer_t guard;

static void run_next(void);

static void done_cb(struct bird_client *c, const struct bird_reply *r, void *arg)
{
	const char *what = arg;
	printf("%s: %s changed=%d code=%04d ms=%.3f text=%s\n", what, bird_status_name(r->status),
	       r->changed, r->code, r->latency * 1e3, r->text);
	if (r->status != BIRD_OK)
		failed = 1;
	run_next();
}

static void show_cb(struct bird_client *c, const struct bird_reply *r,
                    const struct bird_protocol *p, size_t n, void *arg)
{
	printf("show: %s n=%zu code=%04d ms=%.3f text=%s\n", bird_status_name(r->status), n,
	       r->code, r->latency * 1e3, r->text);
	for (size_t i = 0; i < n; i++)
		printf("proto %s %s %s %s disabled=%d up=%d settling=%d since=%s info=%s "
		       "message=%s\n",
		       p[i].name, p[i].proto, p[i].table, p[i].state, p[i].disabled, p[i].up,
		       p[i].settling, p[i].since, p[i].info, p[i].message);
	if (r->status != BIRD_OK)
		failed = 1;
	run_next();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void bench_cb(struct bird_client *c, const struct bird_reply *r, void *arg)
{
	enum bird_status st;

	if (r->status != BIRD_OK) {
		printf("bench %s: %s %s\n", bench_name, bird_status_name(r->status), r->text);
		failed = 1;
		run_next();
		return;
	}
	lat[bench_i++] = r->latency;
	if (bench_i == 2 * bench_n) {
		qsort(lat, (size_t)bench_i, sizeof(*lat), cmp_double);
		printf("bench %s: n=%d median_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", bench_name,
		       bench_i, lat[bench_i / 2] * 1e3, lat[bench_i * 99 / 100] * 1e3,
		       lat[bench_i - 1] * 1e3);
		free(lat);
		lat = NULL;
		run_next();
		return;
	}
	if (bench_i % 2)
		st = bird_enable(bc, bench_name, NULL, bench_cb, NULL);
	else
		st = bird_disable(bc, bench_name, "bench", bench_cb, NULL);
	if (st != BIRD_OK) {
		printf("bench %s: %s\n", bench_name, bird_status_name(st));
		failed = 1;
		run_next();
	}
}

static void finish(void)
{
	uv_timer_stop(&guard);
	uv_close((uv_handle_t *)&guard, NULL);
	bird_client_free(bc);
}

static void run_next(void)
{
	enum bird_status st = BIRD_OK;
	static char label[256];

	fflush(stdout);
	if (next_cmd >= ncmds) {
		finish();
		return;
	}
	const char *verb = cmds[next_cmd++];
	const char *a1 = next_cmd < ncmds ? cmds[next_cmd] : NULL;
	if (strcmp(verb, "enable") == 0 || strcmp(verb, "disable") == 0) {
		const char *reason = NULL;
		if (a1 == NULL)
			goto usage;
		next_cmd++;
		if (next_cmd < ncmds && strcmp(cmds[next_cmd], "enable") != 0 &&
		    strcmp(cmds[next_cmd], "disable") != 0 && strncmp(cmds[next_cmd], "show", 4) &&
		    strcmp(cmds[next_cmd], "bench") != 0 && strcmp(cmds[next_cmd], "version") != 0)
			reason = cmds[next_cmd++];
		snprintf(label, sizeof(label), "%s %s", verb, a1);
		if (verb[0] == 'e')
			st = bird_enable(bc, a1, reason, done_cb, label);
		else
			st = bird_disable(bc, a1, reason, done_cb, label);
	} else if (strcmp(verb, "show") == 0) {
		const char *name = NULL;
		if (a1 && bird_symbol_valid(a1) && strcmp(a1, "enable") && strcmp(a1, "disable") &&
		    strcmp(a1, "bench") && strcmp(a1, "version") && strncmp(a1, "show", 4)) {
			name = a1;
			next_cmd++;
		}
		st = bird_show_protocols(bc, name, false, show_cb, NULL);
	} else if (strcmp(verb, "showall") == 0) {
		if (a1 == NULL)
			goto usage;
		next_cmd++;
		st = bird_show_protocols(bc, a1, true, show_cb, NULL);
	} else if (strcmp(verb, "bench") == 0) {
		if (a1 == NULL || next_cmd + 1 >= ncmds)
			goto usage;
		bench_n = atoi(a1);
		bench_name = cmds[next_cmd + 1];
		next_cmd += 2;
		if (bench_n <= 0)
			goto usage;
		lat = xcalloc(2 * (size_t)bench_n, sizeof(*lat));
		bench_i = 0;
		st = bird_disable(bc, bench_name, "bench", bench_cb, NULL);
	} else if (strcmp(verb, "version") == 0) {
		printf("version %s\n", version);
		run_next();
		return;
	} else {
		goto usage;
	}
	if (st != BIRD_OK) {
		printf("%s: %s (refused before sending)\n", verb, bird_status_name(st));
		failed = 1;
		run_next();
	}
	return;
usage:
	fprintf(stderr, "bird_driver: bad command near \"%s\"\n", verb);
	failed = 2;
	finish();
}

static void on_connected(struct bird_client *c, const char *v, void *arg)
{
	snprintf(version, sizeof(version), "%s", v);
}

static void on_disconnected(struct bird_client *c, const char *reason, void *arg)
{
	printf("disconnected: %s\n", reason);
}

static void guard_cb(uv_timer_t *t)
{
	struct bird_client_state st;
	bird_client_state(bc, &st);
	/* a safety net only: every command is bounded by the client's own timeout */
	fprintf(stderr, "bird_driver: gave up: %s\n", st.last_error[0] ? st.last_error : "timeout");
	failed = 1;
	finish();
}

int main(int argc, char **argv)
{
	double timeout = 2.0;
	static const struct bird_client_cbs cbs = {on_connected, on_disconnected};
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout = atof(argv[2]);
		i = 3;
	}
	if (argc - i < 2 || !(timeout > 0)) {
		fprintf(stderr, "usage: bird_driver [-t TIMEOUT] SOCKET CMD...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("bird_driver", 1);
	loop = uv_default_loop();
	cmds = argv + i + 1;
	ncmds = argc - i - 1;
	bc = bird_client_new(loop, "driver", argv[i], timeout, &cbs, NULL);
	uv_timer_init(loop, &guard);
	/* never hang a test: give up when BIRD cannot be reached at all */
	uv_timer_start(&guard, guard_cb, (uint64_t)(timeout * 1000) * (uint64_t)(ncmds + 2) + 2000,
	               0);
	/* queued while connecting: a BIRD that is not there fails it at once */
	run_next();
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	return failed;
}
