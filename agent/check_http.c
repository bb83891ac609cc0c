/* SPDX-License-Identifier: ISC */
/*
 * check_http.c - the "http" check type: one HTTP or HTTPS request per run,
 * judged by status code, body and certificate lifetime.
 *
 * Owns: libcurl's global state (check_http_global_init), the per-loop curl
 * multi handle and its libuv glue (the `http` slot of struct check_env: each
 * socket curl opens is watched in the env's iowatch set, one uv_timer_t runs
 * curl's timeouts, and up to HTTP_IDLE_MAX idle easy handles, reset for the
 * next runs), and each run's easy handle and body buffer.
 *
 * The daemon must ignore SIGPIPE (agent.c does); CURLOPT_NOSIGNAL keeps curl
 * itself away from signals. Nothing here blocks the loop: name resolution,
 * when the URL is not paired with connect_to, runs in curl's resolver thread.
 */
#include <config.h>

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "check.h"
#include "check_http.h"
#include "check_util.h"
#include "log.h"
#include "util.h"

#define HTTP_BODY_MAX_DEFAULT (64 * 1024)
/* A run's body buffer starts this small and doubles up to body_max: health pages are tiny,
 * and freeing a 64 KB block on every run made malloc consolidate its free lists each time. */
#define HTTP_BODY_START 1024
/* curl's own timeout fires this much before the run's guard, so its more
 * precise message ("Connection timed out after ...") becomes the detail. */
#define HTTP_CURL_TIMEOUT_MARGIN_MS 10

/* Easy handles kept for the next runs: making one and freeing it cost more than a reset. */
#define HTTP_IDLE_MAX 16

/* The env's `http` slot: one multi handle shared by every http run on a loop. */
struct http_env {
	CURLM *multi;
	uv_timer_t timer;
	struct iowatch *io;      /* the env's, where curl's sockets are watched */
	struct http_sock *socks; /* every socket curl asked us to watch */
	CURL *idle[HTTP_IDLE_MAX];
	size_t nidle;
};

/* One socket curl watches, bound to it with curl_multi_assign(). */
struct http_sock {
	struct iow_fd w;
	struct http_env *he;
	struct http_sock *next;
};

/* Per check: what init() prepared once, and the live run. */
struct http_priv {
	char *init_error; /* set when the configuration cannot be used */
	bool https;
	bool has_regex;
	regex_t regex;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *interface;
	long timeout_ms;
	size_t body_max;

	/* the current run */
	CURL *easy;
	char *body; /* body_cap + 1 bytes, NUL terminated */
	size_t body_len, body_cap;
	bool body_full; /* we stopped the transfer at body_max */
	char errbuf[CURL_ERROR_SIZE];
};

static bool global_done;

int check_http_global_init(void)
{
	CURLcode rc;

	if (global_done)
		return 0;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		log_warnx("http checks: libcurl initialisation failed: %s", curl_easy_strerror(rc));
		return -1;
	}
	global_done = true;
	return 0;
}

/* ---- libuv glue for the multi socket interface ---------------------------------------- */

static void http_check_done(struct http_env *he);

