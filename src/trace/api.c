/*
** src/trace/api.c: the annotation API of <gort/trace.h> (Go's
** runtime/trace annotations plus blocking and syscall transitions).
**
** Every call starts with one relaxed load of the generation and returns when
** it is 0 (the header's macros make the same test inline before the call),
** except the call-site entries (gort__trace_*_site), which only the macros
** call after that test: their fast section cannot match generation 0
** (GR_GEN_NEVER) and their general path finds tracing off.
** Stacks are captured inside the section, out of line (stack_of), from the
** exported function's frame; strings and stacks are interned there too, since
** their ids belong to the section's generation. Annotations need the thread's
** G to be running: between block_begin and block_end they are dropped.
**
** The frequent events (regions, logs, block/unblock) have a fast path for the
** common case (thread in the trace, TSC clock, stacks off, membarrier, all
** recorded as t->fast_gen == the generation by the general path; strings
** are literals in the thread's cache, or the call site's word for a call
** through the header's macros with literal strings, see "Call sites"): it
** makes no call and keeps few values live, so the compiler gives it no
** frame and no saved registers; anything
** else closes the section it opened and takes the general path, out of line
** (a tail call).
*/
#include <stdarg.h>
#include <stdio.h>

#include "trace/tr.h"
#include <gort/trace.h>

static _Atomic uint64_t task_ids;

#define INLINE static inline __attribute__((always_inline))
#define FP __builtin_frame_address(0)
#define OFF() __builtin_expect(atomic_load_explicit(&gr_tr.gen, memory_order_relaxed) == 0, 1)

/* The general path's section, opened in an exported function (inlined:
** FP there is that function's frame): the calling thread with a section of
** *gen open, or NULL (tracing off, or the event is dropped). */
#define API_BEGIN(gen) (OFF() ? (gr_tthread *)NULL : gr_begin(gen))

/* Stack id (in gen) of the API function's caller: fp is the API function's
** frame (__builtin_frame_address(0) there), so the first pc is the return
** address into its caller. Out of line (in stack.c), so that the 1 KiB pc
** array is only on the stack when stacks are on; called inside the section
** (the walk is async-signal-safe and touches only this thread's stack). */
static inline uint64_t stack_of(void *fp, uint64_t gen, int depth)
{
	return _gr_tr_stack_of(fp, gen, depth);
}

/* Id of the one-frame stack of the exported function whose frame is fp (its
** return address), through the thread's one-entry cache: GoUnblock carries
** a stack even with stacks off. The id depends only on that pc. */
INLINE uint64_t stack1_id(gr_tthread *t, void *fp, uint64_t gen)
{
	uintptr_t pc = ((uintptr_t *)fp)[1];
	if (__builtin_expect(t->pc1 == pc && t->pc1_gen == gen, 1))
		return t->pc1_id;
	uint64_t id = stack_of(fp, gen, 1);
	t->pc1 = pc;
	t->pc1_gen = gen;
	t->pc1_id = id;
	return id;
}

/* Stack id for an event of the exported function whose frame is fp: none
** when stacks are off, unless min is 1. */
INLINE uint64_t stack_id(gr_tthread *t, void *fp, uint64_t gen, int min)
{
	int d = atomic_load_explicit(&gr_tr.stack_depth, memory_order_relaxed);
	if (d < min)
		d = min;
	if (d == 1)
		return stack1_id(t, fp, gen);
	return d > 0 ? stack_of(fp, gen, d) : 0;
}

/* The fast path (see the top of the file) may run on t in generation gen:
** the TSC clock, stacks off and membarrier in use (so the section needs only
** a compiler fence). Checked by the slow paths, which record the answer in
** t->fast_gen; each generation's first event on a thread takes a slow path
** (its buffer for the generation is not open yet), and nothing checked here
** changes within a generation: the clock is calibrated once, stack_depth and
** use_membarrier are set before a session's first generation (a forked child
** starts over with new generation numbers). */
static inline bool fast_ok(void)
{
#ifdef GR_HAVE_NOW_TSC
	return _gr_clk.tsc && atomic_load_explicit(&gr_tr.stack_depth, memory_order_relaxed) == 0 &&
	       atomic_load_explicit(&gr_tr.use_membarrier, memory_order_relaxed);
#else
	return false;
#endif
}

