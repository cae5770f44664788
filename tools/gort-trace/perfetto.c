/*
** tools/gort-trace/perfetto.c: the Chrome/Perfetto JSON writer (perfetto.h).
**
** Invariants: every emitted "X" slice lies inside the window; slices on one
** tid never partially overlap (state slices are consecutive, region slices
** are LIFO per goroutine, so they nest); each async "b" has one "e" with the
** same cat/name/id (both clipped to the window; emitted together when the
** span ends, so a span cut by the end of the trace still closes).
** The first event's time is t0 for "ts"; nothing is emitted before it.
*/
#include "perfetto.h"
#include "json.h"
#include "model.h"
#include "internal/go122.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct gt_perfetto {
	gt_model m;
	gt_json j;
	FILE *f;
	uint64_t from, to;      /* window, relative ns */
	const char *title;
	uint64_t nrange;        /* async id counter for ranges */
	gt_map range_open;      /* key(name ptr ^ scope) -> start time (UINT64_MAX = closed) */
	gt_map range_name;      /* same key -> interned name pointer */
	gt_map g_has_regions;   /* goroutine id -> 1 */
	const char **summary;   /* stack index -> formatted summary (or NULL) */
	size_t nsummary, capsummary;
};

static uint64_t rel(gt_perfetto *p, uint64_t t)
{
	return t >= p->m.t_first ? t - p->m.t_first : 0;
}

/* Clip [a,b) (absolute) to the window; false if nothing is left. */
static bool clip(gt_perfetto *p, uint64_t *a, uint64_t *b)
{
	uint64_t ra = rel(p, *a), rb = rel(p, *b);
	/* half-open overlap; a zero-length span counts if its instant is inside */
	if (ra == rb ? (ra < p->from || ra >= p->to) : (rb <= p->from || ra >= p->to))
		return false;
	if (ra < p->from)
		ra = p->from;
	if (rb > p->to)
		rb = p->to;
	*a = ra;
	*b = rb;
	return true;
}

static bool in_window(gt_perfetto *p, uint64_t t)
{
	uint64_t r = rel(p, t);
	return r >= p->from && r < p->to;
}

static void ev_head(gt_perfetto *p, const char *ph, const char *name, const char *cat, int64_t tid, uint64_t rel_ts)
{
	gt_json *j = &p->j;
	gt_json_obj(j);
	gt_json_kstr(j, "ph", ph);
	gt_json_kstr(j, "name", name);
	if (cat)
		gt_json_kstr(j, "cat", cat);
	gt_json_ki64(j, "pid", 1);
	gt_json_ki64(j, "tid", tid);
	gt_json_key(j, "ts");
	gt_json_us(j, rel_ts);
}

/* Stack summaries are formatted once per distinct stack and kept. */
static void stack_arg(gt_perfetto *p, uint32_t stack)
{
	if (!stack)
		return;
	if (stack >= p->nsummary) {
		size_t old = p->capsummary;
		GT_GROW(p->summary, p->capsummary, (size_t)stack + 1);
		memset(p->summary + old, 0, (p->capsummary - old) * sizeof *p->summary);
		p->nsummary = p->capsummary;
	}
	if (!p->summary[stack]) {
		char buf[2048];
		gt_stack_summary(&p->m.stacks, stack, 16, buf, sizeof buf);
		p->summary[stack] = gt_intern(&p->m.strs, buf, strlen(buf));
	}
	gt_json_kstr(&p->j, "stack", p->summary[stack]);
}

static void on_interval(void *ctx, gt_model *m, gt_g *g, const gt_interval *iv)
{
	(void)m;
	gt_perfetto *p = ctx;
	uint64_t a = iv->start, b = iv->end;
	if (gt_interval_syscall_marker(iv) || !clip(p, &a, &b))
		return;
	char name[300];
	if (iv->state == GT_ST_BLOCKED)
		snprintf(name, sizeof name, "blocked: %s", *iv->reason ? iv->reason : "?");
	else
		snprintf(name, sizeof name, "%s", gt_state_names[iv->state]);
	ev_head(p, "X", name, "state", g->id, a);
	gt_json_key(&p->j, "dur");
	gt_json_us(&p->j, b - a);
	gt_json_key(&p->j, "args");
	gt_json_obj(&p->j);
	if (iv->m != GORT_TP_NONE)
		gt_json_ki64(&p->j, "thread", iv->m);
	if (iv->state == GT_ST_BLOCKED || iv->state == GT_ST_SYSCALL || iv->state == GT_ST_RUNNABLE)
		stack_arg(p, iv->stack);
	gt_json_end(&p->j);
	gt_json_end(&p->j);
}

