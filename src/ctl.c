/*
 * The control socket server (master side).  One request per connection;
 * a handler that must wait for the workers returns CTL_LATER and calls
 * ctl_finish() when it has its answer.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "compat.h"
#include "ctl.h"
#include "log.h"
#include "xmalloc.h"

struct ctl_conn {
	struct ctl_conn		*next;
	struct ctl		*ctl;
	struct bufferevent	*bev;
	struct evbuffer		*body;
	char			*err;
	int			 pending;	/* handler returned CTL_LATER */
	int			 dead;		/* peer went away */
	int			 replied;
};

struct ctl {
	struct event_base	*base;
	int			 fd;
	struct event		*accept_ev;
	char			*path;
	const struct ctl_cmd	*cmds;
	void			*arg;
	struct ctl_conn		*conns;
	size_t			 nconns;
};

static void
conn_free(struct ctl_conn *c)
{
	struct ctl	 *ctl = c->ctl;
	struct ctl_conn	**pp;

	for (pp = &ctl->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	ctl->nconns--;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	evbuffer_free(c->body);
	free(c->err);
	free(c);
}

void
ctl_printf(struct ctl_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)evbuffer_add_vprintf(c->body, fmt, ap);
	va_end(ap);
}

void
ctl_error(struct ctl_conn *c, const char *fmt, ...)
{
	va_list	 ap;

	free(c->err);
	c->err = NULL;
	va_start(ap, fmt);
	if (vasprintf(&c->err, fmt, ap) == -1)
		c->err = NULL;
	va_end(ap);
	if (c->err == NULL)
		c->err = xstrdup("out of memory");
}

int
ctl_alive(const struct ctl_conn *c)
{
	return !c->dead;
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*c = arg;

	if (c->replied && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		conn_free(c);
}

void
ctl_finish(struct ctl_conn *c)
{
	struct evbuffer	*out;

	if (c->dead) {
		conn_free(c);
		return;
	}
	c->pending = 0;
	c->replied = 1;
	out = bufferevent_get_output(c->bev);
	if (c->err != NULL) {
		(void)evbuffer_add_printf(out, "error %s\n", c->err);
	} else {
		(void)evbuffer_add(out, "ok\n", 3);
		(void)evbuffer_add_buffer(out, c->body);
	}
	(void)bufferevent_disable(c->bev, EV_READ);
	(void)bufferevent_enable(c->bev, EV_WRITE);
}

void
ctl_help(struct ctl_conn *c)
{
	const struct ctl_cmd	*cmd;

	for (cmd = c->ctl->cmds; cmd->name != NULL; cmd++)
		ctl_printf(c, "%s%s%s - %s\n", cmd->name,
		    cmd->usage[0] != '\0' ? " " : "", cmd->usage, cmd->help);
}

static void
run_line(struct ctl_conn *c, char *line)
{
	const struct ctl_cmd	*cmd;
	char			*argv[CTL_ARGS_MAX + 2], *tok, *save = NULL;
	int			 argc = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CTL_ARGS_MAX + 2) {
			ctl_error(c, "too many arguments");
			ctl_finish(c);
			return;
		}
		argv[argc++] = tok;
	}
	if (argc == 0 || strcmp(argv[0], CTL_MAGIC) != 0) {
		ctl_error(c, "version (this server speaks %s)", CTL_MAGIC);
		ctl_finish(c);
		return;
	}
	if (argc == 1) {
		ctl_error(c, "no command (try help)");
		ctl_finish(c);
		return;
	}
	for (cmd = c->ctl->cmds; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[1]) == 0)
			break;
	if (cmd->name == NULL) {
		ctl_error(c, "unknown command %s (try help)", argv[1]);
		ctl_finish(c);
		return;
	}
	if (argc - 2 < cmd->min_args || argc - 2 > cmd->max_args) {
		ctl_error(c, "usage: %s%s%s", cmd->name,
		    cmd->usage[0] != '\0' ? " " : "", cmd->usage);
		ctl_finish(c);
		return;
	}
	if (cmd->fn(c, argc - 2, argv + 2, c->ctl->arg) == CTL_LATER)
		c->pending = 1;
	else
		ctl_finish(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;

	if (c->pending || c->replied)
		return;
	line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (line == NULL) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX) {
			ctl_error(c, "request longer than %d bytes",
			    CTL_LINE_MAX);
			ctl_finish(c);
		}
		return;
	}
	if (len > CTL_LINE_MAX) {
		ctl_error(c, "request longer than %d bytes", CTL_LINE_MAX);
		ctl_finish(c);
	} else
		run_line(c, line);
	free(line);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*c = arg;

	if (c->pending) {
		/* The handler still owns c: it frees it in ctl_finish(). */
		c->dead = 1;
		bufferevent_free(c->bev);
		c->bev = NULL;
		return;
	}
	conn_free(c);
}

