/* SPDX-License-Identifier: ISC */
/*
 * util.h - small helpers shared by every module: checked allocation,
 * monotonic time, string lists, atomic file writes.
 */
#ifndef AA_UTIL_H
#define AA_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that cannot fail: out of memory is fatal for a daemon that
 * would otherwise have to guess what state BIRD is left in. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Monotonic clock in seconds (CLOCK_MONOTONIC). */
double mono_now(void);
/* Wall clock in seconds since the epoch. */
double wall_now(void);

/* A growable list of owned strings. */
struct strlist {
	char **v;
	size_t n;
};
void strlist_add(struct strlist *l, const char *s);
void strlist_free(struct strlist *l);
bool strlist_equal(const struct strlist *a, const struct strlist *b);

/* True if s is a valid BIRD symbol: [A-Za-z_][A-Za-z0-9_]*, at most 64 chars. */
bool bird_symbol_valid(const char *s);
/* A word BIRD reserves (bird_keywords.c): it can never name a protocol; `all` means all. */
bool bird_keyword(const char *word);

/*
 * Write data to path atomically: path.tmp, fsync, rename, fsync of the
 * directory. On failure the old file is untouched, the tmp file removed,
 * and -1 returned with errno set. The file gets exactly mode, whatever the umask.
 */
int atomic_write_file(const char *path, const void *data, size_t len, unsigned mode);

#endif
