/*
 * Client file name rewriting (behaviour reference: tftp-hpa's remap file).
 *
 * Here: compiling the rules.  remap_add() compiles each rule once: the
 * regex with regcomp(), after refusing patterns that would make it
 * blow up, and the replacement into a list of pieces (literal text,
 * back-reference, client address), so bad escapes are found at
 * configuration time and remap_apply() (remap-match.c) only copies.
 * remap-hpa.c reads tftp-hpa's remap file format into the same rules;
 * the rules themselves are in remap-int.h.
 */

#include "config.h"

#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "remap-int.h"
#include "xmalloc.h"

/* What a replacement escape means: indexed by the byte after '\'. */
enum esc_kind {
	ESC_BAD = 0,
	ESC_REF,
	ESC_CLIENT,
	ESC_BACKSLASH,
	ESC_HEX,
	ESC_CASE,
	ESC_LITERAL,
};

static const unsigned char esc_kinds[UCHAR_MAX + 1] = {
	['0'] = ESC_REF, ['1'] = ESC_REF, ['2'] = ESC_REF, ['3'] = ESC_REF,
	['4'] = ESC_REF, ['5'] = ESC_REF, ['6'] = ESC_REF, ['7'] = ESC_REF,
	['8'] = ESC_REF, ['9'] = ESC_REF,
	['i'] = ESC_CLIENT,
	['\\'] = ESC_BACKSLASH,
};

/*
 * The same in a tftp-hpa file, where an unknown escape is the byte
 * itself ("\ " a space, "\#" a hash mark): ESC_BAD becomes ESC_LITERAL.
 */
static const unsigned char esc_kinds_hpa[UCHAR_MAX + 1] = {
	['0'] = ESC_REF, ['1'] = ESC_REF, ['2'] = ESC_REF, ['3'] = ESC_REF,
	['4'] = ESC_REF, ['5'] = ESC_REF, ['6'] = ESC_REF, ['7'] = ESC_REF,
	['8'] = ESC_REF, ['9'] = ESC_REF,
	['i'] = ESC_CLIENT,
	['x'] = ESC_HEX,
	['U'] = ESC_CASE, ['L'] = ESC_CASE, ['E'] = ESC_CASE,
};

static void		 rule_free(struct rule *);
static char		*regex_cause(int, const regex_t *);
static int		 parse_replace(struct rule *, const char *, int,
			    char **);
static void		 add_lit(struct rule *, size_t, size_t);
static int		 bound_too_big(const char *, size_t *, char **);
static int		 regex_too_costly(const char *, char **);

struct remap *
remap_new(void)
{
	struct remap	*rm;

	rm = xcalloc(1, sizeof *rm);
	remap_set_builtins(rm, 1, 1, 0);
	return rm;
}

static void
rule_free(struct rule *r)
{
	if (r == NULL)
		return;
	regfree(&r->re);
	free(r->lit);
	free(r->pieces);
	free(r);
}

void
remap_free(struct remap *rm)
{
	size_t	 i;

	if (rm == NULL)
		return;
	for (i = 0; i < rm->nrules; i++)
		rule_free(rm->rules[i]);
	free(rm->rules);
	free(rm);
}

void
remap_append(struct remap *dst, struct remap *src)
{
	size_t	 i;

	if (src->nrules > 0) {
		dst->rules = xreallocarray(dst->rules,
		    dst->nrules + src->nrules, sizeof *dst->rules);
		for (i = 0; i < src->nrules; i++)
			dst->rules[dst->nrules++] = src->rules[i];
		dst->restarts |= src->restarts;
		dst->hex |= src->hex;
	}
	free(src->rules);
	free(src);
}

/*
 * backslash and lowercase are both byte-for-byte maps and neither
 * produces a byte the other changes, so one table applies both in order.
 */
void
remap_set_builtins(struct remap *rm, int strip_nonprint, int backslash,
    int lowercase)
{
	unsigned	 c;

	rm->strip_nonprint = strip_nonprint != 0;
	for (c = 0; c <= UCHAR_MAX; c++)
		rm->map[c] = (unsigned char)c;
	if (backslash)
		rm->map['\\'] = '/';
	if (lowercase)
		for (c = 'A'; c <= 'Z'; c++)
			rm->map[c] = (unsigned char)(c - 'A' + 'a');
}

static char *
regex_cause(int error, const regex_t *re)
{
	char	*cause;
	size_t	 size;

	size = regerror(error, re, NULL, 0);
	if (size == 0)
		return xstrdup("regex error");
	cause = xmalloc(size);
	(void)regerror(error, re, cause, size);
	return cause;
}

