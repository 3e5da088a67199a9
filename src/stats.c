/* Counter arithmetic and rendering, all generated from STATS_FIELDS. */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"

static const char *const names[] = {
#define STATS_X_NAME(name, help)	#name,
	STATS_FIELDS(STATS_X_NAME)
#undef STATS_X_NAME
};

static const char *const helps[] = {
#define STATS_X_HELP(name, help)	help,
	STATS_FIELDS(STATS_X_HELP)
#undef STATS_X_HELP
};

size_t
stats_count(void)
{
	return sizeof names / sizeof names[0];
}

const char *
stats_name(size_t i)
{
	return i < stats_count() ? names[i] : NULL;
}

const char *
stats_help(size_t i)
{
	return i < stats_count() ? helps[i] : NULL;
}

void
stats_add(struct stats *sum, const struct stats *s)
{
#define STATS_X_ADD(name, help)	sum->name += s->name;
	STATS_FIELDS(STATS_X_ADD)
#undef STATS_X_ADD
}

void
stats_sub(struct stats *sum, const struct stats *s)
{
#define STATS_X_SUB(name, help)						\
	sum->name = sum->name > s->name ? sum->name - s->name : 0;
	STATS_FIELDS(STATS_X_SUB)
#undef STATS_X_SUB
}

void
stats_error_sent(struct stats *s, unsigned code)
{
	s->errors_sent++;
	switch (code) {
	case 0: s->error_sent_undef++; break;
	case 1: s->error_sent_not_found++; break;
	case 2: s->error_sent_access++; break;
	case 3: s->error_sent_disk_full++; break;
	case 4: s->error_sent_illegal_op++; break;
	case 5: s->error_sent_unknown_tid++; break;
	case 6: s->error_sent_exists++; break;
	case 7: s->error_sent_no_user++; break;
	case 8: s->error_sent_option++; break;
	default: break;
	}
}

static const char *const refusal_names[] = {
	NULL,
#define STATS_X_RNAME(name, kw)	#kw,
	STATS_REFUSALS(STATS_X_RNAME)
#undef STATS_X_RNAME
};

/* Every field is a uint64_t: a counter's offset is its index. */
static const size_t refusal_index[] = {
	0,
#define STATS_X_RIDX(name, kw)						\
	offsetof(struct stats, refused_##kw) / sizeof(uint64_t),
	STATS_REFUSALS(STATS_X_RIDX)
#undef STATS_X_RIDX
};

const char *
stats_refusal_str(enum stats_refusal r)
{
	return r > STATS_R_NONE && r < STATS_R_MAX ? refusal_names[r] : NULL;
}

void
stats_refused(struct stats *s, enum stats_refusal r)
{
	uint64_t	*v = (uint64_t *)(void *)s;

	if (r <= STATS_R_NONE || r >= STATS_R_MAX)
		r = STATS_R_OTHER;
	v[refusal_index[r]]++;
}

/* Is counter i one of the refused_KEYWORD ones? */
static int
is_refusal(size_t i)
{
	size_t	 r;

	for (r = 1; r < STATS_R_MAX; r++)
		if (refusal_index[r] == i)
			return 1;
	return 0;
}

void
stats_render(const struct stats *s, const char *prefix, FILE *fp)
{
#define STATS_X_RENDER(name, help)					\
	(void)fprintf(fp, "%s%s%s=%" PRIu64 "\n", prefix,		\
	    prefix[0] != '\0' ? "." : "", #name, s->name);
	STATS_FIELDS(STATS_X_RENDER)
#undef STATS_X_RENDER
}

void
stats_render_json(const struct stats *s, FILE *fp)
{
	const char	*sep = "";

	(void)fputc('{', fp);
#define STATS_X_JSON(name, help)					\
	(void)fprintf(fp, "%s\"%s\":%" PRIu64, sep, #name, s->name);	\
	sep = ",";
	STATS_FIELDS(STATS_X_JSON)
#undef STATS_X_JSON
	(void)fputc('}', fp);
}

static const size_t offsets[] = {
#define STATS_X_OFF(name, help)	offsetof(struct stats, name),
	STATS_FIELDS(STATS_X_OFF)
#undef STATS_X_OFF
};

uint64_t
stats_value(const struct stats *s, size_t i)
{
	uint64_t	 v;

	memcpy(&v, (const char *)s + offsets[i], sizeof v);
	return v;
}

void
stats_render_prometheus(const char *family, const struct stats *const *s,
    const char *const *labels, size_t n, FILE *fp)
{
	size_t	 i, j, r;

	/* A family's samples must stay together: counter first, then set. */
	for (i = 0; i < stats_count(); i++) {
		if (is_refusal(i))
			continue;
		if (i == offsetof(struct stats, refused) / sizeof(uint64_t)) {
			/* Its name is the reason family's (docs/stats.md). */
			(void)fprintf(fp, "# HELP %s_refused_total requests "
			    "refused or dropped, by reason\n"
			    "# TYPE %s_refused_total counter\n", family,
			    family);
			for (j = 0; j < n; j++)
				for (r = 1; r < STATS_R_MAX; r++)
					(void)fprintf(fp, "%s_refused_total{"
					    "%s%sreason=\"%s\"} %" PRIu64 "\n",
					    family, labels[j], labels[j][0] !=
					    '\0' ? "," : "", refusal_names[r],
					    stats_value(s[j],
					    refusal_index[r]));
			continue;
		}
		(void)fprintf(fp, "# HELP %s_%s_total %s\n"
		    "# TYPE %s_%s_total counter\n", family, names[i], helps[i],
		    family, names[i]);
		for (j = 0; j < n; j++)
			(void)fprintf(fp, "%s_%s_total%s%s%s %" PRIu64 "\n",
			    family, names[i], labels[j][0] != '\0' ? "{" : "",
			    labels[j], labels[j][0] != '\0' ? "}" : "",
			    stats_value(s[j], i));
	}
}
