/*
 * The control socket server: a Unix stream socket, one request line per
 * connection ("OWLCTL1 command [args]\n"), a reply whose first line is
 * "ok" or "error <text>" followed by key=value lines, then close.
 * Commands come from a table; help is generated from it.
 */
#ifndef OWL_CTL_H
#define OWL_CTL_H

#include <sys/types.h>

#include <event2/event.h>

#define CTL_MAGIC	"OWLCTL1"	/* bump the digit on any change */
#define CTL_LINE_MAX	1024
#define CTL_ARGS_MAX	8
#define CTL_CLIENTS_MAX	64
#define CTL_IDLE_S	10
#define CTL_BACKLOG	16	/* control connections waiting for accept */

enum ctl_result {
	CTL_DONE,	/* reply complete: send it */
	CTL_LATER,	/* handler will call ctl_finish() */
};

struct ctl;
struct ctl_conn;

struct ctl_cmd {
	const char	*name;
	int		 min_args;
	int		 max_args;
	const char	*usage;
	const char	*help;
	enum ctl_result	 (*fn)(struct ctl_conn *, int argc, char **argv,
			    void *arg);
};

/*
 * Listen on path (refusing if a live server answers there, replacing a
 * stale file), owned by uid:gid with mode.  NULL and *cause on failure.
 */
struct ctl	*ctl_new(struct event_base *, const char *path, uid_t, gid_t,
		    mode_t, const struct ctl_cmd *cmds, void *arg,
		    char **cause);
void		 ctl_free(struct ctl *);

void		 ctl_printf(struct ctl_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 ctl_error(struct ctl_conn *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
/* Send the reply (for CTL_LATER handlers); the connection then closes. */
void		 ctl_finish(struct ctl_conn *);
/* Is the peer still there to read a reply? */
int		 ctl_alive(const struct ctl_conn *);
/* Append "command usage - help" lines for every command. */
void		 ctl_help(struct ctl_conn *);

#endif
