/*
** src/stack/unwind.c: stack capture (see src/internal/stack.h, docs/stacks.md).
**
** The walk keeps (pc, sp, fp) for the frame being left: pc is the lookup
** address (return address - 1, or an exact interrupted pc), sp the frame's
** stack pointer at that pc, fp its rbp. Each step looks the pc up in the rule
** cache (rulecache.c). The common answer, GR_RULE_FP (the code there keeps a
** standard frame pointer), takes the inline fast path: caller's pc at fp[1],
** caller's fp at fp[0], exactly Go's frame-pointer unwinding. Any other rule
** (code without frame pointers, a prologue, the signal trampoline) takes
** step_slow, which applies the CFI rule: CFA from rsp or rbp, return address
** at CFA - 8, rbp restored from its save slot. So a frame-pointer chain
** broken by a function without frame pointers is repaired at that frame
** instead of silently skipping its caller.
**
** Two per-thread caches make repeated captures cheap, both exact (each
** records what the walk read and re-checks it before use; see the comments
** at "The walk cache" and "Repeat records" below and docs/stacks.md):
**  - the walk cache replays any run of recorded steps that still holds;
**  - a repeat record answers a whole capture that repeats the previous one
**    from the same frame with one 16-byte compare per frame-pointer frame
**    (independent loads), and names its pcs with a token, so that the
**    tracer maps token -> stack id without copying or hashing them.
**
** Invariants (what makes every read safe):
**  - Every stack read is 8-aligned and inside the current stack region
**    [lo, hi): the thread's stack (pthread_getattr_np, cached in TLS per
**    thread) or, while walking a signal handler that runs on it, the
**    sigaltstack. sp strictly increases within a region; a region changes only
**    at a signal frame, whose ucontext lies in the current region.
**  - Code bytes are read only by cfi.c, inside a module _dl_find_object knows.
**  - No locks, no allocation: all of it is async-signal-safe once the thread's
**    bounds are cached (_gr_stack_thread_init).
** Owner: stack helper.
*/
#include "internal/stack.h"
#include "stack/stack_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <emmintrin.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))
/* The walk reads saved frame pointers and return addresses, and through
** frames without frame pointers any word of the thread's stack that a CFI
** rule names: not instrumented (ASan would see reads of redzones). */
#define NO_ASAN __attribute__((no_sanitize("address")))

enum { BOUNDS_UNKNOWN = 0, BOUNDS_BUSY, BOUNDS_KNOWN, BOUNDS_NONE };
static TLS uintptr_t tls_lo, tls_hi;
static TLS int tls_bounds_state;

static _Atomic int fp_only_mode;
static TLS uint64_t tls_cfi_steps;    /* frames stepped by CFI on this thread (stats) */

static void wc_alloc(void);

void _gr_stack_thread_init(void)
{
	if (tls_bounds_state != BOUNDS_UNKNOWN)
		return;
	wc_alloc();
	tls_bounds_state = BOUNDS_BUSY;
	pthread_attr_t attr;
	void *addr;
	size_t size;
	int state = BOUNDS_NONE;
	if (pthread_getattr_np(pthread_self(), &attr) == 0) {
		if (pthread_attr_getstack(&attr, &addr, &size) == 0 && size > 0) {
			tls_lo = (uintptr_t)addr;
			tls_hi = (uintptr_t)addr + size;
			state = BOUNDS_KNOWN;
		}
		pthread_attr_destroy(&attr);
	}
	tls_bounds_state = state;
}

int _gr_stack_set_fp_only(int mode)
{
	return atomic_exchange(&fp_only_mode, mode < 0 || mode > 2 ? 0 : mode);
}

typedef struct walk {
	uintptr_t pc;       /* lookup pc: return address - 1, or an exact pc */
	uintptr_t ra;       /* the return address (0 for an exact pc) */
	uintptr_t sp, fp;
	uintptr_t lo, hi;   /* current stack region */
} walk;

/* The region containing sp when it is not the thread's stack: the signal
** stack, if any. */
static __attribute__((noinline)) bool region_for_alt(walk *w, uintptr_t sp)
{
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
	    sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size) {
		w->lo = (uintptr_t)ss.ss_sp;
		w->hi = (uintptr_t)ss.ss_sp + ss.ss_size;
		return true;
	}
	return false;
}

/* The region containing sp: the thread's stack (inline, the usual case) or
** the signal stack. */
static inline bool region_for(walk *w, uintptr_t sp)
{
	if (__builtin_expect(tls_bounds_state == BOUNDS_KNOWN && sp >= tls_lo && sp < tls_hi, 1)) {
		w->lo = tls_lo;
		w->hi = tls_hi;
		return true;
	}
	return region_for_alt(w, sp);
}

/* Is [p, p + n) a readable, aligned part of the current region at or above sp? */
static inline bool in_frame(const walk *w, uintptr_t p, uintptr_t n)
{
	return (p & 7) == 0 && p >= w->sp && p >= w->lo && p <= w->hi - n;
}

NO_ASAN static inline uintptr_t load(uintptr_t p)
{
	return *(const uintptr_t *)p;
}

/* Apply a non-frame-pointer rule. Returns false when the walk ends. *slot
** tells the walk cache where the new fp was read: 0 = carried over, 1 = not
** recordable (a signal frame: the region may change). */
__attribute__((noinline)) NO_ASAN
static bool step_slow(walk *w, gr_rule r, uintptr_t *slot)
{
	uintptr_t cfa;
	tls_cfi_steps++;
	*slot = 1;
	switch (r.kind) {
	case GR_RULE_SP: cfa = w->sp + (uintptr_t)(intptr_t)r.cfa_off; break;
	case GR_RULE_BP: cfa = w->fp + (uintptr_t)(intptr_t)r.cfa_off; break;
	case GR_RULE_SIGNAL: {
		/* The handler returned into the trampoline: the ucontext is at sp. */
		if (!in_frame(w, w->sp, sizeof(ucontext_t)))
			return false;
		const ucontext_t *uc = (const ucontext_t *)w->sp;
		uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
		uintptr_t rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
		uintptr_t rbp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
		if (rip < 4096 || !region_for(w, rsp))
			return false;
		w->pc = rip;
		w->ra = 0;
		w->sp = rsp;
		w->fp = rbp;
		return true;
	}
	default: return false;   /* GR_RULE_STOP */
	}
	if (cfa <= w->sp || !in_frame(w, cfa - 8, 8))
		return false;
	uintptr_t ra = load(cfa - 8);
	uintptr_t fp = w->fp;
	*slot = 0;
	if (r.rbp_off) {
		uintptr_t at = cfa + (uintptr_t)(intptr_t)r.rbp_off;
		if (!in_frame(w, at, 8))
			return false;
		fp = load(at);
		*slot = at;
	}
	if (ra < 4096)
		return false;
	w->sp = cfa;
	w->fp = fp;
	w->ra = ra;
	w->pc = ra - 1;
	return true;
}

