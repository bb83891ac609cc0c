/* SPDX-License-Identifier: ISC */
/*
 * test_output.c - the snapshot renderers: the Nagios verdict and plugin
 * grammar for every fixture state, the 1 KiB first line with 100
 * announcements and checks, hostile text, the text table and the JSON.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "snapshot_testutil.h"
#include "util.h"

/* Render with fn into a string. */
static char *render_nagios(const json_t *snap, int *state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*state = output_nagios(snap, FIXTURE_NOW, f);
	fclose(f);
	return buf;
}

static void test_fixture_states(void **unused)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		json_t *snap = load_fixture(fixtures[i].name);
		char summary[NAGIOS_FIRST_LINE_MAX], *out;
		int state, n;

		assert_non_null(snap);
		out = render_nagios(snap, &state);
		if (state != fixtures[i].state || !strstr(out, fixtures[i].phrase))
			fail_msg("%s: state %d, want %d with \"%s\":\n%s", fixtures[i].name, state,
			         fixtures[i].state, fixtures[i].phrase, out);
		n = check_plugin_output(out, fixtures[i].state);
		/* 3 counts, 1 per announcement, 2 per check */
		if (n != 3 + (int)json_array_size(json_object_get(snap, "announcements")) +
		             2 * (int)json_array_size(json_object_get(snap, "checks")))
			fail_msg("%s: %d perfdata items:\n%s", fixtures[i].name, n, out);
		/* the summary alone agrees with the report */
		assert_int_equal(nagios_summary(snap, FIXTURE_NOW, summary, sizeof(summary)),
		                 state);
		assert_non_null(strstr(out, summary));
		free(out);
		json_decref(snap);
	}
}

/* Long output: one line per BIRD socket, the BIRD line, one per announcement and check. */
static void test_long_output_lines(void **unused)
{
	json_t *snap = load_fixture("critical-worst-wins");
	int state, lines = 0;
	char *out = render_nagios(snap, &state);

	for (char *p = out; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 1 + 1 + 2 + 2);
	assert_non_null(strstr(out, "\n[CRITICAL] announcement web: WITHDRAWN"));
	assert_non_null(strstr(out, "\n[WARNING] announcement dns: DRAINED"));
	assert_non_null(
	    strstr(out, "drain by alice: maintenance / kernel upgrade (ends in 55m0s)"));
	assert_non_null(strstr(out, "\n[OK] check dns (dns): UP"));
	free(out);
	json_decref(snap);
	/* each check's watches at the end of its line */
	snap = load_fixture("warning-watch");
	out = render_nagios(snap, &state);
	assert_non_null(strstr(out, "; watches: watch_pidfile /run/nginx.pid alive (pid 1234), "
	                            "watch_unit nginx.service unavailable (no system bus"));
	/* the findings: an unavailable watch, a dead watch of a passing check */
	assert_non_null(strstr(out, "check dns: watch_pidfile /run/nsd/nsd.pid dead: the pidfile "
	                            "names pid 999, which is not running"));
	free(out);
	json_decref(snap);
	/* the hold-down's end in the announcement's line */
	snap = load_fixture("critical-withdrawn");
	out = render_nagios(snap, &state);
	assert_non_null(strstr(out, "\n[CRITICAL] announcement web: WITHDRAWN (NONE) for 59m47s: "
	                            "check web DOWN: CONNECT_REFUSED, hold-down ends in 7s, "));
	free(out);
	json_decref(snap);
}

