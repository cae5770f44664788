/*
** src/internal/trace.h: the tracer's contract with the other gort modules
** (stack helper, preload library, flight recorder). Owner: src/trace.
**
** Invariants:
**  - _gr_trace_now() is the single clock of every trace event and CPU sample
**    (ticks are nanoseconds; the trace's Frequency is 1e9).
**  - Sinks receive bytes in trace order, the 16-byte header first, then whole
**    generations; every sink callback runs on the tracer's delivery thread,
**    never concurrently with another callback of the same sink.
**  - All functions are thread-safe. None is async-signal-safe except
**    _gr_trace_now and _gr_trace_thread_internal.
*/
#ifndef GORT_INTERNAL_TRACE_H
#define GORT_INTERNAL_TRACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The tick the tracer timestamps with (ns on one monotonic clock; the
** invariant TSC calibrated against CLOCK_MONOTONIC when present). */
uint64_t _gr_trace_now(void);

/* True on the tracer's own threads or while the calling thread is inside the
** tracer: preload wrappers must not trace then. */
bool _gr_trace_thread_internal(void);

/* Mark the calling thread as one of gort's own (flight recorder helper...):
** it never enters the trace and _gr_trace_thread_internal() is true on it.
** Call before the thread emits anything. */
void _gr_trace_thread_set_internal(void);

/* Count the calling thread as gort's own (1) or not (0) for a while: what it
** does meanwhile (e.g. the tracer's locks, taken through the preload
** library's wrappers) is not traced as its events. Returns the previous
** value, to be given back. */
uint32_t _gr_trace_internal_swap(uint32_t internal);

/* pthread_create for gort's own threads (flight recorder helper, arena
** trimmer...): every signal blocked in the new thread, the creating thread
** counted as internal meanwhile (preload's pthread_create wrapper leaves it
** alone), and the call returns only once the new thread runs fn, so libc's
** and a sanitizer's thread start-up cannot overlap a later fork. fn should
** call _gr_trace_thread_set_internal first. Returns 0 or an errno value. */
int _gr_trace_spawn(pthread_t *th, void *(*fn)(void *));

/* Called by a new thread first thing (preload's pthread_create trampoline):
** enter the trace with GoCreate carrying the creator's stack (captured by
** the creator before pthread_create). No-op when tracing is off. */
void _gr_trace_thread_enter(const uintptr_t *creator_pcs, int n);
/* Same, naming the thread's entry function (its pc becomes the root frame of
** the G's start stack, which go tool trace uses as the goroutine's name).
** entry_pc is treated as a return address like every pc in a gort stack:
** the tracer symbolizes entry_pc - 1, so callers pass the function's
** address + 1 (0 = none: the root is taken from creator_pcs). */
void _gr_trace_thread_enter_fn(const uintptr_t *creator_pcs, int n, uintptr_t entry_pc);

/* Whether this copy of gort is the one the program's gort_* calls reach:
** the process-wide definition of gort_trace_start is this copy's own, or
** there is none (gort linked statically into an executable that exports
** nothing). Two copies are loaded when a program linked with libgort.so
** runs under libgort-preload.so; the preload library comes first in the
** symbol lookup order, so it alone takes GORT_TRACE and GORT_FLIGHT (the
** other copy's constructors, which run first, leave them alone). */
bool _gr_trace_copy_is_global(void);

/* The calling thread (the main thread, from a constructor) enters the trace
** now, its root frame being main when the executable exports it, else the
** program's entry point. GORT_TRACE at start calls it; so does preload.
** No-op when tracing is off or the thread is already in the trace. */
void _gr_trace_enter_main(void);

typedef struct gr_trace_sink {
	int  (*write)(void *ctx, const void *p, size_t n); /* bytes in order, header first */
	void (*generation_done)(void *ctx, uint64_t gen);  /* after a generation's last byte */
	void (*close)(void *ctx);                           /* trace stopped, all delivered */
	void *ctx;
} gr_trace_sink;

/* Attach a sink; starts tracing if it was off. A sink attached while a trace
** runs first gets the header, then whole generations from the next boundary
** (forced at once). Returns 0, -EBUSY if s is attached, -ENOMEM, -EAGAIN
** (no thread could be created). A write returning < 0 detaches the sink. */
int  _gr_trace_start_sink(const gr_trace_sink *s);

/* Detach: s->close runs after its last byte; tracing stops when the last
** sink leaves. Returns 0, -ENOENT if s is not attached. */
int  _gr_trace_stop_sink(const gr_trace_sink *s);

/* Force a generation boundary; returns when the closed generation reached
** every sink. Returns 0, or -EINVAL when no trace runs. */
int  _gr_trace_advance_generation(void);

/* Generation period in ns (0 = default, 1 s). Takes effect at the next wait. */
void _gr_trace_set_period(uint64_t ns);

#endif
