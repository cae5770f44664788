/*
** preload/threads.c: thread creation, join and naming.
**
** pthread_create (tracing on): the creator captures its own stack, then
** creates the thread on a trampoline that first calls
** _gr_trace_thread_enter_fn(creator_pcs, n, start routine) (the tracer's
** thread-start recipe: GoCreate with the creator's stack and the start
** routine as the G's root frame, GoStart; go tool trace names the goroutine
** after that frame; passed as entry + 1 because the tracer, like every gort
** stack, symbolizes pc - 1), and runs the start routine. It does not symbolize
** anything itself: that would run file I/O on the new thread, traced as
** the thread's first syscalls. The thread leaves the trace through the
** tracer's TLS destructor, whether it returns or calls pthread_exit; from
** the moment the start routine returns (or pthread_exit is called) the
** wrappers stop tracing on that thread, so that locks taken by cleanup
** handlers and TLS destructors (the CPU profiler's, in the tracer's exit
** hook) cannot bring an exited thread back into the trace. Tracing off: a tail call to the real pthread_create, no
** trampoline.
**
** Threads whose start routine lies in this library are gort's own (the
** tracer's writer and generation threads): they are created untouched.
** The creator's stack starts at this wrapper (shown as "pthread_create.gort"), as
** Go's GoCreate stack starts at the go statement.
** pthread_join blocks with reason "sync.Join" only when the target is still
** running (pthread_tryjoin_np first). pthread_setname_np on the calling
** thread also relabels its goroutine.
** Owner: the preload helper.
*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>

#include "preload.h"

enum { GR_PL_CREATE_PCS = 32 };   /* creator frames handed to the new thread */

static void *gr_pl_thread_main(void *p);
static void *(*const gr_pl_thread_main_addr)(void *) = gr_pl_thread_main;

struct gr_pl_start {
	void *(*fn)(void *);
	void *arg;
	int   n;
	uintptr_t pcs[GR_PL_CREATE_PCS];
};

/* True when fn lies in this library: the tracer's own threads (writer,
** generation switcher) are created through this wrapper too, and must never
** enter the trace, whatever the creating thread's state. */
static bool gr_pl_is_own_code(void *(*fn)(void *))
{
	Dl_info self, other;
	return dladdr((void *)gr_pl_thread_main_addr, &self) != 0 &&
	       dladdr((void *)fn, &other) != 0 && self.dli_fbase == other.dli_fbase;
}

/* The thread is leaving: what runs from here on (cancellation cleanups, TLS
** destructors, the tracer's own exit hook with its locks) is not the
** program's work and must not re-enter the trace after GoDestroy. */
static void gr_pl_exiting(void)
{
	_gr_preload_depth++;
}

static void *gr_pl_thread_main(void *p)
{
	struct gr_pl_start s = *(struct gr_pl_start *)p;
	free(p);
	if (gr_pl_active())
		_gr_trace_thread_enter_fn(s.pcs, s.n, (uintptr_t)s.fn + 1);
	void *r = s.fn(s.arg);
	gr_pl_exiting();
	return r;
}

GR_PL_WRAPPER(int, pthread_create, (pthread_t *restrict t, const pthread_attr_t *restrict attr,
              void *(*fn)(void *), void *restrict arg), (t, attr, fn, arg))
{
	__typeof__(gr_pl_real_pthread_create) f_ = GR_PL_NEXT(pthread_create);
	if (GORT_LIKELY(!gr_pl_active()) || gr_pl_is_own_code(fn))
		return f_(t, attr, fn, arg);
	int e = errno;
	struct gr_pl_start *s = malloc(sizeof *s);
	if (s == NULL) {   /* untraced rather than failed */
		errno = e;
		return f_(t, attr, fn, arg);
	}
	s->fn = fn;
	s->arg = arg;
	s->n = _gr_stack_capture(s->pcs, GR_PL_CREATE_PCS, 0);
	errno = e;
	int r = f_(t, attr, gr_pl_thread_main, s);
	if (r != 0)
		free(s);
	return r;
}

void pthread_exit(void *ret);
GR_PL_EXPORT __attribute__((noreturn)) void pthread_exit(void *ret)
{
	static void (*real_)(void *);
	void (*f_)(void *) = GR_PL_REAL(real_, "pthread_exit");
	gr_pl_exiting();
	f_(ret);
	__builtin_unreachable();
}

GR_PL_WRAPPER(int, pthread_join, (pthread_t t, void **ret), (t, ret))
{
	static int (*try_)(pthread_t, void **);
	int (*f_)(pthread_t, void **) = GR_PL_NEXT(pthread_join);
	if (GORT_LIKELY(!gr_pl_active()))
		return f_(t, ret);
	int r = GR_PL_REAL(try_, "pthread_tryjoin_np")(t, ret);
	if (r != EBUSY)
		return r;
	gr_pl_block_begin("sync.Join");
	r = f_(t, ret);
	gr_pl_block_end();
	return r;
}

GR_PL_WRAPPER(int, pthread_setname_np, (pthread_t t, const char *name), (t, name))
{
	int r = GR_PL_NEXT(pthread_setname_np)(t, name);
	if (r == 0 && gr_pl_active() && pthread_equal(t, pthread_self())) {
		int e = errno;
		gort_trace_thread_name(name);
		errno = e;
	}
	return r;
}
