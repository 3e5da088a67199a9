/* The control commands the master answers (the table ctl.c dispatches). */
#ifndef OWL_CTLCMD_H
#define OWL_CTLCMD_H

#include <stdio.h>

#include "ctl.h"

struct master;

extern const struct ctl_cmd	 ctlcmd_table[];

/* Counters in the Prometheus text format (shared with metrics.c). */
void	 ctlcmd_prometheus(struct master *, FILE *);

#endif
