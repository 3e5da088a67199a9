/*
 * libFuzzer harness for file name rewriting (src/remap*.c).
 *
 * Input: a flags byte, then NUL-separated strings
 *	name NUL client NUL [regex NUL replacement NUL rule-flags NUL]...
 * Flags byte: bit 0 write (else read), bit 1 no client (NULL), bits 2-4
 * the built-in switches (strip_nonprint, backslash, lowercase).
 *
 * The name (hostile: it comes off the wire) and the client address go
 * through
 *  1. no rules: the result must be exactly the built-ins' transformation;
 *  2. a fixed set of realistic rules (prefix strip, deny .., case-folded
 *     EFI paths, global //, empty-match x*, client prefix);
 *  3. up to RULES_MAX rules compiled from the fuzzed regex/replacement
 *     strings with remap_add(), whose failures must carry a cause;
 *  4. the same strings as a tftp-hpa remap file (remap_load_hpa), the
 *     rule-flags string as its operations.
 * Each remap_apply() runs with exact-size output buffers from 0 bytes up
 * to REMAP_NAME_MAX + 1, checking that out is always NUL-terminated and
 * empty on failure, and that a bigger buffer never changes an answer
 * that fitted a smaller one.  A broken invariant calls abort().
 *
 * Fuzzed regexes are held to what an administrator would write: short,
 * without back-references inside the regex, with at most one small
 * bound and no stacked repetition operators, because glibc's matcher is
 * exponential on back-references and regcomp() copies the tree for each
 * bound or stacked operator (regress/fuzz_remap/glibc-regcomp-*.bin: 30
 * '+' in a row take more than 2 GB).  Such a rule is a configuration
 * that exhausts memory when it is loaded, not a bug in remap_apply(),
 * and would make CI flaky.
 */

#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remap.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define STR_MAX		(2 + 3 * RULES_MAX)
#define RULES_MAX	4
#define REGEX_MAX	48

static void	 check(int, const char *, int);
static char	*xdup(const char *, size_t);
static int	 utf8_tail(const unsigned char *, size_t);
static size_t	 builtin_model(const char *, int, int, int, char *);
static int	 regex_ok(const char *);
static void	 apply_all(const struct remap *, unsigned, const char *,
		    const char *);
static struct remap *fixed_rules(void);
static char	*hpa_file(char *const *, size_t);

#define CHECK(e)	check((e), #e, __LINE__)

static void
check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_remap: line %d: invariant broken: %s\n", line,
	    what);
	abort();
}

