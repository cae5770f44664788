/*
** gort/trace.h: an execution tracer for C threads whose output is a Go 1.22
** execution trace ("go tool trace" opens it). Modelled on Go's runtime tracer
** (runtime.StartTrace/StopTrace/ReadTrace) and runtime/trace's annotations.
**
** Model: each C thread that emits an event becomes a goroutine (G) running on
** its own thread (M) holding its own processor (P); see docs/trace.md.
**
** Thread-safety: every function may be called from any thread at any time.
** Annotation calls (task/region/log/block/syscall/thread_name) are cheap
** no-ops while tracing is off (one load and a branch); while tracing, they
** take no lock and make no system call in the steady state. Called from a
** signal handler they are either recorded or counted in gort_trace_dropped(),
** never corrupt the trace.
**
** Environment: GORT_TRACE=path (%p = pid) traces the whole program run;
** GORT_TRACE_PERIOD (generation period, default 1s), GORT_TRACE_STACK_DEPTH
** (default 32, 0 = no stacks), GORT_TRACE_CPU_HZ (default 100, 0 = off),
** GORT_TRACE_MAX_BUFFERED (default 256M).
*/
#ifndef GORT_TRACE_H
#define GORT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <gort/common.h>

GORT_EXTERN_C_BEGIN

/* Start tracing, like runtime.StartTrace. The caller must then consume the
** trace with gort_trace_read (from another thread) until it returns NULL.
** Returns 0, -EBUSY if a trace is already being read, -ENOMEM, -EAGAIN. */
GORT_API int gort_trace_start(void);

/* Stop tracing, like runtime.StopTrace: flushes every thread's buffer and
** returns once every byte has been read (by gort_trace_read, or by the writer
** thread of gort_trace_start_file/fd, which it joins). Returns 0, or -EINVAL
** when no trace was started. Must not be called from the reading thread. */
GORT_API int gort_trace_stop(void);

/* Next chunk of trace bytes, like runtime.ReadTrace: blocks until data is
** available; the 16-byte header comes first. The pointer stays valid until
** the next call. Returns NULL (and *len = 0) when the trace has stopped and
** everything was read, or when no trace was started. One reader at a time. */
GORT_API const void *gort_trace_read(size_t *len);

/* Start tracing into a file (created/truncated, mode 0644) or an open fd,
** with a writer thread, like runtime/trace.Start(w). gort_trace_stop flushes
** and closes the file (an fd passed in stays open). Returns 0, -EBUSY,
** -errno from open, -ENOMEM, -EAGAIN. */
GORT_API int gort_trace_start_file(const char *path);
GORT_API int gort_trace_start_fd(int fd);

/* True while a trace is being recorded. */
GORT_API bool gort_trace_enabled(void);

/* Events lost because they were emitted from a signal handler that
** interrupted the tracer, or after the buffer cap was hit (process total). */
GORT_API uint64_t gort_trace_dropped(void);

/* User annotations, as in Go's runtime/trace. Task ids are >= 1 and unique in
** the process; parent 0 = no parent. A task may end on another thread.
** Regions nest (LIFO) on the thread that began them; task 0 = no task.
** Strings are copied; longer than 1024 bytes are truncated. NULL = "". */
GORT_API uint64_t gort_trace_task_begin(uint64_t parent, const char *type);
GORT_API void gort_trace_task_end(uint64_t task);
GORT_API void gort_trace_region_begin(uint64_t task, const char *type);
GORT_API void gort_trace_region_end(uint64_t task, const char *type);
GORT_API void gort_trace_log(uint64_t task, const char *category, const char *message);
GORT_API void gort_trace_logf(uint64_t task, const char *category, const char *fmt, ...)
	GORT_ATTR_FORMAT(3, 4);

/* Label of the calling thread's goroutine (go tool trace shows it next to the
** goroutine). Kept for later traces too. */
GORT_API void gort_trace_thread_name(const char *name);

/* The calling thread blocks (reason e.g. "sync", "sleep", "network", "io")
** and resumes. No annotation may be emitted in between (it is dropped).
** Unbalanced calls are ignored. */
GORT_API void gort_trace_block_begin(const char *reason);
GORT_API void gort_trace_block_end(void);

/* The calling thread enters/leaves a blocking system call. */
GORT_API void gort_trace_syscall_begin(void);
GORT_API void gort_trace_syscall_end(void);

