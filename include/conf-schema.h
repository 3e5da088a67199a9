/*
 * The configuration's insides, shared by its files and nothing else:
 *
 *	conf-table.c	the schema: every key, its type, range, default,
 *			help and command-line flag (the one place to add
 *			a key)
 *	conf.c		the engine: sources read in two steps (parse all,
 *			then store all), conf_finish(), conf_dump()
 *	conf-types.c	each value type: parsed from text or a list,
 *			stored, dumped and freed
 *	conf-acl.c	the access lists: compiled, kept as written, dumped
 *	conf-remap.c	the remap groups: parsed, kept as written, dumped
 *	conf-scan.c	the guard against libconfig's 32-bit int wrap
 *
 * Messages are "FILE:LINE: key: problem", or "command line: --key:
 * problem" for a value from the command line (struct conf_where).
 */
#ifndef OWL_CONF_SCHEMA_H
#define OWL_CONF_SCHEMA_H

#include <libconfig.h>
#include <stddef.h>
#include <stdio.h>

#include "conf.h"
#include "origin.h"

struct acl;
struct remap;

enum conf_type {
	CONF_T_STRING,		/* min/max: length */
	CONF_T_INT,
	CONF_T_BOOL,
	CONF_T_CHOICE,		/* a string from the entry's choices */
	CONF_T_OCTAL,		/* a string of octal digits */
	CONF_T_LISTEN,		/* a string or a list of them */
	CONF_T_ACL,		/* a string or a list of them: acl rules */
	CONF_T_REMAP,		/* a list of groups: remap rules */
	CONF_T_ADDR,		/* ADDR:PORT or [ADDR]:PORT, "" = unset;
				   min/max: length */
	CONF_T_PORTRANGE,	/* LO:HI, "" = any; min/max: length */
	CONF_T_MCRANGE,		/* IPv4 groups ADDR[-ADDR]; min/max: length */
	CONF_T_MCRANGE6,	/* IPv6 groups ADDR[-ADDR], "" = none */
	CONF_T_ORIGINS,		/* a list of groups: HTTP origins */
};

struct conf_choice {
	const char	*name;
	int		 value;
};

struct conf_entry {
	const char			*name;
	enum conf_type			 type;
	long long			 min;
	long long			 max;
	const char			*dflt;	/* text; NULL: unset */
	const struct conf_choice	*choices;
	size_t				 off;	/* in struct conf */
	size_t				 size;
	size_t				 aux;	/* in struct conf_priv: the
						   text kept for conf_dump() */
	const char			*help;	/* one line */
	const char			*flag;	/* owltftpd --FLAG sets it;
						   NULL: the file only */
	const char			*arg;	/* its argument, for -h */
};

#define CONF_FIELD(m)	.off = offsetof(struct conf, m),		\
			.size = sizeof(((struct conf *)0)->m)
#define CONF_AUX(m)	.aux = offsetof(struct conf_priv, m)
#define CONF_PRIV(c)	((struct conf_priv *)(c))
#define CONF_CPRIV(c)	((const struct conf_priv *)(c))

/* conf-table.c */
extern const struct conf_entry	 conf_table[];
extern const size_t		 conf_table_size;
extern const struct conf_choice	 conf_uploads_choices[];
extern const char *const	 conf_listen_defaults[];
extern const size_t		 conf_nlisten_defaults;

/* An access list's rules as written. */
struct conf_acl_text {
	char		**rules;
	size_t		  n;
};

/* One remap rule as written (match and replace are owned). */
struct conf_remap_rule {
	char			*match;
	char			*replace;	/* NULL: not given */
	unsigned		 ops;		/* REMAP_OP_* mask */
	int			 action;	/* enum remap_action */
	int			 icase;
	int			 last;
	int			 global;
};

struct conf_remap_text {
	struct conf_remap_rule	*rules;
	size_t			 n;
};

/*
 * What conf_new() allocates: the public struct first, so a struct conf
 * pointer is also a pointer to this, then what only the conf files see.
 */
struct conf_priv {
	struct conf		 pub;
	struct conf_acl_text	 read_acl;
	struct conf_acl_text	 write_acl;
	struct conf_remap_text	 remap;
};

/*
 * One parsed value, before it is stored.  The acl and remap members are
 * owned: conf_store() takes them, conf_value_clear() frees what is left.
 */
