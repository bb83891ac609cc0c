/* SPDX-License-Identifier: ISC */
/*
 * test_birdconf.c - the generator behind anycast-agent --print-bird: golden
 * outputs for BIRD 1.6 (one daemon per family), 2 and 3 (tests/data/birdconf,
 * UPDATE_GOLDEN=1 rewrites them), every configuration it cannot serve with the
 * message an operator reads (and nothing written), the socket choice and the
 * version names. That real BIRDs parse and run the output is
 * tests/integration/test_print_bird.sh.
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

#include "birdconf.h"
#include "conf.h"
#include "util.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;
	int c;

	if (f == NULL)
		return NULL;
	mem = open_memstream(&buf, &len);
	while ((c = fgetc(f)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(f);
	return buf;
}

/* Render conf for socket/version; returns the text (empty on failure) and fills problems. */
static char *render(const struct agent_conf *conf, const char *socket, enum birdconf_version v,
                    int *rc, struct strlist *problems)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	long sock = birdconf_socket(conf, socket, problems);

	assert_non_null(mem);
	*rc = sock < 0 ? -1 : birdconf_print(mem, conf, (size_t)sock, v, problems);
	fclose(mem);
	return buf;
}

static struct agent_conf *load_data(const char *name)
{
	char path[512], *errors = NULL;
	struct agent_conf *conf;

	snprintf(path, sizeof(path), "%s/%s", BIRDCONF_DATA, name);
	conf = conf_load(path, NULL, &errors);
	if (conf == NULL)
		fail_msg("%s does not load: %s", path, errors);
	return conf;
}

static void test_golden(void **unused)
{
	static const struct {
		const char *conf, *socket;
		enum birdconf_version v;
		const char *golden;
	} cases[] = {
	    {"pop.conf", NULL, BIRDCONF_2, "pop.2.out"},
	    {"pop.conf", NULL, BIRDCONF_3, "pop.3.out"},
	    {"bird16.conf", "v4", BIRDCONF_1_6, "bird16.v4.out"},
	    {"bird16.conf", "v6", BIRDCONF_1_6, "bird16.v6.out"},
	};
	const char *update = getenv("UPDATE_GOLDEN");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_conf *conf = load_data(cases[i].conf);
		struct strlist problems = {0};
		char path[512], *want, *got;
		int rc;

		got = render(conf, cases[i].socket, cases[i].v, &rc, &problems);
		if (rc != 0)
			fail_msg("%s for BIRD %s: %s", cases[i].conf,
			         birdconf_version_name(cases[i].v),
			         problems.n ? problems.v[0] : "?");
		snprintf(path, sizeof(path), "%s/%s", BIRDCONF_DATA, cases[i].golden);
		if (update && strcmp(update, "1") == 0) {
			FILE *f = fopen(path, "w");

			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		}
		want = slurp(path);
		if (want == NULL)
			fail_msg("%s is missing (UPDATE_GOLDEN=1 makes it)", path);
		if (strcmp(want, got) != 0)
			fail_msg("%s for BIRD %s differs from %s:\n%s", cases[i].conf,
			         birdconf_version_name(cases[i].v), cases[i].golden, got);
		free(want);
		free(got);
		strlist_free(&problems);
		conf_free(conf);
	}
}

