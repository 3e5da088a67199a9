/*
 * Client file name rewriting, on the request path: remap_apply() applies
 * the built-ins, then the rules compiled by remap.c, to one name.  It is
 * pure: no syscalls, no allocation of its own, no logging.  It
 * ping-pongs between the caller's buffer and one fixed stack buffer,
 * checking every append against the smaller of the two, so a hostile
 * name can make it fail but never overrun or run long: each regexec()
 * call consumes at least one byte or makes one of at most
 * REMAP_SUBST_MAX substitutions.  What tftp-hpa rules add (match-only,
 * ~, 4 / 6, g, s, \x, \U \L \E) is applied here as in.tftpd does.
 */

#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <regex.h>
#include <stddef.h>
#include <string.h>

#include "remap-int.h"
#include "utf8.h"

#define REMAP_NMATCH	10	/* \0 .. \9 */

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
static int		 builtins(const struct remap *, const char *, char *,
			    size_t, size_t *);
static enum step	 repeat_rule(const struct rule *, struct name **,
			    struct name **, const struct who *);

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

/*
 * The built-ins: in, its trailing garbage stripped and its bytes mapped,
 * to out (cap bytes), its length to *lenp.  -1 if it does not fit.
 */
static int
builtins(const struct remap *rm, const char *in, char *out, size_t cap,
    size_t *lenp)
{
	size_t	 i, len;

	len = strlen(in);
	if (rm->strip_nonprint)
		while (len > 0 && (is_nonprint((unsigned char)in[len - 1]) ||
		    ((unsigned char)in[len - 1] >= 0x80 &&
		    !ends_in_utf8((const unsigned char *)in, len))))
			len--;
	if (len >= cap)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)rm->map[(unsigned char)in[i]];
	out[len] = '\0';
	*lenp = len;
	return 0;
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

	if (builtins(rm, in, out, cap, &len) == -1) {
		result = REMAP_TOOLONG;
		goto fail;
	}

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
