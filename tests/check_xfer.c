/*
 * The transfer state machine against a fake sink and a fake clock: every
 * datagram the transfer emits is captured and decoded, time is whatever
 * the test says it is.  Files live in a temporary root.
 */
#include "config.h"

#include <sys/stat.h>

#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "pkt.h"
#include "timer.h"
#include "xfer.h"

#define CAP_MAX		512
#define SCRATCH		(PKT_HDR_LEN + PKT_DATA_MAX + 1)
#define MS		1000ULL

struct captured {
	uint8_t	*buf;
	size_t	 len;
};

static struct captured	 cap[CAP_MAX];
static size_t		 ncap;
static uint8_t		*scratch;
static char		 rootdir[] = "/tmp/check_xfer.XXXXXX";
static struct timer_heap timers;
static struct stats	 stats;
static struct xfer_ctx	 ctx;
static struct xfer	 xf;

static uint8_t *
fake_stage(void *arg, size_t n)
{
	ck_assert_uint_le(n, SCRATCH);
	return scratch;
}

/* A run of segments is captured as the datagrams it stands for. */
static void
fake_commit(void *arg, const struct xfer *x, size_t len, size_t segsize)
{
	size_t	 off = 0, n;

	do {
		n = segsize == 0 || len - off < segsize ? len - off : segsize;
		ck_assert_uint_lt(ncap, CAP_MAX);
		cap[ncap].buf = malloc(n == 0 ? 1 : n);
		memcpy(cap[ncap].buf, scratch + off, n);
		cap[ncap].len = n;
		ncap++;
		off += n;
	} while (off < len);
}

static void
drop_captured(void)
{
	size_t	 i;

	for (i = 0; i < ncap; i++)
		free(cap[i].buf);
	ncap = 0;
}

static void
write_file(const char *name, const void *data, size_t len)
{
	char	 path[256];
	FILE	*fp;

	(void)snprintf(path, sizeof path, "%s/%s", rootdir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

static size_t
read_file(const char *name, uint8_t *buf, size_t cap_)
{
	char	 path[256];
	int	 fd;
	ssize_t	 n;

	(void)snprintf(path, sizeof path, "%s/%s", rootdir, name);
	if ((fd = open(path, O_RDONLY)) == -1)
		return (size_t)-1;
	n = read(fd, buf, cap_);
	(void)close(fd);
	ck_assert_int_ge(n, 0);
	return (size_t)n;
}

static int
temp_files_left(void)
{
	DIR		*d = opendir(rootdir);
	struct dirent	*de;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".owltftpd", 9) == 0)
			n++;
	(void)closedir(d);
	return n;
}

static void
setup(void)
{
	struct sockaddr_in	*peer = (struct sockaddr_in *)&xf.peer;

	ck_assert_ptr_nonnull(mkdtemp(rootdir));
	scratch = malloc(SCRATCH);
	ck_assert_int_eq(timer_heap_init(&timers, 16), 0);
	memset(&stats, 0, sizeof stats);
	memset(&ctx, 0, sizeof ctx);
	ctx.sink.stage = fake_stage;
	ctx.sink.commit = fake_commit;
	ctx.timers = &timers;
	ctx.stats = &stats;
	ctx.rootfd = fs_root_open(rootdir);
	ck_assert_int_ne(ctx.rootfd, -1);
	ctx.uploads = FS_UPLOAD_OVERWRITE;
	ctx.upload_fsync = 0;
	ctx.umask = 022;
	ctx.limits.blksize_max = 65464;
	ctx.limits.windowsize_max = 64;
	ctx.timeout_ms = 1000;
	ctx.rto_min_ms = 50;
	ctx.retries = 3;
	memset(&xf, 0, sizeof xf);
	peer->sin_family = AF_INET;
	peer->sin_port = htons(4242);
	peer->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	xf.peerlen = sizeof *peer;
	ncap = 0;
}

static void
teardown(void)
{
	char	 cmd[300];

	drop_captured();
	if (xf.state != XFER_S_IDLE && xf.state != XFER_S_DONE)
		xfer_end(&ctx, &xf, 0);
	(void)close(ctx.rootfd);
	timer_heap_clear(&timers);
	free(scratch);
	(void)snprintf(cmd, sizeof cmd, "rm -rf %s", rootdir);
	ck_assert_int_eq(system(cmd), 0);
	memcpy(rootdir + strlen(rootdir) - 6, "XXXXXX", 6);
}

