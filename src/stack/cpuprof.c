/*
** src/stack/cpuprof.c: the CPU profiler (see src/internal/cpuprof.h and
** docs/stacks.md).
**
** One record (struct prof_thread) per registered thread: its kernel tid and
** CPU clock, its POSIX timer (SIGEV_THREAD_ID -> SIGPROF to that thread,
** sival_ptr = the record), and a ring of 8-byte words. A sample is
** [header = MAGIC | n][ts][m_id][pc 0..n-1], written word by word modulo the
** ring size (no wrap-around special case).
**
** Invariants:
**  - The ring is single-producer (the SIGPROF handler on the owning thread,
**    which cannot nest with itself: SIGPROF is blocked while it runs) and
**    single-consumer (drain, under drain_lock; emit never runs under
**    prof_lock). The producer publishes head
**    with release order after writing a whole sample; the consumer publishes
**    tail with release order after copying one out. A sample that does not
**    fit is dropped and counted in `dropped`, so the ring never holds a
**    partial sample.
**  - The handler identifies our timer signals by si_code == SI_TIMER and
**    si_value == the receiving thread's own record (tls_self); it touches only
**    that record, reachable from TLS, never the thread list, and takes no
**    lock. Everything else goes to the program's own disposition (below).
**  - While our handler is installed, the program's SIGPROF disposition is
**    kept aside ("user disposition"): what was installed before start, then
**    whatever the program sets through _gr_cpuprof_user_sigaction (the
**    preload library routes the program's sigaction/signal/sigset there).
**    It lives in a small ring of slots published by a sequence number
**    (user_seq), written without a lock because the program may set it from
**    a signal handler; a handler in flight copies its slot, and a slot is
**    written again only USER_SLOTS changes later.
**  - prof_lock guards the thread list, timers and start/stop;
**    drain_lock serializes drains (lock order: drain_lock, then prof_lock).
**  - A record is unlinked and freed only when it is retired (unregistered:
**    its timer deleted, which also discards a pending timer signal) and
**    drained. Unregister runs on the owning thread with SIGPROF blocked, so
**    no handler of that thread can be using the record when it is retired.
**  - stop deletes every timer, then waits until no handler is in flight
**    (in_flight) before restoring the old disposition.
** Owner: stack helper.
*/
#include "internal/cpuprof.h"
#include "internal/env.h"
#include "internal/panic.h"
#include "internal/stack.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))
#define SAMPLE_MAGIC (UINT64_C(0x6770726f66) << 16)   /* "gprof" */
#define SAMPLE_WORDS(n) (3u + (unsigned)(n))

typedef struct prof_thread {
	_Atomic uint64_t head;        /* words written (producer) */
	_Atomic uint64_t tail;        /* words consumed (consumer) */
	uint64_t *ring;
	uint64_t mask;                /* ring words - 1 */
	_Atomic uint64_t m_id;
	pid_t tid;
	clockid_t clock;
	timer_t timer;
	_Atomic bool has_timer;
	bool retired;
	struct prof_thread *next;
} prof_thread;

static pthread_mutex_t prof_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;   /* one drain at a time */
static prof_thread *threads;                 /* live and retired records */
static TLS prof_thread *tls_self;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

static _Atomic int running;
static int prof_hz;
static int prof_depth;
static uint64_t (*_Atomic prof_now)(void);
#define USER_SLOTS 8
static struct sigaction user_sa[USER_SLOTS];  /* slot 0: SIG_DFL */
static _Atomic uint64_t user_seq;             /* current slot = user_seq % USER_SLOTS */
static _Atomic uint64_t user_next;            /* last sequence number handed out */
static _Atomic bool user_virtual;             /* our handler installed: the program's
                                                 dispositions go to user_sa */
static bool handler_installed;
static _Atomic int in_flight;
static _Atomic uint64_t dropped;
static size_t ring_words_override;

/* ---- the signal handler --------------------------------------------------- */

/* Make *sa the user disposition (async-signal-safe, no lock). */
static void user_publish(const struct sigaction *sa)
{
	uint64_t k = atomic_fetch_add(&user_next, 1) + 1;
	user_sa[k % USER_SLOTS] = *sa;
	uint64_t cur = atomic_load(&user_seq);
	while (cur < k && !atomic_compare_exchange_weak(&user_seq, &cur, k))
		;
}

static struct sigaction user_current(void)
{
	return user_sa[atomic_load(&user_seq) % USER_SLOTS];
}

/* SIGPROF's default action (the process ends) as it would happen without
** gort: the real disposition becomes SIG_DFL through the raw system call
** (no wrapper, no lock), and the signal, raised again, stays pending while
** this handler runs with it blocked, then ends the process. */
static void default_action(int sig)
{
	struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } k;
	memset(&k, 0, sizeof k);    /* SIG_DFL, no flags, empty mask */
	syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask);
	syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), sig);
}

