/* SPDX-License-Identifier: ISC */
/*
 * lifecycle_sim.c - the lifecycle simulation. The agent's real decision code (core.c: the
 * engine, the sync layer with its decision files, the state file) runs on a simulated clock
 * against simulated BIRD daemons that restart, re-read their decision files on configure
 * and restart (a missing file is `disabled yes;`, as bird.conf's glob include makes it),
 * hang, refuse and drop the connection. Seeded, random sequences of steps drive it: service
 * health (pass, warn, fail, timeout), reloads with random config edits (announcements,
 * checks and protocols added, removed and renamed; timing keys changed), drains with and
 * without `for`, undrains, agent crashes and clean restarts, reboots, BIRD restarts,
 * configures and faults, decision files deleted or spoiled behind the agent's back.
 *
 * After every event it checks the invariants anycast-agent(8) documents (SAFETY):
 *   I1 a protocol is enabled in BIRD only if an agent of this boot decided to enable it
 *      while its announcement's checks were up (or the last-site guard held it) and no agent
 *      decided otherwise since; a reboot forgets every decision;
 *   I2 a drained announcement never has its normal or degraded protocol enabled, and its
 *      drain protocol only within drain_time of the drain;
 *   I3 a protocol no longer configured is disabled in BIRD within one reconcile interval
 *      once BIRD answers;
 *   I4 once a fault clears, BIRD converges to the decision within one reconcile interval;
 *   I5 upstream-visible changes stay within RFC 2439 damping with the announcement's
 *      parameters: no check-caused announce or variant switch while an upstream router that
 *      counted every withdraw (damp_penalty) and switch (damp_penalty / 2) suppresses it
 *      (operator drains, undrains and agent stops are exempt, as documented);
 *   I6 a switch between two carried variants never leaves none of them enabled.
 * I2, I3 and I4 are judged once the system is quiet (agent running, BIRD up and answering,
 * nothing in flight, a reconcile interval since the last disturbance).
 *
 *   lifecycle_sim [-s SEED] [-n SEQUENCES] [-t SECONDS] [-v] [-k]
 * Sequence i uses seed SEED + i (SEED defaults to the time; without -s a few fixed corner
 * seeds run first). Without -n it runs for -t seconds ($SIM_SECONDS, default 20). A violation
 * prints the seed, the invariant and a shortened replay (the fewest steps found that still break
 * it), and exits 1; with -k it goes on, prints one line per violation and counts them by invariant
 * (to see what a change breaks). The last line says how many sequences, steps and simulated hours
 * ran, and how fast.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "log.h"
#include "util.h"

#define NSOCK_MAX  2
#define POOL       9 /* BIRD protocols s<k>p<i> on each daemon */
#define MAX_CHECKS 4
#define MAX_ANNS   3
#define MAX_STEPS  96
#define MAX_IDS    512
#define SLACK      0.25 /* seconds of command latency a quiet system may still need */

enum variant_up { UP_NONE, UP_DRAIN, UP_DEGRADED, UP_NORMAL };
static const char *const up_names[] = {"none", "drain", "degraded", "normal"};

/* ---- deterministic randomness ------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rnd01(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

static unsigned rndn(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rng_next(s) % n) : 0;
}

static double rnd_range(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * rnd01(s);
}

/* ---- the configuration, as a model rendered to libconfig text ----------------------------- */

struct mcheck {
	int id;
	unsigned rise, fall;
	double interval, timeout;
};

struct mann {
	int id;
	int normal, drain, degraded; /* pool index, -1 none */
	int req[3], nreq;
	bool any;
	double hold_down, drain_time, half_life, max_suppress;
	bool guard;
};

struct model {
	int nsock;
	double reconcile;
	struct mcheck checks[MAX_CHECKS];
	int nchecks;
	struct mann anns[MAX_ANNS];
	int nanns;
	int next_id;
};

static bool pool_used(const struct model *m, int idx)
{
	for (int i = 0; i < m->nanns; i++)
		if (m->anns[i].normal == idx || m->anns[i].drain == idx ||
		    m->anns[i].degraded == idx)
			return true;
	return false;
}

static int pool_free(const struct model *m, uint64_t *r)
{
	int start = (int)rndn(r, POOL);
	for (int k = 0; k < POOL; k++) {
		int i = (start + k) % POOL;
		if (!pool_used(m, i))
			return i;
	}
	return -1;
}

static void random_check(struct model *m, struct mcheck *c, uint64_t *r)
{
	c->id = m->next_id++;
	c->rise = 1 + rndn(r, 3);
	c->fall = 1 + rndn(r, 3);
	c->interval = rnd_range(r, 0.5, 3);
	c->timeout = c->interval * rnd_range(r, 0.2, 0.5);
}

static void random_ann(struct model *m, struct mann *a, uint64_t *r)
{
	memset(a, 0, sizeof(*a));
	a->id = m->next_id++;
	a->normal = a->drain = a->degraded = -1;
	a->normal = pool_free(m, r);
	/* the caller adds a to m only after this: claim each index before the next */
	struct model tmp = *m;
	tmp.anns[tmp.nanns++] = *a;
	if (rndn(r, 3) != 0) {
		a->drain = pool_free(&tmp, r);
		tmp.anns[tmp.nanns - 1] = *a;
	}
	if (rndn(r, 2) == 0)
		a->degraded = pool_free(&tmp, r);
	a->nreq = m->nchecks ? 1 + (int)rndn(r, m->nchecks < 2 ? 1 : 2) : 0;
	for (int i = 0; i < a->nreq; i++)
		a->req[i] = m->checks[(i + rndn(r, m->nchecks)) % m->nchecks].id;
	if (a->nreq == 2 && a->req[0] == a->req[1])
		a->nreq = 1;
	a->any = a->nreq > 1 && rndn(r, 2);
	a->hold_down = rndn(r, 3) ? rnd_range(r, 0, 15) : 0;
	a->drain_time = rndn(r, 4) ? rnd_range(r, 1, 30) : 0;
	a->half_life = rnd_range(r, 20, 300);
	a->max_suppress = rnd_range(r, 30, 900);
	a->guard = rndn(r, 4) == 0;
}

static void random_model(struct model *m, uint64_t *r)
{
	memset(m, 0, sizeof(*m));
	m->nsock = 1 + (int)rndn(r, 2);
	m->reconcile = rnd_range(r, 0.5, 2);
	m->nchecks = 1 + (int)rndn(r, MAX_CHECKS - 1);
	for (int i = 0; i < m->nchecks; i++)
		random_check(m, &m->checks[i], r);
	int n = 1 + (int)rndn(r, MAX_ANNS);
	for (int i = 0; i < n; i++) {
		struct mann a;
		random_ann(m, &a, r);
		if (a.normal >= 0)
			m->anns[m->nanns++] = a;
	}
}

/* One random edit, as an operator's reload would bring. */
static const char *edit_model(struct model *m, uint64_t *r)
{
	int k;

	switch (rndn(r, 9)) {
	case 0:
		if (m->nanns < MAX_ANNS) {
			struct mann a;
			random_ann(m, &a, r);
			if (a.normal >= 0) {
				m->anns[m->nanns++] = a;
				return "add an announcement";
			}
		}
		/* fall through */
	case 1:
		if (m->nanns > 1) {
			k = (int)rndn(r, m->nanns);
			m->anns[k] = m->anns[--m->nanns];
			return "remove an announcement";
		}
		/* fall through */
	case 2:
		if (m->nanns) {
			m->anns[rndn(r, m->nanns)].id = m->next_id++;
			return "rename an announcement";
		}
		return "nothing";
	case 3:
		if (m->nchecks < MAX_CHECKS) {
			random_check(m, &m->checks[m->nchecks++], r);
			return "add a check";
		}
		/* fall through */
	case 4:
		k = (int)rndn(r, m->nchecks);
		if (rndn(r, 2)) {
			m->checks[k].id = m->next_id++;
			/* requires naming the old check now name no check: re-point them */
			for (int i = 0; i < m->nanns; i++)
				for (int j = 0; j < m->anns[i].nreq; j++)
					if (rndn(r, 2))
						m->anns[i].req[j] = m->checks[k].id;
			return "rename a check";
		}
		m->checks[k].interval = rnd_range(r, 0.5, 3);
		m->checks[k].timeout = m->checks[k].interval * rnd_range(r, 0.2, 0.5);
		m->checks[k].rise = 1 + rndn(r, 3);
		return "change a check's timing";
	case 5:
		if (m->nanns) {
			struct mann *a = &m->anns[rndn(r, m->nanns)];
			int role = (int)rndn(r, 3), idx = rndn(r, 3) ? pool_free(m, r) : -1;
			int *slot = role == 0 ? &a->normal : role == 1 ? &a->drain : &a->degraded;
			if (role == 0 && idx < 0)
				return "nothing";
			*slot = idx;
			return "change an announcement's protocols";
		}
		return "nothing";
	case 6:
		if (m->nanns) {
			struct mann *a = &m->anns[rndn(r, m->nanns)];
			/* the damping parameters stay: I5's upstream router has them too */
			a->hold_down = rnd_range(r, 0, 15);
			a->drain_time = rndn(r, 4) ? rnd_range(r, 1, 30) : 0;
			return "change an announcement's timing";
		}
		return "nothing";
	case 7:
		if (m->nanns && m->nchecks) {
			struct mann *a = &m->anns[rndn(r, m->nanns)];
			a->nreq = 1;
			a->req[0] = m->checks[rndn(r, m->nchecks)].id;
			return "change what an announcement requires";
		}
		return "nothing";
	default:
		m->reconcile = rnd_range(r, 0.5, 2);
		if (m->nanns)
			m->anns[rndn(r, m->nanns)].guard ^= 1;
		return "change reconcile_interval and a guard";
	}
}

