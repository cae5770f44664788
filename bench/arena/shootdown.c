/*
** bench/arena/shootdown.c: what a TLB shootdown costs on this machine, for
** the system calls gort makes when a full chunk retires (docs/arena.md,
** "System calls and threads"). Not a gort benchmark: plain system calls.
**
** For each operation it reports the median and 90th percentile time per call
** with no other thread, and with a sibling thread of the same process pinned
** to another CPU (spinning in user space, so the kernel must interrupt it to
** flush its TLB), plus the TLB-shootdown interrupts the kernel counted
** (/proc/interrupts "TLB" line, all CPUs) per call.
**
**   mprotect-4K    mprotect one present page to PROT_READ and back (2 flushes)
**   mremap-2M      mremap(MREMAP_DONTUNMAP) of a present 2 MiB range (1 PMD)
**   mremap-8M      the same for 8 MiB (4 PMDs): what retiring a chunk does
**   mmap-empty-8M  mmap(PROT_NONE, MAP_FIXED) over the emptied 8 MiB range
**                  (timed alone; its IPI count includes the untimed mremap
**                  before it, so compare it with the mremap-8M row)
**
** Usage: shootdown [calls]. Prints a Markdown table. Needs 2 CPUs for the
** sibling rows (otherwise they are skipped).
*/
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define MB ((size_t)1 << 20)

static atomic_int stop;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static long tlb_irqs(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[4096];
	long sum = -1;
	while (f && fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4) != 0)
			continue;
		sum = 0;
		p += 4;
		for (;;) {
			char *e;
			long v = strtol(p, &e, 10);
			if (e == p)
				break;
			sum += v;
			p = e;
		}
	}
	if (f)
		fclose(f);
	return sum;
}

static void pin(pthread_t t, int cpu)
{
	cpu_set_t s;
	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(t, sizeof s, &s);
}

static void *spin(void *arg)
{
	(void)arg;
	volatile unsigned long x = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		x++;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum { OP_MPROTECT, OP_MREMAP2, OP_MREMAP8, OP_MMAP_EMPTY, NOPS };
static const char *names[NOPS] = { "mprotect-4K (x2)", "mremap-2M", "mremap-8M", "mmap-empty-8M (*)" };

/* Time n calls of op; returns per-call times in d (sorted) and IPIs per call. */
static double run_op(int op, int n, double *d)
{
	size_t len = op == OP_MREMAP2 ? 2 * MB : 8 * MB;
	/* A reservation with room for n + 2 aligned chunks of len bytes. */
	size_t span = (size_t)(n + 2) * len + 8 * MB;
	char *res = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -1;
	char *cur = (char *)(((uintptr_t)res + 8 * MB - 1) & ~(uintptr_t)(8 * MB - 1));
	mmap(cur, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	memset(cur, 1, len);
	long i0 = tlb_irqs();
	for (int i = 0; i < n; i++) {
		char *to = cur + len;
		double t0 = 0, t1 = 0;
		switch (op) {
		case OP_MPROTECT:
			cur[0] = 2;
			t0 = now_ns();
			mprotect(cur, 4096, PROT_READ);
			mprotect(cur, 4096, PROT_READ | PROT_WRITE);
			t1 = now_ns();
			break;
		case OP_MREMAP2:
		case OP_MREMAP8:
			memset(cur, 2, len);   /* present pages in this CPU's TLB */
			t0 = now_ns();
			mremap(cur, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
			t1 = now_ns();
			mmap(cur, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
			cur = to;
			break;
		case OP_MMAP_EMPTY:
			memset(cur, 2, len);
			mremap(cur, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
			t0 = now_ns();
			mmap(cur, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
			t1 = now_ns();
			cur = to;
			break;
		}
		d[i] = t1 - t0;
	}
	long i1 = tlb_irqs();
	munmap(res, span);
	qsort(d, (size_t)n, sizeof *d, cmp);
	return i0 < 0 ? -1 : (double)(i1 - i0) / n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	if (n < 10)
		n = 10;
	double *d = malloc((size_t)n * sizeof *d);
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	printf("| operation | sibling | p50 us | p90 us | TLB IPIs per call |\n");
	printf("|---|---|---:|---:|---:|\n");
	for (int sib = 0; sib <= 1; sib++) {
		if (sib && ncpu < 2)
			break;
		pthread_t t;
		if (sib) {
			atomic_store(&stop, 0);
			pthread_create(&t, NULL, spin, NULL);
			pin(t, 1);
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);   /* let it start spinning there */
		}
		pin(pthread_self(), 0);
		for (int op = 0; op < NOPS; op++) {
			double ipis = run_op(op, n, d);
			printf("| %s | %s | %.1f | %.1f | %.2f |\n", names[op], sib ? "busy on CPU 1" : "none",
			       d[n / 2] / 1e3, d[n * 9 / 10] / 1e3, ipis);
		}
		if (sib) {
			atomic_store(&stop, 1);
			pthread_join(t, NULL);
		}
	}
	printf("\n(*) IPIs counted for the untimed mremap-8M before it plus the mmap.\n");
	free(d);
	return 0;
}
