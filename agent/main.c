/* SPDX-License-Identifier: ISC */
/*
 * main.c - anycast-agent's entry point: argv, then hand over to the
 * library. Nothing a test needs lives here.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "agent.h"
#include "bird.h"
#include "birdconf.h"
#include "conf.h"
#include "exec_helper.h"
#include "log.h"
#include "probe.h"
#include "tools.h"

static int run_daemon(struct agent_conf *conf, const char *conf_path,
                      const struct conf_overrides *ov, int dry_run)
{
	uv_loop_t loop;
	struct agent_opts opts = {.conf_path = conf_path, .overrides = *ov, .dry_run = dry_run};
	struct agent *a;
	int rc;

	uv_loop_init(&loop);
	a = agent_new(&loop, conf, &opts);
	rc = agent_start(a) < 0 ? 1 : 0;
	if (rc != 0)
		agent_stop(a);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (rc == 0)
		rc = agent_exit_code(a);
	agent_free(a);
	uv_run(&loop, UV_RUN_DEFAULT); /* let the handles closed by agent_free go */
	if (uv_loop_close(&loop) != 0)
		log_warnx("event loop closed with handles still open");
	return rc;
}

/* --print-bird without --bird-version: BIRD's banner ("0001 BIRD 2.0.12 ready.") names it. */
struct banner_wait {
	uv_timer_t timer;
	struct bird_client *bc;
	uint64_t deadline; /* loop time, ms */
	char version[64];
	char error[256];
};

static void banner_done(struct banner_wait *w)
{
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, NULL);
	bird_client_free(w->bc);
}

static void banner_cb(struct bird_client *bc, const char *version, void *arg)
{
	struct banner_wait *w = arg;

	(void)bc;
	snprintf(w->version, sizeof(w->version), "%s", version ? version : "");
	banner_done(w);
}

/* Every 50 ms: a failed connect ends the wait at once, a silent BIRD after bird.timeout. */
static void banner_poll(uv_timer_t *t)
{
	struct banner_wait *w = t->data;
	struct bird_client_state st;

	bird_client_state(w->bc, &st);
	if (st.consecutive_failures == 0 && uv_now(t->loop) < w->deadline)
		return;
	snprintf(w->error, sizeof(w->error), "%s",
	         st.last_error[0] ? st.last_error : "no greeting from BIRD in time");
	banner_done(w);
}

static enum birdconf_version bird_version_from_socket(const struct agent_conf *conf, size_t sock,
                                                      struct strlist *problems)
{
	const struct bird_socket_conf *bs = &conf->bird.sockets[sock];
	struct bird_client_cbs cbs = {.connected = banner_cb};
	struct banner_wait w = {.version = ""};
	enum birdconf_version v;
	uv_loop_t loop;
	char *msg;

	uv_loop_init(&loop);
	uv_timer_init(&loop, &w.timer);
	w.timer.data = &w;
	w.bc = bird_client_new(&loop, bs->name, bs->path, conf->bird.timeout, &cbs, &w);
	w.deadline = uv_now(&loop) + (uint64_t)(conf->bird.timeout * 1e3);
	uv_timer_start(&w.timer, banner_poll, 50, 50);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	v = birdconf_version_parse(w.version);
	if (v == BIRDCONF_UNKNOWN && w.version[0])
		xasprintf(&msg,
		          "socket \"%s\" (%s) answers as %s, a version --print-bird does not know; "
		          "give --bird-version 1.6|2|3 for the syntax it takes",
		          bs->name, bs->path, w.version);
	else if (v == BIRDCONF_UNKNOWN)
		xasprintf(&msg,
		          "cannot tell the BIRD version from socket \"%s\" (%s): %s; without "
		          "a BIRD to ask, give --bird-version 1.6|2|3",
		          bs->name, bs->path, w.error);
	if (v == BIRDCONF_UNKNOWN) {
		strlist_add(problems, msg);
		free(msg);
	}
	return v;
}

