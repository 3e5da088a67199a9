/*
 * libFuzzer harness for option negotiation (src/opt.c).
 *
 * Input: a 12-byte header, then NUL-separated strings
 *	file NUL mode NUL name NUL value NUL name NUL value ...
 * Header byte 0 bit 0 picks WRQ over RRQ and bits 2-7 shift the file
 * size; bytes 1-2 and 3-4 are a fuzzed blksize_max and windowsize_max,
 * 5-8 a max_upload_size and 9-11 the file size an RRQ reports in tsize.
 *
 * The strings become a request with pkt_encode_req(), which must decode;
 * opt_negotiate() then runs against fixed limit sets and the fuzzed one.
 * Its answer is compared with a small model of the documented rules
 * (include/opt.h), the accepted values are checked against the limits,
 * and the OACK is encoded into buffers from far too small to roomy and
 * decoded back.  A broken invariant calls abort().
 */

#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opt.h"
#include "pkt.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define HDR_LEN		12
#define STR_MAX		(2 + 2 * (PKT_OPT_MAX + 8))	/* strings used */
#define OACK_ROOM	1024	/* more than any OACK we can build */
#define OACK_LIMIT	512	/* an OACK must fit a default-size packet */

/* The options opt.c understands, in OACK order. */
static const struct {
	const char	*name;
	unsigned	 flag;
} known[] = {
	{ "blksize", OPT_F_BLKSIZE },
	{ "tsize", OPT_F_TSIZE },
	{ "timeout", OPT_F_TIMEOUT },
	{ "utimeout", OPT_F_UTIMEOUT },
	{ "windowsize", OPT_F_WINDOWSIZE },
	{ "rollover", OPT_F_ROLLOVER },
	{ "multicast", OPT_F_MULTICAST },	/* any value; text granted */
};
#define NKNOWN		(sizeof(known) / sizeof(known[0]))
#define ALL_FLAGS	(OPT_F_BLKSIZE | OPT_F_TSIZE | OPT_F_TIMEOUT | \
			 OPT_F_UTIMEOUT | OPT_F_WINDOWSIZE | OPT_F_ROLLOVER | \
			 OPT_F_MULTICAST)
/* What the server writes when it grants multicast (RFC 2090). */
#define MCAST_VALUE	"239.255.0.1,1758,1"

/* What the model expects opt_negotiate() to do. */
struct expect {
	enum tftp_err	 err;
	unsigned	 accepted;
	uint64_t	 value[NKNOWN];	/* as requested */
};

static const struct opt_limits fixed_limits[] = {
	{ 512, 1, 0 },
	{ 1468, 16, 0 },
	{ 65464, 65535, 1048576 },
	{ OPT_BLKSIZE_MIN, 1, 1 },
	{ 0, 0, 0 },			/* below every minimum: clamped */
	{ 70000, 70000, UINT64_MAX },	/* above every maximum: clamped */
};
#define NFIXED	(sizeof(fixed_limits) / sizeof(fixed_limits[0]))

static void	 check(int, const char *, int);
static int	 model_num(const char *, uint64_t *);
static int	 model_index(const char *);
static void	 model(const struct pkt *, const struct opt_limits *,
		    struct expect *);
static unsigned	 clampu(uint64_t, unsigned, unsigned);
static uint64_t	 granted(const struct opt_set *, size_t);
static void	 check_set(const struct pkt *, const struct opt_limits *,
		    const struct expect *, enum tftp_err, const char *,
		    const struct opt_set *);
static void	 check_oack(const struct opt_set *);
static void	 check_each(const struct opt_set *);
static void	 one(const struct pkt *, const struct opt_limits *, uint64_t);

#define CHECK(e)	check((e), #e, __LINE__)

static void
check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_opt: line %d: invariant broken: %s\n", line,
	    what);
	abort();
}

/* 1 to 20 decimal digits, saturating at UINT64_MAX (include/opt.h). */
static int
model_num(const char *s, uint64_t *v)
{
	uint64_t	 n = 0;
	size_t		 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 20)
			return -1;
		if (n > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			n = UINT64_MAX;
		else
			n = n * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return -1;
	*v = n;
	return 0;
}

static int
model_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < NKNOWN; i++)
		if (strcasecmp(name, known[i].name) == 0)
			return (int)i;
	return -1;
}

/*
 * The rules of include/opt.h: options in request order, unknown ones
 * ignored, a repeat ignored, the first bad one refuses the request.
 */
