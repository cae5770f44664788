/*
** src/internal/go122.h: THE Go 1.22 trace wire format table, shared by the
** tracer (writer) and the parser (reader). Mirrors Go's
** internal/trace/v2/event/go122/event.go; tests/core/test_go122.c checks it.
**
** Invariants:
**  - Codes are the wire bytes; they never change (Go 1.22 is frozen).
**  - nargs counts every uvarint after the type byte, including dt for timed
**    events (codes >= GR_EV_FIRST_TIMED). Stack and String records have a
**    variable tail (frames, bytes) that nargs does not count.
**  - string_args / stack_args are bit masks over argument positions (bit i =
**    argument i, dt being argument 0 for timed events).
*/
#ifndef GORT_INTERNAL_GO122_H
#define GORT_INTERNAL_GO122_H

#include <stdbool.h>
#include <stdint.h>

/* X(code, ENUM, name, nargs, string_args, stack_args, arg names...) */
#define GR_GO122_EVENTS(X) \
	X( 1, EV_BATCH,                "EventBatch",          4, 0, 0, "gen", "m", "time", "size") \
	X( 2, EV_STACKS,               "Stacks",              0, 0, 0) \
	X( 3, EV_STACK,                "Stack",               2, 0, 0, "id", "nframes") \
	X( 4, EV_STRINGS,              "Strings",             0, 0, 0) \
	X( 5, EV_STRING,               "String",              1, 0, 0, "id") \
	X( 6, EV_CPU_SAMPLES,          "CPUSamples",          0, 0, 0) \
	X( 7, EV_CPU_SAMPLE,           "CPUSample",           5, 0, 1u << 4, "time", "m", "p", "g", "stack") \
	X( 8, EV_FREQUENCY,            "Frequency",           1, 0, 0, "freq") \
	X( 9, EV_PROCS_CHANGE,         "ProcsChange",         3, 0, 1u << 2, "dt", "procs_value", "stack") \
	X(10, EV_PROC_START,           "ProcStart",           3, 0, 0, "dt", "p", "p_seq") \
	X(11, EV_PROC_STOP,            "ProcStop",            1, 0, 0, "dt") \
	X(12, EV_PROC_STEAL,           "ProcSteal",           4, 0, 0, "dt", "p", "p_seq", "m") \
	X(13, EV_PROC_STATUS,          "ProcStatus",          3, 0, 0, "dt", "p", "pstatus") \
	X(14, EV_GO_CREATE,            "GoCreate",            4, 0, (1u << 2) | (1u << 3), "dt", "new_g", "new_stack", "stack") \
	X(15, EV_GO_CREATE_SYSCALL,    "GoCreateSyscall",     2, 0, 0, "dt", "new_g") \
	X(16, EV_GO_START,             "GoStart",             3, 0, 0, "dt", "g", "g_seq") \
	X(17, EV_GO_DESTROY,           "GoDestroy",           1, 0, 0, "dt") \
	X(18, EV_GO_DESTROY_SYSCALL,   "GoDestroySyscall",    1, 0, 0, "dt") \
	X(19, EV_GO_STOP,              "GoStop",              3, 1u << 1, 1u << 2, "dt", "reason_string", "stack") \
	X(20, EV_GO_BLOCK,             "GoBlock",             3, 1u << 1, 1u << 2, "dt", "reason_string", "stack") \
	X(21, EV_GO_UNBLOCK,           "GoUnblock",           4, 0, 1u << 3, "dt", "g", "g_seq", "stack") \
	X(22, EV_GO_SYSCALL_BEGIN,     "GoSyscallBegin",      3, 0, 1u << 2, "dt", "p_seq", "stack") \
	X(23, EV_GO_SYSCALL_END,       "GoSyscallEnd",        1, 0, 0, "dt") \
	X(24, EV_GO_SYSCALL_END_BLOCKED, "GoSyscallEndBlocked", 1, 0, 0, "dt") \
	X(25, EV_GO_STATUS,            "GoStatus",            4, 0, 0, "dt", "g", "m", "gstatus") \
	X(26, EV_STW_BEGIN,            "STWBegin",            3, 1u << 1, 1u << 2, "dt", "kind_string", "stack") \
	X(27, EV_STW_END,              "STWEnd",              1, 0, 0, "dt") \
	X(28, EV_GC_ACTIVE,            "GCActive",            2, 0, 0, "dt", "gc_seq") \
	X(29, EV_GC_BEGIN,             "GCBegin",             3, 0, 1u << 2, "dt", "gc_seq", "stack") \
	X(30, EV_GC_END,               "GCEnd",               2, 0, 0, "dt", "gc_seq") \
	X(31, EV_GC_SWEEP_ACTIVE,      "GCSweepActive",       2, 0, 0, "dt", "p") \
	X(32, EV_GC_SWEEP_BEGIN,       "GCSweepBegin",        2, 0, 1u << 1, "dt", "stack") \
	X(33, EV_GC_SWEEP_END,         "GCSweepEnd",          3, 0, 0, "dt", "swept_value", "reclaimed_value") \
	X(34, EV_GC_MARK_ASSIST_ACTIVE, "GCMarkAssistActive", 2, 0, 0, "dt", "g") \
	X(35, EV_GC_MARK_ASSIST_BEGIN, "GCMarkAssistBegin",   2, 0, 1u << 1, "dt", "stack") \
	X(36, EV_GC_MARK_ASSIST_END,   "GCMarkAssistEnd",     1, 0, 0, "dt") \
	X(37, EV_HEAP_ALLOC,           "HeapAlloc",           2, 0, 0, "dt", "heapalloc_value") \
	X(38, EV_HEAP_GOAL,            "HeapGoal",            2, 0, 0, "dt", "heapgoal_value") \
	X(39, EV_GO_LABEL,             "GoLabel",             2, 1u << 1, 0, "dt", "label_string") \
	X(40, EV_USER_TASK_BEGIN,      "UserTaskBegin",       5, 1u << 3, 1u << 4, "dt", "task", "parent_task", "name_string", "stack") \
	X(41, EV_USER_TASK_END,        "UserTaskEnd",         3, 0, 1u << 2, "dt", "task", "stack") \
	X(42, EV_USER_REGION_BEGIN,    "UserRegionBegin",     4, 1u << 2, 1u << 3, "dt", "task", "name_string", "stack") \
	X(43, EV_USER_REGION_END,      "UserRegionEnd",       4, 1u << 2, 1u << 3, "dt", "task", "name_string", "stack") \
	X(44, EV_USER_LOG,             "UserLog",             5, (1u << 2) | (1u << 3), 1u << 4, "dt", "task", "key_string", "value_string", "stack")

