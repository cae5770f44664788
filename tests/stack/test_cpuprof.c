/* Tests for src/stack/cpuprof.c: a CPU-bound thread gets samples naming its
** hot function (also through code without frame pointers); a full ring
** drops and counts samples, never corrupts them; a user's SIGPROF handler
** keeps working and is restored; register/unregister/start/stop/drain race
** safely; argument errors. No timed assertions: loops wait for a condition,
** with a generous cap that only guards against hanging. */
#include "testhelper.h"
#include "stacktest.h"
#include "nofp.h"
#include "internal/cpuprof.h"
#include "internal/stack.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAXS 4096
#define CAP_NS (20ull * 1000000000ull)   /* hang guard, not an assertion */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct sample {
	uint64_t ts, m_id;
	int n;
	uintptr_t pcs[32];
} sample;

static sample samples[MAXS];
static int nsamples;

static void collect(void *ctx, uint64_t ts, uint64_t m_id, const uintptr_t *pcs, int n)
{
	(void)ctx;
	if (nsamples == MAXS)
		return;
	sample *s = &samples[nsamples++];
	s->ts = ts;
	s->m_id = m_id;
	s->n = n < 32 ? n : 32;
	memcpy(s->pcs, pcs, (size_t)s->n * sizeof *pcs);
}

/* ---- a hot thread ---------------------------------------------------------------- */

static atomic_int stop_spin;
static _Atomic uint64_t sink;
#define SINK(v) atomic_fetch_add_explicit(&sink, (uint64_t)(v), memory_order_relaxed)

NOINLINE int cpu_hot(int x)
{
	uint64_t v = (uint64_t)x;
	for (int i = 0; i < 200000; i++)
		v = v * 6364136223846793005ull + 1442695040888963407ull;
	SINK(v);
	return (int)(v & 1);
}

NOINLINE void *cpu_worker(void *arg)
{
	_gr_cpuprof_thread_register((uint64_t)(uintptr_t)arg);
	int r = 0;
	while (!atomic_load(&stop_spin))
		r += cpu_hot(r);
	_gr_cpuprof_thread_unregister();
	SINK(r);
	return NULL;
}

NOINLINE void *cpu_worker_nofp(void *arg)
{
	_gr_cpuprof_thread_register((uint64_t)(uintptr_t)arg);
	int r = 0;
	while (!atomic_load(&stop_spin))
		r += nofp_clobber(cpu_hot, r);
	_gr_cpuprof_thread_unregister();
	SINK(r);
	return NULL;
}

/* Drain until `want` samples of m_id have a stack containing seq (or the cap). */
static int wait_for(uint64_t m_id, const char *const *seq, int k, int want)
{
	int hits = 0;
	uint64_t t0 = now_ns();
	while (hits < want && now_ns() - t0 < CAP_NS) {
		usleep(20000);
		nsamples = 0;
		_gr_cpuprof_drain(collect, NULL);
		for (int i = 0; i < nsamples; i++)
			if (samples[i].m_id == m_id && st_find_seq(samples[i].pcs, samples[i].n, seq, k) >= 0)
				hits++;
	}
	return hits;
}

void test_hot_function(void)
{
	uint64_t t0 = now_ns();
	CHECK(_gr_cpuprof_start(1000, now_ns) == 0);
	atomic_store(&stop_spin, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cpu_worker, (void *)(uintptr_t)41) == 0);
	static const char *const seq[] = { "cpu_hot", "cpu_worker" };
	int hits = wait_for(41, seq, 2, 20);
	CHECKF(hits >= 20, "samples in cpu_hot <- cpu_worker: %d", hits);
	/* samples are well formed: leaf first, timestamps from now_ns, in order */
	nsamples = 0;
	usleep(50000);
	_gr_cpuprof_drain(collect, NULL);
	uint64_t last = t0;
	for (int i = 0; i < nsamples; i++) {
		if (samples[i].m_id != 41)
			continue;
		CHECK(samples[i].ts >= last && samples[i].ts <= now_ns());
		last = samples[i].ts;
		CHECK(samples[i].n >= 3);
	}
	atomic_store(&stop_spin, 1);
	pthread_join(t, NULL);
	_gr_cpuprof_stop();
	_gr_cpuprof_drain(NULL, NULL);
}

void test_hot_through_nofp(void)
{
	CHECK(_gr_cpuprof_start(1000, now_ns) == 0);
	atomic_store(&stop_spin, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cpu_worker_nofp, (void *)(uintptr_t)42) == 0);
	/* nofp_clobber put garbage in rbp: the caller is found through CFI */
	static const char *const seq[] = { "cpu_hot", "nofp_clobber", "cpu_worker_nofp" };
	int hits = wait_for(42, seq, 3, 20);
	CHECKF(hits >= 20, "samples in cpu_hot <- nofp_clobber <- cpu_worker_nofp: %d", hits);
	atomic_store(&stop_spin, 1);
	pthread_join(t, NULL);
	_gr_cpuprof_stop();
	_gr_cpuprof_drain(NULL, NULL);
}

