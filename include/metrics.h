/*
 * A GET /metrics endpoint (evhttp): it serves whatever render writes, at
 * once, and knows nothing of what it serves.
 */
#ifndef OWL_METRICS_H
#define OWL_METRICS_H

#include <stdio.h>

#include <event2/event.h>

struct conf_listen;
struct metrics;

/* Write the page to fp; -1 if it could not (the scrape gets a 500). */
typedef int (*metrics_render_fn)(FILE *fp, void *arg);

/* Serve on a parsed metrics_listen; NULL and *cause if not. */
struct metrics	*metrics_new(struct event_base *, const struct conf_listen *,
		    metrics_render_fn render, void *arg, char **cause);
void		 metrics_free(struct metrics *);
/* The port it listens on (for port 0). */
int		 metrics_port(const struct metrics *);

#endif
