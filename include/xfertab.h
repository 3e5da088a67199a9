/*
 * A worker's transfers: a fixed pool allocated at start and a hash of
 * live transfers keyed by the peer's address and port (its TID).
 */
#ifndef OWL_XFERTAB_H
#define OWL_XFERTAB_H

#include <sys/socket.h>

#include <stddef.h>

struct xfer;

struct xfertab {
	struct xfer	 *pool;
	size_t		  cap;
	struct xfer	 *free;		/* free list through hnext */
	struct xfer	**buckets;
	size_t		  nbuckets;	/* power of two */
	size_t		  active;
};

int		 xfertab_init(struct xfertab *, size_t cap);
void		 xfertab_clear(struct xfertab *);
struct xfer	*xfertab_lookup(const struct xfertab *,
		    const struct sockaddr *peer);
/* A zeroed transfer for peer, already in the table; NULL when full. */
struct xfer	*xfertab_alloc(struct xfertab *, const struct sockaddr *peer,
		    socklen_t peerlen);
void		 xfertab_release(struct xfertab *, struct xfer *);
/*
 * The transfer of the pool that p points to (an owner pointer handed
 * to io), or NULL if p is not one of them.
 */
struct xfer	*xfertab_owner(const struct xfertab *, const void *p);

#endif
