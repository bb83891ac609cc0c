/* SPDX-License-Identifier: ISC */
/*
 * birdconf.c - generates the BIRD configuration of the announcements
 * (anycast-agent --print-bird; see birdconf.h): the templates of
 * bird-snippets/ made from the agent's own configuration, so the protocol
 * names, prefixes and decision-file includes cannot disagree with it.
 */
#include <config.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "birdconf.h"

/* The roles in the order their protocols are written: normal, degraded, drain. */
static const enum proto_role role_order[PROTO__ROLES] = {PROTO_ROLE_NORMAL, PROTO_ROLE_DEGRADED,
                                                         PROTO_ROLE_DRAIN};

static const struct role_def {
	const char *key;    /* as in the agent's configuration */
	unsigned pref;      /* the higher one wins while two variants are up */
	const char *filter; /* import filter marking the route, or NULL */
	const char *what;
} roles[PROTO__ROLES] = {
    [PROTO_ROLE_NORMAL] = {"protocols", 200, NULL, "normal"},
    [PROTO_ROLE_DEGRADED] = {"degraded_protocols", 150, "anycast_mark_degraded",
                             "degraded: AS path prepended"},
    [PROTO_ROLE_DRAIN] = {"drain_protocols", 100, "anycast_mark_drain",
                          "drain: GRACEFUL_SHUTDOWN (65535,0)"},
};

static int prefix_family(const char *prefix)
{
	return strchr(prefix, ':') ? 6 : 4;
}

/* The address families of a's prefixes, IPv4 first: the order protocols are listed in. */
static size_t families(const struct announcement_conf *a, int fam[2])
{
	bool has4 = false, has6 = false;
	size_t n = 0;

	for (size_t i = 0; i < a->prefixes.n; i++) {
		if (prefix_family(a->prefixes.v[i]) == 4)
			has4 = true;
		else
			has6 = true;
	}
	if (has4)
		fam[n++] = 4;
	if (has6)
		fam[n++] = 6;
	return n;
}

static void problem(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct strlist *l, const char *fmt, ...)
{
	char *s;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	strlist_add(l, s ? s : "out of memory");
	free(s);
}

enum birdconf_version birdconf_version_parse(const char *s)
{
	if (s == NULL)
		return BIRDCONF_UNKNOWN;
	if (strncmp(s, "BIRD ", 5) == 0)
		s += 5;
	/* "1.6", "2", "3" or a release ("2.0.12", "3.0alpha2"): the major number decides */
	if (s[0] < '1' || s[0] > '3' || (s[1] != '\0' && s[1] != '.'))
		return BIRDCONF_UNKNOWN;
	if (s[0] == '1')
		return s[1] == '.' ? BIRDCONF_1_6 : BIRDCONF_UNKNOWN;
	return s[0] == '2' ? BIRDCONF_2 : BIRDCONF_3;
}

const char *birdconf_version_name(enum birdconf_version v)
{
	switch (v) {
	case BIRDCONF_1_6:
		return "1.6";
	case BIRDCONF_2:
		return "2";
	case BIRDCONF_3:
		return "3";
	default:
		return "unknown";
	}
}

void birdconf_problems(const struct agent_conf *conf, struct strlist *problems)
{
	for (size_t i = 0; i < conf->nannouncements; i++) {
		const struct announcement_conf *a = &conf->announcements[i];
		int fam[2];
		size_t nfam = families(a, fam);

		if (nfam == 0) {
			problem(
			    problems,
			    "announcement \"%s\" lists no prefixes, so --print-bird cannot write "
			    "its static protocols (add prefixes, or write them in bird.conf "
			    "yourself)",
			    a->name);
			continue;
		}
		for (size_t k = 0; k < PROTO__ROLES; k++) {
			enum proto_role r = role_order[k];
			const struct proto_list *l = conf_role_protocols(a, r);

			if (l->n == 0 || l->n == nfam)
				continue;
			problem(problems,
			        "announcement \"%s\": %s lists %zu protocol%s for prefixes of %s; "
			        "--print-bird needs one protocol per address family, IPv4 first",
			        a->name, roles[r].key, l->n, l->n == 1 ? "" : "s",
			        nfam == 2     ? "IPv4 and IPv6"
			        : fam[0] == 4 ? "IPv4 only"
			                      : "IPv6 only");
		}
	}
}

