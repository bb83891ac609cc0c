/*
 * test_sync.c - the last-site guard's reading of BIRD: `show route for PREFIX all` replies
 * captured from BIRD 2.0.12, 2.17.6 and 3.1.8 (two PoPs over iBGP, tests/lib/topo.sh topo_ibgp;
 * tests/data/bird/capture-routes.sh) parsed into routes, and which of them count as another
 * path; the prefix validation that guards BIRD's command line.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

static char *read_data(const char *rel, size_t *len)
{
	char path[512], *buf;
	FILE *f;
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

/* ---- captured replies ---------------------------------------------------------------------- */

static const struct captured {
	const char *file;
	const char *routes; /* "proto/origin/best ..." in order */
	bool others;
} captured[] = {
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

static void test_captured(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(captured); i++) {
		const struct captured *c = &captured[i];
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

/* ---- single lines: what counts as another path --------------------------------------------- */

static const struct line_case {
	const char *reply; /* a whole reply */
	const char *proto, *origin;
	bool other, bad;
} lines[] = {
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

static void test_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		const struct line_case *c = &lines[i];
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

/* ---- what may reach BIRD's command line --------------------------------------------------- */

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
	    cmocka_unit_test(test_captured),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_prefix_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
