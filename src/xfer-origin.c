/*
 * A read under an HTTP origin (origin.h): the transfer waits, state
 * FETCHING and no answer yet, while the master puts the file in the
 * cache; then it is opened beneath cache_dir and served as a local file
 * would be, through the open-file cache (share-locked while in use, so
 * the master never evicts it under the transfer).  The client's
 * repeated requests meanwhile are ignored; the master answers within
 * origin_timeout_ms, and our own timer stands behind it.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>

#include "admit.h"
#include "compat.h"
#include "chan.h"
#include "fcache.h"
#include "log.h"
#include "stats.h"
#include "xfer-int.h"
#include "xfer.h"

/* The client's address as an origin sees it: IPv4 even when mapped. */
static void
client_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6	*sin6 = (const void *)ss;
	const struct sockaddr_in	*sin = (const void *)ss;

	buf[0] = '\0';
	if (ss->ss_family == AF_INET)
		(void)inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t)len);
	else if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		(void)inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf,
		    (socklen_t)len);
	else if (ss->ss_family == AF_INET6)
		(void)inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
		    (socklen_t)len);
}

/* Past origin_timeout_ms, how long the master's answer may still take. */
#define XFER_ORIGIN_GRACE_US	(2 * 1000000ULL)

enum xfer_result
xfer_origin_ask(struct xfer_ctx *ctx, struct xfer *x,
    const struct origin_rule *rule, const char *rest, const char *path,
    uint64_t now)
{
	struct chan_origin	 m;

	if (ctx->origin_ask == NULL || ctx->cachefd == -1)
		return xfer_refuse(ctx, x, XFER_AT_OPEN, TFTP_E_UNDEF,
		    "origin: not available");
	if (origin_path_ok(rest) == -1)
		return xfer_refuse(ctx, x, XFER_AT_NAME, TFTP_E_ACCESS,
		    NULL);
	memset(&m, 0, sizeof m);
	m.id = ++ctx->origin_seq;
	memcpy(&m.peer, &x->peer, x->peerlen);
	m.rule = *rule;
	(void)strlcpy(m.rest, rest, sizeof m.rest);
	(void)strlcpy(m.file, path, sizeof m.file);
	client_addr(&x->peer, m.client, sizeof m.client);
	if (ctx->origin_ask(ctx->origin_arg, &m) == -1)
		return xfer_refuse(ctx, x, XFER_AT_OPEN, TFTP_E_UNDEF,
		    "origin: not available");
	x->origin_id = m.id;
	x->origin_dynamic = rule->dynamic;
	xfer_set_state(x, XFER_S_FETCHING);
	timer_set(ctx->timers, &x->timer, now +
	    (uint64_t)ctx->conf->origin_timeout_ms * 1000 +
	    XFER_ORIGIN_GRACE_US);
	return XFER_LIVE;
}

/* Open the cached file: shared through the cache unless per client. */
static enum tftp_err
open_cached(struct xfer_ctx *ctx, struct xfer *x, const char *path,
    uint64_t now)
{
	enum tftp_err	 e;

	if (ctx->ofcache != NULL && !x->netascii && !x->origin_dynamic) {
		e = fcache_open(ctx->ofcache, ctx->cachefd, path, now, &x->fd,
		    &x->size, &x->fce);
		if (e == TFTP_E_NONE && x->fce != NULL)
			x->fc = ctx->ofcache;
		return e;
	}
	e = fs_open_read(ctx->cachefd, path, x->netascii, 0, &x->fd,
	    &x->size, NULL);
	if (e == TFTP_E_NOFD && xfer_make_room(ctx))
		e = fs_open_read(ctx->cachefd, path, x->netascii, 0, &x->fd,
		    &x->size, NULL);
	return e;
}

enum xfer_result
xfer_origin_done(struct xfer_ctx *ctx, struct xfer *x,
    const struct chan_origin_done *d, uint64_t now)
{
	static char	 msg[CHAN_ORIGIN_MSG_MAX];
	enum tftp_err	 e;

	if (x->state != XFER_S_FETCHING || x->origin_id != d->id)
		return XFER_LIVE;	/* an answer to an earlier ask */
	timer_cancel(ctx->timers, &x->timer);
	if (!d->ok) {
		/* The text outlives the message: the log line reads it. */
		(void)strlcpy(msg, d->msg, sizeof msg);
		return xfer_refuse(ctx, x, XFER_AT_OPEN, (uint16_t)d->code,
		    msg[0] != '\0' ? msg : NULL);
	}
	if ((e = open_cached(ctx, x, d->path, now)) != TFTP_E_NONE)
		return xfer_refuse(ctx, x, XFER_AT_OPEN, e, NULL);
	xfer_read_opened(ctx, x);
	return xfer_start(ctx, x, now);
}

enum xfer_result
xfer_origin_timeout(struct xfer_ctx *ctx, struct xfer *x)
{
	return xfer_refuse(ctx, x, XFER_AT_OPEN, TFTP_E_UNDEF,
	    "origin: no answer from the master");
}
