/*
 * TLS for origin fetches (otls.h).  One SSL_CTX per (ca_file, verify):
 * loading a CA bundle costs far more than a handshake, so a context
 * lives as long as the process.  A ca_file replaced on disk (a CA
 * rotated) is seen by its stat and loaded again; an SSL still using
 * the old context holds a reference.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "otls.h"

#ifdef HAVE_TLS
#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <event2/bufferevent_ssl.h>

#include "compat.h"
#include "log.h"
#include "xmalloc.h"

#define OTLS_CTX_MAX	32	/* (ca_file, verify) contexts kept */

struct tls_ctx {
	SSL_CTX		*ctx;
	char		*ca_file;
	int		 insecure;
	struct stat	 st;		/* ca_file's, as loaded */
	uint64_t	 used;		/* the least recent is replaced */
};

static struct tls_ctx	 tls_ctxs[OTLS_CTX_MAX];
static uint64_t		 tls_tick;

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static const char *
ssl_reason(unsigned long e, const char *dflt)
{
	const char	*r = e != 0 ? ERR_reason_error_string(e) : NULL;

	return r != NULL ? r : dflt;
}

/* Where a connection's first refusal goes (its app data). */
struct otls_why {
	char	*buf;
	size_t	 len;
};

/* Keep the first reason a chain was refused: the handshake hides it. */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct otls_why	*w;

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL && (w = SSL_get_app_data(ssl)) != NULL &&
	    w->buf[0] == '\0')
		(void)snprintf(w->buf, w->len,
		    "certificate verify failed (%s)",
		    X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(xs)));
	return ok;
}

static SSL_CTX *
tls_ctx_new(const char *ca_file, int insecure, char *why, size_t len)
{
	SSL_CTX	*ctx;
	int	 ok;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		(void)snprintf(why, len, "%s",
		    ssl_reason(ERR_get_error(), "no SSL context"));
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	if (*ca_file != '\0')
		ok = SSL_CTX_load_verify_locations(ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		(void)snprintf(why, len, "cannot load %s: %s",
		    *ca_file != '\0' ? "ca_file" : "the system's CAs",
		    ssl_reason(ERR_peek_last_error(), "no certificate"));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* The context of (ca_file, insecure), made the first time. */
static SSL_CTX *
tls_ctx_get(const char *ca_file, int insecure, char *why, size_t len)
{
	struct tls_ctx	*t, *slot = NULL;
	struct stat	 st;
	SSL_CTX		*ctx;
	size_t		 i;

	memset(&st, 0, sizeof st);
	if (*ca_file != '\0' && stat(ca_file, &st) == -1) {
		(void)snprintf(why, len, "cannot read ca_file: %s",
		    strerror(errno));
		return NULL;
	}
	for (i = 0; i < OTLS_CTX_MAX; i++) {
		t = &tls_ctxs[i];
		if (t->ctx != NULL && t->insecure == insecure &&
		    strcmp(t->ca_file, ca_file) == 0) {
			if (same_file(&t->st, &st)) {
				t->used = ++tls_tick;
				return t->ctx;
			}
			slot = t;	/* changed on disk: load it again */
			break;
		}
		if (slot == NULL || (slot->ctx != NULL &&
		    (t->ctx == NULL || t->used < slot->used)))
			slot = t;
	}
	if ((ctx = tls_ctx_new(ca_file, insecure, why, len)) == NULL)
		return NULL;
	log_debug("origin: TLS context made (ca_file \"%s\", %s)", ca_file,
	    insecure ? "no verification" : "verified");
	SSL_CTX_free(slot->ctx);
	free(slot->ca_file);
	slot->ctx = ctx;
	slot->ca_file = xstrdup(ca_file);
	slot->insecure = insecure;
	slot->st = st;
	slot->used = ++tls_tick;
	return ctx;
}

/* The connection's reason buffer lives as long as its SSL. */
static void
why_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static int	 why_idx = -1;

struct bufferevent *
otls_bev(struct event_base *base, const char *host, const char *ca_file,
    int insecure, char *why, size_t len)
{
	struct in6_addr		 a;
	struct bufferevent	*bev;
	struct otls_why		*w;
	SSL_CTX			*ctx;
	SSL			*ssl;
	int			 ip, rc = 1;

	why[0] = '\0';
	if ((ctx = tls_ctx_get(ca_file, insecure, why, len)) == NULL)
		return NULL;
	if (why_idx == -1)
		why_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, why_free);
	if ((ssl = SSL_new(ctx)) == NULL) {
		(void)strlcpy(why, "no SSL", len);
		return NULL;
	}
	w = xcalloc(1, sizeof *w);
	w->buf = why;
	w->len = len;
	(void)SSL_set_ex_data(ssl, why_idx, w);
	SSL_set_app_data(ssl, w);
	ip = inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1;
	/* SNI names a host, never an address (RFC 6066). */
	if (!ip)
		rc = SSL_set_tlsext_host_name(ssl, host);
	/* The certificate must name the host, or hold its address. */
	if (rc == 1 && !insecure)
		rc = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) : SSL_set1_host(ssl, host);
	if (rc != 1) {
		(void)strlcpy(why, "cannot check the host name", len);
		SSL_free(ssl);
		return NULL;
	}
	/* It frees ssl, even when it fails. */
	if ((bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING,
	    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) == NULL) {
		(void)strlcpy(why, "no SSL bufferevent", len);
		return NULL;
	}
	/* Many servers close without close_notify; a body's length is
	 * checked against Content-Length as over plain HTTP. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

int
otls_failed(struct bufferevent *bev, char *why, size_t len)
{
	unsigned long	 e, pick = 0;

	/* Newest first: the last kept is the first cause. */
	while (bev != NULL && (e = bufferevent_get_openssl_error(bev)) != 0)
		if (ERR_GET_LIB(e) != 0 && ERR_GET_LIB(e) != ERR_LIB_SYS)
			pick = e;
	if (why[0] != '\0')
		return 1;
	if (pick == 0)
		return 0;
	(void)snprintf(why, len, "%s", ssl_reason(pick, "handshake failed"));
	return 1;
}

int
otls_available(void)
{
	return 1;
}
#else /* !HAVE_TLS */

int
otls_available(void)
{
	return 0;
}

struct bufferevent *
otls_bev(struct event_base *base, const char *host, const char *ca_file,
    int insecure, char *why, size_t len)
{
	(void)base;
	(void)host;
	(void)ca_file;
	(void)insecure;
	(void)snprintf(why, len, "not built with TLS");
	return NULL;
}

int
otls_failed(struct bufferevent *bev, char *why, size_t len)
{
	(void)bev;
	(void)why;
	(void)len;
	return 0;
}
#endif /* HAVE_TLS */
