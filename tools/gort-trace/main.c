/*
** tools/gort-trace/main.c: `gort-trace <subcommand> ...` dispatcher.
**
** Each subcommand lives in its own cmd_<name>.c, parses its own options
** (getopt_long with argv[0] = the subcommand name), prints its --help, and
** returns the process exit status. Errors are one line on stderr.
*/
#include "gt.h"

#include <string.h>

typedef struct cmd {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} cmd;

static const cmd cmds[] = {
	{ "validate", gt_cmd_validate, "check a trace; exit 0 if valid, else the error and its byte offset" },
	{ "dump", gt_cmd_dump, "print the ordered events as text, one per line" },
	{ "stats", gt_cmd_stats, "per-thread times, region/task latencies, logs, blocking sites, sizes" },
	{ "export", gt_cmd_export, "convert to Chrome/Perfetto trace-event JSON (--format=perfetto)" },
	{ "pprof", gt_cmd_pprof, "write a cpu|block|syscall|region profile (pprof protobuf, gzip)" },
	{ "record", gt_cmd_record, "run a command under the gort preload tracer and write its trace" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: " GT_PROG " <command> [options] FILE\n\n"
		   "Reads Go 1.22 execution traces (written by gort or by Go programs).\n\ncommands:\n");
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'" GT_PROG " <command> --help' describes a command. FILE may be '-' for stdin.\n"
		   "A progress bar is shown on stderr when it is a terminal.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *c = argv[1];
	if (strcmp(c, "-h") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(c, "--version") == 0 || strcmp(c, "version") == 0) {
		printf(GT_PROG " %s (Go 1.22 trace format)\n", GORT_VERSION_STRING);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(c, cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	gt_err(NULL, "unknown command '%s' (try '" GT_PROG " --help')", c);
	return 2;
}
