/*
 * Read-ahead buffers for stop-and-wait downloads (readahead.h).  Buffers
 * are made on first demand up to the budget and kept on a free list, so
 * a worker at its steady load allocates nothing.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "readahead.h"

void
readahead_pool_init(struct readahead_pool *p, size_t budget)
{
	p->free = NULL;
	p->lent = p->made = 0;
	p->max = budget / READAHEAD_BYTES;
	if (p->max == 0)
		p->max = 1;
	if (p->max > READAHEAD_MAX)
		p->max = READAHEAD_MAX;
	p->fills = p->refused = 0;
}

void
readahead_pool_clear(struct readahead_pool *p)
{
	while (p->made > 0)
		free(p->all[--p->made]);
	p->free = NULL;
	p->lent = 0;
}

static uint8_t *
borrow(struct readahead_pool *p)
{
	void	*b = p->free;

	if (b != NULL)
		p->free = *(void **)b;
	else if (p->made < p->max && (b = malloc(READAHEAD_BYTES)) != NULL)
		p->all[p->made++] = b;
	if (b != NULL)
		p->lent++;
	return b;
}

void
readahead_release(struct readahead_pool *p, struct readahead *ra)
{
	if (ra->buf == NULL)
		return;
	*(void **)ra->buf = p->free;
	p->free = ra->buf;
	p->lent--;
	ra->buf = NULL;
	ra->len = 0;
}

int
readahead_get(struct readahead_pool *p, struct readahead *ra, int fd,
    uint64_t size, uint64_t off, size_t len, const uint8_t **out)
{
	size_t	 want;
	ssize_t	 n;

	if (len > READAHEAD_BYTES || off > size || len > size - off)
		return -1;
	if (ra->buf != NULL && off >= ra->off &&
	    off + len <= ra->off + ra->len) {
		*out = ra->buf + (off - ra->off);
		return 1;
	}
	if (ra->buf == NULL && (ra->buf = borrow(p)) == NULL) {
		p->refused++;
		return 0;
	}
	want = size - off < READAHEAD_BYTES ? (size_t)(size - off) :
	    READAHEAD_BYTES;
	do
		n = pread(fd, ra->buf, want, (off_t)off);
	while (n == -1 && errno == EINTR);
	p->fills++;
	if (n < 0 || (size_t)n < len) {
		ra->len = 0;	/* what it holds is no longer known */
		return -1;
	}
	ra->off = off;
	ra->len = (size_t)n;
	*out = ra->buf;
	return 1;
}
