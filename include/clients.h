/*
 * A worker's table of client addresses, for the abuse limits: a token
 * bucket per address (requests per second) and a count of the address's
 * live transfers (max_transfers_per_client).
 *
 * An address is the peer's IPv4 or IPv6 address; the port and the IPv6
 * scope id are ignored, and an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) is
 * the same client as the IPv4 peer a.b.c.d.  Peers of any other family
 * are never tracked: clients_take() refuses them and clients_active()
 * reports 0.
 *
 * Every entry is allocated by clients_new(); no call after it allocates.
 * Lookups hash the address with a key drawn from getrandom() at
 * clients_new(), so a client cannot choose addresses that collide.  Each
 * call is O(1) expected.  Times are microseconds on a monotonic clock
 * supplied by the caller, so tests can fake it; a time earlier than one
 * already seen adds no tokens.
 *
 * When the table is full a new address takes the place of the least
 * recently used entry that has no live transfer, and clients_take() does
 * so only if that entry is idle: its bucket has refilled, so forgetting
 * it loses nothing.  Entries with live transfers are never evicted.
 * Otherwise the new address is not tracked and clients_take() refuses it
 * (returns 0): the table being full of recently busy addresses means a
 * many-source flood, and answering untracked addresses would let anyone
 * who first fills the table (spoofed sources suffice) reflect unlimited
 * traffic at a victim.  Refusing costs a legitimate new client at most
 * burst/rate seconds after the flood stops, and TFTP clients retry.
 *
 * clients_xfer_start() evicts the least recently used entry with no live
 * transfer even when its bucket is not full, since a transfer that is
 * not counted would make a later clients_xfer_end() release another
 * one's count.  If every entry has a live transfer it counts nothing;
 * sizing cap above the worker's transfer limit rules that out.
 */
#ifndef OWL_CLIENTS_H
#define OWL_CLIENTS_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CLIENTS_CAP_MAX	(1U << 24)	/* largest cap clients_new() takes */

struct clients;

/*
 * cap: most addresses tracked at once, 1..CLIENTS_CAP_MAX, rounded up to
 * a power of two.  rate: requests per second allowed per address, 0 for
 * no rate limit (clients_take() then always allows and tracks nothing).
 * burst: the bucket size, the requests a fresh or rested address may
 * make at once; 0 is taken as 1.  NULL with errno set on a bad cap, out
 * of memory or no random seed.
 */
struct clients	*clients_new(size_t cap, unsigned rate, unsigned burst);
/* Accepts NULL. */
void		 clients_free(struct clients *);
/*
 * A new request from peer at now_us: take a token.  1 = allowed, 0 =
 * over the rate or not trackable (see above).
 */
int		 clients_take(struct clients *, const struct sockaddr *peer,
		    uint64_t now_us);
/* Live transfers of peer's address. */
unsigned	 clients_active(const struct clients *,
		    const struct sockaddr *peer);
/* A transfer for peer's address began; pair with clients_xfer_end(). */
void		 clients_xfer_start(struct clients *,
		    const struct sockaddr *peer, uint64_t now_us);
/* A transfer ended; an address with no live transfer is left alone. */
void		 clients_xfer_end(struct clients *,
		    const struct sockaddr *peer);
/* Addresses tracked now, at most the rounded cap. */
size_t		 clients_count(const struct clients *);

#endif
