/*
 * The compiled rules, shared by the remap files only (never include this
 * outside src/remap*.c: the rest of the daemon sees struct remap through
 * include/remap.h):
 *   remap.c        compiling rules: the regex checked and compiled, the
 *                  replacement parsed into pieces;
 *   remap-match.c  remap_apply(): the built-ins, then the rules on a name;
 *   remap-hpa.c    reading a tftp-hpa remap file into the same rules.
 */
#ifndef OWL_REMAP_INT_H
#define OWL_REMAP_INT_H

#include <limits.h>
#include <regex.h>
#include <stddef.h>

#include "remap.h"

#define REMAP_OPS_ALL	(REMAP_OP_READ | REMAP_OP_WRITE)

enum piece_type {
	PIECE_LIT,		/* lit[off .. off + len) */
	PIECE_REF,		/* back-reference number ref */
	PIECE_CLIENT,		/* the client address text */
	PIECE_HEX,		/* the client address in hex (tftp-hpa \x) */
	PIECE_CASE,		/* from here on: ref is enum remap_case */
};

/* tftp-hpa's \U, \L and \E: the case of what the replacement writes. */
enum remap_case {
	CASE_KEEP,
	CASE_UPPER,
	CASE_LOWER,
};

struct piece {
	enum piece_type	 type;
	size_t		 off;
	size_t		 len;
	unsigned	 ref;
};

struct rule {
	regex_t			 re;
	unsigned		 ops;
	enum remap_action	 action;
	int			 last;
	int			 global;
	int			 repeat;	/* tftp-hpa g: again on the result
						   until it does not match */
	int			 restart;	/* tftp-hpa s */
	int			 invert;	/* tftp-hpa ~: acts when the regex
						   does not match */
	int			 family;	/* 0, or 4 / 6: one family only */
	char			*lit;		/* unescaped literal text */
	struct piece		*pieces;
	size_t			 npieces;
};

struct remap {
	struct rule	**rules;
	size_t		 nrules;
	int		 restarts;	/* some rule has s: count steps */
	int		 hex;		/* some rule writes \x */
	int		 strip_nonprint;
	unsigned char	 map[UCHAR_MAX + 1];	/* backslash + lowercase */
};

/*
 * Check, compile and append r (allocated, its flags set; freed on
 * failure).  hpa: replace has tftp-hpa's escapes.
 */
int	 remap_add_rule(struct remap *, struct rule *, const char *,
	    const char *, int, int, char **);

#endif
