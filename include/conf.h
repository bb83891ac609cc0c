/* SPDX-License-Identifier: ISC */
/*
 * conf.h - the agent's configuration as loaded from the libconfig file.
 *
 * Owned by config.c: conf_load() turns a file into an immutable struct
 * agent_conf (defaults filled in, every reference resolved) or into a list
 * of "file:line: message" errors. Nothing here touches sockets or BIRD.
 * Live state lives elsewhere and points at these structs, so a reload can
 * compare old and new definitions (conf_check_equal(), ...).
 */
#ifndef AA_CONF_H
#define AA_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define CONF_NAME_MAX 64
/* bird.state_dir: BIRD shows it back in each decision file's description. */
#define CONF_DECISION_DIR_MAX 100

enum check_type { CHECK_HTTP, CHECK_DNS, CHECK_TCP, CHECK_EXEC, CHECK__TYPES };
enum dns_transport { DNS_UDP, DNS_TCP, DNS_BOTH };
enum on_exit_action { ON_EXIT_WITHDRAW, ON_EXIT_KEEP };

/* A host address with an optional port, as written and as parsed.
 * IPv6 with a port is written "[2001:db8::1]:443". */
struct conf_addr {
	char *host;    /* numeric address, without brackets */
	unsigned port; /* 0 when none was given and none applies */
	int family;    /* AF_INET or AF_INET6 */
};

/* An inclusive range of HTTP status codes. */
struct status_range {
	unsigned lo, hi;
};

struct http_conf {
	char *url; /* http:// or https:// */
	bool has_connect_to;
	struct conf_addr connect_to; /* address:port of the local instance */
	bool has_source;
	struct conf_addr source;
	bool head;              /* method HEAD instead of GET */
	struct strlist headers; /* "Name: value" */
	struct status_range *status;
	size_t nstatus;
	char *expect_body;       /* substring, or NULL */
	char *expect_body_regex; /* POSIX ERE, or NULL (exclusive with expect_body) */
	size_t body_max;         /* bytes of body kept for matching */
	bool tls_verify;
	char *ca_file;      /* NULL: the system store */
	int cert_warn_days; /* 0: off */
};

struct dns_conf {
	struct conf_addr server; /* port defaults to 53 */
	enum dns_transport transport;
	char *qname; /* absolute, with the trailing dot */
	int qtype;   /* ns_t_* value */
	bool recursion_desired;
	int expect_rcode;         /* ns_r_* value */
	int expect_authoritative; /* -1: don't care, 0/1 */
	struct strlist expect_answer;
	bool has_soa_reference;
	struct conf_addr soa_reference;
	long max_serial_lag; /* only with soa_reference */
	bool expect_dnssec;  /* DO bit; RRSIGs over the answer and a DNSKEY RRset required */
	int rrsig_warn_days; /* 0: off */
	int rrsig_fail_days; /* 0: fail only once expired */
	bool dnssec_validate;
};

struct tcp_conf {
	struct conf_addr address; /* port required */
	bool has_source;
	struct conf_addr source;
};

struct exec_conf {
	struct strlist argv; /* argv[0] is an absolute path; no shell */
	size_t output_max;   /* bytes of stdout kept */
};

/* A listening socket whose disappearance is a death (watch_listen). */
struct listen_ref {
	int proto;             /* IPPROTO_TCP or IPPROTO_UDP */
	struct conf_addr addr; /* numeric address and port */
};

/* What serves a check, for the death watches (watch.h); every member optional. */
struct watch_conf {
	char *pidfile;             /* watch_pidfile: absolute path, NULL: none */
	char *unit;                /* watch_unit: a systemd unit name, NULL: none */
	struct listen_ref *listen; /* watch_listen */
	size_t nlisten;
};

struct check_conf {
	char *name;
	int line; /* where it was defined, for messages */
	enum check_type type;
	double interval;      /* seconds between runs while stable */
	double fast_interval; /* seconds between runs while changing state */
	double timeout;       /* seconds; must be below interval */
	unsigned rise, fall;
	struct watch_conf watch;
	union {
		struct http_conf http;
		struct dns_conf dns;
		struct tcp_conf tcp;
		struct exec_conf exec;
	} u;
};