/* Nonzero while tracing (internal: read by the inline checks below). */
GORT_API extern int gort_trace_on_;

/* Call-site entries (private ABI; do not use these names): the macros below
** route a call whose strings are literals here, with the address of a site
** that belongs to that call site and those literals (GORT_TRACE_SITE_): a
** word that keeps the strings' ids of the current generation, then the
** literals themselves, so that the call passes nothing else. */
typedef struct gort__trace_site {
	uint64_t w;
	const char *a, *b;   /* type, category or reason; message */
} gort__trace_site;
GORT_API void gort__trace_region_begin_site(uint64_t task, gort__trace_site *site);
GORT_API void gort__trace_region_end_site(uint64_t task, gort__trace_site *site);
GORT_API void gort__trace_block_begin_site(gort__trace_site *site);
GORT_API void gort__trace_log_site(uint64_t task, gort__trace_site *site);

/* Outside the library, the annotation calls below first test gort_trace_on_
** inline, so that with tracing off they cost one load and a branch and no
** call; their arguments are then not evaluated. Define GORT_TRACE_NO_INLINE
** (or call (gort_trace_log)(...) with the name in parentheses) to always call
** the functions. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(GORT_BUILDING) && !defined(GORT_TRACE_NO_INLINE)
#define GORT_TRACE_ON_() __builtin_expect(__atomic_load_n(&gort_trace_on_, __ATOMIC_RELAXED), 0)
#define gort_trace_task_end(task) (GORT_TRACE_ON_() ? (gort_trace_task_end)(task) : (void)0)
#if defined(__x86_64__) && defined(__ELF__) && !defined(__cplusplus)
/* Call sites (x86-64 ELF, C). GORT_TRACE_SITE_(a, b): the address of a site
** (gort__trace_site: a word, then pointers to literals a and b) in .data
** that the asm statement emits itself (no C object, so that a macro in an
** extern inline function stays valid C), with the literals as operands, so
** that the compiler can merge two sites only when they serve the same
** literals. GORT_TRACE_LIT_(s): s is a string literal (or a null
** pointer constant) in the macro's argument, decided while parsing
** (__builtin_choose_expr), so that a site is used exactly where it is bound
** to its literals; a variable, even one pointing to a literal, is not. */
#define GORT_TRACE_SITES_ 1
#define GORT_TRACE_LIT_(s) __builtin_constant_p(s)
#define GORT_TRACE_LITOR_(s) __builtin_choose_expr(GORT_TRACE_LIT_(s), (s), "")
#define GORT_TRACE_SITE_(a, b)                                                                  \
	__extension__({                                                                          \
		gort__trace_site *gort__site;                                                    \
		__asm__(".pushsection .data.gort_trace_site,\"aw\",@progbits\n\t"          \
		        ".balign 8\n"                                                          \
		        "1:\t.quad 0, %c1, %c2\n\t"                                           \
		        ".popsection\n\t"                                                      \
		        "lea 1b(%%rip), %0"                                                     \
		        : "=r"(gort__site)                                                      \
		        : "i"(GORT_TRACE_LITOR_(a)), "i"(GORT_TRACE_LITOR_(b)));                \
		gort__site;                                                                      \
	})
#define GORT_TRACE_SITE_OR_NULL_(type) \
	__builtin_choose_expr(GORT_TRACE_LIT_(type), GORT_TRACE_SITE_(type, ""), (gort__trace_site *)0)
/* site_call when lit (the strings are literals), else plain_call; neither
** while tracing is off. */
#define GORT_TRACE_CALL_(lit, site_call, plain_call) \
	(GORT_TRACE_ON_() ? __builtin_choose_expr((lit), site_call, plain_call) : (void)0)
#define gort_trace_region_begin(task, type)                                                       \
	GORT_TRACE_CALL_(GORT_TRACE_LIT_(type),                                                   \
	                 gort__trace_region_begin_site((task), GORT_TRACE_SITE_(type, "")),         \
	                 (gort_trace_region_begin)((task), (type)))
#define gort_trace_region_end(task, type)                                                         \
	GORT_TRACE_CALL_(GORT_TRACE_LIT_(type),                                                   \
	                 gort__trace_region_end_site((task), GORT_TRACE_SITE_(type, "")),           \
	                 (gort_trace_region_end)((task), (type)))
