/*
 * Unit tests for option negotiation (src/opt.c).
 *	CK_FORK=no valgrind --leak-check=full ./check_opt
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "suite_main.h"
#include "opt.h"
#include "pkt.h"

/* The limits most cases use: a generous server. */
static const struct opt_limits lim_wide = {
	.blksize_max = OPT_BLKSIZE_MAX,
	.windowsize_max = OPT_WINDOWSIZE_MAX,
	.max_upload_size = 0,
};

static void		 mkreq(struct pkt *, uint16_t, const char *const *,
			    size_t);
static enum tftp_err	 nego1(uint16_t, const char *, const char *,
			    const struct opt_limits *, struct opt_set *,
			    const char **);
static void		 assert_refused(uint16_t, const char *, const char *,
			    const struct opt_limits *, enum tftp_err);
static void		 each_text(const struct opt_set *, char *, size_t);
static Suite		*opt_suite(void);

/* A request for "f" in octet mode with npairs name/value pairs from kv. */
/* One option from opt_each(), appended as "name=value" (fits, or abort). */
struct each_buf {
	char	*out;
	size_t	 cap;
	size_t	 len;
};

static void
each_one(void *arg, const char *name, const char *text, uint64_t num)
{
	struct each_buf	*b = arg;
	int		 n;

	if (text != NULL)
		n = snprintf(b->out + b->len, b->cap - b->len, "%s%s=%s",
		    b->len == 0 ? "" : " ", name, text);
	else
		n = snprintf(b->out + b->len, b->cap - b->len, "%s%s=%llu",
		    b->len == 0 ? "" : " ", name, (unsigned long long)num);
	ck_assert_msg(n > 0 && (size_t)n < b->cap - b->len, "each_text: room");
	b->len += (size_t)n;
}

/* The accepted options as the transfer's log line shows them (opts=). */
static void
each_text(const struct opt_set *set, char *out, size_t cap)
{
	struct each_buf	 b = { out, cap, 0 };

	out[0] = '\0';
	opt_each(set, each_one, &b);
}

static void
mkreq(struct pkt *p, uint16_t op, const char *const *kv, size_t npairs)
{
	size_t	 i;

	memset(p, 0, sizeof(*p));
	p->op = op;
	p->u.req.file = "f";
	p->u.req.filelen = 1;
	p->u.req.mode = "octet";
	ck_assert_uint_le(npairs, PKT_OPT_MAX);
	for (i = 0; i < npairs; i++) {
		p->u.req.opts[i].name = kv[2 * i];
		p->u.req.opts[i].value = kv[2 * i + 1];
	}
	p->u.req.nopts = npairs;
}

static enum tftp_err
nego1(uint16_t op, const char *name, const char *value,
    const struct opt_limits *lim, struct opt_set *out, const char **why)
{
	const char	*kv[2];
	struct pkt	 p;

	kv[0] = name;
	kv[1] = value;
	mkreq(&p, op, kv, 1);
	return opt_negotiate(&p, lim, out, why);
}

static void
assert_refused(uint16_t op, const char *name, const char *value,
    const struct opt_limits *lim, enum tftp_err want)
{
	struct opt_set	 set;
	const char	*why = NULL;

	ck_assert_msg(nego1(op, name, value, lim, &set, &why) == want,
	    "%s=\"%s\" not refused with %d", name, value, (int)want);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_ne(why, "");
}

START_TEST(test_init_defaults)
{
	struct opt_set	 set;
	uint8_t		 buf[64];
	char		 s[32];

	memset(&set, 0x5a, sizeof(set));
	opt_set_init(&set);
	ck_assert_uint_eq(set.accepted, 0);
	ck_assert_uint_eq(set.blksize, 512);
	ck_assert_uint_eq(set.windowsize, 1);
	ck_assert_uint_eq(set.timeout_us, 0);
	ck_assert_uint_eq(set.tsize, 0);
	ck_assert_uint_eq(set.rollover, 0);
	ck_assert_uint_eq(set.timeout_s, 0);
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)), 0);
	memset(s, 'x', sizeof(s));
	each_text(&set, s, sizeof(s));
	ck_assert_str_eq(s, "");
}
END_TEST

