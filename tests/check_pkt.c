/*
 * Unit tests for the packet codec (src/pkt.c).
 *
 * Every decode runs on an exact-size heap copy of the packet so that
 * valgrind or ASan catches any read past the end:
 *	CK_FORK=no valgrind --leak-check=full ./check_pkt
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "suite_main.h"
#include "pkt.h"

/* A string literal as (bytes, length without the literal's own NUL). */
#define LIT(s)		((const uint8_t *)(s)), (sizeof(s) - 1)
/* The same as an initialiser for a { bytes, len } pair. */
#define LITPAIR(s)	(s), (sizeof(s) - 1)

static uint8_t	*copy_bytes(const uint8_t *, size_t);
static enum pkt_result decode_copy(const uint8_t *, size_t, struct pkt *,
		    uint8_t **);
static Suite	*pkt_suite(void);

static uint8_t *
copy_bytes(const uint8_t *src, size_t len)
{
	uint8_t	*buf;

	buf = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(buf);
	if (len > 0)
		memcpy(buf, src, len);
	return buf;
}

/* Decode a heap copy of exactly len bytes; the caller frees *bufp. */
static enum pkt_result
decode_copy(const uint8_t *src, size_t len, struct pkt *p, uint8_t **bufp)
{
	*bufp = copy_bytes(src, len);
	return pkt_decode(*bufp, len, p);
}

/* Golden packets. */
static const uint8_t rrq_plain[] = "\0\1" "boot/pxelinux.0\0" "octet\0";
static const uint8_t wrq_opts[] = "\0\2" "up.bin\0" "netascii\0"
    "blksize\0" "1468\0" "tsize\0" "4096\0";
static const uint8_t data_golden[] = "\0\3" "\xff\xfe" "hello";
static const uint8_t ack_golden[] = "\0\4" "\x12\x34";
static const uint8_t err_golden[] = "\0\5" "\0\1" "File not found\0";
static const uint8_t oack_golden[] = "\0\6" "blksize\0" "1428\0"
    "windowsize\0" "8\0";

START_TEST(test_short_every_length)
{
	static const uint16_t ops[] = { 1, 2, 3, 4, 5, 6 };
	uint8_t		 raw[3], *buf;
	struct pkt	 p;
	size_t		 i, len;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		raw[0] = 0;
		raw[1] = (uint8_t)ops[i];
		raw[2] = 0;
		for (len = 0; len <= 3; len++) {
			ck_assert_int_eq(decode_copy(raw, len, &p, &buf),
			    PKT_E_SHORT);
			free(buf);
		}
	}
	/* An unknown opcode is too short as well when cut before it. */
	raw[0] = 0xff;
	raw[1] = 0xff;
	ck_assert_int_eq(decode_copy(raw, 1, &p, &buf), PKT_E_SHORT);
	free(buf);
}
END_TEST

START_TEST(test_unknown_opcode)
{
	static const uint16_t bad[] = { 0, 7, 0x0100, 0x0600, 0xffff };
	uint8_t		 raw[6] = { 0, 0, 0, 1, 'x', 0 }, *buf;
	struct pkt	 p;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		raw[0] = (uint8_t)(bad[i] >> 8);
		raw[1] = (uint8_t)(bad[i] & 0xff);
		ck_assert_int_eq(decode_copy(raw, sizeof(raw), &p, &buf),
		    PKT_E_OPCODE);
		free(buf);
		ck_assert_int_eq(decode_copy(raw, 2, &p, &buf), PKT_E_OPCODE);
		free(buf);
	}
}
END_TEST

START_TEST(test_rrq_plain)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(rrq_plain), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_RRQ);
	ck_assert_str_eq(p.u.req.file, "boot/pxelinux.0");
	ck_assert_uint_eq(p.u.req.filelen, 15);
	ck_assert_ptr_eq(p.u.req.file, (const char *)buf + 2);
	ck_assert_str_eq(p.u.req.mode, "octet");
	ck_assert_ptr_eq(p.u.req.mode, (const char *)buf + 18);
	ck_assert_uint_eq(p.u.req.nopts, 0);
	ck_assert_uint_eq(p.u.req.nopts_dropped, 0);
	free(buf);
}
END_TEST

