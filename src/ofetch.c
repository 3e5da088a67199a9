/*
 * One HTTP GET of an origin's file (ofetch.h) with libevent's evhttp
 * client.  The body is written to the caller's descriptor as it arrives
 * (a kernel image need not fit in memory); the completion is deferred
 * to a fresh turn of the loop, where the connection is freed (never
 * inside evhttp's own callbacks) and a redirect is followed.  https://
 * runs over otls.c's bufferevents.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "compat.h"
#include "ofetch.h"
#include "otls.h"
#include "xmalloc.h"

#define OFETCH_URL_MAX		4096
#define OFETCH_IOV		16	/* body segments written at once */

struct ofetch {
	struct event_base		*base;
	struct evdns_base		*dns;
	struct evhttp_connection	*conn;
	struct evhttp_request		*req;	/* NULL once evhttp is done
						   with it */
	struct event			*fin_ev;
	char				 url[OFETCH_URL_MAX];
	char				*etag, *last_modified, *client, *file;
	char				*ca_file;	/* "": the system's */
	int				 tls_insecure;
	int				 tls;	/* this connection's */
	uint64_t			 max_bytes;
	unsigned			 timeout_ms;
	int				 fd;
	int				 redirects;
	char				 location[OFETCH_URL_MAX];	/* to
						   follow; "" none */
	int64_t				 clen;	/* Content-Length; -1 none */
	int				 decided;	/* res.err is final */
	struct ofetch_result		 res;
	ofetch_done_fn			*done;
	void				*arg;
};

static int	 request(struct ofetch *);

const char *
ofetch_err_str(enum ofetch_err e)
{
	switch (e) {
	case OFETCH_OK:			return "ok";
	case OFETCH_NOT_MODIFIED:	return "not modified";
	case OFETCH_E_HTTP:		return "HTTP error";
	case OFETCH_E_UNREACHABLE:	return "unreachable";
	case OFETCH_E_TIMEOUT:		return "timed out";
	case OFETCH_E_SHORT:		return "body shorter than "
					    "Content-Length";
	case OFETCH_E_LONG:		return "body longer than "
					    "Content-Length";
	case OFETCH_E_REDIRECTS:	return "too many redirects";
	case OFETCH_E_TOO_LARGE:	return "file too large";
	case OFETCH_E_DISK_FULL:	return "disk full";
	case OFETCH_E_WRITE:		return "cannot write the cache";
	case OFETCH_E_BAD_URL:		return "bad URL";
	case OFETCH_E_TLS:		return "TLS error";
	}
	return "?";
}

/* Set the outcome once: the first cause wins over what it causes. */
static void
decide(struct ofetch *f, enum ofetch_err e)
{
	if (f->decided)
		return;
	f->decided = 1;
	f->res.err = e;
}

/* Finish on a fresh turn of the loop. */
static void
finish_soon(struct ofetch *f)
{
	event_active(f->fin_ev, EV_TIMEOUT, 0);
}

static int
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	    status == 307 || status == 308;
}

static void
keep_header(struct evkeyvalq *h, const char *name, char *out, size_t len)
{
	const char	*v = evhttp_find_header(h, name);

	out[0] = '\0';
	if (v != NULL && strlen(v) < len)
		(void)strlcpy(out, v, len);
}

/*
 * Did this connection fail in TLS?  Then res.why says why (otls.h); a
 * refused or reset connection is "unreachable", as over plain HTTP.
 */
static int
tls_failed(struct ofetch *f)
{
	if (!f->tls || f->conn == NULL)
		return 0;
	return otls_failed(evhttp_connection_get_bufferevent(f->conn),
	    f->res.why, sizeof f->res.why);
}

