/*
** tests/arena/test_arena_slide.c: sliding (docs/arena.md, "Sliding").
**
** A chain of small arenas, each continuing in the previous one's tail, moves
** the pages of the freed ones ahead of its cursor: every allocation must
** still be zero although the moved pages held the freed arenas' bytes, the
** stats must show the bytes moved, and a chunk's accessible memory must stay
** near GORT_ARENA_SLIDE instead of growing to the whole chunk. While another
** thread keeps taking chunks, nothing slides (the gate against TLB-shootdown
** interrupts); once it stops, sliding resumes. The use-after-free side (the
** head faults) is in test_arena_uaf.c.
*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena/util.h"
#include "testhelper.h"

#define LINK_BYTES ((size_t)48 << 10)

static uint64_t slid(void)
{
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	return st.slid_bytes;
}

static uint64_t live(void)
{
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	return st.live_bytes;
}

/* n arenas in a row, each one allocation of LINK_BYTES (plus a few small
** ones) filled with a pattern, then freed. Counts non-zero allocations. */
static int chain(int n)
{
	int dirty = 0;
	for (int i = 0; i < n; i++) {
		gort_arena *a = gort_arena_new();
		CHECK(a != NULL);
		if (!a)
			return -1;
		unsigned char *p = gort_arena_alloc(a, LINK_BYTES, 64);
		unsigned char *q = gort_arena_alloc(a, 100 + (size_t)i % 300, 8);
		if (!p || !q || !all_zero(p, LINK_BYTES) || !all_zero(q, 100 + (size_t)i % 300))
			dirty++;
		if (p)
			memset(p, 0xa5, LINK_BYTES);
		if (q)
			memset(q, 0x5a, 100 + (size_t)i % 300);
		gort_arena_free(a);
	}
	return dirty;
}

/* Pages move with mremap(MREMAP_DONTUNMAP) (Linux 5.7; not under valgrind):
** without it nothing slides or is recycled, and the chain must still work. */
static bool kernel_moves(void)
{
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	return st.chunks_recycled > 0 || st.slid_bytes > 0;
}

static void slides_and_zeroes(void)
{
	uint64_t s0 = slid();
	/* 1000 x ~48 KiB: about six chunks' worth through one chain. */
	int dirty = chain(1000);
	uint64_t s1 = slid();
	CHECKF(dirty == 0, "%d allocations were not zero", dirty);
	if (!kernel_moves())
		SKIP("the kernel does not move pages here (MREMAP_DONTUNMAP)");
	CHECKF(s1 - s0 >= ((uint64_t)16 << 20), "slid only %llu bytes over ~47 MiB of chained arenas",
	       (unsigned long long)(s1 - s0));
	/* The chain's chunk holds about GORT_ARENA_SLIDE of pages plus what the
	** live arena uses, not a whole chunk (plus the ready list's bound). */
	gort_arena *a = gort_arena_new();
	CHECK(a != NULL);
	uint64_t held = live();
	gort_arena_free(a);
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	CHECKF(held <= st.ready_bytes + st.reuse_bytes + ((uint64_t)4 << 20),
	       "live %llu bytes with ready %llu, reuse %llu", (unsigned long long)held,
	       (unsigned long long)st.ready_bytes, (unsigned long long)st.reuse_bytes);
}

static atomic_int peer_state;   /* 0 starting, 1 busy taking chunks, 2 told to stop, 3 stopped */
static _Atomic uint64_t peer_gap_ns;   /* longest time between two of the peer's loops */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *busy_peer(void *arg)
{
	(void)arg;
	uint64_t last = now_ns();
	while (atomic_load(&peer_state) < 2) {
		/* Strict arenas leave no dead head to slide: this thread only takes
		** chunks (two per loop), which is what makes it a peer. */
		gort_arena *a = gort_arena_new_ex(GORT_ARENA_STRICT);
		for (int i = 0; i < 12 && a; i++)
			(void)!gort_arena_alloc(a, (size_t)1 << 20, 64);
		gort_arena_free(a);
		uint64_t t = now_ns();
		if (atomic_load(&peer_state) == 1 && t - last > atomic_load(&peer_gap_ns))
			atomic_store(&peer_gap_ns, t - last);
		last = t;
		int s = 0;
		atomic_compare_exchange_strong(&peer_state, &s, 1);
	}
	atomic_store(&peer_state, 3);
	return NULL;
}

/* Start busy_peer and return once it has taken its first chunks. */
static pthread_t peer_start(void)
{
	pthread_t t;
	atomic_store(&peer_state, 0);
	if (pthread_create(&t, NULL, busy_peer, NULL) != 0)
		abort();
	while (atomic_load(&peer_state) == 0)
		sched_yield();
	atomic_store(&peer_gap_ns, 0);
	return t;
}

