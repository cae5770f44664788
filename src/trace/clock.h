/*
** src/trace/clock.h: inline clock read for the tracer's hot path (see
** clock.c). _gr_clk is written once by _gr_clock_init (pthread_once) before
** the first trace starts and is read-only afterwards.
*/
#ifndef GORT_TRACE_CLOCK_H
#define GORT_TRACE_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

struct gr_clock {
	bool tsc;            /* use RDTSC */
	uint64_t mult;       /* ns per TSC tick, 32.32 fixed point */
	uint64_t off;        /* ns = (tsc * mult >> 32) + off (mod 2^64) */
};
extern struct gr_clock _gr_clk __attribute__((visibility("hidden")));

void _gr_clock_init(void);
void _gr_clock_calibrate(void);
uint64_t _gr_clock_mono(void);

#if defined(__x86_64__) || defined(__i386__)
/* The clock when _gr_clk.tsc is set (RDTSC scaled): no call. The whole
** TSC is scaled (a 128-bit product: no overflow for any 64-bit TSC) and the
** offset added, so there is no subtraction to clamp: a TSC read slightly
** behind another CPU's gives a slightly smaller time, which the writer's
** delta clamps to 0 like any other. */
static inline __attribute__((always_inline)) uint64_t gr_now_tsc(void)
{
	return (uint64_t)(((unsigned __int128)__rdtsc() * _gr_clk.mult) >> 32) + _gr_clk.off;
}
#define GR_HAVE_NOW_TSC 1
#endif

static inline uint64_t gr_now(void)
{
#ifdef GR_HAVE_NOW_TSC
	if (__builtin_expect(_gr_clk.tsc, 1))
		return gr_now_tsc();
#endif
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
