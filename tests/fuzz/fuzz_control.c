/* SPDX-License-Identifier: ISC */
/*
 * fuzz_control.c - libFuzzer harness for control-socket requests
 * (control_parse_request, agent/control.c): any local user who may connect
 * can send these bytes.
 *
 * Input: what a client writes. It is cut into lines at '\n' as the server
 * does (a trailing '\r' dropped, lines over the request cap skipped), and each
 * line is parsed. A request that parses must be a JSON object whose "verb" is
 * the string handed back, and must survive a dump and reload unchanged (what
 * the agent logs is what it acted on); one that does not must come with an
 * error code and a terminated message.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(const char *line, size_t len)
{
	const char *verb = NULL, *code = NULL;
	char msg[300];
	json_t *req, *again;
	char *text;

	memset(msg, 'X', sizeof(msg));
	req = control_parse_request(line, len, &verb, &code, msg, sizeof(msg));
	if (req == NULL) {
		if (verb != NULL || code == NULL || memchr(msg, '\0', sizeof(msg)) == NULL)
			abort();
		return;
	}
	if (!json_is_object(req) || verb == NULL ||
	    strcmp(verb, json_string_value(json_object_get(req, "verb"))) != 0)
		abort();
	text = json_dumps(req, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (text == NULL)
		abort();
	again = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (again == NULL || !json_equal(req, again))
		abort();
	json_decref(again);
	free(text);
	json_decref(req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > 0 && len <= CONTROL_REQUEST_MAX)
			one_line(p, len);
		p = nl ? nl + 1 : end;
	}
	return 0;
}
