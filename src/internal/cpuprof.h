/*
** src/internal/cpuprof.h: CPU profiler (src/stack/cpuprof.c).
**
** Each registered thread gets a POSIX timer on its own CPU-time clock
** (timer_create on the thread's CPU clock with SIGEV_THREAD_ID targeting
** it, as Go does since 1.18), firing SIGPROF every 1/hz of CPU time the
** thread consumes. The SIGPROF handler stores (now(), m_id, raw PCs) into the
** thread's lock-free single-producer/single-consumer ring and does nothing
** else; when the ring is full the sample is dropped and counted. Samples are
** taken out with _gr_cpuprof_drain.
**
** Coexistence with a user's SIGPROF: every SIGPROF that is not one of our
** timer signals (si_code == SI_TIMER and si_value == the receiving thread's
** own record) goes to the program's own disposition: the one installed
** before start, or one set later through _gr_cpuprof_user_sigaction (the
** preload library routes the program's sigaction/signal/sigset there), with
** SIG_DFL ending the process as it would without gort. At stop the program's
** disposition becomes the real one again (if ours is still installed). A
** program linked with gort that calls sigaction(SIGPROF) itself while the
** profiler runs replaces our handler: samples then stop (docs/stacks.md).
**
** Thread-safety: start/stop/register/unregister/drain take one mutex and may
** be called from any thread (register/unregister concern the calling thread);
** the handler takes none. Owner: stack helper. Caller: tracer.
*/
#ifndef GORT_INTERNAL_CPUPROF_H
#define GORT_INTERNAL_CPUPROF_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Start sampling every registered thread (present and future) at hz samples
** per CPU-second, timestamping with now (must be async-signal-safe).
** Returns 0, -EINVAL (hz <= 0 or > 10000, now NULL), -EBUSY (already
** running), or -errno from sigaction/timer_create. */
int _gr_cpuprof_start(int hz, uint64_t (*now)(void));

/* Stop: delete every timer, wait for handlers in flight, restore the previous
** SIGPROF disposition. Samples still in rings stay drainable. No-op if not
** running. */
void _gr_cpuprof_stop(void);

/* The calling thread joins (idempotent; a second call updates m_id). Its stack
** bounds are cached for signal-safe capture. If the profiler runs, its timer
** starts now. A thread that exits registered is unregistered automatically. */
void _gr_cpuprof_thread_register(uint64_t m_id);

/* The calling thread leaves: its timer is deleted; samples already in its
** ring stay drainable and the ring is freed by the next drain after that. */
void _gr_cpuprof_thread_unregister(void);

/* Hand every buffered sample to emit (oldest first per thread), on the calling
** thread. pcs is valid during the call only. Returns the number emitted. */
size_t _gr_cpuprof_drain(void (*emit)(void *ctx, uint64_t ts, uint64_t m_id,
                                      const uintptr_t *pcs, int n), void *ctx);

/* sigaction(SIGPROF, act, old) on behalf of the program while our handler
** is installed: act (if not NULL) becomes the program's disposition, to
** which every SIGPROF that is not a sample is delivered (SA_SIGINFO or not,
** SIG_IGN, SIG_DFL = the process ends, SA_RESETHAND honoured; the handler
** runs with every signal blocked); *old (if not NULL) gets the previous one.
** Returns true if done so; false if our handler is not installed (the caller
** then makes the real call). Async-signal-safe and lock-free: a program may
** call it from a signal handler. */
bool _gr_cpuprof_user_sigaction(const struct sigaction *act, struct sigaction *old);

/* Samples dropped because a ring was full (process lifetime, monotonic). */
uint64_t _gr_cpuprof_dropped(void);

/* Testing: ring capacity in 8-byte words for threads registered from now on
** (0 = automatic). Returns the previous value. */
size_t _gr_cpuprof_set_ring_words(size_t words);

#endif
