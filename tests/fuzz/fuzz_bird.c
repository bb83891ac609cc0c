/* SPDX-License-Identifier: ISC */
/*
 * fuzz_bird.c - libFuzzer harness for what BIRD's control socket sends:
 * the reply parser (bird_parser_feed), the `show protocols` row parser, the
 * `show route ... all` parser (bird_route_parse_line: BIRD 1.6/2 `Type:` and
 * BIRD 3 `source:` lines) and the banner's version (bird_version_parse).
 *
 * Input: byte 0 seeds the split sizes and picks the line cap, the rest is
 * the byte stream from BIRD. The stream is parsed once in one piece and
 * once in pseudo-random pieces (down to one byte); both must yield the same
 * lines and the same verdict, since a socket may split a reply anywhere.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bird.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every line seen, serialised: "kind code len text\n"; and the routes read from them. */
struct trace {
	char *buf;
	size_t len, cap;
	struct bird_route_list routes;
};

static void trace_add(struct trace *t, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2;
		t->buf = realloc(t->buf, t->cap);
		if (t->buf == NULL)
			abort();
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

static void check_string(const char *s, size_t sz)
{
	if (memchr(s, '\0', sz) == NULL)
		abort(); /* a field of bird_protocol is not terminated */
}

static int on_line(const struct bird_line *l, void *arg)
{
	struct trace *t = arg;
	struct bird_protocol p;
	char head[64], msg[BIRD_MSG_MAX + 1];
	size_t n;

	if (l->text == NULL || strlen(l->text) != l->len)
		abort();
	if (l->kind == BIRD_LINE_ASYNC ? l->code != -1 : l->code < 0 || l->code > 9999)
		abort();
	(void)bird_status_from_code(l->code);
	n = (size_t)snprintf(head, sizeof(head), "%d %d %zu ", (int)l->kind, l->code, l->len);
	trace_add(t, head, n);
	trace_add(t, l->text, l->len);
	trace_add(t, "\n", 1);

	/* any line may be taken for a table row by a confused caller: it must cope */
	if (bird_protocol_parse_row(l->text, &p) == 0) {
		check_string(p.name, sizeof(p.name));
		check_string(p.proto, sizeof(p.proto));
		check_string(p.table, sizeof(p.table));
		check_string(p.state, sizeof(p.state));
		check_string(p.since, sizeof(p.since));
		check_string(p.info, sizeof(p.info));
		if (p.up + p.disabled + p.settling > 1)
			abort();
	}
	/* every line also goes to the route parser, as a `show route` reply's would */
	bird_route_parse_line(&t->routes, l);
	for (size_t i = 0; i < t->routes.n; i++) {
		check_string(t->routes.v[i].proto, sizeof(t->routes.v[i].proto));
		check_string(t->routes.v[i].origin, sizeof(t->routes.v[i].origin));
		if (t->routes.v[i].proto[0] == '\0')
			abort(); /* a route without a protocol name */
	}
	/* any line may be a banner */
	{
		unsigned v[3];
		bool ok = bird_version_parse(l->text, v);

		if (!ok && (v[0] | v[1] | v[2]) != 0)
			abort();
		if (ok && v[0] <= 1 &&
		    bird_version_takes_message(l->text) !=
		        (v[0] == 1 && (v[1] > 6 || (v[1] == 6 && v[2] >= 4))))
			abort();
	}
	/* replies are echoed into messages sent back to BIRD: the sanitiser must hold */
	n = bird_message_sanitize(msg, sizeof(msg), l->text);
	if (n != strlen(msg) || n > BIRD_MSG_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e || msg[i] == '"' || msg[i] == '\\')
			abort();
	return 0;
}

static int parse(const uint8_t *data, size_t size, size_t max_line, uint32_t seed, struct trace *t)
{
	struct bird_parser p;
	int rc = 0;

	bird_parser_init(&p, max_line);
	if (seed == 0) {
		rc = bird_parser_feed(&p, data, size, on_line, t);
	} else {
		size_t off = 0;

		while (off < size && rc == 0) {
			size_t n;

			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 17;
			if (n > size - off)
				n = size - off;
			rc = bird_parser_feed(&p, data + off, n, on_line, t);
			off += n;
		}
	}
	if (rc == 0)
		rc = bird_parser_eof(&p);
	trace_add(t, p.error, strlen(p.error));
	for (size_t i = 0; i < t->routes.n; i++) {
		trace_add(t, t->routes.v[i].proto, strlen(t->routes.v[i].proto));
		trace_add(t, "/", 1);
		trace_add(t, t->routes.v[i].origin, strlen(t->routes.v[i].origin));
		trace_add(t, t->routes.v[i].best ? "*" : "-", 1);
	}
	trace_add(t, t->routes.bad ? "bad" : "ok", t->routes.bad ? 3 : 2);
	bird_route_list_free(&t->routes);
	bird_parser_free(&p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace whole = {0}, split = {0};
	size_t max_line;
	int rc1, rc2;

	if (size < 1)
		return 0;
	/* a small cap reaches the "line too long" path; 0 means the default */
	max_line = (data[0] & 0x80) ? (size_t)(data[0] & 0x7f) * 4 : 0;
	rc1 = parse(data + 1, size - 1, max_line, 0, &whole);
	rc2 = parse(data + 1, size - 1, max_line, data[0] | 0x100u, &split);
	if (rc1 != rc2 || whole.len != split.len ||
	    (whole.len > 0 && memcmp(whole.buf, split.buf, whole.len) != 0))
		abort(); /* the verdict depends on how the bytes were split */
	free(whole.buf);
	free(split.buf);
	return 0;
}
