/*
** tests/preload/prog_errno.c: the wrappers keep libc's semantics. Run with
** and without the preload library (and with tracing on); every check must
** hold in all three. Knows nothing of gort. Prints "errno ok" and exits 0, or
** names the first failed check and exits 1.
*/
#define _GNU_SOURCE   /* the clock variants */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define EXPECT(cond) \
	do { if (!(cond)) { fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond); failures++; } } while (0)

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static sem_t sem, ready;

/* Takes the lock, lets main find it busy, releases it a little later. */
static void *hold_then_release(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&held);
	sem_post(&ready);
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	pthread_mutex_unlock(&held);
	return (void *)42;
}

static void *post_later(void *arg)
{
	(void)arg;
	usleep(10000);
	sem_post(&sem);
	return NULL;
}

int main(void)
{
	char buf[8];
	int p[2];
	EXPECT(pipe(p) == 0);

	/* successful calls leave errno alone */
	errno = 12345;
	EXPECT(write(p[1], "abc", 3) == 3);
	EXPECT(read(p[0], buf, sizeof buf) == 3);
	EXPECT(errno == 12345);

	/* failing calls report libc's errno */
	errno = 0;
	EXPECT(read(-1, buf, 1) == -1 && errno == EBADF);
	errno = 0;
	EXPECT(send(p[1], buf, 1, 0) == -1 && errno == ENOTSOCK);
	struct timespec bad = {0, 2000000000L};
	errno = 0;
	EXPECT(nanosleep(&bad, NULL) == -1 && errno == EINVAL);
	EXPECT(clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, NULL) == EINVAL);
	errno = 0;
	EXPECT(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);

	/* error-checking mutex: relock by the owner is EDEADLK, not a hang */
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_t ec;
	pthread_mutex_init(&ec, &a);
	EXPECT(pthread_mutex_lock(&ec) == 0);
	EXPECT(pthread_mutex_lock(&ec) == EDEADLK);
	EXPECT(pthread_mutex_unlock(&ec) == 0);

	/* recursive mutex: relock counts */
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_t rec;
	pthread_mutex_init(&rec, &a);
	EXPECT(pthread_mutex_lock(&rec) == 0 && pthread_mutex_lock(&rec) == 0);
	EXPECT(pthread_mutex_unlock(&rec) == 0 && pthread_mutex_unlock(&rec) == 0);
	EXPECT(pthread_mutex_unlock(&rec) == EPERM);

	/* a contended lock blocks and then succeeds; join returns the value */
	pthread_t t;
	void *rv = NULL;
	sem_init(&ready, 0, 0);
	EXPECT(pthread_create(&t, NULL, hold_then_release, NULL) == 0);
	while (sem_wait(&ready) != 0)
		;
	errno = 777;
	EXPECT(pthread_mutex_lock(&held) == 0);   /* unlocked by the other thread */
	EXPECT(errno == 777);
	EXPECT(pthread_join(t, &rv) == 0 && rv == (void *)42);
	pthread_mutex_unlock(&held);

	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 5 * 1000 * 1000;
	if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }

	/* rwlock: readers share, a writer is excluded */
	pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
	EXPECT(pthread_rwlock_rdlock(&rw) == 0 && pthread_rwlock_rdlock(&rw) == 0);
	EXPECT(pthread_rwlock_timedwrlock(&rw, &dl) == ETIMEDOUT);
	EXPECT(pthread_rwlock_unlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0);
	EXPECT(pthread_rwlock_wrlock(&rw) == 0 && pthread_rwlock_unlock(&rw) == 0);

	/* condition variable: a timed wait times out with the mutex re-held */
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	pthread_mutex_lock(&held);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 5 * 1000 * 1000;
	if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
	EXPECT(pthread_cond_timedwait(&cv, &held, &dl) == ETIMEDOUT);
	EXPECT(pthread_mutex_trylock(&held) == EBUSY);   /* we hold it again */
	/* the clock variants (libstdc++'s wait_for/wait_until) */
	struct timespec mono;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	mono.tv_nsec += 5 * 1000 * 1000;
	if (mono.tv_nsec >= 1000000000L) { mono.tv_sec++; mono.tv_nsec -= 1000000000L; }
	EXPECT(pthread_cond_clockwait(&cv, &held, CLOCK_MONOTONIC, &mono) == ETIMEDOUT);
	pthread_mutex_unlock(&held);
	EXPECT(pthread_mutex_clocklock(&held, CLOCK_MONOTONIC, &mono) == 0);
	pthread_mutex_unlock(&held);

	/* semaphores: an available unit does not touch errno; a wait blocks */
	sem_init(&sem, 0, 1);
	errno = 4242;
	EXPECT(sem_wait(&sem) == 0 && errno == 4242);
	EXPECT(pthread_create(&t, NULL, post_later, NULL) == 0);
	EXPECT(sem_wait(&sem) == 0 && errno == 4242);
	pthread_join(t, NULL);
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_nsec += 5 * 1000 * 1000;
	if (dl.tv_nsec >= 1000000000L) { dl.tv_sec++; dl.tv_nsec -= 1000000000L; }
	errno = 0;
	EXPECT(sem_timedwait(&sem, &dl) == -1 && errno == ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	errno = 0;
	EXPECT(sem_clockwait(&sem, CLOCK_MONOTONIC, &mono) == -1 && errno == ETIMEDOUT);

	/* sleeping */
	EXPECT(usleep(1000) == 0);
	EXPECT(sleep(0) == 0);

	if (failures == 0)
		printf("errno ok\n");
	return failures == 0 ? 0 : 1;
}
