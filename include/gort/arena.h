/*
** gort/arena.h: safe memory arenas for C, modelled on Go's runtime user
** arenas (runtime/arena.go) and made usable without a garbage collector.
**
** An arena hands out zeroed memory by bumping a pointer through 8 MiB chunks
** and releases everything at once with gort_arena_free(). After the free, the
** arena's full chunks and large blocks are made inaccessible: a stale pointer
** faults and gort prints "gort: use-after-free: ..." with the freeing stack.
** Faulted address space is kept in quarantine (never reused) up to a budget
** of address space (default 1 TiB, GORT_ARENA_QUARANTINE). See docs/arena.md
** for the chunk lifecycle and exactly what is and is not guaranteed.
**
** Threads: an arena is used by one thread at a time (like Go's arenas); it may
** move between threads with the usual happens-before (mutex, join). Different
** arenas may be used concurrently from different threads with no global lock
** on the allocation or chunk-refill paths. Functions without an arena argument
** (gort_arena_contains, gort_arena_clone, gort_arena_stats_get) are
** thread-safe.
**
** Errors: functions that can fail return NULL (or a negative errno) and set
** errno; no user-recoverable error aborts. Misuse that means memory is already
** broken (double free, any call on a freed handle) aborts with
** "gort: fatal: <what happened>".
**
** Environment (read once, at first use):
**   GORT_ARENA_STRICT=1        every arena is strict (see GORT_ARENA_STRICT)
**   GORT_ARENA_QUARANTINE=size address space kept faulted before reuse (1T)
**   GORT_ARENA_SIGNALS=0       do not install the SIGSEGV reporter
**   GORT_ARENA_READY=size      bound of recycled physical memory kept (64M)
**   GORT_ARENA_HUGEPAGES=0/1   madvise(MADV_HUGEPAGE) on chunks (default 0:
**                              slower on the VMs measured, see docs/arena.md)
**   GORT_ARENA_PREFAULT=0/1    1: a background thread faults in the next fresh
**                              chunk of a thread that keeps taking fresh chunks
**                              (default 0: it saves wall time only when a core
**                              is idle, and its CPU time is the process's; see
**                              docs/arena.md)
**   GORT_ARENA_SLIDE=size      when arenas continue one another in a chunk (the
**                              reuse list), move the pages of the freed ones
**                              ahead of the cursor once this many have piled
**                              up, and make their old addresses fault
**                              (default a quarter of the L2 cache, 512K on
**                              2 MiB; 0: never; docs/arena.md, "Sliding")
*/
#ifndef GORT_ARENA_H
#define GORT_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gort/common.h>

GORT_EXTERN_C_BEGIN

typedef struct gort_arena gort_arena;

/* Flags for gort_arena_new_ex(). */
enum {
	/* Strict mode: at free, the pages this arena used in its active chunk
	** are faulted too, and only the page-aligned unused tail is passed on to
	** the next arena. Every use-after-free faults (not only those into full
	** chunks), at the cost of one mprotect-like system call and a stack
	** capture per free. Address space stays proportional to bytes used. */
	GORT_ARENA_STRICT = 1u << 0,
	/* Default mode even when GORT_ARENA_STRICT=1 is set in the environment. */
	GORT_ARENA_NONSTRICT = 1u << 1,
};

/* Chunk size (Go's on 64-bit Linux) and the large-allocation threshold:
** requests above GORT_ARENA_CHUNK_SIZE / 4 get their own mapping. */
#define GORT_ARENA_CHUNK_SIZE ((size_t)8 << 20)
#define GORT_ARENA_MAX_ALIGN  ((size_t)4096)

/* Create an empty arena (no memory is taken until the first allocation).
** Returns NULL with errno ENOMEM when the handle or the arena address region
** cannot be allocated. Thread-safe. */
GORT_API GORT_NODISCARD gort_arena *gort_arena_new(void);

/* Like gort_arena_new() with GORT_ARENA_* flags. Unknown flag bits, or both
** STRICT and NONSTRICT: NULL with errno EINVAL. Thread-safe. */
GORT_API GORT_NODISCARD gort_arena *gort_arena_new_ex(unsigned flags);

