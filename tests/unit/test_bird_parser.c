/* SPDX-License-Identifier: ISC */
/*
 * test_bird_parser.c - the BIRD reply parser and `show protocols` row
 * parser, on bytes captured from real BIRD 1.6.8, 2.0.12, 2.17.6 and 3.1.8
 * (tests/data/bird/) and on hostile input; the banner's version; `show route
 * for PREFIX all` replies (two PoPs over iBGP, tests/data/bird/capture-routes.sh)
 * parsed into routes, and which of them the last-site guard counts as another
 * path; the prefix validation that guards BIRD's command line.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bird.h"
#include "conf.h"
#include "guard.h"
#include "sync.h"
#include "util.h"

#ifndef BIRD_TEST_DATA
#define BIRD_TEST_DATA "tests/data/bird"
#endif

struct got_line {
	int code;
	enum bird_line_kind kind;
	char *text;
};

struct collect {
	struct got_line *v;
	size_t n, cap;
	size_t stop_after; /* 0: never stop */
};

static int collect_cb(const struct bird_line *l, void *arg)
{
	struct collect *c = arg;
	assert_int_equal(strlen(l->text), l->len);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
	}
	c->v[c->n].code = l->code;
	c->v[c->n].kind = l->kind;
	c->v[c->n].text = xstrdup(l->text);
	c->n++;
	if (c->stop_after && c->n == c->stop_after)
		return 7;
	return 0;
}

static void collect_free(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].text);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

