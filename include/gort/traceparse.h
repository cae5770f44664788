/*
** gort/traceparse.h: a streaming reader for Go 1.22 execution traces.
**
** It reads traces written by gort's tracer and by real Go 1.22 programs and
** hands out their events one at a time, in the same order and after the same
** checks as Go's own reader (internal/trace/v2): it buffers one generation at
** a time, so memory is bounded by the largest generation, not by the trace.
**
** Use:
**
**     gort_tp_reader *r = gort_tp_open_fd(fd);       // or gort_tp_open_callback
**     const gort_tp_event *ev;
**     int rc;
**     while ((rc = gort_tp_next(r, &ev)) > 0) {
**         ... ev->kind, ev->time_ns, ev->thread, ev->proc, ev->goroutine ...
**     }
**     if (rc < 0)
**         fprintf(stderr, "%s\n", gort_tp_error(r));   // says what, and at which byte
**     gort_tp_close(r);
**
** Lifetimes: an event and everything it points to (strings, frames) stay valid
** until the next gort_tp_next() or gort_tp_close() on the same reader. Copy
** what you keep.
**
** Errors: gort_tp_next() returns a negative GORT_TP_E* code; the reader is then
** finished (further calls return the same code). Bad input never crashes,
** hangs, or makes the reader allocate more than GORT_TP_MAX_GENERATION_BYTES
** for a generation's batches.
**
** Thread-safety: a reader is used by one thread at a time; different readers
** are independent.
*/
#ifndef GORT_TRACEPARSE_H
#define GORT_TRACEPARSE_H

#include <gort/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

GORT_EXTERN_C_BEGIN

/* Error codes (negative returns of gort_tp_next). */
enum {
	GORT_TP_EIO      = -1,  /* reading the input failed (errno-based message) */
	GORT_TP_EFORMAT  = -2,  /* not a Go 1.22 trace, or malformed bytes */
	GORT_TP_EINVALID = -3,  /* well-formed bytes, but the events break Go's rules */
	GORT_TP_ENOMEM   = -4,  /* out of memory, or a size above the reader's bounds */
};

/* The largest generation (sum of its batches) a reader accepts. */
#define GORT_TP_MAX_GENERATION_BYTES ((uint64_t)1 << 32)

/* "No thread / no proc / no goroutine": Go's NoThread, NoProc, NoGoroutine. */
#define GORT_TP_NONE ((int64_t)-1)

/* What an event is (Go's trace.EventKind). */
typedef enum gort_tp_kind {
	GORT_TP_SYNC = 1,         /* end of a generation */
	GORT_TP_METRIC,           /* a named counter sample (heap size, GOMAXPROCS...) */
	GORT_TP_LABEL,            /* a label attached to a resource */
	GORT_TP_STACK_SAMPLE,     /* a CPU profile sample */
	GORT_TP_RANGE_BEGIN,      /* GC, sweep, mark assist, stop-the-world */
	GORT_TP_RANGE_ACTIVE,     /* a range already active at the start of the trace */
	GORT_TP_RANGE_END,
	GORT_TP_TASK_BEGIN,
	GORT_TP_TASK_END,
	GORT_TP_REGION_BEGIN,
	GORT_TP_REGION_END,
	GORT_TP_LOG,
	GORT_TP_STATE_TRANSITION, /* a goroutine, proc or thread changed state */
} gort_tp_kind;

/* What a state transition is about. */
typedef enum gort_tp_resource {
	GORT_TP_RES_NONE = 0,
	GORT_TP_RES_GOROUTINE,
	GORT_TP_RES_PROC,
	GORT_TP_RES_THREAD,
} gort_tp_resource;

/* Goroutine states (Go's trace.GoState) and proc states (trace.ProcState). */
typedef enum gort_tp_gstate {
	GORT_TP_G_UNDETERMINED = 0,
	GORT_TP_G_NOT_EXIST,
	GORT_TP_G_RUNNABLE,
	GORT_TP_G_RUNNING,
	GORT_TP_G_WAITING,
	GORT_TP_G_SYSCALL,
} gort_tp_gstate;

typedef enum gort_tp_pstate {
	GORT_TP_P_UNDETERMINED = 0,
	GORT_TP_P_NOT_EXIST,
	GORT_TP_P_RUNNING,
	GORT_TP_P_IDLE,
} gort_tp_pstate;

/* A string that is not NUL-terminated (trace strings may hold any bytes). */
typedef struct gort_tp_str {
	const char *ptr;
	size_t len;
} gort_tp_str;

/* One stack frame; frames[0] is the innermost (the code that was running). */
typedef struct gort_tp_frame {
	uint64_t pc;
	gort_tp_str func;
	gort_tp_str file;
	uint64_t line;
} gort_tp_frame;

typedef struct gort_tp_stack {
	uint64_t id;                  /* id in its generation's table; 0 = no stack */
	const gort_tp_frame *frames;
	size_t nframes;
} gort_tp_stack;