/* The protocols and their decision files are exactly the configured ones, in the lead's form. */
static void test_includes_and_variants(void **unused)
{
	struct agent_conf *conf = load_data("pop.conf");
	struct strlist problems = {0};
	int rc;
	char *got = render(conf, NULL, BIRDCONF_2, &rc, &problems);

	assert_int_equal(rc, 0);
	assert_non_null(
	    strstr(got, "protocol static anycast_web4_degraded {\n"
	                "\tdisabled yes;\t# withdrawn until anycast-agent decides "
	                "otherwise in this boot\n"
	                "\tinclude \"/run/anycast-agent/bird/anycast_web4_degraded.con[f]\";\n"
	                "\tipv4 { preference 150; import filter anycast_mark_degraded; };\n"
	                "\troute 192.0.2.80/32 blackhole;\n"
	                "\troute 192.0.2.81/32 blackhole;\n"
	                "}\n"));
	assert_non_null(strstr(got,
	                       "protocol static anycast_dns6_drain {\n"
	                       "\tdisabled yes;\t# withdrawn until anycast-agent decides "
	                       "otherwise in this boot\n"
	                       "\tinclude \"/run/anycast-agent/bird/anycast_dns6_drain.con[f]\";\n"
	                       "\tipv6 { preference 100; import filter anycast_mark_drain; };\n"
	                       "\troute 2001:db8::53/128 blackhole;\n"
	                       "}\n"));
	/* every configured protocol once, no other */
	for (size_t i = 0; i < conf->nannouncements; i++) {
		const struct announcement_conf *a = &conf->announcements[i];
		const struct proto_list *lists[] = {&a->protocols, &a->degraded_protocols,
		                                    &a->drain_protocols};

		for (size_t r = 0; r < ARRAY_SIZE(lists); r++)
			for (size_t j = 0; j < lists[r]->n; j++) {
				char line[128], *at;

				snprintf(line, sizeof(line), "protocol static %s {\n",
				         lists[r]->v[j].name);
				at = strstr(got, line);
				assert_non_null(at);
				assert_null(strstr(at + 1, line));
			}
	}
	{
		size_t n = 0;

		for (const char *p = got; (p = strstr(p, "protocol static ")) != NULL; p++)
			n++;
		assert_int_equal(n, 9);
	}
	/* ntp has no degraded variant and none is IPv6 only: no filter anyone would miss */
	assert_non_null(strstr(got, "define ANYCAST_PREFIXES4 = [ 192.0.2.80/32, 192.0.2.81/32, "
	                            "192.0.2.123/32 ];\n"));
	assert_non_null(
	    strstr(got, "define ANYCAST_PREFIXES6 = [ 2001:db8::80/128, 2001:db8::53/128 ];\n"));
	free(got);
	conf_free(conf);
}

static struct agent_conf *load_text(const char *announcements, const char *bird)
{
	char *text, *errors = NULL;
	struct agent_conf *conf;

	xasprintf(&text,
	          "bird: { %s state_dir = \"/run/anycast-agent/bird\"; };\n"
	          "checks: { a: { type = \"tcp\"; address = \"192.0.2.1:22\"; }; };\n"
	          "announcements: { %s };\n",
	          bird ? bird : "socket = \"/run/bird/bird.ctl\";", announcements);
	conf = conf_load_string(text, "mem.conf", NULL, &errors);
	if (conf == NULL)
		fail_msg("does not load: %s\n%s", errors, text);
	free(text);
	return conf;
}

/* Configurations --print-bird cannot serve: each problem named, -n's notes the same, nothing
 * written. */
