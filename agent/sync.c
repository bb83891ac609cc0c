/* SPDX-License-Identifier: ISC */
/*
 * sync.c - keeps BIRD's real state equal to the engine's decision (see
 * sync.h). One reconcile cycle per socket at a time:
 *   show protocols -> enables for what should be up -> disables for what
 *   should be down and is no longer needed (make-before-break) -> (if
 *   anything changed or was held back) again, to confirm.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "bird.h"
#include "guard.h"
#include "log.h"
#include "sync.h"
#include "util.h"

/* A decision file is small; anything longer is not the agent's. */
#define DECISION_MAX 1024
/* Protocols not attached to an announcement (orphans). */
#define NO_GROUP ((size_t)-1)

struct sync_proto {
	char *name;
	size_t socket;
	size_t group; /* announcement index in conf; NO_GROUP for an orphan */
	enum proto_role role;
	bool orphan;
	enum sync_want want;
	char message[BIRD_MSG_MAX + 1];
	enum sync_actual actual;
	char bird_state[16];
	bool confirmed;      /* BIRD was seen as wanted since want was last set */
	int file_state;      /* -1 unknown, 0 `disabled yes;`, 1 `disabled no;` */
	bool file_failed;    /* the last write failed: retried every tick */
	struct stat file_st; /* the file as last written or read: a change means someone else */
	bool has_file_st;
	bool dry_logged;
	enum sync_include include;
	char bird_description[256];
	bool verifying;
	unsigned long corrections;
};

struct sync_socket {
	struct sync *s;
	size_t idx;
	char *name;
	void *bird;
	bool connected;
	bool busy;          /* a cycle is under way */
	bool again;         /* another cycle was asked for meanwhile */
	size_t pending;     /* commands of the current phase still unanswered */
	bool changed;       /* this cycle changed something in BIRD */
	bool held;          /* this cycle held a disable back (make-before-break) */
	bool failed;        /* a command of this cycle failed */
	bool seen;          /* a show of this socket succeeded since the last change of want */
	size_t verify_next; /* round robin over the protocols for the include check */
};

struct sync {
	const struct agent_conf *conf;
	bool dry_run;
	const struct sync_bird_ops *ops;
	void *ops_arg;
	struct sync_proto *protos;
	size_t nprotos;
	struct sync_socket *socks;
	size_t nsocks;
	void (*flush_cb)(bool ok, void *arg);
	void *flush_arg;
	unsigned long corrections, command_errors, file_errors, files_restored;
	struct guard *guard; /* the last-site guard's route observation */
	/* commands in flight refer to their socket by index: sockets are replaced on reload */
	unsigned sock_generation;
};

static void cycle_start(struct sync_socket *ss);

const char *sync_want_name(enum sync_want w)
{
	static const char *const n[] = {"keep", "enabled", "disabled"};
	return (unsigned)w < ARRAY_SIZE(n) ? n[w] : "?";
}

const char *sync_actual_name(enum sync_actual a)
{
	static const char *const n[] = {"unknown", "enabled", "disabled", "missing"};
	return (unsigned)a < ARRAY_SIZE(n) ? n[a] : "?";
}

const char *sync_include_name(enum sync_include i)
{
	static const char *const n[] = {"unknown", "ok", "missing", "other"};
	return (unsigned)i < ARRAY_SIZE(n) ? n[i] : "?";
}

static struct sync_proto *find_proto(struct sync *s, const char *name, size_t socket)
{
	for (size_t i = 0; i < s->nprotos; i++)
		if (s->protos[i].socket == socket && strcmp(s->protos[i].name, name) == 0)
			return &s->protos[i];
	return NULL;
}

/* What the sync layer makes of a want: KEEP keeps only what this boot decided to announce. */
static enum sync_want effective_want(const struct sync_proto *p)
{
	if (p->want == SYNC_KEEP && p->file_state != 1)
		return SYNC_DISABLED;
	return p->want;
}

/* ---- decision files ------------------------------------------------------------------- */

static char *decision_path(const char *dir, const char *name)
{
	char *p;
	xasprintf(&p, "%s/%s.conf", dir, name);
	return p;
}

void sync_decision_description(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "anycast-agent decision %s/%s.conf", dir, name);
}

char *sync_decision_text(const char *dir, const char *name, bool enabled)
{
	char desc[512], *text;

	sync_decision_description(desc, sizeof(desc), dir, name);
	xasprintf(
	    &text,
	    "# anycast-agent's decision for BIRD protocol %s in this boot; bird.conf includes\n"
	    "# it inside that protocol. Written by the agent: edits are overwritten.\n"
	    "description \"%s\";\n"
	    "disabled %s;\n",
	    name, desc, enabled ? "no" : "yes");
	return text;
}

int sync_decision_parse(const char *buf, size_t len)
{
	int r = -1;
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		while (j < len && buf[j] != '\n')
			j++;
		const char *line = buf + i;
		size_t n = j - i;

		if (memchr(line, '\0', n) != NULL)
			return -1;
		if (n == 0 || line[0] == '#') {
			/* comment or empty line */
		} else if (n == 13 && memcmp(line, "disabled yes;", 13) == 0) {
			r = 0;
		} else if (n == 12 && memcmp(line, "disabled no;", 12) == 0) {
			r = 1;
		} else if (n > 15 && memcmp(line, "description \"", 13) == 0 &&
		           memcmp(line + n - 2, "\";", 2) == 0 &&
		           memchr(line + 13, '"', n - 15) == NULL) {
			/* the agent's description line */
		} else {
			return -1;
		}
		i = j + 1;
	}
	return r;
}

