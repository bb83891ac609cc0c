/* SPDX-License-Identifier: ISC */
/*
 * state.c - persistent operator state (see state.h): the drain list, its
 * JSON file, the atomic write and the tolerant, fail-safe read.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "state.h"
#include "util.h"

/* A state file is a few KiB; anything much larger is not ours. */
#define STATE_FILE_MAX (4 * 1024 * 1024)

struct state *state_new(const char *path)
{
	struct state *s = xcalloc(1, sizeof(*s));

	s->path = xstrdup(path);
	return s;
}

void state_drains_free(struct state_drain *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

static void penalties_free(struct state_penalty *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

void state_free(struct state *s)
{
	if (s == NULL)
		return;
	state_drains_free(s->drains, s->ndrains);
	penalties_free(s->penalties, s->npenalties);
	free(s->path);
	free(s);
}

const struct state_drain *state_find(const struct state *s, const char *name)
{
	for (size_t i = 0; i < s->ndrains; i++)
		if (strcmp(s->drains[i].name, name) == 0)
			return &s->drains[i];
	return NULL;
}

/* Copy src, cut to size - 1 bytes at a UTF-8 character boundary: a reason cut inside a
 * character could not be written as JSON, and the drain would be lost at the next save. */
static void copy_utf8(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void fill(struct state_drain *d, const char *reason, const char *who, long uid, double since,
                 double until)
{
	copy_utf8(d->reason, sizeof(d->reason), reason ? reason : "");
	copy_utf8(d->who, sizeof(d->who), who ? who : "");
	d->uid = uid;
	d->since = since;
	d->until = until;
}

bool state_set(struct state *s, const char *name, const char *reason, const char *who, long uid,
               double since, double until)
{
	struct state_drain *d = (struct state_drain *)state_find(s, name), nd = {0};

	fill(&nd, reason, who, uid, since, until);
	if (d != NULL) {
		if (strcmp(d->reason, nd.reason) == 0 && strcmp(d->who, nd.who) == 0 &&
		    d->uid == uid && d->since == since && d->until == until)
			return false;
		nd.name = d->name;
		*d = nd;
		return true;
	}
	s->drains = xrealloc(s->drains, (s->ndrains + 1) * sizeof(*s->drains));
	nd.name = xstrdup(name);
	s->drains[s->ndrains++] = nd;
	return true;
}

bool state_remove(struct state *s, const char *name)
{
	for (size_t i = 0; i < s->ndrains; i++) {
		if (strcmp(s->drains[i].name, name) != 0)
			continue;
		free(s->drains[i].name);
		memmove(&s->drains[i], &s->drains[i + 1],
		        (s->ndrains - i - 1) * sizeof(*s->drains));
		s->ndrains--;
		return true;
	}
	return false;
}

const struct state_penalty *state_find_penalty(const struct state *s, const char *name)
{
	for (size_t i = 0; i < s->npenalties; i++)
		if (strcmp(s->penalties[i].name, name) == 0)
			return &s->penalties[i];
	return NULL;
}

bool state_set_penalty(struct state *s, const char *name, double penalty, bool suppressed,
                       double at)
{
	struct state_penalty *p = (struct state_penalty *)state_find_penalty(s, name);

	if (!(penalty > 0) || !isfinite(penalty) || !isfinite(at)) {
		if (p == NULL)
			return false;
		free(p->name);
		*p = s->penalties[--s->npenalties];
		return true;
	}
	if (p != NULL) {
		if (p->penalty == penalty && p->at == at && p->suppressed == suppressed)
			return false;
		p->penalty = penalty;
		p->at = at;
		p->suppressed = suppressed;
		return true;
	}
	s->penalties = xrealloc(s->penalties, (s->npenalties + 1) * sizeof(*s->penalties));
	s->penalties[s->npenalties++] =
	    (struct state_penalty){xstrdup(name), penalty, at, suppressed};
	return true;
}

size_t state_parse_damping(const char *buf, size_t len, struct state_penalty **out)
{
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL), *damping, *e;
	const char *name;
	size_t n = 0;

	*out = NULL;
	damping = json_object_get(root, "damping");
	if (json_is_object(damping)) {
		*out = xcalloc(json_object_size(damping) + 1, sizeof(**out));
		json_object_foreach(damping, name, e)
		{
			double p = json_number_value(json_object_get(e, "penalty"));
			double at = json_number_value(json_object_get(e, "at"));

			if (!json_is_number(json_object_get(e, "penalty")) ||
			    !json_is_number(json_object_get(e, "at")) || !(p > 0) || !isfinite(p) ||
			    !isfinite(at) || name[0] == '\0' || strlen(name) >= 256)
				continue;
			(*out)[n++] = (struct state_penalty){
			    xstrdup(name), p, at, json_is_true(json_object_get(e, "suppressed"))};
		}
	}
	json_decref(root);
	return n;
}

static char *format_all(const struct state *s);

char *state_format(const struct state_drain *d, size_t n)
{
	struct state s = {.drains = (struct state_drain *)d, .ndrains = n};
	return format_all(&s);
}

static char *format_all(const struct state *s)
{
	const struct state_drain *d = s->drains;
	size_t n = s->ndrains;
	json_t *drains = json_object(), *root;
	char *text, *out;

	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack(
		    "{s:s, s:s, s:o, s:f, s:o}", "reason", d[i].reason, "who", d[i].who, "uid",
		    d[i].uid >= 0 ? json_integer(d[i].uid) : json_null(), "since", d[i].since,
		    "until", isfinite(d[i].until) ? json_real(d[i].until) : json_null());
		json_object_set_new(drains, d[i].name, e);
	}
	root = json_pack("{s:i, s:o}", "version", STATE_VERSION, "drains", drains);
	if (s->npenalties > 0) {
		json_t *damping = json_object();

		for (size_t i = 0; i < s->npenalties; i++)
			json_object_set_new(damping, s->penalties[i].name,
			                    json_pack("{s:f, s:f, s:b}", "penalty",
			                              s->penalties[i].penalty, "at",
			                              s->penalties[i].at, "suppressed",
			                              s->penalties[i].suppressed));
		json_object_set_new(root, "damping", damping);
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(root);
	if (text == NULL)
		fatalx("state: cannot encode the state file");
	xasprintf(&out, "%s\n", text);
	free(text);
	return out;
}

static int bad(char *err, size_t errlen, const char *what, const char *name)
{
	snprintf(err, errlen, "%s%s%s", what, name ? name : "", name ? "\"" : "");
	return -1;
}

static int parse_entry(const char *name, json_t *e, struct state_drain *d, char *err, size_t errlen)
{
	json_t *reason = json_object_get(e, "reason"), *who = json_object_get(e, "who");
	json_t *uid = json_object_get(e, "uid"), *since = json_object_get(e, "since");
	json_t *until = json_object_get(e, "until");

	if (!json_is_object(e))
		return bad(err, errlen, "a drain is not an object: \"", name);
	if (!json_is_string(reason) || (who && !json_is_string(who)) ||
	    (uid && !json_is_integer(uid) && !json_is_null(uid)) || !json_is_number(since) ||
	    (until && !json_is_number(until) && !json_is_null(until)))
		return bad(err, errlen, "a drain has a missing or mistyped field: \"", name);
	if (name[0] == '\0' || strlen(name) >= 256)
		return bad(err, errlen, "a drain has a bad announcement name", NULL);
	d->name = xstrdup(name);
	fill(d, json_string_value(reason), who ? json_string_value(who) : "",
	     json_is_integer(uid) ? (long)json_integer_value(uid) : -1, json_number_value(since),
	     json_is_number(until) ? json_number_value(until) : INFINITY);
	if (!isfinite(d->since) || isnan(d->until)) {
		free(d->name);
		return bad(err, errlen, "a drain has a bad time: \"", name);
	}
	return 0;
}

int state_parse(const char *buf, size_t len, struct state_drain **out, size_t *n, bool *truncated,
                char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr), *drains, *e;
	const char *name;
	struct state_drain *v = NULL;
	size_t nv = 0;

	*out = NULL;
	*n = 0;
	*truncated = false;
	if (root == NULL) {
		/* the writer ends every file with "}\n": without it the file was cut short */
		*truncated = len < 2 || memcmp(buf + len - 2, "}\n", 2) != 0;
		snprintf(err, errlen, "%s%s (byte %d)", *truncated ? "cut short: " : "", jerr.text,
		         jerr.position);
		return -1;
	}
	drains = json_object_get(root, "drains");
	if (!json_is_object(root) || !json_is_integer(json_object_get(root, "version")) ||
	    !json_is_object(drains)) {
		json_decref(root);
		return bad(err, errlen,
		           "not an anycast-agent state file (needs \"version\" and "
		           "\"drains\")",
		           NULL);
	}
	if (json_integer_value(json_object_get(root, "version")) != STATE_VERSION) {
		json_decref(root);
		return bad(err, errlen, "unsupported state file version (this agent reads 1)",
		           NULL);
	}
	v = xcalloc(json_object_size(drains) + 1, sizeof(*v));
	json_object_foreach(drains, name, e)
	{
		if (parse_entry(name, e, &v[nv], err, errlen) < 0) {
			state_drains_free(v, nv);
			json_decref(root);
			return -1;
		}
		nv++;
	}
	json_decref(root);
	*out = v;
	*n = nv;
	return 0;
}

/* The raw bytes contain name (memmem: the bytes may hold NULs). */
static bool bytes_name(const char *buf, size_t len, const char *name)
{
	size_t nl = strlen(name);
	return nl > 0 && len >= nl && memmem(buf, len, name, nl) != NULL;
}

static void fail_safe(struct state *s, const char *buf, size_t len, bool all,
                      const char *const *names, size_t nnames, double now)
{
	char reason[CONTROL_REASON_MAX + 1];

	snprintf(reason, sizeof(reason), "fail safe: state file %s %s; check it, then undrain",
	         s->path, all ? "unreadable or cut short" : "corrupted");
	for (size_t i = 0; i < nnames; i++) {
		if (!all && !bytes_name(buf, len, names[i]))
			continue;
		state_set(s, names[i], reason, "anycast-agent", -1, now, INFINITY);
		log_warnx("announcement \"%s\" stays drained: %s", names[i], reason);
	}
}

static char *read_file(const char *path, size_t *len, int *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	size_t n = 0, cap = 0;

	*err = 0;
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= STATE_FILE_MAX)
				break; /* the rest is garbage anyway: parse fails on what we have */
			cap = cap ? cap * 2 : 4096;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			close(fd);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf == NULL)
		buf = xmalloc(1);
	buf[n] = '\0';
	*len = n;
	return buf;
}

