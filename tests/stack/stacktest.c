/* tests/stack/stacktest.c: see stacktest.h. */
#include "stacktest.h"
#include "internal/stack.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

const char *st_func(uintptr_t pc)
{
	const char *f = "?";
	_gr_stack_symbolize(pc - 1, &f, NULL, NULL);
	return f;
}

int st_find_seq(const uintptr_t *pcs, int n, const char *const *names, int k)
{
	for (int i = 0; i + k <= n; i++) {
		int j = 0;
		while (j < k && strcmp(st_func(pcs[i + j]), names[j]) == 0)
			j++;
		if (j == k)
			return i;
	}
	return -1;
}

void st_dump(const char *title, const uintptr_t *pcs, int n)
{
	fprintf(stderr, "  %s (%d frames):\n", title, n);
	for (int i = 0; i < n; i++) {
		const char *f, *file;
		uint32_t line;
		_gr_stack_symbolize(pcs[i] - 1, &f, &file, &line);
		fprintf(stderr, "    #%d %#lx %s %s:%u\n", i, (unsigned long)pcs[i], f, file, line);
	}
}

bool st_have_lines(void)
{
	return strcmp(_gr_stack_symbolizer_name(), "libdw") == 0;
}

bool st_prof_timer_start(void (*handler)(int), long usec)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	struct itimerval it = { { 0, usec }, { 0, usec } };
	return sigaction(SIGPROF, &sa, NULL) == 0 && setitimer(ITIMER_PROF, &it, NULL) == 0;
}

void st_prof_timer_stop(void)
{
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_DFL);
}
