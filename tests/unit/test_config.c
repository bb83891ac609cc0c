/* SPDX-License-Identifier: ISC */
/*
 * test_config.c - unit tests of the configuration loader (agent/config.c):
 * inline configurations written to a private temp dir, the errors an
 * operator reads, the defaults, the overrides, the equality functions a
 * reload relies on, and the conf_print round trip.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "util.h"

static char tmpdir[] = "/tmp/anycast-test-config.XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char *cmd;
	(void)state;
	xasprintf(&cmd, "rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

/* Writes text to tmpdir/name and returns the path (malloc'd). */
static char *write_file(const char *name, const char *text)
{
	char *path;
	FILE *f;
	xasprintf(&path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct agent_conf *load_text(const char *text, const struct conf_overrides *ov,
                                    char **errors)
{
	char *path = write_file("test.conf", text);
	struct agent_conf *conf = conf_load(path, ov, errors);
	free(path);
	return conf;
}

/* A valid load; fails the test with the loader's errors otherwise. */
static struct agent_conf *load_ok(const char *text, const struct conf_overrides *ov)
{
	char *errors = NULL;
	struct agent_conf *conf = load_text(text, ov, &errors);
	if (conf == NULL)
		fail_msg("unexpected errors:\n%s", errors);
	assert_null(errors);
	return conf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

#define TCP_CHECK "checks: { ssh: { type = \"tcp\"; address = \"192.0.2.80:22\"; }; };\n"

/* ---- errors ------------------------------------------------------------------ */

static const struct {
	const char *what;
	const char *text;
	const char *expect; /* substring of the errors, after "test.conf" */
} error_cases[] = {
    {"missing url", "checks: {\n web: { type = \"http\"; };\n};\n",
     ":2: check \"web\": url is required"},
    {"unknown key with suggestion", "bird: { timeuot = 1.0; };\n",
     ":1: bird: unknown key \"timeuot\" (did you mean \"timeout\"?)"},
    {"unknown key without suggestion", "zzzzzz = 1;\n", ":1: unknown key \"zzzzzz\"\n"},
    {"key of another check type",
     "checks: { w: { type = \"tcp\"; address = \"192.0.2.1:1\"; url = \"x\"; }; };\n",
     "url is a key of http checks, not of tcp checks"},
    {"wrong type", "on_exit = 1;\n", ":1: on_exit must be a string, not an integer"},
    {"integer for a number is fine, float for an integer is not",
     "checks: { c: { type = \"tcp\"; address = \"192.0.2.1:1\"; rise = 1.5; }; };\n",
     "rise must be an integer, not a decimal number"},
    {"out of range", "bird: { timeout = 61; };\n",
     "timeout must be from 0.1 to 60 seconds (got 61)"},
    {"mode as a number", "control: { mode = 0660; };\n", "libconfig reads the number 0660"},
    {"mode out of range", "control: { mode = \"4755\"; };\n", "mode must be an octal mode"},
    {"relative path", "state_file = \"state\";\n", "must be an absolute path"},
    {"syntax error", "bird: {\n timeout = ;\n};\n", ":2: syntax error"},
    {"duplicate check", "checks: {\n a: { type = \"tcp\"; };\n a: { type = \"tcp\"; };\n};\n",
     ":3: duplicate setting name"},
    {"undefined check",
     TCP_CHECK "announcements: { a: { protocols = [ \"p\" ]; requires = [ "
               "\"shh\" ]; }; };\n",
     "check \"shh\" is not defined in checks (did you mean \"ssh\"?)"},
    {"invalid bird symbol",
     TCP_CHECK "announcements: { a: { protocols = [ \"bad-name\" ]; "
               "requires = [ \"ssh\" ]; }; };\n",
     "\"bad-name\" is not a valid BIRD protocol name"},
    {"unknown bird socket",
     TCP_CHECK "announcements: { a: { protocols = [ \"v6:p\" ]; requires "
               "= [ \"ssh\" ]; }; };\n",
     "names BIRD socket \"v6\", which bird.sockets lacks"},
    {"protocol in two announcements",
     TCP_CHECK "announcements: { a: { protocols = [ \"p\" ]; requires = [ \"ssh\" ]; };\n"
               " b: { protocols = [ \"x\" ]; drain_protocols = [ \"p\" ]; requires = [ \"ssh\" "
               "]; }; };\n",
     ":3: announcement \"b\": drain_protocols: protocol \"p\" is already in protocols of "
     "announcement \"a\""},
    {"quorum above the checks",
     TCP_CHECK "announcements: { a: { protocols = [ \"p\" ]; "
               "requires = [ \"ssh\" ]; require = 2; }; };\n",
     "require = 2: it must be from 1 to the 1 check listed"},
    {"host bits",
     TCP_CHECK "announcements: { a: { protocols = [ \"p\" ]; requires = [ \"ssh\" "
               "]; prefixes = [ \"10.1.2.3/8\" ]; }; };\n",
     "has host bits set (did you mean \"10.0.0.0/8\"?)"},
    {"damping",
     TCP_CHECK "announcements: { a: { protocols = [ \"p\" ]; requires = [ \"ssh\" "
               "]; damp_reuse = 3000; }; };\n",
     "damp_reuse (3000) must be below damp_suppress (2000)"},
    {"timeout above interval",
     "checks: { c: { type = \"tcp\"; address = \"192.0.2.1:1\"; interval = 1; timeout = 2; }; "
     "};\n",
     "timeout (2.0 s) must not exceed interval (1.0 s)"},
    {"tcp without port", "checks: { c: { type = \"tcp\"; address = \"192.0.2.1\"; }; };\n",
     "address needs a port"},
    {"dns port twice",
     "checks: { d: { type = \"dns\"; server = \"192.0.2.1:53\"; port = 53; qname = \"a.\"; "
     "}; };\n",
     "give the port either in server or as port, not both"},
    {"dns label too long",
     "checks: { d: { type = \"dns\"; server = \"192.0.2.1\"; qname = "
     "\"a234567890123456789012345678901234567890123456789012345678901234.net\"; }; };\n",
     "every label must have 1 to 63 characters"},
    {"serial lag without reference",
     "checks: { d: { type = \"dns\"; server = \"192.0.2.1\"; qname = \"a.\"; max_serial_lag = "
     "1; }; };\n",
     "max_serial_lag needs soa_reference"},
    {"http scheme", "checks: { w: { type = \"http\"; url = \"gopher://x/\"; }; };\n",
     "only http:// and https:// URLs"},
    {"http regex",
     "checks: { w: { type = \"http\"; url = \"http://x/\"; expect_body_regex = "
     "\"a(\"; }; };\n",
     "expect_body_regex is not a POSIX extended regex"},
    {"http body exclusive",
     "checks: { w: { type = \"http\"; url = \"http://x/\"; expect_body = "
     "\"a\"; expect_body_regex = \"a\"; }; };\n",
     "give expect_body or expect_body_regex, not both"},
    {"http header injection",
     "checks: { w: { type = \"http\"; url = \"http://x/\"; headers = "
     "[ \"A: b\\r\\nC: d\" ]; }; };\n",
     "header \"A: b\" is followed by CR or LF"},
    {"http status",
     "checks: { w: { type = \"http\"; url = \"http://x/\"; expect_status = "
     "\"299-200\"; }; };\n",
     "expect_status must be status codes from 100 to 599"},
    {"ca_file missing",
     "checks: { w: { type = \"http\"; url = \"https://x/\"; ca_file = "
     "\"/nonexistent/ca.pem\"; }; };\n",
     "cannot read \"/nonexistent/ca.pem\": No such file or directory"},
    {"exec not found", "checks: { e: { type = \"exec\"; command = [ \"/nonexistent/x\" ]; }; };\n",
     "cannot run \"/nonexistent/x\": No such file or directory"},
    {"exec relative", "checks: { e: { type = \"exec\"; command = [ \"true\" ]; }; };\n",
     "\"true\" must be an absolute path"},
    {"bad check name", "checks: { a*b: { type = \"tcp\"; address = \"192.0.2.1:1\"; }; };\n",
     "check \"a*b\": the name must be letters, digits"},
    {"socket and sockets",
     "bird: { socket = \"/a\"; sockets = ( { name = \"a\"; path = \"/b\"; "
     "} ); };\n",
     "give either socket or sockets, not both"},
    {"missing include", "@include \"nope.conf\"\n",
     "/nope.conf\": No such file or directory (@include is relative to the directory of"},
    /* `disable all` on BIRD's command line disables every protocol */
    {"protocol named all", "announcements: { a: { protocols = [ \"all\" ]; }; };\n",
     "protocols: \"all\" is a BIRD keyword, not a protocol name"},
    {"protocol named like a keyword",
     "announcements: { a: { protocols = [ \"p\" ]; drain_protocols = [ \"static\" ]; }; };\n",
     "drain_protocols: \"static\" is a BIRD keyword"},
    {"guard without prefixes",
     "announcements: { a: { protocols = [ \"p\" ]; last_site_guard = true; }; };\n",
     "last_site_guard needs prefixes"},
    {"state_dir a pattern", "bird: { state_dir = \"/run/a*\"; };\n",
     "bird: state_dir: \"/run/a*\" has '*': bird.conf includes this path as a pattern"},
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(error_cases); i++) {
		char *errors = NULL;
		struct agent_conf *conf = load_text(error_cases[i].text, NULL, &errors);
		if (conf != NULL)
			fail_msg("%s: loaded without an error", error_cases[i].what);
		assert_non_null(errors);
		if (strstr(errors, error_cases[i].expect) == NULL)
			fail_msg("%s: expected \"%s\" in:\n%s", error_cases[i].what,
			         error_cases[i].expect, errors);
		/* every line names the file */
		for (const char *l = errors; *l; l = strchr(l, '\n') + 1)
			if (strncmp(l, tmpdir, strlen(tmpdir)) != 0)
				fail_msg("%s: a line does not start with the file: %s",
				         error_cases[i].what, l);
		free(errors);
	}
}

/* Every problem is reported, not only the first. */
static void test_errors_all_collected(void **state)
{
	char *errors = NULL;
	(void)state;
	assert_null(load_text("bird: { timeout = 0; reconcile_interval = 0; };\n"
	                      "on_exit = \"never\";\n"
	                      "checks: { w: { type = \"http\"; }; d: { type = \"dns\"; }; };\n",
	                      NULL, &errors));
	assert_int_equal(count_lines(errors), 6);
	assert_non_null(strstr(errors, "test.conf:1: bird: timeout"));
	assert_non_null(strstr(errors, "test.conf:1: bird: reconcile_interval"));
	assert_non_null(strstr(errors, "test.conf:2: on_exit"));
	assert_non_null(strstr(errors, "check \"w\": url is required"));
	assert_non_null(strstr(errors, "check \"d\": server is required"));
	assert_non_null(strstr(errors, "check \"d\": qname is required"));
	free(errors);
}

static void test_unreadable(void **state)
{
	char *errors = NULL, *path;
	(void)state;
	xasprintf(&path, "%s/does-not-exist.conf", tmpdir);
	assert_null(conf_load(path, NULL, &errors));
	assert_non_null(strstr(errors, "does-not-exist.conf: cannot read the configuration: No "
	                               "such file or directory"));
	free(errors);
	errors = NULL;
	assert_null(conf_load(tmpdir, NULL, &errors));
	assert_non_null(strstr(errors, "cannot read the configuration: Is a directory"));
	free(errors);
	free(path);
}

/* Errors inside an included file name that file; includes are relative to the main file. */
static void test_include(void **state)
{
	char *errors = NULL, *sub, *path;
	struct agent_conf *conf;
	(void)state;
	xasprintf(&sub, "%s/inc", tmpdir);
	mkdir(sub, 0700);
	free(write_file("inc/checks.conf", "ssh: { type = \"tcp\"; address = \"192.0.2.1:22\"; };\n"
	                                   "bad: { type = \"tcp\"; address = \"x\"; };\n"));
	path = write_file("inc.conf", "checks: {\n@include \"inc/checks.conf\"\n};\n");
	assert_int_equal(chdir("/"), 0); /* not the main file's directory */
	assert_null(conf_load(path, NULL, &errors));
	assert_non_null(strstr(errors, "/inc/checks.conf:2: check \"bad\": address: \"x\" is not"));
	free(errors);
	free(write_file("inc/checks.conf",
	                "ssh: { type = \"tcp\"; address = \"192.0.2.1:22\"; };\n"));
	conf = conf_load(path, NULL, &errors);
	assert_non_null(conf);
	assert_int_equal(conf->nchecks, 1);
	assert_string_equal(conf->checks[0].name, "ssh");
	conf_free(conf);
	free(path);
	free(sub);
}

/* ---- defaults and normalisation -------------------------------------------- */

static void test_defaults(void **state)
{
	struct agent_conf *conf;
	const struct check_conf *ck;
	(void)state;
	conf =
	    load_ok("checks: {\n"
	            " w: { type = \"http\"; url = \"http://x/\"; interval = 20; };\n"
	            " d: { type = \"dns\"; server = \"2001:DB8::1\"; qname = \"Example.net\"; };\n"
	            " e: { type = \"exec\"; command = [ \"/bin/true\" ]; };\n"
	            "};\n"
	            "announcements: { a: { protocols = [ \"p4\", \"p6\" ]; requires = [ \"w\", "
	            "\"d\" ];\n"
	            " prefixes = [ \"2001:DB8:0::/32\" ]; }; };\n",
	            NULL);
	assert_int_equal(conf->bird.nsockets, 1);
	assert_string_equal(conf->bird.sockets[0].name, "default");
	assert_string_equal(conf->bird.sockets[0].path, AA_BIRD_SOCKET);
	/* decisions last one boot: the runtime directory, emptied by a reboot */
	assert_string_equal(conf->bird.state_dir, AA_RUN_DIR "/bird");
	assert_string_equal(conf->state_file, AA_STATE_DIR "/state");
	assert_string_equal(conf->control.socket, AA_CTL_PATH);
	assert_null(conf->control.group);
	assert_int_equal(conf->control.mode, 0660);
	assert_int_equal(conf->on_exit, ON_EXIT_WITHDRAW);
	assert_true(conf->bird.timeout == 2.0 && conf->bird.reconcile_interval == 1.0);

	ck = conf_find_check(conf, "w");
	assert_non_null(ck);
	assert_int_equal(ck->type, CHECK_HTTP);
	assert_true(ck->interval == 20.0);
	assert_true(ck->timeout == 5.0);        /* half of interval, at most 5 s */
	assert_true(ck->fast_interval == 10.0); /* max(timeout, interval / 2) */
	assert_int_equal(ck->rise, 3);
	assert_int_equal(ck->fall, 2);
	assert_int_equal(ck->u.http.nstatus, 1);
	assert_int_equal(ck->u.http.status[0].lo, 200);
	assert_int_equal(ck->u.http.status[0].hi, 299);
	assert_false(ck->u.http.head);
	assert_true(ck->u.http.tls_verify);
	assert_int_equal(ck->u.http.body_max, 65536);

	ck = conf_find_check(conf, "d");
	assert_string_equal(ck->u.dns.server.host, "2001:db8::1");
	assert_int_equal(ck->u.dns.server.port, 53);
	assert_string_equal(ck->u.dns.qname, "Example.net.");
	assert_int_equal(ck->u.dns.qtype, 6); /* SOA */
	assert_int_equal(ck->u.dns.expect_rcode, 0);
	assert_int_equal(ck->u.dns.expect_authoritative, -1);
	assert_int_equal(ck->u.dns.transport, DNS_BOTH);
	assert_true(ck->timeout == 0.5 && ck->fast_interval == 0.5);

	ck = conf_find_check(conf, "e");
	assert_int_equal(ck->u.exec.output_max, 8192);
	assert_null(conf_find_check(conf, "nope"));

	assert_int_equal(conf->nannouncements, 1);
	assert_int_equal(conf->announcements[0].quorum, 2);
	assert_int_equal(conf->announcements[0].require_idx[0], 0);
	assert_int_equal(conf->announcements[0].require_idx[1], 1);
	assert_string_equal(conf->announcements[0].prefixes.v[0], "2001:db8::/32");
	assert_true(conf->announcements[0].damp_penalty == 1000 &&
	            conf->announcements[0].damp_suppress == 2000 &&
	            conf->announcements[0].damp_reuse == 750 &&
	            conf->announcements[0].damp_half_life == 900 &&
	            conf->announcements[0].damp_max_suppress == 3600);
	assert_true(conf->announcements[0].drain_time == 30 &&
	            conf->announcements[0].hold_down == 10);
	assert_false(conf->announcements[0].last_site_guard);
	assert_string_equal(check_type_name(CHECK_DNS), "dns");
	conf_free(conf);
}

static void test_sockets(void **state)
{
	struct agent_conf *conf;
	(void)state;
	conf =
	    load_ok("bird: { sockets = ( { name = \"v4\"; path = \"/b4\"; }, { name = \"v6\"; "
	            "path = \"/b6\"; } ); };\n" TCP_CHECK
	            "announcements: { a: { protocols = [ \"p4\", \"v6:p6\", \"v4:q\" ]; requires "
	            "= [ \"ssh\" ]; require = \"any\"; }; };\n",
	            NULL);
	assert_int_equal(conf->bird.nsockets, 2);
	assert_int_equal(conf->announcements[0].protocols.n, 3);
	assert_int_equal(conf->announcements[0].protocols.v[0].socket, 0); /* the first socket */
	assert_int_equal(conf->announcements[0].protocols.v[1].socket, 1);
	assert_string_equal(conf->announcements[0].protocols.v[1].name, "p6");
	assert_int_equal(conf->announcements[0].protocols.v[2].socket, 0);
	assert_int_equal(conf->announcements[0].quorum, 1);
	conf_free(conf);
}

/* ---- overrides ---------------------------------------------------------------- */

static void test_overrides(void **state)
{
	struct conf_overrides ov = {.bird_socket = "/tmp/b.ctl",
	                            .control_socket = "/tmp/c.ctl",
	                            .state_dir = "/tmp/sd",
	                            .state_file = "/tmp/sf"};
	struct conf_overrides bad = {.state_dir = "relative"};
	struct conf_overrides one = {.bird_socket = "/tmp/b.ctl"};
	struct conf_overrides none = {0};
	struct agent_conf *conf;
	char *errors = NULL;
	(void)state;

	conf = load_ok("bird: { socket = \"/run/x.ctl\"; state_dir = \"/x\"; };\n"
	               "control: { socket = \"/run/y.ctl\"; };\nstate_file = \"/z\";\n",
	               &ov);
	assert_string_equal(conf->bird.sockets[0].path, "/tmp/b.ctl");
	assert_string_equal(conf->bird.sockets[0].name, "default");
	assert_string_equal(conf->control.socket, "/tmp/c.ctl");
	assert_string_equal(conf->bird.state_dir, "/tmp/sd");
	assert_string_equal(conf->state_file, "/tmp/sf");
	conf_free(conf);

	/* NULL fields keep the file's values */
	conf = load_ok("bird: { socket = \"/run/x.ctl\"; state_dir = \"/x\"; };\n", &none);
	assert_string_equal(conf->bird.state_dir, "/x");
	conf_free(conf);

	assert_null(load_text("", &bad, &errors));
	assert_string_equal(errors, "command line: --state-dir: \"relative\" must be an absolute "
	                            "path (the agent runs from /)\n");
	free(errors);

	assert_null(load_text("bird: { sockets = ( { name = \"a\"; path = \"/a\"; }, { name = "
	                      "\"b\"; path = \"/b\"; } ); };\n",
	                      &one, &errors));
	assert_non_null(strstr(errors, "--bird-socket cannot replace bird.sockets"));
	free(errors);
}

/* ---- equality ----------------------------------------------------------------- */

#define BASE_CHECKS                                                                                \
	"checks: {\n"                                                                              \
	" w: { type = \"http\"; url = \"https://x/\"; connect_to = \"192.0.2.1:443\"; %s };\n"     \
	" d: { type = \"dns\"; server = \"192.0.2.53\"; qname = \"x.\"; soa_reference = "          \
	"\"192.0.2.1\"; };\n"                                                                      \
	"};\n"                                                                                     \
	"announcements: { a: { protocols = [ \"p\" ]; requires = [ \"w\", \"d\" ];\n"              \
	" prefixes = [ \"%s\" ]; %s }; };\n"

static struct agent_conf *load_variant(const char *check_extra, const char *ann_extra,
                                       const char *prefix, const char *lead)
{
	char *text;
	struct agent_conf *conf;
	xasprintf(&text, "%s" BASE_CHECKS, lead, check_extra, prefix ? prefix : "192.0.2.80/32",
	          ann_extra);
	conf = load_ok(text, NULL);
	free(text);
	return conf;
}

static void test_equality(void **state)
{
	static const struct {
		const char *check_extra, *ann_extra, *prefix;
		bool check_equal, ann_equal;
	} cases[] = {
	    {"", "", NULL, true, true},
	    {"interval = 1.0;", "require = \"all\";", NULL, true, true}, /* the defaults */
	    {"timeout = 0.5;", "drain_time = 30;", NULL, true, true},
	    {"interval = 2.0;", "", NULL, false, true},
	    {"headers = [ \"A: c\" ];", "", NULL, false, true},
	    {"method = \"HEAD\";", "", NULL, false, true},
	    {"expect_status = 200;", "", NULL, false, true},
	    {"source = \"192.0.2.2\";", "", NULL, false, true},
	    {"tls_verify = false;", "", NULL, false, true},
	    /* a changed death watch restarts the check (and its watch) on reload */
	    {"watch_pidfile = \"/run/nginx.pid\";", "", NULL, false, true},
	    {"watch_unit = \"nginx\";", "", NULL, false, true},
	    {"watch_listen = \"192.0.2.1:443\";", "", NULL, false, true},
	    {"watch_listen = [ \"tcp:192.0.2.1:443\", \"udp:192.0.2.1:443\" ];", "", NULL, false,
	     true},
	    {"", "require = \"any\";", NULL, true, false},
	    {"", "", "192.0.2.0/24", true, false},
	    {"", "drain_protocols = [ \"q\" ];", NULL, true, false},
	    {"", "damp_reuse = 700;", NULL, true, false},
	    {"", "last_site_guard = true;", NULL, true, false},
	};
	struct agent_conf *base;
	(void)state;

	/* blank lines move every definition: line numbers do not count */
	base = load_variant("", "", NULL, "\n\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct agent_conf *v =
		    load_variant(cases[i].check_extra, cases[i].ann_extra, cases[i].prefix, "");
		assert_int_not_equal(base->checks[0].line, v->checks[0].line);
		if (conf_check_equal(&base->checks[0], &v->checks[0]) != cases[i].check_equal)
			fail_msg("case %zu (%s): conf_check_equal should be %d", i,
			         cases[i].check_extra, cases[i].check_equal);
		if (conf_announcement_equal(&base->announcements[0], &v->announcements[0]) !=
		    cases[i].ann_equal)
			fail_msg("case %zu (%s): conf_announcement_equal should be %d", i,
			         cases[i].ann_extra, cases[i].ann_equal);
		assert_true(conf_check_equal(&base->checks[1], &v->checks[1]));
		conf_free(v);
	}
	/* different names or types are different checks */
	assert_false(conf_check_equal(&base->checks[0], &base->checks[1]));
	conf_free(base);
}

/* ---- conf_print round trip ---------------------------------------------------- */

static void assert_conf_equal(const struct agent_conf *a, const struct agent_conf *b)
{
	assert_int_equal(a->nchecks, b->nchecks);
	for (size_t i = 0; i < a->nchecks; i++)
		if (!conf_check_equal(&a->checks[i], &b->checks[i]))
			fail_msg("check \"%s\" changed in the round trip", a->checks[i].name);
	assert_int_equal(a->nannouncements, b->nannouncements);
	for (size_t i = 0; i < a->nannouncements; i++)
		if (!conf_announcement_equal(&a->announcements[i], &b->announcements[i]))
			fail_msg("announcement \"%s\" changed in the round trip",
			         a->announcements[i].name);
	assert_int_equal(a->bird.nsockets, b->bird.nsockets);
	for (size_t i = 0; i < a->bird.nsockets; i++) {
		assert_string_equal(a->bird.sockets[i].name, b->bird.sockets[i].name);
		assert_string_equal(a->bird.sockets[i].path, b->bird.sockets[i].path);
	}
	assert_true(a->bird.timeout == b->bird.timeout);
	assert_true(a->bird.reconcile_interval == b->bird.reconcile_interval);
	assert_string_equal(a->bird.state_dir, b->bird.state_dir);
	assert_string_equal(a->control.socket, b->control.socket);
	assert_true((a->control.group == NULL) == (b->control.group == NULL));
	assert_int_equal(a->control.mode, b->control.mode);
	assert_string_equal(a->state_file, b->state_file);
	assert_int_equal(a->on_exit, b->on_exit);
}

static void test_print_round_trip(void **state)
{
	static const char *const texts[] = {
	    "",
	    NULL, /* BASE_CHECKS, filled in below */
	    "bird: { sockets = ( { name = \"v4\"; path = \"/b4\"; }, { name = \"v6\"; path = "
	    "\"/b6\"; } ); timeout = 0.3; };\n"
	    "control: { group = \"g\"; mode = \"0600\"; };\non_exit = \"keep\";\n"
	    "checks: {\n"
	    " t: { type = \"tcp\"; address = \"[2001:db8::1]:22\"; interval = 0.7; watch_listen = "
	    "[ \"udp:[2001:db8::1]:53\", \"192.0.2.1:22\" ]; watch_unit = \"sshd\"; };\n"
	    " e: { type = \"exec\"; command = [ \"/bin/true\", \"a \\\"b\\\"\\\\\" ]; };\n"
	    " w: { type = \"http\"; url = \"http://x/\"; expect_status = \"200-204, 301\"; "
	    "expect_body = \"\\ttab\"; cert_warn_days = 0; };\n"
	    " d: { type = \"dns\"; server = \"[2001:db8::53]:5353\"; qname = \".\"; qtype = "
	    "\"caa\"; expect_authoritative = false; expect_answer = [ \"a\", \"b\" ]; };\n"
	    "};\n"
	    "announcements: { a: { protocols = [ \"v6:p\" ]; degraded_protocols = [ \"q\" ]; "
	    "requires = [ \"t\", \"e\", \"w\" ]; require = 2; hold_down = 0.25; }; };\n",
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		char *text, *errors = NULL, *path, *printed = NULL;
		size_t len = 0;
		struct agent_conf *a, *b;
		FILE *f;
		if (texts[i] == NULL)
			xasprintf(&text, BASE_CHECKS, "", "192.0.2.80/32", "");
		else
			text = xstrdup(texts[i]);
		a = load_ok(text, NULL);
		f = open_memstream(&printed, &len);
		conf_print(f, a);
		fclose(f);
		path = write_file("printed.conf", printed);
		b = conf_load(path, NULL, &errors);
		if (b == NULL)
			fail_msg("case %zu: the printed configuration does not load:\n%s\n%s", i,
			         errors, printed);
		assert_conf_equal(a, b);
		conf_free(a);
		conf_free(b);
		free(printed);
		free(path);
		free(text);
	}
}

/* A configuration held in memory loads like the same file, errors named after path. */
static void test_load_string(void **state)
{
	char *errors = NULL;
	struct agent_conf *conf;
	(void)state;
	conf = conf_load_string("on_exit = \"keep\";\n", "/etc/x/mem.conf", NULL, &errors);
	assert_non_null(conf);
	assert_null(errors);
	assert_int_equal(conf->on_exit, ON_EXIT_KEEP);
	conf_free(conf);
	assert_null(conf_load_string("\non_exit = \"later\";\n", "mem.conf", NULL, &errors));
	assert_non_null(errors);
	assert_non_null(strstr(errors, "mem.conf:2: "));
	free(errors);
	assert_null(conf_load_string("checks: {\n", "mem.conf", NULL, &errors));
	assert_non_null(strstr(errors, "mem.conf:"));
	free(errors);
	/* the include error names the file from the text itself, not from disk */
	assert_null(conf_load_string("@include \"nonexistent.conf\"\n", "/nonexistent-dir/mem.conf",
	                             NULL, &errors));
	assert_non_null(
	    strstr(errors, "cannot open include file \"/nonexistent-dir/nonexistent.conf\""));
	free(errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_string),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_errors_all_collected),
	    cmocka_unit_test(test_unreadable),
	    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_sockets),
	    cmocka_unit_test(test_overrides),
	    cmocka_unit_test(test_equality),
	    cmocka_unit_test(test_print_round_trip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