/* Stop watching before curl closes the descriptor; nothing of s is used after this. */
static void sock_forget(struct http_env *he, struct http_sock *s)
{
	struct http_sock **pp;

	for (pp = &he->socks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	iowatch_remove(he->io, &s->w);
	free(s);
}

static void sock_ready(struct iow_fd *w, int events)
{
	struct http_sock *s = w->data;
	struct http_env *he = s->he;
	int flags = 0, running;

	/* on an error let curl read or write to learn the real errno ("Connection reset by
	 * peer") instead of curl's bare "select/poll returned error" */
	if (events & IOW_ERR)
		flags = CURL_CSELECT_IN | CURL_CSELECT_OUT;
	if (events & IOW_IN)
		flags |= CURL_CSELECT_IN;
	if (events & IOW_OUT)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(he->multi, w->fd, flags, &running);
	http_check_done(he);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_env *he = userp;
	struct http_sock *s = socketp;
	int events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(he->multi, fd, NULL);
			sock_forget(he, s);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		iowatch_fd_init(&s->w, fd, sock_ready, s);
		s->he = he;
		s->next = he->socks;
		he->socks = s;
		curl_multi_assign(he->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= IOW_IN;
	if (what & CURL_POLL_OUT)
		events |= IOW_OUT;
	if (iowatch_set(he->io, &s->w, events) < 0)
		return -1; /* curl fails the transfer */
	return 0;
}

/* curl's own socket() lacks SOCK_CLOEXEC: a plugin an exec check spawns meanwhile would
 * inherit the probe's connection and hold it open past curl's close. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)clientp;
	(void)purpose;
	return check_socket(a->family, a->socktype, a->protocol);
}

static void timer_fire_cb(uv_timer_t *t)
{
	struct http_env *he = t->data;
	int running;

	curl_multi_socket_action(he->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(he);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_env *he = userp;

	if (timeout_ms < 0)
		uv_timer_stop(&he->timer);
	else /* 0 too: curl must not be re-entered from its own callback */
		check_timer_arm(&he->timer, timer_fire_cb, (uint64_t)timeout_ms);
	return 0;
}

/* The env's multi handle, made on first use; NULL with the reason in err. */
static struct http_env *http_env_get(struct check_env *env, char *err, size_t errlen)
{
	struct http_env *he = env->http;
	struct iowatch *io;

	if (he != NULL)
		return he;
	if (check_http_global_init() < 0) {
		snprintf(err, errlen, "libcurl initialisation failed");
		return NULL;
	}
	if ((io = check_env_io(env, err, errlen)) == NULL)
		return NULL;
	he = xcalloc(1, sizeof(*he));
	he->io = io;
	he->multi = curl_multi_init();
	if (he->multi == NULL) {
		free(he);
		snprintf(err, errlen, "cannot set up libcurl (out of memory?)");
		return NULL;
	}
	uv_timer_init(env->loop, &he->timer);
	he->timer.data = he;
	curl_multi_setopt(he->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(he->multi, CURLMOPT_SOCKETDATA, he);
	curl_multi_setopt(he->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(he->multi, CURLMOPT_TIMERDATA, he);
	env->http = he;
	return he;
}

static void env_timer_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void http_env_free(struct check_env *env)
{
	struct http_env *he = env->http;

	if (he == NULL)
		return;
	env->http = NULL;
	while (he->nidle > 0)
		curl_easy_cleanup(he->idle[--he->nidle]);
	/* runs are freed first, so no transfer is left; cleanup may still report removals */
	curl_multi_cleanup(he->multi);
	he->multi = NULL;
	while (he->socks != NULL)
		sock_forget(he, he->socks);
	uv_timer_stop(&he->timer);
	uv_close((uv_handle_t *)&he->timer, env_timer_close_cb);
}

/* ---- configuration, once per check ------------------------------------------------------ */

static void priv_free(struct http_priv *p)
{
	if (p == NULL)
		return;
	free(p->init_error);
	if (p->has_regex)
		regfree(&p->regex);
	curl_slist_free_all(p->headers);
	curl_slist_free_all(p->connect_to);
	free(p->interface);
	free(p->body);
	free(p);
}

/* "192.0.2.1" or "[2001:db8::1]", as curl wants addresses inside its strings */
static void addr_format(char *buf, size_t len, const struct conf_addr *a)
{
	if (a->family == AF_INET6 || strchr(a->host, ':') != NULL)
		snprintf(buf, len, "[%s]", a->host);
	else
		snprintf(buf, len, "%s", a->host);
}

static int http_prepare(struct check_run *run)
{
	const struct http_conf *hc = &run->conf->u.http;
	struct http_priv *p;
	char addr[128], *s = NULL;
	size_t i;
	int rc;

	if (run->priv != NULL)
		return 0;
	p = xcalloc(1, sizeof(*p));
	run->priv = p;
	p->body_max = hc->body_max > 0 ? hc->body_max : HTTP_BODY_MAX_DEFAULT;
	p->timeout_ms = (long)(run->conf->timeout * 1000.0);
	if (p->timeout_ms > 2 * HTTP_CURL_TIMEOUT_MARGIN_MS)
		p->timeout_ms -= HTTP_CURL_TIMEOUT_MARGIN_MS;
	if (p->timeout_ms <= 0)
		p->timeout_ms = 1;

	if (hc->url == NULL) {
		xasprintf(&p->init_error, "no url configured");
		return -1;
	}
	if (strncasecmp(hc->url, "https://", 8) == 0) {
		p->https = true;
	} else if (strncasecmp(hc->url, "http://", 7) != 0) {
		xasprintf(&p->init_error, "url \"%.100s\" must start with http:// or https://",
		          hc->url);
		return -1;
	}
	if (hc->expect_body_regex != NULL) {
		rc = regcomp(&p->regex, hc->expect_body_regex, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[128];

			regerror(rc, &p->regex, msg, sizeof(msg));
			xasprintf(&p->init_error, "expect_body_regex \"%.80s\": %s",
			          hc->expect_body_regex, msg);
			return -1;
		}
		p->has_regex = true;
	}
	for (i = 0; i < hc->headers.n; i++)
		p->headers = curl_slist_append(p->headers, hc->headers.v[i]);
	if (hc->has_connect_to) {
		/* "::ADDR:PORT": any host and port of the URL goes there; Host and SNI stay */
		addr_format(addr, sizeof(addr), &hc->connect_to);
		if (hc->connect_to.port != 0)
			xasprintf(&s, "::%s:%u", addr, hc->connect_to.port);
		else
			xasprintf(&s, "::%s:", addr);
		p->connect_to = curl_slist_append(NULL, s);
		free(s);
	}
	if (hc->has_source)
		xasprintf(&p->interface, "host!%s", hc->source.host);
	if ((hc->headers.n > 0 && p->headers == NULL) ||
	    (hc->has_connect_to && p->connect_to == NULL)) {
		xasprintf(&p->init_error, "out of memory preparing the request");
		return -1;
	}
	return 0;
}

/* The runner's contract: on failure the reason is in rep.detail and priv is released. */
static int http_init(struct check_run *run)
{
	struct http_priv *p;

	if (http_prepare(run) == 0)
		return 0;
	p = run->priv;
	snprintf(run->rep.detail, sizeof(run->rep.detail), "%s",
	         p->init_error ? p->init_error : "cannot prepare the request");
	priv_free(p);
	run->priv = NULL;
	return -1;
}

/* ---- one run ----------------------------------------------------------------------------- */

bool check_http_body_append(char *body, size_t *len, size_t max, const char *data, size_t n)
{
	size_t room = max - *len;

	if (n > room) {
		memcpy(body + *len, data, room);
		*len += room;
		body[*len] = '\0';
		return false;
	}
	memcpy(body + *len, data, n);
	*len += n;
	body[*len] = '\0';
	return true;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_priv *p = userp;
	size_t n = size * nmemb;

	if (p->body_len + n > p->body_cap && p->body_cap < p->body_max) {
		size_t cap = p->body_cap;

		while (cap < p->body_len + n && cap < p->body_max)
			cap = cap * 2 < p->body_max ? cap * 2 : p->body_max;
		p->body = xrealloc(p->body, cap + 1);
		p->body_cap = cap;
	}
	/* the buffer now holds body_len + n bytes, or body_max when that is less */
	if (!check_http_body_append(p->body, &p->body_len, p->body_max, data, n)) {
		/* keep what fits, then stop: a probe never downloads more than body_max */
		p->body_full = true;
		return CURL_WRITEFUNC_ERROR;
	}
	return n;
}

static void run_release(struct check_run *run)
{
	struct http_priv *p = run->priv;
	struct http_env *he = run->env->http;

	if (p == NULL || p->easy == NULL)
		return;
	if (he != NULL && he->multi != NULL)
		curl_multi_remove_handle(he->multi, p->easy);
	if (he != NULL && he->nidle < HTTP_IDLE_MAX)
		he->idle[he->nidle++] = p->easy;
	else
		curl_easy_cleanup(p->easy);
	p->easy = NULL;
	free(p->body);
	p->body = NULL;
}

static void setopts(struct check_run *run, CURL *e)
{
	const struct http_conf *hc = &run->conf->u.http;
	struct http_priv *p = run->priv;

	curl_easy_setopt(e, CURLOPT_URL, hc->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, run);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* a probe measures a fresh connection and leaves none behind */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	/* and a full TLS handshake: a reused handle would otherwise resume its last session */
	curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	/* a probe tests the local server itself, never through a proxy from the environment */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*"); /* and no look at no_proxy in the environment */
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	if (hc->head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, p);
	if (p->headers != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers);
	if (p->connect_to != NULL)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, p->connect_to);
	if (p->interface != NULL)
		curl_easy_setopt(e, CURLOPT_INTERFACE, p->interface);
	if (hc->has_source && hc->source.port != 0)
		curl_easy_setopt(e, CURLOPT_LOCALPORT, (long)hc->source.port);
	if (p->https) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, hc->tls_verify ? 1L : 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, hc->tls_verify ? 2L : 0L);
		if (hc->ca_file != NULL)
			curl_easy_setopt(e, CURLOPT_CAINFO, hc->ca_file);
		/* Debian's default CA path disables curl's CA-store cache: each probe would block
		 * the loop 20-35 ms re-reading the bundle */
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
#if LIBCURL_VERSION_NUM >= 0x075700
		curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 3600L);
#endif
		curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	}
}

