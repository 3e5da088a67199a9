/*
 * Unit tests for the counters: arithmetic, the three renderings, and
 * docs/stats.md listing every counter with its help text.
 */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite_main.h"
#include "stats.h"

/* Every field is a uint64_t in STATS_FIELDS order: view it as an array. */
static void
fill(struct stats *s, uint64_t base, uint64_t step)
{
	uint64_t	 v[sizeof *s / sizeof(uint64_t)];
	size_t		 i;

	for (i = 0; i < stats_count(); i++)
		v[i] = base + step * i;
	memcpy(s, v, sizeof *s);
}

static char *
slurp(const char *path)
{
	FILE	*fp = fopen(path, "r");
	char	*buf;
	long	 len;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	len = ftell(fp);
	ck_assert_int_ge(len, 0);
	rewind(fp);
	buf = malloc((size_t)len + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)len, fp), (size_t)len);
	buf[len] = '\0';
	(void)fclose(fp);
	return buf;
}

/* Render with fn into a string the caller frees. */
#define CAPTURE(out, call) do {						\
	size_t	 capture_len;						\
	FILE	*fp = open_memstream(&(out), &capture_len);		\
									\
	ck_assert_ptr_nonnull(fp);					\
	call;								\
	ck_assert_int_eq(fclose(fp), 0);				\
} while (0)

/* ------------------------------------------------------------- the list */

START_TEST(struct_is_the_list)
{
	struct stats	 s;
	size_t		 i, j;

	ck_assert_uint_eq(sizeof s, stats_count() * sizeof(uint64_t));
	ck_assert_uint_gt(stats_count(), 30);
	ck_assert_ptr_null(stats_name(stats_count()));
	ck_assert_ptr_null(stats_help(stats_count()));
	fill(&s, 100, 7);
	for (i = 0; i < stats_count(); i++) {
		ck_assert_uint_eq(stats_value(&s, i), 100 + 7 * i);
		ck_assert_ptr_nonnull(stats_name(i));
		ck_assert_str_ne(stats_help(i), "");
		for (j = 0; j < i; j++)
			ck_assert_str_ne(stats_name(i), stats_name(j));
	}
	ck_assert_str_eq(stats_name(0), "rrq");
	ck_assert_uint_eq(stats_value(&s, 0), s.rrq);
}
END_TEST

START_TEST(docs_list_every_counter_with_its_help)
{
	const char	*dir = getenv("TESTS_SRCDIR");
	char		 path[4096], name[128];
	char		*doc;
	size_t		 i;

	if (dir == NULL)
		dir = ".";
	(void)snprintf(path, sizeof path, "%s/../docs/stats.md", dir);
	doc = slurp(path);
	for (i = 0; i < stats_count(); i++) {
		/* As code (`name`), so "rrq" is not found inside "wrq". */
		(void)snprintf(name, sizeof name, "`%s`", stats_name(i));
		ck_assert_msg(strstr(doc, name) != NULL,
		    "%s does not mention %s", path, name);
		ck_assert_msg(strstr(doc, stats_help(i)) != NULL,
		    "%s lacks the help text of %s: \"%s\"", path,
		    stats_name(i), stats_help(i));
	}
	free(doc);
}
END_TEST

/* ------------------------------------------------------------ arithmetic */

START_TEST(add_sums_every_counter)
{
	struct stats	 a, b;
	size_t		 i;

	fill(&a, 1, 1);
	fill(&b, 1000, 10);
	stats_add(&a, &b);
	for (i = 0; i < stats_count(); i++)
		ck_assert_uint_eq(stats_value(&a, i), 1 + i + 1000 + 10 * i);
	/* b is untouched. */
	for (i = 0; i < stats_count(); i++)
		ck_assert_uint_eq(stats_value(&b, i), 1000 + 10 * i);
}
END_TEST

START_TEST(sub_takes_away_every_counter)
{
	struct stats	 a, b;
	size_t		 i;

	fill(&a, 500, 5);
	fill(&b, 100, 1);
	stats_sub(&a, &b);
	for (i = 0; i < stats_count(); i++)
		ck_assert_uint_eq(stats_value(&a, i), 400 + 4 * i);
}
END_TEST

