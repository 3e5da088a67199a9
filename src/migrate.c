/*
 * owltftpd-migrate: read tftpd-hpa's /etc/default/tftpd-hpa and print an
 * equivalent owltftpd.conf, with a comment for whatever has no owltftpd
 * equivalent.
 *
 * The file is a shell fragment that Debian's init script sources before
 * it runs
 *	in.tftpd --listen --user $TFTP_USERNAME --address $TFTP_ADDRESS \
 *	    $TFTP_OPTIONS $TFTP_DIRECTORY
 * with the variables unquoted.  So the assignments are read as sh reads
 * them (quotes, backslashes; no expansion), the command line is built
 * and split as the shell splits it, and then parsed with getopt_long()
 * and in.tftpd 5.2's own option table: abbreviations, clustered short
 * options and a missing argument mean what they mean to in.tftpd.  What
 * in.tftpd would refuse to start with is an error here too.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"

#define MIG_DEFAULTS	"/etc/default/tftpd-hpa"
#define MIG_FILE_MAX	(64 * 1024)
#define MIG_WORDS_MAX	256
#define MIG_LISTEN_MAX	4

/* The variables the init script uses, in the order it uses them. */
enum mig_var {
	VAR_USERNAME,
	VAR_ADDRESS,
	VAR_OPTIONS,
	VAR_DIRECTORY,
	VAR_MAX,
};

static const char *const var_names[VAR_MAX] = {
	[VAR_USERNAME] = "TFTP_USERNAME",
	[VAR_ADDRESS] = "TFTP_ADDRESS",
	[VAR_OPTIONS] = "TFTP_OPTIONS",
	[VAR_DIRECTORY] = "TFTP_DIRECTORY",
};

/* What in.tftpd makes of its command line. */
struct hpa {
	char		*var[VAR_MAX];	/* NULL: not set */
	int		 expanded[VAR_MAX];	/* had $ or ` */
	char		*words[MIG_WORDS_MAX];
	int		 nwords;
	const char	*user;
	const char	*address;
	const char	*mapfile;
	const char	*pidfile;
	int		 family;	/* AF_UNSPEC, or -4 / -6 */
	int		 force6;
	int		 create;
	int		 secure;
	int		 permissive;
	int		 verbosity;
	int		 version;
	int		 foreground;
	int		 waittime;	/* -t given */
	unsigned long	 blocksize;	/* 0: not given */
	int		 umask_set;
	unsigned long	 umask;
	unsigned long	 retransmit;	/* 0: not given */
	unsigned	 pr_lo, pr_hi;
	int		 portrange;
	char		 refused[128];	/* -r options, ", " between */
	char		 unknown[256];	/* options in.tftpd ignores */
	char		*const *dirs;
	int		 ndirs;
};

/* The converted configuration, and what could not be. */
struct mig {
	FILE		*out;
	const char	*label;		/* the defaults file */
	char		*early;		/* notes made while reading */
	size_t		 earlylen;
};

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

static void	 usage(void) __attribute__((noreturn));
static void	 die(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));
static char	*read_file(const char *);
static int	 sh_value(const char **, char *, int *);
static void	 read_defaults(struct hpa *, const char *, struct mig *);
static void	 split_words(struct hpa *, const char *);
static void	 parse_args(struct hpa *, struct mig *);
static void	 note(struct mig *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 put_str(struct mig *, const char *, const char *);
static void	 put_quoted(FILE *, const char *);
static void	 put_prefix_regex(FILE *, const char *);
static int	 numeric_ipv6(const char *);
static void	 convert_listen(struct hpa *, struct mig *);
static void	 convert_root(struct hpa *, struct mig *);
static void	 convert(struct hpa *, struct mig *);

static void
usage(void)
{
	(void)fprintf(stderr, "usage: owltftpd-migrate [file]\n");
	exit(2);
}

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	(void)fprintf(stderr, "owltftpd-migrate: ");
	va_start(ap, fmt);
	(void)vfprintf(stderr, fmt, ap);
	va_end(ap);
	(void)fputc('\n', stderr);
	exit(1);
}

