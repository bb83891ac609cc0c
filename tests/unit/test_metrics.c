/* SPDX-License-Identifier: ISC */
/*
 * test_metrics.c - the Prometheus exposition of every fixture read back by a
 * strict parser of the text format (HELP/TYPE, name and label grammar,
 * escaping, values, one contiguous block per family), the values a
 * dashboard relies on, and the atomic file write.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics.h"
#include "snapshot_testutil.h"
#include "util.h"

/* The samples a parse found: "name{labels}" (labels unescaped, as written) -> value. */
struct parsed {
	struct strlist keys;
	double *values;
};

static bool name_ok(const char *s, size_t n, bool metric)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (metric && s[0] == ':')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (metric && s[i] == ':')))
			return false;
	return true;
}

static bool value_ok(const char *s, double *v)
{
	char *end;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0) {
		*v = s[0] == 'N' ? NAN : s[0] == '+' ? INFINITY : -INFINITY;
		return true;
	}
	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

/* Parse an exposition strictly; on an error, fail with the line. */
static void parse(const char *text, struct parsed *p)
{
	char *copy = strdup(text), *save = NULL, *line;
	char family[128] = "", type[16] = "", help_for[128] = "";
	struct strlist seen_families = {0};

	memset(p, 0, sizeof(*p));
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char key[1024], name[128], *q = line;
		size_t n = 0, k = 0;
		double v = 0;

		if (strncmp(line, "# HELP ", 7) == 0) {
			size_t l = strcspn(line + 7, " ");

			if (!name_ok(line + 7, l, true) || line[7 + l] != ' ' || !line[8 + l])
				fail_msg("bad HELP: %s", line);
			snprintf(help_for, sizeof(help_for), "%.*s", (int)l, line + 7);
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			size_t l = strcspn(line + 7, " ");

			snprintf(family, sizeof(family), "%.*s", (int)l, line + 7);
			snprintf(type, sizeof(type), "%s", line + 8 + l);
			if (!name_ok(family, strlen(family), true) ||
			    (strcmp(type, "counter") != 0 && strcmp(type, "gauge") != 0))
				fail_msg("bad TYPE: %s", line);
			if (strcmp(help_for, family) != 0)
				fail_msg("TYPE without its HELP first: %s", line);
			for (size_t i = 0; i < seen_families.n; i++)
				if (strcmp(seen_families.v[i], family) == 0)
					fail_msg("family %s declared twice", family);
			strlist_add(&seen_families, family);
			if (strncmp(family, "anycast_agent_", 14) != 0)
				fail_msg("%s lacks the anycast_agent_ prefix", family);
			if (strcmp(type, "counter") == 0 &&
			    strcmp(family + strlen(family) - 6, "_total") != 0)
				fail_msg("counter %s does not end in _total", family);
			continue;
		}
		if (line[0] == '#')
			fail_msg("unexpected comment: %s", line);
		while (q[n] && q[n] != '{' && q[n] != ' ')
			n++;
		if (!name_ok(q, n, true))
			fail_msg("bad metric name: %s", line);
		snprintf(name, sizeof(name), "%.*s", (int)n, q);
		if (strcmp(name, family) != 0)
			fail_msg("sample outside its family block (%s): %s", family, line);
		k = (size_t)snprintf(key, sizeof(key), "%s", name);
		q += n;
		if (*q == '{') {
			q++;
			key[k++] = '{';
			while (*q != '}') {
				size_t l = strcspn(q, "=");

				if (!name_ok(q, l, false) || q[l] != '=' || q[l + 1] != '"')
					fail_msg("bad label: %s", line);
				memcpy(key + k, q, l + 1);
				k += l + 1;
				q += l + 2;
				while (*q != '"') {
					if (!*q || *q == '\n')
						fail_msg("unterminated label value: %s", line);
					if (*q == '\\') {
						q++;
						if (*q != '\\' && *q != '"' && *q != 'n')
							fail_msg("bad escape: %s", line);
						key[k++] = *q == 'n' ? '\n' : *q;
					} else {
						key[k++] = *q;
					}
					q++;
				}
				q++;
				if (*q == ',')
					key[k++] = *q++;
				else if (*q != '}')
					fail_msg("bad label list: %s", line);
			}
			key[k++] = '}';
			q++;
		}
		key[k] = '\0';
		if (*q != ' ' || !value_ok(q + 1, &v))
			fail_msg("bad value: %s", line);
		for (size_t i = 0; i < p->keys.n; i++)
			if (strcmp(p->keys.v[i], key) == 0)
				fail_msg("duplicate sample: %s", line);
		strlist_add(&p->keys, key);
		p->values = xrealloc(p->values, p->keys.n * sizeof(double));
		p->values[p->keys.n - 1] = v;
	}
	strlist_free(&seen_families);
	free(copy);
}

static void parsed_free(struct parsed *p)
{
	strlist_free(&p->keys);
	free(p->values);
}

static bool lookup(const struct parsed *p, const char *key, double *v)
{
	for (size_t i = 0; i < p->keys.n; i++)
		if (strcmp(p->keys.v[i], key) == 0) {
			*v = p->values[i];
			return true;
		}
	return false;
}

