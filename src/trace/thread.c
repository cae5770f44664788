/*
** src/trace/thread.c: a C thread's life in the trace (format doc 4.1/4.2):
** entry at its first event (take a P, ProcStart, GoCreate, GoStart), lazy
** ProcStatus/GoStatus at its first event of each generation, buffer refills,
** and exit from a pthread key destructor (GoDestroy, ProcStop, flush, P back
** to the free list).
**
** Everything here runs on the thread itself inside its section (t->seq odd),
** with gr_tr.mu held where noted. The slow path re-reads the generation
** under gr_tr.mu, which the switcher also holds when it stores a new one,
** so P hand-over between threads is ordered by generation.
*/
#include <dlfcn.h>
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/cpuprof.h"
#include "internal/hooks.h"
#include "internal/stack.h"
#include "trace/tr.h"

__thread struct gr_tls _gr_tl __attribute__((tls_model("initial-exec")));

static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static void thread_exit(void *arg);
static void make_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

bool _gr_trace_thread_internal(void)
{
	gr_tthread *t = _gr_tl.t;
	return _gr_tl.busy || _gr_tl.internal || _gr_tl.exited || (t && (t->internal || (atomic_load_explicit(&t->seq, memory_order_relaxed) & 1)));
}

/* ---- small event writers (room is guaranteed by the caller) ---- */

static uint8_t *ev(gr_tthread *t, uint8_t type)
{
	return gr_ev(t, type);
}

static void put_proc_status(gr_tthread *t, uint64_t status)
{
	uint8_t *p = ev(t, GR_EV_PROC_STATUS);
	p = gr_uv(p, t->p->id);
	p = gr_uv(p, status);
	gr_ev_done(t, p);
}

void _gr_tr_put_label(gr_tthread *t, uint64_t gen)
{
	if (!t->name[0] || t->gstate != GR_GO_STATUS_RUNNING)
		return;
	uint64_t id = _gr_tr_string(gen, t->name, strlen(t->name));
	uint8_t *p = ev(t, GR_EV_GO_LABEL);
	p = gr_uv(p, id);
	gr_ev_done(t, p);
	t->label_gen = gen;
}

/* Lazy statuses: the first event of a thread in a generation (under mu). */
static void put_statuses(gr_tthread *t, uint64_t gen)
{
	if (t->p->status_gen != gen) {
		put_proc_status(t, t->gstate == GR_GO_STATUS_SYSCALL ? GR_PROC_STATUS_SYSCALL : GR_PROC_STATUS_RUNNING);
		t->p->seq = 0;
		t->p->status_gen = gen;
	}
	if (t->status_gen != gen) {
		uint8_t *p = ev(t, GR_EV_GO_STATUS);
		p = gr_uv(p, t->g);
		p = gr_uv(p, t->m);
		p = gr_uv(p, t->gstate);
		gr_ev_done(t, p);
		t->gseq = 0;
		t->status_gen = gen;
		t->status_gstate = t->gstate;
	}
	_gr_tr_put_label(t, gen);
}

void _gr_tr_queue_buf(gr_tbuf *b)
{
	if (b->gen != gr_tr.out_gen && b->gen != gr_tr.out_gen + 1) {
		/* Its generation was already written (the switcher gave up on a
		** stuck thread): emitting it now would corrupt the trace. */
		_gr_tr_buf_put(b);
		atomic_fetch_add(&gr_tr.dropped, 1);
		return;
	}
	uint64_t bytes = (uint64_t)(b->pos - b->data);
	if (b->gen == gr_tr.out_gen)
		gr_queue_push(&gr_tr.out_head, &gr_tr.out_tail, b);
	else
		gr_queue_push(&gr_tr.pend_head, &gr_tr.pend_tail, b);
	if (b->events)
		gr_tr.gen_events[b->gen & 1]++;
	uint64_t total = atomic_fetch_add(&gr_tr.buffered, bytes) + bytes + _gr_tr_tables_bytes();
	if (total > gr_tr.max_buffered && !atomic_load(&gr_tr.overflow)) {
		atomic_store(&gr_tr.overflow, true);
		snprintf(gr_tr.stop_reason, sizeof gr_tr.stop_reason,
		         "trace stopped: more than %llu bytes of trace buffered, the reader fell behind (GORT_TRACE_MAX_BUFFERED)",
		         (unsigned long long)gr_tr.max_buffered);
	}
	pthread_cond_signal(&gr_tr.bg_cv);
}

/* Open t->buf[gen&1] (under mu). */
static bool open_buf(gr_tthread *t, uint64_t gen)
{
	gr_tbuf *b = _gr_tr_buf_open(gen, t->m, gr_now());
	if (!b)
		return false;
	b->events = 1;   /* opened for an event that follows at once */
	atomic_store_explicit(&t->buf[gen & 1], b, memory_order_relaxed);
	t->cur = b;
	t->cur_gen = gen;
	return true;
}