static char *
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
static void
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
static void
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

/* getopt_long() with in.tftpd's options, checked as in.tftpd checks. */
static void
parse_args(struct hpa *h, struct mig *m)
{
	const char	*const *o;
	char		*ep;
	size_t		 len;
	int		 ch;

	h->family = AF_UNSPEC;
	opterr = 0;
	optind = 0;		/* glibc: start afresh */
	while ((ch = getopt_long(h->nwords, h->words, HPA_SHORTOPTS,
	    hpa_longopts, NULL)) != -1) {
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
		case 256:
			h->verbosity = atoi(optarg);
			break;
		case 'V':
			h->version = 1;
			break;
		case 'l':
			break;
		case 'L':
			h->foreground = 1;
			break;
		case 'a':
			h->address = optarg;
			break;
		case 't':
			h->waittime = 1;
			break;
		case 'B':
			h->blocksize = strtoul(optarg, &ep, 10);
			if (h->blocksize < 512 || h->blocksize > 65464 ||
			    *ep != '\0')
				die("in.tftpd would not start: bad maximum "
				    "blocksize value (range 512-65464): %s",
				    optarg);
			break;
		case 'T':
			h->retransmit = strtoul(optarg, &ep, 10);
			if (h->retransmit < 10000 ||
			    h->retransmit > 255000000 || *ep != '\0')
				die("in.tftpd would not start: bad timeout "
				    "value: %s", optarg);
			break;
		case 'R':
			if (sscanf(optarg, "%u:%u", &h->pr_lo, &h->pr_hi) != 2 ||
			    h->pr_lo > h->pr_hi || h->pr_hi >= 65535)
				die("in.tftpd would not start: bad port range: "
				    "%s", optarg);
			h->portrange = 1;
			break;
		case 'u':
			h->user = optarg;
			break;
		case 'U':
			h->umask = strtoul(optarg, &ep, 8);
			if (*ep != '\0')
				die("in.tftpd would not start: invalid umask: "
				    "%s", optarg);
			h->umask_set = 1;
			break;
		case 'r':
			for (o = hpa_tftp_options; *o != NULL; o++)
				if (strcasecmp(*o, optarg) == 0)
					break;
			if (*o == NULL)
				die("in.tftpd would not start: unknown option "
				    "for -r: %s", optarg);
			len = strlen(h->refused);
			(void)snprintf(h->refused + len, sizeof h->refused -
			    len, "%s%s", len > 0 ? ", " : "", *o);
			break;
		case 'm':
			if (h->mapfile != NULL)
				die("in.tftpd would not start: multiple -m "
				    "options");
			h->mapfile = optarg;
			break;
		case 'P':
			h->pidfile = optarg;
			break;
		default:
			/* optopt: a short option (perhaps in a cluster) */
			len = strlen(h->unknown);
			if (optopt != 0)
				(void)snprintf(h->unknown + len,
				    sizeof h->unknown - len, "%s-%c",
				    len > 0 ? " " : "", optopt);
			else
				(void)snprintf(h->unknown + len,
				    sizeof h->unknown - len, "%s%s",
				    len > 0 ? " " : "", h->words[optind - 1]);
			break;
		}
	}
	h->dirs = h->words + optind;
	h->ndirs = h->nwords - optind;
	if (h->secure && h->ndirs != 1)
		die("in.tftpd would not start: --secure needs exactly one "
		    "directory, not %d", h->ndirs);
	if (h->unknown[0] != '\0')
		note(m, "options in.tftpd does not know and ignores: %s",
		    h->unknown);
}

static void
note(struct mig *m, const char *fmt, ...)
{
	va_list	 ap;

	(void)fprintf(m->out, "# NOTE: ");
	va_start(ap, fmt);
	(void)vfprintf(m->out, fmt, ap);
	va_end(ap);
	(void)fputc('\n', m->out);
}

/* A libconfig string literal. */
static void
put_quoted(FILE *f, const char *s)
{
	unsigned char	 c;

	(void)fputc('"', f);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			(void)fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			(void)fprintf(f, "\\x%02x", c);
		else
			(void)fputc(c, f);
	}
	(void)fputc('"', f);
}

