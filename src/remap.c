/*
 * Client file name rewriting (behaviour reference: tftp-hpa's remap file).
 *
 * remap_add() compiles each rule once: the regex with regcomp() and the
 * replacement into a list of pieces (literal text, back-reference, client
 * address), so bad escapes are found at configuration time and
 * remap_apply() only copies.  remap_apply() is pure: no syscalls, no
 * allocation of its own, no logging.  It ping-pongs between the caller's
 * buffer and one fixed stack buffer, checking every append against the
 * smaller of the two, so a hostile name can make it fail but never
 * overrun or run long: each regexec() call consumes at least one byte or
 * makes one of at most REMAP_SUBST_MAX substitutions.
 *
 * remap_load_hpa() reads tftp-hpa's remap file format into the same
 * rules, with what that format adds: rules that only match (for e and
 * s), inverted rules (~), rules for one address family (4, 6), "g" as
 * in.tftpd means it (apply again to the result until it no longer
 * matches), restarts (s), and the replacement escapes \x, \U, \L and \E.
 * in.tftpd's behaviour is the reference, quirks included; see
 * remap_load_hpa() in remap.h.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <limits.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remap.h"
#include "utf8.h"
#include "xmalloc.h"

#define REMAP_NMATCH	10	/* \0 .. \9 */
#define REMAP_OPS_ALL	(REMAP_OP_READ | REMAP_OP_WRITE)

enum piece_type {
	PIECE_LIT,		/* lit[off .. off + len) */
	PIECE_REF,		/* back-reference number ref */
	PIECE_CLIENT,		/* the client address text */
	PIECE_HEX,		/* the client address in hex (tftp-hpa \x) */
	PIECE_CASE,		/* from here on: ref is enum remap_case */
};

/* tftp-hpa's \U, \L and \E: the case of what the replacement writes. */
enum remap_case {
	CASE_KEEP,
	CASE_UPPER,
	CASE_LOWER,
};

struct piece {
	enum piece_type	 type;
	size_t		 off;
	size_t		 len;
	unsigned	 ref;
};

struct rule {
	regex_t			 re;
	unsigned		 ops;
	enum remap_action	 action;
	int			 last;
	int			 global;
	int			 repeat;	/* tftp-hpa g: again on the result
						   until it does not match */
	int			 restart;	/* tftp-hpa s */
	int			 invert;	/* tftp-hpa ~: acts when the regex
						   does not match */
	int			 family;	/* 0, or 4 / 6: one family only */
	char			*lit;		/* unescaped literal text */
	struct piece		*pieces;
	size_t			 npieces;
};

struct remap {
	struct rule	**rules;
	size_t		 nrules;
	int		 restarts;	/* some rule has s: count steps */
	int		 hex;		/* some rule writes \x */
	int		 strip_nonprint;
	unsigned char	 map[UCHAR_MAX + 1];	/* backslash + lowercase */
};

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

/* Outcome of one rule on one name. */
enum step {
	STEP_NOMATCH,
	STEP_MATCH,
	STEP_TOOLONG,
	STEP_FAIL,
};

/* Who asked: what \i, \x and the 4 / 6 rules see. */
struct who {
	const char	*text;		/* address as text, "" if unknown */
	size_t		 len;
	char		 hex[33];	/* 8 or 32 upper-case hex digits */
	size_t		 hexlen;
	int		 family;	/* 4, 6, or 0 if unknown */
};

/* The name being worked on: text, length and its buffer's capacity. */
struct name {
	char	*buf;
	size_t	 len;
	size_t	 cap;		/* bytes, NUL included */
};

static void		 rule_free(struct rule *);
static char		*regex_cause(int, const regex_t *);
static int		 parse_replace(struct rule *, const char *, int,
			    char **);
static void		 add_lit(struct rule *, size_t, size_t);
static int		 add_rule(struct remap *, struct rule *, const char *,
			    const char *, int, int, char **);
static int		 is_nonprint(unsigned char);
static int		 ends_in_utf8(const unsigned char *, size_t);
static int		 append(struct name *, const char *, size_t,
			    enum remap_case);
