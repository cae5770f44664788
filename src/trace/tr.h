/*
** src/trace/tr.h: private state of the tracer (files of src/trace only).
**
** Ownership and invariants (after Go's runtime/trace2*.go):
**  - gr_tr.gen is the current generation; 0 = not tracing. It is stored only
**    by the generation switcher (gen.c) with gr_tr.mu held; generation
**    numbers grow across traces in a process, so a thread's state from an
**    older trace never matches a newer generation.
**  - A thread writes only inside a "section": t->seq odd. It stores seq, then
**    loads gen (Dekker with the switcher, which stores gen, then runs
**    membarrier or relies on the writer's full fence, then reads seq). A
**    section started under gen N touches only t->buf[N&1]; the switcher takes
**    t->buf[N&1] once seq shows that no section of gen N is open.
**  - A section never nests: an emission that finds seq odd (signal handler
**    interrupting the tracer) is dropped and counted.
**  - Everything else in gr_tthread is owned by its thread; gr_tproc by the
**    thread holding it (handed over under gr_tr.mu).
**  - Thread and P structs and buffers come from mmap (async-signal-safe) and
**    are recycled, never unmapped while the process runs.
*/
#ifndef GORT_TRACE_TR_H
#define GORT_TRACE_TR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/go122.h"
#include "internal/trace.h"
#include "trace/clock.h"
#include <gort/common.h>

#define GR_TBUF_BYTES   (64u * 1024u)      /* one thread buffer, all included */
#define GR_EV_MAX       128u               /* an event with its args, worst case */
#define GR_STATUS_ROOM  512u               /* statuses + entry recipe + one event */
#define GR_NOTHREAD     UINT64_MAX
#define GR_GEN_NEVER    UINT64_MAX         /* fast_gen & co. when no fast path may
                                              run: never a generation, 0 included */
#define GR_MAX_STACK    128
#define GR_SCACHE       64                 /* per-thread string cache entries */
#define GR_LCACHE       16                 /* per-thread log (category, message) pairs */

typedef struct gr_tbuf {
	struct gr_tbuf *next;       /* queue link */
	uint64_t gen;
	uint64_t last;              /* tick of the last event */
	uint8_t *pos;               /* write cursor */
	uint8_t *end;               /* body limit */
	uint8_t *ev_lim;            /* end - GR_EV_MAX: room for any event while
	                               pos <= ev_lim (the fast path's one compare) */
	uint8_t *size_at;           /* 10-byte padded size field */
	uint8_t *body;
	uint32_t kind;              /* GR_CHUNK_* */
	uint32_t events;            /* event batch with >= 1 event */
	uint8_t data[];
} gr_tbuf;

enum { GR_CHUNK_BATCH = 0, GR_CHUNK_HEADER, GR_CHUNK_GEN_END, GR_CHUNK_END };

typedef struct gr_tproc {
	struct gr_tproc *next;      /* free list / all list */
	struct gr_tproc *all_next;
	uint64_t id;
	uint64_t seq;
	uint64_t status_gen;
} gr_tproc;

/* A string cache entry (32 bytes, 2 per cache line). tag is the generation
** the id belongs to, with GR_SCACHE_RW set when the entry was made from a
** pointer into writable memory; 0 = empty (no generation is 0). */
#define GR_SCACHE_RW (1ull << 63)
typedef struct gr_scache_ent {
	const char *ptr;            /* never NULL once filled */
	uint64_t tag;
	uint64_t id;
	uint64_t w0;                /* read-only: the 8 bytes at ptr; writable: the copy's head word */
} gr_scache_ent;

/* A log's (category, message) pair of read-only strings (api.c, user_log):
** both pointers, the generation (0 = empty), the 8 bytes at each pointer and
** the two ids packed as key | val << 8 (both below 128). One cache line. */
typedef struct gr_lcache_ent {
	const char *cat, *msg;
	uint64_t tag;
	uint64_t wc, wm;
	uint64_t kv;
	uint64_t pad[2];
} gr_lcache_ent;

