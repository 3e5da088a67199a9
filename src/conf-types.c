/*
 * The value types of the schema: how each is parsed from a string (the
 * file's or the command line's) or a libconfig list, checked against
 * its entry's range, stored into struct conf, dumped re-readably and
 * freed.  conf_types[] is indexed by enum conf_type.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "compat.h"
#include "conf.h"
#include "conf-schema.h"
#include "log.h"
#include "mcast.h"
#include "remap.h"
#include "sock.h"
#include "xmalloc.h"

static void	 conf_fmt_num(const struct conf_entry *, long long, char *,
		    size_t);
static int	 conf_range_error(const struct conf_entry *, int,
		    const char *, const struct conf_where *, char **);
static long long conf_load(const struct conf *, const struct conf_entry *);
static int	 conf_text_length(const struct conf_entry *, const char *,
		    const struct conf_where *, char **);

static conf_text_fn	 text_string, text_int, text_bool, text_choice,
			 text_octal, text_listen, text_addr, text_port_range,
			 text_mcast_range, text_mcast_range6, listen_append;
static conf_list_fn	 list_listen;
static conf_dump_fn	 dump_string, dump_int, dump_bool, dump_choice,
			 dump_octal, dump_listen, dump_typed;

const struct conf_type_info conf_types[] = {
	[CONF_T_STRING] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_string, NULL, dump_string },
	[CONF_T_INT] = { "an integer",
	    CONF_ACCEPT(CONFIG_TYPE_INT) | CONF_ACCEPT(CONFIG_TYPE_INT64),
	    text_int, NULL, dump_int },
	[CONF_T_BOOL] = { "a boolean (true or false)",
	    CONF_ACCEPT(CONFIG_TYPE_BOOL), text_bool, NULL, dump_bool },
	[CONF_T_CHOICE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_choice, NULL, dump_choice },
	[CONF_T_OCTAL] = { "a string of octal digits",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_octal, NULL, dump_octal },
	[CONF_T_LISTEN] = { "a string or a list of strings",
	    CONF_ACCEPT(CONFIG_TYPE_STRING) | CONF_ACCEPT(CONFIG_TYPE_ARRAY) |
	    CONF_ACCEPT(CONFIG_TYPE_LIST), text_listen, list_listen,
	    dump_listen },
	[CONF_T_ACL] = { "a string or a list of strings",
	    CONF_ACCEPT(CONFIG_TYPE_STRING) | CONF_ACCEPT(CONFIG_TYPE_ARRAY) |
	    CONF_ACCEPT(CONFIG_TYPE_LIST), conf_acl_from_text,
	    conf_acl_from_list, conf_acl_dump },
	[CONF_T_REMAP] = { "a list of groups",
	    CONF_ACCEPT(CONFIG_TYPE_LIST), conf_remap_from_text,
	    conf_remap_from_list, conf_remap_dump },
	[CONF_T_ADDR] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_addr, NULL, dump_typed },
	[CONF_T_PORTRANGE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_port_range, NULL,
	    dump_typed },
	[CONF_T_MCRANGE] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_mcast_range, NULL,
	    dump_typed },
	[CONF_T_MCRANGE6] = { "a string",
	    CONF_ACCEPT(CONFIG_TYPE_STRING), text_mcast_range6, NULL,
	    dump_typed },
	[CONF_T_ORIGINS] = { "a list of groups",
	    CONF_ACCEPT(CONFIG_TYPE_LIST), conf_origins_from_text,
	    conf_origins_from_list, conf_origins_dump },
};

static const struct conf_choice conf_bool_words[] = {
	{ "true", 1 }, { "false", 0 },
	{ "yes", 1 }, { "no", 0 },
	{ "on", 1 }, { "off", 0 },
	{ "1", 1 }, { "0", 0 },
	{ NULL, 0 }
};

static void
conf_fmt_num(const struct conf_entry *e, long long n, char *buf, size_t len)
{
	if (e->type == CONF_T_OCTAL)
		(void)snprintf(buf, len, "%#llo", n);
	else
		(void)snprintf(buf, len, "%lld", n);
}

/* shown: the value as the user wrote it, or NULL to print n. */
int
conf_check_range(const struct conf_entry *e, long long n, const char *shown,
    const struct conf_where *w, char **cause)
{
	char	 value[32];

	if (n >= e->min && n <= e->max)
		return 0;
	if (shown == NULL) {
		conf_fmt_num(e, n, value, sizeof value);
		shown = value;
	}
	return conf_range_error(e, n > e->max, shown, w, cause);
}

