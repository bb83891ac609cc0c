/* SPDX-License-Identifier: ISC */
/*
 * birdconf.h - the BIRD configuration the announcements need, generated from
 * the agent's configuration (anycast-agent --print-bird): one static protocol
 * per configured protocol (normal, degraded and drain variants) including its
 * decision file, the filters that mark the variants, and the export filters.
 * Pure: an agent_conf in, text out; it touches no socket and no file.
 *
 * Which prefixes a protocol carries: a static protocol holds routes of one
 * address family, so each role of an announcement (protocols,
 * degraded_protocols, drain_protocols) lists one protocol per address family
 * of its prefixes, IPv4 first; each carries every prefix of its family.
 */
#ifndef AA_BIRDCONF_H
#define AA_BIRDCONF_H

#include <stdio.h>

#include "conf.h"
#include "util.h"

enum birdconf_version {
	BIRDCONF_UNKNOWN = 0,
	BIRDCONF_1_6, /* one daemon per address family (bird, bird6) */
	BIRDCONF_2,
	BIRDCONF_3,
};

/* "1.6", "2" or "3", or a release as BIRD's banner names it ("BIRD 2.0.12", "1.6.8"); any 1.x
 * is 1.6. BIRDCONF_UNKNOWN for anything else. */
enum birdconf_version birdconf_version_parse(const char *s);
const char *birdconf_version_name(enum birdconf_version v);

/* Why --print-bird cannot write the static protocols of conf, whatever BIRD they are for: one
 * message per problem appended to problems (none: it can). */
void birdconf_problems(const struct agent_conf *conf, struct strlist *problems);

/* The socket the output is for: the one named (NULL: the only one). Returns its index, or -1
 * with the reason appended to problems. */
long birdconf_socket(const struct agent_conf *conf, const char *name, struct strlist *problems);

/* Write the configuration for the BIRD behind bird.sockets[sock] to out. Returns 0; or -1 with
 * every problem appended to problems, having written nothing; or -1 on a write error. */
int birdconf_print(FILE *out, const struct agent_conf *conf, size_t sock, enum birdconf_version v,
                   struct strlist *problems);

#endif