/* What a writable entry compares besides w0 (see gr_scache_match). */
typedef struct gr_scache_rw {
	uint64_t w1;                /* the copy's tail word */
	const char *copy;           /* the interned bytes, NUL-terminated unless truncated */
	uint32_t n;                 /* bytes compared: length + the NUL when not truncated */
	uint32_t checked;           /* classified as writable (see _gr_tr_string_reused) */
} gr_scache_rw;

typedef struct gr_tthread {
	_Atomic uint32_t seq;       /* odd while in a section */
	uint8_t gstate;             /* GR_GO_STATUS_* */
	uint8_t status_gstate;      /* gstate written with the status of status_gen */
	bool dead;
	bool internal;              /* the tracer's own thread */
	uint64_t cur_gen;           /* buf[cur_gen&1] is open for cur_gen */
	gr_tbuf *_Atomic buf[2];
	gr_tbuf *cur;
	uint64_t session;
	uint64_t m, g, gseq;
	uint64_t status_gen;
	uint64_t enter_gen;         /* generation of its GoCreate in this trace */
	uint64_t exit_gen;          /* generation of its GoDestroy (0 = alive) */
	uint64_t last_session;      /* the trace it left at exit */
	uint64_t label_gen;
	uintptr_t pc1;              /* one-frame stack cache: pc1 has id pc1_id */
	uint64_t pc1_gen, pc1_id;   /* in generation pc1_gen (0 = empty) */
	gr_tproc *p;
	struct gr_tthread *next;    /* gr_tr.threads, under gr_tr.mu */
	bool cpuprof;               /* registered with the CPU profiler */
	bool want_label;
	char name[64];
	uint64_t fast_gen;          /* the API fast path may run in this generation
	                               (TSC clock, stacks off, membarrier; api.c).
	                               Set only by a general-path event (then
	                               cur_gen == fast_gen, cur valid), cleared by
	                               gr_begin_at: the only way within a
	                               generation to a section that may drop cur
	                               (failed refill, thread exit); entering a
	                               trace happens in a new session, whose
	                               generations are all newer. So fast_gen == gen
	                               implies cur_gen == gen. It also implies the
	                               G is running: every move away from running
	                               clears it (block_begin's fast path; the
	                               others go through gr_begin_at).
	                               GR_GEN_NEVER when unset, so that it never
	                               matches, not even gen 0 (tracing off). */
	uint64_t site_base;         /* fast_gen << 16 while fast_gen is a
	                               generation (gr_fast_set): a call-site word of
	                               that generation minus site_base is below
	                               1 << 16 (api.c) */
	uint64_t wait_gen;          /* the same for block_end's fast path: set when
	                               block_begin leaves the G waiting with the
	                               fast conditions true, cleared with fast_gen
	                               by gr_begin_at and by block_end */
	uint64_t stk_gen;           /* the same as fast_gen with stacks on (depth
	                               2 or more): the stack-carrying fast path of
	                               regions and logs may run. Set by the same
	                               general-path events; fast_gen and stk_gen
	                               are never both set (stacks are on or off
	                               for a whole session) */
	gr_scache_ent scache[GR_SCACHE] __attribute__((aligned(64)));
	gr_scache_rw scache_rw[GR_SCACHE];
	gr_lcache_ent lcache[GR_LCACHE] __attribute__((aligned(64)));
} gr_tthread;

struct gr_tls {
	gr_tthread *t;
	uint32_t busy;              /* inside the tracer outside a section */
	uint32_t exited;            /* thread destructor ran */
	uint32_t internal;          /* gort's own thread: never traced */
};
extern __thread struct gr_tls _gr_tl __attribute__((tls_model("initial-exec"), visibility("hidden")));

typedef struct gr_sink_ent {
	gr_trace_sink s;            /* copy */
	const gr_trace_sink *key;
	uint64_t first_gen;         /* first generation it receives */
	uint64_t last_gen;          /* close after this generation (0 = open) */
	bool header_sent;
	bool closed;
	struct gr_sink_ent *next;
} gr_sink_ent;

