/*
** bench/preload/bench_calls.c: cost per call of interposed functions on
** their fast paths, for the preload overhead benchmark (run.sh). Knows
** nothing of gort: run it plain, preloaded with GORT_TRACE unset, and
** traced, and compare. Prints one line per operation:
**   <op> <ns per call>
** Operations: an uncontended pthread_mutex_lock+unlock pair, a 1-byte
** write to /dev/null, a 1-byte read from /dev/zero.
** Usage: bench_calls [scale [op]]   (scale default 1: 10M lock pairs, 1M
** writes, 1M reads, times scale; op = mutex, write or read runs only that)
**
** The program first starts one idle thread: glibc takes single-threaded
** shortcuts in its mutexes while a process has one thread, and the tracer's
** own threads would end them by themselves (3-4x on an uncontended
** lock+unlock), which is not a cost of tracing but of being multi-threaded.
*/
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	long scale = argc > 1 ? atol(argv[1]) : 1;
	const char *only = argc > 2 ? argv[2] : NULL;
	pthread_t idle;
	if (pthread_create(&idle, NULL, idle_thread, NULL) != 0)
		return 1;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	long n = 10000000 * scale;
	double t0;
	if (!only || strcmp(only, "mutex") == 0) {
		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			pthread_mutex_lock(&mu);
			pthread_mutex_unlock(&mu);
		}
		printf("mutex_lock_unlock %.2f\n", (now_ns() - t0) / (double)n);
	}
	int wfd = open("/dev/null", O_WRONLY), rfd = open("/dev/zero", O_RDONLY);
	char c = 0;
	n = 1000000 * scale;
	if (!only || strcmp(only, "write") == 0) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (write(wfd, &c, 1) != 1)
				return 1;
		printf("write_devnull %.2f\n", (now_ns() - t0) / (double)n);
	}
	if (!only || strcmp(only, "read") == 0) {
		t0 = now_ns();
		for (long i = 0; i < n; i++)
			if (read(rfd, &c, 1) != 1)
				return 1;
		printf("read_devzero %.2f\n", (now_ns() - t0) / (double)n);
	}
	return 0;
}
