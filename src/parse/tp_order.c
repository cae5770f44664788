/*
** src/parse/tp_order.c: the scheduler-state machine that validates events and
** decides which thread's next event may come next (Go's order.go).
**
** Each M's events are in order within the M; across Ms the only order comes
** from sequence numbers (g_seq, p_seq, gc_seq) and from state: a GoStart can
** only happen when the goroutine is runnable with the preceding sequence
** number, a GoSyscallEndBlocked only once the M's P was taken away, etc.
** _gr_tp_order_advance() answers "can ev (from M m) happen now?": 1 = yes, and
** the state moved on; 0 = not yet (try another M); < 0 = the trace is broken.
** The rules, the states and the error cases are Go 1.22's, so a trace is
** accepted and ordered exactly as Go's reader does.
**
** Invariants:
**  - ms (per M) is never freed while the reader lives; cursors cache it.
**  - A goroutine's state exists from GoCreate/GoStatus until GoDestroy.
**  - Region names and task names are owned copies: they outlive the
**    generation whose string table they came from.
** Single-threaded; owned by one reader.
*/
#include "internal/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NONE GORT_TP_NONE
#define NO_TASK UINT64_MAX

const uint8_t _gr_tp_go_status2state[5] = {
	GORT_TP_G_UNDETERMINED, GORT_TP_G_RUNNABLE, GORT_TP_G_RUNNING, GORT_TP_G_SYSCALL, GORT_TP_G_WAITING,
};
const uint8_t _gr_tp_proc_status2state[5] = {
	GORT_TP_P_UNDETERMINED, GORT_TP_P_RUNNING, GORT_TP_P_IDLE, GORT_TP_P_RUNNING, GORT_TP_P_IDLE,
};

const char *_gr_tp_go_status_name(unsigned s)
{
	static const char *const n[] = { "Bad", "Runnable", "Running", "Syscall", "Waiting" };
	return s < 5 ? n[s] : "Bad";
}

const char *_gr_tp_proc_status_name(unsigned s)
{
	static const char *const n[] = { "Bad", "Running", "Idle", "Syscall", "SyscallAbandoned" };
	return s < 5 ? n[s] : "Bad";
}

static const char *ename(uint8_t t)
{
	return t < GR_EV_COUNT && _gr_go122_specs[t].name ? _gr_go122_specs[t].name : "Invalid";
}

/* ---- owned names ------------------------------------------------------------ */

static int name_set(tp_name *n, gort_tp_str s)
{
	n->len = (uint32_t)s.len;
	n->heap = NULL;
	if (s.len <= sizeof n->in) {
		memcpy(n->in, s.ptr, s.len);
		return 0;
	}
	n->heap = malloc(s.len);
	if (!n->heap)
		return -ENOMEM;
	memcpy(n->heap, s.ptr, s.len);
	return 0;
}

static void name_free(tp_name *n)
{
	free(n->heap);
	n->heap = NULL;
}

static bool name_eq(const tp_name *n, gort_tp_str s)
{
	return n->len == s.len && memcmp(_gr_tp_name_ptr(n), s.ptr, s.len) == 0;
}

/* The Begin event of a range, for End/Active events (Go's Spec.StartEv). */
static uint8_t start_ev(uint8_t t)
{
	switch (t) {
	case GR_EV_GO_SYSCALL_END:
	case GR_EV_GO_SYSCALL_END_BLOCKED: return GR_EV_GO_SYSCALL_BEGIN;
	case GR_EV_STW_END: return GR_EV_STW_BEGIN;
	case GR_EV_GC_ACTIVE:
	case GR_EV_GC_END: return GR_EV_GC_BEGIN;
	case GR_EV_GC_SWEEP_ACTIVE:
	case GR_EV_GC_SWEEP_END: return GR_EV_GC_SWEEP_BEGIN;
	case GR_EV_GC_MARK_ASSIST_ACTIVE:
	case GR_EV_GC_MARK_ASSIST_END: return GR_EV_GC_MARK_ASSIST_BEGIN;
	case GR_EV_USER_REGION_END: return GR_EV_USER_REGION_BEGIN;
	default: return t;
	}
}

/* ---- scheduling-context requirements (Go's event.SchedReqs) --------------- */

enum { MUST, MUSTNOT, MAY };

static int check_ctx(gort_tp_reader *r, const tp_base *ev, tp_ctx c, int th, int pr, int go)
{
	const char *e = NULL;
	if (th == MUST && c.m == NONE)
		e = "expected a thread but didn't have one";
	else if (th == MUSTNOT && c.m != NONE)
		e = "expected no thread but had one";
	else if (pr == MUST && c.p == NONE)
		e = "expected a proc but didn't have one";
	else if (pr == MUSTNOT && c.p != NONE)
		e = "expected no proc but had one";
	else if (go == MUST && c.g == NONE)
		e = "expected a goroutine but didn't have one";
	else if (go == MUSTNOT && c.g != NONE)
		e = "expected no goroutine but had one";
	if (!e)
		return 0;
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "%s (%s on thread %" PRId64 ")", e, ename(ev->typ), c.m);
}

