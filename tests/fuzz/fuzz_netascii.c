/*
 * libFuzzer harness for the netascii converters (src/netascii.c).
 *
 * Input: byte 0 seeds the chunk sizes, the rest is the data.
 *  1. encode then decode must give the data back, in one piece and in
 *     chunks, and netascii_encoded_len() must predict the encoded size;
 *  2. decoding the data as if it came off the wire must not depend on
 *     where the blocks are split.
 * Every call gets an exact-size output buffer (2 * len for the encoder,
 * len + 1 for the decoder, 1 for finish), so ASan sees any overrun.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netascii.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check(int, const char *, int);
static void	*xalloc(size_t);
static size_t	 next_chunk(uint32_t *, size_t);
static size_t	 decode_whole(const uint8_t *, size_t, uint8_t *);
static size_t	 decode_chunked(const uint8_t *, size_t, uint32_t,
		    uint8_t *);

#define CHECK(e)	check((e), #e, __LINE__)

static void
check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_netascii: line %d: invariant broken: %s\n",
	    line, what);
	abort();
}

static void *
xalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		abort();
	return p;
}

/*
 * Chunk sizes from a small xorshift generator seeded by the input: mostly
 * tiny (0 to 3 bytes, where a CR ends a chunk often), sometimes larger.
 * The state is never 0, so zero-size chunks cannot repeat forever.
 */
static size_t
next_chunk(uint32_t *st, size_t left)
{
	uint32_t	 x = *st;
	size_t		 n;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*st = x;
	if ((x & 0x300) != 0)
		n = x & 3;
	else
		n = (x >> 16) % 600;
	return n < left ? n : left;
}

/* Decode [in, in + len) in one call plus finish; out holds len + 1. */
static size_t
decode_whole(const uint8_t *in, size_t len, uint8_t *out)
{
	struct netascii_dec	 d;
	uint8_t			*tmp, *fin;
	size_t			 n, f;

	netascii_dec_init(&d);
	tmp = xalloc(len + 1);
	n = netascii_decode(&d, in, len, tmp);
	CHECK(n <= len);	/* nothing held from before: no expansion */
	memcpy(out, tmp, n);
	free(tmp);
	fin = xalloc(1);
	f = netascii_decode_finish(&d, fin);
	CHECK(f <= 1);
	if (f == 1) {
		CHECK(fin[0] == '\r');
		out[n] = fin[0];
	}
	free(fin);
	/* A second finish has nothing left to flush. */
	fin = xalloc(1);
	CHECK(netascii_decode_finish(&d, fin) == 0);
	free(fin);
	return n + f;
}

/* The same in chunks of pseudo-random size, some of them empty. */
static size_t
decode_chunked(const uint8_t *in, size_t len, uint32_t seed, uint8_t *out)
{
	struct netascii_dec	 d;
	uint8_t			*tmp;
	size_t			 off = 0, total = 0, c, n, calls = 0;

	netascii_dec_init(&d);
	while (off < len || calls == 0) {
		c = next_chunk(&seed, len - off);
		tmp = xalloc(c + 1);
		n = netascii_decode(&d, in + off, c, tmp);
		CHECK(n <= c + 1);
		CHECK(total + n <= len + 1);
		memcpy(out + total, tmp, n);
		free(tmp);
		total += n;
		off += c;
		calls++;
	}
	tmp = xalloc(1);
	n = netascii_decode_finish(&d, tmp);
	CHECK(n <= 1);
	if (n == 1)
		out[total] = tmp[0];
	free(tmp);
	return total + n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*in;
	uint8_t		*enc, *dec, *ref;
	size_t		 len, n, m;
	uint32_t	 seed;

	if (size == 0)
		return 0;
	seed = 0x9e3779b9u ^ ((uint32_t)data[0] * 0x01010101u);
	in = data + 1;
	len = size - 1;

	/* 1. Round trip through the wire form. */
	enc = xalloc(2 * len);
	n = netascii_encode(in, len, enc);
	CHECK(n == netascii_encoded_len(in, len));
	CHECK(n >= len && n <= 2 * len);
	dec = xalloc(n + 1);
	m = decode_whole(enc, n, dec);
	CHECK(m == len && memcmp(dec, in, len) == 0);
	memset(dec, 0, n + 1);
	m = decode_chunked(enc, n, seed, dec);
	CHECK(m == len && memcmp(dec, in, len) == 0);
	free(dec);
	free(enc);

	/* 2. Arbitrary wire bytes: the split points do not matter. */
	ref = xalloc(len + 1);
	m = decode_whole(in, len, ref);
	CHECK(m <= len);
	dec = xalloc(len + 1);
	n = decode_chunked(in, len, seed, dec);
	CHECK(n == m && memcmp(dec, ref, m) == 0);
	/* Decoding never makes more lines than the wire had LFs. */
	CHECK(memchr(in, '\n', len) != NULL || memchr(ref, '\n', m) == NULL);
	free(dec);
	free(ref);
	return 0;
}
