/*
** src/arena/arena.c: the public arena API (include/gort/arena.h).
**
** An arena is a handle holding: the bump pair (cur, lim) that the inline
** fast path in the public header uses, the active chunk, and the ranges it
** filled (full chunks, large blocks). Invariants:
**  - Normal mode: b.cur is the cursor in the active chunk and b.lim the end
**    of the zeroed, not yet handed out memory after it (lim <= chunk end);
**    the inline path may hand out [cur, lim) without calling us.
**  - Checked mode (ASan, valgrind) and handles without a chunk: b.cur = 1,
**    b.lim = 0, so every call lands in gort__arena_alloc_slow; the real
**    cursor is act.cur.
**  - Freed handle: magic == GR_MAGIC_FREED and b = {1, 0}, so the inline
**    path falls into the slow path, which aborts naming the misuse.
** Only the thread currently using an arena touches it (as in Go).
*/
#include "internal/arena.h"

#include <gort/arena.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal/hooks.h"
#include "internal/os.h"
#include "internal/panic.h"
#include "track.h"

#define GR_MAGIC_LIVE  0x74726f67u   /* "gort" */
#define GR_MAGIC_FREED 0x65657266u   /* "free" */

struct gr_hook {
	void (*fn)(void *);
	void *arg;
	struct gr_hook *next;
};

struct gort_arena {
	struct gort__arena_bump b;   /* must be first: the inline fast path */
	uint32_t magic;
	uint32_t strict;
	bool has_act;
	gr_chunk act;
	gr_range *ranges;            /* full chunks and large blocks */
	uint32_t nranges, cap;
	struct gr_hook *hooks;
};

/* ---- helpers ---- */

void _gr_arena_mapped_add(int64_t d)
{
	uint64_t v = d >= 0 ? GR_STAT_ADD(live_bytes, (uint64_t)d) + (uint64_t)d
	                    : GR_STAT_SUB(live_bytes, (uint64_t)-d) - (uint64_t)-d;
	_gr_heap_changed(v);
}

uint64_t _gr_arena_live_bytes(void)
{
	return atomic_load_explicit(&_gr_arena_stats.live_bytes, memory_order_relaxed);
}

static void check_handle(const gort_arena *a, const char *fn)
{
	if (!a)
		_gr_panic("%s: NULL arena", fn);
	if (GORT_LIKELY(a->magic == GR_MAGIC_LIVE))
		return;
	if (a->magic == GR_MAGIC_FREED)
		_gr_panic("%s called on a freed arena %p (use of an arena handle after gort_arena_free)",
		          fn, (const void *)a);
	_gr_panic("%s: %p is not a gort arena (corrupted or never created)", fn, (const void *)a);
}

static uintptr_t cursor(const gort_arena *a)
{
	return _gr_arena_cfg.checked ? a->act.cur : a->b.cur;
}

/* Publish the active chunk's cursor and zero limit to the inline path. */
static void publish(gort_arena *a)
{
	if (_gr_arena_cfg.checked || !a->has_act) {
		a->b.cur = 1;
		a->b.lim = 0;
	} else {
		a->b.cur = a->act.cur;
		a->b.lim = a->act.zend;
	}
}

static int push_range(gort_arena *a, gr_range r)
{
	if (a->nranges == a->cap) {
		uint32_t ncap = a->cap ? a->cap * 2 : 8;
		gr_range *n = realloc(a->ranges, ncap * sizeof *n);
		if (!n)
			return -ENOMEM;
		a->ranges = n;
		a->cap = ncap;
	}
	a->ranges[a->nranges++] = r;
	return 0;
}

