/*
 * The master's origin service (oserve.h).  An ask names its origin's
 * rule, the path below the prefix and the client; it becomes a cache
 * key, and then one of: a fresh hit, answered at once; a stale hit,
 * answered at once while one conditional GET revalidates it; a miss
 * (or an expired per-client file), which waits on the one fetch of its
 * key (a flight), however many asks join it.  Every waiting ask has its
 * own deadline, origin_timeout_ms; a flight lives at most
 * OSERVE_FLIGHT_TIMEOUTS times that, so a drip-feeding origin cannot
 * hold a download open for ever.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>

#include "chan.h"
#include "compat.h"
#include "conf.h"
#include "log.h"
#include "ocache.h"
#include "ofetch.h"
#include "origin.h"
#include "oserve.h"
#include "pkt.h"
#include "timer.h"
#include "xmalloc.h"

#define OSERVE_FLIGHT_TIMEOUTS	6	/* a fetch's life, in timeouts */
#define OSERVE_KEY_MAX		(FS_PATH_MAX + 96)
#define OSERVE_URL_MAX		(ORIGIN_URL_MAX + 3 * FS_PATH_MAX + 1)
#define OSERVE_ORIGINS_SEEN	64	/* origins whose health is kept */
#define OSERVE_RETRY_AFTER_S	1	/* a failed revalidation: the next
					   one not sooner */

struct oflight;

/* An ask waiting for a flight. */
struct owaiter {
	struct owaiter		*next;
	struct oserve		*o;
	struct oflight		*flight;
	pid_t			 pid;
	uint64_t		 id;
	struct sockaddr_storage	 peer;
	struct event		*timeout_ev;
};

/* The one fetch of a key. */
struct oflight {
	struct oflight		*next;
	struct oserve		*o;
	char			 key[OSERVE_KEY_MAX];
	char			 name[FS_PATH_MAX + 1];
	char			 url[OSERVE_URL_MAX];
	char			 origin[ORIGIN_URL_MAX];	/* the rule's */
	int			 dynamic;
	int			 ttl;
	struct ocache_entry	*entry;		/* revalidating it (busy) */
	struct ofetch		*fetch;
	int			 fd;
	char			 tmp[PATH_MAX];
	uint64_t		 started_us;
	struct event		*deadline_ev;
	struct owaiter		*waiters;
};

/* An origin that failed: said once, until it answers again. */
struct origin_health {
	char		 url[ORIGIN_URL_MAX];
	int		 down;
};

struct oserve {
	struct event_base	*base;
	struct evdns_base	*dns;
	struct ocache		*cache;
	uint64_t		 max_bytes;
	int			 ttl;
	unsigned		 timeout_ms;
	oserve_reply_fn		*reply;
	void			*reply_arg;
	struct oflight		*flights;
	struct origin_health	 health[OSERVE_ORIGINS_SEEN];
	size_t			 nhealth;
	struct oserve_counters	 n;
};

/* FNV-1a, 64 bits: an origin's directory in the cache. */
static uint64_t
hash64(const char *s, const char *salt)
{
	uint64_t	 h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	for (; *salt != '\0'; salt++) {
		h ^= (unsigned char)*salt;
		h *= 1099511628211ULL;
	}
	return h;
}

/* url + rest, every byte but unreserved ones and '/' percent-encoded. */
static int
make_url(const char *base, const char *rest, char *out, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = strlcpy(out, base, len);
	unsigned char		 ch;

	for (; *rest != '\0' && n + 4 < len; rest++) {
		ch = (unsigned char)*rest;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~/", ch) != NULL)
			out[n++] = (char)ch;
		else {
			out[n++] = '%';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		}
	}
	out[n < len ? n : len - 1] = '\0';
	return *rest == '\0' && n < len ? 0 : -1;
}