/* Global tracer state. mu protects everything not marked otherwise. */
struct gr_tr_state {
	_Atomic uint64_t gen;
	_Atomic uint64_t dropped;
	_Atomic bool overflow;
	_Atomic bool use_membarrier;    /* set once before the first trace */
	_Atomic int stack_depth;        /* per trace; read without a lock */
	pthread_mutex_t mu;
	pthread_mutex_t adv_mu;         /* serialises generation switches */
	pthread_mutex_t dlv_mu;         /* held by the background thread while it
	                                   delivers a chunk (sink callbacks, malloc):
	                                   fork waits for it (order adv_mu, dlv_mu, mu) */
	pthread_cond_t bg_cv;           /* wakes the background thread */
	pthread_cond_t done_cv;         /* delivery progress */
	_Atomic uint64_t session;
	uint64_t last_gen;              /* highest generation number ever used */
	uint64_t out_gen;               /* generation being delivered */
	gr_tbuf *out_head, *out_tail;   /* ready for delivery, in order */
	gr_tbuf *pend_head, *pend_tail; /* full buffers of out_gen+1 */
	uint64_t delivered_gen;         /* last generation handed to all sinks */
	bool running;                   /* a session exists (bg thread alive) */
	bool stopping;
	bool bg_exit;
	bool bg_joinable;
	pthread_t bg;
	uint64_t period_ns;
	_Atomic uint64_t buffered;      /* bytes queued + held by the reader */
	uint64_t max_buffered;
	gr_tthread *threads;
	gr_tproc *procs_all, *procs_free;
	uint64_t next_pid;
	_Atomic uint64_t next_g;
	gr_sink_ent *sinks;
	uint64_t gen_events[2];         /* event batches seen per generation slot */
	bool ended;                     /* END delivered: every sink closed */
	bool period_set, period_changed;
	gr_tthread *threads_free;
	bool heap_pending;              /* first entering thread emits HeapAlloc */
	int cpuprof_hz;                /* this session's GORT_TRACE_CPU_HZ (0 = off): threads register */
	bool cpuprof_on;
	pthread_cond_t rd_cv;           /* reader (reader.c) */
	char stop_reason[256];
};
extern struct gr_tr_state gr_tr __attribute__((visibility("hidden")));


/* Unroll the next loop fully (its count is a constant after inlining). */
#if defined(__clang__)
#define GR_UNROLL _Pragma("clang loop unroll(full)")
#else
#define GR_UNROLL _Pragma("GCC unroll 8")
#endif

/* ---- varint ---- */
static inline uint8_t *gr_uv(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* ---- mem.c: mmap-backed allocation, safe in signal handlers ---- */
void *_gr_tr_alloc(size_t n);             /* zeroed, never freed */
gr_tbuf *_gr_tr_buf_get(void);            /* under gr_tr.mu */
void _gr_tr_buf_put(gr_tbuf *b);          /* under gr_tr.mu */
gr_tbuf *_gr_tr_buf_open(uint64_t gen, uint64_t m, uint64_t now);  /* under mu */
void _gr_tr_buf_seal(gr_tbuf *b);         /* patch the size field */

/* ---- table.c: per-generation string and stack tables ---- */
uint64_t _gr_tr_string(uint64_t gen, const char *s, size_t len);
uint64_t _gr_tr_string_miss(gr_tthread *t, uint64_t gen, const char *s);
/* A byte-compared entry (slot i, for s in gen) hit for the first time: if s
** is a read-only string, the entry becomes a read-only one; its id. */
uint64_t _gr_tr_string_reused(gr_tthread *t, unsigned i, uint64_t gen, const char *s);

/* a[0..n) == b[0..n), for n >= 1, with few unaligned loads (both objects
** have at least n bytes). */
static inline __attribute__((always_inline)) bool gr_bytes_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	if (n >= 8) {
		size_t i = 0;
		for (; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		uint32_t u, v, w, z;
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&w, a + n - 4, 4);
		memcpy(&z, b + n - 4, 4);
		return u == v && w == z;
	}
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Slot of pointer k: Knuth's multiplicative hash of its low 32 bits (the
** top 6 bits of the 32-bit product with 2^32/phi; one imul with an
** immediate), so that nearby pointers (literals side by side) spread. */
static inline unsigned gr_scache_slot(uintptr_t k)
{
	return ((uint32_t)k * 0x9e3779b1u) >> 26;
}
/* The entry of slot gr_scache_slot(k), computed as a byte offset (entries
** are 32 bytes): imul, shift, and, then an indexed load. */
_Static_assert(sizeof(gr_scache_ent) == 32 && GR_SCACHE == 64, "gr_scache_entry assumes 64 entries of 32 bytes");
static inline __attribute__((always_inline)) const gr_scache_ent *gr_scache_entry(const gr_tthread *t, uintptr_t k)
{
	uint32_t off = ((uint32_t)k * 0x9e3779b1u) >> (26 - 5) & ((GR_SCACHE - 1) << 5);
	return (const gr_scache_ent *)(const void *)((const char *)t->scache + off);
}

