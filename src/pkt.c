/*
 * TFTP packet codec (RFC 1350, RFC 2347).  Pure: no syscalls, no
 * allocation, no logging.  Decoded strings point into the caller's
 * buffer; encoders write into the caller's buffer and never overrun cap.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pkt.h"

static uint16_t		 get16(const uint8_t *);
static void		 put16(uint8_t *, uint16_t);
static const uint8_t	*find_nul(const uint8_t *, const uint8_t *);
static int		 all_nul(const uint8_t *, const uint8_t *);
static enum pkt_result	 decode_pairs(const uint8_t *, const uint8_t *,
			    struct pkt_opt *, size_t *, size_t *);
static enum pkt_result	 decode_req(const uint8_t *, size_t, struct pkt *);
static int		 put_str(uint8_t *, size_t, size_t *, const char *);
static size_t		 encode_pairs(uint8_t *, size_t, size_t,
			    const struct pkt_opt *, size_t);

static const char *const result_names[] = {
	[PKT_OK] = "ok",
	[PKT_E_SHORT] = "packet too short",
	[PKT_E_OPCODE] = "unknown opcode",
	[PKT_E_NONUL] = "string not NUL-terminated",
	[PKT_E_EMPTYNAME] = "empty file name",
	[PKT_E_OPTPAIR] = "malformed option pair",
};

static const char *const op_names[] = {
	[TFTP_OP_RRQ] = "rrq",
	[TFTP_OP_WRQ] = "wrq",
	[TFTP_OP_DATA] = "data",
	[TFTP_OP_ACK] = "ack",
	[TFTP_OP_ERROR] = "error",
	[TFTP_OP_OACK] = "oack",
};

/* RFC 1350 section 5 meanings, plus RFC 2347's code 8. */
static const char *const err_names[] = {
	[TFTP_E_UNDEF] = "Undefined error",
	[TFTP_E_NOTFOUND] = "File not found",
	[TFTP_E_ACCESS] = "Access violation",
	[TFTP_E_DISKFULL] = "Disk full or allocation exceeded",
	[TFTP_E_BADOP] = "Illegal TFTP operation",
	[TFTP_E_BADID] = "Unknown transfer ID",
	[TFTP_E_EXISTS] = "File already exists",
	[TFTP_E_NOUSER] = "No such user",
	[TFTP_E_OPTNEG] = "Option negotiation failed",
};

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xff);
}

/* First NUL in [p, end), or NULL. */
static const uint8_t *
find_nul(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return NULL;
	return memchr(p, '\0', (size_t)(end - p));
}

static int
all_nul(const uint8_t *p, const uint8_t *end)
{
	for (; p < end; p++)
		if (*p != '\0')
			return 0;
	return 1;
}

/*
 * Name/value pairs, each NUL-terminated, from p up to end.  A value may
 * be empty; a name may not.  One trailing run of NUL bytes is tolerated
 * (some boot firmware pads its requests); anything else that is not a
 * complete pair is an error.  Pairs beyond PKT_OPT_MAX are counted in
 * *dropped but not stored.
 */
static enum pkt_result
decode_pairs(const uint8_t *p, const uint8_t *end, struct pkt_opt *opts,
    size_t *nopts, size_t *dropped)
{
	const uint8_t	*nend, *vend;

	*nopts = 0;
	*dropped = 0;
	while (p < end) {
		if (*p == '\0') {
			/* Empty name: fine only as trailing padding. */
			if (all_nul(p, end))
				return PKT_OK;
			return PKT_E_OPTPAIR;
		}
		if ((nend = find_nul(p, end)) == NULL)
			return PKT_E_OPTPAIR;
		if ((vend = find_nul(nend + 1, end)) == NULL)
			return PKT_E_OPTPAIR;
		if (*nopts < PKT_OPT_MAX) {
			opts[*nopts].name = (const char *)p;
			opts[*nopts].value = (const char *)(nend + 1);
			(*nopts)++;
		} else
			(*dropped)++;
		p = vend + 1;
	}
	return PKT_OK;
}

/* RRQ/WRQ: file NUL mode NUL [name NUL value NUL]... */
static enum pkt_result
decode_req(const uint8_t *buf, size_t len, struct pkt *p)
{
	const uint8_t	*end = buf + len;
	const uint8_t	*file, *fend, *mode, *mend;

	p->u.req.file = NULL;
	p->u.req.filelen = 0;
	p->u.req.mode = NULL;
	p->u.req.nopts = 0;
	p->u.req.nopts_dropped = 0;

	file = buf + 2;
	if ((fend = find_nul(file, end)) == NULL)
		return PKT_E_NONUL;
	if (fend == file)
		return PKT_E_EMPTYNAME;
	mode = fend + 1;
	if ((mend = find_nul(mode, end)) == NULL)
		return PKT_E_NONUL;

	p->u.req.file = (const char *)file;
	p->u.req.filelen = (size_t)(fend - file);
	p->u.req.mode = (const char *)mode;
	return decode_pairs(mend + 1, end, p->u.req.opts, &p->u.req.nopts,
	    &p->u.req.nopts_dropped);
}

/*
 * Every TFTP packet is at least PKT_HDR_LEN bytes: the opcode plus a
 * block number or error code, or for requests the opcode plus strings
 * that need at least that much.  On error only p->op is meaningful (and
 * only when the opcode could be read).
 */
