/*
** tests/stack/nofp.c: functions built with -O2 -fomit-frame-pointer (see
** CMakeLists.txt), to check that capture unwinds correctly through code that
** keeps no frame pointer.
**   nofp_plain   leaves rbp alone: a frame-pointer walk silently skips its
**                caller (the caller's caller appears in its place).
**   nofp_clobber puts garbage in rbp before calling on: a frame-pointer walk
**                stops there.
** Both keep a local array so that their frame is not trivial.
*/
#include "nofp.h"

__attribute__((noinline))
int nofp_clobber(nofp_cb cb, int x)
{
	volatile char pad[48];
	pad[0] = (char)x;
	/* rbp is an ordinary callee-saved register here: fill it with garbage. */
	__asm__ volatile("movabs $0x5a5a5a5a5a5a5a, %%rbp" ::: "rbp");
	int r = cb(x + pad[0]);
	return r + 1;
}

__attribute__((noinline))
int nofp_plain(nofp_cb cb, int x)
{
	volatile char pad[80];
	pad[3] = (char)x;
	int r = cb(x + pad[3]);
	return r * 3;
}

__attribute__((noinline))
int nofp_plain_then_clobber(nofp_cb cb, int x)
{
	volatile char pad[24];
	pad[1] = (char)x;
	int r = nofp_clobber(cb, x + pad[1]);
	return r - 2;
}
