/* Replacements for BSD functions glibc lacks (compat/). */
#ifndef OWL_COMPAT_H
#define OWL_COMPAT_H

#include <stddef.h>

#ifndef HAVE_STRLCPY
size_t	 strlcpy(char *, const char *, size_t);
#endif
#ifndef HAVE_STRTONUM
long long strtonum(const char *, long long, long long, const char **);
#endif

#endif
