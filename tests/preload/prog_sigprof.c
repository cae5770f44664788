/*
** tests/preload/prog_sigprof.c: a program that uses SIGPROF for itself, as
** GNU sort and profilers do. Knows nothing of gort. Under the preload
** library with CPU sampling on, it must see exactly what it sees alone:
**  - sigaction(SIGPROF) queries return what it installed;
**  - its setitimer(ITIMER_PROF) signals reach its handler (never a timer
**    signal it did not ask for: si_code must not be SI_TIMER);
**  - signal() returns the previous handler;
**  - with SIG_IGN its own kill(SIGPROF) is ignored;
**  - SA_RESETHAND makes the next SIGPROF take the default action (checked
**    in a child, which must die of SIGPROF).
** Prints "sigprof ok" and exits 0, or says what differs and exits 1.
*/
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t own_signals, foreign_timer_signals;

static void on_prof(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code == SI_TIMER)
		foreign_timer_signals++;
	else
		own_signals++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU-bound; its name is what the CPU samples must show. */
__attribute__((noinline)) static unsigned long sigprof_burn(double seconds)
{
	volatile unsigned long x = 0;
	double t0 = now_s();
	while (now_s() - t0 < seconds)
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i * 2654435761u;
	return x;
}

static int fail(const char *what)
{
	printf("sigprof FAIL: %s\n", what);
	return 1;
}

int main(void)
{
	struct sigaction sa, q;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPROF, &sa, NULL) != 0)
		return fail("sigaction");
	if (sigaction(SIGPROF, NULL, &q) != 0 || !(q.sa_flags & SA_SIGINFO) || q.sa_sigaction != on_prof)
		return fail("a query does not return the handler just installed");

	struct itimerval it = { { 0, 10000 }, { 0, 10000 } };
	if (setitimer(ITIMER_PROF, &it, NULL) != 0)
		return fail("setitimer");
	sigprof_burn(0.4);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	if (own_signals < 5)
		return fail("its own profiling timer's signals did not reach its handler");
	if (foreign_timer_signals != 0)
		return fail("its handler received timer signals it did not ask for");

	void (*prev)(int) = signal(SIGPROF, SIG_IGN);
	if (prev == SIG_ERR || (void *)prev != (void *)on_prof)
		return fail("signal() does not return the previous handler");
	kill(getpid(), SIGPROF);    /* ignored */
	sigprof_burn(0.05);

	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction once = sa;
		once.sa_flags |= SA_RESETHAND;
		sigaction(SIGPROF, &once, NULL);
		kill(getpid(), SIGPROF);    /* handler, then SIG_DFL */
		kill(getpid(), SIGPROF);    /* the default action ends the child */
		sigprof_burn(0.05);
		_exit(own_signals == 0 ? 3 : 4);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return fail("fork/waitpid");
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGPROF)
		return fail("SA_RESETHAND: the second SIGPROF did not end the child");
	printf("sigprof ok\n");
	return 0;
}