/* Decode captured datagram i. */
static struct pkt
got(size_t i)
{
	struct pkt	 p;

	ck_assert_uint_lt(i, ncap);
	ck_assert_int_eq(pkt_decode(cap[i].buf, cap[i].len, &p), PKT_OK);
	return p;
}

static void
expect_data(size_t i, uint16_t block, size_t len)
{
	struct pkt	 p = got(i);

	ck_assert_uint_eq(p.op, TFTP_OP_DATA);
	ck_assert_uint_eq(p.u.data.block, block);
	ck_assert_uint_eq(p.u.data.len, len);
}

static void
expect_ack(size_t i, uint16_t block)
{
	struct pkt	 p = got(i);

	ck_assert_uint_eq(p.op, TFTP_OP_ACK);
	ck_assert_uint_eq(p.u.ack.block, block);
}

static void
expect_error(size_t i, uint16_t code)
{
	struct pkt	 p = got(i);

	ck_assert_uint_eq(p.op, TFTP_OP_ERROR);
	ck_assert_uint_eq(p.u.error.code, code);
}

/* Hand the transfer a request built from (op, file, mode, opts...). */
static enum xfer_result
request(uint16_t op, const char *file, const char *mode,
    const struct pkt_opt *opts, size_t nopts, uint64_t now)
{
	static uint8_t	 buf[2048];
	struct pkt	 p;
	size_t		 len;

	len = pkt_encode_req(buf, sizeof buf, op, file, mode, opts, nopts);
	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	return xfer_request(&ctx, &xf, &p, now);
}

static enum xfer_result
ack(uint16_t block, uint64_t now)
{
	struct pkt	 p;

	memset(&p, 0, sizeof p);
	p.op = TFTP_OP_ACK;
	p.u.ack.block = block;
	return xfer_input(&ctx, &xf, &p, now);
}

static enum xfer_result
data(uint16_t block, const void *d, size_t len, uint64_t now)
{
	struct pkt	 p;

	memset(&p, 0, sizeof p);
	p.op = TFTP_OP_DATA;
	p.u.data.block = block;
	p.u.data.data = d;
	p.u.data.len = len;
	return xfer_input(&ctx, &xf, &p, now);
}

static enum xfer_result
peer_error(uint16_t code, uint64_t now)
{
	struct pkt	 p;

	memset(&p, 0, sizeof p);
	p.op = TFTP_OP_ERROR;
	p.u.error.code = code;
	p.u.error.msg = "client says no";
	return xfer_input(&ctx, &xf, &p, now);
}

/* Fire every timer due at now. */
static enum xfer_result
tick(uint64_t now)
{
	struct timer_entry	*e;
	enum xfer_result	 r = XFER_LIVE;

	while ((e = timer_pop_expired(&timers, now)) != NULL) {
		ck_assert_ptr_eq(e, &xf.timer);
		r = xfer_timeout(&ctx, &xf, now);
	}
	return r;
}

static uint8_t	 pattern[70000];

static void
fill_pattern(void)
{
	size_t	 i;

	for (i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
}

START_TEST(rrq_without_options_sends_data_1)
{
	fill_pattern();
	write_file("f", pattern, 1000);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0),
	    XFER_LIVE);
	ck_assert_uint_eq(ncap, 1);
	expect_data(0, 1, 512);
	ck_assert_mem_eq(got(0).u.data.data, pattern, 512);
	ck_assert_int_eq(ack(1, 10), XFER_LIVE);
	ck_assert_uint_eq(ncap, 2);
	expect_data(1, 2, 488);
	ck_assert_mem_eq(got(1).u.data.data, pattern + 512, 488);
	ck_assert_int_eq(ack(2, 20), XFER_FINISHED);
	ck_assert_int_eq(xf.result, XFER_END_OK);
	ck_assert_uint_eq(xf.bytes, 1000);
}
END_TEST

START_TEST(rrq_exact_multiple_ends_with_empty_block)
{
	fill_pattern();
	write_file("f", pattern, 512);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	expect_data(0, 1, 512);
	ck_assert_int_eq(ack(1, 1), XFER_LIVE);
	expect_data(1, 2, 0);
	ck_assert_int_eq(ack(2, 2), XFER_FINISHED);
}
END_TEST

