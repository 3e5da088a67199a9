/*
 * Unit tests for file name rewriting (src/remap*.c).  Output buffers at a
 * boundary are allocated at exactly outlen bytes so that an overrun shows
 * up under valgrind or ASan:
 *	CK_FORK=no valgrind --leak-check=full --error-exitcode=1 ./check_remap
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_util.h"
#include "suite_main.h"
#include "remap.h"

#define RD		REMAP_OP_READ
#define WR		REMAP_OP_WRITE
#define RW		(REMAP_OP_READ | REMAP_OP_WRITE)
#define OUTMAX		512

struct rng {
	uint32_t	 x;
};

struct one_rule_case;

static void	 add_ok(struct remap *, const char *, const char *, unsigned,
		    enum remap_action, int, int, int);
static void	 add_rw(struct remap *, const char *, const char *);
static void	 add_bad(const char *, const char *, unsigned,
		    enum remap_action, const char *);
static void	 expect(const struct remap *, unsigned, const char *,
		    const char *, const char *);
static enum remap_result apply_exact(const struct remap *, unsigned,
		    const char *, const char *, size_t, char *, size_t);
static void	 expect_result(const struct remap *, unsigned, const char *,
		    const char *, enum remap_result);
static void	 expect_one_rule(const struct one_rule_case *);
static char	*repeat(char, size_t);
static uint32_t	 rng_next(struct rng *);
static struct remap *pxe_rules(void);
static struct remap *hpa(const char *);
static void	 hpa_bad(const char *, const char *);
static Suite	*remap_suite(void);

static void
add_ok(struct remap *rm, const char *match, const char *replace,
    unsigned ops, enum remap_action action, int icase, int last, int global)
{
	char	*cause = NULL;
	size_t	 n;

	n = remap_count(rm);
	if (remap_add(rm, match, replace, ops, action, icase, last, global,
	    &cause) != 0)
		ck_abort_msg("remap_add \"%s\": %s", match,
		    cause != NULL ? cause : "(no cause)");
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(remap_count(rm), n + 1);
}

/* A plain read/write rewrite rule: not icase, not last, not global. */
static void
add_rw(struct remap *rm, const char *match, const char *replace)
{
	add_ok(rm, match, replace, RW, REMAP_REWRITE, 0, 0, 0);
}

/* remap_add must fail, leave the set alone, and say why (containing want). */
static void
add_bad(const char *match, const char *replace, unsigned ops,
    enum remap_action action, const char *want)
{
	struct remap	*rm;
	char		*cause = NULL;

	rm = remap_new();
	ck_assert_int_eq(remap_add(rm, match, replace, ops, action, 0, 0, 0,
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(cause[0] != '\0', "empty cause for \"%s\"", match);
	if (want != NULL)
		ck_assert_msg(strstr(cause, want) != NULL,
		    "cause \"%s\" lacks \"%s\"", cause, want);
	ck_assert_uint_eq(remap_count(rm), 0);
	free(cause);
	remap_free(rm);
}

static void
expect(const struct remap *rm, unsigned op, const char *in,
    const char *client, const char *want)
{
	char			 out[OUTMAX];
	enum remap_result	 res;

	memset(out, 'Z', sizeof out);
	res = remap_apply(rm, op, in, client, out, sizeof out);
	ck_assert_msg(res == REMAP_OK, "\"%s\": result %d, want ok", in,
	    (int)res);
	ck_assert_str_eq(out, want);
}

static void
expect_result(const struct remap *rm, unsigned op, const char *in,
    const char *client, enum remap_result want)
{
	char			 out[OUTMAX];
	enum remap_result	 res;

	memset(out, 'Z', sizeof out);
	res = remap_apply(rm, op, in, client, out, sizeof out);
	ck_assert_msg(res == want, "\"%s\": result %d, want %d", in,
	    (int)res, (int)want);
	if (res != REMAP_OK)
		ck_assert_str_eq(out, "");
}

/*
 * Apply into a heap buffer of exactly outlen bytes; copy an ok result
 * to copy (copylen bytes).
 */
static enum remap_result
apply_exact(const struct remap *rm, unsigned op, const char *in,
    const char *client, size_t outlen, char *copy, size_t copylen)
{
	enum remap_result	 res;
	char			*out;

	out = malloc(outlen);
	ck_assert_ptr_nonnull(out);
	memset(out, 'Z', outlen);
	res = remap_apply(rm, op, in, client, out, outlen);
	if (res == REMAP_OK) {
		ck_assert_uint_lt(strlen(out), outlen);
		ck_assert_uint_lt(strlen(out), copylen);
		memcpy(copy, out, strlen(out) + 1);
	} else
		ck_assert_int_eq(out[0], '\0');
	free(out);
	return res;
}

static char *
repeat(char c, size_t n)
{
	char	*s;

	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* xorshift32: deterministic, so a failure reproduces. */
static uint32_t
rng_next(struct rng *r)
{
	r->x ^= r->x << 13;
	r->x ^= r->x >> 17;
	r->x ^= r->x << 5;
	return r->x;
}

/* A tftp-hpa-style PXE set: deny "..", map pxelinux.cfg, per client. */
static struct remap *
pxe_rules(void)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, "\\.\\.", NULL, RW, REMAP_DENY, 0, 0, 0);
	add_ok(rm, "^/", "", RW, REMAP_REWRITE, 0, 0, 0);
	add_ok(rm, "^/?pxelinux\\.cfg/(.*)", "pxe/cfg/\\1", RD,
	    REMAP_REWRITE, 0, 1, 0);
	add_ok(rm, "^uploads/(.*)$", "clients/\\i/\\1", WR, REMAP_REWRITE,
	    0, 1, 0);
	add_ok(rm, "^.*\\.(efi|0)$", "boot/\\0", RD, REMAP_REWRITE, 1, 1, 0);
	add_ok(rm, "^(.*)$", "clients/\\i/\\1", RD, REMAP_REWRITE, 0, 0, 0);
	return rm;
}

/* builtins */

/* Patterns whose compilation would eat the machine are refused. */
START_TEST(test_costly_regex_refused)
{
	static const char *const bad[] = {
		"a++", "a+++++++++++++++++++++++", "x*?", "(((a+)+)+)+",
		"a{1,256}", "a{300}",
	};
	static const char *const good[] = {
		"((a+)+)+", "a{1,255}", "^/?pxelinux\\.cfg/(.*)$", "[+*]+",
		"a\\+\\+", "(a|b)*c+", "x*",
	};
	struct remap	*rm = remap_new();
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		ck_assert_msg(remap_add(rm, bad[i], "y", RD, REMAP_REWRITE, 0,
		    0, 0, &cause) == -1, "accepted %s", bad[i]);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		cause = NULL;
		ck_assert_msg(remap_add(rm, good[i], "y", RD, REMAP_REWRITE, 0,
		    0, 0, &cause) == 0, "refused %s: %s", good[i], cause);
	}
	remap_free(rm);
}
END_TEST