START_TEST(test_wrq_options)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(wrq_opts), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_WRQ);
	ck_assert_str_eq(p.u.req.file, "up.bin");
	ck_assert_uint_eq(p.u.req.filelen, 6);
	ck_assert_str_eq(p.u.req.mode, "netascii");
	ck_assert_uint_eq(p.u.req.nopts, 2);
	ck_assert_uint_eq(p.u.req.nopts_dropped, 0);
	ck_assert_ptr_eq(p.u.req.opts[0].name, (const char *)buf + 18);
	ck_assert_str_eq(p.u.req.opts[0].name, "blksize");
	ck_assert_str_eq(p.u.req.opts[0].value, "1468");
	ck_assert_str_eq(p.u.req.opts[1].name, "tsize");
	ck_assert_str_eq(p.u.req.opts[1].value, "4096");
	free(buf);
}
END_TEST

START_TEST(test_req_nonul)
{
	struct pkt	 p;
	uint8_t		*buf;

	/* No NUL at all. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "filename"), &p, &buf),
	    PKT_E_NONUL);
	free(buf);
	ck_assert_int_eq(decode_copy(LIT("\0\2" "fi"), &p, &buf),
	    PKT_E_NONUL);
	free(buf);
	/* File terminated, mode not. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "file\0" "octet"), &p, &buf),
	    PKT_E_NONUL);
	free(buf);
	/* File terminated, mode missing entirely. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "file\0"), &p, &buf),
	    PKT_E_NONUL);
	free(buf);
}
END_TEST

START_TEST(test_req_emptyname)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT("\0\1" "\0" "octet\0"), &p, &buf),
	    PKT_E_EMPTYNAME);
	free(buf);
	ck_assert_int_eq(decode_copy(LIT("\0\2" "\0\0"), &p, &buf),
	    PKT_E_EMPTYNAME);
	free(buf);
}
END_TEST

START_TEST(test_req_empty_mode_decodes)
{
	struct pkt	 p;
	uint8_t		*buf;

	/* Mode checking is the caller's job; the codec only frames it. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "f\0" "\0"), &p, &buf),
	    PKT_OK);
	ck_assert_str_eq(p.u.req.file, "f");
	ck_assert_str_eq(p.u.req.mode, "");
	ck_assert_uint_eq(p.u.req.nopts, 0);
	free(buf);
}
END_TEST

START_TEST(test_req_optpair)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
	} bad[] = {
		/* name without value */
		{ LITPAIR("\0\1" "f\0" "octet\0" "blksize\0") },
		/* value not terminated */
		{ LITPAIR("\0\1" "f\0" "octet\0" "blksize\0" "512") },
		/* name not terminated */
		{ LITPAIR("\0\1" "f\0" "octet\0" "blksize") },
		/* trailing garbage without NUL */
		{ LITPAIR("\0\1" "f\0" "octet\0" "a\0" "1\0" "xyz") },
		/* empty option name followed by a value */
		{ LITPAIR("\0\1" "f\0" "octet\0" "\0" "512\0") },
		/* NUL padding, then garbage */
		{ LITPAIR("\0\1" "f\0" "octet\0" "\0\0" "x\0" "1\0") },
		/* a complete pair after an empty name */
		{ LITPAIR("\0\1" "f\0" "octet\0" "a\0" "1\0" "\0" "b\0"
		    "2\0") },
	};
	struct pkt	 p;
	uint8_t		*buf;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(decode_copy((const uint8_t *)bad[i].bytes,
		    bad[i].len, &p, &buf), PKT_E_OPTPAIR);
		free(buf);
	}
}
END_TEST

