/*
 * The master's origin service: it answers workers' asks for files under
 * an origin (CHAN_T_ORIGIN) from the cache (ocache.h), fetching what is
 * missing (ofetch.h) once however many clients and workers ask at once
 * (single flight), serving a stale copy while it is revalidated, and
 * answering every ask within origin_timeout_ms.  Its counters go to
 * owlctl stats and /metrics; owlctl cache list and purge reach it too.
 */
#ifndef OWL_OSERVE_H
#define OWL_OSERVE_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct chan_origin;
struct chan_origin_done;
struct conf;
struct oserve;

#define OSERVE_COUNTERS(X)						\
	X(origin_fetches,	"files fetched whole from origins")	\
	X(origin_bytes,		"bytes fetched from origins")		\
	X(origin_errors,	"fetches that failed")			\
	X(origin_not_modified,	"revalidations answered 304")		\
	X(origin_stale_served,	"reads served a stale copy")		\
	X(cache_hits,		"reads served from the cache")		\
	X(cache_misses,		"reads that waited for a fetch")	\
	X(cache_evictions,	"files evicted for cache_max_bytes")	\
	X(cache_bytes,		"bytes in the cache (a gauge)")		\
	X(cache_files,		"files in the cache (a gauge)")

struct oserve_counters {
#define OSERVE_X_FIELD(name, help)	uint64_t name;
	OSERVE_COUNTERS(OSERVE_X_FIELD)
#undef OSERVE_X_FIELD
};

/* Send an answer to the worker of pid (gone: dropped). */
typedef void	 oserve_reply_fn(void *arg, pid_t pid,
		    const struct chan_origin_done *);

/* Open conf's cache_dir and serve from it; NULL and *cause if not. */
struct oserve	*oserve_new(struct event_base *, const struct conf *,
		    oserve_reply_fn *, void *arg, char **cause);
void		 oserve_free(struct oserve *);
/* Can conf be served by o (a reload)?  -1 and *cause if not. */
int		 oserve_check(const struct oserve *, const struct conf *,
		    char **cause);
/* Take conf's sizes and times (a reload has committed). */
void		 oserve_configure(struct oserve *, const struct conf *);

void		 oserve_ask(struct oserve *, pid_t pid,
		    const struct chan_origin *);

void		 oserve_counters(const struct oserve *,
		    struct oserve_counters *);

/* One line per cached file, for owlctl cache list. */
struct oserve_file {
	const char	*name;
	const char	*url;
	uint64_t	 size;
	uint64_t	 age_s;
	int		 fresh;
};
void		 oserve_each(struct oserve *,
		    void (*fn)(const struct oserve_file *, void *), void *arg);
/* Remove the cached files that serve name; how many. */
size_t		 oserve_purge(struct oserve *, const char *name);

#endif
