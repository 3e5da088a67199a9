/*
 * The transfer state machine: one struct xfer per RRQ/WRQ, from request
 * to the final ACK.  It reaches the outside only through struct
 * xfer_ctx (a sink for datagrams, the timer heap, the files beneath the
 * root, the settings of xfer-conf.h), so tests drive it with a fake sink
 * and a fake clock.  Only xfer.c and its parts xfer-*.c write a struct
 * xfer (xfertab.c files it in its table, mcast.c keeps the struct
 * mcast_member in it); others read it or call here.
 */
#ifndef OWL_XFER_H
#define OWL_XFER_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

/* enum tftp_err (pkt.h) and enum stats_refusal (stats.h) come with io.h. */
#include "fs.h"
#include "io.h"
#include "mcast.h"
#include "netascii.h"
#include "opt.h"
#include "readahead.h"
#include "timer.h"
#include "xfer-conf.h"

#define XFER_STATES(X)							\
	X(IDLE,		"idle")		/* in the pool */		\
	X(FETCHING,	"fetching")	/* RRQ: waiting for an origin's	\
					   file (xfer-origin.c) */	\
	X(OACK_SENT,	"oack_sent")	/* waiting for ACK 0 / DATA 1 */	\
	X(SENDING,	"sending")	/* RRQ: window out, waiting for ACK */	\
	X(RECEIVING,	"receiving")	/* WRQ: waiting for DATA */	\
	X(MC_WAIT,	"mc_wait")	/* RRQ multicast: listening to	\
					   the group until made master */ \
	X(DALLY,	"dally")	/* WRQ done and reported: re-ACK a	\
					   repeated last DATA */		\
	X(DONE,		"done")		/* finished, to be released */

enum xfer_state {
#define XFER_X_ENUM(name, text)	XFER_S_##name,
	XFER_STATES(XFER_X_ENUM)
#undef XFER_X_ENUM
	XFER_S_MAX
};

#define XFER_END_RESULTS(X)						\
	X(NONE,		"none")						\
	X(OK,		"ok")						\
	X(REFUSED,	"refused")	/* request answered with ERROR */	\
	X(TIMEOUT,	"timeout")	/* peer silent past retries */	\
	X(PEER_ERROR,	"peer_error")	/* peer sent ERROR */		\
	X(ERROR,	"error")	/* local failure (I/O, disk) */	\
	X(ABORTED,	"aborted")	/* server shutting down */	\
	X(DROPPED,	"dropped")	/* request over the rate: no	\
					   answer, no transfer */

enum xfer_end_result {
#define XFER_X_END(name, text)	XFER_END_##name,
	XFER_END_RESULTS(XFER_X_END)
#undef XFER_X_END
};

enum xfer_result {
	XFER_LIVE,		/* keep it */
	XFER_FINISHED,		/* call xfer_end() and release it */
};

#define XFER_LOGNAME_MAX	256	/* file name kept for the log line */
#define XFER_PEERMSG_MAX	64	/* a peer ERROR's text kept for the audit */

struct chan_origin;
struct chan_origin_done;
struct chan_xfer_rec;
struct clients;
struct fcache;
struct stats;
struct xfer;
struct xfer_logs;

/*
 * Where a transfer's datagrams go: io in the daemon, a capture in tests.
 * commit() with segsize != 0 hands over a run of datagrams of segsize
 * bytes each (the last may be shorter), back to back in the buffer.
 */
struct xfer_sink {
	uint8_t	*(*stage)(void *arg, size_t cap);
	void	 (*commit)(void *arg, const struct xfer *, size_t len,
		    size_t segsize);
	/* The same, to another destination: a multicast group. */
	void	 (*commit_to)(void *arg, const struct xfer *,
		    const struct sockaddr *to, socklen_t tolen, size_t len,
		    size_t segsize);
	void	 *arg;
};

/*
 * Upload blocks received in one batch, written at its end with one
 * writev() per transfer instead of a write() per block.  The data stays
 * in the receive buffers until then.  One entry per datagram at most, so
 * a batch (IO_BATCH_MAX) never fills it.
 */
#define XFER_WQ_MAX	IO_BATCH_MAX
struct xfer_wq {
	struct {
		struct xfer	*x;	/* NULL: written or dropped */
		const uint8_t	*data;
		size_t		 len;
	}			 e[XFER_WQ_MAX];
	size_t			 n;
};

