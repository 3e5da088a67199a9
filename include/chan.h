/*
 * The master <-> worker channel: one SOCK_SEQPACKET socketpair per worker
 * process, so each message arrives whole.  Messages are a fixed-width
 * header and a fixed struct per type; a receiver drops (and logs) a wrong
 * version or a length that does not match its type.  Commands are queued
 * when the socket is full, never dropped; a STATS snapshot may be dropped,
 * since the next one supersedes it.
 */
#ifndef OWL_CHAN_H
#define OWL_CHAN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include <sys/socket.h>

#include "fs.h"
#include "io.h"
#include "origin.h"
#include "stats.h"

/*
 * Bump when any struct below changes, struct stats (STATS_FIELDS)
 * included: it travels inside CHAN_T_STATS.  Master and workers are
 * always the same binary, so this guards against a stale worker that
 * outlived an upgrade, not against old peers.
 */
#define CHAN_VERSION		11	/* 7: ORIGIN, ORIGIN_DONE; 8: origin ca_file,
				   tls_verify; 9: stats gained balanced;
				   10: file_reads, readahead_*;
				   11: uring_enters, uring_cqes */

enum chan_type {
	/* master -> worker */
	CHAN_T_QUIT = 1,	/* stop taking requests, finish, exit */
	CHAN_T_TERMINATE,	/* abort transfers and exit now */
	CHAN_T_REOPEN,		/* reopen log files */
	CHAN_T_STATS_REQ,	/* send a STATS now */
	CHAN_T_XFERS_REQ,	/* list live transfers */
	CHAN_T_REQUEST,		/* a request another worker handed over */
	CHAN_T_SERVE,		/* the generation is committed: read requests */
	CHAN_T_ORIGIN_DONE,	/* an origin's file is cached (or not) */
	/* worker -> master */
	CHAN_T_HELLO = 100,	/* ready: everything opened, privileges dropped */
	CHAN_T_STATS,
	CHAN_T_DRAINED,		/* transfers finished: about to exit */
	CHAN_T_XFERS,
	CHAN_T_HANDOFF,		/* a request for another worker */
	CHAN_T_FAILED,		/* cannot serve: the reason, then exit */
	CHAN_T_ORIGIN,		/* a read of a file from an origin */
	CHAN_T_MAX
};

struct chan_hdr {
	uint16_t	 type;
	uint16_t	 version;
	uint32_t	 len;		/* of the body */
	uint32_t	 slot;
	uint32_t	 seq;
};

struct chan_quit {
	uint32_t	 close_listen;	/* 1: serve what is queued, then close */
};

struct chan_hello {
	uint32_t	 pid;
	uint32_t	 generation;
};

#define CHAN_REASON_MAX		256

struct chan_failed {
	char		 reason[CHAN_REASON_MAX];	/* NUL-terminated */
};

struct chan_stats {
	struct stats	 stats;
	uint64_t	 active;	/* live transfers (a gauge) */
	uint32_t	 draining;
};

struct chan_xfers_req {
	uint32_t	 req;
};

#define CHAN_XFERS_PER_MSG	32

struct chan_xfer_rec {
	char		 peer[64];
	char		 file[160];	/* escaped */
	char		 op[4];		/* "rrq" / "wrq" */
	char		 state[12];
	uint64_t	 bytes;		/* done */
	uint64_t	 total;		/* RRQ: file size; WRQ: announced or 0 */
	uint64_t	 age_ms;
	uint32_t	 blksize;
	uint32_t	 windowsize;
};

struct chan_xfers {
	uint32_t		 req;
	uint32_t		 count;	/* records used in rec[] */
	uint32_t		 last;	/* 1 on the final message */
	uint32_t		 pad;
	struct chan_xfer_rec	 rec[CHAN_XFERS_PER_MSG];
};

/*
 * A request received by one worker and served by another (RFC 2090: the
 * worker that owns the file's multicast session; or a less busy worker,
 * balance).  The same struct goes
 * worker -> master (HANDOFF) and master -> worker (REQUEST).
 */
#define CHAN_REQUEST_MAX	1024	/* larger requests are served locally */

struct chan_request {
	uint32_t		 slot;		/* the worker it is for */
	uint32_t		 len;		/* of dgram[] */
	uint32_t		 peerlen;
	uint32_t		 balanced;	/* passed by balance: counted
						   as coming to slot */
	struct sockaddr_storage	 peer;
	struct io_local		 local;
	uint8_t			 dgram[CHAN_REQUEST_MAX];
};

/*
 * A read under an origin (origin.h): the worker asks the master for the
 * file, the master answers ORIGIN_DONE once it is in the cache (at once
 * on a hit) or cannot be.  The rule travels whole, so an answer never
 * depends on which generation's configuration the master holds.
 */
#define CHAN_ORIGIN_MSG_MAX	128

struct chan_origin {
	uint64_t		 id;		/* the worker's, echoed back */
	struct sockaddr_storage	 peer;		/* the client, echoed back */
	struct origin_rule	 rule;
	char			 rest[FS_PATH_MAX + 1];	/* below prefix */
	char			 file[FS_PATH_MAX + 1];	/* as requested
							   (normalized) */
	char			 client[64];	/* the client's address */
};

struct chan_origin_done {
	uint64_t		 id;
	struct sockaddr_storage	 peer;
	uint32_t		 ok;		/* 1: cached, at path */
	uint32_t		 code;		/* else: the TFTP error (0 is
						   one: "not defined") */
	char			 path[FS_PATH_MAX + 128];	/* in
							   cache_dir */
	char			 msg[CHAN_ORIGIN_MSG_MAX];	/* the
							   ERROR's text */
};

struct chan;

/* One entry per message type the owner accepts; len is checked first. */
struct chan_handler {
	uint16_t	 type;
	uint32_t	 len;
	void		 (*fn)(struct chan *, const struct chan_hdr *,
			    const void *body, void *arg);
};

struct chan_msg;

struct chan {
	int				 fd;
	uint32_t			 slot;
	uint32_t			 seq;
	struct event			*rev;
	struct event			*wev;
	struct chan_msg			*head;	/* queued for sending */
	struct chan_msg			*tail;
	const struct chan_handler	*handlers;	/* ends with fn NULL */
	void				(*eof)(struct chan *, void *);
	void				*arg;
	int				 closed;
};

int	 chan_open(struct chan *, struct event_base *, int fd, uint32_t slot,
	    const struct chan_handler *, void (*eof)(struct chan *, void *),
	    void *arg);
void	 chan_close(struct chan *);
/*
 * Queue and try to send: 0.  A droppable message is not queued behind
 * others (the socket is full): 1, and nothing is sent.  -1: the channel
 * is closed or out of memory.
 */
int	 chan_send(struct chan *, uint16_t type, const void *body,
	    uint32_t len, int droppable);
/* Read and dispatch everything waiting (also used before reaping). */
void	 chan_drain(struct chan *);
/*
 * Send one message on a channel descriptor that has no struct chan yet
 * (a worker failing before its event loop exists).  0 or -1.
 */
int	 chan_send_fd(int fd, uint32_t slot, uint16_t type, const void *body,
	    uint32_t len);
/* Push the queue out, blocking up to timeout_ms (a worker's last words). */
void	 chan_flush_wait(struct chan *, int timeout_ms);

#endif
