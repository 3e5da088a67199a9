/*
 * The load board (loadboard.h): plain atomics in an anonymous shared
 * mapping.  Counts are hints, read without locks: two workers may pick
 * the same slot at once, which costs a transfer of imbalance, never a
 * request.
 */
#include "config.h"

#include <sys/mman.h>

#include <stddef.h>

#include "loadboard.h"

struct loadboard *
loadboard_new(unsigned nslots)
{
	struct loadboard	*b;
	unsigned		 i;

	b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->nslots = nslots < LOADBOARD_SLOTS ? nslots : LOADBOARD_SLOTS;
	for (i = 0; i < LOADBOARD_SLOTS; i++) {
		atomic_init(&b->s[i].active, 0);
		atomic_init(&b->s[i].incoming, 0);
		atomic_init(&b->s[i].up, 0);
	}
	return b;
}

void
loadboard_free(struct loadboard *b)
{
	if (b != NULL)
		(void)munmap(b, sizeof *b);
}

void
loadboard_join(struct loadboard *b, unsigned slot)
{
	if (b == NULL || slot >= b->nslots)
		return;
	atomic_store(&b->s[slot].active, 0);
	atomic_store(&b->s[slot].incoming, 0);
	atomic_store(&b->s[slot].up, 1);
}

void
loadboard_leave(struct loadboard *b, unsigned slot)
{
	if (b != NULL && slot < b->nslots)
		atomic_store(&b->s[slot].up, 0);
}

void
loadboard_set_active(struct loadboard *b, unsigned slot, uint32_t active)
{
	if (b != NULL && slot < b->nslots)
		atomic_store_explicit(&b->s[slot].active, active,
		    memory_order_relaxed);
}

static uint32_t
load_of(struct loadboard *b, unsigned i)
{
	return atomic_load_explicit(&b->s[i].active, memory_order_relaxed) +
	    atomic_load_explicit(&b->s[i].incoming, memory_order_relaxed);
}

unsigned
loadboard_pick(struct loadboard *b, unsigned me, uint32_t mine)
{
	unsigned	 i, best = me;
	uint32_t	 least, l;

	if (b == NULL || me >= b->nslots)
		return me;
	least = mine + atomic_load_explicit(&b->s[me].incoming,
	    memory_order_relaxed);
	for (i = 0; i < b->nslots; i++) {
		if (i == me || !atomic_load_explicit(&b->s[i].up,
		    memory_order_relaxed))
			continue;
		if ((l = load_of(b, i)) < least) {
			least = l;
			best = i;
		}
	}
	if (best != me)
		loadboard_incoming(b, best);
	return best;
}

void
loadboard_incoming(struct loadboard *b, unsigned slot)
{
	if (b != NULL && slot < b->nslots)
		atomic_fetch_add(&b->s[slot].incoming, 1);
}

void
loadboard_arrived(struct loadboard *b, unsigned slot)
{
	uint32_t	 n;

	if (b == NULL || slot >= b->nslots)
		return;
	/* Never below zero: a respawn may have reset it meanwhile. */
	n = atomic_load(&b->s[slot].incoming);
	while (n > 0 && !atomic_compare_exchange_weak(&b->s[slot].incoming,
	    &n, n - 1))
		continue;
}
