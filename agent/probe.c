/* SPDX-License-Identifier: ISC */
/*
 * probe.c - `anycast-agent --probe`: run configured checks once,
 * concurrently, on a private libuv loop, and print one line per check.
 * It touches neither BIRD nor the engine: an operator can test a config
 * on a live PoP without changing what is announced.
 */
#include <config.h>

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "exec_helper.h"
#include "priv.h"
#include "probe.h"
#include "result.h"
#include "util.h"
#include "watch.h"

struct probe_slot {
	const struct check_conf *conf;
	struct check_run *run;
	struct check_report rep;
	bool selected, done;
};

/* conf.h's check_type_name() belongs to config.c; probe keeps its own
 * four labels so it does not depend on the loader being linked. */
static const char *type_label(enum check_type t)
{
	static const char *const names[CHECK__TYPES] = {"http", "dns", "tcp", "exec"};

	return (unsigned)t < CHECK__TYPES ? names[t] : "?";
}

static void probe_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct probe_slot *slot = arg;

	slot->rep = *rep;
	slot->done = true;
}

/* Mark the selected checks; returns the number of unknown names. */
static size_t select_checks(const struct agent_conf *conf, char **names, size_t nnames,
                            struct probe_slot *slots)
{
	size_t unknown = 0;

	for (size_t i = 0; i < conf->nchecks; i++) {
		slots[i].conf = &conf->checks[i];
		slots[i].selected = nnames == 0;
	}
	for (size_t n = 0; n < nnames; n++) {
		bool found = false;

		for (size_t i = 0; i < conf->nchecks; i++) {
			if (strcmp(conf->checks[i].name, names[n]) == 0) {
				slots[i].selected = true;
				found = true;
			}
		}
		if (!found) {
			fprintf(stderr, "anycast-agent: --probe: no check named \"%s\" in %s\n",
			        names[n], conf->path ? conf->path : "the configuration");
			unknown++;
		}
	}
	if (unknown > 0) {
		fprintf(stderr, "anycast-agent: --probe: the checks are:");
		for (size_t i = 0; i < conf->nchecks; i++)
			fprintf(stderr, " %s", conf->checks[i].name);
		fprintf(stderr, "%s\n", conf->nchecks ? "" : " (none)");
	}
	return unknown;
}

/* The bound of a watch_unit's one bus call. */
#define PROBE_BUS_TIMEOUT 2.0

/* One line per death watch under its check's line: what the running agent would see now.
 * Returns false if one is dead (the agent would fail the check at once). */
static bool print_watch(FILE *out, int namew, enum watch_kind kind, const char *target,
                        const struct listen_ref *l)
{
	char detail[256], shown[128];
	enum watch_state st =
	    watch_probe(kind, target, l, PROBE_BUS_TIMEOUT, detail, sizeof(detail));

	if (kind == WATCH_LISTEN)
		snprintf(shown, sizeof(shown), "%s:%s%s%s:%u",
		         l->proto == IPPROTO_UDP ? "udp" : "tcp",
		         l->addr.family == AF_INET6 ? "[" : "", l->addr.host,
		         l->addr.family == AF_INET6 ? "]" : "", l->addr.port);
	else
		snprintf(shown, sizeof(shown), "%s", target);
	fprintf(out, "%-*s  %s %s: %s (%s)\n", namew, "", watch_key(kind), shown,
	        watch_state_name(st), detail);
	return st != WATCH_DEAD;
}

static bool print_watches(FILE *out, const struct check_conf *c, int namew)
{
	const struct watch_conf *w = &c->watch;
	bool ok = true;

	if (w->pidfile)
		ok &= print_watch(out, namew, WATCH_PIDFILE, w->pidfile, NULL);
	if (w->unit)
		ok &= print_watch(out, namew, WATCH_UNIT, w->unit, NULL);
	for (size_t i = 0; i < w->nlisten; i++)
		ok &= print_watch(out, namew, WATCH_LISTEN, NULL, &w->listen[i]);
	return ok;
}

static void print_line(FILE *out, const struct probe_slot *slot, int namew, int resw)
{
	const struct check_report *rep = &slot->rep;
	char ms[32];

	if (rep->duration >= 0)
		snprintf(ms, sizeof(ms), "%.1f", rep->duration * 1000.0);
	else
		snprintf(ms, sizeof(ms), "-");
	fprintf(out, "%-*s  %-4s  %-*s  %8s ms  %s\n", namew, slot->conf->name,
	        type_label(slot->conf->type), resw, result_name(rep->code), ms, rep->detail);
}

