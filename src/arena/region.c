/*
** src/arena/region.c: the arena address region, its slot table and the
** quarantine (see src/internal/arena.h for slot states).
**
** Invariants:
**  - The region is reserved once (first arena use) and never unmapped. Only
**    arena chunks and large blocks ever live in it, so a stale arena pointer
**    can never reach malloc memory.
**  - Slots below `frontier` have been handed out at least once; slots at or
**    above it are fresh. The frontier only grows (lock-free CAS).
**  - Freed ranges enter the quarantine FIFO in free order. A range leaves it
**    (oldest first) only when the quarantined bytes exceed the budget, or
**    when the region is otherwise exhausted (then the oldest are taken even
**    under budget: running out of memory would be worse).
**  - `lock` guards the quarantine ring and the recyclable stack only; the
**    allocation and refill paths take it only when fresh address space has
**    run out (never in a normal run) or when recyclable ranges exist.
*/
#include "internal/arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal/env.h"
#include "internal/os.h"
#include "internal/panic.h"
#include "track.h"

gr_config _gr_arena_cfg;
gr_stats _gr_arena_stats;

typedef struct qent {
	uint32_t slot, n;
} qent;

static struct {
	uintptr_t base;
	size_t nslots;
	_Atomic size_t frontier;
	struct slot { _Atomic(uint64_t) w; char pad[56]; } *slots;   /* a line each: no false sharing */
	pthread_mutex_t lock;
	qent *ring;             /* quarantine FIFO, capacity nslots */
	size_t qhead, qcount;
	qent *recyc;            /* ranges that left quarantine, reusable */
	_Atomic size_t nrecyc;
} R = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_err;

