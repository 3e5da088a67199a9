/*
 * TLS for origin fetches (ofetch.c): client bufferevents that connect,
 * then shake hands with the certificate and the host name or address
 * checked, over one SSL_CTX per CA file kept for the life of the
 * process.  Without OpenSSL (configure --without-tls) every call says
 * TLS is not available.
 */
#ifndef OWL_OTLS_H
#define OWL_OTLS_H

#include <stddef.h>

#include <event2/bufferevent.h>

/* Was this build made with TLS? */
int		 otls_available(void);

/*
 * A bufferevent for host (a name or a bare address) checked against
 * ca_file's CAs ("": the system's; insecure: not checked).  why (len
 * bytes) must outlive the handshake: the first reason a certificate is
 * refused is written there.  NULL and why if it cannot be made.
 */
struct bufferevent *otls_bev(struct event_base *, const char *host,
		    const char *ca_file, int insecure, char *why, size_t len);

/*
 * Did bev's connection fail in TLS?  1, and why (len bytes) says why if
 * it did not already; 0 if not (a system call's error is not TLS's).
 */
int		 otls_failed(struct bufferevent *bev, char *why, size_t len);

#endif
