/* SPDX-License-Identifier: ISC */
/*
 * output_nagios.c - the snapshot as a Nagios plugin report (anycastctl
 * status): the OK/WARNING/CRITICAL verdict, the 1 KiB first line with its
 * perfdata, the long output. The mapping is documented in anycastctl(8).
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "util.h"

/* One finding is at most this long in the summary (a drain reason may be 200 bytes). */
#define FINDING_MAX 160
/* Perfdata labels are cut to this many bytes. */
#define LABEL_MAX 80

struct finding {
	int sev;
	char text[FINDING_MAX];
};

struct eval {
	struct finding *v;
	size_t n, cap;
	int state;
	unsigned nann, nannounced, nchecks, nup;
	/* between eval_begin() and eval_finish() */
	struct strlist explained; /* checks an announcement's finding already names */
	bool bad_version, dry_run;
};

const char *nagios_state_name(int state)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

	return state >= 0 && state <= NAGIOS_UNKNOWN ? names[state] : "UNKNOWN";
}

/* Back off from a cut inside a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/*
 * Copy src into dst (size len) for plugin output: '|' would start perfdata and a control
 * character a new line, so they become '/' and ' '. A cut ends in "...".
 */
static void clean_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src), i;

	if (len == 0)
		return;
	if (n >= len) {
		n = len > 4 ? utf8_cut(src, len - 4) : 0;
		for (i = 0; i < n; i++)
			dst[i] = src[i];
		strcpy(dst + n, len > 4 ? "..." : "");
	} else {
		memcpy(dst, src, n + 1);
	}
	for (i = 0; dst[i]; i++) {
		if (dst[i] == '|')
			dst[i] = '/';
		else if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = ' ';
	}
}

static void __attribute__((format(printf, 3, 4)))
finding(struct eval *ev, int sev, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? ev->cap * 2 : 16;
		ev->v = xrealloc(ev->v, ev->cap * sizeof(*ev->v));
	}
	ev->v[ev->n].sev = sev;
	clean_copy(ev->v[ev->n].text, sizeof(ev->v[ev->n].text), raw);
	ev->n++;
	if (sev > ev->state)
		ev->state = sev;
}

/* " (ends in 55m)" or "" for a drain without expiry. */
static void drain_end(char *buf, size_t len, const json_t *drain, double now)
{
	double until = snap_num(drain, "until", NAN);
	char d[32];

	if (!isfinite(until)) {
		buf[0] = '\0';
		return;
	}
	output_duration(d, sizeof(d), until - now);
	snprintf(buf, len, " (ends in %s)", d);
}

/* Severity of one announcement, with its finding. */
static int eval_announcement(struct eval *ev, const json_t *ann, double now)
{
	const char *name = snap_str(ann, "name", "?");
	const char *st = snap_str(ann, "state", "?");
	const char *cause = snap_str(ann, "cause", "");
	const json_t *drain = snap_object(ann, "drain");
	const char *sep = cause[0] ? ": " : "";
	char end[64], when[64], next[72] = "";

	/* before the cause and the reason: a long one is cut at the end of the finding */
	snap_next_change(when, sizeof(when), ann, now);
	if (when[0])
		snprintf(next, sizeof(next), " (%s)", when);

	if (snap_bool(ann, "guarded", false)) {
		finding(ev, NAGIOS_CRITICAL, "%s withdraw held by the last-site guard%s%s", name,
		        sep, cause);
		return NAGIOS_CRITICAL;
	}
	if (strcmp(st, "ANNOUNCED") == 0)
		return NAGIOS_OK;
	if (strcmp(st, "WITHDRAWN") == 0) {
		finding(ev, NAGIOS_CRITICAL, "%s WITHDRAWN%s%s%s", name, next, sep, cause);
		return NAGIOS_CRITICAL;
	}
	if ((strcmp(st, "DRAINED") == 0 || strcmp(st, "DRAINING") == 0) && drain) {
		const char *who = snap_str(drain, "who", "");

		drain_end(end, sizeof(end), drain, now);
		finding(ev, NAGIOS_WARNING, "%s %s%s by %s: %s%s", name, st, next,
		        who[0] ? who : "operator", snap_str(drain, "reason", ""), end);
	} else if (strcmp(st, "SUPPRESSED") == 0) {
		finding(ev, NAGIOS_WARNING, "%s SUPPRESSED by flap damping (penalty %.0f)%s%s%s",
		        name, snap_num(ann, "penalty", 0), next, sep, cause);
	} else if (strcmp(st, "ADOPTING") == 0) {
		finding(ev, NAGIOS_WARNING, "%s ADOPTING: starting, waiting for its checks", name);
	} else if (strcmp(st, "DEGRADED") == 0 || strcmp(st, "DRAINED") == 0 ||
	           strcmp(st, "DRAINING") == 0) {
		finding(ev, NAGIOS_WARNING, "%s %s%s%s", name, st, sep, cause);
	} else {
		finding(ev, NAGIOS_WARNING, "%s in state %s, unknown to this anycastctl", name, st);
	}
	return NAGIOS_WARNING;
}