static void
put_str(struct mig *m, const char *key, const char *value)
{
	(void)fprintf(m->out, "%s = ", key);
	put_quoted(m->out, value);
	(void)fprintf(m->out, ";\n");
}

/* "^DIR/" as an extended regex, DIR taken literally, as a string. */
static void
put_prefix_regex(FILE *f, const char *dir)
{
	char	*buf, *o;
	size_t	 len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if ((o = buf = malloc(2 * len + 3)) == NULL)
		die("out of memory");
	*o++ = '^';
	for (; len > 0; dir++, len--) {
		if (strchr(".[]{}()\\*+?^$|", *dir) != NULL)
			*o++ = '\\';
		*o++ = *dir;
	}
	if (o[-1] != '/')
		*o++ = '/';
	*o = '\0';
	put_quoted(f, buf);
	free(buf);
}

/* in.tftpd's idea of "something like a numeric IPv6 address". */
static int
numeric_ipv6(const char *p)
{
	int	 colons = 0, dots = 0, bracket = 0;
	char	 c = '\0';

	if (*p == '[') {
		bracket = 1;
		p++;
	}
	while ((c = *p++) != '\0' && c != ']') {
		if (c == ':')
			colons++;
		else if (c == '.')
			dots++;
		else if (!isxdigit((unsigned char)c))
			return 0;
	}
	if (colons < 2 || colons > 7)
		return 0;
	if (dots != 0 && (dots != 3 || colons > 6))
		return 0;
	return bracket == (c == ']');
}

/*
 * --address [ADDR][:PORT] the way in.tftpd binds it: with no address
 * (":69", Debian's default) a wildcard socket per family; an IPv4
 * address closes the IPv6 socket; "[ADDR]" closes the IPv4 one, and
 * that IPv6 socket takes IPv4 too unless -6 was given (in.tftpd sets
 * IPV6_V6ONLY only when it also has an IPv4 socket, or with -6), which
 * owltftpd, whose IPv6 sockets are IPv6 only, does with a second listen
 * address.  Host names are resolved now, as in.tftpd resolves them
 * when it starts.
 */
