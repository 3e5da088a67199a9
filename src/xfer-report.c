/*
 * A transfer's outcome, reported once: the counters, and the event of a
 * transfer or a refused request (logev.h: the summary line and the audit
 * event from one set of fields), sparingly when floods could multiply it.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <stdint.h>

#include "log.h"
#include "logev.h"
#include "opt.h"
#include "sock.h"
#include "stats.h"
#include "xfer-int.h"
#include "xfer.h"

#define XFER_NOFD_LOGS_PER_S	10	/* refusals for want of a descriptor */
#define XFER_NOFD_WARN_US	(60 * 1000000ULL)	/* why, this often */
#define XFER_REFUSAL_LOGS_PER_S	10	/* requests turned away */

static const char *const result_names[] = {
#define XFER_X_RNAME(name, text)	text,
	XFER_END_RESULTS(XFER_X_RNAME)
#undef XFER_X_RNAME
};

static void	 event_asked(struct logev *, const struct xfer *, uint64_t);

static void
count_end(struct xfer_ctx *ctx, const struct xfer *x)
{
	switch (x->result) {
	case XFER_END_OK:
		ctx->stats->xfer_ok++;
		break;
	case XFER_END_REFUSED:
		ctx->stats->refused++;
		stats_refused(ctx->stats, x->refusal);
		break;
	case XFER_END_DROPPED:
		stats_refused(ctx->stats, x->refusal);
		break;
	case XFER_END_PEER_ERROR:
		ctx->stats->xfer_peer_error++;
		break;
	case XFER_END_TIMEOUT:
		ctx->stats->xfer_timeout++;
		ctx->stats->xfer_failed++;
		break;
	case XFER_END_ABORTED:
		ctx->stats->xfer_aborted++;
		ctx->stats->xfer_failed++;
		break;
	default:
		ctx->stats->xfer_error++;
		ctx->stats->xfer_failed++;
		break;
	}
}

/* One granted option as a member of the event's "options" object. */
static void
event_option(void *arg, const char *name, const char *text, uint64_t num)
{
	if (text != NULL)
		logev_str(arg, name, text);
	else
		logev_u64(arg, name, num);
}

/*
 * The event of a finished transfer ("transfer"), or of a refused request
 * ("refused"): one shape.  What was asked (file to send_failed) is there
 * when the request got as far as the pool (x->op set); a request turned
 * away before has only its peer and the outcome, its text line is a
 * sentence, and it has no error_code when dropped without an answer.
 * peer is the caller's: it must outlive logev_emit().
 */
static void
event_fields(struct logev *e, const struct xfer *x, const char *peer,
    uint64_t now)
{
	logev_str(e, "peer", peer);
	if (x->op != 0)
		event_asked(e, x, now);
	logev_str(e, "result", result_names[x->result]);
	if (x->result != XFER_END_DROPPED)
		logev_u64(e, "error_code", x->result == XFER_END_OK ? 0 :
		    x->errcode);
	if (x->result == XFER_END_PEER_ERROR) {
		if (x->peer_msg[0] != '\0')
			logev_client(e, "error", x->peer_msg);
	} else if (x->errmsg != NULL && x->result != XFER_END_OK)
		logev_str(e, "error", x->errmsg);
	if (x->refusal != STATS_R_NONE)
		logev_str(e, "reason", stats_refusal_str(x->refusal));
	if (x->detail != NULL)
		logev_str(e, "detail", x->detail);
}

/* What a request asked for and what came of it. */
static void
event_asked(struct logev *e, const struct xfer *x, uint64_t now)
{
	logev_client(e, "file", x->name);
	if (x->path[0] != '\0')
		logev_client(e, "path", x->path);
	logev_str(e, "op", x->op == TFTP_OP_RRQ ? "rrq" : "wrq");
	logev_str(e, "mode", x->netascii ? "netascii" : "octet");
	logev_obj_begin(e, "options");
	opt_each(&x->opts, event_option, e);
	logev_obj_end(e);
	logev_u64(e, "bytes", x->bytes);
	logev_u64(e, "duration_ms", (now - x->start_us) / 1000);
	logev_u64(e, "retransmits", x->retrans);
	logev_u64(e, "dup", x->dup);
	logev_u64(e, "send_failed", x->send_failed);
}

/*
 * A worker out of descriptors may refuse thousands of requests a second:
 * ten of them are logged a second, and once a minute a warning says why.
 */
static int
nofd_log_ok(struct xfer_ctx *ctx, uint64_t now)
{
	struct rlimit	 rl;

	if (ctx->logs->nofd_warned_us == 0 ||
	    now - ctx->logs->nofd_warned_us >= XFER_NOFD_WARN_US) {
		ctx->logs->nofd_warned_us = now;
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			rl.rlim_cur = 0;
		log_warnx("out of file descriptors (open files limit %llu): "
		    "requests refused with \"server busy\"",
		    (unsigned long long)rl.rlim_cur);
	}
	return log_limit_ok(&ctx->logs->nofd, now, XFER_NOFD_LOGS_PER_S);
}

/* Count the outcome and write the summary line and audit event, once. */
void
xfer_report(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	struct logev	 e;
	char		 peer[SOCK_ADDRSTR_MAX];
	int		 quiet;

	if (x->reported)
		return;
	x->reported = 1;
	count_end(ctx, x);
	if (x->nofd && !nofd_log_ok(ctx, now))
		return;
	/* Turned away before it was a transfer: floods happen. */
	if (x->op == 0 && !log_limit_ok(&ctx->logs->refusals, now,
	    XFER_REFUSAL_LOGS_PER_S))
		return;

	/* A peer ERROR right after our OACK is how UEFI firmware ends a
	 * tsize probe: routine, so only at debug level. */
	quiet = x->result == XFER_END_PEER_ERROR && x->oack && x->bytes == 0;
	logev_begin(&e, x->result == XFER_END_REFUSED ||
	    x->result == XFER_END_DROPPED ? "refused" : "transfer",
	    quiet ? LOG_DEBUG : LOG_INFO);
	logev_text(&e, x->op == 0 ? LOGEV_TEXT_REFUSED : LOGEV_TEXT_TRANSFER);
	if (!logev_wanted(&e))
		return;
	(void)sock_ntop((const struct sockaddr *)&x->peer, peer, sizeof peer);
	event_fields(&e, x, peer, now);
	logev_emit(&e);
}
