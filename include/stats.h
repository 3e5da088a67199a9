/*
 * Per-worker counters.  STATS_FIELDS is the one list: it generates the
 * struct, the sum and the renderings.  Counters only grow; gauges live
 * elsewhere.
 */
#ifndef OWL_STATS_H
#define OWL_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define STATS_FIELDS(X)							\
	X(rrq,			"read requests received")		\
	X(wrq,			"write requests received")		\
	X(dup_request,		"requests repeated by a peer with a live transfer") \
	X(refused,		"requests refused with an ERROR")	\
	X(acl_denied,		"requests refused by read_acl or write_acl") \
	X(remap_denied,		"requests refused by a remap deny rule") \
	X(perm_denied,		"requests refused by permission_check") \
	X(rate_limited,		"requests dropped over request_rate")	\
	X(client_limited,	"requests refused over max_transfers_per_client") \
	X(server_busy,		"requests refused: the worker's share of max_transfers is in use") \
	X(fd_refused,		"requests refused: no file descriptor left") \
	X(refused_acl,		"refusals for reason acl: read_acl or write_acl") \
	X(refused_remap_deny,	"refusals for reason remap_deny: a remap rule refused the name") \
	X(refused_traversal,	"refusals for reason traversal: a name that would leave the root or is invalid") \
	X(refused_not_found,	"refusals for reason not_found: no such file or directory") \
	X(refused_permission,	"refusals for reason permission: permission_check") \
	X(refused_access,	"refusals for reason access: the file cannot be opened") \
	X(refused_uploads_off,	"refusals for reason uploads_off: a write request with uploads off") \
	X(refused_exists,	"refusals for reason exists: the file exists and uploads is create") \
	X(refused_too_large,	"refusals for reason too_large: tsize over max_upload_size") \
	X(refused_busy,		"refusals for reason busy: no transfer slot or descriptor left") \
	X(refused_client_limit,	"refusals for reason client_limit: max_transfers_per_client") \
	X(refused_rate,		"refusals for reason rate: dropped over request_rate") \
	X(refused_bad_option,	"refusals for reason bad_option: an option that cannot be granted") \
	X(refused_bad_mode,	"refusals for reason bad_mode: a transfer mode other than octet or netascii") \
	X(refused_other,	"refusals for any other reason") \
	X(xfer_ok,		"transfers completed")			\
	X(xfer_failed,		"transfers that ended in failure")	\
	X(xfer_timeout,		"transfers given up after retries")	\
	X(xfer_peer_error,	"transfers ended by an ERROR from the peer") \
	X(xfer_error,		"transfers ended by a local failure (I/O, disk)") \
	X(xfer_aborted,		"transfers cut by a stop, a drain timeout or a new request from their port") \
	X(bytes_out,		"file bytes sent in DATA")		\
	X(bytes_in,		"file bytes received in DATA")		\
	X(data_out,		"DATA packets sent, retransmissions included") \
	X(data_in,		"DATA packets received")		\
	X(retrans,		"packets retransmitted")	\
	X(data_dup,		"DATA packets of a block already sent, any cause") \
	X(dup_ack,		"duplicate or stale ACKs ignored")	\
	X(errors_sent,		"ERROR packets sent")			\
	X(error_sent_undef,	"ERROR 0 (not defined) sent")		\
	X(error_sent_not_found,	"ERROR 1 (file not found) sent")	\
	X(error_sent_access,	"ERROR 2 (access violation) sent")	\
	X(error_sent_disk_full,	"ERROR 3 (disk full or too large) sent") \
	X(error_sent_illegal_op, "ERROR 4 (illegal operation) sent")	\
	X(error_sent_unknown_tid, "ERROR 5 (unknown transfer ID) sent") \
	X(error_sent_exists,	"ERROR 6 (file exists) sent")		\
	X(error_sent_no_user,	"ERROR 7 (no such user) sent")		\
	X(error_sent_option,	"ERROR 8 (option negotiation) sent")	\
	X(bad_packet,		"datagrams that failed to decode")	\
	X(unknown_tid,		"datagrams from a peer with no transfer") \
	X(recvmmsg_calls,	"recvmmsg() calls")			\
	X(recv_dgrams,		"datagrams received")			\
	X(sendmmsg_calls,	"sendmmsg() calls")			\
	X(send_dgrams,		"datagrams sent")			\
	X(send_dropped,		"datagrams dropped on a full send queue") \
	X(send_failed,		"datagrams the kernel refused to send") \
	X(gso_sends,		"UDP GSO sends, each a run of DATA packets") \
	X(gso_segments,		"DATA packets sent inside GSO sends")	\
	X(gso_fallback,		"GSO sends the kernel refused (then plain sends)") \
	X(uring_enters,		"io_uring_enter() calls")		\
	X(uring_cqes,		"io_uring completions reaped")		\
	X(fcache_hits,		"reads served from the open-file cache")	\
	X(fcache_misses,	"reads that had to open the file")	\
	X(fcache_evicted,	"cached files closed early to free a descriptor") \
	X(file_reads,		"reads of a download's blocks from its file") \
	X(readahead_fills,	"of those, reads that filled a read-ahead buffer") \
	X(readahead_refused,	"small reads made directly: read-ahead budget spent") \
	X(opt_blksize,		"requests granted blksize")		\
	X(opt_windowsize,	"requests granted windowsize")		\
	X(opt_tsize,		"requests granted tsize")		\
	X(opt_timeout,		"requests granted timeout or utimeout") \
	X(mcast_sessions,	"multicast sessions started (RFC 2090), one group each") \
	X(mcast_clients,	"clients that joined a multicast session") \
	X(mcast_blocks,		"DATA packets sent to a multicast group") \
	X(mcast_master_changes,	"times another client was made master client") \
	X(mcast_handoffs,	"multicast requests passed to the worker that owns their file") \
	X(balanced,		"read requests passed to a less busy worker")

