/* SPDX-License-Identifier: ISC */
/*
 * test_reconcile.c - sync.c's reconcile cycle against a scripted fake BIRD (a fake on purpose:
 * the test decides when each reply arrives, to put a change of mind in the middle of a cycle).
 * Covers: enables before disables; disables least preferred variant first; make-before-break when
 * the wants change while enables are in flight; a missing variant keeps the old one, except a
 * drain's; KEEP keeps only what this boot's decision files announce; a protocol that leaves the
 * configuration is disabled, then forgotten, and an orphan a hung BIRD keeps leaves the decision
 * file to the protocol configured again; a protocol moved to another BIRD is disabled in the one
 * it left; a decision file removed or spoiled behind the agent's back is written again; the
 * include check reads the description BIRD shows; a refused command is retried at the next tick.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "sync.h"
#include "util.h"

/* ---- the fake BIRD ------------------------------------------------------------------------ */

enum kind { K_ENABLE, K_DISABLE, K_SHOW, K_ROUTE };

struct cmd {
	enum kind kind;
	bool all;
	char name[BIRD_NAME_MAX + 1];
	void *cb, *arg;
};

struct fake {
	const struct bird_client_cbs *cbs;
	void *cb_arg;
	struct cmd q[64];
	size_t nq;
	/* BIRD's protocols */
	char names[8][BIRD_NAME_MAX + 1];
	bool en[8], has[8], refuse;
	char desc[8][256];
	size_t n;
	char log[2048]; /* "+p -q " in the order BIRD applied them */
};

static struct fake fake;
/* a second BIRD (the socket named "other"): it answers only when a test connects it */
static struct fake other;

static int idx(const struct fake *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->names[i], name) == 0)
			return (int)i;
	return -1;
}

static void *f_open(void *ops_arg, const struct bird_socket_conf *sc, double timeout,
                    const struct bird_client_cbs *cbs, void *cb_arg)
{
	struct fake *f = strcmp(sc->name, "other") == 0 ? &other : &fake;
	(void)ops_arg;
	(void)timeout;
	f->cbs = cbs;
	f->cb_arg = cb_arg;
	return f;
}

static void f_close(void *bird)
{
	struct bird_reply r = {.status = BIRD_DISCONNECTED, .text = ""};
	struct fake *f = bird;
	for (size_t i = 0; i < f->nq; i++) {
		struct cmd *c = &f->q[i];
		if (c->kind == K_SHOW)
			((bird_show_cb)c->cb)(NULL, &r, NULL, 0, c->arg);
		else if (c->kind == K_ROUTE)
			((bird_route_cb)c->cb)(NULL, &r, NULL, 0, c->arg);
		else
			((bird_done_cb)c->cb)(NULL, &r, c->arg);
	}
	f->nq = 0;
}

static enum bird_status push(void *b, enum kind k, const char *name, bool all, void *cb, void *arg)
{
	struct fake *f = b;
	assert_true(f->nq < 64);
	struct cmd *c = &f->q[f->nq++];
	memset(c, 0, sizeof(*c));
	c->kind = k;
	c->all = all;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
	c->cb = cb;
	c->arg = arg;
	return BIRD_OK;
}

static enum bird_status f_enable(void *b, const char *p, bird_done_cb cb, void *arg)
{
	return push(b, K_ENABLE, p, false, (void *)cb, arg);
}

static enum bird_status f_disable(void *b, const char *p, const char *m, bird_done_cb cb, void *arg)
{
	(void)m;
	return push(b, K_DISABLE, p, false, (void *)cb, arg);
}

static enum bird_status f_show(void *b, const char *name, bool all, bird_show_cb cb, void *arg)
{
	return push(b, K_SHOW, name, all, (void *)cb, arg);
}

static enum bird_status f_route(void *b, const char *prefix, bird_route_cb cb, void *arg)
{
	(void)prefix;
	return push(b, K_ROUTE, NULL, false, (void *)cb, arg);
}

static const struct sync_bird_ops fake_ops = {f_open,    f_close, f_enable,
                                              f_disable, f_show,  f_route};

