/*
** tests/arena/test_arena_quarantine.c: the quarantine budget. With
** GORT_ARENA_QUARANTINE=64M (set before the first arena), freed chunks are
** kept out of use until 64 MiB of younger quarantined address space has
** piled up after them; then the oldest come back first. Recycling of
** physical memory is switched off (GORT_ARENA_READY=0) so that every new
** chunk needs an address.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena/util.h"
#include "testhelper.h"

#define BUDGET ((uint64_t)64 << 20)
#define MAXC 4096

static uintptr_t freed_at[MAXC];
static uint64_t freed_q[MAXC];     /* bytes ever quarantined right after its free */
static int nfreed;

static long find_freed(uintptr_t c)
{
	for (int i = nfreed - 1; i >= 0; i--)
		if (freed_at[i] == c)
			return i;
	return -1;
}

static uint64_t quarantined_ever(void)
{
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	return st.quarantine_bytes + st.quarantine_recycled;
}

static void budget_respected(void)
{
	int reused = 0, early = 0;
	uint64_t max_q = 0;
	uintptr_t prev_last = 0;
	for (int round = 0; round < 60; round++) {
		uint64_t q_now = quarantined_ever();
		gort_arena *a = gort_arena_new();
		uintptr_t mine[8];
		int n = 0;
		for (int i = 0; i < 20; i++) {
			char *p = gort_arena_alloc(a, 1 << 20, 16);
			CHECK(p != NULL);
			if (!p)
				return;
			uintptr_t c = chunk_of(p);
			if (n > 0 && mine[n - 1] == c)
				continue;
			mine[n++] = c;
			if (n == 1 && c == prev_last)
				continue;   /* the previous arena's tail, reused on purpose */
			long f = find_freed(c);
			if (f >= 0) {
				reused++;
				uint64_t younger = q_now - freed_q[f];
				if (younger < BUDGET && early++ < 3)
					fprintf(stderr, "chunk %lx back after %llu younger bytes\n",
					        (unsigned long)c, (unsigned long long)younger);
			}
		}
		uint64_t q0 = quarantined_ever();
		gort_arena_free(a);
		/* Full chunks enter quarantine in the order they filled, then the
		** active one (unless its tail is reused). */
		for (int i = 0; i < n && nfreed < MAXC; i++) {
			freed_at[nfreed] = mine[i];
			freed_q[nfreed++] = q0 + (uint64_t)(i + 1) * GORT_ARENA_CHUNK_SIZE;
		}
		prev_last = mine[n - 1];
		gort_arena_stats st;
		gort_arena_stats_get(&st);
		if (st.quarantine_bytes > max_q)
			max_q = st.quarantine_bytes;
	}
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	CHECKF(st.quarantine_budget == BUDGET, "budget %llu", (unsigned long long)st.quarantine_budget);
	CHECKF(max_q <= BUDGET, "quarantine reached %llu bytes", (unsigned long long)max_q);
	CHECKF(st.quarantine_recycled > 0, "nothing left quarantine");
	CHECKF(reused > 0, "no quarantined address was ever reused");
	CHECKF(early == 0, "%d chunks came back before %llu younger bytes were quarantined", early,
	       (unsigned long long)BUDGET);
}

int main(void)
{
	setenv("GORT_ARENA_QUARANTINE", "64M", 1);
	setenv("GORT_ARENA_READY", "0", 1);
	RUN(budget_respected);
	return gort_test_summary();
}
