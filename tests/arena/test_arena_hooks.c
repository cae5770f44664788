/*
** tests/arena/test_arena_hooks.c: the arena's side of the cross-module hooks
** (src/internal/hooks.h): _gr_heap_changed is called with the mapped arena
** bytes when chunks are mapped or faulted, _gr_arena_live_bytes agrees with
** the stats, and a use-after-free report calls the crash hook (flight
** recorder) before the process dies. Linked statically: the hooks are
** internal symbols. Faults on purpose: no-asan.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arena/util.h"
#include "internal/hooks.h"
#include "testhelper.h"

static uint64_t last_live;
static int calls;
static void heap_hook(uint64_t live)
{
	last_live = live;
	calls++;
}

static void heap_hook_called(void)
{
	atomic_store(&_gr_heap_hook, heap_hook);
	calls = 0;
	gort_arena *a = gort_arena_new();
	for (int i = 0; i < 30; i++)
		CHECK(gort_arena_alloc(a, 1 << 20, 16) != NULL);
	CHECK(gort_arena_alloc(a, (size_t)5 << 20, 16) != NULL);   /* large */
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	CHECKF(calls > 0, "heap hook never called");
	CHECK(last_live == st.live_bytes);
	CHECK(_gr_arena_live_bytes() == st.live_bytes);
	CHECK(st.live_bytes >= ((uint64_t)30 << 20));
	int before = calls;
	gort_arena_free(a);
	gort_arena_trim();
	gort_arena_stats_get(&st);
	CHECKF(calls > before, "no call when chunks were faulted");
	CHECK(last_live == st.live_bytes && _gr_arena_live_bytes() == st.live_bytes);
	CHECKF(st.live_bytes == 0, "live bytes %llu after free + trim", (unsigned long long)st.live_bytes);
	atomic_store(&_gr_heap_hook, (_gr_heap_hook_fn)0);
}

static void crash_hook(int signo)
{
	char m[] = "crash hook: signal 00\n";
	m[19] = (char)('0' + signo / 10);
	m[20] = (char)('0' + signo % 10);
	(void)!write(2, m, sizeof m - 1);
}

static void child_uaf(void *arg)
{
	(void)arg;
	atomic_store(&_gr_crash_hook, crash_hook);
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_STRICT);
	int *p = GORT_NEW(a, int);
	gort_arena_free(a);
	*(volatile int *)p = 1;
}

static void crash_hook_on_uaf(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_uaf, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGSEGV);
	const char *line = strstr(c.err, "gort: use-after-free: write of");
	const char *hook = strstr(c.err, "crash hook: signal 11");
	CHECKF(line && hook && hook > line, "stderr: %s", c.err);
}

int main(void)
{
	RUN(heap_hook_called);
	RUN(crash_hook_on_uaf);
	return gort_test_summary();
}
