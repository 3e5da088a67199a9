/*
 * tftp-hpa's remap file (in.tftpd -m FILE) read into remap rules:
 * remap_load_hpa() takes each line as in.tftpd's readescstring() and
 * parser do, quirks included (see remap.h), and compiles it with the
 * rules of remap.c.  What the format adds (match-only rules, ~, 4 / 6,
 * g, s) is set on the rule here and applied by remap-match.c.
 */

#include "config.h"

#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "remap-int.h"
#include "xmalloc.h"

static size_t		 hpa_field(const char **, const char *, char *);
static int		 hpa_ops(struct rule *, const char *, int *, int *,
			    char **);
static int		 hpa_line(struct remap *, const char *, const char *,
			    char *, char **);

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
 * The operations field of a rule line, ops, set on r (and *icase,
 * *deny).  -1 and *cause for an unknown operation.
 */
static int
hpa_ops(struct rule *r, const char *ops, int *icase, int *deny, char **cause)
{
	const char	*f;

	for (f = ops; *f != '\0'; f++) {
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
			*deny = 1;
			break;
		case 'i':
			*icase = 1;
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
			return -1;
		}
	}
	return 0;
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
	int		 icase = 0, deny = 0, rc;

	*cause = NULL;
	if (hpa_field(&line, end, buf) == 0)
		return 0;
	r = xcalloc(1, sizeof *r);
	r->action = REMAP_MATCH;
	if (hpa_ops(r, buf, &icase, &deny, cause) == -1) {
		free(r);
		return -1;
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
	rc = remap_add_rule(rm, r, match, buf, icase, 1, cause);
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