/* ---- a full ring ------------------------------------------------------------------ */

void test_overflow_counted(void)
{
	size_t old = _gr_cpuprof_set_ring_words(64);   /* one full-depth sample */
	uint64_t d0 = _gr_cpuprof_dropped();
	CHECK(_gr_cpuprof_start(1000, now_ns) == 0);
	atomic_store(&stop_spin, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cpu_worker, (void *)(uintptr_t)43) == 0);
	uint64_t t0 = now_ns();
	while (_gr_cpuprof_dropped() < d0 + 10 && now_ns() - t0 < CAP_NS)
		usleep(10000);
	CHECK(_gr_cpuprof_dropped() >= d0 + 10);
	/* what is in the ring is whole: drain validates headers (panics on a torn
	** sample); check the contents too */
	for (int round = 0; round < 20; round++) {
		nsamples = 0;
		_gr_cpuprof_drain(collect, NULL);
		for (int i = 0; i < nsamples; i++) {
			CHECK(samples[i].m_id == 43);
			CHECK(samples[i].n >= 1 && samples[i].n <= 32);
			for (int j = 0; j < samples[i].n; j++)
				CHECK(samples[i].pcs[j] > 4096);
		}
		usleep(5000);
	}
	atomic_store(&stop_spin, 1);
	pthread_join(t, NULL);
	_gr_cpuprof_stop();
	_gr_cpuprof_drain(NULL, NULL);
	_gr_cpuprof_set_ring_words(old);
}

/* ---- a user's SIGPROF ------------------------------------------------------------- */

static atomic_int user_hits, user_timer_hits;

static void user_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	atomic_fetch_add(&user_hits, 1);
	if (si->si_code == SI_TIMER)
		atomic_fetch_add(&user_timer_hits, 1);
}

void test_user_sigprof(void)
{
	struct sigaction sa, cur;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = user_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGPROF, &sa, NULL) == 0);
	atomic_store(&user_hits, 0);
	atomic_store(&user_timer_hits, 0);

	CHECK(_gr_cpuprof_start(1000, now_ns) == 0);
	atomic_store(&stop_spin, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, cpu_worker, (void *)(uintptr_t)44) == 0);
	/* signals sent to us reach the user's handler, through ours */
	for (int i = 0; i < 5; i++)
		pthread_kill(pthread_self(), SIGPROF);
	CHECK(atomic_load(&user_hits) == 5);
	/* and so does the user's own profiling timer, while we sample */
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } }, off = { { 0, 0 }, { 0, 0 } };
	CHECK(setitimer(ITIMER_PROF, &it, NULL) == 0);
	static const char *const seq[] = { "cpu_hot", "cpu_worker" };
	int hits = wait_for(44, seq, 2, 20);
	uint64_t t0 = now_ns();
	/* a few of its timer's signals are enough to show they get through:
	** under TSan, with our 1000 Hz sampling on top, the process-wide
	** ITIMER_PROF signals arrive slowly (seen: 5-9 in 20 s) */
	while (atomic_load(&user_hits) < 8 && now_ns() - t0 < CAP_NS)
		usleep(10000);
	setitimer(ITIMER_PROF, &off, NULL);
	CHECKF(hits >= 20, "our samples: %d", hits);
	CHECKF(atomic_load(&user_hits) >= 8, "user handler: %d", atomic_load(&user_hits));
	/* our timer signals are not passed on */
	CHECK(atomic_load(&user_timer_hits) == 0);
	atomic_store(&stop_spin, 1);
	pthread_join(t, NULL);
	_gr_cpuprof_stop();
	_gr_cpuprof_drain(NULL, NULL);
	/* the user's handler is back */
	CHECK(sigaction(SIGPROF, NULL, &cur) == 0);
	CHECK((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == user_handler);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = 0;
	sigaction(SIGPROF, &sa, NULL);
	/* SIG_DFL before start is SIG_DFL after stop */
	CHECK(_gr_cpuprof_start(100, now_ns) == 0);
	_gr_cpuprof_stop();
	CHECK(sigaction(SIGPROF, NULL, &cur) == 0);
	CHECK(!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL);
}

/* ---- races ---------------------------------------------------------------------- */

static atomic_int race_done;

NOINLINE void *churn_worker(void *arg)
{
	uint64_t m = (uint64_t)(uintptr_t)arg;
	for (int i = 0; i < 150; i++) {
		_gr_cpuprof_thread_register(m);
		SINK(cpu_hot(i));
		if (i % 3 == 0)
			_gr_cpuprof_thread_register(m);   /* idempotent */
		_gr_cpuprof_thread_unregister();
		_gr_cpuprof_thread_unregister();      /* no-op */
	}
	return NULL;
}

NOINLINE void *exit_registered(void *arg)
{
	_gr_cpuprof_thread_register((uint64_t)(uintptr_t)arg);
	SINK(cpu_hot(3));
	return NULL;    /* unregistered by the thread-exit hook */
}

