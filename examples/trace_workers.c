/*
** examples/trace_workers.c: a small work queue traced with gort.
**
** A producer (main) fills a mutex/condvar queue with jobs; four workers take
** them. Every job is a task (child of the "batch" task) with nested regions,
** logs, a short sleep and a write(2) marked as a syscall; waiting for the
** queue is marked as blocking. Trace it and open the result with Go's tool:
**
**   GORT_TRACE=workers.trace ./example_trace_workers && go tool trace workers.trace
**   ./example_trace_workers workers.trace          (starts the trace itself)
*/
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <gort/trace.h>

enum { WORKERS = 4, JOBS = 64 };

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int jobs[JOBS];
	int head, tail;
	int done;
	int waiting;          /* workers waiting on the empty queue */
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, 0, 0, 0, 0 };

static uint64_t batch;

static int take_job(void)
{
	pthread_mutex_lock(&q.mu);
	while (q.head == q.tail && !q.done) {
		gort_trace_block_begin("sync");   /* waiting on the queue */
		q.waiting++;
		pthread_cond_wait(&q.cv, &q.mu);
		q.waiting--;
		gort_trace_block_end();
	}
	int job = q.head < q.tail ? q.jobs[q.head++] : -1;
	pthread_mutex_unlock(&q.mu);
	return job;
}

static unsigned long compute(int job)
{
	unsigned long x = (unsigned long)job;
	GORT_TRACE_REGION(0, "inner-loop") {
		for (int i = 0; i < 20000 + job * 500; i++)
			x = x * 6364136223846793005UL + 1442695040888963407UL;
	}
	return x;
}

static void *worker_main(void *arg)
{
	char name[32];
	snprintf(name, sizeof name, "worker-%d", (int)(intptr_t)arg);
	gort_trace_thread_name(name);
	int devnull = open("/dev/null", O_WRONLY);
	int job;
	while ((job = take_job()) >= 0) {
		uint64_t task = gort_trace_task_begin(batch, "job");
		gort_trace_region_begin(task, "parse");
		gort_trace_logf(task, "job", "%s took job %d", name, job);
		gort_trace_region_end(task, "parse");

		gort_trace_region_begin(task, "compute");
		unsigned long r = compute(job);
		gort_trace_region_end(task, "compute");

		if (job % 4 == 0) {
			gort_trace_block_begin("sleep");
			struct timespec ts = { 0, 200 * 1000 };
			nanosleep(&ts, NULL);
			gort_trace_block_end();
		}
		gort_trace_syscall_begin();
		ssize_t w = write(devnull, &r, sizeof r);
		gort_trace_syscall_end();
		gort_trace_logf(task, "result", "job %d -> %lx (%zd bytes written)", job, r, w);
		gort_trace_task_end(task);
	}
	close(devnull);
	return NULL;
}

/* Whether a worker waits on the empty queue (the producer's pause lasts
** until one does, so the trace always shows workers blocked on it). */
static int worker_idle(void)
{
	pthread_mutex_lock(&q.mu);
	int idle = q.waiting > 0;
	pthread_mutex_unlock(&q.mu);
	return idle;
}

int main(int argc, char **argv)
{
	bool own = argc > 1 && !gort_trace_enabled();
	if (own && gort_trace_start_file(argv[1]) != 0) {
		perror("gort_trace_start_file");
		return 1;
	}
	gort_trace_thread_name("producer");
	batch = gort_trace_task_begin(0, "batch");
	pthread_t th[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&th[i], NULL, worker_main, (void *)(intptr_t)i);
	GORT_TRACE_REGION(batch, "produce") {
		for (int i = 0; i < JOBS; i++) {
			pthread_mutex_lock(&q.mu);
			q.jobs[q.tail++] = i;
			pthread_cond_signal(&q.cv);
			pthread_mutex_unlock(&q.mu);
			if (i % 16 == 15) {   /* pause until a worker idles */
				gort_trace_log(batch, "producer", "pausing");
				gort_trace_block_begin("sleep");
				do
					usleep(1000);
				while (!worker_idle());
				gort_trace_block_end();
			}
		}
	}
	pthread_mutex_lock(&q.mu);
	q.done = 1;
	pthread_cond_broadcast(&q.cv);
	pthread_mutex_unlock(&q.mu);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	gort_trace_task_end(batch);
	if (own)
		gort_trace_stop();
	printf("done: %d jobs on %d workers\n", JOBS, WORKERS);
	return 0;
}
