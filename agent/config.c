/* SPDX-License-Identifier: ISC */
/*
 * config.c - the configuration loader: a libconfig file becomes an immutable
 * struct agent_conf, or a list of "file:line: message" errors.
 *
 * Owns: one table of known keys per section (adding a key is adding a row:
 * the row parses, validates, defaults, prints, compares and frees it), the
 * cross-key rules of each section, the normalised printer behind -nv, and
 * the command-line overrides. It touches no socket and no BIRD.
 */
#include <config.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <math.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "util.h"

/* ---- loader context and error collection -------------------------------- */

struct err {
	char *file;   /* as shown; NULL for the command line */
	int line;     /* 0: none */
	unsigned seq; /* order found, among errors on one line */
	size_t rank;  /* files sort in the order their first error was found */
	char *msg;
};

struct ctx {
	const char *path; /* the main file, as the user wrote it */
	const char *text; /* conf_load_string: the main file's contents, not read from path */
	char *dir;        /* where @include looks, NULL for the CWD */
	struct err *errs; /* every problem found */
	size_t nerr;
	char where[160]; /* prefix naming the object being read: `check "web": ` */
	int check_type;  /* type of the check being read, -1 outside a check */
	struct agent_conf *conf;
};

/* libconfig names an included file as written in @include; show it from the CWD. */
static char *display_file(const struct ctx *c, const char *file)
{
	char *s;
	if (file == NULL || strcmp(file, c->path) == 0)
		return xstrdup(c->path);
	if (c->dir != NULL && file[0] != '/') {
		xasprintf(&s, "%s/%s", c->dir, file);
		return s;
	}
	return xstrdup(file);
}

/* Takes ownership of file and msg. */
static void add_err(struct ctx *c, char *file, int line, char *msg)
{
	c->errs = xrealloc(c->errs, (c->nerr + 1) * sizeof(*c->errs));
	c->errs[c->nerr] =
	    (struct err){.file = file, .line = line, .seq = (unsigned)c->nerr, .msg = msg};
	c->nerr++;
}

/* An error in a file already shown as file (NULL: the command line), without the prefix. */
__attribute__((format(printf, 4, 5))) static void ferr(struct ctx *c, const char *file, int line,
                                                       const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	va_end(ap);
	add_err(c, file ? xstrdup(file) : NULL, line, msg);
}

__attribute__((format(printf, 4, 0))) static void verr_at(struct ctx *c, const char *file, int line,
                                                          const char *fmt, va_list ap)
{
	char *body, *msg;
	if (vasprintf(&body, fmt, ap) < 0)
		abort();
	xasprintf(&msg, "%s%s", c->where, body);
	free(body);
	add_err(c, display_file(c, file), line, msg);
}

/* An error about setting s (or about the file when s is NULL). */
__attribute__((format(printf, 3, 4))) static void serr(struct ctx *c, const config_setting_t *s,
                                                       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (s != NULL)
		verr_at(c, config_setting_source_file(s), config_setting_source_line(s), fmt, ap);
	else
		verr_at(c, NULL, 0, fmt, ap);
	va_end(ap);
}

static int err_cmp(const void *pa, const void *pb)
{
	const struct err *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* All errors, by file (in the order first seen) and line; one line each. */
static char *errors_format(struct ctx *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	if (out == NULL)
		abort();
	for (size_t i = 0; i < c->nerr; i++) {
		struct err *e = &c->errs[i];
		e->rank = SIZE_MAX; /* the command line comes last */
		for (size_t j = 0; e->file != NULL && j <= i; j++)
			if (c->errs[j].file != NULL && strcmp(c->errs[j].file, e->file) == 0) {
				e->rank = j;
				break;
			}
	}
	qsort(c->errs, c->nerr, sizeof(*c->errs), err_cmp);
	for (size_t i = 0; i < c->nerr; i++) {
		const struct err *e = &c->errs[i];
		fputs(e->file ? e->file : "command line", out);
		if (e->line > 0)
			fprintf(out, ":%d", e->line);
		fputs(": ", out);
		for (const char *p = e->msg; *p; p++) {
			if (*p == '\n')
				fputs("\\n", out);
			else if (*p == '\r')
				fputs("\\r", out);
			else if ((unsigned char)*p < 0x20)
				fprintf(out, "\\x%02x", (unsigned char)*p);
			else
				fputc(*p, out);
		}
		fputc('\n', out);
	}
	fclose(out);
	return buf;
}

static void errors_free(struct ctx *c)
{
	for (size_t i = 0; i < c->nerr; i++) {
		free(c->errs[i].file);
		free(c->errs[i].msg);
	}
	free(c->errs);
}

/* ---- small helpers --------------------------------------------------------- */

static bool streq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > CONF_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* Case-insensitive edit distance counting a swap of neighbours as one edit, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65][65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			size_t best = d[i - 1][j - 1] + (ca != cb);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* Keeps the closest candidate that is close enough to be a typo. */
struct suggest {
	const char *word;
	const char *best;
	size_t dist;
};

static void suggest_try(struct suggest *sg, const char *cand)
{
	size_t d = edit_distance(sg->word, cand), len = strlen(cand);
	size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
	if (d <= limit && d < sg->dist && d < len) {
		sg->dist = d;
		sg->best = cand;
	}
}

static void suggest_fmt(const struct suggest *sg, char *buf, size_t len)
{
	if (sg->best != NULL)
		snprintf(buf, len, " (did you mean \"%s\"?)", sg->best);
	else
		buf[0] = '\0';
}

/* A numeric address with an optional ":port"; IPv6 with a port in brackets. */
enum port_mode { PORT_NONE, PORT_OPT, PORT_REQ };

static bool parse_addr(const char *in, enum port_mode pm, struct conf_addr *out, char *why,
                       size_t wlen)
{
	char host[INET6_ADDRSTRLEN + 2], buf[sizeof(struct in6_addr)], norm[INET6_ADDRSTRLEN];
	const char *port = NULL, *colon = strrchr(in, ':');
	size_t hl;

	if (in[0] == '[') {
		const char *end = strchr(in, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
			snprintf(why, wlen, "\"%s\" is not an address: write \"[2001:db8::1]:53\"",
			         in);
			return false;
		}
		hl = (size_t)(end - in - 1);
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, in + 1, hl);
		host[hl] = '\0';
		if (end[1] == ':')
			port = end + 2;
	} else if (colon != NULL && strchr(in, ':') == colon) {
		hl = (size_t)(colon - in); /* exactly one colon: IPv4 with a port */
		if (hl >= sizeof(host))
			goto bad;
		memcpy(host, in, hl);
		host[hl] = '\0';
		port = colon + 1;
	} else {
		if (strlen(in) >= sizeof(host))
			goto bad;
		strcpy(host, in);
	}
	if (inet_pton(AF_INET, host, buf) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, host, buf) == 1)
		out->family = AF_INET6;
	else
		goto bad;
	if (in[0] == '[' && out->family != AF_INET6)
		goto bad;
	out->port = 0;
	if (port != NULL) {
		char *end;
		unsigned long p;
		if (pm == PORT_NONE) {
			snprintf(why, wlen, "\"%s\": give an address without a port", in);
			return false;
		}
		errno = 0;
		p = strtoul(port, &end, 10);
		if (!isdigit((unsigned char)port[0]) || *end != '\0' || errno || p < 1 ||
		    p > 65535) {
			snprintf(why, wlen, "\"%s\": the port must be a number from 1 to 65535",
			         in);
			return false;
		}
		out->port = (unsigned)p;
	} else if (pm == PORT_REQ) {
		snprintf(why, wlen, "\"%s\" needs a port: write \"%s\"", in,
		         out->family == AF_INET6 ? "[2001:db8::1]:443" : "192.0.2.1:443");
		return false;
	}
	inet_ntop(out->family, buf, norm, sizeof(norm));
	free(out->host);
	out->host = xstrdup(norm);
	return true;
bad:
	snprintf(why, wlen, "\"%s\" is not a numeric IPv4 or IPv6 address%s", in,
	         pm == PORT_NONE ? "" : " (with an optional :port)");
	return false;
}

static void addr_format(const struct conf_addr *a, bool with_port, char *buf, size_t len)
{
	if (!with_port || a->port == 0)
		snprintf(buf, len, "%s", a->host);
	else if (a->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a->host, a->port);
	else
		snprintf(buf, len, "%s:%u", a->host, a->port);
}

/* ---- printing in libconfig syntax ----------------------------------------- */

static void indent(FILE *out, int ind)
{
	for (int i = 0; i < ind; i++)
		fputc('\t', out);
}