/* BIRD f answers the oldest command (as a reply would arrive). */
static void answer_one_of(struct fake *f)
{
	assert_true(f->nq > 0);
	struct cmd c = f->q[0];
	memmove(f->q, f->q + 1, --f->nq * sizeof(f->q[0]));
	struct bird_reply r = {.status = BIRD_OK, .text = ""};
	int i = idx(f, c.name);

	if (c.kind == K_ENABLE || c.kind == K_DISABLE) {
		bool want = c.kind == K_ENABLE;
		if (i < 0 || !f->has[i]) {
			r.status = BIRD_NO_SUCH_PROTOCOL;
		} else if (f->refuse) {
			r.status = BIRD_ACCESS_DENIED;
		} else {
			r.changed = f->en[i] != want;
			f->en[i] = want;
			snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "%c%s ",
			         want ? '+' : '-', c.name);
		}
		((bird_done_cb)c.cb)(NULL, &r, c.arg);
	} else if (c.kind == K_SHOW) {
		struct bird_protocol p[8];
		size_t n = 0;
		for (size_t k = 0; k < f->n; k++) {
			if (!f->has[k] || (c.name[0] && (int)k != i))
				continue;
			memset(&p[n], 0, sizeof(p[n]));
			snprintf(p[n].name, sizeof(p[n].name), "%s", f->names[k]);
			snprintf(p[n].state, sizeof(p[n].state), "%s", f->en[k] ? "up" : "down");
			p[n].up = f->en[k];
			p[n].disabled = !f->en[k];
			if (c.all)
				snprintf(p[n].description, sizeof(p[n].description), "%s",
				         f->desc[k]);
			n++;
		}
		((bird_show_cb)c.cb)(NULL, &r, p, n, c.arg);
	} else {
		((bird_route_cb)c.cb)(NULL, &r, NULL, 0, c.arg);
	}
}

/* The main BIRD answers its oldest command. */
static void answer_one(void)
{
	answer_one_of(&fake);
}

static void answer_all(void)
{
	for (int guard = 0; fake.nq > 0; guard++) {
		assert_true(guard < 1000);
		answer_one();
	}
}

/* Both BIRDs answer until neither has a command left. */
static void answer_both(void)
{
	for (int guard = 0; fake.nq > 0 || other.nq > 0; guard++) {
		assert_true(guard < 1000);
		if (fake.nq > 0)
			answer_one_of(&fake);
		if (other.nq > 0)
			answer_one_of(&other);
	}
}

static void fake_protos(const char *const *names, size_t n)
{
	memset(&fake, 0, sizeof(fake));
	memset(&other, 0, sizeof(other));
	for (size_t i = 0; i < n; i++) {
		snprintf(fake.names[i], sizeof(fake.names[i]), "%s", names[i]);
		fake.has[i] = true;
	}
	fake.n = n;
}

/* ---- fixture: a configuration and a decision directory ------------------------------------ */

static char dir[64];

/* A configuration with one BIRD socket, or with a second one named "other". */
static struct agent_conf *load_sockets(bool two, const char *announcements)
{
	char *text, *err = NULL;
	struct agent_conf *conf;

	xasprintf(&text,
	          "bird: { sockets = ( { name = \"main\"; path = \"%s/bird.ctl\"; }%s );"
	          " state_dir = \"%s/run\"; };\n"
	          "checks: { c: { type = \"tcp\"; address = \"127.0.0.1:9\"; }; };\n"
	          "announcements: { %s };\n",
	          dir, two ? ", { name = \"other\"; path = \"/nonexistent\"; }" : "", dir,
	          announcements);
	conf = conf_load_string(text, "test.conf", NULL, &err);
	if (conf == NULL)
		fail_msg("%s", err);
	free(text);
	return conf;
}

static struct agent_conf *load(const char *announcements)
{
	return load_sockets(false, announcements);
}

#define WEB                                                                                        \
	"web: { protocols = [ \"p4\" ]; drain_protocols = [ \"p4_drain\" ]; degraded_protocols = " \
	"[ \"p4_deg\" ]; requires = [ \"c\" ]; };"

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/aa-reconcile.XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char *cmd;
	(void)state;
	xasprintf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return 0;
}

static char *file_of(const char *proto)
{
	char *path, *buf = xcalloc(1, 1024);
	FILE *f;

	xasprintf(&path, "%s/run/%s.conf", dir, proto);
	f = fopen(path, "r");
	if (f != NULL) {
		size_t n = fread(buf, 1, 1023, f);
		buf[n] = '\0';
		fclose(f);
	}
	free(path);
	return buf;
}

/* Whether the decision file of proto holds needle. */
static bool file_has(const char *proto, const char *needle)
{
	char *text = file_of(proto);
	bool has = strstr(text, needle) != NULL;

	free(text);
	return has;
}

