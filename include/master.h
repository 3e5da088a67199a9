/*
 * The master: binds, forks workers, supervises, reloads, and answers the
 * control socket.  Never touches TFTP.  Its state is its own: the control
 * commands and the metrics endpoint see it through a snapshot
 * (struct master_view, rendered by report.c) and change it only through the
 * functions below.
 */
#ifndef OWL_MASTER_H
#define OWL_MASTER_H

struct conf;
struct conf_source;
struct ctl_cmd;
struct master;
struct master_view;

/*
 * Run until stopped; returns the process exit code.  Takes conf.  The
 * control socket answers the commands of cmds, which get the master as
 * their argument.
 */
int	 master_run(struct conf *, const struct conf_source *, int foreground,
	    const struct ctl_cmd *cmds);

/* Called once a reload has committed (error NULL) or not. */
typedef void (*master_done_fn)(struct master *, const char *error, void *);

/*
 * Re-read the configuration and roll the workers over to it.  -1 and
 * *cause if it fails at once (done is not called); 0 if a new generation
 * is starting: done is called when it is committed or abandoned.
 */
int	 master_reload(struct master *, master_done_fn done, void *arg,
	    char **cause);
void	 master_stop(struct master *, int graceful);
void	 master_reopen(struct master *);

/* Fill v with the master as it is now; master_view_free() releases it. */
void	 master_view(const struct master *, struct master_view *v);
void	 master_view_free(struct master_view *);

/* The origin cache, for owlctl cache; NULL if none runs. */
struct oserve	*master_oserve(struct master *);

/* From now on the totals count from here (workers' own never reset). */
void	 master_stats_reset(struct master *);

enum master_question {
	MASTER_ASK_STATS,	/* fresh counters */
	MASTER_ASK_XFERS,	/* live transfers: the view's xfers */
};

typedef void (*master_answer_fn)(struct master *, const struct master_view *,
    void *);

/*
 * Ask every live worker for fresh counters or its live transfers and
 * call done once all have answered or a short timeout passed, with a
 * view of whatever arrived (valid during the call).  Never blocks.
 */
void	 master_ask(struct master *, enum master_question, master_answer_fn done,
	    void *arg);

#endif
