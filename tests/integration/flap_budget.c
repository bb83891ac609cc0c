/* SPDX-License-Identifier: ISC */
/*
 * flap_budget.c - prints what the engine's damping budget allows for one announcement of a
 * config file (engine_damping_budget(), tests/unit/flap_sim.h), so the flapping end-to-end test
 * asserts the peer's update count against the same numbers engine.h documents.
 *
 *   flap_budget CONF ANNOUNCEMENT PERIOD_S FLAP_EVERY_S RISE_S
 *   -> "withdraws W announces A suppressions S updates W+A"
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "flap_sim.h"

int main(int argc, char **argv)
{
	struct conf_overrides ov = {0};
	struct agent_conf *conf;
	struct engine_flap_budget b;
	char *errors = NULL;

	if (argc != 6) {
		fprintf(stderr, "usage: %s CONF ANNOUNCEMENT PERIOD_S FLAP_EVERY_S RISE_S\n",
		        argv[0]);
		return 2;
	}
	conf = conf_load(argv[1], &ov, &errors);
	if (conf == NULL) {
		fprintf(stderr, "%s", errors ? errors : "cannot load the config\n");
		free(errors);
		return 1;
	}
	for (size_t i = 0; i < conf->nannouncements; i++) {
		if (strcmp(conf->announcements[i].name, argv[2]) != 0)
			continue;
		b = engine_damping_budget(&conf->announcements[i], atof(argv[3]), atof(argv[4]),
		                          atof(argv[5]));
		printf("withdraws %lu announces %lu suppressions %lu updates %lu\n", b.withdraws,
		       b.announces, b.suppressions, b.withdraws + b.announces);
		conf_free(conf);
		return 0;
	}
	fprintf(stderr, "%s: no announcement \"%s\"\n", argv[1], argv[2]);
	conf_free(conf);
	return 1;
}