static gr_tthread *thread_new(void)
{
	pthread_mutex_lock(&gr_tr.mu);
	gr_tthread *t = gr_tr.threads_free;
	if (t)
		gr_tr.threads_free = t->next;
	pthread_mutex_unlock(&gr_tr.mu);
	if (t)
		memset(t, 0, sizeof *t);
	else
		t = _gr_tr_alloc(sizeof *t);
	if (!t)
		return NULL;
	gr_fast_reset(t);
	pthread_once(&key_once, make_key);
	pthread_setspecific(exit_key, t);
	pthread_mutex_lock(&gr_tr.mu);
	t->next = gr_tr.threads;
	gr_tr.threads = t;
	pthread_mutex_unlock(&gr_tr.mu);
	_gr_tl.t = t;
	return t;
}

/* Thread entry recipe (under mu, section open). */
static bool enter(gr_tthread *t, uint64_t gen, const uintptr_t *cpcs, int cn, uintptr_t entry_pc)
{
	gr_tproc *p = gr_tr.procs_free;
	if (p) {
		gr_tr.procs_free = p->next;
	} else {
		p = _gr_tr_alloc(sizeof *p);
		if (!p)
			return false;
		p->id = gr_tr.next_pid++;
		p->all_next = gr_tr.procs_all;
		gr_tr.procs_all = p;
	}
	t->cur_gen = 0;
	t->m = (uint64_t)syscall(SYS_gettid);
	if (!open_buf(t, gen)) {
		p->next = gr_tr.procs_free;
		gr_tr.procs_free = p;
		return false;
	}
	t->session = gr_tr.session;
	t->enter_gen = gen;
	t->exit_gen = 0;
	t->g = atomic_fetch_add(&gr_tr.next_g, 1);
	t->p = p;
	if (p->status_gen != gen) {
		put_proc_status(t, GR_PROC_STATUS_IDLE);
		p->seq = 0;
		p->status_gen = gen;
	}
	uint8_t *q = ev(t, GR_EV_PROC_START);
	q = gr_uv(q, p->id);
	q = gr_uv(q, ++p->seq);
	gr_ev_done(t, q);
	uintptr_t root = entry_pc ? entry_pc : _gr_tr_entry_pc(cpcs, cn);
	uint64_t new_stack = root ? _gr_tr_stack(gen, &root, 1) : 0;
	int depth = atomic_load_explicit(&gr_tr.stack_depth, memory_order_relaxed);
	uint64_t stack = _gr_tr_stack(gen, cpcs, cn < depth ? cn : depth > 0 ? depth : 1);
	q = ev(t, GR_EV_GO_CREATE);
	q = gr_uv(q, t->g);
	q = gr_uv(q, new_stack);
	q = gr_uv(q, stack);
	gr_ev_done(t, q);
	q = ev(t, GR_EV_GO_START);
	q = gr_uv(q, t->g);
	q = gr_uv(q, 1);
	gr_ev_done(t, q);
	t->gseq = 1;
	t->gstate = GR_GO_STATUS_RUNNING;
	t->status_gen = gen;
	t->status_gstate = GR_GO_STATUS_RUNNING;
	_gr_tr_put_label(t, gen);
	if (gr_tr.heap_pending) {
		gr_tr.heap_pending = false;
		uint64_t live = _gr_arena_live_bytes();
		q = ev(t, GR_EV_HEAP_ALLOC);
		q = gr_uv(q, live);
		gr_ev_done(t, q);
	}
	t->cpuprof = gr_tr.cpuprof_hz > 0;
	return true;
}

