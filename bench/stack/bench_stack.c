/*
** bench/stack/bench_stack.c: what a stack costs.
**
**   capture, same path     a loop of captures at the bottom of a recursion
**                          of REC frames, max = 8/16/32 frames; in the
**                          default mode (fp walk + per-pc CFI check) and in
**                          the pure frame-pointer mode (Go's walk, no check)
**   capture_frame          the tracer's call (_gr_stack_capture_frame with a
**                          token: a repeated stack is not copied)
**   capture, varying paths each iteration descends a different path of
**                          REC frames through two functions (4 call sites)
**                          and captures once; the descent alone is measured
**                          too and subtracted
**   fallback               same-path captures through a recursion where every
**                          4th frame has no frame pointer (CFI steps)
**   glibc backtrace()      same path, for reference (libgcc's DWARF unwinder)
**   tracer                 region begin/end events at the bottom of REC
**                          frames with tracing on (an in-process sink that
**                          drops the bytes), stacks off and at depth 32,
**                          alternating repetition by repetition: the
**                          difference is what a stack adds to an event
**   symbolize              first call (module list + DWARF load), cold (new
**                          pc, module loaded), warm (cached)
**
** Each figure is the median of REPS runs; ns per operation. Output: markdown
** table rows on stdout (run.sh adds the header and machine information).
** Usage: bench_stack [--quick]
*/
#include "bench_nofp.h"
#include "internal/stack.h"
#include "internal/trace.h"
#include <gort/trace.h>

#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))
#define BARRIER() __asm__ volatile("" ::: "memory")
#define REC 40
#define REC_SHALLOW 6

NOINLINE int bottom(void);
NOINLINE int api_like(void);
NOINLINE int api_frame(void);
NOINLINE int rec_mixed(int d, int path);
NOINLINE int rec_a(int d, int path);
NOINLINE int rec_b(int d, int path);

enum { ACT_NONE, ACT_CAPTURE, ACT_LOOP, ACT_BACKTRACE_LOOP, ACT_FROM_LOOP, ACT_FRAME_LOOP, ACT_TRACE_LOOP };

