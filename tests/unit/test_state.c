/* SPDX-License-Identifier: ISC */
/*
 * test_state.c - persistent operator state: round trip, expiry at load,
 * corrupted and truncated files fail safe (drained, never undrained), a failed
 * write leaves the old file whole.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "state.h"
#include "util.h"

#define NOW 1700000000.0

static const char *const names[] = {"web", "dns", "ntp"};

static char dir[] = "/tmp/test_state.XXXXXX";
static char path[256];

static int setup(void **st)
{
	(void)st;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/state", dir);
	return 0;
}

static int teardown(void **st)
{
	char cmd[300];
	(void)st;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_raw(const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static char *read_raw(size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = xcalloc(1, 65536);
	assert_non_null(f);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

static struct state *load(enum state_load_result *r)
{
	struct state *s = state_new(path);
	*r = state_load(s, names, ARRAY_SIZE(names), NOW);
	return s;
}

/* The canonical file: web drained until NOW + 3600, dns drained with no end. */
static void write_canonical(void)
{
	struct state *s = state_new(path);
	assert_true(
	    state_set(s, "web", "maintenance \"rack 4\"", "alice", 1000, NOW - 60, NOW + 3600));
	assert_true(state_set(s, "dns", "zone migration", "bob", 1001, NOW - 10, INFINITY));
	assert_int_equal(state_save(s), 0);
	state_free(s);
}

static void test_round_trip(void **st)
{
	enum state_load_result r;
	struct state *s;
	const struct state_drain *d;

	(void)st;
	write_canonical();
	s = load(&r);
	assert_int_equal(r, STATE_LOADED);
	assert_int_equal(s->ndrains, 2);
	assert_false(s->corrupt);
	d = state_find(s, "web");
	assert_non_null(d);
	assert_string_equal(d->reason, "maintenance \"rack 4\"");
	assert_string_equal(d->who, "alice");
	assert_int_equal(d->uid, 1000);
	assert_true(fabs(d->since - (NOW - 60)) < 1e-3);
	assert_true(fabs(d->until - (NOW + 3600)) < 1e-3);
	d = state_find(s, "dns");
	assert_non_null(d);
	assert_true(isinf(d->until));
	assert_null(state_find(s, "ntp"));
	/* an unchanged set is no change; a remove is */
	assert_false(state_set(s, "dns", "zone migration", "bob", 1001, NOW - 10, INFINITY));
	assert_true(state_remove(s, "dns"));
	assert_false(state_remove(s, "dns"));
	state_free(s);
}

/* A reason longer than the field, cut where a multi-byte character would be split (found by
 * fuzz_state): the drain must still be written and read back, cut at a character boundary. */
static void test_long_utf8_reason(void **st)
{
	enum state_load_result r;
	struct state *s;
	const struct state_drain *d;
	char reason[1024] = "x";

	(void)st;
	/* "x" then 2-byte characters: every even cut lands inside one */
	for (size_t i = 1; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[sizeof(reason) - 1] = '\0';
	s = state_new(path);
	assert_true(state_set(s, "web", reason, "alice", 1000, NOW, INFINITY));
	assert_int_equal(state_save(s), 0);
	state_free(s);
	s = load(&r);
	assert_int_equal(r, STATE_LOADED);
	d = state_find(s, "web");
	assert_non_null(d);
	assert_true(strlen(d->reason) > 100);
	assert_int_equal(strncmp(d->reason, reason, strlen(d->reason)), 0);
	assert_int_equal(strlen(d->reason) % 2, 1); /* "x" + whole characters */
	state_free(s);
}

static void test_missing_file(void **st)
{
	enum state_load_result r;
	struct state *s;

	(void)st;
	unlink(path);
	s = load(&r);
	assert_int_equal(r, STATE_MISSING);
	assert_int_equal(s->ndrains, 0);
	state_free(s);
}

/* A drain whose `until` passed while the agent was down is dropped; others stay. */
static void test_expired_at_load(void **st)
{
	struct state *s = state_new(path);
	enum state_load_result r;

	(void)st;
	state_set(s, "web", "short", "alice", 1000, NOW - 100, NOW - 1);
	state_set(s, "dns", "long", "alice", 1000, NOW - 100, NOW + 1);
	assert_int_equal(state_save(s), 0);
	state_free(s);
	s = load(&r);
	assert_int_equal(r, STATE_LOADED);
	assert_null(state_find(s, "web"));
	assert_non_null(state_find(s, "dns"));
	state_free(s);
}

/* A drain of an announcement not configured any more stays in the state. */
static void test_unconfigured_kept(void **st)
{
	struct state *s = state_new(path);
	enum state_load_result r;

	(void)st;
	state_set(s, "gone", "kept", "alice", 1000, NOW - 100, INFINITY);
	assert_int_equal(state_save(s), 0);
	state_free(s);
	s = load(&r);
	assert_int_equal(r, STATE_LOADED);
	assert_non_null(state_find(s, "gone"));
	state_free(s);
}

struct bad_case {
	const char *what;
	const char *content;
	const char *drained[4]; /* exactly these are drained afterwards */
};

/* Files that end like a whole write ("}\n") but do not parse drain what they name; files
 * without that end were cut short and drain everything configured. */
static const struct bad_case bad_cases[] = {
    {"garbage naming web", "xx web yy}\n", {"web"}},
    {"garbage naming nothing", "\x01\x02\x03 not json}\n", {NULL}},
    {"invalid UTF-8 naming dns",
     "{\"version\":1,\"drains\":{\"dns\":{\"reason\":\"\xff\"}}}\n",
     {"dns"}},
    {"drains is an array", "{\"version\":1,\"drains\":[\"web\"]}\n", {"web"}},
    {"unknown version", "{\"version\":2,\"drains\":{\"ntp\":{}}}\n", {"ntp"}},
    {"mistyped field",
     "{\"version\":1,\"drains\":{\"web\":{\"reason\":5,\"since\":1}},\"x\":\"dns\"}\n",
     {"web", "dns"}},
    {"not an object", "[1,2,3]\n", {NULL}},
    {"empty file", "", {"web", "dns", "ntp"}},
    {"cut short", "{\"version\":1,\"drains\":{", {"web", "dns", "ntp"}},
    {"garbage without the end", "xx web", {"web", "dns", "ntp"}},
};

static void test_corrupted(void **st)
{
	(void)st;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		enum state_load_result r;
		struct state *s;
		size_t n = 0;
		char copy[300];
		struct stat sb;

		write_raw(c->content, strlen(c->content));
		s = load(&r);
		print_message("case: %s\n", c->what);
		assert_int_equal(r, STATE_CORRUPT);
		assert_true(s->corrupt);
		assert_true(strstr(s->load_error, "corrupted") != NULL);
		for (; n < ARRAY_SIZE(c->drained) && c->drained[n]; n++) {
			const struct state_drain *d = state_find(s, c->drained[n]);
			assert_non_null(d);
			assert_true(strstr(d->reason, "fail safe") != NULL);
			assert_true(isinf(d->until));
		}
		assert_int_equal(s->ndrains, n);
		/* the bad bytes are kept for the operator */
		snprintf(copy, sizeof(copy), "%s.corrupt", path);
		assert_int_equal(stat(copy, &sb), 0);
		assert_int_equal((size_t)sb.st_size, strlen(c->content));
		state_free(s);
	}
}

