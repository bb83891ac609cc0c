/*
 * sync.c - keeps BIRD's real state equal to the engine's decision (see
 * sync.h). One reconcile cycle per socket at a time:
 *   show protocols -> enables for what should be up -> disables for what
 *   should be down -> (if anything changed) show again to confirm.
 * Enables go first so that switching variants never leaves a gap.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bird.h"
#include "log.h"
#include "sync.h"
#include "util.h"

struct sync_proto {
	char *name;
	size_t socket;
	enum sync_want want;
	char message[BIRD_MSG_MAX + 1];
	enum sync_actual actual;
	char bird_state[16];
	bool confirmed;   /* BIRD was seen as wanted since want was last set */
	int file_state;   /* -1 unknown, 0 `disabled yes;`, 1 `disabled no;` */
	bool file_failed; /* the last write failed: retried every reconcile_interval */
	bool dry_logged;
	unsigned long corrections;
};

struct sync_socket {
	struct sync *s;
	size_t idx;
	char *name;
	struct bird_client *bc;
	bool connected;
	bool busy;      /* a cycle is under way */
	bool again;     /* another cycle was asked for meanwhile */
	size_t pending; /* commands of the current phase still unanswered */
	bool changed;   /* this cycle changed something in BIRD */
	bool failed;    /* a command of this cycle failed */
	bool seen;      /* a show of this socket succeeded since the last change of want */
};

struct sync {
	uv_loop_t *loop;
	const struct agent_conf *conf;
	bool dry_run;
	struct sync_proto *protos;
	size_t nprotos;
	struct sync_socket *socks;
	size_t nsocks;
	uv_timer_t reconcile;
	uv_timer_t flush_timer;
	void (*flush_cb)(bool ok, void *arg);
	void *flush_arg;
	unsigned long corrections, command_errors, file_errors;
	int timers_closed; /* sync_free: the struct goes when both timers are closed */
	/* last-site guard */
	sync_paths_fn paths_fn;
	void *paths_arg;
	unsigned generation;     /* bumped by reload: rounds of an older config report nothing */
	bool *guard_busy;        /* per announcement: a round is under way */
	signed char *guard_seen; /* per announcement: last report, -1 none, 0 no other path, 1 */
	size_t nguard;
};

static void cycle_start(struct sync_socket *ss);

const char *sync_want_name(enum sync_want w)
{
	static const char *const n[] = {"untouched", "enabled", "disabled"};
	return (unsigned)w < ARRAY_SIZE(n) ? n[w] : "?";
}

const char *sync_actual_name(enum sync_actual a)
{
	static const char *const n[] = {"unknown", "enabled", "disabled", "missing"};
	return (unsigned)a < ARRAY_SIZE(n) ? n[a] : "?";
}

static struct sync_proto *find_proto(struct sync *s, const char *name)
{
	for (size_t i = 0; i < s->nprotos; i++)
		if (strcmp(s->protos[i].name, name) == 0)
			return &s->protos[i];
	return NULL;
}

/* ---- durable state files -------------------------------------------------------------- */

static char *state_path(const struct sync *s, const char *name)
{
	char *p;
	xasprintf(&p, "%s/%s.conf", s->conf->bird.state_dir, name);
	return p;
}

/* What the file says: 0 `disabled yes;`, 1 `disabled no;`, -1 anything else, -2 missing. */
static int state_file_read(const struct sync *s, const char *name)
{
	char *path = state_path(s, name), buf[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;
	ssize_t n;

	free(path);
	if (fd < 0)
		return errno == ENOENT ? -2 : -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		if (strcmp(line, "disabled yes;") == 0)
			r = 0;
		else if (strcmp(line, "disabled no;") == 0)
			r = 1;
		else
			return -1;
	}
	return r;
}