START_TEST(rrq_empty_file_is_one_empty_block)
{
	write_file("empty", "", 0);
	(void)request(TFTP_OP_RRQ, "empty", "octet", NULL, 0, 0);
	ck_assert_uint_eq(ncap, 1);
	expect_data(0, 1, 0);
	ck_assert_int_eq(ack(1, 1), XFER_FINISHED);
}
END_TEST

START_TEST(duplicate_ack_never_resends)
{
	fill_pattern();
	write_file("f", pattern, 2000);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	(void)ack(1, 1);
	ck_assert_uint_eq(ncap, 2);
	ck_assert_int_eq(ack(1, 2), XFER_LIVE);	/* duplicate */
	ck_assert_int_eq(ack(0, 3), XFER_LIVE);	/* stale */
	ck_assert_int_eq(ack(1, 4), XFER_LIVE);
	ck_assert_uint_eq(ncap, 2);
	ck_assert_uint_eq(stats.dup_ack, 3);
	ck_assert_uint_eq(stats.data_out, 2);
}
END_TEST

START_TEST(timeout_retransmits_with_backoff_then_gives_up)
{
	fill_pattern();
	write_file("f", pattern, 2000);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	ck_assert_uint_eq(ncap, 1);
	ck_assert_int_eq(tick(999 * MS), XFER_LIVE);
	ck_assert_uint_eq(ncap, 1);			/* not yet */
	ck_assert_int_eq(tick(1000 * MS), XFER_LIVE);
	ck_assert_uint_eq(ncap, 2);
	expect_data(1, 1, 512);				/* same block again */
	/* The next timeout is twice as long: 2 s after the first. */
	ck_assert_int_eq(tick(2999 * MS), XFER_LIVE);
	ck_assert_uint_eq(ncap, 2);
	ck_assert_int_eq(tick(3000 * MS), XFER_LIVE);
	ck_assert_uint_eq(ncap, 3);
	ck_assert_int_eq(tick(7000 * MS), XFER_LIVE);
	ck_assert_uint_eq(ncap, 4);
	ck_assert_uint_eq(xf.retrans, 3);
	/* retries = 3 used up: the next timeout ends it with an ERROR. */
	ck_assert_int_eq(tick(15000 * MS), XFER_FINISHED);
	ck_assert_uint_eq(ncap, 5);
	expect_error(4, TFTP_E_UNDEF);
	ck_assert_int_eq(xf.result, XFER_END_TIMEOUT);
}
END_TEST

START_TEST(progress_resets_backoff)
{
	fill_pattern();
	write_file("f", pattern, 2000);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	(void)tick(1000 * MS);
	(void)tick(3000 * MS);
	ck_assert_uint_eq(ncap, 3);
	(void)ack(1, 3100 * MS);
	ck_assert_uint_eq(ncap, 4);
	/* Back to the base timeout, 1 s after the ACK. */
	(void)tick(4099 * MS);
	ck_assert_uint_eq(ncap, 4);
	(void)tick(4100 * MS);
	ck_assert_uint_eq(ncap, 5);
	expect_data(4, 2, 512);
}
END_TEST

START_TEST(timeout_adapts_to_measured_round_trip)
{
	fill_pattern();
	write_file("f", pattern, 5 * 512);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	/* Answered 2 ms later: RTO = max(SRTT + 4 RTTVAR, rto_min). */
	(void)ack(1, 2 * MS);
	ck_assert_uint_eq(ncap, 2);
	ck_assert_uint_eq(xf.srtt_us, 2 * MS);
	(void)tick(2 * MS + 49 * MS);
	ck_assert_uint_eq(ncap, 2);
	(void)tick(2 * MS + 50 * MS);
	ck_assert_uint_eq(ncap, 3);		/* resent after 50 ms, not 1 s */
	expect_data(2, 2, 512);
	/* Karn: the ACK of a resent block teaches nothing. */
	(void)ack(2, 300 * MS);
	ck_assert_uint_eq(xf.srtt_us, 2 * MS);
}
END_TEST

