/*
** src/flight/trace_contract.h: the part of the tracer's internal interface
** (src/internal/trace.h, owned by the tracer) that the flight recorder uses:
** the multi-sink contract of docs/BRIEF (gr_trace_sink, _gr_trace_start_sink,
** _gr_trace_stop_sink, _gr_trace_advance_generation, _gr_trace_set_period).
**
** When the tracer's header exists it is used as is (strong references, so a
** static link pulls the tracer in). Until then the same contract is declared
** here with weak references, and gort_flight_start reports -ENOSYS when the
** tracer is absent. Nothing else may be declared here.
*/
#ifndef GORT_FLIGHT_TRACE_CONTRACT_H
#define GORT_FLIGHT_TRACE_CONTRACT_H

#include <stddef.h>
#include <stdint.h>

#if defined(__has_include)
#if __has_include("internal/trace.h")
#include "internal/trace.h"
#define GR_FLIGHT_HAVE_TRACE_H 1
#endif
#endif

#ifndef GR_FLIGHT_HAVE_TRACE_H
typedef struct gr_trace_sink {
	int  (*write)(void *ctx, const void *p, size_t n);
	void (*generation_done)(void *ctx, uint64_t gen);
	void (*close)(void *ctx);
	void *ctx;
} gr_trace_sink;
__attribute__((weak)) int  _gr_trace_start_sink(const gr_trace_sink *s);
__attribute__((weak)) int  _gr_trace_stop_sink(const gr_trace_sink *s);
__attribute__((weak)) int  _gr_trace_advance_generation(void);
__attribute__((weak)) void _gr_trace_set_period(uint64_t ns);
#define GR_FLIGHT_TRACER_PRESENT() (_gr_trace_start_sink != NULL)
#else
#define GR_FLIGHT_TRACER_PRESENT() 1
#endif

#endif
