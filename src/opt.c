/*
 * TFTP option negotiation (RFC 2347, 2348, 2349, 7440; utimeout and
 * rollover as tftp-hpa).  Pure and table-driven: opt_table below is the
 * one list of options we understand, used to parse the request, to build
 * the OACK and to format the accepted set for logs.
 */

#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "opt.h"
#include "pkt.h"

#define NUM_DIGITS_MAX	20	/* decimal digits of UINT64_MAX */
#define U64_STR_LEN	(NUM_DIGITS_MAX + 1)

struct opt_entry {
	const char	*name;
	unsigned	 flag;
	/* Check val, store it in out; TFTP_E_NONE or an error and *why. */
	enum tftp_err	(*parse)(const char *val, const struct pkt *req,
			    const struct opt_limits *lim, struct opt_set *out,
			    const char **why);
	/* The granted value echoed in the OACK: a number, or text. */
	uint64_t	(*granted)(const struct opt_set *set);
	const char	*(*granted_text)(const struct opt_set *set);
};

static int		 parse_num(const char *, uint64_t *);
static int		 name_eq(const char *, const char *);
static const struct opt_entry *lookup(const char *);

static enum tftp_err	 parse_blksize(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_tsize(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_timeout(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_utimeout(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_windowsize(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_rollover(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static enum tftp_err	 parse_multicast(const char *, const struct pkt *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);

static uint64_t		 granted_blksize(const struct opt_set *);
static uint64_t		 granted_tsize(const struct opt_set *);
static uint64_t		 granted_timeout(const struct opt_set *);
static uint64_t		 granted_utimeout(const struct opt_set *);
static uint64_t		 granted_windowsize(const struct opt_set *);
static uint64_t		 granted_rollover(const struct opt_set *);
static const char	*granted_multicast(const struct opt_set *);

/* Order here is the order of the OACK and of opt_each() (the log line). */
static const struct opt_entry opt_table[] = {
	{ "blksize", OPT_F_BLKSIZE, parse_blksize, granted_blksize, NULL },
	{ "tsize", OPT_F_TSIZE, parse_tsize, granted_tsize, NULL },
	{ "timeout", OPT_F_TIMEOUT, parse_timeout, granted_timeout, NULL },
	{ "utimeout", OPT_F_UTIMEOUT, parse_utimeout, granted_utimeout,
	    NULL },
	{ "windowsize", OPT_F_WINDOWSIZE, parse_windowsize,
	    granted_windowsize, NULL },
	{ "rollover", OPT_F_ROLLOVER, parse_rollover, granted_rollover,
	    NULL },
	{ "multicast", OPT_F_MULTICAST, parse_multicast, NULL,
	    granted_multicast },
};

#define OPT_NENTRIES	(sizeof(opt_table) / sizeof(opt_table[0]))

/*
 * A number is 1 to NUM_DIGITS_MAX decimal digits and nothing else: no
 * sign, no blanks, no base prefix.  A 20-digit value beyond UINT64_MAX
 * saturates; every limit we compare against is far below it.
 */
static int
parse_num(const char *s, uint64_t *v)
{
	uint64_t	 n = 0;
	size_t		 i;
	unsigned	 d;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i == NUM_DIGITS_MAX)
			return -1;
		d = (unsigned)(s[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			n = UINT64_MAX;
		else
			n = n * 10 + d;
	}
	if (i == 0)
		return -1;
	*v = n;
	return 0;
}

/* ASCII case-insensitive equality; independent of the locale. */
static int
name_eq(const char *a, const char *b)
{
	unsigned char	 ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)*a;
		cb = (unsigned char)*b;
		if (ca >= 'A' && ca <= 'Z')
			ca = (unsigned char)(ca - 'A' + 'a');
		if (cb >= 'A' && cb <= 'Z')
			cb = (unsigned char)(cb - 'A' + 'a');
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

static const struct opt_entry *
lookup(const char *name)
{
	size_t	 i;

	for (i = 0; i < OPT_NENTRIES; i++)
		if (name_eq(name, opt_table[i].name))
			return &opt_table[i];
	return NULL;
}

static enum tftp_err
parse_blksize(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v, max;

	if (parse_num(val, &v) == -1 || v < OPT_BLKSIZE_MIN) {
		*why = "bad blksize";
		return TFTP_E_OPTNEG;
	}
	max = lim->blksize_max;
	if (max > OPT_BLKSIZE_MAX)
		max = OPT_BLKSIZE_MAX;
	if (max < OPT_BLKSIZE_MIN)
		max = OPT_BLKSIZE_MIN;
	if (v > max)
		v = max;
	out->blksize = (uint16_t)v;
	return TFTP_E_NONE;
}

/*
 * On RRQ the value carries nothing (RFC 2349: the client sends 0), so any
 * value asks for the size and the caller puts the file size in
 * out->tsize: atftp's manual has users write --option "tsize enable",
 * which tftpd-hpa, atftpd, dnsmasq and busybox all serve.  On WRQ it is
 * the size of the upload, checked strictly and against max_upload_size.
 */
static enum tftp_err
parse_tsize(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v;

	if (req->op == TFTP_OP_RRQ)
		return TFTP_E_NONE;
	if (parse_num(val, &v) == -1) {
		*why = "bad tsize";
		return TFTP_E_OPTNEG;
	}
	if (lim->max_upload_size != 0 && v > lim->max_upload_size) {
		*why = "file too large";
		return TFTP_E_DISKFULL;
	}
	out->tsize = v;
	return TFTP_E_NONE;
}

static enum tftp_err
parse_timeout(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v;

	if (parse_num(val, &v) == -1 || v < OPT_TIMEOUT_MIN ||
	    v > OPT_TIMEOUT_MAX) {
		*why = "bad timeout";
		return TFTP_E_OPTNEG;
	}
	out->timeout_s = (uint8_t)v;
	/* utimeout is the finer request; it wins whatever the order. */
	if ((out->accepted & OPT_F_UTIMEOUT) == 0)
		out->timeout_us = (uint32_t)v * 1000000;
	return TFTP_E_NONE;
}

static enum tftp_err
parse_utimeout(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v;

	if (parse_num(val, &v) == -1 || v < OPT_UTIMEOUT_MIN ||
	    v > OPT_UTIMEOUT_MAX) {
		*why = "bad utimeout";
		return TFTP_E_OPTNEG;
	}
	out->timeout_us = (uint32_t)v;
	return TFTP_E_NONE;
}

static enum tftp_err
parse_windowsize(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v, max;

	if (parse_num(val, &v) == -1 || v == 0) {
		*why = "bad windowsize";
		return TFTP_E_OPTNEG;
	}
	max = lim->windowsize_max;
	if (max > OPT_WINDOWSIZE_MAX)
		max = OPT_WINDOWSIZE_MAX;
	if (max < 1)
		max = 1;
	if (v > max)
		v = max;
	out->windowsize = (uint16_t)v;
	return TFTP_E_NONE;
}

static enum tftp_err
parse_rollover(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	uint64_t	 v;

	if (parse_num(val, &v) == -1 || v > 1) {
		*why = "bad rollover";
		return TFTP_E_OPTNEG;
	}
	out->rollover = (uint8_t)v;
	return TFTP_E_NONE;
}

/*
 * RFC 2090 asks with an empty value; any value is taken as the same
 * wish.  Whether it is granted (never for a WRQ) is the caller's call.
 */
static enum tftp_err
parse_multicast(const char *val, const struct pkt *req,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	return TFTP_E_NONE;	/* out->multicast stays "" until granted */
}

static uint64_t
granted_blksize(const struct opt_set *set)
{
	return set->blksize;
}

static uint64_t
granted_tsize(const struct opt_set *set)
{
	return set->tsize;
}

static uint64_t
granted_timeout(const struct opt_set *set)
{
	return set->timeout_s;
}

static uint64_t
granted_utimeout(const struct opt_set *set)
{
	return set->timeout_us;
}

static uint64_t
granted_windowsize(const struct opt_set *set)
{
	return set->windowsize;
}

static uint64_t
granted_rollover(const struct opt_set *set)
{
	return set->rollover;
}

static const char *
granted_multicast(const struct opt_set *set)
{
	return set->multicast;
}

/* The granted value as text: its own, or buf holding the number. */
static const char *
granted_str(const struct opt_entry *e, const struct opt_set *set, char *buf,
    size_t cap)
{
	if (e->granted_text != NULL)
		return e->granted_text(set);
	(void)snprintf(buf, cap, "%" PRIu64, e->granted(set));
	return buf;
}

void
opt_set_init(struct opt_set *set)
{
	set->accepted = 0;
	set->blksize = OPT_BLKSIZE_DEFAULT;
	set->windowsize = 1;
	set->timeout_us = 0;
	set->tsize = 0;
	set->rollover = 0;
	set->timeout_s = 0;
	set->multicast[0] = '\0';
}

/*
 * out is reset with opt_set_init() first.  On refusal out holds what was
 * accepted before the offending option and must not be used.  why may be
 * NULL; on success *why is set to NULL.
 */
enum tftp_err
opt_negotiate(const struct pkt *req, const struct opt_limits *lim,
    struct opt_set *out, const char **why)
{
	const struct opt_entry	*e;
	const struct pkt_opt	*o;
	const char		*ignored;
	enum tftp_err		 err;
	size_t			 i;

	if (why == NULL)
		why = &ignored;
	*why = NULL;
	opt_set_init(out);
	if (req->op != TFTP_OP_RRQ && req->op != TFTP_OP_WRQ) {
		*why = "not a request";
		return TFTP_E_BADOP;
	}
	for (i = 0; i < req->u.req.nopts; i++) {
		o = &req->u.req.opts[i];
		if ((e = lookup(o->name)) == NULL)
			continue;	/* unknown: not echoed */
		if ((out->accepted & e->flag) != 0)
			continue;	/* repeated: the first one counts */
		err = e->parse(o->value, req, lim, out, why);
		if (err != TFTP_E_NONE)
			return err;
		out->accepted |= e->flag;
	}
	return TFTP_E_NONE;
}

size_t
opt_encode_oack(const struct opt_set *set, uint8_t *buf, size_t cap)
{
	struct pkt_opt	 opts[OPT_NENTRIES];
	char		 vals[OPT_NENTRIES][U64_STR_LEN];
	size_t		 i, n = 0;

	for (i = 0; i < OPT_NENTRIES; i++) {
		if ((set->accepted & opt_table[i].flag) == 0)
			continue;
		opts[n].name = opt_table[i].name;
		opts[n].value = granted_str(&opt_table[i], set, vals[n],
		    sizeof vals[n]);
		n++;
	}
	if (n == 0)
		return 0;
	return pkt_encode_oack(buf, cap, opts, n);
}

void
opt_each(const struct opt_set *set, opt_each_fn *fn, void *arg)
{
	size_t	 i;

	for (i = 0; i < OPT_NENTRIES; i++) {
		if ((set->accepted & opt_table[i].flag) == 0)
			continue;
		if (opt_table[i].granted_text != NULL)
			fn(arg, opt_table[i].name,
			    opt_table[i].granted_text(set), 0);
		else
			fn(arg, opt_table[i].name, NULL,
			    opt_table[i].granted(set));
	}
}
