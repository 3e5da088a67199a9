/*
 * owltftpd-migrate's state, shared by its own files only:
 *   migrate.c       main, and the messages (die, note);
 *   migrate-hpa.c   reading the defaults file as sh does, building the
 *                   init script's command line and parsing it as
 *                   in.tftpd does;
 *   migrate-conf.c  writing the owltftpd.conf, with a note for what
 *                   differs.
 */
#ifndef OWL_MIGRATE_INT_H
#define OWL_MIGRATE_INT_H

#include <stddef.h>
#include <stdio.h>

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

extern const char *const var_names[VAR_MAX];

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

/* migrate.c */
void	 die(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 note(struct mig *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* migrate-hpa.c */
char	*read_file(const char *);
void	 read_defaults(struct hpa *, const char *, struct mig *);
void	 split_words(struct hpa *, const char *);
void	 parse_args(struct hpa *, struct mig *);

/* migrate-conf.c */
void	 convert(struct hpa *, struct mig *);

#endif