#define USER_GO_REQS MUST, MUST, MUST

/* ---- state objects -------------------------------------------------------- */

static tp_gstate *gget(tp_order *o, int64_t id) { return _gr_tp_map_get(&o->gs, (uint64_t)id); }
static tp_pstate *pget(tp_order *o, int64_t id) { return _gr_tp_map_get(&o->ps, (uint64_t)id); }

/* Give a goroutine's state back to the pool (its arrays are kept). */
static void grelease(tp_order *o, tp_gstate *g)
{
	for (uint32_t i = 0; i < g->nregions; i++)
		name_free(&g->regions[i].name);
	g->nregions = 0;
	g->ranges.n = 0;
	g->next_free = o->free_gs;
	o->free_gs = g;
}

static void gfree(tp_gstate *g)
{
	for (uint32_t i = 0; i < g->nregions; i++)
		name_free(&g->regions[i].name);
	free(g->regions);
	free(g->ranges.v);
	free(g);
}

static tp_gstate *gnew(gort_tp_reader *r, int64_t id, uint8_t status, tp_seq seq)
{
	tp_order *o = &r->ord;
	tp_gstate *g = o->free_gs;
	if (g)
		o->free_gs = g->next_free;
	else if (!(g = calloc(1, sizeof *g)))
		return NULL;
	if (_gr_tp_map_put(&o->gs, (uint64_t)id, g) < 0) {
		g->next_free = o->free_gs;
		o->free_gs = g;
		return NULL;
	}
	g->id = id;
	g->status = status;
	g->seq = seq;
	return g;
}

tp_mstate *_gr_tp_order_mstate(gort_tp_reader *r, int64_t m)
{
	tp_order *o = &r->ord;
	tp_mstate *ms = _gr_tp_map_get(&o->ms, (uint64_t)m);
	if (ms)
		return ms;
	if (o->nm == o->capm) {
		size_t nc = o->capm ? o->capm * 2 : 16;
		tp_mstate **nl = realloc(o->mlist, nc * sizeof *nl);
		if (!nl)
			return NULL;
		o->mlist = nl;
		o->capm = nc;
	}
	ms = malloc(sizeof *ms);
	if (!ms || _gr_tp_map_put(&o->ms, (uint64_t)m, ms) < 0) {
		free(ms);
		return NULL;
	}
	ms->id = m;
	ms->g = NONE;
	ms->p = NONE;
	o->mlist[o->nm++] = ms;
	return ms;
}

void _gr_tp_order_free(tp_order *o)
{
	for (size_t i = 0; i < o->gs.cap; i++)
		if (o->gs.vals[i])
			gfree(o->gs.vals[i]);
	for (size_t i = 0; i < o->ps.cap; i++)
		if (o->ps.vals[i]) {
			tp_pstate *p = o->ps.vals[i];
			free(p->ranges.v);
			free(p);
		}
	for (size_t i = 0; i < o->tasks.cap; i++)
		if (o->tasks.vals[i]) {
			tp_task *t = o->tasks.vals[i];
			name_free(&t->name);
			free(t);
		}
	while (o->free_tasks) {
		tp_task *t = o->free_tasks;
		o->free_tasks = t->next_free;
		free(t);
	}
	while (o->free_gs) {
		tp_gstate *g = o->free_gs;
		o->free_gs = g->next_free;
		gfree(g);
	}
	for (size_t i = 0; i < o->nm; i++)
		free(o->mlist[i]);
	free(o->mlist);
	_gr_tp_map_free(&o->gs);
	_gr_tp_map_free(&o->ps);
	_gr_tp_map_free(&o->ms);
	_gr_tp_map_free(&o->tasks);
	memset(o, 0, sizeof *o);
}

/* ---- ranges (Go's rangeState) --------------------------------------------- */

static bool has_range(const tp_ranges *s, uint8_t typ, uint64_t desc)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i].typ == typ && s->v[i].desc == desc)
			return true;
	return false;
}

static int push_range(tp_ranges *s, uint8_t typ, uint64_t desc)
{
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? s->cap * 2 : 4;
		tp_range *nv = realloc(s->v, nc * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = (tp_range){ typ, desc };
	return 0;
}

static int begin_range(gort_tp_reader *r, const tp_base *ev, tp_ranges *s, uint8_t typ, uint64_t desc)
{
	if (has_range(s, typ, desc))
		return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
		                   "discovered event already in-flight for when starting event %s", ename(typ));
	if (push_range(s, typ, desc) < 0)
		return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->off, "out of memory for ranges");
	return 0;
}

