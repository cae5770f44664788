/*
** tools/gort-trace/opts.c: option parsing shared by the subcommands.
**
** gt_getopt wraps getopt_long with its own one-line errors ("gort-trace:
** <cmd>: unknown option '--x'") and a reset per call sequence, so each
** subcommand reads like a plain getopt loop.
*/
#include "opts.h"

#include <string.h>

void gt_opts_reset(void)
{
	optind = 0;   /* 0 = full reinitialisation in glibc */
	opterr = 0;
}

int gt_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
	      const struct option *longopts)
{
	int prev = optind ? optind : 1;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?') {
		const char *arg = prev < argc ? argv[prev] : "?";
		if (optopt && strchr(shortopts, optopt) && strchr(shortopts, optopt)[1] == ':')
			gt_err(cmd, "option '-%c' needs a value (see --help)", optopt);
		else if (optopt) {
			bool needs = false;
			for (const struct option *o = longopts; o && o->name; o++)
				if (o->val == optopt && o->has_arg == required_argument)
					needs = true;
			if (needs)
				gt_err(cmd, "option '%s' needs a value (see --help)", arg);
			else
				gt_err(cmd, "unknown option '-%c' (see --help)", optopt);
		} else
			gt_err(cmd, "unknown option '%s' (see --help)", arg);
		return -2;
	}
	if (c == ':') {
		gt_err(cmd, "option '%s' needs a value (see --help)", prev < argc ? argv[prev] : "?");
		return -2;
	}
	return c;
}

int gt_one_file(const char *cmd, int argc, char **argv, const char **path)
{
	int left = argc - optind;
	if (left < 1) {
		gt_err(cmd, "missing trace FILE (see --help)");
		return -1;
	}
	if (left > 1) {
		gt_err(cmd, "unexpected argument '%s' (one trace FILE expected)", argv[optind + 1]);
		return -1;
	}
	*path = argv[optind];
	return 0;
}
