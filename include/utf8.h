/*
 * UTF-8 validation shared by the audit log (JSON keeps valid UTF-8,
 * escapes the rest) and remap (a trailing valid character is kept).
 */
#ifndef OWL_UTF8_H
#define OWL_UTF8_H

#include <stddef.h>

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), 0 if it
 * is not one: overlong forms, surrogates and code points beyond U+10FFFF
 * are not UTF-8.
 */
size_t	 utf8_len(const unsigned char *s, size_t len);

#endif
