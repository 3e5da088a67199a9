/*
 * netascii conversion (RFC 764 via RFC 1350).  Local text uses LF line
 * ends; on the wire a line ends in CR LF and a bare CR travels as CR NUL.
 * Pure streaming converters: no syscalls, no allocation.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "netascii.h"

#define CR	'\r'
#define LF	'\n'
#define NUL	'\0'

size_t
netascii_encode(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		switch (in[i]) {
		case LF:
			out[n++] = CR;
			out[n++] = LF;
			break;
		case CR:
			out[n++] = CR;
			out[n++] = NUL;
			break;
		default:
			out[n++] = in[i];
			break;
		}
	}
	return n;
}

size_t
netascii_encoded_len(const uint8_t *in, size_t len)
{
	size_t	 i, n = len;

	for (i = 0; i < len; i++)
		if (in[i] == LF || in[i] == CR)
			n++;
	return n;
}

void
netascii_dec_init(struct netascii_dec *d)
{
	d->pending_cr = 0;
}

/*
 * CR LF -> LF, CR NUL -> CR.  A CR followed by anything else is passed
 * through unchanged with that byte (lenient, like most servers), and the
 * byte is then read normally, so CR CR LF gives CR LF.  A CR that ends
 * the chunk waits for the next call.  Only a CR held from the previous
 * call can make a byte expand to two, hence len + 1.
 */
size_t
netascii_decode(struct netascii_dec *d, const uint8_t *in, size_t len,
    uint8_t *out)
{
	size_t	 i, n = 0;

	for (i = 0; i < len; i++) {
		if (d->pending_cr) {
			d->pending_cr = 0;
			if (in[i] == LF) {
				out[n++] = LF;
				continue;
			}
			out[n++] = CR;
			if (in[i] == NUL)
				continue;
		}
		if (in[i] == CR)
			d->pending_cr = 1;
		else
			out[n++] = in[i];
	}
	return n;
}

size_t
netascii_decode_finish(struct netascii_dec *d, uint8_t *out)
{
	if (!d->pending_cr)
		return 0;
	d->pending_cr = 0;
	out[0] = CR;
	return 1;
}
