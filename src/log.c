/*
 * Logging.  Lines carry the process role ("master", "worker[1]") set once
 * after fork; the level check comes before any formatting.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat.h"
#include "log.h"

static enum log_dest	 log_to = LOG_DEST_STDERR;
static int		 log_max = LOG_INFO;
static const char	*log_ident = "owltftpd";
static char		 log_role[32];

void
log_init(enum log_dest dest, int level, const char *ident)
{
	log_to = dest;
	log_max = level;
	if (ident != NULL)
		log_ident = ident;
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

static void
vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char	 line[2048];
	int	 n;

	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		return;
	if (log_to == LOG_DEST_SYSLOG) {
		syslog(pri, "%s%s%s%s%s", log_role, log_role[0] ? ": " : "",
		    line, suffix ? ": " : "", suffix ? suffix : "");
		return;
	}
	(void)fprintf(stderr, "%s[%ld]: %s%s%s%s%s\n", log_ident,
	    (long)getpid(), log_role, log_role[0] ? ": " : "", line,
	    suffix ? ": " : "", suffix ? suffix : "");
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

static void
log_libevent_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent: %s", msg);
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