static char *
xdup(const char *s, size_t len)
{
	char	*p;

	if ((p = malloc(len + 1)) == NULL)
		abort();
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * Whether s (len bytes) ends in one complete, valid UTF-8 character of
 * two to four bytes: the right lead byte for the number of continuation
 * bytes, no overlong form, no surrogate, nothing above U+10FFFF.
 */
static int
utf8_tail(const unsigned char *s, size_t len)
{
	size_t		 k, i, need;
	uint32_t	 cp, min;

	for (k = 1; k <= len && k <= 4; k++)
		if ((s[len - k] & 0xc0) != 0x80)
			break;
	if (k > len || k > 4)
		return 0;
	if (s[len - k] >= 0xc2 && s[len - k] <= 0xdf) {
		need = 2;
		cp = s[len - k] & 0x1f;
		min = 0x80;
	} else if (s[len - k] >= 0xe0 && s[len - k] <= 0xef) {
		need = 3;
		cp = s[len - k] & 0x0f;
		min = 0x800;
	} else if (s[len - k] >= 0xf0 && s[len - k] <= 0xf4) {
		need = 4;
		cp = s[len - k] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (k != need)
		return 0;
	for (i = len - k + 1; i < len; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp >= min && (cp < 0xd800 || cp > 0xdfff) && cp <= 0x10ffff;
}

/*
 * The built-ins as include/remap.h documents them; out holds strlen + 1.
 * strip_nonprint drops trailing bytes below 0x20, 0x7f, and bytes of
 * 0x80 and above that do not end a valid UTF-8 character.
 */
static size_t
builtin_model(const char *in, int strip, int backslash, int lower, char *out)
{
	const unsigned char	*u = (const unsigned char *)in;
	size_t			 len = strlen(in), i;
	unsigned char		 c;

	while (strip && len > 0) {
		c = u[len - 1];
		if (c >= 0x20 && c != 0x7f && (c < 0x80 || utf8_tail(u, len)))
			break;
		len--;
	}
	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (backslash && c == '\\')
			c = '/';
		if (lower && c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		out[i] = (char)c;
	}
	out[len] = '\0';
	return len;
}

/*
 * Short, no back-reference, at most one bound of at most two digits, no
 * repetition operator applied to another one ("a++++": glibc's regcomp()
 * copies the tree once per operator, 2^n nodes).
 */
static int
regex_ok(const char *re)
{
	const char	*p;
	int		 braces = 0, digits = 0;

	if (strlen(re) > REGEX_MAX)
		return 0;
	for (p = re; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '9')
			return 0;
		if (strchr("*+?}", p[0]) != NULL && p[1] != '\0' &&
		    strchr("*+?{", p[1]) != NULL)
			return 0;
		if (*p == '{' && ++braces > 1)
			return 0;
		digits = (*p >= '0' && *p <= '9') ? digits + 1 : 0;
		if (digits > 2)
			return 0;
	}
	return 1;
}

/*
 * remap_apply() with exact-size buffers of every interesting size.  The
 * answer with the largest buffer is the reference: a smaller buffer may
 * only turn it into REMAP_TOOLONG.
 */
static void
apply_all(const struct remap *rm, unsigned op, const char *in,
    const char *client)
{
	static const size_t	 sizes[] = { 0, 1, 2, 3, 8, 16, 64, 255, 256,
				    1024 };
	char			*out, *ref;
	enum remap_result	 r, rref;
	size_t			 i, cap, reflen = 0;

	/* The reference: room for anything remap.c can produce. */
	cap = REMAP_NAME_MAX + 1;
	if ((ref = malloc(cap)) == NULL)
		abort();
	memset(ref, 'x', cap);
	rref = remap_apply(rm, op, in, client, ref, cap);
	CHECK(rref == REMAP_OK || rref == REMAP_DENIED ||
	    rref == REMAP_TOOLONG);
	CHECK(memchr(ref, '\0', cap) != NULL);
	if (rref == REMAP_OK) {
		reflen = strlen(ref);
		CHECK(reflen < REMAP_NAME_MAX);
	} else
		CHECK(ref[0] == '\0');

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]) + 3; i++) {
		if (i < sizeof(sizes) / sizeof(sizes[0]))
			cap = sizes[i];
		else if (rref == REMAP_OK)
			cap = reflen + (i - sizeof(sizes) / sizeof(sizes[0]));
		else
			break;
		if ((out = malloc(cap == 0 ? 1 : cap)) == NULL)
			abort();
		memset(out, 'x', cap == 0 ? 1 : cap);
		r = remap_apply(rm, op, in, client, out, cap);
		if (cap == 0) {
			CHECK(r == REMAP_TOOLONG);
			CHECK(out[0] == 'x');	/* nothing written */
			free(out);
			continue;
		}
		CHECK(memchr(out, '\0', cap) != NULL);
		if (r != REMAP_OK)
			CHECK(out[0] == '\0');
		switch (r) {
		case REMAP_OK:
			CHECK(rref == REMAP_OK);
			CHECK(strcmp(out, ref) == 0);
			break;
		case REMAP_DENIED:
			CHECK(rref == REMAP_DENIED);
			break;
		case REMAP_TOOLONG:
			/* The final name never fits in reflen bytes. */
			if (rref == REMAP_OK && cap > reflen)
				CHECK(cap < REMAP_NAME_MAX);
			break;
		default:
			CHECK(0);
		}
		if (rref == REMAP_OK && cap <= reflen)
			CHECK(r != REMAP_OK);
		free(out);
	}
	free(ref);
}