/* 0 up, 1 up but failing or degraded, 2 down, 3 no verdict yet: the perfdata value. */
static int check_level(const json_t *chk)
{
	const char *st = snap_str(chk, "state", "UNKNOWN");

	if (strcmp(st, "UP") == 0)
		return snap_num(chk, "fail_streak", 0) > 0 || snap_bool(chk, "degraded", false) ? 1
		                                                                                : 0;
	return strcmp(st, "DOWN") == 0 ? 2 : 3;
}

/* A death watch that cannot watch, or says dead while the check passes (a wrong pidfile or
 * unit in the configuration?): WARNING. A dead watch of a DOWN check is the check's finding. */
static int eval_watches(struct eval *ev, const json_t *chk, int level)
{
	const char *name = snap_str(chk, "name", "?");
	const json_t *w;
	size_t i;
	int state = NAGIOS_OK;

	json_array_foreach(snap_array(chk, "watches"), i, w)
	{
		const char *st = snap_str(w, "state", "");

		if (strcmp(st, "unavailable") == 0 || (strcmp(st, "dead") == 0 && level < 2)) {
			finding(ev, NAGIOS_WARNING, "check %s: %s %s %s: %s", name,
			        snap_str(w, "key", "?"), snap_str(w, "target", "?"), st,
			        snap_str(w, "detail", ""));
			state = NAGIOS_WARNING;
		}
	}
	return state;
}

static int eval_check(struct eval *ev, const json_t *chk)
{
	const char *name = snap_str(chk, "name", "?");
	const char *res = snap_str(chk, "result", "");
	const char *detail = snap_str(chk, "detail", "");
	const char *sep = detail[0] ? ": " : "";
	double days = snap_num(chk, "cert_days_left", NAN);
	int level = check_level(chk), watches = eval_watches(ev, chk, level);

	switch (level) {
	case 0:
		return watches;
	case 2:
		finding(ev, NAGIOS_WARNING, "check %s DOWN: %s%s%s", name, res, sep, detail);
		break;
	case 3:
		finding(ev, NAGIOS_WARNING, "check %s UNKNOWN: no verdict yet", name);
		break;
	default:
		if (snap_num(chk, "fail_streak", 0) > 0)
			finding(ev, NAGIOS_WARNING, "check %s failing (%.0f of %.0f): %s%s%s", name,
			        snap_num(chk, "fail_streak", 0), snap_num(chk, "fall", 0), res, sep,
			        detail);
		else if (isfinite(days))
			finding(ev, NAGIOS_WARNING,
			        "check %s degraded: %s, certificate expires in %.0f days", name,
			        res, days);
		else
			finding(ev, NAGIOS_WARNING, "check %s degraded: %s%s%s", name, res, sep,
			        detail);
	}
	return NAGIOS_WARNING;
}

