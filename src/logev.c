/*
 * Events, rendered once as JSON (audit.c builds the object) and as a
 * text line from the event's template: see logev.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "log.h"
#include "logev.h"

void
logev_begin(struct logev *e, const char *event, int level)
{
	e->event = event;
	e->text = NULL;
	e->level = level;
	e->n = 0;
	e->depth = 0;
	e->skip = 0;
}

void
logev_text(struct logev *e, const char *tmpl)
{
	e->text = tmpl;
}

/*
 * The next free field, or NULL when the event is full.  Every open
 * object keeps a slot for its end, so what was recorded stays balanced.
 */
static struct logev_field *
field(struct logev *e, const char *key, enum logev_type type, size_t more)
{
	struct logev_field	*f;

	if (e->skip > 0 || e->n + e->depth + 1 + more > LOGEV_FIELDS_MAX)
		return NULL;
	f = &e->f[e->n++];
	memset(f, 0, sizeof *f);
	f->key = key;
	f->type = type;
	return f;
}

static void
string(struct logev *e, const char *key, enum logev_type type,
    const char *s, size_t len)
{
	struct logev_field	*f;

	if ((f = field(e, key, type, 0)) != NULL) {
		f->s = s;
		f->len = len;
	}
}

void
logev_str(struct logev *e, const char *key, const char *s)
{
	string(e, key, LOGEV_T_STR, s, strlen(s));
}

void
logev_strn(struct logev *e, const char *key, const char *s, size_t len)
{
	string(e, key, LOGEV_T_STR, s, len);
}

void
logev_client(struct logev *e, const char *key, const char *s)
{
	string(e, key, LOGEV_T_CLIENT, s, strlen(s));
}

void
logev_u64(struct logev *e, const char *key, uint64_t v)
{
	struct logev_field	*f;

	if ((f = field(e, key, LOGEV_T_U64, 0)) != NULL)
		f->u = v;
}

void
logev_i64(struct logev *e, const char *key, int64_t v)
{
	struct logev_field	*f;

	if ((f = field(e, key, LOGEV_T_I64, 0)) != NULL)
		f->i = v;
}

void
logev_obj_begin(struct logev *e, const char *key)
{
	/* An object that does not fit is left out whole, as in audit.c. */
	if (field(e, key, LOGEV_T_OBJ, 1) == NULL)
		e->skip++;
	else
		e->depth++;
}

void
logev_obj_end(struct logev *e)
{
	if (e->skip > 0) {
		e->skip--;
		return;
	}
	if (e->depth == 0)
		return;
	e->depth--;
	e->f[e->n++] = (struct logev_field){ .type = LOGEV_T_END };
}

/* JSON -------------------------------------------------------------------- */

/* The object, left open for audit_end() or audit_emit(). */
static void
json_fields(const struct logev *e, struct audit_buf *b)
{
	const struct logev_field	*f;
	size_t				 i;

	audit_begin(b, e->event);
	for (i = 0; i < e->n; i++) {
		f = &e->f[i];
		switch (f->type) {
		case LOGEV_T_STR:
		case LOGEV_T_CLIENT:
			audit_strn(b, f->key, f->s, f->len);
			break;
		case LOGEV_T_U64:
			audit_u64(b, f->key, f->u);
			break;
		case LOGEV_T_I64:
			audit_i64(b, f->key, f->i);
			break;
		case LOGEV_T_OBJ:
			audit_obj_begin(b, f->key);
			break;
		case LOGEV_T_END:
			audit_obj_end(b);
			break;
		}
	}
}

const char *
logev_render_json(const struct logev *e, struct audit_buf *b)
{
	json_fields(e, b);
	return audit_end(b);
}

/* Text -------------------------------------------------------------------- */