/* The FP filter: a direct-mapped table of return addresses already known to
** lie in code with a standard frame pointer (rule GR_RULE_FP or GUESS). One
** load and compare per frame on the fast path instead of a rule lookup. A
** slot holds 0 or such an address; overwriting a slot only costs a later
** miss, and a hit is always exact (the whole address is compared). */
#define FPOK_BITS 12
static _Atomic uintptr_t fpok[1u << FPOK_BITS];

static inline unsigned fpok_slot(uintptr_t ra)
{
	return (unsigned)(ra & ((1u << FPOK_BITS) - 1));   /* call sites spread well */
}

/* The walk cache: the steps of the thread's last capture, innermost first,
** each as what it read: the return address `ra` read at `at`, and the next
** frame pointer `fp` read at `slot` (0: carried over unchanged). A frame-
** pointer step at frame F has at = F + 8, slot = F; a CFI step at CFA has
** at = CFA - 8 and slot = rbp's save slot. After any step, sp = at + 8.
**
** A new capture whose frame-pointer step reaches a frame F that the record
** also stepped by frame pointer re-validates the rest of the record: each
** entry holds if memory at `at` still has `ra` and at `slot` still has `fp`.
** The addresses are known in advance, so these loads do not wait for each
** other as the walk's fp -> fp[0] chain does. A step's addresses and rule
** depend only on the state before it (pc, sp, fp), which the previous
** entries pinned down, so a validated replay yields exactly what a walk
** would. Only steps on the thread's own stack are recorded (its bounds never
** change, so every recorded address stays readable); a signal frame ends the
** record. `busy` keeps a signal handler's capture from using the record
** while the interrupted code is updating it. Allocated per thread by
** _gr_stack_thread_init. */
#define WC_N 64

/* A repeat record: a capture whose steps were all frame-pointer steps, kept
** compactly so that repeating it costs one 16-byte compare per frame (see
** "Repeat records" below). Frame k of the walk is at address F_k (F_0 = the
** frame the capture starts from); pair[k] = the 16 bytes at F_k, that is
** {F_{k+1}, ra_k}. */
#define RR_SETS 4        /* per thread, by the call site (frame 0's return address), */
#define RR_WAYS 2        /* two ways each, so that two sites of one set both stay */
#define RR_SLOTS (RR_SETS * RR_WAYS)
#define RR_N 64          /* frames a record holds (skip + max + 1 at most) */
#define RR_TAIL 32       /* steps after the first CFI step a record holds */
typedef struct rr_tail {
	uintptr_t at, ra;      /* memory at `at` holds ra */
	uintptr_t slot, fp;    /* and at `slot`, fp (slot = at, fp = ra: rbp carried) */
} rr_tail;
typedef struct rrec {
	/* the key and what a verification reads first: one cache line */
	uint64_t tok;          /* names pcs[0..n); 0 = no record */
	uintptr_t f0;          /* F_0 */
	uint32_t maxskip;      /* the capture's max | skip << 16 */
	int m;                 /* frames verified as pairs (the fp prefix) */
	int t;                 /* tail entries */
	int n;                 /* pcs of the result */
	int fails;             /* verifications in a row that failed */
	int pause;             /* captures left that skip this slot */
	uint64_t ukey, uval;   /* the caller's word for this record (0: none) */
	int backoff;           /* pauses in a row without a hit: the next is 16 << backoff */
	uint64_t pair[RR_N][2] __attribute__((aligned(16)));
	rr_tail tail[RR_TAIL]; /* the steps after the first one that is not by fp */
	uintptr_t pcs[RR_N];   /* the capture's result (after skip), contiguous */
	uintptr_t seen_f0, seen_pc;   /* the last capture from this slot */
	uint32_t seen_maxskip;
} rrec;

typedef struct wc_entry {
	uintptr_t at;      /* bit 0 set: fp carried over; then slot = at and
	                      fp = ra, so the fp check repeats the ra check */
	uintptr_t ra, slot, fp;
} wc_entry;
typedef struct walk_cache {
	volatile int busy;
	int n;
	bool ended;            /* the recorded walk ended right after e[n - 1] */
	int misses;            /* captures in a row that replayed under 1/4 */
	int pause;             /* captures left that skip the cache */
	wc_entry e[WC_N];      /* the record */
	uint64_t rr_made;      /* repeat records built (token source) */
	rrec rr[RR_SLOTS];     /* the repeat records (see below), set-major */
	uint8_t rr_mru[RR_SETS];   /* the way of each set used last */
	struct rrec *rr_skip;  /* failed its verification in the last call (a
	                          lookup only): the next call need not repeat it */
} walk_cache;
static TLS walk_cache *tls_wc;
static TLS uint64_t tls_replayed;     /* frames replayed on this thread (stats) */
static TLS uint64_t tls_rr_hits;      /* captures answered by a repeat record (stats) */
static TLS uint64_t tls_rr_built;     /* repeat records built on this thread (stats) */

static pthread_key_t wc_key;
static pthread_once_t wc_once = PTHREAD_ONCE_INIT;
static bool wc_key_ok;

static void wc_free(void *p)
{
	if (tls_wc == p)
		tls_wc = NULL;
	free(p);
}

static void wc_make_key(void)
{
	wc_key_ok = pthread_key_create(&wc_key, wc_free) == 0;
}

/* The calling thread's walk cache (freed at thread exit). Without one,
** captures just walk. */
static void wc_alloc(void)
{
	pthread_once(&wc_once, wc_make_key);
	if (!wc_key_ok || tls_wc)
		return;
	walk_cache *wc = calloc(1, sizeof *wc);
	if (wc && pthread_setspecific(wc_key, wc) == 0)
		tls_wc = wc;
	else
		free(wc);
}

