/*
** bench/flight/bench_flight.c: what the flight recorder costs.
**
**   flight_bench cost REPS PAIRS THREADS
**       Per repetition and in the same process, the cost of a traced event
**       (a region begin/end pair = 2 events) with tracing off, tracing to a
**       file, and the flight recorder on (defaults: 10 s, 64 MiB), in
**       rotating order; THREADS threads emit at once. Cost = CPU time of the
**       emitting thread per event (the hot path; immune to other processes
**       taking the CPU); also the whole process's CPU per event (adds the
**       tracer's delivery thread: file writes or the recorder's copies).
**       Prints one line per measurement, the medians and their ratios.
**   flight_bench memory SECONDS MAX_MIB THREADS
**       The recorder with a 10 s window and max_bytes = MAX_MIB under a
**       heavy event load for SECONDS: samples the store's memory (kept +
**       generation being received + chunk pool) and the process RSS every
**       250 ms and prints the maxima against the bound (max_bytes + the
**       largest generation being received + the pool's max_bytes / 8).
*/
#include "internal/flight.h"

#include <gort/trace.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
	struct timespec t;
	clock_gettime(id, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- cost ---- */

static long g_pairs;
static pthread_barrier_t g_bar;

static void *emit(void *arg)
{
	double *out = arg;
	for (long i = 0; i < 20000; i++) {   /* warm: buffers, strings */
		gort_trace_region_begin(0, "bench");
		gort_trace_region_end(0, "bench");
	}
	pthread_barrier_wait(&g_bar);
	/* CPU time of this thread: the hot path's cost, not the time other
	** processes of a shared machine took from us. */
	double t = clock_s(CLOCK_THREAD_CPUTIME_ID);
	for (long i = 0; i < g_pairs; i++) {
		gort_trace_region_begin(0, "bench");
		gort_trace_region_end(0, "bench");
	}
	*out = (clock_s(CLOCK_THREAD_CPUTIME_ID) - t) * 1e9 / (double)(2 * g_pairs);
	return NULL;
}

enum { M_OFF, M_FILE, M_FLIGHT, M_N };
static const char *const k_mode[M_N] = { "off", "file", "flight" };

static double run_mode(int mode, int threads, double *proc_ns)
{
	char path[64];
	snprintf(path, sizeof path, "/tmp/gort-flight-bench-%d.trace", (int)getpid());
	if (mode == M_FILE && gort_trace_start_file(path) != 0)
		return -1;
	if (mode == M_FLIGHT && gort_flight_start(NULL) != 0)
		return -1;
	pthread_t t[16];
	double r[16];
	pthread_barrier_init(&g_bar, NULL, (unsigned)threads);
	double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, emit, &r[i]);
	double sum = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		sum += r[i];
	}
	pthread_barrier_destroy(&g_bar);
	if (mode == M_FILE)
		gort_trace_stop();
	if (mode == M_FLIGHT)
		gort_flight_stop();
	/* Whole-process CPU per event: emitting threads plus the tracer's
	** delivery thread (file writes or the recorder's copies). */
	*proc_ns = (clock_s(CLOCK_PROCESS_CPUTIME_ID) - p0) * 1e9 /
	           (double)(2 * (g_pairs + 20000) * threads);
	unlink(path);
	return sum / threads;
}

static int cost(int reps, long pairs, int threads)
{
	double v[M_N][64], pc[M_N][64];
	g_pairs = pairs;
	if (reps > 64)
		reps = 64;
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < M_N; k++) {
			int m = (r + k) % M_N;   /* rotate the order */
			v[m][r] = run_mode(m, threads, &pc[m][r]);
			printf("rep=%d threads=%d mode=%s thread_cpu_ns_per_event=%.2f process_cpu_ns_per_event=%.2f\n",
			       r, threads, k_mode[m], v[m][r], pc[m][r]);
		}
	}
	double pcm[M_N];
	for (int m = 0; m < M_N; m++)
		pcm[m] = median(pc[m], reps);
	printf("PROCESS threads=%d off=%.2f file=%.2f flight=%.2f flight/file=%.3f\n", threads,
	       pcm[M_OFF], pcm[M_FILE], pcm[M_FLIGHT], pcm[M_FLIGHT] / pcm[M_FILE]);
	/* Paired ratio: file and flight of one repetition ran back to back, so
	** their ratio cancels slow drifts of a shared machine's load. */
	double ratio[64];
	for (int r = 0; r < reps; r++)
		ratio[r] = v[M_FLIGHT][r] / v[M_FILE][r];
	double pr = median(ratio, reps), rlo = ratio[0], rhi = ratio[reps - 1];
	double med[M_N];
	for (int m = 0; m < M_N; m++)
		med[m] = median(v[m], reps);
	printf("MEDIAN threads=%d off=%.2f file=%.2f flight=%.2f flight/file=%.3f paired=%.3f [%.2f..%.2f]\n",
	       threads, med[M_OFF], med[M_FILE], med[M_FLIGHT], med[M_FLIGHT] / med[M_FILE], pr, rlo, rhi);
	return 0;
}

