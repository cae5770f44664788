/*
** tests/arena/test_arena_threads.c: arenas on several threads at once (runs
** under TSan: label threads). Each thread creates, fills, checks and frees
** its own arenas; one arena is handed from a thread to the main thread
** through pthread_join (one user at a time, as in Go). Threads exit and new
** ones adopt their caches. A third thread trims all caches continuously,
** racing with the workers' reuse/ready list operations.
*/
#include <pthread.h>
#include <string.h>

#include "arena/util.h"
#include "testhelper.h"

#define ITERS 3000

struct job {
	int id;
	int bad;
	gort_arena *handoff;
	char *handoff_str;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	uint64_t seed = 99 + (uint64_t)j->id;
	for (int it = 0; it < ITERS; it++) {
		gort_arena *a = gort_arena_new_ex(it % 10 == 0 ? GORT_ARENA_STRICT : 0);
		if (!a) {
			j->bad++;
			continue;
		}
		int n = 50 + (int)(rng_next(&seed) % 100);
		for (int i = 0; i < n; i++) {
			size_t sz = 16 + (size_t)(rng_next(&seed) % 200);
			if (it % 500 == 0 && i == 0)
				sz = (size_t)3 << 20;   /* a large block now and then */
			unsigned char *p = gort_arena_alloc(a, sz, 16);
			if (!p || !all_zero(p, sz)) {
				j->bad++;
				break;
			}
			memset(p, j->id + 1, sz);
		}
		gort_arena_free(a);
	}
	j->handoff = gort_arena_new();
	j->handoff_str = gort_arena_strdup(j->handoff, "from a worker");
	return NULL;
}

static _Atomic int stop_trim;
static void *trimmer_thread(void *arg)
{
	(void)arg;
	while (!stop_trim)
		gort_arena_trim();   /* races with the workers' list operations */
	return NULL;
}

static void two_threads(void)
{
	for (int round = 0; round < 2; round++) {
		pthread_t t[2], tr;
		struct job jobs[2] = { { .id = 0 }, { .id = 1 } };
		stop_trim = 0;
		CHECK(pthread_create(&tr, NULL, trimmer_thread, NULL) == 0);
		for (int i = 0; i < 2; i++)
			CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		stop_trim = 1;
		pthread_join(tr, NULL);
		for (int i = 0; i < 2; i++) {
			CHECKF(jobs[i].bad == 0, "thread %d: %d bad allocations", i, jobs[i].bad);
			CHECK(jobs[i].handoff_str && strcmp(jobs[i].handoff_str, "from a worker") == 0);
			CHECK(gort_arena_contains(jobs[i].handoff_str));
			char *more = gort_arena_alloc(jobs[i].handoff, 64, 8);
			CHECK(more && all_zero(more, 64));
			gort_arena_free(jobs[i].handoff);
		}
	}
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	CHECK(st.arenas_freed >= 4 * ITERS);
	gort_arena_trim();
}

int main(void)
{
	RUN(two_threads);
	return gort_test_summary();
}
