/*
** tools/gort-trace/model.h: what the trace says each goroutine (thread) did.
**
** gt_model turns the parser's ordered events into intervals and spans that
** stats, export and pprof all consume, so the three agree by construction:
**  - per goroutine (one per thread in gort traces): consecutive state
**    intervals running / runnable / blocked (with reason and the blocking
**    stack) / in syscall (with the syscall stack), on thread m;
**  - regions (per goroutine, LIFO, with the begin stack);
**  - tasks (begin and end may be on different goroutines).
** Intervals and spans are reported through callbacks when they end; those
** still open at the end of the trace are closed at its last timestamp by
** gt_model_finish (regions and tasks then have complete = false).
**
** The model owns the string table and the stable stack tables that its
** consumers use for names and stacks.
*/
#ifndef GT_MODEL_H
#define GT_MODEL_H

#include "gt.h"
#include "stacks.h"

#include <stdbool.h>
#include <string.h>

enum gt_state {
	GT_ST_NONE = 0,     /* not existing / unknown */
	GT_ST_RUNNING,
	GT_ST_RUNNABLE,     /* ready, waiting for a CPU (proc) */
	GT_ST_BLOCKED,      /* Go's Waiting: reason says why */
	GT_ST_SYSCALL,
	GT_ST_COUNT
};
extern const char *const gt_state_names[GT_ST_COUNT];

typedef struct gt_interval {
	int state;
	uint64_t start, end;
	const char *reason;   /* interned ("" if none) */
	uint32_t stack;       /* stable stack index of the transition into the state */
	int64_t m;            /* thread that made the transition (GORT_TP_NONE if unknown) */
} gt_interval;

/* gort's tracer closes every syscall with a zero-length block whose reason
** is "syscall", so that go tool trace's syscall profile gets each call's
** stack (see gort_trace_syscall_end); Go's runtime never uses that reason.
** Reports count the marker as part of the syscall, not as blocking. */
static inline bool gt_interval_syscall_marker(const gt_interval *iv)
{
	return iv->state == GT_ST_BLOCKED && iv->reason && strcmp(iv->reason, "syscall") == 0;
}

typedef struct gt_region {
	const char *type;
	uint64_t task;
	uint64_t start, end;
	uint32_t stack;       /* begin stack */
	bool complete;        /* both begin and end are in the trace */
} gt_region;

typedef struct gt_task {
	uint64_t id, parent;
	const char *type;
	uint64_t start, end;
	int64_t begin_g, end_g;
	uint32_t stack;       /* begin stack */
	bool has_begin, has_end;
} gt_task;

typedef struct gt_g {
	int64_t id;
	size_t index;         /* dense, in order of first appearance */
	gt_interval cur;      /* the state interval in progress (end unset) */
	const char *label;    /* from GoLabel, or NULL */
	const char *start_fn; /* root frame of the first transition stack, or NULL */
	gt_region *regions;   /* open regions, innermost last */
	size_t nregions, capregions;
	int64_t last_m;
	void *user;           /* for the consumer */
} gt_g;

typedef struct gt_model gt_model;

typedef struct gt_model_cb {
	void *ctx;
	void (*interval)(void *ctx, gt_model *m, gt_g *g, const gt_interval *iv);
	/* depth = number of enclosing open regions on the same goroutine */
	void (*region)(void *ctx, gt_model *m, gt_g *g, const gt_region *r, size_t depth);
	void (*task)(void *ctx, gt_model *m, const gt_task *t);
	/* Every event, after the model's update (g: the event's goroutine or NULL). */
	void (*event)(void *ctx, gt_model *m, const gort_tp_event *ev, gt_g *g);
} gt_model_cb;

struct gt_model {
	gt_strtab strs;
	gt_stacks stacks;
	gt_model_cb cb;
	gt_map gmap;          /* goroutine id -> index into gs */
	gt_g **gs;
	size_t ng, capg;
#define GT_MODEL_GCACHE 16
	gt_g *gcache[GT_MODEL_GCACHE];   /* lookup cache by id */
	gt_map taskmap;       /* task id -> index into tasks (open tasks) */
	gt_task *tasks;
	size_t ntasks, captasks;
	size_t *task_free;    /* recycled slots */
	size_t ntask_free, captask_free;
	bool have_time;
	uint64_t t_first, t_last;
	uint64_t gen_first, gen_last;
	uint64_t nsync, nevents;
};

void gt_model_init(gt_model *m, const gt_model_cb *cb);
void gt_model_free(gt_model *m);
void gt_model_event(gt_model *m, const gort_tp_event *ev);
void gt_model_finish(gt_model *m);
/* The record of goroutine id, created on first use. */
gt_g *gt_model_g(gt_model *m, int64_t id);
/* The open (begun, not yet ended) task with this id, or NULL. */
const gt_task *gt_model_open_task(gt_model *m, uint64_t id);
/* A display name: "G12 label" / "G12 main.worker" / "G12". */
const char *gt_g_name(const gt_g *g, char *buf, size_t cap);

#endif