/* Whether s holds e's n bytes. The head and tail words of the copy live in
** the entry (8 bytes each for n >= 8, 4 for 4 <= n < 8), so strings up to 16
** bytes are checked without touching the copy; longer ones compare the
** middle with it.
** The same pointer may now hold a shorter string (a reused buffer), so the
** word compare, which reads all n bytes of s, runs only when [s, s+n) lies in
** s's own page (it cannot fault) and not under ASan (it would report the
** read past a shorter string's allocation). Otherwise bytes are compared one
** by one up to the first difference: a shorter s differs at its NUL, so
** nothing past it is read. */
#if defined(__SANITIZE_ADDRESS__)
#define GR_SCACHE_WORD_COMPARE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GR_SCACHE_WORD_COMPARE 0
#endif
#endif
#ifndef GR_SCACHE_WORD_COMPARE
#define GR_SCACHE_WORD_COMPARE 1
#endif
#if defined(__GNUC__) && !defined(__clang__)
/* gcc -O3 inlines this with string literals and cannot see that n is the
** length of the literal the entry was made from (-Warray-bounds). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"
#endif
static inline __attribute__((always_inline)) bool gr_scache_match(const gr_scache_ent *e, const gr_scache_rw *r,
                                                                   const char *s)
{
	uint32_t n = r->n;
	if (GR_SCACHE_WORD_COMPARE && __builtin_expect(((uintptr_t)s & 4095) + n <= 4096, 1)) {
		if (__builtin_expect(n >= 8, 0)) {
			uint64_t x, y;
			memcpy(&x, s, 8);
			memcpy(&y, s + n - 8, 8);
			return x == e->w0 && y == r->w1 && (n <= 16 || gr_bytes_eq(r->copy + 8, s + 8, n - 16));
		}
		if (n >= 4) {
			uint32_t x, y;
			memcpy(&x, s, 4);
			memcpy(&y, s + n - 4, 4);
			return x == (uint32_t)e->w0 && y == (uint32_t)r->w1;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (r->copy[i] != s[i])
			return false;
	return true;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* The thread's cache of string ids: an entry hits when it has the same
** pointer and generation, and then:
**  - an entry for a pointer into a read-only segment of a loaded object (a
**    string literal; table.c, scache_ro, checked at the entry's first hit,
**    so that strings that miss every time pay no check) compares only the 8 bytes
**    at the pointer, which it recorded: read-only bytes cannot change while
**    the object stays mapped, and the 8 bytes lie in one page and in that
**    segment, so the read cannot fault even if the memory now holds
**    something else. The word catches an object unloaded and another mapped
**    at the same address within the generation, unless the new bytes agree
**    in those 8 (see docs/trace.md, Strings and stacks);
**  - any other entry (tag | GR_SCACHE_RW) compares the bytes, the NUL
**    included, so a buffer reused with other contents misses.
** An empty entry (tag 0) matches no generation.
** gr_scache_ro_hit tries the first kind only (the API's fast path);
** _gr_tr_string_cached both, then interns on a miss. */
static inline __attribute__((always_inline)) bool gr_scache_ro_hit(gr_tthread *t, uint64_t gen, const char *s,
                                                                   uint64_t *id)
{
	const gr_scache_ent *e = gr_scache_entry(t, (uintptr_t)s);
	if (__builtin_expect(e->ptr != s || e->tag != gen, 0))
		return false;
	/* the 8 bytes may lie past a short literal's NUL (see above) */
	typedef uint64_t __attribute__((may_alias, aligned(1))) u64_any;
	*id = e->id;
	return *(const u64_any *)(const void *)s == e->w0;
}
static inline uint64_t _gr_tr_string_cached(gr_tthread *t, uint64_t gen, const char *s)
{
	uint64_t id;
	if (gr_scache_ro_hit(t, gen, s, &id))
		return id;
	unsigned i = gr_scache_slot((uintptr_t)s);
	const gr_scache_ent *e = &t->scache[i];
	if (e->ptr == s && e->tag == (gen | GR_SCACHE_RW) && gr_scache_match(e, &t->scache_rw[i], s))
		return __builtin_expect(t->scache_rw[i].checked, 1) ? e->id : _gr_tr_string_reused(t, i, gen, s);
	return _gr_tr_string_miss(t, gen, s);
}
uint64_t _gr_tr_stack(uint64_t gen, const uintptr_t *pcs, int n);
/* Write gen's stack and string tables as batches (switcher only). */
void _gr_tr_tables_flush(uint64_t gen);
void _gr_tr_tables_reset(uint64_t gen);
size_t _gr_tr_tables_bytes(void);

