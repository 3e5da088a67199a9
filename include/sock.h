/*
 * Socket setup: the only module that binds UDP sockets (the control
 * socket is ctl.c's, the metrics listener evhttp's).
 */
#ifndef OWL_SOCK_H
#define OWL_SOCK_H

#include <sys/socket.h>

#include <stddef.h>

/*
 * A listen socket on addr: SO_REUSEPORT (so every worker slot gets its
 * own socket on the same port), IPV6_V6ONLY, packet-info on receive,
 * non-blocking, close-on-exec.  -1 with errno.
 */
int	 sock_listen(const struct sockaddr *addr, socklen_t addrlen,
	    int rcvbuf);
/*
 * Is addr's port free of every other socket?  Binds a plain socket (no
 * SO_REUSEPORT) and closes it: 0 free, -1 with errno (EADDRINUSE: some
 * process, maybe another server, has it).  Used before a server binds
 * its SO_REUSEPORT group, which would otherwise join anyone's.
 */
int	 sock_port_free(const struct sockaddr *addr, socklen_t addrlen);
/*
 * A worker's transfer socket: wildcard address of family, an ephemeral
 * port, or with lo > 0 the first free port of [lo, hi] counting from
 * lo + start.  -1 with errno (EADDRINUSE: the range is full).
 */
int	 sock_transfer(int family, int rcvbuf, int sndbuf, int lo, int hi,
	    unsigned start);
/* The MTU of interface ifindex (asked through fd), or -1. */
int	 sock_ifmtu(int fd, int ifindex);
/* The name of interface ifindex (asked through fd) in buf, or NULL. */
char	*sock_ifname(int fd, int ifindex, char *buf, size_t len);
/* The port fd is bound to, or -1. */
int	 sock_port(int fd);
/* The address alone, without port or brackets; NULL if unknown. */
const char *sock_ntoa(const struct sockaddr *, char *buf, size_t len);
/* The port of an address, or -1. */
int	 sock_port_of(const struct sockaddr *);
/*
 * Parse a numeric address as a configuration writes it: "ADDR",
 * "ADDR:PORT", "[ADDR]", "[ADDR]:PORT" or a bare IPv6 address (more than
 * one ':').  Without a port the port is 0 and *hasport 0.  -1 and *why
 * (what is wrong, to follow the quoted text) if malformed.
 */
int	 sock_parse_addr(const char *text, struct sockaddr_storage *,
	    socklen_t *, int *hasport, const char **why);
/* Set the port of an AF_INET or AF_INET6 address. */
void	 sock_set_port(struct sockaddr *, int port);
/* "addr:port" / "[addr]:port" for messages. */
/* Room for any address sock_ntop() writes: "[v6%scope]:port" and NUL. */
#define SOCK_ADDRSTR_MAX	80

const char *sock_ntop(const struct sockaddr *, char *buf, size_t len);

#endif