/* perfdata values: announced 1/0, check state 0..3, latency in seconds or U */
static void test_perfdata_values(void **unused)
{
	static const struct {
		const char *fixture, *item;
	} cases[] = {
	    {"ok", "'announced'=2;;;0;2"},
	    {"ok", "'check_web_latency'=0.001200s;;;0"},
	    {"ok", "'check_web_state'=0;;;0;3"},
	    {"critical-withdrawn", "'announced_web'=0;;;0;1"},
	    {"critical-withdrawn", "'check_web_state'=2;;;0;3"},
	    {"critical-withdrawn", "'checks_up'=1;;;0;2"},
	    {"warning-check-failing", "'check_dns_state'=1;;;0;3"},
	    {"warning-adopting", "'check_web_latency'=U"},
	    {"warning-adopting", "'check_web_state'=3;;;0;3"},
	    {"warning-draining", "'announced_dns'=1;;;0;1"},
	    {"warning-drained", "'announced_dns'=0;;;0;1"},
	    {"critical-guarded", "'announced_web'=1;;;0;1"},
	    {"critical-bird-out-of-sync", "'bird_corrections'=3c"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *snap = load_fixture(cases[i].fixture);
		int state;
		char *out = render_nagios(snap, &state);

		if (!strstr(out, cases[i].item))
			fail_msg("%s: no %s in\n%s", cases[i].fixture, cases[i].item, out);
		free(out);
		json_decref(snap);
	}
}

/* n copies of the fixture's announcement and check number idx, with long names. */
static json_t *many(const char *fixture, size_t idx, int n)
{
	json_t *snap = load_fixture(fixture);
	json_t *anns = json_object_get(snap, "announcements"),
	       *chks = json_object_get(snap, "checks");
	json_t *a0 = json_deep_copy(json_array_get(anns, idx)),
	       *c0 = json_deep_copy(json_array_get(chks, idx));

	json_array_clear(anns);
	json_array_clear(chks);
	for (int i = 0; i < n; i++) {
		char name[64];
		json_t *a = json_deep_copy(a0), *c = json_deep_copy(c0);

		snprintf(name, sizeof(name), "announcement_with_a_rather_long_name_%03d", i);
		json_object_set_new(a, "name", json_string(name));
		snprintf(name, sizeof(name), "check_with_a_rather_long_name_%03d", i);
		json_object_set_new(c, "name", json_string(name));
		json_object_set_new(a, "requires", json_pack("[s]", name));
		json_array_append_new(anns, a);
		json_array_append_new(chks, c);
	}
	json_decref(a0);
	json_decref(c0);
	return snap;
}

/* The summary fed one check at a time (what the daemon's STATUS= does) is the summary of the
 * whole snapshot: same state, same text, for every fixture, for 0 to 100 checks and for a
 * snapshot of a version this build does not know. */
static void test_summary_streamed(void **unused)
{
	json_t *snaps[ARRAY_SIZE(fixtures) + 3];
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++)
		snaps[n++] = load_fixture(fixtures[i].name);
	snaps[n++] = many("critical-withdrawn", 0, 100);
	snaps[n++] = many("warning-check-failing", 1, 0);
	snaps[n] = load_fixture("ok");
	json_object_set_new(snaps[n++], "version", json_integer(99));
	for (size_t i = 0; i < n; i++) {
		json_t *base = json_deep_copy(snaps[i]);
		const json_t *chk;
		char whole[NAGIOS_FIRST_LINE_MAX], streamed[NAGIOS_FIRST_LINE_MAX];
		struct nagios_eval *ev;
		int want, got;
		size_t j;

		assert_non_null(snaps[i]);
		want = nagios_summary(snaps[i], FIXTURE_NOW, whole, sizeof(whole));
		json_object_del(base, "checks");
		ev = nagios_eval_begin(base, FIXTURE_NOW);
		json_decref(base);
		json_array_foreach(json_object_get(snaps[i], "checks"), j, chk)
		    nagios_eval_check(ev, chk);
		got = nagios_eval_end(ev, streamed, sizeof(streamed));
		if (got != want || strcmp(whole, streamed) != 0)
			fail_msg("snapshot %zu: streamed %d \"%s\", whole %d \"%s\"", i, got,
			         streamed, want, whole);
		json_decref(snaps[i]);
	}
}