static void		 who_init(struct who *, const char *, int);
static int		 expand(const struct rule *, const char *,
			    const regmatch_t *, size_t, const struct who *,
			    struct name *);
static enum step	 rewrite(const struct rule *, const struct name *,
			    const struct who *, struct name *);
static enum step	 apply_rule(const struct rule *, const struct name *,
			    const struct who *, struct name *);
static size_t		 hpa_field(const char **, const char *, char *);
static int		 hpa_line(struct remap *, const char *, const char *,
			    char *, char **);

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
		if (c == '{') {
			unsigned long	 n = 0;
			size_t		 j = i + 1;

			for (; re[j] != '\0' && re[j] != '}'; j++)
				if (re[j] >= '0' && re[j] <= '9' &&
				    (n = n * 10 + (unsigned long)(re[j] - '0')) >
				    REMAP_BOUND_MAX) {
					xasprintf(cause, "repetition bound above "
					    "%d at offset %zu", REMAP_BOUND_MAX,
					    i);
					return 1;
				} else if (re[j] == ',')
					n = 0;
			i = re[j] == '\0' ? j - 1 : j;
		}
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
	return add_rule(rm, r, match, replace, icase, 0, cause);
}

/*
 * Check, compile and append r (allocated, its flags set; freed on
 * failure).  hpa: replace has tftp-hpa's escapes.
 */