static int state_file_write(struct sync *s, struct sync_proto *p, int enabled)
{
	char *path, *text;
	int rc;

	if (p->file_state == enabled)
		return 0;
	path = state_path(s, p->name);
	xasprintf(&text,
	          "# anycast-agent's decision for BIRD protocol %s; included by bird.conf.\n"
	          "# Written by the agent: edits are overwritten. %s\n"
	          "disabled %s;\n",
	          p->name, enabled ? "" : "Fail closed: disabled until checks pass.",
	          enabled ? "no" : "yes");
	rc = atomic_write_file(path, text, strlen(text), 0644);
	if (rc < 0) {
		s->file_errors++;
		/* retried every reconcile: warn once, not every interval */
		if (!p->file_failed)
			log_warn("cannot write %s (BIRD would forget this decision on configure or "
			         "restart; free space or fix permissions: retrying)",
			         path);
		else
			log_debug(LOG_SUB_BIRD, "cannot write %s again: %s", path, strerror(errno));
		p->file_state = -1;
		p->file_failed = true;
	} else {
		if (p->file_failed)
			log_notice("%s written again", path);
		p->file_state = enabled;
		p->file_failed = false;
	}
	free(text);
	free(path);
	return rc;
}

/* ---- reconcile cycle --------------------------------------------------------------------- */

static void cycle_done(struct sync_socket *ss);

static void flush_check(struct sync *s)
{
	struct sync_status st;
	void (*cb)(bool, void *) = s->flush_cb;

	if (cb == NULL)
		return;
	for (size_t i = 0; i < s->nsocks; i++)
		if (!s->socks[i].seen || s->socks[i].busy)
			return;
	sync_status(s, &st);
	if (!st.in_sync)
		return;
	s->flush_cb = NULL;
	uv_timer_stop(&s->flush_timer);
	cb(true, s->flush_arg);
}

static void command_done(struct bird_client *bc, const struct bird_reply *r, void *arg);

struct cmd_ctx {
	struct sync_socket *ss;
	char *name;
	bool enable;
};

static void send_command(struct sync_socket *ss, struct sync_proto *p, bool enable)
{
	struct sync *s = ss->s;
	struct cmd_ctx *cx;
	enum bird_status st;

	if (s->dry_run) {
		if (!p->dry_logged)
			log_notice("dry run: would %s BIRD protocol %s%s%s",
			           enable ? "enable" : "disable", p->name,
			           p->message[0] && !enable ? ": " : "", enable ? "" : p->message);
		p->dry_logged = true;
		return;
	}
	cx = xcalloc(1, sizeof(*cx));
	cx->ss = ss;
	cx->name = xstrdup(p->name);
	cx->enable = enable;
	st = enable ? bird_enable(ss->bc, p->name, NULL, command_done, cx)
	            : bird_disable(ss->bc, p->name, p->message, command_done, cx);
	if (st != BIRD_OK) {
		log_warnx("BIRD %s: cannot queue %s %s: %s", ss->name,
		          enable ? "enable" : "disable", p->name, bird_status_name(st));
		s->command_errors++;
		ss->failed = true;
		free(cx->name);
		free(cx);
		return;
	}
	ss->pending++;
}

/* Send the commands of one phase (enables, or disables) for this socket's protocols. */
static void run_phase(struct sync_socket *ss, bool enables)
{
	struct sync *s = ss->s;

	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];
		enum sync_want w = enables ? SYNC_ENABLED : SYNC_DISABLED;

		if (p->socket != ss->idx || p->want != w || p->actual == SYNC_ACTUAL_MISSING)
			continue;
		if (p->actual == (enables ? SYNC_ACTUAL_ENABLED : SYNC_ACTUAL_DISABLED))
			continue;
		send_command(ss, p, enables);
	}
}

static void phase_next(struct sync_socket *ss, bool after_enables)
{
	if (after_enables) {
		run_phase(ss, false);
		if (ss->pending > 0)
			return;
	}
	cycle_done(ss);
}