static void test_first_line_fits_1k(void **unused)
{
	static const struct {
		const char *fixture;
		size_t idx;
		int state;
		const char *phrase;
	} cases[] = {
	    {"ok", 0, NAGIOS_OK, "100/100 announced, 100/100 checks up"},
	    {"critical-withdrawn", 0, NAGIOS_CRITICAL, "more); 0/100 announced, 0/100 checks up"},
	    {"warning-drained", 1, NAGIOS_WARNING, "more); 0/100 announced"},
	    {"warning-check-failing", 1, NAGIOS_WARNING,
	     "more); 100/100 announced, 100/100 checks up"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *snap = many(cases[i].fixture, cases[i].idx, 100);
		char first[NAGIOS_FIRST_LINE_MAX + 1];
		int state, n;
		char *out = render_nagios(snap, &state);

		assert_int_equal(state, cases[i].state);
		n = check_plugin_output(out, cases[i].state);
		/* every item survives, some of them after the long output */
		if (n != 3 + 100 + 200)
			fail_msg("%s: %d perfdata items", cases[i].fixture, n);
		snprintf(first, sizeof(first), "%.*s", (int)strcspn(out, "\n"), out);
		if (!strstr(first, cases[i].phrase))
			fail_msg("%s: no \"%s\" in %s", cases[i].fixture, cases[i].phrase, first);
		/* the counts stay on the first line */
		assert_non_null(strstr(first, "'announced'="));
		assert_non_null(strstr(first, "'checks_up'="));
		free(out);
		json_decref(snap);
	}
}

/* Operator text and odd names cannot break the plugin grammar. */
static void test_hostile_text(void **unused)
{
	json_t *snap = load_fixture("warning-drained");
	json_t *dns = json_array_get(json_object_get(snap, "announcements"), 1);
	json_t *chk = json_array_get(json_object_get(snap, "checks"), 0);
	char reason[400];
	int state;
	char *out;

	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memcpy(reason, "a|b\nc\td'e=f ", 12);
	json_object_set_new(json_object_get(dns, "drain"), "reason", json_string(reason));
	json_object_set_new(chk, "name", json_string("we'b=x|y"));
	json_object_set_new(chk, "detail", json_string("multi\nline|detail"));
	json_object_set_new(
	    json_array_get(json_object_get(json_object_get(snap, "bird"), "sockets"), 0), "version",
	    json_string("BIRD|2"));
	out = render_nagios(snap, &state);
	assert_int_equal(state, NAGIOS_WARNING);
	assert_true(check_plugin_output(out, NAGIOS_WARNING) > 0);
	assert_non_null(strstr(out, "'check_we_b_x_y_latency'"));
	if (!strstr(out, "a/b c d'e=f xxx"))
		fail_msg("%s", out);
	/* the reason is cut with "..." */
	assert_non_null(strstr(out, "xxx..."));
	free(out);
	json_decref(snap);
}

static void test_bad_snapshots(void **unused)
{
	static const char *const cases[] = {
	    "[]",
	    "{}",
	    "{\"version\":2,\"bird\":{\"in_sync\":true}}",
	    "{\"version\":1}",
	    "{\"version\":1,\"bird\":{\"in_sync\":\"yes\"},\"announcements\":{},\"checks\":7}",
	    "\"text\"",
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *snap = json_loads(cases[i], JSON_DECODE_ANY, NULL);
		char *buf = NULL, *out;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int state;

		assert_non_null(snap);
		out = render_nagios(snap, &state);
		if (state != NAGIOS_CRITICAL || strncmp(out, "ANYCAST CRITICAL - ", 19) != 0)
			fail_msg("%s: %s", cases[i], out);
		/* the other renderers take it too */
		output_text(snap, FIXTURE_NOW, f);
		assert_int_equal(output_json(snap, f), 0);
		fclose(f);
		free(buf);
		free(out);
		json_decref(snap);
	}
}

static void test_nagios_message(void **unused)
{
	char *buf = NULL, big[3000];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(
	    output_nagios_message(f, NAGIOS_CRITICAL, "agent not answering on %s", "/x|y"),
	    NAGIOS_CRITICAL);
	assert_int_equal(output_nagios_message(f, NAGIOS_UNKNOWN, "%s", big), NAGIOS_UNKNOWN);
	fclose(f);
	assert_true(strncmp(buf, "ANYCAST CRITICAL - agent not answering on /x/y\n", 47) == 0);
	assert_true(strchr(buf + 47, '\n') - (buf + 47) < NAGIOS_FIRST_LINE_MAX);
	free(buf);
}

static void test_text(void **unused)
{
	static const struct {
		const char *fixture, *phrase;
	} cases[] = {
	    {"ok", "OK: 2/2 announced"},
	    {"ok", "ANNOUNCEMENT  STATE      VARIANT  SINCE   CAUSE / DRAIN\n"},
	    {"ok", "\nweb           ANNOUNCED  NORMAL   59m47s  checks up: web\n"},
	    {"ok", "agent 0.1.0, pid 4242, up 1h0m"},
	    {"ok", "default  /run/bird/bird.ctl  yes        BIRD 2.0.12"},
	    {"warning-drained", "drained by alice: maintenance | kernel upgrade, ends in 55m0s"},
	    {"warning-check-failing", "TIMEOUT      1.2 ms   1/2 fail  no answer within 0.5 s"},
	    {"warning-suppressed", "(damping penalty 2450); damping reuse in 3m0s\n"},
	    {"critical-withdrawn", "(damping penalty 1000); hold-down ends in 7s\n"},
	    {"warning-draining", "kernel upgrade, ends in 55m0s; withdrawn in 25s\n"},
	    {"ok", "checks up: web\n"},
	    {"critical-guarded", "ANNOUNCED (GUARDED)"},
	    {"critical-bird-unreachable", "NO (7 failures)"},
	    {"critical-bird-out-of-sync",
	     "anycast_dns4  default  enabled  disabled  down        NO"},
	    {"warning-dry-run", "DRY RUN"},
	    {"warning-dnssec-expiring",
	     "\nDNSSEC dns: earliest RRSIG expiry 2023-11-19T23:13:20Z (in 5d0h)\n\nBIRD"},
	    {"warning-watch",
	     "\nCHECK  WATCH          TARGET             STATE        SINCE   DETAIL\n"},
	    {"warning-watch",
	     "\nweb    watch_pidfile  /run/nginx.pid     alive        59m50s  pid 1234\n"},
	    {"warning-watch",
	     "\ndns    watch_pidfile  /run/nsd/nsd.pid   dead         59m50s  the pidfile "
	     "names pid 999, which is not running\n"},
	    /* no watches, no table */
	    {"ok", "\n\nBIRD: in sync"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *snap = load_fixture(cases[i].fixture);
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		output_text(snap, FIXTURE_NOW, f);
		fclose(f);
		if (!strstr(buf, cases[i].phrase))
			fail_msg("%s: no \"%s\" in\n%s", cases[i].fixture, cases[i].phrase, buf);
		free(buf);
		json_decref(snap);
	}
}

/* A snapshot without rrsig_expires (every older one) gets no DNSSEC line. */
static void test_text_no_rrsig(void **unused)
{
	json_t *snap = load_fixture("ok");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	output_text(snap, FIXTURE_NOW, f);
	fclose(f);
	assert_null(strstr(buf, "RRSIG"));
	free(buf);
	json_decref(snap);
}

static void test_json_round_trip(void **unused)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		json_t *snap = load_fixture(fixtures[i].name), *back;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_int_equal(output_json(snap, f), 0);
		fclose(f);
		assert_true(len > 2 && buf[len - 1] == '\n');
		assert_non_null(strstr(buf, "\n  \"version\": 1"));
		back = json_loads(buf, 0, NULL);
		assert_true(json_equal(snap, back));
		json_decref(back);
		json_decref(snap);
		free(buf);
	}
}

static void test_duration(void **unused)
{
	static const struct {
		double secs;
		const char *want;
	} cases[] = {
	    {0, "0s"},      {59.9, "59s"},  {60, "1m0s"},    {192, "3m12s"},
	    {3600, "1h0m"}, {7380, "2h3m"}, {86400, "1d0h"}, {360000, "4d4h"},
	    {-1, "-"},      {NAN, "-"},     {INFINITY, "-"},
	};
	char buf[32];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		output_duration(buf, sizeof(buf), cases[i].secs);
		assert_string_equal(buf, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture_states),
	    cmocka_unit_test(test_summary_streamed),
	    cmocka_unit_test(test_long_output_lines),
	    cmocka_unit_test(test_perfdata_values),
	    cmocka_unit_test(test_first_line_fits_1k),
	    cmocka_unit_test(test_hostile_text),
	    cmocka_unit_test(test_bad_snapshots),
	    cmocka_unit_test(test_nagios_message),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_no_rrsig),
	    cmocka_unit_test(test_json_round_trip),
	    cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
