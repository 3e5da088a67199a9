/*
 * Configuration.  One const schema table (the tmux options-table model)
 * names every key with its type, range, default and help; the file reader,
 * the command-line setter, the defaults and conf_dump() are all driven by
 * it.  A file is applied in two steps, parse every setting into a value
 * then store them all, so a bad file leaves the struct conf as it was.
 *
 * The access lists and the remap rules are compiled when they are parsed
 * (acl_add(), remap_add()), so a bad rule is a "FILE:LINE:" error at
 * load.  The rules are also kept as written, in the part of the
 * allocation only conf.c sees (struct conf_priv), for conf_dump().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "acl.h"
#include "compat.h"
#include "conf.h"
#include "fs.h"
#include "log.h"
#include "mcast.h"
#include "remap.h"
#include "sock.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

#define CONF_FILE_MAX	(1024 * 1024)	/* largest config file read */
#define CONF_MSG_MAX	512		/* longest problem text */

enum conf_type {
	CONF_T_STRING,		/* min/max: length */
	CONF_T_INT,
	CONF_T_BOOL,
	CONF_T_CHOICE,		/* a string from the entry's choices */
	CONF_T_OCTAL,		/* a string of octal digits */
	CONF_T_LISTEN,		/* a string or a list of them */
	CONF_T_ACL,		/* a string or a list of them: acl rules */
	CONF_T_REMAP,		/* a list of groups: remap rules */
	CONF_T_ADDR,		/* ADDR:PORT or [ADDR]:PORT, "" = unset;
				   min/max: length */
	CONF_T_PORTRANGE,	/* LO:HI, "" = any; min/max: length */
	CONF_T_MCRANGE,		/* IPv4 groups ADDR[-ADDR]; min/max: length */
	CONF_T_MCRANGE6,	/* IPv6 groups ADDR[-ADDR], "" = none */
};

struct conf_choice {
	const char	*name;
	int		 value;
};

struct conf_entry {
	const char			*name;
	enum conf_type			 type;
	long long			 min;
	long long			 max;
	const char			*dflt;	/* text; NULL: unset */
	const struct conf_choice	*choices;
	size_t				 off;	/* in struct conf */
	size_t				 size;
	size_t				 aux;	/* in struct conf_priv: the
						   text kept for conf_dump() */
	const char			*help;	/* one line */
};

/* An access list's rules as written. */
struct conf_acl_text {
	char		**rules;
	size_t		  n;
};

/* One remap rule as written (match and replace are owned). */
struct conf_remap_rule {
	char			*match;
	char			*replace;	/* NULL: not given */
	unsigned		 ops;		/* REMAP_OP_* mask */
	int			 action;	/* enum remap_action */
	int			 icase;
	int			 last;
	int			 global;
};

struct conf_remap_text {
	struct conf_remap_rule	*rules;
	size_t			 n;
};

/*
 * What conf_new() allocates: the public struct first, so a struct conf
 * pointer is also a pointer to this, then what only conf.c sees.
 */
struct conf_priv {
	struct conf		 pub;
	struct conf_acl_text	 read_acl;
	struct conf_acl_text	 write_acl;
	struct conf_remap_text	 remap;
};

/*
 * One parsed value, before it is stored.  The acl and remap members are
 * owned: conf_store() takes them, conf_value_clear() frees what is left.
 */
struct conf_value {
	long long		 num;
	const char		*str;	/* borrowed */
	struct conf_listen	 listen[CONF_LISTEN_MAX];	/* and ADDR */
	size_t			 nlisten;
	struct conf_port_range	 port_range;
	struct conf_mcast_range	 mcast_range;
	struct conf_mcast_range6 mcast_range6;
	struct acl		*acl;
	struct conf_acl_text	 acl_text;
	struct remap		*remap;
	struct conf_remap_text	 remap_text;
};

/* Where a value came from: a file and line, or the command line. */
struct conf_where {
	const char	*file;		/* NULL: the command line */
	unsigned	 line;
};

typedef int	 conf_text_fn(const struct conf_entry *, const char *,
		    const struct conf_where *, struct conf_value *, char **);