static int active_range(gort_tp_reader *r, const tp_base *ev, tp_ranges *s, uint8_t typ, bool initial)
{
	if (initial) {
		if (has_range(s, typ, 0))
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "found named active range already in first gen: %s",
			                   ename(typ));
		if (push_range(s, typ, 0) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->off, "out of memory for ranges");
	} else if (!has_range(s, typ, 0)) {
		return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "resource is missing active range: %s", ename(typ));
	}
	return 0;
}

static int end_range(gort_tp_reader *r, const tp_base *ev, tp_ranges *s, uint64_t *desc)
{
	uint8_t st = start_ev(ev->typ);
	for (uint32_t i = 0; i < s->n; i++) {
		if (s->v[i].typ != st)
			continue;
		*desc = s->v[i].desc;
		s->v[i] = s->v[--s->n];   /* swap remove, as Go */
		return 0;
	}
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "tried to end event %s, but not in-flight", ename(st));
}

/* ---- regions ---------------------------------------------------------------- */

static int begin_region(gort_tp_reader *r, const tp_base *ev, tp_gstate *g, uint64_t task, gort_tp_str name)
{
	if (g->nregions == g->capregions) {
		uint32_t nc = g->capregions ? g->capregions * 2 : 4;
		tp_region *nv = realloc(g->regions, nc * sizeof *nv);
		if (!nv)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->off, "out of memory for regions");
		g->regions = nv;
		g->capregions = nc;
	}
	tp_region *reg = &g->regions[g->nregions];
	reg->task = task;
	if (name_set(&reg->name, name) < 0)
		return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->off, "out of memory for regions");
	g->nregions++;
	return 0;
}

static int end_region(gort_tp_reader *r, const tp_base *ev, tp_gstate *g, uint64_t task, gort_tp_str name)
{
	if (g->nregions == 0)
		return 0;   /* regions begun before the trace started are unknown */
	tp_region *top = &g->regions[g->nregions - 1];
	if (top->task != task || !name_eq(&top->name, name))
		return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
		                   "misuse of region in goroutine %" PRId64 ": region end {%" PRIu64 " %.*s} when the "
		                   "inner-most active region start event is {%" PRIu64 " %.*s}",
		                   g->id, task, (int)name.len, name.ptr, top->task, (int)top->name.len,
		                   _gr_tp_name_ptr(&top->name));
	name_free(&top->name);
	g->nregions--;
	return 0;
}

/* ---- advance --------------------------------------------------------------- */

static inline tp_seq mkseq(uint64_t gen, uint64_t s) { return (tp_seq){ gen, s }; }
static inline bool succeeds(tp_seq a, tp_seq b) { return a.gen == b.gen && a.seq == b.seq + 1; }

static __attribute__((noinline, cold)) int bad_string_arg(gort_tp_reader *r, const tp_base *ev, uint64_t id,
                                                          gort_tp_str *s)
{
	*s = (gort_tp_str){ "", 0 };
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "invalid string ID %" PRIu64 " for %s event", id, ename(ev->typ));
}

static inline int string_arg(gort_tp_reader *r, const tp_base *ev, uint64_t id, gort_tp_str *s)
{
	if (GORT_LIKELY(_gr_tp_gen_string(&r->gen, id, s)))
		return 0;
	return bad_string_arg(r, ev, id, s);
}

static int no_g(gort_tp_reader *r, const tp_base *ev, int64_t g)
{
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "event %s for goroutine (%" PRId64 ") that doesn't exist",
	                   ename(ev->typ), g);
}

static int not_state(gort_tp_reader *r, const tp_base *ev, const char *state)
{
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "%s event for goroutine that's not %s", ename(ev->typ), state);
}

/* The current goroutine g's state if it exists and has status want, else
** NULL with the reader failed as Go's order.go fails (name: the state the
** message names, which Go spells "Running" for some Syscall checks). */
static tp_gstate *cur_g_in(gort_tp_reader *r, const tp_base *ev, int64_t g, uint8_t want, const char *name)
{
	tp_gstate *s = gget(&r->ord, g);
	if (!s)
		no_g(r, ev, g);
	else if (s->status != want)
		not_state(r, ev, name);
	else
		return s;
	return NULL;
}

static int no_p(gort_tp_reader *r, const tp_base *ev, int64_t p)
{
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "uninitialized proc %" PRId64 " found during %s", p,
	                   ename(ev->typ));
}

static int oom(gort_tp_reader *r, const tp_base *ev)
{
	return _gr_tp_fail(r, GORT_TP_ENOMEM, ev->off, "out of memory for the scheduler state");
}

