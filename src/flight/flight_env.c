/*
** src/flight/flight_env.c: GORT_FLIGHT -- a recorder started at program start,
** its helper thread, and the signal paths (SIGUSR2 snapshot, crash dump).
**
** Helper thread ("gort-flight"): runs while a recorder runs (API or
** environment), all signals blocked. It waits on a semaphore; sem_post is
** async-signal-safe, so signal handlers and the store's sink thread wake it
** with a request flag:
**   boundary  a generation grew past max_bytes/8: force a boundary early;
**   snapshot  SIGUSR2: write the window to the GORT_FLIGHT path;
**   crash     a fatal signal: force a boundary so the crashing thread's last
**             events are in a complete generation, then report done.
**
** gort_flight_dump_on_signals (called by the constructor for GORT_FLIGHT, or
** by the program) sets the dump path and installs the handlers once.
**
** Crash path (_gr_flight_crash, called once through _gr_crash_hook from the
** fatal-signal handler here or from the arena's use-after-free report):
**   1. ask the helper for a boundary and wait for it at most CRASH_WAIT_MS
**      (nanosleep polling; no lock is taken by the crashing thread). If the
**      tracer cannot close the generation (e.g. the crashing thread died inside
**      the tracer), the generation being received is skipped;
**   2. write header + the published complete generations to "<path>.tmp"
**      with write(2) only, walking the store's lock-free list;
**   3. rename it to <path> on success, unlink it on failure; report on stderr.
** Then the signal goes on to the previously installed handler or, if there was
** none, the default action is restored and the signal re-raised, so the
** process dies as it would have.
*/
#include "internal/env.h"
#include "internal/flight.h"
#include "internal/hooks.h"
#include "internal/panic.h"
#include "internal/trace.h"

#include <gort/flight.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CRASH_WAIT_MS 1500  /* > the tracer's 1 s give-up on a thread stuck in a section */
#define PATH_CAP 4096

static sem_t g_sem;
static pthread_t g_helper;
static atomic_bool g_helper_running;
static atomic_bool req_boundary, req_snapshot, req_crash, req_quit;
static atomic_bool crash_boundary_done;

/* The dump path pattern (GORT_FLIGHT or gort_flight_dump_on_signals), read
** by signal handlers: double-buffered, published with one atomic store. */
static char g_patterns[2][PATH_CAP];
static _Atomic(const char *) g_pattern;
static pthread_mutex_t arm_mu = PTHREAD_MUTEX_INITIALIZER;
static bool g_armed;                       /* handlers installed (arm_mu) */
static struct sigaction g_prev[NSIG];
static const int k_fatal[] = { SIGSEGV, SIGABRT, SIGBUS, SIGFPE };

/* ---- helper thread ---- */

static void signal_snapshot(void)
{
	char path[PATH_CAP];
	const char *pat = atomic_load(&g_pattern);
	if (!pat || _gr_expand_path(pat, path, sizeof path, NULL) != 0)
		return;
	int r = gort_flight_write_file(path);
	if (r == 0)
		fprintf(stderr, "gort: flight recorder: window written to %s\n", path);
	else
		fprintf(stderr, "gort: flight recorder: snapshot to %s failed: %s\n", path, strerror(-r));
}

static void *helper_main(void *arg)
{
	(void)arg;
	/* gort's own thread: never in the trace, preload wrappers pass through. */
	_gr_trace_thread_set_internal();
	for (;;) {
		while (sem_wait(&g_sem) != 0 && errno == EINTR)
			;
		if (atomic_exchange(&req_crash, false)) {
			(void)_gr_flight_advance();
			atomic_store(&crash_boundary_done, true);
			continue;
		}
		if (atomic_load(&req_quit))
			break;
		if (atomic_exchange(&req_boundary, false))
			(void)_gr_flight_advance();
		if (atomic_exchange(&req_snapshot, false))
			signal_snapshot();
	}
	return NULL;
}