/* Close the literal run lit[start .. end) into a piece, if not empty. */
static void
add_lit(struct rule *r, size_t start, size_t end)
{
	struct piece	*p;

	if (end == start)
		return;
	p = &r->pieces[r->npieces++];
	p->type = PIECE_LIT;
	p->off = start;
	p->len = end - start;
}

/*
 * Compile replace into r->pieces.  Literal bytes (with \\ unescaped) are
 * gathered in r->lit; each escape ends the current literal run.  A
 * replacement of n bytes yields at most n pieces.  With hpa, the escapes
 * are tftp-hpa's: \x, \U, \L, \E too, any other escaped byte stands for
 * itself, a lone trailing backslash is a backslash, and a back-reference
 * to a group the regex lacks expands to nothing (as in in.tftpd).
 */
static int
parse_replace(struct rule *r, const char *replace, int hpa, char **cause)
{
	const unsigned char	*s = (const unsigned char *)replace;
	const unsigned char	*kinds = hpa ? esc_kinds_hpa : esc_kinds;
	struct piece		*p;
	size_t			 size, n = 0, i, start = 0;

	size = strlen(replace) + 1;
	r->lit = xmalloc(size);
	r->pieces = xcalloc(size, sizeof *r->pieces);
	r->npieces = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] != '\\' || (hpa && s[i + 1] == '\0')) {
			r->lit[n++] = (char)s[i];
			continue;
		}
		i++;
		switch (hpa && kinds[s[i]] == ESC_BAD ? ESC_LITERAL :
		    kinds[s[i]]) {
		case ESC_BACKSLASH:
		case ESC_LITERAL:
			r->lit[n++] = (char)s[i];
			continue;
		case ESC_REF:
			if (!hpa && (size_t)(s[i] - '0') > r->re.re_nsub) {
				xasprintf(cause, "replacement \\%c: the regex "
				    "has %zu group(s)", s[i], r->re.re_nsub);
				return -1;
			}
			add_lit(r, start, n);
			p = &r->pieces[r->npieces++];
			p->type = PIECE_REF;
			p->ref = s[i] - '0';
			break;
		case ESC_CLIENT:
		case ESC_HEX:
			add_lit(r, start, n);
			p = &r->pieces[r->npieces++];
			p->type = s[i] == 'i' ? PIECE_CLIENT : PIECE_HEX;
			break;
		case ESC_CASE:
			add_lit(r, start, n);
			p = &r->pieces[r->npieces++];
			p->type = PIECE_CASE;
			p->ref = s[i] == 'U' ? CASE_UPPER : s[i] == 'L' ?
			    CASE_LOWER : CASE_KEEP;
			break;
		default:
			if (s[i] == '\0')
				*cause = xstrdup("replacement ends in a lone "
				    "backslash");
			else if (s[i] < 0x20 || s[i] >= 0x7f)
				xasprintf(cause, "replacement has unknown "
				    "escape: \\ then byte 0x%02x", s[i]);
			else
				xasprintf(cause, "replacement has unknown "
				    "escape \\%c", s[i]);
			return -1;
		}
		start = n;
	}
	add_lit(r, start, n);
	r->lit[n] = '\0';
	return 0;
}

/*
 * glibc's regcomp() copies the parse tree of a repeated expression for
 * every repetition operator applied to it, so "a++++++++" or nested
 * "((a+)+)+" grow it exponentially: 22 stacked operators take 3 GB.
 * A configuration line must not be able to take the master down, so
 * refuse stacked operators, repeated groups nested more than
 * REMAP_REPEAT_DEPTH deep, bounds above REMAP_BOUND_MAX and patterns
 * longer than REMAP_PATTERN_MAX.  Real file-name patterns need none.
 */
#define REMAP_PATTERN_MAX	1024
#define REMAP_BOUND_MAX		255
#define REMAP_REPEAT_DEPTH	3
#define REMAP_GROUPS_MAX	32

/*
 * The bound "{n}", "{n,}" or "{n,m}" at re[*ip]: 1 and *cause if a number
 * in it is above REMAP_BOUND_MAX, else 0 with *ip on its '}'.
 */
static int
bound_too_big(const char *re, size_t *ip, char **cause)
{
	unsigned long	 n = 0;
	size_t		 i = *ip, j = i + 1;

	for (; re[j] != '\0' && re[j] != '}'; j++)
		if (re[j] >= '0' && re[j] <= '9' &&
		    (n = n * 10 + (unsigned long)(re[j] - '0')) >
		    REMAP_BOUND_MAX) {
			xasprintf(cause, "repetition bound above %d at offset "
			    "%zu", REMAP_BOUND_MAX, i);
			return 1;
		} else if (re[j] == ',')
			n = 0;
	*ip = re[j] == '\0' ? j - 1 : j;
	return 0;
}

