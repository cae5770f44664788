/*
** tools/gort-trace/progress.c: a one-line progress bar on stderr.
**
** Shown only when stderr is a terminal (never in pipes, files or CI logs),
** unless GORT_NO_PROGRESS is set; GORT_FORCE_PROGRESS=1 forces it, and
** GORT_FORCE_PROGRESS=always also draws on every call (tests).
** Redraws at most every 100 ms, so the cost per call is one clock read.
*/
#include "gt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool gt_progress_wanted(void)
{
	const char *force = getenv("GORT_FORCE_PROGRESS");
	if (force && *force && *force != '0')
		return true;
	const char *off = getenv("GORT_NO_PROGRESS");
	if (off && *off && *off != '0')
		return false;
	return isatty(STDERR_FILENO) == 1;
}

void gt_progress_init(gt_progress *p, const char *label, uint64_t total)
{
	p->on = gt_progress_wanted();
	p->total = total;
	p->label = label;
	p->drawn = 0;
	p->last_ns = p->on ? now_ns() : 0;
}

void gt_progress_update(gt_progress *p, uint64_t done)
{
	if (!p->on)
		return;
	uint64_t t = now_ns();
	const char *force = getenv("GORT_FORCE_PROGRESS");
	bool always = force && strcmp(force, "always") == 0;   /* tests: draw at once */
	if (!always && t - p->last_ns < 100000000u && p->drawn)
		return;
	/* Don't flash a bar for operations that finish at once. */
	if (!always && !p->drawn && t - p->last_ns < 300000000u)
		return;
	p->last_ns = t;
	enum { WIDTH = 40 };
	if (p->total) {
		if (done > p->total)
			done = p->total;
		int fill = (int)(done * WIDTH / p->total);
		char bar[WIDTH + 1];
		for (int i = 0; i < WIDTH; i++)
			bar[i] = i < fill ? '#' : '-';
		bar[WIDTH] = 0;
		fprintf(stderr, "\r%s [%s] %3d%% %.1f/%.1f MB", p->label, bar,
			(int)(done * 100 / p->total), done / 1e6, p->total / 1e6);
	} else {
		fprintf(stderr, "\r%s %.1f MB", p->label, done / 1e6);
	}
	fflush(stderr);
	p->drawn = 1;
}

void gt_progress_done(gt_progress *p)
{
	if (p->on && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
}