static void command_done(struct bird_client *bc, const struct bird_reply *r, void *arg)
{
	struct cmd_ctx *cx = arg;
	struct sync_socket *ss = cx->ss;
	struct sync *s = ss->s;
	struct sync_proto *p = find_proto(s, cx->name);
	bool was_enable = cx->enable;

	if (r->status == BIRD_OK) {
		if (p != NULL) {
			p->actual = was_enable ? SYNC_ACTUAL_ENABLED : SYNC_ACTUAL_DISABLED;
			if (r->changed)
				log_notice("BIRD %s: %s %s (%.1f ms)", ss->name,
				           was_enable ? "enabled" : "disabled", cx->name,
				           r->latency * 1e3);
		}
		if (r->changed)
			ss->changed = true;
	} else {
		s->command_errors++;
		ss->failed = true;
		log_warnx("BIRD %s: %s %s failed: %s%s%s", ss->name,
		          was_enable ? "enable" : "disable", cx->name, bird_status_name(r->status),
		          r->text[0] ? ": " : "", r->text);
		if (r->status == BIRD_NO_SUCH_PROTOCOL && p != NULL)
			p->actual = SYNC_ACTUAL_MISSING;
	}
	free(cx->name);
	free(cx);
	if (--ss->pending > 0)
		return;
	/* all commands of a phase are of one kind: the last enable ends the enable phase */
	phase_next(ss, was_enable);
}

static void show_done(struct bird_client *bc, const struct bird_reply *r,
                      const struct bird_protocol *protos, size_t n, void *arg)
{
	struct sync_socket *ss = arg;
	struct sync *s = ss->s;

	if (r->status != BIRD_OK) {
		log_debug(LOG_SUB_BIRD, "BIRD %s: show protocols failed: %s %s", ss->name,
		          bird_status_name(r->status), r->text);
		ss->failed = true;
		cycle_done(ss);
		return;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];
		const struct bird_protocol *bp = NULL;
		bool match;

		if (p->socket != ss->idx)
			continue;
		for (size_t j = 0; j < n && bp == NULL; j++)
			if (strcmp(protos[j].name, p->name) == 0)
				bp = &protos[j];
		if (bp == NULL) {
			if (p->actual != SYNC_ACTUAL_MISSING)
				log_warnx("BIRD %s has no protocol %s: add it to bird.conf (see "
				          "bird-snippets/)",
				          ss->name, p->name);
			p->actual = SYNC_ACTUAL_MISSING;
			p->bird_state[0] = '\0';
			continue;
		}
		snprintf(p->bird_state, sizeof(p->bird_state), "%s", bp->state);
		/* stop/flush: BIRD is taking it down */
		p->actual =
		    bp->disabled || bp->settling ? SYNC_ACTUAL_DISABLED : SYNC_ACTUAL_ENABLED;
		if (p->want == SYNC_UNTOUCHED)
			continue;
		match = (p->want == SYNC_ENABLED) == (p->actual == SYNC_ACTUAL_ENABLED);
		if (match) {
			p->confirmed = true;
		} else if (p->confirmed) {
			/* BIRD changed under us: birdc, a configure without the state file, ... */
			p->confirmed = false;
			p->corrections++;
			s->corrections++;
			log_warnx("BIRD %s drifted: protocol %s is %s but the agent decided %s; "
			          "correcting (correction #%lu)",
			          ss->name, p->name, sync_actual_name(p->actual),
			          sync_want_name(p->want), s->corrections);
		}
	}
	ss->seen = true;
	run_phase(ss, true);
	if (ss->pending == 0)
		phase_next(ss, true);
}

static void cycle_done(struct sync_socket *ss)
{
	bool again = ss->again || (ss->changed && !ss->failed);

	ss->busy = false;
	ss->again = false;
	if (again && ss->connected) {
		/* confirm what we changed (or serve a request that came meanwhile) */
		cycle_start(ss);
		return;
	}
	flush_check(ss->s);
}

static void cycle_start(struct sync_socket *ss)
{
	if (!ss->connected)
		return;
	if (ss->busy) {
		ss->again = true;
		return;
	}
	ss->busy = true;
	ss->changed = false;
	ss->failed = false;
	ss->pending = 0;
	if (bird_show_protocols(ss->bc, NULL, false, show_done, ss) != BIRD_OK)
		ss->busy = false;
}

