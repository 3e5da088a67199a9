/*
 * libconfig 1.5 keeps an integer written without the L suffix in an int
 * and silently wraps a larger one (8589934592 becomes 0, 4294967365
 * becomes 69).  This scanner finds such literals in the text before
 * libconfig sees it, skipping comments, strings and names.  Only the
 * text itself is checked, not files it @includes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "conf-schema.h"
#include "xmalloc.h"

static int	 is_alpha(char);
static int	 is_digit(char);
static const char *skip_comment(const char *, unsigned *);
static const char *skip_string(const char *, unsigned *);
static const char *scan_number(const char *, int *);

static int
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* p at a comment (#, // or slash-star): past it, counting its lines. */
static const char *
skip_comment(const char *p, unsigned *line)
{
	if (*p == '#' || p[1] == '/') {
		while (*p != '\0' && *p != '\n')
			p++;
		return p;
	}
	for (p += 2; *p != '\0'; p++) {
		if (p[0] == '*' && p[1] == '/')
			return p + 2;
		if (*p == '\n')
			(*line)++;
	}
	return p;
}

/* p at '"': past the closing quote, counting lines. */
static const char *
skip_string(const char *p, unsigned *line)
{
	for (p++; *p != '\0' && *p != '"'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p == '\n')
			(*line)++;
	}
	return *p == '"' ? p + 1 : p;
}

/*
 * p at a number, maybe signed: past it, with *bad set if it is a plain
 * integer (decimal or 0x hex) that does not fit in 32 bits.
 */
static const char *
scan_number(const char *p, int *bad)
{
	const char		*digits, *end;
	unsigned long long	 u;
	int			 hex, neg = *p == '-';

	*bad = 0;
	if (*p == '-' || *p == '+')
		p++;
	digits = p;
	hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	for (; is_digit(*p) || is_alpha(*p) || *p == '.'; p++) {
		if (!hex && (*p == 'e' || *p == 'E') &&
		    (p[1] == '+' || p[1] == '-'))
			p++;
	}
	if (hex)
		digits += 2;
	end = digits;
	while (is_digit(*end) || (hex && ((*end >= 'a' && *end <= 'f') ||
	    (*end >= 'A' && *end <= 'F'))))
		end++;
	if (end != p || end == digits)
		return p;	/* not a plain integer */
	errno = 0;
	u = strtoull(digits, NULL, hex ? 16 : 10);
	if (errno == ERANGE)
		*bad = 1;
	else if (neg)
		*bad = u > (unsigned long long)INT_MAX + 1;
	else
		*bad = u > INT_MAX;
	return p;
}

int
conf_scan_ints(const char *text, const char *label, char **cause)
{
	const char	*p = text, *start;
	unsigned	 line = 1;
	int		 bad;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && (p[1] == '/' ||
		    p[1] == '*')))
			p = skip_comment(p, &line);
		else if (*p == '"')
			p = skip_string(p, &line);
		else if (is_alpha(*p) || *p == '*' || *p == '_') {
			while (is_alpha(*p) || is_digit(*p) || *p == '*' ||
			    *p == '_' || *p == '-')
				p++;
		} else if (is_digit(*p) || ((*p == '-' || *p == '+') &&
		    is_digit(p[1]))) {
			start = p;
			p = scan_number(p, &bad);
			if (bad) {
				xasprintf(cause, "%s:%u: %.*s does not fit in "
				    "32 bits: write it as %.*sL", label, line,
				    (int)(p - start), start, (int)(p - start),
				    start);
				return -1;
			}
		} else
			p++;
	}
	return 0;
}
