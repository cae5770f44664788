/*
** tests/preload/prog_cpu.c: a CPU-bound program (one hot function). Knows
** nothing of gort. Usage: prog_cpu [rounds]  (default 40; ~10 ms each).
** Prints a checksum that depends only on the rounds.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The hot function: CPU samples must name it. */
__attribute__((noinline)) static uint64_t cpu_hot_loop(uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4000000; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL + (x >> 17);
	return x;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? atol(argv[1]) : 40;
	uint64_t sum = 0;
	for (long r = 0; r < rounds; r++)
		sum ^= cpu_hot_loop((uint64_t)r);
	printf("cpu %016llx\n", (unsigned long long)sum);
	return 0;
}
