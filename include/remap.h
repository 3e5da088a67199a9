/*
 * Client file name rewriting: built-in clean-ups, then an ordered list of
 * POSIX extended regex rules that rewrite or deny a name, per operation.
 * Rules are built at configuration time (allocating, fatal on memory
 * exhaustion); remap_apply() runs on the request path and allocates
 * nothing itself, makes no syscalls and does not log.
 */
#ifndef OWL_REMAP_H
#define OWL_REMAP_H

#include <stddef.h>

#define REMAP_OP_READ	0x1
#define REMAP_OP_WRITE	0x2

/*
 * Bounds for remap_apply().  A name is worked on in buffers of at most
 * REMAP_NAME_MAX bytes (NUL included), whatever outlen is, and a global
 * rule makes at most REMAP_SUBST_MAX substitutions; past either bound the
 * result is REMAP_TOOLONG, never a truncated or half-rewritten name.
 */
#define REMAP_NAME_MAX	4096
#define REMAP_SUBST_MAX	512
/* Rules tried per name once a tftp-hpa "s" rule exists (in.tftpd's). */
#define REMAP_STEPS_MAX	1024

enum remap_action {
	REMAP_REWRITE,
	REMAP_DENY,
	REMAP_MATCH,		/* tftp-hpa files only: e, s, ~ act on a match */
};

enum remap_result {
	REMAP_OK,
	REMAP_DENIED,
	REMAP_TOOLONG,
};

struct remap;

struct remap	*remap_new(void);
void		 remap_free(struct remap *);
/*
 * Built-in switches applied, in this order, before the rules:
 * strip_nonprint: drop a trailing run of bytes < 0x20, 0x7f, or bytes that
 * do not end a valid UTF-8 character, such as 0xff (some UEFI
 * firmware appends garbage); backslash: '\\' -> '/'; lowercase: ASCII
 * lowercase.  Defaults: strip_nonprint 1, backslash 1, lowercase 0.
 */
void		 remap_set_builtins(struct remap *, int strip_nonprint,
		    int backslash, int lowercase);
/*
 * Append a rule: POSIX extended regex (regcomp REG_EXTENDED, plus REG_ICASE
 * when icase), applied to the whole current name; ops is a mask of
 * REMAP_OP_*; REWRITE replaces the matched part with replace, where \0..\9
 * are back-references, \i is the client's address as text (e.g. 192.0.2.7 or
 * 2001:db8::1), \\ is a backslash, and any other \x is an error; DENY refuses
 * the request when the rule matches (replace ignored, may be NULL); last:
 * stop after this rule if it matched; global: replace every non-overlapping
 * match.  A back-reference to a group the regex does not have is an error;
 * one to a group that took no part in the match expands to nothing.  An
 * empty match right after the previous match is not replaced (as sed does),
 * so "x*" cannot loop.  -1 and *cause (allocated string: the regerror text
 * or what is wrong with replace or ops) on error.
 */
int		 remap_add(struct remap *, const char *match,
		    const char *replace, unsigned ops, enum remap_action,
		    int icase, int last, int global, char **cause);
/*
 * Append the rules of a tftp-hpa remap file (in.tftpd -m FILE), len
 * bytes of text, taking them as in.tftpd 5.2 does:
 *  - a line is OPERATIONS REGEX [REPLACEMENT]; fields are separated by
 *    white space, a backslash keeps the next byte in the field, and an
 *    unescaped '#' starts a comment; further fields are ignored;
 *  - operations: r rewrite (the first match), g with r: again on the
 *    result until it no longer matches, i REG_ICASE, e stop after a
 *    match, s after a match start over -- from the second rule, as
 *    in.tftpd does --, a refuse, ~ act when the regex does not match
 *    (not with r), G reads only, P writes only (the last of G and P
 *    counts), 4 / 6 IPv4 / IPv6 clients only; a rule without r or a only
 *    matches, for e and s;
 *  - replacement: \0..\9 (a group the regex lacks expands to nothing),
 *    \i the client's address, \x the same in hex (C00002A9), \U \L \E
 *    upper case, lower case, as is from there on; any other escaped
 *    byte stands for itself;
 *  - with an s rule, a name that takes more than REMAP_STEPS_MAX rules
 *    is refused, as is a g rule still matching after REMAP_SUBST_MAX
 *    rounds (where in.tftpd would loop forever).
 * An a rule's replacement (in.tftpd's error message) is ignored: the
 * client is told "access denied".  -1 and *cause ("label:LINE:
 * problem") on error; rules of the lines before it stay appended.
 */
int		 remap_load_hpa(struct remap *, const char *text, size_t len,
		    const char *label, char **cause);
/*
 * Move every rule of src, compiled already, behind the rules of dst, and
 * free src.  dst keeps its own built-in switches.
 */
void		 remap_append(struct remap *dst, struct remap *src);
size_t		 remap_count(const struct remap *);
/*
 * Apply builtins then the rules in order to in (a NUL-terminated client
 * file name) for op (REMAP_OP_READ or _WRITE) from a client whose address
 * text is client (may be NULL: \i expands to nothing).  Writes the result
 * to out (outlen bytes incl. NUL).  REMAP_TOOLONG if any intermediate
 * result does not fit (never truncate silently; see REMAP_NAME_MAX and
 * REMAP_SUBST_MAX).  REMAP_DENIED when a DENY rule matches, or when
 * regexec fails other than by not matching (fail closed).  Unless the
 * result is REMAP_OK, out holds the empty string (when outlen > 0).
 * No allocation by this module: a fixed REMAP_NAME_MAX stack buffer and a
 * regmatch_t[10].
 */
enum remap_result remap_apply(const struct remap *, unsigned op,
		    const char *in, const char *client, char *out,
		    size_t outlen);

#endif