START_TEST(test_no_options)
{
	struct opt_set	 set;
	struct pkt	 p;
	const char	*why = "unset";

	mkreq(&p, TFTP_OP_RRQ, NULL, 0);
	memset(&set, 0x5a, sizeof(set));
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, &why),
	    TFTP_E_NONE);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(set.accepted, 0);
	ck_assert_uint_eq(set.blksize, 512);
	ck_assert_uint_eq(set.windowsize, 1);
	ck_assert_uint_eq(set.timeout_us, 0);
}
END_TEST

START_TEST(test_blksize_accepts)
{
	static const struct {
		const char	*req;
		unsigned	 max;
		unsigned	 want;
	} cases[] = {
		{ "8", OPT_BLKSIZE_MAX, 8 },
		{ "512", OPT_BLKSIZE_MAX, 512 },
		{ "1468", OPT_BLKSIZE_MAX, 1468 },
		{ "65464", OPT_BLKSIZE_MAX, 65464 },
		{ "65465", OPT_BLKSIZE_MAX, 65464 },
		{ "65535", OPT_BLKSIZE_MAX, 65464 },
		{ "65535", 1468, 1468 },
		{ "1469", 1468, 1468 },
		{ "1467", 1468, 1467 },
		{ "8", 1468, 8 },
		/* A configured maximum above the RFC ceiling is capped. */
		{ "65535", 100000, 65464 },
		/* Leading zeros are still plain digits. */
		{ "0001024", OPT_BLKSIZE_MAX, 1024 },
		{ "00000000000000001024", OPT_BLKSIZE_MAX, 1024 },
		/* 20 digits that overflow 64 bits clamp like any big value. */
		{ "99999999999999999999", OPT_BLKSIZE_MAX, 65464 },
		{ "18446744073709551615", 2048, 2048 },
	};
	struct opt_limits lim = lim_wide;
	struct opt_set	 set;
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lim.blksize_max = cases[i].max;
		ck_assert_int_eq(nego1(TFTP_OP_RRQ, "blksize", cases[i].req,
		    &lim, &set, &why), TFTP_E_NONE);
		ck_assert_uint_eq(set.accepted, OPT_F_BLKSIZE);
		ck_assert_msg(set.blksize == cases[i].want,
		    "blksize %s max %u: got %u want %u", cases[i].req,
		    cases[i].max, set.blksize, cases[i].want);
	}
}
END_TEST

START_TEST(test_blksize_refuses)
{
	static const char *const bad[] = {
		"7", "0", "", "abc", "-1", "+8", " 8", "8 ", "0x200", "1e3",
		"512.0", "\t8", "000000000000000001024",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_refused(TFTP_OP_RRQ, "blksize", bad[i], &lim_wide,
		    TFTP_E_OPTNEG);
}
END_TEST

START_TEST(test_windowsize)
{
	struct opt_limits lim = lim_wide;
	struct opt_set	 set;

	lim.windowsize_max = 64;
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "1", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_WINDOWSIZE);
	ck_assert_uint_eq(set.windowsize, 1);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "64", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.windowsize, 64);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "65", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.windowsize, 64);
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "windowsize", "65535", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.windowsize, 64);

	lim.windowsize_max = 65535;
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "65535", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.windowsize, 65535);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "65536", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.windowsize, 65535);

	/* A configured maximum of 1 grants lock-step only. */
	lim.windowsize_max = 1;
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "windowsize", "16", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_WINDOWSIZE);
	ck_assert_uint_eq(set.windowsize, 1);

	assert_refused(TFTP_OP_RRQ, "windowsize", "0", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "windowsize", "", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "windowsize", "-4", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "windowsize", "4x", &lim_wide,
	    TFTP_E_OPTNEG);
}
END_TEST