START_TEST(test_strip_nonprint)
{
	struct remap	*rm;

	rm = remap_new();
	remap_set_builtins(rm, 1, 0, 0);
	expect(rm, RD, "pxelinux.0\x01\x02", NULL, "pxelinux.0");
	expect(rm, RD, "a\x7f\x1f\n\r", NULL, "a");
	expect(rm, RD, "a\x01" "b", NULL, "a\x01" "b");
	expect(rm, RD, "a\x01 ", NULL, "a\x01 ");
	expect(rm, RD, "caf\xc3\xa9", NULL, "caf\xc3\xa9");
	expect(rm, RD, "caf\xc3\xa9\x01", NULL, "caf\xc3\xa9");
	/* Bytes that end no UTF-8 character are firmware garbage too. */
	expect(rm, RD, "a\xff", NULL, "a");
	expect(rm, RD, "pxelinux.0\x01\xff\xfe", NULL, "pxelinux.0");
	expect(rm, RD, "a\xc3", NULL, "a");
	expect(rm, RD, "a\xe2\x82\xac", NULL, "a\xe2\x82\xac");
	expect(rm, RD, "a\xe2\x82", NULL, "a");
	expect(rm, RD, "\x01\x02\x7f", NULL, "");
	expect(rm, RD, "", NULL, "");
	remap_set_builtins(rm, 0, 0, 0);
	expect(rm, RD, "pxelinux.0\x01\x02", NULL, "pxelinux.0\x01\x02");
	remap_free(rm);
}
END_TEST

START_TEST(test_backslash)
{
	struct remap	*rm;

	rm = remap_new();
	remap_set_builtins(rm, 0, 1, 0);
	expect(rm, RD, "boot\\x86\\PXE.0", NULL, "boot/x86/PXE.0");
	expect(rm, WR, "\\\\", NULL, "//");
	remap_set_builtins(rm, 0, 0, 0);
	expect(rm, RD, "boot\\x86", NULL, "boot\\x86");
	remap_free(rm);
}
END_TEST

START_TEST(test_lowercase)
{
	struct remap	*rm;

	rm = remap_new();
	remap_set_builtins(rm, 0, 0, 1);
	expect(rm, RD, "BOOT/PxeLinux.0 AZaz@[`{", NULL,
	    "boot/pxelinux.0 azaz@[`{");
	/* ASCII only: UTF-8 and Latin-1 bytes pass untouched. */
	expect(rm, RD, "\xc3\x89T\xc9", NULL, "\xc3\x89t\xc9");
	remap_set_builtins(rm, 0, 0, 0);
	expect(rm, RD, "BOOT", NULL, "BOOT");
	remap_free(rm);
}
END_TEST

START_TEST(test_builtin_defaults)
{
	struct remap	*rm;

	rm = remap_new();
	ck_assert_uint_eq(remap_count(rm), 0);
	/* strip and backslash on, lowercase off. */
	expect(rm, RD, "Boot\\PXE.0\x01\x02", NULL, "Boot/PXE.0");
	remap_free(rm);
}
END_TEST

