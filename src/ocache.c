/*
 * The origin cache on disk and its index (ocache.h).  Only the master
 * writes here; workers read data/ through a descriptor of cache_dir.
 * Paths are built from keys the master made from checked names
 * (origin_path_ok()), so no component is empty, "." or "..".
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "ocache.h"
#include "xmalloc.h"

#define OCACHE_BUCKETS	4096
#define OCACHE_META_MAX	8192	/* a meta file's size at most */
#define OCACHE_FTW_FDS	16

TAILQ_HEAD(ocache_lru, ocache_entry);

struct ocache {
	char			*dir;
	uint64_t		 max_bytes;
	struct ocache_entry	*buckets[OCACHE_BUCKETS];
	struct ocache_lru	 lru;
	struct ocache_counters	 n;
};

static size_t
key_hash(const char *k)
{
	uint64_t	 h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *k != '\0'; k++) {
		h ^= (unsigned char)*k;
		h *= 1099511628211ULL;
	}
	return (size_t)(h % OCACHE_BUCKETS);
}

/* dir/sub/key into buf (PATH_MAX); -1 if too long. */
static int
path_of(const struct ocache *c, const char *sub, const char *key,
    char *buf)
{
	return (size_t)snprintf(buf, PATH_MAX, "%s/%s/%s", c->dir, sub, key) <
	    PATH_MAX ? 0 : -1;
}

