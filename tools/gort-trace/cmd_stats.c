/*
** tools/gort-trace/cmd_stats.c: `gort-trace stats [--json] FILE`.
** Streams the trace through gt_stats (stats.c) with the raw byte scanner
** as the input tee (bytes by event type), then prints text or JSON.
*/
#include "opts.h"
#include "stats.h"

#include <stdlib.h>
#include <string.h>

static void help(void)
{
	printf("usage: " GT_PROG " stats [--json] [--top N] FILE\n\n"
	       "Summarise a trace: duration, time span and generations; per thread\n"
	       "(goroutine) the time running, runnable, blocked (by reason) and in\n"
	       "syscalls; per region and task type the count and latency p50/p90/p99/max;\n"
	       "log counts by category; the top blocking call sites (by stack); events\n"
	       "and bytes by event type.\n\n"
	       "  --json      machine-readable output (all rows)\n"
	       "  --top N     rows in the goroutine and call-site tables (default 20, 0 = all)\n");
}

int gt_cmd_stats(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool json = false;
	size_t top = 20;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("stats", argc, argv, ":jt:h", lo)) != -1) {
		if (c == 'h') {
			help();
			return 0;
		} else if (c == 'j') {
			json = true;
		} else if (c == 't') {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (!*optarg || *end || optarg[0] == '-') {
				gt_err("stats", "--top: not a number: '%s'", optarg);
				return 2;
			}
			top = (size_t)v;
		} else
			return 2;
	}
	const char *path;
	if (gt_one_file("stats", argc, argv, &path) < 0)
		return 2;
	gt_input in;
	if (gt_input_open(&in, "stats", path, false) < 0)
		return 1;
	gt_stats *s = gt_stats_new();
	in.tee = gt_rawscan_feed;
	in.tee_ctx = gt_stats_raw(s);
	const gort_tp_event *ev;
	int rc;
	while ((rc = gt_input_next(&in, &ev)) > 0)
		gt_stats_event(s, ev);
	gt_input_close(&in);
	if (rc < 0) {
		gt_stats_free(s);
		return 1;
	}
	if (json)
		gt_stats_print_json(s, stdout);
	else
		gt_stats_print_text(s, stdout, top);
	gt_stats_free(s);
	if (fflush(stdout) != 0)
		return 1;
	return 0;
}
