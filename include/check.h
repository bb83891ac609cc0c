/* SPDX-License-Identifier: ISC */
/*
 * check.h - the interface every check type implements (check_http.c,
 * check_dns.c, check_tcp.c, check_exec.c), and check_run.c which drives
 * one run of any type on the libuv loop and enforces its timeout.
 *
 * A check type only reports: one result code, a detail line and timings.
 * It never retries, changes state or logs transitions (the engine does).
 */
#ifndef AA_CHECK_H
#define AA_CHECK_H

#include <uv.h>

#include "conf.h"
#include "iowatch.h"
#include "result.h"

struct check_run;
struct check_env;
struct exec_helper;
typedef void (*check_done_cb)(struct check_run *run, const struct check_report *rep, void *arg);

/*
 * One type's implementation. `start` begins one run and later calls
 * check_run_finish() exactly once, unless `cancel` is called first; after
 * `cancel` the type must not call check_run_finish() and must release
 * everything the run holds (sockets, children are handed to the loop).
 */
struct check_ops {
	const char *type;
	int (*init)(struct check_run *run);  /* per-check setup; may be NULL */
	int (*start)(struct check_run *run); /* 0, or -1 with run->rep filled */
	void (*cancel)(struct check_run *run);
	void (*free)(struct check_run *run);     /* may be NULL */
	void (*env_free)(struct check_env *env); /* releases the type's slot; may be NULL */
};

/* Shared per-loop resources of the check types. Each type creates its own
 * slot lazily on first use and releases it in its env_free. */
struct check_env {
	uv_loop_t *loop;
	void *http;         /* check_http.c: the curl multi handle and its glue */
	void *dns;          /* check_dns.c: c-ares channels */
	struct iowatch *io; /* the libraries' sockets; made on first use by check_env_io() */
	struct exec_helper *exec_helper; /* runs exec checks as exec_user; NULL: the agent */
};

struct check_run {
	const struct check_ops *ops;
	const struct check_conf *conf;
	struct check_env *env;
	uv_loop_t *loop;
	void *priv;              /* the type's own state */
	struct check_report rep; /* filled by the type, then delivered */
	uv_timer_t timer;        /* the timeout guard */
	check_done_cb done;
	void *arg;
	int running;
	int closing;
};

struct check_env *check_env_new(uv_loop_t *loop);
/* Close the env; runs must be freed first. */
void check_env_free(struct check_env *env);
/* The env's socket watcher for the types; NULL with the reason in err if it cannot be made. */
struct iowatch *check_env_io(struct check_env *env, char *err, size_t errlen);
/* For the types' library timers: arm t to call cb in ms, unless it is already armed for that
 * very moment (libcurl and c-ares repeat deadlines; re-arming is a removal and an insertion in
 * libuv's timer heap). */
void check_timer_arm(uv_timer_t *t, uv_timer_cb cb, uint64_t ms);
/* Make close() of a probe's TCP socket end the connection with a RST: the agent then keeps no
 * TIME_WAIT entry (60 s each; 500 probes/s to one server would need more ephemeral ports than
 * Linux has), and the peer's FIN round trip is skipped. The probe's answer is already in. */
void check_socket_reset_on_close(int fd);
/* socket() for the libraries' probes: close-on-exec (a plugin spawned meanwhile must not hold
 * a probe's connection open), and a TCP socket resets on close. type may carry SOCK_NONBLOCK. */
int check_socket(int domain, int type, int protocol);

struct check_run *check_run_new(struct check_env *env, const struct check_conf *conf,
                                check_done_cb done, void *arg);
/* Start a run; returns -1 if one is already running (never two at once). */
int check_run_start(struct check_run *run);
void check_run_cancel(struct check_run *run);
/* Cancels a running run and frees it once the loop has released its handles. */
void check_run_free(struct check_run *run);

/* For the types: deliver the result of the current run. */
void check_run_finish(struct check_run *run, enum check_result_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

extern const struct check_ops check_http_ops, check_dns_ops, check_tcp_ops, check_exec_ops;

#endif