static void on_connected(struct bird_client *bc, const char *version, void *arg)
{
	struct sync_socket *ss = arg;

	ss->connected = true;
	log_notice("BIRD %s: connected (%s)", ss->name, version);
	cycle_start(ss);
}

static void on_disconnected(struct bird_client *bc, const char *reason, void *arg)
{
	struct sync_socket *ss = arg;
	struct sync *s = ss->s;

	ss->connected = false;
	ss->busy = false;
	ss->seen = false;
	for (size_t i = 0; i < s->nprotos; i++)
		if (s->protos[i].socket == ss->idx)
			s->protos[i].actual = SYNC_ACTUAL_UNKNOWN;
	log_warnx("BIRD %s: connection lost (%s); keeping the decision, reconnecting", ss->name,
	          reason);
}

/* A decision whose state file could not be written (full disk) is written once it can be. */
static void retry_state_files(struct sync *s)
{
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];

		if (p->file_failed && p->want != SYNC_UNTOUCHED && !s->dry_run)
			state_file_write(s, p, p->want == SYNC_ENABLED);
	}
}

/* ---- last-site guard ----------------------------------------------------------------------- */

static bool proto_list_has(const struct proto_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return true;
	return false;
}

bool sync_route_is_other_path(const struct agent_conf *conf, const struct bird_route *r)
{
	static const char *const local[] = {"", "static", "static-device", "device", "inherit"};

	for (size_t i = 0; i < conf->nannouncements; i++) {
		const struct announcement_conf *a = &conf->announcements[i];
		if (proto_list_has(&a->protocols, r->proto) ||
		    proto_list_has(&a->drain_protocols, r->proto) ||
		    proto_list_has(&a->degraded_protocols, r->proto))
			return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(local); i++)
		if (strcmp(r->origin, local[i]) == 0)
			return false;
	return true;
}

/* One question round for one announcement: every prefix on every socket it uses. */
struct guard_round {
	struct sync *s;
	unsigned generation;
	size_t ann;
	size_t pending;
	bool failed;
	size_t nprefixes;
	bool *answered, *other; /* per prefix */
};

struct guard_query {
	struct guard_round *round;
	size_t prefix;
};

static void guard_round_end(struct guard_round *g)
{
	struct sync *s = g->s;
	bool all_answered = true, others = true;

	if (g->generation == s->generation && g->ann < s->nguard) {
		s->guard_busy[g->ann] = false;
		for (size_t i = 0; i < g->nprefixes; i++) {
			all_answered = all_answered && g->answered[i];
			others = others && g->other[i];
		}
		if (!g->failed && all_answered && s->paths_fn != NULL) {
			if (s->guard_seen[g->ann] != others)
				log_info(
				    "announcement \"%s\": %s", s->conf->announcements[g->ann].name,
				    others ? "another PoP has a path for every prefix (last-site "
				             "guard lets a withdraw happen)"
				           : "no other path for some prefix (last-site guard holds "
				             "a withdraw back)");
			s->guard_seen[g->ann] = others;
			s->paths_fn(g->ann, others, s->paths_arg);
		}
	}
	free(g->answered);
	free(g->other);
	free(g);
}

static void guard_route_done(struct bird_client *bc, const struct bird_reply *r,
                             const struct bird_route *routes, size_t n, void *arg)
{
	struct guard_query *q = arg;
	struct guard_round *g = q->round;
	struct sync *s = g->s;

	if (r->status == BIRD_OK) {
		g->answered[q->prefix] = true;
		for (size_t i = 0; i < n && g->generation == s->generation; i++)
			if (sync_route_is_other_path(s->conf, &routes[i]))
				g->other[q->prefix] = true;
	} else if (r->status != BIRD_NO_SUCH_PROTOCOL && r->status != BIRD_ERROR) {
		/* a parse error is a daemon of the other family; anything else is no answer */
		g->failed = true;
	}
	free(q);
	if (--g->pending == 0)
		guard_round_end(g);
}