typedef struct gort_tp_event {
	gort_tp_kind kind;
	uint8_t raw_type;         /* the Go 1.22 wire event type (go122.Ev*), 0 for Sync */
	uint64_t time_ns;         /* strictly increasing over the whole trace */
	uint64_t generation;      /* the generation the event belongs to */
	int64_t thread;           /* M, or GORT_TP_NONE */
	int64_t proc;             /* P the thread held before the event, or GORT_TP_NONE */
	int64_t goroutine;        /* G the thread ran before the event, or GORT_TP_NONE */
	gort_tp_stack stack;      /* the event's own stack (id 0 / no frames if none) */
	uint64_t file_offset;     /* byte offset of the batch holding the event */

	union {
		struct {                        /* GORT_TP_STATE_TRANSITION */
			gort_tp_resource resource;
			int64_t id;                 /* goroutine, proc or thread id */
			int from, to;               /* gort_tp_gstate or gort_tp_pstate */
			gort_tp_str reason;         /* e.g. GoBlock's reason, GoStop's reason */
			gort_tp_stack stack;        /* the resource's stack (GoCreate's new_stack) */
		} transition;
		struct {                        /* GORT_TP_RANGE_* */
			gort_tp_str name;           /* e.g. "GC concurrent mark phase" */
			gort_tp_resource scope;     /* GORT_TP_RES_NONE = global */
			int64_t scope_id;
			/* GCSweepEnd only (Go's RangeAttributes), else 0: */
			uint64_t swept;             /* "bytes swept" */
			uint64_t reclaimed;         /* "bytes reclaimed" */
		} range;
		struct {                        /* GORT_TP_TASK_BEGIN / _END */
			uint64_t id;
			uint64_t parent;            /* 0 = none (BEGIN only) */
			gort_tp_str type;           /* remembered across generations for END */
		} task;
		struct {                        /* GORT_TP_REGION_BEGIN / _END */
			uint64_t task;
			gort_tp_str type;
		} region;
		struct {                        /* GORT_TP_LOG */
			uint64_t task;
			gort_tp_str category;
			gort_tp_str message;
		} log;
		struct {                        /* GORT_TP_METRIC */
			gort_tp_str name;           /* e.g. "/memory/classes/heap/objects:bytes" */
			uint64_t value;
		} metric;
		struct {                        /* GORT_TP_LABEL */
			gort_tp_str label;
			gort_tp_resource resource;
			int64_t id;
		} label;
	} u;
} gort_tp_event;

typedef struct gort_tp_reader gort_tp_reader;

/* Called to get more input: fill up to len bytes of buf; return the number of
** bytes read, 0 at end of input, or -1 with errno set on error. */
typedef ssize_t (*gort_tp_read_fn)(void *ctx, void *buf, size_t len);

/*
** Open a reader on a file descriptor (not closed by gort_tp_close) or on a
** read callback. Nothing is read until the first gort_tp_next().
** Returns NULL with errno ENOMEM if memory runs out, EINVAL for a NULL fn.
*/
GORT_API gort_tp_reader *gort_tp_open_fd(int fd);
GORT_API gort_tp_reader *gort_tp_open_callback(gort_tp_read_fn fn, void *ctx);

/*
** Next event in Go's order. Returns 1 with *out set, 0 at the end of a valid
** trace, or a negative GORT_TP_E* code; gort_tp_error() then describes it.
*/
GORT_API int gort_tp_next(gort_tp_reader *r, const gort_tp_event **out);

/* The last error as one line ("<what> at byte <offset>"), or "" if none. */
GORT_API const char *gort_tp_error(const gort_tp_reader *r);
/* Byte offset in the input where the last error was found. */
GORT_API uint64_t gort_tp_error_offset(const gort_tp_reader *r);
/* Bytes consumed from the input so far (for progress reporting). */
GORT_API uint64_t gort_tp_bytes_read(const gort_tp_reader *r);

GORT_API void gort_tp_close(gort_tp_reader *r);

/*
** Lower the bound on one generation's batch bytes (default and maximum
** GORT_TP_MAX_GENERATION_BYTES); a larger generation fails with
** GORT_TP_ENOMEM. Call before the first gort_tp_next(). Returns 0, or -EINVAL
** for 0 or a value above the default.
*/
GORT_API int gort_tp_set_max_generation_bytes(gort_tp_reader *r, uint64_t max);

/*
** Turn the extra checks of Go's trace validator (testtrace.Validator, which
** Go's gotracevalidate runs after its reader) on or off. On by default: the
** reader then rejects what gotracevalidate rejects. Off, it checks what Go's
** Reader checks (as `go tool trace` does) and runs faster. Call before the
** first gort_tp_next(). Returns 0, or -EINVAL for a NULL reader.
*/
GORT_API int gort_tp_set_validation(gort_tp_reader *r, bool on);

/* Names, for printing: "Sync", "StateTransition", "Running", "Idle"... */
GORT_API const char *gort_tp_kind_name(gort_tp_kind k);
GORT_API const char *gort_tp_gstate_name(int s);
GORT_API const char *gort_tp_pstate_name(int s);
/* Go 1.22 wire event type name ("GoBlock", "UserRegionBegin"...), or NULL. */
GORT_API const char *gort_tp_raw_type_name(uint8_t raw_type);

/*
** Format ev as one line of text, Go-style (like Go's Event.String()), into
** buf (cap bytes, NUL-terminated, truncated if needed). Returns the length
** that the full text needs (as snprintf).
*/
GORT_API size_t gort_tp_format_event(const gort_tp_event *ev, char *buf, size_t cap);

GORT_EXTERN_C_END

#endif
