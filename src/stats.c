/* Counter arithmetic and rendering, all generated from STATS_FIELDS. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "stats.h"

void
stats_add(struct stats *sum, const struct stats *s)
{
#define STATS_X_ADD(name, help)	sum->name += s->name;
	STATS_FIELDS(STATS_X_ADD)
#undef STATS_X_ADD
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