typedef int	 conf_list_fn(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
typedef void	 conf_dump_fn(const struct conf_entry *,
		    const struct conf *, FILE *);

struct conf_type_info {
	const char	*expect;	/* "expected ..." */
	unsigned	 accepts;	/* CONF_ACCEPT(libconfig type) bits */
	conf_text_fn	*from_text;
	conf_list_fn	*from_list;	/* arrays and lists, if accepted */
	conf_dump_fn	*dump;
};

static char	*conf_msg(const struct conf_where *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static const struct conf_entry *conf_find(const char *);
static void	 conf_fmt_num(const struct conf_entry *, long long, char *,
		    size_t);
static int	 conf_check_range(const struct conf_entry *, long long,
		    const char *, const struct conf_where *, char **);
static int	 conf_range_error(const struct conf_entry *, int,
		    const char *, const struct conf_where *, char **);
static int	 conf_choice_find(const struct conf_choice *, const char *,
		    int *);
static const char *conf_choice_name(const struct conf_choice *, int);
static void	 conf_choice_join(const struct conf_choice *, char *,
		    size_t);
static void	 conf_store(struct conf *, const struct conf_entry *,
		    struct conf_value *);
static long long conf_load(const struct conf *, const struct conf_entry *);
static int	 conf_from_setting(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
static int	 conf_parse(const config_setting_t *, const char *,
		    const char *, const struct conf_entry **,
		    struct conf_value *, char **);
static void	 conf_value_init(struct conf_value *);
static void	 conf_value_clear(struct conf_value *);
static void	 conf_sync(struct conf *);
static void	 conf_where_setting(struct conf_where *,
		    const config_setting_t *, const char *);
static const char *conf_setting_type_name(int);
static int	 conf_read_text(struct conf *, const char *, const char *,
		    char **);
static int	 conf_scan_ints(const char *, const char *, char **);
static int	 conf_listen_parse(const char *, struct conf_listen *,
		    const char **);
static int	 conf_text_length(const struct conf_entry *, const char *,
		    const struct conf_where *, char **);
static int	 conf_finish_error(const struct conf *, char **,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static int	 conf_listen_add(const struct conf_entry *,
		    struct conf_listen *, size_t *, const struct conf_listen *,
		    const struct conf_where *, char **);
static struct acl *conf_acl_new(void);
static int	 conf_acl_rule(const struct conf_entry *, const char *,
		    const struct conf_where *, struct conf_value *, char **);
static void	 conf_acl_text_free(struct conf_acl_text *);
static int	 conf_remap_group(const char *, const config_setting_t *,
		    const struct conf_where *, struct conf_remap_rule *,
		    char **);
static void	 conf_remap_rule_free(struct conf_remap_rule *);
static void	 conf_remap_text_free(struct conf_remap_text *);
static void	 conf_dump_quoted(FILE *, const char *);
static int	 conf_slurp(const char *, int, char **, size_t *, char **);
static int	 conf_remap_file(struct conf *, char **);

static conf_text_fn	 text_string, text_int, text_bool, text_choice,
			 text_octal, text_listen, text_acl, text_remap,
			 text_addr, text_port_range, text_mcast_range,
			 text_mcast_range6;
static conf_list_fn	 list_listen, list_acl, list_remap;
static conf_dump_fn	 dump_string, dump_int, dump_bool, dump_choice,
			 dump_octal, dump_listen, dump_acl, dump_remap,
			 dump_typed;

#define CONF_ACCEPT(t)	(1U << (t))
#define CONF_FIELD(m)	.off = offsetof(struct conf, m),		\
			.size = sizeof(((struct conf *)0)->m)
#define CONF_AUX(m)	.aux = offsetof(struct conf_priv, m)
#define CONF_PRIV(c)	((struct conf_priv *)(c))
#define CONF_CPRIV(c)	((const struct conf_priv *)(c))

static const struct conf_type_info conf_types[] = {
	[CONF_T_STRING] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_string, NULL, dump_string },
	[CONF_T_INT] = { "an integer",
	    CONF_ACCEPT(CONFIG_TYPE_INT) | CONF_ACCEPT(CONFIG_TYPE_INT64),
	    text_int, NULL, dump_int },
	[CONF_T_BOOL] = { "a boolean (true or false)",
	    CONF_ACCEPT(CONFIG_TYPE_BOOL), text_bool, NULL, dump_bool },
	[CONF_T_CHOICE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_choice, NULL, dump_choice },
	[CONF_T_OCTAL] = { "a string of octal digits",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_octal, NULL, dump_octal },
	[CONF_T_LISTEN] = { "a string or a list of strings",
	    CONF_ACCEPT(CONFIG_TYPE_STRING) | CONF_ACCEPT(CONFIG_TYPE_ARRAY) |
	    CONF_ACCEPT(CONFIG_TYPE_LIST), text_listen, list_listen,
	    dump_listen },
	[CONF_T_ACL] = { "a string or a list of strings",
	    CONF_ACCEPT(CONFIG_TYPE_STRING) | CONF_ACCEPT(CONFIG_TYPE_ARRAY) |
	    CONF_ACCEPT(CONFIG_TYPE_LIST), text_acl, list_acl, dump_acl },
	[CONF_T_REMAP] = { "a list of groups",
	    CONF_ACCEPT(CONFIG_TYPE_LIST), text_remap, list_remap,
	    dump_remap },
	[CONF_T_ADDR] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_addr, NULL, dump_typed },
	[CONF_T_PORTRANGE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_port_range, NULL,
	    dump_typed },
	[CONF_T_MCRANGE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_mcast_range, NULL,
	    dump_typed },
	[CONF_T_MCRANGE6] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_mcast_range6, NULL,
	    dump_typed },
};

static const char *const conf_setting_types[] = {
	[CONFIG_TYPE_NONE] = "nothing",
	[CONFIG_TYPE_GROUP] = "a group",
	[CONFIG_TYPE_INT] = "an integer",
	[CONFIG_TYPE_INT64] = "an integer",
	[CONFIG_TYPE_FLOAT] = "a float",
	[CONFIG_TYPE_STRING] = "a string",
	[CONFIG_TYPE_BOOL] = "a boolean",
	[CONFIG_TYPE_ARRAY] = "an array",
	[CONFIG_TYPE_LIST] = "a list",
};

static const struct conf_choice conf_bool_words[] = {
	{ "true", 1 }, { "false", 0 },
	{ "yes", 1 }, { "no", 0 },
	{ "on", 1 }, { "off", 0 },
	{ "1", 1 }, { "0", 0 },
	{ NULL, 0 }
};

static const struct conf_choice conf_uploads_choices[] = {
	{ "off", FS_UPLOAD_OFF },
	{ "create", FS_UPLOAD_CREATE },
	{ "overwrite", FS_UPLOAD_OVERWRITE },
	{ "existing", FS_UPLOAD_EXISTING },
	{ NULL, 0 }
};

static const struct conf_choice conf_unique_root_choices[] = {
	{ "off", 0 },
	{ "ip", 1 },
	{ NULL, 0 }
};

static const struct conf_choice conf_remap_ops[] = {
	{ "read", REMAP_OP_READ },
	{ "write", REMAP_OP_WRITE },
	{ "both", REMAP_OP_READ | REMAP_OP_WRITE },
	{ NULL, 0 }
};

static const struct conf_choice conf_remap_actions[] = {
	{ "rewrite", REMAP_REWRITE },
	{ "deny", REMAP_DENY },
	{ NULL, 0 }
};

/* The members of a remap group. */
enum conf_remap_member {
	CONF_RM_MATCH,
	CONF_RM_REPLACE,
	CONF_RM_OP,
	CONF_RM_ACTION,
	CONF_RM_ICASE,
	CONF_RM_LAST,
	CONF_RM_GLOBAL,
};

static const struct {
	const char			*name;
	enum conf_remap_member		 member;
	enum conf_type			 type;	/* CONF_T_STRING, _CHOICE
						   or _BOOL */
	const struct conf_choice	*choices;
} conf_remap_members[] = {
	{ "match", CONF_RM_MATCH, CONF_T_STRING, NULL },
	{ "replace", CONF_RM_REPLACE, CONF_T_STRING, NULL },
	{ "op", CONF_RM_OP, CONF_T_CHOICE, conf_remap_ops },
	{ "action", CONF_RM_ACTION, CONF_T_CHOICE, conf_remap_actions },
	{ "icase", CONF_RM_ICASE, CONF_T_BOOL, NULL },
	{ "last", CONF_RM_LAST, CONF_T_BOOL, NULL },
	{ "global", CONF_RM_GLOBAL, CONF_T_BOOL, NULL },
};

static const struct conf_choice conf_log_formats[] = {
	{ "text", 0 },
	{ "json", 1 },
	{ NULL, 0 }
};

static const struct conf_choice conf_log_levels[] = {
	{ "error", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
	{ NULL, 0 }
};

/* Used when listen is never set. */
static const char *const conf_listen_defaults[] = { "0.0.0.0", "::" };

/*
 * The master copy of every key.  Numeric fields are int-sized or 64 bits
 * wide (conf_store() checks), and every range is non-negative.
 */
static const struct conf_entry conf_table[] = {
	{ .name = "root", .type = CONF_T_STRING, .min = 1, .max = PATH_MAX - 1,
	  .dflt = "/srv/tftp", CONF_FIELD(root),
	  .help = "directory served; clients cannot leave it" },
	{ .name = "listen", .type = CONF_T_LISTEN, .min = 1,
	  .max = CONF_LISTEN_MAX, .dflt = NULL, CONF_FIELD(listen),
	  .help = "addresses to listen on: ADDR, ADDR:PORT, [ADDR] or "
	  "[ADDR]:PORT" },
	{ .name = "port", .type = CONF_T_INT, .min = 0, .max = 65535,
	  .dflt = "69", CONF_FIELD(port),
	  .help = "UDP port for listen addresses given without one "
	  "(0: any free port)" },
	{ .name = "workers", .type = CONF_T_INT, .min = 0,
	  .max = CONF_WORKERS_MAX, .dflt = "0", CONF_FIELD(workers),
	  .help = "worker processes (0: one per online CPU)" },
	{ .name = "user", .type = CONF_T_STRING, .min = 1, .max = 255,
	  .dflt = OWL_DEFAULT_USER, CONF_FIELD(user),
	  .help = "user the workers run as" },
	{ .name = "group", .type = CONF_T_STRING, .min = 1, .max = 255,
	  .dflt = NULL, CONF_FIELD(group),
	  .help = "group the workers run as (unset: the user's primary "
	  "group)" },
	{ .name = "chroot", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "false", CONF_FIELD(chroot),
	  .help = "chroot the workers into root" },
	{ .name = "uploads", .type = CONF_T_CHOICE, .dflt = "off",
	  .choices = conf_uploads_choices, CONF_FIELD(uploads),
	  .help = "write requests: off, create (new files only), overwrite "
	  "(new files and existing ones) or existing (existing files only)" },
	{ .name = "permission_check", .type = CONF_T_BOOL, .min = 0,
	  .max = 1, .dflt = "true", CONF_FIELD(permission_check),
	  .help = "serve only world-readable files, replace only "
	  "world-writable ones and create only files umask leaves "
	  "world-writable, as tftpd-hpa does without --permissive" },
	{ .name = "upload_fsync", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "true", CONF_FIELD(upload_fsync),
	  .help = "fsync an upload before it becomes visible" },
	{ .name = "umask", .type = CONF_T_OCTAL, .min = 0, .max = 0777,
	  .dflt = "022", CONF_FIELD(umask),
	  .help = "mask applied to the mode 0666 of uploaded files" },
	{ .name = "max_upload_size", .type = CONF_T_INT, .min = 0,
	  .max = INT64_MAX, .dflt = "0", CONF_FIELD(max_upload_size),
	  .help = "largest upload in bytes (0: no limit)" },
	{ .name = "blksize_max", .type = CONF_T_INT, .min = 0, .max = 65464,
	  .dflt = "0", CONF_FIELD(blksize_max),
	  .help = "largest blksize option granted (RFC 2348); 0: what fits "
	  "the MTU of the interface the request came in on" },
	{ .name = "windowsize_max", .type = CONF_T_INT, .min = 1,
	  .max = 65535, .dflt = "64", CONF_FIELD(windowsize_max),
	  .help = "largest windowsize option granted (RFC 7440)" },
	{ .name = "timeout_ms", .type = CONF_T_INT, .min = 10, .max = 255000,
	  .dflt = "1000", CONF_FIELD(timeout_ms),
	  .help = "first retransmit timeout when the client asks none" },
	{ .name = "rto_min_ms", .type = CONF_T_INT, .min = 1, .max = 60000,
	  .dflt = "200", CONF_FIELD(rto_min_ms),
	  .help = "floor of the retransmit timeout once it adapts to the "
	  "measured round trip" },
	{ .name = "retries", .type = CONF_T_INT, .min = 1, .max = 100,
	  .dflt = "5", CONF_FIELD(retries),
	  .help = "retransmissions before a transfer is abandoned" },
	{ .name = "max_transfers", .type = CONF_T_INT, .min = 1,
	  .max = 1048576, .dflt = "16384", CONF_FIELD(max_transfers),
	  .help = "concurrent transfers in all, shared evenly by the "
	  "workers" },
	{ .name = "max_transfers_per_client", .type = CONF_T_INT, .min = 0,
	  .max = 65536, .dflt = "0", CONF_FIELD(max_transfers_per_client),
	  .help = "concurrent transfers per client address in a worker "
	  "(0: no limit)" },
	{ .name = "request_rate", .type = CONF_T_INT, .min = 0,
	  .max = 1000000, .dflt = "0", CONF_FIELD(request_rate),
	  .help = "requests per second accepted from one client address "
	  "(0: no limit)" },
	{ .name = "request_burst", .type = CONF_T_INT, .min = 1,
	  .max = 1000000, .dflt = "20", CONF_FIELD(request_burst),
	  .help = "requests a client address may send at once before "
	  "request_rate applies" },
	{ .name = "unique_root", .type = CONF_T_CHOICE, .dflt = "off",
	  .choices = conf_unique_root_choices, CONF_FIELD(unique_root),
	  .help = "off, or ip: serve root/CLIENT-ADDRESS/ first, falling "
	  "back to root for reads" },
	{ .name = "port_range", .type = CONF_T_PORTRANGE, .min = 0, .max = 11,
	  .dflt = "", CONF_FIELD(port_range),
	  .help = "LO:HI: transfer sockets bind a port in this range "
	  "(empty: any)" },
	{ .name = "single_port", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "false", CONF_FIELD(single_port),
	  .help = "serve transfers from the listen socket itself (for NAT "
	  "and containers that forward only the listen port)" },
	{ .name = "so_rcvbuf", .type = CONF_T_INT, .min = 0,
	  .max = 1073741824, .dflt = "4194304", CONF_FIELD(so_rcvbuf),
	  .help = "socket receive buffer in bytes (0: kernel default)" },
	{ .name = "so_sndbuf", .type = CONF_T_INT, .min = 0,
	  .max = 1073741824, .dflt = "4194304", CONF_FIELD(so_sndbuf),
	  .help = "socket send buffer in bytes (0: kernel default)" },
	{ .name = "read_acl", .type = CONF_T_ACL, .dflt = NULL,
	  CONF_FIELD(read_acl), CONF_AUX(read_acl),
	  .help = "who may read: \"allow|deny CIDR|all\" rules, first match "
	  "wins (empty: everyone)" },
	{ .name = "write_acl", .type = CONF_T_ACL, .dflt = NULL,
	  CONF_FIELD(write_acl), CONF_AUX(write_acl),
	  .help = "who may write: \"allow|deny CIDR|all\" rules, first match "
	  "wins (empty: everyone)" },
	{ .name = "remap", .type = CONF_T_REMAP, .dflt = NULL,
	  CONF_FIELD(remap), CONF_AUX(remap),
	  .help = "file name rewriting rules: a list of { match; replace; "
	  "op; action; icase; last; global; } groups" },
	{ .name = "remap_strip_nonprint", .type = CONF_T_BOOL, .min = 0,
	  .max = 1, .dflt = "false", CONF_FIELD(remap_strip_nonprint),
	  .help = "drop a trailing run of control bytes from file names" },
	{ .name = "remap_backslash", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "true", CONF_FIELD(remap_backslash),
	  .help = "turn backslashes in file names into slashes" },
	{ .name = "remap_lowercase", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "false", CONF_FIELD(remap_lowercase),
	  .help = "lowercase ASCII letters in file names" },
	{ .name = "remap_file", .type = CONF_T_STRING, .min = 0,
	  .max = PATH_MAX - 1, .dflt = "", CONF_FIELD(remap_file),
	  .help = "a tftp-hpa remap file (in.tftpd --map-file), read at "
	  "each load; its rules run before those of remap (empty: none)" },
	{ .name = "pid_file", .type = CONF_T_STRING, .min = 0,
	  .max = PATH_MAX - 1, .dflt = OWL_DEFAULT_PID_FILE,
	  CONF_FIELD(pid_file),
	  .help = "file holding the master's PID, locked while it runs "
	  "(empty: none)" },
	{ .name = "control_socket", .type = CONF_T_STRING, .min = 0,
	  .max = 107, .dflt = OWL_DEFAULT_CONTROL_SOCKET,
	  CONF_FIELD(control_socket),
	  .help = "Unix socket owlctl talks to (empty: none)" },
	{ .name = "control_owner", .type = CONF_T_STRING, .min = 1,
	  .max = 255, .dflt = "root", CONF_FIELD(control_owner),
	  .help = "owner of the control socket" },
	{ .name = "control_group", .type = CONF_T_STRING, .min = 1,
	  .max = 255, .dflt = "root", CONF_FIELD(control_group),
	  .help = "group of the control socket" },
	{ .name = "control_mode", .type = CONF_T_OCTAL, .min = 0, .max = 0777,
	  .dflt = "660", CONF_FIELD(control_mode),
	  .help = "permissions of the control socket" },
	{ .name = "drain_timeout", .type = CONF_T_INT, .min = 1,
	  .max = 86400, .dflt = "300", CONF_FIELD(drain_timeout),
	  .help = "seconds a reloaded or gracefully stopped worker may take "
	  "to finish its transfers" },
	{ .name = "stats_interval_ms", .type = CONF_T_INT, .min = 100,
	  .max = 60000, .dflt = "1000", CONF_FIELD(stats_interval_ms),
	  .help = "how often workers report their counters to the master" },
	{ .name = "metrics_listen", .type = CONF_T_ADDR, .min = 0,
	  .max = 79, .dflt = "", CONF_FIELD(metrics_listen),
	  .help = "ADDR:PORT serving Prometheus metrics at /metrics "
	  "(empty: off)" },
	{ .name = "log_format", .type = CONF_T_CHOICE, .dflt = "text",
	  .choices = conf_log_formats, CONF_FIELD(log_format),
	  .help = "text: key=value lines; json: one JSON object per event "
	  "(docs/logging.md)" },
	{ .name = "audit_file", .type = CONF_T_STRING, .min = 0,
	  .max = PATH_MAX - 1, .dflt = "", CONF_FIELD(audit_file),
	  .help = "write JSON audit events to this file, reopened on "
	  "SIGUSR1 (empty: none)" },
	{ .name = "log_level", .type = CONF_T_CHOICE, .dflt = "info",
	  .choices = conf_log_levels, CONF_FIELD(log_level),
	  .help = "least severe message logged: error, warning, notice, "
	  "info or debug" },
	{ .name = "log_file", .type = CONF_T_STRING, .min = 0,
	  .max = PATH_MAX - 1, .dflt = "", CONF_FIELD(log_file),
	  .help = "log to this file, reopened on SIGUSR1 (empty: standard "
	  "error with -F, syslog otherwise)" },
	/* "multicast.X" is the member X of the group multicast = { }. */
	{ .name = "multicast.enable", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "false", CONF_FIELD(mcast_enable),
	  .help = "grant the RFC 2090 multicast option to read requests "
	  "that ask for it" },
	{ .name = "multicast.address_range", .type = CONF_T_MCRANGE, .min = 1,
	  .max = 31, .dflt = "239.255.0.1-239.255.0.254",
	  CONF_FIELD(mcast_range),
	  .help = "ADDR or ADDR-ADDR: the IPv4 groups handed out, one per "
	  "file being served" },
	{ .name = "multicast.address_range6", .type = CONF_T_MCRANGE6,
	  .min = 0, .max = 95, .dflt = "", CONF_FIELD(mcast_range6),
	  .help = "ADDR or ADDR-ADDR: the IPv6 groups handed out (empty: "
	  "IPv6 clients are served by unicast)" },
	{ .name = "multicast.port", .type = CONF_T_INT, .min = 1,
	  .max = 65535, .dflt = "1758", CONF_FIELD(mcast_port),
	  .help = "destination UDP port of multicast DATA (1758 is "
	  "tftp-mcast)" },
	{ .name = "multicast.ttl", .type = CONF_T_INT, .min = 1, .max = 255,
	  .dflt = "1", CONF_FIELD(mcast_ttl),
	  .help = "time to live of multicast DATA (1: this link only)" },
	{ .name = "multicast.interface", .type = CONF_T_STRING, .min = 0,
	  .max = 15, .dflt = "", CONF_FIELD(mcast_interface),
	  .help = "interface multicast DATA leaves by (empty: the one the "
	  "request came in on)" },
};

#define CONF_NENTRIES	(sizeof conf_table / sizeof conf_table[0])

/*
 * A NULL default stores an empty value: an unset string, no listen
 * addresses (conf_finish() supplies them), an empty access list, no
 * remap rules.
 */
struct conf *
conf_new(void)
{
	struct conf_priv	*priv;
	struct conf		*conf;
	const struct conf_entry	*e;
	struct conf_value	 v;
	struct conf_where	 w = { "built-in default", 0 };
	char			*cause;

	priv = xcalloc(1, sizeof *priv);
	conf = &priv->pub;
	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++) {
		conf_value_init(&v);
		if (e->dflt != NULL && conf_types[e->type].from_text(e,
		    e->dflt, &w, &v, &cause) == -1)
			fatalx("%s", cause);
		conf_store(conf, e, &v);
		conf_value_clear(&v);
	}
	conf_sync(conf);
	return conf;
}

void
conf_free(struct conf *conf)
{
	struct conf_priv	*priv = CONF_PRIV(conf);
	const struct conf_entry	*e;
	char			*field;

	if (conf == NULL)
		return;
	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++) {
		field = (char *)conf + e->off;
		switch (e->type) {
		case CONF_T_STRING:
			free(*(char **)field);
			break;
		case CONF_T_ACL:
			acl_free(*(struct acl **)field);
			conf_acl_text_free((struct conf_acl_text *)
			    ((char *)priv + e->aux));
			break;
		case CONF_T_REMAP:
			remap_free(*(struct remap **)field);
			conf_remap_text_free((struct conf_remap_text *)
			    ((char *)priv + e->aux));
			break;
		default:
			break;
		}
	}
	free(conf->path);
	free(priv);
}