enum gr_go122_event {
	GR_EV_NONE = 0,
#define GR_GO122_ENUM(code, e, name, nargs, sa, ka, ...) GR_##e = code,
	GR_GO122_EVENTS(GR_GO122_ENUM)
#undef GR_GO122_ENUM
	GR_EV_COUNT,                 /* one past the last code (45) */
	GR_EV_FIRST_TIMED = 9,       /* codes >= this carry a dt and may appear in event batches */
};
_Static_assert(GR_EV_COUNT == 45, "Go 1.22 has 44 event types");

#define GR_GO122_MAX_ARGS 5

/* Per-code description; index by code. Entry 0 is unused (name NULL). */
typedef struct gr_go122_spec {
	const char *name;
	uint8_t nargs;
	uint8_t string_args;   /* bit mask over argument positions */
	uint8_t stack_args;    /* bit mask over argument positions */
	const char *arg_names[GR_GO122_MAX_ARGS];
} gr_go122_spec;

extern const gr_go122_spec _gr_go122_specs[GR_EV_COUNT];

/* Trace file header: "go 1.22 trace" followed by three NUL bytes. */
#define GR_GO122_HEADER "go 1.22 trace\0\0\0"
#define GR_GO122_HEADER_LEN 16

/* Wire limits of the format (Go's reader rejects larger values). */
#define GR_GO122_MAX_BATCH_SIZE  65536u
#define GR_GO122_MAX_STRING_SIZE 1024u
#define GR_GO122_MAX_STACK_DEPTH 128u

/* Go's status values on the wire. */
enum {
	GR_GO_STATUS_BAD = 0, GR_GO_STATUS_RUNNABLE = 1, GR_GO_STATUS_RUNNING = 2,
	GR_GO_STATUS_SYSCALL = 3, GR_GO_STATUS_WAITING = 4,
};
enum {
	GR_PROC_STATUS_BAD = 0, GR_PROC_STATUS_RUNNING = 1, GR_PROC_STATUS_IDLE = 2,
	GR_PROC_STATUS_SYSCALL = 3, GR_PROC_STATUS_SYSCALL_ABANDONED = 4,
};

static inline bool _gr_go122_is_timed(unsigned code)
{
	return code >= GR_EV_FIRST_TIMED && code < GR_EV_COUNT;
}

#endif