static void
model(const struct pkt *req, const struct opt_limits *lim,
    struct expect *x)
{
	const struct pkt_opt	*o;
	uint64_t		 v;
	size_t			 i;
	int			 k, ok;

	memset(x, 0, sizeof(*x));
	x->err = TFTP_E_NONE;
	for (i = 0; i < req->u.req.nopts; i++) {
		o = &req->u.req.opts[i];
		if ((k = model_index(o->name)) == -1 ||
		    (x->accepted & known[k].flag) != 0)
			continue;
		if (known[k].flag == OPT_F_MULTICAST) {
			x->accepted |= OPT_F_MULTICAST;	/* the caller decides */
			continue;
		}
		/* RFC 2349: on RRQ tsize's value carries nothing, any goes. */
		if (known[k].flag == OPT_F_TSIZE && req->op == TFTP_OP_RRQ) {
			x->accepted |= OPT_F_TSIZE;
			x->value[k] = 0;
			continue;
		}
		if (model_num(o->value, &v) == -1) {
			x->err = TFTP_E_OPTNEG;
			return;
		}
		switch (known[k].flag) {
		case OPT_F_BLKSIZE:
			ok = v >= OPT_BLKSIZE_MIN;
			break;
		case OPT_F_TSIZE:
			if (req->op == TFTP_OP_WRQ &&
			    lim->max_upload_size != 0 &&
			    v > lim->max_upload_size) {
				x->err = TFTP_E_DISKFULL;
				return;
			}
			ok = 1;
			break;
		case OPT_F_TIMEOUT:
			ok = v >= OPT_TIMEOUT_MIN && v <= OPT_TIMEOUT_MAX;
			break;
		case OPT_F_UTIMEOUT:
			ok = v >= OPT_UTIMEOUT_MIN && v <= OPT_UTIMEOUT_MAX;
			break;
		case OPT_F_WINDOWSIZE:
			ok = v >= 1;
			break;
		default:
			ok = v <= 1;
			break;
		}
		if (!ok) {
			x->err = TFTP_E_OPTNEG;
			return;
		}
		x->accepted |= known[k].flag;
		x->value[k] = v;
	}
}

static unsigned
clampu(uint64_t v, unsigned lo, unsigned hi)
{
	if (v < lo)
		return lo;
	if (v > hi)
		return hi;
	return (unsigned)v;
}

static uint64_t
granted(const struct opt_set *set, size_t k)
{
	switch (known[k].flag) {
	case OPT_F_BLKSIZE:
		return set->blksize;
	case OPT_F_TSIZE:
		return set->tsize;
	case OPT_F_TIMEOUT:
		return set->timeout_s;
	case OPT_F_UTIMEOUT:
		return set->timeout_us;
	case OPT_F_WINDOWSIZE:
		return set->windowsize;
	default:
		return set->rollover;
	}
}