/*
 * Why a request was refused: the keyword of the log line, the audit
 * event and the Prometheus label, and its refused_KEYWORD counter.
 */
#define STATS_REFUSALS(X)						\
	X(ACL,		acl)						\
	X(REMAP_DENY,	remap_deny)					\
	X(TRAVERSAL,	traversal)					\
	X(NOT_FOUND,	not_found)					\
	X(PERMISSION,	permission)					\
	X(ACCESS,	access)						\
	X(UPLOADS_OFF,	uploads_off)					\
	X(EXISTS,	exists)						\
	X(TOO_LARGE,	too_large)					\
	X(BUSY,		busy)						\
	X(CLIENT_LIMIT,	client_limit)					\
	X(RATE,		rate)						\
	X(BAD_OPTION,	bad_option)					\
	X(BAD_MODE,	bad_mode)					\
	X(OTHER,	other)

enum stats_refusal {
	STATS_R_NONE = 0,		/* not refused */
#define STATS_X_RENUM(name, kw)	STATS_R_##name,
	STATS_REFUSALS(STATS_X_RENUM)
#undef STATS_X_RENUM
	STATS_R_MAX
};

struct stats {
#define STATS_X_FIELD(name, help)	uint64_t name;
	STATS_FIELDS(STATS_X_FIELD)
#undef STATS_X_FIELD
};

void	 stats_add(struct stats *sum, const struct stats *s);
/* sum -= s, never below zero (a baseline taken before a worker died). */
void	 stats_sub(struct stats *sum, const struct stats *s);
/* Count an ERROR packet sent with code. */
void	 stats_error_sent(struct stats *s, unsigned code);

/* The keyword of r ("acl"); NULL for STATS_R_NONE or out of range. */
const char *stats_refusal_str(enum stats_refusal r);
/* Count a refusal for reason r in its refused_KEYWORD counter. */
void	 stats_refused(struct stats *s, enum stats_refusal r);

/* One "prefix.name=value" line per counter. */
void	 stats_render(const struct stats *s, const char *prefix, FILE *fp);
/* A JSON object {"rrq":1,...}. */
void	 stats_render_json(const struct stats *s, FILE *fp);
/*
 * Prometheus text exposition: for each counter a family named
 * "<family>_<name>_total" with HELP and TYPE lines, then one sample per
 * set s[j] labelled labels[j] ("" or e.g. slot="0").  The refused_KEYWORD
 * counters are one family instead, "<family>_refused_total", with a
 * reason="KEYWORD" label; the plain refused counter, whose name it
 * takes, is left out there.
 */
void	 stats_render_prometheus(const char *family,
	    const struct stats *const *s, const char *const *labels, size_t n,
	    FILE *fp);
uint64_t stats_value(const struct stats *s, size_t i);
/* For docs and tests: the number of counters and their names/help. */
size_t	 stats_count(void);
const char *stats_name(size_t i);
const char *stats_help(size_t i);

#endif
