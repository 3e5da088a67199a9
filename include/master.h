/* The master: binds, forks workers, supervises.  Never touches TFTP. */
#ifndef OWL_MASTER_H
#define OWL_MASTER_H

#include "conf.h"

/* Run until stopped; returns the process exit code.  Takes conf. */
int	 master_run(struct conf *, int foreground);

#endif
