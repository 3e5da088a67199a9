/*
 * What the two datagram backends share, for src/io*.c only: io.c (the
 * staging queue, its sends and the GSO fallback, recvmmsg) and
 * io-uring.c (the same sends through a ring, multishot receives).
 */
#ifndef OWL_IO_INT_H
#define OWL_IO_INT_H

#include <sys/socket.h>

#include <netinet/in.h>

#include <stdint.h>

#include "io.h"

/* Room for the packet info and a UDP_SEGMENT size, sent or received. */
#define IO_CMSG_SPACE	(CMSG_SPACE(sizeof(struct in6_pktinfo)) + \
			    CMSG_SPACE(sizeof(uint16_t)))

/* The local end of a received datagram, from its control messages. */
void	 io_parse_local(struct msghdr *, struct io_local *);

#endif
