/*
** src/parse/tp_check.c: the checks of Go's testtrace.Validator that Go's
** reader itself does not make, so that we reject what Go's validator
** (gotracevalidate) rejects:
**  - goroutine and proc state transitions: the old state is the one last
**    seen, nothing goes to or comes from Undetermined after the first Sync,
**    a thread runs at most one goroutine and one proc at a time, and only
**    the thread a goroutine or proc is bound to stops it;
**  - a task begun with id 0 (the background task) or NoTask;
**  - a label that is empty or names an unknown goroutine.
** (The validator's task-type check cannot fail: the reader itself carries a
** task's type from its begin to its end; its range checks are the reader's
** own (tp_order.c, plus "died with active ranges"); its time check cannot
** fire after the reader's time fix-up.)
** Owned by one reader; single-threaded.
*/
#include "internal/parse.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The validator's view of a thread, and of a goroutine or proc. */
typedef struct vctx {
	int64_t g, p;
} vctx;

typedef struct vres {
	uint8_t state;                /* gort_tp_gstate or gort_tp_pstate */
	int64_t bound;                /* M it is bound to while executing, or NONE */
	struct vres *next_free;
} vres;

#define NONE GORT_TP_NONE

static int bad(gort_tp_reader *r, const gort_tp_event *ev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int bad(gort_tp_reader *r, const gort_tp_event *ev, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->file_offset, "%s", msg);
}

static vctx *thread(gort_tp_reader *r, const gort_tp_event *ev)
{
	if (ev->thread == NONE) {
		bad(r, ev, "must have thread, but thread ID is none");
		return NULL;
	}
	tp_check *k = &r->chk;
	if (k->last_ctx && k->last_m == ev->thread)
		return k->last_ctx;
	vctx *c = _gr_tp_map_get(&k->ms, (uint64_t)ev->thread);
	if (c) {
		k->last_m = ev->thread;
		k->last_ctx = c;
		return c;
	}
	c = malloc(sizeof *c);
	if (!c || _gr_tp_map_put(&r->chk.ms, (uint64_t)ev->thread, c) < 0) {
		free(c);
		_gr_tp_fail(r, GORT_TP_ENOMEM, ev->file_offset, "out of memory for the validator");
		return NULL;
	}
	c->g = c->p = NONE;
	return c;
}

/* Go's Validator on a goroutine or proc state transition. */
static int transition(gort_tp_reader *r, const gort_tp_event *ev)
{
	tp_check *c = &r->chk;
	bool isg = ev->u.transition.resource == GORT_TP_RES_GOROUTINE;
	if (!isg && ev->u.transition.resource != GORT_TP_RES_PROC)
		return 0;
	const char *what = isg ? "goroutine" : "proc";
	const char *(*name)(int) = isg ? gort_tp_gstate_name : gort_tp_pstate_name;
	int64_t id = ev->u.transition.id;
	int from = ev->u.transition.from, to = ev->u.transition.to;
	/* Undetermined is 0 and NotExist 1 for both kinds of resource. */
	if (to == 0)
		return bad(r, ev, "transition to undetermined state for %s %" PRId64, what, id);
	if (c->seen_sync && from == 0)
		return bad(r, ev, "undetermined %s %" PRId64 " after first global sync", what, id);
	tp_map *m = isg ? &c->gs : &c->ps;
	vres *s = _gr_tp_map_get(m, (uint64_t)id);
	if (s) {
		if (from != s->state)
			return bad(r, ev, "bad old state for %s %" PRId64 ": got %s, want %s", what, id, name(from),
			           name(s->state));
	} else {
		if (from != 0 && from != 1)
			return bad(r, ev, "bad old state for unregistered %s %" PRId64 ": %s", what, id, name(from));
		s = c->free_res;
		if (s)
			c->free_res = s->next_free;
		else if (!(s = malloc(sizeof *s)))
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->file_offset, "out of memory for the validator");
		if (_gr_tp_map_put(m, (uint64_t)id, s) < 0) {
			free(s);
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->file_offset, "out of memory for the validator");
		}
		s->bound = NONE;
	}
	s->state = (uint8_t)to;
	bool was = isg ? (from == GORT_TP_G_RUNNING || from == GORT_TP_G_SYSCALL) : from == GORT_TP_P_RUNNING;
	bool now = isg ? (to == GORT_TP_G_RUNNING || to == GORT_TP_G_SYSCALL) : to == GORT_TP_P_RUNNING;
	if (now) {
		vctx *t = thread(r, ev);
		if (!t)
			return r->state;
		int64_t *slot = isg ? &t->g : &t->p;
		if (*slot != NONE && *slot != id)
			return bad(r, ev, "tried to run %s %" PRId64 " when one was already executing (%" PRId64 ") on thread %" PRId64,
			           what, id, *slot, ev->thread);
		*slot = id;
		s->bound = ev->thread;
	} else if (was) {
		vctx *t = s->bound == NONE ? NULL
		          : s->bound == c->last_m && c->last_ctx ? c->last_ctx
		                                                  : _gr_tp_map_get(&c->ms, (uint64_t)s->bound);
		if (!t)
			return bad(r, ev, "stopping %s %" PRId64 " not bound to any active context", what, id);
		int64_t *slot = isg ? &t->g : &t->p;
		if (*slot != id)
			return bad(r, ev, "tried to stop %s %" PRId64 " when it wasn't currently executing (currently executing %"
			           PRId64 ")", what, id, *slot);
		*slot = NONE;
		s->bound = NONE;
	}
	/* Go keeps dead goroutines forever; we forget them (bounded memory): a
	** later transition then sees an unregistered goroutine, which must come
	** from Undetermined or NotExist, as a dead one must. */
	if (isg && to == GORT_TP_G_NOT_EXIST) {
		_gr_tp_map_del(m, (uint64_t)id);
		s->next_free = c->free_res;
		c->free_res = s;
	}
	return 0;
}

int _gr_tp_check_event(gort_tp_reader *r, const gort_tp_event *ev)
{
	switch (ev->kind) {
	case GORT_TP_SYNC:
		r->chk.seen_sync = true;
		return 0;
	case GORT_TP_STATE_TRANSITION:
		return transition(r, ev);
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
		if (!_gr_tp_map_get(&r->chk.gs, (uint64_t)ev->u.label.id))
			return bad(r, ev, "label for invalid goroutine %" PRId64, ev->u.label.id);
		return 0;
	default:
		return 0;
	}
}

static void free_all(tp_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->vals[i]);
	_gr_tp_map_free(m);
}

void _gr_tp_check_free(tp_check *c)
{
	while (c->free_res) {
		vres *s = c->free_res;
		c->free_res = s->next_free;
		free(s);
	}
	free_all(&c->gs);
	free_all(&c->ps);
	free_all(&c->ms);
}
