/*
 * Request admission (admit.h): every check a request passes before its
 * file is opened, in order, each one a step that either lets it through
 * or fills in the refusal.  Nothing here sends, logs or counts.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "admit.h"
#include "clients.h"
#include "compat.h"
#include "remap.h"
#include "sock.h"
#include "xfertab.h"

#define ADMIT_SUPERSEDE_IDLE_US	100000	/* see admit_live() */

static int
parse_mode(const char *mode, int *netascii)
{
	if (strcasecmp(mode, "octet") == 0)
		*netascii = 0;
	else if (strcasecmp(mode, "netascii") == 0)
		*netascii = 1;
	else
		return -1;
	return 0;
}

int
admit_same_request(const struct xfer *x, const struct pkt *p)
{
	int	 netascii;

	if (parse_mode(p->u.req.mode, &netascii) == -1)
		netascii = -1;
	return x->op == p->op && netascii == x->netascii &&
	    strncmp(x->name, p->u.req.file, sizeof x->name - 1) == 0;
}

/* Refuse with reason; the ERROR code and text, unless dropped. */
static int
refuse(struct admission *a, enum stats_refusal reason, int answered,
    uint16_t code, const char *msg)
{
	a->verdict = ADMIT_REFUSE;
	a->reason = reason;
	a->answered = answered;
	a->code = code;
	a->msg = msg;
	return -1;
}

/* The same, at a point of the request's own checks (xfer_refusal()). */
static int
refuse_at(const struct xfer_ctx *ctx, struct admission *a, enum xfer_at at,
    uint16_t code, const char *msg)
{
	return refuse(a, xfer_refusal(at, code, ctx), 1, code, msg);
}

/*
 * A transfer from the same address and port.  The same request again is
 * a repeat: it is being served.  Another one from the same port, once
 * the old transfer has been idle a while, means the client gave it up (a
 * PXE ROM that rebooted and reused its port): it replaces it.  A burst of
 * different requests in one go stays one transfer.
 */
static int
admit_live(const struct admit_policy *pol, const struct pkt *p,
    const struct sockaddr *peer, uint64_t now, struct admission *a)
{
	struct xfer	*x;

	if (pol->tab == NULL || (x = xfertab_lookup(pol->tab, peer)) == NULL)
		return 0;
	a->live = x;
	if (admit_same_request(x, p)) {
		a->verdict = ADMIT_REPEAT;
		return -1;
	}
	if (now - x->progress_at < ADMIT_SUPERSEDE_IDLE_US) {
		a->verdict = ADMIT_BURST;
		return -1;
	}
	a->live = NULL;
	a->supersede = x;
	return 0;
}

/*
 * The abuse limits, with the superseded transfer (if any) already gone.
 * Over the rate a request is dropped without a word: an answer would make
 * us a reflector for spoofed floods.
 */
static int
admit_limits(const struct admit_policy *pol, const struct sockaddr *peer,
    uint64_t now, struct admission *a)
{
	struct clients	*cl = pol->xfer->clients;
	unsigned	 active;

	if (cl == NULL)
		return 0;
	if (!clients_take(cl, peer, now))
		return refuse(a, STATS_R_RATE, 0, 0, "over request_rate");
	active = clients_active(cl, peer);
	if (active > 0 && a->supersede != NULL &&
	    a->supersede->client_counted)
		active--;
	if (pol->max_per_client != 0 && active >= pol->max_per_client)
		return refuse(a, STATS_R_CLIENT_LIMIT, 1, TFTP_E_UNDEF,
		    "too many transfers from your address");
	return 0;
}

/* A free slot, counting the superseded one's, else a dallying upload's. */
static int
admit_pool(const struct admit_policy *pol, uint64_t now, struct admission *a)
{
	if (pol->tab == NULL ||
	    pol->tab->active - (a->supersede != NULL) < pol->tab->cap)
		return 0;
	if ((a->reclaim = xfer_reclaimable(pol->xfer, now)) == NULL)
		return refuse(a, STATS_R_BUSY, 1, TFTP_E_UNDEF, "server busy");
	return 0;
}

/* read_acl for reads, write_acl for writes (empty lists allow all). */
static int
admit_acl(const struct xfer_ctx *ctx, uint16_t op,
    const struct sockaddr *peer, struct admission *a)
{
	const struct acl	*acl = op == TFTP_OP_RRQ ? ctx->conf->read_acl :
				    ctx->conf->write_acl;

	if (acl == NULL || acl_allows(acl, peer))
		return 0;
	return refuse_at(ctx, a, XFER_AT_ACL, TFTP_E_ACCESS, "access denied");
}