START_TEST(test_req_trailing_nul_padding)
{
	static const uint8_t req[] = "\0\1" "f\0" "octet\0" "blksize\0" "512\0";
	uint8_t		 pad[sizeof(req) + 8];
	struct pkt	 p;
	uint8_t		*buf;
	size_t		 extra;

	memset(pad, 0, sizeof(pad));
	memcpy(pad, req, sizeof(req) - 1);
	/* 0 to 8 NUL bytes of padding after the last pair are all fine. */
	for (extra = 0; extra <= 8; extra++) {
		ck_assert_int_eq(decode_copy(pad, sizeof(req) - 1 + extra, &p,
		    &buf), PKT_OK);
		ck_assert_uint_eq(p.u.req.nopts, 1);
		ck_assert_str_eq(p.u.req.opts[0].name, "blksize");
		ck_assert_str_eq(p.u.req.opts[0].value, "512");
		free(buf);
	}
	/* Padding right after the mode, without options. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "f\0" "octet\0" "\0\0\0"), &p,
	    &buf), PKT_OK);
	ck_assert_uint_eq(p.u.req.nopts, 0);
	free(buf);
}
END_TEST

START_TEST(test_req_empty_value)
{
	struct pkt	 p;
	uint8_t		*buf;

	/* An empty value is framed; opt_negotiate judges it. */
	ck_assert_int_eq(decode_copy(LIT("\0\1" "f\0" "octet\0" "blksize\0"
	    "\0"), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.u.req.nopts, 1);
	ck_assert_str_eq(p.u.req.opts[0].name, "blksize");
	ck_assert_str_eq(p.u.req.opts[0].value, "");
	free(buf);
}
END_TEST

START_TEST(test_req_many_options)
{
	struct pkt	 p;
	uint8_t		*raw, *buf;
	size_t		 len, i;
	int		 n;

	raw = malloc(65536);
	ck_assert_ptr_nonnull(raw);
	memcpy(raw, "\0\1" "f\0" "octet\0", 10);
	len = 10;
	for (i = 0; i < 1000; i++) {
		n = sprintf((char *)raw + len, "o%zu", i);
		len += (size_t)n + 1;
		n = sprintf((char *)raw + len, "%zu", i * 7);
		len += (size_t)n + 1;
	}
	ck_assert_int_eq(decode_copy(raw, len, &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.u.req.nopts, PKT_OPT_MAX);
	ck_assert_uint_eq(p.u.req.nopts_dropped, 1000 - PKT_OPT_MAX);
	ck_assert_str_eq(p.u.req.opts[0].name, "o0");
	ck_assert_str_eq(p.u.req.opts[0].value, "0");
	ck_assert_str_eq(p.u.req.opts[PKT_OPT_MAX - 1].name, "o31");
	ck_assert_str_eq(p.u.req.opts[PKT_OPT_MAX - 1].value, "217");
	free(buf);

	/* Still well-formed checking beyond the kept pairs. */
	raw[len - 1] = 'x';
	ck_assert_int_eq(decode_copy(raw, len, &p, &buf), PKT_E_OPTPAIR);
	free(buf);
	free(raw);
}
END_TEST

START_TEST(test_req_huge_value)
{
	struct pkt	 p;
	uint8_t		*raw, *buf;
	size_t		 vlen = 60000, len;

	len = 10 + 8 + vlen + 1;
	raw = malloc(len);
	ck_assert_ptr_nonnull(raw);
	memcpy(raw, "\0\1" "f\0" "octet\0" "blksize\0", 18);
	memset(raw + 18, '9', vlen);
	raw[len - 1] = '\0';
	ck_assert_int_eq(decode_copy(raw, len, &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.u.req.nopts, 1);
	ck_assert_uint_eq(strlen(p.u.req.opts[0].value), vlen);
	free(buf);

	/* Same without the final NUL. */
	ck_assert_int_eq(decode_copy(raw, len - 1, &p, &buf), PKT_E_OPTPAIR);
	free(buf);
	free(raw);
}
END_TEST

START_TEST(test_data)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(data_golden), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_DATA);
	ck_assert_uint_eq(p.u.data.block, 0xfffe);
	ck_assert_uint_eq(p.u.data.len, 5);
	ck_assert_ptr_eq(p.u.data.data, buf + 4);
	ck_assert_mem_eq(p.u.data.data, "hello", 5);
	free(buf);

	/* An empty DATA ends a transfer whose size is a block multiple. */
	ck_assert_int_eq(decode_copy(LIT("\0\3" "\0\7"), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.u.data.block, 7);
	ck_assert_uint_eq(p.u.data.len, 0);
	free(buf);
}
END_TEST

START_TEST(test_ack)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(ack_golden), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_ACK);
	ck_assert_uint_eq(p.u.ack.block, 0x1234);
	free(buf);

	/* Extra bytes after the block number are ignored. */
	ck_assert_int_eq(decode_copy(LIT("\0\4" "\0\0" "junk"), &p, &buf),
	    PKT_OK);
	ck_assert_uint_eq(p.u.ack.block, 0);
	free(buf);
}
END_TEST