/* Per-capture replay state. New steps are recorded in a buffer on the
** capturing thread's stack (`top`: close to the frames being read, so its
** stores do not 4K-alias the walk's loads as a distant buffer's would) and
** committed after the walk: the record becomes the steps before the replay,
** the replayed range of the old record, the steps after it. */
#define TOP_N 32      /* 1 KB: captures may run on small signal stacks */
typedef struct replay {
	walk_cache *wc;
	wc_entry *top;         /* TOP_N entries on the caller's stack */
	int L;                 /* entries of the old record */
	int j;                 /* search position; -1 once replayed */
	int mt;                /* entries in top; -1 once recording stopped */
	int a;                 /* entries of top before the replay (-1: none yet) */
	int r0, r1;            /* replayed range of the old record */
	int stop_at;           /* mt when recording stopped */
	int tries;             /* replays that held nothing (at most 2 per capture) */
	bool ended;            /* the walk ended (not cut by max) */
} replay;

/* Walk from w, storing at most max return addresses; returns how many.
** The state lives in locals (registers) while walking and is written back
** to w at the end: a struct in memory would put a store-to-load forwarding
** delay into the fp -> fp[0] chain. */
__attribute__((always_inline)) NO_ASAN
static inline int walk_frames(walk *w, uintptr_t *pcs, int max, bool use_cfi, replay *rep)
{
	int n = 0;
	uintptr_t pc = w->pc, ra = w->ra, sp = w->sp, fp = w->fp;
	uintptr_t lo = w->lo, hi = w->hi;
	/* Replay state in locals too (a field in memory, loaded and stored per
	** frame, would make the loads of the walk wait on store addresses):
	** rj = search position, -1 once replayed; rm = next entry of top to
	** write, -1 once recording stopped (rep->stop_at then holds the count). */
	const wc_entry *e = rep ? rep->wc->e : NULL;
	wc_entry *top = rep ? rep->top : NULL;
	int rL = rep ? rep->L : 0;
	int rj = rep ? rep->j : -1;
	int rm = rep ? rep->mt : -1;
	bool replay_end = false;
	while (n < max) {
		if (use_cfi && (ra == 0 ||
		    atomic_load_explicit(&fpok[fpok_slot(ra)], memory_order_relaxed) != ra)) {
			gr_rule r = gr_rule_lookup(pc, ra);
			if (r.kind == GR_RULE_FP || r.kind == GR_RULE_GUESS) {
				if (ra)
					atomic_store_explicit(&fpok[fpok_slot(ra)], ra, memory_order_relaxed);
			} else {
				walk s = { pc, ra, sp, fp, lo, hi };
				uintptr_t slot;
				if (!step_slow(&s, r, &slot))
					break;
				if (rm >= 0) {
					if (slot != 1 && rm < TOP_N) {
						/* bit 0 of at: fp carried over; the entry then checks
						** its ra twice instead (see wc_entry) */
						top[rm].at = (s.sp - 8) | (slot == 0);
						top[rm].ra = s.ra;
						top[rm].slot = slot ? slot : s.sp - 8;
						top[rm].fp = slot ? s.fp : s.ra;
						rm++;
					} else {
						rep->stop_at = rm;
						rm = -1;
					}
				}
				pc = s.pc;
				ra = s.ra;
				sp = s.sp;
				fp = s.fp;
				lo = s.lo;
				hi = s.hi;
				pcs[n++] = ra ? ra : pc + 1;
				continue;
			}
		}
		/* frame pointer: fp[0] = caller's fp, fp[1] = return address */
		if ((fp & 7) != 0 || fp < sp || fp > hi - 16)
			break;
		if (rj >= 0) {
			int j = rj;
			while (j < rL && e[j].at < fp + 8)
				j++;
			rj = j;
			if (j < rL && e[j].at == fp + 8 && e[j].slot == fp) {
				/* Replay: validate recorded steps j, j+1, ... (see above). */
				int k = j, lim = j + (max - n) < rL ? j + (max - n) : rL;
				uintptr_t nfp = 0;
				bool diverged = false;
				while (k < lim) {
					/* slot is never 0 here: a carried fp is checked at the
					** record's own copy (see wc_entry) */
					const wc_entry *x = &e[k];
					if (((load(x->at & ~(uintptr_t)7) ^ x->ra) | (load(x->slot) ^ x->fp)) != 0)
						break;
					pcs[n + (k - j)] = x->ra;
					k++;
				}
				if (k < lim && load(e[k].at & ~(uintptr_t)7) == e[k].ra) {
					/* entry k holds, but the chain goes elsewhere from it */
					nfp = load(e[k].slot);
					pcs[n + (k - j)] = e[k].ra;
					k++;
					diverged = true;
				}
				/* nothing held here (this frame returned since): look for a
				** later match; after a replay, no more */
				rj = k > j || ++rep->tries == 2 ? -1 : j + 1;
				if (k > j) {
					const wc_entry *x = &e[k - 1];
					tls_replayed += (uint64_t)(k - j);
					n += k - j;
					sp = (x->at & ~(uintptr_t)7) + 8;
					if (diverged) {
						fp = nfp;
					} else {
						/* the fp after the last entry that read one (fp
						** carried through the entries after it) */
						int i = k - 1;
						while (i > j && (e[i].at & 1))
							i--;
						fp = (e[i].at & 1) ? fp : e[i].fp;
					}
					ra = x->ra;
					pc = ra - 1;
					if (k == rL && !diverged && rep->wc->ended)
						replay_end = true;   /* the walk ends here, as before */
					if (rm >= 0) {
						/* replayed entries join the record; the last one
						** with its new fp when the chain diverged there */
						rep->a = rm;
						rep->r0 = j;
						rep->r1 = diverged ? k - 1 : k;
						if (diverged && rm < TOP_N) {
							top[rm] = *x;
							top[rm].fp = nfp;
							rm++;
						} else if (diverged) {
							rep->stop_at = rm;
							rm = -1;
						}
					}
					if (replay_end)
						break;
					continue;
				}
			}
		}
		uintptr_t nra = load(fp + 8);
		if (nra < 4096)
			break;
		if (rm >= 0) {
			if (rm < TOP_N) {
				top[rm].at = fp + 8;
				top[rm].ra = nra;
				top[rm].slot = fp;
				top[rm].fp = load(fp);
				rm++;
			} else {
				rep->stop_at = rm;
				rm = -1;
			}
		}
		sp = fp + 16;
		fp = load(fp);
		ra = nra;
		pc = nra - 1;
		pcs[n++] = nra;
	}
	if (rep) {
		rep->j = rj;
		rep->mt = rm;
		rep->ended = n < max || replay_end;
	}
	w->pc = pc;
	w->ra = ra;
	w->sp = sp;
	w->fp = fp;
	w->lo = lo;
	w->hi = hi;
	return n;
}

