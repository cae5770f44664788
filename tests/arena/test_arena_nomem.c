/*
** tests/arena/test_arena_nomem.c: ENOMEM under a small RLIMIT_AS. The limit
** is set before the first arena, so gort sizes its region to fit; allocation
** then fails cleanly with NULL + ENOMEM (no abort), and the arena stays
** usable and freeable.
*/
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arena/util.h"
#include "testhelper.h"

static size_t vm_size(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%lu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void nomem_under_rlimit(void)
{
	struct rlimit rl = { vm_size() + ((size_t)512 << 20), vm_size() + ((size_t)512 << 20) };
	if (setrlimit(RLIMIT_AS, &rl) != 0)
		SKIP("setrlimit failed");
	gort_arena *a = gort_arena_new();
	CHECK(a != NULL);
	if (!a)
		return;
	size_t got = 0;
	void *p;
	int err = 0;
	for (;;) {
		errno = 0;
		p = gort_arena_alloc(a, 1 << 20, 16);
		if (!p) {
			err = errno;
			break;
		}
		got++;
		if (got > 4096)
			break;
	}
	CHECKF(p == NULL && err == ENOMEM, "p=%p errno=%d after %zu MiB", p, err, got);
	CHECKF(got >= 16 && got < 512, "%zu MiB before ENOMEM", got);
	errno = 0;
	CHECK(gort_arena_alloc(a, (size_t)3 << 20, 16) == NULL && errno == ENOMEM);
	char *s = gort_arena_alloc(a, 16, 8);   /* may still fit in the active chunk */
	(void)s;
	gort_arena_free(a);
	/* Everything came back: a new arena can allocate again. */
	gort_arena *b = gort_arena_new();
	CHECK(b && gort_arena_alloc(b, 1 << 20, 16) != NULL);
	gort_arena_free(b);
}

int main(void)
{
	RUN(nomem_under_rlimit);
	return gort_test_summary();
}