/* Slow path of gr_begin: enter, new generation, refill, drop. */
static gr_tthread *begin_slow(uint64_t *genp, const uintptr_t *cpcs, int cn, uintptr_t entry_pc, void *api_fp)
{
	struct gr_tls *tl = &_gr_tl;
	if (atomic_load_explicit(&gr_tr.gen, memory_order_acquire) == 0)
		return NULL;
	if (tl->busy || tl->exited || tl->internal) {
		if (tl->busy && !tl->internal)
			atomic_fetch_add(&gr_tr.dropped, 1);
		return NULL;
	}
	gr_tthread *t = tl->t;
	uint32_t s = t ? atomic_load_explicit(&t->seq, memory_order_relaxed) : 0;
	if (s & 1) {
		atomic_fetch_add(&gr_tr.dropped, 1);
		return NULL;
	}
	uintptr_t own[GR_MAX_STACK];
	if (!t) {
		tl->busy = 1;
		t = thread_new();
		tl->busy = 0;
		if (!t)
			return NULL;
	}
	atomic_store_explicit(&t->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	if (!cpcs && t->session != atomic_load(&gr_tr.session)) {
		/* About to enter: the whole stack, whose root names the thread.
		** Taken before mu, which the capture never needs (a thread's
		** first capture may block in pthread_getattr_np). */
		cn = api_fp ? _gr_tr_capture_from(api_fp, own, GR_MAX_STACK) : 0;
		if (cn <= 0) {
			own[0] = (uintptr_t)__builtin_return_address(0);
			cn = 1;
		}
		cpcs = own;
	}
	pthread_mutex_lock(&gr_tr.mu);
	uint64_t gen = atomic_load_explicit(&gr_tr.gen, memory_order_relaxed);
	bool ok = gen != 0;
	bool fresh = false;
	if (ok && t->session != gr_tr.session) {
		if (atomic_load(&gr_tr.overflow) && !t->internal) {
			ok = false;
		} else {
			if (!cpcs) {   /* the session changed since the check above */
				own[0] = (uintptr_t)__builtin_return_address(0);
				cn = 1;
				cpcs = own;
			}
			ok = enter(t, gen, cpcs, cn, entry_pc);
			fresh = ok;
		}
	} else if (ok && t->cur_gen != gen) {
		ok = open_buf(t, gen);
		if (ok)
			put_statuses(t, gen);
	} else if (ok && t->cur->pos + GR_STATUS_ROOM > t->cur->end) {
		if (atomic_load(&gr_tr.overflow) && !t->internal) {
			ok = false;
		} else {
			gr_tbuf *old = t->cur;
			_gr_tr_buf_seal(old);
			_gr_tr_queue_buf(old);
			ok = open_buf(t, gen);
			if (!ok) {
				/* out of memory: the queued buffer must not be written again */
				atomic_store_explicit(&t->buf[gen & 1], NULL, memory_order_relaxed);
				t->cur = NULL;
				t->cur_gen = 0;
			}
		}
	}
	pthread_mutex_unlock(&gr_tr.mu);
	if (!ok) {
		atomic_fetch_add(&gr_tr.dropped, 1);
		gr_end(t);
		return NULL;
	}
	if (fresh && t->cpuprof)
		_gr_cpuprof_thread_register(t->m);
	*genp = gen;
	return t;
}

void _gr_trace_thread_set_internal(void)
{
	_gr_tl.internal = 1;
}

uint32_t _gr_trace_internal_swap(uint32_t internal)
{
	uint32_t old = _gr_tl.internal;
	_gr_tl.internal = internal;
	return old;
}

/* The calling thread's record, created if needed (NULL after its exit). */
gr_tthread *_gr_tr_thread_get(void)
{
	struct gr_tls *tl = &_gr_tl;
	if (tl->t || tl->exited)
		return tl->t;
	uint32_t busy = tl->busy;
	tl->busy = 1;
	gr_tthread *t = thread_new();
	tl->busy = busy;
	return t;
}

gr_tthread *_gr_tr_begin_slow(uint64_t *gen, void *api_fp)
{
	return begin_slow(gen, NULL, 0, 0, api_fp);
}

void _gr_tr_enter_internal(const uintptr_t *pcs, int n, uintptr_t entry_pc)
{
	if (atomic_load_explicit(&gr_tr.gen, memory_order_relaxed) == 0)
		return;
	gr_tthread *t = _gr_tl.t;
	if (t && t->session == gr_tr.session)
		return;
	uint64_t gen;
	uintptr_t one = entry_pc;
	if (n <= 0 || !pcs) {
		pcs = one ? &one : NULL;
		n = one ? 1 : 0;
	}
	t = begin_slow(&gen, pcs, n, entry_pc, NULL);
	if (t)
		gr_end(t);
}

void _gr_trace_thread_enter(const uintptr_t *creator_pcs, int n)
{
	_gr_tr_enter_internal(creator_pcs, n, 0);
}

void _gr_trace_thread_enter_fn(const uintptr_t *creator_pcs, int n, uintptr_t entry_pc)
{
	_gr_tr_enter_internal(creator_pcs, n, entry_pc);
}

void _gr_tr_enter_caller(void *api_fp)
{
	gr_tthread *t = _gr_tl.t;
	if (atomic_load_explicit(&gr_tr.gen, memory_order_relaxed) == 0 ||
	    (t && t->session == gr_tr.session))
		return;
	uint64_t gen;
	t = begin_slow(&gen, NULL, 0, 0, api_fp);
	if (t)
		gr_end(t);
}

void _gr_trace_enter_main(void)
{
	uintptr_t entry = (uintptr_t)dlsym(RTLD_DEFAULT, "main");
	if (entry == 0) {
		/* main not exported: the symbol table. Reading it makes system
		** calls that the preload wrappers would trace: internal meanwhile */
		uint32_t internal = _gr_trace_internal_swap(1);
		entry = _gr_stack_main_address();
		_gr_trace_internal_swap(internal);
	}
	if (entry == 0)
		entry = (uintptr_t)getauxval(AT_ENTRY);
	_gr_tr_enter_internal(NULL, 0, entry != 0 ? entry + 1 : 0);
}

struct spawn_arg {
	void *(*fn)(void *);
	sem_t started;
};

static void *spawn_main(void *p)
{
	struct spawn_arg *a = p;
	void *(*fn)(void *) = a->fn;
	sem_post(&a->started);   /* a is gone after this */
	return fn(NULL);
}

int _gr_tr_spawn(pthread_t *th, void *(*fn)(void *))
{
	struct spawn_arg a = { .fn = fn };
	if (sem_init(&a.started, 0, 0) != 0)
		return errno;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	uint32_t internal = _gr_trace_internal_swap(1);
	int r = pthread_create(th, NULL, spawn_main, &a);
	/* Wait until the thread runs its own code: its start-up in libc and a
	** sanitizer runtime (which allocates) is over before the caller can
	** fork (see _gr_tr_fork_prepare). */
	while (r == 0 && sem_wait(&a.started) != 0 && errno == EINTR)
		;
	_gr_trace_internal_swap(internal);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sem_destroy(&a.started);
	return r;
}

int _gr_trace_spawn(pthread_t *th, void *(*fn)(void *))
{
	return _gr_tr_spawn(th, fn);
}

/* Exit events of the calling thread, inside a section (room guaranteed). */
void _gr_tr_exit_events(gr_tthread *t, uint64_t gen)
{
	uint8_t *p;
	if (t->gstate == GR_GO_STATUS_WAITING) {
		uintptr_t pc = (uintptr_t)__builtin_return_address(0);
		p = ev(t, GR_EV_GO_UNBLOCK);
		p = gr_uv(p, t->g);
		p = gr_uv(p, ++t->gseq);
		p = gr_uv(p, _gr_tr_stack(gen, &pc, 1));
		gr_ev_done(t, p);
		p = ev(t, GR_EV_GO_START);
		p = gr_uv(p, t->g);
		p = gr_uv(p, ++t->gseq);
		gr_ev_done(t, p);
	} else if (t->gstate == GR_GO_STATUS_SYSCALL) {
		p = ev(t, GR_EV_GO_SYSCALL_END);
		gr_ev_done(t, p);
	}
	t->gstate = GR_GO_STATUS_RUNNING;
	p = ev(t, GR_EV_GO_DESTROY);
	gr_ev_done(t, p);
	p = ev(t, GR_EV_PROC_STOP);
	gr_ev_done(t, p);
	pthread_mutex_lock(&gr_tr.mu);
	gr_tbuf *b = t->cur;
	atomic_store_explicit(&t->buf[gen & 1], NULL, memory_order_relaxed);
	_gr_tr_buf_seal(b);
	_gr_tr_queue_buf(b);
	t->cur = NULL;
	t->cur_gen = 0;
	t->p->next = gr_tr.procs_free;
	gr_tr.procs_free = t->p;
	t->p = NULL;
	t->last_session = t->session;
	t->exit_gen = gen;
	t->session = 0;
	pthread_mutex_unlock(&gr_tr.mu);
}

static void thread_exit(void *arg)
{
	gr_tthread *t = arg;
	struct gr_tls *tl = &_gr_tl;
	if (t->session && t->session == atomic_load(&gr_tr.session)) {
		uint64_t gen;
		gr_tthread *u = gr_begin(&gen);
		if (u == t) {
			_gr_tr_exit_events(t, gen);
			gr_end(t);
		}
	}
	/* Exited before unregistering: the profiler's lock may be wrapped
	** (preload), and a wrapper re-entered from it must find the thread
	** gone (_gr_trace_thread_internal true, no new goroutine). */
	tl->t = NULL;
	tl->exited = 1;
	if (t->cpuprof)
		_gr_cpuprof_thread_unregister();
	t->cpuprof = false;
	pthread_mutex_lock(&gr_tr.mu);
	t->dead = true;
	pthread_mutex_unlock(&gr_tr.mu);
}

/* Heap hook: the arena's live bytes changed (chunk mapped or faulted). */
void _gr_tr_heap_hook(uint64_t live)
{
	uint64_t gen;
	gr_tthread *t = gr_begin(&gen);
	if (!t)
		return;
	uint8_t *p = ev(t, GR_EV_HEAP_ALLOC);
	p = gr_uv(p, live);
	gr_ev_done(t, p);
	gr_end(t);
}
