/*
 * The master <-> worker channel.  Framing is free (SOCK_SEQPACKET); this
 * file adds the header check, the dispatch table and a send queue so a
 * full socket delays commands instead of losing them.
 */
#include "config.h"

#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "log.h"

#define CHAN_MSG_MAX	(sizeof(struct chan_hdr) + sizeof(struct chan_xfers))

struct chan_msg {
	struct chan_msg	*next;
	size_t		 len;
	uint8_t		 buf[];
};

static void	 chan_read_cb(evutil_socket_t, short, void *);
static void	 chan_write_cb(evutil_socket_t, short, void *);

int
chan_open(struct chan *c, struct event_base *base, int fd, uint32_t slot,
    const struct chan_handler *handlers, void (*eof)(struct chan *, void *),
    void *arg)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->slot = slot;
	c->handlers = handlers;
	c->eof = eof;
	c->arg = arg;
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, chan_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE, chan_write_cb, c);
	if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) == -1) {
		chan_close(c);
		return -1;
	}
	return 0;
}

void
chan_close(struct chan *c)
{
	struct chan_msg	*m;

	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	c->rev = c->wev = NULL;
	while ((m = c->head) != NULL) {
		c->head = m->next;
		free(m);
	}
	c->tail = NULL;
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	c->closed = 1;
}

/* Send queued messages until the socket is full; 0 when empty. */
static int
flush_queue(struct chan *c)
{
	struct chan_msg	*m;
	ssize_t		 n;

	while ((m = c->head) != NULL) {
		n = send(c->fd, m->buf, m->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -1;
			/* The peer is gone: nothing queued can arrive. */
			log_debug("channel %u: send: %s", c->slot,
			    strerror(errno));
			while ((m = c->head) != NULL) {
				c->head = m->next;
				free(m);
			}
			c->tail = NULL;
			return 0;
		}
		c->head = m->next;
		if (c->head == NULL)
			c->tail = NULL;
		free(m);
	}
	return 0;
}

int
chan_send(struct chan *c, uint16_t type, const void *body, uint32_t len,
    int droppable)
{
	struct chan_msg	*m;
	struct chan_hdr	 h;

	if (c->closed || c->fd == -1)
		return -1;
	if (droppable && c->head != NULL)
		return 1;	/* a queue is waiting: the caller decides */
	if ((m = malloc(sizeof *m + sizeof h + len)) == NULL)
		return -1;
	memset(&h, 0, sizeof h);
	h.type = type;
	h.version = CHAN_VERSION;
	h.len = len;
	h.slot = c->slot;
	h.seq = c->seq++;
	memcpy(m->buf, &h, sizeof h);
	if (len > 0)
		memcpy(m->buf + sizeof h, body, len);
	m->len = sizeof h + len;
	m->next = NULL;
	if (c->tail != NULL)
		c->tail->next = m;
	else
		c->head = m;
	c->tail = m;
	if (flush_queue(c) == -1 && c->wev != NULL)
		(void)event_add(c->wev, NULL);
	return 0;
}

int
chan_send_fd(int fd, uint32_t slot, uint16_t type, const void *body,
    uint32_t len)
{
	uint8_t		 buf[sizeof(struct chan_hdr) + sizeof(struct chan_failed)];
	struct chan_hdr	 h;

	if (len > sizeof buf - sizeof h)
		return -1;
	memset(&h, 0, sizeof h);
	h.type = type;
	h.version = CHAN_VERSION;
	h.len = len;
	h.slot = slot;
	memcpy(buf, &h, sizeof h);
	if (len > 0)
		memcpy(buf + sizeof h, body, len);
	/* A new socketpair has room for one small message. */
	return send(fd, buf, sizeof h + len, MSG_NOSIGNAL) ==
	    (ssize_t)(sizeof h + len) ? 0 : -1;
}

static void
chan_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct chan	*c = arg;

	if (flush_queue(c) == -1)
		(void)event_add(c->wev, NULL);
}

static void
dispatch(struct chan *c, const uint8_t *buf, size_t n)
{
	const struct chan_handler	*hd;
	struct chan_hdr			 h;

	if (n < sizeof h) {
		log_warnx("channel %u: short message (%zu bytes)", c->slot, n);
		return;
	}
	memcpy(&h, buf, sizeof h);
	if (h.version != CHAN_VERSION) {
		log_warnx("channel %u: version %u, expected %u", c->slot,
		    h.version, CHAN_VERSION);
		return;
	}
	for (hd = c->handlers; hd->fn != NULL; hd++) {
		if (hd->type != h.type)
			continue;
		if (h.len != hd->len || n != sizeof h + h.len) {
			log_warnx("channel %u: type %u with length %u, "
			    "expected %u", c->slot, h.type, h.len, hd->len);
			return;
		}
		hd->fn(c, &h, buf + sizeof h, c->arg);
		return;
	}
	log_warnx("channel %u: unexpected message type %u", c->slot, h.type);
}

void
chan_drain(struct chan *c)
{
	static _Alignas(8) uint8_t	 buf[CHAN_MSG_MAX + 1];
	ssize_t				 n;

	while (!c->closed && c->fd != -1) {
		n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			if (c->rev != NULL)
				(void)event_del(c->rev);
			c->closed = 1;
			if (c->eof != NULL)
				c->eof(c, c->arg);
			return;
		}
		dispatch(c, buf, (size_t)n);
	}
}

static void
chan_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	chan_drain(arg);
}

void
chan_flush_wait(struct chan *c, int timeout_ms)
{
	struct pollfd	 pfd;

	if (c->fd == -1)
		return;
	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	while (c->head != NULL && flush_queue(c) == -1) {
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return;
	}
}
