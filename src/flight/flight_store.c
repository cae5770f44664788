/*
** src/flight/flight_store.c: the flight recorder's generation store.
**
** The tracer delivers its output to our sink on its own delivery thread
** ("the sink thread"): the 16-byte header first, then the bytes of one
** generation after another, each ended by generation_done(gen). We copy the
** bytes into a private list of chunks (the generation being received, `cur`),
** and on generation_done publish it at the end of the kept list, then apply
** the window: drop the oldest generation while the kept bytes exceed
** max_bytes (the byte bound wins), or while the next-older generation alone
** already covers min_age plus a 1% margin (a generation's start is known as
** its predecessor's delivery time, a little after the real boundary).
**
** Invariants
**   - Kept generations are consecutive (gen numbers n, n+1, ...): a lost
**     generation (cut for size, allocation failure, or a numbering gap) drops
**     every older one, because a trace may not skip a generation.
**   - A published generation (reachable from S.oldest through ->next) is
**     immutable: its chunks and fields never change, and ->next is written
**     once (release) when the following generation is published. Dropping
**     moves S.oldest forward and leaves ->next intact, so a walker that
**     started earlier can still finish.
**   - Memory of a generation is freed when its last reference goes (the list
**     holds one; every snapshot being written holds one), but never once the
**     crash path has started (g_crashing): the crash writer walks the list
**     without locks. The Dekker pair (drop: store S.oldest, then load
**     g_crashing; crash: store g_crashing, then load S.oldest, all seq_cst)
**     guarantees the crash writer never reaches freed memory.
**   - S.mu guards the list structure, counters and references; it is held for
**     a few pointer operations only (never during a write(2)), so the sink
**     thread is never held up by a snapshot and the tracer's event path never
**     touches it at all. `cur` and the header are owned by the sink thread.
*/
#include "internal/flight.h"
#include "internal/panic.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HDR_LEN 16
#define CHUNK_MIN ((size_t)4 << 10)
#define CHUNK_MAX ((size_t)256 << 10)

typedef struct gr_flight_chunk {
	struct gr_flight_chunk *next;
	size_t len, cap;
	unsigned char data[];
} gr_flight_chunk;

struct gr_flight_gen {
	_Atomic(gr_flight_gen *) next; /* newer kept generation; written once */
	gr_flight_gen *dnext;          /* link in a to-be-released list (S.mu) */
	gr_flight_chunk *head, *tail, *prev_tail;
	uint64_t gen, bytes, start_ns, end_ns;
	atomic_int refs;
};

static atomic_int g_crashing;

/* Full-size chunks of dropped generations are kept for reuse (up to
** pool_cap of them) instead of going back to the C library: a 256 KiB block
** is an mmap/munmap pair, and every munmap of a multi-threaded process
** interrupts the other cores (TLB shootdown) -- the emitting threads too. */
static struct {
	pthread_mutex_t mu;
	gr_flight_chunk *head;
	size_t n, cap;
} P = { .mu = PTHREAD_MUTEX_INITIALIZER };

static struct {
	pthread_mutex_t mu;
	_Atomic(gr_flight_gen *) oldest; /* published list; crash path reads it */
	gr_flight_gen *newest;           /* S.mu */
	uint64_t kept_bytes, kept_gens;  /* S.mu */
	uint64_t dropped_age, dropped_bytes, overflowed; /* S.mu */
	_Atomic uint64_t peak;           /* max alloc_bytes after a boundary */

	/* sink thread only */
	gr_flight_gen *cur;
	bool cur_lost;
	uint64_t last_done_ns;
	unsigned char header[HDR_LEN];
	size_t header_len;
	atomic_bool header_ready;

