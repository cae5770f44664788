/*
** tests/preload/prog_ctor.c: start-up corner cases for the interposer. A
** constructor (which may run before the preload library's own
** initialisation is complete from this program's point of view) resolves
** symbols with dlsym, creates threads that contend on a mutex and sleep, and
** joins them; main does the same again. Then one thread calls exit() while
** another is blocked on a condition variable: the trace must still end
** cleanly. Knows nothing of gort.
** Prints "ctor ok" on the normal path; exits 0 through exit() from a thread.
*/
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t ctor_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ctor_cv = PTHREAD_COND_INITIALIZER;
static volatile long ctor_count;

static void *ctor_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&ctor_mu);
		ctor_count++;
		pthread_mutex_unlock(&ctor_mu);
	}
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, NULL);
	return NULL;
}

static void ctor_round(void)
{
	typedef int (*create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	create_fn create = (create_fn)dlsym(RTLD_DEFAULT, "pthread_create");
	if (create == NULL) {
		fprintf(stderr, "dlsym failed: %s\n", dlerror());
		exit(3);
	}
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		create(&t[i], NULL, ctor_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
}

__attribute__((constructor)) static void ctor_early(void)
{
	ctor_round();
}

static void *ctor_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&ctor_mu);
	for (;;)
		pthread_cond_wait(&ctor_cv, &ctor_mu);   /* never signalled */
	return NULL;
}

static void *ctor_exiter(void *arg)
{
	(void)arg;
	usleep(20000);
	printf("ctor ok %ld\n", ctor_count);
	fflush(stdout);
	exit(0);
}

int main(void)
{
	ctor_round();
	pthread_t w, e;
	pthread_create(&w, NULL, ctor_waiter, NULL);
	pthread_create(&e, NULL, ctor_exiter, NULL);
	pthread_join(e, NULL);   /* never returns: the exiter ends the process */
	return 1;
}