/* A SIGPROF that is not one of our samples goes to the program's own
** disposition, as if ours were not installed (it runs with every signal
** blocked, ours being the installed mask). A stray timer signal (SI_TIMER:
** e.g. one of ours that raced a thread's exit) is dropped under SIG_DFL
** instead of killing the process. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction sa = user_current();
	if (sa.sa_flags & SA_RESETHAND) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		user_publish(&dfl);
	}
	if (sa.sa_flags & SA_SIGINFO) {
		if (sa.sa_sigaction)
			sa.sa_sigaction(sig, si, uc);
	} else if (sa.sa_handler == SIG_DFL) {
		if (!si || si->si_code != SI_TIMER)
			default_action(sig);
	} else if (sa.sa_handler != SIG_IGN) {
		sa.sa_handler(sig);
	}
}

/* CPU samples keep at most this many frames (Go: 64), so that the handler's
** frame stays small (it runs on whatever stack the thread is on). */
#define SAMPLE_MAX_DEPTH 64

static void record_sample(prof_thread *t, void *uc)
{
	uintptr_t pcs[SAMPLE_MAX_DEPTH];
	uint64_t (*now)(void) = atomic_load_explicit(&prof_now, memory_order_relaxed);
	uint64_t ts = now ? now() : 0;
	int n = prof_depth > 0 ? _gr_stack_capture_ucontext(uc, pcs, prof_depth) : 0;
	uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&t->tail, memory_order_acquire);
	uint64_t need = SAMPLE_WORDS(n);
	if (head - tail + need > t->mask + 1) {
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		return;
	}
	uint64_t *r = t->ring, m = t->mask;
	r[head & m] = SAMPLE_MAGIC | (uint64_t)n;
	r[(head + 1) & m] = ts;
	r[(head + 2) & m] = atomic_load_explicit(&t->m_id, memory_order_relaxed);
	for (int i = 0; i < n; i++)
		r[(head + 3 + (uint64_t)i) & m] = pcs[i];
	atomic_store_explicit(&t->head, head + need, memory_order_release);
}

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	atomic_fetch_add_explicit(&in_flight, 1, memory_order_acq_rel);
	prof_thread *t = tls_self;
	if (si && si->si_code == SI_TIMER && t && si->si_value.sival_ptr == (void *)t) {
		if (atomic_load_explicit(&running, memory_order_relaxed) &&
		    atomic_load_explicit(&t->has_timer, memory_order_relaxed))
			record_sample(t, uc);
	} else {
		chain(sig, si, uc);
	}
	atomic_fetch_sub_explicit(&in_flight, 1, memory_order_acq_rel);
	errno = saved_errno;
}

/* ---- timers (prof_lock held) --------------------------------------------- */

static void timer_arm(prof_thread *t)
{
	if (atomic_load(&t->has_timer) || t->retired || prof_hz <= 0)
		return;
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGPROF;
	sev.sigev_value.sival_ptr = t;
	sev._sigev_un._tid = t->tid;
	if (timer_create(t->clock, &sev, &t->timer) != 0)
		return;   /* the thread is gone or out of timers: it just is not sampled */
	long period = 1000000000L / prof_hz;
	/* First expiry spread over one period (as Go does), so that threads
	** started together are not sampled in lockstep. */
	long first = 1 + (long)(((uint64_t)t->tid * 2654435761u) % (uint64_t)period);
	struct itimerspec its = {
		.it_interval = { period / 1000000000L, period % 1000000000L },
		.it_value = { first / 1000000000L, first % 1000000000L },
	};
	atomic_store(&t->has_timer, true);
	if (timer_settime(t->timer, 0, &its, NULL) != 0) {
		atomic_store(&t->has_timer, false);
		timer_delete(t->timer);
	}
}

static void timer_disarm(prof_thread *t)
{
	if (!atomic_load(&t->has_timer))
		return;
	atomic_store(&t->has_timer, false);
	timer_delete(t->timer);   /* also discards its pending signal */
}

/* ---- registration ---------------------------------------------------------- */

static size_t ring_words_for(int hz, int depth)
{
	if (ring_words_override)
		return ring_words_override;
	/* two seconds of samples at full depth, in [4096, 65536] words */
	uint64_t want = (uint64_t)(hz > 0 ? hz : 100) * 2 * SAMPLE_WORDS(depth);
	size_t w = 4096;
	while (w < want && w < 65536)
		w *= 2;
	return w;
}

static int env_depth(void)
{
	int64_t d = _gr_env_int("GORT_TRACE_STACK_DEPTH", 32);
	return d > GR_STACK_MAX_DEPTH ? GR_STACK_MAX_DEPTH : (int)d;
}

