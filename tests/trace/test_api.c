/*
** tests/trace/test_api.c: every public call of <gort/trace.h>, single
** thread, checked by Go 1.22's validator; the reader API; error codes.
*/
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gort/trace.h>
#include "testhelper.h"
#include "trace_util.h"

static void all_calls(void)
{
	gort_trace_thread_name("api-main");
	uint64_t t1 = gort_trace_task_begin(0, "request");
	uint64_t t2 = gort_trace_task_begin(t1, "subrequest");
	CHECK(t1 >= 1 && t2 > t1);
	gort_trace_region_begin(t1, "outer");
	gort_trace_region_begin(t2, "inner");
	gort_trace_log(t2, "category", "message");
	gort_trace_logf(0, "fmt", "value=%d", 42);
	gort_trace_log(0, NULL, NULL);
	gort_trace_region_end(t2, "inner");
	gort_trace_region_end(t1, "outer");
	gort_trace_block_begin("sync");
	gort_trace_log(0, "dropped", "while blocked");   /* dropped, not invalid */
	gort_trace_block_end();
	gort_trace_syscall_begin();
	gort_trace_syscall_end();
	GORT_TRACE_REGION(t1, "for-region") {
		gort_trace_log(t1, "in", "for-region");
	}
	{
		GORT_TRACE_SCOPED_REGION(t1, "scoped");
		gort_trace_log(t1, "in", "scoped");
	}
	char big[3000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	gort_trace_log(0, "big", big);   /* truncated to 1024 bytes */
	gort_trace_task_end(t2);
	gort_trace_task_end(t1);
}

static void test_file_all_calls(void)
{
	const char *path = gort_test_path("api.trace");
	CHECK(!gort_trace_enabled());
	CHECK(gort_trace_start_file(path) == 0);
	CHECK(gort_trace_enabled());
	CHECK(gort_trace_start_file(path) == -EBUSY);
	CHECK(gort_trace_start() == -EBUSY);
	uint64_t dropped0 = gort_trace_dropped();
	all_calls();
	CHECK(gort_trace_dropped() == dropped0 + 1);
	CHECK(gort_trace_stop() == 0);
	CHECK(!gort_trace_enabled());
	CHECK(gort_trace_stop() == -EINVAL);
	CHECK(tu_file_size(path) > 16);
	tu_validate(path);
	long n = tu_count(path, "UserRegionBegin");
	CHECKF(n < 0 || n == 4, "regions begun: %ld", n);
	n = tu_count(path, "UserLog");
	CHECKF(n < 0 || n == 6, "logs: %ld", n);
	n = tu_count(path, "GoLabel");
	CHECKF(n < 0 || n >= 1, "labels: %ld", n);
}

static void test_off_is_noop(void)
{
	CHECK(!gort_trace_enabled());
	all_calls();   /* must not crash or start anything */
	CHECK(!gort_trace_enabled());
	size_t len = 1;
	CHECK(gort_trace_read(&len) == NULL && len == 0);
}

typedef struct reader_arg {
	const char *path;
	size_t total;
	int chunks;
	bool header_first;
} reader_arg;

static void *reader(void *p)
{
	reader_arg *a = p;
	FILE *f = fopen(a->path, "wb");
	const void *d;
	size_t n;
	while ((d = gort_trace_read(&n)) != NULL) {
		if (a->chunks == 0)
			a->header_first = n >= 16 && memcmp(d, "go 1.22 trace\0\0\0", 16) == 0;
		a->chunks++;
		a->total += n;
		if (f)
			fwrite(d, 1, n, f);
	}
	if (f)
		fclose(f);
	return NULL;
}

static void test_reader_api(void)
{
	reader_arg a = { gort_test_path("reader.trace"), 0, 0, false };
	CHECK(gort_trace_start() == 0);
	pthread_t th;
	pthread_create(&th, NULL, reader, &a);
	all_calls();
	CHECK(gort_trace_stop() == 0);
	pthread_join(th, NULL);
	CHECK(a.header_first);
	CHECK(a.chunks >= 2);
	CHECK(a.total == tu_file_size(a.path));
	tu_validate(a.path);
}

static void test_bad_args(void)
{
	CHECK(gort_trace_start_file("") == -EINVAL);
	CHECK(gort_trace_start_file("/nonexistent-dir/x.trace") == -ENOENT);
	CHECK(gort_trace_start_fd(-1) == -EBADF);
	CHECK(!gort_trace_enabled());
}

int main(void)
{
	RUN(test_off_is_noop);
	RUN(test_bad_args);
	RUN(test_file_all_calls);
	RUN(test_reader_api);
	return gort_test_summary();
}
