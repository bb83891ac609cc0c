/* SPDX-License-Identifier: ISC */
/*
 * probe.h - run configured checks once and print their results
 * (`anycast-agent -f CONF --probe [NAME...]`).
 */
#ifndef AA_PROBE_H
#define AA_PROBE_H

#include <stddef.h>
#include <stdio.h>

#include "conf.h"

/* Exit codes of probe_run(). */
#define PROBE_PASS  0 /* every probed check passed (OK, or a WARN-class result) */
#define PROBE_USAGE 1 /* a name matched no check; nothing was run */
#define PROBE_FAIL  2 /* at least one check failed, or a death watch says dead */

/*
 * Run the named checks (every check when nnames is 0) once, concurrently,
 * on a fresh libuv loop, each bounded by its own timeout. Prints one line
 * per check to out, in config order:
 *   NAME  TYPE  RESULT  TIME ms  DETAIL
 * and under it one line per death watch of the check, what the agent would see now:
 *   (indent)  watch_pidfile /run/nginx.pid: alive (pid 1234)
 * A dead watch fails the check (the agent would fail it at once); an unavailable one not.
 * Unknown names are listed on stderr with the known ones.
 * Returns PROBE_PASS, PROBE_USAGE or PROBE_FAIL.
 */
int probe_run(const struct agent_conf *conf, char **names, size_t nnames, FILE *out);

#endif