/* Make the capture just done the thread's record (see struct replay). */
static void wc_commit(const replay *rep)
{
	walk_cache *wc = rep->wc;
	int mt = rep->mt >= 0 ? rep->mt : rep->stop_at;
	int a = rep->a >= 0 ? rep->a : mt;
	int r = rep->a >= 0 ? rep->r1 - rep->r0 : 0;
	int b = mt - a;
	bool ended = rep->mt >= 0 && rep->ended;
	if (a == 0 && b == 0 && r == wc->n - rep->r0 && rep->r0 == 0) {
		wc->ended = ended;
		return;          /* the same record */
	}
	wc->ended = ended && a + r + b <= WC_N;   /* not when cut short below */
	if (a + r > WC_N)
		r = WC_N - a;
	if (r > 0 && a != rep->r0)
		memmove(&wc->e[a], &wc->e[rep->r0], (size_t)r * sizeof wc->e[0]);
	if (a > 0)
		memcpy(&wc->e[0], rep->top, (size_t)a * sizeof wc->e[0]);
	if (a + r + b > WC_N)
		b = WC_N - a - r;
	if (b > 0)
		memcpy(&wc->e[a + r], rep->top + a, (size_t)b * sizeof wc->e[0]);
	wc->n = a + r + b;
}

/* ---- Repeat records ----
**
** Events mostly come from call sites that repeat their stack exactly. For a
** walk made only of frame-pointer steps, the 16 bytes at frame F_k are
** exactly {F_{k+1}, ra_k}: what the step reads. A record keeps F_0 and these
** pairs (and, after the first CFI step, general entries in the walk
** cache's form). A new capture that starts from the same F_0, with the same
** skip and the same max (or any max >= n when the recorded walk ended by
** itself), loads the 16 bytes at each F_k (F_k taken from the record: the
** loads do not wait for each other) and compares them with the pairs, then
** checks the general entries. All equal means the walk would read exactly
** the recorded values, so it would make exactly the recorded steps and
** return exactly the recorded pcs:
**  - a step's kind (frame pointer or CFI) depends only on the return address
**    it leaves (the rule of its code, a pure function of the pc: rule cache
**    and FP filter only cache it). A record holds pairs only for steps whose
**    rule is FP or GUESS, and re-derives every CFI step (CFA, slots) from
**    the recorded state and the rule, when it is built;
**  - a frame-pointer step's checks (F_{k+1} 8-aligned, >= F_k + 16, inside
**    the thread's stack) depend only on F_k and F_{k+1}, both in the record,
**    and held when it was built; the thread's bounds never change;
**  - the walk ends where it ended: at max (part of the key; a walk that
**    ended by itself after n frames gives the same n frames for any max >=
**    n), at a STOP rule at the last return address, at a next frame pointer
**    or CFI address that fails the checks, or at a next frame whose return
**    address is < 4096 (that frame's pair is then verified too);
**  - the record is built from the walk cache's entries of the capture just
**    made, and checked to describe the walk above step by step (addresses
**    chained, rules, bounds, end) and to give exactly that capture's pcs; so
**    whatever it was built from, it states a fact about walks;
**  - every address lies in [F_0, thread stack top): F_0 is a live frame of
**    the caller, so the loads read live stack and cannot fault.
** A verified record returns its pcs without walking; its token (unique on
** the thread, changed whenever the record is rebuilt) names them, so the
** tracer can map token -> stack id and skip even the copy. A record is only
** built when its slot saw the same key on the previous capture, and a slot
** whose verifications keep failing pauses. Records live in the walk cache
** and share its `busy` flag: a signal handler's capture neither uses nor
** changes them while the interrupted code is inside one. */

static inline unsigned rr_set(uintptr_t pc)
{
	return (unsigned)((pc * UINT64_C(0x9E3779B97F4A7C15)) >> 62);
}

/* A record's max and skip: max | skip << 16, or RR_OPEN | skip << 16 when
** its walk ended by itself before max (it then answers any max >= n). A
** record cut by max has skip + max < RR_N; callers use records only for
** skip < RR_N, and a larger max is clamped (only open records match it). */
#define RR_OPEN 0x80000000u
static inline uint32_t rr_maxskip(int max, int skip)
{
	return (uint32_t)(max < 0xffff ? max : 0xffff) | (uint32_t)skip << 16;
}

/* Is the rule at return address ra a frame-pointer rule (FP or GUESS)? */
static inline bool rr_fp_rule(uintptr_t ra)
{
	if (atomic_load_explicit(&fpok[fpok_slot(ra)], memory_order_relaxed) == ra)
		return true;
	gr_rule r = gr_rule_lookup(ra - 1, ra);
	return r.kind == GR_RULE_FP || r.kind == GR_RULE_GUESS;
}

/* Does memory at F_1, F_2, ... still hold r's pairs (frame 0's, {fp0, pc0},
** the caller has read and the key matched the pc)? Eight frames per branch;
** the address of frame k + 1 comes from the record's pair k. */
/* Frames k0 .. k0 + 7 (a = F_k0): accumulates their differences. */
#define RR_CHUNK8(acc, p, k0, a)                                                                    \
	do {                                                                                        \
		_Pragma("GCC unroll 8") for (int i_ = 0; i_ < 8; i_++) {                            \
			__m128i v_ = _mm_load_si128(&(p)[(k0) + i_]);                                  \
			acc = _mm_or_si128(acc, _mm_xor_si128(v_, _mm_loadu_si128((const __m128i *)(a)))); \
			a = (uintptr_t)_mm_cvtsi128_si64(v_);                                         \
		}                                                                                   \
	} while (0)

