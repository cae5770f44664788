/*
** src/stack/rulecache.c: the process-wide pc -> gr_rule cache.
**
** A fixed open-addressing table (16384 slots, linear probing over at most
** PROBES slots). Lock-free and async-signal-safe, so the SIGPROF handler can
** fill it too.
**
** Invariants:
**  - A slot's key goes 0 -> BUSY -> pc exactly once (the filler wins a CAS on
**    0), and is never changed or removed afterwards; its rule is written
**    before the key is published with release order, so a reader that sees
**    key == pc with acquire order reads a complete rule.
**  - Readers treat BUSY as a different key. Two threads may compute and cache
**    the same pc in two slots; rules are a pure function of the code, so
**    duplicates are harmless.
**  - When every probed slot is taken the rule is computed and not cached.
**  - Code unloaded with dlclose leaves its entries behind; a module later
**    mapped at the same addresses would see stale rules (documented in
**    docs/stacks.md; the symbolizer cache has the same property).
** Owner: stack helper.
*/
#include "stack/stack_int.h"

#define PROBES 8
#define BUSY ((uintptr_t)1)

gr_rule_slot _gr_rulecache[1u << GR_RULECACHE_BITS];
_Atomic uint64_t _gr_stack_cfi_lookups;

gr_rule _gr_rulecache_fill(uintptr_t key, uintptr_t ra)
{
	unsigned mask = (1u << GR_RULECACHE_BITS) - 1;
	unsigned h = gr_rule_hash(key);
	for (unsigned i = 0; i < PROBES; i++) {
		gr_rule_slot *s = &_gr_rulecache[(h + i) & mask];
		uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
		if (k == key)
			return gr_rule_unpack(atomic_load_explicit(&s->rule, memory_order_relaxed));
		if (k != 0)
			continue;
		gr_rule r = _gr_cfi_rule(key, ra);
		atomic_fetch_add_explicit(&_gr_stack_cfi_lookups, 1, memory_order_relaxed);
		uintptr_t zero = 0;
		if (atomic_compare_exchange_strong_explicit(&s->key, &zero, BUSY,
		                                            memory_order_acquire, memory_order_relaxed)) {
			atomic_store_explicit(&s->rule, gr_rule_pack(r), memory_order_relaxed);
			atomic_store_explicit(&s->key, key, memory_order_release);
		}
		return r;
	}
	atomic_fetch_add_explicit(&_gr_stack_cfi_lookups, 1, memory_order_relaxed);
	return _gr_cfi_rule(key, ra);
}
