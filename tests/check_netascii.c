/*
 * Unit tests for the netascii converters (src/netascii.c).  Output
 * buffers are allocated at exactly the documented bound so that an
 * overrun shows up under valgrind or ASan:
 *	CK_FORK=no valgrind --leak-check=full ./check_netascii
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "suite_main.h"
#include "netascii.h"

#define LIT(s)		((const uint8_t *)(s)), (sizeof(s) - 1)

struct rng {
	uint32_t	 x;
};

static uint32_t	 rng_next(struct rng *);
static void	 fill_text(struct rng *, uint8_t *, size_t);
static uint8_t	*xmalloc_exact(size_t);
static size_t	 decode_chunk(struct netascii_dec *, const uint8_t *, size_t,
		    uint8_t *);
static size_t	 decode_split(const uint8_t *, size_t, const size_t *,
		    size_t, uint8_t *);
static void	 check_decode(const uint8_t *, size_t, const uint8_t *,
		    size_t);
static Suite	*netascii_suite(void);

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t
rng_next(struct rng *r)
{
	r->x ^= r->x << 13;
	r->x ^= r->x >> 17;
	r->x ^= r->x << 5;
	return r->x;
}

/* Random bytes, heavy in CR, LF and NUL so every pairing occurs. */
static void
fill_text(struct rng *r, uint8_t *buf, size_t len)
{
	static const uint8_t special[] = { '\r', '\n', '\0', 'a' };
	size_t		 i;
	uint32_t	 v;

	for (i = 0; i < len; i++) {
		v = rng_next(r);
		if ((v & 1) != 0)
			buf[i] = special[(v >> 1) & 3];
		else
			buf[i] = (uint8_t)(v >> 8);
	}
}