static void peer_stop(pthread_t t)
{
	atomic_store(&peer_state, 2);
	pthread_join(t, NULL);
}

static void no_slide_while_peer_busy(void)
{
	if (!kernel_moves())
		SKIP("the kernel does not move pages here (MREMAP_DONTUNMAP)");
	pthread_t t = peer_start();
	uint64_t s0 = slid();
	int dirty = chain(400);
	uint64_t s1 = slid();
	peer_stop(t);
	CHECKF(dirty == 0, "%d allocations were not zero", dirty);
	/* The gate counts a thread as a peer for 100 ms after it took a chunk:
	** only a peer that never paused that long (sanitizer builds on a loaded
	** machine can) must have held every slide back. */
	uint64_t gap = atomic_load(&peer_gap_ns);
	CHECKF(s1 == s0 || gap > 50000000u, "slid %llu bytes while another thread took chunks (its longest pause %llu us)",
	       (unsigned long long)(s1 - s0), (unsigned long long)(gap / 1000));
	/* The peer is idle now: after the gate's window, the chain slides again. */
	struct timespec ts = { 0, 250 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	dirty = chain(400);
	CHECKF(dirty == 0, "%d allocations were not zero", dirty);
	CHECKF(slid() > s1, "no sliding after the peer stopped");
}

/* Many arenas alive at once, created, grown and freed in random order, so
** that chunks pass between them through the reuse list while heads slide:
** every allocation must be zero, and every live arena's bytes must stay as
** written until it is freed (a slide must never take a live arena's page). */
enum { LIVE_ARENAS = 8, RECS = 48 };
typedef struct { unsigned char *p; size_t n; unsigned char v; } rec;

static bool recs_intact(const rec *r, int n)
{
	for (int i = 0; i < n; i++)
		for (size_t k = 0; k < r[i].n; k += 61)
			if (r[i].p[k] != r[i].v || r[i].p[r[i].n - 1] != r[i].v)
				return false;
	return true;
}

static void random_arenas_keep_their_bytes(void)
{
	gort_arena *a[LIVE_ARENAS] = { 0 };
	static rec r[LIVE_ARENAS][RECS];
	int nr[LIVE_ARENAS] = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15u, s0 = slid();
	int dirty = 0, broken = 0;
	for (int step = 0; step < 60000; step++) {
		int i = (int)(rng_next(&seed) % LIVE_ARENAS);
		unsigned op = (unsigned)(rng_next(&seed) % 16);
		if (!a[i]) {
			a[i] = gort_arena_new();
			nr[i] = 0;
		} else if (op == 0 || nr[i] == RECS) {
			broken += !recs_intact(r[i], nr[i]);
			gort_arena_free(a[i]);
			a[i] = NULL;
		} else {
			size_t n = 16 + (size_t)(rng_next(&seed) % (op < 12 ? 4096 : 96 << 10));
			unsigned char *p = gort_arena_alloc(a[i], n, 16);
			CHECK(p != NULL);
			if (!p)
				break;
			dirty += !all_zero(p, n);
			unsigned char v = (unsigned char)(1 + step % 251);
			memset(p, v, n);
			r[i][nr[i]++] = (rec){ p, n, v };
		}
	}
	for (int i = 0; i < LIVE_ARENAS; i++)
		if (a[i]) {
			broken += !recs_intact(r[i], nr[i]);
			gort_arena_free(a[i]);
		}
	CHECKF(dirty == 0, "%d allocations were not zero", dirty);
	CHECKF(broken == 0, "%d arenas found their bytes changed at free", broken);
	if (kernel_moves())
		CHECKF(slid() > s0, "nothing slid: the test no longer exercises sliding");
}

static void child_chain_slides(void *arg)
{
	(void)arg;
	uint64_t s0 = slid();
	if (chain(400) != 0 || slid() == s0)
		_exit(1);
}

/* A child forked while another thread takes chunks has only the forking
** thread: nothing holds it back from sliding. */
static void fork_child_has_no_peers(void)
{
#ifdef GORT_TEST_UNDER_TSAN
	SKIP("ThreadSanitizer does not support threads started after fork()");
#endif
	if (!kernel_moves())
		SKIP("the kernel does not move pages here (MREMAP_DONTUNMAP)");
	pthread_t t = peer_start();
	gort_test_child out;
	int r = gort_test_fork(child_chain_slides, NULL, &out);
	peer_stop(t);
	CHECK(r == 0);
	CHECKF(!out.signaled && out.exit_code == 0, "child: signal %d, exit %d: %s", out.signo, out.exit_code,
	       out.err);
}

int main(void)
{
	RUN(slides_and_zeroes);
	RUN(no_slide_while_peer_busy);
	RUN(fork_child_has_no_peers);
	RUN(random_arenas_keep_their_bytes);
	return gort_test_summary();
}