struct conf_value {
	long long		 num;
	const char		*str;	/* borrowed */
	struct conf_listen	 listen[CONF_LISTEN_MAX];
	size_t			 nlisten;
	union {			/* CONF_T_ADDR, _PORTRANGE, _MCRANGE{,6} */
		struct conf_listen	 addr;
		struct conf_port_range	 port_range;
		struct conf_mcast_range	 mcast_range;
		struct conf_mcast_range6 mcast_range6;
	}			 typed;
	struct acl		*acl;
	struct conf_acl_text	 acl_text;
	struct remap		*remap;
	struct conf_remap_text	 remap_text;
	struct origin_set	 origins;
};

/* Where a value came from: a file and line, or the command line. */
struct conf_where {
	const char	*file;		/* NULL: the command line */
	unsigned	 line;
};

typedef int	 conf_text_fn(const struct conf_entry *, const char *,
		    const struct conf_where *, struct conf_value *, char **);
typedef int	 conf_list_fn(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
typedef void	 conf_dump_fn(const struct conf_entry *,
		    const struct conf *, FILE *);

struct conf_type_info {
	const char	*expect;	/* "expected ..." */
	unsigned	 accepts;	/* CONF_ACCEPT(libconfig type) bits */
	conf_text_fn	*from_text;
	conf_list_fn	*from_list;	/* arrays and lists, if accepted */
	conf_dump_fn	*dump;
};

#define CONF_ACCEPT(t)	(1U << (t))

/* conf.c */
char		*conf_msg(const struct conf_where *, const char *,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
void		 conf_where_setting(struct conf_where *,
		    const config_setting_t *, const char *);
const char	*conf_setting_type_name(int);

/* conf-types.c */
extern const struct conf_type_info conf_types[];
/* Store v into conf, taking what it owns; free a stored field. */
void		 conf_store(struct conf *, const struct conf_entry *,
		    struct conf_value *);
void		 conf_field_free(struct conf *, const struct conf_entry *);
void		 conf_value_clear(struct conf_value *);
/* shown: the value as the user wrote it, or NULL to print n. */
int		 conf_check_range(const struct conf_entry *, long long,
		    const char *, const struct conf_where *, char **);
int		 conf_choice_find(const struct conf_choice *, const char *,
		    int *);
const char	*conf_choice_name(const struct conf_choice *, int);
/* "a, b, c" into buf. */
void		 conf_choice_join(const struct conf_choice *, char *, size_t);
/* text into l, kept as written; -1 and *why if malformed. */
int		 conf_listen_parse(const char *, struct conf_listen *,
		    const char **);
/* Append l to list (n entries), refusing duplicates and overflow. */
int		 conf_listen_add(const struct conf_entry *,
		    struct conf_listen *, size_t *, const struct conf_listen *,
		    const struct conf_where *, char **);
/*
 * Give each string of the list s to each(), with the line of its
 * element; an element that is not a string is refused.
 */
int		 conf_list_strings(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, conf_text_fn *each, char **cause);
/*
 * One group of a list (conf_list_groups()): key is "NAME[N]", w its
 * line, i its index from 0.
 */
typedef int	 conf_group_fn(const char *key, const config_setting_t *g,
		    const struct conf_where *w, int i, struct conf_value *v,
		    char **cause);
int		 conf_list_groups(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, conf_group_fn *each, char **cause);
/* A libconfig string literal. */
void		 conf_dump_quoted(FILE *, const char *);

/* conf-acl.c: the conf_types[] functions of CONF_T_ACL */
int		 conf_acl_from_text(const struct conf_entry *, const char *,
		    const struct conf_where *, struct conf_value *, char **);
int		 conf_acl_from_list(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
void		 conf_acl_dump(const struct conf_entry *,
		    const struct conf *, FILE *);
/* An empty list (everyone allowed). */
struct acl	*conf_acl_new(void);
void		 conf_acl_text_free(struct conf_acl_text *);

/* conf-origin.c: the conf_types[] functions of CONF_T_ORIGINS */
int		 conf_origins_from_text(const struct conf_entry *,
		    const char *, const struct conf_where *,
		    struct conf_value *, char **);
int		 conf_origins_from_list(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
void		 conf_origins_dump(const struct conf_entry *,
		    const struct conf *, FILE *);

/* conf-remap.c: the conf_types[] functions of CONF_T_REMAP */
int		 conf_remap_from_text(const struct conf_entry *, const char *,
		    const struct conf_where *, struct conf_value *, char **);
int		 conf_remap_from_list(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
void		 conf_remap_dump(const struct conf_entry *,
		    const struct conf *, FILE *);
void		 conf_remap_text_free(struct conf_remap_text *);

/* conf-scan.c */
/*
 * Refuse an integer literal libconfig 1.5 would wrap; -1 and
 * "LABEL:LINE: ..." in *cause.
 */
int		 conf_scan_ints(const char *text, const char *label,
		    char **cause);

#endif
