/* SPDX-License-Identifier: ISC */
/*
 * anycastctl.c - the operator's tool: talks to the agent's control socket
 * (one JSON request line, one JSON reply line; see anycastctl(8)). `status`
 * is a Nagios plugin; drain, undrain, check and reload change the agent.
 *
 * Exit codes (anycastctl(8)): status exits with the Nagios state (an agent
 * that does not answer is CRITICAL); other verbs 0 done, 1 the agent refused
 * or could not be asked, 2 `check NAME` ran and failed or `drain --wait` was
 * not confirmed withdrawn in time (the drain is in effect); bad arguments
 * exit 3 for every verb (Nagios UNKNOWN).
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "control_proto.h"
#include "output.h"
#include "util.h"

#define EXIT_DONE    0
#define EXIT_REFUSED 1 /* the agent said no, or could not be asked */
#define EXIT_FAILED  2 /* check NAME: the check failed; drain --wait: not confirmed in time */
#define EXIT_USAGE   3 /* bad arguments (Nagios UNKNOWN) */

#define STATUS_TIMEOUT 5.0   /* below NRPE's 10 s command_timeout */
#define OTHER_TIMEOUT  30.0  /* a check may run for its own timeout first */
#define WAIT_TIMEOUT   600.0 /* drain --wait: drain_time (default 30 s) and BIRD's answer */
#define REPLY_MAX      (64u << 20)

/* Why a request got no usable reply. */
enum req_error { REQ_OK, REQ_UNREACHABLE, REQ_DENIED, REQ_TIMEOUT, REQ_GARBAGE };

static const char *sock_path = AA_CTL_PATH;
static double timeout = -1;
static bool timeout_given; /* -t: it bounds drain --wait too */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: anycastctl [-s SOCKET] [-t SECONDS] COMMAND [ARGS]\n"
	    "  status [-o nagios|text|json]   agent state (a Nagios plugin: exit 0/1/2/3)\n"
	    "  drain [ANNOUNCEMENT...] --reason TEXT [--for DURATION] [--wait]\n"
	    "                                 withdraw gracefully (all when none named);\n"
	    "                                 --wait: return once BIRD confirmed the withdraw\n"
	    "  undrain [ANNOUNCEMENT...]      end a drain (all when none named)\n"
	    "  check NAME                     run a check now and print its result\n"
	    "  reload                         reload the configuration\n"
	    "options:\n"
	    "  -s, --socket PATH   control socket (default %s)\n"
	    "  -t, --timeout SECS  give up after this long (status %.0f s, drain --wait %.0f s,\n"
	    "                      others %.0f s)\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       the version\n"
	    "DURATION: 90, 30s, 15m, 2h, 1d or a sum like 1h30m. See anycastctl(8).\n",
	    AA_CTL_PATH, STATUS_TIMEOUT, WAIT_TIMEOUT, OTHER_TIMEOUT);
}

/* A usage error: the message and the usage on stderr; status also says UNKNOWN on stdout, where
 * Nagios looks. */
static int __attribute__((format(printf, 2, 3))) bad_args(const char *verb, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "anycastctl: %s%s%s\n", verb ? verb : "", verb ? ": " : "", msg);
	usage(stderr);
	if (verb && strcmp(verb, "status") == 0)
		output_nagios_message(stdout, NAGIOS_UNKNOWN, "bad arguments: %s", msg);
	return EXIT_USAGE;
}

/* "90", "1.5", "30s", "15m", "2h", "1d", "1h30m" -> seconds (> 0). */
static int parse_duration(const char *s, double *out)
{
	double total = 0;
	bool unit_seen = false;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v;

		if (*s < '0' || *s > '9')
			return -1;
		errno = 0;
		v = strtod(s, &end);
		if (errno || end == s || !isfinite(v))
			return -1;
		switch (*end) {
		case '\0':
			if (unit_seen)
				return -1; /* "1h30" is ambiguous */
			total += v;
			s = end;
			continue;
		case 's':
			total += v;
			break;
		case 'm':
			total += v * 60;
			break;
		case 'h':
			total += v * 3600;
			break;
		case 'd':
			total += v * 86400;
			break;
		default:
			return -1;
		}
		unit_seen = true;
		s = end + 1;
	}
	if (!(total > 0) || total > 3650.0 * 86400)
		return -1;
	*out = total;
	return 0;
}

