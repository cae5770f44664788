/*
** tests/flight/test_flight_window.c (label `slow`, ~31 s): the acceptance run
** of issue 6. A program traces for 30 s with a 5 s window and snapshots at
** 10, 20 and 30 s. Each snapshot must be valid under Go's validator, cover at
** least the last 5 s, and hold nothing older than the window plus one
** generation (5 s + 1.25 s: the recorder sets the period to window / 4).
**
** Times are read from the snapshot itself: a marker thread logs
** "fm:<ms>;" every 20 ms, <ms> being CLOCK_MONOTONIC milliseconds since the
** test started; log messages are interned in each generation's string table,
** so the markers a snapshot holds are exactly the ones in its bytes.
** Tolerances (documented, not timing assertions on speed): a marker may be
** late by its 20 ms period plus scheduling delay, and a generation's recorded
** start is its predecessor's delivery time; SLACK_MS covers both.
*/
#include "testhelper.h"
#include "flight_proc.h"
#include "flight_testutil.h"

#include <gort/trace.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WINDOW_MS 5000
#define PERIOD_MS (WINDOW_MS / 4)
#define MARK_MS 20
#define SLACK_MS 400

static struct timespec t0;

static long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
}

static atomic_bool stop;
static void *marker(void *arg)
{
	(void)arg;
	gort_trace_thread_name("marker");
	while (!atomic_load(&stop)) {
		gort_trace_logf(0, "flight-window", "fm:%ld;", now_ms());
		gort_trace_region_begin(0, "tick");
		struct timespec ts = { 0, MARK_MS * 1000000L };
		gort_trace_block_begin("sleep");
		nanosleep(&ts, NULL);
		gort_trace_block_end();
		gort_trace_region_end(0, "tick");
	}
	return NULL;
}

/* Smallest and largest "fm:<ms>;" in the file. */
static bool marker_range(const char *path, long *lo, long *hi)
{
	size_t n;
	unsigned char *b = gort_test_read_file(path, &n);
	if (!b)
		return false;
	*lo = -1;
	*hi = -1;
	for (size_t i = 0; i + 4 < n; i++) {
		if (b[i] != 'f' || b[i + 1] != 'm' || b[i + 2] != ':')
			continue;
		long v = 0;
		size_t j = i + 3;
		while (j < n && b[j] >= '0' && b[j] <= '9')
			v = v * 10 + (b[j++] - '0');
		if (j >= n || b[j] != ';' || j == i + 3)
			continue;
		if (*lo < 0 || v < *lo)
			*lo = v;
		if (v > *hi)
			*hi = v;
	}
	free(b);
	return *lo >= 0;
}

static void test_window_30s(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t0);
	gort_flight_config cfg = { (uint64_t)WINDOW_MS * 1000000ull, 64 << 20 };
	CHECK(gort_flight_start(&cfg) == 0);
	pthread_t t;
	pthread_create(&t, NULL, marker, NULL);
	for (int k = 1; k <= 3; k++) {
		long target = k * 10000;
		while (now_ms() < target) {
			struct timespec ts = { 0, 50 * 1000000L };
			nanosleep(&ts, NULL);
		}
		char name[32];
		snprintf(name, sizeof name, "window%d.trace", k);
		const char *path = gort_test_path(name);
		long before = now_ms();
		CHECK(gort_flight_write_file(path) == 0);
		long after = now_ms();
		long lo = -1, hi = -1;
		CHECKF(marker_range(path, &lo, &hi), "%s: no markers", name);
		printf("snapshot %d at %ld..%ld ms: markers %ld..%ld ms (span %ld ms)\n",
		       k, before, after, lo, hi, hi - lo);
		/* Covers at least the last WINDOW_MS ... */
		CHECKF(lo <= after - WINDOW_MS + MARK_MS + SLACK_MS,
		       "snapshot %d misses the start of the window: oldest marker %ld, taken at %ld",
		       k, lo, before);
		/* ... up to the snapshot (the forced boundary includes them) ... */
		CHECKF(hi >= before - MARK_MS - SLACK_MS, "snapshot %d: newest marker %ld, taken at %ld",
		       k, hi, before);
		/* ... and nothing older than the window plus one generation. */
		CHECKF(lo >= before - (WINDOW_MS + PERIOD_MS) - SLACK_MS,
		       "snapshot %d holds too much: oldest marker %ld, taken at %ld", k, lo, before);
		char msg[4096];
		int v = gort_test_go_validate(path, msg, sizeof msg);
		CHECKF(v == 0 || v == 77, "Go rejects %s: %s", name, msg);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	CHECK(gort_flight_stop() == 0);
}

int main(void)
{
	if (!gort_test_have_go())
		return 77;
	RUN(test_window_30s);
	return gort_test_summary();
}
