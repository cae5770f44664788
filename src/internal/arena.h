/*
** src/internal/arena.h: the arena module's internal interfaces, shared by
** the files in src/arena (and readable by other modules for _gr_arena_live_bytes).
**
** Address space. All arena memory lives in one reservation, the region,
** divided into 8 MiB slots. A chunk is one slot; a large block is a run of
** slots. Every slot has one atomic state word (gr_slot_*), written by the
** thread that owns the slot and read lock-free by gort_arena_contains and the
** SIGSEGV handler. Slot states:
**   UNUSED  reserved, inaccessible, not handed out (fresh or recyclable)
**   LIVE    owned by an arena: bytes from live_start are that arena's
**   SPARE   accessible, on a reuse or ready list, owned by no arena
**   QUAR    faulted and in quarantine (any access is a use-after-free)
** In any state, the first fault_pages pages of a chunk may already be faulted
** by strict frees or by sliding (fill.c); that prefix only grows while the
** slot is handed out.
**
** Chunk memory invariants (gr_chunk): base <= rw <= live <= cur <= zend <= end
** (live: where the owning arena began; what lies before it belongs to freed
** arenas, and sliding may move those pages ahead and advance rw up to it);
** [rw, end) accessible; [cur, zend) zero and not handed out; [zend, dend)
** dirty (recycled or slid pages, zeroed lazily in blocks before use);
** [max(zend,dend), end) never touched since mapped (zero).
*/
#ifndef GORT_INTERNAL_ARENA_H
#define GORT_INTERNAL_ARENA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GR_CHUNK       ((uintptr_t)8 << 20)
#define GR_LARGE_MIN   (GR_CHUNK / 4)   /* requests above this get their own mapping */
#define GR_MIN_TAIL_BYTES 256           /* shorter active-chunk tails are not passed on */

enum { GR_SLOT_UNUSED = 0, GR_SLOT_LIVE = 1, GR_SLOT_SPARE = 2, GR_SLOT_QUAR = 3 };

/* slot word: state (bits 0-3) | fault_pages (8-19) | live_start pages (20-31) | free record (32-63) */
static inline uint64_t gr_slot_word(unsigned state, unsigned fault_pages, unsigned live_pages, uint32_t rec)
{
	return (uint64_t)state | ((uint64_t)(fault_pages & 0xfff) << 8) |
	       ((uint64_t)(live_pages & 0xfff) << 20) | ((uint64_t)rec << 32);
}
static inline unsigned gr_slot_state(uint64_t w) { return (unsigned)(w & 0xf); }
static inline unsigned gr_slot_fault_pages(uint64_t w) { return (unsigned)((w >> 8) & 0xfff); }
static inline unsigned gr_slot_live_pages(uint64_t w) { return (unsigned)((w >> 20) & 0xfff); }
static inline uint32_t gr_slot_rec(uint64_t w) { return (uint32_t)(w >> 32); }

typedef struct gr_chunk {
	uintptr_t base, rw, cur, zend, dend;
	uintptr_t live;   /* where the owning arena began in it (own()); [rw, live) is dead */
} gr_chunk;

/* End of the bytes of c that may be non-zero (handed out, or dirty from a
** previous life and not yet zeroed). */
static inline uintptr_t gr_chunk_dirty_end(const gr_chunk *c)
{
	if (c->zend < c->dend)
		return c->cur > c->dend ? c->cur : c->dend;
	return c->cur;
}

/* A range an arena holds besides its active chunk. */
typedef struct gr_range {
	uintptr_t base;      /* slot-aligned start */
	uintptr_t rw;        /* first accessible byte */
	uintptr_t used;      /* end of the bytes handed out (dirty end) */
	uint32_t nslots;
	uint32_t large;      /* 1: large block (own mapping), never recycled */
} gr_range;

/* ---- configuration (region.c), fixed after _gr_arena_init ---- */
typedef struct gr_config {
	bool strict;          /* GORT_ARENA_STRICT */
	bool signals;         /* GORT_ARENA_SIGNALS */
	bool hugepages;       /* GORT_ARENA_HUGEPAGES */
	bool prefault;        /* GORT_ARENA_PREFAULT: background thread faults in the next fresh chunk */
	bool checked;         /* ASan build or valgrind: every allocation out of line */
	bool valgrind;        /* running on valgrind: describe arenas as mempools */
	uint64_t budget;      /* quarantine budget, bytes */
	uint64_t ready_limit; /* bound of ready lists, bytes */
	uint64_t slide;       /* GORT_ARENA_SLIDE: smallest dead head moved ahead (0: never) */
	uint64_t cache_window; /* L2 / 4, in [128 KiB, 2 MiB]: bytes still cached when reached */
	uint64_t page;
} gr_config;
extern gr_config _gr_arena_cfg;

