/*
 * Access lists: parse "allow|deny CIDR|all" rules into a flat array and
 * match a peer against them, first match wins.  Pure: no syscalls
 * (inet_pton() is a libc parser), allocation only while building.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

#define ACL_ADDR_MAX	64	/* longest "address/prefix" word accepted */

enum acl_fam {
	ACL_F_ANY,		/* "all" */
	ACL_F_V4,
	ACL_F_V6,
	ACL_F_OTHER,		/* a peer of neither family: only "all" */
};

struct acl_rule {
	uint8_t		 allow;
	uint8_t		 fam;		/* enum acl_fam */
	uint8_t		 plen;
	uint8_t		 net[16];	/* network bits, host bits zero */
};

struct acl {
	struct acl_rule	*rules;
	size_t		 n;
	size_t		 cap;
};

static const struct {
	const char	*word;
	uint8_t		 allow;
} actions[] = {
	{ "allow",	1 },
	{ "deny",	0 },
};

static const struct {
	int		 af;
	uint8_t		 fam;
	uint8_t		 maxplen;
} families[] = {
	{ AF_INET,	ACL_F_V4,	32 },
	{ AF_INET6,	ACL_F_V6,	128 },
};

static const uint8_t	 v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *
skip_blanks(const char *s)
{
	while (is_blank(*s))
		s++;
	return s;
}

static size_t
word_len(const char *s)
{
	size_t	 n = 0;

	while (s[n] != '\0' && !is_blank(s[n]))
		n++;
	return n;
}

/* ASCII case-insensitive match of a word of length n against kw. */
static int
word_is(const char *w, size_t n, const char *kw)
{
	size_t	 i;
	char	 c;

	for (i = 0; i < n; i++) {
		c = w[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (kw[i] == '\0' || c != kw[i])
			return 0;
	}
	return kw[n] == '\0';
}

/* Decimal 0..max, no sign, no leading zero; -1 otherwise. */
static int
parse_prefix(const char *s, unsigned max)
{
	unsigned	 v = 0;
	size_t		 i;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 3)
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v > max ? -1 : (int)v;
}

/* Whether a and b agree on their first plen bits. */
static int
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned plen)
{
	unsigned	 full = plen / 8, rem = plen % 8;
	uint8_t		 mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rem));
	return ((a[full] ^ b[full]) & mask) == 0;
}

/* Whether any bit at or after plen is set in the len-byte address a. */
static int
host_bits(const uint8_t *a, size_t len, unsigned plen)
{
	unsigned	 i;

	for (i = plen; i < len * 8; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

/* Parse the address word (n bytes at w) into r; a static reason or NULL. */
static const char *
parse_cidr(struct acl_rule *r, const char *w, size_t n)
{
	char		 buf[ACL_ADDR_MAX];
	char		*slash;
	size_t		 i, len;
	int		 plen = -1;

	if (word_is(w, n, "all")) {
		r->fam = ACL_F_ANY;
		return NULL;
	}
	if (n >= sizeof buf)
		return "bad address";
	memcpy(buf, w, n);
	buf[n] = '\0';
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';

	for (i = 0; i < sizeof families / sizeof families[0]; i++)
		if (inet_pton(families[i].af, buf, r->net) == 1)
			break;
	if (i == sizeof families / sizeof families[0])
		return "bad address";
	r->fam = families[i].fam;
	len = families[i].maxplen / 8;

	if (slash == NULL)
		plen = families[i].maxplen;
	else if ((plen = parse_prefix(slash + 1, families[i].maxplen)) == -1)
		return "bad prefix";
	if (host_bits(r->net, len, (unsigned)plen))
		return "host bits set";
	r->plen = (uint8_t)plen;

	/* ::ffff:a.b.c.d/96+ is an IPv4 rule in disguise. */
	if (r->fam == ACL_F_V6 && r->plen >= 96 &&
	    memcmp(r->net, v4mapped, sizeof v4mapped) == 0) {
		memmove(r->net, r->net + 12, 4);
		memset(r->net + 4, 0, sizeof r->net - 4);
		r->fam = ACL_F_V4;
		r->plen -= 96;
	}
	return NULL;
}

static const char *
parse_rule(struct acl_rule *r, const char *s)
{
	const char	*w;
	size_t		 n, i;
	const char	*why;

	memset(r, 0, sizeof *r);
	w = skip_blanks(s);
	if ((n = word_len(w)) == 0)
		return "empty rule";
	for (i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (word_is(w, n, actions[i].word))
			break;
	if (i == sizeof actions / sizeof actions[0])
		return "unknown action";
	r->allow = actions[i].allow;

	w = skip_blanks(w + n);
	if ((n = word_len(w)) == 0)
		return "missing address";
	if ((why = parse_cidr(r, w, n)) != NULL)
		return why;
	if (*skip_blanks(w + n) != '\0')
		return "trailing garbage";
	return NULL;
}

struct acl *
acl_new(void)
{
	return calloc(1, sizeof(struct acl));
}

void
acl_free(struct acl *a)
{
	if (a == NULL)
		return;
	free(a->rules);
	free(a);
}

int
acl_add(struct acl *a, const char *rule, const char **why)
{
	struct acl_rule	 r, *v;
	const char	*cause;
	size_t		 ncap;

	cause = rule == NULL ? "empty rule" : parse_rule(&r, rule);
	if (cause != NULL)
		goto fail;
	if (a->n == a->cap) {
		ncap = a->cap == 0 ? 8 : a->cap * 2;
		v = ncap > SIZE_MAX / sizeof *v ? NULL :
		    realloc(a->rules, ncap * sizeof *v);
		if (v == NULL) {
			cause = "out of memory";
			goto fail;
		}
		a->rules = v;
		a->cap = ncap;
	}
	a->rules[a->n++] = r;
	return 0;

fail:
	if (why != NULL)
		*why = cause;
	return -1;
}

size_t
acl_count(const struct acl *a)
{
	return a->n;
}

int
acl_allows(const struct acl *a, const struct sockaddr *peer)
{
	const struct acl_rule	*r;
	uint8_t			 addr[16];
	uint8_t			 fam = ACL_F_OTHER;
	size_t			 i;

	if (a->n == 0)
		return 1;

	memset(addr, 0, sizeof addr);
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)peer;

		memcpy(addr, &s4->sin_addr, 4);
		fam = ACL_F_V4;
	} else if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)peer;
		const uint8_t			*b = s6->sin6_addr.s6_addr;

		if (memcmp(b, v4mapped, sizeof v4mapped) == 0) {
			memcpy(addr, b + 12, 4);
			fam = ACL_F_V4;
		} else {
			memcpy(addr, b, 16);
			fam = ACL_F_V6;
		}
	}

	for (i = 0; i < a->n; i++) {
		r = &a->rules[i];
		if (r->fam == ACL_F_ANY ||
		    (r->fam == fam && prefix_eq(r->net, addr, r->plen)))
			return r->allow;
	}
	return 0;
}