static int adv_proc(gort_tp_reader *r, tp_base *ev, tp_ctx *cur, tp_ctx *nw, uint64_t gen)
{
	tp_order *o = &r->ord;
	switch (ev->typ) {
	case GR_EV_PROC_STATUS: {
		int64_t pid = (int64_t)ev->args[0];
		uint8_t st = (uint8_t)ev->args[1];
		if (st >= 5 || ev->args[1] >= 5)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "invalid status for proc %" PRId64 ": %" PRIu64, pid,
			                   ev->args[1]);
		uint8_t old = _gr_tp_proc_status2state[st];
		tp_pstate *s = pget(o, pid);
		if (s) {
			if (st == GR_PROC_STATUS_SYSCALL_ABANDONED && s->status == GR_PROC_STATUS_SYSCALL) {
				old = GORT_TP_P_RUNNING;
				ev->args[1] = GR_PROC_STATUS_SYSCALL;
			} else if (st == GR_PROC_STATUS_SYSCALL_ABANDONED && s->status == GR_PROC_STATUS_SYSCALL_ABANDONED) {
				old = GORT_TP_P_IDLE;
				ev->args[1] = GR_PROC_STATUS_SYSCALL_ABANDONED;
			} else if (s->status != st) {
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "inconsistent status for proc %" PRId64 ": old %s vs. new %s", pid,
				                   _gr_tp_proc_status_name(s->status), _gr_tp_proc_status_name(st));
			}
			s->seq = mkseq(gen, 0);
		} else {
			s = calloc(1, sizeof *s);
			if (!s || _gr_tp_map_put(&o->ps, (uint64_t)pid, s) < 0) {
				free(s);
				return oom(r, ev);
			}
			s->id = pid;
			s->status = st;
			s->seq = mkseq(gen, 0);
			old = gen == o->initial_gen ? GORT_TP_P_UNDETERMINED : GORT_TP_P_NOT_EXIST;
		}
		ev->extra[0] = old;
		if (st == GR_PROC_STATUS_RUNNING || st == GR_PROC_STATUS_SYSCALL)
			nw->p = pid;
		if (st == GR_PROC_STATUS_SYSCALL_ABANDONED && old == GORT_TP_P_RUNNING) {
			bool found = false;
			for (size_t i = 0; i < o->nm; i++) {
				if (o->mlist[i]->p == pid) {
					cur->m = o->mlist[i]->id;
					cur->p = pid;
					cur->g = o->mlist[i]->g;
					found = true;
				}
			}
			if (!found)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "failed to find sched context for proc %" PRId64 " that's about to be stolen", pid);
		}
		return 1;
	}
	case GR_EV_PROC_START: {
		int64_t pid = (int64_t)ev->args[0];
		tp_seq seq = mkseq(gen, ev->args[1]);
		tp_pstate *s = pget(o, pid);
		if (!s || s->status != GR_PROC_STATUS_IDLE || !succeeds(seq, s->seq) || cur->p != NONE)
			return 0;
		if (check_ctx(r, ev, *cur, MUST, MUSTNOT, MAY))
			return r->state;
		s->status = GR_PROC_STATUS_RUNNING;
		s->seq = seq;
		nw->p = pid;
		return 1;
	}
	case GR_EV_PROC_STOP: {
		tp_pstate *s = pget(o, cur->p);
		if (!s)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "event ProcStop for proc (%" PRId64 ") that doesn't exist",
			                   cur->p);
		if (s->status != GR_PROC_STATUS_RUNNING && s->status != GR_PROC_STATUS_SYSCALL)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "ProcStop event for proc that's not Running or Syscall");
		if (check_ctx(r, ev, *cur, MUST, MUST, MAY))
			return r->state;
		s->status = GR_PROC_STATUS_IDLE;
		nw->p = NONE;
		return 1;
	}
	case GR_EV_PROC_STEAL: {
		int64_t pid = (int64_t)ev->args[0];
		tp_seq seq = mkseq(gen, ev->args[1]);
		tp_pstate *s = pget(o, pid);
		if (!s || (s->status != GR_PROC_STATUS_SYSCALL && s->status != GR_PROC_STATUS_SYSCALL_ABANDONED) ||
		    !succeeds(seq, s->seq))
			return 0;
		if (check_ctx(r, ev, *cur, MUST, MAY, MAY))
			return r->state;
		uint8_t old = s->status;
		ev->extra[0] = old;
		s->status = GR_PROC_STATUS_IDLE;
		s->seq = seq;
		if (old == GR_PROC_STATUS_SYSCALL_ABANDONED)
			return 1;
		int64_t mid = (int64_t)ev->args[2];
		if (mid == cur->m) {
			if (cur->p != pid)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "tried to self-steal proc %" PRId64 " (thread %" PRId64 "), but got proc %" PRId64
				                   " instead", pid, mid, cur->p);
			nw->p = NONE;
			return 1;
		}
		tp_mstate *ms = _gr_tp_map_get(&o->ms, (uint64_t)mid);
		if (!ms)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "stole proc from non-existent thread %" PRId64, mid);
		if (ms->p != pid)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "tried to steal proc %" PRId64 " from thread %" PRId64 ", but got proc %" PRId64 " instead",
			                   pid, mid, ms->p);
		ms->p = NONE;
		return 1;
	}
	}
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "bad event type found while ordering: %u", ev->typ);
}

