/* tests/stack/testlib.c: a module the symbolizer test dlopen()s. */
#include <stdint.h>

int testlib_call(int (*cb)(int), int x);
uintptr_t testlib_addr(void);

__attribute__((noinline)) int testlib_call(int (*cb)(int), int x)
{
	int r = cb(x);
	__asm__ volatile("" ::: "memory");
	return r + 1;
}

uintptr_t testlib_addr(void)
{
	return (uintptr_t)&testlib_call;
}
