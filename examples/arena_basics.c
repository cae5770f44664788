/*
** examples/arena_basics.c: the arena API in one page.
**
** A request handler builds a small tree of objects per request in its own
** arena and frees it all at once; a result that must outlive the request is
** cloned out with gort_arena_clone. Build: cc arena_basics.c $(pkg-config
** --cflags --libs gort).
*/
#include <gort/arena.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct header {
	char *name;
	char *value;
	struct header *next;
};

struct request {
	char *path;
	struct header *headers;
	int nheaders;
};

static void on_request_freed(void *arg)
{
	(*(int *)arg)++;
}

static struct request *parse(gort_arena *a, const char *path, int nheaders)
{
	struct request *r = GORT_NEW(a, struct request);   /* zeroed */
	if (!r)
		return NULL;
	r->path = gort_arena_strdup(a, path);
	for (int i = 0; i < nheaders; i++) {
		struct header *h = GORT_NEW(a, struct header);
		char buf[32];
		if (!h)
			return NULL;
		snprintf(buf, sizeof buf, "X-Header-%d", i);
		h->name = gort_arena_strdup(a, buf);
		h->value = gort_arena_strdup(a, "some value");
		h->next = r->headers;
		r->headers = h;
		r->nheaders++;
	}
	return r;
}

int main(void)
{
	int freed = 0;
	char *kept = NULL;
	for (int i = 0; i < 1000; i++) {
		gort_arena *a = gort_arena_new();
		if (!a) {
			perror("gort_arena_new");
			return 1;
		}
		gort_arena_on_free(a, on_request_freed, &freed);
		struct request *r = parse(a, "/index.html", 20);
		if (!r) {
			perror("parse");
			return 1;
		}
		double *samples = GORT_ARRAY(a, double, 512);   /* zeroed, overflow-checked */
		samples[0] = r->nheaders;
		if (i == 999) {
			/* Keep one string past the arena's life: clone it out to malloc. */
			kept = gort_arena_clone(r->path, strlen(r->path) + 1);
		}
		gort_arena_free(a);   /* everything above is gone; stale pointers fault */
	}
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	printf("arenas created %llu, freed %llu, hooks run %d\n",
	       (unsigned long long)st.arenas_created, (unsigned long long)st.arenas_freed, freed);
	printf("chunks: %llu fresh, %llu reused tails, %llu recycled\n",
	       (unsigned long long)st.chunks_fresh, (unsigned long long)st.chunks_reused,
	       (unsigned long long)st.chunks_recycled);
	printf("kept: %s (malloc'd: %s)\n", kept, gort_arena_contains(kept) ? "no" : "yes");
	free(kept);
	gort_arena_trim();
	return freed == 1000 ? 0 : 1;
}