#define gort_trace_log(task, category, message)                                                   \
	GORT_TRACE_CALL_(GORT_TRACE_LIT_(category) && GORT_TRACE_LIT_(message),                   \
	                 gort__trace_log_site((task), GORT_TRACE_SITE_(category, message)),       \
	                 (gort_trace_log)((task), (category), (message)))
#define gort_trace_block_begin(reason)                                                            \
	GORT_TRACE_CALL_(GORT_TRACE_LIT_(reason),                                                 \
	                 gort__trace_block_begin_site(GORT_TRACE_SITE_(reason, "")),              \
	                 (gort_trace_block_begin)(reason))
#else
#define gort_trace_block_begin(reason) (GORT_TRACE_ON_() ? (gort_trace_block_begin)(reason) : (void)0)
#define gort_trace_region_begin(task, type) \
	(GORT_TRACE_ON_() ? (gort_trace_region_begin)((task), (type)) : (void)0)
#define gort_trace_region_end(task, type) \
	(GORT_TRACE_ON_() ? (gort_trace_region_end)((task), (type)) : (void)0)
#define gort_trace_log(task, category, message) \
	(GORT_TRACE_ON_() ? (gort_trace_log)((task), (category), (message)) : (void)0)
#endif
#define gort_trace_logf(task, category, ...) \
	(GORT_TRACE_ON_() ? (gort_trace_logf)((task), (category), __VA_ARGS__) : (void)0)
#define gort_trace_block_end() (GORT_TRACE_ON_() ? (gort_trace_block_end)() : (void)0)
#define gort_trace_syscall_begin() (GORT_TRACE_ON_() ? (gort_trace_syscall_begin)() : (void)0)
#define gort_trace_syscall_end() (GORT_TRACE_ON_() ? (gort_trace_syscall_end)() : (void)0)
#endif
#ifndef GORT_TRACE_SITES_
#define GORT_TRACE_SITE_OR_NULL_(type) ((gort__trace_site *)0)
#endif

/* Scoped regions.
**   GORT_TRACE_REGION(task, "load") { ... }          (for-loop form; no break/return out)
**   GORT_TRACE_SCOPED_REGION(task, "load");          (ends at end of scope; GCC/clang)
*/
#define GORT_TRACE_REGION(task, type)                                            \
	for (int _gort_rg_once = (gort_trace_region_begin((task), (type)), 1);     \
	     _gort_rg_once; _gort_rg_once = (gort_trace_region_end((task), (type)), 0))

typedef struct gort_trace_region_scope {
	uint64_t task;
	const char *type;
	gort__trace_site *site;   /* the call site of a literal type, or NULL */
} gort_trace_region_scope;
static inline gort_trace_region_scope gort_trace_region_scope_begin_at_(uint64_t task, const char *type,
                                                                         gort__trace_site *site)
{
	gort_trace_region_scope s = { task, type, site };
#ifdef GORT_TRACE_SITES_
	if (site) {
		if (GORT_TRACE_ON_())
			gort__trace_region_begin_site(task, site);
		return s;
	}
#endif
	gort_trace_region_begin(task, type);
	return s;
}
static inline gort_trace_region_scope gort_trace_region_scope_begin(uint64_t task, const char *type)
{
	return gort_trace_region_scope_begin_at_(task, type, (gort__trace_site *)0);
}
static inline void gort_trace_region_scope_end(gort_trace_region_scope *s)
{
#ifdef GORT_TRACE_SITES_
	if (s->site) {
		if (GORT_TRACE_ON_())
			gort__trace_region_end_site(s->task, s->site);
		return;
	}
#endif
	gort_trace_region_end(s->task, s->type);
}
#define GORT_TRACE_CAT2_(a, b) a##b
#define GORT_TRACE_CAT_(a, b) GORT_TRACE_CAT2_(a, b)
#define GORT_TRACE_SCOPED_REGION(task, type)                                     \
	gort_trace_region_scope GORT_TRACE_CAT_(_gort_rs_, __LINE__)               \
	__attribute__((cleanup(gort_trace_region_scope_end), unused)) =            \
		gort_trace_region_scope_begin_at_((task), (type), GORT_TRACE_SITE_OR_NULL_(type))

GORT_EXTERN_C_END

#if defined(__has_include)
#if __has_include(<gort/flight.h>)
#include <gort/flight.h>
#endif
#endif

#endif
