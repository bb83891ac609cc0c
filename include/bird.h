/* SPDX-License-Identifier: ISC */
/*
 * bird.h - asynchronous client for BIRD's control socket (bird.ctl).
 *
 * Owns: one connection per BIRD socket on the agent's libuv loop, the
 * `0001` banner, one command at a time (the rest queued), reply framing
 * and reply codes, a per-command timeout, and reconnecting with capped
 * exponential backoff plus jitter. It knows nothing about checks or
 * announcements: a reconcile layer drives it through enable/disable/show
 * and reacts to the connected/disconnected callbacks.
 *
 * Framing (BIRD 1.6, 2.x and 3.x alike): `DDDD-text` (more lines follow),
 * `DDDD text` (last line of the reply), ` text` (continuation, same code as
 * the line before), `+text` (asynchronous line, skipped). The reply parser
 * below is pure and usable on its own (tests, fuzzing).
 *
 * Safety toward BIRD (see FIELD-NOTES "BIRD control socket"): only valid
 * BIRD symbols are sent, never quoted names (a quoted name is a glob);
 * messages are reduced to printable ASCII without quotes or backslashes and
 * capped; a command longer than BIRD_CMD_MAX is refused locally; one
 * command is in flight at a time; the socket is never half-closed.
 *
 * BIRD 1.6.8 quirk (measured): its CLI read position is reset only when the
 * CLI goes idle, so commands sent right after each reply walk through its
 * 1024-byte buffer and BIRD closes the connection after ~1 KiB (about 40
 * enable/disable pairs). On a "BIRD 1.x" banner the client therefore opens
 * a fresh connection before a command would take the bytes sent on the
 * current one past 900; callers see no callback and no error. BIRD 2.0.12
 * does not have the problem (8,000 bytes back to back on one connection).
 *
 * Disabled versus "enabled but down" (measured on BIRD 1.6.8, 2.0.12, 2.17.6, 3.1.8):
 * neither `show protocols` nor `show protocols all` prints BIRD's internal
 * disabled flag. The state column is the only signal: a disabled protocol
 * is `down`; an enabled one is `up`, or `start` while it is connecting (BGP
 * `Active`/`Connect`/`Idle`), `stop`/`flush` while it goes down, and
 * `feed`/`suspended` only on 1.6. Right after `disable` BIRD 2 shows
 * `flush` (measured) and then `down`; a restart passes through `stop` and
 * `flush` too, so those two say "going down, not settled" (settling = true)
 * and a caller re-reads, or just sends what it wants: enable and disable are
 * idempotent ("already ..."). BIRD 3 flushes in the background: `enable`
 * right after `disable` answers `0011 enabled` and the protocol shows `flush`
 * until the flush ends, then `up` by itself (3.1.8: 6 of 200 quick
 * disable/enable pairs; BIRD 2 never). An enabled static protocol goes `up`
 * at once otherwise, so for the agent's static protocols `down` <=> disabled. A BGP
 * session that hit a hard error (e.g. `Error: Invalid next hop`) also shows
 * `down`, and BIRD itself answers `already disabled` for it: BIRD has
 * disabled it, so `disabled` is right there too. `disable P "text"` adds a
 * `Message: text` line to `show protocols all P` (BIRD >= 1.6.4), the only
 * place the message is visible; an `enable` clears it. Hence
 * bird_protocol.disabled = (state == "down").
 */
#ifndef AA_BIRD_H
#define AA_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Longest command line sent to BIRD (newline included); BIRD wedges on
 * lines of >= 4095 bytes and resets on single writes of >= 1024. */
#define BIRD_CMD_MAX 512
/* Longest disable/enable message after sanitising. */
#define BIRD_MSG_MAX 128
/* Longest reply line accepted; a longer one is a protocol error. */
#define BIRD_LINE_MAX (64 * 1024)
/* Longest reply (all lines) accepted for one command. */
#define BIRD_REPLY_MAX (16 * 1024 * 1024)
/* Commands waiting behind the one in flight. */
#define BIRD_QUEUE_MAX 1024
/* Protocol names longer than this are never sent (util.h bird_symbol_valid). */
#define BIRD_NAME_MAX 64