static void guard_ask(struct sync *s, size_t ann)
{
	const struct announcement_conf *a = &s->conf->announcements[ann];
	const struct proto_list *lists[] = {&a->protocols, &a->drain_protocols,
	                                    &a->degraded_protocols};
	struct guard_round *g;

	if (s->guard_busy[ann] || a->prefixes.n == 0)
		return;
	g = xcalloc(1, sizeof(*g));
	g->s = s;
	g->generation = s->generation;
	g->ann = ann;
	g->nprefixes = a->prefixes.n;
	g->answered = xcalloc(g->nprefixes, sizeof(bool));
	g->other = xcalloc(g->nprefixes, sizeof(bool));
	g->pending = 1; /* held while queueing, so no callback ends the round early */
	for (size_t sock = 0; sock < s->nsocks; sock++) {
		bool used = false;

		for (size_t l = 0; l < ARRAY_SIZE(lists) && !used; l++)
			for (size_t i = 0; i < lists[l]->n && !used; i++)
				used = lists[l]->v[i].socket == sock;
		if (!used)
			continue;
		if (!s->socks[sock].connected) {
			g->failed = true;
			continue;
		}
		for (size_t p = 0; p < g->nprefixes; p++) {
			struct guard_query *q = xcalloc(1, sizeof(*q));

			q->round = g;
			q->prefix = p;
			if (bird_show_route_for(s->socks[sock].bc, a->prefixes.v[p],
			                        guard_route_done, q) != BIRD_OK) {
				free(q);
				g->failed = true;
				continue;
			}
			g->pending++;
		}
	}
	s->guard_busy[ann] = true;
	if (--g->pending == 0)
		guard_round_end(g);
}

static void guard_poll(struct sync *s)
{
	if (s->paths_fn == NULL)
		return;
	for (size_t i = 0; i < s->conf->nannouncements && i < s->nguard; i++)
		if (s->conf->announcements[i].last_site_guard)
			guard_ask(s, i);
}

static void guard_resize(struct sync *s)
{
	s->generation++;
	free(s->guard_busy);
	free(s->guard_seen);
	s->nguard = s->conf->nannouncements;
	s->guard_busy = xcalloc(s->nguard ? s->nguard : 1, sizeof(bool));
	s->guard_seen = xmalloc(s->nguard ? s->nguard : 1);
	memset(s->guard_seen, -1, s->nguard ? s->nguard : 1);
}

void sync_set_paths_cb(struct sync *s, sync_paths_fn fn, void *arg)
{
	s->paths_fn = fn;
	s->paths_arg = arg;
}

static void reconcile_cb(uv_timer_t *t)
{
	retry_state_files(t->data);
	sync_kick(t->data);
	guard_poll(t->data);
}

/* ---- setup ------------------------------------------------------------------------------- */

static void add_protos(struct sync *s, const struct proto_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct sync_proto *p;

		s->protos = xrealloc(s->protos, (s->nprotos + 1) * sizeof(*s->protos));
		p = &s->protos[s->nprotos++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(l->v[i].name);
		p->socket = l->v[i].socket;
		p->file_state = -1;
	}
}

static void build_protos(struct sync *s)
{
	for (size_t i = 0; i < s->conf->nannouncements; i++) {
		const struct announcement_conf *a = &s->conf->announcements[i];
		add_protos(s, &a->protocols);
		add_protos(s, &a->drain_protocols);
		add_protos(s, &a->degraded_protocols);
	}
}

static void open_sockets(struct sync *s)
{
	static const struct bird_client_cbs cbs = {on_connected, on_disconnected};

	s->nsocks = s->conf->bird.nsockets;
	s->socks = xcalloc(s->nsocks, sizeof(*s->socks));
	for (size_t i = 0; i < s->nsocks; i++) {
		struct sync_socket *ss = &s->socks[i];
		const struct bird_socket_conf *bs = &s->conf->bird.sockets[i];

		ss->s = s;
		ss->idx = i;
		ss->name = xstrdup(bs->name);
		ss->bc =
		    bird_client_new(s->loop, bs->name, bs->path, s->conf->bird.timeout, &cbs, ss);
	}
}

static void close_sockets(struct sync *s)
{
	for (size_t i = 0; i < s->nsocks; i++) {
		bird_client_free(s->socks[i].bc);
		free(s->socks[i].name);
	}
	free(s->socks);
	s->socks = NULL;
	s->nsocks = 0;
}

