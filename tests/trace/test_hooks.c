/*
** tests/trace/test_hooks.c: the tracer's contracts with other modules:
** HeapAlloc from the arena's heap hook (and at start), the preload entry
** _gr_trace_thread_enter with the creator's stack, _gr_trace_thread_internal,
** _gr_trace_now, and CPU samples when the CPU profiler is linked.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gort/trace.h>
#include "internal/hooks.h"
#include "internal/trace.h"
#include "testhelper.h"
#include "trace_util.h"

static void test_clock_monotonic(void)
{
	uint64_t a = _gr_trace_now();
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL);
	uint64_t b = _gr_trace_now();
	/* ticks are nanoseconds: 2 ms later is at least ~1 ms of ticks */
	CHECKF(b > a && b - a >= 1000000 && b - a < 2000000000u, "a=%llu b=%llu",
	       (unsigned long long)a, (unsigned long long)b);
}

static void test_heap_alloc_events(void)
{
	const char *path = gort_test_path("heap.trace");
	CHECK(gort_trace_start_file(path) == 0);
	gort_trace_log(0, "heap", "before");
	_gr_heap_changed(1 << 20);   /* what the arena does when a chunk is mapped */
	_gr_heap_changed(3 << 20);
	CHECK(gort_trace_stop() == 0);
	_gr_heap_changed(5 << 20);   /* no tracer: nobody listens */
	tu_validate(path);
	long n = tu_count(path, "HeapAlloc");
	CHECKF(n < 0 || n == 3, "HeapAlloc: %ld (1 at start + 2)", n);
	long v = tu_count(path, "HeapAlloc dt=[0-9]* heapalloc_value=3145728");
	CHECKF(v < 0 || v == 1, "HeapAlloc 3 MiB: %ld", v);
}

static uintptr_t creator_pcs[4];

static void *entered_thread(void *arg)
{
	(void)arg;
	_gr_trace_thread_enter(creator_pcs, 2);   /* what preload's trampoline does */
	gort_trace_log(0, "entered", "via _gr_trace_thread_enter");
	return NULL;
}

static void test_thread_enter_with_creator_stack(void)
{
	const char *path = gort_test_path("enter.trace");
	CHECK(!_gr_trace_thread_internal());
	CHECK(gort_trace_start_file(path) == 0);
	creator_pcs[0] = (uintptr_t)__builtin_return_address(0);
	creator_pcs[1] = (uintptr_t)&test_thread_enter_with_creator_stack + 1;
	pthread_t th;
	pthread_create(&th, NULL, entered_thread, NULL);
	pthread_join(th, NULL);
	CHECK(!_gr_trace_thread_internal());
	CHECK(gort_trace_stop() == 0);
	tu_validate(path);
	/* The new thread's GoCreate carries a 2-frame stack (the creator's). */
	long n = tu_count(path, "Stack id=[0-9]* nframes=2");
	CHECKF(n < 0 || n >= 1, "2-frame stacks: %ld", n);
}

static int internal_seen;

static void *internal_thread(void *arg)
{
	(void)arg;
	_gr_trace_thread_set_internal();
	internal_seen = _gr_trace_thread_internal();
	gort_trace_log(0, "internal", "must not appear");
	return NULL;
}

static void test_internal_thread_not_traced(void)
{
	const char *path = gort_test_path("internal.trace");
	CHECK(gort_trace_start_file(path) == 0);
	uint64_t d0 = gort_trace_dropped();
	gort_trace_log(0, "main", "here");
	pthread_t th;
	pthread_create(&th, NULL, internal_thread, NULL);
	pthread_join(th, NULL);
	CHECK(internal_seen);
	CHECK(gort_trace_dropped() == d0);   /* ignored, not dropped */
	CHECK(gort_trace_stop() == 0);
	tu_validate(path);
	long n = tu_count(path, "GoCreate ");
	CHECKF(n < 0 || n == 1, "GoCreate: %ld (main only)", n);
}

#if defined(__has_include)
#if __has_include("internal/cpuprof.h")
#define HAVE_CPUPROF 1
#endif
#endif

static void test_cpu_samples(void)
{
#ifndef HAVE_CPUPROF
	SKIP("the CPU profiler (src/stack/cpuprof) is not in this tree");
#else
	const char *path = gort_test_path("cpu.trace");
	setenv("GORT_TRACE_CPU_HZ", "1000", 1);
	CHECK(gort_trace_start_file(path) == 0);
	gort_trace_log(0, "cpu", "spin");
	tu_spin_cpu(200000000L);
	CHECK(gort_trace_stop() == 0);
	unsetenv("GORT_TRACE_CPU_HZ");
	tu_validate(path);
	long n = tu_count(path, "CPUSample ");
	CHECKF(n < 0 || n >= 10, "CPU samples: %ld", n);
#endif
}

int main(void)
{
	RUN(test_clock_monotonic);
	RUN(test_heap_alloc_events);
	RUN(test_thread_enter_with_creator_stack);
	RUN(test_internal_thread_not_traced);
	RUN(test_cpu_samples);
	return gort_test_summary();
}