static void *alloc_large(gort_arena *a, size_t size)
{
	size_t page = _gr_arena_cfg.page;
	if (size > (size_t)_gr_region_bytes()) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = (size + page - 1) & ~(page - 1);
	uint32_t n = (uint32_t)((len + GR_CHUNK - 1) / GR_CHUNK);
	uintptr_t base;
	if (a->nranges == a->cap && push_range(a, (gr_range){0}) == 0)
		a->nranges--;   /* make room first so the push below cannot fail */
	if (a->nranges == a->cap || _gr_region_take(n, &base) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (_gr_os_commit(base, len) != 0) {
		_gr_region_give_back(base, n);
		errno = ENOMEM;
		return NULL;
	}
	if (_gr_arena_cfg.hugepages)
		_gr_os_hugepages(base, len, true);
	_gr_slots_mark(base, n, gr_slot_word(GR_SLOT_LIVE, 0, 0, 0));
	push_range(a, (gr_range){ base, base, base + len, n, 1 });
	GR_STAT_ADD(large_allocs, 1);
	_gr_arena_mapped_add((int64_t)len);
	if (_gr_arena_cfg.valgrind)
		gr_vg_pool_alloc(a, (void *)base, size);
	return (void *)base;
}

/* The active chunk cannot serve the request: it becomes full, a new one
** becomes active. 0 or -ENOMEM (the arena is unchanged then). */
static int refill(gort_arena *a)
{
	if (a->has_act) {
		if (a->nranges == a->cap && push_range(a, (gr_range){0}) == 0)
			a->nranges--;
		if (a->nranges == a->cap)
			return -ENOMEM;
	}
	gr_chunk c;
	bool reused;
	int err = _gr_cache_get_chunk(&c, &reused);
	if (err)
		return err;
	if (a->has_act) {
		a->act.cur = cursor(a);
		_gr_chunk_shed_head(&a->act);
		push_range(a, (gr_range){ a->act.base, a->act.rw, gr_chunk_dirty_end(&a->act), 1, 0 });
	}
	a->act = c;
	a->has_act = true;
	publish(a);
	return 0;
}

void *gort__arena_alloc_slow(gort_arena *a, size_t size, size_t align)
{
	check_handle(a, "gort_arena_alloc");
	if (align == 0 || (align & (align - 1)) != 0 || align > GORT_ARENA_MAX_ALIGN) {
		errno = EINVAL;
		return NULL;
	}
	if (size > GR_LARGE_MIN)
		return alloc_large(a, size);
	for (int tries = 0; tries < 4; tries++) {
		if (a->has_act) {
			a->act.cur = cursor(a);
			uintptr_t end = a->act.base + GR_CHUNK;
			uintptr_t p = (a->act.cur + (align - 1)) & ~(uintptr_t)(align - 1);
			if (p <= end && size <= end - p) {
				_gr_chunk_fill(&a->act, p + size);
				a->act.cur = p + size;
				publish(a);
				gr_unpoison(p, size);
				if (_gr_arena_cfg.valgrind)
					gr_vg_pool_alloc(a, (void *)p, size);
				return (void *)p;
			}
		}
		if (refill(a) != 0) {
			errno = ENOMEM;
			return NULL;
		}
	}
	_gr_panic("gort_arena_alloc: internal error: fresh chunk cannot hold %zu bytes", size);
}

#undef gort_arena_alloc
void *gort_arena_alloc(gort_arena *a, size_t size, size_t align)
{
	return gort__arena_alloc_inline(a, size, align);
}

void *gort_arena_alloc_array(gort_arena *a, size_t n, size_t elem_size, size_t align)
{
	size_t total;
	if (__builtin_mul_overflow(n, elem_size, &total)) {
		check_handle(a, "gort_arena_alloc_array");
		errno = EOVERFLOW;
		return NULL;
	}
	return gort__arena_alloc_inline(a, total, align);
}

char *gort_arena_strndup(gort_arena *a, const char *s, size_t n)
{
	if (!s) {
		check_handle(a, "gort_arena_strndup");
		errno = EINVAL;
		return NULL;
	}
	size_t len = strnlen(s, n);
	char *d = gort__arena_alloc_inline(a, len + 1, 1);
	if (d)
		memcpy(d, s, len);   /* the terminator is already zero */
	return d;
}

char *gort_arena_strdup(gort_arena *a, const char *s)
{
	return gort_arena_strndup(a, s, SIZE_MAX);
}

bool gort_arena_is_strict(const gort_arena *a)
{
	check_handle(a, "gort_arena_is_strict");
	return a->strict != 0;
}

/* ---- lifecycle ---- */

gort_arena *gort_arena_new_ex(unsigned flags)
{
	if ((flags & ~(unsigned)(GORT_ARENA_STRICT | GORT_ARENA_NONSTRICT)) ||
	    (flags & GORT_ARENA_STRICT && flags & GORT_ARENA_NONSTRICT)) {
		errno = EINVAL;
		return NULL;
	}
	int err = _gr_arena_init();
	if (err) {
		errno = -err;
		return NULL;
	}
	gort_arena *a = _gr_cache_handle_get();
	if (a) {
		gr_range *keep = a->ranges;
		uint32_t cap = a->cap;
		memset(a, 0, sizeof *a);
		a->ranges = keep;
		a->cap = cap;
	} else {
		a = calloc(1, sizeof *a);
		if (!a) {
			errno = ENOMEM;
			return NULL;
		}
	}
	a->magic = GR_MAGIC_LIVE;
	a->strict = (flags & GORT_ARENA_STRICT) || (_gr_arena_cfg.strict && !(flags & GORT_ARENA_NONSTRICT));
	/* Continue in the last freed arena's tail right away, so the first
	** allocation takes the inline path (checked mode: lazily, via refill). */
	if (!_gr_arena_cfg.checked && _gr_cache_take_tail(&a->act))
		a->has_act = true;
	publish(a);
	if (_gr_arena_cfg.valgrind)
		gr_vg_pool_create(a);
	return a;
}

gort_arena *gort_arena_new(void)
{
	return gort_arena_new_ex(0);
}

void _gr_arena_handle_destroy(gort_arena *a)
{
	free(a->ranges);
	free(a);
}

int gort_arena_on_free(gort_arena *a, void (*fn)(void *), void *arg)
{
	check_handle(a, "gort_arena_on_free");
	if (!fn)
		return -EINVAL;
	struct gr_hook *h = gort__arena_alloc_inline(a, sizeof *h, _Alignof(struct gr_hook));
	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->arg = arg;
	h->next = a->hooks;
	a->hooks = h;
	return 0;
}

/* Give back everything the arena holds; the handle stays valid and empty. */
static void release(gort_arena *a)
{
	while (a->hooks) {
		struct gr_hook *h = a->hooks;
		a->hooks = h->next;
		h->fn(h->arg);
	}
	size_t page = _gr_arena_cfg.page;
	uint32_t rec = 0;
	if (a->nranges > 0 || a->strict)
		rec = _gr_fault_record_free(2);
	for (uint32_t i = 0; i < a->nranges; i++) {
		gr_range *r = &a->ranges[i];
		gr_poison(r->rw, (size_t)r->nslots * GR_CHUNK - (r->rw - r->base));
	}
	_gr_cache_retire_ranges(a->ranges, a->nranges, rec);
	a->nranges = 0;
	if (a->has_act) {
		gr_chunk c = a->act;
		c.cur = cursor(a);
		gr_poison(c.rw, c.cur - c.rw);
		uintptr_t end = c.base + GR_CHUNK;
		if (a->strict) {
			/* Fault the pages this arena (and earlier ones) used. */
			uintptr_t cut = (c.cur + page - 1) & ~(uintptr_t)(page - 1);
			if (cut > c.rw) {
				_gr_os_decommit(c.rw, cut - c.rw);
				GR_STAT_ADD(released_bytes, cut - c.rw);
				_gr_arena_mapped_add(-(int64_t)(cut - c.rw));
			}
			size_t idx = (size_t)_gr_region_slot_of(c.base);
			_gr_slot_store(idx, gr_slot_word(GR_SLOT_LIVE, (unsigned)((cut - c.base) / page), 0, rec));
			c.rw = c.cur = cut;
			if (c.zend < cut)
				c.zend = cut;
			if (c.dend < cut)
				c.dend = cut;
		}
		if (end - c.cur >= GR_MIN_TAIL_BYTES) {
			_gr_cache_put_tail(&c, rec);
		} else {
			gr_range r = { c.base, c.rw, gr_chunk_dirty_end(&c), 1, 0 };
			_gr_cache_retire(&r, rec);
		}
		a->has_act = false;
	}
	if (_gr_arena_cfg.valgrind) {
		gr_vg_pool_destroy(a);
	}
	publish(a);
}

void gort_arena_free(gort_arena *a)
{
	if (!a)
		return;
	if (a->magic == GR_MAGIC_FREED)
		_gr_panic("double free of arena %p (gort_arena_free called twice)", (void *)a);
	check_handle(a, "gort_arena_free");
	release(a);
	a->magic = GR_MAGIC_FREED;
	a->b.cur = 1;
	a->b.lim = 0;
	_gr_cache_handle_put(a);
}

void gort_arena_reset(gort_arena *a)
{
	check_handle(a, "gort_arena_reset");
	release(a);
	if (_gr_arena_cfg.valgrind)
		gr_vg_pool_create(a);
}

/* ---- queries ---- */

bool gort_arena_contains(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	long idx = _gr_region_slot_of(x);
	if (idx < 0)
		return false;
	uint64_t w = _gr_slot_load((size_t)idx);
	if (gr_slot_state(w) != GR_SLOT_LIVE)
		return false;
	uintptr_t base = _gr_region_base() + (uintptr_t)idx * GR_CHUNK;
	uintptr_t lo = base + (uintptr_t)(gr_slot_live_pages(w) > gr_slot_fault_pages(w)
	                                  ? gr_slot_live_pages(w) : gr_slot_fault_pages(w)) * _gr_arena_cfg.page;
	return x >= lo;
}

void *gort_arena_clone(const void *p, size_t size)
{
	if (!gort_arena_contains(p))
		return (void *)p;
	void *c = malloc(size ? size : 1);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	memcpy(c, p, size);
	return c;
}

void gort_arena_stats_get(gort_arena_stats *out)
{
	gr_stats *s = &_gr_arena_stats;
#define LD(f) atomic_load_explicit(&s->f, memory_order_relaxed)
	memset(out, 0, sizeof *out);
	_gr_cache_counts(&out->arenas_created, &out->arenas_freed, &out->chunks_reused, &out->reuse_bytes);
	out->arenas_live = out->arenas_created - out->arenas_freed;
	out->chunks_fresh = LD(chunks_fresh);
	out->chunks_recycled = LD(chunks_recycled);
	out->large_allocs = LD(large_allocs);
	out->live_bytes = LD(live_bytes);
	out->quarantine_bytes = LD(quarantine_bytes);
	out->quarantine_recycled = LD(quarantine_recycled);
	out->ready_bytes = LD(ready_bytes);
	out->released_bytes = LD(released_bytes);
	out->faults_reported = LD(faults_reported);
	out->chunks_prefaulted = LD(chunks_prefaulted);
	out->slid_bytes = LD(slid_bytes);
#undef LD
	out->quarantine_budget = _gr_arena_cfg.budget;
	out->ready_limit = _gr_arena_cfg.ready_limit;
	out->region_bytes = _gr_region_bytes();
}

void gort_arena_trim(void)
{
	if (_gr_arena_init() == 0)
		_gr_cache_trim_all();
}