struct sync *sync_new(uv_loop_t *loop, const struct agent_conf *conf, bool dry_run)
{
	struct sync *s = xcalloc(1, sizeof(*s));

	s->loop = loop;
	s->conf = conf;
	s->dry_run = dry_run;
	uv_timer_init(loop, &s->reconcile);
	s->reconcile.data = s;
	uv_timer_init(loop, &s->flush_timer);
	s->flush_timer.data = s;
	build_protos(s);
	guard_resize(s);
	return s;
}

static int mkdir_p(const char *dir)
{
	char *copy = xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1; *p && rc == 0; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (rc == 0 && mkdir(copy, 0755) < 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return rc;
}

/* Every state file exists before BIRD reads it; missing ones fail closed. */
static int prepare_state_files(struct sync *s)
{
	int rc = 0;

	if (!s->dry_run && mkdir_p(s->conf->bird.state_dir) < 0) {
		log_warn("cannot create the state directory %s", s->conf->bird.state_dir);
		return -1;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];
		int f = state_file_read(s, p->name);

		if (f == -2) {
			if (s->dry_run)
				log_notice("dry run: would create %s/%s.conf (disabled yes;)",
				           s->conf->bird.state_dir, p->name);
			else if (state_file_write(s, p, 0) < 0)
				rc = -1;
			else
				log_notice("created %s/%s.conf: disabled until its checks pass",
				           s->conf->bird.state_dir, p->name);
			continue;
		}
		if (f == -1)
			log_warnx("%s/%s.conf is not what the agent writes; it will be rewritten "
			          "with the next decision",
			          s->conf->bird.state_dir, p->name);
		p->file_state = f;
	}
	return rc;
}

int sync_start(struct sync *s)
{
	int rc = prepare_state_files(s);
	uint64_t ms = (uint64_t)(s->conf->bird.reconcile_interval * 1000.0);

	open_sockets(s);
	uv_timer_start(&s->reconcile, reconcile_cb, ms, ms);
	return rc;
}

void sync_want(struct sync *s, const char *name, enum sync_want want, const char *message)
{
	struct sync_proto *p = find_proto(s, name);

	if (p == NULL)
		return;
	if (want == SYNC_DISABLED && message != NULL)
		bird_message_sanitize(p->message, sizeof(p->message), message);
	if (p->want == want)
		return;
	p->want = want;
	p->confirmed = false;
	p->dry_logged = false;
	if (want != SYNC_UNTOUCHED && !s->dry_run)
		state_file_write(s, p, want == SYNC_ENABLED);
	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i].idx == p->socket)
			s->socks[i].seen = false;
}

void sync_kick(struct sync *s)
{
	for (size_t i = 0; i < s->nsocks; i++)
		cycle_start(&s->socks[i]);
	flush_check(s);
}

static void flush_timeout(uv_timer_t *t)
{
	struct sync *s = t->data;
	void (*cb)(bool, void *) = s->flush_cb;

	s->flush_cb = NULL;
	if (cb != NULL)
		cb(false, s->flush_arg);
}

void sync_flush(struct sync *s, double timeout_s, void (*cb)(bool ok, void *arg), void *arg)
{
	s->flush_cb = cb;
	s->flush_arg = arg;
	uv_timer_start(&s->flush_timer, flush_timeout, (uint64_t)(timeout_s * 1000.0), 0);
	sync_kick(s);
}

static bool bird_conf_equal(const struct bird_conf *a, const struct bird_conf *b)
{
	if (a->nsockets != b->nsockets || a->timeout != b->timeout)
		return false;
	for (size_t i = 0; i < a->nsockets; i++)
		if (strcmp(a->sockets[i].name, b->sockets[i].name) != 0 ||
		    strcmp(a->sockets[i].path, b->sockets[i].path) != 0)
			return false;
	return true;
}

