/*
** examples/consumer/main.c: a program built against an installed gort.
** Prints "consumer ok" when the arena works.
*/
#include <gort/arena.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	gort_arena *a = gort_arena_new();
	if (!a)
		return 1;
	char *s = gort_arena_strdup(a, "consumer ok");
	int *v = GORT_ARRAY(a, int, 100);
	int ok = s && v && v[99] == 0 && gort_arena_contains(s);
	if (ok)
		puts(s);
	gort_arena_free(a);
	return ok ? 0 : 1;
}