START_TEST(test_builtins_together)
{
	struct remap	*rm;

	rm = remap_new();
	remap_set_builtins(rm, 1, 1, 1);
	expect(rm, RD, "BOOT\\X86\\PXELINUX.0\x01\x02", NULL,
	    "boot/x86/pxelinux.0");
	/* The rules see the builtins' result. */
	add_rw(rm, "^boot/(.*)$", "b/\\1");
	expect(rm, WR, "BOOT\\A\x7f", NULL, "b/a");
	remap_free(rm);
}
END_TEST

/* rewrite */

/*
 * One read/write rewrite rule (not icase, not last) and names read
 * through it.
 */
struct one_rule_case {
	const char	*match;
	const char	*replace;
	int		 global;
	const char	*in;
	const char	*client;
	const char	*want;
};

static void
expect_one_rule(const struct one_rule_case *oc)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, oc->match, oc->replace, RW, REMAP_REWRITE, 0, 0,
	    oc->global);
	expect(rm, RD, oc->in, oc->client, oc->want);
	remap_free(rm);
}

static const struct one_rule_case rewrite_cases[] = {
	{ "^([a-z]+)-([0-9]+)$", "\\2/\\1", 0, "abc-42", NULL, "42/abc" },
	{ "^([a-z]+)-([0-9]+)$", "\\2/\\1", 0, "abc-x", NULL, "abc-x" },
	{ "ab", "[\\0]", 0, "xaby", NULL, "x[ab]y" },
	/* A group that took no part expands to nothing. */
	{ "^(a)?(b)$", "<\\1|\\2>", 0, "b", NULL, "<|b>" },
	{ "^(a)?(b)$", "<\\1|\\2>", 0, "ab", NULL, "<a|b>" },
	/* Only the matched part is replaced; \\ is a backslash. */
	{ "foo", "b\\\\r", 0, "afoob", NULL, "ab\\rb" },
	/* A back-reference can repeat a group. */
	{ "^(.)(.)", "\\2\\2\\2\\1\\1", 0, "abc", NULL, "bbbaac" },
	/* Nine groups and \9. */
	{ "(.)(.)(.)(.)(.)(.)(.)(.)(.)", "\\9\\8\\7\\6\\5\\4\\3\\2\\1", 0,
	    "123456789", NULL, "987654321" },
	/* \i is the client's address, empty without one. */
	{ "^(.*)$", "clients/\\i/\\1", 0, "pxelinux.0", "192.0.2.7",
	    "clients/192.0.2.7/pxelinux.0" },
	{ "^(.*)$", "clients/\\i/\\1", 0, "a", "2001:db8::1",
	    "clients/2001:db8::1/a" },
	{ "^", "\\i-\\i:", 0, "x", NULL, "-:x" },
	{ "^", "\\i-\\i:", 0, "x", "10.0.0.1", "10.0.0.1-10.0.0.1:x" },
};

static const struct one_rule_case global_cases[] = {
	{ "a", "X", 1, "banana", NULL, "bXnXnX" },
	{ "a", "X", 0, "banana", NULL, "bXnana" },
	/* Non-overlapping, left to right. */
	{ "aa", "b", 1, "aaaaa", NULL, "bba" },
	/* '^' matches only at the start of the name. */
	{ "^a", "X", 1, "aaa", NULL, "Xaa" },
	/* Back-references are per match. */
	{ "([a-z])([0-9])", "\\2\\1", 1, "a1-b2-c3", NULL, "1a-2b-3c" },
	/* Empty matches: one between and around the characters. */
	{ "x*", "-", 1, "axb", NULL, "-a-b-" },
	{ "x*", "-", 1, "abc", NULL, "-a-b-c-" },
	{ "x*", "-", 1, "xx", NULL, "-" },
	{ "x*", "-", 1, "", NULL, "-" },
	{ "b*", "-", 1, "abb", NULL, "-a-" },
	{ "$", "!", 1, "abc", NULL, "abc!" },
	{ "^", "!", 1, "abc", NULL, "!abc" },
	/* Not global: one empty match at the start. */
	{ "x*", "-", 0, "abc", NULL, "-abc" },
};

START_TEST(test_rewrite_table)
{
	expect_one_rule(&rewrite_cases[_i]);
}
END_TEST

START_TEST(test_global_table)
{
	expect_one_rule(&global_cases[_i]);
}
END_TEST

START_TEST(test_per_op)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, "^a", "read", RD, REMAP_REWRITE, 0, 0, 0);
	add_ok(rm, "^b", "write", WR, REMAP_REWRITE, 0, 0, 0);
	add_ok(rm, "^c", "both", RW, REMAP_REWRITE, 0, 0, 0);
	expect(rm, RD, "a1", NULL, "read1");
	expect(rm, WR, "a1", NULL, "a1");
	expect(rm, RD, "b1", NULL, "b1");
	expect(rm, WR, "b1", NULL, "write1");
	expect(rm, RD, "c1", NULL, "both1");
	expect(rm, WR, "c1", NULL, "both1");
	/* No operation: no rule applies, builtins still do. */
	expect(rm, 0, "a\\1", NULL, "a/1");
	remap_free(rm);
}
END_TEST