/* What the file says: 0/1, -1 something else, -2 missing. st is filled when it exists. */
static int decision_read(const char *path, struct stat *st)
{
	char buf[DECISION_MAX + 1];
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -2 : -1;
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > DECISION_MAX)
		return -1;
	r = sync_decision_parse(buf, (size_t)n);
	return r;
}

/* mkdir -p with mode 0755 for what it creates, whatever the umask (BIRD must read it). */
static int mkdir_p(const char *dir)
{
	char *copy = xstrdup(dir);
	int rc = 0;

	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, 0755) == 0) {
			if (chmod(copy, 0755) < 0)
				rc = -1;
		} else if (errno != EEXIST) {
			rc = -1;
		}
		*p = c;
		if (c == '\0' || rc < 0)
			break;
	}
	free(copy);
	return rc;
}

static int decision_write(struct sync *s, struct sync_proto *p, int enabled)
{
	char *path = decision_path(s->conf->bird.state_dir, p->name);
	char *text = sync_decision_text(s->conf->bird.state_dir, p->name, enabled);
	int rc = atomic_write_file(path, text, strlen(text), 0644);

	if (rc < 0 && errno == ENOENT && mkdir_p(s->conf->bird.state_dir) == 0)
		rc = atomic_write_file(path, text, strlen(text), 0644);
	if (rc < 0) {
		s->file_errors++;
		/* retried every tick: warn once, not every interval */
		if (!p->file_failed)
			log_warn("cannot write %s (BIRD would forget this decision on configure or "
			         "restart; free space or fix permissions: retrying)",
			         path);
		else
			log_debug(LOG_SUB_BIRD, "cannot write %s again: %s", path, strerror(errno));
		p->file_state = -1;
		p->file_failed = true;
		p->has_file_st = false;
	} else {
		if (p->file_failed)
			log_notice("%s written again", path);
		p->file_state = enabled;
		p->file_failed = false;
		p->has_file_st = stat(path, &p->file_st) == 0;
	}
	free(text);
	free(path);
	return rc;
}

/* The decision file is the protocol's name's: an orphan of that name on another socket (its
 * socket was not known) leaves it to the configured protocol once there is one again. */
static bool file_owner(const struct sync *s, const struct sync_proto *p)
{
	if (!p->orphan)
		return true;
	for (size_t i = 0; i < s->nprotos; i++)
		if (!s->protos[i].orphan && strcmp(s->protos[i].name, p->name) == 0)
			return false;
	return true;
}

/* Write the file for the protocol's effective want (never in a dry run). */
static void decision_update(struct sync *s, struct sync_proto *p)
{
	enum sync_want w = effective_want(p);

	if (s->dry_run || w == SYNC_KEEP || !file_owner(s, p))
		return;
	if (p->file_state == (w == SYNC_ENABLED) && !p->file_failed)
		return;
	decision_write(s, p, w == SYNC_ENABLED);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       (a->st_mode & 07777) == (b->st_mode & 07777);
}

/* A decision file someone else changed, removed or made unreadable is written again: BIRD's
 * next configure must find this boot's decision. */
static void decision_guard(struct sync *s, struct sync_proto *p)
{
	struct stat st;
	char *path;
	int f;

	if (s->dry_run || p->file_failed || p->file_state < 0 || !file_owner(s, p))
		return;
	path = decision_path(s->conf->bird.state_dir, p->name);
	if (stat(path, &st) == 0 && p->has_file_st && same_file(&st, &p->file_st) &&
	    (st.st_mode & 07777) == 0644) {
		free(path);
		return;
	}
	f = decision_read(path, &st);
	if (f == p->file_state && (st.st_mode & 07777) == 0644) {
		char *want = sync_decision_text(s->conf->bird.state_dir, p->name, f == 1),
		     buf[DECISION_MAX + 1];
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
		bool same =
		    n >= 0 && (size_t)n == strlen(want) && memcmp(buf, want, (size_t)n) == 0;

		if (fd >= 0)
			close(fd);
		free(want);
		if (same) {
			p->file_st = st; /* touched, not changed */
			p->has_file_st = true;
			free(path);
			return;
		}
	}
	log_warnx("%s was %s behind the agent's back; writing this boot's decision (disabled "
	          "%s;) again",
	          path, f == -2 ? "removed" : "changed", p->file_state ? "no" : "yes");
	free(path);
	s->files_restored++;
	decision_write(s, p, p->file_state);
}

/* ---- reconcile cycle --------------------------------------------------------------------- */

static void cycle_done(struct sync_socket *ss);

static void flush_check(struct sync *s)
{
	struct sync_status st;
	void (*cb)(bool, void *) = s->flush_cb;

	if (cb == NULL)
		return;
	for (size_t i = 0; i < s->nsocks; i++)
		if (!s->socks[i].seen || s->socks[i].busy)
			return;
	sync_status(s, &st);
	if (!st.in_sync)
		return;
	s->flush_cb = NULL;
	cb(true, s->flush_arg);
}

static void command_done(struct bird_client *bc, const struct bird_reply *r, void *arg);

struct cmd_ctx {
	struct sync *s;
	unsigned sock_generation;
	size_t sock;
	char *name;
	bool enable;
};

