/*
 * The remap key: a list of { match; replace; op; action; icase; last;
 * global; } groups, each compiled by remap_add() as it is read (so a bad
 * rule is refused at its group's line) and kept as written for
 * conf_dump() and for compiling again behind remap_file's rules.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf-schema.h"
#include "log.h"
#include "remap.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

static int	 conf_remap_set_member(const char *, const config_setting_t *,
		    size_t, const struct conf_where *, struct conf_remap_rule *,
		    char **);
static int	 conf_remap_group(const char *, const config_setting_t *,
		    const struct conf_where *, struct conf_remap_rule *,
		    char **);
static void	 conf_remap_rule_free(struct conf_remap_rule *);
static conf_group_fn	 conf_remap_add;

static const struct conf_choice conf_remap_ops[] = {
	{ "read", REMAP_OP_READ },
	{ "write", REMAP_OP_WRITE },
	{ "both", REMAP_OP_READ | REMAP_OP_WRITE },
	{ NULL, 0 }
};

static const struct conf_choice conf_remap_actions[] = {
	{ "rewrite", REMAP_REWRITE },
	{ "deny", REMAP_DENY },
	{ NULL, 0 }
};

/* The members of a remap group. */
enum conf_remap_member {
	CONF_RM_MATCH,
	CONF_RM_REPLACE,
	CONF_RM_OP,
	CONF_RM_ACTION,
	CONF_RM_ICASE,
	CONF_RM_LAST,
	CONF_RM_GLOBAL,
};

static const struct {
	const char			*name;
	enum conf_remap_member		 member;
	enum conf_type			 type;	/* CONF_T_STRING, _CHOICE
						   or _BOOL */
	const struct conf_choice	*choices;
} conf_remap_members[] = {
	{ "match", CONF_RM_MATCH, CONF_T_STRING, NULL },
	{ "replace", CONF_RM_REPLACE, CONF_T_STRING, NULL },
	{ "op", CONF_RM_OP, CONF_T_CHOICE, conf_remap_ops },
	{ "action", CONF_RM_ACTION, CONF_T_CHOICE, conf_remap_actions },
	{ "icase", CONF_RM_ICASE, CONF_T_BOOL, NULL },
	{ "last", CONF_RM_LAST, CONF_T_BOOL, NULL },
	{ "global", CONF_RM_GLOBAL, CONF_T_BOOL, NULL },
};

int
conf_remap_from_text(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	(void)text;
	(void)v;
	if (w->file == NULL)
		*cause = conf_msg(w, e->name, "can only be set in the "
		    "configuration file");
	else	/* not reached: the file's strings are refused by type */
		*cause = conf_msg(w, e->name, "expected %s, got a string",
		    conf_types[e->type].expect);
	return -1;
}

/*
 * A list of { match; replace; op; action; icase; last; global; } groups,
 * compiled in order.  Every problem with a rule is reported at the line
 * of its group as "remap[N]" (N counts from 1).
 */
int
conf_remap_from_list(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	v->remap = remap_new();
	return conf_list_groups(e, s, label, v, conf_remap_add, cause);
}

/* One group: read, compiled, kept as written. */
static int
conf_remap_add(const char *key, const config_setting_t *g,
    const struct conf_where *w, int i, struct conf_value *v, char **cause)
{
	struct conf_remap_text	*rt = &v->remap_text;
	struct conf_remap_rule	 r;
	char			*why;

	(void)i;
	if (conf_remap_group(key, g, w, &r, cause) == -1)
		return -1;
	if (remap_add(v->remap, r.match, r.replace, r.ops,
	    (enum remap_action)r.action, r.icase, r.last, r.global,
	    &why) == -1) {
		*cause = conf_msg(w, key, "%s", why != NULL ? why :
		    "bad rule");
		free(why);
		conf_remap_rule_free(&r);
		return -1;
	}
	rt->rules = xreallocarray(rt->rules, rt->n + 1, sizeof *rt->rules);
	rt->rules[rt->n++] = r;
	return 0;
}

/*
 * Set the member m of a remap group (its k-th kind) in r; -1 and *cause
 * if it has the wrong type or is not one of its choices.
 */
