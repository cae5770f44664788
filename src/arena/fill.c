/*
** src/arena/fill.c: making an active chunk's memory ready to hand out.
**
** The owner of an arena calls _gr_chunk_fill when its cursor needs bytes past
** the chunk's zero limit (zend), and _gr_chunk_shed_head when the chunk
** leaves the active slot full. Three sources, in this order (gr_chunk's
** invariants are in internal/arena.h):
**   slide     the dead head [rw, live), freed arenas' pages, moved ahead of
**             the cursor when the chunk holds no more pages there (below);
**   zero      dirty pages [zend, dend) (recycled or slid), zeroed in blocks
**             just ahead of the cursor;
**   populate  never-touched pages faulted in ahead of the cursor, one system
**             call per window.
** Only the thread using the arena touches its chunk; the per-thread state
** here is thread-local, and the peer test reads other threads' caches
** lock-free (cache.c).
*/
#include "internal/arena.h"

#include <errno.h>
#include <string.h>

#include "internal/os.h"
#include "track.h"

#define GR_ZERO_BLOCK  ((uintptr_t)32 << 10)   /* fits L1d: zeroed lines are still there when written */
#define GR_POP_MIN     ((uintptr_t)64 << 10)   /* populate window floor (populate_until) */

void _gr_arena_zero(uintptr_t p, size_t n)
{
	gr_unpoison(p, n);
	gr_vg_undefined((void *)p, n);
	memset((void *)p, 0, n);
	gr_poison(p, n);
	gr_vg_noaccess((void *)p, n);
}

void _gr_arena_chunk_prepare(uintptr_t rw, size_t len)
{
	if (_gr_arena_cfg.hugepages)
		_gr_os_hugepages(rw, len, true);
	gr_poison(rw, len);
	gr_vg_noaccess((void *)rw, len);
}

static int populate_off;   /* the kernel cannot populate: fault page by page */

/* Past the dirty part the chunk's pages are untouched zero: fault them in
** ahead of the cursor with one system call per window instead of one page
** fault per page. The window grows with the bytes used in this chunk (64 KiB
** to the configuration's cache_window, a quarter of L2: 512 KiB where
** measured), so an arena that stops early leaves at most as much populated
** and unused as it used, and the lines the kernel zeroed are still cached
** when the program writes them (W1 with 2 MiB windows, all of L2: 1.27x the
** time). */
static void populate_until(gr_chunk *c, uintptr_t need)
{
	uintptr_t end = c->base + GR_CHUNK;
	if (__atomic_load_n(&populate_off, __ATOMIC_RELAXED)) {
		c->zend = end;
		return;
	}
	uintptr_t page = _gr_arena_cfg.page;
	uintptr_t w = c->zend - c->base;
	uintptr_t max = (uintptr_t)_gr_arena_cfg.cache_window;
	w = w > max ? max : w < GR_POP_MIN ? GR_POP_MIN : w;
	uintptr_t to = c->zend + w;
	if (to < need)
		to = need;
	to = (to + page - 1) & ~(page - 1);
	if (to > end)
		to = end;
	if (_gr_os_populate(c->zend, to - c->zend) == -ENOSYS) {
		__atomic_store_n(&populate_off, 1, __ATOMIC_RELAXED);
		to = end;
	}
	c->zend = to;
}

/*
** Sliding: recycling a chunk's dead head into the pages its cursor needs
** next. Arenas that continue in a chunk's tail (the reuse list) leave the
** bytes before their start, [rw, live), to freed arenas only. When the cursor
** needs pages beyond all the chunk holds and at least GORT_ARENA_SLIDE bytes
** of dead head have piled up, those pages move to the cursor's side (mremap)
** instead of fresh ones being faulted in, and the head faults. The pages
** zeroed next are then the last ones written (still in L2, where a recycled
** 8 MiB chunk's are not), the chunk holds about that many bytes of pages
** however long the chain of arenas in it, and a use-after-free into the head
** faults as it would in strict mode. Chunks that hold all their pages (as
** recycled full chunks do) never slide: there is nowhere to move to.
**
** A move changes page tables: with another thread of the process running on
** the other CPU, it costs a TLB-shootdown interrupt there and a wait here,
** which on some machines (VMs: ~25 us each) costs more than the zeroing it
** saves. So a thread does not slide while another thread has taken a chunk
** or slid within the last GR_SLIDE_PEER_NS (arena-using threads that run at
** the same time); it faults in fresh pages instead, and chunks recycled from
** then on hold all their pages, the cheapest state when every move
** interrupts another CPU. When sliding resumes, a full chunk whose dead head
** is over GR_SLIDE_SHED x GORT_ARENA_SLIDE bytes sheds it at refill (the
** head faults, its pages go back to the OS), so that the chunks recycled
** after it hold few pages and slide again. Threads that do not use arenas
** are not seen: see docs/arena.md for when to set GORT_ARENA_SLIDE=0.
*/
#define GR_SLIDE_PEER_NS    100000000u
#define GR_SLIDE_SHED       4u

