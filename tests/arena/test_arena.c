/*
** tests/arena/test_arena.c: arena semantics that need no death or special
** environment: zeroing, alignment, rollover, large blocks, reuse and
** recycling, reset and hooks, contains/clone, error cases, RSS after free.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena/util.h"
#include "testhelper.h"

static void zero_and_align(void)
{
	static const size_t aligns[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096 };
	/* Several rounds: later rounds run on recycled (dirty) pages. */
	for (int round = 0; round < 4; round++) {
		gort_arena *a = gort_arena_new();
		CHECK(a != NULL);
		uint64_t seed = 12345 + (uint64_t)round;
		size_t total = 0;
		int bad_zero = 0, bad_align = 0;
		for (int i = 0; total < (size_t)20 << 20; i++) {
			size_t size = (size_t)(rng_next(&seed) % 5000);
			if (i % 97 == 0)
				size = (size_t)(rng_next(&seed) % (200 << 10));
			size_t al = aligns[rng_next(&seed) % (sizeof aligns / sizeof aligns[0])];
			unsigned char *p = gort_arena_alloc(a, size, al);
			CHECKF(p != NULL, "alloc %zu/%zu failed", size, al);
			if (!p)
				break;
			if ((uintptr_t)p % al)
				bad_align++;
			if (!all_zero(p, size))
				bad_zero++;
			memset(p, 0xA5, size);   /* dirty it for the next rounds */
			total += size;
		}
		CHECKF(bad_align == 0, "round %d: %d misaligned", round, bad_align);
		CHECKF(bad_zero == 0, "round %d: %d not zeroed", round, bad_zero);
		gort_arena_free(a);
	}
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	CHECKF(st.chunks_recycled > 0, "recycled chunks %llu: the later rounds never ran on recycled pages",
	       (unsigned long long)st.chunks_recycled);
}

static void size_zero(void)
{
	gort_arena *a = gort_arena_new();
	void *p = gort_arena_alloc(a, 0, 1);
	void *q = gort_arena_alloc(a, 0, 64);
	CHECK(p != NULL && q != NULL);
	CHECK((uintptr_t)q % 64 == 0);
	gort_arena_free(a);
	gort_arena_free(NULL);   /* no-op */
}

static void rollover(void)
{
	gort_arena_stats s0, s1;
	gort_arena_stats_get(&s0);
	gort_arena *a = gort_arena_new();
	enum { N = 40 };
	unsigned char *p[N];
	for (int i = 0; i < N; i++) {
		p[i] = gort_arena_alloc(a, (size_t)1 << 20, 16);   /* 1 MiB: not large */
		CHECK(p[i] != NULL);
		if (!p[i])
			return;
		CHECK(all_zero(p[i], (size_t)1 << 20));
		memset(p[i], i + 1, (size_t)1 << 20);
	}
	int chunks = 1;
	for (int i = 1; i < N; i++)
		if (chunk_of(p[i]) != chunk_of(p[i - 1]))
			chunks++;
	CHECKF(chunks >= 5, "40 MiB spread over %d chunks", chunks);
	for (int i = 0; i < N; i++)
		CHECKF(p[i][0] == i + 1 && p[i][(1 << 20) - 1] == i + 1, "object %d overwritten", i);
	for (int i = 0; i < N; i++)
		CHECK(gort_arena_contains(p[i]) && gort_arena_contains(p[i] + (1 << 20) - 1));
	gort_arena_stats_get(&s1);
	CHECK(s1.live_bytes >= (uint64_t)chunks * GORT_ARENA_CHUNK_SIZE);
	gort_arena_free(a);
	for (int i = 0; i < N; i++)
		CHECKF(!gort_arena_contains(p[i]), "object %d still reported live after free", i);
}

static void large(void)
{
	gort_arena_stats s0, s1;
	gort_arena_stats_get(&s0);
	gort_arena *a = gort_arena_new();
	size_t sizes[] = { GORT_ARENA_CHUNK_SIZE / 4 + 1, (size_t)3 << 20, (size_t)20 << 20, (size_t)9 << 20 };
	unsigned char *p[4];
	for (int i = 0; i < 4; i++) {
		p[i] = gort_arena_alloc(a, sizes[i], 4096);
		CHECK(p[i] != NULL);
		if (!p[i])
			return;
		CHECK((uintptr_t)p[i] % 4096 == 0);
		CHECK(all_zero(p[i], sizes[i]));
		memset(p[i], 0x5a, sizes[i]);
		CHECK(gort_arena_contains(p[i]) && gort_arena_contains(p[i] + sizes[i] - 1));
	}
	unsigned char *small = gort_arena_alloc(a, 100, 8);
	CHECK(small && all_zero(small, 100));
	gort_arena_stats_get(&s1);
	CHECK(s1.large_allocs == s0.large_allocs + 4);
	gort_arena_free(a);
	for (int i = 0; i < 4; i++)
		CHECK(!gort_arena_contains(p[i]));
}