static int
conf_remap_set_member(const char *key, const config_setting_t *m, size_t k,
    const struct conf_where *w, struct conf_remap_rule *r, char **cause)
{
	const struct conf_choice	*choices;
	const char			*name = conf_remap_members[k].name;
	const char			*text;
	char				 words[64];
	int				 t, value = 0;
	enum conf_type			 want = conf_remap_members[k].type;

	t = config_setting_type(m);
	if (t != (want == CONF_T_BOOL ? CONFIG_TYPE_BOOL :
	    CONFIG_TYPE_STRING)) {
		*cause = conf_msg(w, key, "%s: expected %s, got %s", name,
		    conf_types[want].expect, conf_setting_type_name(t));
		return -1;
	}
	if (want == CONF_T_CHOICE) {
		choices = conf_remap_members[k].choices;
		text = config_setting_get_string(m);
		if (conf_choice_find(choices, text, &value) == -1) {
			conf_choice_join(choices, words, sizeof words);
			*cause = conf_msg(w, key, "%s: \"%s\" is not one of %s",
			    name, text, words);
			return -1;
		}
	}
	switch (conf_remap_members[k].member) {
	case CONF_RM_MATCH:
		r->match = xstrdup(config_setting_get_string(m));
		break;
	case CONF_RM_REPLACE:
		r->replace = xstrdup(config_setting_get_string(m));
		break;
	case CONF_RM_OP:
		r->ops = (unsigned)value;
		break;
	case CONF_RM_ACTION:
		r->action = value;
		break;
	case CONF_RM_ICASE:
		r->icase = config_setting_get_bool(m);
		break;
	case CONF_RM_LAST:
		r->last = config_setting_get_bool(m);
		break;
	case CONF_RM_GLOBAL:
		r->global = config_setting_get_bool(m);
		break;
	}
	return 0;
}

/* Read the members of one remap group into r (owned copies). */
static int
conf_remap_group(const char *key, const config_setting_t *g,
    const struct conf_where *w, struct conf_remap_rule *r, char **cause)
{
	const config_setting_t	*m;
	const char		*name;
	size_t			 k;
	int			 i, n;

	memset(r, 0, sizeof *r);
	r->ops = REMAP_OP_READ | REMAP_OP_WRITE;
	r->action = REMAP_REWRITE;
	n = config_setting_length(g);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(g, (unsigned)i);
		name = config_setting_name(m);
		for (k = 0; k < nitems(conf_remap_members); k++) {
			if (strcmp(name, conf_remap_members[k].name) == 0)
				break;
		}
		if (k == nitems(conf_remap_members)) {
			*cause = conf_msg(w, key, "unknown member \"%s\" "
			    "(expected match, replace, op, action, icase, "
			    "last or global)", name);
			goto fail;
		}
		if (conf_remap_set_member(key, m, k, w, r, cause) == -1)
			goto fail;
	}
	if (r->match == NULL) {
		*cause = conf_msg(w, key, "match is missing");
		goto fail;
	}
	if (r->action == REMAP_REWRITE && r->replace == NULL) {
		*cause = conf_msg(w, key, "replace is missing (action "
		    "\"rewrite\" needs it)");
		goto fail;
	}
	if (r->action == REMAP_DENY && r->replace != NULL) {
		*cause = conf_msg(w, key, "replace is given but action is "
		    "\"deny\"");
		goto fail;
	}
	return 0;

fail:
	conf_remap_rule_free(r);
	return -1;
}

static void
conf_remap_rule_free(struct conf_remap_rule *r)
{
	free(r->match);
	free(r->replace);
	r->match = r->replace = NULL;
}

void
conf_remap_text_free(struct conf_remap_text *rt)
{
	size_t	 i;

	for (i = 0; i < rt->n; i++)
		conf_remap_rule_free(&rt->rules[i]);
	free(rt->rules);
	rt->rules = NULL;
	rt->n = 0;
}

/* One group a line, every member spelt out. */
void
conf_remap_dump(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const struct conf_remap_text	*rt;
	const struct conf_remap_rule	*r;
	const char			*op, *action;
	size_t				 i;

	rt = (const struct conf_remap_text *)((const char *)CONF_CPRIV(conf) +
	    e->aux);
	if (rt->n == 0) {
		fprintf(f, "%s = ( );\n", e->name);
		return;
	}
	fprintf(f, "%s = (\n", e->name);
	for (i = 0; i < rt->n; i++) {
		r = &rt->rules[i];
		op = conf_choice_name(conf_remap_ops, (int)r->ops);
		action = conf_choice_name(conf_remap_actions, r->action);
		fprintf(f, "  { match = ");
		conf_dump_quoted(f, r->match);
		if (r->replace != NULL) {
			fprintf(f, "; replace = ");
			conf_dump_quoted(f, r->replace);
		}
		fprintf(f, "; op = \"%s\"; action = \"%s\"; icase = %s; "
		    "last = %s; global = %s; }%s\n", op != NULL ? op : "?",
		    action != NULL ? action : "?",
		    r->icase ? "true" : "false", r->last ? "true" : "false",
		    r->global ? "true" : "false", i + 1 < rt->n ? "," : "");
	}
	fprintf(f, ");\n");
}
