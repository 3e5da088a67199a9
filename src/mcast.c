/*
 * RFC 2090 sessions: a short list per worker (a few files are served by
 * multicast at once, not thousands), each with a list of its clients in
 * join order, threaded through the struct mcast_member in each transfer.
 *
 * The pool is shared by the workers without talking: worker `slot` takes
 * only the addresses whose index is slot modulo the number of workers
 * (and prefers one half of those by its generation, see take_group()),
 * so two workers never stream different transfers to one group.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "mcast.h"
#include "xmalloc.h"

TAILQ_HEAD(mcast_members, mcast_member);

struct mcast_session {
	TAILQ_ENTRY(mcast_session) entry;
	/* the file, as open: a new version of it gets its own session */
	dev_t			 dev;
	ino_t			 ino;
	uint64_t		 size;
	struct timespec		 mtime;
	uint16_t		 blksize;
	int			 family;	/* of the group and clients */
	struct io_local		 local;		/* where its clients' requests came */
	uint32_t		 index;		/* in the family's pool */
	struct sockaddr_storage	 group;
	socklen_t		 grouplen;
	struct mcast_members	 members;	/* oldest first */
	struct mcast_member	*master;
};

/* The groups of one family: which are in use, by index. */
struct mcast_pool {
	uint8_t			*used;
	uint32_t		 n;		/* 0: none of this family */
};

struct mcast {
	struct mcast_pool_conf	 conf;
	struct mcast_pool	 v4, v6;
	TAILQ_HEAD(, mcast_session) sessions;
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
	if ((*first & 0xffffff00u) == 0xe0000000u) {
		*why = "is in 224.0.0.0/24, kept for local network control";
		return -1;
	}
	if (*first > *last) {
		*why = "the first address is above the last";
		return -1;
	}
	return 0;
}

/* The low 32 bits of an IPv6 address, as a number. */
static uint32_t
low32(const struct in6_addr *a)
{
	return (uint32_t)a->s6_addr[12] << 24 | (uint32_t)a->s6_addr[13] << 16 |
	    (uint32_t)a->s6_addr[14] << 8 | a->s6_addr[15];
}