NO_ASAN static inline bool rr_verify(const rrec *r, uintptr_t fp0)
{
	const __m128i *p = (const __m128i *)r->pair;
	const __m128i zero = _mm_setzero_si128();
	uintptr_t a = fp0;
	int m = r->m, k = 1;
	__m128i acc = zero;
	if (r->pair[0][0] != fp0)
		return false;
	if (m > 8) {
		/* chunks of 8 frames; the last one ends at frame m - 1 and may
		** overlap the one before (checking a frame twice is harmless) */
		for (; k + 8 <= m; k += 8) {
			RR_CHUNK8(acc, p, k, a);
			if (_mm_movemask_epi8(_mm_cmpeq_epi8(acc, zero)) != 0xFFFF)
				return false;
		}
		if (k < m) {
			k = m - 8;
			a = (uintptr_t)r->pair[k - 1][0];
			RR_CHUNK8(acc, p, k, a);
		}
	} else {
		for (; k < m; k++) {
			__m128i v = _mm_load_si128(&p[k]);
			acc = _mm_or_si128(acc, _mm_xor_si128(v, _mm_loadu_si128((const __m128i *)a)));
			a = (uintptr_t)_mm_cvtsi128_si64(v);
		}
	}
	if (_mm_movemask_epi8(_mm_cmpeq_epi8(acc, zero)) != 0xFFFF)
		return false;
	uintptr_t d = 0;
	for (int i = 0; i < r->t; i++) {
		const rr_tail *x = &r->tail[i];
		d |= (load(x->at) ^ x->ra) | (load(x->slot) ^ x->fp);
	}
	return d == 0;
}

/* What a capture that may use a repeat record passes down to the walk. */
typedef struct rr_ctx {
	rrec *r;
	uintptr_t f0, fp0, pc0;    /* F_0 and the 16 bytes read there */
	int max, skip;
	uint64_t *tok;             /* set to the new record's token when built */
} rr_ctx;

/* Make c->r describe the capture just made (pcs[0..n), after skip), from
** the walk cache's entries of it (wc: just committed, busy held), when that
** capture was all frame-pointer steps (see above). */
NO_ASAN static bool rr_build_at(const rr_ctx *c, walk_cache *wc, const uintptr_t *pcs, int n);

/* Leave a slot alone for a while: 16 captures, doubling up to 1024 while
** no capture from it hits (a site whose stack never repeats, or cannot be
** recorded, then costs almost nothing). */
static void rr_pause(rrec *r)
{
	r->fails = 0;
	r->pause = 16 << r->backoff;
	if (r->backoff < 6)
		r->backoff++;
}

/* A failed build (a CFI step, a record cut short) pauses the slot. */
NO_ASAN static void rr_build(const rr_ctx *c, walk_cache *wc, const uintptr_t *pcs, int n)
{
	c->r->tok = 0;
	if (!rr_build_at(c, wc, pcs, n))
		rr_pause(c->r);
}

NO_ASAN static bool rr_build_at(const rr_ctx *c, walk_cache *wc, const uintptr_t *pcs, int n)
{
	rrec *r = c->r;
	int total = c->skip + n;       /* frames walked */
	long T = (long)c->skip + c->max;
	if (n <= 0 || total + 1 > RR_N || wc->n < total - 1 || c->pc0 < 4096)
		return false;
	uintptr_t hi = tls_hi;
	uintptr_t rp[RR_N];            /* the record's walk: pcs before skip */
	r->pair[0][0] = c->fp0;
	r->pair[0][1] = c->pc0;
	rp[0] = c->pc0;
	int m = 1, t = 0;
	/* the walk's state after the step at F_0, and what step k reads */
	uintptr_t ra = c->pc0, sp = c->f0 + 16, fp = c->fp0;
	for (int k = 1; k <= total; k++) {
		bool end = k == total;         /* the step that ended the walk */
		if (end && total == T)
			break;                     /* max */
		gr_rule rule;
		if (rr_fp_rule(ra))
			rule.kind = GR_RULE_FP;
		else
			rule = gr_rule_lookup(ra - 1, ra);
		if (rule.kind == GR_RULE_FP || rule.kind == GR_RULE_GUESS) {
			if ((fp & 7) != 0 || fp < sp || fp > hi - 16) {
				if (end)
					break;             /* the frame pointer check ended it */
				return false;
			}
			uintptr_t at = fp + 8, nra, nfp;
			if (end) {
				/* the return address there ended it: verify that too */
				nfp = load(fp);
				nra = load(at);
				if (nra >= 4096)
					return false;
			} else {
				const wc_entry *x = &wc->e[k - 1];
				if (x->at != at || x->slot != fp || x->ra < 4096)
					return false;
				nfp = x->fp;
				nra = x->ra;
			}
			if (t == 0) {
				r->pair[m][0] = nfp;
				r->pair[m][1] = nra;
				m++;
			} else {
				if (t == RR_TAIL)
					return false;
				r->tail[t++] = (rr_tail){ at, nra, fp, nfp };
			}
			if (end)
				break;
			sp = fp + 16;
			fp = nfp;
			ra = nra;
		} else if (rule.kind == GR_RULE_SP || rule.kind == GR_RULE_BP) {
			/* step_slow's step, on the values the walk cache read */
			uintptr_t cfa = (rule.kind == GR_RULE_SP ? sp : fp) + (uintptr_t)(intptr_t)rule.cfa_off;
			uintptr_t at = cfa - 8, slot = 0;
			bool ok = cfa > sp && (at & 7) == 0 && at >= sp && at <= hi - 8;
			if (ok && rule.rbp_off) {
				slot = cfa + (uintptr_t)(intptr_t)rule.rbp_off;
				ok = (slot & 7) == 0 && slot >= sp && slot <= hi - 8;
			}
			if (!ok) {
				if (end)
					break;             /* the CFI step failed on its addresses */
				return false;
			}
			if (end)
				return false;          /* (failed on a value: not recorded) */
			const wc_entry *x = &wc->e[k - 1];
			if ((x->at & ~(uintptr_t)7) != at || x->ra < 4096 || t == RR_TAIL)
				return false;
			if (slot ? (x->at & 1) != 0 || x->slot != slot : (x->at & 1) == 0)
				return false;
			/* a carried rbp: the entry checks its ra twice (as the walk cache does) */
			r->tail[t++] = slot ? (rr_tail){ at, x->ra, slot, x->fp } : (rr_tail){ at, x->ra, at, x->ra };
			sp = cfa;
			ra = x->ra;
			if (slot)
				fp = x->fp;
		} else if (rule.kind == GR_RULE_STOP && end) {
			break;
		} else {
			return false;              /* a signal frame, or a walk we do not follow */
		}
		rp[k] = ra;
	}
	for (int k = c->skip; k < total; k++)
		if (rp[k] != pcs[k - c->skip])
			return false;
	memcpy(r->pcs, pcs, (size_t)n * sizeof pcs[0]);
	r->f0 = c->f0;
	r->m = m;
	r->t = t;
	r->n = n;
	r->maxskip = total < T ? RR_OPEN | (uint32_t)c->skip << 16 : rr_maxskip(c->max, c->skip);
	r->ukey = 0;
	r->tok = (++wc->rr_made << 3) | (uint64_t)(r - wc->rr);
	tls_rr_built++;
	if (c->tok)
		*c->tok = r->tok;
	return true;
}