static void
convert_listen(struct hpa *h, struct mig *m)
{
	char		 addr[256], text[MIG_LISTEN_MAX][INET6_ADDRSTRLEN + 16];
	char		 buf[INET6_ADDRSTRLEN];
	const char	*port = NULL, *a;
	struct addrinfo	 hints, *res;
	struct servent	*se;
	struct in_addr	 in4;
	char		*p, *ep;
	unsigned long	 n;
	int		 has4, has6, dual = 0, i, nl = 0, fam;

	has4 = h->family != AF_INET6;
	has6 = h->family != AF_INET;
	if (h->address == NULL) {
		a = "";
		port = NULL;
	} else {
		if (strlcpy(addr, h->address, sizeof addr) >= sizeof addr)
			die("--address %s: too long", h->address);
		p = addr;
		if (numeric_ipv6(p)) {
			if (*p++ != '[')
				die("in.tftpd would not start: numeric IPv6 "
				    "addresses need to be enclosed in []: %s",
				    h->address);
			*strrchr(p, ']') = '\0';
			port = p + strlen(p) + 1;
			port = (ep = strrchr(port, ':')) != NULL ? ep + 1 :
			    NULL;
			if (h->family == AF_INET)
				die("in.tftpd would not start: address %s is "
				    "not in address family AF_INET", p);
			has4 = 0;
			has6 = 1;
			dual = !h->force6;
		} else {
			if ((ep = strrchr(p, ':')) != NULL) {
				*ep = '\0';
				port = ep + 1;
			}
			if (inet_aton(p, &in4)) {
				if (h->family == AF_INET6)
					die("in.tftpd would not start: "
					    "address %s is not in address "
					    "family AF_INET6", p);
				has6 = 0;
			}
		}
		a = p;
	}

	if (port == NULL || *port == '\0')
		n = 69;
	else if ((se = getservbyname(port, "udp")) != NULL)
		n = ntohs((uint16_t)se->s_port);
	else if ((n = strtoul(port, &ep, 0)) == 0 || *ep != '\0' ||
	    n > 65535)
		die("in.tftpd would not start: cannot resolve local bind "
		    "port: %s", port);

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		if ((fam == AF_INET && !has4) || (fam == AF_INET6 && !has6))
			continue;
		if (*a == '\0') {
			(void)strlcpy(buf, fam == AF_INET ? "0.0.0.0" : "::",
			    sizeof buf);
		} else {
			memset(&hints, 0, sizeof hints);
			hints.ai_family = fam;
			hints.ai_socktype = SOCK_DGRAM;
			if (getaddrinfo(a, NULL, &hints, &res) != 0) {
				note(m, "--address %s: no %s address for %s; "
				    "in.tftpd then listens on %s only, or does "
				    "not start", h->address, fam == AF_INET ?
				    "IPv4" : "IPv6", a, fam == AF_INET ?
				    "IPv6" : "IPv4");
				continue;
			}
			if (fam == AF_INET)
				(void)inet_ntop(fam, &((struct sockaddr_in *)
				    res->ai_addr)->sin_addr, buf, sizeof buf);
			else
				(void)inet_ntop(fam, &((struct sockaddr_in6 *)
				    res->ai_addr)->sin6_addr, buf, sizeof buf);
			freeaddrinfo(res);
			if (strcmp(buf, a) != 0 && strchr(a, ':') == NULL &&
			    !inet_aton(a, &in4))
				note(m, "--address: %s is %s now; owltftpd "
				    "needs a numeric address", a, buf);
		}
		(void)snprintf(text[nl++], sizeof text[0], fam == AF_INET ?
		    "%s:%lu" : "[%s]:%lu", buf, n);
	}
	/* Only the wildcard address also receives IPv4. */
	if (dual && nl == 1 && strncmp(text[0], "[::]:", 5) == 0) {
		(void)fprintf(m->out, "# in.tftpd's socket for [::] also "
		    "takes IPv4 (it sets no IPV6_V6ONLY);\n# owltftpd "
		    "listens on IPv4 separately.\n");
		(void)snprintf(text[nl++], sizeof text[0], "0.0.0.0:%lu", n);
	}
	if (nl == 0)
		die("in.tftpd would not start: no address to listen on");
	(void)fprintf(m->out, "listen = [ ");
	for (i = 0; i < nl; i++) {
		put_quoted(m->out, text[i]);
		(void)fprintf(m->out, "%s", i + 1 < nl ? ", " : " ");
	}
	(void)fprintf(m->out, "];\n");
}

/*
 * The root.  With --secure in.tftpd chroots into its one directory and
 * names are relative to it.  Without, a name must be absolute and begin
 * with one of the directories (any absolute name when none is given):
 * remap rules do the same here.
 */
static void
convert_root(struct hpa *h, struct mig *m)
{
	int	 i;

	if (h->secure) {
		(void)fprintf(m->out, "# --secure: in.tftpd chroots into the "
		    "directory.\n");
		put_str(m, "root", h->dirs[0]);
		(void)fprintf(m->out, "chroot = true;\n");
		return;
	}
	(void)fprintf(m->out, "# Without --secure in.tftpd takes absolute "
	    "names that begin with one of\n# its directories; the remap "
	    "rules below do the same.\n");
	if (h->mapfile != NULL)
		note(m, "in.tftpd checks the prefix after its map file; "
		    "here a map-file rule\n#   with e ends the rewriting "
		    "before the prefix rules below: check such names");
	if (h->ndirs == 1) {
		/* in.tftpd's prefix is a string prefix: "/srv/tftpx" too */
		note(m, "in.tftpd also serves names that merely begin with "
		    "%s\n#   (such as %sX/...); owltftpd takes %s/ only",
		    h->dirs[0], h->dirs[0], h->dirs[0]);
		put_str(m, "root", h->dirs[0]);
		(void)fprintf(m->out, "remap = (\n  { match = ");
		put_prefix_regex(m->out, h->dirs[0]);
		(void)fprintf(m->out, "; replace = \"\"; last = true; },\n");
	} else {
		(void)fprintf(m->out, "root = \"/\";\nremap = (\n");
		if (h->ndirs == 0)
			note(m, "no directory given: in.tftpd serves any "
			    "absolute name; so does this, from /");
		for (i = 0; i < h->ndirs; i++) {
			(void)fprintf(m->out, "  { match = ");
			put_prefix_regex(m->out, h->dirs[i]);
			(void)fprintf(m->out, "; replace = \"\\\\0\"; "
			    "last = true; },\n");
		}
		if (h->ndirs == 0)
			(void)fprintf(m->out, "  { match = \"^/\"; replace = "
			    "\"/\"; last = true; },\n");
	}
	(void)fprintf(m->out, "  { match = \"^\"; action = \"deny\"; }\n);\n");
}