static char *read_data(const char *rel, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", BIRD_TEST_DATA, rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Feed data in pieces of `step` bytes (0: all at once). */
static int feed_split(struct bird_parser *p, const char *data, size_t len, size_t step,
                      struct collect *c)
{
	if (step == 0)
		return bird_parser_feed(p, data, len, collect_cb, c);
	for (size_t off = 0; off < len; off += step) {
		size_t n = len - off < step ? len - off : step;
		int rc = bird_parser_feed(p, data + off, n, collect_cb, c);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ---- captured transcripts ------------------------------------------------- */

static const struct transcript {
	const char *file;
	size_t lines;
	int first_code, last_code;
	int status; /* bird_status_from_code() of the deciding line */
} transcripts[] = {
    {"bird2/banner", 1, 1, 1, BIRD_OK},
    {"bird2/show_protocols", 7, 2002, 0, BIRD_OK},
    {"bird2/disable_message", 2, 9, 0, BIRD_OK},
    {"bird2/already_disabled", 2, 8, 0, BIRD_OK},
    {"bird2/enable", 2, 11, 0, BIRD_OK},
    {"bird2/already_enabled", 2, 10, 0, BIRD_OK},
    {"bird2/glob_enable", 3, 10, 0, BIRD_OK},
    {"bird2/show_protocols_all_disabled", 11, 2002, 0, BIRD_OK},
    {"bird2/show_protocols_all_up", 16, 2002, 0, BIRD_OK},
    {"bird2/show_protocols_all_bgp_error", 15, 2002, 0, BIRD_OK},
    {"bird2/show_protocols_all_bgp_start", 16, 2002, 0, BIRD_OK},
    {"bird2/show_protocols_iso_long", 8, 2002, 0, BIRD_OK},
    {"bird2/unknown_protocol", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird2/show_protocols_unknown", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird2/syntax_error", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird2/show_status", 7, 1000, 13, BIRD_OK},
    {"bird2/restrict", 1, 16, 16, BIRD_OK},
    {"bird2/access_denied", 1, 8007, 8007, BIRD_ACCESS_DENIED},
    {"bird2/show_protocols_restricted", 3, 2002, 0, BIRD_OK},
    {"bird16/banner", 1, 1, 1, BIRD_OK},
    {"bird16/show_protocols", 6, 2002, 0, BIRD_OK},
    {"bird16/disable_message", 2, 9, 0, BIRD_OK},
    {"bird16/already_disabled", 2, 8, 0, BIRD_OK},
    {"bird16/enable", 2, 11, 0, BIRD_OK},
    {"bird16/already_enabled", 2, 10, 0, BIRD_OK},
    {"bird16/show_protocols_all_disabled", 8, 2002, 0, BIRD_OK},
    {"bird16/show_protocols_all_up", 13, 2002, 0, BIRD_OK},
    {"bird16/show_protocols_all_bgp_error", 11, 2002, 0, BIRD_OK},
    {"bird16/unknown_protocol", 1, 9002, 9002, BIRD_NO_SUCH_PROTOCOL},
    {"bird16/show_protocols_unknown", 1, 9002, 9002, BIRD_NO_SUCH_PROTOCOL},
    {"bird16/syntax_error", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird16/show_status", 6, 1000, 13, BIRD_OK},
    {"bird16/restrict", 1, 16, 16, BIRD_OK},
    {"bird16/access_denied", 1, 8007, 8007, BIRD_ACCESS_DENIED},
    {"bird16/show_protocols_restricted", 6, 2002, 0, BIRD_OK},
    /* BIRD 1.6.3 (built from its release tag): no message after disable */
    {"bird163/banner", 1, 1, 1, BIRD_OK},
    {"bird163/disable_message", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird163/disable", 2, 9, 0, BIRD_OK},
    /* BIRD 3.1.8 (Debian 13's bird3): `configure` answers 0004 while protocols restart, `echo`
     * is gone (9001), `show protocols all` has Created:/Import state:/Export state: lines,
     * routes carry `source:` and bgp_* attributes as 1012 lines */
    {"bird3/access_denied", 1, 8007, 8007, BIRD_ACCESS_DENIED},
    {"bird3/already_disabled", 2, 8, 0, BIRD_OK},
    {"bird3/already_enabled", 2, 10, 0, BIRD_OK},
    {"bird3/banner", 1, 1, 1, BIRD_OK},
    {"bird3/configure", 2, 2, 3, BIRD_OK},
    {"bird3/configure_in_progress", 2, 2, 4, BIRD_OK},
    {"bird3/disable_message", 2, 9, 0, BIRD_OK},
    {"bird3/echo", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird3/enable", 2, 11, 0, BIRD_OK},
    {"bird3/glob_enable", 3, 10, 0, BIRD_OK},
    {"bird3/restrict", 1, 16, 16, BIRD_OK},
    {"bird3/show_protocols", 8, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_bgp_disabled", 18, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_bgp_error", 18, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_bgp_start", 19, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_description", 20, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_disabled", 14, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_all_up", 19, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_bgp_start", 3, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_disabled", 8, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_enabled_flushing", 3, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_iso_long", 8, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_restricted", 3, 2002, 0, BIRD_OK},
    {"bird3/show_protocols_unknown", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird3/show_route_for_alone", 11, 1007, 0, BIRD_OK},
    {"bird3/show_route_for_ibgp4", 22, 1007, 0, BIRD_OK},
    {"bird3/show_route_for_ibgp4_v2_attributes", 14, 1007, 0, BIRD_OK},
    {"bird3/show_route_for_ibgp6", 17, 1007, 0, BIRD_OK},
    {"bird3/show_route_for_not_found", 1, 8001, 8001, BIRD_ERROR},
    {"bird3/show_status", 7, 1000, 13, BIRD_OK},
    {"bird3/syntax_error", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird3/unknown_protocol", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    /* BIRD 2.17.6 (Debian 13's bird2): as 2.0.12, plus the RX limit columns in the stats */
    {"bird217/access_denied", 1, 8007, 8007, BIRD_ACCESS_DENIED},
    {"bird217/already_disabled", 2, 8, 0, BIRD_OK},
    {"bird217/already_enabled", 2, 10, 0, BIRD_OK},
    {"bird217/banner", 1, 1, 1, BIRD_OK},
    {"bird217/configure", 2, 2, 3, BIRD_OK},
    {"bird217/configure_in_progress", 2, 2, 4, BIRD_OK},
    {"bird217/disable_message", 2, 9, 0, BIRD_OK},
    {"bird217/echo", 1, 0, 0, BIRD_OK},
    {"bird217/enable", 2, 11, 0, BIRD_OK},
    {"bird217/glob_enable", 3, 10, 0, BIRD_OK},
    {"bird217/restrict", 1, 16, 16, BIRD_OK},
    {"bird217/show_protocols", 8, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_bgp_disabled", 15, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_bgp_error", 15, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_bgp_start", 16, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_description", 17, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_disabled", 11, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_all_up", 16, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_bgp_start", 3, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_disabled", 8, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_iso_long", 8, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_restricted", 3, 2002, 0, BIRD_OK},
    {"bird217/show_protocols_unknown", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird217/show_route_for_alone", 7, 1007, 0, BIRD_OK},
    {"bird217/show_route_for_ibgp4", 14, 1007, 0, BIRD_OK},
    {"bird217/show_route_for_ibgp6", 11, 1007, 0, BIRD_OK},
    {"bird217/show_route_for_not_found", 1, 8001, 8001, BIRD_ERROR},
    {"bird217/show_status", 7, 1000, 13, BIRD_OK},
    {"bird217/syntax_error", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
    {"bird217/unknown_protocol", 1, 9001, 9001, BIRD_NO_SUCH_PROTOCOL},
};

static void test_transcripts(void **state)
{
	static const size_t steps[] = {0, 1, 2, 3, 7, 64};

	for (size_t t = 0; t < ARRAY_SIZE(transcripts); t++) {
		const struct transcript *tr = &transcripts[t];
		size_t len;
		char *data = read_data(tr->file, &len);
		struct collect ref = {0};

		for (size_t s = 0; s < ARRAY_SIZE(steps); s++) {
			struct bird_parser p;
			struct collect c = {0};

			bird_parser_init(&p, 0);
			if (feed_split(&p, data, len, steps[s], &c) != 0)
				fail_msg("%s step %zu: %s", tr->file, steps[s], p.error);
			assert_int_equal(bird_parser_eof(&p), 0);
			assert_false(bird_parser_in_reply(&p));
			if (c.n != tr->lines)
				fail_msg("%s: %zu lines, expected %zu", tr->file, c.n, tr->lines);
			assert_int_equal(c.v[0].code, tr->first_code);
			assert_int_equal(c.v[c.n - 1].code, tr->last_code);
			assert_int_equal(c.v[c.n - 1].kind, BIRD_LINE_LAST);
			for (size_t i = 0; i + 1 < c.n; i++)
				assert_int_not_equal(c.v[i].kind, BIRD_LINE_LAST);
			/* the deciding line: the first 8xxx/9xxx, else success */
			int st = BIRD_OK;
			for (size_t i = 0; i < c.n; i++) {
				int x = bird_status_from_code(c.v[i].code);
				if (x > 0) {
					st = x;
					break;
				}
			}
			if (st != tr->status)
				fail_msg("%s: status %s", tr->file, bird_status_name(st));
			/* every split yields the same lines */
			if (s == 0) {
				ref = c;
			} else {
				for (size_t i = 0; i < c.n; i++) {
					assert_int_equal(c.v[i].code, ref.v[i].code);
					assert_int_equal(c.v[i].kind, ref.v[i].kind);
					assert_string_equal(c.v[i].text, ref.v[i].text);
				}
				collect_free(&c);
			}
			bird_parser_free(&p);
		}
		collect_free(&ref);
		free(data);
	}
}

/* Continuation lines carry the code of the line before them. */
static void test_continuation_codes(void **state)
{
	size_t len;
	char *data = read_data("bird2/show_protocols_all_disabled", &len);
	struct bird_parser p;
	struct collect c = {0};
	static const struct {
		int code;
		enum bird_line_kind kind;
		const char *text;
	} want[] = {
	    {2002, BIRD_LINE_MORE, NULL},
	    {1002, BIRD_LINE_MORE, NULL},
	    {1006, BIRD_LINE_MORE, "  Message:        drained by test"},
	    {1006, BIRD_LINE_CONT, "  Channel ipv4"},
	};

	bird_parser_init(&p, 0);
	assert_int_equal(bird_parser_feed(&p, data, len, collect_cb, &c), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(c.v[i].code, want[i].code);
		assert_int_equal(c.v[i].kind, want[i].kind);
		if (want[i].text)
			assert_string_equal(c.v[i].text, want[i].text);
	}
	assert_int_equal(c.v[c.n - 2].kind, BIRD_LINE_CONT);
	assert_string_equal(c.v[c.n - 2].text, "");
	collect_free(&c);
	bird_parser_free(&p);
	free(data);
}

/* ---- show protocols rows ---------------------------------------------------- */

static const struct row_case {
	const char *file;
	size_t row; /* index among the 1002 rows */
	const char *name, *proto, *table, *state, *since, *info;
	bool up, disabled;
} rows[] = {
    {"bird2/show_protocols", 0, "device1", "Device", "---", "up", "13:36:24.508", "", true, false},
    {"bird2/show_protocols", 2, "anycast4_drain", "Static", "master4", "down", "13:36:24.508", "",
     false, true},
    {"bird2/show_protocols", 4, "peer1", "BGP", "---", "down", "13:36:24.511",
     "Error: Invalid next hop", false, true},
    {"bird2/show_protocols_disabled", 1, "anycast4", "Static", "master4", "down", "13:36:34.667",
     "", false, true},
    {"bird2/show_protocols_bgp_start", 5, "peer2", "BGP", "---", "start", "13:36:58.804", "Active",
     false, false},
    {"bird2/show_protocols_iso_long", 5, "peer2", "BGP", "---", "start", "2026-11-25 13:36:59",
     "Active", false, false},
    {"bird2/show_protocols_iso_long", 1, "anycast4", "Static", "master4", "up",
     "2026-11-25 13:36:34", "", true, false},
    {"bird16/show_protocols", 1, "anycast4", "Static", "master", "up", "13:36:52", "", true, false},
    {"bird16/show_protocols", 2, "anycast4_drain", "Static", "master", "down", "13:36:52", "",
     false, true},
    {"bird16/show_protocols", 3, "peer1", "BGP", "master", "down", "13:36:52",
     "Error: Invalid next hop", false, true},
    {"bird16/show_protocols_disabled", 1, "anycast4", "Static", "master", "down", "13:36:53", "",
     false, true},
    /* BIRD 3's 1002 table is BIRD 2's */
    {"bird3/show_protocols", 1, "anycast4", "Static", "master4", "up", "13:49:21.294", "", true,
     false},
    {"bird3/show_protocols", 4, "peer1", "BGP", "---", "down", "13:49:21.298",
     "Error: Invalid next hop", false, true},
    {"bird3/show_protocols", 5, "peer2", "BGP", "---", "start", "13:49:21.294", "Active", false,
     false},
    {"bird3/show_protocols_disabled", 1, "anycast4", "Static", "master4", "down", "13:49:21.888",
     "", false, true},
    /* enabled while its flush after a disable still runs: BIRD 3 starts it afterwards */
    {"bird3/show_protocols_enabled_flushing", 0, "anycast4", "Static", "master4", "flush",
     "14:21:22.407", "", false, false},
    {"bird3/show_protocols_iso_long", 5, "peer2", "BGP", "---", "start", "2026-12-05 13:49:22",
     "Active", false, false},
    {"bird3/show_protocols_all_description", 0, "anycast4", "Static", "master4", "up",
     "13:49:32.937", "", true, false},
    {"bird217/show_protocols", 2, "anycast4_drain", "Static", "master4", "down", "13:49:22.728", "",
     false, true},
};

static void test_protocol_rows(void **state)
{
	for (size_t t = 0; t < ARRAY_SIZE(rows); t++) {
		const struct row_case *rc = &rows[t];
		size_t len, k = 0;
		char *data = read_data(rc->file, &len);
		struct bird_parser p;
		struct collect c = {0};
		struct bird_protocol bp;
		bool found = false;

		bird_parser_init(&p, 0);
		assert_int_equal(bird_parser_feed(&p, data, len, collect_cb, &c), 0);
		for (size_t i = 0; i < c.n && !found; i++) {
			if (c.v[i].code != 1002)
				continue;
			if (k++ != rc->row)
				continue;
			found = true;
			assert_int_equal(bird_protocol_parse_row(c.v[i].text, &bp), 0);
		}
		if (!found)
			fail_msg("%s: no row %zu", rc->file, rc->row);
		assert_string_equal(bp.name, rc->name);
		assert_string_equal(bp.proto, rc->proto);
		assert_string_equal(bp.table, rc->table);
		assert_string_equal(bp.state, rc->state);
		assert_string_equal(bp.since, rc->since);
		assert_string_equal(bp.info, rc->info);
		assert_int_equal(bp.up, rc->up);
		assert_int_equal(bp.disabled, rc->disabled);
		collect_free(&c);
		bird_parser_free(&p);
		free(data);
	}
}

static void test_protocol_row_bad(void **state)
{
	static const char *const bad[] = {"", "   ", "anycast4 Static master4", "a b c d",
	                                  "a b c d   "};
	struct bird_protocol bp;
	char longname[300];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(bird_protocol_parse_row(bad[i], &bp), -1);
	/* over-long fields are cut, never overflow */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	char row[2048];
	snprintf(row, sizeof(row), "%s %s %s %s %s  %s", longname, longname, longname, longname,
	         longname, longname);
	assert_int_equal(bird_protocol_parse_row(row, &bp), 0);
	assert_int_equal(strlen(bp.name), BIRD_NAME_MAX);
	assert_int_equal(strlen(bp.info), sizeof(bp.info) - 1);
}

/* What each state column means for up / disabled / settling. */
static void test_protocol_row_states(void **state)
{
	static const struct {
		const char *state;
		bool up, disabled, settling;
	} cases[] = {
	    {"up", true, false, false},         {"start", false, false, false},
	    {"stop", false, false, true},       {"flush", false, false, true},
	    {"down", false, true, false},       {"feed", false, false, false},
	    {"suspended", false, false, false},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char row[128];
		struct bird_protocol bp;
		snprintf(row, sizeof(row), "anycast4   Static     master4    %-6s 13:36:34.668  ",
		         cases[i].state);
		assert_int_equal(bird_protocol_parse_row(row, &bp), 0);
		assert_string_equal(bp.state, cases[i].state);
		assert_int_equal(bp.up, cases[i].up);
		assert_int_equal(bp.disabled, cases[i].disabled);
		assert_int_equal(bp.settling, cases[i].settling);
		assert_string_equal(bp.info, "");
	}
}

/* ---- hostile input ------------------------------------------------------------ */

static const struct bad_case {
	const char *what;
	const char *data;
	size_t len;        /* 0: strlen(data) */
	const char *error; /* substring of p.error; NULL: parses fine */
	size_t lines;      /* delivered before the error (or in total) */
} bad_cases[] = {
    {"no code", "hello\n", 0, "without a reply code", 0},
    {"code without separator", "0000\n", 0, "without a reply code", 0},
    {"three digits", "000 x\n", 0, "without a reply code", 0},
    {"letter in code", "00a0 x\n", 0, "without a reply code", 0},
    {"empty line", "0001-x\n\n", 0, "empty reply line", 1},
    {"NUL byte", "0001 BI\0RD\n", 11, "NUL byte", 0},
    {"continuation first", " row\n", 0, "continuation line outside", 0},
    {"continuation after last", "0000 \n row\n", 0, "continuation line outside", 1},
    {"garbage after good", "0001 BIRD 2.0.12 ready.\n\x01\x02\n", 0, "without a reply code", 1},
    {"async lines are skipped", "+ log line\n0000 \n", 0, NULL, 2},
    {"async inside a reply", "1002-a\n+ log\n b\n0000 \n", 0, NULL, 4},
};

static void test_hostile(void **state)
{
	for (size_t t = 0; t < ARRAY_SIZE(bad_cases); t++) {
		const struct bad_case *bc = &bad_cases[t];
		for (size_t step = 0; step <= 1; step++) {
			struct bird_parser p;
			struct collect c = {0};
			int rc;

			bird_parser_init(&p, 0);
			rc = feed_split(&p, bc->data, bc->len ? bc->len : strlen(bc->data), step,
			                &c);
			if (bc->error) {
				if (rc != -1 || strstr(p.error, bc->error) == NULL)
					fail_msg("%s: rc %d error \"%s\"", bc->what, rc, p.error);
				/* a failed parser stays failed */
				assert_int_equal(bird_parser_feed(&p, "0000 \n", 6, collect_cb, &c),
				                 -1);
			} else {
				if (rc != 0)
					fail_msg("%s: %s", bc->what, p.error);
			}
			assert_int_equal(c.n, bc->lines);
			collect_free(&c);
			bird_parser_free(&p);
		}
	}
}

/* The continuation inside a reply keeps the last code; async lines don't reset it. */
static void test_async_inside_reply(void **state)
{
	struct bird_parser p;
	struct collect c = {0};
	const char *d = "1002-a\n+ log\n b\n0000 \n";

	bird_parser_init(&p, 0);
	assert_int_equal(bird_parser_feed(&p, d, strlen(d), collect_cb, &c), 0);
	assert_int_equal(c.v[1].kind, BIRD_LINE_ASYNC);
	assert_string_equal(c.v[1].text, " log");
	assert_int_equal(c.v[2].code, 1002);
	assert_int_equal(c.v[2].kind, BIRD_LINE_CONT);
	collect_free(&c);
	bird_parser_free(&p);
}

static void test_long_line(void **state)
{
	size_t big = 1024 * 1024;
	char *data = xmalloc(big);
	struct bird_parser p;
	struct collect c = {0};
	int rc = 0;

	memcpy(data, "1002-", 5);
	memset(data + 5, 'a', big - 5);
	bird_parser_init(&p, BIRD_LINE_MAX);
	for (size_t off = 0; off < big && rc == 0; off += 4096)
		rc = bird_parser_feed(&p, data + off, 4096, collect_cb, &c);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(p.error, "too long"));
	/* memory stays bounded by the cap, not by what the peer sends */
	assert_true(p.cap <= 2 * BIRD_LINE_MAX + 2);
	assert_int_equal(c.n, 0);
	bird_parser_free(&p);

	/* one line of exactly the cap is fine */
	bird_parser_init(&p, 1000);
	memset(data, 'b', 1000);
	memcpy(data, "0000 ", 5);
	data[1000] = '\n';
	assert_int_equal(bird_parser_feed(&p, data, 1001, collect_cb, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(strlen(c.v[0].text), 995);
	collect_free(&c);
	bird_parser_free(&p);
	free(data);
}

static void test_eof(void **state)
{
	static const struct {
		const char *data;
		int rc;
		const char *error;
	} cases[] = {
	    {"", 0, NULL},
	    {"0000 \n", 0, NULL},
	    {"2002-Name\n1002-x\n", -1, "middle of a reply"},
	    {"2002-Name\n y\n", -1, "middle of a reply"},
	    {"0000 par", -1, "middle of a line"},
	    {"0001 BIRD 2.0.12 ready.\n00", -1, "middle of a line"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bird_parser p;
		struct collect c = {0};
		bird_parser_init(&p, 0);
		assert_int_equal(
		    bird_parser_feed(&p, cases[i].data, strlen(cases[i].data), collect_cb, &c), 0);
		assert_int_equal(bird_parser_eof(&p), cases[i].rc);
		if (cases[i].error)
			assert_non_null(strstr(p.error, cases[i].error));
		collect_free(&c);
		bird_parser_free(&p);
	}
}

static void test_many_continuations(void **state)
{
	size_t n = 10000;
	size_t len = 7 + n * 11 + 6;
	char *data = xmalloc(len + 1), *w = data;
	struct bird_parser p;
	struct collect c = {0};

	w += sprintf(w, "1002-a\n");
	for (size_t i = 0; i < n; i++)
		w += sprintf(w, " row%06zu\n", i);
	w += sprintf(w, "0000 \n");
	assert_int_equal((size_t)(w - data), len);
	bird_parser_init(&p, 0);
	assert_int_equal(feed_split(&p, data, len, 13, &c), 0);
	assert_int_equal(c.n, n + 2);
	for (size_t i = 1; i <= n; i++) {
		assert_int_equal(c.v[i].code, 1002);
		assert_int_equal(c.v[i].kind, BIRD_LINE_CONT);
	}
	assert_string_equal(c.v[n].text, "row009999");
	assert_int_equal(c.v[n + 1].kind, BIRD_LINE_LAST);
	collect_free(&c);
	bird_parser_free(&p);
	free(data);
}

static void test_callback_stops(void **state)
{
	struct bird_parser p;
	struct collect c = {.stop_after = 1};
	const char *d = "0009-a: disabled\n0000 \n";

	bird_parser_init(&p, 0);
	assert_int_equal(bird_parser_feed(&p, d, strlen(d), collect_cb, &c), 7);
	assert_int_equal(c.n, 1);
	/* reset makes it usable again */
	bird_parser_reset(&p);
	assert_false(bird_parser_in_reply(&p));
	collect_free(&c);
	bird_parser_free(&p);
}

static void test_status_table(void **state)
{
	static const struct {
		int code, st;
	} codes[] = {
	    {0, BIRD_OK},
	    {8, BIRD_OK},
	    {10, BIRD_OK},
	    {13, BIRD_OK},
	    /* configure: reconfigured, in progress (BIRD 2 and 3 while protocols restart), queued
	     */
	    {3, BIRD_OK},
	    {4, BIRD_OK},
	    {5, BIRD_OK},
	    {1002, -1},
	    {2002, -1},
	    {8003, BIRD_NO_SUCH_PROTOCOL},
	    {9001, BIRD_NO_SUCH_PROTOCOL},
	    {9002, BIRD_NO_SUCH_PROTOCOL},
	    {8007, BIRD_ACCESS_DENIED},
	    {8002, BIRD_ERROR},
	    {9000, BIRD_ERROR},
	};
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++)
		assert_int_equal(bird_status_from_code(codes[i].code), codes[i].st);
	assert_string_equal(bird_status_name(BIRD_OK), "OK");
	assert_string_equal(bird_status_name(BIRD_NO_SUCH_PROTOCOL), "NO_SUCH_PROTOCOL");
	assert_string_equal(bird_status_name(BIRD_REFUSED_LOCALLY), "REFUSED_LOCALLY");
	assert_string_equal(bird_status_name(BIRD_TIMEOUT), "TIMEOUT");
	assert_string_equal(bird_status_name((enum bird_status)99), "?");
	for (int s = 0; s < BIRD__STATUS_COUNT; s++)
		assert_string_not_equal(bird_status_name((enum bird_status)s), "?");
}

/* The banner's version, and which BIRD takes a message after disable (1.6.4 and later). */
static void test_version(void **state)
{
	static const struct {
		const char *banner;
		bool ok;
		unsigned v[3];
		bool message;
	} cases[] = {
	    {"BIRD 1.6.8", true, {1, 6, 8}, true},
	    {"BIRD 1.6.4", true, {1, 6, 4}, true},
	    {"BIRD 1.6.3", true, {1, 6, 3}, false},
	    {"BIRD 1.6.0", true, {1, 6, 0}, false},
	    {"BIRD 1.5.0", true, {1, 5, 0}, false},
	    {"BIRD 1.6", true, {1, 6, 0}, false},
	    {"BIRD 2.0.12", true, {2, 0, 12}, true},
	    {"BIRD 2.17.6", true, {2, 17, 6}, true},
	    {"BIRD 3.1.8", true, {3, 1, 8}, true},
	    {"BIRD 3.2.0-rc1", true, {3, 2, 0}, true},
	    {"BIRD 2.0.7+branch.oz", true, {2, 0, 7}, true},
	    {"BIRD 99999999999.1.1", true, {999999, 1, 1}, true},
	    /* not a version: as before, messages are sent */
	    {"BIRD", false, {0, 0, 0}, true},
	    {"BIRD v2", false, {0, 0, 0}, true},
	    {"", false, {0, 0, 0}, true},
	    {NULL, false, {0, 0, 0}, true},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned v[3] = {7, 7, 7};
		const char *b = cases[i].banner ? cases[i].banner : "(null)";

		if (bird_version_parse(cases[i].banner, v) != cases[i].ok)
			fail_msg("%s: parse %d", b, !cases[i].ok);
		if (memcmp(v, cases[i].v, sizeof(v)) != 0)
			fail_msg("%s: %u.%u.%u", b, v[0], v[1], v[2]);
		if (bird_version_takes_message(cases[i].banner) != cases[i].message)
			fail_msg("%s: takes_message %d", b, !cases[i].message);
	}
}

static void test_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"drained by alice", "drained by alice"},
	    {"a \"quoted\" \\ thing", "a quoted  thing"},
	    {"tab\there\nnewline", "tabherenewline"},
	    {"caf\xc3\xa9", "caf"},
	    {"\"\\\"", ""},
	    {"", ""},
	};
	char out[BIRD_MSG_MAX + 1], longin[400];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bird_message_sanitize(out, sizeof(out), cases[i].in);
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(bird_message_sanitize(out, sizeof(out), NULL), 0);
	memset(longin, 'm', sizeof(longin) - 1);
	longin[sizeof(longin) - 1] = '\0';
	assert_int_equal(bird_message_sanitize(out, sizeof(out), longin), BIRD_MSG_MAX);
	assert_int_equal(bird_message_sanitize(out, 10, longin), 9);
}

static int route_line_cb(const struct bird_line *l, void *arg)
{
	bird_route_parse_line(arg, l);
	return 0;
}

/* Parse a reply (bytes as BIRD sent them) into routes. */
static void parse_reply(const char *data, size_t len, struct bird_route_list *rl)
{
	struct bird_parser p;

	bird_parser_init(&p, BIRD_LINE_MAX);
	assert_int_equal(bird_parser_feed(&p, data, len, route_line_cb, rl), 0);
	assert_false(bird_parser_in_reply(&p));
	bird_parser_free(&p);
}

/* The agent's protocols in these tests: the web announcement of bird-snippets. */
static struct proto_ref normal[] = {{"anycast_web4", 0}, {"anycast_web6", 0}};
static struct proto_ref drain[] = {{"anycast_web4_drain", 0}, {"anycast_web6_drain", 0}};
static struct announcement_conf ann = {
    .name = "web",
    .protocols = {normal, 2},
    .drain_protocols = {drain, 2},
    .last_site_guard = true,
};
static struct agent_conf conf = {.announcements = &ann, .nannouncements = 1};

static bool others_exist(const struct bird_route_list *rl)
{
	for (size_t i = 0; i < rl->n; i++)
		if (guard_route_is_other_path(&conf, &rl->v[i]))
			return true;
	return false;
}

/* ---- `show route for PREFIX all`: captured replies ---------------------- */

static const struct captured {
	const char *file;
	const char *routes; /* "proto/origin/best ..." in order */
	bool others;
} route_replies[] = {
    /* pop2 announces the prefix too: its route arrives over iBGP */
    {"bird2/show_route_for_ibgp4",
     "anycast_web4/static/* anycast_web4_drain/static/- ibgp_pop2_v4/BGP/-", true},
    {"bird2/show_route_for_ibgp6", "anycast_web6/static/* ibgp_pop2_v6/BGP/-", true},
    /* pop2 withdrew: only this PoP's own variants are left */
    {"bird2/show_route_for_alone", "anycast_web4/static/* anycast_web4_drain/static/-", false},
    /* nothing covers the address at all */
    {"bird2/show_route_for_not_found", "", false},
    /* the same on BIRD 2.17.6 */
    {"bird217/show_route_for_ibgp4",
     "anycast_web4/static/* anycast_web4_drain/static/- ibgp_pop2_v4/BGP/-", true},
    {"bird217/show_route_for_ibgp6", "anycast_web6/static/* ibgp_pop2_v6/BGP/-", true},
    {"bird217/show_route_for_alone", "anycast_web4/static/* anycast_web4_drain/static/-", false},
    {"bird217/show_route_for_not_found", "", false},
    /* BIRD 3.1.8: the origin is a `source:` attribute (1012), no `Type:` line */
    {"bird3/show_route_for_ibgp4",
     "anycast_web4/static/* anycast_web4_drain/static/- ibgp_pop2_v4/BGP/-", true},
    {"bird3/show_route_for_ibgp6", "anycast_web6/static/* ibgp_pop2_v6/BGP/-", true},
    {"bird3/show_route_for_alone", "anycast_web4/static/* anycast_web4_drain/static/-", false},
    {"bird3/show_route_for_not_found", "", false},
    /* BIRD 3 on a socket with `v2 attributes`: `Type:` again */
    {"bird3/show_route_for_ibgp4_v2_attributes",
     "anycast_web4/static/* anycast_web4_drain/static/- ibgp_pop2_v4/BGP/-", true},
};

static void test_route_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(route_replies); i++) {
		const struct captured *c = &route_replies[i];
		struct bird_route_list rl = {0};
		char got[512] = "", *data;
		size_t len;

		data = read_data(c->file, &len);
		parse_reply(data, len, &rl);
		for (size_t j = 0; j < rl.n; j++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s/%s/%s",
			         j ? " " : "", rl.v[j].proto, rl.v[j].origin,
			         rl.v[j].best ? "*" : "-");
		if (strcmp(got, c->routes) != 0)
			fail_msg("%s: routes \"%s\", expected \"%s\"", c->file, got, c->routes);
		assert_false(rl.bad);
		if (others_exist(&rl) != c->others)
			fail_msg("%s: others_exist %d, expected %d", c->file, !c->others,
			         c->others);
		bird_route_list_free(&rl);
		free(data);
	}
}

/* ---- single routes: what counts as another path --------------------------- */

static const struct line_case {
	const char *reply; /* a whole reply */
	const char *proto, *origin;
	bool other, bad;
} route_lines[] = {
    /* learned from another router: another path */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [ibgp_pop3 10:00:00.000 from 198.18.13.2] "
     "* (100) [i]\n 	via 198.18.13.2 on ib3\n1008-	Type: BGP univ\n0000 \n",
     "ibgp_pop3", "BGP", true, false},
    {"1007-Table master4:\n 192.0.2.80/32 unicast [ospf1 10:00:00.000] * I (150/20) [192.0.2.1]\n"
     "1008-	Type: OSPF univ\n0000 \n",
     "ospf1", "OSPF", true, false},
    /* BIRD 1.6 prints the route on a 1007 line of its own and `unicast` in Type */
    {"1007-192.0.2.80/32 via 198.18.12.2 on ib2 [ibgp_pop2 10:00:00] (100/0) [i]\n"
     "1008-	Type: BGP unicast univ\n0000 \n",
     "ibgp_pop2", "BGP", true, false},
    /* this router's own: kernel (inherit), direct (device), an operator's static */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [kernel1 10:00:00.000] * (10)\n"
     "1008-	Type: inherit univ\n0000 \n",
     "kernel1", "inherit", false, false},
    {"1007-Table master4:\n 192.0.2.80/32 unicast [direct1 10:00:00.000] * (240)\n"
     "1008-	Type: device univ\n0000 \n",
     "direct1", "device", false, false},
    {"1007-Table master4:\n 192.0.2.0/24 blackhole [covering 10:00:00.000] * (200)\n"
     "1008-	Type: static univ\n0000 \n",
     "covering", "static", false, false},
    /* the agent's own protocols, whatever their type says */
    {"1007-Table master6:\n 2001:db8::80/128 blackhole [anycast_web6_drain 10:00:00] (100)\n"
     "1008-	Type: BGP univ\n0000 \n",
     "anycast_web6_drain", "BGP", false, false},
    /* BIRD 3: `source:` on a 1012 line of its own or as a continuation, after other
     * attributes; the first origin counts */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [ibgp_pop3 10:00:00.000] * (100) [i]\n"
     "1012-	preference: 100\n 	from: 198.18.13.2\n 	source: BGP\n 	bgp_path: \n"
     "1008-	Internal route handling values: 0L 4G 0S id 3\n0000 \n",
     "ibgp_pop3", "BGP", true, false},
    {"1007-Table master4:\n 192.0.2.80/32 unicast [ospf1 10:00:00.000] * I (150/20) [192.0.2.1]\n"
     "1012-	source: OSPF\n 	source: static\n0000 \n",
     "ospf1", "OSPF", true, false},
    {"1007-Table master4:\n 192.0.2.0/24 unicast [covering 10:00:00.000] * (200)\n"
     "1012-	preference: 200\n 	source: static-device\n0000 \n",
     "covering", "static-device", false, false},
    /* an attribute whose name only starts like it is not the origin */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [mystery 10:00:00] * (100)\n"
     "1012-	sources: BGP\n 	bgp_source: BGP\n0000 \n",
     "mystery", "", false, false},
    /* no Type line: not known to come from elsewhere */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [mystery 10:00:00] * (100)\n0000 \n", "mystery",
     "", false, false},
    /* a bracket without a protocol name */
    {"1007-Table master4:\n 192.0.2.80/32 unicast [] * (100)\n0000 \n", NULL, NULL, false, true},
};

static void test_route_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(route_lines); i++) {
		const struct line_case *c = &route_lines[i];
		struct bird_route_list rl = {0};

		parse_reply(c->reply, strlen(c->reply), &rl);
		if (rl.bad != c->bad)
			fail_msg("case %zu: bad %d, expected %d", i, rl.bad, c->bad);
		if (c->proto == NULL) {
			assert_int_equal(rl.n, 0);
		} else {
			assert_int_equal(rl.n, 1);
			assert_string_equal(rl.v[0].proto, c->proto);
			assert_string_equal(rl.v[0].origin, c->origin);
			if (guard_route_is_other_path(&conf, &rl.v[0]) != c->other)
				fail_msg("case %zu (%s): other %d, expected %d", i, c->proto,
				         !c->other, c->other);
		}
		bird_route_list_free(&rl);
	}
}

/* ---- what may reach BIRD's command line ----------------------------------- */

static const struct prefix_case {
	const char *prefix;
	bool valid;
} prefixes[] = {
    {"192.0.2.80/32", true},
    {"192.0.2.0/24", true},
    {"0.0.0.0/0", true},
    {"2001:db8::80/128", true},
    {"2001:db8::/32", true},
    {"192.0.2.80", false},
    {"192.0.2.80/33", false},
    {"2001:db8::80/129", false},
    {"192.0.2.80/", false},
    {"/32", false},
    {"192.0.2.80/32 all\nenable x", false},
    {"192.0.2.80/32\n", false},
    {"192.0.2.80/+32", false},
    {"192.0.2.80/-1", false},
    {"192.0.2.80/0032", false},
    {"192.0.2.256/32", false},
    {"\"192.0.2.80/32\"", false},
    {"example.net/24", false},
    {"2001:db8::80/128/1", false},
    {"", false},
    {NULL, false},
};

static void test_prefix_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (bird_prefix_valid(prefixes[i].prefix) != prefixes[i].valid)
			fail_msg("bird_prefix_valid(\"%s\") != %d",
			         prefixes[i].prefix ? prefixes[i].prefix : "(null)",
			         prefixes[i].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transcripts),
	    cmocka_unit_test(test_continuation_codes),
	    cmocka_unit_test(test_protocol_rows),
	    cmocka_unit_test(test_protocol_row_bad),
	    cmocka_unit_test(test_protocol_row_states),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_async_inside_reply),
	    cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_eof),
	    cmocka_unit_test(test_many_continuations),
	    cmocka_unit_test(test_callback_stops),
	    cmocka_unit_test(test_status_table),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_sanitize),
	    cmocka_unit_test(test_route_replies),
	    cmocka_unit_test(test_route_lines),
	    cmocka_unit_test(test_prefix_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