static void reuse_tail(void)
{
	gort_arena_stats s0, s1;
	gort_arena *a = gort_arena_new();
	char *p = gort_arena_alloc(a, 100, 8);
	CHECK(p != NULL);
	gort_arena_free(a);
	CHECK(!gort_arena_contains(p));
	gort_arena_stats_get(&s0);
	gort_arena *b = gort_arena_new();
	char *q = gort_arena_alloc(b, 1, 1);
	gort_arena_stats_get(&s1);
	CHECKF(chunk_of(q) == chunk_of(p) && q >= p + 100, "tail not reused: p=%p q=%p", (void *)p, (void *)q);
	CHECK(s1.chunks_reused == s0.chunks_reused + 1);
	CHECK(gort_arena_contains(q));
	gort_arena_free(b);
}

static void recycle_ready(void)
{
	gort_arena *a = gort_arena_new();
	uintptr_t bases[8];
	int nb = 0;
	for (int i = 0; i < 24; i++) {
		unsigned char *p = gort_arena_alloc(a, (size_t)1 << 20, 16);
		memset(p, 0xee, (size_t)1 << 20);
		if (nb < 8 && (nb == 0 || bases[nb - 1] != chunk_of(p)))
			bases[nb++] = chunk_of(p);
	}
	gort_arena_free(a);
	gort_arena_stats s0, s1;
	gort_arena_stats_get(&s0);
	CHECKF(s0.ready_bytes > 0, "no chunk went to the ready list");
	CHECK(s0.ready_bytes <= s0.ready_limit);
	gort_arena *b = gort_arena_new();
	int fresh_addr = 1, zero = 1;
	for (int i = 0; i < 16; i++) {
		unsigned char *p = gort_arena_alloc(b, (size_t)1 << 20, 16);
		/* bases[nb - 1] was the active chunk: its tail is reused on purpose */
		for (int j = 0; j < nb - 1; j++)
			if (chunk_of(p) == bases[j])
				fresh_addr = 0;
		if (!all_zero(p, (size_t)1 << 20))
			zero = 0;
	}
	gort_arena_stats_get(&s1);
	CHECKF(s1.chunks_recycled > s0.chunks_recycled, "no chunk taken from the ready list");
	CHECKF(fresh_addr, "a freed chunk's address came back");
	CHECKF(zero, "recycled memory not zeroed");
	gort_arena_free(b);
}

static int order[8], norder;
static void hook(void *arg) { order[norder++] = (int)(intptr_t)arg; }
static char *hook_seen;
static void hook_reads(void *arg) { hook_seen = strdup((const char *)arg); }

static void reset_and_hooks(void)
{
	gort_arena *a = gort_arena_new();
	norder = 0;
	for (int i = 1; i <= 3; i++)
		CHECK(gort_arena_on_free(a, hook, (void *)(intptr_t)i) == 0);
	char *s = gort_arena_strdup(a, "still readable in the hook");
	CHECK(gort_arena_on_free(a, hook_reads, s) == 0);
	CHECK(gort_arena_on_free(a, NULL, NULL) == -EINVAL);
	char *before = gort_arena_alloc(a, 64, 8);
	gort_arena_reset(a);
	CHECK(norder == 3 && order[0] == 3 && order[1] == 2 && order[2] == 1);
	CHECK(hook_seen && strcmp(hook_seen, "still readable in the hook") == 0);
	free(hook_seen);
	hook_seen = NULL;
	CHECK(!gort_arena_contains(before));
	/* Usable after reset; old hooks do not run again. */
	char *p = gort_arena_alloc(a, 32, 8);
	CHECK(p && all_zero(p, 32));
	CHECK(gort_arena_on_free(a, hook, (void *)(intptr_t)7) == 0);
	gort_arena_free(a);
	CHECK(norder == 4 && order[3] == 7);
}

static void contains_and_clone(void)
{
	gort_arena *a = gort_arena_new();
	char *s = gort_arena_strdup(a, "hello arena");
	CHECK(s && strcmp(s, "hello arena") == 0);
	CHECK(gort_arena_contains(s));
	char *m = malloc(16);
	int local;
	CHECK(!gort_arena_contains(m));
	CHECK(!gort_arena_contains(&local));
	CHECK(!gort_arena_contains(NULL));
	CHECK(gort_arena_clone(m, 16) == m);
	char *c = gort_arena_clone(s, strlen(s) + 1);
	CHECK(c && c != s && strcmp(c, "hello arena") == 0);
	CHECK(!gort_arena_contains(c));
	free(c);
	free(m);
	char *n = gort_arena_strndup(a, "abcdef", 3);
	CHECK(n && strcmp(n, "abc") == 0);
	struct pt { double x, y; } *pt = GORT_NEW(a, struct pt);
	CHECK(pt && pt->x == 0 && (uintptr_t)pt % _Alignof(struct pt) == 0);
	long *arr = GORT_ARRAY(a, long, 1000);
	CHECK(arr && all_zero(arr, 1000 * sizeof(long)));
	gort_arena_free(a);
	CHECK(!gort_arena_contains(s));
	CHECK(gort_arena_clone(s, 4) == s);   /* freed memory is not arena memory any more */
}

