/*
** tools/gort-trace/perfetto.h: Chrome trace-event JSON (what ui.perfetto.dev
** and chrome://tracing load) from the ordered events.
**
** Layout (one process, pid 1, "gort trace"):
**  - per goroutine (= per thread in gort traces) a track, tid = goroutine id,
**    with consecutive complete ("X") slices running / runnable /
**    blocked: <reason> / syscall (args: thread, stack);
**  - per goroutine with regions a second track, tid = id + GT_PF_REGION_TID,
**    with the regions as nested "X" slices (args: task);
**  - tasks as async slices ("b"/"e", cat "task", id = task id), linked to
**    the goroutines that begin them, run their regions and end them by flow
**    events ("s"/"t"/"f", same id);
**  - logs and CPU samples as thread-scoped instant events ("i");
**  - HeapAlloc / HeapGoal / GOMAXPROCS as counter tracks ("C");
**  - GC, sweep, mark-assist and STW ranges as async slices (cat "runtime").
** Timestamps are microseconds since the trace's first event. An optional
** window [from, to) (ns since the first event) clips slices and drops
** instants outside it.
*/
#ifndef GT_PERFETTO_H
#define GT_PERFETTO_H

#include "gt.h"

#include <stdio.h>

#define GT_PF_REGION_TID 100000000LL

typedef struct gt_perfetto gt_perfetto;

gt_perfetto *gt_perfetto_new(FILE *out, uint64_t from_ns, uint64_t to_ns, const char *title);
void gt_perfetto_event(gt_perfetto *p, const gort_tp_event *ev);
/* Close open slices at the trace end, write track names, close the JSON.
** Returns 0, or -1 if writing failed (errno set). */
int gt_perfetto_finish(gt_perfetto *p);
void gt_perfetto_free(gt_perfetto *p);

#endif
