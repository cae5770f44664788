/*
** tests/flight/test_flight_trace.c: the flight recorder on the real tracer.
** Every output goes through Go 1.22's validator.
**
**   snapshots        several snapshots in a row while threads trace; each is
**                    valid, contains the events emitted just before it, and
**                    recording goes on; stop ends tracing.
**   with_file_trace  a file trace and the recorder at once, in both orders:
**                    both outputs valid and complete.
**   sigusr2          GORT_FLIGHT=path.%p: SIGUSR2 writes the window (child
**                    process started with the variable, as a user would).
**   sigusr2_chains   gort_flight_dump_on_signals: SIGUSR2 writes the window
**                    and the program's own SIGUSR2 handler still runs.
**   crash_abort      GORT_FLIGHT: the process dies of SIGABRT; the dump is valid
**                    and holds the events emitted just before the abort.
**   crash_uaf        same for a use-after-free of arena memory (the arena's
**                    fault report calls _gr_crash_notify), if gort has arenas.
**   crash_api        the same without GORT_FLIGHT: gort_flight_start +
**                    gort_flight_dump_on_signals.
**   crash_no_file    a dump that cannot be written leaves no file, says so,
**                    and the process still dies of its signal.
**   env_values       GORT_FLIGHT_WINDOW / GORT_FLIGHT_MAX parsing and errors.
*/
#include "testhelper.h"
#include "flight_proc.h"
#include "flight_testutil.h"

#include <gort/trace.h>
#if defined(__has_include)
#if __has_include(<gort/arena.h>)
#include <gort/arena.h>
#define HAVE_ARENA 1
#endif
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* A worker that keeps the trace busy with regions, logs and blocking. */
static atomic_bool work_stop;
static void *worker(void *arg)
{
	(void)arg;
	gort_trace_thread_name("flight-worker");
	for (int i = 0; !atomic_load(&work_stop); i++) {
		gort_trace_region_begin(0, "work");
		gort_trace_logf(0, "worker", "w%d", i % 16);
		gort_trace_region_end(0, "work");
		gort_trace_block_begin("sleep");
		sleep_ms(2);
		gort_trace_block_end();
	}
	return NULL;
}

static pthread_t start_worker(void)
{
	pthread_t t;
	atomic_store(&work_stop, false);
	pthread_create(&t, NULL, worker, NULL);
	return t;
}

static void stop_worker(pthread_t t)
{
	atomic_store(&work_stop, true);
	pthread_join(t, NULL);
}

/* Valid under Go, well formed, and containing `marker` (if not NULL). */
static void check_trace(const char *path, const char *marker)
{
	size_t n;
	unsigned char *b = gort_test_read_file(path, &n);
	CHECKF(b != NULL, "%s missing", path);
	if (!b)
		return;
	ft_shape s = ft_trace_shape(b, n);
	CHECKF(s.ok, "%s: %s", path, s.why);
	if (marker)
		CHECKF(fp_count(b, n, marker) > 0, "%s lacks %s", path, marker);
	free(b);
	char msg[4096];
	int v = gort_test_go_validate(path, msg, sizeof msg);
	CHECKF(v == 0 || v == 77, "Go rejects %s: %s", path, msg);
}

static void test_snapshots(void)
{
	gort_flight_config cfg = { 1000000000ull, 8 << 20 };
	CHECK(gort_flight_start(&cfg) == 0);
	CHECK(gort_flight_enabled() && gort_trace_enabled());
	pthread_t t = start_worker();
	char marker[64], path[64];
	for (int i = 0; i < 3; i++) {
		sleep_ms(150);
		snprintf(marker, sizeof marker, "snapshot-marker-%d", i);
		gort_trace_log(0, "flight-test", marker);
		snprintf(path, sizeof path, "snap%d.trace", i);
		CHECK(gort_flight_write_file(gort_test_path(path)) == 0);
		check_trace(gort_test_path(path), marker);
	}
	stop_worker(t);
	CHECK(gort_flight_stop() == 0);
	CHECK(!gort_flight_enabled() && !gort_trace_enabled());
}