/*
 * Read all of path (at most CONF_FILE_MAX bytes, no NUL) into *textp
 * (NUL-terminated, caller frees).  With regular, only a regular file
 * will do, and a FIFO is not waited for.  -1 with *cause; errno says
 * ENOENT for a missing file.
 */
static int
conf_slurp(const char *path, int regular, char **textp, size_t *lenp,
    char **cause)
{
	FILE		*f;
	struct stat	 st;
	char		*text = NULL;
	size_t		 len;
	int		 fd, saved;

	*textp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NONBLOCK : 0));
	if (fd == -1 || (f = fdopen(fd, "r")) == NULL) {
		saved = errno;
		xasprintf(cause, "%s: cannot open: %s", path, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		errno = saved;
		return -1;
	}
	if (fstat(fileno(f), &st) == -1) {
		xasprintf(cause, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: cannot open: %s", path, strerror(EISDIR));
		goto fail;
	}
	if (regular && !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		goto fail;
	}
	text = xmalloc(CONF_FILE_MAX + 1);
	len = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f)) {
		xasprintf(cause, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (len > CONF_FILE_MAX) {
		xasprintf(cause, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
		goto fail;
	}
	if (memchr(text, '\0', len) != NULL) {
		xasprintf(cause, "%s: contains a NUL byte", path);
		goto fail;
	}
	text[len] = '\0';
	(void)fclose(f);
	*textp = text;
	*lenp = len;
	return 0;

fail:
	free(text);
	(void)fclose(f);
	errno = 0;
	return -1;
}

int
conf_read_file(struct conf *conf, const char *path, int must_exist,
    char **cause)
{
	char	*text;
	size_t	 len;
	int	 rc = -1;

	if (conf_slurp(path, 0, &text, &len, cause) == -1) {
		if (errno == ENOENT && !must_exist) {
			free(*cause);
			*cause = NULL;
			return 0;
		}
		return -1;
	}
	if (conf_read_text(conf, text, path, cause) == -1)
		goto out;
	free(conf->path);
	conf->path = xstrdup(path);
	rc = 0;
out:
	free(text);
	return rc;
}

/*
 * remap_file's rules, then the rules of remap (kept as written, so they
 * compile again), into a new remap that replaces conf->remap.  The file
 * is read at every load, so a reload takes its changes (as in.tftpd
 * rereads its map file on SIGHUP).
 */
static int
conf_remap_file(struct conf *conf, char **cause)
{
	const struct conf_remap_text	*rt = &CONF_PRIV(conf)->remap;
	const struct conf_remap_rule	*r;
	struct remap			*rm;
	char				*text, *why;
	size_t				 len, i;

	if (conf->remap_file[0] == '\0')
		return 0;
	if (conf_slurp(conf->remap_file, 1, &text, &len, &why) == -1) {
		(void)conf_finish_error(conf, cause, "remap_file: %s", why);
		free(why);
		return -1;
	}
	rm = remap_new();
	if (remap_load_hpa(rm, text, len, conf->remap_file, &why) == -1) {
		(void)conf_finish_error(conf, cause, "remap_file: %s", why);
		free(why);
		free(text);
		remap_free(rm);
		return -1;
	}
	free(text);
	for (i = 0; i < rt->n; i++) {
		r = &rt->rules[i];
		if (remap_add(rm, r->match, r->replace, r->ops,
		    (enum remap_action)r->action, r->icase, r->last, r->global,
		    &why) == -1)
			fatalx("remap[%zu] compiled once, not twice: %s", i + 1,
			    why);
	}
	remap_free(conf->remap);
	conf->remap = rm;
	return 0;
}

int
conf_read_string(struct conf *conf, const char *text, char **cause)
{
	return conf_read_text(conf, text, "<string>", cause);
}

int
conf_set(struct conf *conf, const char *key, const char *value,
    char **cause)
{
	const struct conf_entry	*e;
	struct conf_value	 v;
	struct conf_where	 w = { NULL, 0 };
	int			 rc = -1;

	if ((e = conf_find(key)) == NULL) {
		*cause = conf_msg(&w, key, "unknown key");
		return -1;
	}
	if (value == NULL) {
		*cause = conf_msg(&w, key, "missing value");
		return -1;
	}
	conf_value_init(&v);
	if (conf_types[e->type].from_text(e, value, &w, &v, cause) == -1)
		goto out;
	if (e->type != CONF_T_LISTEN) {
		conf_store(conf, e, &v);
		conf_sync(conf);
		rc = 0;
		goto out;
	}

	/* The first listen from the command line replaces the file's. */
	if (!conf->listen_cli) {
		conf->nlisten = 0;
		conf->listen_cli = 1;
	}
	rc = conf_listen_add(e, conf->listen, &conf->nlisten, &v.listen[0],
	    &w, cause);
out:
	conf_value_clear(&v);
	return rc;
}

/* What listen and port leave: the default addresses, every port. */
static void
conf_finish_listen(struct conf *conf)
{
	const char	*why;
	size_t		 i;

	if (conf->nlisten == 0) {
		for (i = 0; i < nitems(conf_listen_defaults); i++) {
			if (conf_listen_parse(conf_listen_defaults[i],
			    &conf->listen[i], &why) == -1)
				fatalx("listen default %s: %s",
				    conf_listen_defaults[i], why);
		}
		conf->nlisten = i;
	}
	for (i = 0; i < conf->nlisten; i++) {
		if (!conf->listen[i].hasport)
			sock_set_port((struct sockaddr *)&conf->listen[i].addr,
			    conf->port);
	}
}

/* workers = 0 is one per online CPU; each takes a share of the pool. */
static void
conf_finish_workers(struct conf *conf)
{
	long	 ncpu;

	if (conf->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu < 1)
			ncpu = 1;
		if (ncpu > CONF_WORKERS_MAX)
			ncpu = CONF_WORKERS_MAX;
		conf->workers = (int)ncpu;
	}
	conf->worker_share = (conf->max_transfers +
	    (size_t)conf->workers - 1) / (size_t)conf->workers;
}

/*
 * The address pools and the port range against the workers.  A file's
 * session lives in the worker a hash picks: each needs a group of its
 * own share of each pool, or its files are unicast.
 */
static int
conf_finish_pools(const struct conf *conf, char **cause)
{
	uint32_t	 n4, n6 = conf->mcast_range6.count;
	int		 ports, workers = conf->workers;

	n4 = conf->mcast_range.last - conf->mcast_range.first + 1;
	if (conf->mcast_enable && n4 < (uint32_t)workers)
		return conf_finish_error(conf, cause, "multicast.address_range: "
		    "%u addresses for %d workers (each worker needs one)", n4,
		    workers);
	if (conf->mcast_enable && n6 != 0 && n6 < (uint32_t)workers)
		return conf_finish_error(conf, cause,
		    "multicast.address_range6: %u addresses for %d workers "
		    "(each worker needs one)", n6, workers);
	/* Each worker needs a port, twice over while a reload drains. */
	ports = conf->port_range.hi - conf->port_range.lo + 1;
	if (conf->port_range.lo != 0 && ports < 2 * workers)
		return conf_finish_error(conf, cause, "port_range: %d ports for "
		    "%d workers (each worker needs one, and old and new workers "
		    "overlap during a reload: give at least %d)", ports, workers,
		    2 * workers);
	return 0;
}

int
conf_finish(struct conf *conf, char **cause)
{
	conf_finish_listen(conf);
	conf_finish_workers(conf);
	if (conf_remap_file(conf, cause) == -1 ||
	    conf_finish_pools(conf, cause) == -1)
		return -1;
	conf_sync(conf);
	return 0;
}

/* Group members ("group.key") are written inside "group = { ... };". */
const char *
conf_key_help(const char *key)
{
	const struct conf_entry	*e;

	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++)
		if (strcmp(e->name, key) == 0)
			return e->help;
	return NULL;
}