static void send_command(struct sync_socket *ss, struct sync_proto *p, bool enable)
{
	struct sync *s = ss->s;
	struct cmd_ctx *cx;
	enum bird_status st;

	if (s->dry_run) {
		if (!p->dry_logged)
			log_notice("dry run: would %s BIRD protocol %s%s%s",
			           enable ? "enable" : "disable", p->name,
			           p->message[0] && !enable ? ": " : "", enable ? "" : p->message);
		p->dry_logged = true;
		return;
	}
	cx = xcalloc(1, sizeof(*cx));
	cx->s = s;
	cx->sock_generation = s->sock_generation;
	cx->sock = ss->idx;
	cx->name = xstrdup(p->name);
	cx->enable = enable;
	ss->pending++;
	st = enable ? s->ops->enable(ss->bird, p->name, command_done, cx)
	            : s->ops->disable(ss->bird, p->name, p->message, command_done, cx);
	if (st != BIRD_OK) {
		ss->pending--;
		log_warnx("BIRD %s: cannot queue %s %s: %s", ss->name,
		          enable ? "enable" : "disable", p->name, bird_status_name(st));
		s->command_errors++;
		ss->failed = true;
		free(cx->name);
		free(cx);
	}
}

/* Another protocol of p's announcement on p's socket should carry the prefix but does not
 * yet: disabling p now would leave a gap (make-before-break). 1: its enable is under way;
 * 2: it cannot come (BIRD lacks it), so p stays until the decision changes; 0: go ahead. */
static int replacement_pending(const struct sync *s, const struct sync_proto *p)
{
	int blocked = 0;

	if (p->group == NO_GROUP)
		return 0;
	for (size_t i = 0; i < s->nprotos; i++) {
		const struct sync_proto *q = &s->protos[i];

		if (q == p || q->group != p->group || q->socket != p->socket)
			continue;
		/* KEEP of what this boot announced counts too: a restart in mid-switch keeps the
		 * old variant until the checks have decided */
		bool carries = effective_want(q) == SYNC_ENABLED ||
		               (effective_want(q) == SYNC_KEEP && q->file_state == 1);
		if (!carries || q->actual == SYNC_ACTUAL_ENABLED)
			continue;
		if (q->actual != SYNC_ACTUAL_MISSING)
			return 1;
		/* a variant BIRD does not have cannot take over: the old one stays, unless it is
		 * the drain variant, whose drain must withdraw */
		if (q->role != PROTO_ROLE_DRAIN)
			blocked = 2;
	}
	return blocked;
}

/* The order of the disables: the variants upstream prefers least go first (drain: local-pref
 * 0, degraded: a longer AS path), so taking several down moves the route through no variant it
 * did not carry (one withdraw, not a switch back to the degraded one and then a withdraw). */
static const enum proto_role disable_order[PROTO__ROLES] = {PROTO_ROLE_DRAIN, PROTO_ROLE_DEGRADED,
                                                            PROTO_ROLE_NORMAL};

/* Send the commands of one phase (enables, or disables) for this socket's protocols. */
static void run_phase(struct sync_socket *ss, bool enables)
{
	struct sync *s = ss->s;

	for (size_t n = 0; n < s->nprotos * (enables ? 1 : PROTO__ROLES); n++) {
		struct sync_proto *p = &s->protos[n % s->nprotos];
		enum sync_want w = enables ? SYNC_ENABLED : SYNC_DISABLED;

		if (!enables && p->role != disable_order[n / s->nprotos])
			continue;
		if (p->socket != ss->idx || effective_want(p) != w ||
		    p->actual == SYNC_ACTUAL_MISSING)
			continue;
		if (p->actual == (enables ? SYNC_ACTUAL_ENABLED : SYNC_ACTUAL_DISABLED))
			continue;
		if (!enables) {
			int pending = replacement_pending(s, p);
			/* another cycle once the replacement is up; a blocked one waits for a tick
			 */
			if (pending == 1)
				ss->held = true;
			if (pending)
				continue;
		}
		send_command(ss, p, enables);
	}
}

static void phase_next(struct sync_socket *ss, bool after_enables)
{
	if (after_enables) {
		run_phase(ss, false);
		if (ss->pending > 0)
			return;
	}
	cycle_done(ss);
}

/* Orphans that socket's `show` just found disabled (or absent) are done. */
static void forget_confirmed_orphans(struct sync *s, size_t socket)
{
	size_t j = 0;

	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];

		if (p->orphan && p->socket == socket &&
		    (p->actual == SYNC_ACTUAL_DISABLED || p->actual == SYNC_ACTUAL_MISSING)) {
			log_notice("BIRD %s: protocol %s is no longer configured and is %s; "
			           "forgetting it",
			           s->socks[p->socket].name, p->name,
			           p->actual == SYNC_ACTUAL_MISSING ? "not in BIRD" : "disabled");
			free(p->name);
			continue;
		}
		s->protos[j++] = *p;
	}
	s->nprotos = j;
}

static void command_done(struct bird_client *bc, const struct bird_reply *r, void *arg)
{
	struct cmd_ctx *cx = arg;
	struct sync *s = cx->s;
	struct sync_socket *ss;
	struct sync_proto *p;
	bool was_enable = cx->enable;

	(void)bc;
	if (cx->sock_generation != s->sock_generation || cx->sock >= s->nsocks) {
		/* the socket was replaced by a reload: nothing left to account for */
		free(cx->name);
		free(cx);
		return;
	}
	ss = &s->socks[cx->sock];
	p = find_proto(s, cx->name, cx->sock);
	if (r->status == BIRD_OK) {
		if (p != NULL) {
			p->actual = was_enable ? SYNC_ACTUAL_ENABLED : SYNC_ACTUAL_DISABLED;
			if (r->changed)
				log_notice("BIRD %s: %s %s (%.1f ms)", ss->name,
				           was_enable ? "enabled" : "disabled", cx->name,
				           r->latency * 1e3);
		}
		if (r->changed)
			ss->changed = true;
	} else {
		s->command_errors++;
		ss->failed = true;
		log_warnx("BIRD %s: %s %s failed: %s%s%s", ss->name,
		          was_enable ? "enable" : "disable", cx->name, bird_status_name(r->status),
		          r->text[0] ? ": " : "", r->text);
		if (r->status == BIRD_NO_SUCH_PROTOCOL && p != NULL)
			p->actual = SYNC_ACTUAL_MISSING;
	}
	free(cx->name);
	free(cx);
	if (ss->pending == 0 || --ss->pending > 0)
		return;
	/* all commands of a phase are of one kind: the last enable ends the enable phase */
	phase_next(ss, was_enable);
}