START_TEST(slow_round_trips_raise_the_timeout)
{
	fill_pattern();
	write_file("f", pattern, 5 * 512);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	(void)ack(1, 400 * MS);		/* 400 ms round trip */
	/* SRTT 400 ms, RTTVAR 200 ms: RTO 1.2 s, above the first 1 s. */
	(void)tick(400 * MS + 1199 * MS);
	ck_assert_uint_eq(ncap, 2);
	(void)tick(400 * MS + 1200 * MS);
	ck_assert_uint_eq(ncap, 3);
}
END_TEST

START_TEST(oack_waits_for_ack_0)
{
	struct pkt_opt	 o[] = { { "blksize", "1024" }, { "tsize", "0" },
			    { "bogus", "1" } };
	struct pkt	 p;

	fill_pattern();
	write_file("f", pattern, 3000);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "f", "octet", o, 3, 0),
	    XFER_LIVE);
	ck_assert_uint_eq(ncap, 1);
	p = got(0);
	ck_assert_uint_eq(p.op, TFTP_OP_OACK);
	ck_assert_uint_eq(p.u.oack.nopts, 2);
	ck_assert_str_eq(p.u.oack.opts[0].name, "blksize");
	ck_assert_str_eq(p.u.oack.opts[0].value, "1024");
	ck_assert_str_eq(p.u.oack.opts[1].name, "tsize");
	ck_assert_str_eq(p.u.oack.opts[1].value, "3000");
	ck_assert_int_eq(ack(1, 1), XFER_LIVE);		/* not ACK 0 */
	ck_assert_uint_eq(ncap, 1);
	ck_assert_int_eq(ack(0, 2), XFER_LIVE);
	ck_assert_uint_eq(ncap, 2);
	expect_data(1, 1, 1024);
}
END_TEST

START_TEST(oack_is_resent_on_timeout)
{
	struct pkt_opt	 o[] = { { "blksize", "1024" } };

	fill_pattern();
	write_file("f", pattern, 3000);
	(void)request(TFTP_OP_RRQ, "f", "octet", o, 1, 0);
	(void)tick(1000 * MS);
	ck_assert_uint_eq(ncap, 2);
	ck_assert_uint_eq(got(1).op, TFTP_OP_OACK);
}
END_TEST

START_TEST(error_after_oack_ends_quietly)
{
	struct pkt_opt	 o[] = { { "tsize", "0" } };

	fill_pattern();
	write_file("f", pattern, 3000);
	(void)request(TFTP_OP_RRQ, "f", "octet", o, 1, 0);
	ck_assert_int_eq(peer_error(TFTP_E_OPTNEG, 5), XFER_FINISHED);
	ck_assert_uint_eq(ncap, 1);		/* no ERROR sent back */
	ck_assert_int_eq(xf.result, XFER_END_PEER_ERROR);
	xfer_end(&ctx, &xf, 6);
	ck_assert_uint_eq(stats.xfer_peer_error, 1);
	ck_assert_uint_eq(stats.xfer_failed, 0);
}
END_TEST

START_TEST(window_slides_and_resumes_after_earlier_ack)
{
	struct pkt_opt	 o[] = { { "windowsize", "4" } };
	size_t		 i;

	fill_pattern();
	write_file("f", pattern, 10 * 512 + 100);	/* 11 blocks */
	(void)request(TFTP_OP_RRQ, "f", "octet", o, 1, 0);
	(void)ack(0, 1);
	ck_assert_uint_eq(ncap, 5);
	for (i = 0; i < 4; i++)
		expect_data(1 + i, (uint16_t)(1 + i), 512);
	(void)ack(4, 2);			/* last of window: slide */
	ck_assert_uint_eq(ncap, 9);
	for (i = 0; i < 4; i++)
		expect_data(5 + i, (uint16_t)(5 + i), 512);
	(void)ack(6, 3);			/* 7 and 8 lost: resume at 7 */
	ck_assert_uint_eq(ncap, 13);
	expect_data(9, 7, 512);
	expect_data(10, 8, 512);
	expect_data(11, 9, 512);
	expect_data(12, 10, 512);
	(void)ack(6, 4);			/* duplicate: nothing */
	ck_assert_uint_eq(ncap, 13);
	(void)ack(10, 5);
	ck_assert_uint_eq(ncap, 14);
	expect_data(13, 11, 100);
	ck_assert_int_eq(ack(11, 6), XFER_FINISHED);
}
END_TEST