void
conf_dump(const struct conf *conf, FILE *f)
{
	const struct conf_entry	*e;
	const char		*dot;
	char			*text = NULL, *line, *save;
	size_t			 len = 0, glen = 0;
	const char		*group = NULL;
	FILE			*mem;

	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++) {
		dot = strchr(e->name, '.');
		if (group != NULL && (dot == NULL || (size_t)(dot - e->name) !=
		    glen || strncmp(e->name, group, glen) != 0)) {
			fprintf(f, "};\n");
			group = NULL;
		}
		if (dot == NULL) {
			conf_types[e->type].dump(e, conf, f);
			continue;
		}
		if (group == NULL) {
			group = e->name;
			glen = (size_t)(dot - e->name);
			fprintf(f, "%.*s = {\n", (int)glen, group);
		}
		if ((mem = open_memstream(&text, &len)) == NULL)
			fatal("open_memstream");
		conf_types[e->type].dump(e, conf, mem);
		(void)fclose(mem);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, e->name, glen + 1) == 0)
				line += glen + 1;
			fprintf(f, "\t%s\n", line);
		}
		free(text);
		text = NULL;
	}
	if (group != NULL)
		fprintf(f, "};\n");
}

const char *
conf_uploads_str(enum fs_upload_policy policy)
{
	const char	*name;

	name = conf_choice_name(conf_uploads_choices, (int)policy);
	return name != NULL ? name : "unknown";
}