/* Writer of special batches (m = no thread) for the switcher: each full
** batch is sealed and queued with _gr_tr_queue_buf. */
typedef struct gr_bw {
	uint64_t gen;
	uint8_t marker;          /* first body byte: Stacks, Strings, CPUSamples... */
	gr_tbuf *b;
} gr_bw;
uint8_t *_gr_tr_bw_room(gr_bw *w, size_t n);
void _gr_tr_bw_flush(gr_bw *w);

/* ---- stack.c ---- */
/* Stack starting at the return address of frame fp (fp = a frame of gort's
** API function: pcs[0] is the return address into its caller). */
int _gr_tr_capture_from(void *fp, uintptr_t *pcs, int max);
/* Stack id (in gen, depth frames at most) of the stack from API frame fp,
** through the thread's repeat records: a repeated stack costs no walk. */
uint64_t _gr_tr_stack_of(void *fp, uint64_t gen, int depth);
/* Names of the frame whose return address is pc (the stack module's, or
** "0x<pc-1>" written into hex when it knows none); strings stay valid while
** hex does. Not async-signal-safe. */
#define GR_HEXNAME 24
void _gr_tr_symbolize(uintptr_t pc, char hex[GR_HEXNAME], const char **func, const char **file, uint32_t *line);
uintptr_t _gr_tr_entry_pc(const uintptr_t *pcs, int n);

/* ---- thread.c: sections, thread entry/exit, lazy statuses ---- */
gr_tthread *_gr_tr_begin_slow(uint64_t *gen, void *api_fp);
void _gr_tr_thread_flush_full(gr_tthread *t, uint64_t gen);
void _gr_tr_queue_buf(gr_tbuf *b);        /* under mu */
void _gr_tr_heap_hook(uint64_t live);
void _gr_tr_enter_internal(const uintptr_t *pcs, int n, uintptr_t entry_pc);
/* The calling thread enters the trace now (not at its first event), so that
** its CPU time is sampled from the start; api_fp is the frame of the API
** function it came through. No-op if it is in the trace or tracing is off. */
void _gr_tr_enter_caller(void *api_fp);
/* pthread_create for gort's own threads: every signal blocked in the new
** thread, and the creating thread internal meanwhile (preload's
** pthread_create wrapper leaves it alone); returns once the new thread runs
** fn. Returns pthread_create's result (or sem_init's errno). */
int _gr_tr_spawn(pthread_t *th, void *(*fn)(void *));
void _gr_tr_exit_events(gr_tthread *t, uint64_t gen);
void _gr_tr_put_label(gr_tthread *t, uint64_t gen);
gr_tthread *_gr_tr_thread_get(void);
void _gr_tr_mem_reset_child(void);
void _gr_tr_tables_reset_all(void);
void _gr_tr_fork_prepare(void);
void _gr_tr_fork_parent(void);
void _gr_tr_fork_child(void);