static void print_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\t')
			fputs("\\t", out);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(out, "\\x%02x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* The shortest decimal that reads back as the same double, always as a float. */
static void fmt_double(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.1f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (strpbrk(buf, ".en") == NULL)
		strncat(buf, ".0", len - strlen(buf) - 1);
}

static void print_double(FILE *out, double v)
{
	char buf[64];
	fmt_double(v, buf, sizeof(buf));
	fputs(buf, out);
}

static void print_strlist(FILE *out, const struct strlist *l)
{
	fputs("[", out);
	for (size_t i = 0; i < l->n; i++) {
		fputs(i ? ", " : " ", out);
		print_str(out, l->v[i]);
	}
	fputs(" ]", out);
}

/* For rows another row prints (a port printed beside its address). */
static void print_none(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
}

/* ---- the key tables --------------------------------------------------------- */

/* libconfig types a key accepts */
#define T_INT   0x01
#define T_FLOAT 0x02
#define T_NUM   (T_INT | T_FLOAT)
#define T_STR   0x04
#define T_BOOL  0x08
#define T_LIST  0x10 /* [ array ] or ( list ) */
#define T_GROUP 0x20

enum kind {
	K_DOUBLE,  /* double; int or float accepted */
	K_INT,     /* int */
	K_UINT,    /* unsigned */
	K_SIZE,    /* size_t */
	K_LONG,    /* long */
	K_BOOL,    /* bool */
	K_TRIBOOL, /* int: -1 unset, 0, 1 */
	K_STRING,  /* char *, through an optional normaliser */
	K_ENUM,    /* int, from a table of names */
	K_OCTAL,   /* unsigned, written as an octal string */
	K_ADDR,    /* struct conf_addr (+ a bool saying it was given) */
	K_STRLIST, /* struct strlist, each entry through an optional normaliser */
	K_PROTOS,  /* struct proto_list of "[SOCKET:]NAME" */
	K_SECTION, /* a nested group with its own table */
	K_CUSTOM,  /* the row's callbacks do everything */
};

struct enum_name {
	const char *name;
	int value;
};

/* Returns a normalised malloc'd copy of in, or NULL after writing why. */
typedef char *(*norm_fn)(struct ctx *c, const char *in, char *why, size_t wlen);

struct key {
	const char *name;
	unsigned types;
	enum kind kind;
	size_t off;        /* the field, from the start of the section's struct */
	size_t has_off;    /* K_ADDR: 1 + offset of the bool "was given"; 0 if none */
	double min, max;   /* numeric range, inclusive */
	double def;        /* numeric default; K_ADDR: default port */
	const char *sdef;  /* string default (K_STRING, K_ENUM) */
	const char *unit;  /* for messages: " seconds" */
	const char *unset; /* printed when an optional key has no value */
	bool required;
	bool nonempty;        /* lists */
	enum port_mode port;  /* K_ADDR */
	const char *port_key; /* K_ADDR: sibling key that may give the port instead */
	const struct enum_name *enums;
	const struct key *sub; /* K_SECTION */
	norm_fn norm;
	void (*init)(void *obj);
	void (*parse)(struct ctx *c, const config_setting_t *s, void *obj);
	void (*print)(FILE *out, int ind, const void *obj, const struct ctx *pc);
	bool (*equal)(const void *a, const void *b);
	void (*free)(void *obj);
};

#define F(S, M) .off = offsetof(S, M)
#define NUM(N, S, M, LO, HI, D, U, ...)                                                            \
	{                                                                                          \
		.name = N, .types = T_NUM, .kind = K_DOUBLE, F(S, M), .min = LO, .max = HI,        \
		.def = D, .unit = U, __VA_ARGS__                                                   \
	}
#define INTK(N, K, S, M, LO, HI, D, U, ...)                                                        \
	{                                                                                          \
		.name = N, .types = T_INT, .kind = K, F(S, M), .min = LO, .max = HI, .def = D,     \
		.unit = U, __VA_ARGS__                                                             \
	}
#define BOOLK(N, S, M, D, ...)                                                                     \
	{                                                                                          \
		.name = N, .types = T_BOOL, .kind = K_BOOL, F(S, M), .def = D, __VA_ARGS__         \
	}
#define STR(N, S, M, D, NORM, ...)                                                                 \
	{                                                                                          \
		.name = N, .types = T_STR, .kind = K_STRING, F(S, M), .sdef = D, .norm = NORM,     \
		__VA_ARGS__                                                                        \
	}
#define ENUMK(N, S, M, E, D, ...)                                                                  \
	{                                                                                          \
		.name = N, .types = T_STR, .kind = K_ENUM, F(S, M), .enums = E, .sdef = D,         \
		__VA_ARGS__                                                                        \
	}
#define ADDR(N, S, M, HAS, PM, ...)                                                                \
	{                                                                                          \
		.name = N, .types = T_STR, .kind = K_ADDR, F(S, M),                                \
		.has_off = 1 + offsetof(S, HAS), .port = PM, __VA_ARGS__                           \
	}
#define ADDR_PORTKEY(N, S, M, PK, ...)                                                             \
	{                                                                                          \
		.name = N, .types = T_STR, .kind = K_ADDR, F(S, M), .port = PORT_OPT,              \
		.port_key = PK, __VA_ARGS__                                                        \
	}
#define LIST(N, S, M, NORM, ...)                                                                   \
	{                                                                                          \
		.name = N, .types = T_LIST, .kind = K_STRLIST, F(S, M), .norm = NORM, __VA_ARGS__  \
	}
#define PROTOS(N, S, M, ...)                                                                       \
	{                                                                                          \
		.name = N, .types = T_LIST, .kind = K_PROTOS, F(S, M), __VA_ARGS__                 \
	}
#define SECTION(N, S, M, SUB)                                                                      \
	{                                                                                          \
		.name = N, .types = T_GROUP, .kind = K_SECTION, F(S, M), .sub = SUB                \
	}
#define END                                                                                        \
	{                                                                                          \
		.name = NULL                                                                       \
	}

/* ---- normalisers (validation of one string value) ----------------------- */

static char *n_nonempty(struct ctx *c, const char *in, char *why, size_t wlen)
{
	if (*in == '\0') {
		snprintf(why, wlen, "must not be empty");
		return NULL;
	}
	return xstrdup(in);
}

/* The daemon runs from /, so a relative path would mean something else there. */
static char *n_abs_path(struct ctx *c, const char *in, char *why, size_t wlen)
{
	if (in[0] != '/') {
		snprintf(why, wlen, "\"%s\" must be an absolute path (the agent runs from /)", in);
		return NULL;
	}
	return xstrdup(in);
}

/* bird.state_dir: bird.conf includes it as a glob and BIRD shows it in a description, so no
 * quote, backslash, glob character or control character, and short enough to be shown whole. */
static char *n_decision_dir(struct ctx *c, const char *in, char *why, size_t wlen)
{
	if (in[0] != '/')
		return n_abs_path(c, in, why, wlen);
	if (strlen(in) > CONF_DECISION_DIR_MAX) {
		snprintf(why, wlen, "\"%s\" is longer than %d characters", in,
		         CONF_DECISION_DIR_MAX);
		return NULL;
	}
	for (const char *p = in; *p; p++)
		if (*p < 0x20 || *p > 0x7e || strchr("\"\\*?[]{}", *p) != NULL) {
			snprintf(why, wlen,
			         "\"%s\" has '%c': bird.conf includes this path as a pattern; use "
			         "letters, digits and /._-",
			         in, *p >= 0x20 && *p <= 0x7e ? *p : '?');
			return NULL;
		}
	return xstrdup(in);
}

static char *n_socket_path(struct ctx *c, const char *in, char *why, size_t wlen)
{
	if (in[0] != '/')
		return n_abs_path(c, in, why, wlen);
	if (strlen(in) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		snprintf(why, wlen, "\"%s\" is %zu bytes; a Unix socket path holds at most %zu", in,
		         strlen(in), sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return NULL;
	}
	return xstrdup(in);
}

static char *n_readable_file(struct ctx *c, const char *in, char *why, size_t wlen)
{
	struct stat st;
	if (in[0] != '/')
		return n_abs_path(c, in, why, wlen);
	if (access(in, R_OK) != 0 || stat(in, &st) != 0) {
		snprintf(why, wlen, "cannot read \"%s\": %s", in, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, wlen, "\"%s\" is not a regular file", in);
		return NULL;
	}
	return xstrdup(in);
}

static char *n_name(struct ctx *c, const char *in, char *why, size_t wlen)
{
	if (!name_valid(in)) {
		snprintf(why, wlen,
		         "\"%s\" is not a valid name: use letters, digits, '_' and '-', at most %d",
		         in, CONF_NAME_MAX);
		return NULL;
	}
	return xstrdup(in);
}

/* Unix group names; resolved when the socket is created, not here. */
static char *n_group(struct ctx *c, const char *in, char *why, size_t wlen)
{
	size_t n = strlen(in);
	bool ok = n > 0 && n <= 32 && in[0] != '-';
	for (const char *p = in; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || strchr("_.-$", *p) != NULL;
	if (!ok) {
		snprintf(why, wlen, "\"%s\" is not a valid group name", in);
		return NULL;
	}
	return xstrdup(in);
}

/* Unix user names; resolved when the agent starts, not here. */
static char *n_user(struct ctx *c, const char *in, char *why, size_t wlen)
{
	char *r = n_group(c, in, why, wlen);

	if (r == NULL)
		snprintf(why, wlen, "\"%s\" is not a valid user name", in);
	return r;
}

/* A systemd unit name (systemd's unit_name_is_valid(), simplified): without a unit type
 * suffix it is a service ("nginx" is "nginx.service"), as in systemctl; a template without
 * an instance is never active. */
static char *n_unit(struct ctx *c, const char *in, char *why, size_t wlen)
{
	static const char *const types[] = {"service",   "socket", "target", "mount",
	                                    "automount", "swap",   "path",   "timer",
	                                    "slice",     "scope",  "device"};
	const char *dot = strrchr(in, '.');
	size_t n = strlen(in);
	bool typed = false;
	char *r;

	if (n == 0 || n > 250 ||
	    strspn(in, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	               "0123456789:-_.\\@") != n) {
		snprintf(why, wlen,
		         "\"%s\" is not a systemd unit name (letters, digits and :-_.\\@, like "
		         "\"nginx.service\")",
		         in);
		return NULL;
	}
	for (size_t i = 0; dot != NULL && i < ARRAY_SIZE(types); i++)
		typed |= strcmp(dot + 1, types[i]) == 0;
	if (typed)
		r = xstrdup(in);
	else
		xasprintf(&r, "%s.service", in);
	if (strstr(r, "@.") != NULL || r[0] == '@' || r[0] == '.') {
		snprintf(why, wlen,
		         "\"%s\" is a template: name an instance, like \"getty@tty1.service\"", in);
		free(r);
		return NULL;
	}
	return r;
}

static char *n_url(struct ctx *c, const char *in, char *why, size_t wlen)
{
	CURLU *u = curl_url();
	CURLUcode rc;
	char *scheme = NULL, *host = NULL, *r = NULL;

	rc = curl_url_set(u, CURLUPART_URL, in, CURLU_NON_SUPPORT_SCHEME);
	if (rc != CURLUE_OK) {
		snprintf(why, wlen, "\"%s\" is not a valid URL: %s", in, curl_url_strerror(rc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
		snprintf(why, wlen, "\"%s\": only http:// and https:// URLs can be checked", in);
		goto out;
	}
	if (strncasecmp(in, scheme, strlen(scheme)) != 0) {
		snprintf(why, wlen, "\"%s\": write the scheme, http:// or https://", in);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == '\0') {
		snprintf(why, wlen, "\"%s\" has no host name", in);
		goto out;
	}
	r = xstrdup(in);
out:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return r;
}

static char *n_header(struct ctx *c, const char *in, char *why, size_t wlen)
{
	const char *colon = strchr(in, ':');
	if (strpbrk(in, "\r\n") != NULL) {
		snprintf(why, wlen,
		         "header \"%.*s\" is followed by CR or LF, which would inject "
		         "headers",
		         (int)strcspn(in, "\r\n"), in);
		return NULL;
	}
	if (colon == NULL || colon == in) {
		snprintf(why, wlen, "header \"%s\" must be written \"Name: value\"", in);
		return NULL;
	}
	for (const char *p = in; p < colon; p++)
		if (!isalnum((unsigned char)*p) && strchr("!#$%&'*+-.^_`|~", *p) == NULL) {
			snprintf(why, wlen,
			         "header \"%s\": the name before ':' has a bad character", in);
			return NULL;
		}
	return xstrdup(in);
}

/* Absolute with the trailing dot; labels of 1..63, names up to 253 characters. */
static char *n_qname(struct ctx *c, const char *in, char *why, size_t wlen)
{
	size_t n = strlen(in), label = 0;
	char *r;
	if (strcmp(in, ".") == 0)
		return xstrdup(in);
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n > 253) {
		snprintf(why, wlen, "\"%s\" is not a domain name (1 to 253 characters)", in);
		return NULL;
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || in[i] == '.') {
			if (label == 0 || label > 63) {
				snprintf(why, wlen,
				         "\"%s\": every label must have 1 to 63 characters", in);
				return NULL;
			}
			label = 0;
		} else if (isalnum((unsigned char)in[i]) || in[i] == '-' || in[i] == '_') {
			label++;
		} else {
			snprintf(why, wlen, "\"%s\": a label has the character '%c'", in, in[i]);
			return NULL;
		}
	}
	r = xmalloc(n + 2);
	memcpy(r, in, n);
	r[n] = '.';
	r[n + 1] = '\0';
	return r;
}

/* A CIDR prefix, host bits zero, written back in canonical form. */
static char *n_prefix(struct ctx *c, const char *in, char *why, size_t wlen)
{
	char addr[INET6_ADDRSTRLEN + 1], out[INET6_ADDRSTRLEN], *end, *r;
	unsigned char bin[16], net[16];
	const char *slash = strchr(in, '/');
	int fam, bits;
	unsigned long len;
	bool host_bits = false;

	if (slash == NULL) {
		snprintf(why, wlen, "prefix \"%s\" needs a length, like 192.0.2.0/24", in);
		return NULL;
	}
	if ((size_t)(slash - in) >= sizeof(addr))
		goto bad;
	memcpy(addr, in, (size_t)(slash - in));
	addr[slash - in] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1)
		fam = AF_INET, bits = 32;
	else if (inet_pton(AF_INET6, addr, bin) == 1)
		fam = AF_INET6, bits = 128;
	else
		goto bad;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (!isdigit((unsigned char)slash[1]) || *end != '\0' || errno || len > (unsigned)bits)
		goto bad;
	memcpy(net, bin, sizeof(net));
	for (int i = 0; i < bits / 8; i++) {
		int keep = (int)len - i * 8;
		unsigned char mask = keep >= 8   ? 0xff
		                     : keep <= 0 ? 0
		                                 : (unsigned char)(0xff << (8 - keep));
		net[i] = bin[i] & mask;
		host_bits |= net[i] != bin[i];
	}
	inet_ntop(fam, net, out, sizeof(out));
	if (host_bits) {
		snprintf(why, wlen, "prefix \"%s\" has host bits set (did you mean \"%s/%lu\"?)",
		         in, out, len);
		return NULL;
	}
	xasprintf(&r, "%s/%lu", out, len);
	return r;
bad:
	snprintf(why, wlen, "\"%s\" is not an IPv4 or IPv6 prefix (address/length)", in);
	return NULL;
}

static const struct check_conf *find_check_n(const struct agent_conf *conf, const char *name,
                                             size_t *idx);

static char *n_check_ref(struct ctx *c, const char *in, char *why, size_t wlen)
{
	struct suggest sg = {.word = in, .dist = SIZE_MAX};
	char hint[96];
	if (find_check_n(c->conf, in, NULL) != NULL)
		return xstrdup(in);
	for (size_t i = 0; i < c->conf->nchecks; i++)
		suggest_try(&sg, c->conf->checks[i].name);
	suggest_fmt(&sg, hint, sizeof(hint));
	snprintf(why, wlen, "check \"%s\" is not defined in checks%s", in, hint);
	return NULL;
}

/* ---- custom keys -------------------------------------------------------------- */

/* bird.socket / bird.sockets: one socket named "default", or a list of named ones. */
static void bird_sockets_free(void *obj)
{
	struct bird_conf *b = obj;
	for (size_t i = 0; i < b->nsockets; i++) {
		free(b->sockets[i].name);
		free(b->sockets[i].path);
	}
	free(b->sockets);
	b->sockets = NULL;
	b->nsockets = 0;
}

static void bird_socket_add(struct bird_conf *b, const char *name, const char *path)
{
	b->sockets = xrealloc(b->sockets, (b->nsockets + 1) * sizeof(*b->sockets));
	b->sockets[b->nsockets].name = xstrdup(name);
	b->sockets[b->nsockets].path = xstrdup(path);
	b->nsockets++;
}

static void bird_socket_init(void *obj)
{
	bird_socket_add(obj, "default", AA_BIRD_SOCKET);
}

static void bird_socket_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	char why[256], *p = n_socket_path(c, config_setting_get_string(s), why, sizeof(why));
	if (p == NULL)
		serr(c, s, "socket: %s", why);
	bird_sockets_free(obj);
	bird_socket_add(obj, "default", config_setting_get_string(s));
	free(p);
}

static void parse_keys(struct ctx *c, const config_setting_t *grp, const struct key *const *tabs,
                       void *const *objs, size_t ntabs);
static void apply_defaults(const struct key *keys, void *obj);
static void free_keys(const struct key *keys, void *obj);

static const struct key bird_socket_keys[] = {
    STR("name", struct bird_socket_conf, name, NULL, n_name, .required = true),
    STR("path", struct bird_socket_conf, path, NULL, n_socket_path, .required = true),
    END,
};

static void bird_sockets_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	struct bird_conf *b = obj, nb = {0};
	int n = config_setting_length(s);
	char saved[sizeof(c->where)];

	if (config_setting_get_member(config_setting_parent(s), "socket") != NULL) {
		serr(c, s, "give either socket or sockets, not both");
		return;
	}
	if (n == 0) {
		serr(c, s, "sockets must list at least one { name = ...; path = ...; }");
		return;
	}
	memcpy(saved, c->where, sizeof(saved));
	strncat(c->where, "sockets: ", sizeof(c->where) - strlen(c->where) - 1);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		struct bird_socket_conf sc = {0};
		const struct key *tab = bird_socket_keys;
		void *o = &sc;
		if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
			serr(c, e, "each socket is a group { name = \"v4\"; path = \"...\"; }");
			continue;
		}
		parse_keys(c, e, &tab, &o, 1);
		if (sc.name != NULL && sc.path != NULL) {
			for (size_t j = 0; j < nb.nsockets; j++) {
				if (strcmp(nb.sockets[j].name, sc.name) == 0)
					serr(c, e, "socket name \"%s\" is used twice", sc.name);
				else if (strcmp(nb.sockets[j].path, sc.path) == 0)
					serr(c, e, "sockets \"%s\" and \"%s\" have the same path",
					     nb.sockets[j].name, sc.name);
			}
			bird_socket_add(&nb, sc.name, sc.path);
		}
		free_keys(bird_socket_keys, &sc);
	}
	memcpy(c->where, saved, sizeof(saved));
	if (nb.nsockets > 0) {
		bird_sockets_free(b);
		b->sockets = nb.sockets;
		b->nsockets = nb.nsockets;
	}
}