static inline bool thread_bounds(void)
{
	if (__builtin_expect(tls_bounds_state == BOUNDS_KNOWN, 1))
		return true;
	if (tls_bounds_state == BOUNDS_UNKNOWN)
		_gr_stack_thread_init();
	return tls_bounds_state == BOUNDS_KNOWN;
}

/* Walk from state w (pcs[0..n) already stored by the caller), skipping
** `skip` frames, with the walk cache when the mode allows. */
NO_ASAN static int walk_with_cache(walk *w, uintptr_t *pcs, int n, int max, int skip, int mode,
                                   const rr_ctx *rb)
{
	bool cfi = mode != 1;
	wc_entry top[TOP_N];
	replay rep = { .wc = tls_wc, .top = top, .j = 0, .mt = -1, .a = -1 }, *rp = NULL;
	if (mode == 0 && rep.wc && !rep.wc->busy && w->lo == tls_lo &&
	    (rb || rep.wc->pause == 0 || --rep.wc->pause < 0)) {
		rep.wc->pause = 0;
		rp = &rep;
		rep.wc->busy = 1;
		atomic_signal_fence(memory_order_seq_cst);
		rep.L = rep.wc->n;
		rep.mt = 0;
	}
	while (skip > 0) {
		uintptr_t junk[16];
		int k = skip < 16 ? skip : 16;
		int got = walk_frames(w, junk, k, cfi, rp);
		skip -= k;
		if (got < k) {
			skip = -1;
			break;
		}
	}
	if (skip == 0)
		n += walk_frames(w, pcs + n, max - n, cfi, rp);
	else
		n = 0;
	if (rp) {
		wc_commit(&rep);
		if (rb)
			rr_build(rb, rep.wc, pcs, n);
		/* Stacks that never repeat (every capture a new path) only pay for
		** recording: after 8 captures that replayed under a quarter of
		** their frames, skip the cache for the next 64. */
		int replayed = rep.a >= 0 ? rep.r1 - rep.r0 : 0;
		if (replayed * 4 < n) {
			if (++rep.wc->misses >= 8) {
				rep.wc->misses = 0;
				rep.wc->pause = 64;
			}
		} else {
			rep.wc->misses = 0;
		}
		atomic_signal_fence(memory_order_seq_cst);
		rep.wc->busy = 0;
	}
	return n;
}

static inline bool rr_key(const rrec *x, uintptr_t f0, uintptr_t pc0, uint32_t maxskip)
{
	return x->tok && x->f0 == f0 && x->pair[0][1] == pc0 &&
	       (x->maxskip == maxskip ||
	        (x->maxskip == (RR_OPEN | (maxskip & 0xffff0000u)) && (maxskip & 0xffffu) >= (uint32_t)x->n));
}

/* The slow part of capture_rr (no verified record): the slot bookkeeping
** (`failed`: the record of this key did not verify; NULL: none was tried),
** then a walk, which builds a record when this key repeats. */
__attribute__((noinline)) NO_ASAN
static int capture_rr_slow(uintptr_t f0, uintptr_t fp0, uintptr_t pc0, uintptr_t *pcs, int max,
                           int skip, int mode, uint64_t *tok, rrec *failed)
{
	walk_cache *wc = tls_wc;
	rr_ctx c, *cp = NULL;
	uint32_t ms = rr_maxskip(max, skip);
	if (mode == 0 && wc && !wc->busy && skip < RR_N) {
		wc->busy = 1;
		atomic_signal_fence(memory_order_seq_cst);
		unsigned set = rr_set(pc0);
		rrec *ways = &wc->rr[set * RR_WAYS], *r = NULL, *b = NULL;
		for (int i = 0; i < RR_WAYS && !r; i++)
			if (rr_key(&ways[i], f0, pc0, ms))
				r = &ways[i];
		if (r) {
			wc->rr_mru[set] = (uint8_t)(r - ways);
			if (r->pause > 0) {
				r->pause--;
			} else if (r != failed) {
				b = r;            /* (changed since: rebuild) */
			} else if (++r->fails >= 2) {
				/* this site's stack keeps changing: leave it alone a while */
				rr_pause(r);
			} else {
				b = r;
			}
		} else {
			/* build when a way saw this key last time, else note it */
			for (int i = 0; i < RR_WAYS && !b; i++) {
				rrec *x = &ways[i];
				if (x->seen_f0 == f0 && x->seen_pc == pc0 && x->seen_maxskip == ms)
					b = x;
			}
			rrec *v = b ? b : &ways[wc->rr_mru[set] ^ 1];
			v->seen_f0 = f0;
			v->seen_pc = pc0;
			v->seen_maxskip = ms;
			wc->rr_mru[set] = (uint8_t)(v - ways);
			if (b && b->pause > 0) {
				b->pause--;      /* its last build failed */
				b = NULL;
			} else if (b) {
				b->fails = 0;
			}
		}
		atomic_signal_fence(memory_order_seq_cst);
		wc->busy = 0;
		if (b) {
			c = (rr_ctx){ b, f0, fp0, pc0, max, skip, tok };
			cp = &c;
		}
	}
	walk w = { pc0 - 1, pc0, f0 + 16, fp0, tls_lo, tls_hi };
	int n = 0;
	if (skip <= 0)
		pcs[n++] = pc0;
	else
		skip--;
	return walk_with_cache(&w, pcs, n, max, skip, mode, cp);
}