/* The cache key of an ask: HASH/rest, or HASH/CLIENT/rest per client. */
static int
make_key(const struct chan_origin *m, char *out, size_t len)
{
	int	 n;

	if (m->rule.dynamic)
		n = snprintf(out, len, "%016llx/%s/%s", (unsigned long long)
		    hash64(m->rule.url, "#dynamic"), m->client, m->rest);
	else
		n = snprintf(out, len, "%016llx/%s", (unsigned long long)
		    hash64(m->rule.url, ""), m->rest);
	return n > 0 && (size_t)n < len && origin_path_ok(out) == 0 ? 0 : -1;
}

/* An answer: the file at key (key not NULL), or ERROR code with msg. */
static void
answer(struct oserve *o, pid_t pid, uint64_t id,
    const struct sockaddr_storage *peer, uint16_t code, const char *key,
    const char *msg)
{
	struct chan_origin_done	 d;

	memset(&d, 0, sizeof d);
	d.id = id;
	d.peer = *peer;
	if (key != NULL) {
		d.ok = 1;
		(void)snprintf(d.path, sizeof d.path, "data/%s", key);
	} else
		d.code = code;
	if (msg != NULL)
		(void)strlcpy(d.msg, msg, sizeof d.msg);
	o->reply(o->reply_arg, pid, &d);
}

/* The ERROR a client gets for a fetch that failed. */
static uint16_t
error_for(const struct ofetch_result *r, char *msg, size_t len)
{
	msg[0] = '\0';
	switch (r->err) {
	case OFETCH_E_HTTP:
		if (r->status == 404 || r->status == 410)
			return TFTP_E_NOTFOUND;
		if (r->status == 401 || r->status == 403)
			return TFTP_E_ACCESS;
		(void)snprintf(msg, len, "origin: HTTP %d", r->status);
		return TFTP_E_UNDEF;
	case OFETCH_E_DISK_FULL:
		(void)strlcpy(msg, "cache: disk full", len);
		return TFTP_E_UNDEF;
	case OFETCH_E_WRITE:
		(void)strlcpy(msg, "cache: cannot store the file", len);
		return TFTP_E_UNDEF;
	case OFETCH_E_TLS:
		(void)snprintf(msg, len, "origin: TLS: %s", r->why[0] != '\0' ?
		    r->why : "handshake failed");
		return TFTP_E_UNDEF;
	default:
		(void)snprintf(msg, len, "origin: %s", ofetch_err_str(r->err));
		return TFTP_E_UNDEF;
	}
}

/* Say once that an origin is failing, and once that it is back. */
static void
health(struct oserve *o, const char *origin, int ok, const char *why)
{
	struct origin_health	*h = NULL;
	size_t			 i;

	for (i = 0; i < o->nhealth; i++)
		if (strcmp(o->health[i].url, origin) == 0)
			h = &o->health[i];
	if (h == NULL && !ok && o->nhealth < OSERVE_ORIGINS_SEEN) {
		h = &o->health[o->nhealth++];
		(void)strlcpy(h->url, origin, sizeof h->url);
	}
	if (h == NULL || h->down == !ok)
		return;
	h->down = !ok;
	if (!ok)
		log_warnx("origin %s: %s; cached copies are served until it "
		    "answers", origin, why);
	else
		log_at(LOG_NOTICE, "origin %s: answering again", origin);
}

static void
waiter_free(struct owaiter *w)
{
	if (w->timeout_ev != NULL)
		event_free(w->timeout_ev);
	free(w);
}

