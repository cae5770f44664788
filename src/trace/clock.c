/*
** src/trace/clock.c: the tracer's clock (_gr_trace_now).
**
** Ticks are nanoseconds of CLOCK_MONOTONIC, so the trace's Frequency is
** exactly 1e9 and Go's per-delta conversion (1e9/freq = 1) never rounds.
** With an invariant TSC (CPUID 0x80000007 EDX bit 8) the nanoseconds come from
** RDTSC scaled by a multiplier calibrated once per process against
** CLOCK_MONOTONIC (about 20 ms, at the first trace start), plus an offset
** that makes the two agree at calibration; otherwise from
** clock_gettime. The state is written once, before any trace starts, and
** read-only afterwards.
*/
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define GR_HAVE_TSC 1
#endif

#include "internal/trace.h"
#include "trace/clock.h"

struct gr_clock _gr_clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t _gr_clock_mono(void)
{
	return mono_ns();
}

uint64_t _gr_trace_now(void)
{
	return gr_now();
}

#ifdef GR_HAVE_TSC
static bool invariant_tsc(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u)
		return false;
	__get_cpuid(0x80000007u, &a, &b, &c, &d);
	return (d >> 8) & 1u;
}

/* One (tsc, ns) pair, taken where the two reads were closest together. */
static void pair(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 16; i++) {
		uint64_t a = mono_ns();
		uint64_t t = __rdtsc();
		uint64_t b = mono_ns();
		if (b - a < best) {
			best = b - a;
			*tsc = t;
			*ns = a + (b - a) / 2;
		}
	}
}
#endif

void _gr_clock_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, _gr_clock_calibrate);
}

void _gr_clock_calibrate(void)
{
	_gr_clk.tsc = false;
#ifdef GR_HAVE_TSC
	const char *force = getenv("GORT_TRACE_CLOCK");
	if (force && strcmp(force, "monotonic") == 0)
		return;
	if (!invariant_tsc())
		return;
	uint64_t t0 = 0, n0 = 0, t1 = 0, n1 = 0;
	pair(&t0, &n0);
	struct timespec req = { 0, 20 * 1000 * 1000 };
	while (nanosleep(&req, &req) != 0)
		;
	pair(&t1, &n1);
	if (t1 <= t0 || n1 <= n0)
		return;
	/* ns per tick as 32.32 fixed point */
	unsigned __int128 m = ((unsigned __int128)(n1 - n0) << 32) / (t1 - t0);
	if (m == 0 || m > UINT32_MAX * (unsigned __int128)64)
		return;
	_gr_clk.mult = (uint64_t)m;
	/* n0 = (t0 * mult >> 32) + off: the scaled TSC meets CLOCK_MONOTONIC at t0 */
	_gr_clk.off = n0 - (uint64_t)(((unsigned __int128)t0 * _gr_clk.mult) >> 32);
	_gr_clk.tsc = true;
#endif
}
