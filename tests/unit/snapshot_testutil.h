/* SPDX-License-Identifier: ISC */
/*
 * snapshot_testutil.h - what the renderer and anycastctl tests share: the
 * fixture table (tests/data/snapshots, expected Nagios state from the file
 * name), loading them, and a checker of the Nagios plugin output grammar
 * (first line, perfdata items).
 */
#ifndef AA_SNAPSHOT_TESTUTIL_H
#define AA_SNAPSHOT_TESTUTIL_H

#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"

/* Every fixture with the state it must give and a phrase its summary must hold. */
struct fixture {
	const char *name;
	int state;
	const char *phrase;
};

static const struct fixture fixtures[] = {
    {"ok", NAGIOS_OK, "2/2 announced, 2/2 checks up, BIRD in sync"},
    {"warning-adopting", NAGIOS_WARNING, "web ADOPTING"},
    {"warning-cert-expiring", NAGIOS_WARNING, "certificate expires in 9 days"},
    {"warning-dnssec-expiring", NAGIOS_WARNING,
     "check dns degraded: DNSSEC_EXPIRING: SOA example.test.: RRSIG key 13030 expires "
     "2023-11-19T23:13:20Z, in 5.0 days"},
    {"warning-check-down-quorum", NAGIOS_WARNING, "check web_backup DOWN: CONNECT_REFUSED"},
    {"warning-check-failing", NAGIOS_WARNING, "check dns failing (1 of 2): TIMEOUT"},
    {"warning-degraded", NAGIOS_WARNING, "web DEGRADED"},
    {"warning-drained", NAGIOS_WARNING, "dns DRAINED by alice: maintenance / kernel upgrade"},
    {"warning-draining", NAGIOS_WARNING,
     "dns DRAINING (withdrawn in 25s) by alice: maintenance / kernel upgrade (ends in 55m0s)"},
    {"warning-dry-run", NAGIOS_WARNING, "dry run"},
    {"warning-watch", NAGIOS_WARNING,
     "check web: watch_unit nginx.service unavailable: no system bus (No such file or "
     "directory); the check keeps polling"},
    {"warning-suppressed", NAGIOS_WARNING,
     "web SUPPRESSED by flap damping (penalty 2450) (damping reuse in 3m0s): flapping: 3 "
     "withdraws"},
    {"warning-state-unwritten", NAGIOS_WARNING,
     "BIRD state file of anycast_web4 not written: BIRD would forget the decision on configure "
     "or restart (free space, fix permissions); state file: cannot write "
     "/var/lib/anycast-agent/state: No space left on device (a drain would not survive a "
     "restart)"},
    {"critical-bird-out-of-sync", NAGIOS_CRITICAL,
     "BIRD out of sync: protocol anycast_dns4 is disabled, want enabled"},
    {"critical-bird-unreachable", NAGIOS_CRITICAL, "BIRD socket default not connected"},
    {"critical-guarded", NAGIOS_CRITICAL, "web withdraw held by the last-site guard"},
    {"critical-withdrawn", NAGIOS_CRITICAL,
     "web WITHDRAWN (hold-down ends in 7s): check web DOWN: CONNECT_REFUSED"},
    {"critical-worst-wins", NAGIOS_CRITICAL, "web WITHDRAWN"},
};

/* The fixtures' clock: an hour after the agent started. */
#define FIXTURE_NOW 1700003600.0

static inline json_t *load_fixture(const char *name)
{
	char path[512];
	json_error_t err;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s.json", SNAPSHOT_DIR, name);
	j = json_load_file(path, 0, &err);
	if (!j)
		fprintf(stderr, "%s:%d: %s\n", path, err.line, err.text);
	return j;
}

static inline bool full_match(const char *re, const char *s)
{
	regex_t r;
	bool ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

/* One perfdata item: 'label'=value[UOM];[warn];[crit];[min];[max] (labels always quoted). */
#define PERF_NUM  "-?[0-9]+(\\.[0-9]+)?"
#define PERF_ITEM "'[^'=]+'=(" PERF_NUM "(s|ms|us|%|B|KB|MB|TB|c)?|U)(;(" PERF_NUM ")?){0,4}"

/* Check a space-separated perfdata string; returns the number of items, -1 if one is bad. */
static inline int perf_items(const char *perf)
{
	char *copy = strdup(perf), *save = NULL, *tok;
	int n = 0;

	/* labels hold no spaces here (agent names are [A-Za-z0-9_-]), so spaces split items */
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!full_match("^" PERF_ITEM "$", tok)) {
			fprintf(stderr, "bad perfdata item: %s\n", tok);
			n = -1;
			break;
		}
		n++;
	}
	free(copy);
	return n;
}

/*
 * Check a whole plugin report: first line `ANYCAST STATE - text | perfdata` within 1 KiB with the
 * state name of want; long output; optional `| perfdata` continuation after it. Returns the
 * number of perfdata items over both places, -1 on a grammar error.
 */
static inline int check_plugin_output(const char *out, int want)
{
	const char *nl = strchr(out, '\n'), *bar;
	char first[2048], head[64];
	int n, more = 0;

	if (!nl || (size_t)(nl - out) + 1 > NAGIOS_FIRST_LINE_MAX) {
		fprintf(stderr, "first line missing or over 1 KiB (%zu)\n",
		        nl ? (size_t)(nl - out) + 1 : strlen(out));
		return -1;
	}
	snprintf(first, sizeof(first), "%.*s", (int)(nl - out), out);
	snprintf(head, sizeof(head), "^ANYCAST %s - [^|]+ \\| ", nagios_state_name(want));
	if (!full_match(head, first) || !full_match("^[^|]*\\|[^|]*$", first)) {
		fprintf(stderr, "bad first line: %s\n", first);
		return -1;
	}
	n = perf_items(strchr(first, '|') + 2);
	if (n < 0)
		return -1;
	/* the continuation: the first later line holding '|', then perfdata to the end */
	bar = strchr(nl + 1, '|');
	if (bar) {
		char *rest = strdup(bar + 1);

		for (char *p = rest; *p; p++)
			if (*p == '\n')
				*p = ' ';
		more = perf_items(rest);
		free(rest);
		if (more < 0)
			return -1;
	}
	return n + more;
}

#endif
