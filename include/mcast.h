/*
 * RFC 2090 multicast sessions of one worker: one session per file being
 * served by multicast, each with its own group from the configured pool
 * and the list of its clients in the order they joined.  The oldest one
 * is the master client, the only one whose ACKs drive the transfer.
 *
 * The transfers themselves stay in xfer.c; this module only keeps the
 * bookkeeping: which session a client belongs to, which group a session
 * streams to and who acknowledges next.  It sees a client only as the
 * struct mcast_member embedded in its transfer (as timer.h's entries
 * are): xfer.c applies what a join grants (the session's blksize and
 * block count) and the option value to send.
 */
#ifndef OWL_MCAST_H
#define OWL_MCAST_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

struct io_local;
struct mcast;
struct mcast_session;

/*
 * A client's place in its session, embedded in the transfer.  Only this
 * module writes it; the transfer may read session (NULL: unicast) and
 * master (its ACKs drive the session).
 */
struct mcast_member {
	TAILQ_ENTRY(mcast_member) entry;	/* the session's, join order */
	struct mcast_session	*session;
	int			 master;
	int			 finished;	/* ended: not made master */
};

/* A client wanting to join: its request and what it negotiated. */
struct mcast_want {
	const struct stat	*st;		/* the file, as open */
	const struct io_local	*local;		/* where the request came */
	int			 family;	/* the client's */
	uint16_t		 blksize;	/* negotiated */
	int			 blksize_asked;	/* may be given a smaller one */
};

/* What a join grants: the transfer runs with these. */
struct mcast_grant {
	uint16_t		 blksize;	/* the session's */
	uint64_t		 nblocks;	/* incl. a short last one */
};

#define MCAST_POOL_MAX		65536	/* groups in a family's pool */

/* Files beyond this are served by unicast: RFC 2090 ACKs are 16-bit. */
#define MCAST_BLOCKS_MAX	65535

struct mcast_pool_conf {
	uint32_t	 first;		/* IPv4, host byte order, inclusive */
	uint32_t	 last;
	struct in6_addr	 first6;	/* IPv6: count6 groups from first6 */
	uint32_t	 count6;	/* 0: IPv6 clients get unicast */
	uint16_t	 port;
	unsigned	 slot;		/* this worker's share of the pool: */
	unsigned	 nslots;	/* addresses i with i % nslots == slot */
	uint32_t	 generation;	/* its parity picks the half tried first */
};

/*
 * Parse "A.B.C.D" or "A.B.C.D-E.F.G.H" (IPv4 multicast, first <= last)
 * into *first and *last.  -1 with *why set if it is not one.
 */
int		 mcast_parse_range(const char *, uint32_t *first,
		    uint32_t *last, const char **why);

/*
 * The same for IPv6 (ff00::/8): the addresses may differ only in their
 * last 32 bits, at most MCAST_POOL_MAX of them; *count of them.
 */
int		 mcast_parse_range6(const char *, struct in6_addr *first,
		    uint32_t *count, const char **why);

struct mcast	*mcast_new(const struct mcast_pool_conf *);
void		 mcast_free(struct mcast *);

/*
 * Put member (an RRQ's, its file open, its blksize negotiated) into the
 * session of its file, starting one with a free group if there is none.
 * A client that asked for a larger blksize joins a session running with
 * a smaller one and gets that size (*g).  The first member is master.
 * -1: no session for it (no pool of its family, file too large, pool
 * exhausted): serve it by unicast.
 */
int		 mcast_join(struct mcast *, struct mcast_member *,
		    const struct mcast_want *, struct mcast_grant *g);

/* The member's transfer has ended: it is not to be made master. */
void		 mcast_finished(struct mcast_member *);

/*
 * Take member out of its session.  If it was the master client, the next
 * oldest client that is still waiting becomes master and is returned, for
 * the caller to send it the OACK with mc=1; NULL otherwise.  The last
 * client to leave ends the session and frees its group.
 */
struct mcast_member *mcast_leave(struct mcast *, struct mcast_member *);

/*
 * The OACK's multicast value for a member in its current role:
 * "ADDR,PORT,MC".
 */
void		 mcast_optval(const struct mcast_member *, char *buf,
		    size_t len);

/*
 * Where a session's DATA leaves from: *out is the request's local end
 * *req with the configured multicast.interface (ifindex, 0: none)
 * instead of its interface, except for a request to an IPv6 link-local
 * address: that address exists on its own link only, so the DATA stays
 * there (the kernel refuses it as a source elsewhere).
 */
void		 mcast_out_local(const struct io_local *req, int ifindex,
		    struct io_local *out);

/* The group a member's DATA goes to. */
const struct sockaddr *mcast_group(const struct mcast_member *,
		    socklen_t *len);

/*
 * The worker slot that owns multicast requests for file name (as the
 * client sent it) among nslots: all of a file's clients meet in one
 * session there, whichever worker their request reached.
 */
unsigned	 mcast_owner(const char *name, size_t len, unsigned nslots);

/* Live sessions, for tests. */
size_t		 mcast_sessions(const struct mcast *);

#endif
