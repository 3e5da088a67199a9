/*
 * Retransmit deadlines for a worker: a binary min-heap of embedded
 * entries, so one libevent timer serves every transfer.  Moving a
 * deadline later (every ACK does) is O(1): the entry keeps its heap key
 * and is re-filed when that key comes due.  Times are microseconds on a
 * monotonic clock supplied by the caller, so tests can fake it.
 */
#ifndef OWL_TIMER_H
#define OWL_TIMER_H

#include <sys/time.h>

#include <stddef.h>
#include <stdint.h>

#define TIMER_NONE	UINT64_MAX

struct timer_entry {
	uint64_t	 key;		/* position in the heap */
	uint64_t	 deadline;	/* real deadline, >= key */
	size_t		 idx;		/* heap index, SIZE_MAX if idle */
};

struct timer_heap {
	struct timer_entry	**v;
	size_t			  n;
	size_t			  cap;
};

int			 timer_heap_init(struct timer_heap *, size_t cap);
void			 timer_heap_clear(struct timer_heap *);
void			 timer_entry_init(struct timer_entry *);
int			 timer_armed(const struct timer_entry *);
void			 timer_set(struct timer_heap *, struct timer_entry *,
			    uint64_t deadline);
void			 timer_cancel(struct timer_heap *, struct timer_entry *);
/* Next entry whose deadline has passed at now (removed), or NULL. */
struct timer_entry	*timer_pop_expired(struct timer_heap *, uint64_t now);
/* Earliest key, or TIMER_NONE. */
uint64_t		 timer_next(const struct timer_heap *);
/* CLOCK_MONOTONIC in microseconds. */
uint64_t		 timer_now_us(void);

/* ms as the struct timeval libevent's timers take. */
static inline struct timeval
timer_ms_tv(uint64_t ms)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

#endif
