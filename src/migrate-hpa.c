/*
 * owltftpd-migrate, the tftpd-hpa side: the defaults file read as sh
 * reads its assignments (quotes, backslashes; no expansion), the init
 * script's command line split as the shell splits it, and parsed with
 * getopt_long() and in.tftpd 5.2's own option table, so abbreviations,
 * clustered short options and a missing argument mean what they mean
 * to in.tftpd.  What in.tftpd would refuse to start with is an error.
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "compat.h"
#include "migrate-int.h"

static const struct option hpa_longopts[] = {
	{ "ipv4",	no_argument,		NULL, '4' },
	{ "ipv6",	no_argument,		NULL, '6' },
	{ "create",	no_argument,		NULL, 'c' },
	{ "secure",	no_argument,		NULL, 's' },
	{ "permissive",	no_argument,		NULL, 'p' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "verbosity",	required_argument,	NULL, 256 },
	{ "version",	no_argument,		NULL, 'V' },
	{ "listen",	no_argument,		NULL, 'l' },
	{ "foreground",	no_argument,		NULL, 'L' },
	{ "address",	required_argument,	NULL, 'a' },
	{ "blocksize",	required_argument,	NULL, 'B' },
	{ "user",	required_argument,	NULL, 'u' },
	{ "umask",	required_argument,	NULL, 'U' },
	{ "refuse",	required_argument,	NULL, 'r' },
	{ "timeout",	required_argument,	NULL, 't' },
	{ "retransmit",	required_argument,	NULL, 'T' },
	{ "port-range",	required_argument,	NULL, 'R' },
	{ "map-file",	required_argument,	NULL, 'm' },
	{ "pidfile",	required_argument,	NULL, 'P' },
	{ NULL,		0,			NULL, 0 }
};
#define HPA_SHORTOPTS	"46cspvVlLa:B:u:U:r:t:T:R:m:P:"

/* The RFC 2347 options in.tftpd -r knows. */
static const char *const hpa_tftp_options[] = {
	"blksize", "blksize2", "tsize", "timeout", "utimeout", "rollover",
	NULL
};

static int	 sh_value(const char **, char *, int *);
static int	 hpa_flag(struct hpa *, int);
static void	 hpa_refuse(struct hpa *, const char *);
static void	 hpa_unknown(struct hpa *);
static void	 hpa_option(struct hpa *, int);

char *
read_file(const char *path)
{
	FILE	*f;
	char	*text;
	size_t	 len;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	if ((text = malloc(MIG_FILE_MAX + 1)) == NULL)
		die("out of memory");
	len = fread(text, 1, MIG_FILE_MAX + 1, f);
	if (ferror(f))
		die("%s: %s", path, strerror(errno));
	(void)fclose(f);
	if (len > MIG_FILE_MAX)
		die("%s: larger than %d bytes", path, MIG_FILE_MAX);
	if (memchr(text, '\0', len) != NULL)
		die("%s: contains a NUL byte", path);
	text[len] = '\0';
	return text;
}

/*
 * One shell word at *pp, as the value of an assignment: unquoted text
 * (a backslash quotes the next character), '...' and "..." (where a
 * backslash quotes only $ ` " \ and a newline).  out has room for the
 * rest of the text.  *expand is set if an unquoted or double-quoted $
 * or ` asks for an expansion this tool does not do.  -1 if a quote is
 * not closed.
 */
static int
sh_value(const char **pp, char *out, int *expand)
{
	const char	*p = *pp;
	char		 q;

	*expand = 0;
	while (*p != '\0' && !isspace((unsigned char)*p) &&
	    strchr(";&|<>()", *p) == NULL) {
		if (*p == '\'') {
			for (p++; *p != '\0' && *p != '\''; p++)
				*out++ = *p;
			if (*p++ == '\0')
				return -1;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && strchr("$`\"\\\n", p[1]) !=
				    NULL && p[1] != '\0') {
					if (*++p != '\n')
						*out++ = *p;
					continue;
				}
				if (*p == '$' || *p == '`')
					*expand = 1;
				*out++ = *p;
			}
			if (*p++ == '\0')
				return -1;
		} else if (*p == '\\' && p[1] != '\0') {
			q = p[1];
			p += 2;
			if (q != '\n')
				*out++ = q;
		} else {
			if (*p == '$' || *p == '`')
				*expand = 1;
			*out++ = *p++;
		}
	}
	*out = '\0';
	*pp = p;
	return 0;
}

