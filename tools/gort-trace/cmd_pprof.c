/*
** tools/gort-trace/cmd_pprof.c: `gort-trace pprof --type=T FILE -o OUT.pb.gz`.
**
** Types (values per sample; samples keyed by stack):
**   cpu      CPU samples: samples/count, cpu/nanoseconds (count * 1e9/--hz)
**   block    time goroutines/threads were blocked, by the blocking stack:
**            contentions/count, delay/nanoseconds (label "reason";
**            --reason S keeps the reasons containing S)
**   syscall  time in system calls, by the syscall stack (same values)
**   region   time in user regions, by the region's begin stack:
**            regions/count, time/nanoseconds (label "region" = type)
** Built from gt_model, so the totals match `stats`.
*/
#include "model.h"
#include "opts.h"
#include "pprof.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { T_CPU, T_BLOCK, T_SYSCALL, T_REGION };

typedef struct pctx {
	int type;
	const char *reason;      /* block: keep reasons containing this, or NULL */
	gt_pprof *p;
	int64_t sample_ns;
} pctx;

static void help(void)
{
	printf("usage: " GT_PROG " pprof --type=cpu|block|syscall|region [--reason S] FILE -o OUT.pb.gz\n\n"
	       "Write a profile in pprof's format (protobuf, gzip) for 'go tool pprof':\n"
	       "  cpu      CPU samples by stack (needs samples in the trace)\n"
	       "  block    time blocked (mutex, condvar, sleep, channel...) by blocking stack\n"
	       "  syscall  time in system calls by call stack\n"
	       "  region   time in user regions by the region's begin stack (label 'region')\n\n"
	       "  -t, --type T     profile type (required)\n"
	       "  -o, --output OUT output file (required)\n"
	       "      --hz N       CPU sampling rate of the trace, for cpu time (default 100)\n"
	       "      --reason S   block: only blocking reasons containing S (e.g. sync, sleep)\n");
}

static void on_interval(void *ctx, gt_model *m, gt_g *g, const gt_interval *iv)
{
	(void)m, (void)g;
	pctx *c = ctx;
	if (gt_interval_syscall_marker(iv))
		return;
	if ((c->type == T_BLOCK && iv->state == GT_ST_BLOCKED && (!c->reason || strstr(iv->reason, c->reason))) ||
	    (c->type == T_SYSCALL && iv->state == GT_ST_SYSCALL)) {
		int64_t v[2] = { 1, (int64_t)(iv->end - iv->start) };
		gt_pprof_add(c->p, iv->stack, v, c->type == T_BLOCK && *iv->reason ? "reason" : NULL,
			     iv->reason);
	}
}

static void on_region(void *ctx, gt_model *m, gt_g *g, const gt_region *r, size_t depth)
{
	(void)m, (void)g, (void)depth;
	pctx *c = ctx;
	if (c->type != T_REGION)
		return;
	int64_t v[2] = { 1, (int64_t)(r->end - r->start) };
	gt_pprof_add(c->p, r->stack, v, "region", r->type);
}

static void on_event(void *ctx, gt_model *m, const gort_tp_event *ev, gt_g *g)
{
	(void)g;
	pctx *c = ctx;
	if (c->type != T_CPU || ev->kind != GORT_TP_STACK_SAMPLE)
		return;
	uint32_t st = gt_stack_intern(&m->stacks, ev->generation, &ev->stack);
	int64_t v[2] = { 1, c->sample_ns };
	gt_pprof_add(c->p, st, v, NULL, NULL);
}

int gt_cmd_pprof(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "type", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "hz", required_argument, NULL, 'z' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *type = NULL, *out = NULL, *reason = NULL;
	long hz = 100;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("pprof", argc, argv, ":t:o:h", lo)) != -1) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 't':
			type = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'r':
			reason = optarg;
			break;
		case 'z': {
			char *end;
			hz = strtol(optarg, &end, 10);
			if (!*optarg || *end || hz <= 0 || hz > 1000000) {
				gt_err("pprof", "--hz: not a positive rate: '%s'", optarg);
				return 2;
			}
			break;
		}
		default:
			return 2;
		}
	}
	static const char *const names[] = { "cpu", "block", "syscall", "region" };
	int t = -1;
	for (int i = 0; type && i < 4; i++)
		if (strcmp(type, names[i]) == 0)
			t = i;
	if (!type) {
		gt_err("pprof", "missing --type (cpu, block, syscall or region)");
		return 2;
	}
	if (t < 0) {
		gt_err("pprof", "unknown --type '%s' (cpu, block, syscall or region)", type);
		return 2;
	}
	if (!out) {
		gt_err("pprof", "missing -o OUT.pb.gz");
		return 2;
	}
	if (reason && t != T_BLOCK) {
		gt_err("pprof", "--reason applies to --type=block only");
		return 2;
	}
	const char *path;
	if (gt_one_file("pprof", argc, argv, &path) < 0)
		return 2;
#ifndef GT_HAVE_ZLIB
	gt_err("pprof", "not available: gort-trace was built without zlib");
	return 1;
#endif
	gt_input in;
	if (gt_input_open(&in, "pprof", path, false) < 0)
		return 1;
	pctx ctx = { .type = t, .reason = reason, .sample_ns = 1000000000 / hz };
	gt_model_cb cb = { .ctx = &ctx, .interval = on_interval, .region = on_region, .event = on_event };
	gt_model m;
	gt_model_init(&m, &cb);
	static const char *const vt[4][2][2] = {
		{ { "samples", "count" }, { "cpu", "nanoseconds" } },
		{ { "contentions", "count" }, { "delay", "nanoseconds" } },
		{ { "contentions", "count" }, { "delay", "nanoseconds" } },
		{ { "regions", "count" }, { "time", "nanoseconds" } },
	};
	ctx.p = gt_pprof_new(&m.stacks, 2, vt[t], t == T_CPU ? "cpu" : vt[t][1][0], "nanoseconds",
			     t == T_CPU ? ctx.sample_ns : 1);
	const gort_tp_event *ev;
	int rc;
	while ((rc = gt_input_next(&in, &ev)) > 0)
		gt_model_event(&m, ev);
	gt_input_close(&in);
	int status = 0;
	if (rc < 0) {
		status = 1;
	} else {
		gt_model_finish(&m);
		gt_pprof_set_time(ctx.p, 0, (int64_t)(m.t_last - m.t_first));
		gt_buf pb = { 0 };
		gt_pprof_encode(ctx.p, &pb);
		int e = gt_pprof_write_gz(&pb, out);
		gt_buf_free(&pb);
		if (e < 0) {
			gt_err("pprof", "%s: cannot write: %s", out, strerror(-e));
			status = 1;
		} else if (gt_pprof_nsamples(ctx.p) == 0) {
			/* Still a valid (empty) profile; say why it is empty. */
			gt_err("pprof", "%s: warning: no %s samples in %s", out, names[t], path);
		}
	}
	gt_pprof_free(ctx.p);
	gt_model_free(&m);
	return status;
}