static void
convert(struct hpa *h, struct mig *m)
{
	char	 path[4096];
	int	 i;

	(void)fprintf(m->out, "# owltftpd.conf converted by owltftpd-migrate "
	    "from %s:\n", m->label);
	for (i = 0; i < VAR_MAX; i++) {
		if (h->var[i] == NULL)
			continue;
		(void)fprintf(m->out, "#   %s=", var_names[i]);
		put_quoted(m->out, h->var[i]);
		(void)fputc('\n', m->out);
	}
	(void)fprintf(m->out, "# which the init script runs as\n#  ");
	for (i = 0; i < h->nwords; i++)
		(void)fprintf(m->out, " %s", h->words[i]);
	(void)fprintf(m->out, "\n# Check it with: owltftpd -t -c FILE\n\n");
	if (m->earlylen > 0)
		(void)fprintf(m->out, "%s\n", m->early);

	convert_root(h, m);
	if (h->user == NULL) {
		note(m, "no --user: in.tftpd runs as nobody");
		h->user = "nobody";
	}
	put_str(m, "user", h->user);
	(void)fprintf(m->out, "# (in.tftpd also takes the user's "
	    "supplementary groups; owltftpd only its\n# primary group)\n");
	convert_listen(h, m);
	(void)fputc('\n', m->out);

	if (h->create)
		(void)fprintf(m->out, "# --create: new files, and existing "
		    "ones replaced\nuploads = \"overwrite\";\n");
	else
		(void)fprintf(m->out, "# Without --create in.tftpd still "
		    "accepts uploads that replace existing\n# files (only "
		    "world-writable ones, without --permissive).\n"
		    "uploads = \"existing\";\n");
	if (h->permissive)
		(void)fprintf(m->out, "# --permissive: the user's own rights "
		    "decide\npermission_check = false;\n");
	else
		(void)fprintf(m->out, "# Without --permissive: only "
		    "world-readable files are served, only\n# world-writable "
		    "ones replaced\npermission_check = true;\n");
	if (h->umask_set)
		(void)fprintf(m->out, "umask = \"%03lo\";\n", h->umask & 0777);
	else if (!h->permissive)
		(void)fprintf(m->out, "# in.tftpd sets umask 0 unless "
		    "--permissive or --umask: new files are 666\n"
		    "umask = \"000\";\n");
	else {
		(void)fprintf(m->out, "umask = \"022\";\n");
		note(m, "--permissive without --umask: in.tftpd keeps the "
		    "umask it was started with (022 from the init script, "
		    "usually)");
	}
	if (h->create && !h->permissive && h->umask_set &&
	    (h->umask & S_IWOTH) != 0)
		note(m, "--create with --umask %03lo and without --permissive: "
		    "in.tftpd creates each new\n#   file empty and then "
		    "refuses it (not world-writable); owltftpd accepts "
		    "the upload\n#   (its policy is about files that "
		    "exist)", h->umask & 0777);

	if (h->blocksize != 0)
		(void)fprintf(m->out, "blksize_max = %lu;\n", h->blocksize);
	else
		(void)fprintf(m->out, "# in.tftpd grants any blksize up to "
		    "65464; owltftpd's default is what fits\n# the MTU of "
		    "the interface (blksize_max = 0)\n");
	if (h->retransmit != 0) {
		(void)fprintf(m->out, "timeout_ms = %lu;\n",
		    (h->retransmit + 500) / 1000);
		if (h->retransmit % 1000 != 0)
			note(m, "--retransmit %lu us rounded to whole "
			    "milliseconds", h->retransmit);
	}
	if (h->portrange) {
		if (h->pr_lo == 0) {
			note(m, "--port-range %u:%u: port 0 is not a port; "
			    "from 1", h->pr_lo, h->pr_hi);
			h->pr_lo = 1;
		}
		(void)fprintf(m->out, "# each worker needs two ports of it "
		    "(old and new overlap during a reload)\n"
		    "port_range = \"%u:%u\";\n", h->pr_lo, h->pr_hi);
	}
	if (h->mapfile != NULL) {
		if (h->mapfile[0] != '/') {
			/* in.tftpd reads it after its chdir for --secure */
			(void)snprintf(path, sizeof path, "%s/%s", h->secure ?
			    h->dirs[0] : "", h->mapfile);
			note(m, "--map-file %s is relative: in.tftpd reads it "
			    "from %s", h->mapfile, h->secure ? h->dirs[0] :
			    "/");
		} else
			(void)strlcpy(path, h->mapfile, sizeof path);
		(void)fprintf(m->out, "# --map-file, read as in.tftpd reads "
		    "it; in.tftpd leaves backslashes alone\n");
		put_str(m, "remap_file", path);
		(void)fprintf(m->out, "remap_backslash = false;\n");
	}
	if (h->pidfile != NULL)
		put_str(m, "pid_file", h->pidfile);

	(void)fputc('\n', m->out);
	if (h->version)
		note(m, "--version: in.tftpd prints its version and exits, "
		    "so this file never ran a server");
	if (h->foreground)
		note(m, "--foreground: run owltftpd -F for that");
	if (h->waittime)
		note(m, "--timeout is for inetd; owltftpd runs standalone");
	if (h->refused[0] != '\0')
		note(m, "--refuse %s: owltftpd has no switch to refuse an "
		    "option (blksize_max,\n#   windowsize_max and multicast "
		    "bound what it grants)", h->refused);
	if (h->verbosity > 0)
		note(m, "--verbose: owltftpd logs every transfer at "
		    "log_level \"info\",\n#   its default%s",
		    h->verbosity >= 3 ? "; \"debug\" shows more" : "");
}

