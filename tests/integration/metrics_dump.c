/* SPDX-License-Identifier: ISC */
/*
 * metrics_dump.c - render one snapshot file for the shell tests and for
 * people: metrics_dump FILE [metrics|nagios|text|json] [NOW]. Exits with
 * the Nagios state for "nagios", else 0 (1 if the file does not load).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "output.h"
#include "util.h"

int main(int argc, char **argv)
{
	const char *fmt = argc > 2 ? argv[2] : "metrics";
	double now = argc > 3 ? strtod(argv[3], NULL) : wall_now();
	json_error_t err;
	json_t *snap;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: metrics_dump FILE [metrics|nagios|text|json] [NOW]\n");
		return 1;
	}
	snap = json_load_file(argv[1], 0, &err);
	if (!snap) {
		fprintf(stderr, "metrics_dump: %s:%d: %s\n", argv[1], err.line, err.text);
		return 1;
	}
	if (strcmp(fmt, "nagios") == 0)
		rc = output_nagios(snap, now, stdout);
	else if (strcmp(fmt, "text") == 0)
		output_text(snap, now, stdout);
	else if (strcmp(fmt, "json") == 0)
		output_json(snap, stdout);
	else
		rc = metrics_render(snap, stdout) == 0 ? 0 : 1;
	json_decref(snap);
	return rc;
}
