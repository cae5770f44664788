/*
** tests/preload/prog_cpu.c: a CPU-bound program (one hot function), run on a
** worker thread and on the main thread at the same time. Knows nothing of
** gort. Usage: prog_cpu [rounds]  (default 40 per thread; ~10 ms each).
** Prints a checksum that depends only on the rounds.
*/
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static long cpu_rounds = 40;

/* The hot function: CPU samples must name it. */
__attribute__((noinline)) static uint64_t cpu_hot_loop(uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4000000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL + (x >> 17);
	return x;
}

static void *cpu_worker(void *arg)
{
	uint64_t *sum = arg;
	for (long r = 0; r < cpu_rounds; r++)
		*sum ^= cpu_hot_loop((uint64_t)r);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		cpu_rounds = atol(argv[1]);
	uint64_t a = 0, b = 1;
	pthread_t t;
	if (pthread_create(&t, NULL, cpu_worker, &a) != 0)
		return 2;
	cpu_worker(&b);
	pthread_join(t, NULL);
	printf("cpu %016llx %016llx\n", (unsigned long long)a, (unsigned long long)b);
	return 0;
}
