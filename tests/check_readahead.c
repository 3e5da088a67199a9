/* Unit tests for the read-ahead pool (readahead.c). */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suite_main.h"
#include "readahead.h"

#define FILE_BYTES	100000

static char	 path[] = "/tmp/check_readahead.XXXXXX";
static int	 fd = -1;
static uint8_t	 bytes[FILE_BYTES];

static void
setup(void)
{
	size_t	 i;

	for (i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 13 + i / 509);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, bytes, sizeof bytes), (ssize_t)sizeof bytes);
}

static void
teardown(void)
{
	(void)close(fd);
	(void)unlink(path);
}

START_TEST(reads_once_per_buffer_and_serves_from_it)
{
	struct readahead_pool	 p;
	struct readahead	 ra = { 0 };
	const uint8_t		*out;

	readahead_pool_init(&p, READAHEAD_BUDGET);
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 0, 1000, &out),
	    1);
	ck_assert_mem_eq(out, bytes, 1000);
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 31000, 1768,
	    &out), 1);
	ck_assert_mem_eq(out, bytes + 31000, 1768);
	ck_assert_uint_eq(p.fills, 1);
	/* Past the buffer's end: read again from there. */
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 32000, 1000,
	    &out), 1);
	ck_assert_mem_eq(out, bytes + 32000, 1000);
	ck_assert_uint_eq(p.fills, 2);
	/* Backwards (a client that went back): read again too. */
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 100, 10, &out),
	    1);
	ck_assert_mem_eq(out, bytes + 100, 10);
	ck_assert_uint_eq(p.fills, 3);
	/* The file's tail: a buffer shorter than READAHEAD_BYTES. */
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES,
	    FILE_BYTES - 5, 5, &out), 1);
	ck_assert_mem_eq(out, bytes + FILE_BYTES - 5, 5);
	ck_assert_uint_eq(ra.len, 5);
	/* Beyond the size it was given, or more than a buffer: refused. */
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, FILE_BYTES - 5,
	    6, &out), -1);
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 0,
	    READAHEAD_BYTES + 1, &out), -1);
	readahead_release(&p, &ra);
	ck_assert_ptr_null(ra.buf);
	ck_assert_uint_eq(p.lent, 0);
	readahead_pool_clear(&p);
}
END_TEST

START_TEST(a_shrunk_file_fails_the_read)
{
	struct readahead_pool	 p;
	struct readahead	 ra = { 0 };
	const uint8_t		*out;

	readahead_pool_init(&p, READAHEAD_BUDGET);
	ck_assert_int_eq(ftruncate(fd, 40000), 0);
	/* The size the transfer knew is larger than the file now is. */
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 39000, 1000,
	    &out), 1);
	ck_assert_int_eq(readahead_get(&p, &ra, fd, FILE_BYTES, 40000, 1000,
	    &out), -1);
	ck_assert_uint_eq(ra.len, 0);	/* nothing trusted after a failure */
	readahead_release(&p, &ra);
	readahead_pool_clear(&p);
}
END_TEST

START_TEST(the_budget_bounds_the_buffers_and_they_are_reused)
{
	struct readahead_pool	 p;
	struct readahead	 a = { 0 }, b = { 0 }, c = { 0 };
	const uint8_t		*out;
	uint8_t			*first;

	readahead_pool_init(&p, 2 * READAHEAD_BYTES);
	ck_assert_int_eq(readahead_get(&p, &a, fd, FILE_BYTES, 0, 10, &out), 1);
	ck_assert_int_eq(readahead_get(&p, &b, fd, FILE_BYTES, 0, 10, &out), 1);
	/* Spent: the caller reads for itself. */
	ck_assert_int_eq(readahead_get(&p, &c, fd, FILE_BYTES, 0, 10, &out), 0);
	ck_assert_uint_eq(p.refused, 1);
	ck_assert_ptr_null(c.buf);
	first = a.buf;
	readahead_release(&p, &a);
	ck_assert_int_eq(readahead_get(&p, &c, fd, FILE_BYTES, 50, 10, &out), 1);
	ck_assert_ptr_eq(c.buf, first);		/* the same buffer, again */
	ck_assert_mem_eq(out, bytes + 50, 10);
	ck_assert_uint_eq(p.made, 2);
	ck_assert_uint_eq(p.lent, 2);
	/* Clearing frees every buffer, lent ones included (no leak). */
	readahead_pool_clear(&p);
	ck_assert_uint_eq(p.made, 0);
	/* A budget below one buffer still lends one. */
	readahead_pool_init(&p, 1);
	ck_assert_uint_eq(p.max, 1);
	readahead_pool_clear(&p);
}
END_TEST

static Suite *
readahead_suite(void)
{
	Suite	*s = suite_create("readahead");
	TCase	*tc = tcase_create("small reads come from a buffer read ahead");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reads_once_per_buffer_and_serves_from_it);
	tcase_add_test(tc, a_shrunk_file_fails_the_read);
	tcase_add_test(tc, the_budget_bounds_the_buffers_and_they_are_reused);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(readahead_suite());
}
