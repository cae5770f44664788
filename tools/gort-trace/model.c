/*
** tools/gort-trace/model.c: goroutine intervals, regions and tasks from the
** ordered event stream (see model.h).
**
** Invariants: every goroutine record's cur interval starts at the time of
** the last transition seen for it (state GT_ST_NONE until the first one);
** an interval is reported exactly once, when the next transition (or the
** end of the trace) closes it; zero-length intervals are reported too, so
** counts of transitions match the trace. Region ends match the innermost
** open region of the same type; an end with no open begin is a region that
** began before the trace (reported with start = first timestamp,
** complete = false).
*/
#include "model.h"

#include <stdlib.h>
#include <string.h>

const char *const gt_state_names[GT_ST_COUNT] = {
	[GT_ST_NONE] = "none",
	[GT_ST_RUNNING] = "running",
	[GT_ST_RUNNABLE] = "runnable",
	[GT_ST_BLOCKED] = "blocked",
	[GT_ST_SYSCALL] = "syscall",
};

void gt_model_init(gt_model *m, const gt_model_cb *cb)
{
	memset(m, 0, sizeof *m);
	gt_strtab_init(&m->strs);
	gt_stacks_init(&m->stacks, &m->strs);
	gt_map_init(&m->gmap);
	gt_map_init(&m->taskmap);
	if (cb)
		m->cb = *cb;
}

void gt_model_free(gt_model *m)
{
	for (size_t i = 0; i < m->ng; i++) {
		free(m->gs[i]->regions);
		free(m->gs[i]);
	}
	free(m->gs);
	free(m->tasks);
	free(m->task_free);
	gt_map_free(&m->gmap);
	gt_map_free(&m->taskmap);
	gt_stacks_free(&m->stacks);
	gt_strtab_free(&m->strs);
	memset(m, 0, sizeof *m);
}

gt_g *gt_model_g(gt_model *m, int64_t id)
{
	gt_g **hint = &m->gcache[(uint64_t)id & (GT_MODEL_GCACHE - 1)];
	if (*hint && (*hint)->id == id)
		return *hint;
	bool fresh;
	uint64_t *slot = gt_map_put(&m->gmap, (uint64_t)id, 0, &fresh);
	if (!fresh)
		return *hint = m->gs[*slot];
	gt_g *g = gt_xcalloc(1, sizeof *g);
	g->id = id;
	g->index = m->ng;
	g->cur.reason = "";
	g->cur.m = GORT_TP_NONE;
	g->last_m = GORT_TP_NONE;
	GT_GROW(m->gs, m->capg, m->ng + 1);
	m->gs[m->ng++] = g;
	*slot = g->index;
	return *hint = g;
}

const char *gt_g_name(const gt_g *g, char *buf, size_t cap)
{
	if (g->label && *g->label)
		snprintf(buf, cap, "G%lld %s", (long long)g->id, g->label);
	else if (g->start_fn && *g->start_fn)
		snprintf(buf, cap, "G%lld %s", (long long)g->id, g->start_fn);
	else
		snprintf(buf, cap, "G%lld", (long long)g->id);
	return buf;
}

static int map_gstate(int s)
{
	switch (s) {
	case GORT_TP_G_RUNNING: return GT_ST_RUNNING;
	case GORT_TP_G_RUNNABLE: return GT_ST_RUNNABLE;
	case GORT_TP_G_WAITING: return GT_ST_BLOCKED;
	case GORT_TP_G_SYSCALL: return GT_ST_SYSCALL;
	default: return GT_ST_NONE;
	}
}

static void close_interval(gt_model *m, gt_g *g, uint64_t t)
{
	if (g->cur.state == GT_ST_NONE)
		return;
	g->cur.end = t >= g->cur.start ? t : g->cur.start;
	if (m->cb.interval)
		m->cb.interval(m->cb.ctx, m, g, &g->cur);
}

static void emit_region(gt_model *m, gt_g *g, gt_region *r, uint64_t end, bool complete, size_t depth)
{
	r->end = end >= r->start ? end : r->start;
	r->complete = complete;
	if (m->cb.region)
		m->cb.region(m->cb.ctx, m, g, r, depth);
}