int
main(int argc, char **argv)
{
	struct hpa	 h;
	struct mig	 m;
	const char	*path = MIG_DEFAULTS;
	char		*text;
	int		 ch, i;

	while ((ch = getopt(argc, argv, "h")) != -1)
		usage();
	argc -= optind;
	argv += optind;
	if (argc > 1)
		usage();
	if (argc == 1)
		path = argv[0];

	memset(&h, 0, sizeof h);
	memset(&m, 0, sizeof m);
	m.label = path;
	/* Notes made while reading go after the header. */
	if ((m.out = open_memstream(&m.early, &m.earlylen)) == NULL)
		die("open_memstream: %s", strerror(errno));
	text = read_file(path);
	read_defaults(&h, text, &m);
	free(text);

	/* The init script's command line, word-split by the shell. */
	split_words(&h, "in.tftpd --listen --user");
	if (h.var[VAR_USERNAME] != NULL)
		split_words(&h, h.var[VAR_USERNAME]);
	split_words(&h, "--address");
	for (i = VAR_ADDRESS; i < VAR_MAX; i++)
		if (h.var[i] != NULL)
			split_words(&h, h.var[i]);
	parse_args(&h, &m);
	if (fclose(m.out) == EOF)
		die("open_memstream: %s", strerror(errno));
	m.out = stdout;
	convert(&h, &m);
	if (fflush(stdout) == EOF || ferror(stdout))
		die("standard output: %s", strerror(errno));
	for (i = 0; i < h.nwords; i++)
		free(h.words[i]);
	for (i = 0; i < VAR_MAX; i++)
		free(h.var[i]);
	free(m.early);
	return 0;
}
