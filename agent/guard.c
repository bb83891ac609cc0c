/* SPDX-License-Identifier: ISC */
/*
 * guard.c - the last-site guard's route observation (see guard.h): rounds of
 * `show route for PREFIX all` on the sync layer's BIRD sockets, and the report
 * of whether another PoP has a path for every prefix of an announcement.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "log.h"
#include "util.h"

struct guard {
	const struct sync *s; /* its sockets */
	const struct sync_bird_ops *ops;
	const struct agent_conf *conf;
	sync_paths_fn paths_fn;
	void *paths_arg;
	unsigned generation; /* bumped by reset: rounds of an older config report nothing */
	bool *busy;          /* per announcement: a round is under way */
	signed char *seen;   /* per announcement: last report, -1 none, 0 no other path, 1 */
	size_t n;
};

static bool proto_list_has(const struct proto_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return true;
	return false;
}

bool guard_route_is_other_path(const struct agent_conf *conf, const struct bird_route *r)
{
	static const char *const local[] = {"", "static", "static-device", "device", "inherit"};

	for (size_t i = 0; i < conf->nannouncements; i++) {
		const struct announcement_conf *a = &conf->announcements[i];
		for (int role = 0; role < PROTO__ROLES; role++)
			if (proto_list_has(conf_role_protocols(a, role), r->proto))
				return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(local); i++)
		if (strcmp(r->origin, local[i]) == 0)
			return false;
	return true;
}

/* One question round for one announcement: every prefix on every socket it uses. */
struct guard_round {
	struct guard *g;
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

static void round_end(struct guard_round *r)
{
	struct guard *g = r->g;
	bool all_answered = true, others = true;

	if (r->generation == g->generation && r->ann < g->n) {
		g->busy[r->ann] = false;
		for (size_t i = 0; i < r->nprefixes; i++) {
			all_answered = all_answered && r->answered[i];
			others = others && r->other[i];
		}
		if (!r->failed && all_answered && g->paths_fn != NULL) {
			if (g->seen[r->ann] != others)
				log_info(
				    "announcement \"%s\": %s", g->conf->announcements[r->ann].name,
				    others ? "another PoP has a path for every prefix (last-site "
				             "guard lets a withdraw happen)"
				           : "no other path for some prefix (last-site guard holds "
				             "a withdraw back)");
			g->seen[r->ann] = others;
			g->paths_fn(r->ann, others, g->paths_arg);
		}
	}
	free(r->answered);
	free(r->other);
	free(r);
}

static void route_done(struct bird_client *bc, const struct bird_reply *rep,
                       const struct bird_route *routes, size_t n, void *arg)
{
	struct guard_query *q = arg;
	struct guard_round *r = q->round;
	struct guard *g = r->g;

	(void)bc;
	if (rep->status == BIRD_OK) {
		r->answered[q->prefix] = true;
		for (size_t i = 0; i < n && r->generation == g->generation; i++)
			if (guard_route_is_other_path(g->conf, &routes[i]))
				r->other[q->prefix] = true;
	} else if (rep->status != BIRD_NO_SUCH_PROTOCOL && rep->status != BIRD_ERROR) {
		/* a parse error is a daemon of the other family; anything else is no answer */
		r->failed = true;
	}
	free(q);
	if (--r->pending == 0)
		round_end(r);
}

static void ask(struct guard *g, size_t ann)
{
	const struct announcement_conf *a = &g->conf->announcements[ann];
	struct guard_round *r;

	if (g->busy[ann] || a->prefixes.n == 0)
		return;
	r = xcalloc(1, sizeof(*r));
	r->g = g;
	r->generation = g->generation;
	r->ann = ann;
	r->nprefixes = a->prefixes.n;
	r->answered = xcalloc(r->nprefixes, sizeof(bool));
	r->other = xcalloc(r->nprefixes, sizeof(bool));
	r->pending = 1; /* held while queueing, so no callback ends the round early */
	g->busy[ann] = true;
	for (size_t sock = 0; sock < sync_nsockets(g->s); sock++) {
		bool used = false;

		for (int role = 0; role < PROTO__ROLES && !used; role++) {
			const struct proto_list *l = conf_role_protocols(a, role);

			for (size_t i = 0; i < l->n && !used; i++)
				used = l->v[i].socket == sock;
		}
		if (!used)
			continue;
		if (!sync_connected(g->s, sock)) {
			r->failed = true;
			continue;
		}
		for (size_t p = 0; p < r->nprefixes; p++) {
			struct guard_query *q = xcalloc(1, sizeof(*q));

			q->round = r;
			q->prefix = p;
			r->pending++;
			if (g->ops->show_route(sync_bird(g->s, sock), a->prefixes.v[p], route_done,
			                       q) != BIRD_OK) {
				r->pending--;
				free(q);
				r->failed = true;
			}
		}
	}
	if (--r->pending == 0)
		round_end(r);
}

void guard_poll(struct guard *g)
{
	if (g->paths_fn == NULL)
		return;
	for (size_t i = 0; i < g->conf->nannouncements && i < g->n; i++)
		if (g->conf->announcements[i].last_site_guard)
			ask(g, i);
}

struct guard *guard_new(const struct sync *s, const struct sync_bird_ops *ops)
{
	struct guard *g = xcalloc(1, sizeof(*g));

	g->s = s;
	g->ops = ops;
	return g;
}

void guard_reset(struct guard *g, const struct agent_conf *conf)
{
	g->conf = conf;
	g->generation++;
	free(g->busy);
	free(g->seen);
	g->n = conf->nannouncements;
	g->busy = xcalloc(g->n ? g->n : 1, sizeof(bool));
	g->seen = xmalloc(g->n ? g->n : 1);
	memset(g->seen, -1, g->n ? g->n : 1);
}

void guard_set_cb(struct guard *g, sync_paths_fn fn, void *arg)
{
	g->paths_fn = fn;
	g->paths_arg = arg;
}

void guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	free(g->busy);
	free(g->seen);
	free(g);
}
