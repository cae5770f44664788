/* Tests for src/stack/symbolize.c: function, file and line of known code;
** unknown pcs; the cache (stable strings, no repeated back-end lookups);
** modules loaded with dlopen after the first lookup; concurrent use. */
#include "testhelper.h"
#include "stacktest.h"
#include "internal/stack.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#define DEPTH 32

static const char *lib_path;
static uintptr_t got[DEPTH];
static int ngot, here_line;

NOINLINE int sym_here(int x)
{
	ngot = _gr_stack_capture(got, DEPTH, 0); here_line = __LINE__;
	BARRIER();
	return x + ngot;
}

void test_function_file_line(void)
{
	sym_here(1);
	const char *func = NULL, *file = NULL;
	uint32_t line = 99;
	CHECK(_gr_stack_symbolize(got[0] - 1, &func, &file, &line) == 0);
	CHECKF(func && strcmp(func, "sym_here") == 0, "func %s", func ? func : "(null)");
	if (st_have_lines()) {
		CHECKF(strstr(file, "tests/stack/test_symbolize.c") != NULL, "file %s", file);
		CHECKF((int)line == here_line, "line %u, want %d", line, here_line);
	} else {
		CHECKF(strstr(file, "stack_symbolize") != NULL, "dladdr gives the module: %s", file);
		CHECK(line == 0);
	}
	/* A libc function: named, file is a source or the library's path. */
	CHECK(_gr_stack_symbolize((uintptr_t)&memcpy + 1, &func, &file, &line) == 0);
	CHECK(func[0] != '?');
}

void test_unknown_pc(void)
{
	const char *func = NULL, *file = NULL;
	uint32_t line = 7;
	CHECK(_gr_stack_symbolize(0x1000, &func, &file, &line) == -ENOENT);
	CHECK(strcmp(func, "?") == 0 && strcmp(file, "?") == 0 && line == 0);
	CHECK(_gr_stack_symbolize(0, &func, NULL, NULL) == -ENOENT);
	/* NULL outputs are allowed */
	CHECK(_gr_stack_symbolize((uintptr_t)&sym_here + 1, NULL, NULL, NULL) == 0);
}

void test_cache(void)
{
	sym_here(2);
	const char *f1, *f2, *file1, *file2;
	uint32_t l1, l2;
	CHECK(_gr_stack_symbolize(got[1] - 1, &f1, &file1, &l1) == 0);
	gr_stack_stats a, b;
	_gr_stack_get_stats(&a);
	for (int i = 0; i < 100; i++)
		CHECK(_gr_stack_symbolize(got[1] - 1, &f2, &file2, &l2) == 0);
	_gr_stack_get_stats(&b);
	CHECK(f1 == f2 && file1 == file2 && l1 == l2);   /* same interned strings */
	CHECK(b.sym_lookups == a.sym_lookups);
	CHECK(strcmp(f1, "test_cache") == 0);
}

NOINLINE int dl_cb(int x)
{
	int r = sym_here(x);
	BARRIER();
	return r + 1;
}

void test_dlopen_after_first_lookup(void)
{
	const char *func, *file;
	uint32_t line;
	CHECK(_gr_stack_symbolize((uintptr_t)&sym_here + 1, &func, NULL, NULL) == 0);
	void *h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
	CHECKF(h != NULL, "dlopen %s: %s", lib_path, dlerror());
	if (!h)
		return;
	int (*call)(int (*)(int), int) = (int (*)(int (*)(int), int))dlsym(h, "testlib_call");
	CHECK(call != NULL);
	gr_stack_stats a, b;
	_gr_stack_get_stats(&a);
	call(dl_cb, 3);
	/* got: sym_here, dl_cb, testlib_call, test_dlopen_after_first_lookup */
	static const char *const want[] = { "sym_here", "dl_cb", "testlib_call",
	                                    "test_dlopen_after_first_lookup" };
	int at = st_find_seq(got, ngot, want, 4);
	CHECKF(at == 0, "stack through the module (at %d)", at);
	if (at != 0)
		st_dump("dlopen", got, ngot);
	CHECK(_gr_stack_symbolize(got[2] - 1, &func, &file, &line) == 0);
	_gr_stack_get_stats(&b);
	CHECK(strcmp(func, "testlib_call") == 0);
	if (st_have_lines()) {
		CHECKF(strstr(file, "tests/stack/testlib.c") != NULL, "file %s", file);
		CHECK(line > 0);
		CHECK(b.sym_refreshes > a.sym_refreshes);   /* the module list was re-read */
	}
	uintptr_t pc = got[2] - 1;
	dlclose(h);
	/* strings stay valid after the module is gone; the cached answer holds */
	const char *func2;
	CHECK(_gr_stack_symbolize(pc, &func2, NULL, NULL) == 0);
	CHECK(func2 == func && strcmp(func2, "testlib_call") == 0);
}

/* ---- concurrent use ------------------------------------------------------------- */

#define NTHREADS 4
#define NPCS 256
static uintptr_t pcs[NPCS];
static const char *ref_func[NPCS];
static int thread_errors[NTHREADS];

static void *sym_worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < NPCS; i++) {
			int k = (i * 7 + id * 31 + round) % NPCS;
			const char *f;
			_gr_stack_symbolize(pcs[k], &f, NULL, NULL);
			if (ref_func[k] && f != ref_func[k])
				thread_errors[id]++;
		}
	}
	return NULL;
}

void test_threads(void)
{
	/* pcs spread over libc, the test and libgort; half symbolized up front,
	** half raced for (first lookups happen concurrently). */
	for (int i = 0; i < NPCS; i++)
		pcs[i] = (uintptr_t)(i % 3 == 0 ? (void *)&memcpy : i % 3 == 1 ? (void *)&sym_worker
		                                                                : (void *)&pthread_create) + (uintptr_t)(i * 5 + 1);
	for (int i = 0; i < NPCS; i += 2)
		_gr_stack_symbolize(pcs[i], &ref_func[i], NULL, NULL);
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, sym_worker, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < NTHREADS; i++)
		CHECKF(thread_errors[i] == 0, "thread %d saw %d changed results", i, thread_errors[i]);
	/* all agree afterwards too */
	for (int i = 1; i < NPCS; i += 2) {
		const char *a, *b;
		_gr_stack_symbolize(pcs[i], &a, NULL, NULL);
		_gr_stack_symbolize(pcs[i], &b, NULL, NULL);
		CHECK(a == b);
	}
}

int main(int argc, char **argv)
{
	lib_path = argc > 1 ? argv[1] : "./stack_testlib.so";
	RUN(test_function_file_line);
	RUN(test_unknown_pc);
	RUN(test_cache);
	RUN(test_dlopen_after_first_lookup);
	RUN(test_threads);
	return gort_test_summary();
}