/* A line being built; cut, never overrun, when it does not fit. */
struct line {
	char	*buf;
	size_t	 len;
	size_t	 cap;		/* > 0; one byte always kept for the NUL */
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > l->cap - 1 - l->len)
		n = l->cap - 1 - l->len;
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void
put_value(struct line *l, const struct logev_field *f)
{
	char	 num[24];
	int	 n = 0;

	switch (f->type) {
	case LOGEV_T_STR:
		put(l, f->s, f->len);
		break;
	case LOGEV_T_CLIENT:
		(void)log_escape(f->s, f->len, l->buf + l->len,
		    l->cap - l->len);
		l->len += strlen(l->buf + l->len);
		break;
	case LOGEV_T_U64:
		n = snprintf(num, sizeof num, "%" PRIu64, f->u);
		break;
	case LOGEV_T_I64:
		n = snprintf(num, sizeof num, "%" PRId64, f->i);
		break;
	default:
		break;
	}
	if (n > 0)
		put(l, num, (size_t)n);
}

/* An object's own members as "k=v k=v"; nested objects are left out. */
static void
put_members(struct line *l, const struct logev *e, size_t i)
{
	size_t	 depth = 0, n = 0;

	for (i++; i < e->n; i++) {
		const struct logev_field	*f = &e->f[i];

		if (f->type == LOGEV_T_END) {
			if (depth == 0)
				return;
			depth--;
		} else if (f->type == LOGEV_T_OBJ)
			depth++;
		else if (depth == 0) {
			if (n++ > 0)
				put(l, " ", 1);
			put(l, f->key, strlen(f->key));
			put(l, "=", 1);
			put_value(l, f);
		}
	}
}

/* The top-level field named key (len bytes), or -1. */
static long
lookup(const struct logev *e, const char *key, size_t len)
{
	size_t	 i, depth = 0;

	for (i = 0; i < e->n; i++) {
		const struct logev_field	*f = &e->f[i];

		if (f->type == LOGEV_T_END)
			depth--;
		else if (depth == 0 && strncmp(f->key, key, len) == 0 &&
		    f->key[len] == '\0')
			return (long)i;
		if (f->type == LOGEV_T_OBJ)
			depth++;
	}
	return -1;
}

/*
 * Render t up to its end or the ']' closing the part it is in; return
 * where it stopped.  *missing is set when a {name} has no field.
 */
static const char *
render(struct line *l, const struct logev *e, const char *t, int *missing)
{
	const char	*end;
	size_t		 mark;
	long		 i;
	int		 absent;

	while (*t != '\0' && *t != ']') {
		if (*t == '[') {
			mark = l->len;
			absent = 0;
			t = render(l, e, t + 1, &absent);
			if (absent) {
				l->len = mark;
				l->buf[mark] = '\0';
			}
			if (*t == ']')
				t++;
		} else if (*t == '{' && (end = strchr(t, '}')) != NULL) {
			if ((i = lookup(e, t + 1, (size_t)(end - t - 1))) == -1)
				*missing = 1;
			else if (e->f[i].type == LOGEV_T_OBJ)
				put_members(l, e, (size_t)i);
			else
				put_value(l, &e->f[i]);
			t = end + 1;
		} else {
			end = t + strcspn(t, "[]{");
			if (end == t)		/* a '{' without its '}' */
				end++;
			put(l, t, (size_t)(end - t));
			t = end;
		}
	}
	return t;
}

const char *
logev_render_text(const struct logev *e, char *out, size_t outlen)
{
	struct line	 l = { out, 0, outlen };
	int		 missing = 0;

	if (outlen == 0)
		return out;
	out[0] = '\0';
	if (e->text != NULL)
		(void)render(&l, e, e->text, &missing);
	return out;
}

/* ------------------------------------------------------------------------- */

static int
text_wanted(const struct logev *e)
{
	return e->text != NULL && !audit_json_log() && log_enabled(e->level);
}

int
logev_wanted(const struct logev *e)
{
	return audit_wanted() || text_wanted(e);
}

void
logev_emit(struct logev *e)
{
	struct audit_buf	 b;
	char			 line[LOG_MSG_MAX];

	if (audit_wanted()) {
		json_fields(e, &b);
		audit_emit(&b);
	}
	if (text_wanted(e))
		log_at(e->level, "%s", logev_render_text(e, line,
		    sizeof line));
}
