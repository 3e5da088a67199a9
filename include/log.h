/* Logging: stderr in the foreground, syslog otherwise; client strings escaped. */
#ifndef OWL_LOG_H
#define OWL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include <sys/types.h>

/* Longest message logged whole: a JSON event (AUDIT_LINE_MAX) fits. */
#define LOG_MSG_MAX	4608
/* Room for the debug token list (OWLTFTPD_DEBUG), commas included. */
#define LOG_TOKENS_LEN	256

enum log_dest {
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
	LOG_DEST_FILE,		/* via log_open_file() */
};

/* Also reads the debug tokens from OWLTFTPD_DEBUG (log_set_debug_tokens). */
void	 log_init(enum log_dest, int level, const char *ident);
void	 log_set_role(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	 log_set_level(int level);
/*
 * Log to path from now on (appending; created 0640 and, when root,
 * chowned to owner so workers can reopen it).  -1 with errno.
 */
int	 log_open_file(const char *path, uid_t owner);
/* The log file's descriptor, or -1 (a forked worker keeps it). */
int	 log_file_fd(void);
/* After closing every descriptor in a child: reconnect to syslog. */
void	 log_reopen_syslog(void);
/* Reopen the log file (after logrotate moved it); no-op otherwise. */
int	 log_reopen(void);
int	 log_level(void);

/*
 * log_format = "json": fn renders each message (its syslog priority and
 * text) as one JSON object, no newline, into out; lines then carry that
 * object alone.  NULL: text lines.  The audit module provides fn, so this
 * file knows nothing of JSON.
 */
typedef void (*log_json_fn)(int pri, const char *msg, char *out,
    size_t outlen);
void	 log_set_json(log_json_fn);
/* Write an event already rendered as JSON as one log line, at info. */
void	 log_json_line(const char *json);
#define	 log_enabled(lvl)	((lvl) <= log_level())

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* A message at priority pri (LOG_DEBUG ... LOG_EMERG), if enabled. */
void	 log_at(int pri, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Debug tokens, as lldpd has them: a debug message names the part of the
 * server it comes from ("xfer", "chan", "io", "libevent"), and the list
 * of tokens set lets only those through, at log_level "debug".  The list
 * is comma- or space-separated; NULL or empty lets every token through
 * (and log_debug(), which names none, is never filtered).  A token is a
 * non-empty word without commas or blanks.
 */
void	 log_set_debug_tokens(const char *list);
/* Would log_debug_tok(token, ...) write anything? */
int	 log_debug_wanted(const char *token);
void	 log_debug_tok(const char *token, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Escape untrusted bytes for a log line: printable ASCII other than
 * backslash, quote and space passes, everything else becomes \xHH.
 * Always NUL-terminates; truncates to fit.  Returns out.
 */
char	*log_escape(const char *in, size_t inlen, char *out, size_t outlen);

/*
 * A rate limit for messages a flood could multiply: log_limit_ok() says
 * whether one more may be logged in the current second; when a new
 * second starts it logs how many were suppressed in the last one.
 */
struct log_limit {
	uint64_t	 second;
	unsigned	 count;
	unsigned	 suppressed;
};

int	 log_limit_ok(struct log_limit *, uint64_t now_us, unsigned per_second);

/* Route libevent's own messages through us. */
void	 log_libevent_init(void);

#endif
