/*
** preload/signal.c: a program that uses SIGPROF for itself shares it with
** the CPU profiler.
**
** The CPU profiler (src/stack/cpuprof.c) takes SIGPROF from per-thread
** CPU-time timers. A program that installs its own SIGPROF disposition after
** the trace started (GNU sort does, to clean up temporary files on any fatal
** signal) would replace the profiler's handler while the timers keep firing,
** and die of the first sample. So while the profiler's handler is installed,
** the program's sigaction/signal/sigset on SIGPROF (set or query) is kept
** aside by the profiler: its handler receives every SIGPROF that is not a
** sample (setitimer, kill, its own timers), SIG_DFL still ends the process
** on such a signal, queries return what the program set, and at the end of
** the trace the program's disposition becomes the real one. Sampling goes
** on. Only sigset(SIGPROF, SIG_HOLD), which would block the samples too,
** stops sampling first (once, with a warning).
** glibc's signal() and sigset() do not go through sigaction's PLT slot, so
** they are wrapped too.
** Owner: the preload helper.
*/
#include <dlfcn.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

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

/* SIG_HOLD (sigset) cannot be kept aside: it changes the thread's signal
** mask, which would hold our samples too. Called before such a call (caller
** = its return address): CPU sampling stops first, once with a warning. */
static void gr_pl_sigprof_held(const void *caller)
{
	static atomic_bool warned;
	if (!gr_pl_active() || gr_pl_own_pc(caller))
		return;
	int e = errno;
	_gr_cpuprof_stop();
	if (_gr_env_int("GORT_TRACE_CPU_HZ", 100) != 0 && !atomic_exchange(&warned, true))
		_gr_warn("preload: the program holds SIGPROF (sigset SIG_HOLD); "
		         "CPU samples stop here");
	errno = e;
}

/* The program's own sigaction(SIGPROF, act, old), kept aside while the CPU
** profiler's handler is installed: true if done (see _gr_cpuprof_user_sigaction). */
static bool gr_pl_sigprof_user(const void *caller, const struct sigaction *act, struct sigaction *old)
{
	if (gr_pl_own_pc(caller))
		return false;
	int e = errno;
	bool done = _gr_cpuprof_user_sigaction(act, old);
	errno = e;
	return done;
}

/* signal()/sigset() with handler h as the program would get it: BSD
** semantics (SA_RESTART, the signal blocked while h runs); returns the
** previous handler, or SIG_ERR if the disposition was not kept aside. */
static __sighandler_t gr_pl_sigprof_handler(const void *caller, __sighandler_t h)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, SIGPROF);
	if (!gr_pl_sigprof_user(caller, &act, &old))
		return SIG_ERR;
	/* sa_handler and sa_sigaction share storage: glibc's signal() returns
	** this for an SA_SIGINFO handler too */
	return old.sa_handler;
}

GR_PL_WRAPPER_CALLER(int, sigaction, (int sig, const struct sigaction *restrict act,
              struct sigaction *restrict old), (sig, act, old))
{
	if (sig == SIGPROF && gr_pl_sigprof_user(gr_pl_caller, act, old))
		return 0;
	return GR_PL_NEXT(sigaction)(sig, act, old);
}

GR_PL_WRAPPER_CALLER(__sighandler_t, signal, (int sig, __sighandler_t h), (sig, h))
{
	if (sig == SIGPROF && h != SIG_ERR) {
		__sighandler_t prev = gr_pl_sigprof_handler(gr_pl_caller, h);
		if (prev != SIG_ERR)
			return prev;
	}
	return GR_PL_NEXT(signal)(sig, h);
}

GR_PL_WRAPPER_CALLER(__sighandler_t, sigset, (int sig, __sighandler_t h), (sig, h))
{
	if (sig == SIGPROF && h == SIG_HOLD) {
		gr_pl_sigprof_held(gr_pl_caller);
	} else if (sig == SIGPROF && h != SIG_ERR) {
		__sighandler_t prev = gr_pl_sigprof_handler(gr_pl_caller, h);
		if (prev != SIG_ERR) {
			sigset_t m;
			sigemptyset(&m);
			sigaddset(&m, SIGPROF);
			pthread_sigmask(SIG_UNBLOCK, &m, NULL);   /* sigset also releases a hold */
			return prev;
		}
	}
	return GR_PL_NEXT(sigset)(sig, h);
}
