/*
 * netascii (RFC 764 as used by RFC 1350): on the wire every line ends in
 * CR LF and a bare CR is sent as CR NUL.  Pure streaming converters.
 */
#ifndef OWL_NETASCII_H
#define OWL_NETASCII_H

#include <stddef.h>
#include <stdint.h>

/*
 * Local text -> netascii.  out must hold 2 * len bytes.  Stateless: each
 * input byte maps to one or two output bytes.  Returns bytes written.
 */
size_t	 netascii_encode(const uint8_t *in, size_t len, uint8_t *out);

/* Size of the netascii form of len bytes of in. */
size_t	 netascii_encoded_len(const uint8_t *in, size_t len);

/* netascii -> local text.  A CR at the end of one block pairs with the
 * first byte of the next, so the decoder keeps state between calls. */
struct netascii_dec {
	int	 pending_cr;
};

void	 netascii_dec_init(struct netascii_dec *);
/* out must hold len + 1 bytes.  Returns bytes written. */
size_t	 netascii_decode(struct netascii_dec *, const uint8_t *in, size_t len,
	    uint8_t *out);
/* Flush at end of transfer (a lone trailing CR is kept as CR). out >= 1. */
size_t	 netascii_decode_finish(struct netascii_dec *, uint8_t *out);

#endif