static void bird_socket_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct bird_conf *b = obj;
	indent(out, ind);
	if (b->nsockets == 1 && strcmp(b->sockets[0].name, "default") == 0) {
		fputs("socket = ", out);
		print_str(out, b->sockets[0].path);
		fputs(";\n", out);
		return;
	}
	fputs("sockets = (\n", out);
	for (size_t i = 0; i < b->nsockets; i++) {
		indent(out, ind + 1);
		fputs("{ name = ", out);
		print_str(out, b->sockets[i].name);
		fputs("; path = ", out);
		print_str(out, b->sockets[i].path);
		fprintf(out, "; }%s\n", i + 1 < b->nsockets ? "," : "");
	}
	indent(out, ind);
	fputs(");\n", out);
}

static bool bird_socket_equal(const void *a, const void *b)
{
	const struct bird_conf *x = a, *y = b;
	if (x->nsockets != y->nsockets)
		return false;
	for (size_t i = 0; i < x->nsockets; i++)
		if (strcmp(x->sockets[i].name, y->sockets[i].name) != 0 ||
		    strcmp(x->sockets[i].path, y->sockets[i].path) != 0)
			return false;
	return true;
}

/* watch_listen: "[tcp:|udp:]ADDRESS:PORT" or a list of them; tcp when no protocol is given. */
static void listen_free(void *obj)
{
	struct check_conf *ck = obj;

	for (size_t i = 0; i < ck->watch.nlisten; i++)
		free(ck->watch.listen[i].addr.host);
	free(ck->watch.listen);
	ck->watch.listen = NULL;
	ck->watch.nlisten = 0;
}

static bool listen_parse_one(struct ctx *c, const config_setting_t *e, struct check_conf *ck)
{
	const char *in = config_setting_get_string(e), *a = in;
	struct listen_ref r = {.proto = IPPROTO_TCP};
	char why[256];

	if (in == NULL) {
		serr(c, e, "watch_listen: every entry must be a string like \"tcp:192.0.2.80:80\"");
		return false;
	}
	if (strncmp(in, "tcp:", 4) == 0) {
		a = in + 4;
	} else if (strncmp(in, "udp:", 4) == 0) {
		r.proto = IPPROTO_UDP;
		a = in + 4;
	}
	if (!parse_addr(a, PORT_REQ, &r.addr, why, sizeof(why))) {
		if (strstr(why, "needs a port") != NULL || strstr(why, "the port must") != NULL)
			serr(c, e, "watch_listen: %s", why);
		else
			serr(c, e,
			     "watch_listen: \"%s\" is not [tcp:|udp:]ADDRESS:PORT with a numeric "
			     "address, like \"udp:192.0.2.53:53\" or \"[2001:db8::80]:80\"",
			     in);
		return false;
	}
	for (size_t i = 0; i < ck->watch.nlisten; i++) {
		const struct listen_ref *o = &ck->watch.listen[i];
		if (o->proto == r.proto && o->addr.port == r.addr.port &&
		    strcmp(o->addr.host, r.addr.host) == 0) {
			serr(c, e, "watch_listen: \"%s\" is listed twice", in);
			free(r.addr.host);
			return false;
		}
	}
	ck->watch.listen = xrealloc(ck->watch.listen, (ck->watch.nlisten + 1) * sizeof(r));
	ck->watch.listen[ck->watch.nlisten++] = r;
	return true;
}

static void listen_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	int n;

	listen_free(obj);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		listen_parse_one(c, s, obj);
		return;
	}
	n = config_setting_length(s);
	if (n == 0)
		serr(c, s, "watch_listen must not be empty");
	for (int i = 0; i < n; i++)
		listen_parse_one(c, config_setting_get_elem(s, (unsigned)i), obj);
}

static void listen_format(const struct listen_ref *r, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN + 16];

	addr_format(&r->addr, true, a, sizeof(a));
	snprintf(buf, len, "%s:%s", r->proto == IPPROTO_UDP ? "udp" : "tcp", a);
}

static void listen_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct watch_conf *w = &((const struct check_conf *)obj)->watch;
	char buf[INET6_ADDRSTRLEN + 24];

	indent(out, ind);
	if (w->nlisten == 0) {
		fputs("# watch_listen not set: no listening socket is watched\n", out);
		return;
	}
	fputs("watch_listen = ", out);
	if (w->nlisten > 1)
		fputs("[ ", out);
	for (size_t i = 0; i < w->nlisten; i++) {
		listen_format(&w->listen[i], buf, sizeof(buf));
		if (i > 0)
			fputs(", ", out);
		print_str(out, buf);
	}
	fputs(w->nlisten > 1 ? " ];\n" : ";\n", out);
}

static bool listen_equal(const void *a, const void *b)
{
	const struct watch_conf *x = &((const struct check_conf *)a)->watch;
	const struct watch_conf *y = &((const struct check_conf *)b)->watch;

	if (x->nlisten != y->nlisten)
		return false;
	for (size_t i = 0; i < x->nlisten; i++)
		if (x->listen[i].proto != y->listen[i].proto ||
		    x->listen[i].addr.port != y->listen[i].addr.port ||
		    strcmp(x->listen[i].addr.host, y->listen[i].addr.host) != 0)
			return false;
	return true;
}

/* http expect_status: "200-299,304", 200, or [ 200, 204 ]. */
static bool status_add(struct http_conf *h, long lo, long hi)
{
	if (lo < 100 || hi > 599 || lo > hi)
		return false;
	h->status = xrealloc(h->status, (h->nstatus + 1) * sizeof(*h->status));
	h->status[h->nstatus].lo = (unsigned)lo;
	h->status[h->nstatus].hi = (unsigned)hi;
	h->nstatus++;
	return true;
}

static void status_init(void *obj)
{
	status_add(obj, 200, 299);
}

