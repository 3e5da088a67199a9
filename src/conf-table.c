/*
 * The schema: every configuration key with its type, range, default and
 * help, and the words a choice takes.  It is the master copy (as tmux's
 * options-table.c is): the file reader, the command line (a key with a
 * .flag is an owltftpd --FLAG option), the defaults, conf_dump() and
 * owltftpd -h are all driven by it, and check_conf holds the sample file
 * and owltftpd(8)'s synopsis to it.  To add a key, add its field to
 * struct conf (to struct xfer_conf, xfer-conf.h, if transfers read it)
 * and a row here; document it in owltftpd.conf(5) and conf/owltftpd.conf
 * (and a flag in owltftpd(8)).
 */
#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "conf.h"
#include "conf-schema.h"
#include "fs.h"

const struct conf_choice conf_uploads_choices[] = {
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

static const struct conf_choice conf_io_backends[] = {
	{ "mmsg", CONF_IO_MMSG },
	{ "uring", CONF_IO_URING },
	{ NULL, 0 }
};

/* Used when listen is never set. */
const char *const conf_listen_defaults[] = { "0.0.0.0", "::" };
const size_t conf_nlisten_defaults =
    sizeof conf_listen_defaults / sizeof conf_listen_defaults[0];

/*
 * The master copy of every key.  Numeric fields are int-sized or 64 bits
 * wide (conf_store() checks), and every range is non-negative.
 */
const struct conf_entry conf_table[] = {
	{ .name = "root", .type = CONF_T_STRING, .min = 1, .max = PATH_MAX - 1,
	  .dflt = "/srv/tftp", CONF_FIELD(root), .flag = "root", .arg = "DIR",
	  .help = "directory served; clients cannot leave it" },
	{ .name = "listen", .type = CONF_T_LISTEN, .min = 1,
	  .max = CONF_LISTEN_MAX, .dflt = NULL, CONF_FIELD(listen),
	  .flag = "listen", .arg = "ADDR[:PORT]",
	  .help = "addresses to listen on: ADDR, ADDR:PORT, [ADDR] or "
	  "[ADDR]:PORT" },
	{ .name = "port", .type = CONF_T_INT, .min = 0, .max = 65535,
	  .dflt = "69", CONF_FIELD(port), .flag = "port", .arg = "PORT",
	  .help = "UDP port for listen addresses given without one "
	  "(0: any free port)" },
	{ .name = "workers", .type = CONF_T_INT, .min = 0,
	  .max = CONF_WORKERS_MAX, .dflt = "0", CONF_FIELD(workers),
	  .flag = "workers", .arg = "N",
	  .help = "worker processes (0: one per online CPU)" },
	{ .name = "user", .type = CONF_T_STRING, .min = 1, .max = 255,
	  .dflt = OWL_DEFAULT_USER, CONF_FIELD(user), .flag = "user",
	  .arg = "USER",
	  .help = "user the workers run as" },
	{ .name = "group", .type = CONF_T_STRING, .min = 1, .max = 255,
	  .dflt = NULL, CONF_FIELD(group), .flag = "group", .arg = "GROUP",
	  .help = "group the workers run as (unset: the user's primary "
	  "group)" },
	{ .name = "chroot", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "false", CONF_FIELD(chroot),
	  .help = "chroot the workers into root" },
	{ .name = "uploads", .type = CONF_T_CHOICE, .dflt = "off",
	  .choices = conf_uploads_choices, CONF_FIELD(xfer.uploads),
	  .flag = "uploads", .arg = "POLICY",
	  .help = "write requests: off, create (new files only), overwrite "
	  "(new files and existing ones) or existing (existing files only)" },
	{ .name = "permission_check", .type = CONF_T_BOOL, .min = 0,
	  .max = 1, .dflt = "true", CONF_FIELD(xfer.permission_check),
	  .help = "serve only world-readable files, replace only "
	  "world-writable ones and create only files umask leaves "
	  "world-writable, as tftpd-hpa does without --permissive" },
	{ .name = "upload_fsync", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "true", CONF_FIELD(xfer.upload_fsync),
	  .help = "fsync an upload before it becomes visible" },
	{ .name = "umask", .type = CONF_T_OCTAL, .min = 0, .max = 0777,
	  .dflt = "022", CONF_FIELD(xfer.umask),
	  .help = "mask applied to the mode 0666 of uploaded files" },
	{ .name = "max_upload_size", .type = CONF_T_INT, .min = 0,
	  .max = INT64_MAX, .dflt = "0",
	  CONF_FIELD(xfer.limits.max_upload_size),
	  .help = "largest upload in bytes (0: no limit)" },
	{ .name = "blksize_max", .type = CONF_T_INT, .min = 0, .max = 65464,
	  .dflt = "0", CONF_FIELD(xfer.limits.blksize_max),
	  .flag = "blksize-max", .arg = "N",
	  .help = "largest blksize option granted (RFC 2348); 0: what fits "
	  "the MTU of the interface the request came in on" },
	{ .name = "windowsize_max", .type = CONF_T_INT, .min = 1,
	  .max = 65535, .dflt = "64", CONF_FIELD(xfer.limits.windowsize_max),
	  .flag = "windowsize-max", .arg = "N",
	  .help = "largest windowsize option granted (RFC 7440)" },
	{ .name = "timeout_ms", .type = CONF_T_INT, .min = 10, .max = 255000,
	  .dflt = "1000", CONF_FIELD(xfer.timeout_ms),
	  .help = "first retransmit timeout when the client asks none" },
	{ .name = "rto_min_ms", .type = CONF_T_INT, .min = 1, .max = 60000,
	  .dflt = "200", CONF_FIELD(xfer.rto_min_ms),
	  .help = "floor of the retransmit timeout once it adapts to the "
	  "measured round trip" },
	{ .name = "retries", .type = CONF_T_INT, .min = 1, .max = 100,
	  .dflt = "5", CONF_FIELD(xfer.retries),
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
	  .choices = conf_unique_root_choices, CONF_FIELD(xfer.unique_root),
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
	{ .name = "balance", .type = CONF_T_BOOL, .min = 0, .max = 1,
	  .dflt = "true", CONF_FIELD(balance),
	  .help = "pass a new read request to a less busy worker when the "
	  "kernel picked a busier one" },
	{ .name = "io_backend", .type = CONF_T_CHOICE, .dflt = "mmsg",
	  .choices = conf_io_backends, CONF_FIELD(io_backend),
	  .help = "mmsg: recvmmsg and sendmmsg, or uring: io_uring (Linux "
	  "6.0; where refused or not built in, mmsg with a warning)" },
	{ .name = "so_rcvbuf", .type = CONF_T_INT, .min = 0,
	  .max = 1073741824, .dflt = "4194304", CONF_FIELD(so_rcvbuf),
	  .help = "socket receive buffer in bytes (0: kernel default)" },
	{ .name = "so_sndbuf", .type = CONF_T_INT, .min = 0,
	  .max = 1073741824, .dflt = "4194304", CONF_FIELD(so_sndbuf),
	  .help = "socket send buffer in bytes (0: kernel default)" },
	{ .name = "read_acl", .type = CONF_T_ACL, .dflt = NULL,
	  CONF_FIELD(xfer.read_acl), CONF_AUX(read_acl),
	  .help = "who may read: \"allow|deny CIDR|all\" rules, first match "
	  "wins (empty: everyone)" },
	{ .name = "write_acl", .type = CONF_T_ACL, .dflt = NULL,
	  CONF_FIELD(xfer.write_acl), CONF_AUX(write_acl),
	  .help = "who may write: \"allow|deny CIDR|all\" rules, first match "
	  "wins (empty: everyone)" },
	{ .name = "remap", .type = CONF_T_REMAP, .dflt = NULL,
	  CONF_FIELD(xfer.remap), CONF_AUX(remap),
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
	{ .name = "origins", .type = CONF_T_ORIGINS, .dflt = NULL,
	  CONF_FIELD(xfer.origins),
	  .help = "HTTP(S) origins: a list of { prefix; url; dynamic; ttl; "
	  "max_bytes; ca_file; tls_verify; } groups; their paths are "
	  "fetched and cached" },
	{ .name = "cache_dir", .type = CONF_T_STRING, .min = 1,
	  .max = PATH_MAX - 64, .dflt = "/var/cache/owltftpd",
	  CONF_FIELD(cache_dir),
	  .help = "where the files of origins are cached (created by the "
	  "master)" },
	{ .name = "cache_max_bytes", .type = CONF_T_INT, .min = 1,
	  .max = INT64_MAX, .dflt = "1073741824", CONF_FIELD(cache_max_bytes),
	  .help = "the cache's size; the least recently used files not in "
	  "use go above it" },
	{ .name = "cache_ttl", .type = CONF_T_INT, .min = 0, .max = 31536000,
	  .dflt = "300", CONF_FIELD(cache_ttl),
	  .help = "seconds a cached file is served before it is revalidated "
	  "(an origin's ttl overrides it)" },
	{ .name = "origin_timeout_ms", .type = CONF_T_INT, .min = 100,
	  .max = 600000, .dflt = "10000", CONF_FIELD(xfer.origin_timeout_ms),
	  .help = "how long a request waits for its file from an origin, "
	  "and the longest silence of an origin" },
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

const size_t conf_table_size = sizeof conf_table / sizeof conf_table[0];
