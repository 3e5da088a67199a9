/* Socket setup: the only module that binds. */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <net/if.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "log.h"
#include "sock.h"

static int
setopt_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof value);
}

/* Big buffers absorb a PXE storm's burst of requests and whole windows.
 * SO_*BUFFORCE passes the sysctl ceiling when we are root. */
static void
set_buffers(int fd, int rcvbuf, int sndbuf)
{
	if (rcvbuf > 0 &&
	    setopt_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) == -1)
		(void)setopt_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	if (sndbuf > 0 &&
	    setopt_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, sndbuf) == -1)
		(void)setopt_int(fd, SOL_SOCKET, SO_SNDBUF, sndbuf);
}

static int
set_pktinfo(int fd, int family)
{
	if (family == AF_INET)
		return setopt_int(fd, IPPROTO_IP, IP_PKTINFO, 1);
	return setopt_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
}

int
sock_listen(const struct sockaddr *addr, socklen_t addrlen, int rcvbuf)
{
	int	 fd, saved;

	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return -1;
	if (setopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
		goto fail;
	if (addr->sa_family == AF_INET6 &&
	    setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1)
		goto fail;
	if (set_pktinfo(fd, addr->sa_family) == -1)
		goto fail;
	set_buffers(fd, rcvbuf, 0);
	if (bind(fd, addr, addrlen) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

int
sock_port_free(const struct sockaddr *addr, socklen_t addrlen)
{
	int	 fd, rc = 0, saved;

	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno == EAFNOSUPPORT ? 0 : -1;
	if (addr->sa_family == AF_INET6 &&
	    setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1)
		rc = -1;
	/* No SO_REUSEPORT: any socket already on the port refuses us. */
	else if (bind(fd, addr, addrlen) == -1 && errno != EADDRNOTAVAIL)
		rc = -1;
	saved = errno;
	(void)close(fd);
	errno = saved;
	return rc;
}

int
sock_transfer(int family, int rcvbuf, int sndbuf, int lo, int hi,
    unsigned start)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	int			 fd, saved;

	memset(&ss, 0, sizeof ss);
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET) {
		struct sockaddr_in	*s4 = (struct sockaddr_in *)&ss;

		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof *s4;
	} else {
		struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_addr = in6addr_any;
		len = sizeof *s6;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (family == AF_INET6 &&
	    setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == -1)
		goto fail;
	set_buffers(fd, rcvbuf, sndbuf);
	if (lo == 0) {
		if (bind(fd, (struct sockaddr *)&ss, len) == -1)
			goto fail;
		return fd;
	}
	/* A port in [lo, hi]: every worker tries from its own start. */
	{
		unsigned	 n = (unsigned)(hi - lo + 1), i;

		for (i = 0; i < n; i++) {
			int	 port = lo + (int)((start + i) % n);

			if (family == AF_INET)
				((struct sockaddr_in *)&ss)->sin_port =
				    htons((uint16_t)port);
			else
				((struct sockaddr_in6 *)&ss)->sin6_port =
				    htons((uint16_t)port);
			if (bind(fd, (struct sockaddr *)&ss, len) == 0)
				return fd;
			if (errno != EADDRINUSE)
				goto fail;
		}
		errno = EADDRINUSE;
	}
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

int
sock_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

const char *
sock_ntoa(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET)
		return inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->
		    sin_addr, buf, (socklen_t)len);
	if (sa->sa_family == AF_INET6)
		return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->
		    sin6_addr, buf, (socklen_t)len);
	return NULL;
}

int
sock_port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return -1;
}

const char *
sock_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	char	 a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in	*s4 = (const void *)sa;

		(void)inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		(void)snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6	*s6 = (const void *)sa;

		(void)inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		(void)snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else
		(void)snprintf(buf, len, "?");
	return buf;
}

char *
sock_ifname(int fd, int ifindex, char *buf, size_t len)
{
	struct ifreq	 ifr;

	/* Through fd, as sock_ifmtu(): no socket of its own. */
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = ifindex;
	if (len == 0 || ioctl(fd, SIOCGIFNAME, &ifr) == -1)
		return NULL;
	(void)snprintf(buf, len, "%s", ifr.ifr_name);
	return buf;
}

int
sock_ifmtu(int fd, int ifindex)
{
	struct ifreq	 ifr;

	/* The name through fd: if_indextoname() opens a socket, and a
	 * worker out of descriptors must still size blocks to the MTU. */
	memset(&ifr, 0, sizeof ifr);
	ifr.ifr_ifindex = ifindex;
	if (ioctl(fd, SIOCGIFNAME, &ifr) == -1 ||
	    ioctl(fd, SIOCGIFMTU, &ifr) == -1)
		return -1;
	return ifr.ifr_mtu;
}

/*
 * Split text into the address (copied to addr, at most len bytes with
 * the NUL), its family and the port text (NULL: none).
 */
static int
split_addr(const char *text, char *addr, size_t len, int *family,
    const char **port, const char **why)
{
	const char	*rb, *colon;
	size_t		 n;

	*port = NULL;
	if (text[0] == '[') {
		if ((rb = strchr(text, ']')) == NULL) {
			*why = "has no closing ']'";
			return -1;
		}
		if (rb[1] == ':')
			*port = rb + 2;
		else if (rb[1] != '\0') {
			*why = "has something other than ':PORT' after ']'";
			return -1;
		}
		text++;
		n = (size_t)(rb - text);
		*family = AF_INET6;
	} else if ((colon = strchr(text, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		*port = colon + 1;
		n = (size_t)(colon - text);
		*family = AF_INET;
	} else {
		n = strlen(text);
		*family = colon != NULL ? AF_INET6 : AF_INET;
	}
	if (n == 0 || n >= len) {
		*why = "is not a numeric IPv4 or IPv6 address";
		return -1;
	}
	memcpy(addr, text, n);
	addr[n] = '\0';
	return 0;
}

int
sock_parse_addr(const char *text, struct sockaddr_storage *ss,
    socklen_t *sslen, int *hasport, const char **why)
{
	char		 addr[INET6_ADDRSTRLEN + 1];
	const char	*port, *errstr;
	void		*dst;
	int		 family, n = 0;

	memset(ss, 0, sizeof *ss);
	*sslen = 0;
	*hasport = 0;
	if (split_addr(text, addr, sizeof addr, &family, &port, why) == -1)
		return -1;
	if (port != NULL) {
		n = (int)strtonum(port, 0, 65535, &errstr);
		if (errstr != NULL) {
			*why =
			    "has a port that is not a number from 0 to 65535";
			return -1;
		}
		*hasport = 1;
	}
	ss->ss_family = (sa_family_t)family;
	if (family == AF_INET)
		dst = &((struct sockaddr_in *)ss)->sin_addr;
	else
		dst = &((struct sockaddr_in6 *)ss)->sin6_addr;
	if (inet_pton(family, addr, dst) != 1) {
		*why = "is not a numeric IPv4 or IPv6 address";
		return -1;
	}
	sock_set_port((struct sockaddr *)ss, n);
	*sslen = family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	return 0;
}

void
sock_set_port(struct sockaddr *sa, int port)
{
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}
