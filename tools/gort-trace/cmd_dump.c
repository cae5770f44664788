/*
** tools/gort-trace/cmd_dump.c: `gort-trace dump FILE`: the ordered events,
** one per line, in the parser's Go-style text (Go's Event.String()). Go
** prints an event's stacks on extra indented lines; by default they are
** folded into the event's line ("Stack=f @ 0xpc file:line | g @ ..."), and
** --go keeps Go's exact multi-line text, so the output can be diffed with
** `go tool trace -d=1`. A closed pipe ends the command quietly (status 1).
*/
#include "opts.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void help(void)
{
	printf("usage: " GT_PROG " dump [--go] [-o OUT] FILE\n\n"
	       "Print the events of FILE in order, one per line, in the text of Go's\n"
	       "Event.String(), with each stack folded into its event's line.\n\n"
	       "  --go               Go's exact text (stacks on extra lines), identical to\n"
	       "                     what 'go tool trace -d=1 FILE' prints\n"
	       "  -o, --output OUT   write to OUT instead of stdout\n");
}

/* Go's stack lines: "\n<Name>Stack=" then per frame "\n\tfunc @ 0xpc\n\t\tfile:line",
** then a final "\n". Fold them: " Stack=func @ 0xpc file:line | func ...". */
static void put_folded(FILE *f, const char *s)
{
	bool after_header = false;
	for (const char *p = s; *p; p++) {
		if (*p != '\n') {
			putc(*p, f);
			if (*p == '=' && p[1] == '\n')
				after_header = true;
			continue;
		}
		if (p[1] == '\t' && p[2] == '\t') {
			putc(' ', f);
			p += 2;
		} else if (p[1] == '\t') {
			if (!after_header)
				fputs(" | ", f);
			after_header = false;
			p += 1;
		} else if (p[1] != 0) {
			putc(' ', f);
		}
	}
}

int gt_cmd_dump(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "go", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL;
	bool go = false;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("dump", argc, argv, ":o:gh", lo)) != -1) {
		if (c == 'h') {
			help();
			return 0;
		}
		if (c == 'o')
			out = optarg;
		else if (c == 'g')
			go = true;
		else
			return 2;
	}
	const char *path;
	if (gt_one_file("dump", argc, argv, &path) < 0)
		return 2;
	gt_input in;
	if (gt_input_open(&in, "dump", path, false) < 0)
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
	/* Lines going to the terminal as we read: a bar would garble them. */
	if (f == stdout && isatty(STDOUT_FILENO))
		in.prog.on = false;
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
		if (go)
			fputs(line, f);
		else
			put_folded(f, line);
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