/* The same conditions with stacks on, for the stack-carrying fast path
** (depth 1 is the one-frame cache's job: general path). */
static inline bool fast_ok_stacks(void)
{
#ifdef GR_HAVE_NOW_TSC
	return _gr_clk.tsc && atomic_load_explicit(&gr_tr.stack_depth, memory_order_relaxed) >= 2 &&
	       atomic_load_explicit(&gr_tr.use_membarrier, memory_order_relaxed);
#else
	return false;
#endif
}

/* After a general-path event of gen that left the G running. */
static inline void fast_allow(gr_tthread *t, uint64_t gen)
{
	if (fast_ok())
		gr_fast_set(t, gen);
	else
		t->fast_gen = GR_GEN_NEVER;
	t->stk_gen = fast_ok_stacks() ? gen : GR_GEN_NEVER;
}

/* An open fast section: the thread, the generation and the buffer, which
** has room for one event. */
typedef struct fast {
	gr_tthread *t;
	uint64_t gen;
	gr_tbuf *b;
} fast;

/* Which per-thread generation fast_open compares with. */
enum { FAST_RUN, FAST_WAIT, FAST_STACKS };

/* Open a fast section on the calling thread: true if the fast path may run
** (f filled), else false with no section open. Like gr_try_open, but one
** compare (fast_gen; wait_gen for block_end: waiting; stk_gen for the
** stack-carrying path) stands for the
** clock, stack, fence and G state checks, and the fence is only a compiler
** fence: if membarrier is not in use, neither ever matches and the section is
** closed before anything is written. */
INLINE bool fast_open(fast *f, int which)
{
#ifdef GR_HAVE_NOW_TSC
	gr_tthread *t = _gr_tl.t;
	if (__builtin_expect(t == NULL, 0))
		return false;
	if (__builtin_expect(atomic_load_explicit(&t->seq, memory_order_relaxed) & 1, 0))
		return false;
	gr_seq_step(t);   /* odd: open (a compiler fence, as membarrier allows) */
	atomic_signal_fence(memory_order_seq_cst);
	uint64_t g = atomic_load_explicit(&gr_tr.gen, memory_order_acquire);
	uint64_t want = which == FAST_WAIT ? t->wait_gen : which == FAST_STACKS ? t->stk_gen : t->fast_gen;
	if (__builtin_expect(g == want, 1)) {   /* implies g == t->cur_gen */
		gr_tbuf *b = t->cur;
		/* pos as a relaxed load: dead after the test (fast_event loads it
		** again), so the compiler keeps no register for it */
		if (__builtin_expect(__atomic_load_n(&b->pos, __ATOMIC_RELAXED) <= b->ev_lim, 1)) {
			*f = (fast){ t, g, b };
			return true;
		}
	}
	gr_seq_step(t);   /* an empty section */
#else
	(void)f;
	(void)which;
#endif
	return false;
}

/* Close a fast section after writing up to p (release: the switcher that
** sees seq even sees the bytes). */
INLINE void fast_close(const fast *f, uint8_t *p)
{
	f->b->pos = p;
	gr_end(f->t);   /* seq reloaded: one register less across the clock read */
}

/* Close a fast section that wrote nothing. */
INLINE void fast_abort(const fast *f)
{
	gr_end(f->t);
}

#ifdef GR_HAVE_NOW_TSC
#define fast_now() gr_now_tsc()
#else
#define fast_now() gr_now()
#endif

/* fast_event's general case, out of line (a tail call, so that the fast
** path needs no saved registers): the event (type = tn & 0xff, dt, the
** n = tn >> 8 <= 3 arguments x, y, z, then stack id stk) in t's open fast
** section, which it closes. Six arguments: all in registers (x86-64), so
** the call stays a tail call. */
#define FAST_TN(type, n) ((unsigned)(type) | (unsigned)(n) << 8)
static __attribute__((noinline)) void fast_event_any(gr_tthread *t, unsigned tn, uint64_t x, uint64_t y,
                                                     uint64_t z, uint64_t stk)
{
	uint8_t type = (uint8_t)tn;
	int n = (int)(tn >> 8);
	uint64_t a[4] = { x, n > 1 ? y : 0, n > 2 ? z : 0, 0 };
	a[n & 3] = stk;
	gr_tbuf *b = t->cur;
	uint64_t now = fast_now();
	/* constant counts, so that the writer's loops unroll */
	if (n == 1)
		b->pos = gr_put_ev_at(b, b->pos, type, now, 2, a);
	else if (n == 2)
		b->pos = gr_put_ev_at(b, b->pos, type, now, 3, a);
	else
		b->pos = gr_put_ev_at(b, b->pos, type, now, 4, a);
	gr_end(t);
}

