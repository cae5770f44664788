/*
** tests/flight/prog_busy.c: an ordinary program that knows nothing of gort
** (not linked with it): threads contending on a mutex and sleeping, for
** argv[1] seconds (default 20). The preload test runs it under
** LD_PRELOAD=libgort-preload.so with GORT_FLIGHT set and asks for a snapshot
** with SIGUSR2.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter;

static void *work(void *arg)
{
	long secs = *(long *)arg;
	time_t end = time(NULL) + secs;
	while (time(NULL) < end) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
		usleep(1000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long secs = argc > 1 ? atol(argv[1]) : 20;
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, work, &secs);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	printf("%lu\n", counter);
	return 0;
}
