/*
 * Removing the temporary upload files (fs.h) of workers that died
 * without cleaning up.  The master's job: it outlives its workers.
 */
#ifndef OWL_TMPCLEAN_H
#define OWL_TMPCLEAN_H

#include <sys/types.h>

#include <stddef.h>

#define TMPCLEAN_DEPTH_MAX	64	/* directory levels searched */
#define TMPCLEAN_LOG_MAX	10	/* removals logged one by one */

/*
 * Walk root, without following a symlink or leaving it, and unlink the
 * regular files whose name fs_tmp_match() accepts and whose pid is
 * pid (> 0: a worker that has been reaped; nothing if that pid is
 * alive again), or, with pid 0 (startup, after a crash of the whole
 * server), any pid that is gone or a zombie.  Each removal is logged (the first TMPCLEAN_LOG_MAX, then a
 * count).  Returns the number of files removed.  Blocks for as long as
 * the walk takes.
 */
size_t		 tmpclean_sweep(const char *root, pid_t pid);

#endif
