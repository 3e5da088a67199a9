/*
 * What the control commands and /metrics show of the master: a snapshot,
 * struct master_view, that master_view() fills and that is rendered here
 * as key=value lines, JSON or the Prometheus text format.  Pure: it knows
 * no master and does no I/O but on the FILE it is given, so every
 * rendering is pinned by tests/check_report.c.
 *
 * Three X-macro lists, beside STATS_FIELDS, are the columns: the server's
 * gauges, a worker's row and a live transfer's row.  Each generates its
 * struct and drives every rendering of it.
 */
#ifndef OWL_REPORT_H
#define OWL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oserve.h"
#include "stats.h"

/* Column kinds: a number or a NUL-terminated text. */
#define REPORT_T_NUM	int64_t
#define REPORT_T_TEXT	const char *

/*
 * X(name, kv key, Prometheus gauge after "owltftpd_", help): the gauges
 * that head owlctl stats (every format) and /metrics.  JSON uses name.
 */
#define REPORT_SERVER_FIELDS(X)						\
	X(uptime,		"uptime",		"uptime_seconds",	\
	    "Seconds since the server started.")			\
	X(generation,		"generation",		"generation",	\
	    "Configuration generation (1 + reloads).")			\
	X(workers_alive,	"workers.alive",	"workers_alive",	\
	    "Worker processes running.")				\
	X(transfers_active,	"transfers.active",	"transfers_active", \
	    "Transfers in progress.")

/* Where a worker column is shown (a worker row's "where" bits). */
#define REPORT_IN_STATS		0x1	/* owlctl stats: worker.N.name */
#define REPORT_IN_JSON		0x2	/* owlctl stats json: workers[] */
#define REPORT_IN_LIST		0x4	/* owlctl workers: worker.N.name */
#define REPORT_IN_ALL		0x7

/* X(name, kind, where): a worker's row, in the order it is printed. */
#define REPORT_WORKER_FIELDS(X)						\
	X(slot,		NUM,	REPORT_IN_ALL)				\
	X(pid,		NUM,	REPORT_IN_ALL)				\
	X(generation,	NUM,	REPORT_IN_ALL)				\
	X(uptime,	NUM,	REPORT_IN_LIST)				\
	X(active,	NUM,	REPORT_IN_ALL)				\
	X(state,	TEXT,	REPORT_IN_LIST | REPORT_IN_JSON)

/*
 * X(name, kind): a live transfer as its worker described it (struct
 * chan_xfer_rec has the same names), printed after the row's worker (its
 * slot) and pid.
 */
#define REPORT_XFER_FIELDS(X)						\
	X(peer,		TEXT)						\
	X(op,		TEXT)						\
	X(file,		TEXT)						\
	X(state,	TEXT)						\
	X(bytes,	NUM)						\
	X(total,	NUM)						\
	X(blksize,	NUM)						\
	X(windowsize,	NUM)						\
	X(age_ms,	NUM)

#define REPORT_X_SERVER_MEMBER(name, kv, prom, help)	int64_t name;
#define REPORT_X_WORKER_MEMBER(name, kind, where)	REPORT_T_##kind name;
#define REPORT_X_XFER_MEMBER(name, kind)		REPORT_T_##kind name;

struct report_server {
	REPORT_SERVER_FIELDS(REPORT_X_SERVER_MEMBER)
};

struct report_worker {
	REPORT_WORKER_FIELDS(REPORT_X_WORKER_MEMBER)
	struct stats		 stats;		/* its own, since it started */
};

struct report_xfer {
	int64_t			 worker;	/* slot */
	int64_t			 pid;
	REPORT_XFER_FIELDS(REPORT_X_XFER_MEMBER)
};

/* The master at one moment; master_view() fills it, read-only here. */
struct master_view {
	const char		*version;
	int64_t			 pid;
	struct report_server	 server;
	uint64_t		 reloads;
	const char		*config;	/* the configuration file */
	char			**listen;	/* bound addresses, as text */
	size_t			 nlisten;
	int			 listen_port;	/* of the first one */
	int64_t			 workers_configured;
	int			 stopping;
	const char		*reload_error;	/* last failed reload, or NULL */
	struct stats		 total;		/* since the last stats reset */
	struct stats		 total_since_start;
	struct report_worker	*workers;	/* the newest first */
	size_t			 nworkers;
	struct stats		*slots;		/* per slot, since the start */
	size_t			 nslots;
	struct report_xfer	*xfers;		/* only in a transfers answer */
	size_t			 nxfers;
	int			 origins;	/* an origin cache runs */
	struct oserve_counters	 origin;	/* its counters (the master's
						   own, since the start) */
};

/* owlctl status. */
void	 report_status(const struct master_view *, FILE *);
/* owlctl stats: gauges, total.NAME, then worker.N rows. */
void	 report_stats_kv(const struct master_view *, FILE *);
/* owlctl stats json: one object and a newline. */
void	 report_stats_json(const struct master_view *, FILE *);
/*
 * owlctl stats prometheus and /metrics: counters since the start (stats
 * reset does not touch them) and one series per slot.  -1 if out of
 * memory (the text is then incomplete).
 */
int	 report_prometheus(const struct master_view *, FILE *);
/* owlctl workers. */
void	 report_workers(const struct master_view *, FILE *);
/* owlctl transfers. */
void	 report_transfers(const struct master_view *, FILE *);

/* For docs and tests: the server gauges' names. */
size_t	 report_server_count(void);
const char *report_server_kv(size_t i);
const char *report_server_json(size_t i);
const char *report_server_prom(size_t i);

#endif