/*
 * "FILE:LINE: key: problem", or "command line: --key: problem".
 */
static char *
conf_msg(const struct conf_where *w, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	 problem[CONF_MSG_MAX];
	char	*msg;

	va_start(ap, fmt);
	(void)vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	if (w->file == NULL)
		xasprintf(&msg, "command line: --%s: %s", key, problem);
	else
		xasprintf(&msg, "%s:%u: %s: %s", w->file, w->line, key,
		    problem);
	return msg;
}

/*
 * "FILE: problem" for what conf_finish() finds once every source is
 * read: it may span several keys, so it has no line.
 */
static int
conf_finish_error(const struct conf *conf, char **cause, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*problem;

	va_start(ap, fmt);
	if (vasprintf(&problem, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	xasprintf(cause, "%s: %s", conf->path != NULL ? conf->path :
	    "command line", problem);
	free(problem);
	return -1;
}

static const struct conf_entry *
conf_find(const char *name)
{
	const struct conf_entry	*e;

	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

static void
conf_fmt_num(const struct conf_entry *e, long long n, char *buf, size_t len)
{
	if (e->type == CONF_T_OCTAL)
		(void)snprintf(buf, len, "%#llo", n);
	else
		(void)snprintf(buf, len, "%lld", n);
}

/* shown: the value as the user wrote it, or NULL to print n. */
static int
conf_check_range(const struct conf_entry *e, long long n, const char *shown,
    const struct conf_where *w, char **cause)
{
	char	 value[32];

	if (n >= e->min && n <= e->max)
		return 0;
	if (shown == NULL) {
		conf_fmt_num(e, n, value, sizeof value);
		shown = value;
	}
	return conf_range_error(e, n > e->max, shown, w, cause);
}

static int
conf_range_error(const struct conf_entry *e, int above, const char *shown,
    const struct conf_where *w, char **cause)
{
	char	 limit[32];

	conf_fmt_num(e, above ? e->max : e->min, limit, sizeof limit);
	*cause = conf_msg(w, e->name, "%s is %s the %s %s", shown,
	    above ? "above" : "below", above ? "maximum" : "minimum", limit);
	return -1;
}

static int
conf_choice_find(const struct conf_choice *c, const char *name, int *value)
{
	for (; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0) {
			*value = c->value;
			return 0;
		}
	}
	return -1;
}

static const char *
conf_choice_name(const struct conf_choice *c, int value)
{
	for (; c->name != NULL; c++) {
		if (c->value == value)
			return c->name;
	}
	return NULL;
}

static void
conf_choice_join(const struct conf_choice *c, char *buf, size_t len)
{
	size_t	 off = 0;
	int	 n;

	buf[0] = '\0';
	for (; c->name != NULL && off < len; c++) {
		n = snprintf(buf + off, len - off, "%s%s",
		    off == 0 ? "" : ", ", c->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * Store v into conf.  An access list or remap value is taken (v keeps
 * NULL), and one that is still NULL (a default, an empty list) stores
 * an empty list.
 */
static void
conf_store(struct conf *conf, const struct conf_entry *e,
    struct conf_value *v)
{
	char			*field = (char *)conf + e->off;
	char			*aux = (char *)CONF_PRIV(conf) + e->aux;
	char			**sp;
	struct acl		**ap;
	struct remap		**rp;
	struct conf_acl_text	*at;
	struct conf_remap_text	*rt;
	int			 i;
	int64_t			 i64;

	switch (e->type) {
	case CONF_T_STRING:
		sp = (char **)field;
		free(*sp);
		*sp = v->str == NULL ? NULL : xstrdup(v->str);
		return;
	case CONF_T_LISTEN:
		memcpy(conf->listen, v->listen,
		    v->nlisten * sizeof v->listen[0]);
		conf->nlisten = v->nlisten;
		return;
	case CONF_T_ADDR:
		memcpy(field, &v->listen[0], sizeof v->listen[0]);
		return;
	case CONF_T_PORTRANGE:
		memcpy(field, &v->port_range, sizeof v->port_range);
		return;
	case CONF_T_MCRANGE:
		memcpy(field, &v->mcast_range, sizeof v->mcast_range);
		return;
	case CONF_T_MCRANGE6:
		memcpy(field, &v->mcast_range6, sizeof v->mcast_range6);
		return;
	case CONF_T_ACL:
		ap = (struct acl **)field;
		at = (struct conf_acl_text *)aux;
		acl_free(*ap);
		*ap = v->acl != NULL ? v->acl : conf_acl_new();
		v->acl = NULL;
		conf_acl_text_free(at);
		*at = v->acl_text;
		memset(&v->acl_text, 0, sizeof v->acl_text);
		return;
	case CONF_T_REMAP:
		rp = (struct remap **)field;
		rt = (struct conf_remap_text *)aux;
		remap_free(*rp);
		*rp = v->remap != NULL ? v->remap : remap_new();
		v->remap = NULL;
		conf_remap_text_free(rt);
		*rt = v->remap_text;
		memset(&v->remap_text, 0, sizeof v->remap_text);
		return;	/* conf_sync() sets the built-in switches */
	default:
		break;
	}

	/*
	 * Every numeric value is validated non-negative and within its
	 * field's range, so an int-sized field (int, unsigned, mode_t or an
	 * enum) holds the same bits whatever its signedness.
	 */
	if (e->size == sizeof i && v->num >= INT_MIN && v->num <= INT_MAX) {
		i = (int)v->num;
		memcpy(field, &i, sizeof i);
	} else if (e->size == sizeof i64) {
		i64 = v->num;
		memcpy(field, &i64, sizeof i64);
	} else
		fatalx("conf: %s: cannot store %lld in %zu bytes", e->name,
		    v->num, e->size);
}

static long long
conf_load(const struct conf *conf, const struct conf_entry *e)
{
	const char	*field = (const char *)conf + e->off;
	int		 i;
	int64_t		 i64;

	if (e->size == sizeof i64) {
		memcpy(&i64, field, sizeof i64);
		return i64;
	}
	memcpy(&i, field, sizeof i);
	return i;
}

/* Turn one top-level setting into a value for entry e. */
static int
conf_from_setting(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	const struct conf_type_info	*ti = &conf_types[e->type];
	struct conf_where		 w;
	int				 t = config_setting_type(s);

	conf_where_setting(&w, s, label);
	if (t < 0 || (size_t)t >= nitems(conf_setting_types) ||
	    (ti->accepts & CONF_ACCEPT(t)) == 0) {
		*cause = conf_msg(&w, e->name, "expected %s, got %s",
		    ti->expect, conf_setting_type_name(t));
		return -1;
	}
	switch (t) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v->num = config_setting_get_int64(s);
		return conf_check_range(e, v->num, NULL, &w, cause);
	case CONFIG_TYPE_BOOL:
		v->num = config_setting_get_bool(s);
		return 0;
	case CONFIG_TYPE_STRING:
		return ti->from_text(e, config_setting_get_string(s), &w, v,
		    cause);
	default:
		return ti->from_list(e, s, label, v, cause);
	}
}

/* Find the entry for one setting, named name, and parse its value. */
static int
conf_parse(const config_setting_t *s, const char *name, const char *label,
    const struct conf_entry **ep, struct conf_value *v, char **cause)
{
	struct conf_where	 w;

	if ((*ep = conf_find(name)) == NULL) {
		conf_where_setting(&w, s, label);
		*cause = conf_msg(&w, name, "unknown key");
		return -1;
	}
	return conf_from_setting(*ep, s, label, v, cause);
}

/* Is name the group part of some "group.key" entry? */
static int
conf_is_group(const char *name)
{
	const struct conf_entry	*e;
	size_t			 len = strlen(name);

	for (e = conf_table; e < conf_table + CONF_NENTRIES; e++)
		if (strncmp(e->name, name, len) == 0 && e->name[len] == '.')
			return 1;
	return 0;
}

/*
 * Parse every setting, then store them all: nothing is stored unless
 * everything parsed.  libconfig refuses a name given twice and
 * conf_parse() an unknown one, so at most CONF_NENTRIES settings parse.
 */
static int
conf_read_text(struct conf *conf, const char *text, const char *label,
    char **cause)
{
	config_t		 cfg;
	config_setting_t	*root;
	/* One more than the keys: a setting past them all is a repeat or
	 * unknown, and gets its error from conf_parse(). */
	const struct conf_entry	*entries[CONF_NENTRIES + 1];
	struct conf_value	*values;
	const char		*file;
	int			 n, rc = -1;
	size_t			 i, nvalues = 0;

	if (conf_scan_ints(text, label, cause) == -1)
		return -1;

	values = xcalloc(CONF_NENTRIES + 1, sizeof *values);
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		file = config_error_file(&cfg) != NULL ?
		    config_error_file(&cfg) : label;
		xasprintf(cause, "%s:%d: %s", file, config_error_line(&cfg),
		    config_error_text(&cfg));
		goto out;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < (size_t)n; i++) {
		config_setting_t	*s = config_setting_get_elem(root,
					    (unsigned)i);
		const char		*name = config_setting_name(s);
		struct conf_where	 w;
		int			 j, m = 1;

		if (conf_is_group(name)) {
			if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
				conf_where_setting(&w, s, label);
				*cause = conf_msg(&w, name, "expected a group "
				    "{ ... }");
				goto out;
			}
			m = config_setting_length(s);
		}
		for (j = 0; j < m; j++) {
			config_setting_t	*c = s;
			char			 qname[64];

			if (conf_is_group(name)) {
				c = config_setting_get_elem(s, (unsigned)j);
				(void)snprintf(qname, sizeof qname, "%s.%s",
				    name, config_setting_name(c));
			} else
				(void)snprintf(qname, sizeof qname, "%s",
				    name);
			if (nvalues == CONF_NENTRIES + 1)
				fatalx("conf: more settings than keys");
			/* values[] is zeroed: initialised */
			if (conf_parse(c, qname, label, &entries[nvalues],
			    &values[nvalues], cause) == -1) {
				nvalues++;
				goto out;
			}
			nvalues++;
		}
	}
	for (i = 0; i < nvalues; i++)
		conf_store(conf, entries[i], &values[i]);
	conf_sync(conf);
	rc = 0;
out:
	for (i = 0; i < nvalues; i++)
		conf_value_clear(&values[i]);
	free(values);
	config_destroy(&cfg);
	return rc;
}

static void
conf_value_init(struct conf_value *v)
{
	memset(v, 0, sizeof *v);
}

/* Free what v still owns. */
static void
conf_value_clear(struct conf_value *v)
{
	acl_free(v->acl);
	v->acl = NULL;
	conf_acl_text_free(&v->acl_text);
	remap_free(v->remap);
	v->remap = NULL;
	conf_remap_text_free(&v->remap_text);
}

/* Give conf->remap the built-in switches' current values. */
static void
conf_sync(struct conf *conf)
{
	remap_set_builtins(conf->remap, conf->remap_strip_nonprint,
	    conf->remap_backslash, conf->remap_lowercase);
}

static void
conf_where_setting(struct conf_where *w, const config_setting_t *s,
    const char *label)
{
	w->file = config_setting_source_file(s) != NULL ?
	    config_setting_source_file(s) : label;
	w->line = config_setting_source_line(s);
}

static const char *
conf_setting_type_name(int t)
{
	if (t < 0 || (size_t)t >= nitems(conf_setting_types))
		return "something unknown";
	return conf_setting_types[t];
}

/*
 * libconfig 1.5 keeps an integer written without the L suffix in an int
 * and silently wraps a larger one (8589934592 becomes 0, 4294967365
 * becomes 69).  Refuse such literals before libconfig sees them.  Only
 * the text itself is checked, not files it @includes.
 */
static int
conf_scan_ints(const char *text, const char *label, char **cause)
{
	const char		*p = text, *start, *digits, *end;
	unsigned		 line = 1;
	unsigned long long	 u;
	int			 hex, neg, bad;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0'; p++) {
				if (p[0] == '*' && p[1] == '/') {
					p += 2;
					break;
				}
				if (*p == '\n')
					line++;
			}
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\n')
					line++;
			}
			if (*p == '"')
				p++;
		} else if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' &&
		    *p <= 'z') || *p == '*' || *p == '_') {
			while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' &&
			    *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    *p == '*' || *p == '_' || *p == '-')
				p++;
		} else if ((*p >= '0' && *p <= '9') || ((*p == '-' ||
		    *p == '+') && p[1] >= '0' && p[1] <= '9')) {
			start = p;
			neg = *p == '-';
			if (*p == '-' || *p == '+')
				p++;
			digits = p;
			hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
			for (; (*p >= '0' && *p <= '9') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    *p == '.'; p++) {
				if (!hex && (*p == 'e' || *p == 'E') &&
				    (p[1] == '+' || p[1] == '-'))
					p++;
			}
			if (hex)
				digits += 2;
			end = digits;
			while ((*end >= '0' && *end <= '9') || (hex &&
			    ((*end >= 'a' && *end <= 'f') ||
			    (*end >= 'A' && *end <= 'F'))))
				end++;
			if (end != p || end == digits)
				continue;	/* not a plain integer */
			errno = 0;
			u = strtoull(digits, NULL, hex ? 16 : 10);
			if (errno == ERANGE)
				bad = 1;
			else if (neg)
				bad = u > (unsigned long long)INT_MAX + 1;
			else
				bad = u > INT_MAX;
			if (bad) {
				xasprintf(cause, "%s:%u: %.*s does not fit in "
				    "32 bits: write it as %.*sL", label, line,
				    (int)(p - start), start, (int)(p - start),
				    start);
				return -1;
			}
		} else
			p++;
	}
	return 0;
}