START_TEST(test_tsize_rrq)
{
	struct opt_limits lim = lim_wide;
	struct opt_set	 set;

	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "0", &lim, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TSIZE);
	ck_assert_uint_eq(set.tsize, 0);

	/* The upload limit does not apply to reads; the caller sets tsize. */
	lim.max_upload_size = 10;
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "12345", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TSIZE);
	ck_assert_uint_eq(set.tsize, 0);

	/*
	 * On a read the client's value says nothing (RFC 2349: it sends
	 * 0), so any value asks for the size: atftp's manual has users
	 * write --option "tsize enable".
	 */
	lim.max_upload_size = 0;
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "enable", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TSIZE);
	ck_assert_uint_eq(set.tsize, 0);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "", &lim, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "-1", &lim, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "tsize", "12k", &lim, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TSIZE);
}
END_TEST

START_TEST(test_tsize_wrq)
{
	struct opt_limits lim = lim_wide;
	struct opt_set	 set;
	const char	*why;

	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "5000", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TSIZE);
	ck_assert_uint_eq(set.tsize, 5000);

	/* No limit: any size, up to 64 bits. */
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "18446744073709551615",
	    &lim, &set, NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.tsize, UINT64_MAX);

	lim.max_upload_size = 5000;
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "5000", &lim, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.tsize, 5000);
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "0", &lim, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.tsize, 0);

	why = NULL;
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "5001", &lim, &set,
	    &why), TFTP_E_DISKFULL);
	ck_assert_str_eq(why, "file too large");
	ck_assert_int_eq(nego1(TFTP_OP_WRQ, "tsize", "99999999999999999999",
	    &lim, &set, &why), TFTP_E_DISKFULL);

	assert_refused(TFTP_OP_WRQ, "tsize", "", &lim, TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_WRQ, "tsize", "0x10", &lim, TFTP_E_OPTNEG);
	/* An upload's size is a promise we check: no leniency here. */
	assert_refused(TFTP_OP_WRQ, "tsize", "enable", &lim, TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_WRQ, "tsize", "-1", &lim, TFTP_E_OPTNEG);
}
END_TEST

START_TEST(test_timeout)
{
	struct opt_set	 set;

	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "timeout", "1", &lim_wide, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TIMEOUT);
	ck_assert_uint_eq(set.timeout_us, 1000000);
	ck_assert_uint_eq(set.timeout_s, 1);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "timeout", "255", &lim_wide, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.timeout_us, 255000000);
	ck_assert_uint_eq(set.timeout_s, 255);

	assert_refused(TFTP_OP_RRQ, "timeout", "0", &lim_wide, TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "timeout", "256", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "timeout", "", &lim_wide, TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "timeout", "1.5", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "timeout", "99999999999999999999",
	    &lim_wide, TFTP_E_OPTNEG);
}
END_TEST

START_TEST(test_utimeout)
{
	struct opt_set	 set;

	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "utimeout", "10000", &lim_wide,
	    &set, NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_UTIMEOUT);
	ck_assert_uint_eq(set.timeout_us, 10000);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "utimeout", "255000000",
	    &lim_wide, &set, NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.timeout_us, 255000000);

	assert_refused(TFTP_OP_RRQ, "utimeout", "9999", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "utimeout", "255000001", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "utimeout", "0", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "utimeout", "", &lim_wide, TFTP_E_OPTNEG);
}
END_TEST

START_TEST(test_timeout_and_utimeout)
{
	static const char *const fwd[] = {
		"timeout", "5", "utimeout", "20000",
	};
	static const char *const rev[] = {
		"utimeout", "20000", "timeout", "5",
	};
	static const uint8_t want[] = "\0\6" "timeout\0" "5\0"
	    "utimeout\0" "20000\0";
	struct opt_set	 set;
	struct pkt	 p;
	uint8_t		 buf[64];

	/* utimeout sets the timer whatever the order; both are echoed. */
	mkreq(&p, TFTP_OP_RRQ, fwd, 2);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TIMEOUT | OPT_F_UTIMEOUT);
	ck_assert_uint_eq(set.timeout_us, 20000);
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);

	mkreq(&p, TFTP_OP_RRQ, rev, 2);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_TIMEOUT | OPT_F_UTIMEOUT);
	ck_assert_uint_eq(set.timeout_us, 20000);
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);
}
END_TEST