/* ---- reply parser (pure) ------------------------------------------------ */

enum bird_line_kind {
	BIRD_LINE_MORE,  /* "DDDD-text": more lines of this reply follow */
	BIRD_LINE_LAST,  /* "DDDD text": the last line of the reply */
	BIRD_LINE_CONT,  /* " text": continuation, code of the line before */
	BIRD_LINE_ASYNC, /* "+text": asynchronous, not part of any reply */
};

struct bird_line {
	int code; /* 0..9999; -1 for BIRD_LINE_ASYNC */
	enum bird_line_kind kind;
	const char *text; /* after the code and separator; NUL-terminated */
	size_t len;       /* strlen(text) */
};

/* Return 0 to go on; anything else stops bird_parser_feed, which returns it. */
typedef int (*bird_line_cb)(const struct bird_line *line, void *arg);

struct bird_parser {
	char *buf; /* the partial line */
	size_t len, cap, max_line;
	int code;    /* code of the previous line of this reply; -1 between replies */
	bool failed; /* a protocol error happened; feed refuses more input */
	char error[96];
};

void bird_parser_init(struct bird_parser *p, size_t max_line);
void bird_parser_reset(struct bird_parser *p);
void bird_parser_free(struct bird_parser *p);
/*
 * Feed bytes (any split, down to one byte at a time). Calls cb for each
 * complete line. Returns 0 when all bytes are consumed, -1 on a protocol
 * error (p->error says which: no reply code, NUL byte, line longer than
 * max_line, continuation outside a reply, ...; the parser stays failed
 * until reset), or the nonzero value cb returned (the rest is dropped).
 */
int bird_parser_feed(struct bird_parser *p, const void *data, size_t len, bird_line_cb cb,
                     void *arg);
/* The peer closed: -1 (and p->error) if a line or a reply was cut short. */
int bird_parser_eof(struct bird_parser *p);
/* True while inside a reply (a MORE or CONT line seen, LAST not yet). */
bool bird_parser_in_reply(const struct bird_parser *p);

/* ---- results ------------------------------------------------------------ */

/* X(code, name) */
#define BIRD_STATUSES(X)                                                                           \
	X(BIRD_OK, "OK")                                                                           \
	X(BIRD_NO_SUCH_PROTOCOL, "NO_SUCH_PROTOCOL")                                               \
	X(BIRD_ACCESS_DENIED, "ACCESS_DENIED")                                                     \
	X(BIRD_ERROR, "BIRD_ERROR")                                                                \
	X(BIRD_TIMEOUT, "TIMEOUT")                                                                 \
	X(BIRD_DISCONNECTED, "DISCONNECTED")                                                       \
	X(BIRD_REFUSED_LOCALLY, "REFUSED_LOCALLY")

enum bird_status {
#define X(code, name) code,
	BIRD_STATUSES(X)
#undef X
	    BIRD__STATUS_COUNT
};

const char *bird_status_name(enum bird_status st);
/* Map a reply code to a status: 0xxx OK, 8003/9001/9002 NO_SUCH_PROTOCOL,
 * 8007 ACCESS_DENIED, other 8xxx/9xxx BIRD_ERROR; -1 for table rows. */
int bird_status_from_code(int code);

/* What one command came to; pointers are valid only during the callback. */
struct bird_reply {
	enum bird_status status;
	int code;         /* BIRD's reply code that decided it; 0 if BIRD never answered */
	const char *text; /* BIRD's text for that line, or the local reason; never NULL */
	bool changed;     /* enable/disable: BIRD changed it (0009/0011), not "already" */
	double latency;   /* seconds from sending the command to its last reply line */
};

