/*
** bench/arena/bench.c: the arena workloads of issue 2, for one allocator
** chosen at compile time (-DALLOC_<NAME>); bench/arena/run.sh builds one
** binary per allocator (jemalloc and mimalloc replace malloc process-wide,
** so each gets its own process).
**
**   W1  one arena, 10,000,000 objects of 16..256 bytes (uniform, fixed
**       seed), first byte of each written, then freed     -> ns per object
**   W2  200,000 times: new arena, 100 objects of 16..128 bytes, free
**                                                          -> ns per iteration
**   W3  200 times: new arena, 64 MiB as 32 KiB objects (first byte written),
**       free                                               -> ms per iteration
**   W2T threads: W2 on N threads at once, each its own arenas -> ns per iteration
**       (wall time / iterations per thread)
**
** Usage: bench W1|W2|W3|W2T [iterations] [threads]. Prints one line:
** "<value> <unit> maxrss_kb=<peak RSS> endrss_kb=<RSS after the last free>
** cpu=<process CPU time of the timed region, same unit>" (on a busy machine
** wall time includes waiting for a core; for W2T the CPU figure is per
** iteration over all threads: with no contention it equals the 1-thread one).
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- the allocator under test: new / alloc / free of one arena ---- */
#if defined(ALLOC_GORT) || defined(ALLOC_GORT_STRICT)
#include <gort/arena.h>
typedef gort_arena *pool_t;
#ifdef ALLOC_GORT_STRICT
static pool_t pool_new(void) { return gort_arena_new_ex(GORT_ARENA_STRICT); }
#else
static pool_t pool_new(void) { return gort_arena_new_ex(GORT_ARENA_NONSTRICT); }
#endif
static inline void *pool_alloc(pool_t p, size_t n) { return gort_arena_alloc(p, n, 8); }
static void pool_free(pool_t p) { gort_arena_free(p); }
#define NEEDS_PTRS 0
#elif defined(ALLOC_MIMALLOC)
#include <mimalloc.h>
typedef mi_heap_t *pool_t;
static pool_t pool_new(void) { return mi_heap_new(); }
static inline void *pool_alloc(pool_t p, size_t n) { return mi_heap_malloc(p, n); }
static void pool_free(pool_t p) { mi_heap_destroy(p); }
#define NEEDS_PTRS 0
#elif defined(ALLOC_JEMALLOC)
#include <jemalloc/jemalloc.h>
typedef unsigned pool_t;
static pool_t pool_new(void)
{
	unsigned ind;
	size_t sz = sizeof ind;
	if (mallctl("arenas.create", &ind, &sz, NULL, 0) != 0)
		abort();
	return ind;
}
static inline void *pool_alloc(pool_t p, size_t n)
{
	return mallocx(n, MALLOCX_ARENA(p) | MALLOCX_TCACHE_NONE);
}
static void pool_free(pool_t p)
{
	char name[64];
	snprintf(name, sizeof name, "arena.%u.destroy", p);
	if (mallctl(name, NULL, NULL, NULL, 0) != 0)
		abort();
}
#define NEEDS_PTRS 0
#elif defined(ALLOC_TALLOC)
#include <talloc.h>
typedef void *pool_t;
static pool_t pool_new(void) { return talloc_new(NULL); }
static inline void *pool_alloc(pool_t p, size_t n) { return talloc_size(p, n); }
static void pool_free(pool_t p) { talloc_free(p); }
#define NEEDS_PTRS 0
#elif defined(ALLOC_APR)
#include <apr_pools.h>
typedef apr_pool_t *pool_t;
static pool_t pool_new(void)
{
	static int inited;
	apr_pool_t *p;
	if (!inited && apr_initialize() == APR_SUCCESS)
		inited = 1;
	if (apr_pool_create(&p, NULL) != APR_SUCCESS)
		abort();
	return p;
}
static inline void *pool_alloc(pool_t p, size_t n) { return apr_palloc(p, n); }
static void pool_free(pool_t p) { apr_pool_destroy(p); }
#define NEEDS_PTRS 0
#elif defined(ALLOC_OBSTACK)
#include <obstack.h>
#define obstack_chunk_alloc malloc
#define obstack_chunk_free free
typedef struct obstack *pool_t;
static pool_t pool_new(void)
{
	struct obstack *o = malloc(sizeof *o);
	obstack_init(o);
	return o;
}
static inline void *pool_alloc(pool_t p, size_t n) { return obstack_alloc(p, n); }
static void pool_free(pool_t p)
{
	obstack_free(p, NULL);
	free(p);
}
#define NEEDS_PTRS 0
#elif defined(ALLOC_BUMP)
/* Raw bump pointer: a fresh anonymous mapping per arena (W2 resets one
** buffer instead: no mapping per iteration). No zeroing, no safety. */
typedef struct bump {
	char *base, *cur;
	size_t cap;
	int keep;
} *pool_t;
static struct bump w2_buf;
static size_t bump_cap = (size_t)4 << 30;
static int bump_reuse;
static pool_t pool_new(void)
{
	if (bump_reuse) {
		if (!w2_buf.base) {
			w2_buf.cap = 1 << 20;
			w2_buf.base = malloc(w2_buf.cap);
			memset(w2_buf.base, 0, w2_buf.cap);
		}
		w2_buf.cur = w2_buf.base;
		return &w2_buf;
	}
	pool_t b = malloc(sizeof *b);
	b->cap = bump_cap;
	b->base = b->cur = mmap(NULL, b->cap, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return b;
}
static inline void *pool_alloc(pool_t p, size_t n)
{
	char *r = p->cur;
	p->cur += (n + 7) & ~(size_t)7;
	return r;
}
static void pool_free(pool_t p)
{
	if (p == &w2_buf)
		return;
	munmap(p->base, p->cap);
	free(p);
}
#define NEEDS_PTRS 0
#elif defined(ALLOC_GLIBC)
/* glibc malloc: an "arena" is the list of its objects, freed one by one. */
typedef struct mlist {
	void **v;
	size_t n, cap;
} *pool_t;
static pool_t pool_new(void) { return calloc(1, sizeof(struct mlist)); }
static inline void *pool_alloc(pool_t p, size_t n)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 128;
		p->v = realloc(p->v, p->cap * sizeof *p->v);
	}
	return p->v[p->n++] = malloc(n);
}
static void pool_free(pool_t p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	free(p);
}
#define NEEDS_PTRS 1
#else
#error "define ALLOC_<NAME>"
#endif

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU time of the whole process (all threads): on a shared, oversubscribed
** machine wall time includes waiting for a core; CPU time does not. */
static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}
static double cpu_t0, cpu_per;   /* set around each timed region */
#define TIMED_BEGIN() (cpu_t0 = cpu_ns())
#define TIMED_END(div) (cpu_per = (cpu_ns() - cpu_t0) / (div))

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Sizes precomputed from a fixed seed, so the RNG is not timed. */
static uint8_t *sizes;
static size_t nsizes;
static void make_sizes(size_t n, unsigned span)
{
	uint64_t s = 0x9E3779B97F4A7C15u;
	sizes = malloc(n);
	nsizes = n;
	for (size_t i = 0; i < n; i++) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		sizes[i] = (uint8_t)(s % span);
	}
}

