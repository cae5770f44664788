/*
** src/arena/cache.c: per-thread caches of chunks and arena handles, and the
** idle trimmer.
**
** Each thread that uses arenas owns one gr_tcache (found through a TLS
** pointer). It holds:
**   reuse   unused tails of active chunks of freed arenas (Go's reuse list),
**           at most GR_REUSE_MAX; LIFO so the next arena continues where the
**           last one stopped, in warm cache lines.
**   ready   chunks whose physical pages were moved from a retired chunk to a
**           fresh address (dirty, zeroed lazily by the arena that takes them).
**           Process-wide bound: _gr_arena_cfg.ready_limit bytes.
**   handles freed arena handles, FIFO of GR_HANDLES; a handle is recycled
**           only when it is the oldest, so calls on recently freed handles
**           are caught (its magic says freed).
**   pf      one fresh chunk faulted in ahead of use by the background thread
**           (GORT_ARENA_PREFAULT), for a thread that keeps taking fresh
**           chunks. Handed over through pf_state, lock-free:
**           EMPTY -owner-> WANTED -bg-> BUSY -bg-> READY -owner or trimmer-> EMPTY;
**           pf is written only in BUSY (by the background thread) and read
**           only after the CAS out of READY. Counted in ready_bytes, so it
**           stays under the ready bound.
**   active_ns when the owner last took a chunk or slid one's head (0: its
**           thread exited); other threads read it, lock-free, walking the
**           registry (nodes are published with a release store and never
**           unlinked), to tell whether a peer runs arenas now (fill.c).
** No global lock on any of this, and no locked instruction on the owner's
** side: see tc_lock below for the owner/trimmer protocol. Caches are never
** freed: an exiting thread orphans its cache and the next new thread adopts
** it. The background thread (started when a cache first holds spare memory or
** wants a prefaulted chunk) produces wanted chunks when woken (a futex on
** bg_seq, no lock), and once a second empties the lists of every cache that
** saw no activity since its previous pass, returning the memory to the OS.
** Lock order: pf_lock, reg_lock, then the region lock.
*/
#include "internal/arena.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal/os.h"
#include "internal/panic.h"
#include "internal/trace.h"
#include "track.h"

#define GR_REUSE_MAX 4
#define GR_READY_MAX 16
#define GR_HANDLES   1024
#define GR_PF_STREAK 2      /* fresh chunks in a row before asking for a prefaulted one */

enum { PF_EMPTY = 0, PF_WANTED = 1, PF_BUSY = 2, PF_READY = 3 };

typedef struct gr_tcache {
	_Atomic int busy;            /* owner inside a list operation */
	_Atomic int trimming;        /* a trimmer owns the lists */
	gr_chunk reuse[GR_REUSE_MAX];
	int nreuse;
	gr_chunk ready[GR_READY_MAX];
	int nready;
	_Atomic uint64_t tick;       /* bumped by the owner on list activity */
	uint64_t seen;               /* trimmer: tick at its previous pass */
	struct gort_arena *handles[GR_HANDLES];
	unsigned hhead, hcount;
	/* counts: written by the owner (or the trimmer under lock), read by stats */
	_Atomic uint64_t n_created, n_freed, n_reused, reuse_bytes;
	struct gr_tcache *next;      /* registry list (never unlinked) */
	bool orphan;
	unsigned fresh_streak;       /* owner: fresh chunks taken in a row */
	_Atomic int pf_state;        /* PF_*: see the file comment */
	gr_chunk pf;
	_Atomic uint64_t active_ns;  /* owner: when it last took a chunk or slid (0: exited) */
} gr_tcache;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pf_lock = PTHREAD_MUTEX_INITIALIZER;   /* held while producing a chunk */
static _Atomic unsigned bg_seq;   /* futex word: bumped when a chunk is wanted */
static _Atomic bool pf_off;       /* the kernel cannot populate: no prefaulting */
static gr_tcache *reg_head;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static _Atomic int trimmer_started;
static __thread gr_tcache *tc;