static int
parse_one6(const char *s, size_t len, struct in6_addr *out)
{
	char	 buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

int
mcast_parse_range6(const char *s, struct in6_addr *first, uint32_t *count,
    const char **why)
{
	const char	*dash = strchr(s, '-');
	struct in6_addr	 last;

	if (parse_one6(s, dash != NULL ? (size_t)(dash - s) : strlen(s),
	    first) == -1 || (dash != NULL && parse_one6(dash + 1,
	    strlen(dash + 1), &last) == -1)) {
		*why = "expected ADDR or ADDR-ADDR (IPv6)";
		return -1;
	}
	if (dash == NULL)
		last = *first;
	if (!IN6_IS_ADDR_MULTICAST(first) || !IN6_IS_ADDR_MULTICAST(&last)) {
		*why = "not a multicast address (ff00::/8)";
		return -1;
	}
	if (memcmp(first->s6_addr, last.s6_addr, 12) != 0) {
		*why = "the addresses differ beyond their last 32 bits";
		return -1;
	}
	if (low32(first) > low32(&last)) {
		*why = "the first address is above the last";
		return -1;
	}
	if (low32(&last) - low32(first) >= MCAST_POOL_MAX) {
		*why = "is more than 65536 addresses";
		return -1;
	}
	*count = low32(&last) - low32(first) + 1;
	return 0;
}

struct mcast *
mcast_new(const struct mcast_pool_conf *conf)
{
	struct mcast	*m = xcalloc(1, sizeof *m);

	m->conf = *conf;
	TAILQ_INIT(&m->sessions);
	if (m->conf.nslots == 0)
		m->conf.nslots = 1;
	m->v4.n = conf->last - conf->first + 1;
	m->v4.used = xcalloc(m->v4.n, 1);
	if ((m->v6.n = conf->count6) != 0)
		m->v6.used = xcalloc(m->v6.n, 1);
	return m;
}

void
mcast_free(struct mcast *m)
{
	struct mcast_session	*s;

	if (m == NULL)
		return;
	while ((s = TAILQ_FIRST(&m->sessions)) != NULL) {
		TAILQ_REMOVE(&m->sessions, s, entry);
		free(s);
	}
	free(m->v4.used);
	free(m->v6.used);
	free(m);
}

static struct mcast_pool *
pool_of(struct mcast *m, int family)
{
	return family == AF_INET6 ? &m->v6 : &m->v4;
}

/*
 * A free group of this worker's share; -1 if all are in use.  Odd
 * generations look in the first half of the share first, even ones in
 * the second: while a reload drains, the old worker of a slot and its
 * successor then stream to different groups as long as each half has
 * room (a share of one group has no second half).
 */
static int
take_group(struct mcast *m, int family, uint32_t *index)
{
	struct mcast_pool	*p = pool_of(m, family);
	uint32_t		 n, k, start, i;

	if (m->conf.slot >= p->n)
		return -1;
	n = (p->n - 1 - m->conf.slot) / m->conf.nslots + 1;	/* the share */
	start = m->conf.generation % 2 == 1 ? 0 : n / 2;
	for (k = 0; k < n; k++) {
		i = m->conf.slot + ((start + k) % n) * m->conf.nslots;
		if (!p->used[i]) {
			p->used[i] = 1;
			*index = i;
			return 0;
		}
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
blksize_fits(const struct mcast_session *s, const struct mcast_want *w)
{
	return s->blksize == w->blksize ||
	    (w->blksize_asked && s->blksize < w->blksize);
}

/*
 * Requests to the same server address on the same interface: the group's
 * DATA leaves by one interface, from the address the master client talks
 * to, and clients drop DATA from an address they never spoke to.
 */
static int
same_local(const struct io_local *a, const struct io_local *b)
{
	if (a->family != b->family || a->ifindex != b->ifindex)
		return 0;
	if (a->family == AF_INET)
		return a->addr.v4.s_addr == b->addr.v4.s_addr;
	if (a->family == AF_INET6)
		return memcmp(&a->addr.v6, &b->addr.v6, sizeof a->addr.v6) == 0;
	return 1;
}

/*
 * The session of the file, for clients that sent their request to the
 * same address and interface (same_local()), at the client's own
 * blksize, else the largest smaller one it may take without going past
 * the block limit.
 */
static struct mcast_session *
session_find(struct mcast *m, const struct mcast_want *w)
{
	struct mcast_session	*s, *best = NULL;

	TAILQ_FOREACH(s, &m->sessions, entry) {
		if (!same_file(s, w->st) || !blksize_fits(s, w) ||
		    s->family != w->family || !same_local(&s->local,
		    w->local) || TAILQ_EMPTY(&s->members) ||
		    (uint64_t)w->st->st_size / s->blksize + 1 >
		    MCAST_BLOCKS_MAX)
			continue;
		if (s->blksize == w->blksize)
			return s;
		if (best == NULL || s->blksize > best->blksize)
			best = s;
	}
	return best;
}

static struct mcast_session *
session_new(struct mcast *m, const struct mcast_want *w)
{
	struct mcast_session	*s;
	uint32_t		 index;

	if (take_group(m, w->family, &index) == -1)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->dev = w->st->st_dev;
	s->ino = w->st->st_ino;
	s->size = (uint64_t)w->st->st_size;
	s->mtime = w->st->st_mtim;
	s->blksize = w->blksize;
	s->index = index;
	s->family = w->family;
	s->local = *w->local;
	TAILQ_INIT(&s->members);
	if (s->family == AF_INET6) {
		struct sockaddr_in6	*g6 = (struct sockaddr_in6 *)&s->group;
		uint32_t		 low = low32(&m->conf.first6) + index;

		g6->sin6_family = AF_INET6;
		g6->sin6_addr = m->conf.first6;
		g6->sin6_addr.s6_addr[12] = (uint8_t)(low >> 24);
		g6->sin6_addr.s6_addr[13] = (uint8_t)(low >> 16);
		g6->sin6_addr.s6_addr[14] = (uint8_t)(low >> 8);
		g6->sin6_addr.s6_addr[15] = (uint8_t)low;
		g6->sin6_port = htons(m->conf.port);
		s->grouplen = sizeof *g6;
	} else {
		struct sockaddr_in	*g4 = (struct sockaddr_in *)&s->group;

		g4->sin_family = AF_INET;
		g4->sin_addr.s_addr = htonl(m->conf.first + index);
		g4->sin_port = htons(m->conf.port);
		s->grouplen = sizeof *g4;
	}
	TAILQ_INSERT_HEAD(&m->sessions, s, entry);
	m->nsessions++;
	return s;
}

static void
session_free(struct mcast *m, struct mcast_session *s)
{
	TAILQ_REMOVE(&m->sessions, s, entry);
	pool_of(m, s->family)->used[s->index] = 0;
	m->nsessions--;
	free(s);
}

int
mcast_join(struct mcast *m, struct mcast_member *c,
    const struct mcast_want *w, struct mcast_grant *g)
{
	struct mcast_session	*s;

	if ((w->family != AF_INET && w->family != AF_INET6) ||
	    pool_of(m, w->family)->n == 0 ||
	    (uint64_t)w->st->st_size / w->blksize + 1 > MCAST_BLOCKS_MAX)
		return -1;
	if ((s = session_find(m, w)) == NULL &&
	    (s = session_new(m, w)) == NULL)
		return -1;
	g->blksize = s->blksize;
	g->nblocks = (uint64_t)w->st->st_size / s->blksize + 1;
	c->session = s;
	c->finished = 0;
	TAILQ_INSERT_TAIL(&s->members, c, entry);
	c->master = s->master == NULL;
	if (c->master)
		s->master = c;
	return 0;
}

void
mcast_finished(struct mcast_member *c)
{
	c->finished = 1;
}

struct mcast_member *
mcast_leave(struct mcast *m, struct mcast_member *c)
{
	struct mcast_session	*s = c->session;
	struct mcast_member	*next = NULL, *o;

	if (s == NULL)
		return NULL;
	TAILQ_REMOVE(&s->members, c, entry);
	if (s->master == c) {
		s->master = NULL;
		/* Clients already finished (a shutdown ends them all before
		 * releasing any) are not asked to take over. */
		TAILQ_FOREACH(o, &s->members, entry)
			if (!o->finished) {
				next = o;
				break;
			}
		if (next != NULL) {
			s->master = next;
			next->master = 1;
		}
	}
	c->session = NULL;
	c->master = 0;
	if (TAILQ_EMPTY(&s->members))
		session_free(m, s);
	return next;
}

const struct sockaddr *
mcast_group(const struct mcast_member *c, socklen_t *len)
{
	*len = c->session->grouplen;
	return (const struct sockaddr *)&c->session->group;
}

void
mcast_optval(const struct mcast_member *c, char *buf, size_t len)
{
	const struct mcast_session	*s = c->session;
	char				 addr[INET6_ADDRSTRLEN];
	const void			*a;
	unsigned			 port;

	if (s->family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)&s->group)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)&s->group)->sin6_port);
	} else {
		a = &((const struct sockaddr_in *)&s->group)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)&s->group)->sin_port);
	}
	if (inet_ntop(s->family, a, addr, sizeof addr) == NULL)
		addr[0] = '\0';
	(void)snprintf(buf, len, "%s,%u,%d", addr, port, c->master ? 1 : 0);
}

void
mcast_out_local(const struct io_local *req, int ifindex, struct io_local *out)
{
	*out = *req;
	if (ifindex == 0 || (req->family == AF_INET6 &&
	    IN6_IS_ADDR_LINKLOCAL(&req->addr.v6)))
		return;
	out->ifindex = ifindex;
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
