/*
** tests/arena/test_arena_uaf.c: death tests. Freed arena memory faults and
** the SIGSEGV handler prints the use-after-free line and the freeing stack;
** every full chunk and large block of a big arena freed at once faults (they
** go back to the OS in runs of adjacent slots); strict mode catches a
** use-after-free in a one-chunk arena; double free and
** calls on a freed handle abort naming the misuse; faults that are not ours
** reach the previous handler; GORT_ARENA_SIGNALS=0 and GORT_ARENA_STRICT=1
** work. Faults on purpose, so labelled no-asan (ASan reports first there).
**
** Invoked with an argument, the program is its own helper: it runs one
** scenario in a fresh process with the environment the parent chose.
*/
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena/util.h"
#include "testhelper.h"

static volatile sig_atomic_t sink;

/* Free a two-chunk arena and return a pointer into its (full) first chunk. */
__attribute__((noinline)) static char *freed_full_chunk_pointer(void)
{
	gort_arena *a = gort_arena_new();
	char *first = gort_arena_alloc(a, 1 << 20, 16);
	for (int i = 0; i < 12; i++)
		(void)!gort_arena_alloc(a, 1 << 20, 16);
	first[10] = 1;
	gort_arena_free(a);
	return first;
}

static void child_read_full(void *arg)
{
	(void)arg;
	char *p = freed_full_chunk_pointer();
	sink = ((volatile char *)p)[16];
}

static void child_write_full(void *arg)
{
	(void)arg;
	char *p = freed_full_chunk_pointer();
	((volatile char *)p)[16] = 7;
}

static void child_read_large(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new();
	char *p = gort_arena_alloc(a, (size_t)5 << 20, 64);
	p[0] = 1;
	gort_arena_free(a);
	sink = ((volatile char *)p)[4 << 20];
}

static void child_strict(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_STRICT);
	int *p = GORT_NEW(a, int);
	*p = 5;
	gort_arena_free(a);
	sink = *(volatile int *)p;
}

static void child_nonstrict_tail(void *arg)
{
	(void)arg;
	/* The documented non-guarantee: a small arena's memory stays mapped. */
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_NONSTRICT);
	int *p = GORT_NEW(a, int);
	gort_arena_free(a);
	sink = *(volatile int *)p;
}

static void child_double_free(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new();
	gort_arena_free(a);
	gort_arena_free(a);
}

static void child_use_freed_handle(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new();
	(void)!gort_arena_alloc(a, 8, 8);
	gort_arena_free(a);
	(void)!gort_arena_alloc(a, 8, 8);
}

static void child_wild_fault(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new();   /* make sure gort's handler is installed */
	(void)!gort_arena_alloc(a, 8, 8);
	sink = *(volatile int *)(uintptr_t)arg;
}

static bool has(const char *hay, const char *needle);

static void child_read_at(void *arg)
{
	sink = *(volatile char *)arg;
}

/* An arena of many full chunks and large blocks, freed at once: the ready
** list takes a few chunks, the rest go back to the OS in runs of adjacent
** slots (one call per run). Every one of them must fault afterwards. */
static void uaf_every_range(void)
{
	enum { N = 24 };
	char *seen[N];
	int n = 0;
	gort_arena *a = gort_arena_new();
	uintptr_t last = 0;
	for (int i = 0; i < 40 && n < N; i++) {
		size_t sz = i % 7 == 3 ? (size_t)9 << 20 : i % 5 == 1 ? (size_t)3 << 20 : (size_t)1 << 20;
		char *p = gort_arena_alloc(a, sz, 16);
		CHECK(p != NULL);
		if (!p)
			break;
		p[sz - 1] = 1;
		if (chunk_of(p) != last || sz > GORT_ARENA_CHUNK_SIZE / 4) {
			last = chunk_of(p);
			seen[n++] = p + sz - 1;
		}
	}
	/* Move on to a chunk none of them is in, so that every one seen is full
	** (or a large block) when the arena is freed. */
	for (;;) {
		char *p = gort_arena_alloc(a, (size_t)1 << 20, 16);
		CHECK(p != NULL);
		if (!p)
			break;
		bool fresh = true;
		for (int i = 0; i < n; i++)
			if (chunk_of(seen[i]) == chunk_of(p))
				fresh = false;
		if (fresh)
			break;
	}
	gort_arena_free(a);
	int alive = 0;
	for (int i = 0; i < n; i++) {
		CHECK(!gort_arena_contains(seen[i]));
		gort_test_child c;
		CHECK(gort_test_fork(child_read_at, seen[i], &c) == 0);
		if (!(c.signaled && c.signo == SIGSEGV && has(c.err, "gort: use-after-free: read of 0x")))
			alive++;
	}
	CHECKF(n > 10, "only %d ranges", n);
	CHECKF(alive == 0, "%d of %d freed ranges did not fault", alive, n);
}

static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

static void uaf_full_chunk_read(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_read_full, NULL, &c) == 0);
	CHECKF(c.signaled && c.signo == SIGSEGV, "status %d", c.status);
	CHECKF(has(c.err, "gort: use-after-free: read of 0x") &&
	       has(c.err, " in arena memory freed by gort_arena_free\n"), "stderr: %s", c.err);
	CHECKF(has(c.err, "freed at:\n") && (has(c.err, "freed_full_chunk_pointer") || has(c.err, "test_arena_uaf(")), "no freeing stack: %s", c.err);
	/* exactly one report line */
	const char *first = strstr(c.err, "use-after-free");
	CHECK(first && !strstr(first + 1, "use-after-free"));
}

static void uaf_full_chunk_write(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_write_full, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGSEGV);
	CHECKF(has(c.err, "gort: use-after-free: write of 0x"), "stderr: %s", c.err);
}