enum state_load_result state_load(struct state *s, const char *const *names, size_t nnames,
                                  double now)
{
	size_t len = 0, n = 0;
	int rerr;
	char *buf = read_file(s->path, &len, &rerr), err[200];
	struct state_drain *v;
	bool truncated;

	state_drains_free(s->drains, s->ndrains);
	s->drains = NULL;
	s->ndrains = 0;
	penalties_free(s->penalties, s->npenalties);
	s->penalties = NULL;
	s->npenalties = 0;
	s->corrupt = false;
	s->load_error[0] = '\0';
	if (buf == NULL && rerr == ENOENT)
		return STATE_MISSING;
	if (buf == NULL) {
		s->corrupt = true;
		snprintf(s->load_error, sizeof(s->load_error), "cannot read %s: %s", s->path,
		         strerror(rerr));
		log_warnx("state: %s; every announcement stays drained until an operator "
		          "undrains it",
		          s->load_error);
		fail_safe(s, NULL, 0, true, names, nnames, now);
		return STATE_UNREADABLE;
	}
	if (state_parse(buf, len, &v, &n, &truncated, err, sizeof(err)) < 0) {
		char *copy;

		s->corrupt = true;
		snprintf(s->load_error, sizeof(s->load_error), "state file %s is corrupted: %s",
		         s->path, err);
		xasprintf(&copy, "%s.corrupt", s->path);
		if (atomic_write_file(copy, buf, len, 0600) < 0)
			log_warn("state: cannot keep a copy of the corrupted state file in %s",
			         copy);
		log_warnx("state: %s (a copy is in %s)", s->load_error, copy);
		free(copy);
		fail_safe(s, buf, len, truncated, names, nnames, now);
		free(buf);
		return STATE_CORRUPT;
	}
	s->npenalties = state_parse_damping(buf, len, &s->penalties);
	free(buf);
	for (size_t i = 0; i < n; i++) {
		if (v[i].until <= now) {
			log_notice("state: drain of \"%s\" by %s expired while the agent was down "
			           "(%s); dropped",
			           v[i].name, v[i].who[0] ? v[i].who : "operator", v[i].reason);
			continue;
		}
		state_set(s, v[i].name, v[i].reason, v[i].who, v[i].uid, v[i].since, v[i].until);
	}
	state_drains_free(v, n);
	return STATE_LOADED;
}

/* The state directory may not exist yet on a fresh host. */
static void make_parent(const char *path)
{
	char *d = xstrdup(path);

	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(d, 0755);
		*p = '/';
	}
	free(d);
}

int state_save(struct state *s)
{
	char *text = format_all(s);
	int rc;

	make_parent(s->path);
	rc = atomic_write_file(s->path, text, strlen(text), 0644);
	if (rc < 0) {
		char err[sizeof(s->save_error)];
		bool again;

		snprintf(err, sizeof(err), "cannot write %s: %s", s->path, strerror(errno));
		/* a retry that fails the same way (full disk) goes to debug, not every time */
		again = s->save_failed && strcmp(err, s->save_error) == 0;
		memcpy(s->save_error, err, sizeof(err));
		s->save_failed = true;
		s->save_failures++;
		if (again)
			log_debug(LOG_SUB_MAIN, "state: %s again", s->save_error);
		else
			log_warnx("state: %s; drains take effect but will not survive a restart "
			          "until the state file can be written (free space, permissions)",
			          s->save_error);
	} else {
		if (s->save_failed)
			log_notice("state: %s written again", s->path);
		s->save_failed = false;
		s->save_error[0] = '\0';
		s->saves++;
	}
	free(text);
	return rc;
}
