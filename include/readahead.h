/*
 * Read-ahead for downloads that send a few blocks at a time.  A
 * stop-and-wait client (most PXE ROMs) draws one block per ACK, and a
 * preadv() per block was half of the worker's system calls.  Such a
 * transfer reads READAHEAD_BYTES at once into a buffer it borrows from
 * its worker's pool and copies its blocks out of it.  The pool has a byte
 * budget (128 transfers' worth), so ten thousand held transfers cost no
 * more than that: past it a transfer reads straight into the send
 * buffer, as large windows always do.  Buffers stay with the worker for
 * the next transfers once made.  No logging; allocation only when a
 * buffer is first lent.
 */
#ifndef OWL_READAHEAD_H
#define OWL_READAHEAD_H

#include <stddef.h>
#include <stdint.h>

#define READAHEAD_BYTES		(32u << 10)	/* one buffer */
#define READAHEAD_BUDGET	(4u << 20)	/* all of a worker's buffers */
#define READAHEAD_MAX		(READAHEAD_BUDGET / READAHEAD_BYTES)

/* A transfer's borrowed buffer: bytes [off, off + len) of its file. */
struct readahead {
	uint8_t		*buf;		/* NULL: none borrowed */
	uint64_t	 off;
	size_t		 len;
};

struct readahead_pool {
	void		*free;		/* returned buffers, linked through
					   their first bytes */
	size_t		 lent;		/* buffers in use */
	size_t		 made;		/* buffers allocated */
	size_t		 max;		/* the budget, in buffers */
	void		*all[READAHEAD_MAX];	/* every buffer made */
	uint64_t	 fills;		/* reads made to fill a buffer */
	uint64_t	 refused;	/* reads left direct: budget spent */
};

/* A pool of at most budget bytes (one buffer to READAHEAD_MAX). */
void		 readahead_pool_init(struct readahead_pool *, size_t budget);
/* Frees every buffer, lent ones too: their transfers must not use them. */
void		 readahead_pool_clear(struct readahead_pool *);

/*
 * Bytes [off, off + len) of the file fd of size bytes, len at most
 * READAHEAD_BYTES: *out points at them in ra's buffer, valid until the
 * next call for ra.  1 on success, reading from off to as far as the
 * buffer or the file goes when ra does not hold them; 0 when no buffer
 * can be had (the caller reads them itself); -1 when the file cannot
 * supply them (a read error, or it shrank).
 */
int		 readahead_get(struct readahead_pool *, struct readahead *ra,
		    int fd, uint64_t size, uint64_t off, size_t len,
		    const uint8_t **out);

/* Give ra's buffer back (nothing if it has none). */
void		 readahead_release(struct readahead_pool *,
		    struct readahead *ra);

#endif
