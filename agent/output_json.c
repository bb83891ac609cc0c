/* SPDX-License-Identifier: ISC */
/*
 * output_json.c - the snapshot pretty-printed (anycastctl status -o json),
 * and the typed snapshot readers every renderer shares.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "output.h"

const char *snap_str(const json_t *obj, const char *key, const char *def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : def;
}

double snap_num(const json_t *obj, const char *key, double def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_number(v) ? json_number_value(v) : def;
}

bool snap_bool(const json_t *obj, const char *key, bool def)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_boolean(v) ? json_is_true(v) : def;
}

const json_t *snap_array(const json_t *obj, const char *key)
{
	/* one shared empty array, so callers can iterate without a NULL check */
	static json_t *empty;
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (json_is_array(v))
		return v;
	if (!empty)
		empty = json_array();
	return empty;
}

const json_t *snap_object(const json_t *obj, const char *key)
{
	const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

bool snap_announced(const json_t *ann)
{
	static const char *const carried[] = {"ANNOUNCED", "DEGRADED", "DRAINING"};
	const char *st = snap_str(ann, "state", "");

	for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
		if (strcmp(st, carried[i]) == 0)
			return true;
	return snap_bool(ann, "guarded", false);
}

void snap_next_change(char *buf, size_t len, const json_t *ann, double now)
{
	const char *st = snap_str(ann, "state", "");
	double at = snap_num(ann, "next_change", NAN);
	char d[32];

	if (len == 0)
		return;
	buf[0] = '\0';
	if (!isfinite(at))
		return;
	/* a deadline just passed is "0s": the agent acts on it in a moment */
	output_duration(d, sizeof(d), at > now ? at - now : 0);
	if (strcmp(st, "WITHDRAWN") == 0)
		snprintf(buf, len, "hold-down ends in %s", d);
	else if (strcmp(st, "SUPPRESSED") == 0)
		snprintf(buf, len, "damping reuse in %s", d);
	else if (strcmp(st, "DRAINING") == 0)
		snprintf(buf, len, "withdrawn in %s", d);
	else
		snprintf(buf, len, "changes in %s", d);
}

void output_duration(char *buf, size_t len, double secs)
{
	unsigned long s;

	if (!isfinite(secs) || secs < 0) {
		snprintf(buf, len, "-");
		return;
	}
	s = secs > 1e12 ? 1000000000000UL : (unsigned long)secs;
	if (s < 60)
		snprintf(buf, len, "%lus", s);
	else if (s < 3600)
		snprintf(buf, len, "%lum%lus", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%luh%lum", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lud%luh", s / 86400, s % 86400 / 3600);
}

int output_json(const json_t *snap, FILE *out)
{
	if (json_dumpf(snap, out, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0)
		return -1;
	if (fputc('\n', out) == EOF)
		return -1;
	return ferror(out) ? -1 : 0;
}