static void eval_bird(struct eval *ev, const json_t *bird)
{
	const json_t *v;
	size_t i, shown = 0;

	json_array_foreach(snap_array(bird, "sockets"), i, v)
	{
		if (!snap_bool(v, "connected", false))
			finding(ev, NAGIOS_CRITICAL, "BIRD socket %s not connected: %s",
			        snap_str(v, "name", "?"),
			        snap_str(v, "last_error", "no error recorded"));
	}
	json_array_foreach(snap_array(bird, "protocols"), i, v)
	{
		/* BIRD has the decision now; a configure or restart would lose it */
		if (!snap_bool(v, "file_ok", true))
			finding(
			    ev, NAGIOS_WARNING,
			    "BIRD state file of %s not written: BIRD would forget the decision on "
			    "configure or restart (free space, fix permissions)",
			    snap_str(v, "name", "?"));
		/* BIRD has the decision now; its next configure would reset it from bird.conf */
		const char *inc = snap_str(v, "include", "unknown");
		if (strcmp(inc, "missing") == 0 || strcmp(inc, "other") == 0)
			finding(
			    ev, NAGIOS_WARNING,
			    "BIRD does not include the decision file of %s inside that protocol: "
			    "a birdc configure or BIRD restart would undo the agent's decision "
			    "(fix bird.conf, see anycast-agent --check-bird)",
			    snap_str(v, "name", "?"));
	}
	if (snap_bool(bird, "in_sync", false))
		return;
	json_array_foreach(snap_array(bird, "protocols"), i, v)
	{
		if (snap_bool(v, "in_sync", true))
			continue;
		finding(ev, NAGIOS_CRITICAL, "BIRD out of sync: protocol %s is %s, want %s",
		        snap_str(v, "name", "?"), snap_str(v, "actual", "unknown"),
		        snap_str(v, "want", "?"));
		shown++;
	}
	if (shown == 0)
		finding(ev, NAGIOS_CRITICAL, "BIRD out of sync");
}

static bool in_list(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Everything but the checks: the snapshot's version, BIRD, the state file, announcements. */
static void eval_begin(struct eval *ev, const json_t *snap, double now)
{
	const json_t *v, *r;
	size_t i, j;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(snap) || snap_num(snap, "version", -1) != SNAPSHOT_VERSION) {
		finding(ev, NAGIOS_CRITICAL,
		        "the agent sent a status snapshot this anycastctl does not understand "
		        "(version %.0f, want %d): install matching versions",
		        snap_num(snap, "version", -1), SNAPSHOT_VERSION);
		ev->bad_version = true;
		return;
	}
	if (!snap_object(snap, "bird"))
		finding(ev, NAGIOS_CRITICAL, "the snapshot has no BIRD state");
	else
		eval_bird(ev, snap_object(snap, "bird"));
	/* the operator state file: drains act now but would not survive a restart */
	if (!snap_bool(snap_object(snap, "state"), "ok", true))
		finding(ev, NAGIOS_WARNING, "state file: %s (a drain would not survive a restart)",
		        snap_str(snap_object(snap, "state"), "error", "not ok"));
	json_array_foreach(snap_array(snap, "announcements"), i, v)
	{
		ev->nann++;
		ev->nannounced += snap_announced(v);
		if (eval_announcement(ev, v, now) != NAGIOS_CRITICAL)
			continue;
		/* its cause names the failing checks: their own findings would repeat it */
		json_array_foreach(snap_array(v, "requires"), j, r)
		{
			if (json_is_string(r))
				strlist_add(&ev->explained, json_string_value(r));
		}
	}
	ev->dry_run = snap_bool(snap_object(snap, "agent"), "dry_run", false);
}

static void eval_one_check(struct eval *ev, const json_t *v)
{
	struct eval scratch = {0};

	if (ev->bad_version)
		return;
	ev->nchecks++;
	ev->nup += strcmp(snap_str(v, "state", ""), "UP") == 0;
	if (!in_list(&ev->explained, snap_str(v, "name", ""))) {
		eval_check(ev, v);
		return;
	}
	/* still counted in the state, only left out of the summary */
	if (eval_check(&scratch, v) > ev->state)
		ev->state = scratch.state;
	free(scratch.v);
}

/* The findings after the checks, then worst first, in snapshot order within a severity. */
static void eval_finish(struct eval *ev)
{
	size_t i;

	strlist_free(&ev->explained);
	if (ev->dry_run)
		finding(ev, NAGIOS_WARNING, "dry run: the agent never changes BIRD");
	/* a stable insertion sort */
	for (i = 1; i < ev->n; i++) {
		struct finding f = ev->v[i];
		size_t k = i;

		while (k > 0 && ev->v[k - 1].sev < f.sev) {
			ev->v[k] = ev->v[k - 1];
			k--;
		}
		ev->v[k] = f;
	}
}

