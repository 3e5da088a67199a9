/*
 * The read_acl and write_acl keys: a string or a list of "allow|deny
 * CIDR|all" rules, each compiled by acl_add() as it is read (so a bad
 * rule is refused at its line) and kept as written for conf_dump().
 * They are set in the file only, never from the command line.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "conf.h"
#include "conf-schema.h"
#include "log.h"
#include "xmalloc.h"

static conf_text_fn	 conf_acl_rule;

struct acl *
conf_acl_new(void)
{
	struct acl	*acl;

	if ((acl = acl_new()) == NULL)
		fatalx("acl_new: out of memory");
	return acl;
}

/* Compile one access-list rule into v and keep its text. */
static int
conf_acl_rule(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	struct conf_acl_text	*at = &v->acl_text;
	const char		*why = "bad rule";

	if (v->acl == NULL)
		v->acl = conf_acl_new();
	if (acl_add(v->acl, text, &why) == -1) {
		*cause = conf_msg(w, e->name, "\"%s\": %s", text, why);
		return -1;
	}
	at->rules = xreallocarray(at->rules, at->n + 1, sizeof *at->rules);
	at->rules[at->n++] = xstrdup(text);
	return 0;
}

void
conf_acl_text_free(struct conf_acl_text *at)
{
	size_t	 i;

	for (i = 0; i < at->n; i++)
		free(at->rules[i]);
	free(at->rules);
	at->rules = NULL;
	at->n = 0;
}

/* One rule from the file; access lists are not set from the command line. */
int
conf_acl_from_text(const struct conf_entry *e, const char *text,
    const struct conf_where *w, struct conf_value *v, char **cause)
{
	if (w->file == NULL) {
		*cause = conf_msg(w, e->name, "can only be set in the "
		    "configuration file");
		return -1;
	}
	return conf_acl_rule(e, text, w, v, cause);
}

/* An array or list of rules; empty is fine (everyone is allowed). */
int
conf_acl_from_list(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	v->acl = conf_acl_new();
	return conf_list_strings(e, s, label, v, conf_acl_rule, cause);
}

void
conf_acl_dump(const struct conf_entry *e, const struct conf *conf, FILE *f)
{
	const struct conf_acl_text	*at;
	size_t				 i;

	at = (const struct conf_acl_text *)((const char *)CONF_CPRIV(conf) +
	    e->aux);
	fprintf(f, "%s = [ ", e->name);
	for (i = 0; i < at->n; i++) {
		conf_dump_quoted(f, at->rules[i]);
		fprintf(f, "%s", i + 1 < at->n ? ", " : " ");
	}
	fprintf(f, "];\n");
}