static void status_free(void *obj)
{
	struct http_conf *h = obj;
	free(h->status);
	h->status = NULL;
	h->nstatus = 0;
}

static bool status_parse_string(struct http_conf *h, const char *s)
{
	while (*s) {
		char *end;
		long lo, hi;
		while (*s == ' ')
			s++;
		if (!isdigit((unsigned char)*s))
			return false;
		lo = hi = strtol(s, &end, 10);
		s = end;
		if (*s == '-') {
			if (!isdigit((unsigned char)s[1]))
				return false;
			hi = strtol(s + 1, &end, 10);
			s = end;
		}
		while (*s == ' ')
			s++;
		if (!status_add(h, lo, hi))
			return false;
		if (*s == ',' && s[1] != '\0')
			s++;
		else if (*s != '\0')
			return false;
	}
	return h->nstatus > 0;
}

static void status_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	struct http_conf *h = obj;
	bool ok = true;
	status_free(h);
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		ok = status_parse_string(h, config_setting_get_string(s));
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		ok = status_add(h, (long)config_setting_get_int64(s),
		                (long)config_setting_get_int64(s));
		break;
	default:
		ok = config_setting_length(s) > 0;
		for (int i = 0; ok && i < config_setting_length(s); i++) {
			const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
			long v = (long)config_setting_get_int64(e);
			ok = (config_setting_type(e) == CONFIG_TYPE_INT ||
			      config_setting_type(e) == CONFIG_TYPE_INT64) &&
			     status_add(h, v, v);
		}
	}
	if (!ok) {
		serr(c, s,
		     "expect_status must be status codes from 100 to 599: \"200-299,304\", 200 or "
		     "[ 200, 204 ]");
		status_free(h);
		status_init(h);
	}
}

static void status_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct http_conf *h = obj;
	indent(out, ind);
	fputs("expect_status = \"", out);
	for (size_t i = 0; i < h->nstatus; i++) {
		fprintf(out, "%s%u", i ? "," : "", h->status[i].lo);
		if (h->status[i].hi != h->status[i].lo)
			fprintf(out, "-%u", h->status[i].hi);
	}
	fputs("\";\n", out);
}

static bool status_equal(const void *a, const void *b)
{
	const struct http_conf *x = a, *y = b;
	return x->nstatus == y->nstatus &&
	       memcmp(x->status, y->status, x->nstatus * sizeof(*x->status)) == 0;
}

/* http method: GET or HEAD, stored as a bool. */
static void method_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	const char *m = config_setting_get_string(s);
	if (strcasecmp(m, "GET") == 0)
		((struct http_conf *)obj)->head = false;
	else if (strcasecmp(m, "HEAD") == 0)
		((struct http_conf *)obj)->head = true;
	else
		serr(c, s, "method must be \"GET\" or \"HEAD\" (got \"%s\")", m);
}

static void method_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	indent(out, ind);
	fprintf(out, "method = \"%s\";\n", ((const struct http_conf *)obj)->head ? "HEAD" : "GET");
}

static bool method_equal(const void *a, const void *b)
{
	return ((const struct http_conf *)a)->head == ((const struct http_conf *)b)->head;
}

/* dns max_serial_lag: printed only where it may be given, with soa_reference. */
static void serial_lag_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct dns_conf *d = obj;
	if (!d->has_soa_reference)
		return;
	indent(out, ind);
	fprintf(out, "max_serial_lag = %ld;\n", d->max_serial_lag);
}

/* dns DNSSEC keys: printed (all four) only for a check that asks for DNSSEC. */
static void dnssec_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct dns_conf *d = obj;
	if (!d->expect_dnssec)
		return;
	indent(out, ind);
	fprintf(out, "expect_dnssec = true;\n");
	indent(out, ind);
	fprintf(out, "rrsig_warn_days = %d;\n", d->rrsig_warn_days);
	indent(out, ind);
	fprintf(out, "rrsig_fail_days = %d;\n", d->rrsig_fail_days);
	indent(out, ind);
	fprintf(out, "dnssec_validate = %s;\n", d->dnssec_validate ? "true" : "false");
}

/* announcement require: "all", "any" or a quorum 1..N, after requires. */
static void require_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	struct announcement_conf *a = obj;
	unsigned n = (unsigned)a->requires.n;
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		const char *v = config_setting_get_string(s);
		if (strcasecmp(v, "all") == 0)
			a->quorum = n;
		else if (strcasecmp(v, "any") == 0)
			a->quorum = 1;
		else
			serr(c, s,
			     "require must be \"all\", \"any\" or a number of checks (got \"%s\")",
			     v);
		return;
	}
	long long q = config_setting_get_int64(s);
	if (q < 1 || (n > 0 && q > n)) {
		serr(c, s, "require = %lld: it must be from 1 to the %u check%s listed in requires",
		     q, n, n == 1 ? "" : "s");
		return;
	}
	a->quorum = (unsigned)q;
}

static void require_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct announcement_conf *a = obj;
	indent(out, ind);
	if (a->quorum == a->requires.n)
		fputs("require = \"all\";\n", out);
	else if (a->quorum == 1)
		fputs("require = \"any\";\n", out);
	else
		fprintf(out, "require = %u;\n", a->quorum);
}

static bool require_equal(const void *a, const void *b)
{
	return ((const struct announcement_conf *)a)->quorum ==
	       ((const struct announcement_conf *)b)->quorum;
}

static void checks_parse(struct ctx *c, const config_setting_t *s, void *obj);
static void checks_print(FILE *out, int ind, const void *obj, const struct ctx *pc);
static void checks_free(void *obj);
static void announcements_parse(struct ctx *c, const config_setting_t *s, void *obj);
static void announcements_print(FILE *out, int ind, const void *obj, const struct ctx *pc);
static void announcements_free(void *obj);

/* ---- the tables ---------------------------------------------------------------- */

static const struct enum_name check_type_names[] = {
    {"http", CHECK_HTTP}, {"dns", CHECK_DNS}, {"tcp", CHECK_TCP}, {"exec", CHECK_EXEC}, {NULL, 0},
};
static const struct enum_name transport_names[] = {
    {"udp", DNS_UDP},
    {"tcp", DNS_TCP},
    {"both", DNS_BOTH},
    {NULL, 0},
};
static const struct enum_name on_exit_names[] = {
    {"withdraw", ON_EXIT_WITHDRAW},
    {"keep", ON_EXIT_KEEP},
    {NULL, 0},
};
/* RR types by their IANA numbers (the ns_t_* values) */
static const struct enum_name qtype_names[] = {
    {"A", 1},     {"NS", 2},     {"CNAME", 5}, {"SOA", 6},    {"PTR", 12}, {"MX", 15},
    {"TXT", 16},  {"AAAA", 28},  {"SRV", 33},  {"NAPTR", 35}, {"DS", 43},  {"DNSKEY", 48},
    {"SVCB", 64}, {"HTTPS", 65}, {"CAA", 257}, {NULL, 0},
};
/* RCODEs by their numbers (the ns_r_* values) */
static const struct enum_name rcode_names[] = {
    {"NOERROR", 0}, {"FORMERR", 1}, {"SERVFAIL", 2}, {"NXDOMAIN", 3},
    {"NOTIMP", 4},  {"REFUSED", 5}, {NULL, 0},
};

static const struct key bird_keys[] = {
    {.name = "socket",
     .types = T_STR,
     .kind = K_CUSTOM,
     .init = bird_socket_init,
     .parse = bird_socket_parse,
     .print = bird_socket_print,
     .equal = bird_socket_equal,
     .free = bird_sockets_free},
    {.name = "sockets", .types = T_LIST, .kind = K_CUSTOM, .parse = bird_sockets_parse},
    NUM("timeout", struct bird_conf, timeout, 0.1, 60, 2.0, " seconds"),
    NUM("reconcile_interval", struct bird_conf, reconcile_interval, 0.1, 3600, 1.0, " seconds"),
    STR("state_dir", struct bird_conf, state_dir, CONF_DEFAULT_STATE_DIR, n_decision_dir),
    END,
};

static const struct key control_keys[] = {
    STR("socket", struct control_conf, socket, AA_CTL_PATH, n_socket_path),
    STR("group", struct control_conf, group, NULL, n_group, .unset = "the agent's own group"),
    STR("admin_group", struct control_conf, admin_group, NULL, n_group,
        .unset = "only root may drain and reload"),
    {.name = "mode",
     .types = T_STR | T_INT,
     .kind = K_OCTAL,
     F(struct control_conf, mode),
     .min = 0,
     .max = 0777,
     .def = 0660},
    END,
};

static const struct key top_keys[] = {
    SECTION("bird", struct agent_conf, bird, bird_keys),
    SECTION("control", struct agent_conf, control, control_keys),
    STR("state_file", struct agent_conf, state_file, AA_STATE_DIR "/state", n_abs_path),
    ENUMK("on_exit", struct agent_conf, on_exit, on_exit_names, "withdraw"),
    STR("metrics_file", struct agent_conf, metrics_file, NULL, n_abs_path,
        .unset = "no metrics file"),
    NUM("metrics_interval", struct agent_conf, metrics_interval, 1, 3600, 5.0, " seconds"),
    STR("user", struct agent_conf, user, NULL, n_user,
        .unset = "the agent stays the user it was started as"),
    STR("exec_user", struct agent_conf, exec_user, NULL, n_user,
        .unset = "\"anycast-plugin\" when the agent drops root to user, else the agent's own"),
    {.name = "checks",
     .types = T_GROUP,
     .kind = K_CUSTOM,
     .parse = checks_parse,
     .print = checks_print,
     .free = checks_free},
    {.name = "announcements",
     .types = T_GROUP,
     .kind = K_CUSTOM,
     .parse = announcements_parse,
     .print = announcements_print,
     .free = announcements_free},
    END,
};

/* Keys every check has; timeout and fast_interval default from interval (check_finish). */
static const struct key check_keys[] = {
    ENUMK("type", struct check_conf, type, check_type_names, NULL, .required = true),
    NUM("interval", struct check_conf, interval, 0.1, 3600, 1.0, " seconds"),
    NUM("timeout", struct check_conf, timeout, 0.01, 3600, 0, " seconds"),
    NUM("fast_interval", struct check_conf, fast_interval, 0.01, 3600, 0, " seconds"),
    INTK("rise", K_UINT, struct check_conf, rise, 1, 100, 3, ""),
    INTK("fall", K_UINT, struct check_conf, fall, 1, 100, 2, ""),
    /* death watches (watch.h): what serves the check */
    STR("watch_pidfile", struct check_conf, watch.pidfile, NULL, n_abs_path,
        .unset = "no process is watched"),
    STR("watch_unit", struct check_conf, watch.unit, NULL, n_unit,
        .unset = "no systemd unit is watched"),
    {.name = "watch_listen",
     .types = T_STR | T_LIST,
     .kind = K_CUSTOM,
     .parse = listen_parse,
     .print = listen_print,
     .equal = listen_equal,
     .free = listen_free},
    END,
};