/* The decision directory, before the agent's start creates it (to put a file there first). */
static void make_run_dir(void)
{
	char *run;

	xasprintf(&run, "%s/run", dir);
	mkdir(run, 0755);
	free(run);
}

static void write_file(const char *proto, const char *text)
{
	char *path;
	FILE *f;

	xasprintf(&path, "%s/run/%s.conf", dir, proto);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(path);
}

static struct sync *start(struct agent_conf *conf)
{
	struct sync *s = sync_new(conf, false, &fake_ops, NULL);
	sync_start(s);
	fake.cbs->connected(NULL, "BIRD 2.0.12", fake.cb_arg);
	answer_all();
	return s;
}

/* WEB's three variants wanted up (true) or down, applied: BIRD answers everything. */
static void want_web(struct sync *s, bool normal, bool drain, bool degraded)
{
	sync_want(s, "p4", normal ? SYNC_ENABLED : SYNC_DISABLED, normal ? NULL : "x");
	sync_want(s, "p4_drain", drain ? SYNC_ENABLED : SYNC_DISABLED, drain ? NULL : "x");
	sync_want(s, "p4_deg", degraded ? SYNC_ENABLED : SYNC_DISABLED, degraded ? NULL : "x");
	sync_kick(s);
	answer_all();
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_make_before_break_mid_cycle(void **state)
{
	static const char *const names[] = {"p4", "p4_drain", "p4_deg"};
	struct agent_conf *conf = load(WEB);
	(void)state;

	fake_protos(names, 3);
	struct sync *s = start(conf);
	want_web(s, true, false, false); /* announced: normal up */
	assert_true(fake.en[0]);
	fake.log[0] = '\0';

	/* degraded: the cycle's show is answered, the enable of p4_deg is on its way ... */
	sync_want(s, "p4", SYNC_DISABLED, "x");
	sync_want(s, "p4_deg", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_one(); /* show */
	/* ... when the operator drains: now the drain variant should carry it */
	sync_want(s, "p4_deg", SYNC_DISABLED, "x");
	sync_want(s, "p4_drain", SYNC_ENABLED, NULL);
	sync_kick(s);
	/* at every step BIRD carries the prefix with some variant */
	for (int guard = 0; fake.nq > 0; guard++) {
		assert_true(guard < 100);
		answer_one();
		assert_true(fake.en[0] || fake.en[1] || fake.en[2]);
	}
	assert_false(fake.en[0]);
	assert_true(fake.en[1]);
	assert_false(fake.en[2]);
	/* the drain variant was up before the normal one went down */
	char *plus = strstr(fake.log, "+p4_drain"), *minus = strstr(fake.log, "-p4 ");
	assert_non_null(plus);
	assert_non_null(minus);
	assert_true(plus < minus);
	sync_free(s);
	conf_free(conf);
}

/* A withdraw while two variants are up (a switch back to normal under way) takes the one
 * upstream prefers less down first: the route goes from normal to none, never back to degraded
 * on the way (an attribute change damping would count). */
static void test_withdraw_least_preferred_first(void **state)
{
	static const char *const names[] = {"p4", "p4_drain", "p4_deg"};
	struct agent_conf *conf = load(WEB);
	(void)state;

	fake_protos(names, 3);
	struct sync *s = start(conf);
	want_web(s, true, true, true);
	assert_true(fake.en[0] && fake.en[1] && fake.en[2]);
	fake.log[0] = '\0';

	sync_withdraw_all(s, "x");
	sync_kick(s);
	answer_all();
	assert_false(fake.en[0] || fake.en[1] || fake.en[2]);
	assert_string_equal(fake.log, "-p4_drain -p4_deg -p4 ");
	sync_free(s);
	conf_free(conf);
}

static void test_missing_variant(void **state)
{
	static const char *const names[] = {"p4", "p4_drain", "p4_deg"};
	struct agent_conf *conf = load(WEB);
	struct sync_proto_status ps;
	(void)state;

	fake_protos(names, 3);
	fake.has[2] = false; /* bird.conf lacks the degraded variant */
	struct sync *s = start(conf);
	sync_want(s, "p4", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	/* degraded: it cannot take over, so the normal one stays, reported out of sync */
	sync_want(s, "p4", SYNC_DISABLED, "x");
	sync_want(s, "p4_deg", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	sync_tick(s);
	answer_all();
	assert_true(fake.en[0]);
	sync_proto_status(s, 0, &ps);
	assert_false(ps.in_sync);
	/* a drain withdraws even without its variant */
	fake.has[1] = false;
	sync_want(s, "p4_deg", SYNC_DISABLED, "x");
	sync_want(s, "p4_drain", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	sync_tick(s);
	answer_all();
	assert_false(fake.en[0]);
	sync_free(s);
	conf_free(conf);
}

static void test_keep_follows_this_boot(void **state)
{
	static const char *const names[] = {"p4", "p4_drain", "p4_deg"};
	struct agent_conf *conf = load(WEB);
	(void)state;

	fake_protos(names, 3);
	/* BIRD carries normal and drain; this boot decided normal announced, drain withdrawn */
	fake.en[0] = fake.en[1] = true;
	make_run_dir();
	write_file("p4", "disabled no;\n");
	write_file("p4_drain", "disabled yes;\n");
	struct sync *s = start(conf);
	/* KEEP (adopting): keeps what the files announce, disables the rest, enables nothing */
	assert_true(fake.en[0]);
	assert_false(fake.en[1]);
	assert_false(fake.en[2]);
	assert_int_equal(sync_decision(s, "p4"), 1);
	assert_int_equal(sync_decision(s, "p4_deg"), 0); /* created withdrawn */
	sync_free(s);
	conf_free(conf);

	/* a reboot emptied the directory: everything BIRD still had is disabled */
	fake.en[0] = fake.en[1] = true;
	char *cmd;
	xasprintf(&cmd, "rm -f '%s'/run/*.conf", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	conf = load(WEB);
	s = start(conf);
	assert_false(fake.en[0] || fake.en[1] || fake.en[2]);
	sync_free(s);
	conf_free(conf);
}

static void test_orphans(void **state)
{
	static const char *const names[] = {"p4", "p6", "gone"};
	struct agent_conf *conf = load("a: { protocols = [ \"p4\" ]; requires = [ \"c\" ]; };"
	                               "b: { protocols = [ \"p6\" ]; requires = [ \"c\" ]; };");
	(void)state;

	fake_protos(names, 3);
	fake.en[2] = true;
	make_run_dir();
	write_file("gone", "disabled no;\n"); /* decided in this boot by an older config */
	struct sync *s = start(conf);
	/* a decision file for a protocol no longer configured: disabled, then forgotten */
	assert_false(fake.en[2]);
	sync_kick(s);
	answer_all();
	for (size_t i = 0; i < sync_nprotos(s); i++) {
		struct sync_proto_status ps;
		sync_proto_status(s, i, &ps);
		assert_string_not_equal(ps.name, "gone");
	}
	assert_true(file_has("gone", "disabled yes;"));
	/* b leaves the configuration while announced: withdrawn at once */
	sync_want(s, "p4", SYNC_ENABLED, NULL);
	sync_want(s, "p6", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	assert_true(fake.en[1]);
	struct agent_conf *conf2 = load("a: { protocols = [ \"p4\" ]; requires = [ \"c\" ]; };");
	sync_reload(s, conf2);
	answer_all();
	assert_false(fake.en[1]);
	assert_true(fake.en[0]);
	assert_true(file_has("p6", "disabled yes;"));
	sync_free(s);
	conf_free(conf);
	conf_free(conf2);
}

/* An orphan is looked for on every socket (a decision file does not say which). One that a hung
 * BIRD cannot confirm gone leaves the file to the protocol once the configuration names it again:
 * the two must not take turns writing it (BIRD would read whichever wrote last). */
static void test_orphan_leaves_file_to_configured(void **state)
{
	static const char *const names[] = {"p4", "back"};
	struct agent_conf *conf =
	    load_sockets(true, "a: { protocols = [ \"p4\" ]; requires = [ \"c\" ]; };");
	struct agent_conf *conf2 =
	    load_sockets(true, "a: { protocols = [ \"p4\", \"back\" ]; requires = [ \"c\" ]; };");
	(void)state;

	fake_protos(names, 2);
	make_run_dir();
	write_file("back", "disabled yes;\n");
	struct sync *s = start(conf);
	sync_kick(s);
	answer_all(); /* main forgets its orphan "back"; other, hung, cannot */
	sync_reload(s, conf2);
	answer_all();
	sync_want(s, "p4", SYNC_ENABLED, NULL);
	sync_want(s, "back", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	assert_true(fake.en[1]);
	for (int tick = 0; tick < 3; tick++) {
		sync_tick(s);
		answer_all();
		assert_true(file_has("back", "disabled no;"));
	}
	assert_true(fake.en[1]);
	sync_free(s);
	conf_free(conf);
	conf_free(conf2);
}

/* A protocol the configuration moves to another BIRD is disabled in the one it left: nothing
 * would decide for it there any more. */
static void test_moved_to_other_socket(void **state)
{
	static const char *const names[] = {"x"};
	struct agent_conf *conf =
	    load_sockets(true, "a: { protocols = [ \"x\" ]; requires = [ \"c\" ]; };");
	struct agent_conf *conf2 =
	    load_sockets(true, "a: { protocols = [ \"other:x\" ]; requires = [ \"c\" ]; };");
	(void)state;

	fake_protos(names, 1);
	snprintf(other.names[0], sizeof(other.names[0]), "x");
	other.has[0] = true;
	other.n = 1;
	struct sync *s = start(conf);
	other.cbs->connected(NULL, "BIRD 2.0.12", other.cb_arg);
	sync_want(s, "x", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_both();
	assert_true(fake.en[0]);
	assert_false(other.en[0]);
	sync_reload(s, conf2);
	answer_both();
	assert_true(other.en[0]);
	assert_false(fake.en[0]);
	assert_true(file_has("x", "disabled no;"));
	sync_tick(s);
	answer_both();
	assert_true(file_has("x", "disabled no;"));
	size_t n = 0;
	for (size_t i = 0; i < sync_nprotos(s); i++) {
		struct sync_proto_status ps;
		sync_proto_status(s, i, &ps);
		n += strcmp(ps.name, "x") == 0;
	}
	assert_int_equal(n, 1); /* the one left behind was forgotten once disabled */
	sync_free(s);
	conf_free(conf);
	conf_free(conf2);
}

static void test_files_restored_and_include(void **state)
{
	static const char *const names[] = {"p4"};
	struct agent_conf *conf = load("a: { protocols = [ \"p4\" ]; requires = [ \"c\" ]; };");
	struct sync_proto_status ps;
	char want[200];
	(void)state;

	fake_protos(names, 1);
	struct sync *s = start(conf);
	sync_want(s, "p4", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	/* removed, then spoiled: written again at the next tick */
	char *path;
	xasprintf(&path, "%s/run/p4.conf", dir);
	unlink(path);
	sync_tick(s);
	answer_all();
	assert_true(file_has("p4", "disabled no;"));
	write_file("p4", "disabled no;\nprotocol evil {}\n");
	sync_tick(s);
	answer_all();
	assert_false(file_has("p4", "evil"));
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(path);
	/* include check: no description, another one, this file's */
	sync_proto_status(s, 0, &ps);
	assert_int_equal(ps.include, SYNC_INCLUDE_MISSING);
	snprintf(fake.desc[0], sizeof(fake.desc[0]), "someone else's");
	sync_tick(s);
	answer_all();
	sync_proto_status(s, 0, &ps);
	assert_int_equal(ps.include, SYNC_INCLUDE_OTHER);
	sync_decision_description(want, sizeof(want), conf->bird.state_dir, "p4");
	snprintf(fake.desc[0], sizeof(fake.desc[0]), "%s", want);
	sync_tick(s);
	answer_all();
	sync_proto_status(s, 0, &ps);
	assert_int_equal(ps.include, SYNC_INCLUDE_OK);
	sync_free(s);
	conf_free(conf);
}

static void test_refused_retried(void **state)
{
	static const char *const names[] = {"p4"};
	struct agent_conf *conf = load("a: { protocols = [ \"p4\" ]; requires = [ \"c\" ]; };");
	(void)state;

	fake_protos(names, 1);
	struct sync *s = start(conf);
	fake.refuse = true;
	sync_want(s, "p4", SYNC_ENABLED, NULL);
	sync_kick(s);
	answer_all();
	assert_false(fake.en[0]);
	fake.refuse = false;
	sync_tick(s);
	answer_all();
	assert_true(fake.en[0]);
	sync_free(s);
	conf_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_make_before_break_mid_cycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_withdraw_least_preferred_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_variant, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_follows_this_boot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphans, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphan_leaves_file_to_configured, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_moved_to_other_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_files_restored_and_include, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_retried, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