static int slide_off;   /* the kernel cannot move pages: never slide */

static bool slide_on(void)
{
	if (_gr_arena_cfg.slide == 0 || __atomic_load_n(&slide_off, __ATOMIC_RELAXED))
		return false;
	return !_gr_cache_peers_active(_gr_os_now_ns(), GR_SLIDE_PEER_NS);
}

/* Fault [c->rw, c->rw + len) (dead head bytes): the slot word first, so a
** stale access is reported as soon as it can fault. */
static void fault_head(gr_chunk *c, uintptr_t len)
{
	size_t idx = (size_t)_gr_region_slot_of(c->base);
	uint64_t w = _gr_slot_load(idx);
	c->rw += len;
	_gr_slot_store(idx, gr_slot_word(gr_slot_state(w), (unsigned)((c->rw - c->base) / _gr_arena_cfg.page),
	                                 gr_slot_live_pages(w), gr_slot_rec(w)));
	_gr_arena_mapped_add(-(int64_t)len);
}

/* The dead head's length, page-aligned. */
static uintptr_t dead_head(const gr_chunk *c)
{
	uintptr_t dead = c->live & ~(uintptr_t)(_gr_arena_cfg.page - 1);
	return dead > c->rw ? dead - c->rw : 0;
}

/* Move the dead head to [zend, ...) when the cursor needs pages the chunk
** does not hold yet; true when moved ([zend, dend) is then dirty). */
static bool slide_head(gr_chunk *c)
{
	uintptr_t from = c->rw, to = c->zend, end = c->base + GR_CHUNK;
	uintptr_t len = dead_head(c);
	if (len == 0 || len < _gr_arena_cfg.slide || to < c->dend || to >= end ||
	    (to & (_gr_arena_cfg.page - 1)) || !slide_on())
		return false;
	if (len > end - to)
		len = end - to;
	fault_head(c, len);
	int err = _gr_os_move(from, to, len);
	if (err != 0) {
		/* Not moved: fault the head anyway, as the slot word says. */
		_gr_os_decommit(from, len);
		GR_STAT_ADD(released_bytes, len);
		if (err == -ENOSYS)
			__atomic_store_n(&slide_off, 1, __ATOMIC_RELAXED);
		return false;
	}
	GR_STAT_ADD(slid_bytes, len);
	_gr_cache_note_active(_gr_os_now_ns());
	c->dend = to + len;
	return true;
}

/* A full chunk leaving the active slot: shed a big dead head (see above). */
void _gr_chunk_shed_head(gr_chunk *c)
{
	uintptr_t len = dead_head(c);
	if (len < GR_SLIDE_SHED * _gr_arena_cfg.slide || len == 0 || !slide_on())
		return;
	uintptr_t from = c->rw;
	fault_head(c, len);
	_gr_os_decommit(from, len);
	GR_STAT_ADD(released_bytes, len);
}

void _gr_chunk_fill(gr_chunk *c, uintptr_t need)
{
	if (need <= c->zend)
		return;
	slide_head(c);
	if (c->zend < c->dend) {
		uintptr_t to = need + GR_ZERO_BLOCK - 1;
		to -= (to - c->base) % GR_ZERO_BLOCK;
		if (to > c->dend)
			to = c->dend;
		_gr_arena_zero(c->zend, to - c->zend);
		c->zend = to;
		if (need <= c->zend)
			return;
	}
	populate_until(c, need);
}
