/*
** examples/demo.c: the quick-start program (built as gort-demo).
**
** It shows both halves of gort in a few seconds:
**   1. arenas: many objects bump-allocated, the whole arena freed in one call,
**      process-wide counters before and after;
**   2. the safety net: a child process touches memory of a freed arena and
**      dies of SIGSEGV with gort's use-after-free report, while the parent
**      carries on;
**   3. the tracer: four worker threads process jobs inside a user task, with
**      regions, logs and blocking, traced to a file that `go tool trace` and
**      `gort-trace` open.
**
** Usage: gort-demo [TRACE_FILE]   (default: gort-demo.trace)
** Uses the public headers only, as any program would.
*/
#include <gort/arena.h>
#include <gort/trace.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct node {
	struct node *next;
	int value;
	char name[20];
} node;

/* Builds a linked list of n nodes in arena a; returns the head. */
static node *build_list(gort_arena *a, int n)
{
	node *head = NULL;
	for (int i = 0; i < n; i++) {
		node *x = GORT_NEW(a, node);
		if (!x)
			return NULL;
		x->value = i;
		snprintf(x->name, sizeof x->name, "node-%d", i);
		x->next = head;
		head = x;
	}
	return head;
}

static void print_stats(const char *when)
{
	gort_arena_stats st;
	gort_arena_stats_get(&st);
	/* live_bytes: arena memory that is mapped and accessible, including
	** the memory of freed chunks kept (at fresh addresses) for new arenas. */
	printf("  %-24s live arenas %llu, arena memory %llu KiB, of it ready for reuse %llu KiB\n",
	       when, (unsigned long long)st.arenas_live,
	       (unsigned long long)st.live_bytes / 1024,
	       (unsigned long long)(st.ready_bytes + st.reuse_bytes) / 1024);
}

static int demo_arenas(void)
{
	printf("1. arenas\n");
	print_stats("before:");
	gort_arena *a = gort_arena_new();
	if (!a) {
		perror("gort_arena_new");
		return 1;
	}
	node *head = build_list(a, 1000000);
	if (!head) {
		perror("gort_arena_alloc");
		gort_arena_free(a);
		return 1;
	}
	long sum = 0;
	for (node *x = head; x; x = x->next)
		sum += x->value;
	printf("  built a list of 1,000,000 nodes in one arena (sum of values %ld)\n", sum);
	print_stats("with the list:");
	gort_arena_free(a);
	print_stats("after gort_arena_free:");
	gort_arena_trim();   /* what an idle second would do */
	print_stats("after gort_arena_trim:");
	return 0;
}

static int demo_use_after_free(void)
{
	printf("2. use-after-free, caught (in a child process)\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		gort_arena *a = gort_arena_new();
		node *first = GORT_NEW(a, node);
		first->value = 42;
		/* 12 MiB more: the first 8 MiB chunk is now full. Full chunks fault
		** once freed (strict mode, GORT_ARENA_STRICT=1, faults the rest). */
		build_list(a, 300000);
		gort_arena_free(a);
		printf("  child: reading a node of the freed arena...\n");
		fflush(stdout);
		volatile int v = first->value;   /* faults: the arena is freed */
		printf("  child: read %d: the use-after-free went unnoticed!\n", v);
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		printf("  parent: the child died of SIGSEGV, as it should\n");
		return 0;
	}
	printf("  parent: unexpected child status %d\n", status);
	return 1;
}

/* ---- traced workers ------------------------------------------------------ */

enum { WORKERS = 4, JOBS = 64 };

static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cv = PTHREAD_COND_INITIALIZER;
static int next_job, jobs_done;
static uint64_t batch_task;

/* Takes the next job number, or -1 when none are left. */
static int take_job(void)
{
	pthread_mutex_lock(&queue_mu);
	int j = next_job < JOBS ? next_job++ : -1;
	pthread_mutex_unlock(&queue_mu);
	return j;
}

static void *worker_main(void *arg)
{
	char name[32];
	snprintf(name, sizeof name, "worker-%d", (int)(intptr_t)arg);
	gort_trace_thread_name(name);
	for (int j; (j = take_job()) >= 0;) {
		gort_trace_region_begin(batch_task, "job");
		gort_arena *a = gort_arena_new();        /* one arena per job */
		build_list(a, 2000 + 500 * (j % 7));
		gort_arena_free(a);
		if (j % 8 == 0) {
			gort_trace_block_begin("sleep");   /* pretend to wait for I/O */
			usleep(2000);
			gort_trace_block_end();
		}
		gort_trace_logf(batch_task, "progress", "%s finished job %d", name, j);
		gort_trace_region_end(batch_task, "job");
		pthread_mutex_lock(&queue_mu);
		if (++jobs_done == JOBS)
			pthread_cond_signal(&queue_cv);
		pthread_mutex_unlock(&queue_mu);
	}
	return NULL;
}

static int demo_trace(const char *path)
{
	printf("3. execution trace of %d workers -> %s\n", WORKERS, path);
	int rc = gort_trace_start_file(path);
	if (rc != 0) {
		fprintf(stderr, "gort-demo: cannot trace to %s: %s\n", path, strerror(-rc));
		return 1;
	}
	gort_trace_thread_name("main");
	batch_task = gort_trace_task_begin(0, "batch");
	pthread_t th[WORKERS];
	for (intptr_t i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, worker_main, (void *)i);
	pthread_mutex_lock(&queue_mu);
	gort_trace_block_begin("sync");
	while (jobs_done < JOBS)
		pthread_cond_wait(&queue_cv, &queue_mu);
	gort_trace_block_end();
	pthread_mutex_unlock(&queue_mu);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	gort_trace_task_end(batch_task);
	gort_trace_stop();
	printf("  %d jobs done; open the trace with:\n", JOBS);
	printf("    build/quick/tools/gort-trace/gort-trace stats %s\n", path);
	printf("    /usr/lib/go-1.22/bin/go tool trace %s\n", path);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "gort-demo.trace";
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: gort-demo [TRACE_FILE]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc = demo_arenas();
	rc |= demo_use_after_free();
	rc |= demo_trace(path);
	return rc;
}
