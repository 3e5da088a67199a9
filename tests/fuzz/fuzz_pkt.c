/*
 * libFuzzer harness for the packet codec (src/pkt.c).
 *
 * Arbitrary bytes go to pkt_decode().  Whatever decodes is encoded again
 * with the matching pkt_encode_*() into exact-size heap buffers (so ASan
 * sees any write past cap), the bytes are compared with the input, and
 * the result is decoded once more: both decodes must agree.  A broken
 * invariant calls abort(), which libFuzzer reports as a crash.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check(int, const char *, int);
static uint8_t	*dup_bytes(const uint8_t *, size_t);
static int	 all_nul(const uint8_t *, size_t);
static int	 in_buf(const void *, const uint8_t *, size_t);
static void	 check_pairs(const struct pkt_opt *, size_t,
		    const struct pkt_opt *, size_t);
static void	 check_strings(const struct pkt_opt *, size_t,
		    const uint8_t *, size_t);
static void	 fuzz_req(const uint8_t *, size_t, const struct pkt *);
static void	 fuzz_data(const uint8_t *, size_t, const struct pkt *);
static void	 fuzz_ack(const uint8_t *, size_t, const struct pkt *);
static void	 fuzz_error(const uint8_t *, size_t, const struct pkt *);
static void	 fuzz_oack(const uint8_t *, size_t, const struct pkt *);

#define CHECK(e)	check((e), #e, __LINE__)

static void
check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_pkt: line %d: invariant broken: %s\n", line,
	    what);
	abort();
}

/* An exact-size heap copy: ASan then catches any access past len. */
static uint8_t *
dup_bytes(const uint8_t *p, size_t len)
{
	uint8_t	*b;

	if ((b = malloc(len == 0 ? 1 : len)) == NULL)
		abort();
	if (len > 0)
		memcpy(b, p, len);
	return b;
}

