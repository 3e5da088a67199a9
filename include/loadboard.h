/*
 * The load board of a generation's workers: each worker's live
 * transfers and the requests on their way to it, in memory the master
 * shares with the workers it forks (MAP_SHARED), so that a worker
 * handed a new request by the kernel can send it to a less busy one.
 * The kernel's SO_REUSEPORT pick is a fair random draw per flow: with a
 * few clients one worker often gets most of them (docs/performance.md).
 */
#ifndef OWL_LOADBOARD_H
#define OWL_LOADBOARD_H

#include <stdatomic.h>
#include <stdint.h>

#define LOADBOARD_SLOTS		64	/* CONF_WORKERS_MAX */

struct loadboard_slot {
	_Atomic uint32_t	 active;	/* live transfers: the worker's */
	_Atomic uint32_t	 incoming;	/* handed to it, not arrived */
	_Atomic uint32_t	 up;		/* a worker serves the slot */
	uint32_t		 pad;
};

struct loadboard {
	uint32_t		 nslots;
	struct loadboard_slot	 s[LOADBOARD_SLOTS];
};

/* A shared board of nslots; NULL if it cannot be mapped. */
struct loadboard *loadboard_new(unsigned nslots);
void		 loadboard_free(struct loadboard *);

/* A worker starts on slot: nothing live, nothing coming, up. */
void		 loadboard_join(struct loadboard *, unsigned slot);
/* Its worker is gone: nothing is sent there until the next joins. */
void		 loadboard_leave(struct loadboard *, unsigned slot);
void		 loadboard_set_active(struct loadboard *, unsigned slot,
		    uint32_t active);

/*
 * Where a new request that reached slot me (with mine live transfers
 * of its own) should start: me, unless a slot that is up carries less
 * (its live transfers and those on their way); then that one, counted
 * as incoming there.
 */
unsigned	 loadboard_pick(struct loadboard *, unsigned me, uint32_t mine);
/* One more (a sticky choice) or one fewer (arrived, or lost) coming. */
void		 loadboard_incoming(struct loadboard *, unsigned slot);
void		 loadboard_arrived(struct loadboard *, unsigned slot);

#endif