long birdconf_socket(const struct agent_conf *conf, const char *name, struct strlist *problems)
{
	const struct bird_conf *b = &conf->bird;
	char names[256] = "";

	for (size_t i = 0; i < b->nsockets; i++) {
		if (name ? strcmp(b->sockets[i].name, name) == 0 : b->nsockets == 1)
			return (long)i;
		strncat(names, i ? ", " : "", sizeof(names) - strlen(names) - 1);
		strncat(names, b->sockets[i].name, sizeof(names) - strlen(names) - 1);
	}
	if (name)
		problem(problems, "bird.sockets has no socket \"%s\" (it has: %s)", name, names);
	else
		problem(problems,
		        "bird.sockets lists %zu sockets (%s), one BIRD each: name the one to "
		        "configure with --print-bird=SOCKET",
		        b->nsockets, names);
	return -1;
}

/* The protocols of one address family of one role of an announcement. */
struct slot {
	const struct announcement_conf *a;
	const struct proto_ref *proto;
	enum proto_role role;
	int family;
};

/* Every protocol on socket sock, grouped by announcement, family and role. */
static size_t slots_on(const struct agent_conf *conf, size_t sock, struct slot **out)
{
	struct slot *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < conf->nannouncements; i++) {
		const struct announcement_conf *a = &conf->announcements[i];
		int fam[2];
		size_t nfam = families(a, fam);

		for (size_t f = 0; f < nfam; f++)
			for (size_t k = 0; k < PROTO__ROLES; k++) {
				enum proto_role r = role_order[k];
				const struct proto_list *l = conf_role_protocols(a, r);

				if (l->n != nfam || l->v[f].socket != sock)
					continue;
				v = xrealloc(v, (n + 1) * sizeof(*v));
				v[n++] = (struct slot){a, &l->v[f], r, fam[f]};
			}
	}
	*out = v;
	return n;
}

/* The decision file is included as a pattern: the path itself must be no pattern, no quote. */
static bool include_safe(const char *path)
{
	for (const char *p = path; *p; p++)
		if (strchr("\"\\*?[]{}", *p) || iscntrl((unsigned char)*p))
			return false;
	return true;
}

static void prefix_set(FILE *out, const char *name, const struct slot *s, size_t n, int family)
{
	struct strlist seen = {0};

	for (size_t i = 0; i < n; i++) {
		const struct strlist *p = &s[i].a->prefixes;

		if (s[i].family != family)
			continue;
		for (size_t j = 0; j < p->n; j++) {
			bool dup = prefix_family(p->v[j]) != family;

			for (size_t k = 0; k < seen.n && !dup; k++)
				dup = strcmp(seen.v[k], p->v[j]) == 0;
			if (!dup)
				strlist_add(&seen, p->v[j]);
		}
	}
	if (seen.n) {
		fprintf(out, "define %s = [ ", name);
		for (size_t i = 0; i < seen.n; i++)
			fprintf(out, "%s%s", i ? ", " : "", seen.v[i]);
		fputs(" ];\n", out);
	}
	strlist_free(&seen);
}

static bool uses(const struct slot *s, size_t n, enum proto_role r)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].role == r)
			return true;
	return false;
}

static bool has_family(const struct slot *s, size_t n, int family)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].family == family)
			return true;
	return false;
}

