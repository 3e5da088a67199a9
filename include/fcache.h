/*
 * A worker's cache of open files for reads: a PXE storm asks for the
 * same kernel thousands of times, and each hit saves the path walk, the
 * open, the fstat and the close.  An entry is trusted for FCACHE_TTL_US
 * after it was last checked; after that the path is looked up again and
 * the entry dropped if it now names another file or the file changed.
 * Entries in use by transfers are never closed under them.
 */
#ifndef OWL_FCACHE_H
#define OWL_FCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define FCACHE_TTL_US	1000000		/* recheck a path after 1 s */

struct fcache;
struct fcache_entry;

/* cap: files kept open at most (entries in use count too). */
struct fcache	*fcache_new(size_t cap);
void		 fcache_free(struct fcache *);

/*
 * Open name (normalized, beneath rootfd) for an octet read.  On success
 * *fdp and *sizep are set and *entryp is the handle to release when the
 * transfer ends; a NULL *entryp means the file was opened uncached
 * (cache full of busy entries) and *fdp belongs to the caller.
 */
enum tftp_err	 fcache_open(struct fcache *, int rootfd, const char *name,
		    uint64_t now_us, int *fdp, uint64_t *sizep,
		    struct fcache_entry **entryp);
void		 fcache_release(struct fcache *, struct fcache_entry *);

/* Counters for stats: lookups served from the cache, and misses. */
uint64_t	 fcache_hits(const struct fcache *);
uint64_t	 fcache_misses(const struct fcache *);

#endif