static void *map_table(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* fork: no arena lock may be held by a thread that does not exist in the child. */
static void atfork_prepare(void)
{
	_gr_cache_fork_prepare();
	pthread_mutex_lock(&R.lock);
}
static void atfork_parent(void)
{
	pthread_mutex_unlock(&R.lock);
	_gr_cache_fork_parent();
}
static void atfork_child(void)
{
	pthread_mutex_unlock(&R.lock);
	_gr_cache_fork_child();
}

static void do_init(void)
{
	gr_config *c = &_gr_arena_cfg;
	c->page = _gr_os_page_size();
	c->strict = _gr_env_bool("GORT_ARENA_STRICT", false);
	c->signals = _gr_env_bool("GORT_ARENA_SIGNALS", true);
	c->hugepages = _gr_env_bool("GORT_ARENA_HUGEPAGES", false);
	c->prefault = _gr_env_bool("GORT_ARENA_PREFAULT", false);
	c->budget = (uint64_t)1 << 40;
	uint64_t v;
	if (_gr_env_size("GORT_ARENA_QUARANTINE", &v) == 0)
		c->budget = v;
	c->ready_limit = (uint64_t)64 << 20;
	if (_gr_env_size("GORT_ARENA_READY", &v) == 0)
		c->ready_limit = v;
	/* A quarter of the per-core L2 (512 KiB where 2 MiB), the size of a
	** window whose lines are still cached when the program reaches them:
	** the populate window's bound and sliding's default. */
	long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
	uint64_t q = l2 > 0 ? (uint64_t)l2 / 4 : (uint64_t)512 << 10;
	q = q < ((uint64_t)128 << 10) ? (uint64_t)128 << 10 : q > ((uint64_t)2 << 20) ? (uint64_t)2 << 20 : q;
	c->cache_window = q & ~(c->page - 1);
	c->slide = c->cache_window;
	if (_gr_env_size("GORT_ARENA_SLIDE", &v) == 0)
		c->slide = v;
	c->valgrind = gr_on_valgrind();
	c->checked = GR_ASAN || c->valgrind;

	/* Region = budget + headroom for live memory, bounded by RLIMIT_AS. */
	uint64_t headroom = c->budget / 8 > ((uint64_t)4 << 30) ? c->budget / 8 : ((uint64_t)4 << 30);
	uint64_t want = c->budget + headroom;
	uint64_t room = _gr_os_as_room();
	if (room != UINT64_MAX && want > room / 2)
		want = room / 2;
	want &= ~(uint64_t)(GR_CHUNK - 1);
	int err = -ENOMEM;
	while (want >= 2 * GR_CHUNK) {
		err = _gr_os_reserve(want, GR_CHUNK, &R.base);
		if (err == 0)
			break;
		want = (want / 2) & ~(uint64_t)(GR_CHUNK - 1);
	}
	if (err) {
		init_err = err;
		return;
	}
	R.nslots = want / GR_CHUNK;
	if (c->budget > want - want / 8)
		c->budget = want - want / 8;   /* keep room for live memory */
	R.slots = map_table(R.nslots * sizeof *R.slots);
	R.ring = map_table(R.nslots * sizeof *R.ring);
	R.recyc = map_table(R.nslots * sizeof *R.recyc);
	if (!R.slots || !R.ring || !R.recyc) {
		init_err = -ENOMEM;
		return;
	}
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	if (c->signals)
		_gr_fault_install();
}

int _gr_arena_init(void)
{
	pthread_once(&init_once, do_init);
	return init_err;
}

uintptr_t _gr_region_base(void) { return R.base; }
size_t _gr_region_nslots(void) { return R.nslots; }
uint64_t _gr_region_bytes(void) { return (uint64_t)R.nslots * GR_CHUNK; }

long _gr_region_slot_of(uintptr_t p)
{
	if (!R.slots || p < R.base || p - R.base >= (uint64_t)R.nslots * GR_CHUNK)
		return -1;
	return (long)((p - R.base) / GR_CHUNK);
}

uint64_t _gr_slot_load(size_t idx)
{
	return atomic_load_explicit(&R.slots[idx].w, memory_order_acquire);
}

void _gr_slot_store(size_t idx, uint64_t w)
{
	atomic_store_explicit(&R.slots[idx].w, w, memory_order_release);
}

void _gr_slots_mark(uintptr_t base, uint32_t n, uint64_t w)
{
	size_t idx = (base - R.base) / GR_CHUNK;
	for (uint32_t i = 0; i < n; i++)
		_gr_slot_store(idx + i, w);
}

/* Caller holds R.lock. First fit among recyclable ranges. */
static bool take_recyc_locked(uint32_t n, uintptr_t *out)
{
	size_t cnt = atomic_load_explicit(&R.nrecyc, memory_order_relaxed);
	for (size_t i = cnt; i-- > 0;) {
		qent *e = &R.recyc[i];
		if (e->n < n)
			continue;
		*out = R.base + (uintptr_t)e->slot * GR_CHUNK;
		e->slot += n;
		e->n -= n;
		if (e->n == 0) {
			*e = R.recyc[cnt - 1];
			atomic_store_explicit(&R.nrecyc, cnt - 1, memory_order_relaxed);
		}
		return true;
	}
	return false;
}

/* Caller holds R.lock: move the oldest quarantined range to the recyclable stack. */
static bool pop_oldest_locked(void)
{
	if (R.qcount == 0)
		return false;
	qent e = R.ring[R.qhead];
	R.qhead = (R.qhead + 1) % R.nslots;
	R.qcount--;
	uint64_t bytes = (uint64_t)e.n * GR_CHUNK;
	GR_STAT_SUB(quarantine_bytes, bytes);
	GR_STAT_ADD(quarantine_recycled, bytes);
	_gr_slots_mark(R.base + (uintptr_t)e.slot * GR_CHUNK, e.n, gr_slot_word(GR_SLOT_UNUSED, 0, 0, 0));
	size_t cnt = atomic_load_explicit(&R.nrecyc, memory_order_relaxed);
	R.recyc[cnt] = e;
	atomic_store_explicit(&R.nrecyc, cnt + 1, memory_order_release);
	return true;
}

int _gr_region_take(uint32_t n, uintptr_t *out)
{
	if (n == 0 || n > R.nslots)
		return -ENOMEM;
	if (atomic_load_explicit(&R.nrecyc, memory_order_acquire) > 0) {
		pthread_mutex_lock(&R.lock);
		bool ok = take_recyc_locked(n, out);
		pthread_mutex_unlock(&R.lock);
		if (ok)
			return 0;
	}
	size_t f = atomic_load_explicit(&R.frontier, memory_order_relaxed);
	while (f + n <= R.nslots) {
		if (atomic_compare_exchange_weak_explicit(&R.frontier, &f, f + n,
		                                          memory_order_relaxed, memory_order_relaxed)) {
			*out = R.base + (uintptr_t)f * GR_CHUNK;
			return 0;
		}
	}
	/* Out of fresh address space: take quarantined ranges early, oldest first. */
	pthread_mutex_lock(&R.lock);
	bool ok = take_recyc_locked(n, out);
	while (!ok && pop_oldest_locked())
		ok = take_recyc_locked(n, out);
	pthread_mutex_unlock(&R.lock);
	return ok ? 0 : -ENOMEM;
}

void _gr_region_give_back(uintptr_t base, uint32_t n)
{
	_gr_slots_mark(base, n, gr_slot_word(GR_SLOT_UNUSED, 0, 0, 0));
	pthread_mutex_lock(&R.lock);
	size_t cnt = atomic_load_explicit(&R.nrecyc, memory_order_relaxed);
	R.recyc[cnt] = (qent){ (uint32_t)((base - R.base) / GR_CHUNK), n };
	atomic_store_explicit(&R.nrecyc, cnt + 1, memory_order_release);
	pthread_mutex_unlock(&R.lock);
}

void _gr_region_quarantine(const gr_range *r, size_t n, uint32_t rec)
{
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		_gr_slots_mark(r[i].base, r[i].nslots, gr_slot_word(GR_SLOT_QUAR, 0, 0, rec));
	pthread_mutex_lock(&R.lock);
	for (size_t i = 0; i < n; i++) {
		R.ring[(R.qhead + R.qcount) % R.nslots] =
			(qent){ (uint32_t)((r[i].base - R.base) / GR_CHUNK), r[i].nslots };
		R.qcount++;
		GR_STAT_ADD(quarantine_bytes, (uint64_t)r[i].nslots * GR_CHUNK);
	}
	while (atomic_load_explicit(&_gr_arena_stats.quarantine_bytes, memory_order_relaxed) >
	       _gr_arena_cfg.budget && pop_oldest_locked())
		;
	pthread_mutex_unlock(&R.lock);
}
