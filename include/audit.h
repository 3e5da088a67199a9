/*
 * The audit log: one JSON object per line for each event an operator or
 * a SIEM pipeline cares about (transfers, refusals, reloads, workers
 * starting and exiting), with stable field names (docs/logging.md).
 * Events go to audit_file when it is set, and into the ordinary log in
 * place of the text line when log_format is "json".  Client strings are
 * escaped so a line is always valid JSON.
 */
#ifndef OWL_AUDIT_H
#define OWL_AUDIT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define AUDIT_LINE_MAX	4096

enum audit_format {
	AUDIT_TEXT,
	AUDIT_JSON,
};

/*
 * Whether logs are JSON: with AUDIT_JSON every log line, not only the
 * events, is a JSON object (a "log" event for ordinary messages).  Set
 * as soon as the configuration is read, so no line of the run is text.
 */
void	 audit_set_format(enum audit_format);
/* Where events go: audit_file ("" = none), and whether logs are JSON. */
int	 audit_init(const char *path, enum audit_format, uid_t owner);
int	 audit_reopen(void);
int	 audit_fd(void);		/* -1 when no file */
/* Does anyone want JSON events? */
int	 audit_wanted(void);
/* Should the ordinary log carry JSON instead of text lines? */
int	 audit_json_log(void);

struct audit_buf {
	char	 buf[AUDIT_LINE_MAX];
	size_t	 len;
	int	 first;		/* no member written yet at this level */
	int	 depth;		/* nested objects open */
	int	 skip;		/* objects being left out (no room) */
};

/* Which process writes: a worker's slot, or -1 for the master. */
void	 audit_set_worker(int slot);
/* {"ts":"2026-11-25T02:40:14.123Z","event":EVENT,"worker":SLOT ... */
void	 audit_begin(struct audit_buf *, const char *event);
void	 audit_str(struct audit_buf *, const char *key, const char *s);
void	 audit_strn(struct audit_buf *, const char *key, const char *s,
	    size_t len);
void	 audit_u64(struct audit_buf *, const char *key, uint64_t);
void	 audit_i64(struct audit_buf *, const char *key, int64_t);
void	 audit_obj_begin(struct audit_buf *, const char *key);
void	 audit_obj_end(struct audit_buf *);
/* Close the object; the finished line (NUL-terminated, no newline). */
const char *audit_end(struct audit_buf *);
/* audit_end(), then write it where it is wanted. */
void	 audit_emit(struct audit_buf *);

/* JSON-escape len bytes of s into out (outlen), quotes not included. */
size_t	 audit_escape(const char *s, size_t len, char *out, size_t outlen);

#endif
