/*
 * The open-file cache: a small table of entries with a chained hash on
 * the path and an LRU list of the idle ones.  Allocated once; a miss
 * reuses the least recently used idle entry.  A miss opens the new file
 * before closing that entry's: a request for a missing file must not
 * cost a cached one.
 */
#include "config.h"

#include <sys/file.h>

#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "fcache.h"
#include "fs.h"

struct fcache_entry {
	struct fcache_entry	*hnext;		/* hash chain */
	struct fcache_entry	*prev, *next;	/* idle LRU, when refs == 0 */
	char			 path[FS_PATH_MAX + 1];	/* "" if unused */
	int			 fd;
	unsigned		 refs;
	int			 stale;		/* drop when the last ref goes */
	uint64_t		 size;
	dev_t			 dev;
	ino_t			 ino;
	mode_t			 mode;		/* a chmod makes it stale too */
	struct timespec		 mtime;
	uint64_t		 checked_at;
};

struct fcache {
	struct fcache_entry	 *ent;
	size_t			  cap;
	struct fcache_entry	**buckets;
	size_t			  nbuckets;
	struct fcache_entry	 *lru_head;	/* least recently used */
	struct fcache_entry	 *lru_tail;
	uint64_t		  hits;
	uint64_t		  misses;
	uint64_t		  evicted;
	int			  world;	/* fs_open_read()'s world */
	int			  lock;		/* flock(LOCK_SH) while in use */
};

static size_t
path_hash(const struct fcache *c, const char *p)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32)) & (c->nbuckets - 1);
}

static void
lru_unlink(struct fcache *c, struct fcache_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else if (c->lru_head == e)
		c->lru_head = e->next;
	else
		return;		/* not on the list */
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct fcache *c, struct fcache_entry *e)
{
	e->next = NULL;
	e->prev = c->lru_tail;
	if (c->lru_tail != NULL)
		c->lru_tail->next = e;
	else
		c->lru_head = e;
	c->lru_tail = e;
}

/* An emptied entry goes first: the next miss takes it, not a file. */
static void
lru_push_head(struct fcache *c, struct fcache_entry *e)
{
	e->prev = NULL;
	e->next = c->lru_head;
	if (c->lru_head != NULL)
		c->lru_head->prev = e;
	else
		c->lru_tail = e;
	c->lru_head = e;
}

