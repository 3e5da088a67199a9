/* Unit tests for the audit log's JSON lines: escaping and truncation. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "suite_main.h"
#include "audit.h"

/* A strict little JSON checker: objects, strings, integers. */
static const char *value(const char *);

static const char *
string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20 || *p == '\0')
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int	 i;

				for (i = 1; i <= 4; i++)
					if (strchr("0123456789abcdef",
					    p[i]) == NULL || p[i] == '\0')
						return NULL;
				p += 4;
			} else if (strchr("\"\\/bfnrt", *p) == NULL ||
			    *p == '\0')
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static const char *
object(const char *p)
{
	if (*p++ != '{')
		return NULL;
	if (*p == '}')
		return p + 1;
	for (;;) {
		if ((p = string(p)) == NULL || *p++ != ':' ||
		    (p = value(p)) == NULL)
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
value(const char *p)
{
	if (*p == '{')
		return object(p);
	if (*p == '"')
		return string(p);
	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	return p;
}

static int
valid(const char *line)
{
	const char	*end = object(line);

	return end != NULL && *end == '\0';
}

START_TEST(hostile_strings_stay_valid_json)
{
	struct audit_buf	 b;
	char			 s[9000];
	size_t			 len, i;
	unsigned		 seed = 1;
	int			 round;

	for (round = 0; round < 2000; round++) {
		len = (size_t)(rand_r(&seed) % (round < 1000 ? 64 : 9000));
		for (i = 0; i < len; i++)
			s[i] = (char)(rand_r(&seed) & 0xff);
		audit_begin(&b, "transfer");
		audit_strn(&b, "file", s, len);
		audit_obj_begin(&b, "options");
		audit_u64(&b, "blksize", 1468);
		audit_strn(&b, "junk", s, len / 2);
		audit_obj_end(&b);
		audit_strn(&b, "peer", s, len / 3);
		audit_i64(&b, "worker2", -1);
		ck_assert_msg(valid(audit_end(&b)), "invalid line, round %d: %.200s", round, b.buf);
		ck_assert_uint_lt(strlen(b.buf), AUDIT_LINE_MAX);
	}
}
END_TEST

START_TEST(escapes_are_exact)
{
	char	 out[64];

	ck_assert_uint_eq(audit_escape("a\"b\\c", 5, out, sizeof out), 7);
	ck_assert_str_eq(out, "a\\\"b\\\\c");
	(void)audit_escape("\x01\x7f", 2, out, sizeof out);
	ck_assert_str_eq(out, "\\u0001\\u007f");
	/* Valid UTF-8 passes; a stray byte becomes \u00XX. */
	(void)audit_escape("\xc3\xa9\xff", 3, out, sizeof out);
	ck_assert_str_eq(out, "\xc3\xa9\\u00ff");
	/* Overlong and surrogate forms are not UTF-8. */
	(void)audit_escape("\xc0\xaf", 2, out, sizeof out);
	ck_assert_str_eq(out, "\\u00c0\\u00af");
	(void)audit_escape("\xed\xa0\x80", 3, out, sizeof out);
	ck_assert_str_eq(out, "\\u00ed\\u00a0\\u0080");
	/* Never half an escape. */
	ck_assert_uint_eq(audit_escape("\x01", 1, out, 4), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(common_fields_come_first)
{
	struct audit_buf	 b;
	const char		*line;

	audit_set_worker(3);
	audit_begin(&b, "reload");
	audit_str(&b, "result", "ok");
	line = audit_end(&b);
	ck_assert(valid(line));
	ck_assert_int_eq(strncmp(line, "{\"ts\":\"", 7), 0);
	ck_assert_ptr_nonnull(strstr(line, "\"event\":\"reload\","
	    "\"worker\":3,\"result\":\"ok\"}"));
	audit_set_worker(-1);
}
END_TEST

static Suite *
audit_suite(void)
{
	Suite	*s = suite_create("audit");
	TCase	*tc = tcase_create("lines are always valid JSON");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, hostile_strings_stay_valid_json);
	tcase_add_test(tc, escapes_are_exact);
	tcase_add_test(tc, common_fields_come_first);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(audit_suite());
}