/* mkdir -p of path's parent directories below dir. */
static int
make_parents(const struct ocache *c, const char *path)
{
	char	 buf[PATH_MAX];
	char	*p;

	(void)strlcpy(buf, path, sizeof buf);
	for (p = buf + strlen(c->dir) + 1; (p = strchr(p, '/')) != NULL;
	    p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static struct ocache_entry *
lookup(const struct ocache *c, const char *key)
{
	struct ocache_entry	*e;

	for (e = c->buckets[key_hash(key)]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static struct ocache_entry *
insert(struct ocache *c, const char *key)
{
	struct ocache_entry	*e = xcalloc(1, sizeof *e);
	size_t			 b = key_hash(key);

	e->key = xstrdup(key);
	e->ttl = -1;
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	TAILQ_INSERT_TAIL(&c->lru, e, lru);
	c->n.files++;
	return e;
}

static void
forget(struct ocache *c, struct ocache_entry *e)
{
	struct ocache_entry	**pp;

	for (pp = &c->buckets[key_hash(e->key)]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	TAILQ_REMOVE(&c->lru, e, lru);
	c->n.files--;
	c->n.bytes -= e->size;
	free(e->key);
	free(e->name);
	free(e->url);
	free(e);
}

/* Remove e's file and meta from disk and the index. */
static void
remove_entry(struct ocache *c, struct ocache_entry *e)
{
	char	 path[PATH_MAX];

	if (path_of(c, "data", e->key, path) == 0)
		(void)unlink(path);
	if (path_of(c, "meta", e->key, path) == 0)
		(void)unlink(path);
	forget(c, e);
}

/*
 * Is e's file held by a transfer?  Its readers share-lock it; the lock
 * is taken and kept through the unlink, so none starts meanwhile.
 * Returns the locked descriptor (close it after the unlink), or -1 if
 * in use.  A file already gone is not in use (-2).
 */
static int
lock_idle(const struct ocache *c, const struct ocache_entry *e)
{
	char	 path[PATH_MAX];
	int	 fd;

	if (path_of(c, "data", e->key, path) == -1 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -2;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* Least recently used first, down to max_bytes; keep spares. */
static void
evict(struct ocache *c, const struct ocache_entry *keep)
{
	struct ocache_entry	*e, *next;
	int			 fd;

	for (e = TAILQ_FIRST(&c->lru); e != NULL && c->n.bytes > c->max_bytes;
	    e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e == keep || e->busy || (fd = lock_idle(c, e)) == -1)
			continue;
		log_info("origin cache: evicted %s (%llu bytes, least "
		    "recently used)", e->name != NULL ? e->name : e->key,
		    (unsigned long long)e->size);
		remove_entry(c, e);
		if (fd >= 0)
			(void)close(fd);
		c->n.evictions++;
	}
}

/* A meta file: "field\tvalue" lines. */
static int
write_meta(const struct ocache *c, const struct ocache_entry *e)
{
	char	 path[PATH_MAX], tmp[PATH_MAX];
	FILE	*f;
	int	 fd, ok;

	if (path_of(c, "meta", e->key, path) == -1 ||
	    make_parents(c, path) == -1 ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/tmp/meta.XXXXXX", c->dir) >=
	    sizeof tmp || (fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if ((f = fdopen(fd, "w")) == NULL) {
		(void)close(fd);
		(void)unlink(tmp);
		return -1;
	}
	fprintf(f, "url\t%s\nname\t%s\netag\t%s\nlast_modified\t%s\n",
	    e->url, e->name, e->etag, e->last_modified);
	ok = fflush(f) == 0 && fchmod(fd, 0644) == 0;
	if (fclose(f) != 0 || !ok || rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static void
set_text(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

static void
read_meta_line(struct ocache_entry *e, char *line)
{
	char	*tab = strchr(line, '\t');

	if (tab == NULL)
		return;
	*tab++ = '\0';
	tab[strcspn(tab, "\n")] = '\0';
	if (strcmp(line, "url") == 0)
		set_text(&e->url, tab);
	else if (strcmp(line, "name") == 0)
		set_text(&e->name, tab);
	else if (strcmp(line, "etag") == 0)
		(void)strlcpy(e->etag, tab, sizeof e->etag);
	else if (strcmp(line, "last_modified") == 0)
		(void)strlcpy(e->last_modified, tab, sizeof e->last_modified);
}

/* nftw() takes no argument: the cache being scanned. */
static struct ocache	*scanning;

static int
scan_meta(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	struct ocache		*c = scanning;
	struct ocache_entry	*e;
	struct stat		 dst;
	char			 data[PATH_MAX], line[OCACHE_META_MAX];
	const char		*key = path + strlen(c->dir) + strlen("/meta/");
	FILE			*f;

	(void)ftw;
	if (type != FTW_F)
		return 0;
	if (path_of(c, "data", key, data) == -1 || stat(data, &dst) == -1 ||
	    !S_ISREG(dst.st_mode) || (f = fopen(path, "re")) == NULL) {
		(void)unlink(path);	/* its file is gone */
		return 0;
	}
	e = insert(c, key);
	while (fgets(line, sizeof line, f) != NULL)
		read_meta_line(e, line);
	(void)fclose(f);
	if (e->url == NULL || e->name == NULL) {
		remove_entry(c, e);
		return 0;
	}
	e->size = (uint64_t)dst.st_size;
	e->validated = st->st_mtime;
	c->n.bytes += e->size;
	return 0;
}

/* A file in data/ without its meta, or anything in tmp/: removed. */
static int
scan_orphan(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	struct ocache	*c = scanning;
	const char	*rel = path + strlen(c->dir) + 1;

	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	if (strncmp(rel, "tmp/", 4) == 0 || lookup(c, rel + 5) == NULL)
		(void)unlink(path);
	return 0;
}

/* Oldest validated first: the order of use is not kept on disk. */
static int
by_validated(const void *a, const void *b)
{
	const struct ocache_entry	*x = *(const struct ocache_entry *const *)a;
	const struct ocache_entry	*y = *(const struct ocache_entry *const *)b;

	return (x->validated > y->validated) - (x->validated < y->validated);
}

static void
sort_lru(struct ocache *c)
{
	struct ocache_entry	**v, *e;
	size_t			  i, n = 0;

	if (c->n.files == 0)
		return;
	v = xreallocarray(NULL, c->n.files, sizeof *v);
	TAILQ_FOREACH(e, &c->lru, lru)
		v[n++] = e;
	qsort(v, n, sizeof *v, by_validated);
	TAILQ_INIT(&c->lru);
	for (i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&c->lru, v[i], lru);
	free(v);
}

struct ocache *
ocache_open(const char *dir, uint64_t max_bytes, char **cause)
{
	static const char *const subs[] = { "", "/data", "/meta", "/tmp" };
	struct ocache	*c;
	char		 path[PATH_MAX];
	size_t		 i;

	c = xcalloc(1, sizeof *c);
	c->dir = xstrdup(dir);
	c->max_bytes = max_bytes;
	TAILQ_INIT(&c->lru);
	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		(void)snprintf(path, sizeof path, "%s%s", dir, subs[i]);
		if (mkdir(path, 0755) == -1 && errno != EEXIST) {
			xasprintf(cause, "cache_dir: %s: %s", path,
			    strerror(errno));
			ocache_free(c);
			return NULL;
		}
	}
	scanning = c;
	(void)snprintf(path, sizeof path, "%s/meta", dir);
	(void)nftw(path, scan_meta, OCACHE_FTW_FDS, FTW_PHYS);
	(void)snprintf(path, sizeof path, "%s/data", dir);
	(void)nftw(path, scan_orphan, OCACHE_FTW_FDS, FTW_PHYS);
	(void)snprintf(path, sizeof path, "%s/tmp", dir);
	(void)nftw(path, scan_orphan, OCACHE_FTW_FDS, FTW_PHYS);
	scanning = NULL;
	sort_lru(c);
	evict(c, NULL);
	return c;
}

void
ocache_free(struct ocache *c)
{
	struct ocache_entry	*e;

	if (c == NULL)
		return;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL)
		forget(c, e);
	free(c->dir);
	free(c);
}

const char *
ocache_dir(const struct ocache *c)
{
	return c->dir;
}

void
ocache_set_max(struct ocache *c, uint64_t max_bytes)
{
	c->max_bytes = max_bytes;
	evict(c, NULL);
}

struct ocache_entry *
ocache_get(struct ocache *c, const char *key)
{
	struct ocache_entry	*e = lookup(c, key);

	if (e != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_TAIL(&c->lru, e, lru);
	}
	return e;
}

int
ocache_tmp(struct ocache *c, char *path)
{
	if ((size_t)snprintf(path, PATH_MAX, "%s/tmp/get.XXXXXX", c->dir) >=
	    PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkostemp(path, O_CLOEXEC);
}

struct ocache_entry *
ocache_commit(struct ocache *c, const char *tmp, const char *key,
    const char *name, const char *url, const struct ofetch_result *r,
    char **cause)
{
	struct ocache_entry	*e;
	char			 path[PATH_MAX];

	if (path_of(c, "data", key, path) == -1 ||
	    make_parents(c, path) == -1 || chmod(tmp, 0644) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return NULL;
	}
	if ((e = lookup(c, key)) == NULL)
		e = insert(c, key);
	c->n.bytes -= e->size;
	e->size = 0;
	set_text(&e->name, name);
	set_text(&e->url, url);
	(void)strlcpy(e->etag, r->etag, sizeof e->etag);
	(void)strlcpy(e->last_modified, r->last_modified,
	    sizeof e->last_modified);
	/* The meta first: a crash between leaves a meta without its file,
	 * which the next start removes. */
	if (write_meta(c, e) == -1 || rename(tmp, path) == -1) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		remove_entry(c, e);
		return NULL;
	}
	e->size = r->bytes;
	e->validated = time(NULL);
	c->n.bytes += e->size;
	ocache_get(c, key);
	evict(c, e);
	return e;
}

void
ocache_revalidated(struct ocache *c, struct ocache_entry *e)
{
	char	 path[PATH_MAX];

	e->validated = time(NULL);
	/* Its meta's time is when it was last known fresh, for restarts. */
	if (path_of(c, "meta", e->key, path) == 0)
		(void)utimensat(AT_FDCWD, path, NULL, 0);
}

size_t
ocache_purge(struct ocache *c, const char *name)
{
	struct ocache_entry	*e, *next;
	size_t			 n = 0;

	for (e = TAILQ_FIRST(&c->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (e->busy || strcmp(e->name, name) != 0)
			continue;
		remove_entry(c, e);
		n++;
	}
	return n;
}

void
ocache_each(struct ocache *c, void (*fn)(const struct ocache_entry *, void *),
    void *arg)
{
	struct ocache_entry	*e;

	TAILQ_FOREACH(e, &c->lru, lru)
		fn(e, arg);
}

void
ocache_counters(const struct ocache *c, struct ocache_counters *n)
{
	*n = c->n;
}