/* What a worker lends its transfers. */
struct xfer_ctx {
	struct xfer_sink	 sink;
	struct timer_heap	*timers;
	struct stats		*stats;
	int			 rootfd;
	const struct xfer_conf	*conf;		/* the settings: the worker's
						   conf->xfer, which outlives
						   the context */
	struct fcache		*fcache;	/* NULL: open every time */
	struct mcast		*mcast;		/* NULL: RFC 2090 off */
	struct clients		*clients;	/* live transfers per address;
						   NULL: not counted */
	/* HTTP origins (conf->origins): the master caches their files */
	int			 cachefd;	/* cache_dir; -1: none */
	struct fcache		*ofcache;	/* its open files; NULL: none */
	int			(*origin_ask)(void *, const struct chan_origin *);
	void			*origin_arg;
	uint64_t		 origin_seq;	/* the last ask's id */
	/* xfer.c's own, set up by xfer_ctx_init() */
	struct xfer_wq		 wq;		/* uploads' blocks to write */
	TAILQ_HEAD(xfer_dally, xfer) dally;	/* uploads done, dallying:
						   oldest first */
	struct xfer_logs	*logs;		/* limits on floods of lines */
	struct readahead_pool	 ra;		/* small downloads' read-ahead */
};

struct xfer {
	struct xfer		*hnext;		/* xfertab bucket / free list */
	struct timer_entry	 timer;
	enum xfer_state		 state;

	/* who */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	struct io_local		 local;		/* the request's destination */
	int			 sockfd;	/* transfer socket */

	/* what */
	uint16_t		 op;		/* TFTP_OP_RRQ / TFTP_OP_WRQ */
	int			 netascii;
	struct opt_set		 opts;
	int			 oack;		/* options were acknowledged */
	char			 name[XFER_LOGNAME_MAX];
	int			 fd;		/* RRQ: file; -1 when none */
	struct fcache_entry	*fce;		/* fd belongs to the cache */
	struct fcache		*fc;		/* the cache fce is of */
	struct readahead	 ra;		/* RRQ: blocks read ahead of fd */
	uint64_t		 origin_id;	/* FETCHING: the ask's id */
	int			 origin_dynamic;	/* per-client file */
	struct fs_upload	 up;		/* WRQ */
	struct netascii_dec	 nadec;

	/* RFC 2090: its place in a session (mc.session NULL: unicast) */
	struct mcast_member	 mc;
	int			 mc_promoted;	/* made master after joining */

	/* progress, in absolute block numbers (block 1 is the first) */
	uint64_t		 size;		/* RRQ: bytes to send */
	uint64_t		 nblocks;	/* RRQ: blocks incl. a short last */
	uint64_t		 acked;		/* RRQ: highest block ACKed */
	uint64_t		 sent;		/* RRQ: highest block sent */
	uint64_t		 echo_top;	/* RRQ: the highest block sent
						   when blocks left again */
	uint64_t		 echoes;	/* RRQ: ACKs in the window that
						   may still answer copies */
	uint64_t		 expect;	/* WRQ: next block wanted */
	unsigned		 inwindow;	/* WRQ: blocks since last ACK */
	uint64_t		 bytes;		/* file bytes moved */

	/* timing */
	uint64_t		 start_us;
	uint64_t		 rto_us;	/* current retransmit timeout */
	uint64_t		 srtt_us;	/* smoothed RTT, 0 = no sample */
	uint64_t		 rttvar_us;
	uint64_t		 sent_at_us;	/* when the pending reply's cause left */
	int			 rtt_ok;	/* it left once: a valid sample */
	unsigned		 tries;		/* timeouts in a row */
	uint64_t		 progress_at;	/* last ACK/DATA that moved on */
	uint64_t		 repeat_at_us;	/* a repeated request last answered */
	uint64_t		 retrans;	/* sent again on timeout */
	uint64_t		 dup;		/* DATA of blocks sent before */
	uint64_t		 send_failed;	/* refused by the kernel */
	int			 gap_acked;	/* WRQ: gap reported this window */
	uint64_t		 gap_ack_at_us;	/* WRQ: when it was */
	int			 client_counted;	/* in ctx->clients */
	TAILQ_ENTRY(xfer)	 dally_entry;	/* in ctx->dally */
	int			 dally_listed;
	int			 reported;	/* summary logged and counted */
	int			 nofd;		/* refused: no fd left */
	enum xfer_end_result	 result;
	uint16_t		 errcode;	/* sent or received, for the log */
	const char		*errmsg;	/* static text of an ERROR we sent */
	enum stats_refusal	 refusal;	/* why it was refused (or cut
						   over max_upload_size) */
	const char		*detail;	/* static: more on the refusal,
						   for the log (fs_perm_reason()) */
	char			 path[XFER_LOGNAME_MAX];	/* what a remap made of
							   name; "" if same */
	char			 peer_msg[XFER_PEERMSG_MAX];	/* text of the peer's ERROR */
};

/*
 * Set up a context: zeroed, with xfer.c's own parts ready; the caller
 * fills in the rest.  -1 when out of memory.  xfer_ctx_clear() frees
 * them.
 */
int		 xfer_ctx_init(struct xfer_ctx *);
void		 xfer_ctx_clear(struct xfer_ctx *);

