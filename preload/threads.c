/*
** preload/threads.c: thread creation, join and naming.
**
** pthread_create (tracing on): the creator captures its own stack, then
** creates the thread on a trampoline that first calls
** _gr_trace_thread_enter(creator_pcs, n) (the tracer's thread-start recipe:
** GoCreate with the creator's stack, GoStart; the _fn variant when the
** tracer has it, making the start routine the G's root frame), labels the
** goroutine with the start routine's name, and runs the start routine. The thread leaves the
** trace through the tracer's TLS destructor, whether it returns or calls
** pthread_exit. Tracing off: a tail call to the real pthread_create, no
** trampoline.
**
** The creator's stack starts at this wrapper (shown as "pthread_create"), as
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

struct gr_pl_start {
	void *(*fn)(void *);
	void *arg;
	int   n;
	uintptr_t pcs[GR_PL_CREATE_PCS];
};

/* The name go tool trace shows for a thread: its start routine's symbol. */
static const char *gr_pl_routine_name(void *(*fn)(void *))
{
	const char *func = NULL, *file = NULL;
	uint32_t line = 0;
	if (_gr_stack_symbolize != NULL &&
	    _gr_stack_symbolize((uintptr_t)fn, &func, &file, &line) == 0 && func != NULL)
		return func;
	Dl_info info;
	if (dladdr((void *)fn, &info) != 0 && info.dli_sname != NULL)
		return info.dli_sname;
	return NULL;
}

static void *gr_pl_thread_main(void *p)
{
	struct gr_pl_start s = *(struct gr_pl_start *)p;
	free(p);
	if (gr_pl_active()) {
		if (_gr_trace_thread_enter_fn != NULL)
			_gr_trace_thread_enter_fn(s.pcs, s.n, (uintptr_t)s.fn);
		else
			_gr_trace_thread_enter(s.pcs, s.n);
		const char *name = gr_pl_routine_name(s.fn);
		if (name != NULL)
			gort_trace_thread_name(name);
	}
	return s.fn(s.arg);
}

GR_PL_WRAPPER(int, pthread_create, (pthread_t *restrict t, const pthread_attr_t *restrict attr,
              void *(*fn)(void *), void *restrict arg), (t, attr, fn, arg))
{
	__typeof__(gr_pl_real_pthread_create) f_ = GR_PL_NEXT(pthread_create);
	if (GORT_LIKELY(!gr_pl_active()) || _gr_trace_thread_enter == NULL)
		return f_(t, attr, fn, arg);
	int e = errno;
	struct gr_pl_start *s = malloc(sizeof *s);
	if (s == NULL) {   /* untraced rather than failed */
		errno = e;
		return f_(t, attr, fn, arg);
	}
	s->fn = fn;
	s->arg = arg;
	s->n = 0;
	if (_gr_stack_capture != NULL) {
		s->n = _gr_stack_capture(s->pcs, GR_PL_CREATE_PCS, 0);
		if (s->n < 0)
			s->n = 0;
	} else {
		s->pcs[0] = (uintptr_t)__builtin_return_address(0);
		s->n = 1;
	}
	errno = e;
	int r = f_(t, attr, gr_pl_thread_main, s);
	if (r != 0)
		free(s);
	return r;
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