/* text into l, kept as written; -1 and *why if malformed. */
static int
conf_listen_parse(const char *text, struct conf_listen *l, const char **why)
{
	memset(l, 0, sizeof *l);
	if (strlen(text) >= sizeof l->text) {
		*why = "is too long";
		return -1;
	}
	(void)strlcpy(l->text, text, sizeof l->text);
	return sock_parse_addr(text, &l->addr, &l->addrlen, &l->hasport, why);
}

/* Append l to list (n entries), refusing duplicates and overflow. */
static int
conf_listen_add(const struct conf_entry *e, struct conf_listen *list,
    size_t *n, const struct conf_listen *l, const struct conf_where *w,
    char **cause)
{
	size_t	 i;

	for (i = 0; i < *n; i++) {
		if (list[i].addrlen == l->addrlen &&
		    memcmp(&list[i].addr, &l->addr, l->addrlen) == 0 &&
		    list[i].hasport == l->hasport) {
			*cause = conf_msg(w, e->name, "\"%s\" is given twice",
			    l->text);
			return -1;
		}
	}
	if (*n >= (size_t)e->max) {
		*cause = conf_msg(w, e->name, "more than %lld addresses",
		    e->max);
		return -1;
	}
	list[(*n)++] = *l;
	return 0;
}

/* An array or list of listen strings. */
static int
list_listen(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	const config_setting_t	*elem;
	struct conf_value	 one;
	struct conf_where	 w;
	int			 i, n, t;

	conf_where_setting(&w, s, label);
	if ((n = config_setting_length(s)) == 0) {
		*cause = conf_msg(&w, e->name, "the list is empty");
		return -1;
	}
	for (i = 0; i < n; i++) {
		elem = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_source_line(elem) != 0)
			w.line = config_setting_source_line(elem);
		t = config_setting_type(elem);
		if (t != CONFIG_TYPE_STRING) {
			*cause = conf_msg(&w, e->name,
			    "element %d: expected a string, got %s", i + 1,
			    conf_setting_type_name(t));
			return -1;
		}
		if (text_listen(e, config_setting_get_string(elem), &w, &one,
		    cause) == -1)
			return -1;
		if (conf_listen_add(e, v->listen, &v->nlisten, &one.listen[0],
		    &w, cause) == -1)
			return -1;
	}
	return 0;
}