START_TEST(test_error)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(err_golden), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_ERROR);
	ck_assert_uint_eq(p.u.error.code, TFTP_E_NOTFOUND);
	ck_assert_ptr_eq(p.u.error.msg, (const char *)buf + 4);
	ck_assert_str_eq(p.u.error.msg, "File not found");
	free(buf);

	/* Message without NUL: code kept, message dropped. */
	ck_assert_int_eq(decode_copy(LIT("\0\5" "\0\10" "refused"), &p, &buf),
	    PKT_OK);
	ck_assert_uint_eq(p.u.error.code, TFTP_E_OPTNEG);
	ck_assert_ptr_null(p.u.error.msg);
	free(buf);

	/* No message bytes at all. */
	ck_assert_int_eq(decode_copy(LIT("\0\5" "\1\2"), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.u.error.code, 0x0102);
	ck_assert_ptr_null(p.u.error.msg);
	free(buf);

	/* Empty message. */
	ck_assert_int_eq(decode_copy(LIT("\0\5" "\0\0" "\0"), &p, &buf),
	    PKT_OK);
	ck_assert_str_eq(p.u.error.msg, "");
	free(buf);
}
END_TEST

START_TEST(test_error_short)
{
	struct pkt	 p;
	uint8_t		*buf;
	size_t		 len;

	for (len = 0; len < 4; len++) {
		ck_assert_int_eq(decode_copy(err_golden, len, &p, &buf),
		    PKT_E_SHORT);
		free(buf);
	}
}
END_TEST

START_TEST(test_oack)
{
	struct pkt	 p;
	uint8_t		*buf;

	ck_assert_int_eq(decode_copy(LIT(oack_golden), &p, &buf), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_OACK);
	ck_assert_uint_eq(p.u.oack.nopts, 2);
	ck_assert_str_eq(p.u.oack.opts[0].name, "blksize");
	ck_assert_str_eq(p.u.oack.opts[0].value, "1428");
	ck_assert_str_eq(p.u.oack.opts[1].name, "windowsize");
	ck_assert_str_eq(p.u.oack.opts[1].value, "8");
	free(buf);

	ck_assert_int_eq(decode_copy(LIT("\0\6" "blksize\0" "14"), &p, &buf),
	    PKT_E_OPTPAIR);
	free(buf);
	ck_assert_int_eq(decode_copy(LIT("\0\6" "blksize\0"), &p, &buf),
	    PKT_E_OPTPAIR);
	free(buf);
}
END_TEST

START_TEST(test_encode_ack_data)
{
	uint8_t	 buf[8];

	memset(buf, 0xaa, sizeof(buf));
	ck_assert_uint_eq(pkt_encode_ack(buf, sizeof(buf), 0x1234), 4);
	ck_assert_mem_eq(buf, ack_golden, 4);
	ck_assert_uint_eq(buf[4], 0xaa);
	ck_assert_uint_eq(pkt_encode_ack(buf, 3, 1), 0);

	ck_assert_uint_eq(pkt_encode_data_hdr(buf, 4, 0xfffe), 4);
	ck_assert_mem_eq(buf, data_golden, 4);
	ck_assert_uint_eq(pkt_encode_data_hdr(buf, 3, 1), 0);
	ck_assert_uint_eq(pkt_encode_data_hdr(buf, 0, 1), 0);
}
END_TEST