static void
flight_free(struct oserve *o, struct oflight *f)
{
	struct oflight	**pp;

	for (pp = &o->flights; *pp != NULL; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	ofetch_cancel(f->fetch);
	if (f->fd != -1)
		(void)close(f->fd);
	if (f->tmp[0] != '\0')
		(void)unlink(f->tmp);
	if (f->entry != NULL)
		f->entry->busy = 0;
	if (f->deadline_ev != NULL)
		event_free(f->deadline_ev);
	free(f);
}

/* Answer every waiter of f the same. */
static void
answer_all(struct oflight *f, uint16_t code, const char *key,
    const char *msg)
{
	struct owaiter	*w;

	while ((w = f->waiters) != NULL) {
		f->waiters = w->next;
		answer(f->o, w->pid, w->id, &w->peer, code, key, msg);
		waiter_free(w);
	}
}

/* A fetch ended: store it, or keep what there was, and answer. */
static void
flight_done(const struct ofetch_result *r, void *arg)
{
	struct oflight		*f = arg;
	struct oserve		*o = f->o;
	struct ocache_entry	*e;
	char			 msg[CHAN_ORIGIN_MSG_MAX], *cause = NULL;
	uint64_t		 ms = (timer_now_us() - f->started_us) / 1000;
	uint16_t		 code;

	f->fetch = NULL;	/* it frees itself */
	if (r->err == OFETCH_OK) {
		(void)close(f->fd);
		f->fd = -1;
		if (f->entry != NULL)
			f->entry->busy = 0;
		f->entry = NULL;
		e = ocache_commit(o->cache, f->tmp, f->key, f->name, f->url, r,
		    &cause);
		f->tmp[0] = '\0';	/* renamed, or removed */
		health(o, f->origin, 1, NULL);
		if (e == NULL) {
			log_warnx("origin cache: %s", cause);
			free(cause);
			o->n.origin_errors++;
			answer_all(f, TFTP_E_UNDEF, NULL,
			    "cache: cannot store the file");
		} else {
			e->ttl = f->ttl;
			o->n.origin_fetches++;
			o->n.origin_bytes += r->bytes;
			log_info("origin: GET %s: %d, %llu bytes in %llu ms",
			    f->url, r->status, (unsigned long long)r->bytes,
			    (unsigned long long)ms);
			answer_all(f, 0, f->key, NULL);
		}
	} else if (r->err == OFETCH_NOT_MODIFIED && f->entry != NULL) {
		ocache_revalidated(o->cache, f->entry);
		o->n.origin_not_modified++;
		health(o, f->origin, 1, NULL);
		log_debug("origin: GET %s: 304 in %llu ms", f->url,
		    (unsigned long long)ms);
		answer_all(f, 0, f->key, NULL);
	} else {
		code = error_for(r, msg, sizeof msg);
		o->n.origin_errors++;
		/* A missing file is the origin's answer, not its failure;
		 * a failing origin is said once, by health(). */
		if (r->err == OFETCH_E_HTTP)
			log_info("origin: GET %s: HTTP %d after %llu ms", f->url,
			    r->status, (unsigned long long)ms);
		else {
			log_debug("origin: GET %s: %s after %llu ms", f->url,
			    ofetch_err_str(r->err), (unsigned long long)ms);
			health(o, f->origin, 0, ofetch_err_str(r->err));
		}
		if (f->entry != NULL && !f->dynamic) {
			f->entry->retry_at = time(NULL) +
			    OSERVE_RETRY_AFTER_S;
			answer_all(f, 0, f->key, NULL);	/* stale */
		} else
			answer_all(f, code, NULL, msg[0] != '\0' ? msg : NULL);
	}
	flight_free(o, f);
}

/* A flight outlived its bound: give up on the origin. */
static void
flight_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct oflight		*f = arg;
	struct ofetch_result	 r;

	(void)fd;
	(void)ev;
	memset(&r, 0, sizeof r);
	r.err = OFETCH_E_TIMEOUT;
	ofetch_cancel(f->fetch);
	f->fetch = NULL;
	flight_done(&r, f);
}

/* A waiter's own bound: the client hears "timed out", the fetch goes on. */
static void
waiter_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct owaiter	*w = arg, **pp;
	struct oflight	*f = w->flight;

	(void)fd;
	(void)ev;
	for (pp = &f->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	answer(f->o, w->pid, w->id, &w->peer, TFTP_E_UNDEF, NULL,
	    "origin: timed out");
	waiter_free(w);
}

