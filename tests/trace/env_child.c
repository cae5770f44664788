/*
** tests/trace/env_child.c: a program that never calls gort_trace_start; it
** is traced only through GORT_TRACE (library constructor + exit handler).
**   plain  annotate from two threads and exit normally
**   exec   run a gort-linked child process (this program, "child" mode)
**          through system(): it must not trace into our file
**   child  print whether tracing is on (started from GORT_TRACE)
**   reexec exec this program again (same process): the new image traces
**   fork   annotate, fork; the child annotates too; wait for it
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gort/trace.h>

static void *thr(void *arg)
{
	(void)arg;
	gort_trace_thread_name("env-thread");
	gort_trace_log(0, "env", "from a thread");
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "plain";
	if (strcmp(mode, "child") == 0) {
		printf("child tracing=%d\n", gort_trace_enabled());
		return 0;
	}
	if (!gort_trace_enabled()) {
		fprintf(stderr, "tracing is not on\n");
		return 2;
	}
	gort_trace_log(0, "env", "main");
	if (strcmp(mode, "plain") == 0) {
		pthread_t t;
		pthread_create(&t, NULL, thr, NULL);
		pthread_join(t, NULL);
	} else if (strcmp(mode, "exec") == 0) {
		char cmd[4200];
		snprintf(cmd, sizeof cmd, "'%s' child", argv[0]);
		fflush(stdout);
		return system(cmd) == 0 ? 0 : 3;
	} else if (strcmp(mode, "reexec") == 0) {
		if (argc > 2) {
			gort_trace_log(0, "env", "second image");
			return 0;
		}
		char *args[] = { argv[0], (char *)"reexec", (char *)"again", NULL };
		execv(argv[0], args);
		return 5;
	} else if (strcmp(mode, "fork") == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			gort_trace_log(0, "env", "child");
			exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		gort_trace_log(0, "env", "parent after fork");
		return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 4;
	}
	return 0;
}