static int adv_go(gort_tp_reader *r, tp_base *ev, tp_ctx *cur, tp_ctx *nw, uint64_t gen)
{
	tp_order *o = &r->ord;
	switch (ev->typ) {
	case GR_EV_GO_STATUS: {
		int64_t gid = (int64_t)ev->args[0], mid = (int64_t)ev->args[1];
		uint8_t st = (uint8_t)ev->args[2];
		if (st >= 5 || ev->args[2] >= 5)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "invalid status for goroutine %" PRId64 ": %" PRIu64, gid,
			                   ev->args[2]);
		uint8_t old = _gr_tp_go_status2state[st];
		tp_gstate *s = gget(o, gid);
		if (s) {
			if (s->status != st)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "inconsistent status for goroutine %" PRId64 ": old %s vs. new %s", gid,
				                   _gr_tp_go_status_name(s->status), _gr_tp_go_status_name(st));
			s->seq = mkseq(gen, 0);
		} else if (gen == o->initial_gen) {
			if (!gnew(r, gid, st, mkseq(gen, 0)))
				return oom(r, ev);
			old = GORT_TP_G_UNDETERMINED;
		} else {
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "found goroutine status for new goroutine after the first generation: id=%" PRId64
			                   " status=%s", gid, _gr_tp_go_status_name(st));
		}
		ev->extra[0] = old;
		if (st == GR_GO_STATUS_RUNNING) {
			nw->g = gid;
		} else if (st == GR_GO_STATUS_SYSCALL) {
			if (mid == NONE)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "found goroutine %" PRId64 " in syscall without a thread", gid);
			if (mid == cur->m) {
				if (gen != o->initial_gen && cur->g != gid)
					return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
					                   "inconsistent thread for syscalling goroutine %" PRId64
					                   ": thread has goroutine %" PRId64, gid, cur->g);
				nw->g = gid;
				return 1;
			}
			tp_mstate *ms = _gr_tp_map_get(&o->ms, (uint64_t)mid);
			if (ms) {
				if (ms->g != gid)
					return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
					                   "inconsistent thread for syscalling goroutine %" PRId64
					                   ": thread has goroutine %" PRId64, gid, ms->g);
				cur->g = ms->g;
			} else {
				ms = _gr_tp_order_mstate(r, mid);
				if (!ms)
					return oom(r, ev);
				ms->g = gid;
			}
			cur->m = mid;
		}
		return 1;
	}
	case GR_EV_GO_CREATE: {
		if (check_ctx(r, ev, *cur, MUST, MUST, MAY))
			return r->state;
		tp_gstate *s = gget(o, cur->g);
		if (s && s->status != GR_GO_STATUS_RUNNING)
			return not_state(r, ev, "Running");
		int64_t ng = (int64_t)ev->args[0];
		if (gget(o, ng))
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "tried to create goroutine (%" PRId64 ") that already exists",
			                   ng);
		if (!gnew(r, ng, GR_GO_STATUS_RUNNABLE, mkseq(gen, 0)))
			return oom(r, ev);
		return 1;
	}
	case GR_EV_GO_DESTROY:
	case GR_EV_GO_STOP:
	case GR_EV_GO_BLOCK: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		tp_gstate *s = cur_g_in(r, ev, cur->g, GR_GO_STATUS_RUNNING, "Running");
		if (!s)
			return r->state;
		if (ev->typ == GR_EV_GO_DESTROY) {
			if (s->ranges.n && r->validate)   /* Go's validator: "died with active ranges" */
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "goroutine %" PRId64 " died with active ranges",
				                   cur->g);
			_gr_tp_map_del(&o->gs, (uint64_t)cur->g);
			grelease(o, s);
		} else {
			s->status = ev->typ == GR_EV_GO_STOP ? GR_GO_STATUS_RUNNABLE : GR_GO_STATUS_WAITING;
		}
		nw->g = NONE;
		return 1;
	}
	case GR_EV_GO_START: {
		int64_t gid = (int64_t)ev->args[0];
		tp_seq seq = mkseq(gen, ev->args[1]);
		tp_gstate *s = gget(o, gid);
		if (!s || s->status != GR_GO_STATUS_RUNNABLE || !succeeds(seq, s->seq))
			return 0;
		if (check_ctx(r, ev, *cur, MUST, MUST, MUSTNOT))
			return r->state;
		s->status = GR_GO_STATUS_RUNNING;
		s->seq = seq;
		nw->g = gid;
		return 1;
	}
	case GR_EV_GO_UNBLOCK: {
		int64_t gid = (int64_t)ev->args[0];
		tp_seq seq = mkseq(gen, ev->args[1]);
		tp_gstate *s = gget(o, gid);
		if (!s || s->status != GR_GO_STATUS_WAITING || !succeeds(seq, s->seq))
			return 0;
		s->status = GR_GO_STATUS_RUNNABLE;
		s->seq = seq;
		return 1;
	}
	case GR_EV_GO_SYSCALL_BEGIN: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		tp_gstate *s = cur_g_in(r, ev, cur->g, GR_GO_STATUS_RUNNING, "Running");
		if (!s)
			return r->state;
		s->status = GR_GO_STATUS_SYSCALL;
		tp_pstate *p = pget(o, cur->p);
		if (!p)
			return no_p(r, ev, cur->p);
		p->status = GR_PROC_STATUS_SYSCALL;
		tp_seq ps = mkseq(gen, ev->args[0]);
		if (!succeeds(ps, p->seq))
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "failed to advance GoSyscallBegin: can't make sequence: %" PRIu64 " (gen=%" PRIu64
			                   ") -> %" PRIu64 " (gen=%" PRIu64 ")", p->seq.seq, p->seq.gen, ps.seq, ps.gen);
		p->seq = ps;
		return 1;
	}
	case GR_EV_GO_SYSCALL_END: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		tp_gstate *s = cur_g_in(r, ev, cur->g, GR_GO_STATUS_SYSCALL, "Running");
		if (!s)
			return r->state;
		s->status = GR_GO_STATUS_RUNNING;
		tp_pstate *p = pget(o, cur->p);
		if (!p)
			return no_p(r, ev, cur->p);
		if (p->status != GR_PROC_STATUS_SYSCALL)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "expected proc %" PRId64 " in state Syscall, but got %s instead", cur->p,
			                   _gr_tp_proc_status_name(p->status));
		p->status = GR_PROC_STATUS_RUNNING;
		return 1;
	}
	case GR_EV_GO_SYSCALL_END_BLOCKED: {
		if (cur->p != NONE) {
			tp_pstate *p = pget(o, cur->p);
			if (!p)
				return no_p(r, ev, cur->p);
			if (p->status == GR_PROC_STATUS_SYSCALL)
				return 0;
		}
		if (check_ctx(r, ev, *cur, MUST, MAY, MUST))
			return r->state;
		tp_gstate *s = cur_g_in(r, ev, cur->g, GR_GO_STATUS_SYSCALL, "Running");
		if (!s)
			return r->state;
		nw->g = NONE;
		s->status = GR_GO_STATUS_RUNNABLE;
		return 1;
	}
	case GR_EV_GO_CREATE_SYSCALL: {
		if (check_ctx(r, ev, *cur, MUST, MAY, MUSTNOT))
			return r->state;
		int64_t ng = (int64_t)ev->args[0];
		if (gget(o, ng))
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "tried to create goroutine (%" PRId64 ") in syscall that already exists", ng);
		if (!gnew(r, ng, GR_GO_STATUS_SYSCALL, mkseq(gen, 0)))
			return oom(r, ev);
		nw->g = ng;
		return 1;
	}
	case GR_EV_GO_DESTROY_SYSCALL: {
		if (check_ctx(r, ev, *cur, MUST, MAY, MUST))
			return r->state;
		tp_gstate *s = cur_g_in(r, ev, cur->g, GR_GO_STATUS_SYSCALL, "Syscall");
		if (!s)
			return r->state;
		if (s->ranges.n && r->validate)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "goroutine %" PRId64 " died with active ranges", cur->g);
		_gr_tp_map_del(&o->gs, (uint64_t)cur->g);
		grelease(o, s);
		nw->g = NONE;
		if (cur->p != NONE) {
			tp_pstate *p = pget(o, cur->p);
			if (!p)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "found invalid proc %" PRId64 " during %s", cur->p,
				                   ename(ev->typ));
			if (p->status != GR_PROC_STATUS_SYSCALL)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "proc %" PRId64 " in unexpected state %s during %s",
				                   cur->p, _gr_tp_proc_status_name(p->status), ename(ev->typ));
			p->status = GR_PROC_STATUS_SYSCALL_ABANDONED;
			nw->p = NONE;
			/* Queue a self-steal so the P is seen leaving this thread. */
			o->have_extra = true;
			memset(&o->extra, 0, sizeof o->extra);
			o->extra.typ = GR_EV_PROC_STEAL;
			o->extra.time = ev->time;
			o->extra.args[0] = (uint64_t)cur->p;
			o->extra.extra[0] = GR_PROC_STATUS_SYSCALL;
			o->extra.off = ev->off;
			o->extra.batch_off = ev->batch_off;
			o->extra_ctx = *cur;
		}
		return 1;
	}
	}
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "bad event type found while ordering: %u", ev->typ);
}