static volatile uintptr_t sink;

static double w1(void)
{
	size_t n = 10000000;
	make_sizes(n, 241);   /* 16..256 */
	double t = now_ns();
	TIMED_BEGIN();
	pool_t p = pool_new();
	for (size_t i = 0; i < n; i++) {
		char *o = pool_alloc(p, 16 + sizes[i]);
		o[0] = 1;
	}
	pool_free(p);
	TIMED_END((double)n);
	return (now_ns() - t) / (double)n;
}

static void w2_loop(long iters)
{
	size_t k = 0;
	for (long it = 0; it < iters; it++) {
		pool_t p = pool_new();
		for (int i = 0; i < 100; i++) {
			char *o = pool_alloc(p, 16 + sizes[k]);
			o[0] = 1;
			if (++k == nsizes)
				k = 0;
		}
		pool_free(p);
	}
}

static double w2(long iters)
{
	make_sizes(1 << 20, 113);   /* 16..128 */
#ifdef ALLOC_BUMP
	bump_reuse = 1;
#endif
	double t = now_ns();
	TIMED_BEGIN();
	w2_loop(iters);
	TIMED_END((double)iters);
	return (now_ns() - t) / (double)iters;
}

static long w2t_iters;
static void *w2t_thread(void *arg)
{
	(void)arg;
	w2_loop(w2t_iters);
	return NULL;
}

static double w2t(long iters, int nthreads)
{
	make_sizes(1 << 20, 113);
#ifdef ALLOC_BUMP
	return 0;   /* a shared reset buffer is not thread-safe; not measured */
#endif
	w2t_iters = iters;
	pthread_t t[16];
	double t0 = now_ns();
	TIMED_BEGIN();
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, w2t_thread, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	TIMED_END((double)iters * nthreads);   /* CPU per iteration, all threads */
	return (now_ns() - t0) / (double)iters;
}

static double w3(long iters)
{
#ifdef ALLOC_BUMP
	bump_cap = (size_t)64 << 20;
#endif
	double t = now_ns();
	TIMED_BEGIN();
	for (long it = 0; it < iters; it++) {
		pool_t p = pool_new();
		for (int i = 0; i < 2048; i++) {
			char *o = pool_alloc(p, 32 << 10);
			o[0] = 1;
		}
		pool_free(p);
	}
	TIMED_END((double)iters * 1e6);
	return (now_ns() - t) / (double)iters / 1e6;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s W1|W2|W3|W2T [iterations] [threads]\n", argv[0]);
		return 2;
	}
	long iters = argc > 2 ? atol(argv[2]) : 0;
	double v;
	const char *unit;
	if (strcmp(argv[1], "W1") == 0) {
		v = w1();
		unit = "ns/object";
	} else if (strcmp(argv[1], "W2") == 0) {
		v = w2(iters ? iters : 200000);
		unit = "ns/iter";
	} else if (strcmp(argv[1], "W3") == 0) {
		v = w3(iters ? iters : 200);
		unit = "ms/iter";
	} else if (strcmp(argv[1], "W2T") == 0) {
		v = w2t(iters ? iters : 200000, argc > 3 ? atoi(argv[3]) : 2);
		unit = "ns/iter";
	} else {
		return 2;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("%.3f %s maxrss_kb=%ld endrss_kb=%ld cpu=%.3f\n", v, unit, ru.ru_maxrss, rss_kb(), cpu_per);
	return 0;
}