START_TEST(test_deny)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, "\\.\\.", NULL, RW, REMAP_DENY, 0, 0, 0);
	add_ok(rm, "^secret", "ignored \\q", WR, REMAP_DENY, 0, 0, 0);
	expect_result(rm, RD, "../etc/passwd", NULL, REMAP_DENIED);
	expect_result(rm, WR, "a/../b", NULL, REMAP_DENIED);
	/* Backslash runs first, so "..\" is caught as "../". */
	expect_result(rm, RD, "..\\x", NULL, REMAP_DENIED);
	expect(rm, RD, "a.b", NULL, "a.b");
	expect(rm, RD, "secret", NULL, "secret");
	expect_result(rm, WR, "secret", NULL, REMAP_DENIED);
	remap_free(rm);
}
END_TEST

START_TEST(test_deny_after_rewrite)
{
	struct remap	*rm;

	rm = remap_new();
	add_rw(rm, "^up/", "../");
	add_ok(rm, "^\\.\\./", NULL, RW, REMAP_DENY, 0, 0, 0);
	expect_result(rm, RD, "up/x", NULL, REMAP_DENIED);
	expect(rm, RD, "down/x", NULL, "down/x");
	remap_free(rm);
}
END_TEST

START_TEST(test_last)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, "a", "b", RW, REMAP_REWRITE, 0, 1, 0);
	add_rw(rm, "b", "c");
	expect(rm, RD, "a", NULL, "b");
	/* last stops only when its rule matched. */
	expect(rm, RD, "xb", NULL, "xc");
	remap_free(rm);

	/* A last rule for another operation does not stop this one. */
	rm = remap_new();
	add_ok(rm, "a", "b", WR, REMAP_REWRITE, 0, 1, 0);
	add_rw(rm, "a", "c");
	expect(rm, RD, "a", NULL, "c");
	expect(rm, WR, "a", NULL, "b");
	remap_free(rm);
}
END_TEST