static void close_regions(gt_model *m, gt_g *g, uint64_t t)
{
	while (g->nregions) {
		g->nregions--;
		emit_region(m, g, &g->regions[g->nregions], t, false, g->nregions);
	}
}

static void on_transition(gt_model *m, const gort_tp_event *ev)
{
	if (ev->u.transition.resource != GORT_TP_RES_GOROUTINE || ev->u.transition.id == GORT_TP_NONE)
		return;
	gt_g *g = gt_model_g(m, ev->u.transition.id);
	if (!g->start_fn) {
		const gort_tp_stack *st = ev->u.transition.stack.nframes ? &ev->u.transition.stack : &ev->stack;
		if (st->nframes && st->frames)
			g->start_fn = gt_intern_str(&m->strs, st->frames[st->nframes - 1].func);
	}
	close_interval(m, g, ev->time_ns);
	int to = map_gstate(ev->u.transition.to);
	g->cur.state = to;
	g->cur.start = ev->time_ns;
	g->cur.end = 0;
	g->cur.reason = ev->u.transition.reason.len ? gt_intern_str(&m->strs, ev->u.transition.reason) : "";
	g->cur.stack = gt_stack_intern(&m->stacks, ev->generation, &ev->stack);
	g->cur.m = ev->thread;
	if (to == GT_ST_RUNNING && ev->thread != GORT_TP_NONE)
		g->last_m = ev->thread;
	if (to == GT_ST_NONE)
		close_regions(m, g, ev->time_ns);
}

static void on_region(gt_model *m, const gort_tp_event *ev, gt_g *g)
{
	const char *type = gt_intern_str(&m->strs, ev->u.region.type);
	if (ev->kind == GORT_TP_REGION_BEGIN) {
		GT_GROW(g->regions, g->capregions, g->nregions + 1);
		g->regions[g->nregions++] = (gt_region){
			.type = type, .task = ev->u.region.task, .start = ev->time_ns,
			.stack = gt_stack_intern(&m->stacks, ev->generation, &ev->stack),
		};
		return;
	}
	/* End: innermost open region of this type. */
	size_t i = g->nregions;
	while (i > 0 && g->regions[i - 1].type != type)
		i--;
	if (i == 0) {
		gt_region r = { .type = type, .task = ev->u.region.task, .start = m->t_first,
				.stack = gt_stack_intern(&m->stacks, ev->generation, &ev->stack) };
		emit_region(m, g, &r, ev->time_ns, false, g->nregions);
		return;
	}
	/* Regions opened inside it and not closed end with it (Go forbids this). */
	while (g->nregions > i) {
		g->nregions--;
		emit_region(m, g, &g->regions[g->nregions], ev->time_ns, false, g->nregions);
	}
	g->nregions--;
	emit_region(m, g, &g->regions[g->nregions], ev->time_ns, true, g->nregions);
}

static gt_task *task_slot(gt_model *m, uint64_t id, bool create, size_t *slot_out)
{
	uint64_t *v = gt_map_get(&m->taskmap, id);
	if (v && m->tasks[*v].id == id) {
		*slot_out = *v;
		return &m->tasks[*v];
	}
	if (!create)
		return NULL;
	size_t slot;
	if (m->ntask_free)
		slot = m->task_free[--m->ntask_free];
	else {
		GT_GROW(m->tasks, m->captasks, m->ntasks + 1);
		slot = m->ntasks++;
	}
	memset(&m->tasks[slot], 0, sizeof m->tasks[slot]);
	m->tasks[slot].id = id;
	*gt_map_put(&m->taskmap, id, slot, NULL) = slot;
	*slot_out = slot;
	return &m->tasks[slot];
}

const gt_task *gt_model_open_task(gt_model *m, uint64_t id)
{
	size_t slot;
	if (id == UINT64_MAX)
		return NULL;
	const gt_task *t = task_slot(m, id, false, &slot);
	return t && t->has_begin ? t : NULL;
}