static void evaluate(struct eval *ev, const json_t *snap, double now)
{
	const json_t *v;
	size_t i;

	eval_begin(ev, snap, now);
	if (!ev->bad_version)
		json_array_foreach(snap_array(snap, "checks"), i, v) eval_one_check(ev, v);
	eval_finish(ev);
}

/* Append s to buf (holding *n bytes, capacity cap incl. NUL) if it fits; true if it did. */
static bool append(char *buf, size_t cap, size_t *n, const char *s)
{
	size_t l = strlen(s);

	if (*n + l + 1 > cap)
		return false;
	memcpy(buf + *n, s, l + 1);
	*n += l;
	return true;
}

/* The summary of an evaluation into buf (cap bytes incl. NUL). */
static void compose(const struct eval *ev, char *buf, size_t cap)
{
	char counts[128], more[48];
	size_t n = 0, i;

	if (cap == 0)
		return;
	buf[0] = '\0';
	if (ev->nann == 0 && ev->nchecks == 0 && ev->n > 0 && ev->state == NAGIOS_CRITICAL &&
	    strncmp(ev->v[0].text, "the agent sent", 14) == 0) {
		clean_copy(buf, cap, ev->v[0].text);
		return;
	}
	snprintf(counts, sizeof(counts), "%u/%u announced, %u/%u checks up", ev->nannounced,
	         ev->nann, ev->nup, ev->nchecks);
	if (ev->n == 0) {
		snprintf(buf, cap, "%s%s, BIRD in sync",
		         ev->nann ? "" : "no announcements configured, ", counts);
		return;
	}
	for (i = 0; i < ev->n; i++) {
		/* room for this finding, "; ", a possible "(+N more); " and the counts */
		size_t need =
		    n + strlen(ev->v[i].text) + 2 + (i + 1 < ev->n ? 20 : 0) + strlen(counts) + 1;

		if (need > cap)
			break;
		append(buf, cap, &n, ev->v[i].text);
		append(buf, cap, &n, "; ");
	}
	if (i < ev->n) {
		snprintf(more, sizeof(more), "(+%zu more); ", ev->n - i);
		append(buf, cap, &n, more);
	}
	if (!append(buf, cap, &n, counts)) {
		/* a buffer too small even for the counts: the first finding, cut */
		clean_copy(buf, cap, ev->v[0].text);
	}
}

int nagios_summary(const json_t *snap, double now, char *buf, size_t len)
{
	struct eval ev;
	int state;

	evaluate(&ev, snap, now);
	compose(&ev, buf, len);
	state = ev.state;
	free(ev.v);
	return state;
}

struct nagios_eval *nagios_eval_begin(const json_t *snap, double now)
{
	struct eval *ev = xmalloc(sizeof(*ev));

	eval_begin(ev, snap, now);
	return (struct nagios_eval *)ev;
}

void nagios_eval_check(struct nagios_eval *nev, const json_t *chk)
{
	eval_one_check((struct eval *)nev, chk);
}

int nagios_eval_end(struct nagios_eval *nev, char *buf, size_t len)
{
	struct eval *ev = (struct eval *)nev;
	int state;

	eval_finish(ev);
	compose(ev, buf, len);
	state = ev->state;
	free(ev->v);
	free(ev);
	return state;
}

/* A perfdata label: quoted, without '=' or '\'' (the grammar forbids them). */
static void perf_label(char *buf, size_t len, const char *a, const char *b, const char *c)
{
	char raw[LABEL_MAX + 1];
	size_t i;

	snprintf(raw, sizeof(raw), "%s%s%s", a, b, c);
	for (i = 0; raw[i]; i++)
		if (raw[i] == '=' || raw[i] == '\'' || (unsigned char)raw[i] < 0x20 ||
		    raw[i] == 0x7f || raw[i] == '|')
			raw[i] = '_';
	snprintf(buf, len, "'%s'", raw);
}

