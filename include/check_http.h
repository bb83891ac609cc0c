/* SPDX-License-Identifier: ISC */
/*
 * check_http.h - what the daemon calls on the http check type beyond the
 * check_ops vtable (check_http_ops in check.h).
 */
#ifndef AA_CHECK_HTTP_H
#define AA_CHECK_HTTP_H

/*
 * Initialise libcurl's global state. Call once, early in main() while the
 * daemon is still single-threaded; the first http run calls it too if the
 * daemon did not. Returns 0, or -1 after logging why.
 */
int check_http_global_init(void);

#endif