static void error_cases(void)
{
	gort_arena *a = gort_arena_new();
	size_t bad[] = { 0, 3, 6, 24, 8192, (size_t)1 << 40 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		errno = 0;
		CHECKF(gort_arena_alloc(a, 16, bad[i]) == NULL && errno == EINVAL, "align %zu", bad[i]);
		errno = 0;
		CHECKF((gort_arena_alloc)(a, 16, bad[i]) == NULL && errno == EINVAL, "align %zu (function)", bad[i]);
	}
	/* volatile: keep the compiler from rejecting the sizes at build time */
	volatile size_t half = SIZE_MAX / 2, quarter = SIZE_MAX / 4, max = SIZE_MAX, huge = (size_t)1 << 50;
	errno = 0;
	CHECK(gort_arena_alloc_array(a, half, 3, 8) == NULL && errno == EOVERFLOW);
	errno = 0;
	CHECK(GORT_ARRAY(a, uint64_t, quarter) == NULL && errno == EOVERFLOW);
	errno = 0;
	CHECK(gort_arena_alloc(a, max, 8) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(gort_arena_alloc(a, huge, 8) == NULL && errno == ENOMEM);
	errno = 0;
	CHECK(gort_arena_strdup(a, NULL) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(gort_arena_new_ex(1u << 7) == NULL && errno == EINVAL);
	errno = 0;
	CHECK(gort_arena_new_ex(GORT_ARENA_STRICT | GORT_ARENA_NONSTRICT) == NULL && errno == EINVAL);
	/* State intact after every error. */
	char *p = gort_arena_alloc(a, 10, 2);
	CHECK(p && all_zero(p, 10));
	gort_arena_free(a);
}

static void rss_after_free(void)
{
	gort_arena_trim();
	size_t before = gort_test_rss();
	gort_arena *a = gort_arena_new();
	size_t total = (size_t)256 << 20;
	for (size_t done = 0; done < total; done += 32 << 10) {
		unsigned char *p = gort_arena_alloc(a, 32 << 10, 16);
		CHECK(p != NULL);
		if (!p)
			break;
		memset(p, 1, 32 << 10);
	}
	size_t peak = gort_test_rss();
	CHECKF(peak > before + ((size_t)200 << 20), "rss did not grow: %zu -> %zu", before, peak);
	gort_arena_free(a);
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	size_t after = gort_test_rss();
	size_t shadow = 0;
#if defined(__SANITIZE_ADDRESS__)
	shadow = total / 8 + ((size_t)16 << 20);   /* ASan's shadow of the poisoned range stays */
#endif
	size_t slack = (size_t)st.ready_limit + 2 * GORT_ARENA_CHUNK_SIZE + ((size_t)8 << 20) + shadow;
	CHECKF(after <= before + slack, "rss after free %zu MiB, before %zu MiB", after >> 20, before >> 20);
	gort_arena_trim();
	size_t trimmed = gort_test_rss();
	CHECKF(trimmed <= before + ((size_t)8 << 20) + shadow, "rss after trim %zu MiB, before %zu MiB",
	       trimmed >> 20, before >> 20);
	gort_arena_stats_get(&st);
	CHECK(st.ready_bytes == 0 && st.reuse_bytes == 0);
}

static void stats_counts(void)
{
	gort_arena_stats s0, s1;
	gort_arena_stats_get(&s0);
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_STRICT);
	CHECK(gort_arena_is_strict(a));
	gort_arena_stats_get(&s1);
	CHECK(s1.arenas_live == s0.arenas_live + 1 && s1.arenas_created == s0.arenas_created + 1);
	gort_arena_free(a);
	gort_arena_stats_get(&s1);
	CHECK(s1.arenas_live == s0.arenas_live && s1.arenas_freed == s0.arenas_freed + 1);
	CHECK(s1.quarantine_budget > 0 && s1.region_bytes >= s1.quarantine_budget);
}

int main(void)
{
	RUN(zero_and_align);
	RUN(size_zero);
	RUN(rollover);
	RUN(large);
	RUN(reuse_tail);
	RUN(recycle_ready);
	RUN(reset_and_hooks);
	RUN(contains_and_clone);
	RUN(error_cases);
	RUN(stats_counts);
	RUN(rss_after_free);
	return gort_test_summary();
}