/* Write an event (type, dt, the n <= 3 arguments a[], then stack id stk) in
** a fast section and close it. The arguments are packed before the clock
** read: when they are all one-byte varints (the common case) only the packed
** word, the buffer and the thread stay live across it, and an event within
** 16 us of the previous one (dt a one- or two-byte varint) is one 8-byte
** store; else dt is a varint before the packed word. Other arguments:
** fast_event_any. */
INLINE void fast_event_w(const fast *f, uint8_t type, int n, uint64_t w);
INLINE void fast_event(const fast *f, uint8_t type, int n, const uint64_t *a, uint64_t stk)
{
	uint64_t any = stk, w = stk << (8 * n);   /* the stack byte follows the arguments */
	GR_UNROLL
	for (int i = 0; i < n; i++) {
		any |= a[i];
		w |= a[i] << (8 * i);
	}
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || n > 3 || __builtin_expect(any >= 0x80, 0)) {
		fast_event_any(f->t, FAST_TN(type, n), a[0], n > 1 ? a[1] : 0, n > 2 ? a[2] : 0, stk);
		return;
	}
	fast_event_w(f, type, n, w);
}

/* fast_event with the n arguments and the stack id already packed in w, one
** byte each (all below 128; little-endian). */
INLINE void fast_event_w(const fast *f, uint8_t type, int n, uint64_t w)
{
	gr_tbuf *b = f->b;
	/* reloaded (not kept from fast_open's room check): one register less
	** through the string lookups */
	uint8_t *p = __atomic_load_n(&b->pos, __ATOMIC_RELAXED);
	uint64_t now = fast_now();
	uint64_t dt = now - b->last;   /* huge when the clock is behind last */
	if (__builtin_expect(dt < 0x80, 1)) {
		b->last = now;
		w = w << 16 | dt << 8 | type;
		memcpy(p, &w, 8);
		fast_close(f, p + 2 + n + 1);
		return;
	}
	if (__builtin_expect(dt < 0x4000, 1)) {   /* two-byte dt: events 128 ns - 16 us apart */
		b->last = now;
		w = w << 24 | ((dt & 0x7f) | 0x80 | (dt << 1 & 0x7f00)) << 8 | type;
		memcpy(p, &w, 8);
		fast_close(f, p + 3 + n + 1);
		return;
	}
	*p++ = type;
	p = gr_uv(p, gr_tick_dt(b, now));
	memcpy(p, &w, 8);
	fast_close(f, p + n + 1);
}

/* fast_event for a task id and n - 1 string ids already packed one byte
** each (all below 128, the first in the low byte): one packed word when
** the task id fits a byte too, else out of line. */
INLINE void fast_event_task(const fast *f, uint8_t type, int n, uint64_t task, uint64_t ids)
{
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || __builtin_expect(task >= 0x80, 0))
		fast_event_any(f->t, FAST_TN(type, n), task, ids & 0xff, ids >> 8, 0);
	else
		fast_event_w(f, type, n, task | ids << 8);
}

/* ---- Call sites ----
** The header's macros pass a call whose strings are literals as a site that
** belongs to that call site and those literals (GORT_TRACE_SITE_ in
** <gort/trace.h>): the literals, for the general path, and a word (the
** general path's own calls pass NULL): gen << 16 | ids, the ids of the
** literals' texts in generation gen, one byte each (a region's type; a log's
** category | message << 8), all below 128. Any thread may store it, in one
** store, with the ids of its section's generation; the texts behind a site
** never change, so every store is right for its generation and a reader
** only has to check that generation. Storage in the caller's module: a
** dlclose takes it away with the literals. */
INLINE void site_fill(gort__trace_site *site, uint64_t gen, uint64_t ids)
{
	/* Only for the fast path (stacks off), and only a word that changes: a
	** site is shared by every thread that runs it, and a store on each
	** general-path call (every call with stacks on) made two threads pass
	** its cache line back and forth (block/unblock with stacks, 2 threads:
	** 2.8x the cost of one). */
	uint64_t w = gen << 16 | ids;
	if (site && fast_ok() && __atomic_load_n(&site->w, __ATOMIC_RELAXED) != w)
		__atomic_store_n(&site->w, w, __ATOMIC_RELAXED);
}

/* The ids in site's word when it is of t's fast generation (t->site_base),
** else a value >= 1 << 16. */
INLINE uint64_t site_ids(const gr_tthread *t, gort__trace_site *site)
{
	return __atomic_load_n(&site->w, __ATOMIC_RELAXED) - t->site_base;
}