enum pkt_result
pkt_decode(const uint8_t *buf, size_t len, struct pkt *p)
{
	const uint8_t	*end;
	size_t		 dropped;

	if (len < 2)
		return PKT_E_SHORT;
	p->op = get16(buf);
	if (p->op < TFTP_OP_RRQ || p->op > TFTP_OP_OACK)
		return PKT_E_OPCODE;
	if (len < PKT_HDR_LEN)
		return PKT_E_SHORT;

	end = buf + len;
	switch (p->op) {
	case TFTP_OP_RRQ:
	case TFTP_OP_WRQ:
		return decode_req(buf, len, p);
	case TFTP_OP_DATA:
		p->u.data.block = get16(buf + 2);
		p->u.data.data = buf + PKT_HDR_LEN;
		p->u.data.len = len - PKT_HDR_LEN;
		return PKT_OK;
	case TFTP_OP_ACK:
		/* Bytes after the block number are ignored. */
		p->u.ack.block = get16(buf + 2);
		return PKT_OK;
	case TFTP_OP_ERROR:
		p->u.error.code = get16(buf + 2);
		if (find_nul(buf + PKT_HDR_LEN, end) != NULL)
			p->u.error.msg = (const char *)(buf + PKT_HDR_LEN);
		else
			p->u.error.msg = NULL;
		return PKT_OK;
	case TFTP_OP_OACK:
		return decode_pairs(buf + 2, end, p->u.oack.opts,
		    &p->u.oack.nopts, &dropped);
	}
	/* NOTREACHED */
	return PKT_E_OPCODE;
}

const char *
pkt_result_str(enum pkt_result r)
{
	if ((size_t)r >= NITEMS(result_names) || result_names[r] == NULL)
		return "unknown result";
	return result_names[r];
}

const char *
pkt_op_str(uint16_t op)
{
	if (op >= NITEMS(op_names) || op_names[op] == NULL)
		return "unknown";
	return op_names[op];
}

const char *
pkt_err_str(uint16_t code)
{
	if (code >= NITEMS(err_names) || err_names[code] == NULL)
		return err_names[TFTP_E_UNDEF];
	return err_names[code];
}

size_t
pkt_encode_ack(uint8_t *buf, size_t cap, uint16_t block)
{
	if (cap < PKT_HDR_LEN)
		return 0;
	put16(buf, TFTP_OP_ACK);
	put16(buf + 2, block);
	return PKT_HDR_LEN;
}

size_t
pkt_encode_data_hdr(uint8_t *buf, size_t cap, uint16_t block)
{
	if (cap < PKT_HDR_LEN)
		return 0;
	put16(buf, TFTP_OP_DATA);
	put16(buf + 2, block);
	return PKT_HDR_LEN;
}

/*
 * The message is cut to fit cap (it stays NUL-terminated), so an error
 * can always be reported; cap must leave room for at least the header
 * and the NUL.  A NULL msg sends the default text for code.
 */
size_t
pkt_encode_error(uint8_t *buf, size_t cap, uint16_t code, const char *msg)
{
	size_t	 mlen;

	if (cap < PKT_HDR_LEN + 1)
		return 0;
	if (msg == NULL)
		msg = pkt_err_str(code);
	mlen = strlen(msg);
	if (mlen > cap - PKT_HDR_LEN - 1)
		mlen = cap - PKT_HDR_LEN - 1;
	put16(buf, TFTP_OP_ERROR);
	put16(buf + 2, code);
	memcpy(buf + PKT_HDR_LEN, msg, mlen);
	buf[PKT_HDR_LEN + mlen] = '\0';
	return PKT_HDR_LEN + mlen + 1;
}

/* Append s and its NUL at *off; -1 (and nothing written) if it does not fit. */
static int
put_str(uint8_t *buf, size_t cap, size_t *off, const char *s)
{
	size_t	 n;

	n = strlen(s);
	if (*off > cap || n >= cap - *off)
		return -1;
	memcpy(buf + *off, s, n + 1);
	*off += n + 1;
	return 0;
}

/* Append nopts pairs after off; the new length, or 0 if they do not fit. */
static size_t
encode_pairs(uint8_t *buf, size_t cap, size_t off, const struct pkt_opt *opts,
    size_t nopts)
{
	size_t	 i;

	for (i = 0; i < nopts; i++) {
		if (put_str(buf, cap, &off, opts[i].name) == -1 ||
		    put_str(buf, cap, &off, opts[i].value) == -1)
			return 0;
	}
	return off;
}

size_t
pkt_encode_oack(uint8_t *buf, size_t cap, const struct pkt_opt *opts,
    size_t nopts)
{
	if (cap < 2)
		return 0;
	put16(buf, TFTP_OP_OACK);
	return encode_pairs(buf, cap, 2, opts, nopts);
}

size_t
pkt_encode_req(uint8_t *buf, size_t cap, uint16_t op, const char *file,
    const char *mode, const struct pkt_opt *opts, size_t nopts)
{
	size_t	 off = 2;

	if (op != TFTP_OP_RRQ && op != TFTP_OP_WRQ)
		return 0;
	if (cap < 2)
		return 0;
	put16(buf, op);
	if (put_str(buf, cap, &off, file) == -1 ||
	    put_str(buf, cap, &off, mode) == -1)
		return 0;
	return encode_pairs(buf, cap, off, opts, nopts);
}
