/*
 * Listen sockets: bind a set, compare it with a configuration, take a
 * slot out of its SO_REUSEPORT group and put it back.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "listenset.h"
#include "log.h"
#include "sock.h"
#include "xmalloc.h"

struct listenset {
	size_t			 nslots;
	size_t			 nlisten;
	struct conf_listen	 asked[CONF_LISTEN_MAX];	/* as configured */
	struct conf_listen	 bound[CONF_LISTEN_MAX];	/* real ports */
	int			*fd;		/* [slot * nlisten + i] */
};

static void
set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

static int
same_listen(const struct conf_listen *a, const struct conf_listen *b)
{
	return a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0;
}

void
listenset_free(struct listenset *ls)
{
	size_t	 i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->nslots * ls->nlisten; i++)
		if (ls->fd[i] != -1)
			(void)close(ls->fd[i]);
	free(ls->fd);
	free(ls);
}

void
listenset_close_slot(struct listenset *ls, int slot)
{
	size_t	 i;

	for (i = 0; ls != NULL && i < ls->nlisten; i++) {
		int	*fd = &ls->fd[(size_t)slot * ls->nlisten + i];

		if (*fd != -1)
			(void)close(*fd);
		*fd = -1;
	}
}

int
listenset_matches(const struct listenset *ls, const struct conf *conf)
{
	size_t	 i;

	if (ls == NULL || ls->nslots != (size_t)conf->workers ||
	    ls->nlisten != conf->nlisten)
		return 0;
	for (i = 0; i < ls->nslots * ls->nlisten; i++)
		if (ls->fd[i] == -1)
			return 0;
	for (i = 0; i < conf->nlisten; i++)
		if (!same_listen(&ls->asked[i], &conf->listen[i]))
			return 0;
	return 1;
}

/* Was address a of conf bound by old (so its port is ours already)? */
static const struct conf_listen *
listen_inherited(const struct listenset *old, const struct conf_listen *l)
{
	size_t	 j;

	for (j = 0; old != NULL && j < old->nlisten; j++)
		if (same_listen(&old->asked[j], l))
			return &old->bound[j];
	return NULL;
}

/*
 * With SO_REUSEPORT a second server (or anything of the same user) on
 * the port would quietly share its requests with us: probe every fixed
 * port that is not ours already with a plain bind first, and refuse.
 */
static int
listenset_probe(const struct conf *conf, const struct listenset *old,
    char **cause)
{
	size_t	 a;

	for (a = 0; a < conf->nlisten; a++) {
		const struct conf_listen	*l = &conf->listen[a];

		if (sock_port_of((const struct sockaddr *)&l->addr) == 0 ||
		    listen_inherited(old, l) != NULL)
			continue;
		if (sock_port_free((const struct sockaddr *)&l->addr,
		    l->addrlen) == -1 && errno == EADDRINUSE) {
			xasprintf(cause, "listen %s: the port is already in use "
			    "by another process (another TFTP server?)",
			    l->text);
			return -1;
		}
	}
	return 0;
}

struct listenset *
listenset_bind(const struct conf *conf, const struct listenset *old,
    char **cause)
{
	struct listenset	*ls;
	size_t			 a, s, j, n = 0;
	int			 port = -1;

	if (listenset_probe(conf, old, cause) == -1)
		return NULL;
	ls = xcalloc(1, sizeof *ls);
	ls->nslots = (size_t)conf->workers;
	ls->fd = xreallocarray(NULL, ls->nslots * conf->nlisten, sizeof(int));
	for (j = 0; j < ls->nslots * conf->nlisten; j++)
		ls->fd[j] = -1;
	ls->nlisten = conf->nlisten;

	for (a = 0; a < conf->nlisten; a++) {
		struct conf_listen	 l = conf->listen[a];
		const struct conf_listen *had = listen_inherited(old, &l);
		struct sockaddr		*sa = (struct sockaddr *)&l.addr;
		char			 name[SOCK_ADDRSTR_MAX];
		int			 fds[CONF_WORKERS_MAX];

		if (had != NULL)
			l = *had;
		if (port > 0 && sock_port_of(sa) == 0)
			set_port(sa, port);
		for (s = 0; s < ls->nslots; s++) {
			fds[s] = sock_listen(sa, l.addrlen, conf->so_rcvbuf);
			if (fds[s] == -1)
				break;
			if (s == 0)
				set_port(sa, sock_port(fds[0]));
		}
		if (s < ls->nslots) {
			int	 saved = errno;

			while (s > 0)
				(void)close(fds[--s]);
			errno = saved;
			if (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL) {
				log_warn("listen %s skipped", conf->listen[a].text);
				continue;
			}
			xasprintf(cause, "listen %s: %s", conf->listen[a].text,
			    strerror(saved));
			goto fail;
		}
		if (port <= 0)
			port = sock_port_of(sa);
		for (s = 0; s < ls->nslots; s++)
			ls->fd[s * conf->nlisten + n] = fds[s];
		ls->asked[n] = conf->listen[a];
		ls->bound[n] = l;
		log_info("listening on %s", sock_ntop(sa, name, sizeof name));
		n++;
	}
	if (n == 0) {
		xasprintf(cause, "no listen address could be bound");
		goto fail;
	}
	/* Compact: slots index with the count actually bound. */
	if (n != conf->nlisten) {
		for (s = 0; s < ls->nslots; s++)
			for (j = 0; j < n; j++)
				ls->fd[s * n + j] = ls->fd[s * conf->nlisten + j];
	}
	ls->nlisten = n;
	return ls;
fail:
	ls->nlisten = conf->nlisten;
	listenset_free(ls);
	return NULL;
}

int
listenset_rebind_slot(struct listenset *ls, int slot, int rcvbuf)
{
	size_t	 i;

	for (i = 0; i < ls->nlisten; i++) {
		int			*fd = &ls->fd[(size_t)slot * ls->nlisten + i];
		const struct conf_listen *l = &ls->bound[i];

		if (*fd != -1)
			continue;
		*fd = sock_listen((const struct sockaddr *)&l->addr,
		    l->addrlen, rcvbuf);
		if (*fd == -1) {
			log_warn("worker[%d]: rebind %s", slot, l->text);
			listenset_close_slot(ls, slot);
			return -1;
		}
	}
	return 0;
}

int
listenset_slot_open(const struct listenset *ls, int slot)
{
	return ls->nlisten > 0 && ls->fd[(size_t)slot * ls->nlisten] != -1;
}

size_t
listenset_count(const struct listenset *ls)
{
	return ls->nlisten;
}

const struct conf_listen *
listenset_bound(const struct listenset *ls, size_t i)
{
	return &ls->bound[i];
}

const int *
listenset_slot_fds(const struct listenset *ls, int slot)
{
	return &ls->fd[(size_t)slot * ls->nlisten];
}
