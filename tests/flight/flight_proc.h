/*
** tests/flight/flight_proc.h: run this test binary again as a child process
** in a given mode with extra environment (GORT_FLIGHT=...), so that the
** start-up constructor, signal handlers and crash path are exercised exactly
** as in a user's program. Also: wait for a file, find marker strings.
*/
#ifndef GORT_FLIGHT_PROC_H
#define GORT_FLIGHT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct fp_result {
	pid_t pid;
	bool signaled;
	int signo, exit_code;
	char err[16384];     /* the child's stderr */
} fp_result;

/* Start argv0 with args (NULL-terminated), env "K=V" strings (NULL-
** terminated) added; stderr to a temp file. Returns the pid or -1. */
pid_t fp_spawn(const char *const *args, const char *const *env, const char *errfile);
/* Wait for pid; fill r (stderr read from errfile). Returns 0 or -1. */
int fp_wait(pid_t pid, const char *errfile, fp_result *r);
/* Both in one. */
int fp_run(const char *const *args, const char *const *env, fp_result *r);

/* Path of this executable. */
const char *fp_self(void);
/* Poll until path exists (up to limit_ms); true if it does. */
bool fp_wait_file(const char *path, int limit_ms);
/* Count of non-overlapping occurrences of s in buf. */
size_t fp_count(const unsigned char *buf, size_t n, const char *s);

#endif