/* The semaphore lives for the process (never destroyed): the sink thread
** may still post a boundary request while a stop joins the helper. */
static pthread_once_t sem_once = PTHREAD_ONCE_INIT;
static void sem_setup(void)
{
	sem_init(&g_sem, 0, 0);
}

int _gr_flight_helper_start(void)
{
	if (atomic_load(&g_helper_running))
		return 0;
	pthread_once(&sem_once, sem_setup);
	atomic_store(&req_quit, false);
	atomic_store(&req_boundary, false);
	atomic_store(&req_snapshot, false);
	int r = _gr_trace_spawn(&g_helper, helper_main);  /* signals blocked in it */
	if (r)
		return -r;
	pthread_setname_np(g_helper, "gort-flight");
	atomic_store(&g_helper_running, true);
	return 0;
}

void _gr_flight_helper_stop(void)
{
	if (!atomic_load(&g_helper_running))
		return;
	atomic_store(&g_helper_running, false);
	atomic_store(&req_quit, true);
	sem_post(&g_sem);
	pthread_join(g_helper, NULL);
}

void _gr_flight_helper_wake_boundary(void)
{
	if (!atomic_load(&g_helper_running))
		return;
	atomic_store(&req_boundary, true);
	sem_post(&g_sem);
}

/* ---- crash dump (async-signal-safe) ---- */

static void crash_close_generation(void)
{
	if (!atomic_load(&g_helper_running) || pthread_equal(pthread_self(), g_helper))
		return;
	atomic_store(&crash_boundary_done, false);
	atomic_store(&req_crash, true);
	sem_post(&g_sem);
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < CRASH_WAIT_MS && !atomic_load(&crash_boundary_done); i++)
		nanosleep(&ms, NULL);
	if (!atomic_load(&crash_boundary_done))
		_gr_sig_puts("gort: flight recorder: the running generation could not be closed "
		             "in time; writing the complete ones only\n");
}

void _gr_flight_crash(int signo)
{
	static atomic_flag once = ATOMIC_FLAG_INIT;
	const char *pat = atomic_load(&g_pattern);
	if (!pat || atomic_flag_test_and_set(&once))
		return;
	if (!gort_flight_enabled() && !_gr_flight_store_has_header())
		return;
	char path[PATH_CAP], tmp[PATH_CAP + 8];
	if (_gr_expand_path(pat, path, sizeof path, NULL) != 0) {
		_gr_sig_puts("gort: flight recorder: dump path too long; no crash dump\n");
		return;
	}
	size_t pl = strlen(path);
	if (pl + 5 >= sizeof tmp)
		return;
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, ".tmp", 5);

	_gr_sig_puts("gort: flight recorder: fatal signal ");
	_gr_sig_putdec((uint64_t)signo);
	_gr_sig_puts(", writing the trace window to ");
	_gr_sig_puts(path);
	_gr_sig_puts("\n");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		_gr_sig_puts("gort: flight recorder: cannot create the crash dump; no file written\n");
		return;
	}
	crash_close_generation();
	uint64_t ngens = 0;
	int64_t n = _gr_flight_store_crash_write(fd, &ngens);
	bool ok = n > 0 && ngens > 0;
	if (close(fd) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		unlink(tmp);
		_gr_sig_puts("gort: flight recorder: crash dump incomplete (");
		_gr_sig_puts(n < 0 ? "write failed" : "no complete generation");
		_gr_sig_puts("); no file written\n");
		return;
	}
	_gr_sig_puts("gort: flight recorder: wrote ");
	_gr_sig_putdec(ngens);
	_gr_sig_puts(" generations (");
	_gr_sig_putdec((uint64_t)n);
	_gr_sig_puts(" bytes) to ");
	_gr_sig_puts(path);
	_gr_sig_puts("\n");
}

/* ---- signal handlers ---- */