static const struct key http_keys[] = {
    STR("url", struct http_conf, url, NULL, n_url, .required = true),
    ADDR("connect_to", struct http_conf, connect_to, has_connect_to, PORT_REQ,
         .unset = "connect to the address the URL's host resolves to"),
    ADDR("source", struct http_conf, source, has_source, PORT_NONE,
         .unset = "the kernel picks the source address"),
    {.name = "method",
     .types = T_STR,
     .kind = K_CUSTOM,
     .parse = method_parse,
     .print = method_print,
     .equal = method_equal},
    LIST("headers", struct http_conf, headers, n_header),
    {.name = "expect_status",
     .types = T_STR | T_INT | T_LIST,
     .kind = K_CUSTOM,
     .init = status_init,
     .parse = status_parse,
     .print = status_print,
     .equal = status_equal,
     .free = status_free},
    STR("expect_body", struct http_conf, expect_body, NULL, n_nonempty,
        .unset = "the body is not checked"),
    STR("expect_body_regex", struct http_conf, expect_body_regex, NULL, n_nonempty,
        .unset = "the body is not matched"),
    INTK("body_max", K_SIZE, struct http_conf, body_max, 1, 1048576, 65536, " bytes"),
    BOOLK("tls_verify", struct http_conf, tls_verify, true),
    STR("ca_file", struct http_conf, ca_file, NULL, n_readable_file,
        .unset = "the system CA store"),
    INTK("cert_warn_days", K_INT, struct http_conf, cert_warn_days, 0, 3650, 0, " days"),
    END,
};

static const struct key dns_keys[] = {
    /* before server: a port inside server overrides it, both at once is an error */
    INTK("port", K_UINT, struct dns_conf, server.port, 1, 65535, 53, "", .print = print_none),
    ADDR_PORTKEY("server", struct dns_conf, server, "port", .required = true),
    ENUMK("transport", struct dns_conf, transport, transport_names, "both"),
    STR("qname", struct dns_conf, qname, NULL, n_qname, .required = true),
    ENUMK("qtype", struct dns_conf, qtype, qtype_names, "SOA"),
    BOOLK("recursion_desired", struct dns_conf, recursion_desired, false),
    ENUMK("expect_rcode", struct dns_conf, expect_rcode, rcode_names, "NOERROR"),
    {.name = "expect_authoritative",
     .types = T_BOOL,
     .kind = K_TRIBOOL,
     F(struct dns_conf, expect_authoritative),
     .def = -1,
     .unset = "the AA bit is not checked"},
    LIST("expect_answer", struct dns_conf, expect_answer, n_nonempty),
    ADDR("soa_reference", struct dns_conf, soa_reference, has_soa_reference, PORT_OPT, .def = 53,
         .unset = "the SOA serial is not compared"),
    INTK("max_serial_lag", K_LONG, struct dns_conf, max_serial_lag, 0, 2147483647, 0, "",
         .print = serial_lag_print),
    BOOLK("expect_dnssec", struct dns_conf, expect_dnssec, false, .print = dnssec_print),
    INTK("rrsig_warn_days", K_INT, struct dns_conf, rrsig_warn_days, 0, 3650, 0, " days",
         .print = print_none),
    INTK("rrsig_fail_days", K_INT, struct dns_conf, rrsig_fail_days, 0, 3650, 0, " days",
         .print = print_none),
    BOOLK("dnssec_validate", struct dns_conf, dnssec_validate, false, .print = print_none),
    END,
};

static const struct key tcp_keys[] = {
    INTK("port", K_UINT, struct tcp_conf, address.port, 1, 65535, 0, "", .print = print_none),
    ADDR_PORTKEY("address", struct tcp_conf, address, "port", .required = true),
    ADDR("source", struct tcp_conf, source, has_source, PORT_NONE,
         .unset = "the kernel picks the source address"),
    END,
};

static const struct key exec_keys[] = {
    LIST("command", struct exec_conf, argv, NULL, .required = true, .nonempty = true),
    INTK("output_max", K_SIZE, struct exec_conf, output_max, 64, 1048576, 8192, " bytes"),
    END,
};

static void http_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck);
static void dns_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck);
static void tcp_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck);
static void exec_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck);

static const struct check_type_def {
	const struct key *keys;
	void (*finish)(struct ctx *c, const config_setting_t *grp, struct check_conf *ck);
} check_types[CHECK__TYPES] = {
    [CHECK_HTTP] = {http_keys, http_finish},
    [CHECK_DNS] = {dns_keys, dns_finish},
    [CHECK_TCP] = {tcp_keys, tcp_finish},
    [CHECK_EXEC] = {exec_keys, exec_finish},
};

static const struct key announcement_keys[] = {
    PROTOS("protocols", struct announcement_conf, protocols, .required = true, .nonempty = true),
    PROTOS("drain_protocols", struct announcement_conf, drain_protocols),
    PROTOS("degraded_protocols", struct announcement_conf, degraded_protocols),
    LIST("requires", struct announcement_conf, requires, n_check_ref, .required = true,
         .nonempty = true),
    {.name = "require",
     .types = T_STR | T_INT,
     .kind = K_CUSTOM,
     .parse = require_parse,
     .print = require_print,
     .equal = require_equal},
    LIST("prefixes", struct announcement_conf, prefixes, n_prefix),
    NUM("drain_time", struct announcement_conf, drain_time, 0, 3600, 30.0, " seconds"),
    NUM("hold_down", struct announcement_conf, hold_down, 0, 3600, 10.0, " seconds"),
    NUM("damp_penalty", struct announcement_conf, damp_penalty, 1, 1e6, 1000, ""),
    NUM("damp_suppress", struct announcement_conf, damp_suppress, 1, 1e6, 2000, ""),
    NUM("damp_reuse", struct announcement_conf, damp_reuse, 1, 1e6, 750, ""),
    NUM("damp_half_life", struct announcement_conf, damp_half_life, 1, 86400, 900, " seconds"),
    NUM("damp_max_suppress", struct announcement_conf, damp_max_suppress, 0, 86400, 3600,
        " seconds"),
    BOOLK("last_site_guard", struct announcement_conf, last_site_guard, false),
    END,
};

/* ---- the generic engine over the tables ------------------------------------ */

#define FIELD(obj, k)  ((void *)((char *)(obj) + (k)->off))
#define CFIELD(obj, k) ((const void *)((const char *)(obj) + (k)->off))

static const struct enum_name *enum_by_name(const struct enum_name *e, const char *name)
{
	for (; e->name; e++)
		if (strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

static const char *enum_by_value(const struct enum_name *e, int v)
{
	for (; e->name; e++)
		if (e->value == v)
			return e->name;
	return "?";
}

static void apply_defaults(const struct key *keys, void *obj)
{
	for (const struct key *k = keys; k->name; k++) {
		void *f = FIELD(obj, k);
		switch (k->kind) {
		case K_DOUBLE:
			*(double *)f = k->def;
			break;
		case K_INT:
		case K_TRIBOOL:
			*(int *)f = (int)k->def;
			break;
		case K_UINT:
		case K_OCTAL:
			*(unsigned *)f = (unsigned)k->def;
			break;
		case K_SIZE:
			*(size_t *)f = (size_t)k->def;
			break;
		case K_LONG:
			*(long *)f = (long)k->def;
			break;
		case K_BOOL:
			*(bool *)f = k->def != 0;
			break;
		case K_STRING:
			*(char **)f = k->sdef ? xstrdup(k->sdef) : NULL;
			break;
		case K_ENUM:
			if (k->sdef)
				*(int *)f = enum_by_name(k->enums, k->sdef)->value;
			break;
		case K_SECTION:
			apply_defaults(k->sub, f);
			break;
		case K_ADDR:
		case K_STRLIST:
		case K_PROTOS:
		case K_CUSTOM:
			break;
		}
		if (k->init)
			k->init(obj);
	}
}

static void protos_free(struct proto_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void free_keys(const struct key *keys, void *obj)
{
	for (const struct key *k = keys; k->name; k++) {
		void *f = FIELD(obj, k);
		switch (k->kind) {
		case K_STRING:
			free(*(char **)f);
			*(char **)f = NULL;
			break;
		case K_ADDR:
			free(((struct conf_addr *)f)->host);
			((struct conf_addr *)f)->host = NULL;
			break;
		case K_STRLIST:
			strlist_free(f);
			break;
		case K_PROTOS:
			protos_free(f);
			break;
		case K_SECTION:
			free_keys(k->sub, f);
			break;
		default:
			break;
		}
		if (k->free)
			k->free(obj);
	}
}

static bool protos_equal(const struct proto_list *a, const struct proto_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].socket != b->v[i].socket || strcmp(a->v[i].name, b->v[i].name) != 0)
			return false;
	return true;
}

static bool equal_keys(const struct key *keys, const void *a, const void *b)
{
	for (const struct key *k = keys; k->name; k++) {
		const void *x = CFIELD(a, k), *y = CFIELD(b, k);
		bool eq = true;
		switch (k->kind) {
		case K_DOUBLE:
			eq = *(const double *)x == *(const double *)y;
			break;
		case K_INT:
		case K_TRIBOOL:
		case K_ENUM:
			eq = *(const int *)x == *(const int *)y;
			break;
		case K_UINT:
		case K_OCTAL:
			eq = *(const unsigned *)x == *(const unsigned *)y;
			break;
		case K_SIZE:
			eq = *(const size_t *)x == *(const size_t *)y;
			break;
		case K_LONG:
			eq = *(const long *)x == *(const long *)y;
			break;
		case K_BOOL:
			eq = *(const bool *)x == *(const bool *)y;
			break;
		case K_STRING:
			eq = streq_null(*(char *const *)x, *(char *const *)y);
			break;
		case K_ADDR: {
			const struct conf_addr *p = x, *q = y;
			if (k->has_off && *(const bool *)((const char *)a + k->has_off - 1) !=
			                      *(const bool *)((const char *)b + k->has_off - 1))
				eq = false;
			else
				eq = streq_null(p->host, q->host) && p->port == q->port;
			break;
		}
		case K_STRLIST:
			eq = strlist_equal(x, y);
			break;
		case K_PROTOS:
			eq = protos_equal(x, y);
			break;
		case K_SECTION:
			eq = equal_keys(k->sub, x, y);
			break;
		case K_CUSTOM:
			break;
		}
		if (eq && k->equal)
			eq = k->equal(a, b);
		if (!eq)
			return false;
	}
	return true;
}

static void print_keys(FILE *out, int ind, const struct key *keys, const void *obj,
                       const struct ctx *pc);

static void print_protos(FILE *out, const struct proto_list *l, const struct ctx *pc)
{
	const struct bird_conf *b = &pc->conf->bird;
	fputs("[", out);
	for (size_t i = 0; i < l->n; i++) {
		fputs(i ? ", " : " ", out);
		fputc('"', out);
		if (b->nsockets > 1)
			fprintf(out, "%s:", b->sockets[l->v[i].socket].name);
		fprintf(out, "%s\"", l->v[i].name);
	}
	fputs(" ]", out);
}

static void print_keys(FILE *out, int ind, const struct key *keys, const void *obj,
                       const struct ctx *pc)
{
	for (const struct key *k = keys; k->name; k++) {
		const void *f = CFIELD(obj, k);
		char buf[INET6_ADDRSTRLEN + 16];
		if (k->print) {
			k->print(out, ind, obj, pc);
			continue;
		}
		if (k->kind == K_CUSTOM)
			continue;
		if ((k->kind == K_STRING && *(char *const *)f == NULL) ||
		    (k->kind == K_TRIBOOL && *(const int *)f < 0) ||
		    (k->kind == K_ADDR && k->has_off &&
		     !*(const bool *)((const char *)obj + k->has_off - 1))) {
			indent(out, ind);
			fprintf(out, "# %s not set: %s\n", k->name, k->unset ? k->unset : "none");
			continue;
		}
		indent(out, ind);
		if (k->kind == K_SECTION) {
			fprintf(out, "%s: {\n", k->name);
			print_keys(out, ind + 1, k->sub, f, pc);
			indent(out, ind);
			fputs("};\n", out);
			continue;
		}
		fprintf(out, "%s = ", k->name);
		switch (k->kind) {
		case K_DOUBLE:
			print_double(out, *(const double *)f);
			break;
		case K_INT:
			fprintf(out, "%d", *(const int *)f);
			break;
		case K_UINT:
			fprintf(out, "%u", *(const unsigned *)f);
			break;
		case K_SIZE:
			fprintf(out, "%zu", *(const size_t *)f);
			break;
		case K_LONG:
			fprintf(out, "%ld", *(const long *)f);
			break;
		case K_BOOL:
			fputs(*(const bool *)f ? "true" : "false", out);
			break;
		case K_TRIBOOL:
			fputs(*(const int *)f ? "true" : "false", out);
			break;
		case K_STRING:
			print_str(out, *(char *const *)f);
			break;
		case K_ENUM:
			print_str(out, enum_by_value(k->enums, *(const int *)f));
			break;
		case K_OCTAL:
			fprintf(out, "\"0%03o\"", *(const unsigned *)f);
			break;
		case K_ADDR:
			addr_format(f, k->port_key == NULL, buf, sizeof(buf));
			print_str(out, buf);
			if (k->port_key != NULL) {
				fputs(";\n", out);
				indent(out, ind);
				fprintf(out, "%s = %u", k->port_key,
				        ((const struct conf_addr *)f)->port);
			}
			break;
		case K_STRLIST:
			print_strlist(out, f);
			break;
		case K_PROTOS:
			print_protos(out, f, pc);
			break;
		case K_SECTION:
		case K_CUSTOM:
			break;
		}
		fputs(";\n", out);
	}
}

static unsigned type_bit(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return T_INT;
	case CONFIG_TYPE_FLOAT:
		return T_FLOAT;
	case CONFIG_TYPE_STRING:
		return T_STR;
	case CONFIG_TYPE_BOOL:
		return T_BOOL;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		return T_LIST;
	case CONFIG_TYPE_GROUP:
		return T_GROUP;
	default:
		return 0;
	}
}

