/*
** bench/parse/bench_parse.c: reads every event of a trace with the gort
** reader (from a file descriptor, as a tool would) and prints one line:
**   events=N bytes=B generations=G max_generation_bytes=M seconds=S events_per_sec=E
** It touches each event's kind, time and stack so the work is not optimised
** away. Used by bench/parse/run.sh.
** Usage: bench_parse [-n] FILE   (-n: Go's reader checks only, no validator)
*/
#include <gort/traceparse.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	bool novalidate = argc == 3 && strcmp(argv[1], "-n") == 0;
	if (argc != 2 && !novalidate) {
		fprintf(stderr, "usage: bench_parse [-n] FILE\n");
		return 2;
	}
	int fd = open(argv[argc - 1], O_RDONLY);
	if (fd < 0) {
		perror(argv[argc - 1]);
		return 2;
	}
	double t0 = now();
	gort_tp_reader *r = gort_tp_open_fd(fd);
	if (novalidate)
		gort_tp_set_validation(r, false);
	const gort_tp_event *ev;
	unsigned long long n = 0, gens = 0, frames = 0, kinds[16] = { 0 };
	uint64_t last_sync_bytes = 16, max_gen = 0;
	int rc;
	while ((rc = gort_tp_next(r, &ev)) > 0) {
		n++;
		kinds[ev->kind & 15]++;
		frames += ev->stack.nframes;
		if (ev->kind == GORT_TP_SYNC) {
			gens++;
			uint64_t b = gort_tp_bytes_read(r);
			/* bytes_read includes the next generation's first batch: close enough */
			if (b - last_sync_bytes > max_gen)
				max_gen = b - last_sync_bytes;
			last_sync_bytes = b;
		}
	}
	double dt = now() - t0;
	if (rc < 0) {
		fprintf(stderr, "bench_parse: %s\n", gort_tp_error(r));
		return 1;
	}
	printf("events=%llu bytes=%llu generations=%llu max_generation_bytes=%llu seconds=%.3f events_per_sec=%.0f "
	       "transitions=%llu frames=%llu\n",
	       n, (unsigned long long)gort_tp_bytes_read(r), gens, (unsigned long long)max_gen, dt, (double)n / dt,
	       kinds[GORT_TP_STATE_TRANSITION], frames);
	gort_tp_close(r);
	close(fd);
	return 0;
}
