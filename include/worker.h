/* A worker process: one libevent loop serving its slot's sockets. */
#ifndef OWL_WORKER_H
#define OWL_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Exit codes: 0 normal, 1 error, 2 fatal (do not respawn). */
#define WORKER_EXIT_OK		0
#define WORKER_EXIT_ERROR	1
#define WORKER_EXIT_FATAL	2

/*
 * Run the worker in slot with its listen sockets and channel to the
 * master.  Called in the child after fork; returns its exit code.  It
 * says HELLO once it is ready, or FAILED with the reason; a gated worker
 * reads no request until the master answers SERVE.
 */
struct loadboard;

/* board: the generation's shared loads (loadboard.h), or NULL. */
int	 worker_main(const struct conf *, struct loadboard *board, int slot,
	    const int *listenfds, size_t nlisten, int chanfd,
	    uint32_t generation, int gated);

#endif
