/*
** tests/trace/test_threads.c: threads and generations, checked by Go 1.22's
** validator: 8+ threads created and exiting mid-generation, tasks that begin
** on one thread and end on another, a thread blocked (and one in a syscall)
** across several generation boundaries, runs with 5+ generations, forced
** boundaries, and threads that outlive a trace into the next one.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gort/trace.h>
#include "internal/trace.h"
#include "testhelper.h"
#include "trace_util.h"

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* ---- 8+ short-lived threads, across generations, tasks handed over ---- */

static _Atomic uint64_t handoff[64];

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	char name[32];
	snprintf(name, sizeof name, "worker-%d", id);
	gort_trace_thread_name(name);
	uint64_t task = gort_trace_task_begin(0, "job");
	for (int i = 0; i < 50; i++) {
		gort_trace_region_begin(task, "step");
		gort_trace_logf(task, "progress", "worker %d step %d", id, i);
		if (i % 10 == 0) {
			gort_trace_block_begin("sleep");
			sleep_ms(1);
			gort_trace_block_end();
		}
		gort_trace_region_end(task, "step");
	}
	/* The next worker ends this task: tasks across threads. */
	atomic_store(&handoff[id], task);
	if (id > 0) {
		uint64_t prev;
		while ((prev = atomic_load(&handoff[id - 1])) == 0)
			sleep_ms(1);
		gort_trace_task_end(prev);
	}
	return NULL;
}

static void test_many_threads_many_generations(void)
{
	const char *path = gort_test_path("threads.trace");
	_gr_trace_set_period(5 * 1000 * 1000);   /* 5 ms */
	CHECK(gort_trace_start_file(path) == 0);
	gort_trace_thread_name("main");
	memset(handoff, 0, sizeof handoff);
	enum { WAVES = 4, PER = 6 };
	for (int w = 0; w < WAVES; w++) {
		pthread_t th[PER];
		for (int i = 0; i < PER; i++)
			pthread_create(&th[i], NULL, worker, (void *)(intptr_t)(w * PER + i));
		for (int i = 0; i < PER; i++)
			pthread_join(th[i], NULL);
		sleep_ms(7);
		/* the 5 ms timer cuts waves mid-way when the machine keeps up; a
		** forced boundary per wave makes 5+ generations certain (a slow
		** run, e.g. under TSan on a loaded machine, may see few ticks) */
		CHECK(_gr_trace_advance_generation() == 0);
	}
	gort_trace_task_end(atomic_load(&handoff[WAVES * PER - 1]));
	CHECK(gort_trace_stop() == 0);
	_gr_trace_set_period(0);
	tu_validate(path);
	long created = tu_count(path, "GoCreate ");
	CHECKF(created < 0 || created >= WAVES * PER, "GoCreate: %ld", created);
	long freq = tu_count(path, "Frequency");
	CHECKF(freq < 0 || freq >= 5, "generations: %ld", freq);
}

/* ---- blocked / in a syscall across several boundaries ---- */

static _Atomic int phase;

static void *sleeper(void *arg)
{
	(void)arg;
	gort_trace_thread_name("sleeper");
	gort_trace_region_begin(0, "long-wait");
	gort_trace_block_begin("sync");
	while (atomic_load(&phase) == 0)
		sleep_ms(1);
	gort_trace_block_end();
	gort_trace_region_end(0, "long-wait");
	gort_trace_syscall_begin();
	while (atomic_load(&phase) == 1)
		sleep_ms(1);
	gort_trace_syscall_end();
	gort_trace_log(0, "sleeper", "done");
	/* Exit while blocked: the destructor must unblock before GoDestroy. */
	gort_trace_block_begin("sleep");
	return NULL;
}

static void test_blocked_across_boundaries(void)
{
	const char *path = gort_test_path("blocked.trace");
	atomic_store(&phase, 0);
	CHECK(gort_trace_start_file(path) == 0);
	pthread_t th;
	pthread_create(&th, NULL, sleeper, NULL);
	sleep_ms(5);
	for (int i = 0; i < 4; i++) {
		gort_trace_log(0, "main", "tick");
		CHECK(_gr_trace_advance_generation() == 0);
	}
	atomic_store(&phase, 1);
	sleep_ms(5);
	for (int i = 0; i < 3; i++)
		CHECK(_gr_trace_advance_generation() == 0);   /* empty generations too */
	atomic_store(&phase, 2);
	pthread_join(th, NULL);
	CHECK(gort_trace_stop() == 0);
	tu_validate(path);
	long freq = tu_count(path, "Frequency");
	CHECKF(freq < 0 || freq >= 8, "generations: %ld", freq);
	long st = tu_count(path, "GoStatus");
	CHECKF(st < 0 || st >= 2, "GoStatus: %ld", st);
}

/* ---- threads that live across two traces ---- */

static _Atomic int stop_spin;

static void *spinner(void *arg)
{
	(void)arg;
	gort_trace_thread_name("spinner");
	while (!atomic_load(&stop_spin)) {
		gort_trace_region_begin(0, "spin");
		gort_trace_region_end(0, "spin");
		usleep(200);
	}
	return NULL;
}

static void test_threads_across_traces(void)
{
	atomic_store(&stop_spin, 0);
	pthread_t th[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, spinner, NULL);
	for (int round = 0; round < 3; round++) {
		char name[32];
		snprintf(name, sizeof name, "across-%d.trace", round);
		const char *path = gort_test_path(name);
		CHECK(gort_trace_start_file(path) == 0);
		sleep_ms(15);
		_gr_trace_advance_generation();
		sleep_ms(5);
		CHECK(gort_trace_stop() == 0);
		tu_validate(path);
	}
	atomic_store(&stop_spin, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
}

int main(void)
{
	RUN(test_many_threads_many_generations);
	RUN(test_blocked_across_boundaries);
	RUN(test_threads_across_traces);
	return gort_test_summary();
}