void sync_reload(struct sync *s, const struct agent_conf *conf)
{
	struct sync_proto *old = s->protos;
	size_t nold = s->nprotos;
	bool same_sockets = bird_conf_equal(&s->conf->bird, &conf->bird);
	bool same_dir = strcmp(s->conf->bird.state_dir, conf->bird.state_dir) == 0;
	uint64_t ms = (uint64_t)(conf->bird.reconcile_interval * 1000.0);

	/* rounds still asking about the old config must report nothing */
	s->generation++;
	if (!same_sockets)
		close_sockets(s);
	s->conf = conf;
	guard_resize(s);
	s->protos = NULL;
	s->nprotos = 0;
	build_protos(s);
	/* a protocol that stays keeps what the agent decided and what BIRD said */
	for (size_t i = 0; i < s->nprotos; i++)
		for (size_t j = 0; j < nold; j++)
			if (strcmp(s->protos[i].name, old[j].name) == 0) {
				char *name = s->protos[i].name;
				size_t sock = s->protos[i].socket;

				s->protos[i] = old[j];
				s->protos[i].name = name;
				if (s->protos[i].socket != sock || !same_sockets) {
					s->protos[i].socket = sock;
					s->protos[i].actual = SYNC_ACTUAL_UNKNOWN;
				}
				if (!same_dir)
					s->protos[i].file_state = -1;
				break;
			}
	for (size_t j = 0; j < nold; j++)
		free(old[j].name);
	free(old);
	prepare_state_files(s);
	if (!same_sockets)
		open_sockets(s);
	uv_timer_start(&s->reconcile, reconcile_cb, ms, ms);
	sync_kick(s);
}

void sync_status(const struct sync *s, struct sync_status *st)
{
	memset(st, 0, sizeof(*st));
	st->sockets = s->nsocks;
	st->in_sync = true;
	for (size_t i = 0; i < s->nsocks; i++) {
		if (s->socks[i].connected)
			st->sockets_connected++;
		else
			st->in_sync = false;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto_status ps = {0};
		sync_proto_status(s, i, &ps);
		if (!ps.in_sync)
			st->in_sync = false;
	}
	st->corrections = s->corrections;
	st->command_errors = s->command_errors;
	st->file_errors = s->file_errors;
}

size_t sync_nprotos(const struct sync *s)
{
	return s->nprotos;
}

bool sync_proto_status(const struct sync *s, size_t i, struct sync_proto_status *st)
{
	const struct sync_proto *p;

	if (i >= s->nprotos)
		return false;
	p = &s->protos[i];
	st->name = p->name;
	st->socket = s->conf->bird.sockets[p->socket].name;
	st->want = p->want;
	st->actual = p->actual;
	st->bird_state = p->bird_state;
	st->corrections = p->corrections;
	st->file_ok = !p->file_failed;
	switch (p->want) {
	case SYNC_UNTOUCHED:
		st->in_sync = true;
		break;
	case SYNC_ENABLED:
		st->in_sync = p->actual == SYNC_ACTUAL_ENABLED;
		break;
	case SYNC_DISABLED:
		/* a protocol BIRD does not have announces nothing */
		st->in_sync = p->actual == SYNC_ACTUAL_DISABLED;
		break;
	}
	if (s->dry_run)
		st->in_sync = true;
	return true;
}

struct bird_client *sync_bird(const struct sync *s, size_t socket)
{
	return socket < s->nsocks ? s->socks[socket].bc : NULL;
}

static void timer_closed(uv_handle_t *h)
{
	struct sync *s = h->data;

	/* libuv runs close callbacks in no promised order (LIFO today): wait for both */
	if (++s->timers_closed == 2)
		free(s);
}

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	s->paths_fn = NULL;
	close_sockets(s);
	free(s->guard_busy);
	free(s->guard_seen);
	s->guard_busy = NULL;
	s->guard_seen = NULL;
	s->nguard = 0;
	for (size_t i = 0; i < s->nprotos; i++)
		free(s->protos[i].name);
	free(s->protos);
	uv_close((uv_handle_t *)&s->reconcile, timer_closed);
	uv_close((uv_handle_t *)&s->flush_timer, timer_closed);
}
