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
#include <string.h>
#include <ucontext.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

enum { BOUNDS_UNKNOWN = 0, BOUNDS_BUSY, BOUNDS_KNOWN, BOUNDS_NONE };
static TLS uintptr_t tls_lo, tls_hi;
static TLS int tls_bounds_state;

_Atomic uint64_t _gr_stack_cfi_steps;
static _Atomic int fp_only_mode;

void _gr_stack_thread_init(void)
{
	if (tls_bounds_state != BOUNDS_UNKNOWN)
		return;
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

int _gr_stack_set_fp_only(int on)
{
	return atomic_exchange(&fp_only_mode, on ? 1 : 0);
}

typedef struct walk {
	uintptr_t pc;       /* lookup pc: return address - 1, or an exact pc */
	uintptr_t ra;       /* the return address (0 for an exact pc) */
	uintptr_t sp, fp;
	uintptr_t lo, hi;   /* current stack region */
} walk;

/* The region containing sp: the thread's stack or the signal stack. */
static bool region_for(walk *w, uintptr_t sp)
{
	if (tls_bounds_state == BOUNDS_KNOWN && sp >= tls_lo && sp < tls_hi) {
		w->lo = tls_lo;
		w->hi = tls_hi;
		return true;
	}
	stack_t ss;
	if (sigaltstack(NULL, &ss) == 0 && !(ss.ss_flags & SS_DISABLE) &&
	    sp >= (uintptr_t)ss.ss_sp && sp < (uintptr_t)ss.ss_sp + ss.ss_size) {
		w->lo = (uintptr_t)ss.ss_sp;
		w->hi = (uintptr_t)ss.ss_sp + ss.ss_size;
		return true;
	}
	return false;
}

/* Is [p, p + n) a readable, aligned part of the current region at or above sp? */
static inline bool in_frame(const walk *w, uintptr_t p, uintptr_t n)
{
	return (p & 7) == 0 && p >= w->sp && p >= w->lo && p <= w->hi - n;
}

static inline uintptr_t load(uintptr_t p)
{
	return *(const uintptr_t *)p;
}

/* Apply a non-frame-pointer rule. Returns false when the walk ends. */
__attribute__((noinline))
static bool step_slow(walk *w, gr_rule r)
{
	uintptr_t cfa;
	atomic_fetch_add_explicit(&_gr_stack_cfi_steps, 1, memory_order_relaxed);
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
	if (r.rbp_off) {
		uintptr_t slot = cfa + (uintptr_t)(intptr_t)r.rbp_off;
		if (!in_frame(w, slot, 8))
			return false;
		fp = load(slot);
	}
	if (ra < 4096)
		return false;
	w->sp = cfa;
	w->fp = fp;
	w->ra = ra;
	w->pc = ra - 1;
	return true;
}

/* Walk from w, storing return addresses; the first `skip` are dropped. */
__attribute__((always_inline))
static inline int walk_frames(walk *w, uintptr_t *pcs, int max, int skip, bool use_cfi)
{
	int n = 0;
	for (;;) {
		gr_rule r = { GR_RULE_FP, 0, 0 };
		if (use_cfi)
			r = gr_rule_lookup(w->pc, w->ra);
		if (__builtin_expect(r.kind == GR_RULE_FP || r.kind == GR_RULE_GUESS, 1)) {
			uintptr_t fp = w->fp;
			if (!in_frame(w, fp, 16))
				break;
			uintptr_t ra = load(fp + 8);
			if (ra < 4096)
				break;
			w->sp = fp + 16;
			w->fp = load(fp);
			w->ra = ra;
			w->pc = ra - 1;
		} else if (!step_slow(w, r)) {
			break;
		}
		if (skip > 0) {
			skip--;
			continue;
		}
		pcs[n++] = w->ra ? w->ra : w->pc + 1;
		if (n == max)
			break;
	}
	return n;
}

static inline bool thread_bounds(void)
{
	if (__builtin_expect(tls_bounds_state == BOUNDS_KNOWN, 1))
		return true;
	if (tls_bounds_state == BOUNDS_UNKNOWN)
		_gr_stack_thread_init();
	return tls_bounds_state == BOUNDS_KNOWN;
}

__attribute__((noinline))
int _gr_stack_capture(uintptr_t *pcs, int max, int skip)
{
	if (max <= 0 || !thread_bounds())
		return 0;
	if (skip < 0)
		skip = 0;
	/* Start as if returning from this function (which keeps a frame pointer):
	** the state is that of our caller at the return address. */
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	walk w;
	if (!region_for(&w, fp))
		return 0;
	w.sp = fp;
	if (!in_frame(&w, fp, 16))
		return 0;
	w.ra = load(fp + 8);
	w.pc = w.ra - 1;
	w.sp = fp + 16;
	w.fp = load(fp);
	if (skip == 0) {
		pcs[0] = w.ra;
		if (max == 1)
			return 1;
		return 1 + walk_frames(&w, pcs + 1, max - 1, 0,
		                       !atomic_load_explicit(&fp_only_mode, memory_order_relaxed));
	}
	return walk_frames(&w, pcs, max, skip - 1,
	                   !atomic_load_explicit(&fp_only_mode, memory_order_relaxed));
}

int _gr_stack_capture_from(void *fp, uintptr_t pc, uintptr_t *pcs, int max)
{
	if (max <= 0)
		return 0;
	pcs[0] = pc;
	walk w;
	if (!thread_bounds() || !region_for(&w, (uintptr_t)fp))
		return 1;
	w.sp = (uintptr_t)fp;
	w.fp = (uintptr_t)fp;
	w.pc = pc - 1;
	w.ra = pc;
	return 1 + walk_frames(&w, pcs + 1, max - 1, 0, false);
}

int _gr_stack_capture_ucontext(const void *ucp, uintptr_t *pcs, int max)
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
	return 1 + walk_frames(&w, pcs + 1, max - 1, 0,
	                       !atomic_load_explicit(&fp_only_mode, memory_order_relaxed));
}

void _gr_stack_get_stats(gr_stack_stats *out)
{
	out->cfi_lookups = atomic_load(&_gr_stack_cfi_lookups);
	out->cfi_steps = atomic_load(&_gr_stack_cfi_steps);
	out->sym_lookups = atomic_load(&_gr_stack_sym_lookups);
	out->sym_refreshes = atomic_load(&_gr_stack_sym_refreshes);
}
