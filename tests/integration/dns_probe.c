/* SPDX-License-Identifier: ISC */
/*
 * dns_probe.c - run the dns check type from the command line, for the
 * integration tests, the lab and people: one line per run,
 * "RESULT duration_ms detail", exit 0 when every run passed, 1 when one
 * failed, 2 on bad arguments.
 */
#include <config.h>

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dns_eval.h"
#include "log.h"
#include "util.h"

static void usage(void)
{
	fprintf(stderr,
	        "usage: dns_probe --server ADDR [--port N] [--transport udp|tcp|both]\n"
	        "         --qname NAME [--qtype TYPE] [--rd] [--rcode RCODE|any]\n"
	        "         [--aa yes|no|any] [--answer TEXT]... [--ref ADDR [--ref-port N]\n"
	        "         --max-lag N] [--timeout SECONDS] [--count N]\n"
	        "         [--dnssec [--rrsig-warn DAYS] [--rrsig-fail DAYS] [--validate]]\n");
	exit(2);
}

static int set_addr(struct conf_addr *a, const char *host)
{
	struct in6_addr tmp;

	a->host = xstrdup(host);
	if (inet_pton(AF_INET, host, &tmp) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, &tmp) == 1)
		a->family = AF_INET6;
	else
		return -1;
	return 0;
}

struct probe {
	int runs_left;
	int failed;
	struct check_run *run;
};

static void on_done(struct check_run *run, const struct check_report *rep, void *arg)
{
	struct probe *p = arg;

	if (rep->rrsig_expires != 0)
		printf("%s %.1f %s [rrsig_expires=%lld]\n", result_name(rep->code),
		       rep->duration * 1000.0, rep->detail, (long long)rep->rrsig_expires);
	else
		printf("%s %.1f %s\n", result_name(rep->code), rep->duration * 1000.0, rep->detail);
	fflush(stdout);
	if (result_class(rep->code) == RESULT_FAIL)
		p->failed = 1;
	if (--p->runs_left > 0)
		check_run_start(run);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"server", required_argument, NULL, 's'},
	                                     {"port", required_argument, NULL, 'p'},
	                                     {"transport", required_argument, NULL, 't'},
	                                     {"qname", required_argument, NULL, 'n'},
	                                     {"qtype", required_argument, NULL, 'q'},
	                                     {"rd", no_argument, NULL, 'r'},
	                                     {"rcode", required_argument, NULL, 'c'},
	                                     {"aa", required_argument, NULL, 'a'},
	                                     {"answer", required_argument, NULL, 'A'},
	                                     {"ref", required_argument, NULL, 'R'},
	                                     {"ref-port", required_argument, NULL, 'P'},
	                                     {"max-lag", required_argument, NULL, 'l'},
	                                     {"timeout", required_argument, NULL, 'T'},
	                                     {"count", required_argument, NULL, 'C'},
	                                     {"dnssec", no_argument, NULL, 'D'},
	                                     {"rrsig-warn", required_argument, NULL, 'W'},
	                                     {"rrsig-fail", required_argument, NULL, 'F'},
	                                     {"validate", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	struct check_conf conf = {.name = (char *)"probe",
	                          .type = CHECK_DNS,
	                          .timeout = 1.0,
	                          .interval = 10,
	                          .rise = 1,
	                          .fall = 1};
	struct dns_conf *d = &conf.u.dns;
	struct probe p = {.runs_left = 1};
	int ch;

	log_init("dns_probe", 1);
	d->transport = DNS_UDP;
	d->qtype = DNS_TYPE_SOA;
	d->expect_rcode = 0;
	d->expect_authoritative = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (set_addr(&d->server, optarg) < 0)
				usage();
			break;
		case 'p':
			d->server.port = (unsigned)atoi(optarg);
			break;
		case 't':
			if (strcmp(optarg, "udp") == 0)
				d->transport = DNS_UDP;
			else if (strcmp(optarg, "tcp") == 0)
				d->transport = DNS_TCP;
			else if (strcmp(optarg, "both") == 0)
				d->transport = DNS_BOTH;
			else
				usage();
			break;
		case 'n': {
			size_t l = strlen(optarg);
			d->qname = xmalloc(l + 2);
			memcpy(d->qname, optarg, l + 1);
			if (l == 0 || optarg[l - 1] != '.')
				strcat(d->qname, ".");
			break;
		}
		case 'q':
			if ((d->qtype = dns_type_from_name(optarg)) < 0)
				usage();
			break;
		case 'r':
			d->recursion_desired = true;
			break;
		case 'c':
			d->expect_rcode =
			    strcmp(optarg, "any") == 0 ? -1 : dns_rcode_from_name(optarg);
			if (d->expect_rcode < 0 && strcmp(optarg, "any") != 0)
				usage();
			break;
		case 'a':
			d->expect_authoritative = strcmp(optarg, "yes") == 0  ? 1
			                          : strcmp(optarg, "no") == 0 ? 0
			                                                      : -1;
			break;
		case 'A':
			strlist_add(&d->expect_answer, optarg);
			break;
		case 'R':
			if (set_addr(&d->soa_reference, optarg) < 0)
				usage();
			d->has_soa_reference = true;
			break;
		case 'P':
			d->soa_reference.port = (unsigned)atoi(optarg);
			break;
		case 'l':
			d->max_serial_lag = atol(optarg);
			break;
		case 'T':
			conf.timeout = atof(optarg);
			break;
		case 'C':
			p.runs_left = atoi(optarg);
			break;
		case 'D':
			d->expect_dnssec = true;
			break;
		case 'W':
			d->rrsig_warn_days = atoi(optarg);
			break;
		case 'F':
			d->rrsig_fail_days = atoi(optarg);
			break;
		case 'V':
			d->dnssec_validate = true;
			break;
		default:
			usage();
		}
	}
	if (d->server.host == NULL || d->qname == NULL || conf.timeout <= 0 || p.runs_left < 1)
		usage();

	uv_loop_t loop;
	uv_loop_init(&loop);
	struct check_env *env = check_env_new(&loop);
	p.run = check_run_new(env, &conf, on_done, &p);
	check_run_start(p.run);
	uv_run(&loop, UV_RUN_DEFAULT);
	check_run_free(p.run);
	check_env_free(env);
	uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks */
	if (uv_loop_close(&loop) != 0) {
		fprintf(stderr, "dns_probe: handles left open on the loop\n");
		return 1;
	}
	free(d->server.host);
	free(d->soa_reference.host);
	free(d->qname);
	strlist_free(&d->expect_answer);
	return p.failed;
}
