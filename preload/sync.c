/*
** preload/sync.c: pthread mutexes, condition variables, rwlocks and POSIX
** semaphores as GoBlock ... GoUnblock + GoStart, only when they block.
**
** Locks: try first. An acquired lock (the uncontended case) records nothing,
** exactly as Go records nothing for an uncontended sync.Mutex. Only when the
** try reports "busy" does the wrapper record a block around the real call.
** The try's result is returned as is when it is anything but "busy" (a
** robust mutex's EOWNERDEAD means the lock was taken; EINVAL, EDEADLK, ...
** are the real function's answers too).
** Condition variables and semaphore waits always block, so they always
** record. Reasons contain "sync" so that go tool trace counts them in its
** synchronization profile (-pprof=sync): "sync.Mutex", "sync.RWMutex",
** "sync.Cond", "sync.Semaphore".
** pthread_cond_* exist in two symbol versions on glibc; ours resolve the
** GLIBC_2.3.2 ones that programs link against (see bootstrap.c).
** Owner: the preload helper.
*/
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "preload.h"

static const char gr_pl_mutex[] = "sync.Mutex";
static const char gr_pl_rwlock[] = "sync.RWMutex";
static const char gr_pl_cond[] = "sync.Cond";
static const char gr_pl_sem[] = "sync.Semaphore";
#define GR_PL_COND_VERSION "GLIBC_2.3.2"

/* Lock-like: try_name(obj) returning EBUSY means "would block". params
** name the lock `obj`; args pass params on. The try comes first: an
** uncontended lock costs the try and nothing else. */
#define GR_PL_TRY(name, try_name, obj_t, reason, params, args)            \
	GR_PL_WRAPPER(int, name, params, args)                             \
	{                                                                  \
		static int (*try_)(obj_t *);                               \
		__typeof__(gr_pl_real_##name) f_ = GR_PL_NEXT(name);       \
		int r_ = GR_PL_REAL(try_, #try_name)(obj);                 \
		if (GORT_LIKELY(r_ != EBUSY))                              \
			return r_;                                         \
		if (!gr_pl_active())                                       \
			return f_ args;                                    \
		gr_pl_block_begin(reason);                                 \
		r_ = f_ args;                                              \
		gr_pl_block_end();                                         \
		return r_;                                                 \
	}
#define GR_PL_TS const struct timespec *restrict ts

GR_PL_TRY(pthread_mutex_lock, pthread_mutex_trylock, pthread_mutex_t, gr_pl_mutex,
          (pthread_mutex_t *obj), (obj))
GR_PL_TRY(pthread_mutex_timedlock, pthread_mutex_trylock, pthread_mutex_t, gr_pl_mutex,
          (pthread_mutex_t *restrict obj, GR_PL_TS), (obj, ts))
GR_PL_TRY(pthread_mutex_clocklock, pthread_mutex_trylock, pthread_mutex_t, gr_pl_mutex,
          (pthread_mutex_t *restrict obj, clockid_t clk, GR_PL_TS), (obj, clk, ts))
GR_PL_TRY(pthread_rwlock_rdlock, pthread_rwlock_tryrdlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *obj), (obj))
GR_PL_TRY(pthread_rwlock_wrlock, pthread_rwlock_trywrlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *obj), (obj))
GR_PL_TRY(pthread_rwlock_timedrdlock, pthread_rwlock_tryrdlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *restrict obj, GR_PL_TS), (obj, ts))
GR_PL_TRY(pthread_rwlock_timedwrlock, pthread_rwlock_trywrlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *restrict obj, GR_PL_TS), (obj, ts))
GR_PL_TRY(pthread_rwlock_clockrdlock, pthread_rwlock_tryrdlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *restrict obj, clockid_t clk, GR_PL_TS), (obj, clk, ts))
GR_PL_TRY(pthread_rwlock_clockwrlock, pthread_rwlock_trywrlock, pthread_rwlock_t, gr_pl_rwlock,
          (pthread_rwlock_t *restrict obj, clockid_t clk, GR_PL_TS), (obj, clk, ts))

/* Always-blocking waits: name params args, bracketed as a block. Only the
** slow path fills the slot, and with the versioned symbol, so the fast path
** never calls the compat version. */
#define GR_PL_WAIT(ret, name, version, reason, params, args)            \
	GR_PL_WRAPPER(ret, name, params, args)                           \
	{                                                                \
		__typeof__(gr_pl_real_##name) f_ =                       \
			GR_PL_NEXT_V(name, version);                     \
		if (GORT_LIKELY(!gr_pl_active()))                        \
			return f_ args;                                  \
		gr_pl_block_begin(reason);                               \
		ret r_ = f_ args;                                        \
		gr_pl_block_end();                                       \
		return r_;                                               \
	}

GR_PL_WAIT(int, pthread_cond_wait, GR_PL_COND_VERSION, gr_pl_cond,
           (pthread_cond_t *restrict c, pthread_mutex_t *restrict m), (c, m))
GR_PL_WAIT(int, pthread_cond_timedwait, GR_PL_COND_VERSION, gr_pl_cond,
           (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, GR_PL_TS), (c, m, ts))
/* glibc 2.30+, what libstdc++'s condition_variable::wait_for/until call. */
GR_PL_WAIT(int, pthread_cond_clockwait, NULL, gr_pl_cond,
           (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t clk, GR_PL_TS),
           (c, m, clk, ts))

/* Semaphores: sem_trywait first (EAGAIN means "would block"); the caller's
** errno is restored after a failed try so a successful wait leaves it
** untouched. */
#define GR_PL_SEM(name, params, args)                                    \
	GR_PL_WRAPPER(int, name, params, args)                           \
	{                                                                \
		static int (*try_)(sem_t *);                             \
		__typeof__(gr_pl_real_##name) f_ = GR_PL_NEXT(name);     \
		if (GORT_LIKELY(!gr_pl_active()))                        \
			return f_ args;                                  \
		int e_ = errno;                                          \
		if (GR_PL_REAL(try_, "sem_trywait")(sem) == 0)           \
			return 0;                                        \
		if (errno != EAGAIN)                                     \
			return -1;                                       \
		errno = e_;                                              \
		gr_pl_block_begin(gr_pl_sem);                            \
		int r_ = f_ args;                                        \
		gr_pl_block_end();                                       \
		return r_;                                               \
	}

GR_PL_SEM(sem_wait, (sem_t *sem), (sem))
GR_PL_SEM(sem_timedwait, (sem_t *restrict sem, GR_PL_TS), (sem, ts))
GR_PL_SEM(sem_clockwait, (sem_t *restrict sem, clockid_t clk, GR_PL_TS), (sem, clk, ts))
