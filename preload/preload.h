/*
** preload/preload.h: what the interposers of libgort-preload.so share.
**
** libgort-preload.so = every libgort object + the interposers in preload/ (*.c).
** LD_PRELOAD puts it first in the global symbol scope, so the program's calls
** to pthread_mutex_lock, read, nanosleep... land in the wrappers here, which
** forward to the next definition (libc) found with dlsym(RTLD_NEXT).
**
** Invariants every wrapper keeps:
**  - The real function is resolved once, lazily, on the wrapper's first call
**    (GR_PL_REAL); resolution never goes through an interposed function
**    (we do not interpose malloc/calloc, which is what dlsym itself calls).
**  - The fast path is "tracing off or inside the tracer -> call the real
**    function". With GORT_TRACE unset that is one load and a branch on
**    _gr_preload_on (gr_pl_active) and a tail call; nothing else runs.
**  - A thread inside a wrapper's blocking call (depth > 0) traces nothing
**    else: signal handlers and cancellation cleanups that call wrapped
**    functions go straight to libc (the G is already Waiting/in Syscall).
**  - errno as the real function left it is what the caller sees: the
**    tracing calls after the real call are bracketed by save/restore.
**  - No wrapper allocates, except pthread_create (one malloc per thread).
** Only the preload sources include this header; only the preload helper edits it.
*/
#ifndef GORT_PRELOAD_H
#define GORT_PRELOAD_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gort/common.h"

/* The tracer (src/trace) and the stack module (src/stack) are built into the
** same library; the wrappers call them directly. */
#include "gort/trace.h"
#include "internal/stack.h"
#include "internal/trace.h"

/* Exported wrappers: the library is compiled with -fvisibility=hidden. */
#define GR_PL_EXPORT __attribute__((visibility("default"), noinline))

/* Look up the next definition of name (dlvsym when version is non-NULL,
** falling back to dlsym). Aborts with a clear message when the symbol does
** not exist or when resolution re-enters itself (a wrapped function called
** from inside dlsym). Thread-safe; racing callers get the same pointer. */
void *_gr_preload_sym(const char *name, const char *version);

/* The real function behind a wrapper, resolved on first use. slot is a
** static function pointer; the relaxed atomics make the one-time race
** between threads well defined (they all store the same value). */
#define GR_PL_REAL_V(slot, name, version) __extension__ ({                  \
	__typeof__(slot) gr_pl_fn_ = __atomic_load_n(&(slot), __ATOMIC_RELAXED);  \
	if (__builtin_expect(gr_pl_fn_ == NULL, 0)) {                           \
		gr_pl_fn_ = (__typeof__(slot))_gr_preload_sym((name), (version)); \
		__atomic_store_n(&(slot), gr_pl_fn_, __ATOMIC_RELAXED);         \
	}                                                                  \
	gr_pl_fn_; })
#define GR_PL_REAL(slot, name) GR_PL_REAL_V(slot, name, NULL)

/* GR_PL_WRAPPER(ret, name, params, args) { slow path }
** Defines the exported wrapper `name`. Its fast path, when the real function
** is known and no trace was asked for, is a load, a branch and a tail call
** into libc, with no frame of its own. Everything else runs in the slow path
** whose body follows the macro: a static function that the symbolizer shows
** as "name.gort" (the frame that stands for the libc call in traced stacks).
** The slow path resolves the real function with GR_PL_NEXT(name) or
** GR_PL_NEXT_V(name, version). */
#define GR_PL_WRAPPER(ret, name, params, args) \
	GR_PL_WRAPPER_(ret, name, params, args, params, args)

/* GR_PL_WRAPPER_CALLER(ret, name, params, args) { slow path }
** GR_PL_WRAPPER whose slow path also gets gr_pl_caller: the return address
** of the exported wrapper, i.e. its caller in the program (or in gort),
** taken there. In the slow path itself __builtin_return_address(0) is that
** address only when the wrapper reaches it with a tail call, which -O0 and
** sanitizer builds do not make. params must not be (void). */
#define GR_PL_ARGS_(...) __VA_ARGS__
#define GR_PL_WRAPPER_CALLER(ret, name, params, args)                         \
	GR_PL_WRAPPER_(ret, name, params, args, (const void *gr_pl_caller, GR_PL_ARGS_ params), \
	               (__builtin_return_address(0), GR_PL_ARGS_ args))

/* Both: the slow path takes slow_params and is called with slow_args. */
#define GR_PL_WRAPPER_(ret, name, params, args, slow_params, slow_args)       \
	static ret (*gr_pl_real_##name) params;                               \
	static ret gr_pl_slow_##name slow_params __asm__(#name ".gort")       \
		__attribute__((noinline, used));                              \
	ret name params;                                                      \
	GR_PL_EXPORT ret name params                                          \
	{                                                                     \
		ret (*f_) params =                                            \
			__atomic_load_n(&gr_pl_real_##name, __ATOMIC_RELAXED); \
		if (GORT_LIKELY(f_ != NULL && !_gr_preload_on))               \
			return f_ args;                                       \
		return gr_pl_slow_##name slow_args;                           \
	}                                                                     \
	static ret gr_pl_slow_##name slow_params
#define GR_PL_NEXT(name) GR_PL_REAL(gr_pl_real_##name, #name)
#define GR_PL_NEXT_V(name, version) GR_PL_REAL_V(gr_pl_real_##name, #name, version)

/* Set once, by bootstrap.c's constructor, when the environment asks for a
** trace at all (GORT_TRACE or GORT_FLIGHT non-empty). A program preloaded
** without them never gets further than this byte. */
extern bool _gr_preload_on __attribute__((visibility("hidden")));

/* Non-zero while the calling thread is between a wrapper's begin and end
** (blocked in the real call). A signal handler that runs then, or a
** cancellation cleanup handler, and calls a wrapped function must not
** trace: the thread's G is already Waiting or in Syscall (the tracer would
** ignore the nested begin but take the nested end as the outer call's). */
extern __thread int _gr_preload_depth
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* True when the calling thread's blocking should be traced: a trace is
** running, we are not on a tracer thread or inside the tracer, and not
** nested in another wrapper's blocking call. The first test is the whole
** cost when GORT_TRACE is unset: one load and a branch. */
static inline bool gr_pl_active(void)
{
	if (GORT_LIKELY(!_gr_preload_on))
		return false;
	return _gr_preload_depth == 0 && gort_trace_enabled() && !_gr_trace_thread_internal();
}

/* Bracket a blocking call. Always inlined so that the stack the tracer
** captures starts at the wrapper (named like the libc function) and goes on
** with the program's own frames. errno is saved before the tracing call and
** restored after it, on both sides of the real call. */
__attribute__((always_inline))
static inline void gr_pl_block_begin(const char *reason)
{
	int e = errno;
	_gr_preload_depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	gort_trace_block_begin(reason);
	errno = e;
}
__attribute__((always_inline))
static inline void gr_pl_block_end(void)
{
	int e = errno;
	gort_trace_block_end();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	_gr_preload_depth--;
	errno = e;
}
__attribute__((always_inline))
static inline void gr_pl_syscall_begin(void)
{
	int e = errno;
	_gr_preload_depth++;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	gort_trace_syscall_begin();
	errno = e;
}
__attribute__((always_inline))
static inline void gr_pl_syscall_end(void)
{
	int e = errno;
	gort_trace_syscall_end();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	_gr_preload_depth--;
	errno = e;
}

#endif