static void test_problems(void **unused)
{
	static const struct {
		const char *announcements, *want;
	} cases[] = {
	    {"ssh: { protocols = [ \"anycast_ssh4\" ]; requires = [ \"a\" ]; };",
	     "announcement \"ssh\" lists no prefixes, so --print-bird cannot write its static "
	     "protocols (add prefixes, or write them in bird.conf yourself)"},
	    {"dns: { protocols = [ \"anycast_dns\" ]; requires = [ \"a\" ];"
	     " prefixes = [ \"192.0.2.53/32\", \"2001:db8::53/128\" ]; };",
	     "announcement \"dns\": protocols lists 1 protocol for prefixes of IPv4 and IPv6; "
	     "--print-bird needs one protocol per address family, IPv4 first"},
	    {"dns: { protocols = [ \"anycast_dns4\" ]; requires = [ \"a\" ];"
	     " drain_protocols = [ \"d1\", \"d2\" ]; prefixes = [ \"192.0.2.53/32\" ]; };",
	     "announcement \"dns\": drain_protocols lists 2 protocols for prefixes of IPv4 only; "
	     "--print-bird needs one protocol per address family, IPv4 first"},
	    {"dns: { protocols = [ \"anycast_dns6\" ]; requires = [ \"a\" ];"
	     " degraded_protocols = [ \"g1\", \"g2\", \"g3\" ]; prefixes = [ \"2001:db8::/48\" ]; "
	     "};",
	     "announcement \"dns\": degraded_protocols lists 3 protocols for prefixes of IPv6 "
	     "only; --print-bird needs one protocol per address family, IPv4 first"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_conf *conf = load_text(cases[i].announcements, NULL);
		struct strlist notes = {0}, problems = {0};
		int rc;
		char *got;

		birdconf_problems(conf, &notes);
		assert_int_equal(notes.n, 1);
		assert_string_equal(notes.v[0], cases[i].want);
		for (enum birdconf_version v = BIRDCONF_2; v <= BIRDCONF_3; v++) {
			got = render(conf, NULL, v, &rc, &problems);
			assert_int_equal(rc, -1);
			assert_string_equal(got, "");
			assert_int_equal(problems.n, 1);
			assert_string_equal(problems.v[0], cases[i].want);
			strlist_free(&problems);
			free(got);
		}
		strlist_free(&notes);
		conf_free(conf);
	}
}

/* A servable configuration has no notes; the shipped example is one. */
static void test_no_problems(void **unused)
{
	char path[512], *errors = NULL;
	struct agent_conf *conf;
	struct strlist notes = {0};

	snprintf(path, sizeof(path), "%s/../../../contrib/anycast-agent.conf", BIRDCONF_DATA);
	conf = conf_load(path, NULL, &errors);
	if (conf == NULL)
		fail_msg("%s: %s", path, errors);
	birdconf_problems(conf, &notes);
	assert_int_equal(notes.n, 0);
	conf_free(conf);
	conf = load_data("bird16.conf");
	birdconf_problems(conf, &notes);
	assert_int_equal(notes.n, 0);
	conf_free(conf);
}

/* Problems that depend on BIRD or on what is printed. */
static void test_print_problems(void **unused)
{
	static const char both[] = "dns: { protocols = [ \"anycast_dns4\", \"anycast_dns6\" ]; "
	                           "requires = [ \"a\" ]; prefixes = [ \"192.0.2.53/32\", "
	                           "\"2001:db8::53/128\" ]; };";
	static const char v4only[] = "dns: { protocols = [ \"v4:anycast_dns4\" ]; requires = "
	                             "[ \"a\" ]; prefixes = [ \"192.0.2.53/32\" ]; };";
	static const char two[] = "sockets = ( { name = \"v4\"; path = \"/run/bird/bird.ctl\"; }, "
	                          "{ name = \"v6\"; path = \"/run/bird/bird6.ctl\"; } );";
	struct agent_conf *conf = load_text(both, NULL);
	struct strlist problems = {0};
	int rc;
	char *got;

	/* BIRD 2 carries both families in one daemon; BIRD 1.6 cannot */
	got = render(conf, NULL, BIRDCONF_2, &rc, &problems);
	assert_int_equal(rc, 0);
	free(got);
	got = render(conf, NULL, BIRDCONF_1_6, &rc, &problems);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "");
	assert_int_equal(problems.n, 1);
	assert_string_equal(problems.v[0],
	                    "BIRD 1.6 runs one daemon per address family, but socket \"default\" "
	                    "would carry anycast_dns4 (IPv4) and anycast_dns6 (IPv6): list "
	                    "bird.sockets for bird.ctl and bird6.ctl and put each protocol on its "
	                    "daemon's socket, as \"v6:anycast_dns6\"");
	strlist_free(&problems);
	free(got);
	conf_free(conf);

	/* a state_dir BIRD's include would read as a pattern */
	conf = load_text(both, NULL);
	free(conf->bird.state_dir);
	conf->bird.state_dir = xstrdup("/run/any[cast]/bird");
	got = render(conf, NULL, BIRDCONF_2, &rc, &problems);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "");
	assert_int_equal(problems.n, 1);
	assert_non_null(strstr(problems.v[0], "bird.state_dir \"/run/any[cast]/bird\" holds a "
	                                      "character BIRD's include would read as a pattern"));
	strlist_free(&problems);
	free(got);
	conf_free(conf);

	/* several sockets: which one must be said; a socket without protocols has no output */
	conf = load_text(v4only, two);
	got = render(conf, NULL, BIRDCONF_1_6, &rc, &problems);
	assert_int_equal(rc, -1);
	assert_string_equal(problems.v[0],
	                    "bird.sockets lists 2 sockets (v4, v6), one BIRD each: name the one to "
	                    "configure with --print-bird=SOCKET");
	strlist_free(&problems);
	free(got);
	got = render(conf, "v5", BIRDCONF_1_6, &rc, &problems);
	assert_int_equal(rc, -1);
	assert_string_equal(problems.v[0], "bird.sockets has no socket \"v5\" (it has: v4, v6)");
	strlist_free(&problems);
	free(got);
	got = render(conf, "v6", BIRDCONF_1_6, &rc, &problems);
	assert_int_equal(rc, -1);
	assert_string_equal(got, "");
	assert_string_equal(problems.v[0],
	                    "no protocol of the announcements is on BIRD socket \"v6\"");
	strlist_free(&problems);
	free(got);
	got = render(conf, "v4", BIRDCONF_1_6, &rc, &problems);
	assert_int_equal(rc, 0);
	assert_int_equal(problems.n, 0);
	assert_non_null(strstr(got, "protocol static anycast_dns4 {\n"));
	/* no IPv6 in this daemon, no degraded variant: only what is used is defined */
	assert_non_null(strstr(got, "define ANYCAST_PREFIXES = [ 192.0.2.53/32 ];\n"));
	assert_null(strstr(got, "ANYCAST_LOCAL_AS"));
	assert_null(strstr(got, "anycast_mark_drain"));
	free(got);
	assert_int_equal(birdconf_print(stdout, conf, 0, BIRDCONF_UNKNOWN, &problems), -1);
	assert_string_equal(problems.v[0], "unknown BIRD version: 1.6, 2 or 3");
	strlist_free(&problems);
	conf_free(conf);
}