/* Allocate size bytes aligned to align from arena a. The memory is zeroed.
**   align: a power of two up to 4096, else NULL with errno EINVAL;
**   size 0 returns a valid non-NULL pointer (not to be dereferenced);
**   no memory (mapping failed, address region exhausted): NULL, errno ENOMEM.
** The memory lives until gort_arena_free/reset of a. Not thread-safe for the
** same arena. A call on a freed handle aborts. The common case is an inline
** pointer bump (see below); the exported function is the same operation. */
GORT_API GORT_NODISCARD GORT_ATTR_MALLOC GORT_ATTR_ALLOC_SIZE(2)
void *gort_arena_alloc(gort_arena *a, size_t size, size_t align);

/* n elements of elem_size bytes. n * elem_size overflowing size_t: NULL with
** errno EOVERFLOW. Otherwise as gort_arena_alloc(). */
GORT_API GORT_NODISCARD GORT_ATTR_MALLOC GORT_ATTR_ALLOC_SIZE2(2, 3)
void *gort_arena_alloc_array(gort_arena *a, size_t n, size_t elem_size, size_t align);

/* Copy of the NUL-terminated string s in a. s NULL: NULL with errno EINVAL.
** Otherwise as gort_arena_alloc(). */
GORT_API GORT_NODISCARD GORT_ATTR_MALLOC
char *gort_arena_strdup(gort_arena *a, const char *s);

/* Copy of n bytes of s followed by a NUL (stops early at a NUL in s). */
GORT_API GORT_NODISCARD GORT_ATTR_MALLOC
char *gort_arena_strndup(gort_arena *a, const char *s, size_t n);

/* Free the arena and everything allocated from it. Cleanup hooks run first,
** last registered first. Then full chunks and large blocks are made to fault
** and quarantined; the active chunk's unused tail is passed on to a later
** arena (strict arenas fault the used pages of that chunk too). a must not be
** used afterwards: a second free or any other call with a aborts with a
** message naming the misuse (detected for the last 1024 arenas freed by each
** thread; older handles are recycled). a NULL: no-op. */
GORT_API void gort_arena_free(gort_arena *a);

/* Free everything allocated from a (as gort_arena_free does, hooks included)
** but keep the handle usable, empty, with the same flags. */
GORT_API void gort_arena_reset(gort_arena *a);

/* Register fn(arg) to run when a is freed or reset, before its memory goes.
** Hooks run last-registered first; a hook may read arena memory but must not
** call gort functions on a. Returns 0, -EINVAL if fn is NULL, -ENOMEM. */
GORT_API int gort_arena_on_free(gort_arena *a, void (*fn)(void *), void *arg);

/* True if p points into memory that belongs to a live arena (any thread's).
** Memory of freed arenas, recycled chunks and anything outside gort's arena
** region gives false. Granularity: the owning arena's range of its chunk
** (bytes not yet handed out in a live arena's chunk also answer true).
** Thread-safe, lock-free, O(1). */
GORT_API bool gort_arena_contains(const void *p);

/* Go's arena.Clone: if p is arena memory (gort_arena_contains), a malloc'd
** copy of size bytes that the caller frees with free(); else p itself. NULL
** with errno ENOMEM if malloc fails. Thread-safe. */
GORT_API void *gort_arena_clone(const void *p, size_t size);

/* True if a was created strict. */
GORT_API bool gort_arena_is_strict(const gort_arena *a);

