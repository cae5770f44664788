/*
** tools/gort-trace/cmd_dump.c: `gort-trace dump FILE`: the ordered events,
** one per line, in the parser's Go-style text (as `go tool trace -d=1`
** prints Go's Event.String()). Output errors (e.g. a closed pipe) end the
** command quietly with status 1... and a parse error with one line.
*/
#include "opts.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static void help(void)
{
	printf("usage: " GT_PROG " dump [-o OUT] FILE\n\n"
	       "Print the events of FILE in order, one per line (the format of Go's\n"
	       "Event.String(), as printed by 'go tool trace -d=1').\n\n"
	       "  -o, --output OUT   write to OUT instead of stdout\n");
}

int gt_cmd_dump(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("dump", argc, argv, ":o:h", lo)) != -1) {
		if (c == 'h') {
			help();
			return 0;
		}
		if (c == 'o')
			out = optarg;
		else
			return 2;
	}
	const char *path;
	if (gt_one_file("dump", argc, argv, &path) < 0)
		return 2;
	gt_input in;
	if (gt_input_open(&in, "dump", path) < 0)
		return 1;
	FILE *f = stdout;
	if (out && strcmp(out, "-") != 0) {
		f = fopen(out, "w");
		if (!f) {
			gt_err("dump", "%s: cannot create: %s", out, strerror(errno));
			gt_input_close(&in);
			return 1;
		}
	}
	static char buf[1 << 16];
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	const gort_tp_event *ev;
	int rc;
	char *line = buf;
	size_t cap = sizeof buf;
	char *big = NULL;
	while ((rc = gt_input_next(&in, &ev)) > 0) {
		size_t n = gort_tp_format_event(ev, line, cap);
		if (n >= cap) {
			cap = n + 1;
			big = gt_xrealloc(big, cap);
			line = big;
			gort_tp_format_event(ev, line, cap);
		}
		fputs(line, f);
		if (putc('\n', f) == EOF)
			break;
	}
	free(big);
	gt_input_close(&in);
	int werr = ferror(f) || fflush(f) != 0;
	if (f != stdout)
		werr |= fclose(f) != 0;
	if (rc < 0)
		return 1;
	if (werr) {
		if (errno != EPIPE)
			gt_err("dump", "%s: write error: %s", out ? out : "stdout", strerror(errno));
		return 1;
	}
	return 0;
}