/* BIRD 2 without IPv6 prefixes: its export filter rejects everything, no empty set defined. */
static void test_one_family(void **unused)
{
	struct agent_conf *conf = load_text("ntp: { protocols = [ \"anycast_ntp4\" ]; requires = "
	                                    "[ \"a\" ]; prefixes = [ \"192.0.2.123/32\" ]; };",
	                                    NULL);
	struct strlist problems = {0};
	int rc;
	char *got = render(conf, NULL, BIRDCONF_3, &rc, &problems);

	assert_int_equal(rc, 0);
	assert_null(strstr(got, "ANYCAST_PREFIXES6"));
	assert_non_null(strstr(got, "filter anycast_export6 {\n"
	                            "\treject;\t# no IPv6 prefix is announced here\n"
	                            "}\n"));
	assert_non_null(strstr(got, "\tif source = RTS_STATIC && net ~ ANYCAST_PREFIXES4 then "
	                            "accept;\n"));
	free(got);
	conf_free(conf);
}

static void test_versions(void **unused)
{
	static const struct {
		const char *in;
		enum birdconf_version want;
	} cases[] = {
	    {"1.6", BIRDCONF_1_6},
	    {"2", BIRDCONF_2},
	    {"3", BIRDCONF_3},
	    {"BIRD 2.0.12", BIRDCONF_2},
	    {"BIRD 1.6.8", BIRDCONF_1_6},
	    {"BIRD 3.1.8", BIRDCONF_3},
	    {"3.0alpha2", BIRDCONF_3},
	    {"2.17.6", BIRDCONF_2},
	    {"1", BIRDCONF_UNKNOWN},
	    {"4", BIRDCONF_UNKNOWN},
	    {"20", BIRDCONF_UNKNOWN},
	    {"0.9", BIRDCONF_UNKNOWN},
	    {"", BIRDCONF_UNKNOWN},
	    {"BIRD", BIRDCONF_UNKNOWN},
	    {"two", BIRDCONF_UNKNOWN},
	    {NULL, BIRDCONF_UNKNOWN},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (birdconf_version_parse(cases[i].in) != cases[i].want)
			fail_msg("\"%s\": got %s", cases[i].in ? cases[i].in : "(null)",
			         birdconf_version_name(birdconf_version_parse(cases[i].in)));
	assert_string_equal(birdconf_version_name(BIRDCONF_1_6), "1.6");
	assert_string_equal(birdconf_version_name(BIRDCONF_3), "3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),         cmocka_unit_test(test_includes_and_variants),
	    cmocka_unit_test(test_problems),       cmocka_unit_test(test_no_problems),
	    cmocka_unit_test(test_print_problems), cmocka_unit_test(test_one_family),
	    cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