START_TEST(window_timeout_resends_whole_window)
{
	struct pkt_opt	 o[] = { { "windowsize", "3" } };

	fill_pattern();
	write_file("f", pattern, 10 * 512);
	(void)request(TFTP_OP_RRQ, "f", "octet", o, 1, 0);
	(void)ack(0, 0);
	ck_assert_uint_eq(ncap, 4);
	(void)tick(1000 * MS);
	ck_assert_uint_eq(ncap, 7);
	expect_data(4, 1, 512);
	expect_data(6, 3, 512);
	ck_assert_uint_eq(xf.retrans, 3);
}
END_TEST

static void
run_rollover(const char *rollover, uint16_t after_65535)
{
	struct pkt_opt	 o[] = { { "blksize", "8" }, { "windowsize", "64" },
			    { "rollover", rollover } };
	size_t		 size = 65540 * 8 + 3, i;
	uint8_t		*big = malloc(size);
	int		 seen = 0;
	enum xfer_result r = XFER_LIVE;
	uint64_t	 now = 0;

	for (i = 0; i < size; i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	write_file("big", big, size);
	(void)request(TFTP_OP_RRQ, "big", "octet", o, 3, now);
	(void)ack(0, now);
	/* ACK the last block of every window until the end. */
	for (i = 0; i < 2000 && r == XFER_LIVE; i++) {
		struct pkt	 last = got(ncap - 1);
		size_t		 j;

		for (j = 1; j < ncap; j++) {
			struct pkt	 p = got(j);

			if (p.u.data.block == after_65535 && xf.sent > 65535)
				seen = 1;
		}
		ck_assert_uint_eq(last.op, TFTP_OP_DATA);
		drop_captured();
		cap[0].buf = malloc(1);		/* keep index 0 a dummy */
		cap[0].len = 0;
		ncap = 1;
		r = ack(last.u.data.block, ++now);
	}
	ck_assert_int_eq(r, XFER_FINISHED);
	ck_assert_int_eq(xf.result, XFER_END_OK);
	ck_assert_uint_eq(xf.bytes, size);
	ck_assert_int_eq(seen, 1);
	free(big);
}

START_TEST(block_numbers_roll_over_to_0)
{
	run_rollover("0", 0);
}
END_TEST

START_TEST(block_numbers_roll_over_to_1)
{
	run_rollover("1", 1);
}
END_TEST

START_TEST(wrq_acks_each_block_and_commits_at_end)
{
	uint8_t	 buf[2048];

	fill_pattern();
	ck_assert_int_eq(request(TFTP_OP_WRQ, "up", "octet", NULL, 0, 0),
	    XFER_LIVE);
	expect_ack(0, 0);
	ck_assert_int_eq(data(1, pattern, 512, 1), XFER_LIVE);
	expect_ack(1, 1);
	ck_assert_uint_eq(read_file("up", buf, sizeof buf), (size_t)-1);
	ck_assert_int_eq(data(2, pattern + 512, 10, 2), XFER_LIVE);
	expect_ack(2, 2);
	ck_assert_uint_eq(read_file("up", buf, sizeof buf), 522);
	ck_assert_mem_eq(buf, pattern, 522);
	ck_assert_int_eq(xf.state, XFER_S_DALLY);
	/* The peer lost our final ACK: it resends DATA 2. */
	ck_assert_int_eq(data(2, pattern + 512, 10, 3), XFER_LIVE);
	expect_ack(3, 2);
	ck_assert_int_eq(tick(60000 * MS), XFER_FINISHED);
	ck_assert_int_eq(xf.result, XFER_END_OK);
	xfer_end(&ctx, &xf, 60000 * MS);
	ck_assert_int_eq(temp_files_left(), 0);
}
END_TEST

START_TEST(wrq_duplicate_data_is_reacked_not_rewritten)
{
	uint8_t	 buf[2048];

	fill_pattern();
	(void)request(TFTP_OP_WRQ, "up", "octet", NULL, 0, 0);
	(void)data(1, pattern, 512, 1);
	(void)data(1, pattern, 512, 2);
	ck_assert_uint_eq(ncap, 3);
	expect_ack(2, 1);
	(void)data(2, pattern + 512, 1, 3);
	ck_assert_uint_eq(read_file("up", buf, sizeof buf), 513);
}
END_TEST

START_TEST(wrq_window_acks_once_per_window_and_on_gap)
{
	struct pkt_opt	 o[] = { { "windowsize", "4" } };

	fill_pattern();
	(void)request(TFTP_OP_WRQ, "up", "octet", o, 1, 0);
	ck_assert_uint_eq(got(0).op, TFTP_OP_OACK);
	(void)data(1, pattern, 512, 1);
	(void)data(2, pattern, 512, 1);
	(void)data(3, pattern, 512, 1);
	ck_assert_uint_eq(ncap, 1);
	(void)data(4, pattern, 512, 1);
	ck_assert_uint_eq(ncap, 2);
	expect_ack(1, 4);
	(void)data(5, pattern, 512, 2);
	(void)data(7, pattern, 512, 2);		/* 6 lost */
	ck_assert_uint_eq(ncap, 3);
	expect_ack(2, 5);
	(void)data(8, pattern, 512, 2);		/* same gap: no more ACKs */
	ck_assert_uint_eq(ncap, 3);
	(void)data(6, pattern, 512, 3);
	(void)data(7, pattern, 100, 3);		/* short: last */
	expect_ack(ncap - 1, 7);
}
END_TEST

START_TEST(wrq_aborted_by_peer_leaves_old_file)
{
	uint8_t	 buf[64];

	fill_pattern();
	write_file("keep", "old content", 11);
	(void)request(TFTP_OP_WRQ, "keep", "octet", NULL, 0, 0);
	(void)data(1, pattern, 512, 1);
	ck_assert_int_eq(temp_files_left(), 1);
	ck_assert_int_eq(peer_error(TFTP_E_UNDEF, 2), XFER_FINISHED);
	xfer_end(&ctx, &xf, 3);
	ck_assert_int_eq(temp_files_left(), 0);
	ck_assert_uint_eq(read_file("keep", buf, sizeof buf), 11);
	ck_assert_mem_eq(buf, "old content", 11);
}
END_TEST

START_TEST(wrq_timeout_leaves_no_partial_file)
{
	uint8_t		 buf[64];
	uint64_t	 t = 0;
	enum xfer_result r = XFER_LIVE;
	int		 i;

	fill_pattern();
	(void)request(TFTP_OP_WRQ, "new", "octet", NULL, 0, 0);
	(void)data(1, pattern, 512, 1);
	for (i = 0; i < 10 && r == XFER_LIVE; i++)
		r = tick(t += 100000 * MS);
	ck_assert_int_eq(r, XFER_FINISHED);
	ck_assert_int_eq(xf.result, XFER_END_TIMEOUT);
	expect_error(ncap - 1, TFTP_E_UNDEF);
	xfer_end(&ctx, &xf, t);
	ck_assert_int_eq(temp_files_left(), 0);
	ck_assert_uint_eq(read_file("new", buf, sizeof buf), (size_t)-1);
}
END_TEST

START_TEST(wrq_netascii_is_translated)
{
	static const uint8_t	 wire[] = "one\r\ntwo\r\0three\r\n";
	uint8_t			 buf[64];

	(void)request(TFTP_OP_WRQ, "text", "netascii", NULL, 0, 0);
	(void)data(1, wire, sizeof wire - 1, 1);
	ck_assert_uint_eq(read_file("text", buf, sizeof buf), 14);
	ck_assert_mem_eq(buf, "one\ntwo\rthree\n", 14);
}
END_TEST

START_TEST(wrq_refused_when_uploads_off)
{
	ctx.uploads = FS_UPLOAD_OFF;
	ck_assert_int_eq(request(TFTP_OP_WRQ, "x", "octet", NULL, 0, 0),
	    XFER_FINISHED);
	expect_error(0, TFTP_E_ACCESS);
	ck_assert_int_eq(xf.result, XFER_END_REFUSED);
}
END_TEST

START_TEST(wrq_over_max_upload_size_is_refused)
{
	struct pkt_opt	 o[] = { { "tsize", "5000" } };

	ctx.limits.max_upload_size = 1000;
	ck_assert_int_eq(request(TFTP_OP_WRQ, "x", "octet", o, 1, 0),
	    XFER_FINISHED);
	expect_error(0, TFTP_E_DISKFULL);
	xfer_end(&ctx, &xf, 1);
	memset(&xf.state, 0, sizeof xf.state);
	/* Without tsize the limit still holds, mid-transfer. */
	drop_captured();
	fill_pattern();
	(void)request(TFTP_OP_WRQ, "y", "octet", NULL, 0, 0);
	(void)data(1, pattern, 512, 1);
	ck_assert_int_eq(data(2, pattern, 512, 1), XFER_FINISHED);
	expect_error(ncap - 1, TFTP_E_DISKFULL);
	xfer_end(&ctx, &xf, 2);
	ck_assert_int_eq(temp_files_left(), 0);
}
END_TEST

START_TEST(bad_requests_get_the_right_error)
{
	ck_assert_int_eq(request(TFTP_OP_RRQ, "f", "mail", NULL, 0, 0),
	    XFER_FINISHED);
	expect_error(0, TFTP_E_BADOP);
	xfer_end(&ctx, &xf, 0);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "nope", "octet", NULL, 0, 0),
	    XFER_FINISHED);
	expect_error(1, TFTP_E_NOTFOUND);
	xfer_end(&ctx, &xf, 0);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "../etc/passwd", "octet",
	    NULL, 0, 0), XFER_FINISHED);
	expect_error(2, TFTP_E_ACCESS);
	xfer_end(&ctx, &xf, 0);
	ck_assert_uint_eq(stats.refused, 3);
}
END_TEST