START_TEST(test_rollover)
{
	struct opt_set	 set;

	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "rollover", "0", &lim_wide, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_ROLLOVER);
	ck_assert_uint_eq(set.rollover, 0);
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "rollover", "1", &lim_wide, &set,
	    NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_ROLLOVER);
	ck_assert_uint_eq(set.rollover, 1);

	assert_refused(TFTP_OP_RRQ, "rollover", "2", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "rollover", "", &lim_wide, TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "rollover", "yes", &lim_wide,
	    TFTP_E_OPTNEG);
	assert_refused(TFTP_OP_RRQ, "rollover", "-1", &lim_wide,
	    TFTP_E_OPTNEG);
}
END_TEST

/*
 * RFC 2090: marked accepted whatever the value (the caller grants or
 * clears it); the OACK echoes the value the caller wrote.
 */
START_TEST(test_multicast)
{
	static const char *const kv[] = {
		"blksize", "1024", "MultiCast", "",
	};
	static const uint8_t want[] = "\0\6" "blksize\0" "1024\0"
	    "multicast\0" "239.255.0.7,1758,1\0";
	struct opt_set	 set;
	struct pkt	 p;
	uint8_t		 buf[96];
	char		 text[96];

	mkreq(&p, TFTP_OP_RRQ, kv, 2);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_BLKSIZE | OPT_F_MULTICAST);
	ck_assert_str_eq(set.multicast, "");
	(void)snprintf(set.multicast, sizeof set.multicast,
	    "239.255.0.7,1758,1");
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);
	each_text(&set, text, sizeof text);
	ck_assert_str_eq(text, "blksize=1024 multicast=239.255.0.7,1758,1");

	/* Cleared by the caller: not in the OACK. */
	set.accepted &= ~OPT_F_MULTICAST;
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof("\0\6" "blksize\0" "1024\0") - 1);

	/* A value is not refused; the wish is the same. */
	ck_assert_int_eq(nego1(TFTP_OP_RRQ, "multicast", "1", &lim_wide,
	    &set, NULL), TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_MULTICAST);
}
END_TEST

static void
collect(void *arg, const char *name, const char *text, uint64_t num)
{
	char	*out = arg;
	size_t	 off = strlen(out);

	if (text != NULL)
		(void)snprintf(out + off, 256 - off, "%s:'%s' ", name, text);
	else
		(void)snprintf(out + off, 256 - off, "%s:%llu ", name,
		    (unsigned long long)num);
}

/* opt_each() hands out what the OACK carries: numbers, or text. */
START_TEST(test_each)
{
	static const char *const kv[] = {
		"multicast", "", "windowsize", "8", "timeout", "3",
		"blksize", "1024",
	};
	struct opt_set	 set;
	struct pkt	 p;
	char		 out[256] = "";

	mkreq(&p, TFTP_OP_RRQ, kv, 4);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	(void)snprintf(set.multicast, sizeof set.multicast, "239.1.1.1,1758,0");
	opt_each(&set, collect, out);
	ck_assert_str_eq(out, "blksize:1024 timeout:3 windowsize:8 "
	    "multicast:'239.1.1.1,1758,0' ");
	out[0] = '\0';
	opt_set_init(&set);
	opt_each(&set, collect, out);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_duplicates_first_wins)
{
	static const char *const dup[] = {
		"blksize", "1024", "BLKSIZE", "2048", "blksize", "abc",
		"windowsize", "4", "windowsize", "0",
	};
	struct opt_set	 set;
	struct pkt	 p;

	mkreq(&p, TFTP_OP_RRQ, dup, 5);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_BLKSIZE | OPT_F_WINDOWSIZE);
	ck_assert_uint_eq(set.blksize, 1024);
	ck_assert_uint_eq(set.windowsize, 4);
}
END_TEST

