/* SPDX-License-Identifier: ISC */
/*
 * tools.c - anycast-agent's one-shot modes (see tools.h): --init, --check-bird,
 * --withdraw-all.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "log.h"
#include "sync.h"
#include "tools.h"
#include "util.h"

/* How long a one-shot mode waits for BIRD (as the daemon's stop does). */
#define TOOLS_BIRD_TIMEOUT(conf) (3 * (conf)->bird.timeout + 1.0)

/* ---- --init -------------------------------------------------------------------------------- */

/* Create dir and its missing parents (0755 whatever the umask), the last one owned as asked. */
static int make_dir(const char *dir, bool own, uid_t uid, gid_t gid, FILE *out)
{
	char *copy = xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0755) == 0) {
			fprintf(out, "created directory %s\n", copy);
			if (chmod(copy, 0755) < 0)
				rc = -1;
		} else if (errno != EEXIST) {
			fprintf(out, "cannot create directory %s: %s\n", copy, strerror(errno));
			rc = -1;
		}
		*p = c;
		if (c == '\0' || rc < 0)
			break;
	}
	if (rc == 0 && own && chown(dir, uid, gid) < 0) {
		fprintf(out, "cannot give %s to the agent's user: %s\n", dir, strerror(errno));
		rc = -1;
	}
	free(copy);
	return rc;
}

int tools_init_decisions(const struct agent_conf *conf, FILE *out)
{
	const char *dir = conf->bird.state_dir;
	bool own = false;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = 0;
	size_t created = 0, kept = 0;

	if (geteuid() == 0 && conf->user != NULL) {
		struct passwd *pw = getpwnam(conf->user);
		if (pw == NULL) {
			fprintf(out, "user \"%s\" does not exist: files stay root's\n", conf->user);
		} else {
			own = true;
			uid = pw->pw_uid;
			gid = pw->pw_gid;
		}
	}
	if (make_dir(dir, own, uid, gid, out) < 0)
		return 1;
	for (size_t i = 0; i < conf->nannouncements; i++) {
		for (int role = 0; role < PROTO__ROLES; role++) {
			const struct proto_list *l =
			    conf_role_protocols(&conf->announcements[i], role);
			for (size_t k = 0; k < l->n; k++) {
				char *path, *text;

				xasprintf(&path, "%s/%s.conf", dir, l->v[k].name);
				if (access(path, F_OK) == 0) {
					kept++;
					free(path);
					continue;
				}
				text = sync_decision_text(dir, l->v[k].name, false);
				if (atomic_write_file(path, text, strlen(text), 0644) < 0 ||
				    (own && chown(path, uid, gid) < 0)) {
					fprintf(out, "cannot create %s: %s\n", path,
					        strerror(errno));
					rc = 1;
				} else {
					fprintf(out, "created %s: withdrawn (disabled yes;)\n",
					        path);
					created++;
				}
				free(text);
				free(path);
			}
		}
	}
	if (sync_write_sockets_file(conf) < 0)
		rc = 1;
	fprintf(out, "%zu decision file(s) created, %zu already there (left as they are)\n",
	        created, kept);
	return rc;
}

/* ---- --check-bird ---------------------------------------------------------------------------- */

struct check_ctx {
	struct sync *sync;
	const struct agent_conf *conf;
	uv_timer_t poll;
	double waited, limit;
	bool done;
};

/* Every socket answered and every protocol's include was asked (or BIRD lacks it). */
static bool all_known(const struct check_ctx *cx)
{
	for (size_t i = 0; i < cx->conf->bird.nsockets; i++)
		if (!sync_connected(cx->sync, i))
			return false;
	for (size_t i = 0; i < sync_nprotos(cx->sync); i++) {
		struct sync_proto_status ps;
		sync_proto_status(cx->sync, i, &ps);
		if (ps.orphan || ps.actual == SYNC_ACTUAL_MISSING)
			continue;
		if (ps.actual == SYNC_ACTUAL_UNKNOWN || ps.include == SYNC_INCLUDE_UNKNOWN)
			return false;
	}
	return true;
}

static void poll_cb(uv_timer_t *t)
{
	struct check_ctx *cx = t->data;

	cx->waited += 0.05;
	if (all_known(cx) || cx->waited >= cx->limit) {
		cx->done = true;
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, NULL);
	}
}

