/*
 * The configuration engine.  The schema (conf-table.c, the tmux
 * options-table model) names every key with its type, range, default and
 * help; this file drives the file reader, the command-line setter, the
 * defaults and conf_dump() from it, and conf-types.c knows each type.  A
 * file is applied in two steps, parse every setting into a value then
 * store them all, so a bad file leaves the struct conf as it was.
 *
 * The access lists and the remap rules are compiled when they are parsed
 * (acl_add(), remap_add()), so a bad rule is a "FILE:LINE:" error at
 * load.  The rules are also kept as written, in the part of the
 * allocation only the conf files see (struct conf_priv), for conf_dump().
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "conf-schema.h"
#include "fs.h"
#include "log.h"
#include "remap.h"
#include "sock.h"
#include "xmalloc.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof (a)[0])
#endif

#define CONF_FILE_MAX	(1024 * 1024)	/* largest config file read */
#define CONF_MSG_MAX	512		/* longest problem text */

static int	 conf_finish_error(const struct conf *, char **,
		    const char *, ...) __attribute__((format(printf, 3, 4)));
static const struct conf_entry *conf_find(const char *);
static int	 conf_from_setting(const struct conf_entry *,
		    const config_setting_t *, const char *,
		    struct conf_value *, char **);
static int	 conf_parse(const config_setting_t *, const char *,
		    const char *, const struct conf_entry **,
		    struct conf_value *, char **);
static void	 conf_value_init(struct conf_value *);
static void	 conf_sync(struct conf *);
static int	 conf_read_text(struct conf *, const char *, const char *,
		    char **);
static int	 conf_slurp(const char *, int, char **, size_t *, char **);
static int	 conf_remap_file(struct conf *, char **);

static const char *const conf_setting_types[] = {
	[CONFIG_TYPE_NONE] = "nothing",
	[CONFIG_TYPE_GROUP] = "a group",
	[CONFIG_TYPE_INT] = "an integer",
	[CONFIG_TYPE_INT64] = "an integer",
	[CONFIG_TYPE_FLOAT] = "a float",
	[CONFIG_TYPE_STRING] = "a string",
	[CONFIG_TYPE_BOOL] = "a boolean",
	[CONFIG_TYPE_ARRAY] = "an array",
	[CONFIG_TYPE_LIST] = "a list",
};

/*
 * A NULL default stores an empty value: an unset string, no listen
 * addresses (conf_finish() supplies them), an empty access list, no
 * remap rules.
 */
struct conf *
conf_new(void)
{
	struct conf_priv	*priv;
	struct conf		*conf;
	const struct conf_entry	*e;
	struct conf_value	 v;
	struct conf_where	 w = { "built-in default", 0 };
	char			*cause;

	priv = xcalloc(1, sizeof *priv);
	conf = &priv->pub;
	for (e = conf_table; e < conf_table + conf_table_size; e++) {
		conf_value_init(&v);
		if (e->dflt != NULL && conf_types[e->type].from_text(e,
		    e->dflt, &w, &v, &cause) == -1)
			fatalx("%s", cause);
		conf_store(conf, e, &v);
		conf_value_clear(&v);
	}
	conf_sync(conf);
	return conf;
}

void
conf_free(struct conf *conf)
{
	const struct conf_entry	*e;

	if (conf == NULL)
		return;
	for (e = conf_table; e < conf_table + conf_table_size; e++)
		conf_field_free(conf, e);
	free(conf->path);
	free(CONF_PRIV(conf));
}

/*
 * Read all of path (at most CONF_FILE_MAX bytes, no NUL) into *textp
 * (NUL-terminated, caller frees).  With regular, only a regular file
 * will do, and a FIFO is not waited for.  -1 with *cause; errno says
 * ENOENT for a missing file.
 */
