/* Prometheus text exposition of the counters at /metrics (evhttp). */
#ifndef OWL_METRICS_H
#define OWL_METRICS_H

#include <event2/event.h>

struct conf_listen;
struct master;
struct metrics;

/* Serve on a parsed metrics_listen; NULL and *cause if not. */
struct metrics	*metrics_new(struct event_base *,
		    const struct conf_listen *, struct master *, char **cause);
void		 metrics_free(struct metrics *);
/* The port it listens on (for port 0). */
int		 metrics_port(const struct metrics *);

#endif