/* Hand the signal on: the previous handler if there was one, else die of it. */
static void chain(int signo, siginfo_t *si, void *uc)
{
	struct sigaction *p = &g_prev[signo];
	if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction) {
		p->sa_sigaction(signo, si, uc);
		return;
	}
	if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
		p->sa_handler(signo);
		return;
	}
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(signo, &dfl, NULL);
	/* Pending until we return (the signal is blocked in its handler), then
	** delivered with the default action; a fault would also simply recur. */
	raise(signo);
}

static void on_fatal(int signo, siginfo_t *si, void *uc)
{
	int saved = errno;
	_gr_crash_notify(signo);
	chain(signo, si, uc);
	errno = saved;
}

static void on_usr2(int signo, siginfo_t *si, void *uc)
{
	int saved = errno;
	if (atomic_load(&g_helper_running)) {
		atomic_store(&req_snapshot, true);
		sem_post(&g_sem);
	}
	/* A program's own SIGUSR2 handler still runs; the default action
	** (terminate) does not: GORT_FLIGHT claims SIGUSR2. */
	struct sigaction *p = &g_prev[signo];
	if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction)
		p->sa_sigaction(signo, si, uc);
	else if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN)
		p->sa_handler(signo);
	errno = saved;
}

static void install(int signo, void (*fn)(int, siginfo_t *, void *), int extra)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | extra;
	sigemptyset(&sa.sa_mask);
	sigaction(signo, &sa, &g_prev[signo]);
}

void _gr_flight_helper_forget(void)
{
	/* The child has no helper thread; the semaphore may be mid-use. */
	atomic_store(&g_helper_running, false);
	sem_init(&g_sem, 0, 0);
}

int gort_flight_dump_on_signals(const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= PATH_CAP)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&arm_mu);
	const char *cur = atomic_load(&g_pattern);
	char *buf = cur == g_patterns[0] ? g_patterns[1] : g_patterns[0];
	strcpy(buf, path);
	atomic_store(&g_pattern, buf);
	if (!g_armed) {
		install(SIGUSR2, on_usr2, SA_RESTART);
		for (size_t i = 0; i < sizeof k_fatal / sizeof k_fatal[0]; i++)
			install(k_fatal[i], on_fatal, 0);
		g_armed = true;
	}
	atomic_store(&_gr_crash_hook, _gr_flight_crash);
	pthread_mutex_unlock(&arm_mu);
	return 0;
}

__attribute__((constructor)) static void flight_env_init(void)
{
	const char *pat = getenv("GORT_FLIGHT");
	if (!pat || !*pat || !_gr_trace_copy_is_global())
		return;
	if (strlen(pat) >= PATH_CAP) {
		_gr_warn("GORT_FLIGHT: path too long; flight recorder not started");
		return;
	}
	gort_flight_config cfg = { 0, 0 };
	uint64_t v;
	int r = _gr_env_duration_ns("GORT_FLIGHT_WINDOW", &v);
	if (r == 0)
		cfg.min_age_ns = v;
	else if (r == -EINVAL)
		_gr_warn("GORT_FLIGHT_WINDOW: malformed duration '%s'; using 10s",
		         getenv("GORT_FLIGHT_WINDOW"));
	r = _gr_env_size("GORT_FLIGHT_MAX", &v);
	if (r == 0)
		cfg.max_bytes = (size_t)v;
	else if (r == -EINVAL)
		_gr_warn("GORT_FLIGHT_MAX: malformed size '%s'; using 64M", getenv("GORT_FLIGHT_MAX"));
	uint32_t internal = _gr_trace_internal_swap(1);   /* as GORT_TRACE's start (trace/reader.c) */
	r = gort_flight_start(&cfg);
	_gr_trace_internal_swap(internal);
	if (r) {
		_gr_warn("GORT_FLIGHT: flight recorder not started: %s", strerror(-r));
		return;
	}
	gort_flight_dump_on_signals(pat);
}
