/*
** src/core/hooks.c: storage for the cross-module hooks (src/internal/hooks.h).
*/
#include "internal/hooks.h"

_Atomic(_gr_heap_hook_fn) _gr_heap_hook;
_Atomic(_gr_crash_hook_fn) _gr_crash_hook;
