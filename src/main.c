/*
 * owltftpd: read the configuration (file, then command line), check it,
 * and hand it to the master.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "ctlcmd.h"
#include "log.h"
#include "master.h"
#include "preflight.h"

/* Long options that set a configuration key, in getopt order. */
static const struct {
	const char	*flag;
	const char	*key;
	const char	*arg;	/* for -h */
} overrides_table[] = {
	{ "blksize-max",	"blksize_max",		"N" },
	{ "group",		"group",		"GROUP" },
	{ "listen",		"listen",		"ADDR[:PORT]" },
	{ "port",		"port",			"PORT" },
	{ "root",		"root",			"DIR" },
	{ "uploads",		"uploads",		"POLICY" },
	{ "user",		"user",			"USER" },
	{ "windowsize-max",	"windowsize_max",	"N" },
	{ "workers",		"workers",		"N" },
};
#define N_OVERRIDES	(sizeof overrides_table / sizeof overrides_table[0])

static void __attribute__((noreturn))
usage(int code)
{
	FILE	*f = code == 0 ? stdout : stderr;
	char	 flag[40];
	size_t	 i;

	(void)fprintf(f, "usage: owltftpd [-FhtVv] [-c file] [--KEY value ...]\n"
	    "  -c FILE                  configuration file (default %s)\n"
	    "  -F                       stay in the foreground, log to "
	    "standard error\n"
	    "  -h, --help               this help\n"
	    "  -t                       check the configuration and what it "
	    "needs from\n"
	    "                           this machine, then exit\n"
	    "  -V, --version            print the version\n"
	    "  -v                       more log messages (repeat for more)\n"
	    "Settings of the configuration file the command line "
	    "overrides:\n", CONF_DEFAULT_PATH);
	for (i = 0; i < N_OVERRIDES; i++) {
		(void)snprintf(flag, sizeof flag, "--%s %s",
		    overrides_table[i].flag, overrides_table[i].arg);
		(void)fprintf(f, "  %-24s %s\n", flag,
		    conf_key_help(overrides_table[i].key));
	}
	(void)fprintf(f, "See owltftpd(8) and owltftpd.conf(5).\n");
	exit(code);
}

int
main(int argc, char **argv)
{
	struct option		 longopts[N_OVERRIDES + 3];
	static struct conf_source src;	/* lives as long as the server */
	static char		 abspath[PATH_MAX + 1];
	char			 cwd[PATH_MAX];
	struct conf		*conf;
	char			*cause = NULL;
	size_t			 i;
	int			 ch, idx, test = 0, foreground = 0, rc;

	memset(longopts, 0, sizeof longopts);
	for (i = 0; i < N_OVERRIDES; i++) {
		longopts[i].name = overrides_table[i].flag;
		longopts[i].has_arg = required_argument;
		longopts[i].val = 0x100 + (int)i;
	}
	longopts[i].name = "help";
	longopts[i].val = 'h';
	longopts[i + 1].name = "version";
	longopts[i + 1].val = 'V';

	while ((ch = getopt_long(argc, argv, "c:FhtVv", longopts, &idx)) !=
	    -1) {
		switch (ch) {
		case 'c':
			src.path = optarg;
			src.must_exist = 1;
			break;
		case 'F':
			foreground = 1;
			break;
		case 'h':
			usage(0);
		case 't':
			test = 1;
			break;
		case 'V':
			(void)printf("owltftpd %s\n", PACKAGE_VERSION);
			return 0;
		case 'v':
			src.verbose++;
			break;
		default:
			if (ch < 0x100 || ch >= 0x100 + (int)N_OVERRIDES)
				usage(1);
			if (src.n == CONF_OVERRIDES_MAX) {
				(void)fprintf(stderr,
				    "owltftpd: too many options\n");
				return 1;
			}
			src.keys[src.n] = overrides_table[ch - 0x100].key;
			src.values[src.n] = optarg;
			src.n++;
			break;
		}
	}
	if (optind != argc)
		usage(1);

	log_init(LOG_DEST_STDERR, LOG_INFO, "owltftpd");
	if (src.path == NULL)
		src.path = CONF_DEFAULT_PATH;
	else if (src.path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL &&
	    snprintf(abspath, sizeof abspath, "%s/%s", cwd, src.path) <
	    (int)sizeof abspath)
		src.path = abspath;	/* a reload after detaching runs in / */
	if ((conf = conf_build(&src, &cause)) == NULL) {
		(void)fprintf(stderr, "owltftpd: %s\n", cause);
		free(cause);
		return 1;
	}

	if (test) {
		if (src.verbose > 0)
			conf_dump(conf, stdout);
		/* Everything short of binding: accounts, root, directories. */
		if (preflight_check(conf, PREFLIGHT_ALL, &cause) == -1) {
			(void)fprintf(stderr, "owltftpd: %s\n", cause);
			free(cause);
			conf_free(conf);
			return 1;
		}
		(void)fprintf(stderr, "owltftpd: configuration %s is valid\n",
		    conf->path != NULL ? conf->path : "(defaults)");
		conf_free(conf);
		return 0;
	}
	/* Standard error until the master has detached: startup errors
	 * must reach whoever started it.  log_format = "json" makes every
	 * line JSON from here on. */
	log_init(LOG_DEST_STDERR, conf->log_level, "owltftpd");
	if (conf->log_format)
		audit_set_format(AUDIT_JSON);
	log_libevent_init();
	rc = master_run(conf, &src, foreground, ctlcmd_table);
	return rc;
}