START_TEST(access_lists_refuse_with_error_2)
{
	struct acl	*deny = acl_new(), *allow = acl_new();

	ck_assert_int_eq(acl_add(deny, "deny all", NULL), 0);
	ck_assert_int_eq(acl_add(allow, "allow 127.0.0.0/8", NULL), 0);
	write_file("f", "x", 1);
	ctx.read_acl = allow;
	ctx.write_acl = deny;
	ck_assert_int_eq(request(TFTP_OP_WRQ, "up", "octet", NULL, 0, 0),
	    XFER_FINISHED);
	expect_error(0, TFTP_E_ACCESS);
	ck_assert_uint_eq(stats.acl_denied, 1);
	xfer_end(&ctx, &xf, 0);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0),
	    XFER_LIVE);
	expect_data(1, 1, 1);
	ck_assert_uint_eq(stats.acl_denied, 1);
	acl_free(deny);
	acl_free(allow);
}
END_TEST

START_TEST(remap_rewrites_and_denies)
{
	struct remap	*r = remap_new();
	char		*cause = NULL;

	ck_assert_int_eq(remap_add(r, "^boot/(.*)$", "\\1", REMAP_OP_READ,
	    REMAP_REWRITE, 0, 0, 0, &cause), 0);
	ck_assert_int_eq(remap_add(r, "secret", NULL, REMAP_OP_READ |
	    REMAP_OP_WRITE, REMAP_DENY, 0, 0, 0, &cause), 0);
	ctx.remap = r;
	write_file("f", "xyz", 3);
	write_file("secret", "no", 2);
	/* "boot\\f" -> builtins: "boot/f" -> rule 1: "f". */
	ck_assert_int_eq(request(TFTP_OP_RRQ, "boot\\f", "octet", NULL, 0,
	    0), XFER_LIVE);
	expect_data(0, 1, 3);
	ck_assert_mem_eq(got(0).u.data.data, "xyz", 3);
	xfer_end(&ctx, &xf, 0);
	ck_assert_int_eq(request(TFTP_OP_RRQ, "secret", "octet", NULL, 0, 0),
	    XFER_FINISHED);
	expect_error(1, TFTP_E_ACCESS);
	ck_assert_uint_eq(stats.remap_denied, 1);
	remap_free(r);
}
END_TEST