START_TEST(sub_never_goes_below_zero)
{
	struct stats	 a, b;
	size_t		 i;

	/* Every counter of a is below b's but two. */
	fill(&a, 10, 0);
	fill(&b, 20, 0);
	a.wrq = 25;
	a.bytes_out = UINT64_MAX;
	b.bytes_out = 1;
	stats_sub(&a, &b);
	for (i = 0; i < stats_count(); i++) {
		if (strcmp(stats_name(i), "wrq") == 0)
			ck_assert_uint_eq(stats_value(&a, i), 5);
		else if (strcmp(stats_name(i), "bytes_out") == 0)
			ck_assert_uint_eq(stats_value(&a, i), UINT64_MAX - 1);
		else
			ck_assert_uint_eq(stats_value(&a, i), 0);
	}
	/* Equal values give zero, not a wrap. */
	fill(&a, 3, 0);
	stats_sub(&a, &a);
	for (i = 0; i < stats_count(); i++)
		ck_assert_uint_eq(stats_value(&a, i), 0);
}
END_TEST

/* -------------------------------------------------------- ERRORs by code */

static const char *const by_code[] = {
	"error_sent_undef",		/* 0 */
	"error_sent_not_found",
	"error_sent_access",
	"error_sent_disk_full",
	"error_sent_illegal_op",
	"error_sent_unknown_tid",
	"error_sent_exists",
	"error_sent_no_user",
	"error_sent_option",		/* 8 */
};

START_TEST(error_sent_counts_the_code)
{
	struct stats	 s;
	unsigned	 code = (unsigned)_i;
	size_t		 i;

	memset(&s, 0, sizeof s);
	stats_error_sent(&s, code);
	stats_error_sent(&s, code);
	for (i = 0; i < stats_count(); i++) {
		uint64_t	 want = 0;

		if (strcmp(stats_name(i), "errors_sent") == 0 ||
		    strcmp(stats_name(i), by_code[code]) == 0)
			want = 2;
		ck_assert_msg(stats_value(&s, i) == want,
		    "code %u: %s is %" PRIu64 ", want %" PRIu64, code,
		    stats_name(i), stats_value(&s, i), want);
	}
}
END_TEST

START_TEST(error_sent_unknown_code_counts_only_the_total)
{
	static const unsigned	 codes[] = { 9, 42, 65535, 0xffffffffU };
	struct stats		 s;
	size_t			 i, k;

	for (k = 0; k < sizeof codes / sizeof codes[0]; k++) {
		memset(&s, 0, sizeof s);
		stats_error_sent(&s, codes[k]);
		for (i = 0; i < stats_count(); i++)
			ck_assert_uint_eq(stats_value(&s, i),
			    strcmp(stats_name(i), "errors_sent") == 0);
	}
}
END_TEST

/* ------------------------------------------------------------- key=value */

START_TEST(render_is_one_exact_line_per_counter)
{
	struct stats	 s;
	char		*out, *want, *p;
	size_t		 i, cap = 64 * 1024;

	fill(&s, 7, 3);
	s.bytes_in = UINT64_MAX;
	CAPTURE(out, stats_render(&s, "total", fp));
	ck_assert_msg(strncmp(out, "total.rrq=7\ntotal.wrq=10\n", 25) == 0,
	    "starts with: %.40s", out);
	ck_assert_ptr_nonnull(strstr(out,
	    "\ntotal.bytes_in=18446744073709551615\n"));
	want = p = malloc(cap);
	ck_assert_ptr_nonnull(want);
	for (i = 0; i < stats_count(); i++)
		p += snprintf(p, cap - (size_t)(p - want), "total.%s=%" PRIu64
		    "\n", stats_name(i), stats_value(&s, i));
	ck_assert_str_eq(out, want);
	free(out);

	/* No prefix: no leading dot. */
	CAPTURE(out, stats_render(&s, "", fp));
	ck_assert_msg(strncmp(out, "rrq=7\nwrq=10\n", 13) == 0,
	    "starts with: %.40s", out);
	p = want;
	for (i = 0; i < stats_count(); i++)
		p += snprintf(p, cap - (size_t)(p - want), "%s=%" PRIu64 "\n",
		    stats_name(i), stats_value(&s, i));
	ck_assert_str_eq(out, want);
	free(out);

	CAPTURE(out, stats_render(&s, "worker.3", fp));
	ck_assert_msg(strncmp(out, "worker.3.rrq=7\n", 15) == 0,
	    "starts with: %.40s", out);
	free(out);
	free(want);
}
END_TEST

/* ------------------------------------------------------------------ JSON */