static void test_with_file_trace(void)
{
	/* File trace first, recorder joins and leaves; the file goes on. */
	const char *file1 = strdup(gort_test_path("file1.trace"));
	CHECK(gort_trace_start_file(file1) == 0);
	pthread_t t = start_worker();
	sleep_ms(50);
	gort_trace_log(0, "flight-test", "before-flight");
	gort_flight_config cfg = { 1000000000ull, 8 << 20 };
	CHECK(gort_flight_start(&cfg) == 0);
	sleep_ms(100);
	gort_trace_log(0, "flight-test", "both-attached");
	CHECK(gort_flight_write_file(gort_test_path("flight1.trace")) == 0);
	CHECK(gort_flight_stop() == 0);
	CHECK(gort_trace_enabled());
	gort_trace_log(0, "flight-test", "after-flight");
	sleep_ms(50);
	stop_worker(t);
	CHECK(gort_trace_stop() == 0);
	check_trace(file1, "before-flight");
	check_trace(file1, "both-attached");
	check_trace(file1, "after-flight");
	check_trace(gort_test_path("flight1.trace"), "both-attached");

	/* Recorder first, a file trace comes and goes; the recorder goes on. */
	const char *file2 = strdup(gort_test_path("file2.trace"));
	CHECK(gort_flight_start(&cfg) == 0);
	t = start_worker();
	sleep_ms(50);
	CHECK(gort_trace_start_file(file2) == 0);
	sleep_ms(100);
	gort_trace_log(0, "flight-test", "file-attached");
	CHECK(gort_trace_stop() == 0);
	CHECK(gort_flight_enabled() && gort_trace_enabled());
	gort_trace_log(0, "flight-test", "file-gone");
	sleep_ms(50);
	CHECK(gort_flight_write_file(gort_test_path("flight2.trace")) == 0);
	stop_worker(t);
	CHECK(gort_flight_stop() == 0);
	check_trace(file2, "file-attached");
	check_trace(gort_test_path("flight2.trace"), "file-attached");
	check_trace(gort_test_path("flight2.trace"), "file-gone");
	free((void *)file1);
	free((void *)file2);
}

/* ---- child processes started with GORT_FLIGHT ---- */

static int child_usr2(void)
{
	if (!gort_flight_enabled())
		return 10;
	pthread_t t = start_worker();
	sleep_ms(100);
	gort_trace_log(0, "flight-test", "usr2-marker");
	char path[4096];
	snprintf(path, sizeof path, "%s/usr2.%d.trace", getenv("GORT_TEST_TMPDIR"), (int)getpid());
	kill(getpid(), SIGUSR2);
	bool ok = fp_wait_file(path, 30000);
	/* A second snapshot overwrites the first: still fine. */
	stop_worker(t);
	return ok ? 0 : 11;
}

static int child_abort(void)
{
	if (!gort_flight_enabled())
		return 10;
	pthread_t t = start_worker();
	sleep_ms(100);
	gort_trace_log(0, "flight-test", "last-words-before-abort");
	abort();
	stop_worker(t);
	return 0;
}

/* The program's own SIGUSR2 handler, installed first, still runs. */
static volatile sig_atomic_t own_usr2;
static void own_usr2_handler(int sig)
{
	(void)sig;
	own_usr2 = 1;
}