START_TEST(same_request_is_recognised)
{
	static uint8_t	 buf[256];
	struct pkt	 p;
	size_t		 len;

	write_file("f", "x", 1);
	(void)request(TFTP_OP_RRQ, "f", "octet", NULL, 0, 0);
	len = pkt_encode_req(buf, sizeof buf, TFTP_OP_RRQ, "f", "OCTET", NULL,
	    0);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	ck_assert(xfer_same_request(&xf, &p));
	len = pkt_encode_req(buf, sizeof buf, TFTP_OP_RRQ, "g", "octet", NULL,
	    0);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	ck_assert(!xfer_same_request(&xf, &p));
	len = pkt_encode_req(buf, sizeof buf, TFTP_OP_WRQ, "f", "octet", NULL,
	    0);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	ck_assert(!xfer_same_request(&xf, &p));
	len = pkt_encode_req(buf, sizeof buf, TFTP_OP_RRQ, "f", "netascii",
	    NULL, 0);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	ck_assert(!xfer_same_request(&xf, &p));
	/* A superseded transfer ends without sending anything. */
	xfer_supersede(&xf);
	ck_assert_int_eq(xf.result, XFER_END_ABORTED);
	xfer_end(&ctx, &xf, 1);
	ck_assert_uint_eq(ncap, 1);		/* just the DATA 1 */
}
END_TEST