static char *render(const json_t *snap)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(metrics_render(snap, f), 0);
	fclose(f);
	return buf;
}

static void test_every_fixture_parses(void **unused)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		json_t *snap = load_fixture(fixtures[i].name);
		char *text = render(snap);
		struct parsed p;

		parse(text, &p);
		assert_true(p.keys.n > 50);
		parsed_free(&p);
		free(text);
		json_decref(snap);
	}
}

static void test_values(void **unused)
{
	static const struct {
		const char *fixture, *key;
		double want;
	} cases[] = {
	    {"ok", "anycast_agent_build_info{version=0.1.0}", 1},
	    {"ok", "anycast_agent_start_time_seconds", 1700000000},
	    {"ok", "anycast_agent_check_up{check=web}", 1},
	    {"ok", "anycast_agent_check_state{check=web,state=UP}", 1},
	    {"ok", "anycast_agent_check_state{check=web,state=DOWN}", 0},
	    {"ok", "anycast_agent_check_latency_seconds{check=web}", 0.0012},
	    {"ok", "anycast_agent_check_runs_total{check=web}", 3590},
	    {"ok", "anycast_agent_check_results_total{check=web,result=pass}", 3590},
	    {"ok", "anycast_agent_check_cert_remaining_seconds{check=web}", 42 * 86400},
	    {"warning-dnssec-expiring",
	     "anycast_agent_check_rrsig_expiry_timestamp_seconds{check=dns}", 1700435600},
	    {"ok", "anycast_agent_check_info{check=dns,type=dns}", 1},
	    {"ok", "anycast_agent_announcement_state{announcement=web,state=ANNOUNCED}", 1},
	    {"ok", "anycast_agent_announcement_announced{announcement=dns}", 1},
	    {"ok", "anycast_agent_bird_connected{socket=default}", 1},
	    {"ok", "anycast_agent_bird_in_sync", 1},
	    {"ok", "anycast_agent_schedule_lag_p99_seconds", 0.0009},
	    {"critical-withdrawn", "anycast_agent_check_up{check=web}", 0},
	    {"critical-withdrawn", "anycast_agent_check_state{check=web,state=DOWN}", 1},
	    {"critical-withdrawn",
	     "anycast_agent_announcement_state{announcement=web,state=WITHDRAWN}", 1},
	    {"critical-withdrawn", "anycast_agent_announcement_announced{announcement=web}", 0},
	    {"critical-withdrawn", "anycast_agent_announcement_damping_penalty{announcement=web}",
	     1000},
	    {"critical-withdrawn", "anycast_agent_announcement_withdraws_total{announcement=web}",
	     1},
	    {"critical-bird-unreachable", "anycast_agent_bird_connected{socket=default}", 0},
	    {"critical-bird-unreachable", "anycast_agent_bird_command_errors_total", 7},
	    {"critical-bird-unreachable", "anycast_agent_bird_socket_failures{socket=default}", 7},
	    {"critical-bird-out-of-sync", "anycast_agent_bird_drift_corrections_total", 3},
	    {"critical-bird-out-of-sync",
	     "anycast_agent_bird_protocol_in_sync{protocol=anycast_dns4,socket=default}", 0},
	    {"warning-check-failing", "anycast_agent_check_timeouts_total{check=dns}", 1},
	    {"warning-watch", "anycast_agent_check_deaths_total{check=dns}", 3},
	    {"warning-check-failing", "anycast_agent_check_results_total{check=dns,result=failure}",
	     1},
	    {"warning-check-failing", "anycast_agent_check_fail_streak{check=dns}", 1},
	    {"warning-degraded", "anycast_agent_check_degraded{check=web}", 1},
	    {"warning-degraded", "anycast_agent_check_results_total{check=web,result=warning}", 12},
	    {"warning-drained", "anycast_agent_announcement_drained{announcement=dns}", 1},
	    {"warning-drained", "anycast_agent_announcement_drains_total{announcement=dns}", 1},
	    {"warning-suppressed", "anycast_agent_announcement_damping_penalty{announcement=web}",
	     2450.5},
	    {"warning-suppressed",
	     "anycast_agent_announcement_state{announcement=web,state=SUPPRESSED}", 1},
	    {"critical-guarded", "anycast_agent_announcement_guarded{announcement=web}", 1},
	    {"critical-guarded", "anycast_agent_announcement_announced{announcement=web}", 1},
	    {"warning-dry-run", "anycast_agent_dry_run", 1},
	    {"ok", "anycast_agent_metrics_interval_seconds", 5},
	    {"ok", "anycast_agent_announcement_prefix_info{announcement=web,prefix=192.0.2.80/32}",
	     1},
	    {"warning-drained",
	     "anycast_agent_announcement_prefix_info{announcement=dns,prefix=2001:db8::53/128}", 1},
	    {"warning-drained",
	     "anycast_agent_announcement_drain_start_timestamp_seconds{announcement=dns}",
	     1700003300},
	    {"warning-drained",
	     "anycast_agent_announcement_drain_end_timestamp_seconds{announcement=dns}",
	     1700006900},
	    {"warning-suppressed",
	     "anycast_agent_announcement_next_change_timestamp_seconds{announcement=web}",
	     1700003780},
	    {"critical-withdrawn",
	     "anycast_agent_announcement_next_change_timestamp_seconds{announcement=web}",
	     1700003607},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *snap = load_fixture(cases[i].fixture);
		char *text = render(snap);
		struct parsed p;
		double v;

		parse(text, &p);
		if (!lookup(&p, cases[i].key, &v) || fabs(v - cases[i].want) > 1e-9)
			fail_msg("%s: %s: want %g\n%s", cases[i].fixture, cases[i].key,
			         cases[i].want, text);
		parsed_free(&p);
		free(text);
		json_decref(snap);
	}
}

