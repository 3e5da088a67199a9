/*
 * The audit log.  A line is built in a fixed buffer (no allocation) and
 * written with one write() to an O_APPEND file, so lines from the master
 * and every worker never interleave.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "compat.h"
#include "log.h"
#include "logfile.h"
#include "utf8.h"

static struct logfile		 audit_file = LOGFILE_INITIALIZER;
static enum audit_format	 audit_format_ = AUDIT_TEXT;
static int			 audit_worker = -1;	/* -1: the master */

static const char *
level_name(int pri)
{
	switch (pri) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* An ordinary log message as a "log" event (log_format = "json"). */
static void
log_as_json(int pri, const char *msg, char *out, size_t outlen)
{
	struct audit_buf	 b;

	audit_begin(&b, "log");
	audit_str(&b, "level", level_name(pri));
	audit_i64(&b, "pid", getpid());
	audit_str(&b, "message", msg);
	(void)strlcpy(out, audit_end(&b), outlen);
}

void
audit_set_format(enum audit_format format)
{
	audit_format_ = format;
	log_set_json(format == AUDIT_JSON ? log_as_json : NULL);
}

int
audit_init(const char *path, enum audit_format format, uid_t owner)
{
	audit_set_format(format);
	if (path == NULL || path[0] == '\0')
		return 0;
	return logfile_open(&audit_file, path, owner);
}

int
audit_reopen(void)
{
	return logfile_reopen(&audit_file);
}

int
audit_fd(void)
{
	return audit_file.fd;
}

int
audit_wanted(void)
{
	return audit_file.fd != -1 || audit_format_ == AUDIT_JSON;
}

int
audit_json_log(void)
{
	return audit_format_ == AUDIT_JSON;
}

size_t
audit_escape(const char *s, size_t len, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*u = (const unsigned char *)s;
	size_t			 i = 0, o = 0, n;

	while (i < len) {
		char	 esc[7];
		size_t	 elen = 0;

		if (u[i] == '"' || u[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)u[i];
			elen = 2;
			n = 1;
		} else if (u[i] < 0x20 || u[i] == 0x7f ||
		    (n = utf8_len(u + i, len - i)) == 0) {
			/*
			 * Control bytes, and bytes that are not UTF-8, as
			 * \u00XX: the line stays valid JSON and the byte
			 * value can be read back.
			 */
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[u[i] >> 4];
			esc[5] = hex[u[i] & 0xf];
			elen = 6;
			n = 1;
		}
		if (elen > 0) {
			if (o + elen >= outlen)
				break;
			memcpy(out + o, esc, elen);
			o += elen;
		} else {
			if (o + n >= outlen)
				break;
			memcpy(out + o, u + i, n);
			o += n;
		}
		i += n;
	}
	if (outlen > 0)
		out[o] = '\0';
	return o;
}

/* Bytes kept free for the closing braces of open objects and the NUL. */
/* With log_format = "json" an event goes through the log whole. */
_Static_assert(AUDIT_LINE_MAX < LOG_MSG_MAX, "a JSON event must fit a log line");

#define AUDIT_SLACK	8

static size_t
room(const struct audit_buf *b)
{
	/* A closing brace may already have taken some of the slack. */
	if (b->len + AUDIT_SLACK >= sizeof b->buf)
		return 0;
	return sizeof b->buf - AUDIT_SLACK - b->len;
}

static void
add(struct audit_buf *b, const char *s, size_t n)
{
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

/* Start a member if it and need more bytes fit; 0 (left out) if not. */
static int
key(struct audit_buf *b, const char *k, size_t need)
{
	size_t	 klen = strlen(k);

	if (b->skip > 0)
		return 0;
	if (room(b) < klen + 4 + need)
		return 0;
	if (!b->first)
		add(b, ",", 1);
	b->first = 0;
	add(b, "\"", 1);
	add(b, k, klen);
	add(b, "\":", 2);
	return 1;
}

void
audit_set_worker(int slot)
{
	audit_worker = slot;
}

void
audit_begin(struct audit_buf *b, const char *event)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 stamp[80];

	b->len = 0;
	b->first = 1;
	b->depth = 0;
	b->skip = 0;
	add(b, "{", 1);
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	(void)gmtime_r(&ts.tv_sec, &tm);
	(void)snprintf(stamp, sizeof stamp,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000);
	audit_str(b, "ts", stamp);
	audit_str(b, "event", event);
	audit_i64(b, "worker", audit_worker);
}

void
audit_strn(struct audit_buf *b, const char *k, const char *s, size_t len)
{
	size_t	 n;

	/* At least the quotes; the value is cut to what is left. */
	if (!key(b, k, 2))
		return;
	add(b, "\"", 1);
	/* key() left room for both quotes; audit_escape() keeps one byte
	 * of what it is given for its NUL, which the closing quote takes. */
	n = audit_escape(s, len, b->buf + b->len, room(b));
	b->len += n;
	add(b, "\"", 1);
}

void
audit_str(struct audit_buf *b, const char *k, const char *s)
{
	audit_strn(b, k, s, strlen(s));
}

/* A member whose value is the number already formatted in num. */
static void
number(struct audit_buf *b, const char *k, const char *num, int n)
{
	if (n > 0 && key(b, k, (size_t)n))
		add(b, num, (size_t)n);
}

void
audit_u64(struct audit_buf *b, const char *k, uint64_t v)
{
	char	 num[24];

	number(b, k, num, snprintf(num, sizeof num, "%" PRIu64, v));
}

void
audit_i64(struct audit_buf *b, const char *k, int64_t v)
{
	char	 num[24];

	number(b, k, num, snprintf(num, sizeof num, "%" PRId64, v));
}

void
audit_obj_begin(struct audit_buf *b, const char *k)
{
	/* An object that does not fit is left out whole, members too. */
	if (b->skip > 0 || !key(b, k, 2)) {
		b->skip++;
		return;
	}
	add(b, "{", 1);
	b->depth++;
	b->first = 1;
}

void
audit_obj_end(struct audit_buf *b)
{
	if (b->skip > 0) {
		b->skip--;
		return;
	}
	if (b->depth == 0)
		return;
	b->buf[b->len++] = '}';		/* the slack keeps room for it */
	b->depth--;
	b->first = 0;
}

const char *
audit_end(struct audit_buf *b)
{
	b->skip = 0;
	while (b->depth > 0)
		audit_obj_end(b);
	b->buf[b->len++] = '}';
	b->buf[b->len] = '\0';
	return b->buf;
}

void
audit_emit(struct audit_buf *b)
{
	(void)audit_end(b);
	if (audit_file.fd != -1) {
		/* audit_end() left room for the NUL: the newline takes it. */
		b->buf[b->len] = '\n';
		logfile_write(&audit_file, b->buf, b->len + 1);
		b->buf[b->len] = '\0';
	}
	if (audit_format_ == AUDIT_JSON)
		log_json_line(b->buf);
}
