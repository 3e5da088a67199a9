/*
 * RFC 2090 sessions: a short list per worker (a few files are served by
 * multicast at once, not thousands), each with a doubly linked list of
 * its clients threaded through their struct xfer in join order.
 *
 * The pool is shared by the workers without talking: worker `slot` takes
 * only the addresses whose index is slot modulo the number of workers,
 * so two workers never stream different transfers to one group.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcast.h"
#include "opt.h"
#include "xfer.h"
#include "xmalloc.h"

struct mcast_session {
	struct mcast_session	*next;
	/* the file, as open: a new version of it gets its own session */
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 size;
	struct timespec		 mtime;
	uint16_t		 blksize;
	uint32_t		 index;		/* in the pool */
	struct sockaddr_in	 group;
	struct xfer		*head, *tail;	/* clients, oldest first */
	struct xfer		*master;
};

struct mcast {
	struct mcast_pool_conf	 conf;
	uint8_t			*used;		/* per pool index */
	struct mcast_session	*sessions;
	size_t			 nsessions;
};

static int
parse_one(const char *s, size_t len, uint32_t *out)
{
	char		 buf[INET_ADDRSTRLEN];
	struct in_addr	 a;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int
mcast_parse_range(const char *s, uint32_t *first, uint32_t *last,
    const char **why)
{
	const char	*dash = strchr(s, '-');

	if (parse_one(s, dash != NULL ? (size_t)(dash - s) : strlen(s),
	    first) == -1 || (dash != NULL && parse_one(dash + 1,
	    strlen(dash + 1), last) == -1)) {
		*why = "expected ADDR or ADDR-ADDR (IPv4)";
		return -1;
	}
	if (dash == NULL)
		*last = *first;
	if (!IN_MULTICAST(*first) || !IN_MULTICAST(*last)) {
		*why = "not a multicast address (224.0.0.0/4)";
		return -1;
	}
	if (*first > *last) {
		*why = "the first address is above the last";
		return -1;
	}
	return 0;
}

struct mcast *
mcast_new(const struct mcast_pool_conf *conf)
{
	struct mcast	*m = xcalloc(1, sizeof *m);

	m->conf = *conf;
	if (m->conf.nslots == 0)
		m->conf.nslots = 1;
	m->used = xcalloc((size_t)(conf->last - conf->first) + 1, 1);
	return m;
}

void
mcast_free(struct mcast *m)
{
	struct mcast_session	*s, *next;

	if (m == NULL)
		return;
	for (s = m->sessions; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	free(m->used);
	free(m);
}

/* A free group of this worker's share; -1 if all are in use. */
static int
take_group(struct mcast *m, uint32_t *index)
{
	uint32_t	 n = m->conf.last - m->conf.first + 1, i;

	for (i = m->conf.slot; i < n; i += m->conf.nslots) {
		if (!m->used[i]) {
			m->used[i] = 1;
			*index = i;
			return 0;
		}
		if (i + m->conf.nslots < i)
			break;	/* wrapped */
	}
	return -1;
}

static int
same_file(const struct mcast_session *s, const struct stat *st)
{
	return s->dev == st->st_dev && s->ino == st->st_ino &&
	    s->size == (uint64_t)st->st_size &&
	    s->mtime.tv_sec == st->st_mtim.tv_sec &&
	    s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/*
 * A client may take a session's blksize if it is the one it negotiated,
 * or a smaller one when it asked for the option (RFC 2348 lets the
 * server answer with less).
 */
static int
blksize_fits(const struct mcast_session *s, const struct xfer *x)
{
	return s->blksize == x->opts.blksize ||
	    ((x->opts.accepted & OPT_F_BLKSIZE) != 0 &&
	    s->blksize < x->opts.blksize);
}

/* The session of the file at the client's own blksize, else the
 * largest smaller one it may take. */
static struct mcast_session *
session_find(struct mcast *m, const struct stat *st, const struct xfer *x)
{
	struct mcast_session	*s, *best = NULL;

	for (s = m->sessions; s != NULL; s = s->next) {
		if (!same_file(s, st) || !blksize_fits(s, x) || s->head == NULL)
			continue;
		if (s->blksize == x->opts.blksize)
			return s;
		if (best == NULL || s->blksize > best->blksize)
			best = s;
	}
	return best;
}

static struct mcast_session *
session_new(struct mcast *m, const struct stat *st, const struct xfer *x)
{
	struct mcast_session	*s;
	uint32_t		 index;

	if (take_group(m, &index) == -1)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	s->size = (uint64_t)st->st_size;
	s->mtime = st->st_mtim;
	s->blksize = x->opts.blksize;
	s->index = index;
	s->group.sin_family = AF_INET;
	s->group.sin_addr.s_addr = htonl(m->conf.first + index);
	s->group.sin_port = htons(m->conf.port);
	s->next = m->sessions;
	m->sessions = s;
	m->nsessions++;
	return s;
}

static void
session_free(struct mcast *m, struct mcast_session *s)
{
	struct mcast_session	**pp;

	for (pp = &m->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	m->used[s->index] = 0;
	m->nsessions--;
	free(s);
}

int
mcast_join(struct mcast *m, struct xfer *x)
{
	struct mcast_session	*s;
	struct stat		 st;
	uint64_t		 nblocks;

	if (x->peer.ss_family != AF_INET || x->fd == -1 ||
	    fstat(x->fd, &st) == -1)
		return -1;
	/* Checked again below: a session's blksize may be smaller. */
	if (x->nblocks > MCAST_BLOCKS_MAX)
		return -1;
	if ((s = session_find(m, &st, x)) == NULL &&
	    (s = session_new(m, &st, x)) == NULL)
		return -1;
	nblocks = (uint64_t)st.st_size / s->blksize + 1;
	if (nblocks > MCAST_BLOCKS_MAX) {
		if (s->head == NULL)
			session_free(m, s);
		return -1;
	}
	x->opts.blksize = s->blksize;
	x->nblocks = nblocks;
	x->mc = s;
	x->mc_next = NULL;
	x->mc_prev = s->tail;
	if (s->tail != NULL)
		s->tail->mc_next = x;
	else
		s->head = x;
	s->tail = x;
	x->mc_master = s->master == NULL;
	if (x->mc_master)
		s->master = x;
	mcast_set_optval(x);
	return 0;
}

struct xfer *
mcast_leave(struct mcast *m, struct xfer *x)
{
	struct mcast_session	*s = x->mc;
	struct xfer		*next = NULL, *c;

	if (s == NULL)
		return NULL;
	if (x->mc_prev != NULL)
		x->mc_prev->mc_next = x->mc_next;
	else
		s->head = x->mc_next;
	if (x->mc_next != NULL)
		x->mc_next->mc_prev = x->mc_prev;
	else
		s->tail = x->mc_prev;
	if (s->master == x) {
		s->master = NULL;
		/* Clients already finished (a shutdown ends them all before
		 * releasing any) are not asked to take over. */
		for (c = s->head; c != NULL; c = c->mc_next)
			if (c->state != XFER_S_DONE) {
				next = c;
				break;
			}
		if (next != NULL) {
			s->master = next;
			next->mc_master = 1;
			mcast_set_optval(next);
		}
	}
	x->mc = NULL;
	x->mc_next = x->mc_prev = NULL;
	x->mc_master = 0;
	if (s->head == NULL)
		session_free(m, s);
	return next;
}

const struct sockaddr *
mcast_group(const struct xfer *x, socklen_t *len)
{
	*len = sizeof x->mc->group;
	return (const struct sockaddr *)&x->mc->group;
}

void
mcast_set_optval(struct xfer *x)
{
	char	 addr[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &x->mc->group.sin_addr, addr,
	    sizeof addr) == NULL)
		addr[0] = '\0';
	(void)snprintf(x->opts.multicast, sizeof x->opts.multicast,
	    "%s,%u,%d", addr, (unsigned)ntohs(x->mc->group.sin_port),
	    x->mc_master ? 1 : 0);
}

unsigned
mcast_owner(const char *name, size_t len, unsigned nslots)
{
	uint32_t	 h = 2166136261u;	/* FNV-1a */
	size_t		 i;

	for (i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return nslots > 1 ? h % nslots : 0;
}

size_t
mcast_sessions(const struct mcast *m)
{
	return m != NULL ? m->nsessions : 0;
}
