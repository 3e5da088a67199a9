/*
 * The origins key: a list of { prefix; url; dynamic; ttl; max_bytes;
 * ca_file; tls_verify; } groups (origin.h), each checked as it is read
 * so a bad one is refused at its group's line, and dumped back as
 * written.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "conf.h"
#include "conf-schema.h"
#include "log.h"
#include "origin.h"

static conf_group_fn	 conf_origin_add;
static int	 conf_origin_group(const char *, const config_setting_t *,
		    const struct conf_where *, struct origin_rule *, char **);
static int	 conf_origin_member(const char *, const config_setting_t *,
		    const struct conf_where *, struct origin_rule *, char **);

int
conf_origins_from_text(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	(void)text;
	(void)v;
	*cause = conf_msg(w, e->name, w->file == NULL ? "can only be set in "
	    "the configuration file" : "expected a list of groups, got a "
	    "string");
	return -1;
}

int
conf_origins_from_list(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	memset(&v->origins, 0, sizeof v->origins);
	return conf_list_groups(e, s, label, v, conf_origin_add, cause);
}

/* One group, checked against those before it. */
static int
conf_origin_add(const char *key, const config_setting_t *g,
    const struct conf_where *w, int i, struct conf_value *v, char **cause)
{
	int	 j;

	if (i >= ORIGIN_MAX) {
		*cause = conf_msg(w, key, "more than %d origins", ORIGIN_MAX);
		return -1;
	}
	if (conf_origin_group(key, g, w, &v->origins.r[i], cause) == -1)
		return -1;
	for (j = 0; j < i; j++) {
		if (strcmp(v->origins.r[j].prefix,
		    v->origins.r[i].prefix) == 0) {
			*cause = conf_msg(w, key, "prefix \"%s\" is already "
			    "origins[%d]'s", v->origins.r[i].prefix, j + 1);
			return -1;
		}
	}
	v->origins.n++;
	return 0;
}

/* Read one group into r: prefix and url are required. */
static int
conf_origin_group(const char *key, const config_setting_t *g,
    const struct conf_where *w, struct origin_rule *r, char **cause)
{
	char	*msg;
	int	 i, n, has_prefix = 0, has_url = 0, has_max = 0, has_ttl = 0;

	memset(r, 0, sizeof *r);
	r->ttl = ORIGIN_TTL_DEFAULT;
	r->tls_verify = 1;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		const config_setting_t	*m = config_setting_get_elem(g,
					    (unsigned)i);
		const char		*name = config_setting_name(m);

		if (conf_origin_member(key, m, w, r, cause) == -1)
			return -1;
		has_prefix |= strcmp(name, "prefix") == 0;
		has_url |= strcmp(name, "url") == 0;
		has_max |= strcmp(name, "max_bytes") == 0;
		has_ttl |= strcmp(name, "ttl") == 0;
	}
	if (!has_prefix || !has_url) {
		*cause = conf_msg(w, key, "%s is missing",
		    has_prefix ? "url" : "prefix");
		return -1;
	}
	/* A per-client answer: fetched every time, small, unless told. */
	if (r->dynamic && !has_max)
		r->max_bytes = ORIGIN_DYNAMIC_MAX_BYTES;
	if (r->dynamic && !has_ttl)
		r->ttl = 0;
	if (!r->tls_verify) {
		/* Allowed for a test origin, but never silently. */
		msg = conf_msg(w, key, "tls_verify = false: the certificate "
		    "of %s and its host name are not checked", r->url);
		log_warnx("%s", msg);
		free(msg);
	}
	return 0;
}

/* Is m of libconfig type want?  Else -1 and *cause. */
static int
member_type(const char *key, const config_setting_t *m, int want,
    const char *expect, const struct conf_where *w, char **cause)
{
	int	 t = config_setting_type(m);

	if (t == want || (want == CONFIG_TYPE_INT64 && t == CONFIG_TYPE_INT))
		return 0;
	*cause = conf_msg(w, key, "%s: expected %s, got %s",
	    config_setting_name(m), expect, conf_setting_type_name(t));
	return -1;
}

/* ca_file: a path the master opens, whatever its working directory. */
static int
ca_file_norm(const char *in, char *out, size_t outlen, const char **why)
{
	if (*in != '\0' && *in != '/') {
		*why = "is not an absolute path";
		return -1;
	}
	if (strlcpy(out, in, outlen) >= outlen) {
		*why = "is too long";
		return -1;
	}
	return 0;
}