/* The answer's head: what it is, and whether its body is wanted. */
static int
on_header(struct evhttp_request *req, void *arg)
{
	struct ofetch		*f = arg;
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	const char		*v;
	char			*end;

	f->res.status = evhttp_request_get_response_code(req);
	f->clen = -1;
	if ((v = evhttp_find_header(h, "Content-Length")) != NULL) {
		errno = 0;
		f->clen = (int64_t)strtoll(v, &end, 10);
		if (errno != 0 || *end != '\0' || f->clen < 0)
			f->clen = -1;
	}
	if (is_redirect(f->res.status)) {
		keep_header(h, "Location", f->location, sizeof f->location);
		return 0;
	}
	if (f->res.status == 304 || f->res.status != 200)
		return 0;	/* the body, if any, is read and dropped */
	if (f->max_bytes != 0 && f->clen > (int64_t)f->max_bytes) {
		decide(f, OFETCH_E_TOO_LARGE);
		return -1;
	}
	keep_header(h, "ETag", f->res.etag, sizeof f->res.etag);
	keep_header(h, "Last-Modified", f->res.last_modified,
	    sizeof f->res.last_modified);
	return 0;
}

/* Write what the buffer holds to fd; -1 with errno. */
static int
write_buffer(struct ofetch *f, struct evbuffer *b)
{
	struct evbuffer_iovec	 v[OFETCH_IOV];
	size_t			 len, off;
	ssize_t			 n;
	int			 i, k;

	while ((len = evbuffer_get_length(b)) > 0) {
		k = evbuffer_peek(b, -1, NULL, v, OFETCH_IOV);
		if (k > OFETCH_IOV)
			k = OFETCH_IOV;
		for (i = 0, len = 0; i < k; i++) {
			for (off = 0; off < v[i].iov_len; off += (size_t)n) {
				n = pwrite(f->fd, (char *)v[i].iov_base + off,
				    v[i].iov_len - off,
				    (off_t)(f->res.bytes + len + off));
				if (n == -1 && errno == EINTR)
					n = 0;
				else if (n <= 0)
					return -1;
			}
			len += v[i].iov_len;
		}
		f->res.bytes += len;
		(void)evbuffer_drain(b, len);
	}
	return 0;
}

/*
 * Bytes received on the connection and not yet read as this answer:
 * past a complete body, more than Content-Length.  Seen here, as the
 * last of the body is read: evhttp drops them before it completes a
 * request whose connection closes.
 */
static size_t
unread(struct ofetch *f)
{
	struct bufferevent	*bev = evhttp_connection_get_bufferevent(f->conn);

	return bev != NULL ? evbuffer_get_length(bufferevent_get_input(bev)) :
	    0;
}

static void
on_chunk(struct evhttp_request *req, void *arg)
{
	struct ofetch	*f = arg;
	struct evbuffer	*b = evhttp_request_get_input_buffer(req);

	if (f->res.status != 200) {
		(void)evbuffer_drain(b, evbuffer_get_length(b));
		return;
	}
	if (f->max_bytes != 0 &&
	    f->res.bytes + evbuffer_get_length(b) > f->max_bytes)
		decide(f, OFETCH_E_TOO_LARGE);
	else if (write_buffer(f, b) == -1)
		decide(f, errno == ENOSPC || errno == EDQUOT ?
		    OFETCH_E_DISK_FULL : OFETCH_E_WRITE);
	else if (f->clen >= 0 && (uint64_t)f->clen == f->res.bytes &&
	    unread(f) > 0)
		decide(f, OFETCH_E_LONG);
	if (!f->decided)
		return;
	/* Allowed from here (http.h); the completion is not called. */
	f->req = NULL;
	evhttp_cancel_request(req);
	finish_soon(f);
}

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct ofetch	*f = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		decide(f, OFETCH_E_TIMEOUT);
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		decide(f, OFETCH_E_TOO_LARGE);
		break;
	default:
		/* Closed: by TLS; before the head, the origin is not
		 * answering; within a body of announced length, it was cut
		 * short. */
		if (tls_failed(f))
			decide(f, OFETCH_E_TLS);
		decide(f, f->res.status == 200 && f->clen >= 0 ?
		    OFETCH_E_SHORT : OFETCH_E_UNREACHABLE);
		break;
	}
}

/*
 * The answer is complete (or failed: req NULL).  A body longer than its
 * Content-Length shows as bytes left unread on the connection.
 */
