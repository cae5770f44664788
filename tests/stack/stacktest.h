/*
** tests/stack/stacktest.h: helpers shared by the stack tests.
*/
#ifndef GORT_STACKTEST_H
#define GORT_STACKTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keep a call from being a tail call or inlined away. */
#define NOINLINE __attribute__((noinline))
#define BARRIER() __asm__ volatile("" ::: "memory")

/* Name of the function containing return address pc (symbolizes pc - 1). */
const char *st_func(uintptr_t pc);

/* Index in pcs[0..n) where names[0..k) appear as consecutive frames, or -1.
** Consecutive means no frame was skipped between them. */
int st_find_seq(const uintptr_t *pcs, int n, const char *const *names, int k);

/* Print the symbolized stack to stderr (for failure diagnosis). */
void st_dump(const char *title, const uintptr_t *pcs, int n);

/* True when the symbolizer reports files and lines (libdw). */
bool st_have_lines(void);

/* SIGPROF to handler (SA_RESTART) from ITIMER_PROF every usec of the
** process's CPU time: signals that interrupt the code under test. Returns
** false if either call fails. */
bool st_prof_timer_start(void (*handler)(int), long usec);

/* ITIMER_PROF off, SIGPROF back to SIG_DFL. */
void st_prof_timer_stop(void);

#endif