static int adv_user(gort_tp_reader *r, tp_base *ev, tp_ctx *cur)
{
	tp_order *o = &r->ord;
	gort_tp_str name;
	switch (ev->typ) {
	case GR_EV_USER_TASK_BEGIN: {
		uint64_t id = ev->args[0];
		if (_gr_tp_map_get(&o->tasks, id))
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "task ID conflict: %" PRIu64, id);
		uint64_t parent = ev->args[1];
		if (parent == 0) {
			parent = NO_TASK;
			ev->args[1] = NO_TASK;
		}
		if (string_arg(r, ev, ev->args[2], &name))
			return r->state;
		tp_task *t = o->free_tasks;
		if (t)
			o->free_tasks = t->next_free;
		else if (!(t = malloc(sizeof *t)))
			return oom(r, ev);
		t->parent = parent;
		if (name_set(&t->name, name) < 0 || _gr_tp_map_put(&o->tasks, id, t) < 0) {
			name_free(&t->name);
			t->next_free = o->free_tasks;
			o->free_tasks = t;
			return oom(r, ev);
		}
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		return 1;
	}
	case GR_EV_USER_TASK_END: {
		tp_task *t = _gr_tp_map_del(&o->tasks, ev->args[0]);
		if (t) {
			/* The type may come from an earlier generation: keep a copy. */
			memcpy(r->scratch, _gr_tp_name_ptr(&t->name), t->name.len);
			ev->extra[0] = t->parent;
			ev->extra[1] = t->name.len;
			name_free(&t->name);
			t->next_free = o->free_tasks;
			o->free_tasks = t;
		} else {
			ev->extra[0] = NO_TASK;
			ev->extra[1] = 0;
		}
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		return 1;
	}
	case GR_EV_USER_REGION_BEGIN:
	case GR_EV_USER_REGION_END: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		if (string_arg(r, ev, ev->args[1], &name))
			return r->state;
		tp_gstate *g = gget(o, cur->g);
		if (!g)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "encountered %s without known state for current goroutine %" PRId64,
			                   ev->typ == GR_EV_USER_REGION_BEGIN ? "EvUserRegionBegin" : "EvUserRegionEnd", cur->g);
		int rc = ev->typ == GR_EV_USER_REGION_BEGIN ? begin_region(r, ev, g, ev->args[0], name)
		                                            : end_region(r, ev, g, ev->args[0], name);
		return rc ? rc : 1;
	}
	}
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "bad event type found while ordering: %u", ev->typ);
}

