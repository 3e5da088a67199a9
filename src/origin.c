/*
 * The origin rules every process reads: normalizing what the
 * configuration says, and finding the rule a request falls under.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "origin.h"

/* Does every component of s (len bytes, '/'-separated) have a name? */
static int
components_ok(const char *s, size_t len)
{
	size_t	 i = 0, start, n;

	while (i <= len) {
		start = i;
		while (i < len && s[i] != '/')
			i++;
		n = i - start;
		if (n == 0 || (n == 1 && s[start] == '.') ||
		    (n == 2 && s[start] == '.' && s[start + 1] == '.'))
			return -1;
		i++;
	}
	return 0;
}

int
origin_prefix_norm(const char *in, char *out, size_t outlen,
    const char **why)
{
	size_t	 len;

	while (*in == '/')
		in++;
	len = strlen(in);
	while (len > 0 && in[len - 1] == '/')
		len--;
	if (len >= outlen) {
		*why = "is too long";
		return -1;
	}
	if (len > 0 && components_ok(in, len) == -1) {
		*why = "has an empty, \".\" or \"..\" component";
		return -1;
	}
	memcpy(out, in, len);
	out[len] = '\0';
	return 0;
}

int
origin_url_norm(const char *in, char *out, size_t outlen, const char **why)
{
	const char	*host;
	size_t		 len = strlen(in);
	int		 slash;

	if (strncmp(in, "http://", 7) == 0)
		host = in + 7;
#ifdef HAVE_TLS
	else if (strncmp(in, "https://", 8) == 0)
		host = in + 8;
	else {
		*why = "is not an http:// or https:// URL";
		return -1;
	}
#else
	else if (strncmp(in, "https://", 8) == 0) {
		*why = "https origins are not supported by this build "
		    "(use http://, or a local TLS-terminating proxy)";
		return -1;
	} else {
		*why = "is not an http:// URL";
		return -1;
	}
#endif
	if (*host == '\0' || *host == '/' || *host == ':') {
		*why = "has no host";
		return -1;
	}
	if (strpbrk(in, " \t\r\n?#") != NULL) {
		*why = "has a space, a query or a fragment";
		return -1;
	}
	slash = len > 0 && in[len - 1] == '/';
	if (len + !slash >= outlen) {
		*why = "is too long";
		return -1;
	}
	(void)snprintf(out, outlen, "%s%s", in, slash ? "" : "/");
	return 0;
}

int
origin_path_ok(const char *rest)
{
	const unsigned char	*p;

	/* The cache's meta files hold names one a line. */
	for (p = (const unsigned char *)rest; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	return components_ok(rest, strlen(rest));
}

const struct origin_rule *
origin_match(const struct origin_set *set, const char *path,
    const char **rest)
{
	const struct origin_rule	*best = NULL;
	size_t				 i, n, bestlen = 0;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->n; i++) {
		n = strlen(set->r[i].prefix);
		if (best != NULL && n <= bestlen)
			continue;
		if (n > 0 && (strncmp(path, set->r[i].prefix, n) != 0 ||
		    (path[n] != '\0' && path[n] != '/')))
			continue;
		best = &set->r[i];
		bestlen = n;
	}
	if (best != NULL) {
		*rest = path + bestlen;
		while (**rest == '/')
			(*rest)++;
	}
	return best;
}