/* A row of `show protocols` (BIRD 2.x and 1.6 alike); longer fields are cut. */
struct bird_protocol {
	char name[BIRD_NAME_MAX + 1];
	char proto[32];                /* "Static", "BGP", "Device", ... */
	char table[BIRD_NAME_MAX + 1]; /* "master4"; "---" when the protocol has none */
	char state[16]; /* as BIRD prints it: up, start, stop, flush, down, feed, suspended */
	char since[40]; /* as BIRD prints it (depends on `timeformat protocol`) */
	char info[128]; /* e.g. "Active", "Established", "Error: Invalid next hop" */
	char message[BIRD_MSG_MAX + 1]; /* `Message:` line; only with all = true */
	char description[256];          /* `Description:` line; only with all = true */
	bool up;                        /* state "up" */
	bool disabled;                  /* state "down": see the header comment */
	bool settling; /* state "stop" or "flush": going down (disabled or restarting) */
};

/*
 * A route of `show route [for] PREFIX all`: a 1007 line holding `[PROTO TIME ...]` starts a
 * route, attribute lines after it say where it comes from. Measured on BIRD 2.0.12, 2.17.6
 * and 3.1.8: the first route of a net is a continuation line of 1007, `via` lines are 1007
 * continuations without `[`, and a prefix nothing covers answers `8001 Network not found`.
 * BIRD 1.6 and 2 print the origin as `1008-\tType: BGP univ`; BIRD 3 prints it as an
 * attribute, `1012-\tsource: BGP` (or its continuation), and `Type:` only on a socket with
 * `v2 attributes`. Either gives bird_route.origin, so callers need not know the version.
 */
struct bird_route {
	char proto[BIRD_NAME_MAX + 1]; /* the protocol that carries it: "anycast_web4" */
	/* where BIRD says it comes from: "static", "BGP", "inherit", "device", ...; "" when BIRD
	 * printed neither `Type:` nor `source:` */
	char origin[16];
	bool best; /* marked `*` */
};

struct bird_route_list {
	struct bird_route *v;
	size_t n, cap;
	bool bad; /* a route line that could not be parsed */
};

/* Feed one reply line of `show route ... all`; lines of other codes are ignored. */
void bird_route_parse_line(struct bird_route_list *l, const struct bird_line *line);
void bird_route_list_free(struct bird_route_list *l);
/* A CIDR prefix BIRD can take on a command line: "192.0.2.80/32", "2001:db8::80/128". */
bool bird_prefix_valid(const char *prefix);

/* The version of a banner's text ("BIRD 2.0.12"; missing parts are 0). False if it is not
 * "BIRD " followed by a number. */
bool bird_version_parse(const char *version, unsigned v[3]);
/* Whether that BIRD takes a message after enable/disable: 1.6.0-1.6.3 answer `disable P "msg"`
 * with 9001 (a syntax error, like an unknown name), the message came in 1.6.4. An unparsable
 * version counts as taking it. */
bool bird_version_takes_message(const char *version);

/* ---- client ------------------------------------------------------------- */

struct bird_client;

struct bird_client_cbs {
	/* The banner arrived; version is e.g. "BIRD 2.0.12". May be NULL. */
	void (*connected)(struct bird_client *bc, const char *version, void *arg);
	/* An established connection (banner seen) ended; a reconnect is
	 * scheduled already. Failed connect attempts, the BIRD 1.x planned
	 * reconnect and bird_client_free() do not call this; see
	 * bird_client_state(). May be NULL. */
	void (*disconnected)(struct bird_client *bc, const char *reason, void *arg);
};

typedef void (*bird_done_cb)(struct bird_client *bc, const struct bird_reply *r, void *arg);
/* On failure protos is NULL and n is 0. protos is freed after the callback. */
typedef void (*bird_show_cb)(struct bird_client *bc, const struct bird_reply *r,
                             const struct bird_protocol *protos, size_t n, void *arg);

/*
 * Create a client for the BIRD socket at path and start connecting. name
 * labels log lines and status ("v4", "v6", "bird"). cmd_timeout_s bounds
 * connect + banner and each command; when it expires the connection is
 * dropped and re-established with backoff. Several clients (one per
 * socket) can share one loop. Never returns NULL (bad arguments are fatal:
 * they come from validated config).
 */