/* --print-bird: the whole text or nothing on stdout, every problem on stderr. */
static int print_bird(const struct agent_conf *conf, const char *socket, enum birdconf_version v)
{
	struct strlist problems = {0};
	long sock = birdconf_socket(conf, socket, &problems);
	char *buf = NULL;
	size_t len = 0;
	int rc = 1;

	if (sock >= 0 && v == BIRDCONF_UNKNOWN)
		v = bird_version_from_socket(conf, (size_t)sock, &problems);
	if (sock >= 0 && v != BIRDCONF_UNKNOWN) {
		FILE *mem = open_memstream(&buf, &len);

		if (mem == NULL || birdconf_print(mem, conf, (size_t)sock, v, &problems) < 0)
			rc = 1;
		else
			rc = 0;
		if (mem != NULL && fclose(mem) != 0)
			rc = 1;
	}
	if (rc == 0 && (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)) {
		perror("anycast-agent: --print-bird: stdout");
		rc = 1;
	}
	for (size_t i = 0; i < problems.n; i++)
		fprintf(stderr, "anycast-agent: --print-bird: %s\n", problems.v[i]);
	strlist_free(&problems);
	free(buf);
	return rc;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: anycast-agent [-dnv] [-f FILE] [--bird-socket PATH] [--control-socket PATH]\n"
	    "                     [--state-dir DIR] [--debug SUBSYS,...]\n"
	    "       anycast-agent [-f FILE] --probe [NAME...]\n"
	    "       anycast-agent [-f FILE] --print-bird[=SOCKET] [--bird-version 1.6|2|3]\n"
	    "       anycast-agent [-f FILE] --init | --check-bird | --withdraw-all\n"
	    "  -f, --config FILE       configuration file (default %s)\n"
	    "  -n, --check-config      check the configuration and exit\n"
	    "  -v, --verbose           with -n: print the effective configuration\n"
	    "  -d, --foreground        log to stderr instead of syslog (it never daemonizes)\n"
	    "      --probe [NAME...]   run the named (or all) checks once without BIRD, print the\n"
	    "                          results; exit 0 all passed, 2 one failed, 1 unknown name\n"
	    "      --dry-run           run everything, but only read BIRD: log each change as\n"
	    "                          \"would enable/disable\" and write no state file\n"
	    "      --withdraw-all      disable every protocol of every announcement, wait for\n"
	    "                          BIRD to confirm and exit (0 confirmed, 1 not)\n"
	    "      --init              create the missing decision files, withdrawn (before BIRD\n"
	    "                          starts); exit 0, or 1 when one could not be made\n"
	    "      --check-bird        tell, per protocol, whether BIRD has it and includes its\n"
	    "                          decision file; exit 0 yes, 1 a problem, 2 BIRD unreachable\n"
	    "      --print-bird[=SOCKET]  print the BIRD configuration the announcements need\n"
	    "                          (for the BIRD at SOCKET of bird.sockets when it lists "
	    "several)\n"
	    "      --bird-version V    with --print-bird: BIRD 1.6, 2 or 3 (default: ask BIRD)\n"
	    "      --bird-socket PATH  BIRD control socket (overrides bird.socket)\n"
	    "      --control-socket P  agent control socket (overrides control.socket)\n"
	    "      --state-dir DIR     durable BIRD state directory (overrides bird.state_dir)\n"
	    "      --debug LIST        debug logging for main,bird,check,control or all\n"
	    "  -V, --version           print the version and exit\n",
	    AA_CONF_PATH);
}