/* The group that may connect, for the permission message: the socket's (or its directory's). */
static void socket_group(char *buf, size_t len)
{
	char *copy = xstrdup(sock_path);
	struct stat st;
	struct group *gr;
	int ok = stat(sock_path, &st) == 0 || stat(dirname(copy), &st) == 0;

	free(copy);
	if (!ok) {
		snprintf(buf, len, "of the socket");
		return;
	}
	gr = getgrgid(st.st_gid);
	if (gr)
		snprintf(buf, len, "\"%s\"", gr->gr_name);
	else
		snprintf(buf, len, "%lu", (unsigned long)st.st_gid);
}

static double remaining(double deadline)
{
	double r = deadline - mono_now();

	return r > 0 ? r : 0;
}

static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int rc;

	do {
		rc = poll(&p, 1, (int)ceil(remaining(deadline) * 1000.0));
	} while (rc < 0 && errno == EINTR);
	return rc; /* 0: the deadline passed */
}

static int connect_agent(double deadline, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
		         "agent not answering on %s: the path is longer than %zu bytes", sock_path,
		         sizeof(sa.sun_path) - 1);
		return -REQ_UNREACHABLE;
	}
	strcpy(sa.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a socket: %s", strerror(errno));
		return -REQ_UNREACHABLE;
	}
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && remaining(deadline) > 0) {
			/* the listen backlog is full: a busy agent, try again shortly */
			poll(NULL, 0, 10);
			continue;
		}
		break;
	}
	if (errno == EACCES || errno == EPERM) {
		char grp[128];

		socket_group(grp, sizeof(grp));
		snprintf(
		    err, errlen,
		    "not permitted to connect to %s: join group %s (the socket's group) or run "
		    "as root",
		    sock_path, grp);
		close(fd);
		return -REQ_DENIED;
	}
	if (errno == EAGAIN)
		snprintf(err, errlen, "agent not answering on %s: it accepts no connections (busy)",
		         sock_path);
	else if (errno == ENOENT)
		snprintf(err, errlen,
		         "agent not answering on %s: no such socket (is anycast-agent "
		         "running? see systemctl status anycast-agent)",
		         sock_path);
	else if (errno == ECONNREFUSED)
		snprintf(err, errlen,
		         "agent not answering on %s: connection refused (a stale socket: "
		         "the agent is not running)",
		         sock_path);
	else
		snprintf(err, errlen, "agent not answering on %s: %s", sock_path, strerror(errno));
	close(fd);
	return errno == EAGAIN ? -REQ_TIMEOUT : -REQ_UNREACHABLE;
}

/*
 * Send one request line and read one reply line before the deadline. On REQ_OK *reply is a JSON
 * object with a boolean "ok"; otherwise err says what went wrong, naming the socket.
 */
static enum req_error request(const json_t *req, json_t **reply, char *err, size_t errlen)
{
	double deadline = mono_now() + timeout;
	char *line = json_dumps(req, JSON_COMPACT), *buf = NULL;
	size_t len = 0, cap = 0, off = 0, want;
	json_error_t jerr;
	int fd = connect_agent(deadline, err, errlen);
	enum req_error rc = REQ_OK;

