/*
 * A worker's client addresses for the abuse limits: a fixed array of
 * entries allocated by clients_new(), a chained hash over them keyed by a
 * SipHash-2-4 of the address with a random key, and a doubly linked LRU
 * list of the entries that have no live transfer (the only ones that may
 * be evicted, so its tail is the eviction candidate in O(1)).
 *
 * Buckets count micro-tokens: one request costs CLIENTS_TOKEN, and rate
 * tokens per second refill rate micro-tokens per microsecond, so the
 * arithmetic is exact in integers.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clients.h"

#define CLIENTS_NIL	UINT32_MAX
#define CLIENTS_TOKEN	1000000ULL	/* micro-tokens per token */

struct client {
	uint8_t		 addr[16];	/* IPv6, IPv4 as ::ffff:a.b.c.d */
	uint64_t	 level;		/* micro-tokens at stamp */
	uint64_t	 stamp;		/* last refill, µs */
	uint32_t	 hnext;		/* hash chain */
	uint32_t	 prev;		/* LRU list */
	uint32_t	 next;		/* LRU list, or the free list */
	unsigned	 active;	/* live transfers; > 0: not in LRU */
};

struct clients {
	struct client	*ent;
	uint32_t	*heads;		/* cap chains */
	uint32_t	 cap;		/* power of two */
	uint32_t	 n;		/* entries in use */
	uint32_t	 free;		/* free list through next */
	uint32_t	 lru_head;	/* most recently used, no transfer */
	uint32_t	 lru_tail;	/* least recently used: evicted first */
	uint64_t	 k0, k1;	/* hash key */
	uint64_t	 rate;		/* micro-tokens per µs; 0: unlimited */
	uint64_t	 full;		/* bucket size in micro-tokens */
};

static const uint8_t	 v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Tried in order while the kernel says the flag cannot be served. */
static const unsigned	 seed_flags[] = {
	GRND_NONBLOCK,
#ifdef GRND_INSECURE
	GRND_INSECURE,		/* Linux >= 5.6: never blocks */
#endif
	0,			/* older kernels early in boot: wait */
};