/*
 * A strict reader for what stats_render_json must produce: an object of
 * "key":unsigned-integer members, nothing else, no whitespace.  Fills
 * keys/vals and returns the count, or -1 on any deviation.
 */
static int
parse_flat_json(const char *p, char keys[][64], uint64_t *vals, int max)
{
	int	 n = 0;

	if (*p++ != '{')
		return -1;
	if (*p == '}')
		return p[1] == '\0' ? 0 : -1;
	for (;;) {
		size_t	 k = 0;
		char	*end;

		if (n == max || *p++ != '"')
			return -1;
		while (*p != '"' && *p != '\0' && k < 63)
			keys[n][k++] = *p++;
		keys[n][k] = '\0';
		if (*p++ != '"' || k == 0 || *p++ != ':')
			return -1;
		if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' &&
		    p[1] <= '9'))
			return -1;
		vals[n++] = strtoull(p, &end, 10);
		p = end;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '}' && p[1] == '\0')
			return n;
		return -1;
	}
}

START_TEST(render_json_is_a_flat_object_of_every_counter)
{
	struct stats	 s;
	char		 keys[128][64], *out;
	uint64_t	 vals[128];
	int		 n;
	size_t		 i;

	fill(&s, 0, 11);
	s.xfer_ok = 123456789012345ULL;
	CAPTURE(out, stats_render_json(&s, fp));
	ck_assert_msg(strncmp(out, "{\"rrq\":0,\"wrq\":11,", 18) == 0,
	    "starts with: %.40s", out);
	ck_assert_ptr_nonnull(strstr(out, ",\"xfer_ok\":123456789012345,"));
	n = parse_flat_json(out, keys, vals, 128);
	ck_assert_msg(n == (int)stats_count(), "parsed %d members of %s", n,
	    out);
	for (i = 0; i < stats_count(); i++) {
		ck_assert_str_eq(keys[i], stats_name(i));
		ck_assert_uint_eq(vals[i], stats_value(&s, i));
	}
	free(out);

	/* All zero is still the full object. */
	memset(&s, 0, sizeof s);
	CAPTURE(out, stats_render_json(&s, fp));
	ck_assert_int_eq(parse_flat_json(out, keys, vals, 128),
	    (int)stats_count());
	free(out);
}
END_TEST

/* -------------------------------------------------------------- reasons */

#define NREASONS	((size_t)STATS_R_MAX - 1)

static size_t
counter_index(const char *name)
{
	size_t	 i;

	for (i = 0; i < stats_count(); i++)
		if (strcmp(stats_name(i), name) == 0)
			return i;
	ck_abort_msg("no counter %s", name);
	return 0;
}

/* A refused_KEYWORD counter: a sample of the refused family. */
static int
is_reason_counter(size_t i)
{
	return strncmp(stats_name(i), "refused_", 8) == 0;
}


/* Each reason counts in refused_KEYWORD and nowhere else. */
START_TEST(refused_counts_one_counter_per_reason)
{
	struct stats	 s;
	char		 name[64];
	size_t		 i, want;

	ck_assert_ptr_null(stats_refusal_str(STATS_R_NONE));
	ck_assert_ptr_null(stats_refusal_str(STATS_R_MAX));
	memset(&s, 0, sizeof s);
	stats_refused(&s, (enum stats_refusal)_i);
	(void)snprintf(name, sizeof name, "refused_%s",
	    stats_refusal_str((enum stats_refusal)_i));
	want = counter_index(name);
	for (i = 0; i < stats_count(); i++)
		ck_assert_uint_eq(stats_value(&s, i), i == want);
}
END_TEST

START_TEST(refused_out_of_range_is_other)
{
	struct stats	 s;

	memset(&s, 0, sizeof s);
	stats_refused(&s, STATS_R_NONE);
	stats_refused(&s, STATS_R_MAX);
	ck_assert_uint_eq(s.refused_other, 2);
	ck_assert_str_eq(stats_refusal_str(STATS_R_ACL), "acl");
	ck_assert_str_eq(stats_refusal_str(STATS_R_OTHER), "other");
}
END_TEST

/* ------------------------------------------------------------ Prometheus */

struct family {
	char	 name[128];
	int	 help, type;
	int	 samples;
};

/*
 * Read the exposition text: every family must have exactly one HELP
 * (with the counter's help text) and one TYPE counter line, before its
 * samples, and its samples must be contiguous.  Returns the number of
 * families; checks each sample's labels and value against sets/labels.
 */