/* Where a request was refused, for xfer_refusal(). */
enum xfer_at {
	XFER_AT_MODE,		/* the transfer mode */
	XFER_AT_ACL,		/* read_acl / write_acl */
	XFER_AT_REMAP,		/* a remap rule refused the name */
	XFER_AT_NAME,		/* the name (as remapped): invalid, escaping */
	XFER_AT_OPTIONS,	/* option negotiation */
	XFER_AT_OPEN,		/* opening the file to read */
	XFER_AT_UPLOAD,		/* starting the upload */
	XFER_AT_UPLOAD_SIZE,	/* an upload grew past max_upload_size */
};

/*
 * The reason for a refusal at a point with the error code it got (an
 * internal code such as TFTP_E_PERM_READ or TFTP_E_NOFD included): the
 * keyword logged, audited and counted.  Pure.
 */
enum stats_refusal xfer_refusal(enum xfer_at, enum tftp_err,
		    const struct xfer_ctx *);

struct admission;

/*
 * Start a transfer for a decoded RRQ/WRQ from x->peer (already set) that
 * admission (admit.h) let past the pool, answering from sockfd and the
 * request's destination local: open the file, send the OACK / first DATA
 * / ACK 0 and arm the timer.  A refusal, admission's or the file's,
 * sends the ERROR and returns XFER_FINISHED.  A transfer that starts
 * counts against its client's max_transfers_per_client (ctx->clients).
 */
enum xfer_result xfer_request(struct xfer_ctx *, struct xfer *,
		    const struct pkt *req, const struct admission *,
		    const struct io_local *local, int sockfd, uint64_t now);
/*
 * A request refused before it was a transfer (over the rate, the
 * per-client limit, the pool; a->asked is 0): count it, answer the sender
 * of d from fd (unless dropped) and report it, a few a second.
 */
void		 xfer_turn_away(struct xfer_ctx *, const struct io_dgram *d,
		    int fd, const struct admission *a, uint64_t now);
/* A datagram from the transfer's peer. */
enum xfer_result xfer_input(struct xfer_ctx *, struct xfer *,
		    const struct pkt *p, uint64_t now);
/* Its timer fired. */
enum xfer_result xfer_timeout(struct xfer_ctx *, struct xfer *,
		    uint64_t now);
/*
 * The client gave x up for a new request from the same address and port
 * (admission's supersede): it ends without a word.
 */
void		 xfer_supersede(struct xfer *);
/*
 * Write the upload blocks queued in this batch (before the receive
 * buffers are reused).  A transfer whose write failed has been sent its
 * ERROR; it is stored in failed[] (room for XFER_WQ_MAX) for the caller to
 * xfer_end().  Returns how many.
 */
size_t		 xfer_flush_writes(struct xfer_ctx *, struct xfer **failed);
/*
 * The request x was started for came again (admit_same_request()): while
 * nothing has been acknowledged yet, the first answer is sent again (at
 * most once per rto_min_ms).
 */
void		 xfer_repeat(struct xfer_ctx *, struct xfer *, uint64_t now);
/*
 * The master's answer to the origin ask of x (xfer-origin.c): start
 * serving the cached file, or refuse with the master's error.  An answer
 * to an ask x no longer waits for changes nothing (XFER_LIVE).
 */
enum xfer_result xfer_origin_done(struct xfer_ctx *, struct xfer *,
		    const struct chan_origin_done *, uint64_t now);
/* Stop it now (shutdown): ERROR to the peer, no partial upload kept. */
void		 xfer_abort(struct xfer_ctx *, struct xfer *, uint16_t code,
		    const char *msg);
/*
 * Log the summary line and free everything the transfer holds (its
 * place in the dally list and its client's count too); the caller then
 * releases the slot.
 */
void		 xfer_end(struct xfer_ctx *, struct xfer *, uint64_t now);

/*
 * The oldest upload that is done and has dallied two timeouts, whose slot
 * may go to a new request when the pool is full; NULL if none.  By then
 * most clients that lost the final ACK have sent their last DATA again
 * and been answered; a younger one is left alone, or a flood of requests
 * (spoofed, or refused a moment later) could tell such a client its
 * stored file failed.
 */
struct xfer	*xfer_reclaimable(const struct xfer_ctx *, uint64_t now);

/*
 * The kernel refused n datagrams of x to `to' (at the end of a batch):
 * they count in its log line if it is still the transfer they were for.
 */
void		 xfer_send_failed(struct xfer *, const struct sockaddr *to,
		    size_t n);

/* Still running (not idle in the pool, not done)? */
int		 xfer_live(const struct xfer *);

/* The transfer as owlctl transfers shows it. */
void		 xfer_describe(const struct xfer *, struct chan_xfer_rec *,
		    uint64_t now);

const char	*xfer_state_str(enum xfer_state);
/*
 * Send an ERROR to the sender of d, which has no transfer (stateless),
 * from the socket fd.
 */
void		 xfer_send_error(struct xfer_ctx *, const struct io_dgram *d,
		    int fd, uint16_t code, const char *msg);

#endif
