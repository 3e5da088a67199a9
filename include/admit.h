/*
 * Request admission: whether a decoded RRQ/WRQ becomes a transfer, and if
 * not why, decided in one place, in one order, with no I/O (the only
 * state it changes is the rate limiter's tokens).  The caller acts on
 * the verdict: it ends what the verdict names (a superseded transfer, a
 * reclaimed dallying upload), then starts the transfer, answers a
 * repeat, or reports the refusal with the reason given here (the refusal
 * log line, the audit event and the refused_KEYWORD counters all use
 * it).
 *
 * The checks, in order:
 *   supersede	a live transfer from the same address and port: the same
 *		request again is a repeat of it; another one, once it has
 *		been idle a while, replaces it, anything sooner is a burst
 *   rate	request_rate (dropped: an answer would make us a reflector)
 *   cap	max_transfers_per_client
 *   pool	the worker's share of max_transfers, after reclaiming the
 *		oldest upload that has dallied long enough
 *   mode	octet or netascii
 *   acl	read_acl / write_acl
 *   remap	remap rules, then the name they make
 *   name	normalised beneath the root, not a temporary file's
 *   options	RFC 2347 negotiation (before unique_root, as it always was)
 *   unique_root the client's own directory first
 * What needs the file itself (it exists, may be read or replaced) is
 * decided when xfer_request() opens it.
 */
#ifndef OWL_ADMIT_H
#define OWL_ADMIT_H

#include <sys/socket.h>

#include <stdint.h>

#include "xfer.h"

struct xfertab;

/* What admission consults: a worker's transfers and its limits. */
struct admit_policy {
	struct xfer_ctx		*xfer;		/* ACLs, remap, unique_root,
						   option limits, the dally
						   list, clients (NULL: no
						   rate or per-client limit) */
	struct xfertab		*tab;		/* NULL: no table (tests of
						   one transfer) */
	unsigned		 max_per_client;	/* 0: no limit */
};

enum admit_verdict {
	ADMIT_START,		/* start it: xfer_request() */
	ADMIT_REPEAT,		/* live's request again: xfer_repeat() */
	ADMIT_BURST,		/* another request from live's port just
				   after it: ignored */
	ADMIT_REFUSE,		/* refused (reason, code, msg) */
};

struct admission {
	enum admit_verdict	 verdict;
	struct xfer		*live;		/* REPEAT, BURST */
	/* To end first, whatever the verdict: */
	struct xfer		*supersede;	/* without a word */
	struct xfer		*reclaim;	/* its slot is taken */

	/* REFUSE */
	enum stats_refusal	 reason;
	int			 answered;	/* an ERROR goes back (not
						   over the rate) */
	uint16_t		 code;		/* the ERROR's */
	const char		*msg;		/* its text; NULL: the code's */

	/*
	 * The request got past the pool: it is a transfer's (started, or
	 * refused by xfer_request() with the above), and what it asked for
	 * is below.  Otherwise a refusal is xfer_turn_away()'s.
	 */
	int			 asked;
	int			 netascii;
	struct opt_set		 opts;		/* negotiated (a refusal:
						   as far as it got) */
	char			 remapped[XFER_LOGNAME_MAX];	/* what remap
						   made of the name; "" same */
	char			 path[FS_PATH_MAX + 1];	/* normalised */
	char			 client_path[FS_PATH_MAX + 1];	/* unique_root
						   read: tried first; "" none */
	int			 no_fallback;	/* unique_root read: path is
						   another client's directory */
};

/*
 * Decide on req from peer at now; blksize_max is the largest blksize for
 * the interface it came in on (it replaces ctx->conf->limits' for it).
 */
void		 admit_request(const struct admit_policy *,
		    const struct pkt *req, const struct sockaddr *peer,
		    unsigned blksize_max, uint64_t now, struct admission *);

/* Is req the request x was started for (a retransmission of it)? */
int		 admit_same_request(const struct xfer *x,
		    const struct pkt *req);

#endif