static void *toggler(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_done)) {
		if (_gr_cpuprof_start(2000, now_ns) == 0) {
			usleep(2000);
			_gr_cpuprof_stop();
		}
	}
	return NULL;
}

static atomic_int bad_mid;
static void check_mid(void *ctx, uint64_t ts, uint64_t m_id, const uintptr_t *pcs, int n)
{
	(void)ctx;
	(void)ts;
	(void)pcs;
	if (m_id < 100 || m_id > 110 || n > 32)
		atomic_fetch_add(&bad_mid, 1);
}

void test_races(void)
{
	atomic_store(&race_done, 0);
	atomic_store(&bad_mid, 0);
	pthread_t tog, w[4], ex[8];
	CHECK(pthread_create(&tog, NULL, toggler, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&w[i], NULL, churn_worker, (void *)(uintptr_t)(100 + i)) == 0);
	size_t total = 0;
	for (int round = 0; round < 8; round++) {
		CHECK(pthread_create(&ex[round], NULL, exit_registered, (void *)(uintptr_t)(105 + round % 4)) == 0);
		total += _gr_cpuprof_drain(check_mid, NULL);
		usleep(1000);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(ex[i], NULL);
	atomic_store(&race_done, 1);
	pthread_join(tog, NULL);
	_gr_cpuprof_stop();
	total += _gr_cpuprof_drain(check_mid, NULL);
	CHECK(atomic_load(&bad_mid) == 0);
	/* everything retired was freed: a further drain finds nothing */
	CHECK(_gr_cpuprof_drain(check_mid, NULL) == 0);
	(void)total;
}

/* ---- fork ------------------------------------------------------------------------ */

static atomic_int drainer_stop;
static void *drainer(void *arg)
{
	(void)arg;
	while (!atomic_load(&drainer_stop))
		_gr_cpuprof_drain(NULL, NULL);
	return NULL;
}

static int child_hits;
static void count_77(void *ctx, uint64_t ts, uint64_t m_id, const uintptr_t *pcs, int n)
{
	(void)ctx;
	(void)ts;
	if (m_id == 77 && n > 0 && strcmp(st_func(pcs[0]), "cpu_hot") == 0)
		child_hits++;
}

static void in_child(void *arg)
{
	(void)arg;
	/* the child starts stopped, with a usable lock and its own thread only */
	if (_gr_cpuprof_start(1000, now_ns) != 0)
		_exit(2);
	_gr_cpuprof_thread_register(77);
	uint64_t t0 = now_ns();
	while (child_hits < 5 && now_ns() - t0 < CAP_NS) {
		SINK(cpu_hot(1));
		_gr_cpuprof_drain(count_77, NULL);
	}
	_gr_cpuprof_stop();
	_gr_cpuprof_thread_unregister();
	if (child_hits < 5)
		_exit(3);
}

void test_fork(void)
{
	CHECK(_gr_cpuprof_start(1000, now_ns) == 0);
	_gr_cpuprof_thread_register(76);
	atomic_store(&stop_spin, 0);
	atomic_store(&drainer_stop, 0);
	pthread_t w, d;
	CHECK(pthread_create(&w, NULL, cpu_worker, (void *)(uintptr_t)45) == 0);
	CHECK(pthread_create(&d, NULL, drainer, NULL) == 0);
	for (int i = 0; i < 5; i++) {
		gort_test_child c;
		CHECK(gort_test_fork(in_child, NULL, &c) == 0);
		CHECKF(!c.signaled && c.exit_code == 0, "child: signal %d exit %d: %s",
		       c.signaled ? c.signo : 0, c.exit_code, c.err);
	}
	atomic_store(&stop_spin, 1);
	atomic_store(&drainer_stop, 1);
	pthread_join(w, NULL);
	pthread_join(d, NULL);
	_gr_cpuprof_thread_unregister();
	_gr_cpuprof_stop();
	_gr_cpuprof_drain(NULL, NULL);
}

void test_errors(void)
{
	CHECK(_gr_cpuprof_start(0, now_ns) == -EINVAL);
	CHECK(_gr_cpuprof_start(-5, now_ns) == -EINVAL);
	CHECK(_gr_cpuprof_start(20000, now_ns) == -EINVAL);
	CHECK(_gr_cpuprof_start(100, NULL) == -EINVAL);
	CHECK(_gr_cpuprof_start(100, now_ns) == 0);
	CHECK(_gr_cpuprof_start(100, now_ns) == -EBUSY);
	_gr_cpuprof_stop();
	_gr_cpuprof_stop();   /* no-op */
	_gr_cpuprof_thread_unregister();   /* never registered: no-op */
	CHECK(_gr_cpuprof_drain(NULL, NULL) == 0);
}

int main(void)
{
	RUN(test_errors);
	RUN(test_hot_function);
	RUN(test_hot_through_nofp);
	RUN(test_overflow_counted);
	RUN(test_user_sigprof);
	RUN(test_races);
	RUN(test_fork);
	return gort_test_summary();
}
