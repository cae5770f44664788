/*
** src/parse/tp_check.c: the checks of Go's testtrace.Validator that Go's
** reader itself does not make, so that we reject what Go's validator
** (gotracevalidate) rejects:
**  - a task begun with id 0 (the background task) or NoTask;
**  - a label that is empty.
** (The validator's task-type check cannot fail: the reader itself carries a
** task's type from its begin to its end. Its state-machine checks duplicate
** the reader's ordering rules, and its time check cannot fire after the
** reader's time fix-up.)
** Owned by one reader; single-threaded.
*/
#include "internal/parse.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int _gr_tp_check_event(gort_tp_reader *r, const gort_tp_event *ev)
{
	switch (ev->kind) {
	case GORT_TP_TASK_BEGIN:
		if (ev->u.task.id == 0 || ev->u.task.id == UINT64_MAX) {
			const gort_tp_str *t = &ev->u.task.type;
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->file_offset, "found invalid task ID %" PRIu64
			                   " for task of type %.*s", ev->u.task.id, (int)t->len, t->ptr);
		}
		return 0;
	case GORT_TP_LABEL:
		if (ev->u.label.label.len == 0)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->file_offset, "invalid label \"\"");
		return 0;
	default:
		return 0;
	}
}

void _gr_tp_check_free(tp_check *c)
{
	(void)c;
}
