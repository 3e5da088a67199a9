/*
 * One HTTP GET of an origin's file, never blocking the loop it runs in
 * (libevent's evhttp client; https:// over libevent_openssl when built
 * with HAVE_TLS, the certificate and host name checked unless told
 * not to): the body streamed into a file descriptor, redirects
 * followed, limits on size and silence enforced, and every way an
 * origin can fail told apart, so that the cache stores only a whole,
 * checked body and a client learns why it got none.
 */
#ifndef OWL_OFETCH_H
#define OWL_OFETCH_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#define OFETCH_REDIRECTS_MAX	5
#define OFETCH_VALIDATOR_MAX	128	/* an ETag or Last-Modified kept */

enum ofetch_err {
	OFETCH_OK,		/* 200: the body is in fd */
	OFETCH_NOT_MODIFIED,	/* 304 to a conditional GET */
	OFETCH_E_HTTP,		/* another status: result.status */
	OFETCH_E_UNREACHABLE,	/* refused, reset, closed before an answer */
	OFETCH_E_TIMEOUT,	/* silent for longer than timeout_ms */
	OFETCH_E_SHORT,		/* closed before Content-Length bytes */
	OFETCH_E_LONG,		/* more bytes than Content-Length */
	OFETCH_E_REDIRECTS,	/* more than OFETCH_REDIRECTS_MAX */
	OFETCH_E_TOO_LARGE,	/* over max_bytes */
	OFETCH_E_DISK_FULL,	/* writing fd: ENOSPC or EDQUOT */
	OFETCH_E_WRITE,		/* writing fd: another error */
	OFETCH_E_BAD_URL,	/* a URL (or a Location) we cannot follow */
	OFETCH_E_TLS,		/* https: handshake or certificate: why */
};

#define OFETCH_WHY_MAX		84	/* "origin: TLS: " + why < 100 */

struct ofetch_req {
	const char	*url;		/* http[s]://host[:port]/path */
	const char	*etag;		/* If-None-Match; NULL or "": none */
	const char	*last_modified;	/* If-Modified-Since; NULL: none */
	const char	*client;	/* X-TFTP-Client; NULL: not sent */
	const char	*file;		/* X-TFTP-File; NULL: not sent */
	uint64_t	 max_bytes;	/* 0: no limit */
	unsigned	 timeout_ms;	/* the longest silence */
	int		 fd;		/* the body goes here, from offset 0 */
	const char	*ca_file;	/* https: PEM CAs; NULL or "": the
					   system's default paths */
	int		 tls_insecure;	/* https: no certificate or host name
					   check (tls_verify = false) */
};

struct ofetch_result {
	enum ofetch_err	 err;
	int		 status;	/* the last HTTP status; 0: none */
	uint64_t	 bytes;		/* of the body written */
	char		 etag[OFETCH_VALIDATOR_MAX];
	char		 last_modified[OFETCH_VALIDATOR_MAX];
	char		 why[OFETCH_WHY_MAX];	/* OFETCH_E_TLS: the
						   reason; else "" */
};

struct ofetch;
struct evdns_base;

typedef void	 ofetch_done_fn(const struct ofetch_result *, void *arg);

/*
 * Start a GET; done is called once, from the loop, never from within
 * ofetch_start().  dns may be NULL (then a host name is resolved by
 * blocking getaddrinfo()).  NULL if it cannot start (out of memory).
 */
struct ofetch	*ofetch_start(struct event_base *, struct evdns_base *dns,
		    const struct ofetch_req *, ofetch_done_fn *done,
		    void *arg);
/* Abandon a fetch: done is not called. */
void		 ofetch_cancel(struct ofetch *);

const char	*ofetch_err_str(enum ofetch_err);

#endif
