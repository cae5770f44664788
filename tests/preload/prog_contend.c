/*
** tests/preload/prog_contend.c: 8 threads contending on one mutex. Knows
** nothing of gort; the preload tests trace it through LD_PRELOAD.
** Usage: prog_contend [iterations-per-thread]   (default 2000)
** Prints the final counter, which must be 8 * iterations.
*/
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

enum { NTHREADS = 8 };

static pthread_mutex_t contend_mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned long contend_counter;
static volatile unsigned long contend_sink;
static long contend_iters = 2000;

/* Holds the lock long enough that the others pile up behind it; every 16th
** time it also yields the CPU while holding it, so that the lock is
** contended even when the machine is loaded and the threads would otherwise
** mostly run one after another. */
__attribute__((noinline)) static void contend_critical(void)
{
	for (int i = 0; i < 200; i++)
		contend_sink += (unsigned long)i;
	if (++contend_counter % 16 == 0)
		sched_yield();
}

__attribute__((noinline)) static void *contend_worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < contend_iters; i++) {
		pthread_mutex_lock(&contend_mu);
		contend_critical();
		pthread_mutex_unlock(&contend_mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		contend_iters = atol(argv[1]);
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, contend_worker, NULL) != 0)
			return 2;
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("counter %lu\n", contend_counter);
	return contend_counter == (unsigned long)(NTHREADS * contend_iters) ? 0 : 1;
}
