/*
** preload/bootstrap.c: resolving the real functions behind the wrappers.
**
** Every wrapper finds "the next" definition of its symbol with
** dlsym(RTLD_NEXT, name) on its first call, not in a constructor: another
** library's constructor may call pthread_create or read before ours ran, and
** a lazily resolved wrapper works whenever it is first called.
**
** Why this cannot deadlock or recurse: glibc's dlsym takes the loader's own
** recursive lock (not through pthread_mutex_lock's PLT entry) and allocates
** its error string with malloc/calloc, which we deliberately do not
** interpose. A thread-local depth counter still guards the invariant: if a
** wrapper were ever reached from inside dlsym before its real function is
** known, we abort with a message naming the symbol instead of recursing.
**
** Versioned symbols: the condition-variable functions exist in two versions
** on x86_64 glibc (the 2.2.5 compat ABI and the 2.3.2 one programs link to);
** plain dlsym would return the old one, so their wrappers ask for the
** version explicitly with dlvsym.
**
** _gr_preload_on is the switch every wrapper tests first: set by our
** constructor when GORT_TRACE or GORT_FLIGHT is set, so that a preloaded
** program that asked for no trace pays one load and a branch per call.
**
** The tracer itself starts from its own GORT_TRACE constructor (libgort's
** objects are part of this library) and stops from its exit hook; this file
** only makes sure the start-up order does not matter.
** Owner: the preload helper.
*/
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>

#include "internal/panic.h"
#include "preload.h"

bool _gr_preload_on;
__thread int _gr_preload_depth __attribute__((tls_model("initial-exec")));

/* Runs early (priority 101) but need not run first: wrappers reached before
** it simply do not trace. Reads the environment the tracer reads. */
__attribute__((constructor(101))) static void gr_pl_init(void)
{
	const char *t = getenv("GORT_TRACE"), *f = getenv("GORT_FLIGHT");
	_gr_preload_on = (t != NULL && *t != '\0') || (f != NULL && *f != '\0');
}

/* After the tracer's GORT_TRACE constructor (this object is linked after
** libgort's, and .init_array runs in link order): the main thread is in the
** trace from the start (the tracer's constructor entered it; a trace started
** otherwise, e.g. by GORT_FLIGHT, is entered here the same way, with main or
** the entry point as its root frame), and is labelled. */
__attribute__((constructor)) static void gr_pl_enter_main(void)
{
	if (!gr_pl_active())
		return;
	int e = errno;
	_gr_trace_enter_main();
	gort_trace_thread_name("main");
	errno = e;
}

static __thread int gr_pl_resolving
	__attribute__((tls_model("initial-exec")));

void *_gr_preload_sym(const char *name, const char *version)
{
	if (gr_pl_resolving > 0)
		_gr_panic("libgort-preload: %s called while resolving a symbol "
		          "(dlsym re-entered an interposed function)", name);
	gr_pl_resolving++;
	void *p = NULL;
	if (version != NULL)
		p = dlvsym(RTLD_NEXT, name, version);
	if (p == NULL)
		p = dlsym(RTLD_NEXT, name);
	gr_pl_resolving--;
	if (p == NULL)
		_gr_panic("libgort-preload: cannot find the real %s: %s", name,
		          dlerror());
	return p;
}
