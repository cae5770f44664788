/*
** src/trace/gen.c: generations, sinks and delivery (Go's traceAdvance and
** ReadTrace, generalised to several consumers).
**
** The switcher (switch_gen, serialised by gr_tr.adv_mu) stores the next
** generation under gr_tr.mu, makes every thread's next section see it
** (membarrier, or the writers' own full fence), waits until no section of
** the closing generation N is open, takes each thread's buffer for N, then
** queues the CPU samples, Frequency, Stacks and Strings batches of N and a
** GEN_END marker. Only then do the full buffers of N+1 (held back in
** gr_tr.pend_*) join the output, so generations never interleave.
**
** The background thread ("gort-trace") advances the generation every period
** and delivers queued chunks, in order, to every sink; it is the only caller
** of sink callbacks. A sink receives the header before its first byte and
** whole generations from first_gen (to last_gen when detaching).
*/
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/membarrier.h>

#include "internal/cpuprof.h"
#include "internal/env.h"
#include "internal/hooks.h"
#include "internal/panic.h"
#include "trace/tr.h"
#include <gort/trace.h>

int gort_trace_on_;   /* mirrors gr_tr.gen != 0 for the header's inline checks */

struct gr_tr_state gr_tr = {
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.adv_mu = PTHREAD_MUTEX_INITIALIZER,
	.dlv_mu = PTHREAD_MUTEX_INITIALIZER,
	.bg_cv = PTHREAD_COND_INITIALIZER,
	.done_cv = PTHREAD_COND_INITIALIZER,
	.rd_cv = PTHREAD_COND_INITIALIZER,
};

#define BG_PROC_ID 0   /* never given to a thread: keeps empty generations valid */

static __thread bool on_bg;