static int action, cap_depth, rec_depth = REC;
static long loop_n;
static uintptr_t buf[GR_STACK_MAX_DEPTH];
static void *bt_buf[GR_STACK_MAX_DEPTH];
static volatile long sink;
static int reps = 11;
static long iters = 100000;
/* Thread CPU time: on a shared machine, preemption by other processes does
** not count against the code measured. */
static clockid_t bench_clock = CLOCK_THREAD_CPUTIME_ID;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(bench_clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

NOINLINE int bottom(void)
{
	long s = 0;
	switch (action) {
	case ACT_CAPTURE:
		return _gr_stack_capture(buf, cap_depth, 0);
	case ACT_LOOP:
		for (long i = 0; i < loop_n; i++) {
			s += _gr_stack_capture(buf, cap_depth, 0);
			BARRIER();
		}
		break;
	case ACT_FROM_LOOP:
		for (long i = 0; i < loop_n; i++) {
			s += api_like();
			BARRIER();
		}
		break;
	case ACT_FRAME_LOOP:
		for (long i = 0; i < loop_n; i++) {
			s += api_frame();
			BARRIER();
		}
		break;
	case ACT_TRACE_LOOP:
		for (long i = 0; i < loop_n; i++) {
			gort_trace_region_begin(0, "bench");
			gort_trace_region_end(0, "bench");
		}
		break;
	case ACT_BACKTRACE_LOOP:
		for (long i = 0; i < loop_n; i++) {
			s += backtrace(bt_buf, cap_depth);
			BARRIER();
		}
		break;
	default:
		break;
	}
	sink = s;
	return (int)s;
}


/* The tracer's call since the repeat records: from its own frame, with a
** token (a repeated stack is neither walked nor copied). */
NOINLINE int api_frame(void)
{
	uint64_t tok;
	int n = _gr_stack_capture_frame(__builtin_frame_address(0), buf, cap_depth, &tok);
	BARRIER();
	return n < 0 ? -n + (int)(tok & 1) : n;
}

/* The tracer's call before: an API function captures from its own saved frame. */
NOINLINE int api_like(void)
{
	uintptr_t *f = __builtin_frame_address(0);
	int n = _gr_stack_capture_from((void *)f[0], f[1], buf, cap_depth);
	BARRIER();
	return n;
}

NOINLINE int rec_a(int d, int path)
{
	int r;
	if (d == 0)
		return bottom();
	if ((path >> (d & 31)) & 1)
		r = rec_b(d - 1, path);
	else
		r = rec_a(d - 1, path);
	BARRIER();
	return r + 1;
}

NOINLINE int rec_b(int d, int path)
{
	int r;
	if (d == 0)
		return bottom() + 1;
	if ((path >> (d & 31)) & 1)
		r = rec_a(d - 1, path);
	else
		r = rec_b(d - 1, path);
	BARRIER();
	return r + 2;
}

/* Every 4th frame goes through bn_nofp_step (no frame pointer). */
NOINLINE int rec_mixed(int d, int path)
{
	int r;
	if (d == 0)
		return bottom();
	if (d % 4 == 0)
		r = bn_nofp_step(rec_mixed, d, path);
	else
		r = rec_mixed(d - 1, path);
	BARRIER();
	return r + 1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double g_min;   /* minimum of the last median() input */

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	g_min = v[0];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median ns per capture of a loop at the bottom of fn's recursion. */
static double same_path(int (*fn)(int, int), int act, int depth)
{
	double v[64];
	action = act;
	cap_depth = depth;
	loop_n = iters;
	fn(rec_depth, 0);    /* warm the rule cache */
	for (int r = 0; r < reps; r++) {
		uint64_t t0 = now_ns();
		fn(rec_depth, 0);
		v[r] = (double)(now_ns() - t0) / (double)iters;
	}
	return median(v, reps);
}

/* Median ns per capture over varying paths: each iteration descends a
** different path and captures once; a run of the same descents without the
** capture is timed right after and subtracted (median of the differences). */
static double varying_paths(int depth)
{
	double v[64];
	long n = iters / 8;
	int nrep = reps * 3;
	cap_depth = depth;
	for (int r = 0; r < nrep; r++) {
		double t[2];
		for (int with = 1; with >= 0; with--) {
			action = with ? ACT_CAPTURE : ACT_NONE;
			uint64_t t0 = now_ns();
			for (long i = 0; i < n; i++)
				rec_a(REC, (int)((uint32_t)(i + r * n) * 2654435761u));
			t[with] = (double)(now_ns() - t0) / (double)n;
		}
		v[r] = t[1] - t[0];
	}
	return median(v, nrep);
}

/* One table row: the median and, for reference on a noisy machine, the
** minimum of the repetitions (the cost without interference). */
static void row(const char *what, const char *mode, double ns)
{
	printf("| %s | %s | %.1f | %.1f |\n", what, mode, ns, g_min);
}

static void bench_symbolize(void)
{
	enum { NPC = 2000 };
	static uintptr_t pcs[NPC];
	const char *f;
	/* pcs in libc and in this program, each distinct */
	for (int i = 0; i < NPC; i++)
		pcs[i] = (i % 2 ? (uintptr_t)&printf : (uintptr_t)&qsort) + (uintptr_t)(i * 13 + 1);
	uint64_t t0 = now_ns();
	_gr_stack_symbolize((uintptr_t)&rec_a + 1, &f, NULL, NULL);
	double first = (double)(now_ns() - t0);
	t0 = now_ns();
	_gr_stack_symbolize(pcs[0], &f, NULL, NULL);
	double first_libc = (double)(now_ns() - t0);
	double cold[64], warm[64];
	int nrep = reps < 5 ? reps : 5;
	int per = NPC / nrep;
	for (int r = 0; r < nrep; r++) {
		t0 = now_ns();
		for (int i = 1 + r * per; i < (r + 1) * per && i < NPC; i++)
			_gr_stack_symbolize(pcs[i], &f, NULL, NULL);
		cold[r] = (double)(now_ns() - t0) / (per - 1);
	}
	for (int r = 0; r < reps; r++) {
		t0 = now_ns();
		for (int k = 0; k < 10; k++)
			for (int i = 0; i < NPC; i++)
				_gr_stack_symbolize(pcs[i], &f, NULL, NULL);
		warm[r] = (double)(now_ns() - t0) / (10.0 * NPC);
	}
	g_min = first;
	row("symbolize: first call (reads module list, this program's DWARF)", _gr_stack_symbolizer_name(), first);
	g_min = first_libc;
	row("symbolize: first pc in libc (its symbol table)", _gr_stack_symbolizer_name(), first_libc);
	row("symbolize: cold pc (module already loaded), per pc", _gr_stack_symbolizer_name(), median(cold, nrep));
	row("symbolize: warm pc (cached), per pc", _gr_stack_symbolizer_name(), median(warm, reps));
}

static int drop_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
}

/* ns per trace event (a region begin/end pair is 2 events) with stacks of
** the given depth, at the bottom of REC frames. */
static double trace_events(const char *depth)
{
	static const gr_trace_sink drop = { drop_write, NULL, NULL, NULL };
	setenv("GORT_TRACE_STACK_DEPTH", depth, 1);
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	if (_gr_trace_start_sink(&drop) != 0) {
		fprintf(stderr, "bench_stack: cannot start tracing\n");
		exit(1);
	}
	double ns = same_path(rec_a, ACT_TRACE_LOOP, 32) / 2;
	g_min /= 2;
	_gr_trace_stop_sink(&drop);
	return ns;
}

/* The repeat records' counters, to stderr (single-case runs for perf). */
static void print_repeat_stats(void)
{
	gr_stack_stats st;
	_gr_stack_get_stats(&st);
	fprintf(stderr, "repeat records: %llu hits, %llu built\n", (unsigned long long)st.repeat_hits,
	        (unsigned long long)st.repeat_built);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
		reps = 5;
		iters = 30000;
	}
	_gr_stack_thread_init();
	if (getenv("BENCH_TRACE_DEPTH")) {   /* for perf record: one case only */
		if (getenv("BENCH_ITERS"))
			iters = atol(getenv("BENCH_ITERS"));
		printf("%.1f\n", trace_events(getenv("BENCH_TRACE_DEPTH")));
		print_repeat_stats();
		return 0;
	}
	if (getenv("BENCH_MIXED_DEPTH")) {   /* for perf record: one case only */
		printf("%.1f\n", same_path(rec_mixed, ACT_LOOP, atoi(getenv("BENCH_MIXED_DEPTH"))));
		print_repeat_stats();
		return 0;
	}
	if (getenv("BENCH_FRAME_DEPTH")) {   /* for perf record: one case only */
		printf("%.1f\n", same_path(rec_a, ACT_FRAME_LOOP, atoi(getenv("BENCH_FRAME_DEPTH"))));
		return 0;
	}
	if (getenv("BENCH_VARYING_MODE")) {   /* for perf stat: one case only */
		_gr_stack_set_fp_only(atoi(getenv("BENCH_VARYING_MODE")));
		printf("%.1f\n", varying_paths(32));
		return 0;
	}
	static const char *const mode_name[] = { "default (fp + CFI check + walk cache)",
	                                         "pure fp walk (Go's, no check)",
	                                         "fp + CFI check, no walk cache" };
	static const int order[] = { 0, 2, 1 };
	printf("| measurement | mode | median ns | min ns |\n|---|---|---|---|\n");
	static const int depths[] = { 8, 16, 32 };
	for (int i = 0; i < 3; i++) {
		for (int o = 0; o < 3; o++) {
			int m = order[o];
			_gr_stack_set_fp_only(m);
			char name[128];
			snprintf(name, sizeof name, "capture depth %d, same path", depths[i]);
			row(name, mode_name[m], same_path(rec_a, ACT_LOOP, depths[i]));
		}
	}
	for (int o = 0; o < 3; o++) {
		int m = order[o];
		_gr_stack_set_fp_only(m);
		row("capture depth 32, varying paths (descent subtracted)", mode_name[m], varying_paths(32));
	}
	for (int o = 0; o < 3; o++) {
		int m = order[o];
		_gr_stack_set_fp_only(m);
		row("capture_from an API frame (the tracer's call), depth 32, same path", mode_name[m],
		    same_path(rec_a, ACT_FROM_LOOP, 32));
	}
	for (int o = 0; o < 3; o++) {
		int m = order[o];
		_gr_stack_set_fp_only(m);
		row("capture_frame with a token (the tracer's call now), depth 32, same path", mode_name[m],
		    same_path(rec_a, ACT_FRAME_LOOP, 32));
	}
	/* A shallow stack captured whole: it ends in libc's start code, which
	** has no frame pointers (as every real stack does). */
	rec_depth = REC_SHALLOW;
	for (int o = 0; o < 3; o++) {
		int m = order[o];
		_gr_stack_set_fp_only(m);
		int got = _gr_stack_capture(buf, 64, 0);
		char name[128];
		snprintf(name, sizeof name, "whole shallow stack (%d frames + libc start code)%s", REC_SHALLOW,
		         m == 1 ? " (stops early: misses libc frames)" : "");
		row(name, mode_name[m], same_path(rec_a, ACT_LOOP, 64));
		(void)got;
	}
	rec_depth = REC;
	for (int o = 0; o < 3; o++) {
		int m = order[o];
		_gr_stack_set_fp_only(m);
		row(m == 1 ? "capture depth 32, every 4th frame without fp (WRONG stacks)"
		           : "capture depth 32, every 4th frame without fp (CFI steps)",
		    mode_name[m], same_path(rec_mixed, ACT_LOOP, 32));
	}
	_gr_stack_set_fp_only(0);
	row("glibc backtrace() depth 32, same path (reference)", "libgcc DWARF unwinder",
	    same_path(rec_a, ACT_BACKTRACE_LOOP, 32));
	bench_symbolize();   /* first: tracing symbolizes at stop */
	/* Stacks off and on alternate repetition by repetition (a trace each),
	** so that a disturbance of the shared machine hits both alike; the
	** difference is the median of the per-repetition differences. */
	double off[64], on[64], dif[64];
	int treps = reps < 9 ? 9 : reps, saved = reps;
	reps = 1;
	for (int r = 0; r < treps; r++) {
		off[r] = trace_events("0");
		on[r] = trace_events("32");
		dif[r] = on[r] - off[r];
	}
	reps = saved;
	row("tracer: region begin/end event, 40 frames deep, stacks off", "tracing on, in-process sink",
	    median(off, treps));
	row("tracer: region begin/end event, 40 frames deep, stacks depth 32", "tracing on, in-process sink",
	    median(on, treps));
	row("tracer: what the depth-32 stack adds per event (median of per-repetition differences)",
	    "tracing on, in-process sink", median(dif, treps));
	gr_stack_stats st;
	_gr_stack_get_stats(&st);
	fprintf(stderr, "cfi rules parsed: %llu, symbolizer: %s\n",
	        (unsigned long long)st.cfi_lookups, _gr_stack_symbolizer_name());
	return 0;
}
