/*
 * A worker's transfers: a pool allocated once at start (no allocation on
 * the request path) and a chained hash of the live ones, keyed by the
 * peer's address and port.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfer.h"
#include "xfertab.h"

int
xfertab_init(struct xfertab *t, size_t cap)
{
	size_t	 i;

	memset(t, 0, sizeof *t);
	t->nbuckets = 16;
	while (t->nbuckets < cap * 2)
		t->nbuckets <<= 1;
	t->pool = calloc(cap, sizeof *t->pool);
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	if (t->pool == NULL || t->buckets == NULL) {
		free(t->pool);
		free(t->buckets);
		return -1;
	}
	t->cap = cap;
	for (i = cap; i > 0; i--) {
		t->pool[i - 1].hnext = t->free;
		t->free = &t->pool[i - 1];
	}
	return 0;
}

void
xfertab_clear(struct xfertab *t)
{
	free(t->pool);
	free(t->buckets);
	memset(t, 0, sizeof *t);
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static size_t
peer_hash(const struct xfertab *t, const struct sockaddr *sa)
{
	uint64_t	 h = (uint64_t)sa->sa_family;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)sa;

		h = mix(h, s4->sin_addr.s_addr);
		h = mix(h, s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)sa;
		uint64_t			 a, b;

		memcpy(&a, &s6->sin6_addr, 8);
		memcpy(&b, (const char *)&s6->sin6_addr + 8, 8);
		h = mix(mix(mix(h, a), b), s6->sin6_port);
		h = mix(h, s6->sin6_scope_id);
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h & (t->nbuckets - 1);
}

static int
peer_equal(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in	*x = (const void *)a;
		const struct sockaddr_in	*y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6	*x = (const void *)a;
		const struct sockaddr_in6	*y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    x->sin6_scope_id == y->sin6_scope_id &&
		    memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof x->sin6_addr) == 0;
	}
	return 0;
}

struct xfer *
xfertab_lookup(const struct xfertab *t, const struct sockaddr *peer)
{
	struct xfer	*x;

	for (x = t->buckets[peer_hash(t, peer)]; x != NULL; x = x->hnext)
		if (peer_equal((const struct sockaddr *)&x->peer, peer))
			return x;
	return NULL;
}

struct xfer *
xfertab_alloc(struct xfertab *t, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct xfer	*x = t->free;
	size_t		 b;

	if (x == NULL || peerlen > sizeof x->peer)
		return NULL;
	t->free = x->hnext;
	memset(x, 0, sizeof *x);
	memcpy(&x->peer, peer, peerlen);
	x->peerlen = peerlen;
	b = peer_hash(t, peer);
	x->hnext = t->buckets[b];
	t->buckets[b] = x;
	t->active++;
	return x;
}

void
xfertab_release(struct xfertab *t, struct xfer *x)
{
	struct xfer	**pp;

	pp = &t->buckets[peer_hash(t, (const struct sockaddr *)&x->peer)];
	while (*pp != NULL && *pp != x)
		pp = &(*pp)->hnext;
	if (*pp == x)
		*pp = x->hnext;
	x->state = XFER_S_IDLE;
	x->hnext = t->free;
	t->free = x;
	t->active--;
}

struct xfer *
xfertab_owner(const struct xfertab *t, const void *p)
{
	uintptr_t	 o = (uintptr_t)p, lo = (uintptr_t)t->pool;

	if (p == NULL || o < lo || o >= lo + t->cap * sizeof *t->pool)
		return NULL;
	return &t->pool[(o - lo) / sizeof *t->pool];
}
