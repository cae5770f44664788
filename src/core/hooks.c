/*
** src/core/hooks.c: storage for the cross-module hooks (src/internal/hooks.h).
*/
#include "internal/hooks.h"

_Atomic(_gr_heap_hook_fn) _gr_heap_hook;
_Atomic(_gr_crash_hook_fn) _gr_crash_hook;

/* Fallback when the arena module is not linked in (static builds that use
** only the tracer): no arena, no live bytes. The arena module's definition
** overrides this one. */
__attribute__((weak)) uint64_t _gr_arena_live_bytes(void)
{
	return 0;
}
