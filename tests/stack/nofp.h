/* tests/stack/nofp.h: see nofp.c. */
#ifndef GORT_TEST_NOFP_H
#define GORT_TEST_NOFP_H
typedef int (*nofp_cb)(int);
int nofp_clobber(nofp_cb cb, int x);
int nofp_plain(nofp_cb cb, int x);
int nofp_plain_then_clobber(nofp_cb cb, int x);
#endif