static int
all_nul(const uint8_t *p, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

/* Whether a decoded string points inside [buf, buf + len). */
static int
in_buf(const void *s, const uint8_t *buf, size_t len)
{
	const uint8_t	*p = s;

	return p >= buf && p < buf + len;
}

/* Every decoded pair lies in buf, is NUL-terminated there, has a name. */
static void
check_strings(const struct pkt_opt *o, size_t n, const uint8_t *buf,
    size_t len)
{
	size_t	 i, left;

	for (i = 0; i < n; i++) {
		CHECK(in_buf(o[i].name, buf, len));
		CHECK(in_buf(o[i].value, buf, len));
		CHECK(o[i].name[0] != '\0');
		left = len - (size_t)((const uint8_t *)o[i].value - buf);
		CHECK(memchr(o[i].value, '\0', left) != NULL);
	}
}

static void
check_pairs(const struct pkt_opt *a, size_t na, const struct pkt_opt *b,
    size_t nb)
{
	size_t	 i;

	CHECK(na == nb);
	for (i = 0; i < na; i++) {
		CHECK(strcmp(a[i].name, b[i].name) == 0);
		CHECK(strcmp(a[i].value, b[i].value) == 0);
	}
}

static void
fuzz_req(const uint8_t *in, size_t len, const struct pkt *p)
{
	struct pkt	 q;
	uint8_t		*enc, *small;
	size_t		 n, m;

	CHECK(p->u.req.file != NULL && p->u.req.mode != NULL);
	CHECK(in_buf(p->u.req.file, in, len));
	CHECK(in_buf(p->u.req.mode, in, len));
	CHECK(p->u.req.filelen > 0);
	CHECK(strlen(p->u.req.file) == p->u.req.filelen);
	CHECK(p->u.req.nopts <= PKT_OPT_MAX);
	CHECK(p->u.req.nopts_dropped == 0 || p->u.req.nopts == PKT_OPT_MAX);
	check_strings(p->u.req.opts, p->u.req.nopts, in, len);

	/* The kept part of the request is a prefix of the input. */
	enc = malloc(len);
	if (enc == NULL)
		abort();
	n = pkt_encode_req(enc, len, p->op, p->u.req.file, p->u.req.mode,
	    p->u.req.opts, p->u.req.nopts);
	CHECK(n > 0 && n <= len);
	CHECK(memcmp(enc, in, n) == 0);
	/* What follows is padding, or the pairs beyond PKT_OPT_MAX. */
	if (p->u.req.nopts_dropped == 0)
		CHECK(all_nul(in + n, len - n));
	else
		CHECK(!all_nul(in + n, len - n));

	/* One byte short does not fit, and writes nothing past cap. */
	small = malloc(n - 1 == 0 ? 1 : n - 1);
	if (small == NULL)
		abort();
	m = pkt_encode_req(small, n - 1, p->op, p->u.req.file, p->u.req.mode,
	    p->u.req.opts, p->u.req.nopts);
	CHECK(m == 0);

	/* A request is never encoded with another opcode. */
	CHECK(pkt_encode_req(small, 0, TFTP_OP_DATA, p->u.req.file,
	    p->u.req.mode, NULL, 0) == 0);

	CHECK(pkt_decode(enc, n, &q) == PKT_OK);
	CHECK(q.op == p->op);
	CHECK(q.u.req.filelen == p->u.req.filelen);
	CHECK(strcmp(q.u.req.file, p->u.req.file) == 0);
	CHECK(strcmp(q.u.req.mode, p->u.req.mode) == 0);
	CHECK(q.u.req.nopts_dropped == 0);
	check_pairs(q.u.req.opts, q.u.req.nopts, p->u.req.opts,
	    p->u.req.nopts);
	free(small);
	free(enc);
}

static void
fuzz_data(const uint8_t *in, size_t len, const struct pkt *p)
{
	struct pkt	 q;
	uint8_t		*enc;
	size_t		 n;

	CHECK(p->u.data.len == len - PKT_HDR_LEN);
	CHECK(p->u.data.data == in + PKT_HDR_LEN);

	enc = malloc(len);
	if (enc == NULL)
		abort();
	CHECK(pkt_encode_data_hdr(enc, PKT_HDR_LEN - 1, p->u.data.block) == 0);
	n = pkt_encode_data_hdr(enc, len, p->u.data.block);
	CHECK(n == PKT_HDR_LEN);
	memcpy(enc + n, p->u.data.data, p->u.data.len);
	CHECK(memcmp(enc, in, len) == 0);
	CHECK(pkt_decode(enc, len, &q) == PKT_OK);
	CHECK(q.op == TFTP_OP_DATA);
	CHECK(q.u.data.block == p->u.data.block);
	CHECK(q.u.data.len == p->u.data.len);
	free(enc);
}

static void
fuzz_ack(const uint8_t *in, size_t len, const struct pkt *p)
{
	struct pkt	 q;
	uint8_t		*enc;

	enc = malloc(PKT_HDR_LEN);
	if (enc == NULL)
		abort();
	CHECK(pkt_encode_ack(enc, PKT_HDR_LEN - 1, p->u.ack.block) == 0);
	CHECK(pkt_encode_ack(enc, PKT_HDR_LEN, p->u.ack.block) ==
	    PKT_HDR_LEN);
	/* Trailing bytes after the block number are ignored. */
	CHECK(memcmp(enc, in, PKT_HDR_LEN) == 0);
	CHECK(pkt_decode(enc, PKT_HDR_LEN, &q) == PKT_OK);
	CHECK(q.op == TFTP_OP_ACK && q.u.ack.block == p->u.ack.block);
	free(enc);
}

static void
fuzz_error(const uint8_t *in, size_t len, const struct pkt *p)
{
	struct pkt	 q;
	const char	*msg;
	uint8_t		*enc;
	size_t		 mlen, cap, n;

	msg = p->u.error.msg;
	if (msg != NULL) {
		CHECK(msg == (const char *)in + PKT_HDR_LEN);
		mlen = strlen(msg);
		CHECK(PKT_HDR_LEN + mlen < len);
	} else {
		CHECK(len == PKT_HDR_LEN ||
		    memchr(in + PKT_HDR_LEN, '\0', len - PKT_HDR_LEN) == NULL);
		msg = pkt_err_str(p->u.error.code);
		CHECK(msg != NULL && msg[0] != '\0');
		mlen = strlen(msg);
	}

	/* The full packet: header, message, NUL. */
	cap = PKT_HDR_LEN + mlen + 1;
	enc = malloc(cap);
	if (enc == NULL)
		abort();
	n = pkt_encode_error(enc, cap, p->u.error.code, p->u.error.msg);
	CHECK(n == cap);
	if (p->u.error.msg != NULL)
		CHECK(memcmp(enc, in, n) == 0);
	CHECK(pkt_decode(enc, n, &q) == PKT_OK);
	CHECK(q.op == TFTP_OP_ERROR && q.u.error.code == p->u.error.code);
	CHECK(q.u.error.msg != NULL && strcmp(q.u.error.msg, msg) == 0);
	free(enc);

	/* Every smaller capacity truncates, still NUL-terminated. */
	for (cap = 0; cap < PKT_HDR_LEN + mlen + 1; cap++) {
		enc = malloc(cap == 0 ? 1 : cap);
		if (enc == NULL)
			abort();
		n = pkt_encode_error(enc, cap, p->u.error.code,
		    p->u.error.msg);
		if (cap < PKT_HDR_LEN + 1)
			CHECK(n == 0);
		else {
			CHECK(n == cap);
			CHECK(enc[n - 1] == '\0');
			CHECK(memcmp(enc + PKT_HDR_LEN, msg,
			    n - PKT_HDR_LEN - 1) == 0);
			CHECK(pkt_decode(enc, n, &q) == PKT_OK);
			CHECK(q.u.error.msg != NULL &&
			    strlen(q.u.error.msg) == n - PKT_HDR_LEN - 1);
		}
		free(enc);
		if (cap > 64 && cap + 64 < PKT_HDR_LEN + mlen)
			cap = PKT_HDR_LEN + mlen - 64;	/* skip the middle */
	}
}

static void
fuzz_oack(const uint8_t *in, size_t len, const struct pkt *p)
{
	struct pkt	 q;
	uint8_t		*enc, *small;
	size_t		 n;

	CHECK(p->u.oack.nopts <= PKT_OPT_MAX);
	check_strings(p->u.oack.opts, p->u.oack.nopts, in, len);

	enc = malloc(len);
	if (enc == NULL)
		abort();
	n = pkt_encode_oack(enc, len, p->u.oack.opts, p->u.oack.nopts);
	CHECK(n >= 2 && n <= len);
	CHECK(memcmp(enc, in, n) == 0);
	if (p->u.oack.nopts < PKT_OPT_MAX)
		CHECK(all_nul(in + n, len - n));
	if (n > 2) {
		small = malloc(n - 1);
		if (small == NULL)
			abort();
		CHECK(pkt_encode_oack(small, n - 1, p->u.oack.opts,
		    p->u.oack.nopts) == 0);
		free(small);
	}
	/*
	 * An OACK without options encodes to 2 bytes, which the decoder
	 * refuses as short (it needs PKT_HDR_LEN); the server never sends
	 * one (opt_encode_oack() returns 0 instead).
	 */
	if (p->u.oack.nopts == 0) {
		CHECK(n == 2);
		CHECK(pkt_decode(enc, n, &q) == PKT_E_SHORT);
		free(enc);
		return;
	}
	CHECK(pkt_decode(enc, n, &q) == PKT_OK);
	CHECK(q.op == TFTP_OP_OACK);
	check_pairs(q.u.oack.opts, q.u.oack.nopts, p->u.oack.opts,
	    p->u.oack.nopts);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt		 p;
	enum pkt_result		 r;
	uint8_t			*in;
	const char		*s;

	in = dup_bytes(data, size);
	r = pkt_decode(in, size, &p);
	s = pkt_result_str(r);
	CHECK(s != NULL && s[0] != '\0');
	if (size < 2)
		CHECK(r == PKT_E_SHORT);
	if (r != PKT_OK) {
		free(in);
		return 0;
	}
	CHECK(size >= PKT_HDR_LEN);
	CHECK(p.op >= TFTP_OP_RRQ && p.op <= TFTP_OP_OACK);
	CHECK(strcmp(pkt_op_str(p.op), "unknown") != 0);

	switch (p.op) {
	case TFTP_OP_RRQ:
	case TFTP_OP_WRQ:
		fuzz_req(in, size, &p);
		break;
	case TFTP_OP_DATA:
		fuzz_data(in, size, &p);
		break;
	case TFTP_OP_ACK:
		fuzz_ack(in, size, &p);
		break;
	case TFTP_OP_ERROR:
		fuzz_error(in, size, &p);
		break;
	case TFTP_OP_OACK:
		fuzz_oack(in, size, &p);
		break;
	default:
		CHECK(0);
	}
	free(in);
	return 0;
}