static size_t
check_exposition(char *text, const char *family, const struct stats *sets,
    const char *const *labels, size_t n)
{
	struct family	 fam[128];
	char		*line, *save = NULL;
	size_t		 nfam = 0, i, f, cur = SIZE_MAX;

	memset(fam, 0, sizeof fam);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char	 name[128], want[512];
		size_t	 k;

		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			int	 help = line[2] == 'H';

			ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
			for (f = 0; f < nfam; f++)
				if (strcmp(fam[f].name, name) == 0)
					break;
			if (f == nfam) {
				ck_assert_uint_lt(nfam, 128);
				(void)strcpy(fam[nfam++].name, name);
				cur = f;
			}
			ck_assert_msg(f == cur, "%s: HELP/TYPE away from its "
			    "family", line);
			ck_assert_msg(fam[f].samples == 0, "%s after samples",
			    line);
			if (help) {
				ck_assert_msg(fam[f].help++ == 0,
				    "second HELP for %s", name);
			} else {
				ck_assert_msg(fam[f].type++ == 0,
				    "second TYPE for %s", name);
				ck_assert_str_eq(line + 7 + strlen(name),
				    " counter");
			}
			continue;
		}
		ck_assert_msg(line[0] != '#', "stray comment: %s", line);
		ck_assert_msg(cur != SIZE_MAX, "sample before any HELP: %s",
		    line);
		/* A sample of the current family, in the order of sets. */
		k = (size_t)fam[cur].samples++;
		(void)snprintf(name, sizeof name, "%s_refused_total", family);
		if (strcmp(name, fam[cur].name) == 0) {
			/* Set k / R, reason k % R + 1, in STATS_REFUSALS order. */
			size_t	 r = k % NREASONS + 1;

			k /= NREASONS;
			ck_assert_uint_lt(k, n);
			(void)snprintf(name, sizeof name, "refused_%s",
			    stats_refusal_str((enum stats_refusal)r));
			i = counter_index(name);
			(void)snprintf(want, sizeof want, "%s{%s%sreason=\"%s\"} "
			    "%" PRIu64, fam[cur].name, labels[k],
			    labels[k][0] != '\0' ? "," : "",
			    stats_refusal_str((enum stats_refusal)r),
			    stats_value(&sets[k], i));
			ck_assert_str_eq(line, want);
			continue;
		}
		ck_assert_uint_lt(k, n);
		for (i = 0; i < stats_count(); i++) {
			(void)snprintf(name, sizeof name, "%s_%s_total",
			    family, stats_name(i));
			if (strcmp(name, fam[cur].name) == 0)
				break;
		}
		ck_assert_msg(i < stats_count(), "unknown family %s",
		    fam[cur].name);
		ck_assert_msg(!is_reason_counter(i), "%s: a reason counter "
		    "as a family of its own", fam[cur].name);
		if (labels[k][0] != '\0')
			(void)snprintf(want, sizeof want, "%s{%s} %" PRIu64,
			    fam[cur].name, labels[k],
			    stats_value(&sets[k], i));
		else
			(void)snprintf(want, sizeof want, "%s %" PRIu64,
			    fam[cur].name, stats_value(&sets[k], i));
		ck_assert_str_eq(line, want);
	}
	/* One family per counter in order, the reason counters as one. */
	for (i = 0, f = 0; i < stats_count(); i++) {
		char	 h[512];

		if (is_reason_counter(i))
			continue;
		ck_assert_uint_lt(f, nfam);
		ck_assert_int_eq(fam[f].help, 1);
		ck_assert_int_eq(fam[f].type, 1);
		(void)snprintf(h, sizeof h, "%s_%s_total", family,
		    stats_name(i));
		ck_assert_str_eq(fam[f].name, h);
		ck_assert_int_eq(fam[f].samples, (int)(strcmp(stats_name(i),
		    "refused") == 0 ? n * NREASONS : n));
		f++;
	}
	ck_assert_uint_eq(f, nfam);
	return nfam;
}

