/* SPDX-License-Identifier: ISC */
/*
 * metrics.h - the status snapshot in Prometheus text exposition format
 * (version 0.0.4), for node_exporter's textfile collector. Every name starts
 * with anycast_agent_; contrib/prometheus.md lists them.
 */
#ifndef AA_METRICS_H
#define AA_METRICS_H

#include <stdio.h>

#include <jansson.h>

/* Write the exposition of snap to out. Returns 0, or -1 on a write error. */
int metrics_render(const json_t *snap, FILE *out);

/* Render into path atomically (tmp, fsync, rename: a scraper never reads half a file), mode
 * 0644. Returns 0, or -1 with errno set. */
int metrics_write_file(const json_t *snap, const char *path);

#endif
