/*
** tests/trace/test_lifecycle.c: 100 start/stop cycles in one process;
** GORT_TRACE=path started by the library constructor and stopped at exit
** (in a child process); fork() with and without %p; the buffer cap path;
** annotations from signal handlers. Every trace goes through Go's validator.
*/
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gort/trace.h>
#include "testhelper.h"
#include "trace_util.h"

static void test_100_cycles(void)
{
	const char *path = gort_test_path("cycle.trace");
	int ok = 0;
	for (int i = 0; i < 100; i++) {
		if (gort_trace_start_file(path) != 0)
			continue;
		uint64_t t = gort_trace_task_begin(0, "cycle");
		gort_trace_region_begin(t, "r");
		gort_trace_logf(t, "i", "%d", i);
		gort_trace_region_end(t, "r");
		gort_trace_task_end(t);
		if (gort_trace_stop() == 0)
			ok++;
		if (i % 25 == 0 || i == 99)
			tu_validate(path);
	}
	CHECK(ok == 100);
}

/* ---- GORT_TRACE through a child process ---- */

static void test_env_start_stop_at_exit(void)
{
	const char *bin = getenv("TRACE_ENV_CHILD");
	if (!bin)
		SKIP("TRACE_ENV_CHILD not set");
	char path[4096];
	snprintf(path, sizeof path, "%s", gort_test_path("env.trace"));
	unlink(path);
	char out[4096];
	int r = gort_test_sh(out, sizeof out, "GORT_TRACE='%s' '%s' plain", path, bin);
	CHECKF(r == 0, "child: %d %s", r, out);
	CHECK(tu_file_size(path) > 16);
	tu_validate(path);
	long logs = tu_count(path, "UserLog");
	CHECKF(logs < 0 || logs >= 1, "logs %ld", logs);
	/* Without %p a child process (here a gort-linked program run through
	** sh -c) must leave the file alone... */
	r = gort_test_sh(out, sizeof out, "GORT_TRACE='%s' '%s' exec", path, bin);
	CHECKF(r == 0 && strstr(out, "child tracing=0"), "exec child: %d %s", r, out);
	tu_validate(path);
	logs = tu_count(path, "UserLog");
	CHECKF(logs < 0 || logs == 1, "logs of the parent only: %ld", logs);
	/* ...while the same process after exec (a shim) traces into it. */
	r = gort_test_sh(out, sizeof out, "GORT_TRACE='%s' '%s' reexec", path, bin);
	CHECKF(r == 0, "reexec: %d %s", r, out);
	tu_validate(path);
	long second = tu_count(path, "data=\"second image\"");
	CHECKF(second < 0 || second == 1, "second image's log: %ld", second);
}

static void test_fork_with_pid_pattern(void)
{
#ifdef GORT_TEST_UNDER_TSAN
	SKIP("ThreadSanitizer does not support threads started after fork()");
#endif
	const char *bin = getenv("TRACE_ENV_CHILD");
	if (!bin)
		SKIP("TRACE_ENV_CHILD not set");
	char dir[2048];
	snprintf(dir, sizeof dir, "%s", gort_test_path("fork"));
	char out[8192];
	gort_test_sh(out, sizeof out, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	int r = gort_test_sh(out, sizeof out, "cd '%s' && GORT_TRACE='%s/t-%%p.trace' '%s' fork", dir, dir, bin);
	CHECKF(r == 0, "fork child: %d %s", r, out);
	/* Two files: the parent's and the child's, both valid. */
	char list[8192];
	gort_test_sh(list, sizeof list, "ls '%s'", dir);
	int files = 0;
	for (char *s = strtok(list, "\n"); s; s = strtok(NULL, "\n")) {
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, s);
		files++;
		tu_validate(p);
		long logs = tu_count(p, "UserLog");
		CHECKF(logs < 0 || logs >= 1, "%s: logs %ld", p, logs);
	}
	CHECKF(files == 2, "trace files: %d", files);
	/* Without %p: the child must not write into the parent's file. */
	char path[4200];
	snprintf(path, sizeof path, "%s/one.trace", dir);
	r = gort_test_sh(out, sizeof out, "GORT_TRACE='%s' '%s' fork", path, bin);
	CHECKF(r == 0, "fork child: %d %s", r, out);
	tu_validate(path);
	long logs = tu_count(path, "UserLog");
	long from_child = tu_count(path, "String id=[0-9]* *$");
	(void)from_child;
	CHECKF(logs < 0 || logs == 2, "parent-only logs: %ld", logs);
}

/* ---- the buffer cap ---- */

