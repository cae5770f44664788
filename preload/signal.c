/*
** preload/signal.c: a program that takes SIGPROF for itself gets it.
**
** The CPU profiler (src/stack/cpuprof.c) delivers SIGPROF from per-thread
** CPU-time timers and chains to a handler installed *before* it started. A
** program that installs its own SIGPROF disposition *after* start (GNU sort
** does, to clean up temporary files on any fatal signal) would replace the
** profiler's handler while the timers keep firing: its handler, or the
** default action, would then receive our samples and the program would die
** of them. So when the program (not gort itself) sets a SIGPROF disposition
** while tracing, CPU sampling stops first (once, with a warning on stderr):
** the program then behaves exactly as without gort, and the trace simply has
** no more CPU samples. Queries (act == NULL) change nothing.
** glibc's signal() and sigset() do not go through sigaction's PLT slot, so
** they are wrapped too.
** Owner: the preload helper.
*/
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>

#include "internal/cpuprof.h"
#include "internal/env.h"
#include "internal/panic.h"
#include "preload.h"

/* Is the code at pc in this library (i.e. gort's own sigaction call)? */
static bool gr_pl_own_pc(const void *pc)
{
	Dl_info self, other;
	return dladdr((void *)gr_pl_own_pc, &self) != 0 &&
	       dladdr(pc, &other) != 0 && self.dli_fbase == other.dli_fbase;
}

/* Called before the program sets SIGPROF (caller = its return address). */
static void gr_pl_sigprof_taken(const void *caller)
{
	static atomic_bool warned;
	if (!gr_pl_active() || gr_pl_own_pc(caller))
		return;
	int e = errno;
	_gr_cpuprof_stop();
	if (_gr_env_int("GORT_TRACE_CPU_HZ", 100) != 0 && !atomic_exchange(&warned, true))
		_gr_warn("preload: the program installs its own SIGPROF handler; "
		         "CPU samples stop here");
	errno = e;
}

GR_PL_WRAPPER(int, sigaction, (int sig, const struct sigaction *restrict act,
              struct sigaction *restrict old), (sig, act, old))
{
	if (sig == SIGPROF && act != NULL)
		gr_pl_sigprof_taken(__builtin_return_address(0));
	return GR_PL_NEXT(sigaction)(sig, act, old);
}

GR_PL_WRAPPER(__sighandler_t, signal, (int sig, __sighandler_t h), (sig, h))
{
	if (sig == SIGPROF)
		gr_pl_sigprof_taken(__builtin_return_address(0));
	return GR_PL_NEXT(signal)(sig, h);
}

GR_PL_WRAPPER(__sighandler_t, sigset, (int sig, __sighandler_t h), (sig, h))
{
	if (sig == SIGPROF)
		gr_pl_sigprof_taken(__builtin_return_address(0));
	return GR_PL_NEXT(sigset)(sig, h);
}