static void show_done(struct bird_client *bc, const struct bird_reply *r,
                      const struct bird_protocol *protos, size_t n, void *arg)
{
	struct sync_socket *ss = arg;
	struct sync *s = ss->s;

	(void)bc;
	if (r->status != BIRD_OK) {
		log_debug(LOG_SUB_BIRD, "BIRD %s: show protocols failed: %s %s", ss->name,
		          bird_status_name(r->status), r->text);
		ss->failed = true;
		cycle_done(ss);
		return;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];
		const struct bird_protocol *bp = NULL;
		enum sync_want w;
		bool match;

		if (p->socket != ss->idx)
			continue;
		for (size_t j = 0; j < n && bp == NULL; j++)
			if (strcmp(protos[j].name, p->name) == 0)
				bp = &protos[j];
		if (bp == NULL) {
			if (p->actual != SYNC_ACTUAL_MISSING && !p->orphan)
				log_warnx("BIRD %s has no protocol %s: add it to bird.conf "
				          "(anycast-agent --print-bird)",
				          ss->name, p->name);
			p->actual = SYNC_ACTUAL_MISSING;
			p->bird_state[0] = '\0';
			continue;
		}
		snprintf(p->bird_state, sizeof(p->bird_state), "%s", bp->state);
		/* stop/flush: BIRD is taking it down */
		p->actual =
		    bp->disabled || bp->settling ? SYNC_ACTUAL_DISABLED : SYNC_ACTUAL_ENABLED;
		w = effective_want(p);
		if (w == SYNC_KEEP)
			continue;
		match = (w == SYNC_ENABLED) == (p->actual == SYNC_ACTUAL_ENABLED);
		if (match) {
			p->confirmed = true;
		} else if (p->confirmed) {
			/* BIRD changed under us: birdc, a configure without the decision file, ...
			 */
			p->confirmed = false;
			p->corrections++;
			s->corrections++;
			log_warnx("BIRD %s drifted: protocol %s is %s but the agent decided %s; "
			          "correcting (correction #%lu)",
			          ss->name, p->name, sync_actual_name(p->actual), sync_want_name(w),
			          s->corrections);
			p->include = SYNC_INCLUDE_UNKNOWN; /* ask again: a configure may be why */
		}
	}
	ss->seen = true;
	forget_confirmed_orphans(s, ss->idx);
	run_phase(ss, true);
	if (ss->pending == 0)
		phase_next(ss, true);
}

static void cycle_done(struct sync_socket *ss)
{
	bool again = ss->again || (ss->changed && !ss->failed) || (ss->held && !ss->failed);

	ss->busy = false;
	ss->again = false;
	if (again && ss->connected) {
		/* confirm what we changed, make what was held back (or serve a request) */
		cycle_start(ss);
		return;
	}
	flush_check(ss->s);
}

static void cycle_start(struct sync_socket *ss)
{
	struct sync *s = ss->s;
	enum bird_status st;

	if (!ss->connected)
		return;
	if (ss->busy) {
		ss->again = true;
		return;
	}
	ss->busy = true;
	ss->changed = false;
	ss->held = false;
	ss->failed = false;
	ss->pending = 0;
	st = s->ops->show(ss->bird, NULL, false, show_done, ss);
	if (st != BIRD_OK)
		ss->busy = false;
}

/* ---- include check: BIRD shows the description of the file it read ----------------------- */

struct verify_ctx {
	struct sync *s;
	unsigned sock_generation;
	size_t sock;
	char *name;
};

static void verify_done(struct bird_client *bc, const struct bird_reply *r,
                        const struct bird_protocol *protos, size_t n, void *arg)
{
	struct verify_ctx *vx = arg;
	struct sync *s = vx->s;
	struct sync_proto *p = NULL;
	char want[sizeof(p->bird_description) + 64];
	enum sync_include inc;

	(void)bc;
	if (vx->sock_generation == s->sock_generation && vx->sock < s->nsocks)
		p = find_proto(s, vx->name, vx->sock);
	if (p == NULL || r->status != BIRD_OK) {
		if (p != NULL)
			p->verifying = false;
		goto out;
	}
	p->verifying = false;
	const struct bird_protocol *bp = NULL;
	for (size_t i = 0; i < n && bp == NULL; i++)
		if (strcmp(protos[i].name, p->name) == 0)
			bp = &protos[i];
	if (bp == NULL)
		goto out; /* MISSING is reported by the cycle */
	sync_decision_description(want, sizeof(want), s->conf->bird.state_dir, p->name);
	snprintf(p->bird_description, sizeof(p->bird_description), "%s", bp->description);
	inc = !bp->description[0]                  ? SYNC_INCLUDE_MISSING
	      : strcmp(bp->description, want) == 0 ? SYNC_INCLUDE_OK
	                                           : SYNC_INCLUDE_OTHER;
	if (inc != p->include && inc != SYNC_INCLUDE_OK)
		log_warnx("BIRD %s: protocol %s %s%s%s; bird.conf must include its decision file "
		          "inside the protocol block (anycast-agent --print-bird shows how), or "
		          "`birdc configure` and a BIRD restart will not keep the agent's "
		          "decision",
		          s->socks[p->socket].name, p->name,
		          inc == SYNC_INCLUDE_MISSING
		              ? "does not show the agent's description: BIRD has not read "
		                "its decision file"
		              : "shows another description: \"",
		          inc == SYNC_INCLUDE_OTHER ? bp->description : "",
		          inc == SYNC_INCLUDE_OTHER ? "\"" : "");
	else if (inc == SYNC_INCLUDE_OK && p->include != SYNC_INCLUDE_OK &&
	         p->include != SYNC_INCLUDE_UNKNOWN)
		log_notice("BIRD %s: protocol %s now includes its decision file",
		           s->socks[p->socket].name, p->name);
	p->include = inc;
out:
	free(vx->name);
	free(vx);
}