struct bird_client *bird_client_new(uv_loop_t *loop, const char *name, const char *path,
                                    double cmd_timeout_s, const struct bird_client_cbs *cbs,
                                    void *arg);
/* Reconnect delay: min_s doubling per consecutive failure up to max_s, each
 * delay drawn from [d/2, d] (jitter). Defaults 0.1 s and 5 s. */
void bird_client_set_backoff(struct bird_client *bc, double min_s, double max_s);
/*
 * Close the connection and release the client. Commands still queued or in
 * flight get their callback with BIRD_DISCONNECTED ("client closed") before
 * this returns; from inside those callbacks every command call returns
 * BIRD_DISCONNECTED. Memory is released once the loop has run the close
 * callbacks (uv_run afterwards). Safe to call from any of the client's
 * callbacks.
 */
void bird_client_free(struct bird_client *bc);

/*
 * The commands. Each returns BIRD_OK if the command was queued: its callback
 * then runs exactly once, from the loop (never from inside this call). Any
 * other return means it was refused now and the callback never runs:
 * BIRD_REFUSED_LOCALLY (name not a valid BIRD symbol, command too long,
 * queue full) or BIRD_DISCONNECTED (waiting to reconnect, or closing).
 * While a connect attempt is under way commands are queued.
 *
 * enable/disable send `enable NAME` / `disable NAME "reason"`; reason may be
 * NULL or empty (then no message), and a BIRD whose banner says it takes none
 * (bird_version_takes_message) gets none. OK covers "already enabled/disabled"
 * (reply.changed tells them apart).
 */
enum bird_status bird_enable(struct bird_client *bc, const char *proto, const char *reason,
                             bird_done_cb cb, void *arg);
enum bird_status bird_disable(struct bird_client *bc, const char *proto, const char *reason,
                              bird_done_cb cb, void *arg);
/* `show protocols [all] [NAME]`; name NULL lists every protocol. all = true
 * also reads the `Message:` and `Description:` lines (more output: use it for one name). */
enum bird_status bird_show_protocols(struct bird_client *bc, const char *name, bool all,
                                     bird_show_cb cb, void *arg);

/* On failure routes is NULL and n is 0; "Network not found" is success with n = 0. The
 * routes are freed after the callback. */
typedef void (*bird_route_cb)(struct bird_client *bc, const struct bird_reply *r,
                              const struct bird_route *routes, size_t n, void *arg);
/* `show route for PREFIX all`: every route of the most specific net covering PREFIX (the
 * last-site guard's question). PREFIX must pass bird_prefix_valid(). */
enum bird_status bird_show_route_for(struct bird_client *bc, const char *prefix, bird_route_cb cb,
                                     void *arg);

struct bird_client_state {
	const char *name, *path;
	bool connected;                /* banner seen, connection up */
	const char *version;           /* from the last banner, "" before the first */
	const char *last_error;        /* the last connection or protocol error, "" if none */
	unsigned consecutive_failures; /* connects/commands failed since the last success */
	size_t queued;                 /* commands waiting, the one in flight included */
	uint64_t commands_ok, commands_failed, connects;
};
/* Pointers stay valid until the next call into the client or the loop. */
void bird_client_state(const struct bird_client *bc, struct bird_client_state *st);

/*
 * Copy src into dst as a message BIRD can take inside double quotes:
 * printable ASCII only, '"' and '\\' dropped, at most BIRD_MSG_MAX bytes
 * (and dstsz - 1). Returns the length written.
 */
size_t bird_message_sanitize(char *dst, size_t dstsz, const char *src);
/* Parse one `show protocols` row (the text of a 1002 line or its
 * continuation). Returns 0, or -1 if it has fewer than five fields. */
int bird_protocol_parse_row(const char *text, struct bird_protocol *out);

#endif