/* The name as the remap rules make it, normalised into a->path. */
static int
admit_name(const struct xfer_ctx *ctx, const struct pkt *p,
    const struct sockaddr *peer, struct admission *a)
{
	char			 remapped[FS_PATH_MAX + 1];
	char			 client[INET6_ADDRSTRLEN];
	const char		*name = p->u.req.file;
	size_t			 len = p->u.req.filelen;
	enum remap_result	 rr;
	enum tftp_err		 e;

	if (ctx->conf->remap != NULL) {
		if (sock_ntoa(peer, client, sizeof client) == NULL)
			client[0] = '\0';
		rr = remap_apply(ctx->conf->remap, p->op == TFTP_OP_RRQ ?
		    REMAP_OP_READ : REMAP_OP_WRITE, name, client, remapped,
		    sizeof remapped);
		if (rr == REMAP_DENIED)
			return refuse_at(ctx, a, XFER_AT_REMAP, TFTP_E_ACCESS,
			    "access denied");
		if (rr != REMAP_OK)
			return refuse_at(ctx, a, XFER_AT_NAME, TFTP_E_ACCESS,
			    "file name too long");
		/* The log shows what the rules made of the name. */
		if (strlen(remapped) != len || memcmp(remapped, name, len) != 0)
			(void)strlcpy(a->remapped, remapped,
			    sizeof a->remapped);
		name = remapped;
		len = strlen(remapped);
	}
	if ((e = fs_normalize(name, len, a->path, sizeof a->path)) !=
	    TFTP_E_NONE)
		return refuse_at(ctx, a, XFER_AT_NAME, e, NULL);
	/* fs refuses it too, but then as any unopenable file would be. */
	if (fs_names_tmp(a->path))
		return refuse_at(ctx, a, XFER_AT_NAME, TFTP_E_ACCESS, NULL);
	return 0;
}

static int
admit_options(const struct xfer_ctx *ctx, const struct pkt *p,
    unsigned blksize_max, struct admission *a)
{
	struct opt_limits	 lim = ctx->conf->limits;
	const char		*why = NULL;
	enum tftp_err		 e;

	lim.blksize_max = blksize_max;
	if ((e = opt_negotiate(p, &lim, &a->opts, &why)) != TFTP_E_NONE)
		return refuse_at(ctx, a, XFER_AT_OPTIONS, e, why);
	return 0;
}

/* Is the first component of path an address, i.e. a unique_root dir? */
static int
names_client_dir(const char *path)
{
	char		 first[INET6_ADDRSTRLEN + 1];
	unsigned char	 addr[sizeof(struct in6_addr)];
	size_t		 n = strcspn(path, "/");

	if (n >= sizeof first)
		return 0;
	memcpy(first, path, n);
	first[n] = '\0';
	return inet_pton(AF_INET, first, addr) == 1 ||
	    inet_pton(AF_INET6, first, addr) == 1;
}

/*
 * unique_root: root/CLIENT/name first.  Writes go there; reads fall back
 * to root/name, but not into another client's directory.
 */
static int
admit_unique_root(const struct xfer_ctx *ctx, uint16_t op,
    const struct sockaddr *peer, struct admission *a)
{
	char	 client[INET6_ADDRSTRLEN];

	if (!ctx->conf->unique_root)
		return 0;
	if (sock_ntoa(peer, client, sizeof client) == NULL ||
	    snprintf(a->client_path, sizeof a->client_path, "%s/%s", client,
	    a->path) >= (int)sizeof a->client_path) {
		a->client_path[0] = '\0';
		return refuse_at(ctx, a, XFER_AT_NAME, TFTP_E_ACCESS, NULL);
	}
	if (op == TFTP_OP_WRQ) {
		(void)strlcpy(a->path, a->client_path, sizeof a->path);
		a->client_path[0] = '\0';
	} else
		a->no_fallback = names_client_dir(a->path);
	return 0;
}

void
admit_request(const struct admit_policy *pol, const struct pkt *p,
    const struct sockaddr *peer, unsigned blksize_max, uint64_t now,
    struct admission *a)
{
	const struct xfer_ctx	*ctx = pol->xfer;

	memset(a, 0, sizeof *a);
	a->verdict = ADMIT_START;
	opt_set_init(&a->opts);
	if (admit_live(pol, p, peer, now, a) == -1 ||
	    admit_limits(pol, peer, now, a) == -1 ||
	    admit_pool(pol, now, a) == -1)
		return;
	a->asked = 1;
	if (parse_mode(p->u.req.mode, &a->netascii) == -1) {
		(void)refuse_at(ctx, a, XFER_AT_MODE, TFTP_E_BADOP,
		    strcasecmp(p->u.req.mode, "mail") == 0 ?
		    "mail mode is not supported" : "unknown transfer mode");
		return;
	}
	if (admit_acl(ctx, p->op, peer, a) == -1 ||
	    admit_name(ctx, p, peer, a) == -1 ||
	    admit_options(ctx, p, blksize_max, a) == -1)
		return;
	(void)admit_unique_root(ctx, p->op, peer, a);
}