static inline bool g_running(gr_tthread *t)
{
	if (__builtin_expect(t->gstate == GR_GO_STATUS_RUNNING, 1))
		return true;
	atomic_fetch_add(&gr_tr.dropped, 1);
	gr_end(t);
	return false;
}

uint64_t gort_trace_task_begin(uint64_t parent, const char *type)
{
	uint64_t id = atomic_fetch_add_explicit(&task_ids, 1, memory_order_relaxed) + 1;
	uint64_t gen;
	gr_tthread *t = API_BEGIN(&gen);
	if (!t || !g_running(t))
		return id;
	uint64_t name = _gr_tr_string_cached(t, gen, type);
	uint64_t stk = stack_id(t, FP, gen, 0);
	uint8_t *p = gr_ev(t, GR_EV_USER_TASK_BEGIN);
	p = gr_uv(p, id);
	p = gr_uv(p, parent);
	p = gr_uv(p, name);
	p = gr_uv(p, stk);
	gr_ev_done(t, p);
	gr_end(t);
	return id;
}

void gort_trace_task_end(uint64_t task)
{
	uint64_t gen;
	gr_tthread *t = API_BEGIN(&gen);
	if (!t || !g_running(t))
		return;
	uint64_t stk = stack_id(t, FP, gen, 0);
	uint8_t *p = gr_ev(t, GR_EV_USER_TASK_END);
	p = gr_uv(p, task);
	p = gr_uv(p, stk);
	gr_ev_done(t, p);
	gr_end(t);
}

INLINE uint8_t *region_event(gr_tthread *t, uint8_t type, uint64_t now, uint64_t task, uint64_t sid, uint64_t stk)
{
	const uint64_t a[3] = { task, sid, stk };
	return gr_put_ev(t->cur->pos, type, gr_tick_dt(t->cur, now), 3, a);
}

/* With stacks on, a fast section (stk_gen), the read-only string hit and
** the stack id through the repeat records: the general path's checks,
** full string compare and clock test are skipped. Called where the stack
** would be taken anyway (inside the section; fp: the exported function's
** frame). */
INLINE uint64_t stack_depth_now(void)
{
	return (uint64_t)atomic_load_explicit(&gr_tr.stack_depth, memory_order_relaxed);
}

static __attribute__((noinline)) void region_slow(uint8_t type, uint64_t task, const char *name,
                                                  gort__trace_site *site, void *fp)
{
	fast f;
	if (fast_open(&f, FAST_STACKS)) {   /* stacks on, the G is running */
		uint64_t sid;
		if (__builtin_expect(gr_scache_ro_hit(f.t, f.gen, name, &sid), 1)) {
			const uint64_t a[2] = { task, sid };
			fast_event(&f, type, 2, a, _gr_tr_stack_of(fp, f.gen, (int)stack_depth_now()));
			return;
		}
		fast_abort(&f);
	}
	uint64_t gen;
	gr_tthread *t = gr_begin_at(&gen, fp);
	if (!t || !g_running(t))
		return;
	uint64_t sid = _gr_tr_string_cached(t, gen, name);
	uint64_t stk = stack_id(t, fp, gen, 0);
	gr_ev_done(t, region_event(t, type, gr_now(), task, sid, stk));
	if (sid < 0x80)
		site_fill(site, gen, sid);
	fast_allow(t, gen);
	gr_end(t);
}

/* Inlined into the exported function (always_inline), so FP at the slow
** call is that function's frame; taken there, not on entry, so that the fast
** path keeps no copy of it. */
INLINE void region(uint8_t type, uint64_t task, const char *name)
{
	fast f;
	if (__builtin_expect(fast_open(&f, FAST_RUN), 1)) {   /* the G is running */
		uint64_t sid;
		if (__builtin_expect(gr_scache_ro_hit(f.t, f.gen, name, &sid), 1)) {
			const uint64_t a[2] = { task, sid };
			fast_event(&f, type, 2, a, 0);
			return;
		}
		fast_abort(&f);
	}
	region_slow(type, task, name, NULL, FP);
}

/* The fast path of an event with a task and a call site's strings (see "Call
** sites" above): the site's word answers the string ids, packed as
** fast_event_task takes them, without a lookup, when they are of this
** thread's fast generation and below lim. False: the caller takes its
** general path, with the site's literals. */
INLINE bool site_event(uint8_t type, int n, uint64_t task, gort__trace_site *site, uint64_t lim)
{
	fast f;
	if (__builtin_expect(fast_open(&f, FAST_RUN), 1)) {   /* the G is running */
		uint64_t ids = site_ids(f.t, site);
		if (__builtin_expect(ids < lim, 1)) {
			fast_event_task(&f, type, n, task, ids);
			return true;
		}
		fast_abort(&f);
	}
	return false;
}

