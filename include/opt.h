/*
 * Option negotiation (RFC 2347 framework; blksize RFC 2348; tsize and
 * timeout RFC 2349; windowsize RFC 7440; utimeout and rollover as
 * tftp-hpa).  Pure and table-driven: requested options + configured
 * limits -> the accepted set, and the OACK that echoes exactly that set.
 */
#ifndef OWL_OPT_H
#define OWL_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

#define OPT_BLKSIZE_MIN		8
#define OPT_BLKSIZE_MAX		65464
#define OPT_BLKSIZE_DEFAULT	512
#define OPT_WINDOWSIZE_MAX	65535
#define OPT_TIMEOUT_MIN		1	/* seconds */
#define OPT_TIMEOUT_MAX		255
#define OPT_UTIMEOUT_MIN	10000	/* microseconds, as tftp-hpa */
#define OPT_UTIMEOUT_MAX	255000000

enum opt_flag {
	OPT_F_BLKSIZE = 1 << 0,
	OPT_F_TSIZE = 1 << 1,
	OPT_F_TIMEOUT = 1 << 2,
	OPT_F_UTIMEOUT = 1 << 3,
	OPT_F_WINDOWSIZE = 1 << 4,
	OPT_F_ROLLOVER = 1 << 5,
	OPT_F_MULTICAST = 1 << 6,	/* RFC 2090; the caller grants it */
};

#define OPT_MULTICAST_MAX	64	/* "ADDR,PORT,MC" with its NUL */

struct opt_limits {
	unsigned	 blksize_max;		/* 8..65464 */
	unsigned	 windowsize_max;	/* 1..65535 */
	uint64_t	 max_upload_size;	/* WRQ tsize ceiling, 0 = none */
};

struct opt_set {
	unsigned	 accepted;	/* OPT_F_* that the OACK will echo */
	uint16_t	 blksize;	/* 512 unless negotiated */
	uint16_t	 windowsize;	/* 1 unless negotiated */
	uint32_t	 timeout_us;	/* client's timeout; 0 = not asked */
	uint64_t	 tsize;		/* RRQ: set by caller to the file size;
					   WRQ: the size the client announced */
	uint8_t		 rollover;	/* block number after 65535 (0 or 1) */
	uint8_t		 timeout_s;	/* timeout option as asked (seconds),
					   echoed in the OACK; 0 = not asked */
	char		 multicast[OPT_MULTICAST_MAX];	/* the OACK's value */
};

/* Defaults for a request without options. */
void		 opt_set_init(struct opt_set *);

/*
 * Negotiate the options of a decoded RRQ/WRQ.  Returns TFTP_E_NONE and
 * fills out, or the error code to refuse the request with (*why gets a
 * static message).  Unknown options are ignored; a repeated option keeps
 * its first value; names compare case-insensitively.  multicast (RFC
 * 2090) is marked accepted when asked for; the caller grants it by
 * filling out->multicast, or clears the flag.
 */
enum tftp_err	 opt_negotiate(const struct pkt *req,
		    const struct opt_limits *lim, struct opt_set *out,
		    const char **why);

/* Encode the OACK for set into buf; 0 if nothing was accepted. */
size_t		 opt_encode_oack(const struct opt_set *set, uint8_t *buf,
		    size_t cap);

/*
 * Call fn for each accepted option, in OACK order, with its granted value:
 * text (multicast), or NULL and the number.
 */
typedef void	 opt_each_fn(void *arg, const char *name, const char *text,
		    uint64_t num);
void		 opt_each(const struct opt_set *, opt_each_fn *, void *arg);

#endif