/* The map has no delete: rebuild it without the ended task (amortised by
** rebuilding only when half the entries are dead). */
static void task_release(gt_model *m, size_t slot)
{
	m->tasks[slot].id = UINT64_MAX;
	GT_GROW(m->task_free, m->captask_free, m->ntask_free + 1);
	m->task_free[m->ntask_free++] = slot;
	if (m->ntask_free * 2 > m->taskmap.len && m->taskmap.len > 64) {
		gt_map_clear(&m->taskmap);
		for (size_t i = 0; i < m->ntasks; i++)
			if (m->tasks[i].id != UINT64_MAX)
				*gt_map_put(&m->taskmap, m->tasks[i].id, i, NULL) = i;
	}
}

static void on_task(gt_model *m, const gort_tp_event *ev)
{
	size_t slot;
	uint64_t id = ev->u.task.id;
	if (id == UINT64_MAX)
		return;
	if (ev->kind == GORT_TP_TASK_BEGIN) {
		gt_task *t = task_slot(m, id, true, &slot);
		t->parent = ev->u.task.parent;
		t->type = gt_intern_str(&m->strs, ev->u.task.type);
		t->start = ev->time_ns;
		t->begin_g = ev->goroutine;
		t->stack = gt_stack_intern(&m->stacks, ev->generation, &ev->stack);
		t->has_begin = true;
		return;
	}
	gt_task *t = task_slot(m, id, false, &slot);
	gt_task tmp;
	if (!t) {
		memset(&tmp, 0, sizeof tmp);
		tmp.id = id;
		tmp.type = gt_intern_str(&m->strs, ev->u.task.type);
		tmp.start = m->t_first;
		t = &tmp;
	}
	t->end = ev->time_ns;
	t->end_g = ev->goroutine;
	t->has_end = true;
	if (m->cb.task)
		m->cb.task(m->cb.ctx, m, t);
	if (t != &tmp)
		task_release(m, slot);
}

void gt_model_event(gt_model *m, const gort_tp_event *ev)
{
	m->nevents++;
	if (!m->have_time) {
		m->have_time = true;
		m->t_first = ev->time_ns;
		m->gen_first = ev->generation;
	}
	if (ev->time_ns > m->t_last)
		m->t_last = ev->time_ns;
	if (ev->generation > m->gen_last)
		m->gen_last = ev->generation;
	gt_g *g = NULL;
	switch (ev->kind) {
	case GORT_TP_SYNC:
		m->nsync++;
		break;
	case GORT_TP_STATE_TRANSITION:
		on_transition(m, ev);
		if (ev->u.transition.resource == GORT_TP_RES_GOROUTINE && ev->u.transition.id != GORT_TP_NONE)
			g = gt_model_g(m, ev->u.transition.id);
		break;
	case GORT_TP_REGION_BEGIN:
	case GORT_TP_REGION_END:
		if (ev->goroutine != GORT_TP_NONE) {
			g = gt_model_g(m, ev->goroutine);
			on_region(m, ev, g);
		}
		break;
	case GORT_TP_TASK_BEGIN:
	case GORT_TP_TASK_END:
		on_task(m, ev);
		break;
	case GORT_TP_LABEL:
		if (ev->u.label.resource == GORT_TP_RES_GOROUTINE && ev->u.label.id != GORT_TP_NONE) {
			g = gt_model_g(m, ev->u.label.id);
			g->label = gt_intern_str(&m->strs, ev->u.label.label);
		}
		break;
	default:
		break;
	}
	if (!g && ev->goroutine != GORT_TP_NONE && ev->kind != GORT_TP_SYNC)
		g = gt_model_g(m, ev->goroutine);
	if (m->cb.event)
		m->cb.event(m->cb.ctx, m, ev, g);
}

void gt_model_finish(gt_model *m)
{
	uint64_t t = m->t_last;
	for (size_t i = 0; i < m->ng; i++) {
		gt_g *g = m->gs[i];
		close_interval(m, g, t);
		g->cur.state = GT_ST_NONE;
		close_regions(m, g, t);
	}
	for (size_t i = 0; i < m->ntasks; i++) {
		gt_task *tk = &m->tasks[i];
		if (tk->id == UINT64_MAX || !tk->has_begin)
			continue;
		tk->end = t;
		if (m->cb.task)
			m->cb.task(m->cb.ctx, m, tk);
		tk->id = UINT64_MAX;
	}
}
