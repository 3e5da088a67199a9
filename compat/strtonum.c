/* strtonum for C libraries without it: bounded decimal parsing. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "compat.h"

long long
strtonum(const char *s, long long minval, long long maxval,
    const char **errstrp)
{
	long long	 v = 0;
	char		*end;
	const char	*err = NULL;

	if (minval > maxval)
		err = "invalid";
	else {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (s[0] == '\0' || *end != '\0')
			err = "invalid";
		else if ((v == LLONG_MIN && errno == ERANGE) || v < minval)
			err = "too small";
		else if ((v == LLONG_MAX && errno == ERANGE) || v > maxval)
			err = "too large";
	}
	if (errstrp != NULL)
		*errstrp = err;
	if (err != NULL) {
		errno = err[0] == 'i' ? EINVAL : ERANGE;
		return 0;
	}
	return v;
}