static void on_region(void *ctx, gt_model *m, gt_g *g, const gt_region *r, size_t depth)
{
	gt_perfetto *p = ctx;
	uint64_t a = r->start, b = r->end;
	if (!clip(p, &a, &b))
		return;
	gt_map_put(&p->g_has_regions, (uint64_t)g->id, 1, NULL);
	ev_head(p, "X", *r->type ? r->type : "(region)", "region", g->id + GT_PF_REGION_TID, a);
	gt_json_key(&p->j, "dur");
	gt_json_us(&p->j, b - a);
	gt_json_key(&p->j, "args");
	gt_json_obj(&p->j);
	if (r->task)
		gt_json_ku64(&p->j, "task", r->task);
	gt_json_ku64(&p->j, "depth", depth);
	if (!r->complete)
		gt_json_key(&p->j, "incomplete"), gt_json_bool(&p->j, true);
	stack_arg(p, r->stack);
	gt_json_end(&p->j);
	gt_json_end(&p->j);
	/* flow step: this region belongs to a task whose begin (the flow's
	** start) is in the output; otherwise the step would dangle */
	const gt_task *tk = r->task ? gt_model_open_task(m, r->task) : NULL;
	if (tk && in_window(p, tk->start) && in_window(p, r->start)) {
		ev_head(p, "t", "task", "task-flow", g->id + GT_PF_REGION_TID, a);
		gt_json_ku64(&p->j, "id", r->task);
		gt_json_end(&p->j);
	}
}

static void on_task(void *ctx, gt_model *m, const gt_task *t)
{
	(void)m;
	gt_perfetto *p = ctx;
	uint64_t a = t->start, b = t->end;
	if (!clip(p, &a, &b))
		return;
	const char *name = *t->type ? t->type : "(task)";
	for (int k = 0; k < 2; k++) {
		ev_head(p, k ? "e" : "b", name, "task", k ? (t->end_g >= 0 ? t->end_g : 0) : (t->begin_g >= 0 ? t->begin_g : 0),
			k ? b : a);
		gt_json_ku64(&p->j, "id", t->id);
		if (!k) {
			gt_json_key(&p->j, "args");
			gt_json_obj(&p->j);
			gt_json_ku64(&p->j, "task", t->id);
			if (t->parent)
				gt_json_ku64(&p->j, "parent", t->parent);
			if (!t->has_begin || !t->has_end)
				gt_json_key(&p->j, "incomplete"), gt_json_bool(&p->j, true);
			gt_json_end(&p->j);
		}
		gt_json_end(&p->j);
	}
	/* flow start (begin goroutine) and finish (end goroutine) */
	if (t->has_begin && t->begin_g >= 0 && in_window(p, t->start)) {
		ev_head(p, "s", "task", "task-flow", t->begin_g, a);
		gt_json_ku64(&p->j, "id", t->id);
		gt_json_end(&p->j);
	}
	if (t->has_end && t->end_g >= 0 && in_window(p, t->end)) {
		ev_head(p, "f", "task", "task-flow", t->end_g, b);
		gt_json_ku64(&p->j, "id", t->id);
		gt_json_kstr(&p->j, "bp", "e");
		gt_json_end(&p->j);
	}
}

static void counter(gt_perfetto *p, const char *name, uint64_t t, uint64_t v)
{
	ev_head(p, "C", name, NULL, 0, rel(p, t));
	gt_json_key(&p->j, "args");
	gt_json_obj(&p->j);
	gt_json_ku64(&p->j, name, v);
	gt_json_end(&p->j);
	gt_json_end(&p->j);
}

