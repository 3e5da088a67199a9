/* Counters across worker lifetimes: retired + live - baseline. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tally.h"
#include "xmalloc.h"

void
tally_retire(struct tally *t, int slot, const struct stats *s)
{
	size_t	 need = (size_t)slot + 1;

	stats_add(&t->retired, s);
	if (need > t->nslot_retired) {
		t->slot_retired = xreallocarray(t->slot_retired, need,
		    sizeof *t->slot_retired);
		memset(t->slot_retired + t->nslot_retired, 0,
		    (need - t->nslot_retired) * sizeof *t->slot_retired);
		t->nslot_retired = need;
	}
	stats_add(&t->slot_retired[slot], s);
}

void
tally_totals(const struct tally *t, const struct tally_live *live,
    size_t n, struct stats *since_reset, struct stats *since_start,
    uint64_t *active)
{
	size_t	 i;

	*since_reset = t->retired;
	*active = 0;
	for (i = 0; i < n; i++) {
		stats_add(since_reset, live[i].stats);
		*active += live[i].active;
	}
	stats_sub(since_reset, &t->baseline);
	if (since_start != NULL) {
		*since_start = *since_reset;
		stats_add(since_start, &t->baseline);
	}
}

struct stats *
tally_slots(const struct tally *t, const struct tally_live *live,
    size_t n, size_t *nslots)
{
	struct stats	*slots;
	size_t		 i, count = t->nslot_retired;

	for (i = 0; i < n; i++)
		if ((size_t)live[i].slot + 1 > count)
			count = (size_t)live[i].slot + 1;
	slots = xcalloc(count + 1, sizeof *slots);
	if (t->nslot_retired > 0)
		memcpy(slots, t->slot_retired, t->nslot_retired *
		    sizeof *slots);
	for (i = 0; i < n; i++)
		stats_add(&slots[live[i].slot], live[i].stats);
	*nslots = count;
	return slots;
}

void
tally_reset(struct tally *t, const struct tally_live *live, size_t n)
{
	struct stats	 now;
	uint64_t	 active;

	memset(&t->baseline, 0, sizeof t->baseline);
	tally_totals(t, live, n, &now, NULL, &active);
	t->baseline = now;
}

void
tally_free(struct tally *t)
{
	free(t->slot_retired);
	memset(t, 0, sizeof *t);
}