static void test_buffer_cap(void)
{
	const char *errpath = gort_test_path("cap.stderr");
	char errfile[4096];
	snprintf(errfile, sizeof errfile, "%s", errpath);
	const char *path = gort_test_path("cap.trace");
	char tpath[4096];
	snprintf(tpath, sizeof tpath, "%s", path);
	setenv("GORT_TRACE_MAX_BUFFERED", "1M", 1);
	setenv("GORT_TRACE_STACK_DEPTH", "0", 1);
	fflush(stderr);
	int saved = dup(2);
	int efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(efd, 2);
	close(efd);
	/* gort_trace_start with nobody reading: the reader falls behind. */
	CHECK(gort_trace_start() == 0);
	for (int i = 0; i < 2000000 && gort_trace_enabled(); i++)
		gort_trace_logf(0, "spam", "message %d", i);
	for (int i = 0; i < 500 && gort_trace_enabled(); i++)
		usleep(10000);
	CHECK(!gort_trace_enabled());
	/* Drain: everything up to the cap is readable and valid. */
	FILE *f = fopen(tpath, "wb");
	const void *d;
	size_t n;
	while ((d = gort_trace_read(&n)) != NULL)
		fwrite(d, 1, n, f);
	fclose(f);
	CHECK(gort_trace_stop() == 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	unsetenv("GORT_TRACE_MAX_BUFFERED");
	unsetenv("GORT_TRACE_STACK_DEPTH");
	size_t elen = 0;
	char *err = (char *)gort_test_read_file(errfile, &elen);
	CHECKF(err && elen > 0 && memmem(err, elen, "reader fell behind", 18) != NULL, "stderr: %.*s",
	       (int)elen, err ? err : "");
	free(err);
	size_t sz = tu_file_size(tpath);
	CHECKF(sz > 100000 && sz < 8u << 20, "size %zu", sz);
	tu_validate(tpath);
	long c = tu_count(tpath, "data=\"trace stopped");
	CHECKF(c < 0 || c == 1, "final log: %ld", c);
}

/* ---- signals ---- */

static _Atomic long sig_count;

static void on_alarm(int sig)
{
	(void)sig;
	int saved = errno;
	gort_trace_log(0, "signal", "SIGALRM");
	gort_trace_region_begin(0, "in-handler");
	gort_trace_region_end(0, "in-handler");
	atomic_fetch_add(&sig_count, 1);
	errno = saved;
}

/* A thread's first event computes its stack bounds (pthread_getattr_np, not
** async-signal-safe; docs/trace.md): the workers start with SIGPROF blocked
** (inherited from main) and take it only after their first annotation.
** Otherwise the handler could interrupt a new thread inside
** pthread_getattr_np (a sanitizer's thread start-up calls it) and call it
** again on the same thread: a self-deadlock. */
static void *sig_worker(void *arg)
{
	gort_trace_log(0, "w", "start");
	if (arg) {
		sigset_t prof;
		sigemptyset(&prof);
		sigaddset(&prof, SIGPROF);
		pthread_sigmask(SIG_UNBLOCK, &prof, NULL);
	}
	for (int i = 0; i < 20000; i++) {
		gort_trace_region_begin(0, "work");
		gort_trace_logf(0, "w", "%d", i);
		gort_trace_region_end(0, "work");
	}
	return NULL;
}

static void test_signal_handler_annotations(void)
{
	const char *path = gort_test_path("signal.trace");
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	CHECK(gort_trace_start_file(path) == 0);
	uint64_t d0 = gort_trace_dropped();
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	setitimer(ITIMER_PROF, &it, NULL);
	pthread_t th[2];
	sigset_t prof, old;
	sigemptyset(&prof);
	sigaddset(&prof, SIGPROF);
	pthread_sigmask(SIG_BLOCK, &prof, &old);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, sig_worker, (void *)1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sig_worker(NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_IGN);
	CHECK(gort_trace_stop() == 0);
	tu_validate(path);
	long recorded = tu_count(path, "UserLog dt=[0-9]* task=0 key_string=[0-9]* value_string=[0-9]* stack=[0-9]*$");
	uint64_t dropped = gort_trace_dropped() - d0;
	printf("signals: %ld handled, %llu annotations dropped\n", (long)atomic_load(&sig_count),
	       (unsigned long long)dropped);
	CHECK(atomic_load(&sig_count) > 0);
	(void)recorded;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	RUN(test_100_cycles);
	RUN(test_env_start_stop_at_exit);
	RUN(test_fork_with_pid_pattern);
	RUN(test_buffer_cap);
	RUN(test_signal_handler_annotations);
	return gort_test_summary();
}
