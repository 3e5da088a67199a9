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
	X(xfer_ok,		"transfers completed")			\
	X(xfer_failed,		"transfers that ended in failure")	\
	X(xfer_timeout,		"transfers given up after retries")	\
	X(xfer_peer_error,	"transfers ended by an ERROR from the peer") \
	X(bytes_out,		"file bytes sent in DATA")		\
	X(bytes_in,		"file bytes received in DATA")		\
	X(data_out,		"DATA packets sent, retransmissions included") \
	X(data_in,		"DATA packets received")		\
	X(retrans,		"packets retransmitted on timeout")	\
	X(dup_ack,		"duplicate or stale ACKs ignored")	\
	X(errors_sent,		"ERROR packets sent")			\
	X(bad_packet,		"datagrams that failed to decode")	\
	X(unknown_tid,		"datagrams from a peer with no transfer") \
	X(recvmmsg_calls,	"recvmmsg() calls")			\
	X(recv_dgrams,		"datagrams received")			\
	X(sendmmsg_calls,	"sendmmsg() calls")			\
	X(send_dgrams,		"datagrams sent")			\
	X(send_dropped,		"datagrams dropped on a full send queue") \
	X(opt_blksize,		"requests granted blksize")		\
	X(opt_windowsize,	"requests granted windowsize")		\
	X(opt_tsize,		"requests granted tsize")		\
	X(opt_timeout,		"requests granted timeout or utimeout")

struct stats {
#define STATS_X_FIELD(name, help)	uint64_t name;
	STATS_FIELDS(STATS_X_FIELD)
#undef STATS_X_FIELD
};

void	 stats_add(struct stats *sum, const struct stats *s);
/* One "prefix.name=value" line per counter. */
void	 stats_render(const struct stats *s, const char *prefix, FILE *fp);

#endif