/* Rules an administrator might write (tftp-hpa remap-file style). */
static struct remap *
fixed_rules(void)
{
	static const struct {
		const char		*re;
		const char		*rep;
		unsigned		 ops;
		enum remap_action	 act;
		int			 icase, last, global;
	} rules[] = {
		{ "^/+tftpboot/", "", REMAP_OP_READ | REMAP_OP_WRITE,
		    REMAP_REWRITE, 0, 0, 0 },
		{ "(^|/)\\.\\.(/|$)", NULL, REMAP_OP_READ | REMAP_OP_WRITE,
		    REMAP_DENY, 0, 0, 0 },
		{ "//+", "/", REMAP_OP_READ | REMAP_OP_WRITE, REMAP_REWRITE,
		    0, 0, 1 },
		{ "^(efi|EFI)/boot/(.*)\\.efi$", "efi/\\i/\\2.efi",
		    REMAP_OP_READ, REMAP_REWRITE, 1, 0, 0 },
		{ "^pxelinux\\.cfg/(01-)?(([0-9a-f]{2}-?){6})$",
		    "pxelinux.cfg/\\2", REMAP_OP_READ, REMAP_REWRITE, 1, 1, 0 },
		{ "^", "uploads/\\i/", REMAP_OP_WRITE, REMAP_REWRITE, 0, 0, 0 },
		{ "x*", "-", REMAP_OP_WRITE, REMAP_REWRITE, 0, 0, 1 },
		{ "(a|b)+([c-e]?)", "[\\0|\\1|\\2|\\\\]", REMAP_OP_READ,
		    REMAP_REWRITE, 0, 0, 1 },
		{ "\\.(exe|bat)$", NULL, REMAP_OP_WRITE, REMAP_DENY, 1, 0, 0 },
	};
	struct remap	*rm;
	char		*cause;
	size_t		 i;

	rm = remap_new();
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		cause = NULL;
		if (remap_add(rm, rules[i].re, rules[i].rep, rules[i].ops,
		    rules[i].act, rules[i].icase, rules[i].last,
		    rules[i].global, &cause) == -1) {
			fprintf(stderr, "fuzz_remap: fixed rule %zu: %s\n", i,
			    cause != NULL ? cause : "?");
			abort();
		}
	}
	CHECK(remap_count(rm) == i);
	return rm;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct remap	*fixed;
	struct remap		*rm;
	char			*text, *s[STR_MAX], *model, *out, *cause, *hpa;
	const char		*client;
	size_t			 i, len, ns, n, nrules;
	unsigned		 op, fl, ops;
	int			 strip, backslash, lower, rc;
	uint8_t			 flags;

	if (size == 0)
		return 0;
	flags = data[0];
	op = (flags & 1) ? REMAP_OP_WRITE : REMAP_OP_READ;
	strip = (flags >> 2) & 1;
	backslash = (flags >> 3) & 1;
	lower = (flags >> 4) & 1;

	len = size - 1;
	text = xdup((const char *)data + 1, len);
	ns = 0;
	for (i = 0; i <= len && ns < STR_MAX; i += strlen(text + i) + 1)
		s[ns++] = text + i;
	client = ns > 1 ? s[1] : "192.0.2.7";
	if (flags & 2)
		client = NULL;

	/* 1. Built-ins only: exactly the documented transformation. */
	rm = remap_new();
	remap_set_builtins(rm, strip, backslash, lower);
	CHECK(remap_count(rm) == 0);
	model = xdup(s[0], strlen(s[0]));
	n = builtin_model(s[0], strip, backslash, lower, model);
	if ((out = malloc(REMAP_NAME_MAX)) == NULL)
		abort();
	if (n < REMAP_NAME_MAX) {
		CHECK(remap_apply(rm, op, s[0], client, out,
		    REMAP_NAME_MAX) == REMAP_OK);
		CHECK(strcmp(out, model) == 0);
	} else
		CHECK(remap_apply(rm, op, s[0], client, out,
		    REMAP_NAME_MAX) == REMAP_TOOLONG);
	free(out);
	free(model);
	apply_all(rm, op, s[0], client);
	remap_free(rm);

	/* 2. The fixed rules (default built-ins), kept for the whole run. */
	if (fixed == NULL)
		fixed = fixed_rules();
	apply_all(fixed, op, s[0], client);

	/* 3. Rules from the input. */
	rm = remap_new();
	remap_set_builtins(rm, strip, backslash, lower);
	nrules = 0;
	for (i = 2; i + 1 < ns; i += 3) {
		if (!regex_ok(s[i]))
			continue;
		fl = i + 2 < ns ? (unsigned char)s[i + 2][0] : 0;
		ops = fl & 3;		/* 0 must be refused */
		if (fl & 0x80)
			ops |= 4;	/* so must an unknown bit */
		cause = NULL;
		rc = remap_add(rm, s[i], (fl & 0x40) ? NULL : s[i + 1], ops,
		    (fl & 4) ? REMAP_DENY : REMAP_REWRITE, fl & 8, fl & 16,
		    fl & 32, &cause);
		if (rc == -1) {
			CHECK(cause != NULL && cause[0] != '\0');
			free(cause);
		} else {
			CHECK(rc == 0 && cause == NULL);
			CHECK(ops != 0 && (ops & 4) == 0);
			nrules++;
		}
		CHECK(remap_count(rm) == nrules);
	}
	apply_all(rm, op, s[0], client);
	apply_all(rm, op ^ (REMAP_OP_READ | REMAP_OP_WRITE), s[0], client);
	remap_free(rm);

	/* 4. The same strings as a tftp-hpa remap file. */
	hpa = hpa_file(s, ns);
	rm = remap_new();
	remap_set_builtins(rm, strip, backslash, lower);
	cause = NULL;
	rc = remap_load_hpa(rm, hpa, strlen(hpa), "fuzz", &cause);
	if (rc == -1) {
		CHECK(cause != NULL && strncmp(cause, "fuzz:", 5) == 0);
		free(cause);
	} else {
		CHECK(rc == 0 && cause == NULL);
		apply_all(rm, op, s[0], client);
		apply_all(rm, op, s[0], "2001:db8::7");
		apply_all(rm, op ^ (REMAP_OP_READ | REMAP_OP_WRITE), s[0],
		    NULL);
	}
	remap_free(rm);
	free(hpa);

	free(text);
	return 0;
}

