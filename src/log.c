/*
 * Logging.  Lines carry the process role ("master", "worker[1]") set once
 * after fork; the level check comes before any formatting.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "logfile.h"

static enum log_dest	 log_to = LOG_DEST_STDERR;
static int		 log_max = LOG_INFO;
static const char	*log_ident = "owltftpd";
static char		 log_role[32];
static struct logfile	 log_file = LOGFILE_INITIALIZER;	/* LOG_DEST_FILE */
static log_json_fn	 log_json;
/* Debug tokens let through, as ",xfer,chan,"; "" lets every one. */
static char		 log_tokens[LOG_TOKENS_LEN];

void
log_init(enum log_dest dest, int level, const char *ident)
{
	log_to = dest;
	log_max = level;
	if (ident != NULL)
		log_ident = ident;
	log_set_debug_tokens(getenv("OWLTFTPD_DEBUG"));
	if (dest == LOG_DEST_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_role(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(log_role, sizeof log_role, fmt, ap);
	va_end(ap);
}

void
log_set_level(int level)
{
	log_max = level;
}

int
log_level(void)
{
	return log_max;
}

void
log_set_debug_tokens(const char *list)
{
	size_t	 len = 0, n;

	log_tokens[0] = '\0';
	if (list == NULL)
		return;
	while (*list != '\0') {
		list += strspn(list, ", \t");
		if ((n = strcspn(list, ", \t")) == 0)
			break;
		/* A token that does not fit is left out, not cut. */
		if (len + (len == 0) + n + 1 < sizeof log_tokens) {
			if (len == 0)
				log_tokens[len++] = ',';
			memcpy(log_tokens + len, list, n);
			len += n;
			log_tokens[len++] = ',';
			log_tokens[len] = '\0';
		}
		list += n;
	}
}

int
log_debug_wanted(const char *token)
{
	const char	*p;
	size_t		 n = strlen(token);

	if (!log_enabled(LOG_DEBUG))
		return 0;
	if (log_tokens[0] == '\0')
		return 1;
	for (p = log_tokens + 1; (p = strstr(p, token)) != NULL; p++)
		if (p[-1] == ',' && p[n] == ',')
			return 1;
	return 0;
}

int
log_open_file(const char *path, uid_t owner)
{
	if (logfile_open(&log_file, path, owner) == -1)
		return -1;
	log_to = LOG_DEST_FILE;
	return 0;
}

int
log_file_fd(void)
{
	return log_to == LOG_DEST_FILE ? log_file.fd : -1;
}

void
log_reopen_syslog(void)
{
	if (log_to == LOG_DEST_SYSLOG)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_reopen(void)
{
	if (log_to != LOG_DEST_FILE)
		return 0;
	return logfile_reopen(&log_file);
}

void
log_set_json(log_json_fn fn)
{
	log_json = fn;
}

/* One line, with one write(): lines from several processes never mix. */
static void
write_line(const char *line, size_t len)
{
	if (log_to == LOG_DEST_FILE)
		logfile_write(&log_file, line, len);
	else
		(void)write(STDERR_FILENO, line, len);
}

/* A line that is a JSON object and nothing else. */
static void
write_json(int pri, const char *json)
{
	char	 line[LOG_MSG_MAX + 1];
	size_t	 n;

	if (log_to == LOG_DEST_SYSLOG) {
		syslog(pri, "%s", json);
		return;
	}
	n = strnlen(json, LOG_MSG_MAX);	/* cut, but still one line */
	memcpy(line, json, n);
	line[n++] = '\n';
	write_line(line, n);
}

void
log_json_line(const char *json)
{
	if (log_max >= LOG_INFO)
		write_json(LOG_INFO, json);
}

static void	 vlog(int, const char *, va_list, const char *)
		    __attribute__((format(printf, 2, 0)));

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	/* Room for a whole JSON event (AUDIT_LINE_MAX) and the stamp. */
	char		 msg[LOG_MSG_MAX], line[LOG_MSG_MAX + 256], stamp[32];
	struct tm	 tm;
	time_t		 now;
	int		 n;

	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		return;
	if (log_json != NULL) {
		char	 full[LOG_MSG_MAX], json[LOG_MSG_MAX];

		/* Cut if need be: the message is complete up to there. */
		if (snprintf(full, sizeof full, "%s%s%s", msg, suffix ? ": " :
		    "", suffix ? suffix : "") < 0)
			return;
		log_json(pri, full, json, sizeof json);
		write_json(pri, json);
		return;
	}
	if (log_to == LOG_DEST_SYSLOG) {
		syslog(pri, "%s%s%s%s%s", log_role, log_role[0] ? ": " : "",
		    msg, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	stamp[0] = '\0';
	if (log_to == LOG_DEST_FILE) {
		now = time(NULL);
		if (localtime_r(&now, &tm) != NULL)
			(void)strftime(stamp, sizeof stamp,
			    "%Y-%m-%dT%H:%M:%S%z ", &tm);
	}
	n = snprintf(line, sizeof line, "%s%s[%ld]: %s%s%s%s%s\n", stamp,
	    log_ident, (long)getpid(), log_role, log_role[0] ? ": " : "", msg,
	    suffix ? ": " : "", suffix ? suffix : "");
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	write_line(line, (size_t)n);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	if (!log_enabled(LOG_WARNING))
		return;
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_enabled(LOG_WARNING))
		return;
	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_enabled(LOG_INFO))
		return;
	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_enabled(LOG_DEBUG))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_debug_tok(const char *token, const char *fmt, ...)
{
	va_list	 ap;

	if (!log_debug_wanted(token))
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}

void
log_at(int pri, const char *fmt, ...)
{
	va_list	 ap;

	if (!log_enabled(pri))
		return;
	va_start(ap, fmt);
	vlog(pri, fmt, ap, NULL);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 saved = errno;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LOG_CRIT, fmt, ap, NULL);
	va_end(ap);
	exit(1);
}

char *
log_escape(const char *in, size_t inlen, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i, o = 0;

	if (outlen == 0)
		return out;
	for (i = 0; i < inlen; i++) {
		unsigned char	 c = (unsigned char)in[i];

		if (c > ' ' && c < 0x7f && c != '\\' && c != '"') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outlen)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o] = '\0';
	return out;
}

int
log_limit_ok(struct log_limit *l, uint64_t now_us, unsigned per_second)
{
	uint64_t	 second = now_us / 1000000;

	if (second != l->second) {
		if (l->suppressed > 0)
			log_info("%u similar messages suppressed",
			    l->suppressed);
		l->second = second;
		l->count = 0;
		l->suppressed = 0;
	}
	if (l->count >= per_second) {
		l->suppressed++;
		return 0;
	}
	l->count++;
	return 1;
}

static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug_tok("libevent", "libevent: %s", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent: %s", msg);
		break;
	default:
		log_warnx("libevent: %s", msg);
		break;
	}
}

void
log_libevent_init(void)
{
	event_set_log_callback(log_libevent_cb);
}