static int
conf_range_error(const struct conf_entry *e, int above, const char *shown,
    const struct conf_where *w, char **cause)
{
	char	 limit[32];

	conf_fmt_num(e, above ? e->max : e->min, limit, sizeof limit);
	*cause = conf_msg(w, e->name, "%s is %s the %s %s", shown,
	    above ? "above" : "below", above ? "maximum" : "minimum", limit);
	return -1;
}

int
conf_choice_find(const struct conf_choice *c, const char *name, int *value)
{
	for (; c->name != NULL; c++) {
		if (strcmp(c->name, name) == 0) {
			*value = c->value;
			return 0;
		}
	}
	return -1;
}

const char *
conf_choice_name(const struct conf_choice *c, int value)
{
	for (; c->name != NULL; c++) {
		if (c->value == value)
			return c->name;
	}
	return NULL;
}

void
conf_choice_join(const struct conf_choice *c, char *buf, size_t len)
{
	size_t	 off = 0;
	int	 n;

	buf[0] = '\0';
	for (; c->name != NULL && off < len; c++) {
		n = snprintf(buf + off, len - off, "%s%s",
		    off == 0 ? "" : ", ", c->name);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/*
 * Store v into conf.  An access list or remap value is taken (v keeps
 * NULL), and one that is still NULL (a default, an empty list) stores
 * an empty list.
 */
void
conf_store(struct conf *conf, const struct conf_entry *e,
    struct conf_value *v)
{
	char			*field = (char *)conf + e->off;
	char			*aux = (char *)CONF_PRIV(conf) + e->aux;
	char			**sp;
	struct acl		**ap;
	struct remap		**rp;
	struct conf_acl_text	*at;
	struct conf_remap_text	*rt;
	int			 i;
	int64_t			 i64;

	switch (e->type) {
	case CONF_T_STRING:
		sp = (char **)field;
		free(*sp);
		*sp = v->str == NULL ? NULL : xstrdup(v->str);
		return;
	case CONF_T_LISTEN:
		memcpy(conf->listen, v->listen,
		    v->nlisten * sizeof v->listen[0]);
		conf->nlisten = v->nlisten;
		return;
	case CONF_T_ADDR:
	case CONF_T_PORTRANGE:
	case CONF_T_MCRANGE:
	case CONF_T_MCRANGE6:
		if (e->size > sizeof v->typed)
			fatalx("conf: %s: a %zu-byte field", e->name, e->size);
		memcpy(field, &v->typed, e->size);
		return;
	case CONF_T_ACL:
		ap = (struct acl **)field;
		at = (struct conf_acl_text *)aux;
		acl_free(*ap);
		*ap = v->acl != NULL ? v->acl : conf_acl_new();
		v->acl = NULL;
		conf_acl_text_free(at);
		*at = v->acl_text;
		memset(&v->acl_text, 0, sizeof v->acl_text);
		return;
	case CONF_T_REMAP:
		rp = (struct remap **)field;
		rt = (struct conf_remap_text *)aux;
		remap_free(*rp);
		*rp = v->remap != NULL ? v->remap : remap_new();
		v->remap = NULL;
		conf_remap_text_free(rt);
		*rt = v->remap_text;
		memset(&v->remap_text, 0, sizeof v->remap_text);
		return;	/* conf_sync() sets the built-in switches */
	case CONF_T_ORIGINS:
		memcpy(field, &v->origins, sizeof v->origins);
		return;
	default:
		break;
	}

	/*
	 * Every numeric value is validated non-negative and within its
	 * field's range, so an int-sized field (int, unsigned, mode_t or an
	 * enum) holds the same bits whatever its signedness.
	 */
	if (e->size == sizeof i && v->num >= INT_MIN && v->num <= INT_MAX) {
		i = (int)v->num;
		memcpy(field, &i, sizeof i);
	} else if (e->size == sizeof i64) {
		i64 = v->num;
		memcpy(field, &i64, sizeof i64);
	} else
		fatalx("conf: %s: cannot store %lld in %zu bytes", e->name,
		    v->num, e->size);
}

static long long
conf_load(const struct conf *conf, const struct conf_entry *e)
{
	const char	*field = (const char *)conf + e->off;
	int		 i;
	int64_t		 i64;

	if (e->size == sizeof i64) {
		memcpy(&i64, field, sizeof i64);
		return i64;
	}
	memcpy(&i, field, sizeof i);
	return i;
}

/* Free what a stored field owns (for conf_free()). */
void
conf_field_free(struct conf *conf, const struct conf_entry *e)
{
	char	*field = (char *)conf + e->off;
	char	*aux = (char *)CONF_PRIV(conf) + e->aux;

	switch (e->type) {
	case CONF_T_STRING:
		free(*(char **)field);
		break;
	case CONF_T_ACL:
		acl_free(*(struct acl **)field);
		conf_acl_text_free((struct conf_acl_text *)aux);
		break;
	case CONF_T_REMAP:
		remap_free(*(struct remap **)field);
		conf_remap_text_free((struct conf_remap_text *)aux);
		break;
	default:
		break;
	}
}

/* Free what v still owns. */
void
conf_value_clear(struct conf_value *v)
{
	acl_free(v->acl);
	v->acl = NULL;
	conf_acl_text_free(&v->acl_text);
	remap_free(v->remap);
	v->remap = NULL;
	conf_remap_text_free(&v->remap_text);
}

/* text into l, kept as written; -1 and *why if malformed. */
int
conf_listen_parse(const char *text, struct conf_listen *l, const char **why)
{
	memset(l, 0, sizeof *l);
	if (strlen(text) >= sizeof l->text) {
		*why = "is too long";
		return -1;
	}
	(void)strlcpy(l->text, text, sizeof l->text);
	return sock_parse_addr(text, &l->addr, &l->addrlen, &l->hasport, why);
}

/* Append l to list (n entries), refusing duplicates and overflow. */
int
conf_listen_add(const struct conf_entry *e, struct conf_listen *list,
    size_t *n, const struct conf_listen *l, const struct conf_where *w,
    char **cause)
{
	size_t	 i;

	for (i = 0; i < *n; i++) {
		if (list[i].addrlen == l->addrlen &&
		    memcmp(&list[i].addr, &l->addr, l->addrlen) == 0 &&
		    list[i].hasport == l->hasport) {
			*cause = conf_msg(w, e->name, "\"%s\" is given twice",
			    l->text);
			return -1;
		}
	}
	if (*n >= (size_t)e->max) {
		*cause = conf_msg(w, e->name, "more than %lld addresses",
		    e->max);
		return -1;
	}
	list[(*n)++] = *l;
	return 0;
}

/* An array or list of listen strings. */
static int
list_listen(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	struct conf_where	 w;

	if (config_setting_length(s) == 0) {
		conf_where_setting(&w, s, label);
		*cause = conf_msg(&w, e->name, "the list is empty");
		return -1;
	}
	return conf_list_strings(e, s, label, v, listen_append, cause);
}

/*
 * Give each string of the list s to each(), with the line of its
 * element; an element that is not a string is refused.
 */
int
conf_list_strings(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, conf_text_fn *each,
    char **cause)
{
	const config_setting_t	*elem;
	struct conf_where	 w;
	int			 i, n, t;

	conf_where_setting(&w, s, label);
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		elem = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_source_line(elem) != 0)
			w.line = config_setting_source_line(elem);
		t = config_setting_type(elem);
		if (t != CONFIG_TYPE_STRING) {
			*cause = conf_msg(&w, e->name,
			    "element %d: expected a string, got %s", i + 1,
			    conf_setting_type_name(t));
			return -1;
		}
		if (each(e, config_setting_get_string(elem), &w, v,
		    cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * Give each group of the list s to each(), named "NAME[N]" (N from 1)
 * and placed at the group's line for messages; an element that is not a
 * group is refused.
 */
int
conf_list_groups(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, conf_group_fn *each,
    char **cause)
{
	const config_setting_t	*g;
	struct conf_where	 w;
	char			 key[64];
	int			 i, n, t;

	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(s, (unsigned)i);
		conf_where_setting(&w, g, label);
		if (w.line == 0)
			w.line = config_setting_source_line(s);
		(void)snprintf(key, sizeof key, "%s[%d]", e->name, i + 1);
		if ((t = config_setting_type(g)) != CONFIG_TYPE_GROUP) {
			*cause = conf_msg(&w, key, "expected a group, got %s",
			    conf_setting_type_name(t));
			return -1;
		}
		if (each(key, g, &w, i, v, cause) == -1)
			return -1;
	}
	return 0;
}

/* The length bounds of a value written as a string. */
static int
conf_text_length(const struct conf_entry *e, const char *text,
    const struct conf_where *w, char **cause)
{
	size_t	 len = strlen(text);

	if (len < (size_t)e->min) {
		*cause = conf_msg(w, e->name, "must not be empty");
		return -1;
	}
	if (len > (size_t)e->max) {
		*cause = conf_msg(w, e->name, "is longer than %lld characters",
		    e->max);
		return -1;
	}
	return 0;
}

static int
text_string(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	v->str = text;
	return 0;
}

static int
text_int(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	const char	*errstr;

	v->num = strtonum(text, LLONG_MIN, LLONG_MAX, &errstr);
	if (errstr == NULL)
		return conf_check_range(e, v->num, NULL, w, cause);
	/* Beyond long long: outside every range. */
	if (strcmp(errstr, "too large") == 0)
		return conf_range_error(e, 1, text, w, cause);
	if (strcmp(errstr, "too small") == 0)
		return conf_range_error(e, 0, text, w, cause);
	*cause = conf_msg(w, e->name, "\"%s\" is not an integer", text);
	return -1;
}

static int
text_bool(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	char	 words[128];
	int	 b;

	if (conf_choice_find(conf_bool_words, text, &b) == -1) {
		conf_choice_join(conf_bool_words, words, sizeof words);
		*cause = conf_msg(w, e->name, "\"%s\" is not one of %s", text,
		    words);
		return -1;
	}
	v->num = b;
	return 0;
}

static int
text_choice(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	char	 words[128];
	int	 value;

	if (conf_choice_find(e->choices, text, &value) == -1) {
		conf_choice_join(e->choices, words, sizeof words);
		*cause = conf_msg(w, e->name, "\"%s\" is not one of %s", text,
		    words);
		return -1;
	}
	v->num = value;
	return 0;
}

static int
text_octal(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	const char	*p;
	long long	 n = 0;

	if (text[0] == '\0')
		goto bad;
	for (p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '7')
			goto bad;
		if (n <= e->max)	/* stop growing once too large */
			n = n * 8 + (*p - '0');
	}
	v->num = n;
	return conf_check_range(e, n, text, w, cause);
bad:
	*cause = conf_msg(w, e->name, "\"%s\" is not an octal number", text);
	return -1;
}

/* One address: the whole list (the command line appends it itself). */
static int
text_listen(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	v->nlisten = 0;
	return listen_append(e, text, w, v, cause);
}

/* Parse one address and append it to v's list. */
static int
listen_append(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_listen	 l;
	const char		*why;

	if (conf_listen_parse(text, &l, &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
		return -1;
	}
	return conf_listen_add(e, v->listen, &v->nlisten, &l, w, cause);
}

/* ADDR:PORT or [ADDR]:PORT; "" leaves it unset. */
static int
text_addr(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_listen	*l = &v->typed.addr;
	const char		*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(l, 0, sizeof *l);
	if (text[0] == '\0')
		return 0;
	if (conf_listen_parse(text, l, &why) == -1)
		goto bad;
	if (!l->hasport) {
		why = "needs a port (ADDR:PORT or [ADDR]:PORT)";
		goto bad;
	}
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
	return -1;
}

/* LO:HI; "" is any port. */
static int
text_port_range(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_port_range	*pr = &v->typed.port_range;
	char			 lo[sizeof pr->text], *colon;
	const char		*errstr;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(pr, 0, sizeof *pr);
	(void)strlcpy(pr->text, text, sizeof pr->text);
	if (text[0] == '\0')
		return 0;
	(void)strlcpy(lo, text, sizeof lo);
	if ((colon = strchr(lo, ':')) == NULL)
		goto bad;
	*colon = '\0';
	pr->lo = (int)strtonum(lo, 1, 65535, &errstr);
	if (errstr != NULL)
		goto bad;
	pr->hi = (int)strtonum(colon + 1, 1, 65535, &errstr);
	if (errstr != NULL || pr->hi < pr->lo)
		goto bad;
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" is not LO:HI with 1 <= LO <= "
	    "HI <= 65535", text);
	return -1;
}

static int
text_mcast_range(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_mcast_range	*mr = &v->typed.mcast_range;
	const char		*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(mr, 0, sizeof *mr);
	(void)strlcpy(mr->text, text, sizeof mr->text);
	if (mcast_parse_range(text, &mr->first, &mr->last, &why) == -1)
		goto bad;
	if (mr->last - mr->first >= MCAST_POOL_MAX) {
		why = "is more than 65536 addresses";
		goto bad;
	}
	return 0;
bad:
	*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
	return -1;
}

/* "" is no IPv6 groups. */
static int
text_mcast_range6(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_mcast_range6	*mr = &v->typed.mcast_range6;
	const char			*why;

	if (conf_text_length(e, text, w, cause) == -1)
		return -1;
	memset(mr, 0, sizeof *mr);
	(void)strlcpy(mr->text, text, sizeof mr->text);
	if (text[0] == '\0')
		return 0;
	if (mcast_parse_range6(text, &mr->first, &mr->count, &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\" %s", text, why);
		return -1;
	}
	return 0;
}

static void
dump_string(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*s = *(char *const *)((const char *)conf + e->off);

	if (s == NULL) {
		fprintf(f, "# %s is not set\n", e->name);
		return;
	}
	fprintf(f, "%s = ", e->name);
	conf_dump_quoted(f, s);
	fprintf(f, ";\n");
}

static void
dump_int(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	long long	 n = conf_load(conf, e);

	fprintf(f, "%s = %lld%s;\n", e->name, n,
	    n > INT_MAX || n < INT_MIN ? "L" : "");
}

static void
dump_bool(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	fprintf(f, "%s = %s;\n", e->name, conf_load(conf, e) ? "true" :
	    "false");
}

static void
dump_choice(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*name;

	name = conf_choice_name(e->choices, (int)conf_load(conf, e));
	fprintf(f, "%s = \"%s\";\n", e->name, name != NULL ? name : "?");
}

static void
dump_octal(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	fprintf(f, "%s = \"%03llo\";\n", e->name, conf_load(conf, e));
}

/* A parsed value is shown as it was written. */
static void
dump_typed(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const char	*field = (const char *)conf + e->off;
	const char	*text;

	switch (e->type) {
	case CONF_T_ADDR:
		text = ((const struct conf_listen *)field)->text;
		break;
	case CONF_T_PORTRANGE:
		text = ((const struct conf_port_range *)field)->text;
		break;
	case CONF_T_MCRANGE:
		text = ((const struct conf_mcast_range *)field)->text;
		break;
	default:
		text = ((const struct conf_mcast_range6 *)field)->text;
		break;
	}
	fprintf(f, "%s = ", e->name);
	conf_dump_quoted(f, text);
	fprintf(f, ";\n");
}

static void
dump_listen(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	size_t	 i;

	fprintf(f, "%s = [ ", e->name);
	if (conf->nlisten == 0) {
		for (i = 0; i < conf_nlisten_defaults; i++) {
			fprintf(f, "%s", i == 0 ? "" : ", ");
			conf_dump_quoted(f, conf_listen_defaults[i]);
		}
	}
	for (i = 0; i < conf->nlisten; i++) {
		fprintf(f, "%s", i == 0 ? "" : ", ");
		conf_dump_quoted(f, conf->listen[i].text);
	}
	fprintf(f, " ];\n");
}

/* A libconfig string literal. */
void
conf_dump_quoted(FILE *f, const char *s)
{
	unsigned char	 c;

	fputc('"', f);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
