/*
 * The master's cache of origins' files on disk: cache_dir/data/KEY
 * holds a file, cache_dir/meta/KEY what it came from (URL, name,
 * validators), cache_dir/tmp/ the downloads in progress, renamed into
 * data/ only once whole and checked.  An index in memory, rebuilt from
 * meta/ at start, keeps them in least recently used order and within
 * max_bytes: eviction never takes a file a transfer holds (workers
 * share-lock what they read, fcache_set_lock()).
 */
#ifndef OWL_OCACHE_H
#define OWL_OCACHE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ofetch.h"

struct ocache_entry {
	/* read-only outside ocache.c */
	char			*key;		/* HASH/path: data/KEY */
	char			*name;		/* the TFTP path it serves
						   (dynamic: CLIENT:path) */
	char			*url;
	uint64_t		 size;
	time_t			 validated;	/* fetched or revalidated */
	char			 etag[OFETCH_VALIDATOR_MAX];
	char			 last_modified[OFETCH_VALIDATOR_MAX];
	int			 busy;		/* oserve.c: being fetched
						   again; never evicted */
	int			 ttl;		/* oserve.c: seconds fresh;
						   -1 unknown (cache_ttl) */
	time_t			 retry_at;	/* oserve.c: no revalidation
						   before (one failed) */
	/* ocache.c's */
	struct ocache_entry	*hnext;
	TAILQ_ENTRY(ocache_entry) lru;		/* head: least recent */
};

struct ocache_counters {
	uint64_t	 bytes;		/* held (a gauge) */
	uint64_t	 files;		/* held (a gauge) */
	uint64_t	 evictions;
};

struct ocache;

/*
 * Open (creating data/, meta/, tmp/ as needed, mode 0755) and index
 * dir: left-over downloads are removed, and so is a file without its
 * meta or a meta without its file.  NULL and *cause on failure.
 */
struct ocache	*ocache_open(const char *dir, uint64_t max_bytes,
		    char **cause);
void		 ocache_free(struct ocache *);
const char	*ocache_dir(const struct ocache *);
/* A reload may change the size: evicts down to it. */
void		 ocache_set_max(struct ocache *, uint64_t max_bytes);

/* The entry of key, made the most recently used; NULL if none. */
struct ocache_entry *ocache_get(struct ocache *, const char *key);

/*
 * A new download file in tmp/: its descriptor, and its path in
 * path (PATH_MAX bytes).  -1 with errno.
 */
int		 ocache_tmp(struct ocache *, char *path);

/*
 * A download is whole and checked: make the file at tmp key's (its
 * mode 0644, meta written), replacing any older one, and evict down
 * to max_bytes.  The entry, or NULL and *cause (tmp is removed).
 */
struct ocache_entry *ocache_commit(struct ocache *, const char *tmp,
		    const char *key, const char *name, const char *url,
		    const struct ofetch_result *, char **cause);

/* The origin says the file has not changed: fresh from now on. */
void		 ocache_revalidated(struct ocache *, struct ocache_entry *);

/* Remove the entries that serve name; how many. */
size_t		 ocache_purge(struct ocache *, const char *name);

/* Every entry, least recently used first. */
void		 ocache_each(struct ocache *,
		    void (*fn)(const struct ocache_entry *, void *),
		    void *arg);

void		 ocache_counters(const struct ocache *,
		    struct ocache_counters *);

#endif