struct bird_socket_conf {
	char *name; /* "default" when given as bird.socket */
	char *path;
};

/* A BIRD protocol, written "[SOCKET:]NAME"; without SOCKET it is on the first socket. */
struct proto_ref {
	char *name;    /* a valid BIRD symbol */
	size_t socket; /* index into bird.sockets */
};

struct proto_list {
	struct proto_ref *v;
	size_t n;
};

/* Which list of an announcement a protocol comes from. */
enum proto_role { PROTO_ROLE_NORMAL, PROTO_ROLE_DRAIN, PROTO_ROLE_DEGRADED, PROTO__ROLES };

struct announcement_conf {
	char *name;
	int line;
	struct proto_list protocols;
	struct proto_list drain_protocols;
	struct proto_list degraded_protocols;
	struct strlist requires; /* check names */
	size_t *require_idx;     /* index of each into agent_conf.checks */
	unsigned quorum;         /* checks that must be up; nrequires for "all", 1 for "any" */
	struct strlist prefixes; /* normalised CIDR */
	double drain_time;
	double hold_down;
	/* RFC 2439 style flap damping of this announcement's withdraws */
	double damp_penalty, damp_suppress, damp_reuse, damp_half_life, damp_max_suppress;
	bool last_site_guard;
};

struct bird_conf {
	struct bird_socket_conf *sockets;
	size_t nsockets;
	double timeout; /* seconds per command */
	double reconcile_interval;
	char *state_dir; /* durable decisions that bird.conf includes */
};

struct control_conf {
	char *socket;
	char *group;       /* NULL: the agent's own group */
	char *admin_group; /* NULL: root only */
	unsigned mode;
};

struct agent_conf {
	char *path; /* the file it was loaded from */
	struct bird_conf bird;
	struct control_conf control;
	char *state_file;
	enum on_exit_action on_exit;
	char *metrics_file;      /* Prometheus textfile, NULL: none */
	double metrics_interval; /* seconds between writes */
	char *user;              /* drop to this user when started as root; NULL: stay */
	char *exec_user;         /* exec checks run as this user; NULL: see priv.h */
	struct check_conf *checks;
	size_t nchecks;
	struct announcement_conf *announcements;
	size_t nannouncements;
};

/* bird.state_dir when not set (AA_RUN_DIR comes from ./configure, in config.h). */
#define CONF_DEFAULT_STATE_DIR AA_RUN_DIR "/bird"

/* Command-line overrides applied after the file is read (NULL: keep). */
struct conf_overrides {
	const char *bird_socket;
	const char *control_socket;
	const char *state_dir;
	const char *state_file;
};

/*
 * Load and validate path. On success returns the config and *errors is NULL.
 * On failure returns NULL and *errors holds every problem found, one
 * "file:line: message" per line (malloc'd; the caller frees).
 */
struct agent_conf *conf_load(const char *path, const struct conf_overrides *ov, char **errors);
/* The same for a configuration held in memory (tests, fuzzing): path names it
 * in errors, and @include is relative to path's directory. */
struct agent_conf *conf_load_string(const char *text, const char *path,
                                    const struct conf_overrides *ov, char **errors);
void conf_free(struct agent_conf *conf);

/* Print the normalised effective config (defaults filled in) in libconfig syntax;
 * the output loads back to an equal config. */
void conf_print(FILE *out, const struct agent_conf *conf);
/* Only its bird section, which loads back on its own. */
void conf_print_bird(FILE *out, const struct agent_conf *conf);

/* True if two definitions are the same (line numbers ignored): a reload keeps
 * the live state of what did not change. */
bool conf_check_equal(const struct check_conf *a, const struct check_conf *b);
bool conf_announcement_equal(const struct announcement_conf *a, const struct announcement_conf *b);

const char *check_type_name(enum check_type t);
/* The role's list: protocols, drain_protocols or degraded_protocols. */
const struct proto_list *conf_role_protocols(const struct announcement_conf *a,
                                             enum proto_role role);
const char *conf_role_name(enum proto_role role);
const struct check_conf *conf_find_check(const struct agent_conf *conf, const char *name);

#endif
