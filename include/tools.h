/* SPDX-License-Identifier: ISC */
/*
 * tools.h - anycast-agent's one-shot modes beside the daemon: they touch only
 * the decision files and BIRD's control sockets (through the sync layer),
 * report on the given stream, and return the exit code.
 */
#ifndef AA_TOOLS_H
#define AA_TOOLS_H

#include <stdio.h>

#include "conf.h"

/*
 * --init: create every missing decision file of the configured protocols,
 * withdrawn (`disabled yes;` with the agent's description), mode 0644, and
 * the decision directory (0755); when run as root, both owned by the agent's
 * `user` so the agent can write them later. An existing file is left as it
 * is. Says what it did on out; 0, or 1 when something could not be created.
 * bird.service runs it before BIRD starts (the package's drop-in).
 */
int tools_init_decisions(const struct agent_conf *conf, FILE *out);

/*
 * --check-bird: for each configured protocol, whether BIRD has it and whether
 * BIRD's configuration includes its decision file inside it (`show protocols
 * all NAME` shows the file's description). 0 all good, 1 a problem, 2 BIRD
 * not reachable. Reads BIRD only; writes nothing.
 */
int tools_check_bird(const struct agent_conf *conf, FILE *out);

/* --withdraw-all: disable every protocol of every announcement (and every
 * protocol a decision file names that is not configured any more), wait for
 * BIRD to confirm. 0 when confirmed. */
int tools_withdraw_all(const struct agent_conf *conf);

/* --withdraw-all when the configuration does not load (an upgrade that no longer accepts it,
 * a bad edit): the sockets come from <state_dir>/bird-sockets (SYNC_SOCKETS_FILE), and every
 * protocol with a decision file in state_dir is disabled on each of them (the protocols are
 * not configured, so they are orphans: see sync.h). 0 when BIRD confirmed. */
int tools_withdraw_recorded(const char *state_dir);

#endif