START_TEST(test_encode_error)
{
	uint8_t	 buf[64];

	ck_assert_uint_eq(pkt_encode_error(buf, sizeof(buf), TFTP_E_NOTFOUND,
	    "File not found"), sizeof(err_golden) - 1);
	ck_assert_mem_eq(buf, err_golden, sizeof(err_golden) - 1);

	/* NULL message: the default text for the code. */
	ck_assert_uint_eq(pkt_encode_error(buf, sizeof(buf), TFTP_E_OPTNEG,
	    NULL), 4 + 25 + 1);
	ck_assert_mem_eq(buf, "\0\5" "\0\10" "Option negotiation failed\0",
	    30);
}
END_TEST

START_TEST(test_encode_error_truncates)
{
	uint8_t		*buf;
	size_t		 cap;

	/* Exact-size buffers so an overrun is caught by the tools. */
	for (cap = 5; cap <= 19; cap++) {
		buf = malloc(cap);
		ck_assert_ptr_nonnull(buf);
		ck_assert_uint_eq(pkt_encode_error(buf, cap, TFTP_E_NOTFOUND,
		    "File not found"), cap);
		ck_assert_mem_eq(buf, err_golden, cap - 1);
		ck_assert_uint_eq(buf[cap - 1], 0);
		free(buf);
	}
	buf = malloc(5);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(pkt_encode_error(buf, 5, 3, "disk"), 5);
	ck_assert_mem_eq(buf, "\0\5" "\0\3" "\0", 5);
	free(buf);

	buf = malloc(4);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(pkt_encode_error(buf, 4, 3, "disk"), 0);
	ck_assert_uint_eq(pkt_encode_error(buf, 0, 3, "disk"), 0);
	free(buf);
}
END_TEST

START_TEST(test_encode_oack)
{
	static const struct pkt_opt opts[] = {
		{ "blksize", "1428" },
		{ "windowsize", "8" },
	};
	uint8_t		 big[64], *buf;
	size_t		 need = sizeof(oack_golden) - 1, cap;

	ck_assert_uint_eq(pkt_encode_oack(big, sizeof(big), opts, 2), need);
	ck_assert_mem_eq(big, oack_golden, need);
	for (cap = 0; cap <= need; cap++) {
		buf = malloc(cap == 0 ? 1 : cap);
		ck_assert_ptr_nonnull(buf);
		ck_assert_uint_eq(pkt_encode_oack(buf, cap, opts, 2),
		    cap == need ? need : 0);
		free(buf);
	}
}
END_TEST

START_TEST(test_encode_req)
{
	static const struct pkt_opt opts[] = {
		{ "blksize", "1468" },
		{ "tsize", "4096" },
	};
	uint8_t		 big[128], *buf;
	size_t		 need, cap;

	need = sizeof(rrq_plain) - 1;
	ck_assert_uint_eq(pkt_encode_req(big, sizeof(big), TFTP_OP_RRQ,
	    "boot/pxelinux.0", "octet", NULL, 0), need);
	ck_assert_mem_eq(big, rrq_plain, need);

	need = sizeof(wrq_opts) - 1;
	ck_assert_uint_eq(pkt_encode_req(big, sizeof(big), TFTP_OP_WRQ,
	    "up.bin", "netascii", opts, 2), need);
	ck_assert_mem_eq(big, wrq_opts, need);

	for (cap = 0; cap <= need; cap++) {
		buf = malloc(cap == 0 ? 1 : cap);
		ck_assert_ptr_nonnull(buf);
		ck_assert_uint_eq(pkt_encode_req(buf, cap, TFTP_OP_WRQ,
		    "up.bin", "netascii", opts, 2), cap == need ? need : 0);
		free(buf);
	}

	/* Only requests. */
	ck_assert_uint_eq(pkt_encode_req(big, sizeof(big), TFTP_OP_DATA,
	    "f", "octet", NULL, 0), 0);
	ck_assert_uint_eq(pkt_encode_req(big, sizeof(big), TFTP_OP_OACK,
	    "f", "octet", NULL, 0), 0);
}
END_TEST