/* ---- memory ---- */

static atomic_bool g_stop;

static void *load(void *arg)
{
	(void)arg;
	long i = 0;
	while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
		gort_trace_region_begin(0, "load");
		gort_trace_logf(0, "bench", "event %ld", i & 1023);
		gort_trace_region_end(0, "load");
		if ((++i & 4095) == 0)
			usleep(100);   /* let the delivery thread breathe on 2 cores */
	}
	return NULL;
}

static size_t rss_bytes(void)
{
	long total = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &total, &res) != 2)
		res = 0;
	fclose(f);
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static int memory(int seconds, int max_mib, int threads)
{
	gort_flight_config cfg = { 10ull * 1000000000ull, (size_t)max_mib << 20 };
	size_t rss0 = rss_bytes();
	if (gort_flight_start(&cfg) != 0) {
		fprintf(stderr, "flight start failed\n");
		return 1;
	}
	pthread_t t[16];
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, load, NULL);
	uint64_t max_store = 0, max_kept = 0, max_cur = 0, gens_min = ~0ull;
	size_t max_rss = 0;
	double t0 = now_s();
	gr_flight_stats st;
	while (now_s() - t0 < seconds) {
		usleep(250000);
		_gr_flight_get_stats(&st);
		if (st.alloc_bytes > max_store)
			max_store = st.alloc_bytes;
		if (st.kept_bytes > max_kept)
			max_kept = st.kept_bytes;
		if (st.cur_bytes > max_cur)
			max_cur = st.cur_bytes;
		if (now_s() - t0 > 12 && st.kept_gens < gens_min)
			gens_min = st.kept_gens;
		size_t r = rss_bytes();
		if (r > max_rss)
			max_rss = r;
	}
	atomic_store(&g_stop, true);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	_gr_flight_get_stats(&st);
	/* max_bytes + the generation being received + the chunk pool (max/8). */
	uint64_t bound = ((uint64_t)max_mib << 20) + max_cur + ((uint64_t)max_mib << 20) / 8;
	printf("MEMORY seconds=%d max_bytes=%dMiB threads=%d max_kept=%.2fMiB max_cur_gen=%.2fMiB "
	       "max_store=%.2fMiB peak_at_boundary=%.2fMiB bound(max_bytes+gen+pool)=%.2fMiB "
	       "rss_growth=%.2fMiB min_gens_kept=%llu dropped_age=%llu dropped_bytes=%llu "
	       "overflowed=%llu within_bound=%s\n",
	       seconds, max_mib, threads, max_kept / 1048576.0, max_cur / 1048576.0,
	       max_store / 1048576.0, st.peak_bytes / 1048576.0, bound / 1048576.0,
	       (double)(max_rss - rss0) / 1048576.0, (unsigned long long)(gens_min == ~0ull ? 0 : gens_min),
	       (unsigned long long)st.dropped_age, (unsigned long long)st.dropped_bytes,
	       (unsigned long long)st.overflowed,
	       max_kept <= ((uint64_t)max_mib << 20) && max_store <= bound ? "yes" : "NO");
	gort_flight_stop();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "cost"))
		return cost(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
	if (argc >= 5 && !strcmp(argv[1], "memory"))
		return memory(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: %s cost REPS PAIRS THREADS | memory SECONDS MAX_MIB THREADS\n", argv[0]);
	return 2;
}
