/*
** tests/trace/test_main_cpu.c: a program linked with libgort, traced only
** through GORT_TRACE, whose main thread spins on the CPU and never calls the
** tracer: the main thread must be in the trace from the start (registered
** with the CPU profiler), so the trace holds CPU samples whose stacks name
** the spinning function. The test runs itself as the traced child ("spin").
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <gort/traceparse.h>
#include "testhelper.h"
#include "trace_util.h"

/* Not static, not inlined: its name must reach the samples' stacks. */
void gort_test_spin_main(long cpu_ns);
__attribute__((noinline)) void gort_test_spin_main(long cpu_ns)
{
	tu_spin_cpu(cpu_ns);
	__asm__ volatile("" ::: "memory");   /* not a tail call: stays on the stack */
}

/* CPU samples in the trace, and how many have a frame named fn. */
static int count_samples(const char *path, const char *fn, long *all, long *named)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc = -1;
	*all = *named = 0;
	while (r && (rc = gort_tp_next(r, &ev)) > 0) {
		if (ev->kind != GORT_TP_STACK_SAMPLE)
			continue;
		(*all)++;
		for (size_t i = 0; i < ev->stack.nframes; i++) {
			const gort_tp_str *f = &ev->stack.frames[i].func;
			if (f->len == strlen(fn) && memcmp(f->ptr, fn, f->len) == 0) {
				(*named)++;
				break;
			}
		}
	}
	if (!r || rc < 0)
		fprintf(stderr, "parse: %s\n", r ? gort_tp_error(r) : "no reader");
	int res = r && rc == 0 ? 0 : -1;
	gort_tp_close(r);
	close(fd);
	return res;
}

static char self[4096];

static void test_main_thread_samples(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", gort_test_path("main_cpu.trace"));
	unlink(path);
	char out[4096];
	int r = gort_test_sh(out, sizeof out, "GORT_TRACE='%s' GORT_TRACE_CPU_HZ=1000 '%s' spin", path, self);
	CHECKF(r == 0, "child: %d %s", r, out);
	char msg[4096];
	int v = gort_test_go_validate(path, msg, sizeof msg);
	CHECKF(v == 0 || v == 77, "Go rejects the trace: %s", msg);
	long all = 0, named = 0;
	CHECK(count_samples(path, "gort_test_spin_main", &all, &named) == 0);
	/* ~300 samples of CPU time at 1000 Hz; a few are enough to show the
	** main thread is sampled (without its entry there are none). */
	CHECKF(named >= 10, "CPU samples: %ld, naming gort_test_spin_main: %ld", all, named);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "spin") == 0) {
		gort_test_spin_main(300000000L);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	RUN(test_main_thread_samples);
	return gort_test_summary();
}
