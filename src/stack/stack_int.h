/*
** src/stack/stack_int.h: private interface between the files of src/stack.
**
**   cfi.c        finds the DWARF call-frame rule of one pc in the loaded
**                modules' .eh_frame (via _dl_find_object + .eh_frame_hdr)
**                and reduces it to a gr_rule; no state, async-signal-safe.
**   rulecache.c  the process-wide lock-free pc -> gr_rule cache.
**   unwind.c     thread stack bounds, the frame walk, the capture entry points.
**   symbolize.c  pc -> (function, file, line) with libdw or dladdr.
**   cpuprof.c    the SIGPROF profiler.
*/
#ifndef GORT_STACK_INT_H
#define GORT_STACK_INT_H

#include <stdatomic.h>
#include <stdint.h>

/* How to find a frame's caller, reduced from the CFI row at one pc (x86-64).
** CFA = canonical frame address = caller's rsp after the return; the return
** address is always at CFA - 8 (other rules are reported as GR_RULE_GUESS). */
enum {
	GR_RULE_NONE = 0,   /* empty cache slot */
	GR_RULE_FP,         /* CFA = rbp + 16, caller's rbp at CFA - 16: frame pointer */
	GR_RULE_SP,         /* CFA = rsp + cfa_off; rbp at CFA + rbp_off if rbp_off != 0 */
	GR_RULE_BP,         /* CFA = rbp + cfa_off (not the standard frame); rbp likewise */
	GR_RULE_SIGNAL,     /* the pc is the signal return trampoline: ucontext at rsp */
	GR_RULE_STOP,       /* outermost frame (return address undefined) */
	GR_RULE_GUESS,      /* no usable CFI (JIT code, odd rule): trust the frame pointer */
};

typedef struct gr_rule {
	uint8_t kind;
	int16_t rbp_off;    /* where the caller's rbp is saved, relative to CFA; 0 = unchanged */
	int32_t cfa_off;
} gr_rule;

static inline uint64_t gr_rule_pack(gr_rule r)
{
	return (uint64_t)r.kind | (uint64_t)(uint16_t)r.rbp_off << 8 |
	       (uint64_t)(uint32_t)r.cfa_off << 24;
}
static inline gr_rule gr_rule_unpack(uint64_t v)
{
	gr_rule r;
	r.kind = (uint8_t)v;
	r.rbp_off = (int16_t)(uint16_t)(v >> 8);
	r.cfa_off = (int32_t)(uint32_t)(v >> 24);
	return r;
}

/* The CFI rule at pc (the address of the instruction whose row applies: a
** return address minus one, or an exact interrupted pc). ra_exact: pc is the
** return address itself (used to recognise the signal trampoline, whose
** "return address" is its first instruction). Never fails: without usable
** CFI the result is GR_RULE_GUESS. Async-signal-safe. */
gr_rule _gr_cfi_rule(uintptr_t pc, uintptr_t ra);

/* Cached _gr_cfi_rule(key = lookup pc). Async-signal-safe, lock-free. */
#define GR_RULECACHE_BITS 14
typedef struct gr_rule_slot {
	_Atomic uintptr_t key;
	_Atomic uint64_t rule;
} gr_rule_slot;
extern gr_rule_slot _gr_rulecache[1u << GR_RULECACHE_BITS];
gr_rule _gr_rulecache_fill(uintptr_t key, uintptr_t ra);

static inline unsigned gr_rule_hash(uintptr_t key)
{
	return (unsigned)((key * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - GR_RULECACHE_BITS));
}

/* Fast lookup: the first probe only; a miss (or a colliding key) takes the
** slow path, which probes further and fills. */
static inline gr_rule gr_rule_lookup(uintptr_t key, uintptr_t ra)
{
	gr_rule_slot *s = &_gr_rulecache[gr_rule_hash(key)];
	if (atomic_load_explicit(&s->key, memory_order_acquire) == key)
		return gr_rule_unpack(atomic_load_explicit(&s->rule, memory_order_relaxed));
	return _gr_rulecache_fill(key, ra);
}

extern _Atomic uint64_t _gr_stack_cfi_lookups;
extern _Atomic uint64_t _gr_stack_sym_lookups, _gr_stack_sym_refreshes;

#endif