static void perf_add(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perf_add(struct strlist *l, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strlist_add(l, buf);
}

/* Perfdata in priority order: counts, announcements, checks. */
static void perfdata(const json_t *snap, const struct eval *ev, struct strlist *l)
{
	const json_t *v;
	char lab[LABEL_MAX + 3];
	size_t i;

	perf_add(l, "'announced'=%u;;;0;%u", ev->nannounced, ev->nann);
	perf_add(l, "'checks_up'=%u;;;0;%u", ev->nup, ev->nchecks);
	perf_add(l, "'bird_corrections'=%.0fc",
	         snap_num(snap_object(snap, "bird"), "corrections", 0));
	json_array_foreach(snap_array(snap, "announcements"), i, v)
	{
		perf_label(lab, sizeof(lab), "announced_", snap_str(v, "name", "?"), "");
		perf_add(l, "%s=%d;;;0;1", lab, snap_announced(v) ? 1 : 0);
	}
	json_array_foreach(snap_array(snap, "checks"), i, v)
	{
		double d = snap_num(v, "duration", NAN);
		const json_t *at = json_object_get(v, "last_at");

		perf_label(lab, sizeof(lab), "check_", snap_str(v, "name", "?"), "_latency");
		if (json_is_number(at) && isfinite(d) && d >= 0)
			perf_add(l, "%s=%.6fs;;;0", lab, d);
		else
			perf_add(l, "%s=U", lab);
		perf_label(lab, sizeof(lab), "check_", snap_str(v, "name", "?"), "_state");
		perf_add(l, "%s=%d;;;0;3", lab, check_level(v));
	}
}

static void long_output(FILE *out, const json_t *snap, double now)
{
	const json_t *bird = snap_object(snap, "bird"), *v, *s;
	char ago[32], lat[32];
	size_t i, j;

	json_array_foreach(snap_array(bird, "sockets"), i, v)
	{
		char err[256];

		clean_copy(err, sizeof(err), snap_str(v, "last_error", ""));
		if (snap_bool(v, "connected", false))
			fprintf(out, "[OK] BIRD socket %s (%s): connected, %s\n",
			        snap_str(v, "name", "?"), snap_str(v, "path", "?"),
			        snap_str(v, "version", "version unknown"));
		else
			fprintf(
			    out,
			    "[CRITICAL] BIRD socket %s (%s): not connected, %.0f failures: %s\n",
			    snap_str(v, "name", "?"), snap_str(v, "path", "?"),
			    snap_num(v, "consecutive_failures", 0), err[0] ? err : "-");
	}
	if (bird)
		fprintf(out, "[%s] BIRD: %s, %.0f corrections, %.0f command errors\n",
		        snap_bool(bird, "in_sync", false) ? "OK" : "CRITICAL",
		        snap_bool(bird, "in_sync", false) ? "in sync" : "OUT OF SYNC",
		        snap_num(bird, "corrections", 0), snap_num(bird, "command_errors", 0));
	json_array_foreach(snap_array(snap, "announcements"), i, v)
	{
		struct eval one = {0};
		char line[1024], cause[400], next[64];
		int n;

		eval_announcement(&one, v, now);
		free(one.v);
		output_duration(ago, sizeof(ago), now - snap_num(v, "since", NAN));
		clean_copy(cause, sizeof(cause), snap_str(v, "cause", ""));
		n = snprintf(line, sizeof(line), "[%s] announcement %s: %s%s (%s) for %s",
		             nagios_state_name(one.state), snap_str(v, "name", "?"),
		             snap_str(v, "state", "?"),
		             snap_bool(v, "guarded", false) ? " GUARDED" : "",
		             snap_str(v, "variant", "?"), ago);
		if (cause[0] && n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", cause);
		snap_next_change(next, sizeof(next), v, now);
		if (next[0] && n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", %s", next);
		if (snap_object(v, "drain") && n > 0 && (size_t)n < sizeof(line)) {
			const json_t *d = snap_object(v, "drain");
			char end[64], reason[256];

			drain_end(end, sizeof(end), d, now);
			clean_copy(reason, sizeof(reason), snap_str(d, "reason", ""));
			snprintf(line + n, sizeof(line) - (size_t)n, ", drain by %s: %s%s",
			         snap_str(d, "who", "?"), reason, end);
		}
		fputs(line, out);
		fputs(", prefixes", out);
		json_array_foreach(snap_array(v, "prefixes"), j, s)
		    fprintf(out, " %s", json_is_string(s) ? json_string_value(s) : "?");
		fputs(", requires", out);
		json_array_foreach(snap_array(v, "requires"), j, s)
		    fprintf(out, " %s", json_is_string(s) ? json_string_value(s) : "?");
		fprintf(out, " (quorum %.0f), penalty %.0f\n", snap_num(v, "quorum", 0),
		        snap_num(v, "penalty", 0));
	}
	json_array_foreach(snap_array(snap, "checks"), i, v)
	{
		struct eval one = {0};
		char detail[400];

		eval_check(&one, v);
		free(one.v);
		clean_copy(detail, sizeof(detail), snap_str(v, "detail", ""));
		if (json_is_number(json_object_get(v, "last_at")))
			snprintf(lat, sizeof(lat), "last %s in %.1f ms", snap_str(v, "result", "?"),
			         snap_num(v, "duration", 0) * 1000.0);
		else
			snprintf(lat, sizeof(lat), "no result yet");
		output_duration(ago, sizeof(ago), now - snap_num(v, "since", NAN));
		fprintf(out,
		        "[%s] check %s (%s): %s%s for %s, %s, pass streak %.0f/%.0f, "
		        "fail streak %.0f/%.0f%s%s",
		        nagios_state_name(one.state), snap_str(v, "name", "?"),
		        snap_str(v, "type", "?"), snap_str(v, "state", "?"),
		        snap_bool(v, "degraded", false) ? " degraded" : "", ago, lat,
		        snap_num(v, "pass_streak", 0), snap_num(v, "rise", 0),
		        snap_num(v, "fail_streak", 0), snap_num(v, "fall", 0),
		        detail[0] ? ": " : "", detail);
		json_array_foreach(snap_array(v, "watches"), j, s)
		{
			clean_copy(detail, sizeof(detail), snap_str(s, "detail", ""));
			fprintf(out, "%s %s %s %s (%s)", j == 0 ? "; watches:" : ",",
			        snap_str(s, "key", "?"), snap_str(s, "target", "?"),
			        snap_str(s, "state", "?"), detail);
		}
		fputc('\n', out);
	}
}

int output_nagios(const json_t *snap, double now, FILE *out)
{
	char line[NAGIOS_FIRST_LINE_MAX], *summary;
	struct strlist perf = {0};
	struct eval ev;
	size_t n = 0, reserve = 0, i, first;
	int state;

	evaluate(&ev, snap, now);
	state = ev.state;
	perfdata(snap, &ev, &perf);
	n = (size_t)snprintf(line, sizeof(line), "%s %s - ", NAGIOS_SERVICE,
	                     nagios_state_name(state));
	/* the three counts always stay on the first line */
	for (i = 0; i < perf.n && i < 3; i++)
		reserve += 1 + strlen(perf.v[i]);
	reserve += 2; /* " |" */
	summary = xmalloc(sizeof(line));
	compose(&ev, summary, sizeof(line) - n - reserve);
	append(line, sizeof(line), &n, summary);
	free(summary);
	append(line, sizeof(line), &n, " |");
	for (first = 0; first < perf.n; first++) {
		char item[300];

		snprintf(item, sizeof(item), " %s", perf.v[first]);
		if (!append(line, sizeof(line), &n, item))
			break;
	}
	fprintf(out, "%s\n", line);
	if (json_is_object(snap)) {
		/* a '|' from a BIRD version or a path would start perfdata early: none passes */
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);

		if (mem) {
			long_output(mem, snap, now);
			fclose(mem);
			for (i = 0; i < len; i++)
				if (buf[i] == '|')
					buf[i] = '/';
				else if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
					buf[i] = ' ';
			fwrite(buf, 1, len, out);
			free(buf);
		}
	}
	if (first < perf.n) {
		/* the rest of the perfdata follows the long output (Nagios 3+ reads it there) */
		fputs("|", out);
		for (i = first; i < perf.n; i++)
			fprintf(out, " %s", perf.v[i]);
		fputs("\n", out);
	}
	strlist_free(&perf);
	free(ev.v);
	return state;
}

int output_nagios_message(FILE *out, int state, const char *fmt, ...)
{
	char raw[2048], line[NAGIOS_FIRST_LINE_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	clean_copy(line, sizeof(line), raw);
	fprintf(out, "%s %s - %s\n", NAGIOS_SERVICE, nagios_state_name(state), line);
	return state;
}