/* ---- process-wide counters (region.c) ---- */
typedef struct gr_stats {
	/* Only events at chunk granularity or rarer: frequent per-arena counts
	** (arenas created/freed, reuse-list traffic) live in the thread caches,
	** so two threads never share a hot cache line. */
	_Atomic uint64_t chunks_fresh, chunks_recycled, large_allocs;
	_Atomic uint64_t live_bytes, quarantine_bytes, quarantine_recycled;
	_Atomic uint64_t ready_bytes, released_bytes, faults_reported;
	_Atomic uint64_t chunks_prefaulted, slid_bytes;
} gr_stats;
extern gr_stats _gr_arena_stats;
#define GR_STAT_ADD(f, v) atomic_fetch_add_explicit(&_gr_arena_stats.f, (uint64_t)(v), memory_order_relaxed)
#define GR_STAT_SUB(f, v) atomic_fetch_sub_explicit(&_gr_arena_stats.f, (uint64_t)(v), memory_order_relaxed)

/* ---- region (region.c) ---- */
int  _gr_arena_init(void);             /* idempotent; 0 or -errno */
uintptr_t _gr_region_base(void);
size_t _gr_region_nslots(void);
uint64_t _gr_region_bytes(void);
/* Slot index of p, or -1 when p is outside the region. Signal-safe. */
long _gr_region_slot_of(uintptr_t p);
uint64_t _gr_slot_load(size_t idx);
void _gr_slot_store(size_t idx, uint64_t w);
/* Take n contiguous never-handed-out (or recycled) slots; inaccessible. */
int  _gr_region_take(uint32_t n, uintptr_t *out);
/* Give back slots that were never handed out to a user (inaccessible). */
void _gr_region_give_back(uintptr_t base, uint32_t n);
/* Put already-faulted ranges into quarantine (one lock for the batch);
** pushes the oldest out of quarantine while the budget is exceeded. */
void _gr_region_quarantine(const gr_range *r, size_t n, uint32_t rec);
/* Mark a run of slots with one state word. */
void _gr_slots_mark(uintptr_t base, uint32_t n, uint64_t w);

/* ---- per-thread caches (cache.c) ---- */
/* A chunk for a new active chunk: reuse list, ready list, then fresh. The
** slot is marked LIVE. 0 or -ENOMEM. */
int  _gr_cache_get_chunk(gr_chunk *out, bool *reused);
/* Only from the reuse list; false when it is empty. */
bool _gr_cache_take_tail(gr_chunk *out);
/* Pass an unused tail on (reuse list). */
void _gr_cache_put_tail(const gr_chunk *c, uint32_t rec);
/* Retire a full chunk: fault it, recycle its pages when the ready list has
** room. Fills *q for the caller's quarantine batch. */
void _gr_cache_retire(const gr_range *r, uint32_t rec);
/* The same for n ranges freed together (r is scratch: reordered). Adjacent
** ranges that go back to the OS are decommitted with one call; one
** quarantine lock for the batch. */
void _gr_cache_retire_ranges(gr_range *r, uint32_t n, uint32_t rec);
/* This thread took a chunk or moved pages at time now (ns). */
void _gr_cache_note_active(uint64_t now);
/* Did another thread take a chunk or move pages within window ns of now?
** Lock-free; O(threads that used arenas). */
bool _gr_cache_peers_active(uint64_t now, uint64_t window);
/* Per-thread counts summed over every cache (O(threads that used arenas)). */
void _gr_cache_counts(uint64_t *created, uint64_t *freed, uint64_t *reused, uint64_t *reuse_bytes);
/* Accessible arena memory changed by d bytes (chunks mapped or faulted). */
void _gr_arena_mapped_add(int64_t d);
/* Counts a new arena; returns a recycled handle or NULL. */
struct gort_arena *_gr_cache_handle_get(void);   /* NULL: allocate a new one */
void _gr_arena_handle_destroy(struct gort_arena *a); /* arena.c: free() a retired handle */
void _gr_cache_handle_put(struct gort_arena *a);
void _gr_cache_trim_all(void);
void _gr_cache_fork_prepare(void);   /* pthread_atfork handlers */
void _gr_cache_fork_parent(void);
void _gr_cache_fork_child(void);

/* ---- filling the active chunk (fill.c), by the arena's owner ---- */
/* Make [c->cur, need) zero and present (need <= chunk end): slide the dead
** head ahead, zero dirty pages, or fault in fresh ones. */
void _gr_chunk_fill(gr_chunk *c, uintptr_t need);
/* c leaves the active slot full: fault a big dead head (its pages go back to
** the OS) so that the pages recycled from c are few and slide again. */
void _gr_chunk_shed_head(gr_chunk *c);
/* Zero [p, p+n) (sanitizer-aware). */
void _gr_arena_zero(uintptr_t p, size_t n);
/* Make [rw, end) of a freshly taken chunk ready for use (hugepages, poison). */
void _gr_arena_chunk_prepare(uintptr_t rw, size_t len);

/* ---- faults and free records (fault.c) ---- */
void _gr_fault_install(void);
/* Capture the calling stack as a free record; returns its id (never 0). */
uint32_t _gr_fault_record_free(int skip);

#endif