static void range_event(gt_perfetto *p, const gort_tp_event *ev)
{
	const char *name = gt_intern_str(&p->m.strs, ev->u.range.name);
	uint64_t key = ((uintptr_t)name * 31) ^ ((uint64_t)ev->u.range.scope << 56) ^ (uint64_t)ev->u.range.scope_id;
	if (key == UINT64_MAX)
		key = 0;
	if (ev->kind != GORT_TP_RANGE_END) {
		*gt_map_put(&p->range_open, key, 0, NULL) = ev->kind == GORT_TP_RANGE_ACTIVE ? p->m.t_first : ev->time_ns;
		*gt_map_put(&p->range_name, key, 0, NULL) = (uintptr_t)name;
		return;
	}
	uint64_t *st = gt_map_get(&p->range_open, key);
	uint64_t a = st && *st != UINT64_MAX ? *st : p->m.t_first, b = ev->time_ns;
	if (st)
		*st = UINT64_MAX;
	if (!clip(p, &a, &b))
		return;
	uint64_t id = ++p->nrange;
	for (int k = 0; k < 2; k++) {
		ev_head(p, k ? "e" : "b", name, "runtime", 0, k ? b : a);
		gt_json_ku64(&p->j, "id", id);
		gt_json_end(&p->j);
	}
}

static void on_event(void *ctx, gt_model *m, const gort_tp_event *ev, gt_g *g)
{
	gt_perfetto *p = ctx;
	switch (ev->kind) {
	case GORT_TP_LOG: {
		if (!in_window(p, ev->time_ns))
			return;
		char name[300];
		const char *cat = gt_intern_str(&m->strs, ev->u.log.category);
		snprintf(name, sizeof name, "log: %s", *cat ? cat : "(no category)");
		ev_head(p, "i", name, "log", g ? g->id : 0, rel(p, ev->time_ns));
		gt_json_kstr(&p->j, "s", "t");
		gt_json_key(&p->j, "args");
		gt_json_obj(&p->j);
		gt_json_key(&p->j, "message");
		gt_json_strn(&p->j, ev->u.log.message.ptr, ev->u.log.message.len);
		if (ev->u.log.task)
			gt_json_ku64(&p->j, "task", ev->u.log.task);
		gt_json_end(&p->j);
		gt_json_end(&p->j);
		break;
	}
	case GORT_TP_STACK_SAMPLE: {
		if (!in_window(p, ev->time_ns))
			return;
		uint32_t st = gt_stack_intern(&m->stacks, ev->generation, &ev->stack);
		const uint32_t *fi;
		size_t nf = gt_stack_frames(&m->stacks, st, &fi);
		char name[300];
		snprintf(name, sizeof name, "cpu: %s", nf ? gt_frame_at(&m->stacks, fi[0])->func : "?");
		ev_head(p, "i", name, "cpu", g ? g->id : 0, rel(p, ev->time_ns));
		gt_json_kstr(&p->j, "s", "t");
		gt_json_key(&p->j, "args");
		gt_json_obj(&p->j);
		if (ev->thread != GORT_TP_NONE)
			gt_json_ki64(&p->j, "thread", ev->thread);
		stack_arg(p, st);
		gt_json_end(&p->j);
		gt_json_end(&p->j);
		break;
	}
	case GORT_TP_METRIC: {
		if (!in_window(p, ev->time_ns))
			return;
		const char *name = ev->raw_type == GR_EV_HEAP_ALLOC ? "HeapAlloc"
				 : ev->raw_type == GR_EV_HEAP_GOAL ? "HeapGoal"
				 : ev->raw_type == GR_EV_PROCS_CHANGE ? "GOMAXPROCS"
				 : gt_intern_str(&m->strs, ev->u.metric.name);
		counter(p, name, ev->time_ns, ev->u.metric.value);
		break;
	}
	case GORT_TP_RANGE_BEGIN:
	case GORT_TP_RANGE_ACTIVE:
	case GORT_TP_RANGE_END:
		range_event(p, ev);
		break;
	default:
		break;
	}
}

