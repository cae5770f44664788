/*
** tests/flight/flight_proc.c: see flight_proc.h.
*/
#include "flight_proc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *fp_self(void)
{
	static char self[4096];
	if (!self[0]) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
		self[n > 0 ? n : 0] = 0;
	}
	return self;
}

pid_t fp_spawn(const char *const *args, const char *const *env, const char *errfile)
{
	const char *self = fp_self();
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (int i = 0; env && env[i]; i++)
		putenv((char *)env[i]);
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	const char *argv[16];
	int k = 0;
	argv[k++] = self;
	for (int i = 0; args[i] && k < 15; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	execv(self, (char *const *)argv);
	_exit(127);
}

int fp_wait(pid_t pid, const char *errfile, fp_result *r)
{
	int st;
	memset(r, 0, sizeof *r);
	r->pid = pid;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	r->signaled = WIFSIGNALED(st);
	r->signo = r->signaled ? WTERMSIG(st) : 0;
	r->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	FILE *f = fopen(errfile, "r");
	if (f) {
		size_t n = fread(r->err, 1, sizeof r->err - 1, f);
		r->err[n] = 0;
		fclose(f);
	}
	return 0;
}

int fp_run(const char *const *args, const char *const *env, fp_result *r)
{
	char errfile[4200];
	const char *tmp = getenv("GORT_TEST_TMPDIR");
	snprintf(errfile, sizeof errfile, "%s/child-%d.err", tmp ? tmp : "/tmp", (int)getpid());
	pid_t pid = fp_spawn(args, env, errfile);
	if (pid < 0)
		return -1;
	return fp_wait(pid, errfile, r);
}

bool fp_wait_file(const char *path, int limit_ms)
{
	struct timespec ms = { 0, 10000000 };
	for (int i = 0; i < limit_ms / 10; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ms, NULL);
	}
	return access(path, F_OK) == 0;
}

size_t fp_count(const unsigned char *buf, size_t n, const char *s)
{
	size_t k = strlen(s), c = 0;
	const unsigned char *p = buf, *end = buf + n;
	while (p < end) {
		const unsigned char *q = memmem(p, (size_t)(end - p), s, k);
		if (!q)
			break;
		c++;
		p = q + k;
	}
	return c;
}