static int http_start(struct check_run *run)
{
	struct http_priv *p;
	struct http_env *he;
	CURLMcode mc;

	p = run->priv; /* http_init succeeded: the runner never starts a run whose init failed */
	he = http_env_get(run->env, run->rep.detail, sizeof(run->rep.detail));
	if (he == NULL) {
		run->rep.code = RES_INTERNAL_ERROR;
		return -1;
	}
	if (he->nidle > 0) {
		p->easy = he->idle[--he->nidle];
		curl_easy_reset(p->easy); /* every option back to its default */
	} else {
		p->easy = curl_easy_init();
	}
	if (p->easy == NULL) {
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "curl_easy_init failed");
		return -1;
	}
	p->body_cap = p->body_max < HTTP_BODY_START ? p->body_max : HTTP_BODY_START;
	p->body = xmalloc(p->body_cap + 1);
	p->body[0] = '\0';
	p->body_len = 0;
	p->body_full = false;
	p->errbuf[0] = '\0';
	setopts(run, p->easy);
	mc = curl_multi_add_handle(he->multi, p->easy);
	if (mc != CURLM_OK) {
		curl_easy_cleanup(p->easy);
		p->easy = NULL;
		free(p->body);
		p->body = NULL;
		run->rep.code = RES_INTERNAL_ERROR;
		snprintf(run->rep.detail, sizeof(run->rep.detail), "curl_multi_add_handle: %s",
		         curl_multi_strerror(mc));
		return -1;
	}
	return 0;
}