static void verify_one(struct sync *s, struct sync_proto *p)
{
	struct sync_socket *ss = &s->socks[p->socket];
	struct verify_ctx *vx;

	if (p->orphan || p->verifying || !ss->connected || p->actual == SYNC_ACTUAL_MISSING)
		return;
	vx = xcalloc(1, sizeof(*vx));
	vx->s = s;
	vx->sock_generation = s->sock_generation;
	vx->sock = p->socket;
	vx->name = xstrdup(p->name);
	p->verifying = true;
	if (s->ops->show(ss->bird, p->name, true, verify_done, vx) != BIRD_OK) {
		p->verifying = false;
		free(vx->name);
		free(vx);
	}
}

/* One protocol per socket and tick: every protocol is checked again every few seconds. */
static void verify_tick(struct sync *s)
{
	for (size_t k = 0; k < s->nsocks; k++) {
		struct sync_socket *ss = &s->socks[k];

		if (!ss->connected || s->nprotos == 0)
			continue;
		for (size_t tries = 0; tries < s->nprotos; tries++) {
			struct sync_proto *p = &s->protos[ss->verify_next++ % s->nprotos];

			if (p->socket == k && !p->orphan) {
				verify_one(s, p);
				break;
			}
		}
	}
}

/* ---- connection ------------------------------------------------------------------------- */

static void on_connected(struct bird_client *bc, const char *version, void *arg)
{
	struct sync_socket *ss = arg;
	struct sync *s = ss->s;

	(void)bc;
	ss->connected = true;
	log_notice("BIRD %s: connected (%s)", ss->name, version ? version : "?");
	cycle_start(ss);
	/* a restarted BIRD read bird.conf afresh: check every include again */
	for (size_t i = 0; i < s->nprotos; i++)
		if (s->protos[i].socket == ss->idx) {
			s->protos[i].include = SYNC_INCLUDE_UNKNOWN;
			verify_one(s, &s->protos[i]);
		}
}

static void on_disconnected(struct bird_client *bc, const char *reason, void *arg)
{
	struct sync_socket *ss = arg;
	struct sync *s = ss->s;

	(void)bc;
	ss->connected = false;
	ss->busy = false;
	ss->seen = false;
	ss->pending = 0;
	for (size_t i = 0; i < s->nprotos; i++)
		if (s->protos[i].socket == ss->idx) {
			s->protos[i].actual = SYNC_ACTUAL_UNKNOWN;
			s->protos[i].verifying = false;
		}
	log_warnx("BIRD %s: connection lost (%s); keeping the decision, reconnecting", ss->name,
	          reason ? reason : "?");
}

/* ---- setup ------------------------------------------------------------------------------- */

static struct sync_proto *add_proto(struct sync *s, const char *name, size_t socket, size_t group,
                                    enum proto_role role)
{
	struct sync_proto *p;