static const char *type_word(unsigned bit)
{
	switch (bit) {
	case T_INT:
		return "an integer";
	case T_FLOAT:
		return "a decimal number";
	case T_NUM:
		return "a number";
	case T_STR:
		return "a string";
	case T_BOOL:
		return "true or false";
	case T_LIST:
		return "a list [ ... ]";
	case T_GROUP:
		return "a group { ... }";
	default:
		return "something else";
	}
}

static void types_describe(unsigned types, char *buf, size_t len)
{
	static const unsigned order[] = {T_NUM, T_INT, T_STR, T_BOOL, T_LIST, T_GROUP};
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if ((types & order[i]) != order[i])
			continue;
		types &= ~order[i];
		if (buf[0])
			strncat(buf, " or ", len - strlen(buf) - 1);
		strncat(buf, type_word(order[i]), len - strlen(buf) - 1);
	}
}

/* A number for a message: integers in full, others as short as they read back. */
static void num_fmt(double v, char *buf, size_t len)
{
	if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		fmt_double(v, buf, len);
}

static double num_value(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_FLOAT)
		return config_setting_get_float(s);
	return (double)config_setting_get_int64(s);
}

static bool in_range(struct ctx *c, const struct key *k, const config_setting_t *s, double v)
{
	if (isfinite(v) && v >= k->min && v <= k->max)
		return true;
	char lo[32], hi[32], got[32];
	num_fmt(k->min, lo, sizeof(lo));
	num_fmt(k->max, hi, sizeof(hi));
	num_fmt(v, got, sizeof(got));
	serr(c, s, "%s must be from %s to %s%s (got %s)", k->name, lo, hi, k->unit, got);
	return false;
}

/* A protocol "[SOCKET:]NAME" of the current announcement, unique across all of them (and
 * across sockets: its durable state file is named after it). */
static const char *const role_names[PROTO__ROLES] = {"protocols", "drain_protocols",
                                                     "degraded_protocols"};

const char *conf_role_name(enum proto_role role)
{
	return (unsigned)role < PROTO__ROLES ? role_names[role] : "?";
}

const struct proto_list *conf_role_protocols(const struct announcement_conf *a,
                                             enum proto_role role)
{
	switch (role) {
	case PROTO_ROLE_DRAIN:
		return &a->drain_protocols;
	case PROTO_ROLE_DEGRADED:
		return &a->degraded_protocols;
	default:
		return &a->protocols;
	}
}

static bool proto_parse(struct ctx *c, const config_setting_t *e, struct proto_list *l,
                        const char *key)
{
	const struct bird_conf *b = &c->conf->bird;
	const char *in = config_setting_get_string(e), *colon = strchr(in, ':'), *name = in;
	size_t sock = 0;
	struct announcement_conf *cur = &c->conf->announcements[c->conf->nannouncements - 1];

	if (colon != NULL) {
		size_t sl = (size_t)(colon - in);
		name = colon + 1;
		for (sock = 0; sock < b->nsockets; sock++)
			if (strlen(b->sockets[sock].name) == sl &&
			    strncmp(b->sockets[sock].name, in, sl) == 0)
				break;
		if (sock == b->nsockets) {
			char names[256] = "";
			for (size_t i = 0; i < b->nsockets; i++) {
				strncat(names, i ? ", " : "", sizeof(names) - strlen(names) - 1);
				strncat(names, b->sockets[i].name,
				        sizeof(names) - strlen(names) - 1);
			}
			serr(c, e,
			     "%s: \"%s\" names BIRD socket \"%.*s\", which bird.sockets lacks "
			     "(it has: %s)",
			     key, in, (int)sl, in, names);
			return false;
		}
	}
	if (!bird_symbol_valid(name)) {
		serr(c, e,
		     "%s: \"%s\" is not a valid BIRD protocol name ([A-Za-z_][A-Za-z0-9_]*, at "
		     "most 64 characters)",
		     key, name);
		return false;
	}
	if (bird_keyword(name)) {
		serr(c, e,
		     "%s: \"%s\" is a BIRD keyword, not a protocol name (`%s` on BIRD's command "
		     "line does not name one protocol); rename the protocol",
		     key, name, name);
		return false;
	}
	for (size_t i = 0; i < c->conf->nannouncements; i++) {
		const struct announcement_conf *a = &c->conf->announcements[i];
		for (int r = 0; r < PROTO__ROLES; r++) {
			const struct proto_list *o = conf_role_protocols(a, r);
			for (size_t j = 0; j < o->n; j++) {
				if (strcmp(o->v[j].name, name) != 0)
					continue;
				if (o->v[j].socket != sock)
					serr(c, e,
					     "%s: protocol \"%s\" is already used on BIRD socket "
					     "\"%s\"; names must differ across sockets because the "
					     "agent keeps its decision in bird.state_dir/%s.conf",
					     key, in, b->sockets[o->v[j].socket].name, name);
				else if (a == cur && o == l)
					serr(c, e, "%s: protocol \"%s\" is listed twice", key, in);
				else
					serr(c, e,
					     "%s: protocol \"%s\" is already in %s of announcement "
					     "\"%s\"; a protocol belongs to one announcement and "
					     "one "
					     "role",
					     key, in, conf_role_name(r), a->name);
				return false;
			}
		}
	}
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].name = xstrdup(name);
	l->v[l->n].socket = sock;
	l->n++;
	return true;
}

static void parse_list(struct ctx *c, const struct key *k, const config_setting_t *s, void *f)
{
	int n = config_setting_length(s);
	char why[512];
	if (n == 0 && k->nonempty) {
		serr(c, s, "%s must not be empty", k->name);
		return;
	}
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		const char *v;
		char *nv;
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			serr(c, e, "%s: every entry must be a string", k->name);
			continue;
		}
		v = config_setting_get_string(e);
		if (k->kind == K_PROTOS) {
			proto_parse(c, e, f, k->name);
			continue;
		}
		nv = k->norm ? k->norm(c, v, why, sizeof(why)) : xstrdup(v);
		if (nv == NULL) {
			serr(c, e, "%s: %s", k->name, why);
			continue;
		}
		if (k->norm != NULL) { /* a list of values (not of argv words) has no repeats */
			struct strlist *l = f;
			bool dup = false;
			for (size_t j = 0; j < l->n && !dup; j++)
				dup = strcmp(l->v[j], nv) == 0;
			if (dup) {
				serr(c, e, "%s: \"%s\" is listed twice", k->name, nv);
				free(nv);
				continue;
			}
		}
		strlist_add(f, nv);
		free(nv);
	}
}

static void parse_value(struct ctx *c, const struct key *k, const config_setting_t *s, void *obj)
{
	void *f = FIELD(obj, k);
	char why[512];
	double v;

	switch (k->kind) {
	case K_DOUBLE:
	case K_INT:
	case K_UINT:
	case K_SIZE:
	case K_LONG:
		v = num_value(s);
		if (!in_range(c, k, s, v))
			return;
		if (k->kind == K_DOUBLE)
			*(double *)f = v;
		else if (k->kind == K_INT)
			*(int *)f = (int)v;
		else if (k->kind == K_UINT)
			*(unsigned *)f = (unsigned)v;
		else if (k->kind == K_SIZE)
			*(size_t *)f = (size_t)v;
		else
			*(long *)f = (long)v;
		return;
	case K_BOOL:
		*(bool *)f = config_setting_get_bool(s);
		return;
	case K_TRIBOOL:
		*(int *)f = config_setting_get_bool(s) ? 1 : 0;
		return;
	case K_STRING: {
		const char *in = config_setting_get_string(s);
		char *nv = k->norm ? k->norm(c, in, why, sizeof(why)) : xstrdup(in);
		if (nv == NULL) {
			serr(c, s, "%s: %s", k->name, why);
			return;
		}
		free(*(char **)f);
		*(char **)f = nv;
		return;
	}
	case K_ENUM: {
		const char *in = config_setting_get_string(s);
		const struct enum_name *e = enum_by_name(k->enums, in);
		char list[256] = "";
		if (e != NULL) {
			*(int *)f = e->value;
			return;
		}
		for (const struct enum_name *p = k->enums; p->name; p++) {
			strncat(list, p == k->enums ? "\"" : ", \"",
			        sizeof(list) - strlen(list) - 1);
			strncat(list, p->name, sizeof(list) - strlen(list) - 1);
			strncat(list, "\"", sizeof(list) - strlen(list) - 1);
		}
		serr(c, s, "%s must be one of %s (got \"%s\")", k->name, list, in);
		return;
	}
	case K_OCTAL: {
		const char *in;
		char *end;
		unsigned long m;
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			serr(c, s,
			     "%s must be an octal string such as \"0660\" (libconfig reads the "
			     "number 0660 as decimal 660)",
			     k->name);
			return;
		}
		in = config_setting_get_string(s);
		errno = 0;
		m = strtoul(in, &end, 8);
		if (!isdigit((unsigned char)in[0]) || *end != '\0' || errno || m < k->min ||
		    m > k->max) {
			serr(c, s, "%s must be an octal mode from \"0000\" to \"0%o\" (got \"%s\")",
			     k->name, (unsigned)k->max, in);
			return;
		}
		*(unsigned *)f = (unsigned)m;
		return;
	}
	case K_ADDR: {
		struct conf_addr *a = f, na = {0};
		const config_setting_t *pk =
		    k->port_key ? config_setting_get_member(config_setting_parent(s), k->port_key)
		                : NULL;
		if (!parse_addr(config_setting_get_string(s), k->port, &na, why, sizeof(why))) {
			serr(c, s, "%s: %s", k->name, why);
			return;
		}
		if (na.port != 0 && pk != NULL) {
			serr(c, s, "%s: give the port either in %s or as %s, not both", k->name,
			     k->name, k->port_key);
			free(na.host);
			return;
		}
		if (na.port == 0 && k->port_key != NULL)
			na.port = a->port; /* from the port key, parsed before */
		else if (na.port == 0)
			na.port = (unsigned)k->def;
		free(a->host);
		*a = na;
		if (k->has_off)
			*(bool *)((char *)obj + k->has_off - 1) = true;
		return;
	}
	case K_STRLIST:
	case K_PROTOS:
		parse_list(c, k, s, f);
		return;
	case K_SECTION: {
		char saved[sizeof(c->where)];
		memcpy(saved, c->where, sizeof(saved));
		snprintf(c->where, sizeof(c->where), "%s: ", k->name);
		parse_keys(c, s, &k->sub, &f, 1);
		memcpy(c->where, saved, sizeof(saved));
		return;
	}
	case K_CUSTOM:
		k->parse(c, s, obj);
		return;
	}
}