static void http_cancel(struct check_run *run)
{
	run_release(run);
}

static void http_free(struct check_run *run)
{
	run_release(run);
	priv_free(run->priv);
	run->priv = NULL;
}

/* ---- judging a finished transfer --------------------------------------------------------- */

static double usec_to_s(curl_off_t us)
{
	return us > 0 ? (double)us / 1e6 : -1.0;
}

/* Days until the leaf certificate expires, from CURLINFO_CERTINFO; INT_MIN if unknown. */
static int cert_days_left(CURL *e)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *l;
	struct tm tm;
	time_t t;

	if (curl_easy_getinfo(e, CURLINFO_CERTINFO, &ci) != CURLE_OK || ci == NULL ||
	    ci->num_of_certs < 1)
		return INT_MIN;
	for (l = ci->certinfo[0]; l != NULL; l = l->next) {
		if (strncmp(l->data, "Expire date:", 12) != 0)
			continue;
		memset(&tm, 0, sizeof(tm));
		/* OpenSSL prints "Nov 25 13:36:06 2027 GMT" */
		if (strptime(l->data + 12, " %b %d %H:%M:%S %Y", &tm) == NULL)
			return INT_MIN;
		t = timegm(&tm);
		return (int)((t - (time_t)wall_now()) / 86400);
	}
	return INT_MIN;
}

