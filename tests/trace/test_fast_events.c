/*
** tests/trace/test_fast_events.c: the annotation fast path (tracing on,
** stacks off) writes events whose fields fit in one or two bytes with single
** 8-byte stores and everything else through the general varint writer. This
** drives both sides of every size test: deltas of one, two and three or more
** bytes (events back to back, a short spin, a sleep), task ids below and at
** or above 128 (up to 2^40), GoUnblock/GoStart sequence numbers that cross
** the one-, two- and three-byte varint boundaries (128, 16384, and beyond
** 2^21 is out of reach of a test: the general writer covers it). The trace is
** read back with gort's parser (every annotation's task id and strings, the
** number of unblocks) and checked by Go's validator.
*/
#include "testhelper.h"
#include "trace_util.h"

#include <gort/trace.h>
#include <gort/traceparse.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { PAIRS = 20000, NTASK = 8 };

static const uint64_t tasks[NTASK] = { 0, 1, 127, 128, 300, 16384, 1u << 21, (uint64_t)1 << 40 };

static void spin_ns(long ns)
{
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) < ns);
}

static void pause_kind(int i)
{
	if (i % 3 == 1)
		spin_ns(500);        /* a two-byte delta */
	else if (i % 3 == 2)
		spin_ns(40000);      /* three bytes */
}

static void test_fast_events(void)
{
	setenv("GORT_TRACE_STACK_DEPTH", "0", 1);   /* the fast path needs stacks off */
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	const char *path = gort_test_path("fast_events.trace");
	CHECK(gort_trace_start_file(path) == 0);
	for (int i = 0; i < PAIRS; i++) {
		gort_trace_block_begin("sync");
		if (i % 1000 < 6)
			pause_kind(i);
		gort_trace_block_end();
	}
	for (int r = 0; r < 3; r++) {
		for (int i = 0; i < NTASK; i++) {
			gort_trace_region_begin(tasks[i], "fast-region");
			pause_kind(r);
			gort_trace_log(tasks[i], "fast-category", "fast-message");
			pause_kind(r);
			gort_trace_region_end(tasks[i], "fast-region");
		}
	}
	CHECK(gort_trace_stop() == 0);

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc, begins = 0, ends = 0, logs = 0, unblocks = 0;
	while (r && (rc = gort_tp_next(r, &ev)) > 0) {
		if (ev->kind == GORT_TP_REGION_BEGIN || ev->kind == GORT_TP_REGION_END) {
			int *n = ev->kind == GORT_TP_REGION_BEGIN ? &begins : &ends;
			uint64_t want = tasks[*n % NTASK];
			CHECKF(ev->u.region.task == want, "region %d: task %llu, want %llu", *n,
			       (unsigned long long)ev->u.region.task, (unsigned long long)want);
			CHECK(ev->u.region.type.len == 11 && memcmp(ev->u.region.type.ptr, "fast-region", 11) == 0);
			(*n)++;
		} else if (ev->kind == GORT_TP_LOG) {
			uint64_t want = tasks[logs % NTASK];
			CHECKF(ev->u.log.task == want, "log %d: task %llu, want %llu", logs,
			       (unsigned long long)ev->u.log.task, (unsigned long long)want);
			CHECK(ev->u.log.category.len == 13 && memcmp(ev->u.log.category.ptr, "fast-category", 13) == 0);
			CHECK(ev->u.log.message.len == 12 && memcmp(ev->u.log.message.ptr, "fast-message", 12) == 0);
			logs++;
		} else if (ev->kind == GORT_TP_STATE_TRANSITION && ev->u.transition.resource == GORT_TP_RES_GOROUTINE &&
		           ev->u.transition.from == GORT_TP_G_WAITING && ev->u.transition.to == GORT_TP_G_RUNNABLE) {
			unblocks++;
		}
	}
	CHECKF(r && rc == 0, "parse: %s", r ? gort_tp_error(r) : "no reader");
	CHECKF(begins == 3 * NTASK && ends == 3 * NTASK && logs == 3 * NTASK, "%d begins, %d ends, %d logs", begins,
	       ends, logs);
	CHECKF(unblocks == PAIRS, "%d unblocks, want %d", unblocks, PAIRS);
	gort_tp_close(r);
	close(fd);

	tu_validate(path);
}

int main(void)
{
	RUN(test_fast_events);
	return gort_test_summary();
}