static void uaf_large(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_read_large, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGSEGV);
	CHECKF(has(c.err, "gort: use-after-free: read of 0x"), "stderr: %s", c.err);
}

static void strict_one_chunk(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_strict, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGSEGV);
	CHECKF(has(c.err, "gort: use-after-free: read of 0x") && has(c.err, "freed at:\n"), "stderr: %s", c.err);
	CHECK(gort_test_fork(child_nonstrict_tail, NULL, &c) == 0);
	CHECKF(!c.signaled && c.exit_code == 0, "non-strict small arena faulted (status %d)", c.status);
}

static void double_free(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_double_free, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGABRT);
	CHECKF(has(c.err, "gort: fatal: double free of arena"), "stderr: %s", c.err);
	CHECK(gort_test_fork(child_use_freed_handle, NULL, &c) == 0);
	CHECK(c.signaled && c.signo == SIGABRT);
	CHECKF(has(c.err, "gort: fatal: gort_arena_alloc called on a freed arena"), "stderr: %s", c.err);
}

static void prev_handler(int sig)
{
	(void)sig;
	static const char m[] = "previous handler ran\n";
	(void)!write(2, m, sizeof m - 1);
	_exit(42);
}

static void chain_to_previous(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(child_wild_fault, (void *)(uintptr_t)16, &c) == 0);
	CHECKF(!c.signaled && c.exit_code == 42, "status %d: %s", c.status, c.err);
	CHECK(has(c.err, "previous handler ran") && !has(c.err, "use-after-free"));
}

static const char *self;

static void env_signals_off(void)
{
	char out[4096];
	int st = gort_test_sh(out, sizeof out, "GORT_ARENA_SIGNALS=0 %s read-full", self);
	CHECKF(st != 0 && !has(out, "use-after-free"), "status %d: %s", st, out);
	CHECKF(has(out, "Segmentation fault") || st == 128 + SIGSEGV || st == 139, "status %d: %s", st, out);
}

/* A chain of small arenas, each continuing in the last one's tail, until the
** first one's bytes have been slid ahead of the cursor (GORT_ARENA_SLIDE):
** with sliding on (default) a stale pointer into the first arena faults and
** is reported; with GORT_ARENA_SLIDE=0 it stays readable (the documented
** default-mode non-guarantee). The child prints how far the chain got. */
static void child_chain_head(void)
{
	gort_arena *a = gort_arena_new();
	char *first = gort_arena_alloc(a, 100, 8);
	first[0] = 1;
	gort_arena_free(a);
	gort_arena_stats st;
	int i = 0;
	bool same_chunk;
	do {
		/* Stop before the chain leaves first's chunk: a full chunk faults
		** when retired, slid or not. */
		a = gort_arena_new();
		char *p = gort_arena_alloc(a, (size_t)40 << 10, 64);
		p[0] = 1;
		same_chunk = chunk_of(p + (2 << 16) + (40 << 10)) == chunk_of(first);   /* the next fits */
		gort_arena_free(a);
		gort_arena_stats_get(&st);
	} while (++i < 2000 && same_chunk && st.slid_bytes < ((uint64_t)2 << 20));
	fprintf(stderr, "chain %d arenas, slid %llu\n", i, (unsigned long long)st.slid_bytes);
	sink = *(volatile char *)first;
}

static void uaf_slid_head(void)
{
	/* Sliding moves pages with mremap(MREMAP_DONTUNMAP) (Linux 5.7), as
	** recycling does: a retired full chunk shows whether this kernel can. */
	gort_arena *a = gort_arena_new();
	for (int i = 0; i < 5; i++)
		(void)!gort_arena_alloc(a, (size_t)2 << 20, 64);
	gort_arena_free(a);
	gort_arena_stats stats;
	gort_arena_stats_get(&stats);
	if (stats.chunks_recycled == 0)
		SKIP("the kernel does not move pages here (MREMAP_DONTUNMAP)");
	char out[4096];
	int st = gort_test_sh(out, sizeof out, "%s chain-head", self);
	CHECKF(st != 0 && has(out, "gort: use-after-free: read of 0x"), "status %d: %s", st, out);
	st = gort_test_sh(out, sizeof out, "GORT_ARENA_SLIDE=0 %s chain-head", self);
	CHECKF(st == 0 && has(out, "slid 0\n"), "status %d: %s", st, out);
}

static void env_strict(void)
{
	char out[4096];
	int st = gort_test_sh(out, sizeof out, "GORT_ARENA_STRICT=1 %s small", self);
	CHECKF(st != 0 && has(out, "gort: use-after-free: read of 0x"), "status %d: %s", st, out);
	st = gort_test_sh(out, sizeof out, "GORT_ARENA_STRICT=0 %s small", self);
	CHECKF(st == 0, "status %d: %s", st, out);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (strcmp(argv[1], "read-full") == 0)
			child_read_full(NULL);
		else if (strcmp(argv[1], "chain-head") == 0)
			child_chain_head();
		else if (strcmp(argv[1], "small") == 0) {
			gort_arena *a = gort_arena_new();
			int *p = GORT_NEW(a, int);
			gort_arena_free(a);
			sink = *(volatile int *)p;
		}
		return 0;
	}
	self = argv[0];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = prev_handler;
	sigaction(SIGSEGV, &sa, NULL);   /* installed before gort's, which must chain to it */
	RUN(uaf_full_chunk_read);
	RUN(uaf_full_chunk_write);
	RUN(uaf_large);
	RUN(uaf_every_range);
	RUN(strict_one_chunk);
	RUN(double_free);
	RUN(chain_to_previous);
	RUN(env_signals_off);
	RUN(env_strict);
	RUN(uaf_slid_head);
	return gort_test_summary();
}