static const struct key *find_key(const struct key *keys, const char *name)
{
	for (const struct key *k = keys; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

static void unknown_key(struct ctx *c, const config_setting_t *s, const struct key *const *tabs,
                        size_t ntabs)
{
	const char *name = config_setting_name(s);
	struct suggest sg = {.word = name, .dist = SIZE_MAX};
	char hint[96];

	if (c->check_type >= 0) {
		for (int t = 0; t < CHECK__TYPES; t++) {
			if (t != c->check_type && find_key(check_types[t].keys, name) != NULL) {
				serr(c, s, "%s is a key of %s checks, not of %s checks", name,
				     check_type_name(t), check_type_name(c->check_type));
				return;
			}
		}
	}
	for (size_t i = 0; i < ntabs; i++)
		for (const struct key *k = tabs[i]; k->name; k++)
			suggest_try(&sg, k->name);
	suggest_fmt(&sg, hint, sizeof(hint));
	serr(c, s, "unknown key \"%s\"%s", name, hint);
}

/*
 * Read group grp with the given tables (each filling its own object): unknown
 * keys first, then every known key in table order, so a row may rely on the
 * rows above it (announcements see checks, server sees port).
 */
static void parse_keys(struct ctx *c, const config_setting_t *grp, const struct key *const *tabs,
                       void *const *objs, size_t ntabs)
{
	int n = config_setting_length(grp);
	char want[128];

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s);
		bool known = false;
		for (size_t t = 0; t < ntabs && !known; t++)
			known = find_key(tabs[t], name) != NULL;
		/* a check whose type is unknown cannot tell its type's keys from typos */
		for (int t = 0; c->check_type == CHECK__TYPES && t < CHECK__TYPES && !known; t++)
			known = find_key(check_types[t].keys, name) != NULL;
		if (!known)
			unknown_key(c, s, tabs, ntabs);
	}
	for (size_t t = 0; t < ntabs; t++) {
		for (const struct key *k = tabs[t]; k->name; k++) {
			const config_setting_t *s = config_setting_get_member(grp, k->name);
			if (s == NULL) {
				if (k->required)
					serr(c, grp, "%s is required", k->name);
				continue;
			}
			if ((type_bit(s) & k->types) == 0) {
				types_describe(k->types, want, sizeof(want));
				serr(c, s, "%s must be %s, not %s", k->name, want,
				     type_word(type_bit(s)));
				continue;
			}
			parse_value(c, k, s, objs[t]);
		}
	}
}

/* ---- checks -------------------------------------------------------------------- */

static void http_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	struct http_conf *h = &ck->u.http;
	const config_setting_t *re = config_setting_get_member(g, "expect_body_regex");
	if (h->expect_body && h->expect_body_regex)
		serr(c, re, "give expect_body or expect_body_regex, not both");
	if (h->expect_body_regex) {
		regex_t rx;
		int rc = regcomp(&rx, h->expect_body_regex, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[256];
			regerror(rc, &rx, msg, sizeof(msg));
			serr(c, re, "expect_body_regex is not a POSIX extended regex: %s", msg);
		} else {
			regfree(&rx);
		}
	}
	if (h->cert_warn_days > 0 && h->url && strncasecmp(h->url, "https:", 6) != 0)
		serr(c, config_setting_get_member(g, "cert_warn_days"),
		     "cert_warn_days needs an https:// url");
	else if (h->cert_warn_days > 0 && !h->tls_verify)
		serr(c, config_setting_get_member(g, "cert_warn_days"),
		     "cert_warn_days needs tls_verify = true (expiry is read from a verified "
		     "certificate)");
}

static void dns_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	const config_setting_t *lag = config_setting_get_member(g, "max_serial_lag");
	const struct dns_conf *d = &ck->u.dns;
	static const char *const dnssec_keys[] = {"rrsig_warn_days", "rrsig_fail_days",
	                                          "dnssec_validate"};
	if (lag != NULL && !ck->u.dns.has_soa_reference)
		serr(c, lag, "max_serial_lag needs soa_reference (the server to compare with)");
	for (size_t i = 0; !d->expect_dnssec && i < ARRAY_SIZE(dnssec_keys); i++) {
		const config_setting_t *k = config_setting_get_member(g, dnssec_keys[i]);
		if (k != NULL)
			serr(c, k, "%s needs expect_dnssec = true", dnssec_keys[i]);
	}
	if (d->rrsig_warn_days > 0 && d->rrsig_warn_days <= d->rrsig_fail_days)
		serr(c, config_setting_get_member(g, "rrsig_warn_days"),
		     "rrsig_warn_days (%d) must be more than rrsig_fail_days (%d), or 0 for no "
		     "warning",
		     d->rrsig_warn_days, d->rrsig_fail_days);
}

static void tcp_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	const config_setting_t *a = config_setting_get_member(g, "address");
	if (ck->u.tcp.address.host != NULL && ck->u.tcp.address.port == 0)
		serr(c, a, "address needs a port: write \"192.0.2.1:22\" or add port = 22");
}

static void exec_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	const config_setting_t *cmd = config_setting_get_member(g, "command");
	const char *p;
	struct stat st;

	if (ck->u.exec.argv.n == 0)
		return;
	p = ck->u.exec.argv.v[0];
	if (p[0] != '/')
		serr(c, cmd, "command: \"%s\" must be an absolute path (no shell, no PATH search)",
		     p);
	else if (stat(p, &st) != 0)
		serr(c, cmd, "command: cannot run \"%s\": %s", p, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		serr(c, cmd, "command: \"%s\" is not a regular file", p);
	else if (access(p, X_OK) != 0)
		serr(c, cmd, "command: \"%s\" is not executable: %s", p, strerror(errno));
}

/* timeout and fast_interval default from interval; the three must nest. */
static void check_finish(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	const config_setting_t *to = config_setting_get_member(g, "timeout");
	const config_setting_t *fi = config_setting_get_member(g, "fast_interval");
	char a[32], b[32], d[32];

	if (to == NULL)
		ck->timeout = fmin(ck->interval / 2, 5.0);
	if (fi == NULL)
		ck->fast_interval = fmax(ck->timeout, ck->interval / 2);
	fmt_double(ck->timeout, a, sizeof(a));
	fmt_double(ck->interval, b, sizeof(b));
	fmt_double(ck->fast_interval, d, sizeof(d));
	if (ck->timeout > ck->interval)
		serr(c, to ? to : g, "timeout (%s s) must not exceed interval (%s s)", a, b);
	else if (ck->fast_interval < ck->timeout || ck->fast_interval > ck->interval)
		serr(c, fi ? fi : g,
		     "fast_interval (%s s) must be from timeout (%s s) to interval "
		     "(%s s)",
		     d, a, b);
	if (ck->type < CHECK__TYPES)
		check_types[ck->type].finish(c, g, ck);
}

static void check_parse(struct ctx *c, const config_setting_t *g, struct check_conf *ck)
{
	const char *tname = NULL;
	const struct enum_name *e;
	const struct key *tabs[2] = {check_keys, NULL};
	void *objs[2] = {ck, &ck->u};

	ck->type = CHECK__TYPES;
	apply_defaults(check_keys, ck);
	if (config_setting_lookup_string(g, "type", &tname) &&
	    (e = enum_by_name(check_type_names, tname)) != NULL) {
		tabs[1] = check_types[e->value].keys;
		apply_defaults(tabs[1], &ck->u);
		c->check_type = e->value;
	} else {
		c->check_type = CHECK__TYPES;
	}
	parse_keys(c, g, tabs, objs, tabs[1] ? 2 : 1);
	check_finish(c, g, ck);
	c->check_type = -1;
}

static void checks_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	struct agent_conf *conf = obj;
	int n = config_setting_length(s);

	conf->checks = xcalloc((size_t)n, sizeof(*conf->checks));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct check_conf *ck = &conf->checks[conf->nchecks++];
		ck->name = xstrdup(config_setting_name(g));
		ck->line = config_setting_source_line(g);
		ck->type = CHECK__TYPES;
		snprintf(c->where, sizeof(c->where), "check \"%s\": ", ck->name);
		if (!name_valid(ck->name))
			serr(c, g, "the name must be letters, digits, '_' and '-', at most %d",
			     CONF_NAME_MAX);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			serr(c, g, "a check is a group: %s: { type = \"http\"; ... };", ck->name);
		else
			check_parse(c, g, ck);
		c->where[0] = '\0';
	}
}

static void check_free_fields(struct check_conf *ck)
{
	free_keys(check_keys, ck);
	if (ck->type < CHECK__TYPES)
		free_keys(check_types[ck->type].keys, &ck->u);
	free(ck->name);
}

static void checks_free(void *obj)
{
	struct agent_conf *conf = obj;
	for (size_t i = 0; i < conf->nchecks; i++)
		check_free_fields(&conf->checks[i]);
	free(conf->checks);
	conf->checks = NULL;
	conf->nchecks = 0;
}

static void checks_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct agent_conf *conf = obj;
	indent(out, ind);
	fputs("checks: {\n", out);
	for (size_t i = 0; i < conf->nchecks; i++) {
		const struct check_conf *ck = &conf->checks[i];
		indent(out, ind + 1);
		fprintf(out, "%s: {\n", ck->name);
		print_keys(out, ind + 2, check_keys, ck, pc);
		print_keys(out, ind + 2, check_types[ck->type].keys, &ck->u, pc);
		indent(out, ind + 1);
		fputs("};\n", out);
	}
	indent(out, ind);
	fputs("};\n", out);
}