	s->protos = xrealloc(s->protos, (s->nprotos + 1) * sizeof(*s->protos));
	p = &s->protos[s->nprotos++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->socket = socket;
	p->group = group;
	p->role = role;
	p->file_state = -1;
	return p;
}

static void build_protos(struct sync *s)
{
	for (size_t i = 0; i < s->conf->nannouncements; i++) {
		const struct announcement_conf *a = &s->conf->announcements[i];
		for (int role = 0; role < PROTO__ROLES; role++) {
			const struct proto_list *l = conf_role_protocols(a, role);
			for (size_t k = 0; k < l->n; k++)
				add_proto(s, l->v[k].name, l->v[k].socket, i, role);
		}
	}
}

static void open_sockets(struct sync *s)
{
	static const struct bird_client_cbs cbs = {on_connected, on_disconnected};

	s->sock_generation++;
	s->nsocks = s->conf->bird.nsockets;
	s->socks = xcalloc(s->nsocks, sizeof(*s->socks));
	for (size_t i = 0; i < s->nsocks; i++) {
		struct sync_socket *ss = &s->socks[i];
		const struct bird_socket_conf *bs = &s->conf->bird.sockets[i];

		ss->s = s;
		ss->idx = i;
		ss->name = xstrdup(bs->name);
	}
	/* open after every socket is set up: a connect callback may run from open() */
	for (size_t i = 0; i < s->nsocks; i++)
		s->socks[i].bird = s->ops->open(s->ops_arg, &s->conf->bird.sockets[i],
		                                s->conf->bird.timeout, &cbs, &s->socks[i]);
}

static void close_sockets(struct sync *s)
{
	s->sock_generation++;
	for (size_t i = 0; i < s->nsocks; i++)
		s->socks[i].connected = false;
	for (size_t i = 0; i < s->nsocks; i++) {
		if (s->socks[i].bird != NULL)
			s->ops->close(s->socks[i].bird);
		free(s->socks[i].name);
	}
	free(s->socks);
	s->socks = NULL;
	s->nsocks = 0;
}

struct sync *sync_new(const struct agent_conf *conf, bool dry_run, const struct sync_bird_ops *ops,
                      void *ops_arg)
{
	struct sync *s = xcalloc(1, sizeof(*s));

	s->conf = conf;
	s->dry_run = dry_run;
	s->ops = ops;
	s->ops_arg = ops_arg;
	build_protos(s);
	s->guard = guard_new(s, ops);
	guard_reset(s->guard, conf);
	return s;
}

/* Configured, or an orphan already. */
static bool is_known(const struct sync *s, const char *name)
{
	for (size_t i = 0; i < s->nprotos; i++)
		if (strcmp(s->protos[i].name, name) == 0)
			return true;
	return false;
}

static void make_orphan(struct sync_proto *p)
{
	p->orphan = true;
	p->group = NO_GROUP;
	p->want = SYNC_DISABLED;
	p->confirmed = false;
	snprintf(p->message, sizeof(p->message), "anycast-agent: no longer configured");
}

/* Decision files of protocols the configuration no longer names: the agent wrote them, so it
 * once announced them; disable them wherever BIRD has them (the socket is not known). */
static void adopt_orphan_files(struct sync *s)
{
	DIR *d = opendir(s->conf->bird.state_dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char name[BIRD_NAME_MAX + 1], *path;
		struct stat st;
		int f;

		if (n <= 5 || n - 5 > BIRD_NAME_MAX || strcmp(de->d_name + n - 5, ".conf") != 0)
			continue;
		memcpy(name, de->d_name, n - 5);
		name[n - 5] = '\0';
		if (!bird_symbol_valid(name) || is_known(s, name))
			continue;
		path = decision_path(s->conf->bird.state_dir, name);
		f = decision_read(path, &st);
		free(path);
		if (f < 0)
			continue; /* not the agent's */
		log_notice("%s/%s.conf: protocol %s is not configured any more; disabling it "
		           "in BIRD",
		           s->conf->bird.state_dir, name, name);
		for (size_t k = 0; k < s->conf->bird.nsockets; k++) {
			struct sync_proto *p = add_proto(s, name, k, NO_GROUP, PROTO_ROLE_NORMAL);
			make_orphan(p);
			p->file_state = f;
			p->has_file_st = true;
			p->file_st = st;
			decision_update(s, p);
		}
	}
	closedir(d);
}

int sync_write_sockets_file(const struct agent_conf *conf)
{
	char *text = NULL, *path;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc;

	if (f == NULL)
		return -1;
	fputs(
	    "# Written by anycast-agent: BIRD's sockets in the configuration it last ran with.\n"
	    "# `anycast-agent --withdraw-all` reads this file when the configuration does not\n"
	    "# load, and disables every protocol with a decision file here through each socket.\n",
	    f);
	conf_print_bird(f, conf);
	fclose(f);
	xasprintf(&path, "%s/%s", conf->bird.state_dir, SYNC_SOCKETS_FILE);
	rc = atomic_write_file(path, text, len, 0644);
	if (rc < 0)
		log_warn("cannot write %s (--withdraw-all needs it when the configuration does not "
		         "load)",
		         path);
	free(path);
	free(text);
	return rc;
}

/* Read every decision file: it must exist before BIRD reads it; missing ones fail closed. */
static int prepare_decisions(struct sync *s)
{
	int rc = 0;

	if (!s->dry_run && mkdir_p(s->conf->bird.state_dir) < 0) {
		log_warn("cannot create the state directory %s", s->conf->bird.state_dir);
		return -1;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];
		char *path;
		int f;

		if (p->orphan || p->file_state >= 0)
			continue;
		path = decision_path(s->conf->bird.state_dir, p->name);
		f = decision_read(path, &p->file_st);
		free(path);
		p->has_file_st = f >= -1;
		if (f == -2) {
			if (s->dry_run)
				log_notice("dry run: would create %s/%s.conf (disabled yes;)",
				           s->conf->bird.state_dir, p->name);
			else if (decision_write(s, p, 0) < 0)
				rc = -1;
			else
				log_notice("created %s/%s.conf: disabled until its checks pass",
				           s->conf->bird.state_dir, p->name);
			continue;
		}
		if (f == -1) {
			log_warnx("%s/%s.conf is not what the agent writes; it becomes disabled "
			          "until the checks pass",
			          s->conf->bird.state_dir, p->name);
			if (!s->dry_run && decision_write(s, p, 0) < 0)
				rc = -1;
			continue;
		}
		p->file_state = f;
		/* an older file (no description) is written in today's form */
		if (!s->dry_run) {
			p->has_file_st = false;
			decision_guard(s, p);
		}
	}
	if (!s->dry_run) {
		adopt_orphan_files(s);
		sync_write_sockets_file(s->conf);
	}
	return rc;
}

int sync_start(struct sync *s)
{
	int rc = prepare_decisions(s);

	open_sockets(s);
	return rc;
}

int sync_decision(const struct sync *s, const char *name)
{
	for (size_t i = 0; i < s->nprotos; i++)
		if (!s->protos[i].orphan && strcmp(s->protos[i].name, name) == 0)
			return s->protos[i].file_state;
	return -1;
}

static void want_one(struct sync *s, struct sync_proto *p, enum sync_want want, const char *message)
{
	if (want == SYNC_DISABLED && message != NULL)
		bird_message_sanitize(p->message, sizeof(p->message), message);
	if (p->want == want)
		return;
	p->want = want;
	p->confirmed = false;
	p->dry_logged = false;
	decision_update(s, p);
	if (p->socket < s->nsocks)
		s->socks[p->socket].seen = false;
}

