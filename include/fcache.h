/*
 * A worker's cache of open files for reads: a PXE storm asks for the
 * same kernel thousands of times, and each hit saves the path walk, the
 * open, the fstat and the close.  An entry is trusted for FCACHE_TTL_US
 * after it was last checked; after that the path is looked up again and
 * the entry dropped if it now names another file or the file changed.
 * Entries in use by transfers are never closed under them.
 *
 * The cache must never be what leaves a worker without descriptors: it
 * keeps at most a share of the open files limit (fcache_size()), and
 * when an open fails for want of a descriptor (EMFILE, ENFILE) idle
 * entries are closed to make room (fcache_shrink()), by the cache itself
 * and by the worker's other opens.
 */
#ifndef OWL_FCACHE_H
#define OWL_FCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define FCACHE_TTL_US	1000000		/* recheck a path after 1 s */
#define FCACHE_NOFILE_SHARE 4		/* at most 1/4 of RLIMIT_NOFILE */

struct fcache;
struct fcache_entry;

/* cap: files kept open at most (entries in use count too). */
struct fcache	*fcache_new(size_t cap);
void		 fcache_free(struct fcache *);
/*
 * Open files as fs_open_read() with world does (permission_check); set
 * it before the first fcache_open().  An entry whose mode changed is
 * stale like one whose content changed.
 */
void		 fcache_set_world(struct fcache *, int world);
/*
 * Hold flock(LOCK_SH) on a file while transfers read it (from its open
 * to the release of its last transfer), so that whoever must remove
 * files (the master's origin cache) can tell one in use: it cannot take
 * LOCK_EX.  Idle entries hold no lock.
 */
void		 fcache_set_lock(struct fcache *, int lock);
/* The cap for an open files limit (soft) of nofile: its share, <= max. */
size_t		 fcache_size(uint64_t nofile, size_t max);

/*
 * Open name (normalized, beneath rootfd) for an octet read.  On success
 * *fdp and *sizep are set and *entryp is the handle to release when the
 * transfer ends; a NULL *entryp means the file was opened uncached
 * (cache full of busy entries) and *fdp belongs to the caller.
 * Out of descriptors, it closes idle entries and tries once more;
 * TFTP_E_NOFD if that did not help.
 */
enum tftp_err	 fcache_open(struct fcache *, int rootfd, const char *name,
		    uint64_t now_us, int *fdp, uint64_t *sizep,
		    struct fcache_entry **entryp);
void		 fcache_release(struct fcache *, struct fcache_entry *);
/*
 * Close up to n idle entries, least recently used first, to give their
 * descriptors to an open that failed with EMFILE or ENFILE.  Returns how
 * many were closed: 0 means trying again is pointless.
 */
size_t		 fcache_shrink(struct fcache *, size_t n);

/*
 * Counters for stats: lookups served from the cache, misses, and entries
 * closed by fcache_shrink().
 */
uint64_t	 fcache_hits(const struct fcache *);
uint64_t	 fcache_misses(const struct fcache *);
uint64_t	 fcache_evicted(const struct fcache *);

#endif