/* ---- announcements ------------------------------------------------------------ */

static void announcement_finish(struct ctx *c, const config_setting_t *g,
                                struct announcement_conf *a)
{
	const config_setting_t *reuse = config_setting_get_member(g, "damp_reuse");
	char r[32], su[32];

	a->require_idx = xcalloc(a->requires.n, sizeof(*a->require_idx));
	for (size_t i = 0; i < a->requires.n; i++)
		if (find_check_n(c->conf, a->requires.v[i], &a->require_idx[i]) == NULL)
			a->require_idx[i] = SIZE_MAX;
	/* "all", the default */
	if (a->quorum == 0 || a->quorum > a->requires.n) {
		a->quorum = (unsigned)a->requires.n;
	}
	if (a->last_site_guard && a->prefixes.n == 0)
		serr(c, config_setting_get_member(g, "last_site_guard"),
		     "last_site_guard needs prefixes: the guard asks BIRD for other paths to them");
	if (a->damp_reuse >= a->damp_suppress) {
		num_fmt(a->damp_reuse, r, sizeof(r));
		num_fmt(a->damp_suppress, su, sizeof(su));
		serr(c, reuse ? reuse : g, "damp_reuse (%s) must be below damp_suppress (%s)", r,
		     su);
	}
}

static void announcements_parse(struct ctx *c, const config_setting_t *s, void *obj)
{
	struct agent_conf *conf = obj;
	int n = config_setting_length(s);

	conf->announcements = xcalloc((size_t)n, sizeof(*conf->announcements));
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned)i);
		struct announcement_conf *a = &conf->announcements[conf->nannouncements++];
		const struct key *tab = announcement_keys;
		void *o = a;
		a->name = xstrdup(config_setting_name(g));
		a->line = config_setting_source_line(g);
		snprintf(c->where, sizeof(c->where), "announcement \"%s\": ", a->name);
		apply_defaults(announcement_keys, a);
		if (!name_valid(a->name))
			serr(c, g, "the name must be letters, digits, '_' and '-', at most %d",
			     CONF_NAME_MAX);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			serr(c, g, "an announcement is a group: %s: { protocols = [ ... ]; ... };",
			     a->name);
		} else {
			parse_keys(c, g, &tab, &o, 1);
			announcement_finish(c, g, a);
		}
		c->where[0] = '\0';
	}
}

static void announcements_free(void *obj)
{
	struct agent_conf *conf = obj;
	for (size_t i = 0; i < conf->nannouncements; i++) {
		struct announcement_conf *a = &conf->announcements[i];
		free_keys(announcement_keys, a);
		free(a->require_idx);
		free(a->name);
	}
	free(conf->announcements);
	conf->announcements = NULL;
	conf->nannouncements = 0;
}

static void announcements_print(FILE *out, int ind, const void *obj, const struct ctx *pc)
{
	const struct agent_conf *conf = obj;
	indent(out, ind);
	fputs("announcements: {\n", out);
	for (size_t i = 0; i < conf->nannouncements; i++) {
		indent(out, ind + 1);
		fprintf(out, "%s: {\n", conf->announcements[i].name);
		print_keys(out, ind + 2, announcement_keys, &conf->announcements[i], pc);
		indent(out, ind + 1);
		fputs("};\n", out);
	}
	indent(out, ind);
	fputs("};\n", out);
}

/* ---- load ------------------------------------------------------------------------- */

/* Cross-key rules of the top level. */
static void top_finish(struct ctx *c, const config_setting_t *root, struct agent_conf *conf)
{
	/* a plugin must never hold the agent's rights */
	if (conf->user != NULL && conf->exec_user != NULL && !strcmp(conf->user, conf->exec_user))
		serr(
		    c, config_setting_get_member(root, "exec_user"),
		    "exec_user \"%s\" is the agent's own user: a plugin would hold every right of "
		    "the agent (BIRD's socket, bird.state_dir); set exec_user to a user of its own "
		    "(the package creates anycast-plugin), or remove it for that default",
		    conf->exec_user);
}

/* libconfig does not say which include it could not open; read it from the line. */
static void include_error(struct ctx *c, const char *file, int line)
{
	char *path = display_file(c, file), buf[1024], *q1, *q2, *inc = NULL;
	bool main_text = c->text != NULL && strcmp(path, c->path) == 0;
	FILE *f = main_text ? fmemopen((void *)c->text, strlen(c->text), "r") : fopen(path, "r");
	int n = 0;
	const char *name = NULL;

	while (f != NULL && fgets(buf, sizeof(buf), f) != NULL)
		if (++n == line) {
			if ((q1 = strchr(buf, '"')) != NULL && (q2 = strchr(q1 + 1, '"')) != NULL) {
				*q2 = '\0';
				name = q1 + 1;
			}
			break;
		}
	if (f != NULL)
		fclose(f);
	if (name == NULL) {
		ferr(c, path, line, "cannot open include file");
	} else {
		if (name[0] != '/' && c->dir != NULL)
			xasprintf(&inc, "%s/%s", c->dir, name);
		else
			inc = xstrdup(name);
		ferr(
		    c, path, line,
		    "cannot open include file \"%s\": %s (@include is relative to the directory of "
		    "%s)",
		    inc, access(inc, R_OK) == 0 ? "unreadable" : strerror(errno), c->path);
		free(inc);
	}
	free(path);
}

static void apply_override(struct ctx *c, const char *opt, const char *val, char **field,
                           norm_fn norm)
{
	char why[512], *nv = norm(c, val, why, sizeof(why));
	if (nv == NULL) {
		ferr(c, NULL, 0, "%s: %s", opt, why);
		return;
	}
	free(*field);
	*field = nv;
}

static void apply_overrides(struct ctx *c, struct agent_conf *conf, const struct conf_overrides *ov)
{
	if (ov == NULL)
		return;
	if (ov->bird_socket != NULL) {
		if (conf->bird.nsockets > 1)
			ferr(c, NULL, 0,
			     "--bird-socket cannot replace bird.sockets, which lists %zu sockets; "
			     "edit the configuration instead",
			     conf->bird.nsockets);
		else
			apply_override(c, "--bird-socket", ov->bird_socket,
			               &conf->bird.sockets[0].path, n_socket_path);
	}
	if (ov->control_socket != NULL)
		apply_override(c, "--control-socket", ov->control_socket, &conf->control.socket,
		               n_socket_path);
	if (ov->state_dir != NULL)
		apply_override(c, "--state-dir", ov->state_dir, &conf->bird.state_dir,
		               n_decision_dir);
	if (ov->state_file != NULL)
		apply_override(c, "--state-file", ov->state_file, &conf->state_file, n_abs_path);
}

/* Reads the file into cfg; false after recording why it could not. */
static bool read_file(struct ctx *c, config_t *cfg)
{
	struct stat st;
	const char *text;
	char *tmp, *d, *file;

	if (c->text == NULL && (stat(c->path, &st) != 0 || access(c->path, R_OK) != 0)) {
		ferr(c, c->path, 0, "cannot read the configuration: %s", strerror(errno));
		return false;
	}
	if (c->text == NULL && S_ISDIR(st.st_mode)) {
		ferr(c, c->path, 0, "cannot read the configuration: %s", strerror(EISDIR));
		return false;
	}
	/* @include is relative to the main file's directory, not to the CWD */
	tmp = xstrdup(c->path);
	d = dirname(tmp);
	if (strcmp(d, ".") != 0) {
		c->dir = xstrdup(d);
		config_set_include_dir(cfg, c->dir);
	}
	free(tmp);
	if (c->text != NULL ? config_read_string(cfg, c->text) : config_read_file(cfg, c->path))
		return true;
	text = config_error_text(cfg);
	if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
		ferr(c, c->path, 0, "cannot read the configuration: %s", text);
	} else if (strcmp(text, "cannot open include file") == 0) {
		include_error(c, config_error_file(cfg), config_error_line(cfg));
	} else {
		file = display_file(c, config_error_file(cfg));
		ferr(c, file, config_error_line(cfg), "%s%s", text,
		     strcmp(text, "duplicate setting name") == 0
		         ? ": a key, check or announcement is defined twice in the same group"
		         : "");
		free(file);
	}
	return false;
}

static struct agent_conf *load(const char *path, const char *text, const struct conf_overrides *ov,
                               char **errors)
{
	struct ctx c = {.path = path, .text = text, .check_type = -1};
	struct agent_conf *conf = xcalloc(1, sizeof(*conf));
	const struct key *tab = top_keys;
	void *o = conf;
	config_t cfg;

	c.conf = conf;
	conf->path = xstrdup(path);
	apply_defaults(top_keys, conf);
	config_init(&cfg);
	if (read_file(&c, &cfg)) {
		parse_keys(&c, config_root_setting(&cfg), &tab, &o, 1);
		top_finish(&c, config_root_setting(&cfg), conf);
		apply_overrides(&c, conf, ov);
	}
	config_destroy(&cfg);
	free(c.dir);
	*errors = NULL;
	if (c.nerr > 0) {
		*errors = errors_format(&c);
		errors_free(&c);
		conf_free(conf);
		return NULL;
	}
	return conf;
}

struct agent_conf *conf_load(const char *path, const struct conf_overrides *ov, char **errors)
{
	return load(path, NULL, ov, errors);
}

struct agent_conf *conf_load_string(const char *text, const char *path,
                                    const struct conf_overrides *ov, char **errors)
{
	return load(path, text, ov, errors);
}

void conf_free(struct agent_conf *conf)
{
	if (conf == NULL)
		return;
	free_keys(top_keys, conf);
	free(conf->path);
	free(conf);
}

void conf_print(FILE *out, const struct agent_conf *conf)
{
	struct ctx pc = {.conf = (struct agent_conf *)conf};
	fputs("# anycast-agent effective configuration: every default filled in\n", out);
	print_keys(out, 0, top_keys, conf, &pc);
}

void conf_print_bird(FILE *out, const struct agent_conf *conf)
{
	static const struct key keys[] = {SECTION("bird", struct agent_conf, bird, bird_keys), END};
	struct ctx pc = {.conf = (struct agent_conf *)conf};
	print_keys(out, 0, keys, conf, &pc);
}

bool conf_check_equal(const struct check_conf *a, const struct check_conf *b)
{
	if (strcmp(a->name, b->name) != 0 || a->type != b->type)
		return false;
	if (!equal_keys(check_keys, a, b))
		return false;
	return a->type >= CHECK__TYPES || equal_keys(check_types[a->type].keys, &a->u, &b->u);
}

bool conf_announcement_equal(const struct announcement_conf *a, const struct announcement_conf *b)
{
	return strcmp(a->name, b->name) == 0 && equal_keys(announcement_keys, a, b);
}

const char *check_type_name(enum check_type t)
{
	return t < CHECK__TYPES ? enum_by_value(check_type_names, (int)t) : "unknown";
}

static const struct check_conf *find_check_n(const struct agent_conf *conf, const char *name,
                                             size_t *idx)
{
	for (size_t i = 0; i < conf->nchecks; i++)
		if (strcmp(conf->checks[i].name, name) == 0) {
			if (idx)
				*idx = i;
			return &conf->checks[i];
		}
	return NULL;
}

const struct check_conf *conf_find_check(const struct agent_conf *conf, const char *name)
{
	return find_check_n(conf, name, NULL);
}
