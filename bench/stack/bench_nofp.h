/* bench/stack/bench_nofp.h: see bench_nofp.c. */
#ifndef GORT_BENCH_NOFP_H
#define GORT_BENCH_NOFP_H
typedef int (*bn_fn)(int depth, int path);
int bn_nofp_step(bn_fn next, int depth, int path);
#endif