static struct oflight *
flight_find(struct oserve *o, const char *key)
{
	struct oflight	*f;

	for (f = o->flights; f != NULL; f = f->next)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static struct timeval
ms_tv(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

/* Start the one fetch of m's key; e: the stale entry to revalidate. */
static struct oflight *
flight_start(struct oserve *o, const struct chan_origin *m, const char *key,
    const char *url, int ttl, struct ocache_entry *e, char *msg, size_t len)
{
	struct oflight		*f = xcalloc(1, sizeof *f);
	struct ofetch_req	 rq;
	struct timeval		 tv;

	f->o = o;
	f->fd = -1;
	(void)strlcpy(f->key, key, sizeof f->key);
	(void)strlcpy(f->name, m->file, sizeof f->name);
	(void)strlcpy(f->url, url, sizeof f->url);
	(void)strlcpy(f->origin, m->rule.url, sizeof f->origin);
	f->dynamic = m->rule.dynamic;
	f->ttl = ttl;
	f->started_us = timer_now_us();
	f->next = o->flights;
	o->flights = f;
	if ((f->fd = ocache_tmp(o->cache, f->tmp)) == -1) {
		f->tmp[0] = '\0';
		(void)snprintf(msg, len, "cache: %s", errno == ENOSPC ?
		    "disk full" : strerror(errno));
		flight_free(o, f);
		return NULL;
	}
	memset(&rq, 0, sizeof rq);
	rq.url = url;
	if (e != NULL && !m->rule.dynamic) {
		f->entry = e;
		e->busy = 1;
		rq.etag = e->etag;
		rq.last_modified = e->last_modified;
	}
	if (m->rule.dynamic) {
		rq.client = m->client;
		rq.file = m->file;
	}
	rq.max_bytes = m->rule.max_bytes;
	if (rq.max_bytes == 0 || rq.max_bytes > o->max_bytes)
		rq.max_bytes = o->max_bytes;
	rq.timeout_ms = o->timeout_ms;
	rq.fd = f->fd;
	/* The rule came from a worker: an unterminated ca_file is none
	 * (the system's CAs, still checked). */
	if (memchr(m->rule.ca_file, '\0', sizeof m->rule.ca_file) != NULL)
		rq.ca_file = m->rule.ca_file;
	rq.tls_insecure = !m->rule.tls_verify;
	tv = ms_tv((uint64_t)o->timeout_ms * OSERVE_FLIGHT_TIMEOUTS);
	if ((f->deadline_ev = evtimer_new(o->base, flight_deadline_cb,
	    f)) == NULL || evtimer_add(f->deadline_ev, &tv) == -1 ||
	    (f->fetch = ofetch_start(o->base, o->dns, &rq, flight_done,
	    f)) == NULL) {
		(void)strlcpy(msg, "origin: out of memory", len);
		flight_free(o, f);
		return NULL;
	}
	return f;
}

static void
wait_for(struct oserve *o, struct oflight *f, pid_t pid,
    const struct chan_origin *m)
{
	struct owaiter	*w = xcalloc(1, sizeof *w);
	struct timeval	 tv = ms_tv(o->timeout_ms);

	w->o = o;
	w->flight = f;
	w->pid = pid;
	w->id = m->id;
	w->peer = m->peer;
	w->next = f->waiters;
	f->waiters = w;
	if ((w->timeout_ev = evtimer_new(o->base, waiter_timeout_cb,
	    w)) != NULL)
		(void)evtimer_add(w->timeout_ev, &tv);
}

void
oserve_ask(struct oserve *o, pid_t pid, const struct chan_origin *m)
{
	struct ocache_entry	*e;
	struct oflight		*f;
	char			 key[OSERVE_KEY_MAX], url[OSERVE_URL_MAX];
	char			 msg[CHAN_ORIGIN_MSG_MAX];
	int			 ttl, fresh;

	if (make_key(m, key, sizeof key) == -1 ||
	    make_url(m->rule.url, m->rest, url, sizeof url) == -1) {
		answer(o, pid, m->id, &m->peer, TFTP_E_ACCESS, NULL,
		    "origin: name too long");
		return;
	}
	ttl = m->rule.ttl >= 0 ? m->rule.ttl : o->ttl;
	e = ocache_get(o->cache, key);
	fresh = e != NULL && time(NULL) - e->validated < (time_t)ttl;
	f = flight_find(o, key);
	if (e != NULL && (fresh || !m->rule.dynamic)) {
		e->ttl = ttl;
		o->n.cache_hits++;
		if (!fresh) {
			o->n.origin_stale_served++;
			if (f == NULL && time(NULL) >= e->retry_at)
				(void)flight_start(o, m, key, url, ttl, e, msg,
				    sizeof msg);
		}
		answer(o, pid, m->id, &m->peer, 0, key, NULL);
		return;
	}
	o->n.cache_misses++;
	if (f == NULL && (f = flight_start(o, m, key, url, ttl, e, msg,
	    sizeof msg)) == NULL) {
		o->n.origin_errors++;
		answer(o, pid, m->id, &m->peer, TFTP_E_UNDEF, NULL, msg);
		return;
	}
	wait_for(o, f, pid, m);
}

struct oserve *
oserve_new(struct event_base *base, const struct conf *conf,
    oserve_reply_fn *reply, void *arg, char **cause)
{
	struct oserve	*o = xcalloc(1, sizeof *o);

	o->base = base;
	o->reply = reply;
	o->reply_arg = arg;
	if ((o->cache = ocache_open(conf->cache_dir,
	    (uint64_t)conf->cache_max_bytes, cause)) == NULL) {
		free(o);
		return NULL;
	}
	/* Host names resolve without blocking; numeric ones need no DNS. */
	o->dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
	oserve_configure(o, conf);
	return o;
}

void
oserve_free(struct oserve *o)
{
	struct oflight	*f;

	if (o == NULL)
		return;
	while ((f = o->flights) != NULL) {
		struct owaiter	*w;

		while ((w = f->waiters) != NULL) {
			f->waiters = w->next;
			waiter_free(w);
		}
		flight_free(o, f);
	}
	if (o->dns != NULL)
		evdns_base_free(o->dns, 0);
	ocache_free(o->cache);
	free(o);
}

int
oserve_check(const struct oserve *o, const struct conf *conf, char **cause)
{
	if (strcmp(ocache_dir(o->cache), conf->cache_dir) == 0)
		return 0;
	xasprintf(cause, "cache_dir cannot change on reload (it is %s); "
	    "restart to move the cache", ocache_dir(o->cache));
	return -1;
}

void
oserve_configure(struct oserve *o, const struct conf *conf)
{
	o->ttl = conf->cache_ttl;
	o->timeout_ms = conf->xfer.origin_timeout_ms;
	o->max_bytes = (uint64_t)conf->cache_max_bytes;
	ocache_set_max(o->cache, o->max_bytes);
}

void
oserve_counters(const struct oserve *o, struct oserve_counters *n)
{
	struct ocache_counters	 c;

	*n = o->n;
	ocache_counters(o->cache, &c);
	n->cache_evictions = c.evictions;
	n->cache_bytes = c.bytes;
	n->cache_files = c.files;
}

struct each_ctx {
	const struct oserve	*o;
	void			(*fn)(const struct oserve_file *, void *);
	void			*arg;
	time_t			 now;
};

static void
each_entry(const struct ocache_entry *e, void *arg)
{
	struct each_ctx		*c = arg;
	struct oserve_file	 f;
	int			 ttl = e->ttl >= 0 ? e->ttl : c->o->ttl;

	f.name = e->name;
	f.url = e->url;
	f.size = e->size;
	f.age_s = c->now > e->validated ? (uint64_t)(c->now - e->validated) :
	    0;
	f.fresh = f.age_s < (uint64_t)ttl;
	c->fn(&f, c->arg);
}

void
oserve_each(struct oserve *o, void (*fn)(const struct oserve_file *, void *),
    void *arg)
{
	struct each_ctx	 c = { o, fn, arg, time(NULL) };

	ocache_each(o->cache, each_entry, &c);
}

size_t
oserve_purge(struct oserve *o, const char *name)
{
	return ocache_purge(o->cache, name);
}