static bool status_ok(const struct http_conf *hc, long status)
{
	size_t i;

	if (hc->nstatus == 0)
		return status >= 200 && status <= 299;
	for (i = 0; i < hc->nstatus; i++)
		if (status >= (long)hc->status[i].lo && status <= (long)hc->status[i].hi)
			return true;
	return false;
}

static void status_ranges(const struct http_conf *hc, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	if (hc->nstatus == 0) {
		snprintf(buf, len, "200-299");
		return;
	}
	for (i = 0; i < hc->nstatus && off < len; i++) {
		const struct status_range *r = &hc->status[i];

		if (r->lo == r->hi)
			off += snprintf(buf + off, len - off, "%s%u", i ? "," : "", r->lo);
		else
			off +=
			    snprintf(buf + off, len - off, "%s%u-%u", i ? "," : "", r->lo, r->hi);
	}
}

bool check_http_body_matches(const char *body, size_t len, const char *expect_body,
                             const regex_t *re)
{
	if (expect_body != NULL)
		return memmem(body, len, expect_body, strlen(expect_body)) != NULL;
	if (re != NULL) {
		regmatch_t m[1];

		/* REG_STARTEND: a NUL byte in the body does not end the match */
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
		return regexec(re, body, 1, m, REG_STARTEND) == 0;
	}
	return true;
}

static bool body_ok(const struct http_conf *hc, struct http_priv *p)
{
	return check_http_body_matches(p->body, p->body_len, hc->expect_body,
	                               p->has_regex ? &p->regex : NULL);
}

static enum check_result_code map_curl_error(CURL *e, CURLcode rc)
{
	long oserr = 0;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return RES_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);
		return oserr == ECONNREFUSED ? RES_CONNECT_REFUSED : RES_CONNECT_FAILED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_INTERFACE_FAILED:
		return RES_CONNECT_FAILED;
	case CURLE_PEER_FAILED_VERIFICATION: /* expired, wrong name, untrusted issuer */
		return RES_CERT_INVALID;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return RES_TLS_ERROR;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_URL_MALFORMAT:
		return RES_INTERNAL_ERROR;
	default: /* garbage, HTTP/0.9, reset, truncated reply, ... */
		return RES_HTTP_ERROR;
	}
}

/* "HTTP 200, 12.3 ms (connect 0.2, tls 5.1, first byte 10.0), cert 89 days" */
static void timing_text(struct check_run *run, long status, char *buf, size_t len)
{
	const struct check_report *r = &run->rep;
	size_t off = 0;

	buf[0] = '\0';
	if (status > 0)
		off += snprintf(buf + off, len - off, "HTTP %ld, ", status);
	if (off < len)
		off += snprintf(buf + off, len - off, "%.1f ms", r->duration * 1e3);
	if (off < len && r->t_connect >= 0)
		off += snprintf(buf + off, len - off, " (connect %.1f", r->t_connect * 1e3);
	if (off < len && r->t_connect >= 0 && r->t_tls >= 0)
		off += snprintf(buf + off, len - off, ", tls %.1f", r->t_tls * 1e3);
	if (off < len && r->t_connect >= 0 && r->t_first_byte >= 0)
		off += snprintf(buf + off, len - off, ", first byte %.1f", r->t_first_byte * 1e3);
	if (off < len && r->t_connect >= 0)
		off += snprintf(buf + off, len - off, ")");
	if (off < len && r->cert_days_left != INT_MIN && r->cert_days_left >= 0)
		snprintf(buf + off, len - off, ", certificate expires in %d days",
		         r->cert_days_left);
	else if (off < len && r->cert_days_left != INT_MIN)
		snprintf(buf + off, len - off, ", certificate expired %d days ago",
		         -r->cert_days_left);
}

