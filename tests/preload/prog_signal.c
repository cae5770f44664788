/*
** tests/preload/prog_signal.c: signal handlers and cancellation meet the
** wrappers. Knows nothing of gort.
**  - a thread blocked in read() gets signals whose handler calls write()
**    and nanosleep() (both async-signal-safe, both wrapped): the nested calls
**    must not be traced inside the blocked one;
**  - threads blocked in pthread_cond_wait, read and nanosleep are cancelled.
** Prints "signal ok <handler runs>" and exits 0.
*/
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int sig_pipe[2], cancel_pipe[2], devnull_fd;
static volatile sig_atomic_t sig_runs;
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sig_cv = PTHREAD_COND_INITIALIZER;

static void sig_handler(int sig)
{
	(void)sig;
	struct timespec ts = {0, 1000};
	if (write(devnull_fd, "x", 1) == 1)
		sig_runs++;
	nanosleep(&ts, NULL);
}

static void *sig_reader(void *arg)
{
	(void)arg;
	char c;
	while (read(sig_pipe[0], &c, 1) != 1)
		;   /* EINTR without SA_RESTART: read again */
	return NULL;
}

static void sig_unlock(void *m)
{
	pthread_mutex_unlock(m);
}

static void *sig_cond_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sig_mu);
	pthread_cleanup_push(sig_unlock, &sig_mu);
	for (;;)
		pthread_cond_wait(&sig_cv, &sig_mu);
	pthread_cleanup_pop(1);
	return NULL;
}

static void *sig_blocked_reader(void *arg)
{
	(void)arg;
	char c;
	for (;;)
		if (read(cancel_pipe[0], &c, 1) < 0)
			break;
	return NULL;
}

static void *sig_sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep(10);
	return NULL;
}

int main(void)
{
	devnull_fd = open("/dev/null", O_WRONLY);
	if (devnull_fd < 0 || pipe(sig_pipe) != 0 || pipe(cancel_pipe) != 0)
		return 2;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sig_handler;   /* no SA_RESTART: read sees EINTR */
	sigaction(SIGUSR1, &sa, NULL);

	pthread_t r;
	pthread_create(&r, NULL, sig_reader, NULL);
	struct timespec ms = {0, 1000000};
	for (int i = 0; i < 50; i++) {
		nanosleep(&ms, NULL);
		pthread_kill(r, SIGUSR1);
	}
	if (write(sig_pipe[1], "g", 1) != 1)
		return 2;
	pthread_join(r, NULL);

	pthread_t c[3];
	pthread_create(&c[0], NULL, sig_cond_waiter, NULL);
	pthread_create(&c[1], NULL, sig_blocked_reader, NULL);
	pthread_create(&c[2], NULL, sig_sleeper, NULL);
	struct timespec settle = {0, 20000000};
	nanosleep(&settle, NULL);
	for (int i = 0; i < 3; i++) {
		void *res = NULL;
		pthread_cancel(c[i]);
		pthread_join(c[i], &res);
		if (res != PTHREAD_CANCELED)
			return 3;
	}
	printf("signal ok %d\n", sig_runs > 0);
	return 0;
}