START_TEST(test_roundtrip_req)
{
	struct pkt_opt	 opts[PKT_OPT_MAX];
	char		 names[PKT_OPT_MAX][16], vals[PKT_OPT_MAX][16];
	uint8_t		 buf[2048];
	struct pkt	 p;
	size_t		 i, n, len;

	for (n = 0; n <= PKT_OPT_MAX; n++) {
		for (i = 0; i < n; i++) {
			snprintf(names[i], sizeof(names[i]), "name%zu", i);
			snprintf(vals[i], sizeof(vals[i]), "%zu", i * 1000);
			opts[i].name = names[i];
			opts[i].value = vals[i];
		}
		len = pkt_encode_req(buf, sizeof(buf), TFTP_OP_RRQ,
		    "dir/file.img", "octet", opts, n);
		ck_assert_uint_ne(len, 0);
		ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
		ck_assert_uint_eq(p.op, TFTP_OP_RRQ);
		ck_assert_str_eq(p.u.req.file, "dir/file.img");
		ck_assert_uint_eq(p.u.req.filelen, 12);
		ck_assert_str_eq(p.u.req.mode, "octet");
		ck_assert_uint_eq(p.u.req.nopts, n);
		ck_assert_uint_eq(p.u.req.nopts_dropped, 0);
		for (i = 0; i < n; i++) {
			ck_assert_str_eq(p.u.req.opts[i].name, names[i]);
			ck_assert_str_eq(p.u.req.opts[i].value, vals[i]);
		}
	}
}
END_TEST

START_TEST(test_roundtrip_other)
{
	static const struct pkt_opt opts[] = {
		{ "tsize", "123456789" },
		{ "timeout", "3" },
	};
	uint8_t		 buf[600];
	struct pkt	 p;
	size_t		 len;
	unsigned	 b;

	for (b = 0; b <= 0xffff; b += 0x1111) {
		len = pkt_encode_ack(buf, sizeof(buf), (uint16_t)b);
		ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
		ck_assert_uint_eq(p.op, TFTP_OP_ACK);
		ck_assert_uint_eq(p.u.ack.block, b);

		len = pkt_encode_data_hdr(buf, sizeof(buf), (uint16_t)b);
		memset(buf + len, 'z', 512);
		ck_assert_int_eq(pkt_decode(buf, len + 512, &p), PKT_OK);
		ck_assert_uint_eq(p.op, TFTP_OP_DATA);
		ck_assert_uint_eq(p.u.data.block, b);
		ck_assert_uint_eq(p.u.data.len, 512);

		len = pkt_encode_error(buf, sizeof(buf), (uint16_t)b,
		    "nope");
		ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
		ck_assert_uint_eq(p.op, TFTP_OP_ERROR);
		ck_assert_uint_eq(p.u.error.code, b);
		ck_assert_str_eq(p.u.error.msg, "nope");
	}

	len = pkt_encode_oack(buf, sizeof(buf), opts, 2);
	ck_assert_int_eq(pkt_decode(buf, len, &p), PKT_OK);
	ck_assert_uint_eq(p.op, TFTP_OP_OACK);
	ck_assert_uint_eq(p.u.oack.nopts, 2);
	ck_assert_str_eq(p.u.oack.opts[0].name, "tsize");
	ck_assert_str_eq(p.u.oack.opts[0].value, "123456789");
	ck_assert_str_eq(p.u.oack.opts[1].name, "timeout");
	ck_assert_str_eq(p.u.oack.opts[1].value, "3");
}
END_TEST

