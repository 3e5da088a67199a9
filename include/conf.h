/*
 * Configuration: a libconfig file (and command-line overrides) turned into
 * a validated, immutable struct conf.  One schema table drives parsing,
 * defaults, ranges, the CLI overrides and the sample file's documentation.
 */
#ifndef OWL_CONF_H
#define OWL_CONF_H

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fs.h"
#include "xfer-conf.h"

#define CONF_DEFAULT_PATH	SYSCONFDIR "/owltftpd/owltftpd.conf"
#define CONF_LISTEN_MAX		16
#define CONF_WORKERS_MAX	64

/* io_backend: how workers move datagrams (io.h, io-uring.h). */
#define CONF_IO_MMSG		0	/* recvmmsg()/sendmmsg() */
#define CONF_IO_URING		1	/* io_uring, where the kernel allows */

/*
 * Typed values: each is parsed once, when it is set, and keeps the text
 * as written for messages and conf_dump().
 */

/* An address (listen, metrics_listen); addrlen 0: not set. */
struct conf_listen {
	struct sockaddr_storage	 addr;	/* port filled in (may be 0) */
	socklen_t		 addrlen;
	int			 hasport;	/* the text gave a port */
	char			 text[80];	/* as written, for messages */
};

/* port_range "LO:HI"; lo = hi = 0 ("") means any port. */
struct conf_port_range {
	int			 lo;
	int			 hi;
	char			 text[12];
};

/* multicast.address_range "ADDR" or "ADDR-ADDR". */
struct conf_mcast_range {
	uint32_t		 first;	/* host byte order */
	uint32_t		 last;
	char			 text[32];
};

/* multicast.address_range6; count 0 ("") means no IPv6 groups. */
struct conf_mcast_range6 {
	struct in6_addr		 first;
	uint32_t		 count;
	char			 text[96];
};

struct conf {
	char			*path;		/* file it came from or NULL */

	/* serving */
	char			*root;
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	int			 listen_cli;	/* conf.c only: the command line
						   has replaced the file's list */
	int			 port;
	int			 workers;	/* resolved: >= 1 */
	size_t			 worker_share;	/* derived: each worker's share
						   of max_transfers, rounded
						   up */

	/* privileges */
	char			*user;
	char			*group;		/* NULL: the user's group */
	int			 chroot;

	/*
	 * What transfers read (xfer-conf.h): uploads, the option limits,
	 * the timers, unique_root, the access lists and remap.  Workers
	 * lend it to their transfers as it is.
	 */
	struct xfer_conf	 xfer;

	/* protocol */
	unsigned		 max_transfers;	/* in all; workers share it */
	unsigned		 max_transfers_per_client;	/* 0 = none */
	unsigned		 request_rate;	/* per client per s, 0 = none */
	unsigned		 request_burst;
	struct conf_port_range	 port_range;
	int			 single_port;
	int			 io_backend;	/* CONF_IO_MMSG, CONF_IO_URING */
	int			 balance;	/* new reads to the least busy
						   worker (loadboard.h) */

	/* sockets */
	int			 so_rcvbuf;
	int			 so_sndbuf;

	/* policy: what conf->xfer.remap is built from */
	int			 remap_strip_nonprint;
	int			 remap_backslash;
	int			 remap_lowercase;
	char			*remap_file;	/* tftp-hpa rules, "" = none */

	/* operation */
	char			*pid_file;	/* "" = none */
	char			*control_socket;	/* "" = none */
	char			*control_owner;
	char			*control_group;
	mode_t			 control_mode;
	int			 drain_timeout;	/* seconds */
	int			 stats_interval_ms;
	struct conf_listen	 metrics_listen;	/* addrlen 0: off */

	/* RFC 2090 multicast (the group multicast = { ... } in the file) */
	int			 mcast_enable;
	struct conf_mcast_range	 mcast_range;
	struct conf_mcast_range6 mcast_range6;
	int			 mcast_port;
	int			 mcast_ttl;
	char			*mcast_interface;	/* "" = request's */

	/* the cache of HTTP origins' files (the origins: xfer.origins) */
	char			*cache_dir;
	int64_t			 cache_max_bytes;
	int			 cache_ttl;	/* seconds */

	/* logging */
	int			 log_format;	/* 0 text, 1 json */
	char			*audit_file;	/* "" = none */
	int			 log_level;	/* syslog priority */
	char			*log_file;	/* "" = stderr or syslog */
};

/* A struct conf with every default; listen not yet resolved. */
struct conf	*conf_new(void);
void		 conf_free(struct conf *);

/*
 * Read a libconfig file into conf (over its current values).  On error
 * returns -1 and *cause is "file:line: problem" (caller frees).
 * A missing file is an error only if must_exist.
 */
int		 conf_read_file(struct conf *, const char *path, int must_exist,
		    char **cause);
/* Same, from a string (for tests); messages say "<string>:line". */
int		 conf_read_string(struct conf *, const char *text, char **cause);

/*
 * Set one key from a command-line value, as text ("root", "/srv"),
 * validated exactly as the file would be.
 */
int		 conf_set(struct conf *, const char *key, const char *value,
		    char **cause);

/*
 * Finish after all sources are read: resolve listen addresses (default
 * 0.0.0.0 and ::), apply the port, resolve workers = 0 to the number of
 * online CPUs, derive worker_share, read remap_file (its rules go before
 * those of remap) and check what spans several keys (the multicast
 * pools and port_range against workers).  -1 and *cause on error.
 */
int		 conf_finish(struct conf *, char **cause);

/*
 * Where a configuration comes from: a file, then command-line
 * overrides, then -v.  main() fills it once; a reload rebuilds the
 * configuration from the same source.
 */
#define CONF_OVERRIDES_MAX	64

struct conf_source {
	const char	*path;
	int		 must_exist;
	size_t		 n;
	const char	*keys[CONF_OVERRIDES_MAX];
	const char	*values[CONF_OVERRIDES_MAX];
	int		 verbose;	/* raise log_level this many steps */
};

/* Read, override and finish a new conf; NULL and *cause on error. */
struct conf	*conf_build(const struct conf_source *, char **cause);

/* A key the command line sets as owltftpd --FLAG ARG (from the schema). */
struct conf_option {
	const char	*flag;	/* without the dashes: "blksize-max" */
	const char	*arg;	/* the argument, for -h: "N" */
	const char	*key;	/* for conf_set(): "blksize_max" */
	const char	*help;	/* one line */
};

/*
 * Fill up to max options in schema order; return how many there are
 * (conf_options(NULL, 0) counts them).
 */
size_t		 conf_options(struct conf_option *, size_t max);

/* Print every key with its value (for -t -v). */
void		 conf_dump(const struct conf *, FILE *);

const char	*conf_uploads_str(enum fs_upload_policy);

#endif