static void http_complete(struct check_run *run, CURLcode rc)
{
	const struct http_conf *hc = &run->conf->u.http;
	struct http_priv *p = run->priv;
	CURL *e = p->easy;
	enum check_result_code code = RES_OK;
	curl_off_t us = 0;
	long status = 0;
	char times[160], ranges[64], msg[CHECK_DETAIL_MAX];

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		run->rep.duration = usec_to_s(us);
	if (curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &us) == CURLE_OK)
		run->rep.t_connect = usec_to_s(us);
	if (p->https && curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &us) == CURLE_OK)
		run->rep.t_tls = usec_to_s(us);
	if (curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &us) == CURLE_OK)
		run->rep.t_first_byte = usec_to_s(us);
	if (p->https)
		run->rep.cert_days_left = cert_days_left(e);
	if (run->rep.duration < 0)
		run->rep.duration = mono_now() - run->rep.started;

	/* stopping at body_max is our doing: judge what was kept */
	if (rc == CURLE_WRITE_ERROR && p->body_full)
		rc = CURLE_OK;
	timing_text(run, rc == CURLE_OK ? status : 0, times, sizeof(times));

	if (rc != CURLE_OK) {
		long oserr = 0;

		code = map_curl_error(e, rc);
		/* curl 7.88 leaves the errno out of "Failed to connect ..." */
		if (rc == CURLE_COULDNT_CONNECT)
			curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &oserr);
		snprintf(msg, sizeof(msg), "%.120s%s%s%s; %s",
		         p->errbuf[0] ? p->errbuf : curl_easy_strerror(rc), oserr ? " (" : "",
		         oserr ? strerror((int)oserr) : "", oserr ? ")" : "", times);
	} else if (!status_ok(hc, status)) {
		code = RES_HTTP_STATUS_MISMATCH;
		status_ranges(hc, ranges, sizeof(ranges));
		snprintf(msg, sizeof(msg), "status %ld not in %s; %s", status, ranges, times);
	} else if (!body_ok(hc, p)) {
		code = RES_HTTP_BODY_MISMATCH;
		snprintf(msg, sizeof(msg), "body (%zu bytes%s) does not %s \"%.60s\"; %s",
		         p->body_len, p->body_full ? ", truncated" : "",
		         hc->expect_body != NULL ? "contain" : "match",
		         hc->expect_body != NULL ? hc->expect_body : hc->expect_body_regex, times);
	} else if (hc->cert_warn_days > 0 && run->rep.cert_days_left != INT_MIN &&
	           run->rep.cert_days_left < hc->cert_warn_days) {
		code = RES_CERT_EXPIRING;
		snprintf(msg, sizeof(msg), "certificate expires in %d days (warning at %d); %s",
		         run->rep.cert_days_left, hc->cert_warn_days, times);
	} else {
		snprintf(msg, sizeof(msg), "%s", times);
	}
	/* every handle is released before the result goes out: the callback may free the run */
	run_release(run);
	check_run_finish(run, code, "%s", msg);
}

static void http_check_done(struct http_env *he)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(he->multi, &left)) != NULL) {
		struct check_run *run = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&run);
		if (run != NULL)
			http_complete(run, m->data.result);
	}
}

const struct check_ops check_http_ops = {
    .type = "http",
    .init = http_init,
    .start = http_start,
    .cancel = http_cancel,
    .free = http_free,
    .env_free = http_env_free,
};