struct sbuf {
	char *s;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void sb(struct sbuf *b, const char *f, ...)
{
	va_list ap;
	char *add;
	va_start(ap, f);
	if (vasprintf(&add, f, ap) < 0)
		abort();
	va_end(ap);
	b->s = xrealloc(b->s, b->len + strlen(add) + 1);
	strcpy(b->s + b->len, add);
	b->len += strlen(add);
	free(add);
}

static void sb_protos(struct sbuf *b, const struct model *m, const char *key, int idx)
{
	if (idx < 0)
		return;
	sb(b, " %s = [", key);
	for (int k = 0; k < m->nsock; k++)
		sb(b, "%s \"s%d:s%dp%d\"", k ? "," : "", k, k, idx);
	sb(b, " ];");
}

static bool check_exists(const struct model *m, int id)
{
	for (int i = 0; i < m->nchecks; i++)
		if (m->checks[i].id == id)
			return true;
	return false;
}

static char *render(const struct model *m, const char *root)
{
	struct sbuf b = {0};

	sb(&b, "bird: { sockets = (");
	for (int k = 0; k < m->nsock; k++)
		sb(&b, "%s { name = \"s%d\"; path = \"%s/s%d.ctl\"; }", k ? "," : "", k, root, k);
	sb(&b, " ); timeout = 1.0; reconcile_interval = %.3f; state_dir = \"%s/run/bird\"; };\n",
	   m->reconcile, root);
	sb(&b, "control: { socket = \"%s/ctl\"; };\nstate_file = \"%s/lib/state\";\n", root, root);
	sb(&b, "checks: {\n");
	for (int i = 0; i < m->nchecks; i++) {
		const struct mcheck *c = &m->checks[i];
		sb(&b,
		   " c%d: { type = \"tcp\"; address = \"127.0.0.1:9\"; interval = %.3f; timeout = "
		   "%.3f; fast_interval = %.3f; rise = %u; fall = %u; };\n",
		   c->id, c->interval, c->timeout, c->interval, c->rise, c->fall);
	}
	sb(&b, "};\nannouncements: {\n");
	for (int i = 0; i < m->nanns; i++) {
		const struct mann *a = &m->anns[i];
		int n = 0;
		sb(&b, " a%d: {", a->id);
		sb_protos(&b, m, "protocols", a->normal);
		sb_protos(&b, m, "drain_protocols", a->drain);
		sb_protos(&b, m, "degraded_protocols", a->degraded);
		sb(&b, " requires = [");
		for (int j = 0; j < a->nreq; j++)
			if (check_exists(m, a->req[j]) && (j == 0 || a->req[j] != a->req[0]))
				sb(&b, "%s \"c%d\"", n++ ? "," : "", a->req[j]);
		if (n == 0) /* its checks were renamed away: the operator points it at another */
			sb(&b, " \"c%d\"", m->checks[0].id);
		sb(&b,
		   " ];%s prefixes = [ \"192.0.2.%d/32\" ]; hold_down = %.3f; drain_time = %.3f;",
		   a->any ? " require = \"any\";" : "", a->id % 250, a->hold_down, a->drain_time);
		sb(&b,
		   " damp_half_life = %.3f; damp_max_suppress = %.3f; last_site_guard = %s; };\n",
		   a->half_life, a->max_suppress, a->guard ? "true" : "false");
	}
	sb(&b, "};\n");
	return b.s;
}

/* ---- events --------------------------------------------------------------------------------- */

struct sim;
typedef void (*ev_fn)(struct sim *sim, void *p, long arg, uint64_t token);

struct event {
	double at;
	uint64_t seq;
	ev_fn fn;
	void *p;
	long arg;
	uint64_t token;
};

/* ---- simulated BIRD -------------------------------------------------------------------------- */

struct daemon {
	bool up;
	bool hung, refusing;
	double fault_until;
	bool has[POOL], en[POOL];
	char desc[POOL][256];
	uint64_t gen; /* bumped whenever its connections drop */
	bool others;  /* another PoP announces the prefixes (the last-site guard's question) */
};

enum cmd_kind { CMD_ENABLE, CMD_DISABLE, CMD_SHOW, CMD_ROUTE };

struct cmd {
	enum cmd_kind kind;
	bool all;
	bool justified; /* an enable sent while I1 allowed it (it may arrive after a change) */
	bool carried;   /* a disable sent while the decision carried the prefix (I6) */
	double decided; /* when the want it carries out was decided (I5's exemptions) */
	char name[BIRD_NAME_MAX + 1];
	void *cb, *arg;
};

struct client {
	struct sim *sim;
	int sock;
	bool closed, connected;
	uint64_t gen;   /* the daemon's gen when connected */
	uint64_t token; /* bumped to cancel scheduled events */
	const struct bird_client_cbs *cbs;
	void *cb_arg;
	struct cmd *q;
	size_t nq, cap;
	bool head_scheduled;
	double backoff;
};

/* ---- the agent ----------------------------------------------------------------------------------
 */

struct run {
	char name[CONF_NAME_MAX + 1];
	uint64_t token;
};

struct agent_sim {
	bool alive, stopping, stop_done, keep;
	struct agent_conf *conf;
	struct core *core;
	double next_reconcile;
	double stop_deadline;
	struct run runs[MAX_IDS];
	size_t nruns;
	int prev_want[NSOCK_MAX][POOL]; /* effective want seen last, -1 none */
};

enum svc { SVC_OK, SVC_WARN, SVC_FAIL, SVC_HANG };

struct upmodel {
	int variant;
	double p, at;
	bool suppressed;
	bool stop_pending; /* a stop's withdraw BIRD refused: the next agent finishes it */
};

enum act {
	A_SVC,
	A_DRAIN,
	A_UNDRAIN,
	A_RELOAD,
	A_CRASH,
	A_STOP,
	A_REBOOT,
	A_BIRD_RESTART,
	A_BIRD_CONFIGURE,
	A_BIRD_HANG,
	A_BIRD_REFUSE,
	A_BIRD_DROP,
	A_TAMPER,
	A_PATHS,
	A__COUNT
};
static const char *const act_names[] = {
    "service",      "drain",          "undrain",   "reload",      "crash",     "stop",   "reboot",
    "bird-restart", "bird-configure", "bird-hang", "bird-refuse", "bird-drop", "tamper", "paths"};

struct step {
	double at;
	enum act act;
	uint32_t a, b, c;
};

struct sim {
	uint64_t seed, rng;
	double now;
	struct event *ev;
	size_t nev, evcap;
	uint64_t evseq;
	struct daemon d[NSOCK_MAX];
	struct client **clients;
	size_t nclients;
	struct agent_sim ag;
	struct model model;
	char root[128];
	uint64_t rand_state;
	/* invariant bookkeeping */
	bool justified[NSOCK_MAX][POOL];
	/* its decision file was spoiled: the agent withdraws it (fail closed) until it decides
	 * again, which is not a gap in a switch (I6) */
	bool tampered[NSOCK_MAX][POOL];
	/* when the agent last changed its mind about it: an upstream router's clock for a change
	 * BIRD applied late (it hung) starts there, as the agent's damping does */
	double decided_at[NSOCK_MAX][POOL];
	int last_want[NSOCK_MAX][POOL]; /* across agents: a restart carries a decision on */
	/* its checks were up at some point since this agent started (a reload that restarts a
	 * check keeps the announcement, and a protocol added to it, announced) */
	bool passed_since_start[MAX_IDS];
	int route_ann[POOL], route_variant[POOL]; /* note_routes() */
	struct upmodel up[MAX_IDS][NSOCK_MAX];
	/* the last operator actions on each announcement (drain, undrain, expiry, an edit of its
	 * protocols): what the agent decides then is the operator's doing (I5 exempt) */
	double op_time[MAX_IDS][4];
	unsigned op_n[MAX_IDS];
	enum svc svc[MAX_IDS];
	double settle_from; /* last disturbance: quiet is judged a reconcile interval after it */
	char violation[512];
	bool verbose;
	char log_ring[64][256];
	unsigned log_n;
	unsigned long events;
};

static void sim_log(int prio, const char *line, void *arg)
{
	struct sim *sim = arg;
	(void)prio;
	if (!sim->verbose) {
		snprintf(sim->log_ring[sim->log_n++ % 64], 256, "%9.3f %s", sim->now, line);
		return;
	}
	fprintf(stderr, "%9.3f %s\n", sim->now, line);
}

static void violate(struct sim *sim, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void violate(struct sim *sim, const char *f, ...)
{
	va_list ap;
	if (sim->violation[0])
		return;
	va_start(ap, f);
	vsnprintf(sim->violation, sizeof(sim->violation), f, ap);
	va_end(ap);
}

/* ---- event queue (binary heap) ------------------------------------------------------------- */

static bool ev_before(const struct event *a, const struct event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void ev_push(struct sim *sim, double at, ev_fn fn, void *p, long arg, uint64_t token)
{
	if (sim->nev == sim->evcap) {
		sim->evcap = sim->evcap ? 2 * sim->evcap : 256;
		sim->ev = xrealloc(sim->ev, sim->evcap * sizeof(*sim->ev));
	}
	size_t i = sim->nev++;
	struct event e = {at, sim->evseq++, fn, p, arg, token};
	while (i > 0 && ev_before(&e, &sim->ev[(i - 1) / 2])) {
		sim->ev[i] = sim->ev[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sim->ev[i] = e;
}

static struct event ev_pop(struct sim *sim)
{
	struct event top = sim->ev[0], last = sim->ev[--sim->nev];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const struct event *mv = &last;
		if (l < sim->nev && ev_before(&sim->ev[l], mv)) {
			m = l;
			mv = &sim->ev[l];
		}
		if (r < sim->nev && ev_before(&sim->ev[r], mv))
			m = r;
		if (m == i)
			break;
		sim->ev[i] = sim->ev[m];
		i = m;
	}
	if (sim->nev)
		sim->ev[i] = last;
	return top;
}

/* ---- protocol names ----------------------------------------------------------------------------
 */

/* A run of decimal digits at *p (advanced past it) as a number below max, or -1. */
static int small_number(const char **p, int max)
{
	int v = 0;

	if (**p < '0' || **p > '9')
		return -1;
	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (*(*p)++ - '0');
		if (v >= max)
			return -1;
	}
	return v;
}

/* "s<k>p<i>": pool protocol i of BIRD daemon k, or -1 (by hand: sscanf was a fifth of the
 * simulation's time) */
static int pool_of(const char *name, int *sock)
{
	const char *p = name;
	int k, i;

	if (*p++ != 's' || (k = small_number(&p, NSOCK_MAX)) < 0 || *p++ != 'p' ||
	    (i = small_number(&p, POOL)) < 0 || *p != '\0')
		return -1;
	*sock = k;
	return i;
}

static const struct mann *ann_of_pool(const struct model *m, int idx, int *role)
{
	for (int i = 0; i < m->nanns; i++) {
		const struct mann *a = &m->anns[i];
		*role = a->normal == idx ? 0 : a->drain == idx ? 1 : a->degraded == idx ? 2 : -1;
		if (*role >= 0)
			return a;
	}
	return NULL;
}

static struct announcement *engine_ann(struct sim *sim, int id)
{
	char name[32];
	if (!sim->ag.alive)
		return NULL;
	snprintf(name, sizeof(name), "a%d", id);
	return engine_find_announcement(sim->ag.core->engine, name);
}

/* bird.conf's view: the prefix (announcement) and variant of each protocol, as the agent's
 * configuration last gave them; a protocol the agent no longer names still routes that
 * prefix until it is disabled. */
static void note_routes(struct sim *sim)
{
	for (int i = 0; i < sim->model.nanns; i++) {
		const struct mann *a = &sim->model.anns[i];
		int roles[3] = {a->normal, a->drain, a->degraded};
		static const int up[3] = {UP_NORMAL, UP_DRAIN, UP_DEGRADED};
		for (int r = 0; r < 3; r++)
			if (roles[r] >= 0) {
				sim->route_ann[roles[r]] = a->id;
				sim->route_variant[roles[r]] = up[r];
			}
	}
}

/* What an upstream router of socket k's family sees of announcement a: the most preferred
 * variant among the enabled protocols routing its prefix. */
static int upstream_variant(const struct sim *sim, const struct mann *a, int k)
{
	const struct daemon *d = &sim->d[k];
	int best = UP_NONE;
	if (!d->up)
		return UP_NONE;
	for (int i = 0; i < POOL; i++)
		if (d->en[i] && sim->route_ann[i] == a->id && sim->route_variant[i] > best)
			best = sim->route_variant[i];
	return best;
}

/* ---- I5 and I6: every change BIRD makes on the agent's command ----------------------------------
 */

static void operator_acted(struct sim *sim, int id)
{
	sim->op_time[id][sim->op_n[id]++ % 4] = sim->now;
}

/* The agent decided at time `at` because of an operator action then (or in the seconds
 * after one). */
static bool operator_decided(const struct sim *sim, int id, double at)
{
	for (int j = 0; j < 4; j++)
		if (fabs(at - sim->op_time[id][j]) < 1e-6 || sim->now - sim->op_time[id][j] < 5)
			return true;
	return false;
}

static void up_decay(struct upmodel *u, const struct mann *a, double now)
{
	if (u->p > 0 && now > u->at)
		u->p *= exp2(-(now - u->at) / a->half_life);
	u->at = now;
	if (u->p <= 750)
		u->suppressed = false;
}

static void up_add(struct upmodel *u, const struct mann *a, double amount)
{
	double cap = 750 * exp2(a->max_suppress / a->half_life);
	u->p = fmin(u->p + amount, cap);
	if (u->p > 2000 * 1.02)
		u->suppressed = true;
}

static void observe_command(struct sim *sim, int k, int idx, bool disabled_now, bool sent_carried,
                            double decided)
{
	const struct mann *a = NULL;
	for (int i = 0; i < sim->model.nanns; i++)
		if (sim->model.anns[i].id == sim->route_ann[idx])
			a = &sim->model.anns[i];
	if (a == NULL || a->id >= MAX_IDS)
		return;
	struct upmodel *u = &sim->up[a->id][k];
	int was = u->variant, is = upstream_variant(sim, a, k);
	if (was == is)
		return;
	u->variant = is;
	struct announcement *ea = engine_ann(sim, a->id);
	bool finishing_stop = u->stop_pending;
	/* a spoiled decision file: the agent's fail-closed withdraw and the announce that
	 * follows are the spoiler's doing */
	bool spoiled = sim->tampered[k][idx];
	u->stop_pending = false;
	if (!disabled_now)
		sim->tampered[k][idx] = false;
	bool stopping = !sim->ag.alive || sim->ag.stopping;
	/* exempt: operator actions, and an adopting agent finishing what the previous one of
	 * this boot decided (counted then, if the checks caused it) */
	bool operator= was == UP_DRAIN || is == UP_DRAIN || stopping || finishing_stop || spoiled ||
	    operator_decided(sim, a->id, decided) ||
	    (ea && (ea->state == ANN_DRAINING || ea->state == ANN_DRAINED ||
	            ea->state == ANN_ADOPTING || ea->drain.active));

	/* I6: a disable that leaves nothing carried while the decision still carries it */
	if (disabled_now && sent_carried && is == UP_NONE && ea && !stopping &&
	    !sim->d[k].refusing && !spoiled) {
		int want = ea->variant == VARIANT_NORMAL     ? a->normal
		           : ea->variant == VARIANT_DEGRADED ? a->degraded
		           : ea->variant == VARIANT_DRAIN    ? a->drain
		                                             : -1;
		if (want >= 0 && sim->d[k].has[want])
			violate(sim,
			        "I6: a%d on s%d: the %s variant was disabled while the decision %s "
			        "still carries the prefix: nothing is announced",
			        a->id, k, up_names[was], announce_variant_name(ea->variant));
	}
	double at = fmax(u->at, fmin(sim->now, decided));
	up_decay(u, a, at);
	if (sim->verbose)
		fprintf(stderr,
		        "%9.3f upstream s%d a%d: %s -> %s%s (penalty %.1f at %.3f%s, hl %.3f; the "
		        "agent's %.1f)\n",
		        sim->now, k, a->id, up_names[was], up_names[is], operator? ", exempt" : "",
		        u->p, u->at, u->suppressed ? ", suppressed" : "", a->half_life,
		        ea ? engine_announcement_penalty(ea, at) : -1.0);
	if (operator)
		return;
	if (is == UP_NONE) {
		up_add(u, a, 1000);
		return;
	}
	double p_now = u->p * exp2(-fmax(0, sim->now - u->at) / a->half_life);
	if (u->suppressed && p_now > 750 * 1.02)
		violate(sim,
		        "I5: a%d on s%d: %s -> %s while an upstream router suppresses it (penalty "
		        "%.0f, reuse 750)",
		        a->id, k, up_names[was], up_names[is], p_now);
	if (was != UP_NONE)
		up_add(u, a, 500);
}

/* I1: BIRD enables idx on k: someone of this boot must have decided it with the checks up. */
static void observe_enable(struct sim *sim, int k, int idx, const char *how, bool sent_justified)
{
	if (!sim->justified[k][idx] && !sent_justified)
		violate(sim,
		        "I1: s%d enabled s%dp%d (%s) though no agent of this boot decided it with "
		        "its checks up",
		        k, k, idx, how);
}

/* ---- simulated BIRD daemons
 * ----------------------------------------------------------------------- */

static void client_drop(struct client *c, enum bird_status st, const char *why);

static void daemon_drop_all(struct sim *sim, int k, const char *why)
{
	sim->d[k].gen++;
	for (size_t i = 0; i < sim->nclients; i++) {
		struct client *c = sim->clients[i];
		if (!c->closed && c->sock == k && c->connected)
			client_drop(c, BIRD_DISCONNECTED, why);
	}
}

/* Read every decision file as bird.conf's `disabled yes; include "<dir>/P.con[f]";` does. -1 if
 * one does not parse (BIRD refuses the configuration). */
static int daemon_read(struct sim *sim, int k, bool *en, char (*desc)[256])
{
	for (int i = 0; i < POOL; i++) {
		char path[256], buf[1100];
		snprintf(path, sizeof(path), "%s/run/bird/s%dp%d.conf", sim->root, k, i);
		en[i] = false;
		desc[i][0] = '\0';
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue; /* no match for the glob: disabled yes stands */
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			return -1;
		buf[n] = '\0';
		int f = sync_decision_parse(buf, (size_t)n);
		if (f < 0)
			return -1;
		en[i] = f == 1;
		char *d = strstr(buf, "description \"");
		if (d) {
			d += 13;
			char *e = strchr(d, '"');
			if (e)
				snprintf(desc[i], 256, "%.*s", (int)(e - d), d);
		}
	}
	return 0;
}

static void ev_daemon_boot(struct sim *sim, void *p, long k, uint64_t token);

static void daemon_apply(struct sim *sim, int k, const bool *en, char (*desc)[256], const char *how)
{
	struct daemon *d = &sim->d[k];
	for (int i = 0; i < POOL; i++) {
		if (!d->has[i])
			continue;
		if (en[i] && !d->en[i])
			observe_enable(sim, k, i, how, false);
		d->en[i] = en[i];
		memcpy(d->desc[i], desc[i], 256);
	}
	/* what upstream sees now is BIRD's doing, not the agent's: no I5 */
	for (int i = 0; i < sim->model.nanns; i++) {
		const struct mann *a = &sim->model.anns[i];
		if (a->id < MAX_IDS)
			sim->up[a->id][k].variant = upstream_variant(sim, a, k);
	}
}

static void ev_daemon_boot(struct sim *sim, void *p, long k, uint64_t token)
{
	bool en[POOL];
	char desc[POOL][256];
	(void)p;
	if (token != sim->d[k].gen || sim->d[k].up)
		return;
	if (daemon_read(sim, (int)k, en, desc) < 0) {
		/* bird.conf does not parse: systemd tries again */
		ev_push(sim, sim->now + 1.0, ev_daemon_boot, NULL, k, sim->d[k].gen);
		return;
	}
	sim->d[k].up = true;
	for (int i = 0; i < POOL; i++)
		sim->d[k].en[i] = false;
	daemon_apply(sim, (int)k, en, desc, "read its decision file at start");
	sim->settle_from = sim->now;
}

static void daemon_restart(struct sim *sim, int k, double down)
{
	struct daemon *d = &sim->d[k];
	d->up = false;
	d->hung = d->refusing = false;
	daemon_drop_all(sim, k, "BIRD restarted");
	for (int i = 0; i < POOL; i++)
		d->en[i] = false;
	for (int i = 0; i < sim->model.nanns; i++)
		if (sim->model.anns[i].id < MAX_IDS)
			sim->up[sim->model.anns[i].id][k].variant = UP_NONE;
	ev_push(sim, sim->now + down, ev_daemon_boot, NULL, k, d->gen);
}

static void daemon_configure(struct sim *sim, int k)
{
	bool en[POOL];
	char desc[POOL][256];
	if (!sim->d[k].up || sim->d[k].hung)
		return;
	if (daemon_read(sim, k, en, desc) < 0)
		return; /* configure fails: nothing changes */
	daemon_apply(sim, k, en, desc, "birdc configure read its decision file");
	sim->settle_from = sim->now;
}

static void ev_fault_end(struct sim *sim, void *p, long k, uint64_t token)
{
	(void)p;
	(void)token;
	if (sim->now + 1e-9 < sim->d[k].fault_until)
		return;
	sim->d[k].hung = sim->d[k].refusing = false;
	sim->settle_from = sim->now;
}

/* ---- simulated bird.c clients: sync_bird_ops
 * ------------------------------------------------------ */

static void ev_client_connect(struct sim *sim, void *p, long arg, uint64_t token);
static void ev_client_head(struct sim *sim, void *p, long arg, uint64_t token);

static void schedule_reconnect(struct client *c)
{
	struct sim *sim = c->sim;
	c->backoff = c->backoff ? fmin(c->backoff * 2, 5.0) : 0.1;
	ev_push(sim, sim->now + c->backoff * rnd_range(&sim->rng, 0.5, 1.0), ev_client_connect, c,
	        0, ++c->token);
}

static void finish(struct client *c, const struct cmd *cmd, enum bird_status st, int code,
                   bool changed, const struct bird_protocol *protos, size_t n,
                   const struct bird_route *routes, size_t nr)
{
	struct bird_reply r = {.status = st, .code = code, .text = "", .changed = changed};
	if (cmd->kind == CMD_SHOW)
		((bird_show_cb)cmd->cb)(NULL, &r, protos, n, cmd->arg);
	else if (cmd->kind == CMD_ROUTE)
		((bird_route_cb)cmd->cb)(NULL, &r, routes, nr, cmd->arg);
	else
		((bird_done_cb)cmd->cb)(NULL, &r, cmd->arg);
}

/* bird.c on a lost connection: every command fails, then `disconnected`, then reconnect. */
static void client_drop(struct client *c, enum bird_status st, const char *why)
{
	struct cmd *q = c->q;
	size_t n = c->nq;

	c->connected = false;
	c->q = NULL;
	c->nq = c->cap = 0;
	c->head_scheduled = false;
	c->token++;
	for (size_t i = 0; i < n; i++)
		finish(c, &q[i], i == 0 ? st : BIRD_DISCONNECTED, 0, false, NULL, 0, NULL, 0);
	free(q);
	if (!c->closed) {
		if (c->cbs->disconnected)
			c->cbs->disconnected(NULL, why, c->cb_arg);
		schedule_reconnect(c);
	}
}

static void schedule_head(struct client *c)
{
	struct sim *sim = c->sim;
	if (c->head_scheduled || c->nq == 0 || !c->connected)
		return;
	c->head_scheduled = true;
	double at = sim->d[c->sock].hung ? sim->now + 1.0 /* bird.timeout */
	                                 : sim->now + rnd_range(&sim->rng, 0.0002, 0.02);
	ev_push(sim, at, ev_client_head, c, 0, c->token);
}

static void ev_client_head(struct sim *sim, void *p, long arg, uint64_t token)
{
	struct client *c = p;
	struct daemon *d = &sim->d[c->sock];
	(void)arg;
	if (c->closed || token != c->token || !c->connected || c->nq == 0)
		return;
	c->head_scheduled = false;
	if (c->gen != d->gen || !d->up) {
		client_drop(c, BIRD_DISCONNECTED, "connection reset");
		return;
	}
	if (d->hung) {
		client_drop(c, BIRD_TIMEOUT, "BIRD did not answer in time");
		return;
	}
	struct cmd cmd = c->q[0];
	memmove(c->q, c->q + 1, --c->nq * sizeof(*c->q));
	int sk, idx = cmd.kind == CMD_ENABLE || cmd.kind == CMD_DISABLE ||
	                      (cmd.name[0] && cmd.kind == CMD_SHOW)
	                  ? pool_of(cmd.name, &sk)
	                  : -1;
	if ((cmd.kind == CMD_ENABLE || cmd.kind == CMD_DISABLE) &&
	    (idx < 0 || sk != c->sock || !d->has[idx])) {
		finish(c, &cmd, BIRD_NO_SUCH_PROTOCOL, 9001, false, NULL, 0, NULL, 0);
	} else if ((cmd.kind == CMD_ENABLE || cmd.kind == CMD_DISABLE) && d->refusing) {
		finish(c, &cmd, BIRD_ACCESS_DENIED, 8007, false, NULL, 0, NULL, 0);
	} else if (cmd.kind == CMD_ENABLE || cmd.kind == CMD_DISABLE) {
		bool want = cmd.kind == CMD_ENABLE, changed = d->en[idx] != want;
		if (changed && want)
			observe_enable(sim, c->sock, idx, "enable command", cmd.justified);
		d->en[idx] = want;
		if (changed)
			observe_command(sim, c->sock, idx, !want, cmd.carried, cmd.decided);
		finish(c, &cmd, BIRD_OK, want ? 11 : 9, changed, NULL, 0, NULL, 0);
	} else if (cmd.kind == CMD_SHOW) {
		struct bird_protocol pr[POOL];
		size_t n = 0;
		for (int i = 0; i < POOL; i++) {
			if (!d->has[i] || (cmd.name[0] && i != idx))
				continue;
			memset(&pr[n], 0, sizeof(pr[n]));
			snprintf(pr[n].name, sizeof(pr[n].name), "s%dp%d", c->sock, i);
			snprintf(pr[n].state, sizeof(pr[n].state), "%s", d->en[i] ? "up" : "down");
			pr[n].up = d->en[i];
			pr[n].disabled = !d->en[i];
			if (cmd.all)
				snprintf(pr[n].description, sizeof(pr[n].description), "%s",
				         d->desc[i]);
			n++;
		}
		finish(c, &cmd, BIRD_OK, 0, false, pr, n, NULL, 0);
	} else {
		struct bird_route rt = {.best = true};
		snprintf(rt.proto, sizeof(rt.proto), "ibgp_pop2");
		snprintf(rt.origin, sizeof(rt.origin), "BGP");
		finish(c, &cmd, BIRD_OK, 0, false, NULL, 0, &rt, d->others ? 1 : 0);
	}
	schedule_head(c);
}

static void ev_client_connect(struct sim *sim, void *p, long arg, uint64_t token)
{
	struct client *c = p;
	struct daemon *d = &sim->d[c->sock];
	(void)arg;
	if (c->closed || token != c->token || c->connected)
		return;
	if (!d->up || d->hung) {
		schedule_reconnect(c);
		return;
	}
	c->connected = true;
	c->gen = d->gen;
	c->backoff = 0;
	if (c->cbs->connected)
		c->cbs->connected(NULL, "BIRD 2.0.12", c->cb_arg);
	schedule_head(c);
}

static void note_wants(struct sim *sim);

static void *sim_open(void *ops_arg, const struct bird_socket_conf *sc, double timeout,
                      const struct bird_client_cbs *cbs, void *cb_arg)
{
	struct sim *sim = ops_arg;
	struct client *c = xcalloc(1, sizeof(*c));
	(void)timeout;
	c->sim = sim;
	c->sock = sc->name[1] - '0';
	c->cbs = cbs;
	c->cb_arg = cb_arg;
	sim->clients = xrealloc(sim->clients, (sim->nclients + 1) * sizeof(*sim->clients));
	sim->clients[sim->nclients++] = c;
	ev_push(sim, sim->now + 0.001, ev_client_connect, c, 0, c->token);
	return c;
}

static void sim_close(void *bird)
{
	struct client *c = bird;
	c->closed = true;
	client_drop(c, BIRD_DISCONNECTED, "client closed");
}

static enum bird_status queue(struct client *c, enum cmd_kind kind, const char *name, bool all,
                              void *cb, void *arg)
{
	if (c->closed || !c->connected)
		return BIRD_DISCONNECTED;
	if (c->nq == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->q = xrealloc(c->q, c->cap * sizeof(*c->q));
	}
	struct cmd *q = &c->q[c->nq++];
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->all = all;
	snprintf(q->name, sizeof(q->name), "%s", name ? name : "");
	q->cb = cb;
	q->arg = arg;
	int k, idx = kind == CMD_ENABLE ? pool_of(q->name, &k) : -1;
	/* the decision that sent it is judged now, not when it arrives */
	note_wants(c->sim);
	q->justified = idx >= 0 && c->sim->justified[k][idx];
	/* an operator's undrain carried out after BIRD came back is still the operator's */
	q->decided = c->sim->now;
	if (kind == CMD_ENABLE || kind == CMD_DISABLE) {
		int dk, didx = pool_of(q->name, &dk);
		if (didx >= 0)
			q->decided = c->sim->decided_at[dk][didx];
	}
	if (kind == CMD_DISABLE && (idx = pool_of(q->name, &k)) >= 0) {
		int role;
		const struct mann *a = ann_of_pool(&c->sim->model, idx, &role);
		struct announcement *ea = a ? engine_ann(c->sim, a->id) : NULL;
		int carrier = !ea || !a                         ? -1
		              : ea->variant == VARIANT_NORMAL   ? a->normal
		              : ea->variant == VARIANT_DEGRADED ? a->degraded
		              : ea->variant == VARIANT_DRAIN    ? a->drain
		                                                : -1;
		/* a variant this BIRD lacks carries nothing here: a drain whose drain protocol
		 * is missing withdraws on that socket (sync.h), and an undrain arriving while
		 * that disable is under way does not make it a gap */
		q->carried = carrier >= 0 && c->sim->d[k].has[carrier];
		/* adopting: carried on this socket if this boot's files say so for one of them */
		if (ea && ea->state == ANN_ADOPTING && a) {
			int roles[] = {a->normal, a->drain, a->degraded};
			char n[16];
			for (int r = 0; r < 3; r++) {
				if (roles[r] < 0)
					continue;
				snprintf(n, sizeof(n), "s%dp%d", k, roles[r]);
				q->carried |= sync_decision(c->sim->ag.core->sync, n) == 1;
			}
		}
	}
	schedule_head(c);
	return BIRD_OK;
}

static enum bird_status sim_enable(void *bird, const char *proto, bird_done_cb cb, void *arg)
{
	return queue(bird, CMD_ENABLE, proto, false, (void *)cb, arg);
}

static enum bird_status sim_disable(void *bird, const char *proto, const char *message,
                                    bird_done_cb cb, void *arg)
{
	(void)message;
	return queue(bird, CMD_DISABLE, proto, false, (void *)cb, arg);
}

static enum bird_status sim_show(void *bird, const char *name, bool all, bird_show_cb cb, void *arg)
{
	return queue(bird, CMD_SHOW, name, all, (void *)cb, arg);
}

static enum bird_status sim_route(void *bird, const char *prefix, bird_route_cb cb, void *arg)
{
	(void)prefix;
	return queue(bird, CMD_ROUTE, NULL, false, (void *)cb, arg);
}

static const struct sync_bird_ops sim_ops = {sim_open,    sim_close, sim_enable,
                                             sim_disable, sim_show,  sim_route};

/* ---- the agent on the simulated clock
 * ------------------------------------------------------------ */

static double clock_mono(void *arg)
{
	return ((struct sim *)arg)->now;
}

static double clock_wall(void *arg)
{
	return ((struct sim *)arg)->now + 1.7e9;
}

static double agent_rand(void *arg)
{
	return rnd01(&((struct sim *)arg)->rand_state);
}

static int id_of(const char *name)
{
	return atoi(name + 1) % MAX_IDS;
}

static void on_changed(void *arg, const struct announcement *a)
{
	struct sim *sim = arg;
	if (strncmp(a->cause, "undrained", 9) == 0 || strstr(a->cause, "expired") != NULL)
		operator_acted(sim, id_of(a->conf->name));
}

static void on_paths(size_t ann, bool others, void *arg)
{
	struct sim *sim = arg;
	if (sim->ag.alive && !sim->ag.stopping)
		core_paths(sim->ag.core, ann, others);
}

/* A drain that expired while the agent was down ends when the next agent starts: what that
 * agent then announces is the operator's doing, as at an expiry it sees (on_changed). */
static void expired_drains(struct sim *sim)
{
	char path[256], buf[65536], err[200];
	struct state_drain *v;
	size_t n, len;
	bool truncated;
	FILE *f;

	snprintf(path, sizeof(path), "%s/lib/state", sim->root);
	if ((f = fopen(path, "r")) == NULL)
		return;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (state_parse(buf, len, &v, &n, &truncated, err, sizeof(err)) < 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (v[i].until <= clock_wall(sim) && v[i].name[0] == 'a')
			operator_acted(sim, id_of(v[i].name));
	state_drains_free(v, n);
}

static void agent_start(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	char *text = render(&sim->model, sim->root), *err = NULL;
	static const struct core_clock clock = {clock_mono, clock_wall, NULL};
	struct core_clock ck = clock;

	ag->conf = conf_load_string(text, "sim.conf", NULL, &err);
	if (ag->conf == NULL) {
		fprintf(stderr, "lifecycle_sim: the generated config does not load:\n%s%s\n", err,
		        text);
		exit(2);
	}
	free(text);
	ck.arg = sim;
	expired_drains(sim);
	ag->core = core_new(ag->conf, &ck, agent_rand, sim, &sim_ops, sim, false);
	core_set_hooks(ag->core, &(struct core_hooks){on_changed, NULL, sim});
	sync_set_paths_cb(ag->core->sync, on_paths, sim);
	ag->alive = true;
	ag->stopping = ag->stop_done = false;
	ag->nruns = 0;
	memset(ag->prev_want, -1, sizeof(ag->prev_want));
	memset(sim->passed_since_start, 0, sizeof(sim->passed_since_start));
	core_start(ag->core);
	if (sim->verbose)
		for (size_t i = 0; i < ag->core->engine->nannouncements; i++) {
			struct announcement *x = &ag->core->engine->announcements[i];
			fprintf(stderr, "%9.3f start: %s penalty %.1f at %.3f (now %.1f) hl %.3f\n",
			        sim->now, x->conf->name, x->penalty, x->penalty_at,
			        engine_announcement_penalty(x, sim->now), x->conf->damp_half_life);
		}
	ag->next_reconcile = sim->now + ag->conf->bird.reconcile_interval;
	sim->settle_from = sim->now;
}

static void agent_crash(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	if (!ag->alive)
		return;
	/* what BIRD still carries after a stop is the stop's, even if another agent ends it */
	if (ag->stopping && !ag->keep)
		for (int i = 0; i < sim->model.nanns; i++)
			for (int k = 0; k < sim->model.nsock; k++) {
				struct upmodel *u = &sim->up[sim->model.anns[i].id % MAX_IDS][k];
				u->stop_pending = u->variant != UP_NONE;
			}
	ag->alive = false;
	core_free(ag->core);
	conf_free(ag->conf);
	ag->core = NULL;
	ag->conf = NULL;
}

static void ev_agent_start(struct sim *sim, void *p, long arg, uint64_t token)
{
	(void)p;
	(void)arg;
	(void)token;
	if (!sim->ag.alive)
		agent_start(sim);
}

static void stop_flushed(bool ok, void *arg)
{
	(void)ok;
	((struct sim *)arg)->ag.stop_done = true;
}

static void dropped(struct check *old, void *arg)
{
	struct sim *sim = arg;
	for (size_t i = 0; i < sim->ag.nruns; i++)
		if (strcmp(sim->ag.runs[i].name, old->conf->name) == 0)
			sim->ag.runs[i] = sim->ag.runs[--sim->ag.nruns];
}

static void ev_result(struct sim *sim, void *p, long arg, uint64_t token)
{
	struct agent_sim *ag = &sim->ag;
	(void)p;
	if (!ag->alive || ag->stopping)
		return;
	for (size_t i = 0; i < ag->nruns; i++) {
		if (ag->runs[i].token != token)
			continue;
		struct check *c = engine_find_check(ag->core->engine, ag->runs[i].name);
		ag->runs[i] = ag->runs[--ag->nruns];
		if (c == NULL || !c->running)
			return;
		static const int codes[] = {RES_OK, RES_WARNING, RES_CONNECT_REFUSED, RES_TIMEOUT};
		struct check_report rep = {.code = codes[arg], .duration = 0.01};
		snprintf(rep.detail, sizeof(rep.detail), "simulated");
		core_result(ag->core, c, &rep, rnd01(&sim->rng));
		return;
	}
}

static void start_due_checks(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	struct engine *e = ag->core->engine;
	for (size_t i = 0; i < e->nchecks; i++) {
		struct check *c = &e->checks[i];
		if (!engine_check_due(c, sim->now) || ag->nruns >= MAX_IDS)
			continue;
		engine_check_started(c, sim->now);
		enum svc s = sim->svc[id_of(c->conf->name)];
		double dur = s == SVC_HANG ? c->conf->timeout
		                           : rnd_range(&sim->rng, 0.001, c->conf->timeout * 0.8);
		uint64_t token = ++sim->evseq;
		snprintf(ag->runs[ag->nruns].name, sizeof(ag->runs[0].name), "%s", c->conf->name);
		ag->runs[ag->nruns++].token = token;
		ev_push(sim, sim->now + dur, ev_result, NULL, s, token);
	}
}

/* The earliest time the agent itself has something to do. */
static double agent_next(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	if (!ag->alive)
		return INFINITY;
	if (ag->stopping)
		return ag->stop_deadline;
	double t = fmin(ag->next_reconcile, core_next_event(ag->core));
	struct engine *e = ag->core->engine;
	for (size_t i = 0; i < e->nchecks; i++)
		if (!e->checks[i].running)
			t = fmin(t, e->checks[i].next_due);
	return t;
}

static void agent_work(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	if (!ag->alive)
		return;
	if (ag->stopping) {
		if (!ag->stop_done && sim->now >= ag->stop_deadline)
			sync_flush_cancel(ag->core->sync);
		return;
	}
	if (sim->now >= core_next_event(ag->core))
		core_tick(ag->core);
	if (sim->now >= ag->next_reconcile) {
		ag->next_reconcile = sim->now + ag->conf->bird.reconcile_interval;
		core_reconcile(ag->core);
	}
	start_due_checks(sim);
}

/* ---- invariants
 * ------------------------------------------------------------------------------------ */

/* I1 on the agent's side: a want becomes ENABLED only with the checks up (or the guard). */
static void note_wants(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	if (!ag->alive)
		return;
	struct sync *s = ag->core->sync;
	struct engine *e = ag->core->engine;
	for (size_t i = 0; i < e->nannouncements; i++)
		if (e->announcements[i].eligible)
			sim->passed_since_start[id_of(e->announcements[i].conf->name)] = true;
	for (size_t i = 0; i < sync_nprotos(s); i++) {
		struct sync_proto_status ps;
		int k, idx, role;
		sync_proto_status(s, i, &ps);
		if ((idx = pool_of(ps.name, &k)) < 0)
			continue;
		int w = (int)ps.want;
		/* a protocol that left the configuration is disabled by that reload's decision,
		 * however late BIRD carries it out (an orphan on another socket is not its BIRD's)
		 */
		if (ps.orphan && (ps.socket[0] != 's' || atoi(ps.socket + 1) != k))
			continue;
		if (w != sim->last_want[k][idx] && w != SYNC_KEEP) {
			sim->decided_at[k][idx] = sim->now;
			sim->last_want[k][idx] = w;
		}
		if (ps.orphan)
			continue;
		if (w == SYNC_ENABLED && ag->prev_want[k][idx] != SYNC_ENABLED) {
			const struct mann *a = ann_of_pool(&sim->model, idx, &role);
			struct announcement *ea = a ? engine_ann(sim, a->id) : NULL;
			if (ea == NULL || !(ea->state == ANN_DRAINING || ea->eligible ||
			                    ea->guarded || sim->passed_since_start[a->id]))
				violate(sim,
				        "I1: the agent wants s%dp%d enabled without its checks up "
				        "(%s)",
				        k, idx,
				        ea ? announce_state_name(ea->state) : "no announcement");
			sim->justified[k][idx] = true;
		}
		/* the decision of this boot is now "withdrawn": nothing may bring it back */
		if (w == SYNC_DISABLED)
			sim->justified[k][idx] = false;
		ag->prev_want[k][idx] = w;
	}
}

/* idx should be disabled but stays: the variant that should take over is not in BIRD (sync
 * keeps the old one rather than withdraw, except for a drain). */
static bool replacement_missing(struct sim *sim, int k, int idx)
{
	int role;
	const struct mann *a = ann_of_pool(&sim->model, idx, &role);
	int roles[] = {a ? a->normal : -1, a ? a->degraded : -1};
	struct sync *s = sim->ag.core->sync;

	for (int r = 0; r < 2; r++) {
		char n[16];
		if (roles[r] < 0 || roles[r] == idx || sim->d[k].has[roles[r]])
			continue;
		snprintf(n, sizeof(n), "s%dp%d", k, roles[r]);
		for (size_t i = 0; i < sync_nprotos(s); i++) {
			struct sync_proto_status ps;
			sync_proto_status(s, i, &ps);
			/* what should carry it: wanted enabled, or kept from this boot's files */
			if (strcmp(ps.name, n) == 0 &&
			    (ps.want == SYNC_ENABLED ||
			     (ps.want == SYNC_KEEP && ps.file_state == 1)))
				return true;
		}
	}
	return false;
}

static bool quiet(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	if (!ag->alive || ag->stopping)
		return false;
	if (sim->now < sim->settle_from + ag->conf->bird.reconcile_interval + SLACK)
		return false;
	for (int k = 0; k < sim->model.nsock; k++)
		if (!sim->d[k].up || sim->d[k].hung || sim->d[k].refusing ||
		    !sync_connected(ag->core->sync, (size_t)k))
			return false;
	for (size_t i = 0; i < sim->nclients; i++)
		if (!sim->clients[i]->closed && sim->clients[i]->nq > 0)
			return false;
	return true;
}

static void check_quiet(struct sim *sim)
{
	struct agent_sim *ag = &sim->ag;
	struct sync *s = ag->core->sync;
	bool configured[NSOCK_MAX][POOL] = {{false}};

	for (size_t i = 0; i < sync_nprotos(s); i++) {
		struct sync_proto_status ps;
		int k, idx;
		sync_proto_status(s, i, &ps);
		if ((idx = pool_of(ps.name, &k)) < 0 || !sim->d[k].has[idx])
			continue;
		if (!ps.orphan)
			configured[k][idx] = true;
		if (ps.want == SYNC_KEEP || replacement_missing(sim, k, idx))
			continue;
		bool want = ps.want == SYNC_ENABLED;
		if (sim->d[k].en[idx] != want)
			violate(sim, "I4: BIRD s%d has %s %s, the agent decided %s", k, ps.name,
			        sim->d[k].en[idx] ? "enabled" : "disabled",
			        sync_want_name(ps.want));
	}
	for (int k = 0; k < sim->model.nsock; k++)
		for (int i = 0; i < POOL; i++)
			if (sim->d[k].en[i] && !configured[k][i])
				violate(sim,
				        "I3: s%dp%d is not configured but still enabled in BIRD", k,
				        i);
	for (int i = 0; i < sim->model.nanns; i++) {
		const struct mann *a = &sim->model.anns[i];
		struct announcement *ea = engine_ann(sim, a->id);
		if (ea == NULL || !ea->drain.active)
			continue;
		for (int k = 0; k < sim->model.nsock; k++) {
			const struct daemon *d = &sim->d[k];
			if ((a->normal >= 0 && d->en[a->normal]) ||
			    (a->degraded >= 0 && d->en[a->degraded]))
				violate(sim,
				        "I2: a%d is drained but its normal or degraded variant is "
				        "enabled on s%d",
				        a->id, k);
			if (a->drain >= 0 && d->en[a->drain] &&
			    (ea->state != ANN_DRAINING ||
			     ea->drain_end > ea->drain.since + ea->conf->drain_time + 1e-6))
				violate(sim,
				        "I2: a%d's drain variant is enabled past drain_time (%s)",
				        a->id, announce_state_name(ea->state));
		}
	}
}

static void check_invariants(struct sim *sim)
{
	note_wants(sim);
	if (quiet(sim))
		check_quiet(sim);
}

/* ---- steps
 * ---------------------------------------------------------------------------------------- */

static void random_steps(uint64_t seed, struct step *steps, size_t *n)
{
	uint64_t r = seed ^ 0x5bd1e995ull;
	static const unsigned weight[A__COUNT] = {
	    [A_SVC] = 30,           [A_DRAIN] = 6,     [A_UNDRAIN] = 5,     [A_RELOAD] = 8,
	    [A_CRASH] = 4,          [A_STOP] = 3,      [A_REBOOT] = 2,      [A_BIRD_RESTART] = 3,
	    [A_BIRD_CONFIGURE] = 5, [A_BIRD_HANG] = 2, [A_BIRD_REFUSE] = 2, [A_BIRD_DROP] = 3,
	    [A_TAMPER] = 3,         [A_PATHS] = 3};
	unsigned total = 0;
	for (int i = 0; i < A__COUNT; i++)
		total += weight[i];
	*n = 20 + rndn(&r, MAX_STEPS - 20);
	double t = 0;
	for (size_t i = 0; i < *n; i++) {
		unsigned w = rndn(&r, total), a = 0;
		while (w >= weight[a])
			w -= weight[a++];
		t += rndn(&r, 4) ? rnd_range(&r, 0.01, 3) : rnd_range(&r, 3, 40);
		steps[i] = (struct step){t, (enum act)a, (uint32_t)rng_next(&r),
		                         (uint32_t)rng_next(&r), (uint32_t)rng_next(&r)};
	}
}

static void describe_step(const struct step *st, char *buf, size_t len)
{
	snprintf(buf, len, "t=%.3f %s a=%u b=%u c=%u", st->at, act_names[st->act], st->a % 1000,
	         st->b % 1000, st->c % 1000);
}

static void do_step(struct sim *sim, const struct step *st)
{
	struct agent_sim *ag = &sim->ag;
	int k = (int)(st->a % (unsigned)sim->model.nsock);
	uint64_t r = st->a ^ ((uint64_t)st->b << 32) ^ st->c;

	switch (st->act) {
	case A_SVC: {
		if (!sim->model.nchecks)
			break;
		const struct mcheck *c = &sim->model.checks[st->a % (unsigned)sim->model.nchecks];
		static const enum svc pick[] = {SVC_OK,   SVC_OK,   SVC_OK,
		                                SVC_WARN, SVC_FAIL, SVC_HANG};
		sim->svc[c->id % MAX_IDS] = pick[st->b % 6];
		break;
	}
	case A_DRAIN:
	case A_UNDRAIN: {
		if (!ag->alive || ag->stopping || !sim->model.nanns)
			break;
		struct engine *e = ag->core->engine;
		bool all = st->b % 4 == 0;
		for (size_t i = 0; i < e->nannouncements; i++) {
			struct announcement *a = &e->announcements[i];
			if (!all && i != st->a % e->nannouncements)
				continue;
			if (st->act == A_DRAIN) {
				double until =
				    st->c % 2 ? sim->now + 1.7e9 + 1 + st->c % 60 : INFINITY;
				if (core_drain(ag->core, a, "simulated maintenance", "sim", 0,
				               until) >= 0)
					operator_acted(sim, id_of(a->conf->name));
			} else {
				int rc;
				if (core_undrain(ag->core, a->conf->name, "sim", 0, &rc) > 0)
					operator_acted(sim, id_of(a->conf->name));
			}
		}
		break;
	}
	case A_RELOAD: {
		if (!ag->alive || ag->stopping)
			break;
		struct model m = sim->model;
		edit_model(&m, &r);
		char *text = render(&m, sim->root), *err = NULL;
		struct agent_conf *conf = conf_load_string(text, "sim.conf", NULL, &err);
		if (conf == NULL) {
			fprintf(stderr, "lifecycle_sim: an edited config does not load:\n%s%s\n",
			        err, text);
			exit(2);
		}
		free(text);
		/* an edit of its protocols moves the prefix by the operator's hand (I5 exempt) */
		for (int i = 0; i < m.nanns; i++)
			for (int j = 0; j < sim->model.nanns; j++)
				if (m.anns[i].id == sim->model.anns[j].id &&
				    (m.anns[i].normal != sim->model.anns[j].normal ||
				     m.anns[i].drain != sim->model.anns[j].drain ||
				     m.anns[i].degraded != sim->model.anns[j].degraded))
					operator_acted(sim, m.anns[i].id % MAX_IDS);
		sim->model = m;
		note_routes(sim);
		core_reload(ag->core, conf, dropped, sim);
		/* as agent.c: a new reconcile interval starts now, the same one keeps its rhythm */
		if (conf->bird.reconcile_interval != ag->conf->bird.reconcile_interval)
			ag->next_reconcile = sim->now + conf->bird.reconcile_interval;
		conf_free(ag->conf);
		ag->conf = conf;
		sim->settle_from = sim->now;
		break;
	}
	case A_CRASH:
		agent_crash(sim);
		ev_push(sim, sim->now + (st->b % 500) / 100.0, ev_agent_start, NULL, 0, 0);
		break;
	case A_STOP: {
		if (!ag->alive || ag->stopping)
			break;
		bool keep = st->b % 3 == 0;
		ag->stopping = true;
		ag->keep = keep;
		ag->stop_deadline = sim->now + 3 * ag->conf->bird.timeout + 1;
		core_stop(ag->core, keep, "anycast-agent stopped");
		if (keep)
			ag->stop_done = true;
		else
			sync_flush(ag->core->sync, stop_flushed, sim);
		break;
	}
	case A_REBOOT: {
		char path[256];
		agent_crash(sim);
		for (int i = 0; i < sim->model.nsock; i++) {
			sim->d[i].up = false;
			daemon_restart(sim, i, 0.5 + (st->c % 300) / 100.0);
		}
		/* a reboot empties /run: every decision of this boot is gone */
		memset(sim->justified, 0, sizeof(sim->justified));
		for (int kk = 0; kk < NSOCK_MAX; kk++)
			for (int i = 0; i < POOL; i++) {
				snprintf(path, sizeof(path), "%s/run/bird/s%dp%d.conf", sim->root,
				         kk, i);
				unlink(path);
			}
		ev_push(sim, sim->now + 2 + (st->b % 400) / 100.0, ev_agent_start, NULL, 0, 0);
		break;
	}
	case A_BIRD_RESTART:
		daemon_restart(sim, k, 0.2 + (st->b % 300) / 100.0);
		break;
	case A_BIRD_CONFIGURE:
		daemon_configure(sim, k);
		break;
	case A_BIRD_HANG:
	case A_BIRD_REFUSE:
		if (!sim->d[k].up)
			break;
		sim->d[k].fault_until = sim->now + 0.5 + (st->b % 1000) / 100.0;
		if (st->act == A_BIRD_HANG) {
			sim->d[k].hung = true;
		} else {
			sim->d[k].refusing = true;
		}
		ev_push(sim, sim->d[k].fault_until, ev_fault_end, NULL, k, 0);
		break;
	case A_BIRD_DROP:
		daemon_drop_all(sim, k, "connection reset by the simulation");
		sim->settle_from = sim->now;
		break;
	case A_TAMPER: {
		if (!sim->model.nanns)
			break;
		const struct mann *a = &sim->model.anns[st->b % (unsigned)sim->model.nanns];
		char path[256];
		snprintf(path, sizeof(path), "%s/run/bird/s%dp%d.conf", sim->root, k, a->normal);
		sim->tampered[k][a->normal] = true;
		if (st->c % 2) {
			unlink(path);
		} else {
			FILE *f = fopen(path, "w");
			if (f) {
				fputs("garbage }\n", f);
				fclose(f);
			}
		}
		sim->settle_from = sim->now;
		break;
	}
	case A_PATHS:
		sim->d[k].others = st->b % 2;
		break;
	default:
		break;
	}
}

/* ---- one sequence
 * ---------------------------------------------------------------------------------- */

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char p[512];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void process_one(struct sim *sim, double until)
{
	double tq = sim->nev ? sim->ev[0].at : INFINITY, ta = agent_next(sim);
	double t = fmin(tq, ta);
	if (t > until) {
		sim->now = until;
		return;
	}
	if (t > sim->now)
		sim->now = t;
	if (tq <= ta) {
		struct event e = ev_pop(sim);
		e.fn(sim, e.p, e.arg, e.token);
	} else {
		agent_work(sim);
	}
	sim->events++;
	if (sim->ag.alive && sim->ag.stopping && sim->ag.stop_done) {
		agent_crash(sim);
		ev_push(sim, sim->now + 0.5, ev_agent_start, NULL, 0, 0);
	}
	check_invariants(sim);
}

static void run_until(struct sim *sim, double until)
{
	double last = sim->now;
	unsigned long same = 0;

	while (!sim->violation[0] && sim->now < until) {
		process_one(sim, until);
		/* a wedge is a failure too: time must move on */
		same = sim->now > last ? 0 : same + 1;
		last = sim->now;
		if (same > 100000)
			violate(sim,
			        "liveness: 100000 events at t=%.6f without time moving on (agent "
			        "event %.6f, reconcile %.6f, queue %.6f)",
			        sim->now, sim->ag.alive ? core_next_event(sim->ag.core) : INFINITY,
			        sim->ag.alive ? sim->ag.next_reconcile : INFINITY,
			        sim->nev ? sim->ev[0].at : INFINITY);
	}
}

/* Run the steps (keep[i] false: skipped). Returns true on a violation. */
static bool run_sequence(struct sim *sim, uint64_t seed, const struct step *steps, size_t n,
                         const bool *keep, double *sim_time)
{
	char tmpl[] = "/dev/shm/aa-sim.XXXXXX";
	const char *base = access("/dev/shm", W_OK) == 0 ? tmpl : NULL;
	char tmpl2[] = "/tmp/aa-sim.XXXXXX";

	memset(sim, 0, offsetof(struct sim, verbose));
	sim->log_n = 0;
	sim->seed = seed;
	sim->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	sim->rand_state = seed + 7;
	if (mkdtemp(base ? tmpl : tmpl2) == NULL) {
		perror("lifecycle_sim: mkdtemp");
		exit(2);
	}
	snprintf(sim->root, sizeof(sim->root), "%s", base ? tmpl : tmpl2);
	uint64_t r = seed;
	random_model(&sim->model, &r);
	for (int i = 0; i < POOL; i++)
		sim->route_ann[i] = -1;
	note_routes(sim);
	memset(sim->last_want, -1, sizeof(sim->last_want));
	for (int k = 0; k < NSOCK_MAX; k++) {
		for (int i = 0; i < POOL; i++)
			sim->d[k].has[i] = true;
		/* now and then bird.conf lacks one of them */
		if (rndn(&r, 8) == 0)
			sim->d[k].has[rndn(&r, POOL)] = false;
		sim->d[k].up = true;
	}
	for (int i = 0; i < MAX_IDS; i++)
		for (int j = 0; j < 4; j++)
			sim->op_time[i][j] = -1e9;
	agent_start(sim);
	for (size_t i = 0; i < n && !sim->violation[0]; i++) {
		if (keep && !keep[i])
			continue;
		run_until(sim, steps[i].at);
		if (sim->violation[0])
			break;
		do_step(sim, &steps[i]);
		check_invariants(sim);
	}
	if (!sim->violation[0])
		run_until(sim, (n ? steps[n - 1].at : 0) + 40);
	*sim_time = sim->now;
	agent_crash(sim);
	for (size_t i = 0; i < sim->nclients; i++) {
		free(sim->clients[i]->q);
		free(sim->clients[i]);
	}
	free(sim->clients);
	free(sim->ev);
	sim->clients = NULL;
	sim->ev = NULL;
	sim->nclients = sim->nev = sim->evcap = 0;
	rm_tree(sim->root);
	return sim->violation[0] != 0;
}

/* Drop steps while the sequence still breaks an invariant: what is left is the replay. */
static size_t shorten(struct sim *sim, uint64_t seed, const struct step *steps, size_t n,
                      bool *keep)
{
	double t;
	size_t left = n;
	for (size_t i = 0; i < n; i++)
		keep[i] = true;
	for (size_t chunk = n / 2; chunk >= 1; chunk /= 2) {
		for (size_t i = 0; i < n; i += chunk) {
			bool saved[MAX_STEPS];
			memcpy(saved, keep, n * sizeof(bool));
			size_t removed = 0;
			for (size_t j = i; j < i + chunk && j < n; j++)
				if (keep[j]) {
					keep[j] = false;
					removed++;
				}
			if (removed == 0)
				continue;
			if (run_sequence(sim, seed, steps, n, keep, &t))
				left -= removed;
			else
				memcpy(keep, saved, n * sizeof(bool));
		}
		if (chunk == 1)
			break;
	}
	return left;
}

/* Sequences that walk rare corners (an orphan on a hung BIRD configured again, a drain that
 * expires while the agent is down, protocols edited while an announcement is adopted): the run
 * without -s plays them before its random ones. */
static const uint64_t corner_seeds[] = {1302831, 3003503, 3030414, 3137345, 3622462};

int main(int argc, char **argv)
{
	uint64_t seed = (uint64_t)time(NULL);
	size_t corners = ARRAY_SIZE(corner_seeds);
	long count = -1;
	double seconds = getenv("SIM_SECONDS") ? atof(getenv("SIM_SECONDS")) : 20;
	bool verbose = false, keep_going = false;
	unsigned long broken[8] = {0}, nbroken = 0;
	int opt;
	static struct sim sim;

	while ((opt = getopt(argc, argv, "s:n:t:vk")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			corners = 0;
			break;
		case 'n':
			count = atol(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'k':
			keep_going = true;
			break;
		default:
			fprintf(stderr, "usage: lifecycle_sim [-s SEED] [-n SEQUENCES] [-t "
			                "SECONDS] [-v] [-k]\n");
			return 2;
		}
	}
	sim.verbose = verbose;
	log_set_sink(sim_log, &sim);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned long seqs = 0, nsteps = 0;
	double simulated = 0;
	for (long i = 0; count < 0 || i < count; i++) {
		struct step steps[MAX_STEPS];
		size_t n;
		double t;
		uint64_t s = (size_t)i < corners ? corner_seeds[i] : seed + (uint64_t)i - corners;

		random_steps(s, steps, &n);
		if (run_sequence(&sim, s, steps, n, NULL, &t) && keep_going) {
			printf("VIOLATION in sequence seed %llu: %s\n", (unsigned long long)s,
			       sim.violation);
			int which = sim.violation[0] == 'I' ? sim.violation[1] - '0' : 7;
			broken[which >= 1 && which <= 6 ? which : 7]++;
			nbroken++;
		} else if (sim.violation[0]) {
			char what[sizeof(sim.violation)], line[128];
			bool keep[MAX_STEPS];

			snprintf(what, sizeof(what), "%s", sim.violation);
			printf("VIOLATION in sequence seed %llu: %s\n", (unsigned long long)s,
			       what);
			printf("reproduce: lifecycle_sim -s %llu -n 1 -v\n", (unsigned long long)s);
			sim.verbose = false;
			size_t left = shorten(&sim, s, steps, n, keep);
			printf("shortened replay (%zu of %zu steps still break it):\n", left, n);
			for (size_t j = 0; j < n; j++)
				if (keep[j]) {
					describe_step(&steps[j], line, sizeof(line));
					printf("  %s\n", line);
				}
			run_sequence(&sim, s, steps, n, keep, &t);
			printf("it breaks with: %s\nlast log lines:\n", sim.violation);
			for (unsigned j = sim.log_n > 40 ? sim.log_n - 40 : 0; j < sim.log_n; j++)
				printf("  %s\n", sim.log_ring[j % 64]);
			return 1;
		}
		seqs++;
		nsteps += n;
		simulated += t;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double el =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (count < 0 && el >= seconds)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("lifecycle_sim: %lu sequences (%sseeds %llu..%llu), %lu steps, %.1f simulated "
	       "hours, %lu violations, %.1f s, %.0f sequences/s\n",
	       seqs, corners ? "the corner seeds, then " : "", (unsigned long long)seed,
	       (unsigned long long)(seed + seqs - corners - 1), nsteps, simulated / 3600, nbroken,
	       el, seqs / (el > 0 ? el : 1));
	if (nbroken)
		printf("broken sequences by invariant: I1 %lu, I2 %lu, I3 %lu, I4 %lu, I5 %lu, I6 "
		       "%lu, "
		       "liveness %lu\n",
		       broken[1], broken[2], broken[3], broken[4], broken[5], broken[6], broken[7]);
	return nbroken ? 1 : 0;
}
