/*
** tests/testhelper.c: implementation of the test harness (see testhelper.h).
** Single-threaded by contract; the counters are plain globals.
*/
#include "testhelper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int gort_test_case_failed;
int gort_test_case_skipped;
static int n_passed, n_failed, n_skipped;
static const char *current_case = "?";

void gort_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL %s (%s:%d): ", current_case, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	gort_test_case_failed = 1;
}

void gort_test_skip(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "SKIP %s: ", current_case);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	gort_test_case_skipped = 1;
}

void gort_test_run(const char *name, void (*fn)(void))
{
	current_case = name;
	gort_test_case_failed = 0;
	gort_test_case_skipped = 0;
	fn();
	if (gort_test_case_failed) {
		n_failed++;
	} else if (gort_test_case_skipped) {
		n_skipped++;
	} else {
		n_passed++;
		fprintf(stderr, "ok   %s\n", name);
	}
	current_case = "?";
}

int gort_test_summary(void)
{
	printf("%d passed, %d failed, %d skipped\n", n_passed, n_failed, n_skipped);
	fflush(stdout);
	if (n_failed)
		return 1;
	if (n_passed == 0 && n_skipped > 0)
		return 77;
	return 0;
}

const char *gort_test_path(const char *name)
{
	static char buf[4096];
	const char *dir = getenv("GORT_TEST_TMPDIR");
	snprintf(buf, sizeof buf, "%s/%s", dir && *dir ? dir : "/tmp", name);
	return buf;
}

static void read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	for (;;) {
		char scratch[4096];
		ssize_t r = read(fd, scratch, sizeof scratch);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r;
		if (n + take > cap - 1)
			take = cap - 1 - n;
		memcpy(buf + n, scratch, take);
		n += take;
	}
	buf[n] = 0;
}

int gort_test_fork(void (*fn)(void *), void *arg, gort_test_child *out)
{
	int p[2];
	memset(out, 0, sizeof *out);
	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		close(p[1]);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	read_all(p[0], out->err, sizeof out->err);
	close(p[0]);
	while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
		;
	out->signaled = WIFSIGNALED(out->status);
	out->signo = out->signaled ? WTERMSIG(out->status) : 0;
	out->exit_code = WIFEXITED(out->status) ? WEXITSTATUS(out->status) : -1;
	return 0;
}

int gort_test_sh(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	char full[8300];
	snprintf(full, sizeof full, "( %s ) 2>&1", cmd);
	FILE *f = popen(full, "r");
	if (!f)
		return -1;
	size_t n = fread(out, 1, cap ? cap - 1 : 0, f);
	if (cap)
		out[n] = 0;
	/* drain the rest so the child does not block on a full pipe */
	char sink[4096];
	while (fread(sink, 1, sizeof sink, f) > 0)
		;
	int st = pclose(f);
	if (st < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool gort_test_have_go(void)
{
	const char *v = getenv("GORT_GO_VALIDATE");
	return v && *v && access(v, X_OK) == 0;
}

int gort_test_go_validate(const char *trace_path, char *msg, size_t cap)
{
	if (!gort_test_have_go()) {
		if (cap)
			snprintf(msg, cap, "Go 1.22 validator not available");
		return 77;
	}
	int rc = gort_test_sh(msg, cap, "'%s' < '%s'", getenv("GORT_GO_VALIDATE"), trace_path);
	return rc == 0 ? 0 : 1;
}

size_t gort_test_rss(void)
{
	long pages_total = 0, pages_res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages_total, &pages_res) != 2)
		pages_res = 0;
	fclose(f);
	return (size_t)pages_res * (size_t)sysconf(_SC_PAGESIZE);
}

unsigned char *gort_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0, r;
	unsigned char *b = malloc(cap);
	while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			unsigned char *nb = realloc(b, cap * 2);
			if (!nb)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (b && len)
		*len = n;
	return b;
}
