/* SPDX-License-Identifier: ISC */
/*
 * output_text.c - the snapshot as tables for people (anycastctl status -o
 * text): agent, announcements, checks, BIRD.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "output.h"
#include "util.h"

#define MAXCOLS 8

/* Rows of cells, printed with every column but the last padded to its widest cell. */
struct table {
	size_t ncols;
	struct strlist cells; /* row-major */
};

static void cell(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cell(struct table *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* a newline or tab from a detail or a drain reason would break the row */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	strlist_add(&t->cells, buf);
}

static void table_print(struct table *t, FILE *out)
{
	size_t w[MAXCOLS] = {0}, i;

	for (i = 0; i < t->cells.n; i++) {
		size_t l = strlen(t->cells.v[i]);

		if (l > w[i % t->ncols])
			w[i % t->ncols] = l;
	}
	for (i = 0; i < t->cells.n; i++) {
		size_t col = i % t->ncols;

		if (col + 1 == t->ncols)
			fprintf(out, "%s\n", t->cells.v[i]);
		else
			fprintf(out, "%-*s  ", (int)w[col], t->cells.v[i]);
	}
	strlist_free(&t->cells);
}

static void agent_line(const json_t *snap, FILE *out)
{
	const json_t *agent = snap_object(snap, "agent");
	char up[32];

	output_duration(up, sizeof(up), snap_num(agent, "uptime", NAN));
	fprintf(out, "agent %s, pid %.0f, up %s, config %s%s\n", snap_str(agent, "version", "?"),
	        snap_num(agent, "pid", 0), up, snap_str(agent, "config", "?"),
	        snap_bool(agent, "dry_run", false) ? ", DRY RUN (BIRD is never changed)" : "");
}

static void announcements(const json_t *snap, double now, FILE *out)
{
	struct table t = {.ncols = 5};
	const json_t *v;
	size_t i;

	cell(&t, "ANNOUNCEMENT");
	cell(&t, "STATE");
	cell(&t, "VARIANT");
	cell(&t, "SINCE");
	cell(&t, "CAUSE / DRAIN");
	json_array_foreach(snap_array(snap, "announcements"), i, v)
	{
		const json_t *drain = snap_object(v, "drain");
		char ago[32], end[48] = "", next[64], sep[72] = "";

		output_duration(ago, sizeof(ago), now - snap_num(v, "since", NAN));
		cell(&t, "%s", snap_str(v, "name", "?"));
		cell(&t, "%s%s", snap_str(v, "state", "?"),
		     snap_bool(v, "guarded", false) ? " (GUARDED)" : "");
		cell(&t, "%s", snap_str(v, "variant", "?"));
		cell(&t, "%s", ago);
		snap_next_change(next, sizeof(next), v, now);
		if (next[0])
			snprintf(sep, sizeof(sep), "; %s", next);
		if (drain) {
			if (isfinite(snap_num(drain, "until", NAN))) {
				char d[32];

				output_duration(d, sizeof(d), snap_num(drain, "until", 0) - now);
				snprintf(end, sizeof(end), ", ends in %s", d);
			}
			cell(&t, "drained by %s: %s%s%s", snap_str(drain, "who", "?"),
			     snap_str(drain, "reason", ""), end, sep);
		} else if (snap_num(v, "penalty", 0) >= 1) {
			cell(&t, "%s (damping penalty %.0f)%s", snap_str(v, "cause", ""),
			     snap_num(v, "penalty", 0), sep);
		} else {
			cell(&t, "%s%s", snap_str(v, "cause", ""), sep);
		}
	}
	table_print(&t, out);
}

static void checks(const json_t *snap, FILE *out)
{
	struct table t = {.ncols = 7};
	const json_t *v;
	size_t i;

	cell(&t, "CHECK");
	cell(&t, "TYPE");
	cell(&t, "STATE");
	cell(&t, "LAST RESULT");
	cell(&t, "LATENCY");
	cell(&t, "STREAK");
	cell(&t, "DETAIL");
	json_array_foreach(snap_array(snap, "checks"), i, v)
	{
		bool ran = json_is_number(json_object_get(v, "last_at"));
		double fails = snap_num(v, "fail_streak", 0);

		cell(&t, "%s", snap_str(v, "name", "?"));
		cell(&t, "%s", snap_str(v, "type", "?"));
		cell(&t, "%s%s%s", snap_str(v, "state", "?"),
		     snap_bool(v, "degraded", false) ? " degraded" : "",
		     snap_bool(v, "running", false) ? " *" : "");
		cell(&t, "%s", ran ? snap_str(v, "result", "-") : "-");
		if (ran)
			cell(&t, "%.1f ms", snap_num(v, "duration", 0) * 1000.0);
		else
			cell(&t, "-");
		if (fails > 0)
			cell(&t, "%.0f/%.0f fail", fails, snap_num(v, "fall", 0));
		else
			cell(&t, "%.0f/%.0f pass", snap_num(v, "pass_streak", 0),
			     snap_num(v, "rise", 0));
		cell(&t, "%s", snap_str(v, "detail", ""));
	}
	table_print(&t, out);
}

/* The earliest RRSIG expiry of each DNSSEC check: what runs out first, and when. */
static void rrsig_expiry(const json_t *snap, double now, FILE *out)
{
	const json_t *v;
	size_t i;

	json_array_foreach(snap_array(snap, "checks"), i, v)
	{
		double t = snap_num(v, "rrsig_expires", NAN);
		char when[32] = "?", left[32];
		time_t tt;
		struct tm tm;

		if (!isfinite(t))
			continue;
		tt = (time_t)t;
		if (gmtime_r(&tt, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		output_duration(left, sizeof(left), t >= now ? t - now : now - t);
		fprintf(out, "DNSSEC %s: earliest RRSIG expiry %s (%s%s%s)\n",
		        snap_str(v, "name", "?"), when, t >= now ? "in " : "expired ", left,
		        t >= now ? "" : " ago");
	}
}

/* The death watches of every check, when there are any. */
static void watches(const json_t *snap, double now, FILE *out)
{
	struct table t = {.ncols = 6};
	const json_t *v, *w;
	size_t i, j, n = 0;

	cell(&t, "CHECK");
	cell(&t, "WATCH");
	cell(&t, "TARGET");
	cell(&t, "STATE");
	cell(&t, "SINCE");
	cell(&t, "DETAIL");
	json_array_foreach(snap_array(snap, "checks"), i, v)
	{
		json_array_foreach(snap_array(v, "watches"), j, w)
		{
			char d[32];

			output_duration(d, sizeof(d), now - snap_num(w, "since", now));
			cell(&t, "%s", snap_str(v, "name", "?"));
			cell(&t, "%s", snap_str(w, "key", "?"));
			cell(&t, "%s", snap_str(w, "target", "?"));
			cell(&t, "%s", snap_str(w, "state", "?"));
			cell(&t, "%s", d);
			cell(&t, "%s", snap_str(w, "detail", ""));
			n++;
		}
	}
	if (n == 0) {
		strlist_free(&t.cells);
		return;
	}
	fputc('\n', out);
	table_print(&t, out);
}

static void bird(const json_t *snap, FILE *out)
{
	const json_t *b = snap_object(snap, "bird"), *v;
	struct table t = {.ncols = 5};
	size_t i;

	fprintf(out, "BIRD: %s, %.0f corrections, %.0f command errors, %.0f state file errors\n",
	        snap_bool(b, "in_sync", false) ? "in sync" : "OUT OF SYNC",
	        snap_num(b, "corrections", 0), snap_num(b, "command_errors", 0),
	        snap_num(b, "file_errors", 0));
	cell(&t, "SOCKET");
	cell(&t, "PATH");
	cell(&t, "CONNECTED");
	cell(&t, "VERSION");
	cell(&t, "LAST ERROR");
	json_array_foreach(snap_array(b, "sockets"), i, v)
	{
		cell(&t, "%s", snap_str(v, "name", "?"));
		cell(&t, "%s", snap_str(v, "path", "?"));
		if (snap_bool(v, "connected", false))
			cell(&t, "yes");
		else
			cell(&t, "NO (%.0f failures)", snap_num(v, "consecutive_failures", 0));
		cell(&t, "%s", snap_str(v, "version", "-"));
		cell(&t, "%s", snap_str(v, "last_error", ""));
	}
	table_print(&t, out);
	if (json_array_size(snap_array(b, "protocols")) == 0)
		return;
	fputc('\n', out);
	t.ncols = 6;
	cell(&t, "PROTOCOL");
	cell(&t, "SOCKET");
	cell(&t, "WANT");
	cell(&t, "ACTUAL");
	cell(&t, "BIRD STATE");
	cell(&t, "SYNC");
	json_array_foreach(snap_array(b, "protocols"), i, v)
	{
		cell(&t, "%s", snap_str(v, "name", "?"));
		cell(&t, "%s", snap_str(v, "socket", "?"));
		cell(&t, "%s", snap_str(v, "want", "?"));
		cell(&t, "%s", snap_str(v, "actual", "?"));
		cell(&t, "%s", snap_str(v, "bird_state", "-"));
		cell(&t, "%s (%.0f corrections)", snap_bool(v, "in_sync", false) ? "yes" : "NO",
		     snap_num(v, "corrections", 0));
	}
	table_print(&t, out);
}

void output_text(const json_t *snap, double now, FILE *out)
{
	char summary[NAGIOS_FIRST_LINE_MAX];
	int state = nagios_summary(snap, now, summary, sizeof(summary));

	fprintf(out, "%s: %s\n", nagios_state_name(state), summary);
	if (!json_is_object(snap))
		return;
	agent_line(snap, out);
	fputc('\n', out);
	announcements(snap, now, out);
	fputc('\n', out);
	checks(snap, out);
	rrsig_expiry(snap, now, out);
	watches(snap, now, out);
	fputc('\n', out);
	bird(snap, out);
}