static int
add_rule(struct remap *rm, struct rule *r, const char *match,
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

static int
is_nonprint(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Does the name of len bytes end in a complete, valid UTF-8 character
 * of two to four bytes?  Then its last byte is not garbage: "café" keeps
 * its é, while a stray 0xff that some firmware appends goes.
 */
static int
ends_in_utf8(const unsigned char *s, size_t len)
{
	size_t	 n;

	/* Back over the continuation bytes to the last lead byte. */
	for (n = 1; n <= 4 && n <= len; n++)
		if ((s[len - n] & 0xc0) != 0x80)
			break;
	if (n > 4 || n > len || n < 2)
		return 0;
	return utf8_len(s + len - n, n) == n;
}

/*
 * Append len bytes, keeping room for the NUL, in the case cs asks for
 * (ASCII only, as in.tftpd in the C locale).  -1 if they do not fit.
 */
static int
append(struct name *nm, const char *s, size_t len, enum remap_case cs)
{
	char	*d;
	size_t	 i;

	if (len >= nm->cap - nm->len)
		return -1;
	d = nm->buf + nm->len;
	if (cs == CASE_KEEP) {
		if (len > 0)
			memcpy(d, s, len);
	} else
		for (i = 0; i < len; i++) {
			if (cs == CASE_UPPER && s[i] >= 'a' && s[i] <= 'z')
				d[i] = (char)(s[i] - 'a' + 'A');
			else if (cs == CASE_LOWER && s[i] >= 'A' &&
			    s[i] <= 'Z')
				d[i] = (char)(s[i] - 'A' + 'a');
			else
				d[i] = s[i];
		}
	nm->len += len;
	return 0;
}

/*
 * The client as the rules see it.  \x is in.tftpd's: the address bytes
 * in upper-case hex, 8 digits for IPv4, 32 for IPv6.
 */
static void
who_init(struct who *w, const char *client, int hex)
{
	static const char	 digits[] = "0123456789ABCDEF";
	unsigned char		 addr[sizeof(struct in6_addr)];
	size_t			 i, n = 0;

	memset(w, 0, sizeof *w);
	w->text = client != NULL ? client : "";
	w->len = strlen(w->text);
	if (w->len > 0)
		w->family = strchr(w->text, ':') != NULL ? 6 : 4;
	if (!hex || w->family == 0)
		return;
	if (inet_pton(w->family == 6 ? AF_INET6 : AF_INET, w->text,
	    addr) == 1)
		n = w->family == 6 ? 16 : 4;
	for (i = 0; i < n; i++) {
		w->hex[2 * i] = digits[addr[i] >> 4];
		w->hex[2 * i + 1] = digits[addr[i] & 0xf];
	}
	w->hexlen = 2 * n;
	w->hex[w->hexlen] = '\0';
}

/*
 * Append r's replacement for the match m, whose offsets are relative to
 * base (which has baselen bytes).  A group that took no part in the
 * match expands to nothing.
 */
static int
expand(const struct rule *r, const char *base, const regmatch_t *m,
    size_t baselen, const struct who *who, struct name *dst)
{
	const struct piece	*p;
	const regmatch_t	*g;
	enum remap_case		 cs = CASE_KEEP;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < r->npieces && rc == 0; i++) {
		p = &r->pieces[i];
		switch (p->type) {
		case PIECE_LIT:
			rc = append(dst, r->lit + p->off, p->len, cs);
			break;
		case PIECE_REF:
			g = &m[p->ref];
			if (g->rm_so < 0 || g->rm_eo < g->rm_so ||
			    (size_t)g->rm_eo > baselen)
				break;
			rc = append(dst, base + g->rm_so,
			    (size_t)(g->rm_eo - g->rm_so), cs);
			break;
		case PIECE_CLIENT:
			rc = append(dst, who->text, who->len, cs);
			break;
		case PIECE_HEX:
			rc = append(dst, who->hex, who->hexlen, cs);
			break;
		case PIECE_CASE:
			cs = (enum remap_case)p->ref;
			break;
		}
	}
	return rc;
}

/*
 * Rewrite src into dst.  After the first match, the search goes on
 * from the end of it with REG_NOTBOL so '^' cannot match again.  An empty
 * match is replaced and then one byte is copied, so the search always
 * moves on; an empty match right where the previous one ended is not
 * replaced at all ("x*" on "axb" gives "-a-b-" with "-", as sed does).
 */
static enum step
rewrite(const struct rule *r, const struct name *src, const struct who *who,
    struct name *dst)
{
	regmatch_t	 m[REMAP_NMATCH];
	const char	*base;
	size_t		 pos = 0, so, eo, left, prev_end = 0, nsub = 0;
	int		 error;

	dst->len = 0;
	for (;;) {
		base = src->buf + pos;
		left = src->len - pos;
		error = regexec(&r->re, base, REMAP_NMATCH, m,
		    pos > 0 ? REG_NOTBOL : 0);
		if (error == REG_NOMATCH)
			break;
		if (error != 0)
			return STEP_FAIL;
		if (m[0].rm_so < 0 || m[0].rm_eo < m[0].rm_so ||
		    (size_t)m[0].rm_eo > left)
			return STEP_FAIL;
		so = (size_t)m[0].rm_so;
		eo = (size_t)m[0].rm_eo;
		if (append(dst, base, so, CASE_KEEP) == -1)
			return STEP_TOOLONG;

		if (so == eo && nsub > 0 && pos + so == prev_end) {
			/* Empty match touching the last one: step over. */
			if (so == left)
				break;
			if (append(dst, base + so, 1, CASE_KEEP) == -1)
				return STEP_TOOLONG;
			pos += so + 1;
			continue;
		}

		if (++nsub > REMAP_SUBST_MAX)
			return STEP_TOOLONG;
		if (expand(r, base, m, left, who, dst) == -1)
			return STEP_TOOLONG;
		pos += eo;
		prev_end = pos;
		if (!r->global)
			break;
		if (so == eo) {
			if (eo == left)
				break;
			if (append(dst, base + eo, 1, CASE_KEEP) == -1)
				return STEP_TOOLONG;
			pos++;
		}
	}
	if (nsub == 0)
		return STEP_NOMATCH;
	if (append(dst, src->buf + pos, src->len - pos, CASE_KEEP) == -1)
		return STEP_TOOLONG;
	dst->buf[dst->len] = '\0';
	return STEP_MATCH;
}

/* Does r apply to src?  A rewrite rule also writes its result to dst. */
static enum step
apply_rule(const struct rule *r, const struct name *src, const struct who *who,
    struct name *dst)
{
	int	 error;

	if (r->action == REMAP_REWRITE)
		return rewrite(r, src, who, dst);
	error = regexec(&r->re, src->buf, 0, NULL, 0);
	if (error == REG_NOMATCH)
		return r->invert ? STEP_MATCH : STEP_NOMATCH;
	if (error != 0)
		return STEP_FAIL;
	return r->invert ? STEP_NOMATCH : STEP_MATCH;
}

/*
 * A tftp-hpa "g" rule matched once (its result is *cur): apply it again
 * to each result until it no longer matches.  in.tftpd has no bound and
 * loops forever on a rule whose result always matches again ("rg a a");
 * here that fails after REMAP_SUBST_MAX rounds.
 */
static enum step
repeat_rule(const struct rule *r, struct name **cur, struct name **nxt,
    const struct who *who)
{
	struct name	*tmp;
	enum step	 step;
	size_t		 n;

	for (n = 0; n < REMAP_SUBST_MAX; n++) {
		step = rewrite(r, *cur, who, *nxt);
		if (step == STEP_NOMATCH)
			return STEP_MATCH;
		if (step != STEP_MATCH)
			return step;
		tmp = *cur;
		*cur = *nxt;
		*nxt = tmp;
	}
	return STEP_FAIL;
}

enum remap_result
remap_apply(const struct remap *rm, unsigned op, const char *in,
    const char *client, char *out, size_t outlen)
{
	static const enum remap_result fail_result[] = {
		[STEP_TOOLONG] = REMAP_TOOLONG,
		[STEP_FAIL] = REMAP_DENIED,
	};
	char			 scratch[REMAP_NAME_MAX];
	struct name		 a, b, *cur = &a, *nxt = &b, *tmp;
	struct who		 who;
	const struct rule	*r;
	enum remap_result	 result;
	enum step		 step;
	size_t			 i, len, cap, steps = 0;

	if (outlen == 0)
		return REMAP_TOOLONG;
	cap = outlen < sizeof scratch ? outlen : sizeof scratch;

	len = strlen(in);
	if (rm->strip_nonprint)
		while (len > 0 && (is_nonprint((unsigned char)in[len - 1]) ||
		    ((unsigned char)in[len - 1] >= 0x80 &&
		    !ends_in_utf8((const unsigned char *)in, len))))
			len--;
	if (len >= cap) {
		result = REMAP_TOOLONG;
		goto fail;
	}
	for (i = 0; i < len; i++)
		out[i] = (char)rm->map[(unsigned char)in[i]];
	out[len] = '\0';

	a.buf = out;
	a.len = len;
	a.cap = cap;
	b.buf = scratch;
	b.len = 0;
	b.cap = cap;
	who_init(&who, client, rm->hex);

	for (i = 0; i < rm->nrules; i++) {
		r = rm->rules[i];
		if ((r->ops & op) == 0 ||
		    (r->family != 0 && r->family != who.family))
			continue;
		/* in.tftpd's dead man: restarts must not loop forever. */
		if (rm->restarts && ++steps > REMAP_STEPS_MAX) {
			result = REMAP_DENIED;
			goto fail;
		}
		step = apply_rule(r, cur, &who, nxt);
		if (step == STEP_NOMATCH)
			continue;
		if (step != STEP_MATCH) {
			result = fail_result[step];
			goto fail;
		}
		if (r->action == REMAP_DENY) {
			result = REMAP_DENIED;
			goto fail;
		}
		if (r->action == REMAP_REWRITE) {
			tmp = cur;
			cur = nxt;
			nxt = tmp;
			if (r->repeat && (step = repeat_rule(r, &cur, &nxt,
			    &who)) != STEP_MATCH) {
				result = fail_result[step];
				goto fail;
			}
		}
		if (r->last)
			break;
		/*
		 * in.tftpd goes back to its first rule and then steps past
		 * it: processing starts over from the second rule.
		 */
		if (r->restart)
			i = 0;
	}
	if (cur->buf != out)
		memcpy(out, cur->buf, cur->len + 1);
	return REMAP_OK;

fail:
	out[0] = '\0';
	return result;
}

/*
 * One field of a rule line, as in.tftpd's readescstring() reads it:
 * leading white space is skipped; a backslash keeps itself and the next
 * byte in the field; unescaped white space or '#' ends it.  The field
 * goes to buf (room for the rest of the line); returns its length, 0
 * when the line has no more fields.
 */
static size_t
hpa_field(const char **pp, const char *end, char *buf)
{
	const char	*p = *pp;
	size_t		 n = 0;
	int		 escaped = 0;

	while (p < end && isspace((unsigned char)*p))
		p++;
	for (; p < end; p++) {
		if (!escaped && (isspace((unsigned char)*p) || *p == '#'))
			break;
		escaped = !escaped && *p == '\\';
		buf[n++] = *p;
	}
	buf[n] = '\0';
	*pp = p;
	return n;
}

/*
 * One line of a tftp-hpa remap file (with its newline, as fgets() gives
 * it to in.tftpd).  buf has room for the line.  0 on success or for a
 * line with no rule, -1 and *cause.
 */
static int
hpa_line(struct remap *rm, const char *line, const char *end, char *buf,
    char **cause)
{
	struct rule	*r;
	char		*match;
	const char	*f;
	int		 icase = 0, deny = 0, rc;

	*cause = NULL;
	if (hpa_field(&line, end, buf) == 0)
		return 0;
	r = xcalloc(1, sizeof *r);
	r->action = REMAP_MATCH;
	for (f = buf; *f != '\0'; f++) {
		switch (*f) {
		case 'r':
			r->action = REMAP_REWRITE;
			break;
		case 'g':
			r->repeat = 1;
			break;
		case 'e':
			r->last = 1;
			break;
		case 's':
			r->restart = 1;
			break;
		case 'a':
			deny = 1;
			break;
		case 'i':
			icase = 1;
			break;
		case '~':
			r->invert = 1;
			break;
		case 'G':
		case 'P':
			/* in.tftpd keeps the last of the two */
			r->ops = *f == 'G' ? REMAP_OP_READ : REMAP_OP_WRITE;
			break;
		case '4':
		case '6':
			r->family = *f - '0';
			break;
		default:
			if ((unsigned char)*f < 0x20 ||
			    (unsigned char)*f >= 0x7f)
				xasprintf(cause, "unknown operation: byte "
				    "0x%02x", (unsigned char)*f);
			else
				xasprintf(cause, "unknown operation '%c' "
				    "(expected some of r g e s a i ~ G P 4 6)",
				    *f);
			free(r);
			return -1;
		}
	}
	if (r->invert && r->action == REMAP_REWRITE) {
		*cause = xstrdup("operations r and ~ cannot be combined");
		free(r);
		return -1;
	}
	/* a wins over r: the name is refused before it is rewritten */
	if (deny)
		r->action = REMAP_DENY;
	if (r->action != REMAP_REWRITE)
		r->repeat = 0;
	if (r->ops == 0)
		r->ops = REMAP_OPS_ALL;
	if (hpa_field(&line, end, buf) == 0) {
		*cause = xstrdup("the regex is missing");
		free(r);
		return -1;
	}
	match = xstrdup(buf);
	/* The replacement (an abort's message: not sent, see remap.h). */
	(void)hpa_field(&line, end, buf);
	rc = add_rule(rm, r, match, buf, icase, 1, cause);
	free(match);
	return rc;
}

int
remap_load_hpa(struct remap *rm, const char *text, size_t len,
    const char *label, char **cause)
{
	const char	*line, *nl, *end = text + len;
	char		*buf, *why;
	size_t		 lineno = 0;

	*cause = NULL;
	buf = xmalloc(len + 1);
	for (line = text; line < end; line = nl) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		else
			nl++;	/* the newline is part of the line */
		if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
			xasprintf(cause, "%s:%zu: contains a NUL byte", label,
			    lineno);
			goto fail;
		}
		if (hpa_line(rm, line, nl, buf, &why) == -1) {
			xasprintf(cause, "%s:%zu: %s", label, lineno, why);
			free(why);
			goto fail;
		}
	}
	free(buf);
	return 0;

fail:
	free(buf);
	return -1;
}
