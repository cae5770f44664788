/*
** tests/flight/test_flight_preload.c: SIGUSR2 snapshots of an unmodified
** program (prog_busy, not linked with gort) run under
** LD_PRELOAD=libgort-preload.so GORT_FLIGHT=path.%p. Two snapshots in a row,
** each valid under Go's validator. Skipped (77) when the preload library is
** not part of this build.
** Usage: test_flight_preload PROG_BUSY PRELOAD_LIB
*/
#include "testhelper.h"
#include "flight_proc.h"
#include "flight_testutil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *prog, *lib;

static void test_sigusr2_preloaded(void)
{
	char errfile[4096], path[4096];
	const char *tmp = getenv("GORT_TEST_TMPDIR");
	snprintf(errfile, sizeof errfile, "%s/busy.err", tmp);
	pid_t pid = fork();
	if (pid == 0) {
		char e1[4200], e2[4200];
		snprintf(e1, sizeof e1, "LD_PRELOAD=%s", lib);
		snprintf(e2, sizeof e2, "GORT_FLIGHT=%s/busy.%%p.trace", tmp);
		putenv(e1);
		putenv(e2);
		putenv((char *)"GORT_FLIGHT_WINDOW=2s");
		freopen(errfile, "w", stderr);
		execl(prog, prog, "20", (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0);
	snprintf(path, sizeof path, "%s/busy.%d.trace", tmp, (int)pid);
	for (int k = 0; k < 2; k++) {
		struct timespec ts = { 0, 300 * 1000000L };
		nanosleep(&ts, NULL);
		unlink(path);
		CHECK(kill(pid, SIGUSR2) == 0);
		CHECKF(fp_wait_file(path, 15000), "snapshot %d not written", k);
		size_t n;
		unsigned char *b = gort_test_read_file(path, &n);
		ft_shape s = b ? ft_trace_shape(b, n) : (ft_shape){ 0 };
		CHECKF(s.ok, "snapshot %d: %s", k, s.why);
		free(b);
		char msg[4096];
		int v = gort_test_go_validate(path, msg, sizeof msg);
		CHECKF(v == 0 || v == 77, "Go rejects snapshot %d: %s", k, msg);
	}
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "program did not live until SIGTERM (status %d)", st);
}

int main(int argc, char **argv)
{
	if (argc < 3 || access(argv[2], R_OK) != 0) {
		printf("preload library not built; skipped\n");
		return 77;
	}
	if (!gort_test_have_go())
		return 77;
	prog = argv[1];
	lib = argv[2];
	RUN(test_sigusr2_preloaded);
	return gort_test_summary();
}
