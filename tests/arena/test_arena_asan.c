/*
** tests/arena/test_arena_asan.c: in an AddressSanitizer build, a
** use-after-free of an object in a small arena (whose chunk tail is reused,
** so nothing faults) is still reported by ASan, because gort poisons freed
** and not-yet-handed-out arena memory. Skipped (77) without ASan.
*/
#include <signal.h>
#include <string.h>

#include "arena/util.h"
#include "testhelper.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

#ifdef HAVE_ASAN
static volatile char sink;
static void child_uaf(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new_ex(GORT_ARENA_NONSTRICT);
	char *p = gort_arena_alloc(a, 40, 8);
	gort_arena_free(a);
	gort_arena *b = gort_arena_new();   /* takes the reused tail */
	char *q = gort_arena_alloc(b, 40, 8);
	q[0] = 1;
	sink = p[3];
}

static void child_overflow(void *arg)
{
	(void)arg;
	gort_arena *a = gort_arena_new();
	char *p = gort_arena_alloc(a, 40, 8);
	sink = p[41];   /* past the object, into memory not handed out */
}

#endif

static void asan_reports_in_reuse_mode(void)
{
#ifndef HAVE_ASAN
	SKIP("not an AddressSanitizer build");
#else
	gort_test_child c;
	CHECK(gort_test_fork(child_uaf, NULL, &c) == 0);
	CHECKF(!(c.exit_code == 0 && !c.signaled), "no report");
	CHECKF(strstr(c.err, "AddressSanitizer") && strstr(c.err, "use-after-poison"), "stderr: %s", c.err);
	CHECK(gort_test_fork(child_overflow, NULL, &c) == 0);
	CHECKF(strstr(c.err, "AddressSanitizer"), "stderr: %s", c.err);
#endif
}

int main(void)
{
	RUN(asan_reports_in_reuse_mode);
	return gort_test_summary();
}
