/*
 * The listen sockets of one generation: for every listen address, one
 * UDP socket per worker slot, all bound to the same port in one
 * SO_REUSEPORT group, so the kernel spreads requests over the slots.
 * Slot i's worker reads socket i of every address.  A reload that keeps
 * the addresses keeps the set (listenset_matches); one that changes them
 * binds a new set that keeps the ports the old one already holds.
 */
#ifndef OWL_LISTENSET_H
#define OWL_LISTENSET_H

#include <stddef.h>

#include "conf.h"

struct listenset;

/*
 * Bind conf->workers sockets for every address of conf.  With port 0
 * the first socket picks the port and the others bind the same one; an
 * address already bound by old (may be NULL) keeps old's port.  A fixed
 * port someone else holds is refused (with SO_REUSEPORT it would be
 * shared quietly); an address of a family or interface the machine lacks
 * is skipped with a warning.  NULL and *cause on failure.
 */
struct listenset *listenset_bind(const struct conf *,
		    const struct listenset *old, char **cause);
void		 listenset_free(struct listenset *);

/* Does conf ask for exactly the sockets ls has (all still open)? */
int		 listenset_matches(const struct listenset *,
		    const struct conf *);

/* The addresses bound, and address i as bound (its real port). */
size_t		 listenset_count(const struct listenset *);
const struct conf_listen *listenset_bound(const struct listenset *,
		    size_t i);
/* Slot's sockets, listenset_count() of them, or -1 where closed. */
const int	*listenset_slot_fds(const struct listenset *, int slot);

/*
 * Take a slot out of the group (nobody reads it: its share of requests
 * goes to the other slots), and put it back in, on the same addresses
 * and ports: 0, or -1 (the slot stays closed).
 */
void		 listenset_close_slot(struct listenset *, int slot);
int		 listenset_rebind_slot(struct listenset *, int slot,
		    int rcvbuf);
int		 listenset_slot_open(const struct listenset *, int slot);

#endif