/*
 * Plugins as the agent would run them: started as root, through an exec helper as exec_user
 * (or its default with user set); otherwise as whoever runs --probe. 0, or -1 after saying
 * why (exec_user that cannot be honoured).
 */
static int probe_helper(uv_loop_t *loop, const struct agent_conf *conf,
                        const struct probe_slot *slots, struct exec_helper **h)
{
	struct priv_plan plan;
	struct exec_helper_facts facts;
	char *err = NULL;
	bool any = false;
	int rc = 0;

	*h = NULL;
	for (size_t i = 0; i < conf->nchecks; i++)
		any |= slots[i].selected && slots[i].conf->type == CHECK_EXEC;
	if (!any)
		return 0;
	if (priv_plan(conf->user, conf->exec_user, geteuid(), &plan, &err) < 0) {
		fprintf(stderr, "anycast-agent: --probe: %s\n", err);
		free(err);
		return -1;
	}
	if (plan.exec.helper) {
		*h = exec_helper_spawn(loop, "/proc/self/exe", plan.exec.name, true, plan.exec.uid,
		                       plan.exec.gid, &err);
		if (*h == NULL || exec_helper_ready(*h, NULL, 0, &facts, &err) < 0) {
			fprintf(stderr, "anycast-agent: --probe: %s\n", err);
			free(err);
			rc = -1;
		} else {
			exec_helper_facts_free(&facts);
		}
	}
	priv_plan_free(&plan);
	return rc;
}

int probe_run(const struct agent_conf *conf, char **names, size_t nnames, FILE *out)
{
	struct probe_slot *slots = xcalloc(conf->nchecks, sizeof(*slots));
	struct check_env *env;
	uv_loop_t loop;
	int namew = 4, resw = 2, rc = PROBE_PASS;

	if (select_checks(conf, names, nnames, slots) > 0) {
		free(slots);
		return PROBE_USAGE;
	}
	if (uv_loop_init(&loop) != 0) {
		fprintf(stderr, "anycast-agent: --probe: cannot create an event loop\n");
		free(slots);
		return PROBE_FAIL;
	}
	env = check_env_new(&loop);
	if (probe_helper(&loop, conf, slots, &env->exec_helper) < 0) {
		exec_helper_close(env->exec_helper);
		check_env_free(env);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		free(slots);
		return PROBE_USAGE;
	}
	for (size_t i = 0; i < conf->nchecks; i++) {
		if (!slots[i].selected)
			continue;
		slots[i].run = check_run_new(env, slots[i].conf, probe_done, &slots[i]);
		check_run_start(slots[i].run);
	}
	/* every run ends by its timeout at the latest, so this returns */
	uv_run(&loop, UV_RUN_DEFAULT);

	for (size_t i = 0; i < conf->nchecks; i++) {
		if (!slots[i].selected)
			continue;
		if (!slots[i].done) {
			slots[i].rep.code = RES_INTERNAL_ERROR;
			slots[i].rep.duration = -1;
			snprintf(slots[i].rep.detail, sizeof(slots[i].rep.detail),
			         "the run ended without a result");
		}
		if ((int)strlen(slots[i].conf->name) > namew)
			namew = (int)strlen(slots[i].conf->name);
		if ((int)strlen(result_name(slots[i].rep.code)) > resw)
			resw = (int)strlen(result_name(slots[i].rep.code));
	}
	for (size_t i = 0; i < conf->nchecks; i++) {
		if (!slots[i].selected)
			continue;
		print_line(out, &slots[i], namew, resw);
		if (result_class(slots[i].rep.code) == RESULT_FAIL)
			rc = PROBE_FAIL;
		if (!print_watches(out, slots[i].conf, namew))
			rc = PROBE_FAIL;
		check_run_free(slots[i].run);
	}
	fflush(out);

	exec_helper_close(env->exec_helper);
	check_env_free(env);
	/* let libuv run the close callbacks, then the loop is empty */
	uv_run(&loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&loop) != 0)
		fprintf(stderr, "anycast-agent: --probe: the event loop still had open handles\n");
	free(slots);
	return rc;
}
