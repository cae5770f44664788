/*
** src/parse/tp_check.c: the checks of Go's testtrace.Validator that Go's
** reader itself does not make, so that we reject what Go's validator
** (gotracevalidate) rejects:
**  - a task begun with id 0 (the background task) or NoTask;
**  - a task ending with a type other than the one it began with;
**  - a label that is empty.
** (The validator's state-machine checks duplicate the reader's ordering
** rules, and its time check can never fire after the reader's time fix-up.)
** Owned by one reader; single-threaded.
*/
#include "internal/parse.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct owned_str {
	size_t len;
	char s[];
} owned_str;

int _gr_tp_check_event(gort_tp_reader *r, const gort_tp_event *ev)
{
	tp_check *c = &r->chk;
	switch (ev->kind) {
	case GORT_TP_TASK_BEGIN: {
		const gort_tp_str *t = &ev->u.task.type;
		if (ev->u.task.id == 0 || ev->u.task.id == UINT64_MAX)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->file_offset, "found invalid task ID %" PRIu64
			                   " for task of type %.*s", ev->u.task.id, (int)t->len, t->ptr);
		owned_str *o = malloc(sizeof *o + t->len + 1);
		if (!o)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->file_offset, "out of memory for tasks");
		o->len = t->len;
		memcpy(o->s, t->ptr, t->len);
		free(_gr_tp_map_get(&c->tasks, ev->u.task.id));
		if (_gr_tp_map_put(&c->tasks, ev->u.task.id, o) < 0) {
			free(o);
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->file_offset, "out of memory for tasks");
		}
		return 0;
	}
	case GORT_TP_TASK_END: {
		owned_str *o = _gr_tp_map_del(&c->tasks, ev->u.task.id);
		if (!o)
			return 0;
		const gort_tp_str *t = &ev->u.task.type;
		bool same = o->len == t->len && memcmp(o->s, t->ptr, t->len) == 0;
		free(o);
		if (!same)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->file_offset,
			                   "task end type doesn't match task start type for task %" PRIu64, ev->u.task.id);
		return 0;
	}
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
	for (size_t i = 0; i < c->tasks.cap; i++)
		if (c->tasks.vals[i])
			free(c->tasks.vals[i]);
	_gr_tp_map_free(&c->tasks);
}
