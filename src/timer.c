/*
 * Retransmit deadlines: a min-heap keyed by when each entry must next be
 * looked at.  An entry whose deadline moves later keeps its old key;
 * when that key comes due the entry is re-filed at its real deadline.
 * So the common case, an ACK pushing the deadline back, costs nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"

#define IDLE	SIZE_MAX

int
timer_heap_init(struct timer_heap *h, size_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->v = calloc(cap == 0 ? 1 : cap, sizeof *h->v);
	return h->v == NULL ? -1 : 0;
}

void
timer_heap_clear(struct timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

void
timer_entry_init(struct timer_entry *e)
{
	e->key = e->deadline = TIMER_NONE;
	e->idx = IDLE;
}

int
timer_armed(const struct timer_entry *e)
{
	return e->idx != IDLE;
}

static void
place(struct timer_heap *h, size_t i, struct timer_entry *e)
{
	h->v[i] = e;
	e->idx = i;
}

static void
sift_up(struct timer_heap *h, size_t i)
{
	struct timer_entry	*e = h->v[i];

	while (i > 0) {
		size_t	 parent = (i - 1) / 2;

		if (h->v[parent]->key <= e->key)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void
sift_down(struct timer_heap *h, size_t i)
{
	struct timer_entry	*e = h->v[i];

	for (;;) {
		size_t	 c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->key < h->v[c]->key)
			c++;
		if (e->key <= h->v[c]->key)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

static void
remove_at(struct timer_heap *h, size_t i)
{
	struct timer_entry	*e = h->v[i];

	h->n--;
	if (i != h->n) {
		place(h, i, h->v[h->n]);
		sift_down(h, i);
		sift_up(h, h->v[i]->idx);
	}
	e->idx = IDLE;
}

void
timer_set(struct timer_heap *h, struct timer_entry *e, uint64_t deadline)
{
	e->deadline = deadline;
	if (e->idx != IDLE) {
		if (deadline >= e->key)
			return;		/* lazily re-filed when the key is due */
		e->key = deadline;
		sift_up(h, e->idx);
		return;
	}
	if (h->n == h->cap)
		return;			/* cannot happen: cap = pool size */
	e->key = deadline;
	place(h, h->n++, e);
	sift_up(h, e->idx);
}

void
timer_cancel(struct timer_heap *h, struct timer_entry *e)
{
	if (e->idx != IDLE)
		remove_at(h, e->idx);
	e->key = e->deadline = TIMER_NONE;
}

struct timer_entry *
timer_pop_expired(struct timer_heap *h, uint64_t now)
{
	while (h->n > 0 && h->v[0]->key <= now) {
		struct timer_entry	*e = h->v[0];

		if (e->deadline <= now) {
			remove_at(h, 0);
			return e;
		}
		/* Its deadline moved later: re-file it there. */
		e->key = e->deadline;
		sift_down(h, 0);
	}
	return NULL;
}

uint64_t
timer_next(const struct timer_heap *h)
{
	return h->n == 0 ? TIMER_NONE : h->v[0]->key;
}

uint64_t
timer_now_us(void)
{
	struct timespec	 ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