/* No result yet: no latency sample, no last-run time; a missing cert: no expiry sample. */
static void test_absent_values(void **unused)
{
	json_t *snap = load_fixture("warning-adopting");
	char *text = render(snap);
	struct parsed p;
	double v;

	parse(text, &p);
	assert_false(lookup(&p, "anycast_agent_check_latency_seconds{check=web}", &v));
	assert_false(lookup(&p, "anycast_agent_check_last_run_timestamp_seconds{check=web}", &v));
	assert_false(lookup(&p, "anycast_agent_check_cert_remaining_seconds{check=dns}", &v));
	assert_false(
	    lookup(&p, "anycast_agent_check_rrsig_expiry_timestamp_seconds{check=dns}", &v));
	assert_true(lookup(&p, "anycast_agent_check_state{check=web,state=UNKNOWN}", &v) && v == 1);
	parsed_free(&p);
	free(text);
	json_decref(snap);
}

/* A time that is not due has no sample: no drain, a drain without --for, nothing scheduled, no
 * metrics file (metrics_interval null). */
static void test_absent_times(void **unused)
{
	json_t *snap = load_fixture("warning-drained");
	char *text;
	struct parsed p;
	double v;

	json_object_set_new(
	    json_object_get(json_array_get(json_object_get(snap, "announcements"), 1), "drain"),
	    "until", json_null());
	json_object_set_new(json_object_get(snap, "agent"), "metrics_interval", json_null());
	text = render(snap);
	parse(text, &p);
	assert_true(lookup(
	    &p, "anycast_agent_announcement_drain_start_timestamp_seconds{announcement=dns}", &v));
	assert_false(lookup(
	    &p, "anycast_agent_announcement_drain_end_timestamp_seconds{announcement=dns}", &v));
	assert_false(lookup(
	    &p, "anycast_agent_announcement_drain_start_timestamp_seconds{announcement=web}", &v));
	assert_false(lookup(
	    &p, "anycast_agent_announcement_next_change_timestamp_seconds{announcement=web}", &v));
	assert_false(lookup(&p, "anycast_agent_metrics_interval_seconds", &v));
	parsed_free(&p);
	free(text);
	json_decref(snap);
}

/* Label values are escaped; an empty snapshot still gives a valid exposition. */
static void test_escaping_and_empty(void **unused)
{
	json_t *snap = load_fixture("ok"), *empty = json_object();
	char *text;
	struct parsed p;
	double v;

	json_object_set_new(json_array_get(json_object_get(snap, "checks"), 0), "name",
	                    json_string("a\"b\\c\nd"));
	text = render(snap);
	parse(text, &p);
	assert_non_null(strstr(text, "{check=\"a\\\"b\\\\c\\nd\"}"));
	assert_true(lookup(&p, "anycast_agent_check_up{check=a\"b\\c\nd}", &v) && v == 1);
	parsed_free(&p);
	free(text);
	text = render(empty);
	parse(text, &p);
	assert_true(lookup(&p, "anycast_agent_build_info{version=unknown}", &v) && v == 1);
	parsed_free(&p);
	free(text);
	json_decref(snap);
	json_decref(empty);
}

static void test_write_file(void **unused)
{
	char dir[] = "/tmp/test_metrics.XXXXXX", path[256], bad[300], *want, got[1 << 17];
	json_t *snap = load_fixture("critical-withdrawn");
	FILE *f;
	size_t n;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/anycast.prom", dir);
	assert_int_equal(metrics_write_file(snap, path), 0);
	/* a second write replaces the first */
	assert_int_equal(metrics_write_file(snap, path), 0);
	want = render(snap);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(got, 1, sizeof(got) - 1, f);
	got[n] = '\0';
	fclose(f);
	assert_string_equal(got, want);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* a directory that does not exist: an error, errno kept, nothing left behind */
	snprintf(bad, sizeof(bad), "%s/missing/anycast.prom", dir);
	errno = 0;
	assert_int_equal(metrics_write_file(snap, bad), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	free(want);
	json_decref(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_fixture_parses), cmocka_unit_test(test_values),
	    cmocka_unit_test(test_absent_values),        cmocka_unit_test(test_absent_times),
	    cmocka_unit_test(test_escaping_and_empty),   cmocka_unit_test(test_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