/* prefix, url and ca_file: strings, each normalized or refused. */
static int
member_string(const char *key, const config_setting_t *m,
    const struct conf_where *w, struct origin_rule *r, char **cause)
{
	const char	*name = config_setting_name(m), *why, *in;
	int		 rc;

	if (member_type(key, m, CONFIG_TYPE_STRING, "a string", w,
	    cause) == -1)
		return -1;
	in = config_setting_get_string(m);
	if (strcmp(name, "prefix") == 0)
		rc = origin_prefix_norm(in, r->prefix, sizeof r->prefix, &why);
	else if (strcmp(name, "url") == 0)
		rc = origin_url_norm(in, r->url, sizeof r->url, &why);
	else
		rc = ca_file_norm(in, r->ca_file, sizeof r->ca_file, &why);
	if (rc == -1) {
		*cause = conf_msg(w, key, "%s: \"%s\" %s", name, in, why);
		return -1;
	}
	return 0;
}

/* ttl and max_bytes: integers within their ranges. */
static int
member_int(const char *key, const config_setting_t *m,
    const struct conf_where *w, struct origin_rule *r, char **cause)
{
	const char	*name = config_setting_name(m);
	long long	 n;

	if (member_type(key, m, CONFIG_TYPE_INT64, "an integer", w,
	    cause) == -1)
		return -1;
	n = config_setting_get_int64(m);
	if (name[0] == 't' && (n < -1 || n > 31536000)) {
		*cause = conf_msg(w, key, "ttl: %lld is outside -1 "
		    "(cache_ttl) to 31536000 s", n);
		return -1;
	}
	if (name[0] == 'm' && n < 0) {
		*cause = conf_msg(w, key, "max_bytes: %lld is below 0", n);
		return -1;
	}
	if (name[0] == 't')
		r->ttl = (int)n;
	else
		r->max_bytes = (uint64_t)n;
	return 0;
}

static int
conf_origin_member(const char *key, const config_setting_t *m,
    const struct conf_where *w, struct origin_rule *r, char **cause)
{
	const char	*name = config_setting_name(m);

	if (strcmp(name, "prefix") == 0 || strcmp(name, "url") == 0 ||
	    strcmp(name, "ca_file") == 0)
		return member_string(key, m, w, r, cause);
	if (strcmp(name, "ttl") == 0 || strcmp(name, "max_bytes") == 0)
		return member_int(key, m, w, r, cause);
	if (strcmp(name, "dynamic") == 0 || strcmp(name, "tls_verify") == 0) {
		if (member_type(key, m, CONFIG_TYPE_BOOL,
		    "a boolean (true or false)", w, cause) == -1)
			return -1;
		if (name[0] == 'd')
			r->dynamic = config_setting_get_bool(m);
		else
			r->tls_verify = config_setting_get_bool(m);
		return 0;
	}
	*cause = conf_msg(w, key, "unknown member \"%s\" (expected prefix, "
	    "url, dynamic, ttl, max_bytes, ca_file or tls_verify)", name);
	return -1;
}

/* One group a line, every member spelt out. */
void
conf_origins_dump(const struct conf_entry *e, const struct conf *conf,
    FILE *f)
{
	const struct origin_set	*set = &conf->xfer.origins;
	size_t			 i;

	if (set->n == 0) {
		fprintf(f, "%s = ( );\n", e->name);
		return;
	}
	fprintf(f, "%s = (\n", e->name);
	for (i = 0; i < set->n; i++) {
		fprintf(f, "  { prefix = ");
		conf_dump_quoted(f, set->r[i].prefix);
		fprintf(f, "; url = ");
		conf_dump_quoted(f, set->r[i].url);
		fprintf(f, "; dynamic = %s; ttl = %d; max_bytes = %" PRIu64
		    "; ca_file = ", set->r[i].dynamic ? "true" : "false",
		    set->r[i].ttl, set->r[i].max_bytes);
		conf_dump_quoted(f, set->r[i].ca_file);
		fprintf(f, "; tls_verify = %s; }%s\n",
		    set->r[i].tls_verify ? "true" : "false",
		    i + 1 < set->n ? "," : "");
	}
	fprintf(f, ");\n");
}
