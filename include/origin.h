/*
 * HTTP origins: a path prefix of the served tree mapped to a URL, so
 * that many nodes serve one origin (nginx, S3, MinIO) through a local
 * cache.  This header holds what the configuration, the workers and the
 * master share: the rules as configured and the matching of a request
 * to its rule.  The master fetches and caches (ocache.h, ofetch.h); a
 * worker only asks it (CHAN_T_ORIGIN) and serves the cached file.
 */
#ifndef OWL_ORIGIN_H
#define OWL_ORIGIN_H

#include <stddef.h>
#include <stdint.h>

#define ORIGIN_MAX		16	/* origins = ( ... ) groups */
#define ORIGIN_URL_MAX		512
#define ORIGIN_PREFIX_MAX	256
#define ORIGIN_TTL_DEFAULT	(-1)	/* an origin's ttl: cache_ttl's */
#define ORIGIN_DYNAMIC_MAX_BYTES (1024 * 1024)	/* a dynamic origin's
						   default body limit */
#define ORIGIN_CA_FILE_MAX	1024	/* a ca_file's path, NUL included */

struct origin_rule {
	char		 prefix[ORIGIN_PREFIX_MAX];	/* relative, no slash
							   at either end; ""
							   is the whole tree */
	char		 url[ORIGIN_URL_MAX];		/* ends with '/' */
	int		 dynamic;	/* per client: X-TFTP-Client sent */
	int		 ttl;		/* seconds fresh; ORIGIN_TTL_DEFAULT */
	uint64_t	 max_bytes;	/* largest body; 0: cache_max_bytes */
	char		 ca_file[ORIGIN_CA_FILE_MAX];	/* https: the CAs
							   trusted (PEM); "":
							   the system's */
	int		 tls_verify;	/* https: check the certificate and
					   the host name (default) */
};

struct origin_set {
	struct origin_rule	 r[ORIGIN_MAX];
	size_t			 n;
};

/*
 * The rule a request's path (normalized, relative) falls under: the
 * longest prefix that matches whole components; NULL if none.  *rest is
 * the path after the prefix (no leading slash).
 */
const struct origin_rule *origin_match(const struct origin_set *,
		    const char *path, const char **rest);

/*
 * Make prefix (as written: "/", "pxelinux.cfg/", "/boot") the stored
 * form; -1 and *why if it is too long or has an empty, "." or ".."
 * component.
 */
int		 origin_prefix_norm(const char *in, char *out, size_t outlen,
		    const char **why);

/*
 * Check url ("http://host[:port]/path", https:// if built with
 * OpenSSL: HAVE_TLS) and store it with a trailing slash; -1 and *why
 * if not.
 */
int		 origin_url_norm(const char *in, char *out, size_t outlen,
		    const char **why);

/*
 * Is rest (a path below a prefix) one the cache can store: no empty,
 * "." or ".." component, no control character?  0 yes, -1 no.
 */
int		 origin_path_ok(const char *rest);

#endif
