/*
** src/internal/hooks.h: the few places where one gort module calls into
** another that may or may not be active, without a link-time dependency.
**
** Each hook is an atomic function pointer, NULL when nobody listens. The
** owner of a hook sets it (with release order) and clears it; callers load it
** (acquire) and call it if non-NULL. A hook must be cheap and must not call
** back into the module that invoked it.
**
**   heap hook   set by the tracer while tracing; called by the arena when the
**               process's live arena bytes change because a chunk or large
**               mapping was handed out or faulted (never per allocation).
**               The tracer records it as Go's HeapAlloc metric.
**   crash hook  set by the flight recorder; called by gort's fatal-signal
**               handlers (arena use-after-free report, flight recorder) once,
**               from the signal handler, before the process dies. Must be
**               async-signal-safe and take no lock the crashing thread may hold.
*/
#ifndef GORT_INTERNAL_HOOKS_H
#define GORT_INTERNAL_HOOKS_H

#include <stdatomic.h>
#include <stdint.h>

typedef void (*_gr_heap_hook_fn)(uint64_t live_bytes);
typedef void (*_gr_crash_hook_fn)(int signo);

extern _Atomic(_gr_heap_hook_fn) _gr_heap_hook;
extern _Atomic(_gr_crash_hook_fn) _gr_crash_hook;

/* Called by the arena; forwards to the heap hook if one is set. */
static inline void _gr_heap_changed(uint64_t live_bytes)
{
	_gr_heap_hook_fn fn = atomic_load_explicit(&_gr_heap_hook, memory_order_acquire);
	if (fn)
		fn(live_bytes);
}

/* Called once from a fatal signal handler before the process dies. */
static inline void _gr_crash_notify(int signo)
{
	_gr_crash_hook_fn fn = atomic_exchange_explicit(&_gr_crash_hook, (_gr_crash_hook_fn)0,
	                                                memory_order_acq_rel);
	if (fn)
		fn(signo);
}

/* Live arena bytes right now (process-wide), for a tracer that starts while
** arenas already exist. Implemented by the arena module. */
uint64_t _gr_arena_live_bytes(void);

#endif