	*reply = NULL;
	if (fd < 0) {
		free(line);
		return (enum req_error) - fd;
	}
	want = strlen(line);
	line[want++] = '\n'; /* json_dumps' NUL becomes the line end; the length is kept apart */
	while (off < want) {
		ssize_t n;

		if (wait_fd(fd, POLLOUT, deadline) == 0)
			goto timed_out;
		n = send(fd, line + off, want - off, MSG_NOSIGNAL);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			snprintf(err, errlen, "agent on %s closed the connection: %s", sock_path,
			         strerror(errno));
			rc = REQ_UNREACHABLE;
			goto out;
		}
		off += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		if (wait_fd(fd, POLLIN, deadline) == 0)
			goto timed_out;
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			snprintf(err, errlen,
			         "agent on %s closed the connection before a complete reply%s%s",
			         sock_path, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			rc = REQ_GARBAGE;
			goto out;
		}
		if (memchr(buf + len, '\n', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
		if (len > REPLY_MAX) {
			snprintf(err, errlen, "agent on %s answered garbage: a reply over %u MiB",
			         sock_path, REPLY_MAX >> 20);
			rc = REQ_GARBAGE;
			goto out;
		}
	}
	*reply = json_loadb(buf, (size_t)((char *)memchr(buf, '\n', len) - buf), 0, &jerr);
	if (!*reply) {
		snprintf(err, errlen, "agent on %s answered garbage: %s", sock_path, jerr.text);
		rc = REQ_GARBAGE;
	} else if (!json_is_object(*reply) || !json_is_boolean(json_object_get(*reply, "ok"))) {
		snprintf(err, errlen, "agent on %s answered garbage: a reply without \"ok\"",
		         sock_path);
		json_decref(*reply);
		*reply = NULL;
		rc = REQ_GARBAGE;
	}
	goto out;
timed_out:
	snprintf(err, errlen, "agent not answering on %s: no reply within %g s", sock_path,
	         timeout);
	rc = REQ_TIMEOUT;
out:
	close(fd);
	free(line);
	free(buf);
	return rc;
}

/* The agent's error reply, on stderr. */
static int refused(const char *verb, const json_t *reply)
{
	fprintf(stderr, "anycastctl: %s: %s\n", verb,
	        snap_str(reply, "error", "the agent refused without saying why"));
	return EXIT_REFUSED;
}

/* Send req and hand back an "ok":true reply, or print why not and return NULL. */
static json_t *ask(const char *verb, json_t *req, int *code)
{
	char err[1024];
	json_t *reply;

	if (request(req, &reply, err, sizeof(err)) != REQ_OK) {
		fprintf(stderr, "anycastctl: %s: %s\n", verb, err);
		*code = EXIT_REFUSED;
		reply = NULL;
	} else if (!json_is_true(json_object_get(reply, "ok"))) {
		*code = refused(verb, reply);
		json_decref(reply);
		reply = NULL;
	}
	json_decref(req);
	return reply;
}

/* Sub-command options: argv[0] is the verb. Returns the index of the first operand or -1. */
static int sub_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                      int (*each)(int opt, const char *arg, void *ctx), void *ctx)
{
	int opt;

	optind = 0; /* GNU: reinitialise, the global options were parsed already */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			bad_args(argv[0], "%s option %s",
			         opt == ':' ? "missing the value of" : "unknown", argv[optind - 1]);
			return -1;
		}
		if (each(opt, optarg, ctx) != 0)
			return -1;
	}
	return optind;
}

struct status_opts {
	const char *format;
};

static int status_opt(int opt, const char *arg, void *ctx)
{
	struct status_opts *o = ctx;

	if (opt == 'h') {
		usage(stdout);
		exit(EXIT_DONE);
	}
	if (strcmp(arg, "nagios") != 0 && strcmp(arg, "text") != 0 && strcmp(arg, "json") != 0) {
		bad_args("status", "-o %s: the formats are nagios, text and json", arg);
		return -1;
	}
	o->format = arg;
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
	struct status_opts o = {.format = "nagios"};
	const json_t *snap;
	json_t *req, *reply;
	char err[1024], summary[NAGIOS_FIRST_LINE_MAX];
	int first = sub_getopt(argc, argv, "+:o:h", lo, status_opt, &o), state;

	if (first < 0)
		return EXIT_USAGE;
	if (first < argc)
		return bad_args("status", "unexpected argument \"%s\"", argv[first]);
	req = json_pack("{s:s}", "verb", "status");
	/* a monitoring failure, not a plugin failure: every error here is CRITICAL */
	if (request(req, &reply, err, sizeof(err)) != REQ_OK) {
		json_decref(req);
		return output_nagios_message(stdout, NAGIOS_CRITICAL, "%s", err);
	}
	json_decref(req);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		state =
		    output_nagios_message(stdout, NAGIOS_CRITICAL, "agent on %s refused status: %s",
		                          sock_path, snap_str(reply, "error", "no reason given"));
		json_decref(reply);
		return state;
	}
	snap = snap_object(reply, "status");
	if (!snap) {
		json_decref(reply);
		return output_nagios_message(
		    stdout, NAGIOS_CRITICAL,
		    "agent on %s answered garbage: a reply without \"status\"", sock_path);
	}
	if (strcmp(o.format, "nagios") == 0) {
		state = output_nagios(snap, wall_now(), stdout);
	} else {
		state = nagios_summary(snap, wall_now(), summary, sizeof(summary));
		if (strcmp(o.format, "json") == 0)
			output_json(snap, stdout);
		else
			output_text(snap, wall_now(), stdout);
	}
	json_decref(reply);
	return state;
}

struct drain_opts {
	const char *reason;
	double secs; /* 0: no expiry */
	bool wait;
};

