/* bench/stack/bench_nofp.c: one recursion step without a frame pointer
** (built with -O2 -fomit-frame-pointer), for the fallback measurement. */
#include "bench_nofp.h"

__attribute__((noinline)) int bn_nofp_step(bn_fn next, int depth, int path)
{
	volatile char pad[32];
	pad[0] = (char)depth;
	int r = next(depth - 1 + pad[0] - (char)depth, path);
	return r + 1;
}
