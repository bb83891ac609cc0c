/* SPDX-License-Identifier: ISC */
/*
 * fuzz_config.c - libFuzzer harness for the config loader (conf_load_string:
 * libconfig's parser, then every validation of config.c).
 *
 * Input: the configuration text. A config that loads is printed with
 * conf_print() and loaded again: it must load and be equal (the -nv output
 * is documented to load back to an equal config). A config that does not
 * load must come with an error message.
 * Inputs with @include are skipped: they would read files of this machine.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PATH "fuzz.conf"

static int str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void check_equal(const struct agent_conf *a, const struct agent_conf *b)
{
	if (a->nchecks != b->nchecks || a->nannouncements != b->nannouncements ||
	    a->bird.nsockets != b->bird.nsockets)
		abort();
	for (size_t i = 0; i < a->nchecks; i++)
		if (!conf_check_equal(&a->checks[i], &b->checks[i]))
			abort();
	for (size_t i = 0; i < a->nannouncements; i++)
		if (!conf_announcement_equal(&a->announcements[i], &b->announcements[i]))
			abort();
	for (size_t i = 0; i < a->bird.nsockets; i++)
		if (!str_eq(a->bird.sockets[i].name, b->bird.sockets[i].name) ||
		    !str_eq(a->bird.sockets[i].path, b->bird.sockets[i].path))
			abort();
	if (a->bird.timeout != b->bird.timeout ||
	    a->bird.reconcile_interval != b->bird.reconcile_interval ||
	    !str_eq(a->bird.state_dir, b->bird.state_dir) ||
	    !str_eq(a->control.socket, b->control.socket) ||
	    !str_eq(a->control.group, b->control.group) ||
	    !str_eq(a->control.admin_group, b->control.admin_group) ||
	    a->control.mode != b->control.mode || !str_eq(a->state_file, b->state_file) ||
	    a->on_exit != b->on_exit)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *errors = NULL, *printed = NULL, *errors2 = NULL;
	struct agent_conf *a, *b;
	size_t plen = 0;
	FILE *f;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (strcasestr(text, "@include") != NULL) {
		free(text);
		return 0;
	}
	a = conf_load_string(text, PATH, NULL, &errors);
	free(text);
	if (a == NULL) {
		if (errors == NULL || errors[0] == '\0')
			abort(); /* refused without saying why */
		free(errors);
		return 0;
	}
	if (errors != NULL)
		abort();
	f = open_memstream(&printed, &plen);
	if (f == NULL)
		abort();
	conf_print(f, a);
	fclose(f);
	b = conf_load_string(printed, "printed.conf", NULL, &errors2);
	if (b == NULL) {
		fprintf(stderr, "the printed configuration does not load:\n%s\n--- printed:\n%s\n",
		        errors2, printed);
		abort();
	}
	check_equal(a, b);
	conf_free(a);
	conf_free(b);
	free(printed);
	return 0;
}