START_TEST(rrq_netascii_sends_translated_bytes)
{
	struct pkt_opt	 o[] = { { "tsize", "0" } };
	struct pkt	 p;

	write_file("t", "a\nb\r", 4);
	(void)request(TFTP_OP_RRQ, "t", "netascii", o, 1, 0);
	p = got(0);
	ck_assert_str_eq(p.u.oack.opts[0].value, "6");
	(void)ack(0, 1);
	expect_data(1, 1, 6);
	ck_assert_mem_eq(got(1).u.data.data, "a\r\nb\r\0", 6);
}
END_TEST

static Suite *
xfer_suite(void)
{
	Suite	*s = suite_create("xfer");
	TCase	*rrq = tcase_create("rrq sends and retransmits");
	TCase	*win = tcase_create("windows slide and roll over");
	TCase	*wrq = tcase_create("wrq stores atomically");
	TCase	*req = tcase_create("requests are refused cleanly");

	tcase_add_checked_fixture(rrq, setup, teardown);
	tcase_add_test(rrq, rrq_without_options_sends_data_1);
	tcase_add_test(rrq, rrq_exact_multiple_ends_with_empty_block);
	tcase_add_test(rrq, rrq_empty_file_is_one_empty_block);
	tcase_add_test(rrq, duplicate_ack_never_resends);
	tcase_add_test(rrq, timeout_retransmits_with_backoff_then_gives_up);
	tcase_add_test(rrq, progress_resets_backoff);
	tcase_add_test(rrq, timeout_adapts_to_measured_round_trip);
	tcase_add_test(rrq, slow_round_trips_raise_the_timeout);
	tcase_add_test(rrq, oack_waits_for_ack_0);
	tcase_add_test(rrq, oack_is_resent_on_timeout);
	tcase_add_test(rrq, error_after_oack_ends_quietly);
	tcase_add_test(rrq, rrq_netascii_sends_translated_bytes);
	suite_add_tcase(s, rrq);

	tcase_add_checked_fixture(win, setup, teardown);
	tcase_set_timeout(win, 60);
	tcase_add_test(win, window_slides_and_resumes_after_earlier_ack);
	tcase_add_test(win, window_timeout_resends_whole_window);
	tcase_add_test(win, block_numbers_roll_over_to_0);
	tcase_add_test(win, block_numbers_roll_over_to_1);
	suite_add_tcase(s, win);

	tcase_add_checked_fixture(wrq, setup, teardown);
	tcase_add_test(wrq, wrq_acks_each_block_and_commits_at_end);
	tcase_add_test(wrq, wrq_duplicate_data_is_reacked_not_rewritten);
	tcase_add_test(wrq, wrq_window_acks_once_per_window_and_on_gap);
	tcase_add_test(wrq, wrq_aborted_by_peer_leaves_old_file);
	tcase_add_test(wrq, wrq_timeout_leaves_no_partial_file);
	tcase_add_test(wrq, wrq_netascii_is_translated);
	tcase_add_test(wrq, wrq_refused_when_uploads_off);
	tcase_add_test(wrq, wrq_over_max_upload_size_is_refused);
	suite_add_tcase(s, wrq);

	tcase_add_checked_fixture(req, setup, teardown);
	tcase_add_test(req, bad_requests_get_the_right_error);
	tcase_add_test(req, access_lists_refuse_with_error_2);
	tcase_add_test(req, remap_rewrites_and_denies);
	tcase_add_test(req, same_request_is_recognised);
	suite_add_tcase(s, req);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(xfer_suite());
	int	 failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