START_TEST(test_global_bounded)
{
	struct remap		*rm;
	char			*in, got[REMAP_NAME_MAX];
	enum remap_result	 res;

	rm = remap_new();
	add_ok(rm, "a", "b", RW, REMAP_REWRITE, 0, 0, 1);
	in = repeat('a', REMAP_SUBST_MAX);
	res = apply_exact(rm, RD, in, NULL, REMAP_NAME_MAX, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_uint_eq(strlen(got), REMAP_SUBST_MAX);
	ck_assert_uint_eq(strspn(got, "b"), REMAP_SUBST_MAX);
	free(in);
	in = repeat('a', REMAP_SUBST_MAX + 1);
	res = apply_exact(rm, RD, in, NULL, REMAP_NAME_MAX, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	free(in);
	remap_free(rm);

	/* Empty matches count too: n + 1 of them in n bytes. */
	rm = remap_new();
	add_ok(rm, "x*", "", RW, REMAP_REWRITE, 0, 0, 1);
	in = repeat('a', REMAP_SUBST_MAX - 1);
	res = apply_exact(rm, RD, in, NULL, REMAP_NAME_MAX, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, in);
	free(in);
	in = repeat('a', REMAP_SUBST_MAX);
	res = apply_exact(rm, RD, in, NULL, REMAP_NAME_MAX, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	free(in);
	remap_free(rm);
}
END_TEST

START_TEST(test_ordering)
{
	struct remap	*rm;

	rm = remap_new();
	add_rw(rm, "a", "b");
	add_rw(rm, "b", "c");
	expect(rm, RD, "a", NULL, "c");
	remap_free(rm);

	rm = remap_new();
	add_rw(rm, "b", "c");
	add_rw(rm, "a", "b");
	expect(rm, RD, "a", NULL, "b");
	remap_free(rm);

	/* A deny placed after a rewrite sees the rewritten name. */
	rm = remap_new();
	add_rw(rm, "^x", "y");
	add_ok(rm, "^x", NULL, RW, REMAP_DENY, 0, 0, 0);
	expect(rm, RD, "x", NULL, "y");
	remap_free(rm);
}
END_TEST

START_TEST(test_icase)
{
	struct remap	*rm;

	rm = remap_new();
	add_ok(rm, "^PXE", "x", RW, REMAP_REWRITE, 1, 0, 0);
	add_ok(rm, "^EFI", "y", RW, REMAP_REWRITE, 0, 0, 0);
	expect(rm, RD, "pxe.0", NULL, "x.0");
	expect(rm, RD, "PxE.0", NULL, "x.0");
	expect(rm, RD, "efi/a", NULL, "efi/a");
	expect(rm, RD, "EFI/a", NULL, "y/a");
	remap_free(rm);
}
END_TEST

/* bounds */

START_TEST(test_toolong_input)
{
	struct remap		*rm;
	char			 got[16];
	enum remap_result	 res;

	rm = remap_new();
	res = apply_exact(rm, RD, "abcd", NULL, 5, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "abcd");
	res = apply_exact(rm, RD, "abcd", NULL, 4, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	res = apply_exact(rm, RD, "", NULL, 1, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "");
	res = apply_exact(rm, RD, "a", NULL, 1, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	/* Stripped garbage does not count. */
	res = apply_exact(rm, RD, "abcd\x01\x02\x03", NULL, 5, got,
	    sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "abcd");
	remap_free(rm);
}
END_TEST

START_TEST(test_toolong_outlen_zero)
{
	struct remap	*rm;
	char		 guard = 'G';

	rm = remap_new();
	ck_assert_int_eq(remap_apply(rm, RD, "", NULL, &guard, 0),
	    REMAP_TOOLONG);
	ck_assert_int_eq(guard, 'G');
	remap_free(rm);
}
END_TEST

START_TEST(test_toolong_rewrite)
{
	struct remap		*rm;
	char			 got[64];
	enum remap_result	 res;

	/* "ab" -> "abxy": needs 5 bytes. */
	rm = remap_new();
	add_rw(rm, "$", "xy");
	res = apply_exact(rm, RD, "ab", NULL, 5, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "abxy");
	res = apply_exact(rm, RD, "ab", NULL, 4, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	remap_free(rm);

	/* The client address counts: "c/192.0.2.7/a" is 13 bytes. */
	rm = remap_new();
	add_rw(rm, "^(.*)$", "c/\\i/\\1");
	res = apply_exact(rm, RD, "a", "192.0.2.7", 14, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "c/192.0.2.7/a");
	res = apply_exact(rm, RD, "a", "192.0.2.7", 13, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	remap_free(rm);

	/* Global growth: "aaa" -> "bbbbbb" needs 7 bytes. */
	rm = remap_new();
	add_ok(rm, "a", "bb", RW, REMAP_REWRITE, 0, 0, 1);
	res = apply_exact(rm, RD, "aaa", NULL, 7, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "bbbbbb");
	res = apply_exact(rm, RD, "aaa", NULL, 6, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	remap_free(rm);
}
END_TEST

START_TEST(test_toolong_intermediate)
{
	struct remap		*rm;
	char			 got[64];
	enum remap_result	 res;

	/* "a" -> "a0123456789" -> "a": the middle needs 12 bytes. */
	rm = remap_new();
	add_rw(rm, "$", "0123456789");
	add_rw(rm, "[0-9]+$", "");
	res = apply_exact(rm, RD, "a", NULL, 12, got, sizeof got);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_str_eq(got, "a");
	res = apply_exact(rm, RD, "a", NULL, 11, got, sizeof got);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	remap_free(rm);
}
END_TEST

START_TEST(test_toolong_name_max)
{
	struct remap		*rm;
	char			*in, *got;
	enum remap_result	 res;

	got = malloc(2 * REMAP_NAME_MAX);
	ck_assert_ptr_nonnull(got);
	rm = remap_new();
	add_rw(rm, "^a", "b");
	in = repeat('a', REMAP_NAME_MAX - 1);
	res = apply_exact(rm, RD, in, NULL, 2 * REMAP_NAME_MAX, got,
	    2 * REMAP_NAME_MAX);
	ck_assert_int_eq(res, REMAP_OK);
	ck_assert_int_eq(got[0], 'b');
	ck_assert_uint_eq(strlen(got), REMAP_NAME_MAX - 1);
	free(in);
	/* Past REMAP_NAME_MAX even though outlen is larger. */
	in = repeat('a', REMAP_NAME_MAX);
	res = apply_exact(rm, RD, in, NULL, 2 * REMAP_NAME_MAX, got,
	    2 * REMAP_NAME_MAX);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	free(in);
	/* A 64 KiB name from the network. */
	in = repeat('a', 65536);
	res = apply_exact(rm, RD, in, NULL, 2 * REMAP_NAME_MAX, got,
	    2 * REMAP_NAME_MAX);
	ck_assert_int_eq(res, REMAP_TOOLONG);
	free(in);
	remap_free(rm);
	free(got);
}
END_TEST

/* construction errors */

/* Rules remap_add refuses, and what the cause must say (NULL: any). */
static const struct {
	const char		*match;
	const char		*replace;
	unsigned		 ops;
	enum remap_action	 action;
	const char		*want;
} bad_rules[] = {
	/* bad regex */
	{ "(", "x", RW, REMAP_REWRITE, NULL },
	{ "a[", "x", RW, REMAP_REWRITE, NULL },
	{ "*{1", NULL, RW, REMAP_DENY, NULL },
	/* bad replacement */
	{ "a", "\\q", RW, REMAP_REWRITE, "\\q" },
	{ "a", "x\\", RW, REMAP_REWRITE, "backslash" },
	{ "a", "\\n", RW, REMAP_REWRITE, "\\n" },
	{ "a", "\\I", RW, REMAP_REWRITE, "\\I" },
	{ "a", "\\\x01", RW, REMAP_REWRITE, "0x01" },
	{ "(a)", "\\2", RW, REMAP_REWRITE, "\\2" },
	{ "a", "\\1", RW, REMAP_REWRITE, "\\1" },
	{ "a", NULL, RW, REMAP_REWRITE, "replacement" },
	/* bad arguments */
	{ "a", "b", 0, REMAP_REWRITE, "operation" },
	{ "a", "b", 0x4, REMAP_REWRITE, "operation" },
	{ "a", "b", RW, (enum remap_action)7, "action" },
	{ NULL, "b", RW, REMAP_REWRITE, "regex" },
};

START_TEST(test_bad_rule)
{
	add_bad(bad_rules[_i].match, bad_rules[_i].replace, bad_rules[_i].ops,
	    bad_rules[_i].action, bad_rules[_i].want);
}
END_TEST

START_TEST(test_good_after_bad)
{
	struct remap	*rm;
	char		*cause = NULL;

	rm = remap_new();
	add_rw(rm, "a", "b");
	ck_assert_int_eq(remap_add(rm, "(", "x", RW, REMAP_REWRITE, 0, 0, 0,
	    &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(remap_add(rm, "b", "\\z", RW, REMAP_REWRITE, 0, 0,
	    0, &cause), -1);
	free(cause);
	ck_assert_uint_eq(remap_count(rm), 1);
	expect(rm, RD, "a", NULL, "b");
	remap_free(rm);
	remap_free(NULL);
}
END_TEST

/* PXE example set */

/* PXE example set: (op, name, client) and its result. */
static const struct {
	unsigned		 op;
	const char		*in;
	const char		*client;
	enum remap_result	 res;
	const char		*want;	/* when res is REMAP_OK */
} pxe_cases[] = {
	/* pxelinux.cfg, however the firmware spells the path */
	{ RD, "pxelinux.cfg/01-aa-bb", "192.0.2.7", REMAP_OK,
	    "pxe/cfg/01-aa-bb" },
	{ RD, "/pxelinux.cfg/default", "192.0.2.7", REMAP_OK,
	    "pxe/cfg/default" },
	{ RD, "\\pxelinux.cfg\\default", "192.0.2.7", REMAP_OK,
	    "pxe/cfg/default" },
	/* boot files */
	{ RD, "pxelinux.0\x01\x02", "192.0.2.7", REMAP_OK,
	    "boot/pxelinux.0" },
	{ RD, "EFI\\BOOT\\BOOTX64.EFI", "2001:db8::1", REMAP_OK,
	    "boot/EFI/BOOT/BOOTX64.EFI" },
	/* per client */
	{ RD, "kernel", "192.0.2.7", REMAP_OK, "clients/192.0.2.7/kernel" },
	{ RD, "/initrd.img", "2001:db8::1", REMAP_OK,
	    "clients/2001:db8::1/initrd.img" },
	{ WR, "uploads/log.txt", "192.0.2.7", REMAP_OK,
	    "clients/192.0.2.7/log.txt" },
	/* Writes are not rewritten per client unless under uploads/. */
	{ WR, "kernel", "192.0.2.7", REMAP_OK, "kernel" },
	/* deny */
	{ RD, "../etc/shadow", "192.0.2.7", REMAP_DENIED, NULL },
	{ RD, "pxelinux.cfg/..\\..\\x", "192.0.2.7", REMAP_DENIED, NULL },
	{ WR, "uploads/../x", "192.0.2.7", REMAP_DENIED, NULL },
};

START_TEST(test_pxe)
{
	struct remap	*rm;

	rm = pxe_rules();
	if (pxe_cases[_i].res == REMAP_OK)
		expect(rm, pxe_cases[_i].op, pxe_cases[_i].in,
		    pxe_cases[_i].client, pxe_cases[_i].want);
	else
		expect_result(rm, pxe_cases[_i].op, pxe_cases[_i].in,
		    pxe_cases[_i].client, pxe_cases[_i].res);
	remap_free(rm);
}
END_TEST

/* hostile input */

/*
 * Random bytes (every value but NUL) and random small buffers against a
 * rule set with empty matches, growth and back-references: the result is
 * always one of the three, an ok result fits, anything else is "".
 */
START_TEST(test_random_names)
{
	struct remap		*rm;
	struct rng		 r = { 0x2545f491 };
	char			 in[300], *out;
	enum remap_result	 res;
	size_t			 len, outlen, i;
	int			 iter;
	unsigned		 op;

	rm = remap_new();
	remap_set_builtins(rm, 1, 1, 1);
	add_ok(rm, "x*", "<\\0>", RW, REMAP_REWRITE, 0, 0, 1);
	add_ok(rm, "([^/]*)/([^/]*)", "\\2\\\\\\1\\i", RD, REMAP_REWRITE, 1,
	    0, 1);
	add_ok(rm, "^(.)(.*)(.)$", "\\3\\2\\1\\0", WR, REMAP_REWRITE, 0, 0, 0);
	add_ok(rm, "\\.\\.\\.", NULL, RW, REMAP_DENY, 0, 0, 0);
	add_ok(rm, "(a|b)+", "", RW, REMAP_REWRITE, 1, 0, 1);
	for (iter = 0; iter < 3000; iter++) {
		len = rng_next(&r) % (sizeof in - 1);
		for (i = 0; i < len; i++) {
			in[i] = (char)(rng_next(&r) & 0xff);
			if (in[i] == '\0')
				in[i] = 'x';
		}
		in[len] = '\0';
		outlen = 1 + rng_next(&r) % 700;
		op = 1 + rng_next(&r) % 2;
		out = malloc(outlen);
		ck_assert_ptr_nonnull(out);
		res = remap_apply(rm, op, in, (iter & 1) ? "2001:db8::1" :
		    NULL, out, outlen);
		ck_assert(res == REMAP_OK || res == REMAP_DENIED ||
		    res == REMAP_TOOLONG);
		ck_assert_uint_lt(strnlen(out, outlen), outlen);
		if (res != REMAP_OK)
			ck_assert_int_eq(out[0], '\0');
		free(out);
	}
	remap_free(rm);
}
END_TEST

/*
 * tftp-hpa remap files (remap_load_hpa).  The expected results are what
 * in.tftpd 5.2 (Debian 12's tftpd-hpa) gives for the same rules; the
 * integration test integ/hpacompat.sh checks a table against in.tftpd
 * itself.
 */
static struct remap *
hpa(const char *text)
{
	struct remap	*rm;
	char		*cause = NULL;

	rm = remap_new();
	remap_set_builtins(rm, 0, 0, 0);
	if (remap_load_hpa(rm, text, strlen(text), "map", &cause) != 0)
		ck_abort_msg("remap_load_hpa: %s", cause != NULL ? cause :
		    "(no cause)");
	ck_assert_ptr_null(cause);
	return rm;
}

static void
hpa_bad(const char *text, const char *want)
{
	struct remap	*rm;
	char		*cause = NULL;

	rm = remap_new();
	ck_assert_int_eq(remap_load_hpa(rm, text, strlen(text), "map",
	    &cause), -1);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, want) != NULL, "cause \"%s\" lacks \"%s\"",
	    cause, want);
	free(cause);
	remap_free(rm);
}

/* remap_file's rules first, then remap's, moved compiled (conf.c). */
START_TEST(test_append)
{
	struct remap	*rm, *more;

	rm = hpa("r ^a$ b\n");
	more = hpa("r ^b$ \\x/\\i\n");
	remap_append(rm, more);
	ck_assert_uint_eq(remap_count(rm), 2);
	/* the second rule's \x still knows it needs the address in hex */
	expect(rm, RD, "a", "192.0.2.1", "C0000201/192.0.2.1");
	remap_append(rm, remap_new());
	ck_assert_uint_eq(remap_count(rm), 2);
	remap_free(rm);
}
END_TEST

START_TEST(test_hpa_fields)
{
	struct remap	*rm;

	rm = hpa("# a comment\n"
	    "\n"
	    "   r\t^a\\ b$   spaced\\ out   ignored field\n"
	    "r ^hash$ x\\#y# a comment after the rule\n"
	    "r ^esc$ a\\qb\\\\c\n"
	    "r ^strip/\n"
	    "r ^(0)(1)(2)$ \\3\\2\\1\\7\n");
	ck_assert_uint_eq(remap_count(rm), 5);
	expect(rm, RD, "a b", NULL, "spaced out");
	expect(rm, RD, "hash", NULL, "x#y");
	expect(rm, RD, "esc", NULL, "aqb\\c");
	expect(rm, RD, "strip/x", NULL, "x");
	expect(rm, RD, "012", NULL, "210");
	remap_free(rm);
}
END_TEST

START_TEST(test_hpa_ops)
{
	struct remap	*rm;

	rm = hpa("r ^x1$ first\n"
	    "rs ^start$ x1\n"
	    "rg aa a\n"
	    "rGP ^gp$ gpfile\n"
	    "rG ^get$ got\n"
	    "re ^stop$ stop\n"
	    "r ^stop$ after\n"
	    "ri ^ci$ CI\n"
	    "e ^keep\n"
	    "r ^keep(.*) \\1\n");
	/* s starts over from the second rule, as in.tftpd does */
	expect(rm, RD, "start", NULL, "x1");
	/* g: again on the result, not sed's every-match */
	expect(rm, RD, "aaaa", NULL, "a");
	expect(rm, RD, "gp", NULL, "gp");
	expect(rm, WR, "gp", NULL, "gpfile");
	expect(rm, RD, "get", NULL, "got");
	expect(rm, WR, "get", NULL, "get");
	expect(rm, RD, "stop", NULL, "stop");
	expect(rm, RD, "cI", NULL, "CI");
	expect(rm, RD, "keepme", NULL, "keepme");
	remap_free(rm);
}
END_TEST

START_TEST(test_hpa_deny_invert)
{
	struct remap	*rm;

	rm = hpa("a \\.\\. Go\\ away\n"
	    "ra ^both$ x\n"
	    "e ^pub/\n"
	    "a~ ^boot/\n");
	expect_result(rm, RD, "a/../b", NULL, REMAP_DENIED);
	expect_result(rm, RD, "both", NULL, REMAP_DENIED);
	expect(rm, RD, "pub/x", NULL, "pub/x");
	expect(rm, RD, "boot/x", NULL, "boot/x");
	expect_result(rm, RD, "other", NULL, REMAP_DENIED);
	remap_free(rm);
}
END_TEST

START_TEST(test_hpa_client)
{
	struct remap	*rm;

	rm = hpa("r ^ip$ \\i\n"
	    "r ^hex$ \\x\n"
	    "r4 ^fam$ v4\n"
	    "r6 ^fam$ v6\n"
	    "r ^up(.*)$ \\U\\1-\\i\\E-\\1\\L-ABC\n");
	expect(rm, RD, "ip", "192.0.2.169", "192.0.2.169");
	expect(rm, RD, "hex", "192.0.2.169", "C00002A9");
	expect(rm, RD, "hex", "2001:db8::1",
	    "20010DB8000000000000000000000001");
	expect(rm, RD, "hex", NULL, "");
	expect(rm, RD, "fam", "192.0.2.1", "v4");
	expect(rm, RD, "fam", "2001:db8::1", "v6");
	expect(rm, RD, "fam", NULL, "fam");
	expect(rm, RD, "upab", "2001:db8::a", "AB-2001:DB8::A-ab-abc");
	remap_free(rm);
}
END_TEST

START_TEST(test_hpa_loops)
{
	struct remap	*rm;

	/*
	 * in.tftpd refuses after 1024 steps; a g rule is bounded too.  A
	 * restart skips the first rule, so there only "once" is not a loop.
	 */
	rm = hpa("rs ^once$ once\n"
	    "rs ^loop$ loop\n"
	    "rg ^forever$ forever\n");
	expect(rm, RD, "once", NULL, "once");
	expect_result(rm, RD, "loop", NULL, REMAP_DENIED);
	expect_result(rm, RD, "forever", NULL, REMAP_DENIED);
	expect(rm, RD, "other", NULL, "other");
	remap_free(rm);
}
END_TEST

/* tftp-hpa remap files remap_load_hpa refuses, and the cause. */
static const struct {
	const char	*text;
	const char	*want;
} hpa_bad_cases[] = {
	{ "r ^a$ b\nx ^b$\n", "map:2: unknown operation 'x'" },
	{ "r\n", "map:1: the regex is missing" },
	{ "r~ ^a$ b\n", "r and ~" },
	{ "r ^a($ b\n", "map:1:" },
	{ "r a++ b\n", "stacked" },
	{ "r ^a$ b\nr\001 x\n", "byte 0x01" },
};

START_TEST(test_hpa_bad)
{
	hpa_bad(hpa_bad_cases[_i].text, hpa_bad_cases[_i].want);
}
END_TEST

static Suite *
remap_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("remap");

	tc = tcase_create("builtins clean up names before the rules");
	tcase_add_test(tc, test_strip_nonprint);
	tcase_add_test(tc, test_costly_regex_refused);
	tcase_add_test(tc, test_backslash);
	tcase_add_test(tc, test_lowercase);
	tcase_add_test(tc, test_builtin_defaults);
	tcase_add_test(tc, test_builtins_together);
	suite_add_tcase(s, tc);

	tc = tcase_create("rewrite substitutes back-references and client");
	tcase_add_loop_test(tc, test_rewrite_table, 0, NITEMS(rewrite_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("rules apply per operation, in order");
	tcase_add_test(tc, test_per_op);
	tcase_add_test(tc, test_ordering);
	tcase_add_test(tc, test_last);
	tcase_add_test(tc, test_icase);
	suite_add_tcase(s, tc);

	tc = tcase_create("deny refuses matching names");
	tcase_add_test(tc, test_deny);
	tcase_add_test(tc, test_deny_after_rewrite);
	suite_add_tcase(s, tc);

	tc = tcase_create("global replaces every match and terminates");
	tcase_add_loop_test(tc, test_global_table, 0, NITEMS(global_cases));
	tcase_add_test(tc, test_global_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply refuses what does not fit");
	tcase_add_test(tc, test_toolong_input);
	tcase_add_test(tc, test_toolong_outlen_zero);
	tcase_add_test(tc, test_toolong_rewrite);
	tcase_add_test(tc, test_toolong_intermediate);
	tcase_add_test(tc, test_toolong_name_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("add rejects bad rules with a cause");
	tcase_add_loop_test(tc, test_bad_rule, 0, NITEMS(bad_rules));
	tcase_add_test(tc, test_good_after_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("pxe example set");
	tcase_add_loop_test(tc, test_pxe, 0, NITEMS(pxe_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("tftp-hpa remap files as in.tftpd reads them");
	tcase_add_test(tc, test_hpa_fields);
	tcase_add_test(tc, test_hpa_ops);
	tcase_add_test(tc, test_hpa_deny_invert);
	tcase_add_test(tc, test_hpa_client);
	tcase_add_test(tc, test_hpa_loops);
	tcase_add_test(tc, test_append);
	tcase_add_loop_test(tc, test_hpa_bad, 0, NITEMS(hpa_bad_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile names stay in bounds");
	tcase_add_test(tc, test_random_names);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return check_run(remap_suite());
}