static void
check_set(const struct pkt *req, const struct opt_limits *lim,
    const struct expect *x, enum tftp_err err, const char *why,
    const struct opt_set *set)
{
	unsigned	 bmax, wmax;

	CHECK(err == x->err);
	if (err != TFTP_E_NONE) {
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	CHECK(why == NULL);
	CHECK((set->accepted & ~ALL_FLAGS) == 0);
	CHECK(set->accepted == x->accepted);

	/* The limits, as opt.c clamps them into their legal ranges. */
	bmax = clampu(lim->blksize_max, OPT_BLKSIZE_MIN, OPT_BLKSIZE_MAX);
	wmax = clampu(lim->windowsize_max, 1, OPT_WINDOWSIZE_MAX);

	if (set->accepted & OPT_F_BLKSIZE) {
		CHECK(set->blksize >= OPT_BLKSIZE_MIN && set->blksize <= bmax);
		CHECK(set->blksize == clampu(x->value[0], OPT_BLKSIZE_MIN,
		    bmax));
		if (lim->blksize_max >= OPT_BLKSIZE_MIN)
			CHECK(set->blksize <= lim->blksize_max);
	} else
		CHECK(set->blksize == OPT_BLKSIZE_DEFAULT);

	if (set->accepted & OPT_F_TSIZE) {
		if (req->op == TFTP_OP_WRQ) {
			CHECK(set->tsize == x->value[1]);
			CHECK(lim->max_upload_size == 0 ||
			    set->tsize <= lim->max_upload_size);
		} else
			CHECK(set->tsize == 0);	/* the caller fills it */
	} else
		CHECK(set->tsize == 0);

	if (set->accepted & OPT_F_TIMEOUT)
		CHECK(set->timeout_s == x->value[2]);
	else
		CHECK(set->timeout_s == 0);

	if (set->accepted & OPT_F_UTIMEOUT)
		CHECK(set->timeout_us == x->value[3]);
	else if (set->accepted & OPT_F_TIMEOUT)
		CHECK(set->timeout_us == x->value[2] * 1000000);
	else
		CHECK(set->timeout_us == 0);
	CHECK(set->timeout_us == 0 || (set->timeout_us >= OPT_UTIMEOUT_MIN &&
	    set->timeout_us <= OPT_UTIMEOUT_MAX));

	if (set->accepted & OPT_F_WINDOWSIZE) {
		CHECK(set->windowsize >= 1 && set->windowsize <= wmax);
		CHECK(set->windowsize == clampu(x->value[4], 1, wmax));
		if (lim->windowsize_max >= 1)
			CHECK(set->windowsize <= lim->windowsize_max);
	} else
		CHECK(set->windowsize == 1);

	if (set->accepted & OPT_F_ROLLOVER)
		CHECK(set->rollover == x->value[5]);
	else
		CHECK(set->rollover == 0);
	CHECK(set->multicast[0] == '\0');	/* the caller fills it */
}

/* The OACK in exact-size buffers from 0 bytes up, then decoded back. */
static void
check_oack(const struct opt_set *set)
{
	uint8_t		 room[OACK_ROOM], *buf;
	char		 val[OPT_MULTICAST_MAX];
	struct pkt	 q;
	size_t		 n, m, cap, i, j;
	static const size_t tiny[] = { 0, 1, 2, 3, 4, 8, 16 };

	n = opt_encode_oack(set, room, sizeof(room));
	if (set->accepted == 0) {
		CHECK(n == 0);
		return;
	}
	CHECK(n > 2 && n <= OACK_LIMIT);

	for (i = 0; i < sizeof(tiny) / sizeof(tiny[0]) + 3; i++) {
		if (i < sizeof(tiny) / sizeof(tiny[0]))
			cap = tiny[i];
		else
			cap = n - 1 + (i - sizeof(tiny) / sizeof(tiny[0]));
		if ((buf = malloc(cap == 0 ? 1 : cap)) == NULL)
			abort();
		m = opt_encode_oack(set, buf, cap);
		if (cap < n)
			CHECK(m == 0);
		else {
			CHECK(m == n);
			CHECK(memcmp(buf, room, n) == 0);
		}
		free(buf);
	}

	CHECK(pkt_decode(room, n, &q) == PKT_OK);
	CHECK(q.op == TFTP_OP_OACK);
	for (i = 0, j = 0; i < NKNOWN; i++) {
		if ((set->accepted & known[i].flag) == 0)
			continue;
		CHECK(j < q.u.oack.nopts);
		CHECK(strcmp(q.u.oack.opts[j].name, known[i].name) == 0);
		if (known[i].flag == OPT_F_MULTICAST)
			(void)snprintf(val, sizeof(val), "%s", set->multicast);
		else
			(void)snprintf(val, sizeof(val), "%" PRIu64,
			    granted(set, i));
		CHECK(strcmp(q.u.oack.opts[j].value, val) == 0);
		j++;
	}
	CHECK(j == q.u.oack.nopts);
}

/* opt_each(): the accepted options, in OACK order, with granted values. */
struct each_walk {
	const struct opt_set	*set;
	size_t			 next;	/* index in known[] to look from */
	int			 bad;
};

static void
each_one(void *arg, const char *name, const char *text, uint64_t num)
{
	struct each_walk	*w = arg;

	while (w->next < NKNOWN &&
	    (w->set->accepted & known[w->next].flag) == 0)
		w->next++;
	if (w->next == NKNOWN || strcmp(name, known[w->next].name) != 0) {
		w->bad = 1;
		return;
	}
	if (known[w->next].flag == OPT_F_MULTICAST ?
	    text == NULL || strcmp(text, w->set->multicast) != 0 :
	    text != NULL || num != granted(w->set, w->next))
		w->bad = 1;
	w->next++;
}

static void
check_each(const struct opt_set *set)
{
	struct each_walk	 w = { set, 0, 0 };

	opt_each(set, each_one, &w);
	CHECK(!w.bad);
	while (w.next < NKNOWN && (set->accepted & known[w.next].flag) == 0)
		w.next++;
	CHECK(w.next == NKNOWN);	/* none left out */
}

static void
one(const struct pkt *req, const struct opt_limits *lim, uint64_t fsize)
{
	struct opt_set	 set;
	struct expect	 x;
	const char	*why = "unset";
	enum tftp_err	 err;

	model(req, lim, &x);
	err = opt_negotiate(req, lim, &set, &why);
	check_set(req, lim, &x, err, why, &set);
	CHECK(opt_negotiate(req, lim, &set, NULL) == err);
	if (err != TFTP_E_NONE)
		return;
	if (req->op == TFTP_OP_RRQ && (set.accepted & OPT_F_TSIZE))
		set.tsize = fsize;	/* as the server does */
	if (set.accepted & OPT_F_MULTICAST)
		(void)snprintf(set.multicast, sizeof(set.multicast), "%s",
		    MCAST_VALUE);
	check_oack(&set);
	check_each(&set);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t			 hdr[HDR_LEN];
	char			*text;
	const char		*s[STR_MAX];
	struct pkt_opt		 opts[STR_MAX / 2];
	struct pkt		 req, other;
	struct opt_limits	 lim;
	struct opt_set		 set;
	uint8_t			*pkt;
	size_t			 i, n, ns, nopts, len, cap;
	uint64_t		 fsize;
	uint16_t		 op;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data, size < HDR_LEN ? size : HDR_LEN);
	op = (hdr[0] & 1) ? TFTP_OP_WRQ : TFTP_OP_RRQ;
	lim.blksize_max = (unsigned)hdr[1] << 8 | hdr[2];
	lim.windowsize_max = (unsigned)hdr[3] << 8 | hdr[4];
	lim.max_upload_size = (uint64_t)hdr[5] << 24 | (uint64_t)hdr[6] << 16 |
	    (uint64_t)hdr[7] << 8 | hdr[8];
	fsize = ((uint64_t)hdr[9] << 16 | (uint64_t)hdr[10] << 8 | hdr[11]) <<
	    (hdr[0] >> 2);

	/* The strings, NUL-terminated in a private copy. */
	len = size > HDR_LEN ? size - HDR_LEN : 0;
	if ((text = malloc(len + 1)) == NULL)
		abort();
	if (len > 0)
		memcpy(text, data + HDR_LEN, len);
	text[len] = '\0';
	ns = 0;
	for (i = 0; i <= len && ns < STR_MAX; i += strlen(text + i) + 1)
		s[ns++] = text + i;
	if (ns < 1 || s[0][0] == '\0')
		s[0] = "f";		/* the file name may not be empty */
	if (ns < 2)
		s[1] = "octet";
	nopts = 0;
	for (i = 2; i + 1 < ns; i += 2) {
		if (s[i][0] == '\0')
			continue;	/* the decoder refuses empty names */
		opts[nopts].name = s[i];
		opts[nopts].value = s[i + 1];
		nopts++;
	}

	/* An exact-size buffer for the request. */
	cap = 2 + strlen(s[0]) + 1 + strlen(s[1]) + 1;
	for (i = 0; i < nopts; i++)
		cap += strlen(opts[i].name) + 1 + strlen(opts[i].value) + 1;
	if ((pkt = malloc(cap)) == NULL)
		abort();
	n = pkt_encode_req(pkt, cap, op, s[0], s[1], opts, nopts);
	CHECK(n == cap);
	CHECK(pkt_decode(pkt, n, &req) == PKT_OK);
	CHECK(req.op == op);
	CHECK(req.u.req.nopts == (nopts < PKT_OPT_MAX ? nopts : PKT_OPT_MAX));
	CHECK(req.u.req.nopts + req.u.req.nopts_dropped == nopts);

	for (i = 0; i < NFIXED; i++)
		one(&req, &fixed_limits[i], fsize);
	one(&req, &lim, fsize);

	/* Only requests are negotiated. */
	memset(&other, 0, sizeof(other));
	other.op = TFTP_OP_DATA;
	CHECK(opt_negotiate(&other, &fixed_limits[0], &set, NULL) ==
	    TFTP_E_BADOP);

	free(pkt);
	free(text);
	return 0;
}