/* Append b to the singly linked queue (*head, *tail). Caller holds gr_tr.mu. */
static inline void gr_queue_push(gr_tbuf **head, gr_tbuf **tail, gr_tbuf *b)
{
	b->next = NULL;
	if (*tail)
		(*tail)->next = b;
	else
		*head = b;
	*tail = b;
}

static inline void gr_section_enter_fence(void)
{
	if (__builtin_expect(atomic_load_explicit(&gr_tr.use_membarrier, memory_order_relaxed), 1))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
}

/* Open a section on t (the calling thread's) if none is open and t's buffer
** for the current generation is open with room for one event: true with
** *gen set; false leaves no section open.
** seq is loaded and stored as two plain accesses (no read-modify-write): a
** signal handler that runs a whole section between them (s -> s+2) is then
** overwritten by our s+1, so seq steps back by 2 and ends at s+2 again. That
** is harmless: only this thread writes seq; the switcher, after publishing
** the new generation (and membarrier), waits only while seq keeps the odd
** value it read, and our store is followed by the load of gr_tr.gen, so a
** section whose store the switcher did not see sees the new generation and
** leaves the old buffer alone (fast_open in api.c does the same). */
static inline __attribute__((always_inline)) bool gr_try_open(gr_tthread *t, uint64_t *gen)
{
	uint32_t s = atomic_load_explicit(&t->seq, memory_order_relaxed);
	if (__builtin_expect(!(s & 1), 1)) {
		atomic_store_explicit(&t->seq, s + 1, memory_order_relaxed);
		gr_section_enter_fence();
		uint64_t g = atomic_load_explicit(&gr_tr.gen, memory_order_acquire);
		if (__builtin_expect(g == t->cur_gen && t->cur->pos + GR_EV_MAX <= t->cur->end, 1)) {
			*gen = g;
			return true;
		}
		atomic_store_explicit(&t->seq, s, memory_order_relaxed);  /* slow path re-enters */
	}
	return false;
}

/* Allow the API fast path on t in generation gen (inside a section): fast_gen
** and the call-site base derived from it. */
static inline void gr_fast_set(gr_tthread *t, uint64_t gen)
{
	t->site_base = gen << 16;
	t->fast_gen = gen;
}

/* No fast path of any kind on t (see gr_tthread.fast_gen; site_base only
** matters while fast_gen is a generation). */
static inline void gr_fast_reset(gr_tthread *t)
{
	t->fast_gen = t->wait_gen = t->stk_gen = GR_GEN_NEVER;
}

/* Open a section on the calling thread and make sure its buffer for the
** current generation has room for one event. Returns the thread (section
** open, *gen set) or NULL (tracing off, dropped; no section open). api_fp is
** the frame of the API function: a thread entering the trace names its
** stack from that function's caller. */
static inline __attribute__((always_inline)) gr_tthread *gr_begin_at(uint64_t *gen, void *api_fp)
{
	gr_tthread *t = _gr_tl.t;
	if (t)
		gr_fast_reset(t);   /* see gr_tthread.fast_gen */
	if (__builtin_expect(t != NULL, 1) && gr_try_open(t, gen))
		return t;
	return _gr_tr_begin_slow(gen, api_fp);
}
/* gr_begin_at with the frame of the function gr_begin is expanded in. */
#define gr_begin(gen) gr_begin_at((gen), __builtin_frame_address(0))

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GR_SEQ_PLAIN 1
#endif
#endif
#else
#define GR_SEQ_PLAIN 1
#endif

