/*
** tests/preload/prog_linked.c: a program linked with libgort (it annotates
** with regions and a log) that is also run under the preload library. Two
** copies of the tracer are then loaded; the preload library's exported
** gort_* symbols come first in the lookup order, so the program's calls and
** the preload wrappers must end up in one trace, written once.
** Prints "linked ok" and exits 0.
*/
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <gort/trace.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		gort_trace_region_begin(0, "linked-work");
		pthread_mutex_lock(&mu);
		counter++;
		usleep(10);
		pthread_mutex_unlock(&mu);
		gort_trace_region_end(0, "linked-work");
	}
	return NULL;
}

int main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	gort_trace_log(0, "linked", "done");
	printf("linked ok %ld\n", counter);
	return 0;
}