static struct acl *
conf_acl_new(void)
{
	struct acl	*acl;

	if ((acl = acl_new()) == NULL)
		fatalx("acl_new: out of memory");
	return acl;
}

/* Compile one access-list rule into v and keep its text. */
static int
conf_acl_rule(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_acl_text	*at = &v->acl_text;
	const char		*why = "bad rule";

	if (v->acl == NULL)
		v->acl = conf_acl_new();
	if (acl_add(v->acl, text, &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\": %s", text, why);
		return -1;
	}
	at->rules = xreallocarray(at->rules, at->n + 1, sizeof *at->rules);
	at->rules[at->n++] = xstrdup(text);
	return 0;
}

static void
conf_acl_text_free(struct conf_acl_text *at)
{
	size_t	 i;

	for (i = 0; i < at->n; i++)
		free(at->rules[i]);
	free(at->rules);
	at->rules = NULL;
	at->n = 0;
}

/* One rule from the file; access lists are not set from the command line. */
static int
text_acl(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	if (w->file == NULL) {
		*cause = conf_msg(w, e->name, "can only be set in the "
		    "configuration file");
		return -1;
	}
	return conf_acl_rule(e, text, w, v, cause);
}

/* An array or list of rules; empty is fine (everyone is allowed). */
static int
list_acl(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	const config_setting_t	*elem;
	struct conf_where	 w;
	int			 i, n, t;

	conf_where_setting(&w, s, label);
	v->acl = conf_acl_new();
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		elem = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_source_line(elem) != 0)
			w.line = config_setting_source_line(elem);
		t = config_setting_type(elem);
		if (t != CONFIG_TYPE_STRING) {
			*cause = conf_msg(&w, e->name,
			    "element %d: expected a string, got %s", i + 1,
			    conf_setting_type_name(t));
			return -1;
		}
		if (conf_acl_rule(e, config_setting_get_string(elem), &w, v,
		    cause) == -1)
			return -1;
	}
	return 0;
}

static int
text_remap(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	(void)text;
	(void)v;
	if (w->file == NULL)
		*cause = conf_msg(w, e->name, "can only be set in the "
		    "configuration file");
	else	/* not reached: the file's strings are refused by type */
		*cause = conf_msg(w, e->name, "expected %s, got a string",
		    conf_types[e->type].expect);
	return -1;
}

/*
 * A list of { match; replace; op; action; icase; last; global; } groups,
 * compiled in order.  Every problem with a rule is reported at the line
 * of its group as "remap[N]" (N counts from 1).
 */
static int
list_remap(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	struct conf_remap_text	*rt = &v->remap_text;
	struct conf_remap_rule	 r;
	const config_setting_t	*g;
	struct conf_where	 w;
	char			 key[64], *why;
	int			 i, n, t;

	v->remap = remap_new();
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(s, (unsigned)i);
		conf_where_setting(&w, g, label);
		if (w.line == 0)
			w.line = config_setting_source_line(s);
		(void)snprintf(key, sizeof key, "%s[%d]", e->name, i + 1);
		if ((t = config_setting_type(g)) != CONFIG_TYPE_GROUP) {
			*cause = conf_msg(&w, key, "expected a group, got %s",
			    conf_setting_type_name(t));
			return -1;
		}
		if (conf_remap_group(key, g, &w, &r, cause) == -1)
			return -1;
		if (remap_add(v->remap, r.match, r.replace, r.ops,
		    (enum remap_action)r.action, r.icase, r.last, r.global,
		    &why) == -1) {
			*cause = conf_msg(&w, key, "%s", why != NULL ? why :
			    "bad rule");
			free(why);
			conf_remap_rule_free(&r);
			return -1;
		}
		rt->rules = xreallocarray(rt->rules, rt->n + 1,
		    sizeof *rt->rules);
		rt->rules[rt->n++] = r;
	}
	return 0;
}

/* Read the members of one remap group into r (owned copies). */
static int
conf_remap_group(const char *key, const config_setting_t *g,
    const struct conf_where *w, struct conf_remap_rule *r, char **cause)
{
	const config_setting_t		*m;
	const struct conf_choice	*choices;
	const char			*name, *text;
	char				 words[64];
	size_t				 k;
	int				 i, n, t, value, want;

	memset(r, 0, sizeof *r);
	r->ops = REMAP_OP_READ | REMAP_OP_WRITE;
	r->action = REMAP_REWRITE;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(m);
		t = config_setting_type(m);
		for (k = 0; k < nitems(conf_remap_members); k++) {
			if (strcmp(name, conf_remap_members[k].name) == 0)
				break;
		}
		if (k == nitems(conf_remap_members)) {
			*cause = conf_msg(w, key, "unknown member \"%s\" "
			    "(expected match, replace, op, action, icase, "
			    "last or global)", name);
			goto fail;
		}
		want = conf_remap_members[k].type;
		if (t != (want == CONF_T_BOOL ? CONFIG_TYPE_BOOL :
		    CONFIG_TYPE_STRING)) {
			*cause = conf_msg(w, key, "%s: expected %s, got %s",
			    name, conf_types[want].expect,
			    conf_setting_type_name(t));
			goto fail;
		}
		switch (conf_remap_members[k].member) {
		case CONF_RM_MATCH:
			r->match = xstrdup(config_setting_get_string(m));
			break;
		case CONF_RM_REPLACE:
			r->replace = xstrdup(config_setting_get_string(m));
			break;
		case CONF_RM_OP:
		case CONF_RM_ACTION:
			text = config_setting_get_string(m);
			choices = conf_remap_members[k].choices;
			if (conf_choice_find(choices, text, &value) == -1) {
				conf_choice_join(choices, words, sizeof words);
				*cause = conf_msg(w, key, "%s: \"%s\" is not "
				    "one of %s", name, text, words);
				goto fail;
			}
			if (conf_remap_members[k].member == CONF_RM_OP)
				r->ops = (unsigned)value;
			else
				r->action = value;
			break;
		case CONF_RM_ICASE:
			r->icase = config_setting_get_bool(m);
			break;
		case CONF_RM_LAST:
			r->last = config_setting_get_bool(m);
			break;
		case CONF_RM_GLOBAL:
			r->global = config_setting_get_bool(m);
			break;
		}
	}
	if (r->match == NULL) {
		*cause = conf_msg(w, key, "match is missing");
		goto fail;
	}
	if (r->action == REMAP_REWRITE && r->replace == NULL) {
		*cause = conf_msg(w, key, "replace is missing (action "
		    "\"rewrite\" needs it)");
		goto fail;
	}
	if (r->action == REMAP_DENY && r->replace != NULL) {
		*cause = conf_msg(w, key, "replace is given but action is "
		    "\"deny\"");
		goto fail;
	}
	return 0;

fail:
	conf_remap_rule_free(r);
	return -1;
}

static void
conf_remap_rule_free(struct conf_remap_rule *r)
{
	free(r->match);
	free(r->replace);
	r->match = r->replace = NULL;
}

static void
conf_remap_text_free(struct conf_remap_text *rt)
{
	size_t	 i;

	for (i = 0; i < rt->n; i++)
		conf_remap_rule_free(&rt->rules[i]);
	free(rt->rules);
	rt->rules = NULL;
	rt->n = 0;
}

/* The length bounds of a value written as a string. */
static int
conf_text_length(const struct conf_entry *e, const char *text,
    const struct conf_where *w, char **cause)
{
	size_t	 len = strlen(text);

	if (len < (size_t)e->min) {
		*cause = conf_msg(w, e->name, "must not be empty");
		return -1;
	}
	if (len > (size_t)e->max) {
		*cause = conf_msg(w, e->name, "is longer than %lld characters",
		    e->max);
		return -1;
	}
	return 0;
}

static int
text_string(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	v->str = text;
	return 0;
}