/* region for a call site: one string id, one byte. */
INLINE void region_site(uint8_t type, uint64_t task, gort__trace_site *site)
{
	if (!site_event(type, 2, task, site, 0x80))
		region_slow(type, task, site->a, site, FP);
}

void gort__trace_region_begin_site(uint64_t task, gort__trace_site *site)
{
	region_site(GR_EV_USER_REGION_BEGIN, task, site);
}

void gort__trace_region_end_site(uint64_t task, gort__trace_site *site)
{
	region_site(GR_EV_USER_REGION_END, task, site);
}

void gort_trace_region_begin(uint64_t task, const char *type)
{
	if (!OFF())
		region(GR_EV_USER_REGION_BEGIN, task, type);
}

void gort_trace_region_end(uint64_t task, const char *type)
{
	if (!OFF())
		region(GR_EV_USER_REGION_END, task, type);
}

INLINE uint8_t *log_event(gr_tthread *t, uint64_t now, uint64_t task, uint64_t key, uint64_t val, uint64_t stk)
{
	const uint64_t a[4] = { task, key, val, stk };
	return gr_put_ev(t->cur->pos, GR_EV_USER_LOG, gr_tick_dt(t->cur, now), 4, a);
}

static __attribute__((noinline)) void user_log_slow(uint64_t task, const char *cat, const char *msg,
                                                    gort__trace_site *site, void *fp)
{
	fast f;
	if (fast_open(&f, FAST_STACKS)) {   /* stacks on: as in region_slow */
		uint64_t key, val;
		if (__builtin_expect(gr_scache_ro_hit(f.t, f.gen, cat, &key) && gr_scache_ro_hit(f.t, f.gen, msg, &val), 1)) {
			const uint64_t a[3] = { task, key, val };
			fast_event(&f, GR_EV_USER_LOG, 3, a, _gr_tr_stack_of(fp, f.gen, (int)stack_depth_now()));
			return;
		}
		fast_abort(&f);
	}
	uint64_t gen;
	gr_tthread *t = gr_begin_at(&gen, fp);
	if (!t || !g_running(t))
		return;
	uint64_t key = _gr_tr_string_cached(t, gen, cat);
	uint64_t val = _gr_tr_string_cached(t, gen, msg);
	uint64_t stk = stack_id(t, fp, gen, 0);
	gr_ev_done(t, log_event(t, gr_now(), task, key, val, stk));
	if ((key | val) < 0x80)
		site_fill(site, gen, key | val << 8);
	fast_allow(t, gen);
	gr_end(t);
}

/* The pair cache entry of (cat, msg): one cache line (64 bytes) of
** t->lcache, by a multiplicative hash of cat * 2 + msg. */
_Static_assert(sizeof(gr_lcache_ent) == 64 && GR_LCACHE == 16, "lcache_entry assumes 16 entries of 64 bytes");
INLINE gr_lcache_ent *lcache_entry(gr_tthread *t, const char *cat, const char *msg)
{
	uint32_t k = (uint32_t)((uintptr_t)cat * 2 + (uintptr_t)msg);
	uint32_t off = (k * 0x9e3779b1u) >> (28 - 6) & ((GR_LCACHE - 1) << 6);
	return (gr_lcache_ent *)(void *)((char *)t->lcache + off);
}

/* Everything but user_log's pair cache hit, out of line (one call site, so
** that the hit path needs no frame). With t set, t has a fast section of gen
** open and the pair missed: the string cache's read-only hits fill the pair's
** entry (ids below 128) and the event is written. Anything else closes the
** section and takes the general path (fp: the exported function's frame). */
static __attribute__((noinline)) void user_log_miss(uint64_t task, const char *cat, const char *msg, void *fp,
                                                    gr_tthread *t, uint64_t gen)
{
	typedef uint64_t __attribute__((may_alias, aligned(1))) u64_any;
	if (t) {
		uint64_t key, val;
		if (gr_scache_ro_hit(t, gen, cat, &key) && gr_scache_ro_hit(t, gen, msg, &val)) {
			if ((key | val) < 0x80)
				*lcache_entry(t, cat, msg) =
					(gr_lcache_ent){ cat, msg, gen, *(const u64_any *)(const void *)cat,
				                         *(const u64_any *)(const void *)msg, key | val << 8, { 0, 0 } };
			const fast f = { t, gen, t->cur };
			const uint64_t a[3] = { task, key, val };
			fast_event(&f, GR_EV_USER_LOG, 3, a, 0);
			return;
		}
		gr_end(t);
	}
	user_log_slow(task, cat, msg, NULL, fp);
}