/* The record of this key that verifies (busy held by the caller), or NULL;
** *failed is then the record of this key whose verification failed, if any. */
__attribute__((always_inline)) NO_ASAN
static inline rrec *rr_find(walk_cache *wc, uintptr_t f0, uintptr_t fp0, uintptr_t pc0, uint32_t ms,
                                    rrec **failed)
{
	rrec *skip = wc->rr_skip;
	wc->rr_skip = NULL;
	unsigned set = rr_set(pc0);
	rrec *r = &wc->rr[set * RR_WAYS];
	uint8_t way = 0;
	if (!rr_key(r, f0, pc0, ms)) {
		r++;
		way = 1;
		if (!rr_key(r, f0, pc0, ms))
			return NULL;
	}
	if (r->pause != 0)
		return NULL;
	if (r == skip || !rr_verify(r, fp0)) {
		*failed = r;
		return NULL;
	}
	wc->rr_mru[set] = way;
	r->fails = 0;
	r->backoff = 0;
	tls_rr_hits++;
	return r;
}

/* Capture from F_0 = f0, a live frame of the caller on the thread's own
** stack (the 16 bytes there are {fp0, pc0}): pcs[0] = pc0 unless skipped,
** then its callers, exactly as a walk from the state after a frame-pointer
** step at f0, with the repeat records in mode 0; the result is copied.
** The inline part is the verification of a record; the rest is out of
** line. */
__attribute__((always_inline)) NO_ASAN
static inline int capture_rr(uintptr_t f0, uintptr_t fp0, uintptr_t pc0, uintptr_t *pcs, int max,
                             int skip, int mode)
{
	walk_cache *wc = tls_wc;
	rrec *failed = NULL;
	uint64_t tok;
	if (__builtin_expect(mode == 0 && wc != NULL && !wc->busy && skip < RR_N, 1)) {
		wc->busy = 1;
		atomic_signal_fence(memory_order_seq_cst);
		rrec *r = rr_find(wc, f0, fp0, pc0, rr_maxskip(max, skip), &failed);
		int n = 0;
		if (r) {
			n = r->n;
			memcpy(pcs, r->pcs, (size_t)n * sizeof pcs[0]);
		}
		atomic_signal_fence(memory_order_seq_cst);
		wc->busy = 0;
		if (n)
			return n;
	}
	return capture_rr_slow(f0, fp0, pc0, pcs, max, skip, mode, &tok, failed);
}

__attribute__((noinline)) NO_ASAN
int _gr_stack_capture(uintptr_t *pcs, int max, int skip)
{
	if (max <= 0 || !thread_bounds())
		return 0;
	int mode = atomic_load_explicit(&fp_only_mode, memory_order_relaxed);
	/* Start as if returning from this function (which keeps a frame pointer):
	** the state is that of our caller at the return address. */
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	walk w;
	if (fp >= tls_lo && fp <= tls_hi - 16 && (fp & 7) == 0)
		return capture_rr(fp, load(fp), load(fp + 8), pcs, max, skip < 0 ? 0 : skip, mode);
	if (!region_for(&w, fp)) {
		return 0;
	}
	if ((fp & 7) != 0 || fp > w.hi - 16)
		return 0;
	w.ra = load(fp + 8);
	w.pc = w.ra - 1;
	w.sp = fp + 16;
	w.fp = load(fp);
	int n = 0;
	if (skip <= 0)
		pcs[n++] = w.ra;
	else
		skip--;
	return walk_with_cache(&w, pcs, n, max, skip, mode, NULL);
}

/* How many frames above _gr_stack_capture_from to look for the frame that
** holds (fp, pc): the caller's own frames (libgort's, with frame pointers). */
#define FROM_SEARCH 8

__attribute__((noinline)) NO_ASAN
int _gr_stack_capture_from(void *fpv, uintptr_t pc, uintptr_t *pcs, int max)
{
	if (max <= 0)
		return 0;
	pcs[0] = pc;
	uintptr_t fp = (uintptr_t)fpv;
	uintptr_t f = (uintptr_t)__builtin_frame_address(0);
	walk w;
	if (max == 1 || !thread_bounds() || !region_for(&w, f))
		return 1;
	int mode = atomic_load_explicit(&fp_only_mode, memory_order_relaxed);
	/* The usual caller passes the saved frame pointer and return address of
	** one of its own frames F (F[0], F[1]): find F above us, and the state
	** at pc is known exactly, stack pointer included (F + 16), so the code
	** at pc may lack a frame pointer and the walk is still exact, and it can
	** use the walk cache. Otherwise: frame pointers only from fp. */
	if (mode != 1) {
		for (int i = 0; i < FROM_SEARCH; i++) {
			if ((f & 7) != 0 || f > w.hi - 16)
				break;
			uintptr_t nf = load(f);
			if (load(f + 8) == pc && nf == fp) {
				if (w.lo == tls_lo)
					return capture_rr(f, fp, pc, pcs, max, 0, mode);
				w.pc = pc - 1;
				w.ra = pc;
				w.sp = f + 16;
				w.fp = fp;
				return walk_with_cache(&w, pcs, 1, max, 0, mode, NULL);
			}
			if (nf <= f)
				break;
			f = nf;
		}
	}
	if ((fp < w.lo || fp >= w.hi) && !region_for(&w, fp))
		return 1;         /* (fp may be on the thread stack, we on a signal stack) */
	w.sp = fp;
	w.fp = fp;
	w.pc = pc - 1;
	w.ra = pc;
	return 1 + walk_frames(&w, pcs + 1, max - 1, false, NULL);
}