static int
text_int(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	const char	*errstr;

	v->num = strtonum(text, LLONG_MIN, LLONG_MAX, &errstr);
	if (errstr == NULL)
		return conf_check_range(e, v->num, NULL, w, cause);
	/* Beyond long long: outside every range. */
	if (strcmp(errstr, "too large") == 0)
		return conf_range_error(e, 1, text, w, cause);
	if (strcmp(errstr, "too small") == 0)
		return conf_range_error(e, 0, text, w, cause);
	*cause = conf_msg(w, e->name, "\"%s\" is not an integer", text);
	return -1;
}

static int
text_bool(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	char	 words[128];
	int	 b;

	if (conf_choice_find(conf_bool_words, text, &b) == -1) {
		conf_choice_join(conf_bool_words, words, sizeof words);
		*cause = conf_msg(w, e->name, "\"%s\" is not one of %s", text,
		    words);
		return -1;
	}
	v->num = b;
	return 0;
}

static int
text_choice(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	char	 words[128];
	int	 value;

	if (conf_choice_find(e->choices, text, &value) == -1) {
		conf_choice_join(e->choices, words, sizeof words);
		*cause = conf_msg(w, e->name, "\"%s\" is not one of %s", text,
		    words);
		return -1;
	}
	v->num = value;
	return 0;
}

static int
text_octal(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	const char	*p;
	long long	 n = 0;

	if (text[0] == '\0')
		goto bad;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			goto bad;
		if (n <= e->max)	/* stop growing once too large */
			n = n * 8 + (*p - '0');
	}
	v->num = n;
	return conf_check_range(e, n, text, w, cause);
bad:
	*cause = conf_msg(w, e->name, "\"%s\" is not an octal number", text);
	return -1;
}

static int
text_listen(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	const char	*why;

	if (conf_listen_parse(text, &v->listen[0], &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
		return -1;
	}
	v->nlisten = 1;
	return 0;
}

/* ADDR:PORT or [ADDR]:PORT; "" leaves it unset. */
static int
text_addr(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_listen	*l = &v->listen[0];
	const char		*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(l, 0, sizeof *l);
	if (text[0] == '\0')
		return 0;
	if (conf_listen_parse(text, l, &why) == -1)
		goto bad;
	if (!l->hasport) {
		why = "needs a port (ADDR:PORT or [ADDR]:PORT)";
		goto bad;
	}
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
	return -1;
}

/* LO:HI; "" is any port. */
static int
text_port_range(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_port_range	*pr = &v->port_range;
	char			 lo[sizeof pr->text], *colon;
	const char		*errstr;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(pr, 0, sizeof *pr);
	(void)strlcpy(pr->text, text, sizeof pr->text);
	if (text[0] == '\0')
		return 0;
	(void)strlcpy(lo, text, sizeof lo);
	if ((colon = strchr(lo, ':')) == NULL)
		goto bad;
	*colon = '\0';
	pr->lo = (int)strtonum(lo, 1, 65535, &errstr);
	if (errstr != NULL)
		goto bad;
	pr->hi = (int)strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr != NULL || pr->hi < pr->lo)
		goto bad;
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" is not LO:HI with 1 <= LO <= "
	    "HI <= 65535", text);
	return -1;
}

static int
text_mcast_range(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_mcast_range	*mr = &v->mcast_range;
	const char		*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(mr, 0, sizeof *mr);
	(void)strlcpy(mr->text, text, sizeof mr->text);
	if (mcast_parse_range(text, &mr->first, &mr->last, &why) == -1)
		goto bad;
	if (mr->last - mr->first >= MCAST_POOL_MAX) {
		why = "is more than 65536 addresses";
		goto bad;
	}
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
	return -1;
}

/* "" is no IPv6 groups. */
static int
text_mcast_range6(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_mcast_range6	*mr = &v->mcast_range6;
	const char			*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(mr, 0, sizeof *mr);
	(void)strlcpy(mr->text, text, sizeof mr->text);
	if (text[0] == '\0')
		return 0;
	if (mcast_parse_range6(text, &mr->first, &mr->count, &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
		return -1;
	}
	return 0;
}

static void
dump_string(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*s = *(char *const *)((const char *)conf + e->off);

	if (s == NULL) {
		fprintf(f, "# %s is not set\n", e->name);
		return;
	}
	fprintf(f, "%s = ", e->name);
	conf_dump_quoted(f, s);
	fprintf(f, ";\n");
}

static void
dump_int(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	long long	 n = conf_load(conf, e);

	fprintf(f, "%s = %lld%s;\n", e->name, n,
	    n > INT_MAX || n < INT_MIN ? "L" : "");
}

static void
dump_bool(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	fprintf(f, "%s = %s;\n", e->name, conf_load(conf, e) ? "true" :
	    "false");
}

static void
dump_choice(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*name;

	name = conf_choice_name(e->choices, (int)conf_load(conf, e));
	fprintf(f, "%s = \"%s\";\n", e->name, name != NULL ? name : "?");
}

static void
dump_octal(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	fprintf(f, "%s = \"%03llo\";\n", e->name, conf_load(conf, e));
}

/* A parsed value is shown as it was written. */
static void
dump_typed(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*field = (const char *)conf + e->off;
	const char	*text;

	switch (e->type) {
	case CONF_T_ADDR:
		text = ((const struct conf_listen *)field)->text;
		break;
	case CONF_T_PORTRANGE:
		text = ((const struct conf_port_range *)field)->text;
		break;
	case CONF_T_MCRANGE:
		text = ((const struct conf_mcast_range *)field)->text;
		break;
	default:
		text = ((const struct conf_mcast_range6 *)field)->text;
		break;
	}
	fprintf(f, "%s = ", e->name);
	conf_dump_quoted(f, text);
	fprintf(f, ";\n");
}

static void
dump_listen(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	size_t	 i;

	fprintf(f, "%s = [ ", e->name);
	if (conf->nlisten == 0) {
		for (i = 0; i < nitems(conf_listen_defaults); i++) {
			fprintf(f, "%s", i == 0 ? "" : ", ");
			conf_dump_quoted(f, conf_listen_defaults[i]);
		}
	}
	for (i = 0; i < conf->nlisten; i++) {
		fprintf(f, "%s", i == 0 ? "" : ", ");
		conf_dump_quoted(f, conf->listen[i].text);
	}
	fprintf(f, " ];\n");
}

static void
dump_acl(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const struct conf_acl_text	*at;
	size_t				 i;

	at = (const struct conf_acl_text *)((const char *)CONF_CPRIV(conf) +
	    e->aux);
	fprintf(f, "%s = [ ", e->name);
	for (i = 0; i < at->n; i++) {
		conf_dump_quoted(f, at->rules[i]);
		fprintf(f, "%s", i + 1 < at->n ? ", " : " ");
	}
	fprintf(f, "];\n");
}

/* One group a line, every member spelt out. */
static void
dump_remap(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const struct conf_remap_text	*rt;
	const struct conf_remap_rule	*r;
	const char			*op, *action;
	size_t				 i;

	rt = (const struct conf_remap_text *)((const char *)CONF_CPRIV(conf) +
	    e->aux);
	if (rt->n == 0) {
		fprintf(f, "%s = ( );\n", e->name);
		return;
	}
	fprintf(f, "%s = (\n", e->name);
	for (i = 0; i < rt->n; i++) {
		r = &rt->rules[i];
		op = conf_choice_name(conf_remap_ops, (int)r->ops);
		action = conf_choice_name(conf_remap_actions, r->action);
		fprintf(f, "  { match = ");
		conf_dump_quoted(f, r->match);
		if (r->replace != NULL) {
			fprintf(f, "; replace = ");
			conf_dump_quoted(f, r->replace);
		}
		fprintf(f, "; op = \"%s\"; action = \"%s\"; icase = %s; "
		    "last = %s; global = %s; }%s\n", op != NULL ? op : "?",
		    action != NULL ? action : "?",
		    r->icase ? "true" : "false", r->last ? "true" : "false",
		    r->global ? "true" : "false", i + 1 < rt->n ? "," : "");
	}
	fprintf(f, ");\n");
}

/* A libconfig string literal. */
static void
conf_dump_quoted(FILE *f, const char *s)
{
	unsigned char	 c;

	fputc('"', f);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

struct conf *
conf_build(const struct conf_source *src, char **cause)
{
	struct conf	*conf = conf_new();
	size_t		 i;

	if (conf_read_file(conf, src->path, src->must_exist, cause) == -1)
		goto fail;
	for (i = 0; i < src->n; i++)
		if (conf_set(conf, src->keys[i], src->values[i], cause) == -1)
			goto fail;
	if (conf_finish(conf, cause) == -1)
		goto fail;
	conf->log_level += src->verbose;
	if (conf->log_level > LOG_DEBUG)
		conf->log_level = LOG_DEBUG;
	return conf;
fail:
	conf_free(conf);
	return NULL;
}