static void header(FILE *out, const struct agent_conf *conf, size_t sock, enum birdconf_version v,
                   const struct slot *s, size_t n)
{
	const struct bird_socket_conf *bs = &conf->bird.sockets[sock];
	bool v16 = v == BIRDCONF_1_6;

	fprintf(out,
	        "# The BIRD %s configuration of anycast-agent's announcements, for the BIRD at\n"
	        "# socket \"%s\" (%s).\n"
	        "# Generated by `anycast-agent --print-bird`: when the announcements change,\n"
	        "# generate it again rather than editing it.\n"
	        "#\n"
	        "# Include it at top level from %s.\n"
	        "# That file keeps what only you know: the router id, the device protocol, and\n"
	        "# your BGP sessions, whose export is\n",
	        birdconf_version_name(v), bs->name, bs->path,
	        !v16                  ? "bird.conf"
	        : has_family(s, n, 6) ? "bird6.conf (BIRD 1.6: the IPv6 daemon)"
	                              : "bird.conf (BIRD 1.6: the IPv4 daemon)");
	if (v16)
		fputs("#   export filter anycast_export;\n", out);
	else
		fputs("#   ipv4 { export filter anycast_export4; ... };\n"
		      "#   ipv6 { export filter anycast_export6; ... };\n",
		      out);
	if (uses(s, n, PROTO_ROLE_DEGRADED))
		fputs("# and, before the include, the AS number the degraded variants prepend:\n"
		      "#   define ANYCAST_LOCAL_AS = 64500;\n",
		      out);
	fprintf(
	    out,
	    "#\n"
	    "# Each protocol is disabled until anycast-agent decides: the file it includes\n"
	    "# holds the agent's decision of this boot (`disabled no;` while announced). While\n"
	    "# that file does not exist the pattern matches nothing and `disabled yes;`\n"
	    "# stands, but its directory must exist (BIRD rejects a pattern in a missing one):\n"
	    "#   %s\n\n",
	    conf->bird.state_dir);
}

static void filters(FILE *out, enum birdconf_version v, const struct slot *s, size_t n)
{
	bool v16 = v == BIRDCONF_1_6;

	fputs("# Every prefix announced here: the export filters send nothing else, so a route\n"
	      "# that is not the agent's cannot leak.\n",
	      out);
	if (v16) {
		prefix_set(out, "ANYCAST_PREFIXES", s, n, s[0].family);
	} else {
		prefix_set(out, "ANYCAST_PREFIXES4", s, n, 4);
		prefix_set(out, "ANYCAST_PREFIXES6", s, n, 6);
	}
	if (uses(s, n, PROTO_ROLE_DRAIN))
		fputs("\n# Drain variants: RFC 8326 GRACEFUL_SHUTDOWN, so the upstreams prefer "
		      "another\n"
		      "# PoP while the route is still announced from here. Set on import, so\n"
		      "# `birdc show route all` shows it here.\n"
		      "filter anycast_mark_drain {\n"
		      "\tbgp_community.add((65535, 0));\n"
		      "\taccept;\n"
		      "}\n",
		      out);
	if (uses(s, n, PROTO_ROLE_DEGRADED)) {
		fputs("\n# Degraded variants: a longer AS path, so the upstreams prefer a healthy "
		      "PoP\n"
		      "# but still use this one if nothing better exists.\n"
		      "filter anycast_mark_degraded {\n",
		      out);
		if (v16) /* BIRD 1.6 cannot prepend to a route without an AS path */
			fputs("\tbgp_path = +empty+;\n", out);
		fputs("\tbgp_path.prepend(ANYCAST_LOCAL_AS);\n"
		      "\tbgp_path.prepend(ANYCAST_LOCAL_AS);\n"
		      "\taccept;\n"
		      "}\n",
		      out);
	}
	fputs("\n# Export to the upstreams: the anycast routes only, whichever variant is best.\n",
	      out);
	if (v16) {
		fputs("filter anycast_export {\n"
		      "\tif source = RTS_STATIC && net ~ ANYCAST_PREFIXES then accept;\n"
		      "\treject;\n"
		      "}\n",
		      out);
		return;
	}
	for (int f = 4; f <= 6; f += 2) {
		if (f == 6)
			fputc('\n', out);
		if (has_family(s, n, f))
			fprintf(
			    out,
			    "filter anycast_export%d {\n"
			    "\tif source = RTS_STATIC && net ~ ANYCAST_PREFIXES%d then accept;\n"
			    "\treject;\n"
			    "}\n",
			    f, f);
		else
			fprintf(out,
			        "filter anycast_export%d {\n"
			        "\treject;\t# no IPv%d prefix is announced here\n"
			        "}\n",
			        f, f);
	}
}