static int child_api_usr2(void)
{
	signal(SIGUSR2, own_usr2_handler);
	gort_flight_config cfg = { 1000000000ull, 0 };
	char pattern[4096], path[4096];
	snprintf(pattern, sizeof pattern, "%s/api-usr2.%%p.trace", getenv("GORT_TEST_TMPDIR"));
	snprintf(path, sizeof path, "%s/api-usr2.%d.trace", getenv("GORT_TEST_TMPDIR"), (int)getpid());
	if (gort_flight_start(&cfg) != 0 || gort_flight_dump_on_signals(pattern) != 0)
		return 15;
	pthread_t t = start_worker();
	sleep_ms(100);
	gort_trace_log(0, "flight-test", "api-usr2-marker");
	kill(getpid(), SIGUSR2);
	bool ok = fp_wait_file(path, 30000);
	stop_worker(t);
	if (!own_usr2)
		return 16;
	return ok ? 0 : 11;
}

static void test_sigusr2_chains(void)
{
	const char *env[] = { "GORT_FLIGHT=", NULL };
	const char *args[] = { "child-api-usr2", NULL };
	fp_result r;
	char path[4096];
	CHECK(fp_run(args, env, &r) == 0);
	CHECKF(!r.signaled && r.exit_code == 0, "child: sig %d exit %d: %s", r.signo, r.exit_code, r.err);
	snprintf(path, sizeof path, "%s/api-usr2.%d.trace", getenv("GORT_TEST_TMPDIR"), (int)r.pid);
	check_trace(path, "api-usr2-marker");
}

/* No GORT_FLIGHT: the program starts the recorder and asks for dumps. */
static int child_api_abort(void)
{
	if (gort_flight_enabled())
		return 10;
	if (gort_flight_dump_on_signals(NULL) != -EINVAL || gort_flight_dump_on_signals("") != -EINVAL)
		return 14;
	gort_flight_config cfg = { 1000000000ull, 0 };
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "%s/child-api-abort.%%p.trace", getenv("GORT_TEST_TMPDIR"));
	if (gort_flight_start(&cfg) != 0 || gort_flight_dump_on_signals(pattern) != 0)
		return 15;
	return child_abort();
}

#ifdef HAVE_ARENA
static int child_uaf(void)
{
	if (!gort_flight_enabled())
		return 10;
	pthread_t t = start_worker();
	sleep_ms(100);
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_STRICT);
	if (!a)
		return 12;
	volatile char *p = gort_arena_alloc(a, 64, 8);
	if (!p)
		return 13;
	p[0] = 1;
	gort_trace_log(0, "flight-test", "last-words-before-uaf");
	gort_arena_free(a);
	p[0] = 2;   /* use after free: the arena's fault report, then death */
	stop_worker(t);
	return 0;
}
#endif

static void check_crash(const char *mode, int want_sig, const char *marker, bool use_env)
{
	char pattern[4096], path[4096];
	snprintf(pattern, sizeof pattern, "GORT_FLIGHT=%s/%s.%%p.trace", getenv("GORT_TEST_TMPDIR"), mode);
	const char *env[] = { use_env ? pattern : "GORT_FLIGHT=", "GORT_FLIGHT_WINDOW=2s", NULL };
	const char *args[] = { mode, NULL };
	fp_result r;
	CHECK(fp_run(args, env, &r) == 0);
	CHECKF(r.signaled && r.signo == want_sig, "%s: signaled %d signo %d exit %d: %s",
	       mode, r.signaled, r.signo, r.exit_code, r.err);
	snprintf(path, sizeof path, "%s/%s.%d.trace", getenv("GORT_TEST_TMPDIR"), mode, (int)r.pid);
	CHECKF(strstr(r.err, "gort: flight recorder: wrote ") != NULL, "%s: %s", mode, r.err);
	check_trace(path, marker);
}

static void test_sigusr2(void)
{
	char pattern[4096], path[4096];
	snprintf(pattern, sizeof pattern, "GORT_FLIGHT=%s/usr2.%%p.trace", getenv("GORT_TEST_TMPDIR"));
	const char *env[] = { pattern, "GORT_FLIGHT_WINDOW=2s", NULL };
	const char *args[] = { "child-usr2", NULL };
	fp_result r;
	CHECK(fp_run(args, env, &r) == 0);
	CHECKF(!r.signaled && r.exit_code == 0, "child: sig %d exit %d: %s", r.signo, r.exit_code, r.err);
	snprintf(path, sizeof path, "%s/usr2.%d.trace", getenv("GORT_TEST_TMPDIR"), (int)r.pid);
	check_trace(path, "usr2-marker");
}

