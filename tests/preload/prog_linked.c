/*
** tests/preload/prog_linked.c: a program linked with libgort (it annotates
** with regions and a log) that is also run under the preload library. Two
** copies of the tracer are then loaded; the preload library's exported
** gort_* symbols come first in the lookup order, so the program's calls and
** the preload wrappers must end up in one trace, written once: only one
** copy may take GORT_TRACE, so at most one tracer thread ("gort-trace", the
** generation switcher) may run (two copies tracing into one file corrupted
** it about once in fifty runs).
** Prints "linked ok" and exits 0.
*/
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
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

/* Threads of this process whose name is exactly name. */
static int threads_named(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[64] = "";
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = 0;
		fclose(f);
		n += strcmp(comm, name) == 0;
	}
	closedir(d);
	return n;
}

int main(void)
{
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	gort_trace_log(0, "linked", "done");
	int tracers = threads_named("gort-trace");
	if (tracers > 1) {
		fprintf(stderr, "linked FAIL: %d tracer threads: two copies of gort are tracing\n", tracers);
		return 1;
	}
	printf("linked ok %ld\n", counter);
	return 0;
}
