/*
** tests/testhelper.h: the harness every gort test uses (mimalloc's testhelper
** model, plus death tests and a Go-oracle runner).
**
** A test program is a main() that calls RUN(fn) for each case and returns
** gort_test_summary(). A case reports failures with CHECK/CHECKF; a failing
** CHECK prints file:line and the expression, marks the case failed and goes on.
** The summary prints "N passed, N failed" (the line CI reads) and returns the
** exit status: 0 when every case passed, 1 otherwise, 77 when all were skipped.
**
** Not thread-safe: CHECK from helper threads must be funnelled through the
** main thread (collect results, check after join).
*/
#ifndef GORT_TESTHELPER_H
#define GORT_TESTHELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int gort_test_case_failed;   /* set by CHECK in the running case */
extern int gort_test_case_skipped;  /* set by SKIP */

#define CHECK(expr) \
	((expr) ? (void)0 : gort_test_fail(__FILE__, __LINE__, "%s", #expr))
#define CHECKF(expr, ...) \
	((expr) ? (void)0 : gort_test_fail(__FILE__, __LINE__, __VA_ARGS__))
#define SKIP(...) \
	do { gort_test_skip(__VA_ARGS__); return; } while (0)
#define RUN(fn) gort_test_run(#fn, fn)

/* GORT_TEST_UNDER_TSAN: defined in a ThreadSanitizer build (gcc or clang),
** which cannot start threads in the child of a threaded process's fork. */
#if defined(__SANITIZE_THREAD__)
#define GORT_TEST_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORT_TEST_UNDER_TSAN 1
#endif
#endif

void gort_test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void gort_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void gort_test_run(const char *name, void (*fn)(void));
int  gort_test_summary(void);

/* Path of NAME inside this test's private temp directory (GORT_TEST_TMPDIR,
** else /tmp). Returns a static buffer reused by the next call. */
const char *gort_test_path(const char *name);

/* Result of running a function in a forked child. */
typedef struct gort_test_child {
	int  status;          /* waitpid status */
	bool signaled;        /* died of a signal */
	int  signo;           /* that signal */
	int  exit_code;       /* exit code when it exited */
	char err[16384];      /* what it wrote to stderr (truncated, NUL-terminated) */
} gort_test_child;

/* Fork; the child runs fn(arg) with stderr captured and then exits 0.
** Returns 0, or -1 if fork/pipe failed. Use for death tests. */
int gort_test_fork(void (*fn)(void *), void *arg, gort_test_child *out);

/* Run a shell command, capture stdout+stderr into out (cap bytes, NUL-terminated).
** Returns the exit status (0..255), or -1 if it could not run. */
int gort_test_sh(char *out, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Go 1.22's validator on a trace file. Returns 0 if Go accepts it, 1 if it
** rejects it (msg holds Go's error), 77 if Go's tools are not available. */
int gort_test_go_validate(const char *trace_path, char *msg, size_t cap);

/* True when Go's tools were found (GORT_GO_VALIDATE points to an executable). */
bool gort_test_have_go(void);

/* Resident set size of this process in bytes (from /proc/self/statm). */
size_t gort_test_rss(void);

/* The whole file in a malloc'd buffer (free it); *len (may be NULL) gets its
** size. NULL if it cannot be opened or memory runs out. */
unsigned char *gort_test_read_file(const char *path, size_t *len);

#endif