void sync_want(struct sync *s, const char *name, enum sync_want want, const char *message)
{
	for (size_t i = 0; i < s->nprotos; i++)
		if (!s->protos[i].orphan && strcmp(s->protos[i].name, name) == 0)
			want_one(s, &s->protos[i], want, message);
}

void sync_withdraw_all(struct sync *s, const char *message)
{
	for (size_t i = 0; i < s->nprotos; i++)
		want_one(s, &s->protos[i], SYNC_DISABLED, message);
}

void sync_kick(struct sync *s)
{
	for (size_t i = 0; i < s->nsocks; i++)
		cycle_start(&s->socks[i]);
	flush_check(s);
}

void sync_tick(struct sync *s)
{
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto *p = &s->protos[i];

		if (p->file_failed)
			decision_update(s, p);
		else
			decision_guard(s, p);
	}
	sync_kick(s);
	verify_tick(s);
}

void sync_flush(struct sync *s, void (*cb)(bool ok, void *arg), void *arg)
{
	s->flush_cb = cb;
	s->flush_arg = arg;
	sync_kick(s);
}

void sync_flush_cancel(struct sync *s)
{
	void (*cb)(bool, void *) = s->flush_cb;

	s->flush_cb = NULL;
	if (cb != NULL)
		cb(false, s->flush_arg);
}

static bool bird_conf_equal(const struct bird_conf *a, const struct bird_conf *b)
{
	if (a->nsockets != b->nsockets || a->timeout != b->timeout)
		return false;
	for (size_t i = 0; i < a->nsockets; i++)
		if (strcmp(a->sockets[i].name, b->sockets[i].name) != 0 ||
		    strcmp(a->sockets[i].path, b->sockets[i].path) != 0)
			return false;
	return true;
}

/* Where old socket o of before is in after: the socket of that name, else of that path;
 * NO_GROUP when it is gone. */
static size_t socket_now(const struct bird_conf *before, size_t o, const struct bird_conf *after)
{
	if (o >= before->nsockets)
		return NO_GROUP;
	for (size_t n = 0; n < after->nsockets; n++)
		if (strcmp(before->sockets[o].name, after->sockets[n].name) == 0)
			return n;
	for (size_t n = 0; n < after->nsockets; n++)
		if (strcmp(before->sockets[o].path, after->sockets[n].path) == 0)
			return n;
	return NO_GROUP;
}

/* A protocol configured on another BIRD than before is disabled in the BIRD it left, where
 * nothing decides for it any more. */
static void disable_where_left(struct sync *s, size_t i, size_t from)
{
	const struct sync_proto *q = &s->protos[i];

	if (find_proto(s, q->name, from) != NULL)
		return;
	log_notice("BIRD protocol %s moved to BIRD %s: disabling it in BIRD %s", q->name,
	           s->conf->bird.sockets[q->socket].name, s->conf->bird.sockets[from].name);
	make_orphan(add_proto(s, q->name, from, NO_GROUP, PROTO_ROLE_NORMAL));
}

void sync_reload(struct sync *s, const struct agent_conf *conf)
{
	struct sync_proto *old = s->protos;
	size_t nold = s->nprotos;
	const struct bird_conf *before = &s->conf->bird;
	bool same_sockets = bird_conf_equal(before, &conf->bird);
	bool same_dir = strcmp(s->conf->bird.state_dir, conf->bird.state_dir) == 0;
	bool *kept = xcalloc(nold ? nold : 1, sizeof(bool));
	size_t nconf, *moved_from;

	if (!same_sockets)
		close_sockets(s);
	s->conf = conf;
	guard_reset(s->guard, conf);
	s->protos = NULL;
	s->nprotos = 0;
	build_protos(s);
	nconf = s->nprotos;
	moved_from = xcalloc(nconf ? nconf : 1, sizeof(*moved_from));
	/* a protocol that stays keeps what the agent decided and what BIRD said */
	for (size_t i = 0; i < nconf; i++) {
		struct sync_proto *p = &s->protos[i];

		moved_from[i] = NO_GROUP;
		for (size_t j = 0; j < nold; j++) {
			if (kept[j] || strcmp(p->name, old[j].name) != 0 ||
			    (old[j].orphan && old[j].socket != p->socket))
				continue;
			char *name = p->name;
			size_t sock = p->socket, group = p->group;
			enum proto_role role = p->role;
			size_t from = old[j].orphan
			                  ? NO_GROUP
			                  : socket_now(before, old[j].socket, &conf->bird);

			kept[j] = true;
			if (from != sock)
				moved_from[i] = from;
			*p = old[j];
			p->name = name;
			p->group = group;
			p->role = role;
			if (p->orphan) {
				/* configured again: back under the engine, kept disabled till then
				 */
				p->orphan = false;
			}
			if (p->socket != sock || !same_sockets) {
				p->socket = sock;
				p->actual = SYNC_ACTUAL_UNKNOWN;
				p->include = SYNC_INCLUDE_UNKNOWN;
				p->verifying = false;
			}
			if (!same_dir) {
				p->file_state = -1;
				p->has_file_st = false;
				p->include = SYNC_INCLUDE_UNKNOWN;
			}
			break;
		}
	}
	/* what left the configuration is withdrawn before it is forgotten */
	for (size_t j = 0; j < nold; j++) {
		struct sync_proto *p;

		if (kept[j]) {
			free(old[j].name);
			continue;
		}
		if (!same_sockets || old[j].socket >= conf->bird.nsockets) {
			/* its socket may be gone: it is disabled wherever BIRD has it */
			log_warnx("BIRD protocol %s left the configuration with a change of BIRD "
			          "sockets; disabling it on every socket",
			          old[j].name);
			for (size_t k = 0; k < conf->bird.nsockets; k++) {
				if (find_proto(s, old[j].name, k) != NULL)
					continue;
				p = add_proto(s, old[j].name, k, NO_GROUP, PROTO_ROLE_NORMAL);
				make_orphan(p);
				p->file_state = same_dir ? old[j].file_state : -1;
				decision_update(s, p);
			}
			free(old[j].name);
			continue;
		}
		if (!old[j].orphan)
			log_notice("BIRD protocol %s left the configuration: disabling it",
			           old[j].name);
		s->protos = xrealloc(s->protos, (s->nprotos + 1) * sizeof(*s->protos));
		p = &s->protos[s->nprotos++];
		*p = old[j];
		make_orphan(p);
		if (!same_dir) {
			p->file_state = -1;
			p->has_file_st = false;
		}
		decision_update(s, p);
	}
	for (size_t i = 0; i < nconf; i++)
		if (moved_from[i] != NO_GROUP)
			disable_where_left(s, i, moved_from[i]);
	free(moved_from);
	free(kept);
	free(old);
	prepare_decisions(s);
	if (!same_sockets)
		open_sockets(s);
	sync_kick(s);
}