gt_perfetto *gt_perfetto_new(FILE *out, uint64_t from_ns, uint64_t to_ns, const char *title)
{
	gt_perfetto *p = gt_xcalloc(1, sizeof *p);
	gt_model_cb cb = { .ctx = p, .interval = on_interval, .region = on_region,
			   .task = on_task, .event = on_event };
	gt_model_init(&p->m, &cb);
	gt_map_init(&p->range_open);
	gt_map_init(&p->range_name);
	gt_map_init(&p->g_has_regions);
	p->f = out;
	p->from = from_ns;
	p->to = to_ns;
	p->title = title;
	gt_json_init(&p->j, out, false);
	gt_json_obj(&p->j);
	gt_json_kstr(&p->j, "displayTimeUnit", "ns");
	gt_json_key(&p->j, "traceEvents");
	gt_json_arr(&p->j);
	return p;
}

void gt_perfetto_event(gt_perfetto *p, const gort_tp_event *ev)
{
	gt_model_event(&p->m, ev);
}

static void meta(gt_perfetto *p, const char *what, int64_t tid, const char *key, const char *sval, int64_t ival)
{
	gt_json *j = &p->j;
	gt_json_obj(j);
	gt_json_kstr(j, "ph", "M");
	gt_json_kstr(j, "name", what);
	gt_json_ki64(j, "pid", 1);
	gt_json_ki64(j, "tid", tid);
	gt_json_key(j, "args");
	gt_json_obj(j);
	if (sval)
		gt_json_kstr(j, key, sval);
	else
		gt_json_ki64(j, key, ival);
	gt_json_end(j);
	gt_json_end(j);
}

int gt_perfetto_finish(gt_perfetto *p)
{
	gt_model_finish(&p->m);
	/* ranges still open at the end */
	for (size_t i = 0; i < p->range_open.cap; i++) {
		if (p->range_open.keys[i] == UINT64_MAX || p->range_open.vals[i] == UINT64_MAX)
			continue;
		uint64_t *nm = gt_map_get(&p->range_name, p->range_open.keys[i]);
		const char *name = nm ? (const char *)(uintptr_t)*nm : "runtime range";
		uint64_t a = p->range_open.vals[i], b = p->m.t_last;
		if (!clip(p, &a, &b))
			continue;
		uint64_t id = ++p->nrange;
		for (int k = 0; k < 2; k++) {
			ev_head(p, k ? "e" : "b", name, "runtime", 0, k ? b : a);
			gt_json_ku64(&p->j, "id", id);
			gt_json_end(&p->j);
		}
	}
	meta(p, "process_name", 0, "name", p->title ? p->title : "gort trace", 0);
	meta(p, "thread_name", 0, "name", "runtime / global", 0);
	meta(p, "thread_sort_index", 0, "sort_index", NULL, -1);
	for (size_t i = 0; i < p->m.ng; i++) {
		gt_g *g = p->m.gs[i];
		char name[300], rname[340];
		gt_g_name(g, name, sizeof name);
		meta(p, "thread_name", g->id, "name", name, 0);
		meta(p, "thread_sort_index", g->id, "sort_index", NULL, (int64_t)(2 * i));
		if (gt_map_get(&p->g_has_regions, (uint64_t)g->id)) {
			snprintf(rname, sizeof rname, "%s regions", name);
			meta(p, "thread_name", g->id + GT_PF_REGION_TID, "name", rname, 0);
			meta(p, "thread_sort_index", g->id + GT_PF_REGION_TID, "sort_index", NULL, (int64_t)(2 * i + 1));
		}
	}
	gt_json_end(&p->j);  /* traceEvents */
	gt_json_end(&p->j);  /* top object */
	fputc('\n', p->f);
	if (fflush(p->f) != 0 || ferror(p->f)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

void gt_perfetto_free(gt_perfetto *p)
{
	if (!p)
		return;
	gt_model_free(&p->m);
	gt_map_free(&p->range_open);
	gt_map_free(&p->range_name);
	gt_map_free(&p->g_has_regions);
	free(p->summary);
	free(p);
}