static void unregister_locked(prof_thread *t)
{
	timer_disarm(t);
	t->retired = true;
}

static void on_thread_exit(void *p)
{
	prof_thread *t = p;
	if (t && tls_self == t)
		_gr_cpuprof_thread_unregister();
}

static void make_exit_key(void)
{
	if (pthread_key_create(&exit_key, on_thread_exit) != 0)
		_gr_warn("cpuprof: no pthread key: threads must unregister before exiting");
}

void _gr_cpuprof_thread_register(uint64_t m_id)
{
	if (tls_self) {
		atomic_store(&tls_self->m_id, m_id);
		return;
	}
	_gr_stack_thread_init();
	pthread_once(&exit_key_once, make_exit_key);
	prof_thread *t = calloc(1, sizeof *t);
	if (!t)
		return;
	pthread_mutex_lock(&prof_lock);
	size_t words = ring_words_for(atomic_load(&running) ? prof_hz
	                              : (int)_gr_env_int("GORT_TRACE_CPU_HZ", 100), env_depth());
	pthread_mutex_unlock(&prof_lock);
	t->ring = calloc(words, sizeof *t->ring);
	if (!t->ring || pthread_getcpuclockid(pthread_self(), &t->clock) != 0) {
		free(t->ring);
		free(t);
		return;
	}
	t->mask = words - 1;
	atomic_store(&t->m_id, m_id);
	t->tid = (pid_t)syscall(SYS_gettid);
	tls_self = t;            /* before the timer can fire */
	pthread_setspecific(exit_key, t);
	pthread_mutex_lock(&prof_lock);
	t->next = threads;
	threads = t;
	if (atomic_load(&running))
		timer_arm(t);
	pthread_mutex_unlock(&prof_lock);
}

void _gr_cpuprof_thread_unregister(void)
{
	prof_thread *t = tls_self;
	if (!t)
		return;
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pthread_mutex_lock(&prof_lock);
	unregister_locked(t);
	pthread_mutex_unlock(&prof_lock);
	tls_self = NULL;
	pthread_setspecific(exit_key, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- start / stop ------------------------------------------------------------ */

int _gr_cpuprof_start(int hz, uint64_t (*now)(void))
{
	if (hz <= 0 || hz > 10000 || !now)
		return -EINVAL;
	pthread_mutex_lock(&prof_lock);
	if (atomic_load(&running)) {
		pthread_mutex_unlock(&prof_lock);
		return -EBUSY;
	}
	prof_hz = hz;
	prof_depth = env_depth() < SAMPLE_MAX_DEPTH ? env_depth() : SAMPLE_MAX_DEPTH;
	atomic_store(&prof_now, now);
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigprof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);    /* nothing nests in the sample copy */
	if (sigaction(SIGPROF, NULL, &cur) != 0) {
		int e = errno;
		pthread_mutex_unlock(&prof_lock);
		return -e;
	}
	if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigprof)) {
		user_publish(&cur);   /* not ours already (a stop could not restore) */
		if (sigaction(SIGPROF, &sa, NULL) != 0) {
			int e = errno;
			pthread_mutex_unlock(&prof_lock);
			return -e;
		}
	}
	handler_installed = true;
	atomic_store(&user_virtual, true);
	atomic_store(&running, 1);
	for (prof_thread *t = threads; t; t = t->next)
		timer_arm(t);
	pthread_mutex_unlock(&prof_lock);
	return 0;
}