START_TEST(prometheus_families_once_with_samples_grouped)
{
	struct stats	 s[3];
	const struct stats *sp[3] = { &s[0], &s[1], &s[2] };
	const char	*labels[3] = { "slot=\"0\",pid=\"100\",generation=\"1\"",
			    "slot=\"1\",pid=\"101\",generation=\"1\"",
			    "slot=\"0\",pid=\"200\",generation=\"2\"" };
	char		*out;

	fill(&s[0], 1, 1);
	fill(&s[1], 1000, 2);
	fill(&s[2], 0, 0);
	CAPTURE(out, stats_render_prometheus("owltftpd_worker", sp, labels,
	    3, fp));
	ck_assert_ptr_nonnull(strstr(out,
	    "# HELP owltftpd_worker_rrq_total read requests received\n"
	    "# TYPE owltftpd_worker_rrq_total counter\n"
	    "owltftpd_worker_rrq_total{slot=\"0\",pid=\"100\","
	    "generation=\"1\"} 1\n"
	    "owltftpd_worker_rrq_total{slot=\"1\",pid=\"101\","
	    "generation=\"1\"} 1000\n"
	    "owltftpd_worker_rrq_total{slot=\"0\",pid=\"200\","
	    "generation=\"2\"} 0\n"
	    "# HELP owltftpd_worker_wrq_total "));
	ck_assert_uint_eq(check_exposition(out, "owltftpd_worker", s, labels,
	    3), stats_count() - NREASONS);
	free(out);
}
END_TEST

START_TEST(prometheus_total_has_no_label_braces)
{
	struct stats	 s;
	const struct stats *sp = &s;
	const char	*none = "";
	static const char head[] =
	    "# HELP owltftpd_rrq_total read requests received\n"
	    "# TYPE owltftpd_rrq_total counter\n"
	    "owltftpd_rrq_total 5\n"
	    "# HELP owltftpd_wrq_total write requests received\n";
	char		*out, *p;

	fill(&s, 5, 5);
	CAPTURE(out, stats_render_prometheus("owltftpd", &sp, &none, 1, fp));
	ck_assert_msg(strncmp(out, head, sizeof head - 1) == 0,
	    "starts with: %.200s", out);
	/* Braces only for the reasons of the refused family. */
	for (p = out; (p = strchr(p, '{')) != NULL; p++) {
		const char	*bol = p;

		while (bol > out && bol[-1] != '\n')
			bol--;
		ck_assert_msg(strncmp(bol, "owltftpd_refused_total{reason=\"",
		    31) == 0 && bol + 22 == p, "%.80s", bol);
	}
	ck_assert_uint_eq(check_exposition(out, "owltftpd", &s, &none, 1),
	    stats_count() - NREASONS);
	free(out);
}
END_TEST

START_TEST(prometheus_without_workers_has_headers_only)
{
	struct stats	 s;
	char		*out;

	memset(&s, 0, sizeof s);
	CAPTURE(out, stats_render_prometheus("owltftpd_worker", NULL, NULL,
	    0, fp));
	ck_assert_uint_eq(check_exposition(out, "owltftpd_worker", &s, NULL,
	    0), stats_count() - NREASONS);
	free(out);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite	*s = suite_create("stats");
	TCase	*tc;

	tc = tcase_create("one list drives struct, names and docs");
	tcase_add_test(tc, struct_is_the_list);
	tcase_add_test(tc, docs_list_every_counter_with_its_help);
	suite_add_tcase(s, tc);

	tc = tcase_create("sums add and subtract without wrapping");
	tcase_add_test(tc, add_sums_every_counter);
	tcase_add_test(tc, sub_takes_away_every_counter);
	tcase_add_test(tc, sub_never_goes_below_zero);
	suite_add_tcase(s, tc);

	tc = tcase_create("ERRORs sent are counted by code");
	tcase_add_loop_test(tc, error_sent_counts_the_code, 0,
	    (int)(sizeof by_code / sizeof by_code[0]));
	tcase_add_test(tc, error_sent_unknown_code_counts_only_the_total);
	suite_add_tcase(s, tc);

	tc = tcase_create("refusals are counted by reason");
	tcase_add_loop_test(tc, refused_counts_one_counter_per_reason,
	    STATS_R_NONE + 1, STATS_R_MAX);
	tcase_add_test(tc, refused_out_of_range_is_other);
	suite_add_tcase(s, tc);

	tc = tcase_create("renderings are exact");
	tcase_add_test(tc, render_is_one_exact_line_per_counter);
	tcase_add_test(tc, render_json_is_a_flat_object_of_every_counter);
	tcase_add_test(tc, prometheus_families_once_with_samples_grouped);
	tcase_add_test(tc, prometheus_total_has_no_label_braces);
	tcase_add_test(tc, prometheus_without_workers_has_headers_only);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(stats_suite());
}