static void membarrier_setup(void)
{
	long r = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
	if (r > 0 && (r & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
		gr_tr.use_membarrier = true;
}

static void membarrier_run(void)
{
	if (gr_tr.use_membarrier && syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0)
		_gr_panic("trace: membarrier failed after registration");
	atomic_thread_fence(memory_order_seq_cst);
}

static gr_tbuf *marker(uint32_t kind, uint64_t gen)
{
	gr_tbuf *b = _gr_tr_buf_get();
	if (!b)
		_gr_panic("trace: out of memory for a generation marker");
	b->kind = kind;
	b->gen = gen;
	return b;
}

/* Append to the output queue regardless of out_gen (under mu). */
static void out_push(gr_tbuf *b)
{
	gr_queue_push(&gr_tr.out_head, &gr_tr.out_tail, b);
}

/* ---- CPU samples ---- */

typedef struct sample_ctx {
	gr_bw w;
	gr_tthread *threads;
	size_t n;
} sample_ctx;

static void sample_emit(void *ctx, uint64_t ts, uint64_t m, const uintptr_t *pcs, int n)
{
	sample_ctx *c = ctx;
	uint64_t p = GR_NOTHREAD, g = 0;
	pthread_mutex_lock(&gr_tr.mu);   /* m, g, p, session change under mu */
	for (gr_tthread *t = c->threads; t; t = t->next) {
		if (t->m == m && t->session == gr_tr.session && t->p) {
			p = t->p->id;
			g = t->g;
			break;
		}
	}
	pthread_mutex_unlock(&gr_tr.mu);
	uint64_t stack = _gr_tr_stack(c->w.gen, pcs, n);
	uint8_t *q = _gr_tr_bw_room(&c->w, 64);
	if (!q)
		return;
	*q++ = GR_EV_CPU_SAMPLE;
	q = gr_uv(q, ts);
	q = gr_uv(q, m);
	q = gr_uv(q, p);
	q = gr_uv(q, g);
	q = gr_uv(q, stack);
	c->w.b->pos = q;
	c->n++;
}

/* ---- the switch ---- */

/* Write GoStatus(g, m, st) into *bp, a batch of generation n for thread
** bm, opening or flushing it as needed (under mu). */
static void put_status(gr_tbuf **bp, uint64_t n, uint64_t bm, uint64_t g, uint64_t m, uint8_t st)
{
	gr_tbuf *b = *bp;
	if (b && b->pos + GR_EV_MAX > b->end) {
		_gr_tr_buf_seal(b);
		_gr_tr_queue_buf(b);
		b = NULL;
	}
	if (!b) {
		b = _gr_tr_buf_open(n, bm, gr_now());
		if (!b)
			return;
		b->events = 1;
	}
	uint8_t *p = b->pos;
	*p++ = GR_EV_GO_STATUS;
	p = gr_uv(p, 0);
	p = gr_uv(p, g);
	p = gr_uv(p, m);
	p = gr_uv(p, st);
	b->pos = p;
	*bp = b;
}

/* GoStatus for every traced thread that wrote nothing in generation n (as
** Go's traceAdvance does for idle goroutines): a trace cut at any boundary
** (a sink attached mid-trace, the flight recorder) then knows every G from
** its first generation, since Go's reader accepts no new G by status after
** that. Blocked Gs are declared from a no-thread batch; a running or
** syscalling G is declared from a batch of its own thread, because those
** states bind the G to the thread that reports them (it has no other batch in
** generation n, so nothing is reordered). The state is the one at the
** boundary: what the thread's status of a later generation said if it wrote
** one (status_gstate), else its current state, which cannot change without
** its slow path taking mu. Returns true if anything was written. */
static bool silent_statuses(uint64_t n, gr_tthread *head)
{
	gr_tbuf *shared = NULL;
	bool any = false;
	pthread_mutex_lock(&gr_tr.mu);
	uint64_t session = atomic_load(&gr_tr.session);
	for (gr_tthread *t = head; t; t = t->next) {
		bool alive = t->session == session && t->p;
		bool left_later = t->session == 0 && t->last_session == session && t->exit_gen > n;
		if ((!alive && !left_later) || t->status_gen == n || t->status_gen == 0 || t->enter_gen > n)
			continue;   /* not in the trace at the end of n, wrote in n, or created after n */
		uint8_t st = t->status_gen > n ? t->status_gstate : t->gstate;
		if (st == GR_GO_STATUS_RUNNING || st == GR_GO_STATUS_SYSCALL) {
			gr_tbuf *own = NULL;
			put_status(&own, n, t->m, t->g, t->m, st);
			if (own) {
				_gr_tr_buf_seal(own);
				_gr_tr_queue_buf(own);
			}
		} else {
			put_status(&shared, n, GR_NOTHREAD, t->g, t->m, st);
		}
		any = true;
	}
	if (shared) {
		_gr_tr_buf_seal(shared);
		_gr_tr_queue_buf(shared);
	}
	pthread_mutex_unlock(&gr_tr.mu);
	return any;
}

/* Wait until thread t leaves the section it was in (seq s). A thread that
** stays inside for a second (stopped in a debugger, crashed inside the
** tracer while the flight recorder asks for a boundary) is given up on:
** its buffer for this generation is dropped and counted, which keeps the
** trace valid (its next generation starts with fresh statuses). */
static bool wait_section(gr_tthread *t, uint32_t s)
{
	uint64_t t0 = _gr_clock_mono();
	while (atomic_load_explicit(&t->seq, memory_order_acquire) == s) {
		sched_yield();
		if (_gr_clock_mono() - t0 > 1000000000u) {
			atomic_fetch_add(&gr_tr.dropped, 1);
			return false;
		}
	}
	return true;
}

static void switch_gen(bool final)
{
	pthread_mutex_lock(&gr_tr.mu);
	uint64_t n = atomic_load(&gr_tr.gen);
	if (n == 0) {
		pthread_mutex_unlock(&gr_tr.mu);
		return;
	}
	uint64_t next = final ? 0 : n + 1;
	if (!final)
		gr_tr.last_gen = next;
	atomic_store_explicit(&gr_tr.gen, next, memory_order_release);
	if (final)
		__atomic_store_n(&gort_trace_on_, 0, __ATOMIC_RELEASE);
	gr_tthread *head = gr_tr.threads;
	pthread_mutex_unlock(&gr_tr.mu);
	membarrier_run();

	gr_tbuf *lh = NULL, **lt = &lh;
	for (gr_tthread *t = head; t; t = t->next) {
		uint32_t s = atomic_load_explicit(&t->seq, memory_order_acquire);
		if ((s & 1) && !wait_section(t, s))
			continue;   /* stuck (crashed?) thread: its buffer is given up */
		gr_tbuf *b = atomic_exchange_explicit(&t->buf[n & 1], NULL, memory_order_acquire);
		if (b && b->gen != n) {
			/* Left by a thread that was given up on: never emit it. */
			pthread_mutex_lock(&gr_tr.mu);
			_gr_tr_buf_put(b);
			pthread_mutex_unlock(&gr_tr.mu);
			atomic_fetch_add(&gr_tr.dropped, 1);
			b = NULL;
		}
		if (b) {
			_gr_tr_buf_seal(b);
			b->next = NULL;
			*lt = b;
			lt = &b->next;
		}
	}
	pthread_mutex_lock(&gr_tr.mu);
	for (gr_tbuf *b = lh, *nx; b; b = nx) {
		nx = b->next;
		_gr_tr_queue_buf(b);
	}
	pthread_mutex_unlock(&gr_tr.mu);

	bool statuses = silent_statuses(n, head);

	/* CPU samples of the generation. */
	size_t samples = 0;
	if (gr_tr.cpuprof_on) {
		sample_ctx c = { { n, GR_EV_CPU_SAMPLES, NULL }, head, 0 };
		_gr_cpuprof_drain(sample_emit, &c);
		_gr_tr_bw_flush(&c.w);
		samples = c.n;
	}
	/* Frequency: ticks are nanoseconds. */
	gr_bw w = { n, GR_EV_FREQUENCY, NULL };
	uint8_t *q = _gr_tr_bw_room(&w, 16);
	if (q) {
		w.b->pos = gr_uv(q, 1000000000u);
		_gr_tr_bw_flush(&w);
	}
	_gr_tr_tables_flush(n);

	pthread_mutex_lock(&gr_tr.mu);
	if (gr_tr.gen_events[n & 1] == 0 && samples == 0 && !statuses) {
		/* A generation needs an event: declare the idle background P. */
		gr_tbuf *b = _gr_tr_buf_open(n, GR_NOTHREAD, gr_now());
		if (b) {
			uint8_t *p = b->pos;
			*p++ = GR_EV_PROC_STATUS;
			p = gr_uv(p, 0);
			p = gr_uv(p, BG_PROC_ID);
			p = gr_uv(p, GR_PROC_STATUS_IDLE);
			b->pos = p;
			_gr_tr_buf_seal(b);
			_gr_tr_queue_buf(b);
		}
	}
	gr_tr.gen_events[n & 1] = 0;
	out_push(marker(GR_CHUNK_GEN_END, n));
	if (final)
		out_push(marker(GR_CHUNK_END, n));
	gr_tr.out_gen = next;
	if (gr_tr.pend_head) {
		if (final)
			_gr_panic("trace: buffers of a generation after the last one");
		if (gr_tr.out_tail)
			gr_tr.out_tail->next = gr_tr.pend_head;
		else
			gr_tr.out_head = gr_tr.pend_head;
		gr_tr.out_tail = gr_tr.pend_tail;
		gr_tr.pend_head = gr_tr.pend_tail = NULL;
	}
	/* Recycle records of exited threads whose buffers are gone. */
	for (gr_tthread **pp = &gr_tr.threads; *pp;) {
		gr_tthread *t = *pp;
		if (t->dead && !atomic_load(&t->buf[0]) && !atomic_load(&t->buf[1])) {
			*pp = t->next;
			t->next = gr_tr.threads_free;
			gr_tr.threads_free = t;
		} else {
			pp = &t->next;
		}
	}
	pthread_cond_signal(&gr_tr.bg_cv);
	pthread_mutex_unlock(&gr_tr.mu);
	_gr_tr_tables_reset(n);
}

/* ---- delivery ---- */

#define MAX_SINKS 32

static void sink_close(gr_sink_ent *e)
{
	if (e->closed)
		return;
	e->closed = true;
	if (e->s.close)
		e->s.close(e->s.ctx);
}

static bool sink_write(gr_sink_ent *e, const void *p, size_t len)
{
	if (!e->header_sent) {
		e->header_sent = true;
		if (e->s.write(e->s.ctx, GR_GO122_HEADER, GR_GO122_HEADER_LEN) < 0)
			return false;
	}
	return e->s.write(e->s.ctx, p, len) >= 0;
}

static void stop_from_bg(void);

/* Returns true when every sink failed and the trace must stop (the caller
** calls stop_from_bg, outside dlv_mu). */
static bool deliver(gr_tbuf *c)
{
	gr_sink_ent *sinks[MAX_SINKS];
	int ns = 0;
	pthread_mutex_lock(&gr_tr.mu);
	for (gr_sink_ent *e = gr_tr.sinks; e && ns < MAX_SINKS; e = e->next)
		if (!e->closed)
			sinks[ns++] = e;
	pthread_mutex_unlock(&gr_tr.mu);

	uint64_t bytes = 0;
	bool any_failed = false;
	switch (c->kind) {
	case GR_CHUNK_BATCH:
		bytes = (uint64_t)(c->pos - c->data);
		for (int i = 0; i < ns; i++) {
			gr_sink_ent *e = sinks[i];
			if (c->gen < e->first_gen || (e->last_gen && c->gen > e->last_gen))
				continue;
			if (!sink_write(e, c->data, bytes)) {
				sink_close(e);
				any_failed = true;
			}
		}
		break;
	case GR_CHUNK_GEN_END:
		for (int i = 0; i < ns; i++) {
			gr_sink_ent *e = sinks[i];
			if (c->gen >= e->first_gen && e->header_sent && e->s.generation_done)
				e->s.generation_done(e->s.ctx, c->gen);
			if (e->last_gen && c->gen >= e->last_gen)
				sink_close(e);
		}
		break;
	case GR_CHUNK_END:
		for (int i = 0; i < ns; i++)
			sink_close(sinks[i]);
		break;
	}

	pthread_mutex_lock(&gr_tr.mu);
	if (bytes)
		atomic_fetch_sub(&gr_tr.buffered, bytes);
	if (c->kind == GR_CHUNK_GEN_END)
		gr_tr.delivered_gen = c->gen;
	if (c->kind == GR_CHUNK_END) {
		gr_tr.ended = true;
		gr_tr.bg_exit = true;
	}
	/* Drop closed sinks from the list. */
	int open = 0;
	for (gr_sink_ent **pp = &gr_tr.sinks; *pp;) {
		gr_sink_ent *e = *pp;
		if (e->closed) {
			*pp = e->next;
			free(e);
		} else {
			open++;
			pp = &e->next;
		}
	}
	_gr_tr_buf_put(c);
	bool auto_stop = any_failed && open == 0 && !gr_tr.stopping && !gr_tr.ended;
	if (auto_stop)
		gr_tr.stopping = true;
	pthread_cond_broadcast(&gr_tr.done_cv);
	pthread_mutex_unlock(&gr_tr.mu);
	return auto_stop;
}

static uint64_t mono_now(void)
{
	return _gr_clock_mono();
}

static void overflow_stop(void)
{
	pthread_mutex_lock(&gr_tr.mu);
	if (gr_tr.stopping || gr_tr.ended) {
		pthread_mutex_unlock(&gr_tr.mu);
		return;
	}
	gr_tr.stopping = true;
	char reason[sizeof gr_tr.stop_reason];
	memcpy(reason, gr_tr.stop_reason, sizeof reason);
	pthread_mutex_unlock(&gr_tr.mu);
	fprintf(stderr, "gort: %s\n", reason);
	/* The final log event, from this thread entering the trace briefly. */
	gr_tthread *t = _gr_tr_thread_get();
	if (t)
		t->internal = true;
	_gr_tl.busy = 0;
	_gr_tl.internal = 0;
	uint64_t gen;
	t = gr_begin(&gen);
	if (t) {
		t->internal = true;
		uint64_t key = _gr_tr_string(gen, "gort", 4);
		uint64_t val = _gr_tr_string(gen, reason, strlen(reason));
		uint8_t *p = gr_ev(t, GR_EV_USER_LOG);
		p = gr_uv(p, 0);
		p = gr_uv(p, key);
		p = gr_uv(p, val);
		p = gr_uv(p, 0);
		gr_ev_done(t, p);
		t->cur->events = 1;
		_gr_tr_exit_events(t, gen);
		gr_end(t);
	}
	_gr_tl.busy = 1;
	_gr_tl.internal = 1;
	stop_from_bg();
}

static void *bg_main(void *arg)
{
	(void)arg;
	on_bg = true;
	_gr_tl.busy = 1;
	_gr_tl.internal = 1;
	pthread_setname_np(pthread_self(), "gort-trace");
	pthread_mutex_lock(&gr_tr.mu);
	uint64_t next = mono_now() + gr_tr.period_ns;
	for (;;) {
		if (gr_tr.out_head) {
			gr_tbuf *c = gr_tr.out_head;
			gr_tr.out_head = c->next;
			if (!gr_tr.out_head)
				gr_tr.out_tail = NULL;
			pthread_mutex_unlock(&gr_tr.mu);
			pthread_mutex_lock(&gr_tr.dlv_mu);
			bool auto_stop = deliver(c);
			pthread_mutex_unlock(&gr_tr.dlv_mu);
			if (auto_stop)
				stop_from_bg();
			pthread_mutex_lock(&gr_tr.mu);
			continue;
		}
		if (gr_tr.bg_exit)
			break;
		if (atomic_load(&gr_tr.overflow) && !gr_tr.stopping) {
			pthread_mutex_unlock(&gr_tr.mu);
			overflow_stop();
			pthread_mutex_lock(&gr_tr.mu);
			continue;
		}
		uint64_t now = mono_now();
		if (now >= next && !gr_tr.stopping) {
			pthread_mutex_unlock(&gr_tr.mu);
			pthread_mutex_lock(&gr_tr.adv_mu);
			switch_gen(false);
			pthread_mutex_unlock(&gr_tr.adv_mu);
			pthread_mutex_lock(&gr_tr.mu);
			next = mono_now() + gr_tr.period_ns;
			continue;
		}
		if (gr_tr.period_changed) {
			gr_tr.period_changed = false;
			next = now + gr_tr.period_ns;
		}
		uint64_t until = next;
		struct timespec ts;   /* the condvar waits on CLOCK_REALTIME */
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t wait = until > now ? until - now : 0;
		if (gr_tr.stopping)
			wait = 50 * 1000 * 1000;
		ts.tv_sec += (time_t)(wait / 1000000000u);
		ts.tv_nsec += (long)(wait % 1000000000u);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&gr_tr.bg_cv, &gr_tr.mu, &ts);
	}
	pthread_mutex_unlock(&gr_tr.mu);
	return NULL;
}

/* ---- sessions ---- */

static uint64_t env_u64(const char *name, uint64_t dflt, bool size)
{
	uint64_t v;
	int r = size ? _gr_env_size(name, &v) : _gr_env_duration_ns(name, &v);
	return r == 0 ? v : dflt;
}

static bool session_start(gr_sink_ent *e)
{
	_gr_clock_init();
	static pthread_once_t mb_once = PTHREAD_ONCE_INIT;
	pthread_once(&mb_once, membarrier_setup);
	if (gr_tr.bg_joinable) {
		pthread_join(gr_tr.bg, NULL);
		gr_tr.bg_joinable = false;
	}
	if (!gr_tr.period_set)
		gr_tr.period_ns = env_u64("GORT_TRACE_PERIOD", 1000000000u, false);
	if (gr_tr.period_ns < 1000000)
		gr_tr.period_ns = 1000000;
	gr_tr.max_buffered = env_u64("GORT_TRACE_MAX_BUFFERED", 256u << 20, true);
	int64_t depth = _gr_env_int("GORT_TRACE_STACK_DEPTH", 32);
	atomic_store_explicit(&gr_tr.stack_depth, depth > GR_MAX_STACK ? GR_MAX_STACK : (int)depth,
	                      memory_order_relaxed);
	int64_t hz = _gr_env_int("GORT_TRACE_CPU_HZ", 100);

	atomic_store(&gr_tr.session, atomic_load(&gr_tr.session) + 1);
	uint64_t g0 = gr_tr.last_gen + 1;
	gr_tr.last_gen = g0;
	gr_tr.out_gen = g0;
	gr_tr.delivered_gen = g0 - 1;
	gr_tr.gen_events[0] = gr_tr.gen_events[1] = 0;
	gr_tr.heap_pending = true;
	gr_tr.stopping = false;
	gr_tr.ended = false;
	gr_tr.bg_exit = false;
	atomic_store(&gr_tr.overflow, false);
	gr_tr.stop_reason[0] = 0;
	atomic_store(&gr_tr.next_g, 1);
	/* Every P is free again, lowest ids first. */
	gr_tr.procs_free = NULL;
	for (gr_tproc *p = gr_tr.procs_all; p; p = p->all_next) {
		p->seq = 0;
		p->status_gen = 0;
		p->next = gr_tr.procs_free;
		gr_tr.procs_free = p;
	}
	if (gr_tr.next_pid == 0)
		gr_tr.next_pid = BG_PROC_ID + 1;
	e->first_gen = g0;
	e->next = gr_tr.sinks;
	gr_tr.sinks = e;

	/* The profiler itself starts in cpuprof_start, outside mu. */
	gr_tr.cpuprof_on = false;
	gr_tr.cpuprof_hz = hz > 0 && hz <= 10000 ? (int)hz : 0;

	int r = _gr_tr_spawn(&gr_tr.bg, bg_main);
	if (r != 0) {
		gr_tr.sinks = e->next;
		return false;
	}
	gr_tr.running = true;
	atomic_store_explicit(&gr_tr.gen, g0, memory_order_release);
	__atomic_store_n(&gort_trace_on_, 1, __ATOMIC_RELEASE);
	atomic_store(&_gr_heap_hook, _gr_tr_heap_hook);
	return true;
}

/* Start the CPU profiler for the session just started (not under mu: its
** drain holds the profiler's lock while sample_emit takes mu). Under adv_mu,
** so that final_switch either finds it started (and stops it) or keeps it
** from starting. */
static void cpuprof_start(uint64_t session)
{
	pthread_mutex_lock(&gr_tr.adv_mu);
	pthread_mutex_lock(&gr_tr.mu);
	int hz = gr_tr.cpuprof_hz;
	bool want = hz > 0 && !gr_tr.cpuprof_on && !gr_tr.stopping && !gr_tr.ended &&
	            atomic_load(&gr_tr.gen) != 0 && atomic_load(&gr_tr.session) == session;
	pthread_mutex_unlock(&gr_tr.mu);
	if (want && _gr_cpuprof_start(hz, _gr_trace_now) == 0) {
		pthread_mutex_lock(&gr_tr.mu);
		gr_tr.cpuprof_on = true;
		pthread_mutex_unlock(&gr_tr.mu);
	}
	pthread_mutex_unlock(&gr_tr.adv_mu);
}

/* Final generation; the background thread closes every sink and exits. */
static void final_switch(void)
{
	atomic_store(&_gr_heap_hook, (_gr_heap_hook_fn)0);
	pthread_mutex_lock(&gr_tr.adv_mu);
	switch_gen(true);
	pthread_mutex_unlock(&gr_tr.adv_mu);
	if (gr_tr.cpuprof_on)
		_gr_cpuprof_stop();
}

static void stop_from_bg(void)
{
	final_switch();
	pthread_mutex_lock(&gr_tr.mu);
	gr_tr.bg_joinable = true;
	pthread_mutex_unlock(&gr_tr.mu);
}

/* Caller holds mu; stopping was set by the caller. Returns with mu held. */
static void stop_and_join(void)
{
	pthread_mutex_unlock(&gr_tr.mu);
	final_switch();
	pthread_mutex_lock(&gr_tr.mu);
	while (!gr_tr.ended)
		pthread_cond_wait(&gr_tr.done_cv, &gr_tr.mu);
	pthread_mutex_unlock(&gr_tr.mu);
	pthread_join(gr_tr.bg, NULL);
	pthread_mutex_lock(&gr_tr.mu);
	gr_tr.bg_joinable = false;
	gr_tr.running = false;
	gr_tr.stopping = false;
	pthread_cond_broadcast(&gr_tr.done_cv);
}

/* Wait until a stopping session is torn down, joining the background
** thread of a session that ended on its own (overflow, failed sinks).
** Called with mu held; returns with mu held. */
static void reap_locked(void)
{
	if (on_bg)
		return;
	while (gr_tr.stopping && !gr_tr.ended)
		pthread_cond_wait(&gr_tr.done_cv, &gr_tr.mu);
	if (gr_tr.running && gr_tr.ended) {
		if (gr_tr.bg_joinable) {
			gr_tr.bg_joinable = false;
			pthread_mutex_unlock(&gr_tr.mu);
			pthread_join(gr_tr.bg, NULL);
			pthread_mutex_lock(&gr_tr.mu);
			gr_tr.running = false;
			gr_tr.stopping = false;
			pthread_cond_broadcast(&gr_tr.done_cv);
		} else {
			while (gr_tr.running)
				pthread_cond_wait(&gr_tr.done_cv, &gr_tr.mu);
		}
	}
}

int _gr_trace_start_sink(const gr_trace_sink *s)
{
	if (!s || !s->write)
		return -EINVAL;
	gr_sink_ent *e = calloc(1, sizeof *e);
	if (!e)
		return -ENOMEM;
	e->s = *s;
	e->key = s;
	uint32_t busy = _gr_tl.busy;
	_gr_tl.busy = 1;
	pthread_mutex_lock(&gr_tr.mu);
	for (gr_sink_ent *x = gr_tr.sinks; x; x = x->next) {
		if (x->key == s && !x->closed) {
			pthread_mutex_unlock(&gr_tr.mu);
			free(e);
			_gr_tl.busy = busy;
			return -EBUSY;
		}
	}
	reap_locked();
	int rc = 0;
	if (gr_tr.running && !gr_tr.ended) {
		e->first_gen = atomic_load(&gr_tr.gen) + 1;
		e->next = gr_tr.sinks;
		gr_tr.sinks = e;
		pthread_mutex_unlock(&gr_tr.mu);
		pthread_mutex_lock(&gr_tr.adv_mu);
		switch_gen(false);
		pthread_mutex_unlock(&gr_tr.adv_mu);
	} else {
		bool ok = session_start(e);
		uint64_t session = atomic_load(&gr_tr.session);
		if (!ok) {
			free(e);
			rc = -EAGAIN;
		}
		pthread_mutex_unlock(&gr_tr.mu);
		if (ok)
			cpuprof_start(session);
	}
	_gr_tl.busy = busy;
	return rc;
}

int _gr_trace_stop_sink(const gr_trace_sink *s)
{
	uint32_t busy = _gr_tl.busy;
	_gr_tl.busy = 1;
	pthread_mutex_lock(&gr_tr.mu);
	gr_sink_ent *e = NULL;
	int others = 0;
	for (gr_sink_ent *x = gr_tr.sinks; x; x = x->next) {
		if (x->closed || x->last_gen)
			continue;
		if (x->key == s && !e)
			e = x;
		else
			others++;
	}
	if (!e) {
		pthread_mutex_unlock(&gr_tr.mu);
		_gr_tl.busy = busy;
		return -ENOENT;
	}
	if (others > 0 || gr_tr.stopping || gr_tr.ended) {
		e->last_gen = atomic_load(&gr_tr.gen);
		bool running = !gr_tr.stopping && !gr_tr.ended;
		pthread_mutex_unlock(&gr_tr.mu);
		if (running) {
			pthread_mutex_lock(&gr_tr.adv_mu);
			switch_gen(false);
			pthread_mutex_unlock(&gr_tr.adv_mu);
		}
		pthread_mutex_lock(&gr_tr.mu);
		if (!on_bg) {
			for (;;) {
				bool found = false;
				for (gr_sink_ent *x = gr_tr.sinks; x; x = x->next)
					if (x == e)
						found = true;
				if (!found || gr_tr.ended)
					break;
				pthread_cond_wait(&gr_tr.done_cv, &gr_tr.mu);
			}
		}
		reap_locked();
	} else if (on_bg) {
		gr_tr.stopping = true;
		pthread_mutex_unlock(&gr_tr.mu);
		stop_from_bg();
		pthread_mutex_lock(&gr_tr.mu);
	} else {
		gr_tr.stopping = true;
		stop_and_join();
	}
	pthread_mutex_unlock(&gr_tr.mu);
	_gr_tl.busy = busy;
	return 0;
}

int _gr_trace_advance_generation(void)
{
	uint32_t busy = _gr_tl.busy;
	_gr_tl.busy = 1;
	pthread_mutex_lock(&gr_tr.adv_mu);
	uint64_t n = atomic_load(&gr_tr.gen);
	if (n)
		switch_gen(false);
	pthread_mutex_unlock(&gr_tr.adv_mu);
	if (n && !on_bg) {
		pthread_mutex_lock(&gr_tr.mu);
		while (gr_tr.delivered_gen < n && !gr_tr.ended)
			pthread_cond_wait(&gr_tr.done_cv, &gr_tr.mu);
		pthread_mutex_unlock(&gr_tr.mu);
	}
	_gr_tl.busy = busy;
	return n ? 0 : -EINVAL;
}

void _gr_trace_set_period(uint64_t ns)
{
	uint32_t busy = _gr_tl.busy;
	_gr_tl.busy = 1;   /* a signal handler here must not take mu */
	pthread_mutex_lock(&gr_tr.mu);
	gr_tr.period_ns = ns ? ns : 1000000000u;
	if (gr_tr.period_ns < 1000000)
		gr_tr.period_ns = 1000000;
	gr_tr.period_set = ns != 0;
	gr_tr.period_changed = true;
	pthread_cond_signal(&gr_tr.bg_cv);
	pthread_mutex_unlock(&gr_tr.mu);
	_gr_tl.busy = busy;
}

bool gort_trace_enabled(void)
{
	return atomic_load_explicit(&gr_tr.gen, memory_order_relaxed) != 0;
}

uint64_t gort_trace_dropped(void)
{
	return atomic_load(&gr_tr.dropped);
}

/* fork(): the child must never write into the parent's trace. The
** background thread is outside any switch and delivery while the fork
** happens: besides the tracer's state, it must not be inside the allocator
** (glibc's malloc is fork-safe, but a sanitizer's allocator in older
** compilers, e.g. gcc 12's ASan, is not: a lock it held at the fork would
** stay locked in the child, which then hangs at its next malloc or in
** LeakSanitizer's check at exit). The writer thread is kept out by the
** reader's handler (rd.mu), and _gr_tr_spawn returns only after a new
** thread's start-up (which allocates in the sanitizer runtime) is over. */
void _gr_tr_fork_prepare(void)
{
	pthread_mutex_lock(&gr_tr.adv_mu);
	pthread_mutex_lock(&gr_tr.dlv_mu);
	pthread_mutex_lock(&gr_tr.mu);
}

void _gr_tr_fork_parent(void)
{
	pthread_mutex_unlock(&gr_tr.mu);
	pthread_mutex_unlock(&gr_tr.dlv_mu);
	pthread_mutex_unlock(&gr_tr.adv_mu);
}

void _gr_tr_fork_child(void)
{
	atomic_store(&gr_tr.gen, 0);
	__atomic_store_n(&gort_trace_on_, 0, __ATOMIC_RELAXED);
	pthread_mutex_init(&gr_tr.mu, NULL);
	pthread_mutex_init(&gr_tr.adv_mu, NULL);
	pthread_mutex_init(&gr_tr.dlv_mu, NULL);
	pthread_cond_init(&gr_tr.bg_cv, NULL);
	pthread_cond_init(&gr_tr.done_cv, NULL);
	pthread_cond_init(&gr_tr.rd_cv, NULL);
	gr_tr.out_head = gr_tr.out_tail = gr_tr.pend_head = gr_tr.pend_tail = NULL;
	gr_tr.running = gr_tr.stopping = gr_tr.ended = gr_tr.bg_exit = gr_tr.bg_joinable = false;
	gr_tr.threads = NULL;
	gr_tr.threads_free = NULL;
	/* The parent's sinks: this copy of them is ours to free, never to call. */
	while (gr_tr.sinks) {
		gr_sink_ent *e = gr_tr.sinks;
		gr_tr.sinks = e->next;
		free(e);
	}
	gr_tr.cpuprof_on = false;
	atomic_store(&gr_tr.buffered, 0);
	atomic_store(&gr_tr.overflow, false);
	atomic_store(&_gr_heap_hook, (_gr_heap_hook_fn)0);
	_gr_tl.t = NULL;
	_gr_tl.busy = 0;
	if (gr_tr.use_membarrier &&
	    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0)
		gr_tr.use_membarrier = false;
	_gr_tr_mem_reset_child();
	_gr_tr_tables_reset_all();
}