/* Truncated at every byte offset: web and dns are drained every time, never undrained. */
static void test_truncated_every_offset(void **st)
{
	size_t len;
	char *full;

	(void)st;
	write_canonical();
	full = read_raw(&len);
	for (size_t k = 0; k < len; k++) {
		enum state_load_result r;
		struct state *s;

		write_raw(full, k);
		s = load(&r);
		if (r != STATE_LOADED) {
			assert_int_equal(r, STATE_CORRUPT);
			assert_true(s->corrupt);
		} else {
			/* only the trailing newline may go unnoticed */
			assert_true(k >= len - 1);
		}
		if (state_find(s, "web") == NULL || state_find(s, "dns") == NULL)
			fail_msg("truncated at byte %zu of %zu: a drain was lost", k, len);
		state_free(s);
	}
	free(full);
}

/* A write that fails (file size limit standing in for a full filesystem) reports the error,
 * keeps the old file whole and leaves no temporary file behind. */
static void test_write_failure(void **st)
{
	struct rlimit old, small = {.rlim_cur = 16, .rlim_max = RLIM_INFINITY};
	struct state *s;
	size_t len0, len1;
	char *before, *after, tmp[300];
	int rc;

	(void)st;
	write_canonical();
	before = read_raw(&len0);
	s = state_new(path);
	state_set(s, "ntp", "a reason long enough to need more than sixteen bytes", "carol", 1002,
	          NOW, INFINITY);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	small.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	rc = state_save(s);
	setrlimit(RLIMIT_FSIZE, &old);
	assert_int_equal(rc, -1);
	assert_true(s->save_failed);
	assert_int_equal(s->save_failures, 1);
	assert_true(strstr(s->save_error, "cannot write") != NULL);
	after = read_raw(&len1);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	/* the next write succeeds and clears the error */
	assert_int_equal(state_save(s), 0);
	assert_false(s->save_failed);
	state_free(s);
	free(before);
	free(after);
}

/* A file we cannot read (here: a directory) drains everything configured. */
static void test_unreadable(void **st)
{
	enum state_load_result r;
	struct state *s;
	char cmd[300];

	(void)st;
	unlink(path);
	assert_int_equal(mkdir(path, 0755), 0);
	s = load(&r);
	assert_int_equal(r, STATE_UNREADABLE);
	assert_int_equal(s->ndrains, ARRAY_SIZE(names));
	state_free(s);
	snprintf(cmd, sizeof(cmd), "rmdir '%s'", path);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_long_utf8_reason),
	    cmocka_unit_test(test_expired_at_load),
	    cmocka_unit_test(test_unconfigured_kept),
	    cmocka_unit_test(test_corrupted),
	    cmocka_unit_test(test_truncated_every_offset),
	    cmocka_unit_test(test_write_failure),
	    cmocka_unit_test(test_unreadable),
	};
	log_init("test_state", 1);
	return cmocka_run_group_tests(tests, setup, teardown);
}
