/*
** tests/trace/trace_util.c: see trace_util.h.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "testhelper.h"
#include "trace_util.h"

bool tu_validate(const char *path)
{
	static char msg[16384];
	int r = gort_test_go_validate(path, msg, sizeof msg);
	if (r == 77)
		return true;
	CHECKF(r == 0, "Go rejected %s: %s", path, msg);
	return r == 0;
}

long tu_count(const char *path, const char *needle)
{
	const char *raw = getenv("GORT_GO_RAW");
	if (!gort_test_have_go() || !raw)
		return -1;
	char out[64];
	int r = gort_test_sh(out, sizeof out, "'%s' bytes2text < '%s' | grep -c '^[[:space:]]*%s' || true", raw, path, needle);
	if (r != 0)
		return -1;
	return strtol(out, NULL, 10);
}

void tu_spin_cpu(long cpu_ns)
{
	volatile unsigned long x = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i * 7;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < cpu_ns);
	(void)x;
}

size_t tu_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