	uint64_t min_age_ns, max_bytes, boundary_bytes;
	uint64_t (*now)(void);
	void (*wake)(void);
	atomic_bool boundary_requested;
	_Atomic uint64_t cur_bytes;
	_Atomic uint64_t alloc_bytes;    /* chunk memory held (kept + cur) */
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static gr_flight_chunk *chunk_new(size_t cap)
{
	gr_flight_chunk *c = NULL;
	if (cap == CHUNK_MAX) {
		pthread_mutex_lock(&P.mu);
		c = P.head;
		if (c) {
			P.head = c->next;
			P.n--;
		}
		pthread_mutex_unlock(&P.mu);
	}
	if (!c) {
		c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		atomic_fetch_add(&S.alloc_bytes, sizeof *c + cap);
	}
	c->next = NULL;
	c->len = 0;
	c->cap = cap;
	return c;
}

static void chunk_free(gr_flight_chunk *c)
{
	if (c->cap == CHUNK_MAX) {
		pthread_mutex_lock(&P.mu);
		if (P.n < P.cap) {
			c->next = P.head;
			P.head = c;
			P.n++;
			c = NULL;
		}
		pthread_mutex_unlock(&P.mu);
		if (!c)
			return;
	}
	atomic_fetch_sub(&S.alloc_bytes, sizeof *c + c->cap);
	free(c);
}

static void pool_drain(void)
{
	pthread_mutex_lock(&P.mu);
	gr_flight_chunk *c = P.head;
	P.head = NULL;
	P.n = 0;
	pthread_mutex_unlock(&P.mu);
	while (c) {
		gr_flight_chunk *n = c->next;
		atomic_fetch_sub(&S.alloc_bytes, sizeof *c + c->cap);
		free(c);
		c = n;
	}
}

static void gen_free_chunks(gr_flight_gen *g)
{
	gr_flight_chunk *c = g->head;
	while (c) {
		gr_flight_chunk *n = c->next;
		chunk_free(c);
		c = n;
	}
	g->head = g->tail = g->prev_tail = NULL;
}

static void gen_unref(gr_flight_gen *g)
{
	if (atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	if (atomic_load(&g_crashing))
		return;  /* the crash writer may be reading it: leak, we are dying */
	gen_free_chunks(g);
	free(g);
}

/* S.mu held. Unlink the oldest generation; it goes on *rel for release. */
static void drop_oldest(gr_flight_gen **rel)
{
	gr_flight_gen *o = atomic_load_explicit(&S.oldest, memory_order_relaxed);
	gr_flight_gen *n = atomic_load_explicit(&o->next, memory_order_relaxed);
	atomic_store(&S.oldest, n);   /* seq_cst: pairs with the crash path */
	if (!n)
		S.newest = NULL;
	S.kept_bytes -= o->bytes;
	S.kept_gens--;
	o->dnext = *rel;
	*rel = o;
}

static void release_list(gr_flight_gen *rel)
{
	while (rel) {
		gr_flight_gen *n = rel->dnext;
		gen_unref(rel);
		rel = n;
	}
}

/* S.mu held. Apply the window at time now. */
static void prune(uint64_t now, gr_flight_gen **rel)
{
	for (;;) {
		gr_flight_gen *o = atomic_load_explicit(&S.oldest, memory_order_relaxed);
		if (!o)
			return;
		gr_flight_gen *n = atomic_load_explicit(&o->next, memory_order_relaxed);
		if (S.kept_bytes > S.max_bytes) {
			drop_oldest(rel);
			S.dropped_bytes++;
		} else if (n && n->start_ns + S.min_age_ns + S.min_age_ns / 100 <= now) {
			drop_oldest(rel);
			S.dropped_age++;
		} else {
			return;
		}
	}
}

/* Sink thread. Forget the generation being received (too big, or no memory);
** the rest of its bytes are discarded until its generation_done. */
static void lose_cur(void)
{
	if (S.cur) {
		gen_free_chunks(S.cur);
		free(S.cur);
		S.cur = NULL;
	}
	S.cur_lost = true;
	atomic_store(&S.cur_bytes, 0);
}

static int append(const unsigned char *p, size_t n)
{
	gr_flight_gen *g = S.cur;
	if (!g) {
		g = calloc(1, sizeof *g);
		if (!g)
			return -ENOMEM;
		atomic_init(&g->refs, 1);
		S.cur = g;
	}
	while (n) {
		gr_flight_chunk *t = g->tail;
		if (!t || t->len == t->cap) {
			size_t cap = t ? t->cap * 2 : CHUNK_MIN;
			if (cap > CHUNK_MAX)
				cap = CHUNK_MAX;
			gr_flight_chunk *c = chunk_new(cap);
			if (!c)
				return -ENOMEM;
			if (t)
				t->next = c;
			else
				g->head = c;
			g->prev_tail = t;
			g->tail = t = c;
		}
		size_t k = t->cap - t->len;
		if (k > n)
			k = n;
		memcpy(t->data + t->len, p, k);
		t->len += k;
		p += k;
		n -= k;
		g->bytes += k;
	}
	return 0;
}

static int sink_write(void *ctx, const void *buf, size_t n)
{
	(void)ctx;
	const unsigned char *p = buf;
	if (S.header_len < HDR_LEN) {
		size_t k = HDR_LEN - S.header_len;
		if (k > n)
			k = n;
		memcpy(S.header + S.header_len, p, k);
		S.header_len += k;
		p += k;
		n -= k;
		if (S.header_len == HDR_LEN)
			atomic_store_explicit(&S.header_ready, true, memory_order_release);
	}
	if (n == 0 || S.cur_lost)
		return 0;
	if ((S.cur ? S.cur->bytes : 0) + n > S.max_bytes || append(p, n) != 0) {
		/* Never fail the tracer: the recorder loses this generation (and,
		** to stay consecutive, every older one) and says so in its stats. */
		lose_cur();
		return 0;
	}
	atomic_store_explicit(&S.cur_bytes, S.cur->bytes, memory_order_relaxed);
	if (S.cur->bytes >= S.boundary_bytes && S.wake &&
	    !atomic_exchange(&S.boundary_requested, true))
		S.wake();
	return 0;
}

/* Shrink the last chunk to its content so kept memory tracks kept bytes. */
static void trim_tail(gr_flight_gen *g)
{
	gr_flight_chunk *t = g->tail;
	if (!t || t->len == t->cap || t->len == 0)
		return;
	gr_flight_chunk *s = realloc(t, sizeof *t + t->len);
	if (!s)
		return;
	atomic_fetch_sub(&S.alloc_bytes, s->cap - s->len);
	s->cap = s->len;
	if (g->prev_tail)
		g->prev_tail->next = s;
	else
		g->head = s;
	g->tail = s;
}

static void sink_generation_done(void *ctx, uint64_t gen)
{
	(void)ctx;
	uint64_t now = S.now();
	uint64_t start = S.last_done_ns;
	S.last_done_ns = now;
	gr_flight_gen *g = S.cur, *rel = NULL;
	bool cut = S.cur_lost;
	bool lost = cut || !g || g->bytes == 0;  /* nothing of it reached us */
	S.cur = NULL;
	S.cur_lost = false;
	atomic_store(&S.cur_bytes, 0);
	atomic_store(&S.boundary_requested, false);
	if (!lost) {
		trim_tail(g);
		g->gen = gen;
		g->start_ns = start;
		g->end_ns = now;
	}

	pthread_mutex_lock(&S.mu);
	if (lost || (S.newest && S.newest->gen + 1 != gen)) {
		while (atomic_load_explicit(&S.oldest, memory_order_relaxed))
			drop_oldest(&rel);
		if (cut)
			S.overflowed++;
	}
	if (!lost) {
		/* g is complete and immutable from here on: publish it. */
		if (S.newest)
			atomic_store_explicit(&S.newest->next, g, memory_order_release);
		else
			atomic_store(&S.oldest, g);
		S.newest = g;
		S.kept_bytes += g->bytes;
		S.kept_gens++;
		prune(now, &rel);
	}
	pthread_mutex_unlock(&S.mu);
	if (lost && g) {
		gen_free_chunks(g);
		free(g);
	}
	release_list(rel);
	/* Memory held once the window is applied (a snapshot being written may
	** still hold dropped generations for a moment: not counted here). */
	uint64_t mem = atomic_load(&S.alloc_bytes), old = atomic_load(&S.peak);
	while (mem > old && !atomic_compare_exchange_weak(&S.peak, &old, mem))
		;
}

static void sink_close(void *ctx)
{
	(void)ctx;
	/* Trace stopped: the partial generation can never complete. */
	if (S.cur) {
		gen_free_chunks(S.cur);
		free(S.cur);
		S.cur = NULL;
	}
	atomic_store(&S.cur_bytes, 0);
}

static const gr_trace_sink g_sink = {
	.write = sink_write,
	.generation_done = sink_generation_done,
	.close = sink_close,
	.ctx = NULL,
};

const gr_trace_sink *_gr_flight_store_sink(void)
{
	return &g_sink;
}

int _gr_flight_store_init(uint64_t min_age_ns, uint64_t max_bytes,
                          uint64_t (*now_ns)(void), void (*wake_helper)(void))
{
	S.min_age_ns = min_age_ns;
	S.max_bytes = max_bytes;
	/* Ask for an early boundary when a generation reaches 1/8 of the bound,
	** so the window holds several generations even under a heavy load. */
	S.boundary_bytes = max_bytes / 8;
	P.cap = S.boundary_bytes / CHUNK_MAX;   /* pool <= max_bytes / 8 */
	S.now = now_ns ? now_ns : mono_ns;
	S.wake = wake_helper;
	S.cur = NULL;
	S.cur_lost = false;
	S.header_len = 0;
	atomic_store(&S.header_ready, false);
	atomic_store(&S.boundary_requested, false);
	atomic_store(&S.cur_bytes, 0);
	S.last_done_ns = S.now();
	pthread_mutex_lock(&S.mu);
	S.kept_bytes = S.kept_gens = 0;
	S.dropped_age = S.dropped_bytes = S.overflowed = 0;
	atomic_store(&S.peak, 0);
	atomic_store(&S.oldest, NULL);
	S.newest = NULL;
	pthread_mutex_unlock(&S.mu);
	return 0;
}

void _gr_flight_store_fini(void)
{
	gr_flight_gen *rel = NULL;
	sink_close(NULL);
	pthread_mutex_lock(&S.mu);
	while (atomic_load_explicit(&S.oldest, memory_order_relaxed))
		drop_oldest(&rel);
	pthread_mutex_unlock(&S.mu);
	release_list(rel);
	pool_drain();
	atomic_store(&S.header_ready, false);
}

void _gr_flight_store_forget(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	S.mu = fresh;
	atomic_store(&S.oldest, NULL);
	S.newest = NULL;
	S.kept_bytes = S.kept_gens = 0;
	S.cur = NULL;
	S.cur_lost = false;
	atomic_store(&S.header_ready, false);
	atomic_store(&S.alloc_bytes, 0);
	pthread_mutex_t fresh_pool = PTHREAD_MUTEX_INITIALIZER;
	P.mu = fresh_pool;
	P.head = NULL;
	P.n = 0;
}

bool _gr_flight_store_has_header(void)
{
	return atomic_load_explicit(&S.header_ready, memory_order_acquire);
}

int _gr_flight_store_collect(gr_flight_gen ***out, unsigned char hdr[16], size_t *hdr_len)
{
	*out = NULL;
	*hdr_len = 0;
	if (!_gr_flight_store_has_header())
		return 0;
	memcpy(hdr, S.header, HDR_LEN);
	*hdr_len = HDR_LEN;
	pthread_mutex_lock(&S.mu);
	int n = (int)S.kept_gens;
	if (n == 0) {
		pthread_mutex_unlock(&S.mu);
		return 0;
	}
	gr_flight_gen **v = malloc((size_t)n * sizeof *v);
	if (!v) {
		pthread_mutex_unlock(&S.mu);
		return -ENOMEM;
	}
	int i = 0;
	for (gr_flight_gen *g = atomic_load_explicit(&S.oldest, memory_order_relaxed); g;
	     g = atomic_load_explicit(&g->next, memory_order_relaxed)) {
		if (i == n)
			_gr_panic("flight recorder: kept list longer than its count (%d)", n);
		atomic_fetch_add(&g->refs, 1);
		v[i++] = g;
	}
	if (i != n)
		_gr_panic("flight recorder: kept list shorter than its count (%d < %d)", i, n);
	pthread_mutex_unlock(&S.mu);
	*out = v;
	return n;
}

void _gr_flight_store_release(gr_flight_gen **gens, int n)
{
	for (int i = 0; i < n; i++)
		gen_unref(gens[i]);
	free(gens);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int _gr_flight_gen_write(const gr_flight_gen *g, int fd)
{
	for (const gr_flight_chunk *c = g->head; c; c = c->next) {
		int r = write_all(fd, c->data, c->len);
		if (r)
			return r;
	}
	return 0;
}

uint64_t _gr_flight_gen_bytes(const gr_flight_gen *g)
{
	return g->bytes;
}

int64_t _gr_flight_store_crash_write(int fd, uint64_t *ngens)
{
	*ngens = 0;
	atomic_store(&g_crashing, 1);  /* seq_cst: nothing published is freed now */
	if (!_gr_flight_store_has_header())
		return -ENODATA;
	int r = write_all(fd, S.header, HDR_LEN);
	if (r)
		return r;
	int64_t total = HDR_LEN;
	/* Bounded walk: the list may grow while we write. */
	uint64_t limit = 1u << 20;
	for (gr_flight_gen *g = atomic_load(&S.oldest); g && limit--;
	     g = atomic_load_explicit(&g->next, memory_order_acquire)) {
		r = _gr_flight_gen_write(g, fd);
		if (r)
			return r;
		total += (int64_t)g->bytes;
		(*ngens)++;
	}
	return total;
}

void _gr_flight_store_stats(gr_flight_stats *st)
{
	pthread_mutex_lock(&S.mu);
	gr_flight_gen *o = atomic_load_explicit(&S.oldest, memory_order_relaxed);
	st->kept_gens = S.kept_gens;
	st->kept_bytes = S.kept_bytes;
	st->first_gen = o ? o->gen : 0;
	st->last_gen = S.newest ? S.newest->gen : 0;
	st->oldest_start_ns = o ? o->start_ns : 0;
	st->dropped_age = S.dropped_age;
	st->dropped_bytes = S.dropped_bytes;
	st->overflowed = S.overflowed;
	st->peak_bytes = atomic_load(&S.peak);
	pthread_mutex_unlock(&S.mu);
	st->cur_bytes = atomic_load(&S.cur_bytes);
	st->alloc_bytes = atomic_load(&S.alloc_bytes);
}
