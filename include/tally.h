/*
 * The master's counters across worker lifetimes: what exited workers
 * counted (in total and per slot), plus the live workers' last reports,
 * minus the baseline that owlctl stats reset took.  Only arithmetic on
 * struct stats: the master hands in its live workers each time.
 * Totals never go back across reloads and respawns, and the totals
 * since the start (Prometheus) ignore the baseline.
 */
#ifndef OWL_TALLY_H
#define OWL_TALLY_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* Zeroed to start; the fields are tally.c's. */
struct tally {
	struct stats	 retired;	/* counters of exited workers */
	struct stats	*slot_retired;	/* the same, per slot */
	size_t		 nslot_retired;
	struct stats	 baseline;	/* subtracted after stats reset */
};

/* A live worker's last report. */
struct tally_live {
	int			 slot;
	const struct stats	*stats;
	uint64_t		 active;	/* its live transfers */
};

/* A worker of slot exited: keep its last counters. */
void	 tally_retire(struct tally *, int slot, const struct stats *);
/*
 * The totals since the last reset and since the start, and the live
 * transfers, with the n live workers.
 */
void	 tally_totals(const struct tally *, const struct tally_live *,
	    size_t n, struct stats *since_reset, struct stats *since_start,
	    uint64_t *active);
/*
 * Per slot since the start, for every slot ever used (exited workers
 * included): an allocated array of *nslots.
 */
struct stats *tally_slots(const struct tally *, const struct tally_live *,
	    size_t n, size_t *nslots);
/* From now on the totals since the reset count from here. */
void	 tally_reset(struct tally *, const struct tally_live *, size_t n);
void	 tally_free(struct tally *);

#endif