void sync_status(const struct sync *s, struct sync_status *st)
{
	memset(st, 0, sizeof(*st));
	st->sockets = s->nsocks;
	st->in_sync = true;
	for (size_t i = 0; i < s->nsocks; i++) {
		if (s->socks[i].connected)
			st->sockets_connected++;
		else
			st->in_sync = false;
	}
	for (size_t i = 0; i < s->nprotos; i++) {
		struct sync_proto_status ps = {0};
		sync_proto_status(s, i, &ps);
		if (!ps.in_sync)
			st->in_sync = false;
		if (ps.include == SYNC_INCLUDE_MISSING || ps.include == SYNC_INCLUDE_OTHER)
			st->include_problems++;
	}
	st->corrections = s->corrections;
	st->command_errors = s->command_errors;
	st->file_errors = s->file_errors;
	st->files_restored = s->files_restored;
}

size_t sync_nprotos(const struct sync *s)
{
	return s->nprotos;
}

bool sync_proto_status(const struct sync *s, size_t i, struct sync_proto_status *st)
{
	const struct sync_proto *p;
	enum sync_want w;

	if (i >= s->nprotos)
		return false;
	p = &s->protos[i];
	w = effective_want(p);
	st->name = p->name;
	st->socket =
	    p->socket < s->conf->bird.nsockets ? s->conf->bird.sockets[p->socket].name : "?";
	st->want = w;
	st->actual = p->actual;
	st->bird_state = p->bird_state;
	st->orphan = p->orphan;
	st->corrections = p->corrections;
	st->file_ok = !p->file_failed;
	st->file_state = p->file_state;
	st->include = p->include;
	st->bird_description = p->bird_description;
	switch (w) {
	case SYNC_KEEP:
		st->in_sync = true;
		break;
	case SYNC_ENABLED:
		st->in_sync = p->actual == SYNC_ACTUAL_ENABLED;
		break;
	case SYNC_DISABLED:
		/* a protocol BIRD does not have announces nothing */
		st->in_sync = p->actual == SYNC_ACTUAL_DISABLED || p->actual == SYNC_ACTUAL_MISSING;
		break;
	}
	if (s->dry_run)
		st->in_sync = true;
	return true;
}

void *sync_bird(const struct sync *s, size_t socket)
{
	return socket < s->nsocks ? s->socks[socket].bird : NULL;
}

size_t sync_nsockets(const struct sync *s)
{
	return s->nsocks;
}

void sync_set_paths_cb(struct sync *s, sync_paths_fn fn, void *arg)
{
	guard_set_cb(s->guard, fn, arg);
}

void sync_guard_poll(struct sync *s)
{
	guard_poll(s->guard);
}

bool sync_connected(const struct sync *s, size_t socket)
{
	return socket < s->nsocks && s->socks[socket].connected;
}

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	guard_set_cb(s->guard, NULL, NULL);
	s->flush_cb = NULL;
	close_sockets(s);
	guard_free(s->guard);
	for (size_t i = 0; i < s->nprotos; i++)
		free(s->protos[i].name);
	free(s->protos);
	free(s);
}

/* ---- bird.c's client as sync_bird_ops ------------------------------------------------------ */

static void *client_open(void *ops_arg, const struct bird_socket_conf *sc, double timeout,
                         const struct bird_client_cbs *cbs, void *cb_arg)
{
	return bird_client_new(ops_arg, sc->name, sc->path, timeout, cbs, cb_arg);
}

static void client_close(void *bird)
{
	bird_client_free(bird);
}

static enum bird_status client_enable(void *bird, const char *proto, bird_done_cb cb, void *arg)
{
	return bird_enable(bird, proto, NULL, cb, arg);
}

static enum bird_status client_disable(void *bird, const char *proto, const char *message,
                                       bird_done_cb cb, void *arg)
{
	return bird_disable(bird, proto, message, cb, arg);
}

static enum bird_status client_show(void *bird, const char *name, bool all, bird_show_cb cb,
                                    void *arg)
{
	return bird_show_protocols(bird, name, all, cb, arg);
}

static enum bird_status client_show_route(void *bird, const char *prefix, bird_route_cb cb,
                                          void *arg)
{
	return bird_show_route_for(bird, prefix, cb, arg);
}

const struct sync_bird_ops sync_bird_client_ops = {
    client_open, client_close, client_enable, client_disable, client_show, client_show_route,
};
