/*
** src/internal/flight.h: the flight recorder's internals shared between its
** files (src/flight/) and its tests. Owner: flight recorder.
**
**   flight_store.c  the generation store: receives the tracer's bytes as a
**                   sink, keeps whole generations, applies the window
**                   (age/bytes), serves snapshots (locked, refcounted) and the
**                   crash path (lock-free walk of the published list).
**   flight.c        the public API (gort_flight_*) and the tracer binding.
**   flight_env.c    GORT_FLIGHT: start-up constructor, helper thread,
**                   SIGUSR2 and fatal-signal handlers, crash dump.
**
** The tracer is reached only through a backend table so that tests can feed
** recorded generations without a running tracer (tests/flight).
*/
#ifndef GORT_INTERNAL_FLIGHT_H
#define GORT_INTERNAL_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/trace.h"   /* gr_trace_sink and the sink contract */

/* What the recorder needs from a trace producer (the tracer by default). */
typedef struct gr_flight_backend {
	int  (*start_sink)(const gr_trace_sink *s);
	int  (*stop_sink)(const gr_trace_sink *s);
	int  (*advance)(void);                  /* force a boundary; synchronous */
	void (*set_period)(uint64_t ns);
	uint64_t (*now_ns)(void);               /* NULL = CLOCK_MONOTONIC */
} gr_flight_backend;

/* Replace the backend (NULL = the tracer). Only while no recorder runs. */
void _gr_flight_set_backend(const gr_flight_backend *b);

/* Counters of the running (or last) recorder, for tests and docs. */
typedef struct gr_flight_stats {
	uint64_t kept_gens, kept_bytes;      /* complete generations held now */
	uint64_t first_gen, last_gen;        /* their numbers (0 if none) */
	uint64_t oldest_start_ns;            /* start time of the oldest kept one */
	uint64_t cur_bytes;                  /* generation being received */
	uint64_t dropped_age, dropped_bytes; /* generations dropped, by reason */
	uint64_t overflowed;                 /* generations cut for exceeding max_bytes */
	uint64_t period_ns;                  /* generation period requested */
	uint64_t alloc_bytes;                /* chunk memory held now (kept + cur) */
	uint64_t peak_bytes;                 /* max of alloc_bytes seen at a boundary */
} gr_flight_stats;
void _gr_flight_get_stats(gr_flight_stats *out);

/* ---- store (flight_store.c) ---- */
typedef struct gr_flight_gen gr_flight_gen;

int  _gr_flight_store_init(uint64_t min_age_ns, uint64_t max_bytes,
                           uint64_t (*now_ns)(void), void (*wake_helper)(void));
void _gr_flight_store_fini(void);              /* after the sink is detached */
const gr_trace_sink *_gr_flight_store_sink(void);
/* Take references to the header and kept generations. Returns the number of
** generations placed in *out (malloc'd; release with _gr_flight_store_release),
** -ENOMEM, or 0 with *out NULL. */
int  _gr_flight_store_collect(gr_flight_gen ***out, unsigned char hdr[16], size_t *hdr_len);
void _gr_flight_store_release(gr_flight_gen **gens, int n);
/* Write one generation's bytes to fd (full writes, EINTR retried). Async-
** signal-safe. Returns 0 or -errno. */
int  _gr_flight_gen_write(const gr_flight_gen *g, int fd);
uint64_t _gr_flight_gen_bytes(const gr_flight_gen *g);
/* Crash path: from now on nothing the store published is freed; write the
** header and the complete published generations to fd without locks.
** Returns bytes written (>= 0) or -errno; *ngens gets the count. */
int64_t _gr_flight_store_crash_write(int fd, uint64_t *ngens);
bool _gr_flight_store_has_header(void);
/* In a fork child: forget the parent's recorder without touching its locks
** or memory (another parent thread may have held them at fork time). */
void _gr_flight_store_forget(void);
void _gr_flight_store_stats(gr_flight_stats *st);  /* all but period_ns */

/* ---- api (flight.c) ---- */
/* Force a boundary through the backend (helper thread, crash path). */
int  _gr_flight_advance(void);
/* Snapshot into an already open fd; used by the SIGUSR2 path too. */
int  _gr_flight_snapshot_fd(int fd, uint64_t *ngens, uint64_t *nbytes);

/* ---- env / signals (flight_env.c) ---- */
/* The helper thread: started with a recorder, serves boundary requests from
** the store (a generation grew large), SIGUSR2 and crash requests. */
int  _gr_flight_helper_start(void);
void _gr_flight_helper_stop(void);
void _gr_flight_helper_wake_boundary(void);    /* async-signal-safe */
void _gr_flight_helper_forget(void);           /* fork child: no helper */
/* Write the kept window to the GORT_FLIGHT path from a fatal signal handler
** (registered on _gr_crash_hook while GORT_FLIGHT is active). */
void _gr_flight_crash(int signo);

#endif