int main(int argc, char **argv)
{
	enum {
		OPT_BIRD = 256,
		OPT_CTL,
		OPT_STATEDIR,
		OPT_DEBUG,
		OPT_PROBE,
		OPT_DRYRUN,
		OPT_WITHDRAW,
		OPT_PRINT_BIRD,
		OPT_BIRD_VERSION,
		OPT_INIT,
		OPT_CHECK_BIRD
	};
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'f'},
	    {"check-config", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"foreground", no_argument, NULL, 'd'},
	    {"bird-socket", required_argument, NULL, OPT_BIRD},
	    {"control-socket", required_argument, NULL, OPT_CTL},
	    {"state-dir", required_argument, NULL, OPT_STATEDIR},
	    {"debug", required_argument, NULL, OPT_DEBUG},
	    {"probe", no_argument, NULL, OPT_PROBE},
	    {"dry-run", no_argument, NULL, OPT_DRYRUN},
	    {"withdraw-all", no_argument, NULL, OPT_WITHDRAW},
	    {"print-bird", optional_argument, NULL, OPT_PRINT_BIRD},
	    {"bird-version", required_argument, NULL, OPT_BIRD_VERSION},
	    {"init", no_argument, NULL, OPT_INIT},
	    {"check-bird", no_argument, NULL, OPT_CHECK_BIRD},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf_path = AA_CONF_PATH;
	struct conf_overrides ov = {0};
	int check_only = 0, verbose = 0, foreground = 0, probe = 0, dry_run = 0, withdraw = 0, c;
	int print_bird_conf = 0, init = 0, check_bird = 0;
	const char *print_bird_socket = NULL;
	enum birdconf_version bird_version = BIRDCONF_UNKNOWN;
	struct agent_conf *conf;
	char *errors = NULL;

	/* the exec helper the agent starts as exec_user (exec_helper.h); never an operator's */
	if (argc == 2 && strcmp(argv[1], EXEC_HELPER_ARG) == 0)
		return exec_helper_main(EXEC_HELPER_FD);
	while ((c = getopt_long(argc, argv, "f:nvdVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			conf_path = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'd':
			foreground = 1;
			break;
		case OPT_BIRD:
			ov.bird_socket = optarg;
			break;
		case OPT_CTL:
			ov.control_socket = optarg;
			break;
		case OPT_STATEDIR:
			ov.state_dir = optarg;
			break;
		case OPT_PROBE:
			probe = 1;
			break;
		case OPT_DRYRUN:
			dry_run = 1;
			break;
		case OPT_WITHDRAW:
			withdraw = 1;
			break;
		case OPT_INIT:
			init = 1;
			break;
		case OPT_CHECK_BIRD:
			check_bird = 1;
			break;
		case OPT_PRINT_BIRD:
			print_bird_conf = 1;
			print_bird_socket = optarg;
			break;
		case OPT_BIRD_VERSION:
			bird_version = birdconf_version_parse(optarg);
			if (bird_version == BIRDCONF_UNKNOWN) {
				fprintf(stderr,
				        "anycast-agent: --bird-version: 1.6, 2 or 3 (got \"%s\")\n",
				        optarg);
				return 1;
			}
			break;
		case OPT_DEBUG:
			if (log_set_debug(optarg) < 0) {
				fprintf(stderr,
				        "anycast-agent: unknown debug subsystem in \"%s\"\n",
				        optarg);
				return 1;
			}
			break;
		case 'V':
			printf("anycast-agent %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc && !probe) {
		usage(stderr);
		return 1;
	}
	/* the agent never daemonizes: a supervisor (systemd) runs it; -d only picks stderr */
	log_init("anycast-agent", foreground || check_only || probe || withdraw ||
	                              print_bird_conf || init || check_bird);

	conf = conf_load(conf_path, &ov, &errors);
	if (conf == NULL) {
		fputs(errors, stderr);
		free(errors);
		/* an agent that cannot come back must still withdraw (see tools.h) */
		if (withdraw)
			return tools_withdraw_recorded(ov.state_dir ? ov.state_dir
			                                            : CONF_DEFAULT_STATE_DIR);
		return 1;
	}
	if (check_only) {
		struct strlist notes = {0};

		if (verbose)
			conf_print(stdout, conf);
		fflush(stdout); /* the notes follow the configuration, also in one stream */
		birdconf_problems(conf, &notes);
		for (size_t i = 0; i < notes.n; i++)
			fprintf(stderr, "anycast-agent: note: %s\n", notes.v[i]);
		strlist_free(&notes);
		printf("configuration OK\n");
		conf_free(conf);
		return 0;
	}
	if (print_bird_conf) {
		int rc = print_bird(conf, print_bird_socket, bird_version);
		conf_free(conf);
		return rc;
	}
	if (probe) {
		int rc = probe_run(conf, argv + optind, (size_t)(argc - optind), stdout);
		conf_free(conf);
		return rc;
	}
	if (withdraw || init || check_bird) {
		int rc = withdraw ? tools_withdraw_all(conf)
		         : init   ? tools_init_decisions(conf, stdout)
		                  : tools_check_bird(conf, stdout);
		conf_free(conf);
		return rc;
	}
	return run_daemon(conf, conf_path, &ov, dry_run);
}