static void
on_complete(struct evhttp_request *req, void *arg)
{
	struct ofetch		*f = arg;

	f->req = NULL;
	if (req == NULL || evhttp_request_get_response_code(req) == 0) {
		if (tls_failed(f))
			decide(f, OFETCH_E_TLS);
		decide(f, OFETCH_E_UNREACHABLE);
		finish_soon(f);
		return;
	}
	f->res.status = evhttp_request_get_response_code(req);
	if (f->res.status == 200 &&
	    write_buffer(f, evhttp_request_get_input_buffer(req)) == -1)
		decide(f, errno == ENOSPC || errno == EDQUOT ?
		    OFETCH_E_DISK_FULL : OFETCH_E_WRITE);
	if (f->res.status == 200 && unread(f) > 0)
		decide(f, OFETCH_E_LONG);
	else if (f->res.status == 200 && f->clen >= 0 &&
	    (uint64_t)f->clen != f->res.bytes)
		decide(f, OFETCH_E_SHORT);
	else if (f->res.status == 200)
		decide(f, OFETCH_OK);
	else if (f->res.status == 304)
		decide(f, OFETCH_NOT_MODIFIED);
	else if (!is_redirect(f->res.status))
		decide(f, OFETCH_E_HTTP);
	else if (++f->redirects > OFETCH_REDIRECTS_MAX)
		decide(f, OFETCH_E_REDIRECTS);
	else if (f->location[0] == '\0')
		decide(f, OFETCH_E_HTTP);
	finish_soon(f);
}

/* Where a Location sends us: absolute, or a path on the same origin. */
static int
follow(struct ofetch *f)
{
	char	 next[OFETCH_URL_MAX];
	char	*p;

	if (strncmp(f->location, "http://", 7) == 0 ||
	    strncmp(f->location, "https://", 8) == 0)
		(void)strlcpy(next, f->location, sizeof next);
	else if (f->location[0] == '/' && f->location[1] != '/') {
		/* Same scheme, host and port. */
		if ((p = strstr(f->url, "://")) != NULL &&
		    (p = strchr(p + 3, '/')) != NULL)
			*p = '\0';
		if ((size_t)snprintf(next, sizeof next, "%s%s", f->url,
		    f->location) >= sizeof next)
			return -1;
	} else
		return -1;
	(void)strlcpy(f->url, next, sizeof f->url);
	f->location[0] = '\0';
	f->res.bytes = 0;
	f->res.status = 0;
	f->res.etag[0] = f->res.last_modified[0] = f->res.why[0] = '\0';
	if (ftruncate(f->fd, 0) == -1)
		return -1;
	return request(f);
}

static void
fin_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ofetch	*f = arg;

	(void)fd;
	(void)ev;
	if (f->conn != NULL)
		evhttp_connection_free(f->conn);
	f->conn = NULL;
	if (!f->decided && follow(f) == 0)
		return;
	if (!f->decided)
		decide(f, OFETCH_E_BAD_URL);
	f->done(&f->res, f->arg);
	ofetch_cancel(f);
}

/* What a URL names: where to connect, and what to ask for. */
struct target {
	char	 host[256];		/* bare: "::1", not "[::1]" */
	char	 hosthdr[300];		/* the Host header */
	char	 path[OFETCH_URL_MAX];	/* with its query */
	int	 port;
	int	 tls;
};

/* Split url into t; -1 if it is not one this build can fetch. */
static int
url_split(const char *url, struct target *t)
{
	struct evhttp_uri	*u;
	const char		*scheme, *host, *path, *query;

	if ((u = evhttp_uri_parse(url)) == NULL)
		return -1;
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	t->tls = scheme != NULL && strcmp(scheme, "https") == 0;
	if (scheme == NULL || (strcmp(scheme, "http") != 0 && !t->tls) ||
	    host == NULL || *host == '\0' ||
	    strlcpy(t->host, host, sizeof t->host) >= sizeof t->host) {
		evhttp_uri_free(u);
		return -1;
	}
	t->port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) :
	    t->tls ? 443 : 80;
	path = evhttp_uri_get_path(u);
	query = evhttp_uri_get_query(u);
	(void)snprintf(t->path, sizeof t->path, "%s%s%s",
	    path != NULL && *path != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");
	(void)snprintf(t->hosthdr, sizeof t->hosthdr, "%s:%d", t->host,
	    t->port);
	evhttp_uri_free(u);
	/* evhttp takes "[::1]" literally: the address goes bare. */
	if (t->host[0] == '[') {
		memmove(t->host, t->host + 1, strlen(t->host));
		t->host[strcspn(t->host, "]")] = '\0';
	}
	if (t->tls && !otls_available())
		return -1;
	return 0;
}