/* Inlined into the exported function: FP as in region. The pair cache
** (gr_lcache_ent) answers the usual log, two literals from one call site,
** with one lookup; it holds only pairs that hit the string cache as
** read-only strings, with the same checks (pointers, generation, the 8 bytes
** at each), and is filled from those hits (user_log_miss). */
INLINE void user_log(uint64_t task, const char *cat, const char *msg)
{
	typedef uint64_t __attribute__((may_alias, aligned(1))) u64_any;
	fast f;
	gr_tthread *t = NULL;
	uint64_t gen = 0;
	if (__builtin_expect(fast_open(&f, FAST_RUN), 1)) {   /* the G is running */
		const gr_lcache_ent *e = lcache_entry(f.t, cat, msg);
		if (__builtin_expect(e->cat == cat && e->msg == msg && e->tag == f.gen &&
		                     *(const u64_any *)(const void *)cat == e->wc &&
		                     *(const u64_any *)(const void *)msg == e->wm, 1)) {
			uint64_t kv = e->kv;
			fast_event_task(&f, GR_EV_USER_LOG, 3, task, kv);
			return;
		}
		t = f.t;
		gen = f.gen;
	}
	user_log_miss(task, cat, msg, FP, t, gen);
}

/* user_log for a call site: both string ids, one byte each. */
INLINE void user_log_site(uint64_t task, gort__trace_site *site)
{
	if (!site_event(GR_EV_USER_LOG, 3, task, site, 0x8000))
		user_log_slow(task, site->a, site->b, site, FP);
}

void gort__trace_log_site(uint64_t task, gort__trace_site *site)
{
	user_log_site(task, site);
}

void gort_trace_log(uint64_t task, const char *category, const char *message)
{
	if (!OFF())
		user_log(task, category, message);
}

void gort_trace_logf(uint64_t task, const char *category, const char *fmt, ...)
{
	if (OFF())
		return;
	char buf[GR_GO122_MAX_STRING_SIZE + 1];
	va_list ap;
	va_start(ap, fmt);
	if (fmt)
		vsnprintf(buf, sizeof buf, fmt, ap);
	else
		buf[0] = 0;
	va_end(ap);
	user_log(task, category, buf);
}

void gort_trace_thread_name(const char *name)
{
	gr_tthread *t = _gr_tr_thread_get();
	if (!t)
		return;
	if (atomic_load_explicit(&t->seq, memory_order_relaxed) & 1) {
		atomic_fetch_add(&gr_tr.dropped, 1);
		return;
	}
	size_t len = name ? strnlen(name, sizeof t->name - 1) : 0;
	memcpy(t->name, name ? name : "", len);
	t->name[len] = 0;
	t->label_gen = 0;
	if (OFF())
		return;
	uint64_t gen;
	t = gr_begin(&gen);
	if (!t)
		return;
	if (t->label_gen != gen)
		_gr_tr_put_label(t, gen);
	gr_end(t);
}

INLINE uint8_t *block_event(gr_tthread *t, uint64_t now, uint64_t rid, uint64_t stk)
{
	const uint64_t a[2] = { rid, stk };
	return gr_put_ev(t->cur->pos, GR_EV_GO_BLOCK, gr_tick_dt(t->cur, now), 2, a);
}

static __attribute__((noinline)) void block_begin_slow(const char *reason, gort__trace_site *site, void *fp)
{
	uint64_t gen;
	gr_tthread *t = gr_begin_at(&gen, fp);
	if (!t)
		return;
	if (t->gstate == GR_GO_STATUS_RUNNING) {
		uint64_t rid = _gr_tr_string_cached(t, gen, reason);
		uint64_t stk = stack_id(t, fp, gen, 0);
		gr_ev_done(t, block_event(t, gr_now(), rid, stk));
		if (rid < 0x80)
			site_fill(site, gen, rid);
		t->gstate = GR_GO_STATUS_WAITING;
		t->wait_gen = fast_ok() ? gen : GR_GEN_NEVER;
	}
	gr_end(t);
}

