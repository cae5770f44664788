/*
** preload/sleep.c: sleeps as GoBlock("sleep") ... GoUnblock + GoStart.
**
** Go reports time.Sleep as a blocked goroutine with reason "sleep"; a C
** thread in nanosleep is the same thing. glibc's sleep() and usleep() call
** nanosleep internally (not through the PLT), so each is wrapped itself and
** a sleep is recorded once. A zero or invalid duration still records a
** (very short) block: the wrappers do not second-guess libc.
** Owner: the preload helper.
*/
#include <time.h>
#include <unistd.h>

#include "preload.h"

static const char gr_pl_sleep_reason[] = "sleep";

/* ret name params args: a "sleep" block around the real call. */
#define GR_PL_SLEEP(ret, name, params, args)                    \
	GR_PL_WRAPPER(ret, name, params, args)                   \
	{                                                        \
		__typeof__(gr_pl_real_##name) f_ = GR_PL_NEXT(name); \
		if (GORT_LIKELY(!gr_pl_active()))                \
			return f_ args;                          \
		gr_pl_block_begin(gr_pl_sleep_reason);           \
		ret r_ = f_ args;                                \
		gr_pl_block_end();                               \
		return r_;                                       \
	}

GR_PL_SLEEP(int, nanosleep, (const struct timespec *req, struct timespec *rem), (req, rem))
GR_PL_SLEEP(int, clock_nanosleep, (clockid_t clk, int flags, const struct timespec *req,
            struct timespec *rem), (clk, flags, req, rem))
GR_PL_SLEEP(int, usleep, (useconds_t us), (us))
GR_PL_SLEEP(unsigned int, sleep, (unsigned int s), (s))
