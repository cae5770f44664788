/*
** tests/cli/fake_preload.c: a stand-in for libgort-preload.so, so that
** `gort-trace record`'s own work (environment, exit status, messages) is
** tested even where the real preload library is not built. On load it
** writes "fake trace" to $GORT_TRACE; it traces nothing.
*/
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void fake_preload_init(void)
{
	const char *p = getenv("GORT_TRACE");
	if (!p || !*p)
		return;
	FILE *f = fopen(p, "w");
	if (f) {
		fputs("fake trace\n", f);
		fclose(f);
	}
}