static void protocol(FILE *out, const struct agent_conf *conf, enum birdconf_version v,
                     const struct slot *s)
{
	const struct role_def *r = &roles[s->role];
	const struct strlist *p = &s->a->prefixes;
	const char *name = s->proto->name;

	fprintf(out, "# %s\nprotocol static %s {\n", r->what, name);
	fputs("\tdisabled yes;\t# withdrawn until anycast-agent decides otherwise in this boot\n",
	      out);
	fprintf(out, "\tinclude \"%s/%s.con[f]\";\n", conf->bird.state_dir, name);
	if (v == BIRDCONF_1_6) {
		fprintf(out, "\tpreference %u;\n", r->pref);
		if (r->filter)
			fprintf(out, "\timport filter %s;\n", r->filter);
	} else {
		fprintf(out, "\tipv%d { preference %u;", s->family, r->pref);
		if (r->filter)
			fprintf(out, " import filter %s;", r->filter);
		fputs(" };\n", out);
	}
	for (size_t i = 0; i < p->n; i++)
		if (prefix_family(p->v[i]) == s->family)
			fprintf(out, "\troute %s blackhole;\n", p->v[i]);
	fputs("}\n", out);
}

int birdconf_print(FILE *out, const struct agent_conf *conf, size_t sock, enum birdconf_version v,
                   struct strlist *problems)
{
	size_t before = problems->n, n;
	struct slot *s = NULL;

	if (v == BIRDCONF_UNKNOWN) {
		problem(problems, "unknown BIRD version: 1.6, 2 or 3");
		return -1;
	}
	birdconf_problems(conf, problems);
	if (!include_safe(conf->bird.state_dir))
		problem(problems,
		        "bird.state_dir \"%s\" holds a character BIRD's include would read as a "
		        "pattern or a quote (one of \" \\ * ? [ ] { })",
		        conf->bird.state_dir);
	n = slots_on(conf, sock, &s);
	if (problems->n == before && n == 0)
		problem(problems, "no protocol of the announcements is on BIRD socket \"%s\"",
		        conf->bird.sockets[sock].name);
	if (v == BIRDCONF_1_6 && has_family(s, n, 4) && has_family(s, n, 6)) {
		const struct slot *s4 = s, *s6 = s;

		while (s4->family != 4)
			s4++;
		while (s6->family != 6)
			s6++;
		problem(
		    problems,
		    "BIRD 1.6 runs one daemon per address family, but socket \"%s\" would carry "
		    "%s (IPv4) and %s (IPv6): list bird.sockets for bird.ctl and bird6.ctl and "
		    "put each protocol on its daemon's socket, as \"v6:%s\"",
		    conf->bird.sockets[sock].name, s4->proto->name, s6->proto->name,
		    s6->proto->name);
	}
	if (problems->n != before) {
		free(s);
		return -1;
	}
	header(out, conf, sock, v, s, n);
	filters(out, v, s, n);
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || s[i].a != s[i - 1].a || s[i].family != s[i - 1].family)
			fprintf(out, "\n# --- announcement \"%s\", IPv%d ---\n", s[i].a->name,
			        s[i].family);
		else
			fputc('\n', out);
		protocol(out, conf, v, &s[i]);
	}
	free(s);
	fflush(out);
	return ferror(out) ? -1 : 0;
}