static int
seed(struct clients *c)
{
	uint8_t		 k[16];
	size_t		 got = 0, f = 0;
	ssize_t		 r;

	while (got < sizeof k) {
		r = getrandom(k + got, sizeof k - got, seed_flags[f]);
		if (r >= 0) {
			got += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if ((errno != EAGAIN && errno != EINVAL) ||
		    ++f == sizeof seed_flags / sizeof seed_flags[0])
			return -1;
	}
	memcpy(&c->k0, k, 8);
	memcpy(&c->k1, k + 8, 8);
	return 0;
}

/* The 16-byte key of peer's address; -1 for a family without one. */
static int
addr_key(const struct sockaddr *peer, uint8_t addr[16])
{
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)peer;

		memcpy(addr, v4mapped, sizeof v4mapped);
		memcpy(addr + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (peer->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)peer;

		memcpy(addr, &s6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static uint64_t
rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void
sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl(v[1], 13) ^ v[0];
	v[0] = rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rotl(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotl(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotl(v[1], 17) ^ v[2];
	v[2] = rotl(v[2], 32);
}

static void
sipword(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
}

/* SipHash-2-4 of a 16-byte message (words read little-endian). */
static uint64_t
siphash16(uint64_t k0, uint64_t k1, const uint8_t msg[16])
{
	uint64_t	 v[4], m[2];
	unsigned	 i, j;

	v[0] = k0 ^ 0x736f6d6570736575ULL;
	v[1] = k1 ^ 0x646f72616e646f6dULL;
	v[2] = k0 ^ 0x6c7967656e657261ULL;
	v[3] = k1 ^ 0x7465646279746573ULL;
	for (i = 0; i < 2; i++) {
		m[i] = 0;
		for (j = 0; j < 8; j++)
			m[i] |= (uint64_t)msg[i * 8 + j] << (8 * j);
		sipword(v, m[i]);
	}
	sipword(v, (uint64_t)16 << 56);
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t *
chain(const struct clients *c, const uint8_t addr[16])
{
	return &c->heads[siphash16(c->k0, c->k1, addr) & (c->cap - 1)];
}

static uint32_t
lookup(const struct clients *c, const uint8_t addr[16])
{
	uint32_t	 i;

	for (i = *chain(c, addr); i != CLIENTS_NIL; i = c->ent[i].hnext)
		if (memcmp(c->ent[i].addr, addr, 16) == 0)
			return i;
	return CLIENTS_NIL;
}

static void
lru_unlink(struct clients *c, uint32_t i)
{
	struct client	*e = &c->ent[i];

	if (e->prev != CLIENTS_NIL)
		c->ent[e->prev].next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != CLIENTS_NIL)
		c->ent[e->next].prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = CLIENTS_NIL;
}

static void
lru_push(struct clients *c, uint32_t i)
{
	struct client	*e = &c->ent[i];

	e->prev = CLIENTS_NIL;
	e->next = c->lru_head;
	if (c->lru_head != CLIENTS_NIL)
		c->ent[c->lru_head].prev = i;
	else
		c->lru_tail = i;
	c->lru_head = i;
}

/* Add the tokens earned since e's stamp, up to a full bucket. */
static void
refill(const struct clients *c, struct client *e, uint64_t now)
{
	uint64_t	 elapsed, need;

	if (now <= e->stamp)
		return;
	elapsed = now - e->stamp;
	e->stamp = now;
	need = c->full - e->level;
	if (need == 0 || c->rate == 0)
		return;
	/* elapsed * rate < need + rate here, so it cannot overflow. */
	if (elapsed >= (need + c->rate - 1) / c->rate)
		e->level = c->full;
	else
		e->level += elapsed * c->rate;
}

/* Forget entry i, which has no live transfer. */
static void
evict(struct clients *c, uint32_t i)
{
	uint32_t	*pp;

	for (pp = chain(c, c->ent[i].addr); *pp != i; pp = &c->ent[*pp].hnext)
		;
	*pp = c->ent[i].hnext;
	lru_unlink(c, i);
	c->ent[i].next = c->free;
	c->free = i;
	c->n--;
}

/*
 * A new entry for addr with a full bucket, at the head of the LRU list;
 * when the table is full it replaces the LRU tail, only if that is idle
 * unless force.  CLIENTS_NIL if there is no room.
 */
static uint32_t
insert(struct clients *c, const uint8_t addr[16], uint64_t now, int force)
{
	struct client	*e;
	uint32_t	*head, i;

	if (c->free == CLIENTS_NIL) {
		if ((i = c->lru_tail) == CLIENTS_NIL)
			return CLIENTS_NIL;
		refill(c, &c->ent[i], now);
		if (!force && c->ent[i].level != c->full)
			return CLIENTS_NIL;
		evict(c, i);
	}
	i = c->free;
	e = &c->ent[i];
	c->free = e->next;
	c->n++;

	memcpy(e->addr, addr, 16);
	e->level = c->full;
	e->stamp = now;
	e->active = 0;
	head = chain(c, addr);
	e->hnext = *head;
	*head = i;
	lru_push(c, i);
	return i;
}

struct clients *
clients_new(size_t cap, unsigned rate, unsigned burst)
{
	struct clients	*c;
	uint32_t	 n, i;

	if (cap == 0 || cap > CLIENTS_CAP_MAX) {
		errno = EINVAL;
		return NULL;
	}
	for (n = 1; n < cap; n <<= 1)
		;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->ent = calloc(n, sizeof *c->ent);
	c->heads = calloc(n, sizeof *c->heads);
	if (c->ent == NULL || c->heads == NULL || seed(c) == -1)
		goto fail;

	c->cap = n;
	c->rate = rate;
	c->full = (burst == 0 ? 1 : burst) * CLIENTS_TOKEN;
	c->lru_head = c->lru_tail = CLIENTS_NIL;
	for (i = 0; i < n; i++) {
		c->heads[i] = CLIENTS_NIL;
		c->ent[i].hnext = c->ent[i].prev = CLIENTS_NIL;
		c->ent[i].next = i + 1 < n ? i + 1 : CLIENTS_NIL;
	}
	c->free = 0;
	return c;

fail:
	clients_free(c);
	return NULL;
}

void
clients_free(struct clients *c)
{
	int	 saved;

	if (c == NULL)
		return;
	saved = errno;
	free(c->ent);
	free(c->heads);
	free(c);
	errno = saved;
}

int
clients_take(struct clients *c, const struct sockaddr *peer, uint64_t now_us)
{
	struct client	*e;
	uint8_t		 addr[16];
	uint32_t	 i;

	if (c->rate == 0)
		return 1;
	if (addr_key(peer, addr) == -1)
		return 0;
	if ((i = lookup(c, addr)) == CLIENTS_NIL &&
	    (i = insert(c, addr, now_us, 0)) == CLIENTS_NIL)
		return 0;	/* full of busy addresses: refuse, see clients.h */
	e = &c->ent[i];
	refill(c, e, now_us);
	if (e->active == 0 && c->lru_head != i) {
		lru_unlink(c, i);
		lru_push(c, i);
	}
	if (e->level < CLIENTS_TOKEN)
		return 0;
	e->level -= CLIENTS_TOKEN;
	return 1;
}

unsigned
clients_active(const struct clients *c, const struct sockaddr *peer)
{
	uint8_t		 addr[16];
	uint32_t	 i;

	if (addr_key(peer, addr) == -1 ||
	    (i = lookup(c, addr)) == CLIENTS_NIL)
		return 0;
	return c->ent[i].active;
}

void
clients_xfer_start(struct clients *c, const struct sockaddr *peer,
    uint64_t now_us)
{
	struct client	*e;
	uint8_t		 addr[16];
	uint32_t	 i;

	if (addr_key(peer, addr) == -1)
		return;
	if ((i = lookup(c, addr)) == CLIENTS_NIL &&
	    (i = insert(c, addr, now_us, 1)) == CLIENTS_NIL)
		return;		/* every entry has a live transfer */
	e = &c->ent[i];
	if (e->active == UINT_MAX)
		return;
	if (e->active++ == 0)
		lru_unlink(c, i);
}

void
clients_xfer_end(struct clients *c, const struct sockaddr *peer)
{
	struct client	*e;
	uint8_t		 addr[16];
	uint32_t	 i;

	if (addr_key(peer, addr) == -1 ||
	    (i = lookup(c, addr)) == CLIENTS_NIL)
		return;
	e = &c->ent[i];
	if (e->active == 0)
		return;
	if (--e->active == 0)
		lru_push(c, i);
}

size_t
clients_count(const struct clients *c)
{
	return c->n;
}