static void
hash_unlink(struct fcache *c, struct fcache_entry *e)
{
	struct fcache_entry	**pp = &c->buckets[path_hash(c, e->path)];

	for (; *pp != NULL; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	e->hnext = NULL;
}

/* Forget an idle entry: close its file, make it free for reuse. */
static void
drop(struct fcache *c, struct fcache_entry *e)
{
	if (e->path[0] != '\0' && !e->stale)
		hash_unlink(c, e);
	if (e->fd != -1)
		(void)close(e->fd);
	e->fd = -1;
	e->path[0] = '\0';
	e->stale = 0;
}

struct fcache *
fcache_new(size_t cap)
{
	struct fcache	*c;
	size_t		 i;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->cap = cap == 0 ? 1 : cap;
	c->nbuckets = 16;
	while (c->nbuckets < c->cap * 2)
		c->nbuckets <<= 1;
	c->ent = calloc(c->cap, sizeof *c->ent);
	c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
	if (c->ent == NULL || c->buckets == NULL) {
		fcache_free(c);
		return NULL;
	}
	for (i = 0; i < c->cap; i++) {
		c->ent[i].fd = -1;
		lru_push(c, &c->ent[i]);
	}
	return c;
}

void
fcache_free(struct fcache *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	for (i = 0; c->ent != NULL && i < c->cap; i++)
		if (c->ent[i].fd != -1)
			(void)close(c->ent[i].fd);
	free(c->ent);
	free(c->buckets);
	free(c);
}

size_t
fcache_size(uint64_t nofile, size_t max)
{
	uint64_t	 share = nofile / FCACHE_NOFILE_SHARE;

	if (share > max)
		return max;
	return share == 0 ? 1 : (size_t)share;
}

size_t
fcache_shrink(struct fcache *c, size_t n)
{
	struct fcache_entry	*e, *next;
	size_t			 closed = 0;

	for (e = c->lru_head; e != NULL && closed < n; e = next) {
		next = e->next;
		if (e->fd == -1)
			continue;
		drop(c, e);
		lru_unlink(c, e);
		lru_push_head(c, e);
		closed++;
	}
	c->evicted += closed;
	return closed;
}

void
fcache_set_world(struct fcache *c, int world)
{
	c->world = world != 0;
}

void
fcache_set_lock(struct fcache *c, int lock)
{
	c->lock = lock != 0;
}

/* A file in use is share-locked, with lock set: see fcache_set_lock(). */
static void
use_lock(const struct fcache *c, int fd, int op)
{
	if (c->lock)
		(void)flock(fd, op | LOCK_NB);
}

static int
same_file(const struct fcache_entry *e, const struct stat *st)
{
	return e->dev == st->st_dev && e->ino == st->st_ino &&
	    e->mode == st->st_mode &&
	    e->size == (uint64_t)st->st_size &&
	    e->mtime.tv_sec == st->st_mtim.tv_sec &&
	    e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

static struct fcache_entry *
lookup(struct fcache *c, const char *name)
{
	struct fcache_entry	*e;

	for (e = c->buckets[path_hash(c, name)]; e != NULL; e = e->hnext)
		if (strcmp(e->path, name) == 0)
			return e;
	return NULL;
}

/* fs_stat(), making room once if the process is out of descriptors. */
static int
stat_room(struct fcache *c, int rootfd, const char *name, struct stat *st)
{
	if (fs_stat(rootfd, name, st) == 0)
		return 0;
	if ((errno != EMFILE && errno != ENFILE) ||
	    fcache_shrink(c, FS_FDS_MAX) == 0)
		return -1;
	return fs_stat(rootfd, name, st);
}

/* Take e off the table: it no longer stands for its path. */
static void
invalidate(struct fcache *c, struct fcache_entry *e)
{
	hash_unlink(c, e);
	if (e->refs == 0) {
		e->stale = 1;	/* already unhashed */
		drop(c, e);
	} else
		e->stale = 1;	/* closed by the last release */
}

enum tftp_err
fcache_open(struct fcache *c, int rootfd, const char *name,
    uint64_t now_us, int *fdp, uint64_t *sizep,
    struct fcache_entry **entryp)
{
	struct fcache_entry	*e;
	struct stat		 st;
	enum tftp_err		 err;
	int			 fd;
	uint64_t		 size;

	*entryp = NULL;
	if ((e = lookup(c, name)) != NULL) {
		/* Held (off the LRU list) while a recheck may shrink us. */
		if (e->refs++ == 0) {
			lru_unlink(c, e);
			use_lock(c, e->fd, LOCK_SH);
		}
		if (now_us - e->checked_at < FCACHE_TTL_US ||
		    (stat_room(c, rootfd, name, &st) == 0 &&
		    same_file(e, &st))) {
			if (now_us - e->checked_at >= FCACHE_TTL_US)
				e->checked_at = now_us;
			c->hits++;
			*fdp = e->fd;
			*sizep = e->size;
			*entryp = e;
			return TFTP_E_NONE;
		}
		fcache_release(c, e);
		invalidate(c, e);
	}
	c->misses++;
	err = fs_open_read(rootfd, name, 0, c->world, &fd, &size, &st);
	if (err == TFTP_E_NOFD && fcache_shrink(c, FS_FDS_MAX) > 0)
		err = fs_open_read(rootfd, name, 0, c->world, &fd, &size,
		    &st);
	if (err != TFTP_E_NONE)
		return err;
	use_lock(c, fd, LOCK_SH);
	*fdp = fd;
	*sizep = size;
	if (strlen(name) > FS_PATH_MAX || (e = c->lru_head) == NULL)
		return TFTP_E_NONE;	/* uncached: the caller closes it */
	lru_unlink(c, e);
	drop(c, e);
	(void)strlcpy(e->path, name, sizeof e->path);
	e->fd = fd;
	e->refs = 1;
	e->size = size;
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->mode = st.st_mode;
	e->mtime = st.st_mtim;
	e->checked_at = now_us;
	e->hnext = c->buckets[path_hash(c, name)];
	c->buckets[path_hash(c, name)] = e;
	*entryp = e;
	return TFTP_E_NONE;
}

void
fcache_release(struct fcache *c, struct fcache_entry *e)
{
	if (e == NULL || e->refs == 0)
		return;
	if (--e->refs > 0)
		return;
	if (e->stale)
		drop(c, e);
	else
		use_lock(c, e->fd, LOCK_UN);
	lru_push(c, e);
}

uint64_t
fcache_hits(const struct fcache *c)
{
	return c->hits;
}

uint64_t
fcache_misses(const struct fcache *c)
{
	return c->misses;
}

uint64_t
fcache_evicted(const struct fcache *c)
{
	return c->evicted;
}
