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
 *
 * Here: main and the messages.  Reading the file and the command line
 * is migrate-hpa.c's, writing the configuration migrate-conf.c's; what
 * they share is in migrate-int.h.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate-int.h"

const char *const var_names[VAR_MAX] = {
	[VAR_USERNAME] = "TFTP_USERNAME",
	[VAR_ADDRESS] = "TFTP_ADDRESS",
	[VAR_OPTIONS] = "TFTP_OPTIONS",
	[VAR_DIRECTORY] = "TFTP_DIRECTORY",
};

static void	 usage(void) __attribute__((noreturn));

static void
usage(void)
{
	(void)fprintf(stderr, "usage: owltftpd-migrate [file]\n");
	exit(2);
}

void
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

void
note(struct mig *m, const char *fmt, ...)
{
	va_list	 ap;

	(void)fprintf(m->out, "# NOTE: ");
	va_start(ap, fmt);
	(void)vfprintf(m->out, fmt, ap);
	va_end(ap);
	(void)fputc('\n', m->out);
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