static int adv_gc(gort_tp_reader *r, tp_base *ev, tp_ctx *cur, uint64_t gen)
{
	tp_order *o = &r->ord;
	bool initial = gen == o->initial_gen;
	switch (ev->typ) {
	case GR_EV_GC_ACTIVE: {
		uint64_t seq = ev->args[0];
		if (initial) {
			if (o->gc_state != TP_GC_UNDETERMINED)
				return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
				                   "GCActive in the first generation isn't first GC event");
			o->gc_seq = seq;
			o->gc_state = TP_GC_RUNNING;
			return 1;
		}
		if (seq != o->gc_seq + 1)
			return 0;
		if (o->gc_state != TP_GC_RUNNING)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "encountered GCActive while GC was not in progress");
		o->gc_seq = seq;
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		return 1;
	}
	case GR_EV_GC_BEGIN: {
		uint64_t seq = ev->args[0];
		if (o->gc_state == TP_GC_UNDETERMINED) {
			o->gc_seq = seq;
			o->gc_state = TP_GC_RUNNING;
			return 1;
		}
		if (seq != o->gc_seq + 1)
			return 0;
		if (o->gc_state == TP_GC_RUNNING)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "encountered GCBegin while GC was already in progress");
		o->gc_seq = seq;
		o->gc_state = TP_GC_RUNNING;
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		return 1;
	}
	case GR_EV_GC_END: {
		uint64_t seq = ev->args[0];
		if (seq != o->gc_seq + 1)
			return 0;
		if (o->gc_state == TP_GC_NOT_RUNNING)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "encountered GCEnd when GC was not in progress");
		if (o->gc_state == TP_GC_UNDETERMINED)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "encountered GCEnd when GC was in an undetermined state");
		o->gc_seq = seq;
		o->gc_state = TP_GC_NOT_RUNNING;
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		return 1;
	}
	case GR_EV_GC_SWEEP_BEGIN:
	case GR_EV_GC_SWEEP_END: {
		if (check_ctx(r, ev, *cur, MUST, MUST, MAY))
			return r->state;
		tp_pstate *p = pget(o, cur->p);
		if (!p)
			return no_p(r, ev, cur->p);
		uint64_t desc;
		int rc = ev->typ == GR_EV_GC_SWEEP_BEGIN ? begin_range(r, ev, &p->ranges, GR_EV_GC_SWEEP_BEGIN, 0)
		                                         : end_range(r, ev, &p->ranges, &desc);
		return rc ? rc : 1;
	}
	case GR_EV_GC_SWEEP_ACTIVE: {
		int64_t pid = (int64_t)ev->args[0];
		tp_pstate *p = pget(o, pid);
		if (!p)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "encountered GCSweepActive for unknown proc %" PRId64, pid);
		int rc = active_range(r, ev, &p->ranges, GR_EV_GC_SWEEP_BEGIN, initial);
		return rc ? rc : 1;
	}
	case GR_EV_STW_BEGIN:
	case GR_EV_GC_MARK_ASSIST_BEGIN: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		uint64_t desc = ev->typ == GR_EV_STW_BEGIN ? ev->args[0] : 0;
		tp_gstate *g = gget(o, cur->g);
		if (!g)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "encountered event of type %u without known state for current goroutine %" PRId64,
			                   ev->typ, cur->g);
		int rc = begin_range(r, ev, &g->ranges, ev->typ, desc);
		return rc ? rc : 1;
	}
	case GR_EV_GC_MARK_ASSIST_ACTIVE: {
		int64_t gid = (int64_t)ev->args[0];
		tp_gstate *g = gget(o, gid);
		if (!g)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "uninitialized goroutine %" PRId64 " found during %s", gid,
			                   ename(ev->typ));
		int rc = active_range(r, ev, &g->ranges, GR_EV_GC_MARK_ASSIST_BEGIN, initial);
		return rc ? rc : 1;
	}
	case GR_EV_STW_END:
	case GR_EV_GC_MARK_ASSIST_END: {
		if (check_ctx(r, ev, *cur, USER_GO_REQS))
			return r->state;
		tp_gstate *g = gget(o, cur->g);
		if (!g)
			return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off,
			                   "encountered event of type %u without known state for current goroutine %" PRId64,
			                   ev->typ, cur->g);
		uint64_t desc = 0;
		if (end_range(r, ev, &g->ranges, &desc))
			return r->state;
		if (ev->typ == GR_EV_STW_END)
			ev->args[0] = desc;
		return 1;
	}
	}
	return _gr_tp_fail(r, GORT_TP_EINVALID, ev->off, "bad event type found while ordering: %u", ev->typ);
}