/* The G of the thread in fast section f goes from running to waiting
** (GoBlock with reason id rid < 128). */
INLINE void fast_block(const fast *f, uint64_t rid)
{
	f->t->gstate = GR_GO_STATUS_WAITING;
	f->t->fast_gen = GR_GEN_NEVER;
	f->t->wait_gen = f->gen;
	fast_event_w(f, GR_EV_GO_BLOCK, 1, rid);
}

void gort_trace_block_begin(const char *reason)
{
	if (OFF())
		return;
	if (!reason || !*reason)
		reason = "blocked";
	fast f;
	if (__builtin_expect(fast_open(&f, FAST_RUN), 1)) {   /* the G is running */
		uint64_t rid;
		if (__builtin_expect(gr_scache_ro_hit(f.t, f.gen, reason, &rid) && rid < 0x80, 1)) {
			fast_block(&f, rid);
			return;
		}
		fast_abort(&f);
	}
	block_begin_slow(reason, NULL, FP);
}

void gort__trace_block_begin_site(gort__trace_site *site)
{
	fast f;
	if (__builtin_expect(fast_open(&f, FAST_RUN), 1)) {   /* the G is running */
		uint64_t rid = site_ids(f.t, site);
		if (__builtin_expect(rid < 0x80, 1)) {
			fast_block(&f, rid);
			return;
		}
		fast_abort(&f);
	}
	const char *reason = site->a;
	block_begin_slow(reason && *reason ? reason : "blocked", site, FP);
}

/* GoUnblock (with its stack) and GoStart of the thread's G, at p in b. */
INLINE uint8_t *unblock_events(gr_tthread *t, gr_tbuf *b, uint8_t *p, uint64_t now, uint64_t stk)
{
	uint64_t seq = t->gseq;
	t->gseq = seq + 2;
	const uint64_t u[3] = { t->g, seq + 1, stk };
	const uint64_t s[2] = { t->g, seq + 2 };
	p = gr_put_ev_at(b, p, GR_EV_GO_UNBLOCK, now, 3, u);
	return gr_put_ev(p, GR_EV_GO_START, 0, 2, s);
}

static __attribute__((noinline)) void block_end_slow(void *fp)
{
	uint64_t gen;
	gr_tthread *t = gr_begin_at(&gen, fp);
	if (!t)
		return;
	if (t->gstate == GR_GO_STATUS_WAITING) {
		uint64_t stk = stack_id(t, fp, gen, 1);   /* GoUnblock always carries a stack */
		gr_ev_done(t, unblock_events(t, t->cur, t->cur->pos, gr_now(), stk));
		t->gstate = GR_GO_STATUS_RUNNING;
		if (t->label_gen != gen)
			_gr_tr_put_label(t, gen);
		if (!t->name[0])
			t->label_gen = gen;   /* no label to write in gen: block_end's fast path may run */
		fast_allow(t, gen);
	}
	gr_end(t);
}

/* unblock_events in a fast section, out of line (a tail call: see
** fast_event_any), closing it. */
static __attribute__((noinline)) void fast_unblock_any(gr_tthread *t, uint64_t stk)
{
	gr_tbuf *b = t->cur;
	b->pos = unblock_events(t, b, b->pos, fast_now(), stk);
	gr_end(t);
}

/* v < 2^21 as a varint in the low bytes of the result; *len = its bytes. */
INLINE uint64_t uv3(uint64_t v, unsigned *len)
{
	if (v < 0x80) {
		*len = 1;
		return v;
	}
	uint64_t lo = (v & 0x7f) | 0x80 | (v << 1 & 0x7f00);
	if (v < 0x4000) {
		*len = 2;
		return lo;
	}
	*len = 3;
	return lo | 0x8000 | (v << 2 & 0x7f0000);
}