int tools_check_bird(const struct agent_conf *conf, FILE *out)
{
	uv_loop_t loop;
	struct check_ctx cx = {.conf = conf, .limit = TOOLS_BIRD_TIMEOUT(conf)};
	int rc = 0;

	uv_loop_init(&loop);
	/* a dry run: nothing is written, only `show` commands go to BIRD */
	cx.sync = sync_new(conf, true, &sync_bird_client_ops, &loop);
	sync_start(cx.sync);
	uv_timer_init(&loop, &cx.poll);
	cx.poll.data = &cx;
	uv_timer_start(&cx.poll, poll_cb, 50, 50);
	while (!cx.done)
		uv_run(&loop, UV_RUN_ONCE);
	for (size_t i = 0; i < conf->bird.nsockets; i++)
		if (!sync_connected(cx.sync, i)) {
			fprintf(out, "BIRD socket %s (%s): not reachable within %.1f s\n",
			        conf->bird.sockets[i].name, conf->bird.sockets[i].path, cx.limit);
			rc = 2;
		}
	fprintf(out, "%-24s %-10s %-8s %s\n", "PROTOCOL", "SOCKET", "BIRD", "DECISION FILE");
	for (size_t i = 0; i < sync_nprotos(cx.sync); i++) {
		struct sync_proto_status ps;
		char want[512];
		const char *verdict;

		sync_proto_status(cx.sync, i, &ps);
		if (ps.orphan)
			continue;
		sync_decision_description(want, sizeof(want), conf->bird.state_dir, ps.name);
		if (ps.actual == SYNC_ACTUAL_MISSING) {
			verdict = "BIRD has no such protocol: add it (anycast-agent --print-bird)";
		} else if (ps.actual == SYNC_ACTUAL_UNKNOWN) {
			verdict = "unknown (BIRD did not answer)";
		} else if (ps.include == SYNC_INCLUDE_OK) {
			verdict = "included";
		} else if (ps.include == SYNC_INCLUDE_MISSING) {
			verdict =
			    "NOT INCLUDED: BIRD shows no description; include the decision file "
			    "inside the protocol (anycast-agent --print-bird), then birdc "
			    "configure";
		} else if (ps.include == SYNC_INCLUDE_OTHER) {
			verdict = "NOT INCLUDED: BIRD shows another description (another file, or "
			          "one set in bird.conf)";
		} else {
			verdict = "unknown (BIRD did not answer)";
		}
		if (ps.actual == SYNC_ACTUAL_MISSING ||
		    (ps.actual != SYNC_ACTUAL_UNKNOWN && ps.include != SYNC_INCLUDE_OK)) {
			if (rc == 0)
				rc = 1;
		} else if (ps.actual == SYNC_ACTUAL_UNKNOWN || ps.include == SYNC_INCLUDE_UNKNOWN) {
			rc = 2;
		}
		fprintf(out, "%-24s %-10s %-8s %s\n", ps.name, ps.socket,
		        ps.actual == SYNC_ACTUAL_MISSING ? "missing"
		        : ps.actual == SYNC_ACTUAL_UNKNOWN
		            ? "?"
		            : (ps.bird_state[0] ? ps.bird_state : "?"),
		        verdict);
		if (ps.include == SYNC_INCLUDE_OTHER)
			fprintf(out, "%-24s %-10s %-8s   BIRD shows \"%s\", expected \"%s\"\n", "",
			        "", "", ps.bird_description, want);
	}
	sync_free(cx.sync);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	fprintf(out, "%s\n",
	        rc == 0   ? "BIRD has every protocol and includes every decision file"
	        : rc == 1 ? "problems above: fix bird.conf before relying on the agent"
	                  : "BIRD could not be asked about everything");
	return rc;
}

/* ---- --withdraw-all ----------------------------------------------------------------------------
 */

struct withdraw_ctx {
	struct sync *sync;
	uv_timer_t timer;
	int rc;
};

static void withdraw_done(bool ok, void *arg)
{
	struct withdraw_ctx *w = arg;

	w->rc = ok ? 0 : 1;
	if (ok)
		log_notice("every protocol of every announcement is disabled, confirmed by BIRD");
	else
		log_warnx("BIRD did not confirm every disable in time; the decision files say "
		          "disabled");
	uv_close((uv_handle_t *)&w->timer, NULL);
	sync_free(w->sync);
	w->sync = NULL;
}

static void withdraw_timeout(uv_timer_t *t)
{
	struct withdraw_ctx *w = t->data;

	sync_flush_cancel(w->sync);
}

int tools_withdraw_all(const struct agent_conf *conf)
{
	uv_loop_t loop;
	struct withdraw_ctx w = {NULL, {0}, 1};

	uv_loop_init(&loop);
	uv_timer_init(&loop, &w.timer);
	w.timer.data = &w;
	w.sync = sync_new(conf, false, &sync_bird_client_ops, &loop);
	sync_start(w.sync);
	sync_withdraw_all(w.sync, "withdrawn: anycast-agent is not running");
	uv_timer_start(&w.timer, withdraw_timeout, (uint64_t)(TOOLS_BIRD_TIMEOUT(conf) * 1000.0),
	               0);
	sync_flush(w.sync, withdraw_done, &w);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return w.rc;
}

int tools_withdraw_recorded(const char *state_dir)
{
	struct conf_overrides ov = {.state_dir = state_dir};
	struct agent_conf *conf;
	char *path, *errors = NULL;
	int rc;

	xasprintf(&path, "%s/%s", state_dir, SYNC_SOCKETS_FILE);
	conf = conf_load(path, &ov, &errors);
	if (conf == NULL) {
		log_warnx(
		    "cannot withdraw without a configuration: %s does not load either (no agent "
		    "ran in this boot?):\n%s",
		    path, errors);
		free(errors);
		free(path);
		return 1;
	}
	log_warnx("withdrawing every protocol whose decision file is in %s, through the BIRD "
	          "sockets of %s",
	          state_dir, path);
	rc = tools_withdraw_all(conf);
	conf_free(conf);
	free(path);
	return rc;
}
