/*
** tests/arena/test_arena_prefault.c: the background thread's prefaulted
** chunks (GORT_ARENA_PREFAULT). Run as `test_arena_prefault on` (the variable
** set to 1 before the first arena) and `test_arena_prefault off` (set to 0).
**
** on:  a thread that keeps taking fresh chunks gets one faulted in by the
**      background thread (stats.chunks_prefaulted), the chunk is zero and
**      live, it faults after the arena is freed like any full chunk, and
**      gort_arena_trim gives it back (ready_bytes 0).
** off: no chunk is ever prefaulted.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena/util.h"
#include "testhelper.h"

#define OBJ ((size_t)64 << 10)

#if defined(__SANITIZE_ADDRESS__)
#define GR_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GR_TEST_ASAN 1
#endif
#endif
#ifndef GR_TEST_ASAN
#define GR_TEST_ASAN 0
#endif

static gort_arena_stats stats(void)
{
	gort_arena_stats s;
	gort_arena_stats_get(&s);
	return s;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Allocate until the arena moves to a new chunk n times; returns the last object. */
static unsigned char *fill_chunks(gort_arena *a, int n)
{
	unsigned char *p = gort_arena_alloc(a, OBJ, 16);
	uintptr_t c = p ? chunk_of(p) : 0;
	while (p && n > 0) {
		p = gort_arena_alloc(a, OBJ, 16);
		if (p && chunk_of(p) != c) {
			c = chunk_of(p);
			n--;
		}
	}
	return p;
}

static unsigned char *stale;
static void read_stale(void *arg)
{
	(void)arg;
	volatile unsigned char v = *stale;
	(void)v;
}

static void prefault_on(void)
{
	gort_arena *a = gort_arena_new();
	CHECK(fill_chunks(a, 3) != NULL);   /* three fresh chunks in a row: one is wanted */
	gort_arena_stats s0 = stats();
	for (int i = 0; i < 2000 && s0.ready_bytes < GORT_ARENA_CHUNK_SIZE; i++) {
		nap_ms(10);
		s0 = stats();
	}
	CHECKF(s0.ready_bytes >= GORT_ARENA_CHUNK_SIZE, "no chunk was prefaulted in 20 s (ready %llu)",
	       (unsigned long long)s0.ready_bytes);
	CHECK(s0.ready_bytes <= s0.ready_limit);
	/* The next chunk the arena takes is the prefaulted one: zero, live. */
	unsigned char *first = fill_chunks(a, 1);
	CHECK(first != NULL);
	if (!first)
		return;
	gort_arena_stats s1 = stats();
	CHECKF(s1.chunks_prefaulted == s0.chunks_prefaulted + 1, "prefaulted %llu -> %llu",
	       (unsigned long long)s0.chunks_prefaulted, (unsigned long long)s1.chunks_prefaulted);
	CHECK(gort_arena_contains(first));
	int zero = 1;
	uintptr_t c = chunk_of(first);
	for (unsigned char *p = first; p && chunk_of(p) == c; p = gort_arena_alloc(a, OBJ, 16)) {
		if (!all_zero(p, OBJ))
			zero = 0;
		memset(p, 0x5a, OBJ);
		stale = p;
	}
	CHECKF(zero, "prefaulted chunk not zero");
	/* That chunk is full now: after the free it faults like any other. */
	gort_arena_free(a);
	CHECK(!gort_arena_contains(stale));
	gort_test_child ch;
	CHECK(gort_test_fork(read_stale, NULL, &ch) == 0);
#if GR_TEST_ASAN
	/* ASan reports the poisoned read before the fault can happen. */
	CHECKF(strstr(ch.err, "use-after-poison") != NULL, "no ASan report: %s", ch.err);
#else
	CHECKF(ch.signaled && ch.signo == SIGSEGV, "reading a freed prefaulted chunk did not fault");
	CHECKF(strstr(ch.err, "use-after-free") != NULL, "no report: %s", ch.err);
#endif
	gort_arena_trim();
	gort_arena_stats s2 = stats();
	CHECKF(s2.ready_bytes == 0, "trim left %llu ready bytes", (unsigned long long)s2.ready_bytes);
}

static void prefault_off(void)
{
	gort_arena *a = gort_arena_new();
	CHECK(fill_chunks(a, 6) != NULL);
	nap_ms(200);
	gort_arena_stats s = stats();
	CHECK(s.chunks_prefaulted == 0);
	CHECK(s.ready_bytes == 0);
	gort_arena_free(a);
	CHECK(stats().chunks_prefaulted == 0);
}

int main(int argc, char **argv)
{
	int off = argc > 1 && strcmp(argv[1], "off") == 0;
	setenv("GORT_ARENA_PREFAULT", off ? "0" : "1", 1);
	if (off)
		RUN(prefault_off);
	else
		RUN(prefault_on);
	return gort_test_summary();
}