static void
accept_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct ctl	*ctl = arg;
	struct ctl_conn	*c;
	struct timeval	 tv = { CTL_IDLE_S, 0 };
	int		 cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("control socket accept");
		return;
	}
	if (ctl->nconns >= CTL_CLIENTS_MAX) {
		static const char busy[] = "error busy\n";

		(void)write(cfd, busy, sizeof busy - 1);
		(void)close(cfd);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	c->body = evbuffer_new();
	c->bev = bufferevent_socket_new(ctl->base, cfd, BEV_OPT_CLOSE_ON_FREE);
	if (c->body == NULL || c->bev == NULL) {
		if (c->bev == NULL)
			(void)close(cfd);
		else
			bufferevent_free(c->bev);
		if (c->body != NULL)
			evbuffer_free(c->body);
		free(c);
		return;
	}
	c->next = ctl->conns;
	ctl->conns = c;
	ctl->nconns++;
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	(void)bufferevent_enable(c->bev, EV_READ);
}

/* Is a server answering on path? */
static int
live_server(const struct sockaddr_un *sun)
{
	int	 fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0;
	(void)close(fd);
	return live;
}

struct ctl *
ctl_new(struct event_base *base, const char *path, uid_t uid, gid_t gid,
    mode_t mode, const struct ctl_cmd *cmds, void *arg, char **cause)
{
	struct sockaddr_un	 sun;
	struct ctl		*ctl;
	mode_t			 old;
	int			 fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, path, sizeof sun.sun_path) >=
	    sizeof sun.sun_path) {
		xasprintf(cause, "control socket %s: path too long", path);
		return NULL;
	}
	if (live_server(&sun)) {
		xasprintf(cause, "control socket %s: another server is "
		    "running there", path);
		return NULL;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		xasprintf(cause, "control socket %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		xasprintf(cause, "control socket: %s", strerror(errno));
		return NULL;
	}
	/* No window in which the socket is more open than asked. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		(void)umask(old);
		xasprintf(cause, "control socket %s: %s", path,
		    strerror(errno));
		(void)close(fd);
		return NULL;
	}
	(void)umask(old);
	if ((geteuid() == 0 && chown(path, uid, gid) == -1) ||
	    chmod(path, mode) == -1 || listen(fd, CTL_BACKLOG) == -1) {
		xasprintf(cause, "control socket %s: %s", path,
		    strerror(errno));
		(void)close(fd);
		(void)unlink(path);
		return NULL;
	}
	ctl = xcalloc(1, sizeof *ctl);
	ctl->base = base;
	ctl->fd = fd;
	ctl->path = xstrdup(path);
	ctl->cmds = cmds;
	ctl->arg = arg;
	ctl->accept_ev = event_new(base, fd, EV_READ | EV_PERSIST, accept_cb,
	    ctl);
	if (ctl->accept_ev == NULL || event_add(ctl->accept_ev, NULL) == -1) {
		xasprintf(cause, "control socket: cannot watch it");
		ctl_free(ctl);
		return NULL;
	}
	return ctl;
}

void
ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (ctl->conns != NULL)
		conn_free(ctl->conns);
	if (ctl->accept_ev != NULL)
		event_free(ctl->accept_ev);
	(void)close(ctl->fd);
	(void)unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