START_TEST(test_names_case_insensitive)
{
	static const char *const kv[] = {
		"BlkSize", "1400", "TSIZE", "0", "WindowSize", "8",
		"TimeOut", "3", "ROLLOVER", "1",
	};
	struct opt_set	 set;
	struct pkt	 p;

	mkreq(&p, TFTP_OP_RRQ, kv, 5);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_BLKSIZE | OPT_F_TSIZE |
	    OPT_F_WINDOWSIZE | OPT_F_TIMEOUT | OPT_F_ROLLOVER);
	ck_assert_uint_eq(set.blksize, 1400);
	ck_assert_uint_eq(set.windowsize, 8);
	ck_assert_uint_eq(set.timeout_us, 3000000);
	ck_assert_uint_eq(set.rollover, 1);
}
END_TEST

START_TEST(test_unknown_ignored)
{
	static const char *const kv[] = {
		"foo", "bar", "blk", "512", "blksize2", "512", "", "1",
		"mcast", "", "blksize", "1000", "tsizex", "garbage",
	};
	struct opt_set	 set;
	struct pkt	 p;
	uint8_t		 buf[64];
	static const uint8_t want[] = "\0\6" "blksize\0" "1000\0";

	mkreq(&p, TFTP_OP_WRQ, kv, 7);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	ck_assert_uint_eq(set.accepted, OPT_F_BLKSIZE);
	ck_assert_uint_eq(set.blksize, 1000);
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);
}
END_TEST

START_TEST(test_refusal_stops)
{
	static const char *const kv[] = {
		"blksize", "1024", "timeout", "0", "windowsize", "8",
	};
	struct opt_set	 set;
	struct pkt	 p;
	const char	*why = NULL;

	mkreq(&p, TFTP_OP_RRQ, kv, 3);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, &why),
	    TFTP_E_OPTNEG);
	ck_assert_str_eq(why, "bad timeout");

	/* Only requests can be negotiated. */
	mkreq(&p, TFTP_OP_RRQ, kv, 1);
	p.op = TFTP_OP_DATA;
	why = NULL;
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, &why),
	    TFTP_E_BADOP);
	ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_oack_table_order)
{
	static const char *const kv[] = {
		"rollover", "0", "windowsize", "16", "tsize", "0",
		"utimeout", "500000", "blksize", "1468",
	};
	static const uint8_t want[] = "\0\6" "blksize\0" "1468\0"
	    "tsize\0" "123\0" "utimeout\0" "500000\0" "windowsize\0" "16\0"
	    "rollover\0" "0\0";
	struct opt_set	 set;
	struct pkt	 p, back;
	uint8_t		 buf[128], *small;
	size_t		 need = sizeof(want) - 1, cap;

	mkreq(&p, TFTP_OP_RRQ, kv, 5);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	set.tsize = 123;	/* as the caller does after stat() */
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)), need);
	ck_assert_mem_eq(buf, want, need);

	/* The OACK decodes to the same pairs. */
	ck_assert_int_eq(pkt_decode(buf, need, &back), PKT_OK);
	ck_assert_uint_eq(back.op, TFTP_OP_OACK);
	ck_assert_uint_eq(back.u.oack.nopts, 5);
	ck_assert_str_eq(back.u.oack.opts[3].name, "windowsize");
	ck_assert_str_eq(back.u.oack.opts[3].value, "16");

	for (cap = 0; cap < need; cap++) {
		small = malloc(cap == 0 ? 1 : cap);
		ck_assert_ptr_nonnull(small);
		ck_assert_uint_eq(opt_encode_oack(&set, small, cap), 0);
		free(small);
	}
}
END_TEST

