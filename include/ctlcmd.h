/*
 * The control commands the master answers: the table ctl.c dispatches,
 * which main.c hands to master_run().  Each gets the master as its arg.
 */
#ifndef OWL_CTLCMD_H
#define OWL_CTLCMD_H

#include "ctl.h"

extern const struct ctl_cmd	 ctlcmd_table[];

#endif