static int drain_opt(int opt, const char *arg, void *ctx)
{
	struct drain_opts *o = ctx;

	switch (opt) {
	case 'h':
		usage(stdout);
		exit(EXIT_DONE);
	case 'w':
		o->wait = true;
		return 0;
	case 'r':
		if (!*arg || strlen(arg) > CONTROL_REASON_MAX) {
			bad_args("drain", "--reason must be 1 to %d bytes", CONTROL_REASON_MAX);
			return -1;
		}
		o->reason = arg;
		return 0;
	default: /* 'f' */
		if (parse_duration(arg, &o->secs) != 0) {
			bad_args(
			    "drain",
			    "--for %s: not a duration (90, 30s, 15m, 2h, 1d or a sum like 1h30m)",
			    arg);
			return -1;
		}
		return 0;
	}
}

static json_t *names_array(int argc, char **argv, int first)
{
	json_t *a = json_array();

	for (int i = first; i < argc; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

static void print_affected(const char *what, const json_t *reply)
{
	const json_t *v;
	size_t i;

	printf("%s:", what);
	json_array_foreach(snap_array(reply, "announcements"), i, v)
	    printf(" %s", json_is_string(v) ? json_string_value(v) : "?");
	printf("%s\n", json_array_size(snap_array(reply, "announcements")) ? "" : " nothing");
}

static int cmd_drain(int argc, char **argv)
{
	static const struct option lo[] = {{"reason", required_argument, NULL, 'r'},
	                                   {"for", required_argument, NULL, 'f'},
	                                   {"wait", no_argument, NULL, 'w'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {0}};
	struct drain_opts o = {0};
	int first = sub_getopt(argc, argv, ":r:f:wh", lo, drain_opt, &o), code = EXIT_DONE;
	json_t *req, *reply;
	char err[1024];

	if (first < 0)
		return EXIT_USAGE;
	if (!o.reason)
		return bad_args("drain", "--reason TEXT is required (BIRD shows it in `birdc show "
		                         "protocols all`)");
	for (int i = first; i < argc; i++)
		if (!*argv[i])
			return bad_args("drain", "an empty announcement name");
	req = json_pack("{s:s, s:o, s:s}", "verb", "drain", "announcements",
	                names_array(argc, argv, first), "reason", o.reason);
	/* whole seconds go as an integer: the daemon may read either */
	if (o.secs > 0)
		json_object_set_new(req, "for",
		                    o.secs == floor(o.secs) ? json_integer((json_int_t)o.secs)
		                                            : json_real(o.secs));
	if (!o.wait) {
		reply = ask("drain", req, &code);
		if (!reply)
			return code;
		print_affected("drained", reply);
		json_decref(reply);
		return EXIT_DONE;
	}
	/* drain_time and BIRD's answer unless -t says otherwise; the agent answers first */
	if (!timeout_given)
		timeout = WAIT_TIMEOUT;
	json_object_set_new(req, "wait", json_real(timeout > 2 ? timeout - 1 : timeout / 2));
	if (request(req, &reply, err, sizeof(err)) != REQ_OK) {
		json_decref(req);
		fprintf(stderr, "anycastctl: drain: %s\n", err);
		return EXIT_REFUSED;
	}
	json_decref(req);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		code = strcmp(snap_str(reply, "code", ""), CONTROL_E_WAIT_TIMEOUT) == 0
		           ? EXIT_FAILED
		           : EXIT_REFUSED;
		refused("drain", reply);
		json_decref(reply);
		return code;
	}
	print_affected("drained", reply);
	print_affected("withdrawn, confirmed by BIRD", reply);
	printf("waited %.1f s\n", snap_num(reply, "waited", 0));
	json_decref(reply);
	return EXIT_DONE;
}

static int help_opt(int opt, const char *arg, void *ctx)
{
	usage(stdout);
	exit(EXIT_DONE);
}

static const struct option help_only[] = {{"help", no_argument, NULL, 'h'}, {0}};

static int cmd_undrain(int argc, char **argv)
{
	int first = sub_getopt(argc, argv, ":h", help_only, help_opt, NULL), code = EXIT_DONE;
	json_t *req, *reply;

	if (first < 0)
		return EXIT_USAGE;
	req = json_pack("{s:s, s:o}", "verb", "undrain", "announcements",
	                names_array(argc, argv, first));
	reply = ask("undrain", req, &code);
	if (!reply)
		return code;
	print_affected("undrained", reply);
	json_decref(reply);
	return EXIT_DONE;
}

static int cmd_check(int argc, char **argv)
{
	int first = sub_getopt(argc, argv, ":h", help_only, help_opt, NULL), code = EXIT_DONE;
	const json_t *chk;
	json_t *reply;
	char ms[32];

	if (first < 0)
		return EXIT_USAGE;
	if (argc - first != 1)
		return bad_args("check", "name exactly one check");
	reply = ask("check", json_pack("{s:s, s:s}", "verb", "check", "name", argv[first]), &code);
	if (!reply)
		return code;
	chk = snap_object(reply, "check");
	if (!chk) {
		fprintf(stderr, "anycastctl: check: agent on %s answered garbage: no \"check\"\n",
		        sock_path);
		json_decref(reply);
		return EXIT_REFUSED;
	}
	/* the line anycast-agent --probe prints */
	if (json_is_number(json_object_get(chk, "duration")))
		snprintf(ms, sizeof(ms), "%.1f", snap_num(chk, "duration", 0) * 1000.0);
	else
		snprintf(ms, sizeof(ms), "-");
	printf("%s  %-4s  %s  %8s ms  %s\n", snap_str(chk, "name", argv[first]),
	       snap_str(chk, "type", "?"), snap_str(chk, "result", "?"), ms,
	       snap_str(chk, "detail", ""));
	code = strcmp(snap_str(chk, "result_class", "fail"), "fail") == 0 ? EXIT_FAILED : EXIT_DONE;
	json_decref(reply);
	return code;
}

static int cmd_reload(int argc, char **argv)
{
	int first = sub_getopt(argc, argv, ":h", help_only, help_opt, NULL);
	char err[1024];
	json_t *reply, *req;
	const json_t *v;
	size_t i;

	if (first < 0)
		return EXIT_USAGE;
	if (first < argc)
		return bad_args("reload", "unexpected argument \"%s\"", argv[first]);
	req = json_pack("{s:s}", "verb", "reload");
	if (request(req, &reply, err, sizeof(err)) != REQ_OK) {
		json_decref(req);
		fprintf(stderr, "anycastctl: reload: %s\n", err);
		return EXIT_REFUSED;
	}
	json_decref(req);
	if (!json_is_true(json_object_get(reply, "ok"))) {
		refused("reload", reply);
		json_array_foreach(snap_array(reply, "errors"), i, v)
		    fprintf(stderr, "%s\n", json_is_string(v) ? json_string_value(v) : "?");
		if (strcmp(snap_str(reply, "code", ""), CONTROL_E_RELOAD_FAILED) == 0)
			fprintf(stderr, "anycastctl: reload: the agent keeps running the previous "
			                "configuration\n");
		json_decref(reply);
		return EXIT_REFUSED;
	}
	printf("reloaded: %.0f of %.0f checks kept their state\n",
	       snap_num(reply, "kept_checks", 0), snap_num(reply, "checks", 0));
	json_decref(reply);
	return EXIT_DONE;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {{"socket", required_argument, NULL, 's'},
	                                   {"timeout", required_argument, NULL, 't'},
	                                   {"help", no_argument, NULL, 'h'},
	                                   {"version", no_argument, NULL, 'V'},
	                                   {0}};
	static const struct {
		const char *verb;
		int (*fn)(int, char **);
	} verbs[] = {{"status", cmd_status},
	             {"drain", cmd_drain},
	             {"undrain", cmd_undrain},
	             {"check", cmd_check},
	             {"reload", cmd_reload}};
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:t:hV", lo, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock_path = optarg;
			break;
		case 't':
			if (parse_duration(optarg, &timeout) != 0)
				return bad_args(NULL, "-t %s: not a duration in seconds", optarg);
			timeout_given = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_DONE;
		case 'V':
			printf("anycastctl %s\n", PACKAGE_VERSION);
			return EXIT_DONE;
		case ':':
			return bad_args(NULL, "option %s needs a value", argv[optind - 1]);
		default:
			return bad_args(NULL, "unknown option %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_args(NULL, "name a command");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (strcmp(argv[optind], verbs[i].verb) != 0)
			continue;
		if (timeout < 0)
			timeout = i == 0 ? STATUS_TIMEOUT : OTHER_TIMEOUT;
		return verbs[i].fn(argc - optind, argv + optind);
	}
	return bad_args(NULL, "unknown command \"%s\"", argv[optind]);
}