/* The part of _gr_stack_capture_frame after its fast path: a capture with
** the buffer (tried: the fast path read fp0 and pc0 at frame and failed,
** `failed` is the record whose verification failed). */
__attribute__((noinline)) NO_ASAN
static int capture_frame_slow(void *frame, uintptr_t *pcs, int max, uint64_t *tok, rrec *failed)
{
	uintptr_t f = (uintptr_t)frame, me = (uintptr_t)__builtin_frame_address(0);
	uint64_t tk = 0;
	int n = 0;
	if (pcs && max > 0 && frame) {
		if (thread_bounds() && me >= tls_lo && me < tls_hi && (f & 7) == 0 && f >= me + 16 &&
		    f <= tls_hi - 16) {
			int mode = atomic_load_explicit(&fp_only_mode, memory_order_relaxed);
			n = capture_rr_slow(f, load(f), load(f + 8), pcs, max, 0, mode, &tk, failed);
		} else {
			/* not on the thread's stack (a signal stack): no records */
			const uintptr_t *fr = frame;
			n = fr[1] ? _gr_stack_capture_from((void *)fr[0], fr[1], pcs, max) : 0;
		}
	}
	if (tok)
		*tok = tk;
	return n;
}

/* May _gr_stack_capture_frame's fast path run (the key and the
** verification only)? A record's addresses were checked when it was built
** (against bounds that never change); frame is the caller's live frame (the
** range check keeps a misuse from reading far away). */
static inline bool frame_fast_ok(const walk_cache *wc, uintptr_t f, uintptr_t me, int max)
{
	return wc != NULL && tls_bounds_state == BOUNDS_KNOWN && (f & 7) == 0 &&
	       f - me - 16 <= tls_hi - me - 32 && max > 0 && !wc->busy &&
	       atomic_load_explicit(&fp_only_mode, memory_order_relaxed) == 0;
}

__attribute__((noinline)) NO_ASAN
uint64_t _gr_stack_frame_lookup(void *frame, int max, uint64_t key, uint64_t *tok)
{
	uintptr_t f = (uintptr_t)frame, me = (uintptr_t)__builtin_frame_address(0);
	walk_cache *wc = tls_wc;
	uint64_t val = 0, tk = 0;
	if (__builtin_expect(frame_fast_ok(wc, f, me, max), 1)) {
		uintptr_t fp0 = load(f), pc0 = load(f + 8);
		rrec *failed = NULL;
		wc->busy = 1;
		atomic_signal_fence(memory_order_seq_cst);
		rrec *r = rr_find(wc, f, fp0, pc0, rr_maxskip(max, 0), &failed);
		if (r) {
			tk = r->tok;
			if (key && r->ukey == key)
				val = r->uval;
		} else {
			wc->rr_skip = failed;   /* the caller comes back to capture */
		}
		atomic_signal_fence(memory_order_seq_cst);
		wc->busy = 0;
	}
	*tok = tk;
	return val;
}

NO_ASAN void _gr_stack_token_set_user(uint64_t tok, uint64_t key, uint64_t val)
{
	walk_cache *wc = tls_wc;
	if (!tok || !wc || wc->busy)
		return;
	wc->busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	rrec *r = &wc->rr[tok & (RR_SLOTS - 1)];
	if (r->tok == tok) {
		r->ukey = key;
		r->uval = val;
	}
	atomic_signal_fence(memory_order_seq_cst);
	wc->busy = 0;
}

__attribute__((noinline)) NO_ASAN
int _gr_stack_capture_frame(void *frame, uintptr_t *pcs, int max, uint64_t *tok)
{
	uintptr_t f = (uintptr_t)frame, me = (uintptr_t)__builtin_frame_address(0);
	walk_cache *wc = tls_wc;
	rrec *failed = NULL;
	/* The fast path (see frame_fast_ok); the rest is out of line. */
	if (__builtin_expect(frame_fast_ok(wc, f, me, max), 1)) {
		uintptr_t fp0 = load(f), pc0 = load(f + 8);
		wc->busy = 1;
		atomic_signal_fence(memory_order_seq_cst);
		rrec *r = rr_find(wc, f, fp0, pc0, rr_maxskip(max, 0), &failed);
		int n = 0;
		uint64_t tk = 0;
		if (r) {
			n = -r->n;
			tk = r->tok;
			if (!tok) {
				n = r->n;
				memcpy(pcs, r->pcs, (size_t)n * sizeof pcs[0]);
			}
		} else if (!pcs) {
			wc->rr_skip = failed;   /* the caller comes back with pcs */
		}
		atomic_signal_fence(memory_order_seq_cst);
		wc->busy = 0;
		if (n || !pcs) {
			if (tok)
				*tok = tk;
			return n;
		}
	} else if (!pcs) {
		*tok = 0;
		return 0;
	}
	return capture_frame_slow(frame, pcs, max, tok, failed);
}

NO_ASAN int _gr_stack_token_pcs(uint64_t tok, uintptr_t *pcs, int max)
{
	walk_cache *wc = tls_wc;
	int n = 0;
	if (!tok || !wc || wc->busy)
		return 0;
	wc->busy = 1;
	atomic_signal_fence(memory_order_seq_cst);
	const rrec *r = &wc->rr[tok & (RR_SLOTS - 1)];
	if (r->tok == tok && r->n <= max) {
		n = r->n;
		memcpy(pcs, r->pcs, (size_t)n * sizeof pcs[0]);
	}
	atomic_signal_fence(memory_order_seq_cst);
	wc->busy = 0;
	return n;
}

NO_ASAN int _gr_stack_capture_ucontext(const void *ucp, uintptr_t *pcs, int max)
{
	if (max <= 0 || !ucp)
		return 0;
	const ucontext_t *uc = ucp;
	uintptr_t rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t rbp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
	pcs[0] = rip + 1;
	walk w;
	/* Never initialise bounds here: this runs in signal handlers. */
	if (max == 1 || tls_bounds_state != BOUNDS_KNOWN || !region_for(&w, rsp))
		return 1;
	w.pc = rip;
	w.ra = 0;
	w.sp = rsp;
	w.fp = rbp;
	return 1 + walk_frames(&w, pcs + 1, max - 1,
	                       atomic_load_explicit(&fp_only_mode, memory_order_relaxed) != 1, NULL);
}

void _gr_stack_get_stats(gr_stack_stats *out)
{
	out->cfi_lookups = atomic_load(&_gr_stack_cfi_lookups);
	out->cfi_steps = tls_cfi_steps;
	out->sym_lookups = atomic_load(&_gr_stack_sym_lookups);
	out->sym_refreshes = atomic_load(&_gr_stack_sym_refreshes);
	out->replayed_frames = tls_replayed;
	out->repeat_hits = tls_rr_hits;
	out->repeat_built = tls_rr_built;
}
