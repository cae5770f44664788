/*
** bench/trace/bench_trace.c: cost and size of trace events.
**
** For each operation (region begin/end pair, log, block/unblock pair) with
** 1 or 2 threads, tracing off or on (stacks off or GORT_TRACE_STACK_DEPTH
** deep), prints one line:
**   op threads mode ns_per_event bytes_per_event
** Tracing on uses an in-process sink that only counts bytes (no I/O), so the
** figures are the cost of producing the trace. Usage:
**   bench_trace [iterations] [repetitions]   (medians over repetitions)
**   bench_trace iterations 1 region|log|block|floor
**       one run of that operation, 1 thread, tracing on without stacks,
**       after an untimed warm-up run of 100000 iterations: for instruction
**       counts (valgrind --tool=callgrind at two iteration counts; the
**       difference / events = instructions per event) and run.sh --before.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <gort/trace.h>
#include "internal/trace.h"

static _Atomic uint64_t sink_bytes;

static int count_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	(void)p;
	atomic_fetch_add(&sink_bytes, n);
	return 0;
}

static const gr_trace_sink counter = { count_write, NULL, NULL, NULL };

/* CPU time of the calling thread: on a shared machine wall time mostly
** measures preemption by other processes. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum op { OP_REGION, OP_LOG, OP_BLOCK, OP_FLOOR, OP_COUNT };
static const char *op_name[] = { "region begin/end", "log", "block/unblock",
                                 "floor: TSC read + varint event into a TLS buffer" };
static const int op_events[] = { 2, 1, 3, 1 };   /* events written per operation */

/* The physical floor of an event: read the clock, write type + dt + three
** one-byte arguments into a thread-local buffer. */
static __thread uint8_t floor_buf[1 << 16];
static __attribute__((noinline)) void floor_loop(long iters)
{
	size_t pos = 0;
	uint64_t last = 0;
	for (long i = 0; i < iters; i++) {
#if defined(__x86_64__)
		uint64_t t = __rdtsc();
#else
		uint64_t t = now_ns();
#endif
		uint64_t dt = t - last;
		last = t;
		if (pos > sizeof floor_buf - 32)
			pos = 0;
		uint8_t *p = floor_buf + pos;
		*p++ = 42;
		while (dt >= 0x80) {
			*p++ = (uint8_t)(dt | 0x80);
			dt >>= 7;
		}
		*p++ = (uint8_t)dt;
		*p++ = 0;
		*p++ = 1;
		*p++ = 2;
		pos = (size_t)(p - floor_buf);
	}
	__asm__ volatile("" : : "r"(floor_buf) : "memory");
}

typedef struct run {
	enum op op;
	long iters;
	pthread_barrier_t *bar;
	uint64_t ns;
} run;

static void *body(void *arg)
{
	run *r = arg;
	gort_trace_thread_name("bench");
	gort_trace_log(0, "bench", "warm-up");   /* thread entry outside the timing */
	pthread_barrier_wait(r->bar);
	uint64_t t0 = now_ns();
	switch (r->op) {
	case OP_REGION:
		for (long i = 0; i < r->iters; i++) {
			gort_trace_region_begin(0, "region");
			gort_trace_region_end(0, "region");
		}
		break;
	case OP_LOG:
		for (long i = 0; i < r->iters; i++)
			gort_trace_log(0, "category", "message");
		break;
	case OP_BLOCK:
		for (long i = 0; i < r->iters; i++) {
			gort_trace_block_begin("sync");
			gort_trace_block_end();
		}
		break;
	case OP_FLOOR:
		floor_loop(r->iters);
		break;
	default:
		break;
	}
	r->ns = now_ns() - t0;
	return NULL;
}

/* One measurement: ns per event (mean over threads) and bytes per event. */
static void measure(enum op op, int threads, int mode, long iters, double *ns_ev, double *b_ev)
{
	if (mode > 0) {
		setenv("GORT_TRACE_STACK_DEPTH", mode == 2 ? "32" : "0", 1);
		setenv("GORT_TRACE_CPU_HZ", "0", 1);
		atomic_store(&sink_bytes, 0);
		if (_gr_trace_start_sink(&counter) != 0) {
			fprintf(stderr, "cannot start tracing\n");
			exit(1);
		}
	}
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, (unsigned)threads);
	run r[8];
	pthread_t th[8];
	for (int i = 0; i < threads; i++) {
		r[i] = (run){ op, iters, &bar, 0 };
		pthread_create(&th[i], NULL, body, &r[i]);
	}
	double sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		sum += (double)r[i].ns;
	}
	pthread_barrier_destroy(&bar);
	double events = (double)iters * op_events[op];
	*ns_ev = sum / threads / events;
	*b_ev = 0;
	if (mode > 0) {
		_gr_trace_stop_sink(&counter);
		*b_ev = (double)atomic_load(&sink_bytes) / (events * threads);
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	if (reps > 32)
		reps = 32;
	static const char *mode_name[] = { "off", "on", "on+stacks" };
	if (argc > 3) {
		static const char *short_name[] = { "region", "log", "block", "floor" };
		for (int op = 0; op < OP_COUNT; op++) {
			if (strcmp(argv[3], short_name[op]) == 0) {
				double ns, by;
				/* a first, untimed run of fixed length maps the buffers and
				** takes the thread-entry paths, as earlier repetitions do
				** in the full run (icount.sh's difference cancels it) */
				measure((enum op)op, 1, op == OP_FLOOR ? 0 : 1, 100000, &ns, &by);
				measure((enum op)op, 1, op == OP_FLOOR ? 0 : 1, iters, &ns, &by);
				printf("%s | 1 | %s | %.2f | %.2f\n", op_name[op],
				       op == OP_FLOOR ? "-" : "on", ns, by);
				return 0;
			}
		}
		fprintf(stderr, "bench_trace: unknown operation %s\n", argv[3]);
		return 2;
	}
	printf("# op | threads | tracing | ns/event (median) | bytes/event (median)\n");
	for (int op = 0; op < OP_COUNT; op++) {
		for (int threads = 1; threads <= 2; threads++) {
			for (int mode = 0; mode < (op == OP_FLOOR ? 1 : 3); mode++) {
				double ns[32], by[32];
				long n = mode == 2 ? iters / 4 : iters;
				for (int r = 0; r < reps; r++)
					measure((enum op)op, threads, mode, n, &ns[r], &by[r]);
				qsort(ns, (size_t)reps, sizeof ns[0], cmp);
				qsort(by, (size_t)reps, sizeof by[0], cmp);
				printf("%s | %d | %s | %.2f | %.2f\n", op_name[op], threads,
				       op == OP_FLOOR ? "-" : mode_name[mode],
				       ns[reps / 2], by[reps / 2]);
				fflush(stdout);
			}
		}
	}
	return 0;
}
