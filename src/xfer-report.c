/*
 * A transfer's outcome, reported once: the counters, the summary line
 * (sparingly when floods could multiply it) and the audit event of a
 * transfer or a refused request.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"
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

static void	 audit_asked(struct audit_buf *, const struct xfer *, uint64_t);

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
audit_option(void *arg, const char *name, const char *text, uint64_t num)
{
	if (text != NULL)
		audit_str(arg, name, text);
	else
		audit_u64(arg, name, num);
}

/*
 * The audit event of a finished transfer ("transfer"), or of a refused
 * request ("refused"): one shape.  What was asked (file to send_failed)
 * is there when the request got as far as the pool (x->op set); a
 * request turned away before has only its peer and the outcome, and no
 * error_code when dropped without an answer.
 */
static void
audit_event(const struct xfer *x, uint64_t now)
{
	struct audit_buf	 b;
	char			 peer[64];

	audit_begin(&b, x->result == XFER_END_REFUSED ||
	    x->result == XFER_END_DROPPED ? "refused" : "transfer");
	audit_str(&b, "peer", sock_ntop((const struct sockaddr *)&x->peer,
	    peer, sizeof peer));
	if (x->op != 0)
		audit_asked(&b, x, now);
	audit_str(&b, "result", result_names[x->result]);
	if (x->result != XFER_END_DROPPED)
		audit_u64(&b, "error_code", x->result == XFER_END_OK ? 0 :
		    x->errcode);
	if (x->result == XFER_END_PEER_ERROR) {
		if (x->peer_msg[0] != '\0')
			audit_str(&b, "error", x->peer_msg);
	} else if (x->errmsg != NULL && x->result != XFER_END_OK)
		audit_str(&b, "error", x->errmsg);
	if (x->refusal != STATS_R_NONE)
		audit_str(&b, "reason", stats_refusal_str(x->refusal));
	if (x->detail != NULL)
		audit_str(&b, "detail", x->detail);
	audit_emit(&b);
}

/* What a request asked for and what came of it, in an audit event. */
static void
audit_asked(struct audit_buf *b, const struct xfer *x, uint64_t now)
{
	audit_str(b, "file", x->name);
	if (x->path[0] != '\0')
		audit_str(b, "path", x->path);
	audit_str(b, "op", x->op == TFTP_OP_RRQ ? "rrq" : "wrq");
	audit_str(b, "mode", x->netascii ? "netascii" : "octet");
	audit_obj_begin(b, "options");
	opt_each(&x->opts, audit_option, b);
	audit_obj_end(b);
	audit_u64(b, "bytes", x->bytes);
	audit_u64(b, "duration_ms", (now - x->start_us) / 1000);
	audit_u64(b, "retransmits", x->retrans);
	audit_u64(b, "dup", x->dup);
	audit_u64(b, "send_failed", x->send_failed);
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
report(struct xfer_ctx *ctx, struct xfer *x, uint64_t now)
{
	char	 peer[64], name[XFER_LOGNAME_MAX * 4 + 1], opts[160];
	char	 path[XFER_LOGNAME_MAX * 4 + 1], why[96];
	int	 quiet;

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
	if (audit_wanted())
		audit_event(x, now);
	if (x->op == 0) {
		if (!audit_json_log())
			log_info("request from %s refused: %s reason=%s",
			    sock_ntop((struct sockaddr *)&x->peer, peer,
			    sizeof peer), x->errmsg,
			    stats_refusal_str(x->refusal));
		return;
	}
	if (!audit_json_log() && log_enabled(quiet ? LOG_DEBUG : LOG_INFO)) {
		opt_format(&x->opts, opts, sizeof opts);
		(void)sock_ntop((struct sockaddr *)&x->peer, peer, sizeof peer);
		(void)log_escape(x->name, strlen(x->name), name, sizeof name);
		path[0] = '\0';
		if (x->path[0] != '\0')
			(void)log_escape(x->path, strlen(x->path), path,
			    sizeof path);
		why[0] = '\0';
		if (x->refusal != STATS_R_NONE)
			(void)snprintf(why, sizeof why, " reason=%s%s%s%s",
			    stats_refusal_str(x->refusal),
			    x->detail != NULL ? " detail=\"" : "",
			    x->detail != NULL ? x->detail : "",
			    x->detail != NULL ? "\"" : "");
		(quiet ? log_debug : log_info)("xfer end peer=%s op=%s file=%s"
		    "%s%s mode=%s opts=\"%s\" bytes=%llu ms=%llu retrans=%llu "
		    "dup=%llu send_failed=%llu result=%s code=%u%s", peer,
		    x->op == TFTP_OP_RRQ ? "rrq" : "wrq", name,
		    path[0] != '\0' ? " path=" : "", path,
		    x->netascii ? "netascii" : "octet", opts,
		    (unsigned long long)x->bytes,
		    (unsigned long long)(now - x->start_us) / 1000,
		    (unsigned long long)x->retrans,
		    (unsigned long long)x->dup,
		    (unsigned long long)x->send_failed,
		    result_names[x->result], x->result == XFER_END_OK ? 0 :
		    x->errcode, why);
	}
}
