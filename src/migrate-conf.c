/*
 * owltftpd-migrate, the owltftpd side: what in.tftpd makes of its
 * command line written as an equivalent owltftpd.conf (root and remap
 * rules, user, listen addresses, upload policy, limits, files), with a
 * "# NOTE:" comment for whatever has no owltftpd equivalent or works
 * differently.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "migrate-int.h"

static void	 put_str(struct mig *, const char *, const char *);
static void	 put_quoted(FILE *, const char *);
static void	 put_prefix_regex(FILE *, const char *);
static int	 numeric_ipv6(const char *);
static unsigned long listen_port(const char *);
static int	 listen_addr(struct hpa *, struct mig *, int, const char *,
		    char *);
static void	 convert_listen(struct hpa *, struct mig *);
static void	 convert_root(struct hpa *, struct mig *);
static void	 convert_header(struct hpa *, struct mig *);
static void	 convert_uploads(struct hpa *, struct mig *);
static void	 convert_limits(struct hpa *, struct mig *);
static void	 convert_files(struct hpa *, struct mig *);
static void	 convert_ignored(struct hpa *, struct mig *);

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

/* The port of --address [ADDR][:PORT], as in.tftpd resolves it. */
static unsigned long
listen_port(const char *port)
{
	struct servent	*se;
	char		*ep;
	unsigned long	 n;

	if (port == NULL || *port == '\0')
		n = 69;
	else if ((se = getservbyname(port, "udp")) != NULL)
		n = ntohs((uint16_t)se->s_port);
	else if ((n = strtoul(port, &ep, 0)) == 0 || *ep != '\0' ||
	    n > 65535)
		die("in.tftpd would not start: cannot resolve local bind "
		    "port: %s", port);
	return n;
}

/*
 * The address a of family fam, numeric, to buf (INET6_ADDRSTRLEN
 * bytes): the wildcard when a is empty.  -1 (noted) if a has no address
 * of that family.
 */
static int
listen_addr(struct hpa *h, struct mig *m, int fam, const char *a, char *buf)
{
	struct addrinfo	 hints, *res;
	struct in_addr	 in4;

	if (*a == '\0') {
		(void)strlcpy(buf, fam == AF_INET ? "0.0.0.0" : "::",
		    INET6_ADDRSTRLEN);
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
			return -1;
		}
		if (fam == AF_INET)
			(void)inet_ntop(fam, &((struct sockaddr_in *)
			    res->ai_addr)->sin_addr, buf, INET6_ADDRSTRLEN);
		else
			(void)inet_ntop(fam, &((struct sockaddr_in6 *)
			    res->ai_addr)->sin6_addr, buf, INET6_ADDRSTRLEN);
		freeaddrinfo(res);
		if (strcmp(buf, a) != 0 && strchr(a, ':') == NULL &&
		    !inet_aton(a, &in4))
			note(m, "--address: %s is %s now; owltftpd "
			    "needs a numeric address", a, buf);
	}
	return 0;
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

	n = listen_port(port);

	for (fam = AF_INET; fam != 0; fam = fam == AF_INET ? AF_INET6 : 0) {
		if ((fam == AF_INET && !has4) || (fam == AF_INET6 && !has6))
			continue;
		if (listen_addr(h, m, fam, a, buf) == -1)
			continue;
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

/* Where it comes from: the variables and the command line. */
static void
convert_header(struct hpa *h, struct mig *m)
{
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
}

/* Uploads and permissions: --create, --permissive, --umask. */
static void
convert_uploads(struct hpa *h, struct mig *m)
{
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
}

/* Blocks, timeouts and ports. */
static void
convert_limits(struct hpa *h, struct mig *m)
{
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
}

/* The map file and the pid file. */
static void
convert_files(struct hpa *h, struct mig *m)
{
	char	 path[4096];

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
}

/* What owltftpd has no switch for, noted. */
static void
convert_ignored(struct hpa *h, struct mig *m)
{
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

/* The whole configuration, notes where they apply, to m->out. */
void
convert(struct hpa *h, struct mig *m)
{
	convert_header(h, m);
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

	convert_uploads(h, m);
	convert_limits(h, m);
	convert_files(h, m);

	(void)fputc('\n', m->out);
	convert_ignored(h, m);
}
