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
#include "xmalloc.h"

/* Long options beyond the keys: --help and --version. */
#define N_FIXED_LONGOPTS	2
/* getopt_long's value for the i-th key option. */
#define KEY_OPTION(i)		(0x100 + (int)(i))

/*
 * The options that set a configuration key come from the schema (its
 * flag column), sorted by flag: getopt order.
 */
struct overrides {
	struct conf_option	*opts;
	size_t			 n;
	struct option		*longopts;	/* for getopt_long() */
};

static int
option_cmp(const void *a, const void *b)
{
	return strcmp(((const struct conf_option *)a)->flag,
	    ((const struct conf_option *)b)->flag);
}

static void
overrides_load(struct overrides *ov)
{
	ov->n = conf_options(NULL, 0);
	ov->opts = xcalloc(ov->n, sizeof *ov->opts);
	(void)conf_options(ov->opts, ov->n);
	qsort(ov->opts, ov->n, sizeof *ov->opts, option_cmp);
}

/* The key options, then --help and --version, then the terminator. */
static void
overrides_longopts(struct overrides *ov)
{
	struct option	*longopts;
	size_t		 i;

	longopts = xcalloc(ov->n + N_FIXED_LONGOPTS + 1, sizeof *longopts);
	for (i = 0; i < ov->n; i++) {
		longopts[i].name = ov->opts[i].flag;
		longopts[i].has_arg = required_argument;
		longopts[i].val = KEY_OPTION(i);
	}
	longopts[i].name = "help";
	longopts[i].val = 'h';
	longopts[i + 1].name = "version";
	longopts[i + 1].val = 'V';
	ov->longopts = longopts;
}

static void __attribute__((noreturn))
usage(int code, const struct overrides *ov)
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
	for (i = 0; i < ov->n; i++) {
		(void)snprintf(flag, sizeof flag, "--%s %s", ov->opts[i].flag,
		    ov->opts[i].arg);
		(void)fprintf(f, "  %-24s %s\n", flag, ov->opts[i].help);
	}
	(void)fprintf(f, "See owltftpd(8) and owltftpd.conf(5).\n");
	exit(code);
}

/* -t: everything short of binding (accounts, root, directories). */
static int
test_only(struct conf *conf, int verbose)
{
	char	*cause = NULL;

	if (verbose > 0)
		conf_dump(conf, stdout);
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

/*
 * A relative -c path made absolute: a reload after detaching runs in /.
 * The buffer lives as long as the server (src.path points into it).
 */
static const char *
config_path(const char *path)
{
	static char	 abspath[PATH_MAX + 1];
	char		 cwd[PATH_MAX];

	if (path == NULL)
		return CONF_DEFAULT_PATH;
	if (path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL &&
	    snprintf(abspath, sizeof abspath, "%s/%s", cwd, path) <
	    (int)sizeof abspath)
		return abspath;
	return path;
}

int
main(int argc, char **argv)
{
	static struct overrides	 ov;	/* src.keys point into it */
	static struct conf_source src;	/* lives as long as the server */
	struct conf		*conf;
	char			*cause = NULL;
	int			 ch, idx, test = 0, foreground = 0;

	overrides_load(&ov);
	overrides_longopts(&ov);

	while ((ch = getopt_long(argc, argv, "c:FhtVv", ov.longopts, &idx)) !=
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
			usage(0, &ov);
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
			if (ch < KEY_OPTION(0) || ch >= KEY_OPTION(ov.n))
				usage(1, &ov);
			if (src.n == CONF_OVERRIDES_MAX) {
				(void)fprintf(stderr,
				    "owltftpd: too many options\n");
				return 1;
			}
			src.keys[src.n] = ov.opts[ch - KEY_OPTION(0)].key;
			src.values[src.n] = optarg;
			src.n++;
			break;
		}
	}
	if (optind != argc)
		usage(1, &ov);

	log_init(LOG_DEST_STDERR, LOG_INFO, "owltftpd");
	src.path = config_path(src.path);
	if ((conf = conf_build(&src, &cause)) == NULL) {
		(void)fprintf(stderr, "owltftpd: %s\n", cause);
		free(cause);
		return 1;
	}

	if (test)
		return test_only(conf, src.verbose);
	/* Standard error until the master has detached: startup errors
	 * must reach whoever started it.  log_format = "json" makes every
	 * line JSON from here on. */
	log_init(LOG_DEST_STDERR, conf->log_level, "owltftpd");
	if (conf->log_format)
		audit_set_format(AUDIT_JSON);
	log_libevent_init();
	return master_run(conf, &src, foreground, ctlcmd_table);
}