/* nready/nreuse are written with relaxed atomic stores because the trimmer
** and take_tail peek at them outside the exclusion protocol. */
static inline int ld_n(const int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void st_n(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

/* Single-writer counter update: no read-modify-write on a shared line. */
static void cnt_add(_Atomic uint64_t *v, int64_t d)
{
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + (uint64_t)d,
	                      memory_order_relaxed);
}

void _gr_cache_counts(uint64_t *created, uint64_t *freed, uint64_t *reused, uint64_t *reuse_bytes)
{
	uint64_t a = 0, b = 0, c = 0, d = 0;
	pthread_mutex_lock(&reg_lock);
	for (gr_tcache *t = reg_head; t; t = t->next) {
		a += atomic_load_explicit(&t->n_created, memory_order_relaxed);
		b += atomic_load_explicit(&t->n_freed, memory_order_relaxed);
		c += atomic_load_explicit(&t->n_reused, memory_order_relaxed);
		d += atomic_load_explicit(&t->reuse_bytes, memory_order_relaxed);
	}
	pthread_mutex_unlock(&reg_lock);
	*created = a;
	*freed = b;
	*reused = c;
	*reuse_bytes = d;
}

/*
** Owner/trimmer exclusion without a locked instruction on the owner's side
** (an xchg there cost ~80 ns per arena free: it drains the store buffer full
** of the program's fresh writes). Asymmetric Dekker: the owner stores busy=1,
** then reads trimming behind only a compiler barrier; the trimmer stores
** trimming=1, then runs membarrier(PRIVATE_EXPEDITED), which executes a full
** barrier on every running thread, then reads busy. Either the trimmer sees
** busy=1 or the owner sees trimming=1. Without membarrier both sides use a
** full fence.
*/
static bool have_membarrier;

static void heavy_barrier(void)
{
	if (!have_membarrier || syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		atomic_thread_fence(memory_order_seq_cst);
}

static inline void light_barrier(void)
{
	if (have_membarrier)
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

static void tc_lock(gr_tcache *c)   /* owner */
{
	for (;;) {
		atomic_store_explicit(&c->busy, 1, memory_order_relaxed);
		light_barrier();
		if (!atomic_load_explicit(&c->trimming, memory_order_acquire))
			return;
		atomic_store_explicit(&c->busy, 0, memory_order_release);
		while (atomic_load_explicit(&c->trimming, memory_order_acquire))
			sched_yield();
	}
}

static void tc_unlock(gr_tcache *c)   /* owner */
{
	atomic_store_explicit(&c->busy, 0, memory_order_release);
}

static void thread_exit(void *p)
{
	gr_tcache *c = p;
	atomic_store_explicit(&c->active_ns, 0, memory_order_relaxed);
	pthread_mutex_lock(&reg_lock);
	c->orphan = true;
	pthread_mutex_unlock(&reg_lock);
}

static void make_key(void)
{
	if (pthread_key_create(&exit_key, thread_exit) != 0)
		_gr_panic("arena: pthread_key_create failed");
	have_membarrier = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

static gr_tcache *cache(void)
{
	gr_tcache *c = tc;
	if (c)
		return c;
	pthread_once(&key_once, make_key);
	pthread_mutex_lock(&reg_lock);
	for (c = reg_head; c; c = c->next)
		if (c->orphan)
			break;
	if (c) {
		c->orphan = false;
	} else {
		c = calloc(1, sizeof *c);
		if (!c)
			_gr_panic("arena: out of memory for a thread cache");
		c->next = reg_head;
		__atomic_store_n(&reg_head, c, __ATOMIC_RELEASE);   /* read lock-free by peers_active */
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_setspecific(exit_key, c);
	tc = c;
	return c;
}

/* ---- trimming ---- */

/* Give a ready chunk's memory and address back (it never held user data at
** this address, so it skips quarantine). */
static void release_ready(const gr_chunk *k)
{
	uint64_t bytes = GR_CHUNK;
	_gr_os_decommit(k->base, GR_CHUNK);
	_gr_arena_mapped_add(-(int64_t)bytes);
	GR_STAT_SUB(ready_bytes, bytes);
	GR_STAT_ADD(released_bytes, bytes);
	_gr_region_give_back(k->base, 1);
}

/* Retire a reuse tail: the chunk's prefix held freed arena memory. */
static void release_tail(const gr_chunk *k)
{
	_gr_arena_mapped_add(-(int64_t)(GR_CHUNK - (k->rw - k->base)));
	gr_range r = { k->base, k->rw, gr_chunk_dirty_end(k), 1, 0 };
	uint64_t w = _gr_slot_load((size_t)_gr_region_slot_of(k->base));
	_gr_os_decommit(k->base, GR_CHUNK);
	GR_STAT_ADD(released_bytes, GR_CHUNK - (k->rw - k->base));
	_gr_region_quarantine(&r, 1, gr_slot_rec(w));
}

/* Caller holds c->lock. */
static void trim_locked(gr_tcache *c)
{
	for (int i = 0; i < c->nready; i++)
		release_ready(&c->ready[i]);
	st_n(&c->nready, 0);
	for (int i = 0; i < c->nreuse; i++) {
		cnt_add(&c->reuse_bytes, -(int64_t)(c->reuse[i].base + GR_CHUNK - c->reuse[i].cur));
		release_tail(&c->reuse[i]);
	}
	st_n(&c->nreuse, 0);
	int s = PF_READY;
	if (atomic_compare_exchange_strong_explicit(&c->pf_state, &s, PF_EMPTY, memory_order_acquire,
	                                            memory_order_relaxed))
		release_ready(&c->pf);
}

/* Caller holds reg_lock. Trim every cache (wait = true) or only those
** idle since the previous pass (wait = false: busy ones are skipped). */
static void trim_pass(bool wait)
{
	int n = 0;
	for (gr_tcache *c = reg_head; c; c = c->next) {
		uint64_t t = atomic_load_explicit(&c->tick, memory_order_relaxed);
		bool idle = t == c->seen;
		c->seen = t;
		bool spare = ld_n(&c->nready) || ld_n(&c->nreuse) ||
		             atomic_load_explicit(&c->pf_state, memory_order_relaxed) == PF_READY;
		if (wait || (idle && spare)) {
			atomic_store_explicit(&c->trimming, 1, memory_order_relaxed);
			n++;
		}
	}
	if (n == 0)
		return;
	heavy_barrier();
	for (gr_tcache *c = reg_head; c; c = c->next) {
		if (!atomic_load_explicit(&c->trimming, memory_order_relaxed))
			continue;
		bool busy = atomic_load_explicit(&c->busy, memory_order_acquire);
		while (busy && wait) {
			sched_yield();
			busy = atomic_load_explicit(&c->busy, memory_order_acquire);
		}
		if (!busy)
			trim_locked(c);
		atomic_store_explicit(&c->trimming, 0, memory_order_release);
	}
}

void _gr_cache_trim_all(void)
{
	pthread_mutex_lock(&pf_lock);   /* no chunk is being produced meanwhile */
	pthread_mutex_lock(&reg_lock);
	trim_pass(true);
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&pf_lock);
}

/* ---- prefaulting (background thread) ---- */

static bool ready_room(void)
{
	return atomic_load_explicit(&_gr_arena_stats.ready_bytes, memory_order_relaxed) + GR_CHUNK <=
	       _gr_arena_cfg.ready_limit;
}

/* A fresh slot, committed and faulted in (zero pages): 0 or -errno. */
static int make_prefaulted(gr_chunk *out)
{
	uintptr_t base;
	int err = _gr_region_take(1, &base);
	if (err)
		return err;
	err = _gr_os_commit(base, GR_CHUNK);
	if (err == 0) {
		if (_gr_arena_cfg.hugepages)
			_gr_os_hugepages(base, GR_CHUNK, true);
		err = _gr_os_populate(base, GR_CHUNK);
		if (err == -ENOSYS)
			atomic_store_explicit(&pf_off, true, memory_order_relaxed);
		if (err)
			_gr_os_decommit(base, GR_CHUNK);
	}
	if (err) {
		_gr_region_give_back(base, 1);
		return err;
	}
	_gr_slots_mark(base, 1, gr_slot_word(GR_SLOT_SPARE, 0, 0, 0));
	_gr_arena_mapped_add((int64_t)GR_CHUNK);
	/* All of it zero and present: the taker's zero limit is the chunk end. */
	*out = (gr_chunk){ base, base, base, base + GR_CHUNK, base, base };
	return 0;
}

/* Produce one wanted chunk; false when no cache wants one. */
static bool produce_one(void)
{
	pthread_mutex_lock(&pf_lock);
	gr_tcache *c;
	pthread_mutex_lock(&reg_lock);
	for (c = reg_head; c; c = c->next) {
		int s = PF_WANTED;
		if (atomic_compare_exchange_strong_explicit(&c->pf_state, &s, PF_BUSY, memory_order_relaxed,
		                                            memory_order_relaxed))
			break;
	}
	pthread_mutex_unlock(&reg_lock);
	if (c) {
		gr_chunk k;
		if (!atomic_load_explicit(&pf_off, memory_order_relaxed) && ready_room() &&
		    make_prefaulted(&k) == 0) {
			GR_STAT_ADD(ready_bytes, GR_CHUNK);
			c->pf = k;
			atomic_store_explicit(&c->pf_state, PF_READY, memory_order_release);
		} else {
			atomic_store_explicit(&c->pf_state, PF_EMPTY, memory_order_relaxed);
		}
	}
	pthread_mutex_unlock(&pf_lock);
	return c != NULL;
}

static void *trimmer(void *arg)
{
	(void)arg;
	_gr_trace_thread_set_internal();
	uint64_t next_trim = _gr_os_now_ns() + 1000000000u;
	for (;;) {
		unsigned seq = atomic_load_explicit(&bg_seq, memory_order_acquire);
		while (produce_one())
			;
		uint64_t now = _gr_os_now_ns();
		if (now >= next_trim) {
			pthread_mutex_lock(&reg_lock);
			trim_pass(false);
			pthread_mutex_unlock(&reg_lock);
			next_trim = now + 1000000000u;
			continue;
		}
		uint64_t left = next_trim - now;
		struct timespec ts = { (time_t)(left / 1000000000u), (long)(left % 1000000000u) };
		/* Returns at once if bg_seq moved since it was read. */
		syscall(SYS_futex, &bg_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
	}
	return NULL;
}

/* The trimmer is gort's own thread: started through the tracer's spawn
** (signals blocked, so they go to the program's threads; the creator marked
** internal, so that under the preload library its pthread_create is not a
** GoCreate and the thread never enters a trace). */
static void start_trimmer(void)
{
	if (atomic_load_explicit(&trimmer_started, memory_order_relaxed) ||
	    atomic_exchange(&trimmer_started, 1))
		return;
	pthread_t t;
	if (_gr_trace_spawn(&t, trimmer) == 0) {
		pthread_detach(t);
		pthread_setname_np(t, "gort-arena-trim");
	} else {
		atomic_store(&trimmer_started, 0);
	}
}

void _gr_cache_fork_prepare(void)
{
	pthread_mutex_lock(&pf_lock);    /* no chunk half produced */
	pthread_mutex_lock(&reg_lock);   /* the trimmer is between passes then */
}

void _gr_cache_fork_parent(void)
{
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&pf_lock);
}

void _gr_cache_fork_child(void)
{
	atomic_store(&trimmer_started, 0);
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_unlock(&pf_lock);
	for (gr_tcache *c = reg_head; c; c = c->next) {
		atomic_store(&c->busy, 0);
		atomic_store(&c->trimming, 0);
		/* The parent's other threads do not exist here: not peers. */
		if (c != tc)
			atomic_store_explicit(&c->active_ns, 0, memory_order_relaxed);
		/* No background thread here yet: a wish it never saw is dropped. */
		int s = PF_WANTED;
		atomic_compare_exchange_strong(&c->pf_state, &s, PF_EMPTY);
	}
}

/* ---- activity ---- */

void _gr_cache_note_active(uint64_t now)
{
	atomic_store_explicit(&cache()->active_ns, now, memory_order_relaxed);
}

bool _gr_cache_peers_active(uint64_t now, uint64_t window)
{
	gr_tcache *me = cache();
	for (gr_tcache *c = __atomic_load_n(&reg_head, __ATOMIC_ACQUIRE); c; c = c->next) {
		uint64_t t = atomic_load_explicit(&c->active_ns, memory_order_relaxed);
		if (c != me && t != 0 && t + window > now)
			return true;
	}
	return false;
}

/* ---- chunks ---- */

static void bump_tick(gr_tcache *c)
{
	atomic_store_explicit(&c->tick, atomic_load_explicit(&c->tick, memory_order_relaxed) + 1,
	                      memory_order_relaxed);
}

static void own(gr_chunk *out)
{
	out->live = out->cur;
	size_t idx = (size_t)_gr_region_slot_of(out->base);
	uint64_t w = _gr_slot_load(idx);
	_gr_slot_store(idx, gr_slot_word(GR_SLOT_LIVE, gr_slot_fault_pages(w),
	                                 (unsigned)((out->cur - out->base) >> __builtin_ctzll(_gr_arena_cfg.page)),
	                                 gr_slot_rec(w)));
}

bool _gr_cache_take_tail(gr_chunk *out)
{
	gr_tcache *c = cache();
	if (ld_n(&c->nreuse) == 0)   /* peek; decided under the lock below */
		return false;
	tc_lock(c);
	if (c->nreuse == 0) {
		tc_unlock(c);
		return false;
	}
	bump_tick(c);
	st_n(&c->nreuse, c->nreuse - 1);
	*out = c->reuse[c->nreuse];
	cnt_add(&c->reuse_bytes, -(int64_t)(out->base + GR_CHUNK - out->cur));
	cnt_add(&c->n_reused, 1);
	tc_unlock(c);
	own(out);
	return true;
}

/* Ask the background thread for a prefaulted chunk (no lock: a CAS on our
** own line, an atomic add and a futex wake, once per 8 MiB at most). */
static void want_prefault(gr_tcache *c)
{
	if (!_gr_arena_cfg.prefault || atomic_load_explicit(&pf_off, memory_order_relaxed) || !ready_room())
		return;
	int s = PF_EMPTY;
	if (!atomic_compare_exchange_strong_explicit(&c->pf_state, &s, PF_WANTED, memory_order_relaxed,
	                                             memory_order_relaxed))
		return;
	start_trimmer();
	atomic_fetch_add_explicit(&bg_seq, 1, memory_order_release);
	syscall(SYS_futex, &bg_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static bool take_prefaulted(gr_tcache *c, gr_chunk *out)
{
	int s = PF_READY;
	if (atomic_load_explicit(&c->pf_state, memory_order_relaxed) != PF_READY ||
	    !atomic_compare_exchange_strong_explicit(&c->pf_state, &s, PF_EMPTY, memory_order_acquire,
	                                             memory_order_relaxed))
		return false;
	*out = c->pf;
	GR_STAT_SUB(ready_bytes, GR_CHUNK);
	GR_STAT_ADD(chunks_fresh, 1);
	GR_STAT_ADD(chunks_prefaulted, 1);
	gr_poison(out->rw, GR_CHUNK);
	gr_vg_noaccess((void *)out->rw, GR_CHUNK);
	own(out);
	return true;
}

/* Recycled pages beat prefaulted ones (they are already paid for): when the
** ready bound is reached, a retiring chunk takes the place of this thread's
** prefaulted chunk, which goes back to the OS. */
static bool drop_prefaulted(gr_tcache *c)
{
	int s = PF_READY;
	if (atomic_load_explicit(&c->pf_state, memory_order_relaxed) != PF_READY ||
	    !atomic_compare_exchange_strong_explicit(&c->pf_state, &s, PF_EMPTY, memory_order_acquire,
	                                             memory_order_relaxed))
		return false;
	release_ready(&c->pf);
	return true;
}

int _gr_cache_get_chunk(gr_chunk *out, bool *reused)
{
	gr_tcache *c = cache();
	*reused = false;
	if (_gr_cache_take_tail(out)) {
		*reused = true;
		c->fresh_streak = 0;
		return 0;
	}
	tc_lock(c);
	bump_tick(c);
	if (c->nready > 0) {
		st_n(&c->nready, c->nready - 1);
		*out = c->ready[c->nready];
		tc_unlock(c);
		GR_STAT_SUB(ready_bytes, GR_CHUNK);
		GR_STAT_ADD(chunks_recycled, 1);
		_gr_arena_chunk_prepare(out->rw, out->base + GR_CHUNK - out->rw);
		own(out);
		c->fresh_streak = 0;
		_gr_cache_note_active(_gr_os_now_ns());
		return 0;
	}
	tc_unlock(c);
	/* Beyond the recycled supply: this thread is growing. After a few fresh
	** chunks in a row the background thread faults in the next one. */
	if (++c->fresh_streak >= GR_PF_STREAK)
		want_prefault(c);
	if (take_prefaulted(c, out)) {
		want_prefault(c);
		return 0;
	}
	uintptr_t base;
	int err = _gr_region_take(1, &base);
	if (err)
		return err;
	err = _gr_os_commit(base, GR_CHUNK);
	if (err) {
		_gr_region_give_back(base, 1);
		return -ENOMEM;
	}
	GR_STAT_ADD(chunks_fresh, 1);
	_gr_arena_mapped_add((int64_t)GR_CHUNK);
	*out = (gr_chunk){ base, base, base, base, base, base };
	_gr_arena_chunk_prepare(base, GR_CHUNK);
	own(out);
	_gr_cache_note_active(_gr_os_now_ns());
	return 0;
}

void _gr_cache_put_tail(const gr_chunk *k, uint32_t rec)
{
	gr_tcache *c = cache();
	size_t idx = (size_t)_gr_region_slot_of(k->base);
	uint64_t w = _gr_slot_load(idx);
	_gr_slot_store(idx, gr_slot_word(GR_SLOT_SPARE, gr_slot_fault_pages(w), 0,
	                                 rec ? rec : gr_slot_rec(w)));
	gr_chunk victim;
	bool evict = false;
	tc_lock(c);
	cnt_add(&c->reuse_bytes, (int64_t)(k->base + GR_CHUNK - k->cur));
	bump_tick(c);
	if (c->nreuse == GR_REUSE_MAX) {
		/* Evict the shortest tail. */
		int m = 0;
		for (int i = 1; i < GR_REUSE_MAX; i++)
			if (c->reuse[i].cur - c->reuse[i].base > c->reuse[m].cur - c->reuse[m].base)
				m = i;
		victim = c->reuse[m];
		st_n(&c->nreuse, c->nreuse - 1);
		c->reuse[m] = c->reuse[c->nreuse];
		cnt_add(&c->reuse_bytes, -(int64_t)(victim.base + GR_CHUNK - victim.cur));
		evict = true;
	}
	c->reuse[c->nreuse] = *k;
	st_n(&c->nreuse, c->nreuse + 1);
	tc_unlock(c);
	if (evict)
		release_tail(&victim);
	start_trimmer();
}

/* Try to recycle a full chunk's pages: move them to a fresh slot on this
** thread's ready list. True when the old range already faults (moved, or
** moved and then lost), false when the caller must decommit it. */
static bool retire_move(gr_tcache *c, const gr_range *r)
{
	uint64_t cur_ready = atomic_load_explicit(&_gr_arena_stats.ready_bytes, memory_order_relaxed);
	if (!r->large && cur_ready + GR_CHUNK > _gr_arena_cfg.ready_limit && drop_prefaulted(c))
		cur_ready = atomic_load_explicit(&_gr_arena_stats.ready_bytes, memory_order_relaxed);
	if (r->large || r->rw >= r->base + GR_CHUNK || cur_ready + GR_CHUNK > _gr_arena_cfg.ready_limit ||
	    ld_n(&c->nready) >= GR_READY_MAX)
		return false;
	/* Move the accessible pages to the start of a fresh slot; a strict
	** prefix (rw > base) leaves room at the end, committed fresh. */
	uintptr_t to, len = GR_CHUNK - (r->rw - r->base);
	if (_gr_region_take(1, &to) != 0)
		return false;
	int err = _gr_os_move(r->rw, to, len);
	if (err != 0) {
		_gr_region_give_back(to, 1);
		return false;
	}
	if (len < GR_CHUNK && _gr_os_commit(to + len, GR_CHUNK - len) != 0) {
		_gr_os_decommit(to, GR_CHUNK);
		_gr_arena_mapped_add(-(int64_t)len);
		GR_STAT_ADD(released_bytes, len);
		_gr_region_give_back(to, 1);
		return true;
	}
	_gr_arena_mapped_add((int64_t)(GR_CHUNK - len));   /* the fresh end */
	size_t page = _gr_arena_cfg.page;
	uintptr_t used = r->used > r->rw ? r->used - r->rw : 0;
	used = (used + page - 1) & ~(uintptr_t)(page - 1);
	gr_chunk k = { to, to, to, to, to + used, to };
	_gr_slots_mark(to, 1, gr_slot_word(GR_SLOT_SPARE, 0, 0, 0));
	GR_STAT_ADD(ready_bytes, GR_CHUNK);
	tc_lock(c);
	bump_tick(c);
	c->ready[c->nready] = k;
	st_n(&c->nready, c->nready + 1);
	tc_unlock(c);
	start_trimmer();
	return true;
}

void _gr_cache_retire_ranges(gr_range *r, uint32_t n, uint32_t rec)
{
	if (n == 0)
		return;
	gr_tcache *c = cache();
	/* Recycle what the ready list has room for; the others (moved to the
	** back, in order unless room appeared midway) are decommitted with one
	** call per run of adjacent slots (W1 frees runs of consecutive chunks:
	** fewer calls, and freeing pages in larger batches is ~10% cheaper). */
	uint32_t w = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (retire_move(c, &r[i])) {
			gr_range t = r[w];
			r[w++] = r[i];
			r[i] = t;
		}
	}
	for (uint32_t i = w; i < n;) {
		uintptr_t base = r[i].base, end = base + (uintptr_t)r[i].nslots * GR_CHUNK;
		uint32_t j = i;
		for (;;) {
			const gr_range *q = &r[j];
			uint64_t gone = q->large ? (uint64_t)q->used - q->rw : (uint64_t)q->base + GR_CHUNK - q->rw;
			GR_STAT_ADD(released_bytes, gone);
			_gr_arena_mapped_add(-(int64_t)gone);
			if (j + 1 < n && r[j + 1].base == end) {
				j++;
				end += (uintptr_t)r[j].nslots * GR_CHUNK;
				continue;
			}
			break;
		}
		_gr_os_decommit(base, end - base);
		i = j + 1;
	}
	_gr_region_quarantine(r, n, rec);
}

void _gr_cache_retire(const gr_range *r, uint32_t rec)
{
	gr_range one = *r;
	_gr_cache_retire_ranges(&one, 1, rec);
}

/* ---- handles ---- */

struct gort_arena *_gr_cache_handle_get(void)
{
	gr_tcache *c = cache();
	cnt_add(&c->n_created, 1);
	if (c->hcount < GR_HANDLES)
		return NULL;
	struct gort_arena *a = c->handles[c->hhead];
	c->hhead = (c->hhead + 1) % GR_HANDLES;
	c->hcount--;
	return a;
}

void _gr_cache_handle_put(struct gort_arena *a)
{
	gr_tcache *c = cache();
	cnt_add(&c->n_freed, 1);
	if (c->hcount == GR_HANDLES) {
		/* Many arenas freed in a row: the oldest freed handle goes for good. */
		_gr_arena_handle_destroy(c->handles[c->hhead]);
		c->hhead = (c->hhead + 1) % GR_HANDLES;
		c->hcount--;
	}
	c->handles[(c->hhead + c->hcount) % GR_HANDLES] = a;
	c->hcount++;
}