/* seq + 1 (open or close a section), by t's own thread. */
static inline void gr_seq_step(gr_tthread *t)
{
#ifndef GR_SEQ_PLAIN
	/* One instruction, not an atomic RMW: only t's thread stores seq, and a
	** signal handler runs between instructions (one that opens and closes a
	** section between a test of seq and this step leaves seq odd after it,
	** as it should be); x86 stores are release stores, and the clobber
	** orders the section's accesses around it in the compiler. */
	__asm__ volatile("addl $1, %0" : "+m"(*(volatile uint32_t *)&t->seq) : : "memory");
#else
	atomic_store_explicit(&t->seq, atomic_load_explicit(&t->seq, memory_order_relaxed) + 1,
	                      memory_order_release);
#endif
}

static inline void gr_end(gr_tthread *t)
{
	gr_seq_step(t);
}

/* Append the common prefix of an event at tick now: type byte and dt. */
static inline __attribute__((always_inline)) uint8_t *gr_ev_at(gr_tthread *t, uint8_t type, uint64_t now)
{
	gr_tbuf *b = t->cur;
	uint64_t dt = now > b->last ? now - b->last : 0;
	b->last += dt;
	uint8_t *p = b->pos;
	*p++ = type;
	return gr_uv(p, dt);
}
/* Delta from b's last tick to now (0 if the clock is behind it); b->last
** moves to now. */
static inline __attribute__((always_inline)) uint64_t gr_tick_dt(gr_tbuf *b, uint64_t now)
{
	uint64_t last = b->last;
	uint64_t dt = now - last;
	if (__builtin_expect(now < last, 0)) {
		dt = 0;
		now = last;
	}
	b->last = now;
	return dt;
}

/* Write an event at p: type, dt and the n arguments a[] as varints; returns
** the end. When every argument is below 128 (one-byte varints: the common
** case) they are packed in a register and written with one 8-byte store,
** after dt as a varint. The buffer keeps GR_EV_MAX bytes free past pos, so
** the store's bytes past the event stay inside it (they are overwritten by
** the next event or never sealed). n <= 6. */
static inline __attribute__((always_inline)) uint8_t *gr_put_ev(uint8_t *p, uint8_t type, uint64_t dt, int n,
                                                                const uint64_t *a)
{
	uint64_t any = 0, w = 0;
	GR_UNROLL
	for (int i = 0; i < n; i++) {
		any |= a[i];
		w |= a[i] << (8 * i);
	}
	*p++ = type;
	p = gr_uv(p, dt);
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && n <= 6 && __builtin_expect(any < 0x80, 1)) {
		memcpy(p, &w, 8);
		return p + n;
	}
	GR_UNROLL
	for (int i = 0; i < n; i++)
		p = gr_uv(p, a[i]);
	return p;
}

/* Write an event of tick now at p in b (b->pos or past it): gr_tick_dt and
** gr_put_ev, with one test for the common case of back-to-back events: dt
** (now - last, huge when the clock is behind) and every argument below 128,
** so that the whole event is one 8-byte store. */
static inline __attribute__((always_inline)) uint8_t *gr_put_ev_at(gr_tbuf *b, uint8_t *p, uint8_t type, uint64_t now,
                                                                   int n, const uint64_t *a)
{
	uint64_t dt = now - b->last;
	uint64_t any = dt, w = 0;
	GR_UNROLL
	for (int i = 0; i < n; i++) {
		any |= a[i];
		w |= a[i] << (8 * i);
	}
	if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && n <= 6 && __builtin_expect(any < 0x80, 1)) {
		b->last = now;
		w = w << 16 | dt << 8 | type;
		memcpy(p, &w, 8);
		return p + 2 + n;
	}
	return gr_put_ev(p, type, gr_tick_dt(b, now), n, a);
}

static inline uint8_t *gr_ev(gr_tthread *t, uint8_t type)
{
	return gr_ev_at(t, type, gr_now());
}
static inline void gr_ev_done(gr_tthread *t, uint8_t *p)
{
	t->cur->pos = p;
}

/* Stack for an event of the calling thread (0 when stacks are off). Called
** inside the section with pcs captured before it. */
static inline uint64_t gr_stack_id(uint64_t gen, const uintptr_t *pcs, int n)
{
	return n > 0 ? _gr_tr_stack(gen, pcs, n) : 0;
}

#endif