/* Process-wide counters, read without a lock (each field is individually
** atomic; the set is not a snapshot). Chunk-level counters are global
** atomics; per-arena counts (arenas_*, chunks_reused, reuse_bytes) are kept
** per thread so that threads never share a hot cache line, and are summed
** here: O(number of threads that ever used arenas). Thread-safe. */
struct gort_arena_stats {
	uint64_t arenas_live;         /* created and not yet freed */
	uint64_t arenas_created;
	uint64_t arenas_freed;
	uint64_t chunks_fresh;        /* chunks mapped at never-used addresses */
	uint64_t chunks_recycled;     /* chunks whose physical pages were reused at a fresh address */
	uint64_t chunks_reused;       /* active-chunk tails taken from a reuse list */
	uint64_t large_allocs;        /* allocations that got their own mapping */
	uint64_t live_bytes;          /* accessible arena memory: chunks and large blocks of live
	                                 arenas plus reuse and ready lists (changes only when
	                                 chunks are mapped or faulted) */
	uint64_t quarantine_bytes;    /* faulted address space in quarantine */
	uint64_t quarantine_budget;   /* its bound (GORT_ARENA_QUARANTINE, RLIMIT_AS) */
	uint64_t quarantine_recycled; /* bytes of address space that left quarantine for reuse */
	uint64_t ready_bytes;         /* recycled physical memory waiting on ready lists */
	uint64_t ready_limit;         /* its bound (GORT_ARENA_READY) */
	uint64_t reuse_bytes;         /* unused tails waiting on reuse lists */
	uint64_t released_bytes;      /* physical memory given back to the OS */
	uint64_t region_bytes;        /* address space reserved for arenas */
	uint64_t faults_reported;     /* use-after-free faults reported */
	uint64_t chunks_prefaulted;   /* fresh chunks faulted in ahead of use by the background
	                                 thread (GORT_ARENA_PREFAULT; also counted in chunks_fresh) */
	uint64_t slid_bytes;          /* physical memory moved from the faulted-behind head of a
	                                 chunk (freed arenas' bytes) to the pages its cursor needed
	                                 next (GORT_ARENA_SLIDE) */
};
typedef struct gort_arena_stats gort_arena_stats;
GORT_API void gort_arena_stats_get(gort_arena_stats *out);

/* Give cached physical memory (ready lists, reuse tails and prefaulted chunks
** of every thread) back to the OS now instead of after a second of idleness.
** Thread-safe. */
GORT_API void gort_arena_trim(void);

/* Typed helpers. GORT_NEW(a, T): a zeroed T, or NULL. GORT_ARRAY(a, T, n):
** n zeroed Ts, or NULL (EOVERFLOW when n * sizeof(T) overflows). */
#ifdef __cplusplus
#define GORT__ALIGNOF(T) alignof(T)
#else
#define GORT__ALIGNOF(T) _Alignof(T)
#endif
#define GORT_NEW(a, T)      ((T *)gort_arena_alloc((a), sizeof(T), GORT__ALIGNOF(T)))
#define GORT_ARRAY(a, T, n) ((T *)gort_arena_alloc_array((a), (n), sizeof(T), GORT__ALIGNOF(T)))

/* ---- inline fast path (private ABI; do not use these names) ---------------
** Every arena begins with this pair. cur is the bump cursor, lim the end of
** the memory known to be zero and reserved for this arena; the library sets
** lim to 0 when every allocation must take the out-of-line path (freed
** handle, sanitizers, valgrind). */
struct gort__arena_bump {
	uintptr_t cur;
	uintptr_t lim;
};

GORT_API void *gort__arena_alloc_slow(gort_arena *a, size_t size, size_t align);

static inline void *gort__arena_alloc_inline(gort_arena *a, size_t size, size_t align)
{
	struct gort__arena_bump *b = (struct gort__arena_bump *)(void *)a;
	if (GORT_LIKELY(align - 1 < GORT_ARENA_MAX_ALIGN && (align & (align - 1)) == 0)) {
		uintptr_t p = (b->cur + (align - 1)) & ~(uintptr_t)(align - 1);
		if (GORT_LIKELY(p <= b->lim && size <= b->lim - p)) {
			b->cur = p + size;
			return (void *)p;
		}
	}
	return gort__arena_alloc_slow(a, size, align);
}

#if !defined(GORT_BUILDING) && !defined(GORT_ARENA_NO_INLINE)
#define gort_arena_alloc(a, size, align) gort__arena_alloc_inline((a), (size), (align))
#endif

GORT_EXTERN_C_END

#endif