int _gr_tp_order_advance(gort_tp_reader *r, tp_base *ev, tp_mstate *ms, int64_t m, uint64_t gen, tp_ctx *ctx)
{
	tp_order *o = &r->ord;
	if (o->initial_gen == 0)
		o->initial_gen = gen;
	tp_ctx cur = { NONE, NONE, m }, nw;
	if (m != NONE) {
		cur.p = ms->p;
		cur.g = ms->g;
	}
	nw = cur;
	int rc;
	switch (ev->typ) {
	case GR_EV_PROC_STATUS:
	case GR_EV_PROC_START:
	case GR_EV_PROC_STOP:
	case GR_EV_PROC_STEAL:
		rc = adv_proc(r, ev, &cur, &nw, gen);
		break;
	case GR_EV_GO_STATUS:
	case GR_EV_GO_CREATE:
	case GR_EV_GO_DESTROY:
	case GR_EV_GO_STOP:
	case GR_EV_GO_BLOCK:
	case GR_EV_GO_START:
	case GR_EV_GO_UNBLOCK:
	case GR_EV_GO_SYSCALL_BEGIN:
	case GR_EV_GO_SYSCALL_END:
	case GR_EV_GO_SYSCALL_END_BLOCKED:
	case GR_EV_GO_CREATE_SYSCALL:
	case GR_EV_GO_DESTROY_SYSCALL:
		rc = adv_go(r, ev, &cur, &nw, gen);
		break;
	case GR_EV_USER_TASK_BEGIN:
	case GR_EV_USER_TASK_END:
	case GR_EV_USER_REGION_BEGIN:
	case GR_EV_USER_REGION_END:
		rc = adv_user(r, ev, &cur);
		break;
	case GR_EV_GO_LABEL:
	case GR_EV_PROCS_CHANGE:
	case GR_EV_USER_LOG:
		rc = check_ctx(r, ev, cur, USER_GO_REQS) ? r->state : 1;
		break;
	case GR_EV_HEAP_ALLOC:
	case GR_EV_HEAP_GOAL:
		rc = check_ctx(r, ev, cur, MUST, MUST, MAY) ? r->state : 1;
		break;
	default:
		rc = adv_gc(r, ev, &cur, gen);
		break;
	}
	if (m != NONE && rc >= 0) {
		ms->p = nw.p;
		ms->g = nw.g;
	}
	*ctx = cur;
	return rc;
}
