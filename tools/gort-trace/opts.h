/*
** tools/gort-trace/opts.h: getopt_long with one-line errors (see opts.c).
*/
#ifndef GT_OPTS_H
#define GT_OPTS_H

#include "gt.h"

#include <getopt.h>

/* Call before the first gt_getopt of a subcommand. */
void gt_opts_reset(void);
/* Like getopt_long; returns -2 after printing an error for a bad option. */
int gt_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	      const struct option *longopts);
/* Exactly one positional argument left: the trace path. -1 after an error. */
int gt_one_file(const char *cmd, int argc, char **argv, const char **path);

#endif