START_TEST(test_oack_clamped_values)
{
	static const char *const kv[] = {
		"blksize", "65535", "windowsize", "65535", "tsize", "777",
	};
	static const uint8_t want[] = "\0\6" "blksize\0" "1428\0"
	    "tsize\0" "777\0" "windowsize\0" "32\0";
	struct opt_limits lim = lim_wide;
	struct opt_set	 set;
	struct pkt	 p;
	uint8_t		 buf[128];

	lim.blksize_max = 1428;
	lim.windowsize_max = 32;
	lim.max_upload_size = 1000;
	mkreq(&p, TFTP_OP_WRQ, kv, 3);
	ck_assert_int_eq(opt_negotiate(&p, &lim, &set, NULL), TFTP_E_NONE);
	ck_assert_uint_eq(opt_encode_oack(&set, buf, sizeof(buf)),
	    sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, sizeof(want) - 1);
}
END_TEST

START_TEST(test_format)
{
	static const char *const kv[] = {
		"windowsize", "16", "tsize", "0", "blksize", "1468",
	};
	struct opt_set	 set;
	struct pkt	 p;
	char		 s[64];

	mkreq(&p, TFTP_OP_RRQ, kv, 3);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	set.tsize = 123;
	each_text(&set, s, sizeof(s));
	ck_assert_str_eq(s, "blksize=1468 tsize=123 windowsize=16");
}
END_TEST

START_TEST(test_format_all)
{
	static const char *const kv[] = {
		"rollover", "1", "utimeout", "20000", "timeout", "7",
		"windowsize", "2", "tsize", "99", "blksize", "8",
	};
	struct opt_set	 set;
	struct pkt	 p;
	char		 s[128];

	mkreq(&p, TFTP_OP_WRQ, kv, 6);
	ck_assert_int_eq(opt_negotiate(&p, &lim_wide, &set, NULL),
	    TFTP_E_NONE);
	each_text(&set, s, sizeof(s));
	ck_assert_str_eq(s, "blksize=8 tsize=99 timeout=7 utimeout=20000 "
	    "windowsize=2 rollover=1");
}
END_TEST

static Suite *
opt_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("opt");

	tc = tcase_create("defaults without options");
	tcase_add_test(tc, test_init_defaults);
	tcase_add_test(tc, test_no_options);
	suite_add_tcase(s, tc);

	tc = tcase_create("blksize clamps to the limit and refuses junk");
	tcase_add_test(tc, test_blksize_accepts);
	tcase_add_test(tc, test_blksize_refuses);
	suite_add_tcase(s, tc);

	tc = tcase_create("windowsize clamps to windowsize_max");
	tcase_add_test(tc, test_windowsize);
	suite_add_tcase(s, tc);

	tc = tcase_create("tsize reads any size and checks uploads");
	tcase_add_test(tc, test_tsize_rrq);
	tcase_add_test(tc, test_tsize_wrq);
	suite_add_tcase(s, tc);

	tc = tcase_create("timeout and utimeout stay in range");
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_utimeout);
	tcase_add_test(tc, test_timeout_and_utimeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("rollover is 0 or 1");
	tcase_add_test(tc, test_rollover);
	suite_add_tcase(s, tc);

	tc = tcase_create("multicast is left to the caller");
	tcase_add_test(tc, test_multicast);
	tcase_add_test(tc, test_each);
	suite_add_tcase(s, tc);

	tc = tcase_create("negotiate matches names and keeps the first");
	tcase_add_test(tc, test_duplicates_first_wins);
	tcase_add_test(tc, test_names_case_insensitive);
	tcase_add_test(tc, test_unknown_ignored);
	tcase_add_test(tc, test_refusal_stops);
	suite_add_tcase(s, tc);

	tc = tcase_create("oack echoes granted values in table order");
	tcase_add_test(tc, test_oack_table_order);
	tcase_add_test(tc, test_oack_clamped_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("format renders the accepted set");
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_all);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(opt_suite());
}
