/*
** tests/preload/prog_churn.c: many short-lived threads, 4 at a time, each
** burning a little CPU. Knows nothing of gort. With a short generation period
** and a high CPU-sample rate, thread exits race with the tracer's generation
** switches and sample drains. Prints "churn ok".
*/
#include <pthread.h>
#include <stdio.h>

static volatile unsigned long churn_sink;

static void *churn_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 200000; i++)
		churn_sink += (unsigned long)i;
	return NULL;
}

int main(void)
{
	for (int r = 0; r < 300; r++) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, churn_worker, NULL) != 0)
				return 2;
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
	}
	puts("churn ok");
	return 0;
}