static int
conf_slurp(const char *path, int regular, char **textp, size_t *lenp,
    char **cause)
{
	FILE		*f;
	struct stat	 st;
	char		*text = NULL;
	size_t		 len;
	int		 fd, saved;

	*textp = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | (regular ? O_NONBLOCK : 0));
	if (fd == -1 || (f = fdopen(fd, "r")) == NULL) {
		saved = errno;
		xasprintf(cause, "%s: cannot open: %s", path, strerror(errno));
		if (fd != -1)
			(void)close(fd);
		errno = saved;
		return -1;
	}
	if (fstat(fileno(f), &st) == -1) {
		xasprintf(cause, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s: cannot open: %s", path, strerror(EISDIR));
		goto fail;
	}
	if (regular && !S_ISREG(st.st_mode)) {
		xasprintf(cause, "%s: not a regular file", path);
		goto fail;
	}
	text = xmalloc(CONF_FILE_MAX + 1);
	len = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f)) {
		xasprintf(cause, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (len > CONF_FILE_MAX) {
		xasprintf(cause, "%s: larger than %d bytes", path,
		    CONF_FILE_MAX);
		goto fail;
	}
	if (memchr(text, '\0', len) != NULL) {
		xasprintf(cause, "%s: contains a NUL byte", path);
		goto fail;
	}
	text[len] = '\0';
	(void)fclose(f);
	*textp = text;
	*lenp = len;
	return 0;

fail:
	free(text);
	(void)fclose(f);
	errno = 0;
	return -1;
}

int
conf_read_file(struct conf *conf, const char *path, int must_exist,
    char **cause)
{
	char	*text;
	size_t	 len;
	int	 rc = -1;

	if (conf_slurp(path, 0, &text, &len, cause) == -1) {
		if (errno == ENOENT && !must_exist) {
			free(*cause);
			*cause = NULL;
			return 0;
		}
		return -1;
	}
	if (conf_read_text(conf, text, path, cause) == -1)
		goto out;
	free(conf->path);
	conf->path = xstrdup(path);
	rc = 0;
out:
	free(text);
	return rc;
}

/*
 * remap_file's rules, then the rules of remap (compiled when they were
 * read, and moved), into a new remap that replaces conf->xfer.remap.  The file
 * is read at every load, so a reload takes its changes (as in.tftpd
 * rereads its map file on SIGHUP).
 */
static int
conf_remap_file(struct conf *conf, char **cause)
{
	struct remap	*rm;
	char		*text, *why;
	size_t		 len;

	if (conf->remap_file[0] == '\0')
		return 0;
	if (conf_slurp(conf->remap_file, 1, &text, &len, &why) == -1) {
		(void)conf_finish_error(conf, cause, "remap_file: %s", why);
		free(why);
		return -1;
	}
	rm = remap_new();
	if (remap_load_hpa(rm, text, len, conf->remap_file, &why) == -1) {
		(void)conf_finish_error(conf, cause, "remap_file: %s", why);
		free(why);
		free(text);
		remap_free(rm);
		return -1;
	}
	free(text);
	remap_append(rm, conf->xfer.remap);	/* never NULL after conf_new() */
	conf->xfer.remap = rm;
	return 0;
}

int
conf_read_string(struct conf *conf, const char *text, char **cause)
{
	return conf_read_text(conf, text, "<string>", cause);
}

int
conf_set(struct conf *conf, const char *key, const char *value,
    char **cause)
{
	const struct conf_entry	*e;
	struct conf_value	 v;
	struct conf_where	 w = { NULL, 0 };
	int			 rc = -1;

	if ((e = conf_find(key)) == NULL) {
		*cause = conf_msg(&w, key, "unknown key");
		return -1;
	}
	if (value == NULL) {
		*cause = conf_msg(&w, key, "missing value");
		return -1;
	}
	conf_value_init(&v);
	if (conf_types[e->type].from_text(e, value, &w, &v, cause) == -1)
		goto out;
	if (e->type != CONF_T_LISTEN) {
		conf_store(conf, e, &v);
		conf_sync(conf);
		rc = 0;
		goto out;
	}

	/* The first listen from the command line replaces the file's. */
	if (!conf->listen_cli) {
		conf->nlisten = 0;
		conf->listen_cli = 1;
	}
	rc = conf_listen_add(e, conf->listen, &conf->nlisten, &v.listen[0],
	    &w, cause);
out:
	conf_value_clear(&v);
	return rc;
}

/* What listen and port leave: the default addresses, every port. */
static void
conf_finish_listen(struct conf *conf)
{
	const char	*why;
	size_t		 i;

	if (conf->nlisten == 0) {
		for (i = 0; i < conf_nlisten_defaults; i++) {
			if (conf_listen_parse(conf_listen_defaults[i],
			    &conf->listen[i], &why) == -1)
				fatalx("listen default %s: %s",
				    conf_listen_defaults[i], why);
		}
		conf->nlisten = i;
	}
	for (i = 0; i < conf->nlisten; i++) {
		if (!conf->listen[i].hasport)
			sock_set_port((struct sockaddr *)&conf->listen[i].addr,
			    conf->port);
	}
}

/* workers = 0 is one per online CPU; each takes a share of the pool. */
static void
conf_finish_workers(struct conf *conf)
{
	long	 ncpu;

	if (conf->workers == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (ncpu < 1)
			ncpu = 1;
		if (ncpu > CONF_WORKERS_MAX)
			ncpu = CONF_WORKERS_MAX;
		conf->workers = (int)ncpu;
	}
	conf->worker_share = (conf->max_transfers +
	    (size_t)conf->workers - 1) / (size_t)conf->workers;
}

/*
 * The address pools and the port range against the workers.  A file's
 * session lives in the worker a hash picks: each needs a group of its
 * own share of each pool, or its files are unicast.
 */
static int
conf_finish_pools(const struct conf *conf, char **cause)
{
	uint32_t	 n4, n6 = conf->mcast_range6.count;
	int		 ports, workers = conf->workers;

	n4 = conf->mcast_range.last - conf->mcast_range.first + 1;
	if (conf->mcast_enable && n4 < (uint32_t)workers)
		return conf_finish_error(conf, cause,
		    "multicast.address_range: %u addresses for %d workers "
		    "(each worker needs one)", n4, workers);
	if (conf->mcast_enable && n6 != 0 && n6 < (uint32_t)workers)
		return conf_finish_error(conf, cause,
		    "multicast.address_range6: %u addresses for %d workers "
		    "(each worker needs one)", n6, workers);
	/* Each worker needs a port, twice over while a reload drains. */
	ports = conf->port_range.hi - conf->port_range.lo + 1;
	if (conf->port_range.lo != 0 && ports < 2 * workers)
		return conf_finish_error(conf, cause, "port_range: %d ports "
		    "for %d workers (each worker needs one, and old and new "
		    "workers overlap during a reload: give at least %d)", ports,
		    workers, 2 * workers);
	return 0;
}

int
conf_finish(struct conf *conf, char **cause)
{
	conf_finish_listen(conf);
	conf_finish_workers(conf);
	if (conf_remap_file(conf, cause) == -1 ||
	    conf_finish_pools(conf, cause) == -1)
		return -1;
	conf_sync(conf);
	return 0;
}

size_t
conf_options(struct conf_option *opts, size_t max)
{
	const struct conf_entry	*e;
	size_t			 n = 0;

	for (e = conf_table; e < conf_table + conf_table_size; e++) {
		if (e->flag == NULL)
			continue;
		if (n < max) {
			opts[n].flag = e->flag;
			opts[n].arg = e->arg;
			opts[n].key = e->name;
			opts[n].help = e->help;
		}
		n++;
	}
	return n;
}

void
conf_dump(const struct conf *conf, FILE *f)
{
	const struct conf_entry	*e;
	const char		*dot;
	char			*text = NULL, *line, *save;
	size_t			 len = 0, glen = 0;
	const char		*group = NULL;
	FILE			*mem;

	for (e = conf_table; e < conf_table + conf_table_size; e++) {
		dot = strchr(e->name, '.');
		if (group != NULL && (dot == NULL || (size_t)(dot - e->name) !=
		    glen || strncmp(e->name, group, glen) != 0)) {
			fprintf(f, "};\n");
			group = NULL;
		}
		if (dot == NULL) {
			conf_types[e->type].dump(e, conf, f);
			continue;
		}
		if (group == NULL) {
			group = e->name;
			glen = (size_t)(dot - e->name);
			fprintf(f, "%.*s = {\n", (int)glen, group);
		}
		if ((mem = open_memstream(&text, &len)) == NULL)
			fatal("open_memstream");
		conf_types[e->type].dump(e, conf, mem);
		(void)fclose(mem);
		for (line = strtok_r(text, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save)) {
			if (strncmp(line, e->name, glen + 1) == 0)
				line += glen + 1;
			fprintf(f, "\t%s\n", line);
		}
		free(text);
		text = NULL;
	}
	if (group != NULL)
		fprintf(f, "};\n");
}

const char *
conf_uploads_str(enum fs_upload_policy policy)
{
	const char	*name;

	name = conf_choice_name(conf_uploads_choices, (int)policy);
	return name != NULL ? name : "unknown";
}

/*
 * "FILE:LINE: key: problem", or "command line: --key: problem".
 */
char *
conf_msg(const struct conf_where *w, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	 problem[CONF_MSG_MAX];
	char	*msg;

	va_start(ap, fmt);
	(void)vsnprintf(problem, sizeof problem, fmt, ap);
	va_end(ap);
	if (w->file == NULL)
		xasprintf(&msg, "command line: --%s: %s", key, problem);
	else
		xasprintf(&msg, "%s:%u: %s: %s", w->file, w->line, key,
		    problem);
	return msg;
}

/*
 * "FILE: problem" for what conf_finish() finds once every source is
 * read: it may span several keys, so it has no line.
 */
static int
conf_finish_error(const struct conf *conf, char **cause, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*problem;

	va_start(ap, fmt);
	if (vasprintf(&problem, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	xasprintf(cause, "%s: %s", conf->path != NULL ? conf->path :
	    "command line", problem);
	free(problem);
	return -1;
}

static const struct conf_entry *
conf_find(const char *name)
{
	const struct conf_entry	*e;

	for (e = conf_table; e < conf_table + conf_table_size; e++) {
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

/* Turn one top-level setting into a value for entry e. */
static int
conf_from_setting(const struct conf_entry *e, const config_setting_t *s,
    const char *label, struct conf_value *v, char **cause)
{
	const struct conf_type_info	*ti = &conf_types[e->type];
	struct conf_where		 w;
	int				 t = config_setting_type(s);

	conf_where_setting(&w, s, label);
	if (t < 0 || (size_t)t >= nitems(conf_setting_types) ||
	    (ti->accepts & CONF_ACCEPT(t)) == 0) {
		*cause = conf_msg(&w, e->name, "expected %s, got %s",
		    ti->expect, conf_setting_type_name(t));
		return -1;
	}
	switch (t) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v->num = config_setting_get_int64(s);
		return conf_check_range(e, v->num, NULL, &w, cause);
	case CONFIG_TYPE_BOOL:
		v->num = config_setting_get_bool(s);
		return 0;
	case CONFIG_TYPE_STRING:
		return ti->from_text(e, config_setting_get_string(s), &w, v,
		    cause);
	default:
		return ti->from_list(e, s, label, v, cause);
	}
}

/* Find the entry for one setting, named name, and parse its value. */
static int
conf_parse(const config_setting_t *s, const char *name, const char *label,
    const struct conf_entry **ep, struct conf_value *v, char **cause)
{
	struct conf_where	 w;

	if ((*ep = conf_find(name)) == NULL) {
		conf_where_setting(&w, s, label);
		*cause = conf_msg(&w, name, "unknown key");
		return -1;
	}
	return conf_from_setting(*ep, s, label, v, cause);
}

/* Is name the group part of some "group.key" entry? */
static int
conf_is_group(const char *name)
{
	const struct conf_entry	*e;
	size_t			 len = strlen(name);

	for (e = conf_table; e < conf_table + conf_table_size; e++)
		if (strncmp(e->name, name, len) == 0 && e->name[len] == '.')
			return 1;
	return 0;
}

/* The settings of a file, parsed but not yet stored. */
struct conf_parsed {
	const struct conf_entry	**entries;
	struct conf_value	 *values;	/* zeroed: initialised */
	size_t			  n;
};

/*
 * Parse one top-level setting into p: a key, or each member of a group
 * such as multicast = { ... } as "group.member".  libconfig refuses a
 * name given twice and conf_parse() an unknown one, so p gets at most
 * one value a key; p has room for one more, which is refused.
 */
static int
conf_parse_top(const config_setting_t *s, const char *label,
    struct conf_parsed *p, char **cause)
{
	const char		*name;
	const config_setting_t	*c = s;
	struct conf_where	 w;
	char			 qname[64];
	int			 j, m = 1, group;
	size_t			 k;

	name = config_setting_name(s);
	group = conf_is_group(name);
	if (group) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			conf_where_setting(&w, s, label);
			*cause = conf_msg(&w, name, "expected a group { ... }");
			return -1;
		}
		m = config_setting_length(s);
	}
	for (j = 0; j < m; j++) {
		if (group) {
			c = config_setting_get_elem(s, (unsigned)j);
			(void)snprintf(qname, sizeof qname, "%s.%s", name,
			    config_setting_name(c));
		} else
			(void)snprintf(qname, sizeof qname, "%s", name);
		if (p->n == conf_table_size + 1)
			fatalx("conf: more settings than keys");
		k = p->n++;	/* counted even if it fails: it is cleared */
		if (conf_parse(c, qname, label, &p->entries[k],
		    &p->values[k], cause) == -1)
			return -1;
	}
	return 0;
}

/*
 * Parse every setting, then store them all: nothing is stored unless
 * everything parsed.
 */
static int
conf_read_text(struct conf *conf, const char *text, const char *label,
    char **cause)
{
	config_t		 cfg;
	config_setting_t	*root;
	struct conf_parsed	 p;
	const char		*file;
	int			 n, rc = -1;
	size_t			 i;

	if (conf_scan_ints(text, label, cause) == -1)
		return -1;

	p.entries = xcalloc(conf_table_size + 1, sizeof *p.entries);
	p.values = xcalloc(conf_table_size + 1, sizeof *p.values);
	p.n = 0;
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		file = config_error_file(&cfg) != NULL ?
		    config_error_file(&cfg) : label;
		xasprintf(cause, "%s:%d: %s", file, config_error_line(&cfg),
		    config_error_text(&cfg));
		goto out;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < (size_t)n; i++) {
		if (conf_parse_top(config_setting_get_elem(root, (unsigned)i),
		    label, &p, cause) == -1)
			goto out;
	}
	for (i = 0; i < p.n; i++)
		conf_store(conf, p.entries[i], &p.values[i]);
	conf_sync(conf);
	rc = 0;
out:
	for (i = 0; i < p.n; i++)
		conf_value_clear(&p.values[i]);
	free(p.values);
	free(p.entries);
	config_destroy(&cfg);
	return rc;
}

static void
conf_value_init(struct conf_value *v)
{
	memset(v, 0, sizeof *v);
}

/* Give conf->xfer.remap the built-in switches' current values. */
static void
conf_sync(struct conf *conf)
{
	remap_set_builtins(conf->xfer.remap, conf->remap_strip_nonprint,
	    conf->remap_backslash, conf->remap_lowercase);
}

void
conf_where_setting(struct conf_where *w, const config_setting_t *s,
    const char *label)
{
	w->file = config_setting_source_file(s) != NULL ?
	    config_setting_source_file(s) : label;
	w->line = config_setting_source_line(s);
}

const char *
conf_setting_type_name(int t)
{
	if (t < 0 || (size_t)t >= nitems(conf_setting_types))
		return "something unknown";
	return conf_setting_types[t];
}

struct conf *
conf_build(const struct conf_source *src, char **cause)
{
	struct conf	*conf = conf_new();
	size_t		 i;

	if (conf_read_file(conf, src->path, src->must_exist, cause) == -1)
		goto fail;
	for (i = 0; i < src->n; i++)
		if (conf_set(conf, src->keys[i], src->values[i], cause) == -1)
			goto fail;
	if (conf_finish(conf, cause) == -1)
		goto fail;
	conf->log_level += src->verbose;
	if (conf->log_level > LOG_DEBUG)
		conf->log_level = LOG_DEBUG;
	return conf;
fail:
	conf_free(conf);
	return NULL;
}