START_TEST(test_err_str)
{
	ck_assert_str_eq(pkt_err_str(0), "Undefined error");
	ck_assert_str_eq(pkt_err_str(1), "File not found");
	ck_assert_str_eq(pkt_err_str(2), "Access violation");
	ck_assert_str_eq(pkt_err_str(3), "Disk full or allocation exceeded");
	ck_assert_str_eq(pkt_err_str(4), "Illegal TFTP operation");
	ck_assert_str_eq(pkt_err_str(5), "Unknown transfer ID");
	ck_assert_str_eq(pkt_err_str(6), "File already exists");
	ck_assert_str_eq(pkt_err_str(7), "No such user");
	ck_assert_str_eq(pkt_err_str(8), "Option negotiation failed");
	ck_assert_str_eq(pkt_err_str(9), "Undefined error");
	ck_assert_str_eq(pkt_err_str(TFTP_E_NONE), "Undefined error");
}
END_TEST

START_TEST(test_op_result_str)
{
	int	 r, q;

	ck_assert_str_eq(pkt_op_str(TFTP_OP_RRQ), "rrq");
	ck_assert_str_eq(pkt_op_str(TFTP_OP_WRQ), "wrq");
	ck_assert_str_eq(pkt_op_str(TFTP_OP_DATA), "data");
	ck_assert_str_eq(pkt_op_str(TFTP_OP_ACK), "ack");
	ck_assert_str_eq(pkt_op_str(TFTP_OP_ERROR), "error");
	ck_assert_str_eq(pkt_op_str(TFTP_OP_OACK), "oack");
	ck_assert_str_eq(pkt_op_str(0), "unknown");
	ck_assert_str_eq(pkt_op_str(7), "unknown");
	ck_assert_str_eq(pkt_op_str(0xffff), "unknown");

	ck_assert_str_eq(pkt_result_str(PKT_OK), "ok");
	ck_assert_str_eq(pkt_result_str(PKT_E_SHORT), "packet too short");
	/* Every result has its own text. */
	for (r = PKT_OK; r <= PKT_E_OPTPAIR; r++)
		for (q = r + 1; q <= PKT_E_OPTPAIR; q++)
			ck_assert_str_ne(pkt_result_str((enum pkt_result)r),
			    pkt_result_str((enum pkt_result)q));
	ck_assert_str_eq(pkt_result_str((enum pkt_result)99),
	    "unknown result");
}
END_TEST

static Suite *
pkt_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("pkt");

	tc = tcase_create("decode rejects truncated and unknown packets");
	tcase_add_test(tc, test_short_every_length);
	tcase_add_test(tc, test_unknown_opcode);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode frames requests");
	tcase_add_test(tc, test_rrq_plain);
	tcase_add_test(tc, test_wrq_options);
	tcase_add_test(tc, test_req_empty_mode_decodes);
	tcase_add_test(tc, test_req_empty_value);
	tcase_add_test(tc, test_req_trailing_nul_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode rejects malformed requests");
	tcase_add_test(tc, test_req_nonul);
	tcase_add_test(tc, test_req_emptyname);
	tcase_add_test(tc, test_req_optpair);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode bounds hostile option lists");
	tcase_add_test(tc, test_req_many_options);
	tcase_add_test(tc, test_req_huge_value);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode data, ack, error and oack");
	tcase_add_test(tc, test_data);
	tcase_add_test(tc, test_ack);
	tcase_add_test(tc, test_error);
	tcase_add_test(tc, test_error_short);
	tcase_add_test(tc, test_oack);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode writes golden bytes and respects cap");
	tcase_add_test(tc, test_encode_ack_data);
	tcase_add_test(tc, test_encode_error);
	tcase_add_test(tc, test_encode_error_truncates);
	tcase_add_test(tc, test_encode_oack);
	tcase_add_test(tc, test_encode_req);
	suite_add_tcase(s, tc);

	tc = tcase_create("encode and decode round-trip");
	tcase_add_test(tc, test_roundtrip_req);
	tcase_add_test(tc, test_roundtrip_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("texts for codes");
	tcase_add_test(tc, test_err_str);
	tcase_add_test(tc, test_op_result_str);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(pkt_suite());
}