/* unblock_events in a fast section, closing it: with a one-byte G id and
** stack id and sequence numbers below 2^21, the two events are built in
** registers before the clock read (GoUnblock's fields after dt, and all of
** GoStart) and written with two 8-byte stores, as in fast_event. */
INLINE void fast_unblock(const fast *f, uint64_t stk)
{
	gr_tthread *t = f->t;
	gr_tbuf *b = f->b;
	uint64_t g = t->g, seq = t->gseq;
	if (__BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__ || __builtin_expect((g | stk) >= 0x80 || seq + 2 >= (1u << 21), 0)) {
		fast_unblock_any(t, stk);
		return;
	}
	t->gseq = seq + 2;
	unsigned l1, l2;
	uint64_t v1 = uv3(seq + 1, &l1), v2 = uv3(seq + 2, &l2);
	uint64_t u = g | v1 << 8 | stk << (8 + 8 * l1);                             /* 2 + l1 bytes */
	uint64_t st = GR_EV_GO_START | g << 16 | v2 << 24;                          /* 3 + l2 bytes, dt 0 */
	unsigned len = (2 + l1) | (3 + l2) << 8;
	uint8_t *p = __atomic_load_n(&b->pos, __ATOMIC_RELAXED);
	uint64_t now = fast_now();
	uint64_t dt = now - b->last;   /* huge when the clock is behind last */
	uint64_t w;
	if (__builtin_expect(dt < 0x80, 1)) {
		b->last = now;
		w = u << 16 | dt << 8 | GR_EV_GO_UNBLOCK;
		memcpy(p, &w, 8);
		p += 2;
	} else if (__builtin_expect(dt < 0x4000, 1)) {
		b->last = now;
		w = u << 24 | ((dt & 0x7f) | 0x80 | (dt << 1 & 0x7f00)) << 8 | GR_EV_GO_UNBLOCK;
		memcpy(p, &w, 8);
		p += 3;
	} else {
		*p++ = GR_EV_GO_UNBLOCK;
		p = gr_uv(p, gr_tick_dt(b, now));
		memcpy(p, &u, 8);
	}
	p += len & 0xff;
	memcpy(p, &st, 8);
	fast_close(f, p + (len >> 8));
}

void gort_trace_block_end(void)
{
	if (OFF())
		return;
	fast f;
	if (__builtin_expect(fast_open(&f, FAST_WAIT), 1)) {   /* the G is waiting */
		gr_tthread *t = f.t;
		if (__builtin_expect(t->label_gen == f.gen && t->pc1 == (uintptr_t)__builtin_return_address(0) &&
		                     t->pc1_gen == f.gen, 1)) {
			t->gstate = GR_GO_STATUS_RUNNING;
			t->wait_gen = GR_GEN_NEVER;
			gr_fast_set(t, f.gen);
			fast_unblock(&f, t->pc1_id);
			return;
		}
		fast_abort(&f);
	}
	block_end_slow(FP);
}

void gort_trace_syscall_begin(void)
{
	uint64_t gen;
	gr_tthread *t = API_BEGIN(&gen);
	if (!t)
		return;
	if (t->gstate == GR_GO_STATUS_RUNNING) {
		uint64_t stk = stack_id(t, FP, gen, 0);
		uint8_t *p = gr_ev(t, GR_EV_GO_SYSCALL_BEGIN);
		p = gr_uv(p, ++t->p->seq);
		p = gr_uv(p, stk);
		gr_ev_done(t, p);
		t->gstate = GR_GO_STATUS_SYSCALL;
	}
	gr_end(t);
}

/* GoSyscallEnd carries no stack, and go tool trace (1.22) closes a syscall
** interval only at the G's next transition that has one, so its syscall
** profile would merge consecutive syscalls into one interval. Right after
** GoSyscallEnd we therefore write, at the same instant, a zero-length block
** with the syscall's stack and a reason no profile counts ("syscall"),
** then GoUnblock (no stack) and GoStart: the profile gets each syscall's
** exact duration and stack, the sync/net/sched profiles are unchanged. */
void gort_trace_syscall_end(void)
{
	uint64_t gen;
	gr_tthread *t = API_BEGIN(&gen);
	if (!t)
		return;
	if (t->gstate == GR_GO_STATUS_SYSCALL) {
		uint64_t rid = _gr_tr_string_cached(t, gen, "syscall");
		uint64_t stk = stack_id(t, FP, gen, 1);
		uint8_t *p = gr_ev(t, GR_EV_GO_SYSCALL_END);
		*p++ = GR_EV_GO_BLOCK;
		*p++ = 0;
		p = gr_uv(p, rid);
		p = gr_uv(p, stk);
		*p++ = GR_EV_GO_UNBLOCK;
		*p++ = 0;
		p = gr_uv(p, t->g);
		p = gr_uv(p, ++t->gseq);
		*p++ = 0;
		*p++ = GR_EV_GO_START;
		*p++ = 0;
		p = gr_uv(p, t->g);
		p = gr_uv(p, ++t->gseq);
		gr_ev_done(t, p);
		t->gstate = GR_GO_STATUS_RUNNING;
		if (t->label_gen != gen)
			_gr_tr_put_label(t, gen);
	}
	gr_end(t);
}
