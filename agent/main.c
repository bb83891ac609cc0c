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
#include "conf.h"
#include "exec_helper.h"
#include "log.h"
#include "probe.h"

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

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: anycast-agent [-dnv] [-f FILE] [--bird-socket PATH] [--control-socket PATH]\n"
	    "                     [--state-dir DIR] [--debug SUBSYS,...]\n"
	    "       anycast-agent [-f FILE] --probe [NAME...]\n"
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
	    "      --bird-socket PATH  BIRD control socket (overrides bird.socket)\n"
	    "      --control-socket P  agent control socket (overrides control.socket)\n"
	    "      --state-dir DIR     durable BIRD state directory (overrides bird.state_dir)\n"
	    "      --debug LIST        debug logging for main,conf,bird,check,engine,control or "
	    "all\n"
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
		OPT_WITHDRAW
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
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *conf_path = AA_CONF_PATH;
	struct conf_overrides ov = {0};
	int check_only = 0, verbose = 0, foreground = 0, probe = 0, dry_run = 0, withdraw = 0, c;
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
	log_init("anycast-agent", foreground || check_only || probe || withdraw);

	conf = conf_load(conf_path, &ov, &errors);
	if (conf == NULL) {
		fputs(errors, stderr);
		free(errors);
		return 1;
	}
	if (check_only) {
		if (verbose)
			conf_print(stdout, conf);
		printf("configuration OK\n");
		conf_free(conf);
		return 0;
	}
	if (probe) {
		int rc = probe_run(conf, argv + optind, (size_t)(argc - optind), stdout);
		conf_free(conf);
		return rc;
	}
	if (withdraw) {
		int rc = agent_withdraw_all(conf);
		conf_free(conf);
		return rc;
	}
	return run_daemon(conf, conf_path, &ov, dry_run);
}