void _gr_cpuprof_stop(void)
{
	pthread_mutex_lock(&prof_lock);
	if (!atomic_load(&running)) {
		pthread_mutex_unlock(&prof_lock);
		return;
	}
	atomic_store(&running, 0);
	for (prof_thread *t = threads; t; t = t->next)
		timer_disarm(t);
	while (atomic_load(&in_flight) != 0)
		sched_yield();
	struct sigaction cur;
	atomic_store(&user_virtual, false);
	if (handler_installed && sigaction(SIGPROF, NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_sigprof) {
		struct sigaction user = user_current();
		sigaction(SIGPROF, &user, NULL);
		handler_installed = false;
	}
	pthread_mutex_unlock(&prof_lock);
}

bool _gr_cpuprof_user_sigaction(const struct sigaction *act, struct sigaction *old)
{
	if (!atomic_load(&user_virtual))
		return false;
	struct sigaction prev = user_current();
	if (act)
		user_publish(act);
	if (old)
		*old = prev;
	/* the profiler stopped meanwhile and may have restored the previous
	** disposition: this one is the latest, so it is the real one now */
	if (act && !atomic_load(&user_virtual))
		sigaction(SIGPROF, act, NULL);
	return true;
}

/* ---- drain --------------------------------------------------------------------- */

size_t _gr_cpuprof_drain(void (*emit)(void *ctx, uint64_t ts, uint64_t m_id,
                                      const uintptr_t *pcs, int n), void *ctx)
{
	uintptr_t pcs[GR_STACK_MAX_DEPTH];
	size_t count = 0;
	/* emit calls back into the tracer, which holds its own lock while it
	** starts the profiler (prof_lock): so no emit runs under prof_lock.
	** drain_lock keeps one consumer per ring; records are unlinked and
	** freed only here, so the list from `first` on stays valid unlocked
	** (register only pushes in front of it). */
	pthread_mutex_lock(&drain_lock);
	pthread_mutex_lock(&prof_lock);
	prof_thread *first = threads;
	pthread_mutex_unlock(&prof_lock);
	for (prof_thread *t = first; t; t = t->next) {
		uint64_t head = atomic_load_explicit(&t->head, memory_order_acquire);
		uint64_t tail = atomic_load_explicit(&t->tail, memory_order_relaxed);
		uint64_t *r = t->ring, m = t->mask;
		while (tail != head) {
			uint64_t hdr = r[tail & m];
			uint64_t n = hdr & 0xffff;
			if ((hdr & ~UINT64_C(0xffff)) != SAMPLE_MAGIC || n > GR_STACK_MAX_DEPTH ||
			    head - tail < SAMPLE_WORDS(n))
				_gr_panic("cpuprof: sample ring of thread %d corrupt (header %#llx)",
				          (int)t->tid, (unsigned long long)hdr);
			uint64_t ts = r[(tail + 1) & m], mid = r[(tail + 2) & m];
			for (uint64_t i = 0; i < n; i++)
				pcs[i] = (uintptr_t)r[(tail + 3 + i) & m];
			tail += SAMPLE_WORDS(n);
			atomic_store_explicit(&t->tail, tail, memory_order_release);
			if (emit)
				emit(ctx, ts, mid, pcs, (int)n);
			count++;
		}
	}
	/* Free retired records whose rings are empty (a record retired after
	** the walk above may still hold samples: the next drain takes them). */
	pthread_mutex_lock(&prof_lock);
	for (prof_thread **pp = &threads; *pp;) {
		prof_thread *t = *pp;
		if (t->retired && atomic_load_explicit(&t->head, memory_order_acquire) ==
		                  atomic_load_explicit(&t->tail, memory_order_relaxed)) {
			*pp = t->next;
			free(t->ring);
			free(t);
			continue;
		}
		pp = &t->next;
	}
	pthread_mutex_unlock(&prof_lock);
	pthread_mutex_unlock(&drain_lock);
	return count;
}

/* ---- fork ------------------------------------------------------------------- */

/* The child has one thread and no POSIX timers (they are not inherited):
** forget the other threads' records, keep the forking thread's (unarmed),
** and start over stopped. The SIGPROF disposition is inherited: ours stays
** installed, chaining as before, and user_sa still holds the disposition to
** restore. The profiler's locks are not taken across fork: a drain holds
** drain_lock while the tracer's emit callback takes the tracer's locks, which the tracer's own
** fork handler holds, so either order could deadlock. The child re-creates
** the lock instead; the list is always traversable (records are linked and
** unlinked by single stores), and a record caught mid-unlink is leaked. */
static void fork_child(void)
{
	pthread_mutex_init(&prof_lock, NULL);
	pthread_mutex_init(&drain_lock, NULL);
	atomic_store(&running, 0);
	atomic_store(&in_flight, 0);
	prof_thread *keep = NULL;
	for (prof_thread *t = threads, *nx; t; t = nx) {
		nx = t->next;
		if (t == tls_self) {
			atomic_store(&t->has_timer, false);
			t->tid = (pid_t)syscall(SYS_gettid);    /* new tid, new CPU clock */
			t->next = NULL;
			if (pthread_getcpuclockid(pthread_self(), &t->clock) == 0)
				keep = t;
			else
				t->retired = true;    /* never sampled again; freed by no one */
		} else {
			free(t->ring);
			free(t);
		}
	}
	threads = keep;
}

__attribute__((constructor)) static void cpuprof_init(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}

uint64_t _gr_cpuprof_dropped(void)
{
	return atomic_load(&dropped);
}

size_t _gr_cpuprof_set_ring_words(size_t words)
{
	pthread_mutex_lock(&prof_lock);
	size_t old = ring_words_override;
	size_t w = 0;
	if (words) {
		w = 64;
		while (w < words)
			w *= 2;
	}
	ring_words_override = w;
	pthread_mutex_unlock(&prof_lock);
	return old;
}
