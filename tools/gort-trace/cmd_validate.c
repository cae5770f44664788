/*
** tools/gort-trace/cmd_validate.c: `gort-trace validate FILE`.
** Reads the whole trace with the parser (Go's reader and validator checks,
** or the reader's only with --reader-only); exit 0 and
** a one-line summary on stdout if valid (-q: nothing), else exit 1 and one
** line on stderr naming the problem and its byte offset.
*/
#include "opts.h"

#include <string.h>

static void help(void)
{
	printf("usage: " GT_PROG " validate [-q] [--reader-only] FILE\n\n"
	       "Check that FILE is a valid Go 1.22 execution trace: the parsing, ordering\n"
	       "and state checks of Go's reader plus those of Go's trace validator\n"
	       "(what Go's gotracevalidate checks). Exit status 0 if valid; otherwise 1\n"
	       "and one line on stderr: what is wrong and at which byte.\n\n"
	       "  -q, --quiet       print nothing when the trace is valid\n"
	       "  --reader-only     only the checks of Go's reader (what 'go tool trace'\n"
	       "                    and the other gort-trace commands apply)\n");
}

int gt_cmd_validate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "reader-only", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool quiet = false, reader_only = false;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("validate", argc, argv, ":qh", lo)) != -1) {
		if (c == 'h') {
			help();
			return 0;
		}
		if (c == 'q')
			quiet = true;
		else if (c == 'r')
			reader_only = true;
		else
			return 2;
	}
	const char *path;
	if (gt_one_file("validate", argc, argv, &path) < 0)
		return 2;
	gt_input in;
	if (gt_input_open(&in, "validate", path, !reader_only) < 0)
		return 1;
	const gort_tp_event *ev;
	int rc;
	uint64_t n = 0, gens = 0;
	while ((rc = gt_input_next(&in, &ev)) > 0) {
		n++;
		if (ev->kind == GORT_TP_SYNC)
			gens++;
	}
	uint64_t bytes = gort_tp_bytes_read(in.r);
	gt_input_close(&in);
	if (rc < 0)
		return 1;
	if (!quiet)
		printf("%s: valid Go 1.22 trace: %llu events, %llu generations, %llu bytes\n", path,
		       (unsigned long long)n, (unsigned long long)gens, (unsigned long long)bytes);
	return 0;
}