/* The assignments of the defaults file; anything else is noted. */
void
read_defaults(struct hpa *h, const char *text, struct mig *m)
{
	const char	*p = text, *name, *eol;
	char		*value;
	size_t		 nlen, i;
	unsigned	 line = 1;
	int		 expand;

	if ((value = malloc(strlen(text) + 1)) == NULL)
		die("out of memory");
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n') {
			if (*p++ == '\n')
				line++;
		}
		if (*p == '\0')
			break;
		if (*p == '#')
			goto skip;
		if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' ||
		    p[6] == '\t')) {
			p += 6;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		name = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		nlen = (size_t)(p - name);
		if (nlen == 0 || *p != '=' || isdigit((unsigned char)*name)) {
			note(m, "%s:%u: not an assignment, left out: %.*s",
			    m->label, line, (int)strcspn(name, "\n"), name);
			goto skip;
		}
		p++;
		if (sh_value(&p, value, &expand) == -1)
			die("%s:%u: %.*s: a quote is not closed", m->label,
			    line, (int)nlen, name);
		for (i = 0; i < VAR_MAX; i++)
			if (strlen(var_names[i]) == nlen &&
			    strncmp(var_names[i], name, nlen) == 0)
				break;
		if (i == VAR_MAX)
			note(m, "%s:%u: %.*s is not used by the init script, "
			    "left out", m->label, line, (int)nlen, name);
		else {
			free(h->var[i]);
			if ((h->var[i] = strdup(value)) == NULL)
				die("out of memory");
			h->expanded[i] = expand;
		}
		for (eol = name; eol < p; eol++)
			if (*eol == '\n')
				line++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\n' && *p != '\0' && *p != '#')
			note(m, "%s:%u: left out after the assignment: %.*s",
			    m->label, line, (int)strcspn(p, "\n"), p);
skip:
		p += strcspn(p, "\n");
	}
	free(value);
	for (i = 0; i < VAR_MAX; i++) {
		if (h->expanded[i])
			note(m, "%s uses a shell expansion ($ or `) that is "
			    "taken literally here: check it", var_names[i]);
		if (i != VAR_USERNAME && i != VAR_ADDRESS)
			continue;
		if (h->var[i] == NULL || h->var[i][strspn(h->var[i],
		    " \t\n")] == '\0')
			note(m, "%s is %s: the init script then passes its "
			    "option no argument, and in.tftpd takes the next "
			    "word for it", var_names[i], h->var[i] == NULL ?
			    "not set" : "empty");
	}
}

/* Split text as the shell splits an unquoted $VAR (IFS: white space). */
void
split_words(struct hpa *h, const char *text)
{
	const char	*p = text;
	size_t		 n;

	for (;;) {
		p += strspn(p, " \t\n");
		if (*p == '\0')
			return;
		n = strcspn(p, " \t\n");
		if (h->nwords == MIG_WORDS_MAX - 1)
			die("more than %d words on in.tftpd's command line",
			    MIG_WORDS_MAX - 2);
		if ((h->words[h->nwords++] = strndup(p, n)) == NULL)
			die("out of memory");
		p += n;
	}
}

/* A no-argument option of in.tftpd's: 1 if ch is one. */
static int
hpa_flag(struct hpa *h, int ch)
{
	switch (ch) {
	case '4':
		h->family = AF_INET;
		break;
	case '6':
		h->family = AF_INET6;
		h->force6 = 1;
		break;
	case 'c':
		h->create = 1;
		break;
	case 's':
		h->secure = 1;
		break;
	case 'p':
		h->permissive = 1;
		break;
	case 'v':
		h->verbosity++;
		break;
	case 'V':
		h->version = 1;
		break;
	case 'l':
		break;
	case 'L':
		h->foreground = 1;
		break;
	case 't':
		h->waittime = 1;
		break;
	default:
		return 0;
	}
	return 1;
}