static int
regex_too_costly(const char *re, char **cause)
{
	int	 depth[REMAP_GROUPS_MAX + 1];	/* repeats inside each group */
	int	 level = 0, last_rep = 0, last_close = 0, inner = 0;
	size_t	 i;

	if (strlen(re) > REMAP_PATTERN_MAX) {
		xasprintf(cause, "regex longer than %d bytes", REMAP_PATTERN_MAX);
		return 1;
	}
	depth[0] = 0;
	for (i = 0; re[i] != '\0'; i++) {
		char	 c = re[i];
		int	 rep = c == '*' || c == '+' || c == '?' || c == '{';

		if (c == '\\' && re[i + 1] != '\0') {
			i++;
			last_rep = last_close = 0;
			continue;
		}
		if (c == '[') {
			/* A bracket expression: skip to its end. */
			i++;
			if (re[i] == '^')
				i++;
			if (re[i] == ']')
				i++;
			while (re[i] != '\0' && re[i] != ']')
				i++;
			if (re[i] == '\0')
				break;	/* regcomp() reports it */
			last_rep = last_close = 0;
			continue;
		}
		if (rep && last_rep) {
			xasprintf(cause, "stacked repetition operators at "
			    "offset %zu", i);
			return 1;
		}
		if (c == '{' && bound_too_big(re, &i, cause))
			return 1;
		if (rep) {
			/* A repeated group multiplies what is inside it. */
			int	 weight = last_close ? inner + 1 : 1;

			if (weight > REMAP_REPEAT_DEPTH) {
				xasprintf(cause, "repeated groups nested more "
				    "than %d deep", REMAP_REPEAT_DEPTH);
				return 1;
			}
			if (weight > depth[level])
				depth[level] = weight;
		} else if (c == '(') {
			if (level == REMAP_GROUPS_MAX) {
				xasprintf(cause, "groups nested more than %d "
				    "deep", REMAP_GROUPS_MAX);
				return 1;
			}
			depth[++level] = 0;
		} else if (c == ')' && level > 0) {
			inner = depth[level--];
			if (inner > depth[level])
				depth[level] = inner;
		}
		last_rep = rep;
		last_close = c == ')';
	}
	return 0;
}

int
remap_add(struct remap *rm, const char *match, const char *replace,
    unsigned ops, enum remap_action action, int icase, int last, int global,
    char **cause)
{
	struct rule	*r;

	*cause = NULL;
	if (action != REMAP_REWRITE && action != REMAP_DENY) {
		xasprintf(cause, "bad action %d", (int)action);
		return -1;
	}
	r = xcalloc(1, sizeof *r);
	r->ops = ops;
	r->action = action;
	r->last = last != 0;
	r->global = global != 0;
	return remap_add_rule(rm, r, match, replace, icase, 0, cause);
}

/* See remap-int.h. */
int
remap_add_rule(struct remap *rm, struct rule *r, const char *match,
    const char *replace, int icase, int hpa, char **cause)
{
	size_t	 i;
	int	 flags, error;

	*cause = NULL;
	if (match == NULL) {
		*cause = xstrdup("missing regex");
		goto fail;
	}
	if (r->ops == 0 || (r->ops & ~(unsigned)REMAP_OPS_ALL) != 0) {
		xasprintf(cause, "bad operation mask %#x", r->ops);
		goto fail;
	}
	if (r->action == REMAP_REWRITE && replace == NULL) {
		*cause = xstrdup("rewrite rule without a replacement");
		goto fail;
	}
	if (regex_too_costly(match, cause))
		goto fail;
	flags = REG_EXTENDED;
	if (icase)
		flags |= REG_ICASE;
	if (r->action != REMAP_REWRITE)
		flags |= REG_NOSUB;
	if ((error = regcomp(&r->re, match, flags)) != 0) {
		*cause = regex_cause(error, &r->re);
		free(r);
		return -1;
	}
	if (r->action == REMAP_REWRITE && parse_replace(r, replace, hpa,
	    cause) == -1) {
		rule_free(r);
		return -1;
	}
	for (i = 0; i < r->npieces; i++)
		if (r->pieces[i].type == PIECE_HEX)
			rm->hex = 1;

	rm->rules = xreallocarray(rm->rules, rm->nrules + 1,
	    sizeof *rm->rules);
	rm->rules[rm->nrules++] = r;
	if (r->restart)
		rm->restarts = 1;
	return 0;

fail:
	free(r);
	return -1;
}

size_t
remap_count(const struct remap *rm)
{
	return rm->nrules;
}
