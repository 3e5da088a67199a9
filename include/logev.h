/*
 * Events: what the server reports about a transfer, a refusal, a reload
 * or a worker starting and exiting, built once with one call chain:
 *
 *	struct logev	 e;
 *
 *	logev_begin(&e, "refused", LOG_INFO);
 *	logev_text(&e, LOGEV_TEXT_REFUSED);
 *	logev_str(&e, "peer", name);
 *	...
 *	logev_emit(&e);
 *
 * logev_emit() writes the event as a JSON object (audit.h) to audit_file
 * when one is set, and into the log: as that JSON object with log_format
 * "json", otherwise as the text line its template makes, if it has one.
 * Field names are the JSON names of docs/logging.md, and fields come out
 * in JSON in the order they were added.
 *
 * Strings are not copied: they are read by logev_emit(), so they must
 * stay valid and unchanged until then.  Recording a field costs a few
 * stores; logev_wanted() tells a caller whether preparing one is worth
 * it.
 */
#ifndef OWL_LOGEV_H
#define OWL_LOGEV_H

#include <stddef.h>
#include <stdint.h>

struct audit_buf;

/*
 * Text templates.  The text line of an event is not its JSON with other
 * key names: it puts fields in another order (op before file), renames
 * some (ms for duration_ms), leaves some out (error), and the refusal of
 * a request that never became a transfer is a sentence.  So rather than
 * giving every field a second name, the event gets a template:
 *
 *	{name}		the value of the top-level field name (nothing if
 *			there is none); an object as its members, "k=v k=v"
 *	[ ... ]		this part only if every {name} in it exists; nests
 *
 * Any other byte is copied.  Server-made strings are copied as they are,
 * client strings (logev_client) escaped with log_escape().
 */
#define LOGEV_TEXT_TRANSFER						\
	"xfer end peer={peer} op={op} file={file}[ path={path}] "	\
	"mode={mode} opts=\"{options}\" bytes={bytes} ms={duration_ms} "	\
	"retrans={retransmits} dup={dup} send_failed={send_failed} "	\
	"result={result} code={error_code}"				\
	"[ reason={reason}[ detail=\"{detail}\"]]"
/* A request refused before it became a transfer. */
#define LOGEV_TEXT_REFUSED						\
	"request from {peer} refused: {error} reason={reason}"

#define LOGEV_FIELDS_MAX	32	/* fields and object brackets */

enum logev_type {
	LOGEV_T_STR,		/* server-made text */
	LOGEV_T_CLIENT,		/* bytes a client sent */
	LOGEV_T_U64,
	LOGEV_T_I64,
	LOGEV_T_OBJ,		/* an object opens: members follow */
	LOGEV_T_END,		/* and closes */
};

struct logev_field {
	const char		*key;
	enum logev_type		 type;
	const char		*s;
	size_t			 len;
	uint64_t		 u;
	int64_t			 i;
};

struct logev {
	const char		*event;
	const char		*text;		/* template, NULL: no line */
	int			 level;		/* of the text line */
	size_t			 n;		/* fields recorded */
	size_t			 depth;		/* objects open */
	size_t			 skip;		/* objects left out (full) */
	struct logev_field	 f[LOGEV_FIELDS_MAX];
};

/*
 * level is the syslog priority of the text line (LOG_INFO, LOG_DEBUG).
 * With log_format "json" the event goes into the log at LOG_INFO, as
 * audit events always have, whatever level says.
 */
void	 logev_begin(struct logev *, const char *event, int level);
/* The event's text line; without one it is only ever JSON. */
void	 logev_text(struct logev *, const char *tmpl);
void	 logev_str(struct logev *, const char *key, const char *s);
void	 logev_strn(struct logev *, const char *key, const char *s,
	    size_t len);
/* A string from the network: escaped in the text line. */
void	 logev_client(struct logev *, const char *key, const char *s);
void	 logev_u64(struct logev *, const char *key, uint64_t);
void	 logev_i64(struct logev *, const char *key, int64_t);
/* An object (in text: its members as "k=v", space-separated). */
void	 logev_obj_begin(struct logev *, const char *key);
void	 logev_obj_end(struct logev *);
/* Would logev_emit() write anything anywhere? */
int	 logev_wanted(const struct logev *);
void	 logev_emit(struct logev *);

/* The two renderings, for logev_emit() and for tests. */
const char *logev_render_json(const struct logev *, struct audit_buf *);
const char *logev_render_text(const struct logev *, char *out,
	    size_t outlen);

#endif