static uint8_t *
xmalloc_exact(size_t len)
{
	uint8_t	*p;

	p = malloc(len == 0 ? 1 : len);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Decode one chunk into an exact len + 1 buffer, append to out. */
static size_t
decode_chunk(struct netascii_dec *d, const uint8_t *in, size_t len,
    uint8_t *out)
{
	uint8_t	*tmp;
	size_t	 n;

	tmp = xmalloc_exact(len + 1);
	n = netascii_decode(d, in, len, tmp);
	ck_assert_uint_le(n, len + 1);
	memcpy(out, tmp, n);
	free(tmp);
	return n;
}

/*
 * Decode in split at the ncuts offsets in cuts (ascending), then finish.
 * out must hold len + 1 bytes.
 */
static size_t
decode_split(const uint8_t *in, size_t len, const size_t *cuts, size_t ncuts,
    uint8_t *out)
{
	struct netascii_dec	 d;
	uint8_t			 last[1];
	size_t			 i, from = 0, n = 0;

	netascii_dec_init(&d);
	for (i = 0; i < ncuts; i++) {
		n += decode_chunk(&d, in + from, cuts[i] - from, out + n);
		from = cuts[i];
	}
	n += decode_chunk(&d, in + from, len - from, out + n);
	if (netascii_decode_finish(&d, last) == 1)
		out[n++] = last[0];
	ck_assert_int_eq(d.pending_cr, 0);
	return n;
}

/* Decoding in (one chunk) must give exactly want. */
static void
check_decode(const uint8_t *in, size_t len, const uint8_t *want,
    size_t wantlen)
{
	uint8_t	*out;
	size_t	 n;

	out = xmalloc_exact(len + 1);
	n = decode_split(in, len, NULL, 0, out);
	ck_assert_uint_eq(n, wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	free(out);
}

START_TEST(test_encode_golden)
{
	static const uint8_t in[] = "a\nb\rc\r\n";
	static const uint8_t want[] = "a\r\nb\r\0c\r\0\r\n";
	uint8_t		 out[2 * (sizeof(in) - 1)];
	size_t		 n;

	n = netascii_encode(in, sizeof(in) - 1, out);
	ck_assert_uint_eq(n, sizeof(want) - 1);
	ck_assert_mem_eq(out, want, n);
	ck_assert_uint_eq(netascii_encoded_len(in, sizeof(in) - 1), n);
	ck_assert_uint_eq(netascii_encode(in, 0, out), 0);
	ck_assert_uint_eq(netascii_encoded_len(in, 0), 0);
}
END_TEST

START_TEST(test_encode_every_byte)
{
	uint8_t		 in[256], out[512];
	size_t		 i, j, n;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	n = netascii_encode(in, sizeof(in), out);
	ck_assert_uint_eq(n, 258);
	ck_assert_uint_eq(netascii_encoded_len(in, sizeof(in)), 258);
	for (i = 0, j = 0; i < 256; i++) {
		if (i == '\n') {
			ck_assert_uint_eq(out[j++], '\r');
			ck_assert_uint_eq(out[j++], '\n');
		} else if (i == '\r') {
			ck_assert_uint_eq(out[j++], '\r');
			ck_assert_uint_eq(out[j++], '\0');
		} else
			ck_assert_uint_eq(out[j++], i);
	}
}
END_TEST

START_TEST(test_encode_worst_case)
{
	uint8_t		*in, *out;
	size_t		 len = 1000, n;

	/* Only line ends: exactly twice the size, in a 2 * len buffer. */
	in = xmalloc_exact(len);
	out = xmalloc_exact(2 * len);
	memset(in, '\n', len);
	n = netascii_encode(in, len, out);
	ck_assert_uint_eq(n, 2 * len);
	ck_assert_uint_eq(netascii_encoded_len(in, len), 2 * len);
	ck_assert_uint_eq(out[0], '\r');
	ck_assert_uint_eq(out[2 * len - 1], '\n');
	free(in);
	free(out);
}
END_TEST

START_TEST(test_decode_golden)
{
	check_decode(LIT("a\r\nb\r\0c"), LIT("a\nb\rc"));
	check_decode(LIT("\r\n\r\n"), LIT("\n\n"));
	check_decode(LIT("\r\0\r\0"), LIT("\r\r"));
	check_decode(LIT("plain"), LIT("plain"));
	check_decode(LIT(""), LIT(""));
	/* A bare LF is passed through. */
	check_decode(LIT("a\nb"), LIT("a\nb"));
}
END_TEST

START_TEST(test_decode_lenient)
{
	/* CR then anything else: the CR and the byte, byte read normally. */
	check_decode(LIT("\rx"), LIT("\rx"));
	check_decode(LIT("\r\r\n"), LIT("\r\n"));
	check_decode(LIT("\r\r\0"), LIT("\r\r"));
	check_decode(LIT("\r\r\r"), LIT("\r\r\r"));
	check_decode(LIT("\r\xff"), LIT("\r\xff"));
	/* A CR at the very end is kept as CR by finish. */
	check_decode(LIT("x\r"), LIT("x\r"));
	check_decode(LIT("\r"), LIT("\r"));
}
END_TEST

START_TEST(test_decode_cr_at_chunk_end)
{
	struct netascii_dec	 d;
	uint8_t			 out[8];

	netascii_dec_init(&d);
	ck_assert_uint_eq(netascii_decode(&d, LIT("ab\r"), out), 2);
	ck_assert_mem_eq(out, "ab", 2);
	ck_assert_int_ne(d.pending_cr, 0);
	ck_assert_uint_eq(netascii_decode(&d, LIT("\nc"), out), 2);
	ck_assert_mem_eq(out, "\nc", 2);
	ck_assert_int_eq(d.pending_cr, 0);

	ck_assert_uint_eq(netascii_decode(&d, LIT("\r"), out), 0);
	ck_assert_uint_eq(netascii_decode(&d, LIT("\0"), out), 1);
	ck_assert_uint_eq(out[0], '\r');

	/* An empty chunk keeps the CR waiting. */
	ck_assert_uint_eq(netascii_decode(&d, LIT("\r"), out), 0);
	ck_assert_uint_eq(netascii_decode(&d, out, 0, out), 0);
	ck_assert_int_ne(d.pending_cr, 0);
	ck_assert_uint_eq(netascii_decode_finish(&d, out), 1);
	ck_assert_uint_eq(out[0], '\r');
	ck_assert_int_eq(d.pending_cr, 0);
	ck_assert_uint_eq(netascii_decode_finish(&d, out), 0);
}
END_TEST

START_TEST(test_decode_len_plus_one)
{
	struct netascii_dec	 d;
	uint8_t			*out;

	/* A held CR and one ordinary byte: two bytes out of one in. */
	netascii_dec_init(&d);
	out = xmalloc_exact(1);
	ck_assert_uint_eq(netascii_decode(&d, LIT("\r"), out), 0);
	free(out);
	out = xmalloc_exact(2);
	ck_assert_uint_eq(netascii_decode(&d, LIT("y"), out), 2);
	ck_assert_mem_eq(out, "\ry", 2);
	free(out);
	out = xmalloc_exact(4);
	ck_assert_uint_eq(netascii_decode(&d, LIT("\r"), out), 0);
	ck_assert_uint_eq(netascii_decode(&d, LIT("z\r\r"), out), 3);
	ck_assert_mem_eq(out, "\rz\r", 3);
	ck_assert_int_ne(d.pending_cr, 0);
	free(out);
}
END_TEST

START_TEST(test_roundtrip_every_split)
{
	struct rng	 r = { 0x4f574c31 };
	uint8_t		*text, *wire, *back;
	size_t		 len, wlen, cut, n;
	unsigned	 round;

	for (round = 0; round < 8; round++) {
		len = 64 + round * 37;
		text = xmalloc_exact(len);
		fill_text(&r, text, len);
		/* Make sure a CR sits at the end in some rounds. */
		if ((round & 1) != 0)
			text[len - 1] = '\r';
		wlen = netascii_encoded_len(text, len);
		wire = xmalloc_exact(2 * len);
		ck_assert_uint_eq(netascii_encode(text, len, wire), wlen);
		back = xmalloc_exact(wlen + 1);
		for (cut = 0; cut <= wlen; cut++) {
			n = decode_split(wire, wlen, &cut, 1, back);
			ck_assert_msg(n == len && memcmp(back, text, len) == 0,
			    "round %u cut %zu: round trip differs", round,
			    cut);
		}
		free(back);
		free(wire);
		free(text);
	}
}
END_TEST

START_TEST(test_roundtrip_two_cuts)
{
	struct rng	 r = { 0x6e657461 };
	uint8_t		 text[48], wire[96], back[97];
	size_t		 wlen, cuts[2], n;

	fill_text(&r, text, sizeof(text));
	wlen = netascii_encode(text, sizeof(text), wire);
	for (cuts[0] = 0; cuts[0] <= wlen; cuts[0]++) {
		for (cuts[1] = cuts[0]; cuts[1] <= wlen; cuts[1]++) {
			n = decode_split(wire, wlen, cuts, 2, back);
			ck_assert_uint_eq(n, sizeof(text));
			ck_assert_mem_eq(back, text, sizeof(text));
		}
	}
}
END_TEST

START_TEST(test_roundtrip_bytewise)
{
	struct rng		 r = { 0x73636969 };
	struct netascii_dec	 d;
	uint8_t			*text, *wire, *back, one[2], last[1];
	size_t			 len = 4096, wlen, i, n = 0, k;

	text = xmalloc_exact(len);
	wire = xmalloc_exact(2 * len);
	back = xmalloc_exact(len);
	fill_text(&r, text, len);
	wlen = netascii_encode(text, len, wire);
	netascii_dec_init(&d);
	for (i = 0; i < wlen; i++) {
		k = netascii_decode(&d, wire + i, 1, one);
		ck_assert_uint_le(k, 2);
		ck_assert_uint_le(n + k, len);
		memcpy(back + n, one, k);
		n += k;
	}
	if (netascii_decode_finish(&d, last) == 1) {
		ck_assert_uint_lt(n, len);
		back[n++] = last[0];
	}
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(back, text, len);
	free(text);
	free(wire);
	free(back);
}
END_TEST

START_TEST(test_stream_matches_whole)
{
	struct rng	 r = { 0x0badcafe };
	uint8_t		 wire[200], whole[201], split[201];
	size_t		 nwhole, n, cut;

	/* Arbitrary (not necessarily well-formed) input, lenient path too. */
	fill_text(&r, wire, sizeof(wire));
	nwhole = decode_split(wire, sizeof(wire), NULL, 0, whole);
	for (cut = 0; cut <= sizeof(wire); cut++) {
		n = decode_split(wire, sizeof(wire), &cut, 1, split);
		ck_assert_uint_eq(n, nwhole);
		ck_assert_mem_eq(split, whole, n);
	}
}
END_TEST

static Suite *
netascii_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("netascii");

	tc = tcase_create("encode expands LF and CR");
	tcase_add_test(tc, test_encode_golden);
	tcase_add_test(tc, test_encode_every_byte);
	tcase_add_test(tc, test_encode_worst_case);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode folds CR LF and CR NUL");
	tcase_add_test(tc, test_decode_golden);
	tcase_add_test(tc, test_decode_lenient);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode holds a CR across chunks");
	tcase_add_test(tc, test_decode_cr_at_chunk_end);
	tcase_add_test(tc, test_decode_len_plus_one);
	suite_add_tcase(s, tc);

	tc = tcase_create("round trip survives every chunk boundary");
	tcase_add_test(tc, test_roundtrip_every_split);
	tcase_add_test(tc, test_roundtrip_two_cuts);
	tcase_add_test(tc, test_roundtrip_bytewise);
	tcase_add_test(tc, test_stream_matches_whole);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(netascii_suite());
}