/* -r NAME: one of the RFC 2347 options in.tftpd knows. */
static void
hpa_refuse(struct hpa *h, const char *name)
{
	const char	*const *o;
	size_t		 len;

	for (o = hpa_tftp_options; *o != NULL; o++)
		if (strcasecmp(*o, name) == 0)
			break;
	if (*o == NULL)
		die("in.tftpd would not start: unknown option for -r: %s",
		    name);
	len = strlen(h->refused);
	(void)snprintf(h->refused + len, sizeof h->refused - len, "%s%s",
	    len > 0 ? ", " : "", *o);
}

/* An option in.tftpd does not know: it ignores it, it is noted. */
static void
hpa_unknown(struct hpa *h)
{
	size_t	 len;

	/* optopt: a short option (perhaps in a cluster) */
	len = strlen(h->unknown);
	if (optopt != 0)
		(void)snprintf(h->unknown + len, sizeof h->unknown - len,
		    "%s-%c", len > 0 ? " " : "", optopt);
	else
		(void)snprintf(h->unknown + len, sizeof h->unknown - len,
		    "%s%s", len > 0 ? " " : "", h->words[optind - 1]);
}

/* An option of in.tftpd's with an argument, checked as it checks it. */
static void
hpa_option(struct hpa *h, int ch)
{
	char	*ep;

	switch (ch) {
	case 256:
		h->verbosity = atoi(optarg);
		break;
	case 'a':
		h->address = optarg;
		break;
	case 'B':
		h->blocksize = strtoul(optarg, &ep, 10);
		if (h->blocksize < 512 || h->blocksize > 65464 || *ep != '\0')
			die("in.tftpd would not start: bad maximum blocksize "
			    "value (range 512-65464): %s", optarg);
		break;
	case 'T':
		h->retransmit = strtoul(optarg, &ep, 10);
		if (h->retransmit < 10000 || h->retransmit > 255000000 ||
		    *ep != '\0')
			die("in.tftpd would not start: bad timeout value: %s",
			    optarg);
		break;
	case 'R':
		if (sscanf(optarg, "%u:%u", &h->pr_lo, &h->pr_hi) != 2 ||
		    h->pr_lo > h->pr_hi || h->pr_hi >= 65535)
			die("in.tftpd would not start: bad port range: %s",
			    optarg);
		h->portrange = 1;
		break;
	case 'u':
		h->user = optarg;
		break;
	case 'U':
		h->umask = strtoul(optarg, &ep, 8);
		if (*ep != '\0')
			die("in.tftpd would not start: invalid umask: %s",
			    optarg);
		h->umask_set = 1;
		break;
	case 'r':
		hpa_refuse(h, optarg);
		break;
	case 'm':
		if (h->mapfile != NULL)
			die("in.tftpd would not start: multiple -m options");
		h->mapfile = optarg;
		break;
	case 'P':
		h->pidfile = optarg;
		break;
	default:
		hpa_unknown(h);
		break;
	}
}

/* getopt_long() with in.tftpd's options, checked as in.tftpd checks. */
void
parse_args(struct hpa *h, struct mig *m)
{
	int	 ch;

	h->family = AF_UNSPEC;
	opterr = 0;
	optind = 0;		/* glibc: start afresh */
	while ((ch = getopt_long(h->nwords, h->words, HPA_SHORTOPTS,
	    hpa_longopts, NULL)) != -1)
		if (!hpa_flag(h, ch))
			hpa_option(h, ch);
	h->dirs = h->words + optind;
	h->ndirs = h->nwords - optind;
	if (h->secure && h->ndirs != 1)
		die("in.tftpd would not start: --secure needs exactly one "
		    "directory, not %d", h->ndirs);
	if (h->unknown[0] != '\0')
		note(m, "options in.tftpd does not know and ignores: %s",
		    h->unknown);
}