static void test_crash_abort(void)
{
	check_crash("child-abort", SIGABRT, "last-words-before-abort", true);
}

static void test_crash_api(void)
{
	check_crash("child-api-abort", SIGABRT, "last-words-before-abort", false);
}

static void test_crash_uaf(void)
{
#if defined(HAVE_ARENA) && defined(GORT_SANITIZE_BUILD)
	SKIP("the sanitizer reports arena use-after-free itself");
#elif defined(HAVE_ARENA)
	check_crash("child-uaf", SIGSEGV, "last-words-before-uaf", true);
#else
	SKIP("gort built without arenas");
#endif
}

static void test_crash_no_file(void)
{
	const char *env[] = { "GORT_FLIGHT=/nonexistent-dir/x.trace", NULL };
	const char *args[] = { "child-abort", NULL };
	fp_result r;
	CHECK(fp_run(args, env, &r) == 0);
	CHECKF(r.signaled && r.signo == SIGABRT, "signaled %d signo %d: %s", r.signaled, r.signo, r.err);
	CHECKF(strstr(r.err, "no file written") != NULL, "stderr: %s", r.err);
}

/* GORT_FLIGHT_WINDOW / GORT_FLIGHT_MAX: a malformed value warns and uses the
** default; a value the API rejects leaves the recorder off, with a warning. */
static void test_env_values(void)
{
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "GORT_FLIGHT=%s/env.%%p.trace", getenv("GORT_TEST_TMPDIR"));
	const char *args[] = { "child-enabled", NULL };
	fp_result r;
	const char *bad_window[] = { pattern, "GORT_FLIGHT_WINDOW=soon", NULL };
	CHECK(fp_run(args, bad_window, &r) == 0);
	CHECKF(r.exit_code == 0 && strstr(r.err, "GORT_FLIGHT_WINDOW: malformed"), "exit %d: %s",
	       r.exit_code, r.err);
	const char *tiny[] = { pattern, "GORT_FLIGHT_MAX=1K", NULL };
	CHECK(fp_run(args, tiny, &r) == 0);
	CHECKF(r.exit_code == 20 && strstr(r.err, "flight recorder not started"), "exit %d: %s",
	       r.exit_code, r.err);
	const char *good[] = { pattern, "GORT_FLIGHT_WINDOW=250ms", "GORT_FLIGHT_MAX=1M", NULL };
	CHECK(fp_run(args, good, &r) == 0);
	CHECKF(r.exit_code == 0 && r.err[0] == 0, "exit %d: %s", r.exit_code, r.err);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "child-enabled"))
			return gort_flight_enabled() ? 0 : 20;
		if (!strcmp(argv[1], "child-usr2"))
			return child_usr2();
		if (!strcmp(argv[1], "child-abort"))
			return child_abort();
		if (!strcmp(argv[1], "child-api-abort"))
			return child_api_abort();
		if (!strcmp(argv[1], "child-api-usr2"))
			return child_api_usr2();
#ifdef HAVE_ARENA
		if (!strcmp(argv[1], "child-uaf"))
			return child_uaf();
#endif
		return 99;
	}
	if (!gort_test_have_go())
		return 77;
	RUN(test_snapshots);
	RUN(test_with_file_trace);
	RUN(test_sigusr2);
	RUN(test_sigusr2_chains);
	RUN(test_crash_abort);
	RUN(test_crash_api);
	RUN(test_crash_uaf);
	RUN(test_crash_no_file);
	RUN(test_env_values);
	return gort_test_summary();
}
