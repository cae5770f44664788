/*
** gort/flight.h: the flight recorder -- keep the last seconds of the execution
** trace in memory and write them out on demand (Go 1.25's
** runtime/trace.FlightRecorder for C).
**
** Normally reached through <gort/trace.h>, which includes this header.
**
** The recorder is one more consumer ("sink") of gort's tracer. It keeps whole
** trace generations in memory and, on request, writes the trace header plus
** the kept generations: a complete Go 1.22 trace that Go's validator accepts
** and `go tool trace` opens. It starts tracing if nobody traces yet, and it
** runs alongside a normal trace to a file (gort_trace_start_file) exactly as
** Go allows a FlightRecorder next to trace.Start: both outputs are complete.
**
** Window: generations are dropped oldest first
**   - when the next-older generation alone already covers min_age_ns (plus a
**     1% margin), so a snapshot spans at least the last min_age_ns (if
**     recording ran that long) and at most min_age_ns + 1% plus one
**     generation period;
**   - when the kept generations exceed max_bytes. The byte bound WINS: it
**     is a hard memory limit, so under a heavy event rate a snapshot may span
**     less than min_age_ns.
** While recording, the tracer's generation period is shortened to
** min(min_age_ns / 4, 1 s) (at least 10 ms) so the window spans several
** generations; it is set back to GORT_TRACE_PERIOD (default 1 s) on stop.
** Memory: at most max_bytes of kept generations, plus the generation being
** received (a boundary is forced when it reaches max_bytes / 8; it is cut at
** max_bytes), plus at most max_bytes / 8 of recycled chunks. docs/flight.md.
**
** Environment (read once at program start by any program linked with gort):
**   GORT_FLIGHT=path         start a recorder at start-up; write the window to
**                            path ("%p" = pid) on SIGUSR2 and when the process
**                            dies of SIGSEGV, SIGABRT, SIGBUS or SIGFPE
**   GORT_FLIGHT_WINDOW=10s   min_age_ns
**   GORT_FLIGHT_MAX=64M      max_bytes
**
** Errors are returned as negative errno values. All functions are thread-safe;
** none is async-signal-safe (the GORT_FLIGHT signal handlers are).
*/
#ifndef GORT_FLIGHT_H
#define GORT_FLIGHT_H

#include <gort/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

GORT_EXTERN_C_BEGIN

/* Recorder settings. A zero field means "the default for that field". */
typedef struct gort_flight_config {
	uint64_t min_age_ns;   /* keep at least this much history (default 10 s, >= 1 ms) */
	size_t   max_bytes;    /* hard cap on kept trace bytes (default 64 MiB, >= 64 KiB) */
} gort_flight_config;

#define GORT_FLIGHT_DEFAULT_MIN_AGE_NS (10ull * 1000 * 1000 * 1000)
#define GORT_FLIGHT_DEFAULT_MAX_BYTES  ((size_t)64 << 20)

/* Start recording with cfg (NULL = defaults: 10 s, 64 MiB). Starts the tracer
** if it is not running; a trace already running (e.g. to a file) continues
** unchanged and the recorder receives it from the next generation on.
** Returns 0; -EBUSY if a recorder is already running; -EINVAL if min_age_ns
** is below 1 ms or max_bytes below 64 KiB; or the tracer's error (-ENOMEM,
** -EAGAIN: no thread could be created). */
GORT_API int gort_flight_start(const gort_flight_config *cfg);

/* Write a snapshot of the window so far to fd: forces a generation boundary
** (so events up to this call are included), then writes the trace header and
** every kept generation. The output is a complete, valid trace that starts at
** a generation boundary. Recording continues; snapshots may be taken as often
** as wanted (concurrent calls are serialised). The tracer's hot path is never
** blocked: generations are reference-counted while they are written.
** Returns 0; -ESRCH if no recorder is running; -EBADF if fd < 0; -ENODATA if
** no generation has been recorded yet (nothing is written); or the -errno of
** a failed write(2) (the output is then incomplete). */
GORT_API int gort_flight_write_fd(int fd);

/* As gort_flight_write_fd, into path (created or truncated, mode 0644). The
** file appears atomically: the snapshot is written to "path.tmp" and renamed
** on success, removed on failure. Returns 0; -EINVAL if path is NULL or empty;
** -ENAMETOOLONG; the -errno of open/write/rename; or as gort_flight_write_fd. */
GORT_API int gort_flight_write_file(const char *path);

/* Stop recording and free the kept generations. Tracing stops too unless
** another consumer (a file trace) is attached. Returns 0, or -ESRCH if no
** recorder is running. */
GORT_API int gort_flight_stop(void);

/* Write the window to path ("%p" = pid, expanded at write time) when the
** process receives SIGUSR2 and when it dies of SIGSEGV, SIGABRT, SIGBUS or
** SIGFPE -- what GORT_FLIGHT=path does, for a recorder started with
** gort_flight_start. The first call installs gort's handlers for those
** signals (the previous handlers are kept and called after gort's; the
** process still dies of the signal); later calls change the path. The
** handlers stay installed and do nothing while no recorder runs (SIGUSR2 is
** then ignored). The crash dump takes no lock the crashing thread may hold;
** see docs/flight.md for what it guarantees. Returns 0, -EINVAL if path is
** NULL or empty, -ENAMETOOLONG. Thread-safe. */
GORT_API int gort_flight_dump_on_signals(const char *path);

/* True while a recorder is running. One atomic load. */
GORT_API bool gort_flight_enabled(void);

GORT_EXTERN_C_END

#endif