/* The connection to t: over TLS for https. -1: decided why not. */
static int
connect_to(struct ofetch *f, const struct target *t)
{
	struct bufferevent	*bev = NULL;
	struct timeval		 tv;

	f->tls = t->tls;
	if (t->tls && (bev = otls_bev(f->base, t->host, f->ca_file,
	    f->tls_insecure, f->res.why, sizeof f->res.why)) == NULL) {
		decide(f, OFETCH_E_TLS);
		return -1;
	}
	if ((f->conn = evhttp_connection_base_bufferevent_new(f->base, f->dns,
	    bev, t->host, (uint16_t)t->port)) == NULL)
		return -1;
	tv.tv_sec = f->timeout_ms / 1000;
	tv.tv_usec = (f->timeout_ms % 1000) * 1000;
	evhttp_connection_set_timeout_tv(f->conn, &tv);
	return 0;
}

/* Connect and send the GET of f->url. -1: the URL cannot be used. */
static int
request(struct ofetch *f)
{
	struct evkeyvalq	*h;
	struct target		 t;

	if (url_split(f->url, &t) == -1 || connect_to(f, &t) == -1)
		return -1;
	if ((f->req = evhttp_request_new(on_complete, f)) == NULL)
		return -1;
	evhttp_request_set_header_cb(f->req, on_header);
	evhttp_request_set_chunked_cb(f->req, on_chunk);
	evhttp_request_set_error_cb(f->req, on_error);
	h = evhttp_request_get_output_headers(f->req);
	evhttp_add_header(h, "Host", t.hosthdr);
	evhttp_add_header(h, "User-Agent", PACKAGE_NAME "/" PACKAGE_VERSION);
	if (f->etag != NULL)
		evhttp_add_header(h, "If-None-Match", f->etag);
	if (f->last_modified != NULL)
		evhttp_add_header(h, "If-Modified-Since", f->last_modified);
	if (f->client != NULL)
		evhttp_add_header(h, "X-TFTP-Client", f->client);
	if (f->file != NULL)
		evhttp_add_header(h, "X-TFTP-File", f->file);
	if (evhttp_make_request(f->conn, f->req, EVHTTP_REQ_GET,
	    t.path) == -1) {
		f->req = NULL;	/* freed by evhttp */
		return -1;
	}
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

struct ofetch *
ofetch_start(struct event_base *base, struct evdns_base *dns,
    const struct ofetch_req *r, ofetch_done_fn *done, void *arg)
{
	struct ofetch	*f;

	f = xcalloc(1, sizeof *f);
	f->base = base;
	f->dns = dns;
	f->fd = r->fd;
	f->max_bytes = r->max_bytes;
	f->timeout_ms = r->timeout_ms;
	f->etag = dup_or_null(r->etag);
	f->last_modified = dup_or_null(r->last_modified);
	f->client = dup_or_null(r->client);
	f->file = dup_or_null(r->file);
	f->tls_insecure = r->tls_insecure != 0;
	/* An insecure context loads no CAs: one for every ca_file. */
	f->ca_file = xstrdup(r->ca_file != NULL && !f->tls_insecure ?
	    r->ca_file : "");
	f->done = done;
	f->arg = arg;
	f->clen = -1;
	if ((f->fin_ev = event_new(base, -1, 0, fin_cb, f)) == NULL) {
		ofetch_cancel(f);
		return NULL;
	}
	if (strlcpy(f->url, r->url, sizeof f->url) >= sizeof f->url ||
	    request(f) == -1) {
		decide(f, OFETCH_E_BAD_URL);
		finish_soon(f);
	}
	return f;
}

void
ofetch_cancel(struct ofetch *f)
{
	if (f == NULL)
		return;
	if (f->req != NULL)
		evhttp_cancel_request(f->req);
	if (f->conn != NULL)
		evhttp_connection_free(f->conn);
	if (f->fin_ev != NULL)
		event_free(f->fin_ev);
	free(f->etag);
	free(f->last_modified);
	free(f->client);
	free(f->file);
	free(f->ca_file);
	free(f);
}
