/*
** src/internal/stack.h: stack capture and symbolization (src/stack).
**
** Capture walks frame pointers (as Go 1.21+ does) and checks each return
** address against a per-pc cache of the DWARF call-frame rule of the code
** there; frames whose code keeps no frame pointer (built with
** -fomit-frame-pointer) are stepped with that CFI rule instead, so the stack
** stays exact through them. See docs/stacks.md.
**
** PCs are return addresses: each pcs[i] is the address after a call
** instruction. For an interrupted context (a signal), the interrupted
** instruction pointer is stored plus one, so that "pc - 1" lies inside the
** interrupted instruction for every frame alike.
**
** Thread stack bounds are read once per thread with pthread_getattr_np and
** cached in TLS. That first read is not async-signal-safe: a thread that will
** capture from a signal handler calls _gr_stack_thread_init() first (the CPU
** profiler's thread registration does). After it, every capture function is
** async-signal-safe: no locks, no allocation, bounded reads that stay inside
** the thread's stack and the loaded modules' .eh_frame data.
**
** Owner: stack helper. Callers: tracer, CPU profiler, preload.
*/
#ifndef GORT_INTERNAL_STACK_H
#define GORT_INTERNAL_STACK_H

#include <stdint.h>

/* Maximum depth any gort capture uses (GORT_TRACE_STACK_DEPTH is clamped). */
#define GR_STACK_MAX_DEPTH 128

/* Fill pcs[0..max) with the return addresses of the calling thread's stack,
** innermost first. skip = 0: pcs[0] is the return address into the caller of
** _gr_stack_capture (i.e. the caller's own frame); skip = n drops n more
** frames. Returns the number stored (0 if max <= 0). Async-signal-safe once
** the thread's bounds are known (see above). */
int _gr_stack_capture(uintptr_t *pcs, int max, int skip);

/* From an explicit frame: pcs[0] = pc (a return address), then its callers,
** where fp is the frame pointer in effect at pc. The usual call passes the
** saved frame pointer and return address of one of the caller's own frames F
** (fp = F[0], pc = F[1], e.g. the API function that an event came through):
** F is then found among the caller's frames (at most 8 up), the state at pc
** is known exactly, and the walk is as exact as _gr_stack_capture's (CFI
** fallback, walk cache), even when the code at pc keeps no frame pointer.
** Otherwise it walks frame pointers only from fp: every fp must be
** 8-aligned, strictly increasing and inside the thread's stack; the walk
** stops at the first that is not. Async-signal-safe. Returns the number
** stored. */
int _gr_stack_capture_from(void *fp, uintptr_t pc, uintptr_t *pcs, int max);

/* From the caller's own frame, with the thread's repeat records (see
** docs/stacks.md): frame is __builtin_frame_address(0) of a function that
** keeps a frame pointer and is still running on the calling thread (the
** tracer's API function). The result is _gr_stack_capture_from(frame[0],
** frame[1], pcs, max)'s. If tok is NULL, pcs[0..n) are filled and n
** returned. Else *tok is set to a token naming the result, or 0: on one
** thread a token is never reused and always names the same pcs. Then the
** return value is n > 0 with pcs[0..n) filled, or -n when the result is the
** n pcs that *tok names and pcs were not written (a repeated stack:
** _gr_stack_token_pcs copies them). pcs may be NULL (with tok): a lookup
** that returns -n as above or 0, and never walks; the same call with pcs
** right after does not repeat a verification that failed. Async-signal-safe. */
int _gr_stack_capture_frame(void *frame, uintptr_t *pcs, int max, uint64_t *tok);

/* The lookup of _gr_stack_capture_frame(frame, NULL, max, tok) (no walk),
** and the caller's word: when a repeat record answers, *tok is set to its
** token and the word attached to it with `key` (by _gr_stack_token_set_user)
** is returned; 0 when there is none or its key differs (*tok is 0 when no
** record answers). A later capture from the same frame does not repeat a
** verification that failed here. Async-signal-safe. */
uint64_t _gr_stack_frame_lookup(void *frame, int max, uint64_t key, uint64_t *tok);

/* Attach (key, val) to the record that tok names, if the calling thread
** still holds it (a rebuilt record starts without). The tracer keeps the
** stack id of the record's pcs there, keyed by generation. Async-signal-safe. */
void _gr_stack_token_set_user(uint64_t tok, uint64_t key, uint64_t val);

/* Copy into pcs[0..max) the pcs that tok names if the calling thread still
** holds them: returns their number, or 0 (capture again). Async-signal-safe. */
int _gr_stack_token_pcs(uint64_t tok, uintptr_t *pcs, int max);

/* From a signal handler's ucontext_t (void * so that callers need not include
** <ucontext.h>): pcs[0] = interrupted rip + 1, then the caller chain, using
** frame pointers and the CFI cache like _gr_stack_capture (so a sample taken
** in a prologue or in code without frame pointers is still exact). Returns
** the number stored. Async-signal-safe. */
int _gr_stack_capture_ucontext(const void *uc, uintptr_t *pcs, int max);

/* Compute and cache the calling thread's stack bounds (idempotent). Not
** async-signal-safe. */
void _gr_stack_thread_init(void);

/* Symbolize one pc (callers pass pc - 1 for return addresses). On success
** returns 0 and sets *func (function name, never NULL), *file (source file,
** or the module path when there is no line information) and *line (0 when
** unknown). Returns -ENOENT if pc lies in no loaded module (*func etc. are
** then set to "?", "?", 0). The strings live for the process. Results are
** cached (pc -> result) for the process; modules loaded later (dlopen) are
** picked up when a pc falls outside every known module. Thread-safe (one
** mutex); not async-signal-safe. Any pointer argument may be NULL. */
int _gr_stack_symbolize(uintptr_t pc, const char **func, const char **file,
                        uint32_t *line);

/* Address of the executable's `main` from its symbol table (libdw), for a
** program that does not export it (dlsym cannot see it); 0 if unknown or
** without libdw. Thread-safe, not async-signal-safe. */
uintptr_t _gr_stack_main_address(void);

/* Which back end symbolizes: "libdw" or "dladdr". */
const char *_gr_stack_symbolizer_name(void);

/* Counters for tests and benchmarks (monotonic, process-wide). */
typedef struct gr_stack_stats {
	uint64_t cfi_lookups;     /* pcs whose CFI rule was parsed (cache misses) */
	uint64_t cfi_steps;       /* frames stepped by CFI rather than by fp
	                             (calling thread only) */
	uint64_t sym_lookups;     /* symbolizer back-end lookups (cache misses) */
	uint64_t sym_refreshes;   /* module list re-reads (after dlopen) */
	uint64_t replayed_frames; /* frames the walk cache validated instead of
	                             walking (calling thread only) */
	uint64_t repeat_hits;     /* captures a repeat record answered (calling
	                             thread only) */
	uint64_t repeat_built;    /* repeat records built (calling thread only) */
} gr_stack_stats;
void _gr_stack_get_stats(gr_stack_stats *out);

/* Testing/benchmark knob: 0 = normal; 1 = pure frame-pointer walk (no CFI
** check, Go's walk); 2 = frame pointers + CFI check without the per-thread
** walk cache. Returns the previous mode. Not for production use. */
int _gr_stack_set_fp_only(int mode);

#endif