/*
 * A tftp-hpa file from the (regex, replacement, operations) triples:
 * one line each, "OPS REGEX REPLACEMENT".  The operations keep only
 * bytes that cannot end a field, so each line's regex is the input's
 * (white space and '#' escaped) and passes regex_ok(); the operations
 * may still hold letters that are no operation, and the replacement
 * anything but a NUL.
 */
static char *
hpa_file(char *const *s, size_t ns)
{
	char		*out, *o, *line;
	const char	*p;
	size_t		 i, cap = 1;

	for (i = 2; i < ns; i++)
		cap += 2 * strlen(s[i]) + 4;
	if ((o = out = malloc(cap)) == NULL)
		abort();
	for (i = 2; i + 1 < ns; i += 3) {
		if (!regex_ok(s[i]) || s[i][0] == '\0')
			continue;
		line = o;
		for (p = i + 2 < ns ? s[i + 2] : ""; *p != '\0'; p++)
			if (!isspace((unsigned char)*p) && *p != '#' &&
			    *p != '\\')
				*o++ = *p;
		if (o == line)
			*o++ = 'r';	/* never let the regex be the first */
		*o++ = ' ';
		for (p = s[i]; *p != '\0'; p++) {
			if (*p == '\\' && p[1] != '\0')
				*o++ = *p++;
			else if (*p == '\\')
				*o++ = '\\';	/* a lone one: escape it */
			else if (isspace((unsigned char)*p) || *p == '#')
				*o++ = '\\';
			*o++ = *p;
		}
		*o++ = ' ';
		for (p = s[i + 1]; *p != '\0'; p++)
			*o++ = *p == '\n' ? ' ' : *p;
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}
