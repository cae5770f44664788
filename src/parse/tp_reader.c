/*
** src/parse/tp_reader.c: the public reader (Go's reader.go).
**
** gort_tp_next() hands out one event at a time:
**   1. a queued extra event (the self-steal after GoDestroySyscall);
**   2. when the generation is used up: a Sync event, then the next
**      generation is read (tp_gen.c) and one cursor per M is put in a
**      min-heap ("frontier") keyed by the time of its next event;
**   3. a CPU sample if it comes before the frontier's earliest event;
**   4. the frontier's earliest event if the ordering (tp_order.c) lets it
**      advance; else the frontier is sorted by time and every other M is
**      tried in turn; if none can advance, the trace is broken.
** Each event's string and stack ids are checked against its generation's
** tables, and its time is forced to be strictly increasing, as Go does.
**
** Invariants: the event in r->out and everything it points to belong to the
** current generation (or r->scratch) and stay valid until the next call.
** A reader is used by one thread at a time.
*/
#include "internal/parse.h"
#include "internal/panic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE GORT_TP_NONE
#define NO_TASK UINT64_MAX
#define INPUT_BUFFER (1u << 20)

int _gr_tp_fail(gort_tp_reader *r, int code, uint64_t off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof r->err)
		n = (int)sizeof r->err - 1;
	snprintf(r->err + n, sizeof r->err - (size_t)n, " at byte %" PRIu64, off);
	r->err_off = off;
	r->state = code;
	return code;
}

static gort_tp_reader *rnew(void)
{
	gort_tp_reader *r = calloc(1, sizeof *r);
	if (!r)
		goto nomem;
	if (_gr_tp_in_init(&r->in, INPUT_BUFFER) < 0) {
		free(r);
		goto nomem;
	}
	r->in.fd = -1;
	r->max_gen_bytes = GORT_TP_MAX_GENERATION_BYTES;
	r->validate = true;
	r->emitted_sync = true;   /* no Sync before the first generation */
	return r;
nomem:
	errno = ENOMEM;
	return NULL;
}

GORT_API gort_tp_reader *gort_tp_open_fd(int fd)
{
	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	gort_tp_reader *r = rnew();
	if (r)
		r->in.fd = fd;
	return r;
}

GORT_API gort_tp_reader *gort_tp_open_callback(gort_tp_read_fn fn, void *ctx)
{
	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	gort_tp_reader *r = rnew();
	if (r) {
		r->in.fn = fn;
		r->in.ctx = ctx;
	}
	return r;
}

GORT_API int gort_tp_set_max_generation_bytes(gort_tp_reader *r, uint64_t max)
{
	if (!r || max == 0 || max > GORT_TP_MAX_GENERATION_BYTES)
		return -EINVAL;
	r->max_gen_bytes = max;
	return 0;
}

GORT_API int gort_tp_set_validation(gort_tp_reader *r, bool on)
{
	if (!r)
		return -EINVAL;
	r->validate = on;
	return 0;
}

GORT_API void gort_tp_close(gort_tp_reader *r)
{
	if (!r)
		return;
	_gr_tp_in_free(&r->in);
	_gr_tp_gen_free(&r->gen);
	_gr_tp_order_free(&r->ord);
	_gr_tp_check_free(&r->chk);
	free(r->spill_data);
	free(r->cursors);
	free(r->frontier);
	free(r);
}

GORT_API const char *gort_tp_error(const gort_tp_reader *r)
{
	return r && r->state < 0 ? r->err : "";
}

GORT_API uint64_t gort_tp_error_offset(const gort_tp_reader *r)
{
	return r && r->state < 0 ? r->err_off : 0;
}

GORT_API uint64_t gort_tp_bytes_read(const gort_tp_reader *r)
{
	return r ? _gr_tp_in_off(&r->in) : 0;
}

/* ---- header ---------------------------------------------------------------- */

/* Go reads the header with Fscanf("go 1.%d trace\x00\x00\x00"). */
static int read_header(gort_tp_reader *r)
{
	static const char bad[] = "bad file format: not a Go execution trace?";
	tp_in *in = &r->in;
	uint8_t b;
	for (const char *p = "go 1."; *p; p++) {
		int rc = _gr_tp_in_byte(in, &b);
		if (rc < 0)
			return _gr_tp_fail(r, GORT_TP_EIO, _gr_tp_in_off(in), "reading the trace: %s", strerror(in->err));
		if (rc == 0 || b != (uint8_t)*p)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, _gr_tp_in_off(in) - (rc != 0), "%s", bad);
	}
	uint64_t v = 0;
	int digits = 0;
	for (;;) {
		int rc = _gr_tp_in_byte(in, &b);
		if (rc <= 0)
			return _gr_tp_fail(r, rc < 0 ? GORT_TP_EIO : GORT_TP_EFORMAT, _gr_tp_in_off(in), "%s", bad);
		if (b < '0' || b > '9')
			break;
		if (v < 100000000)
			v = v * 10 + (b - '0');
		digits++;
	}
	if (digits == 0)
		return _gr_tp_fail(r, GORT_TP_EFORMAT, _gr_tp_in_off(in) - 1, "%s", bad);
	static const char tail[] = " trace\0\0\0";
	for (size_t i = 0; i < sizeof tail - 1; i++) {
		if (i > 0) {
			int rc = _gr_tp_in_byte(in, &b);
			if (rc <= 0)
				return _gr_tp_fail(r, rc < 0 ? GORT_TP_EIO : GORT_TP_EFORMAT, _gr_tp_in_off(in), "%s", bad);
		}
		if (b != (uint8_t)tail[i])
			return _gr_tp_fail(r, GORT_TP_EFORMAT, _gr_tp_in_off(in) - 1, "%s", bad);
	}
	if (v != 22)
		return _gr_tp_fail(r, GORT_TP_EFORMAT, 0, "unknown or unsupported trace version go 1.%" PRIu64, v);
	return 0;
}

/* ---- cursors and the frontier heap ---------------------------------------- */

/* Always inlined (into refresh, on every event): saves the call's spills. */
static inline __attribute__((always_inline)) int next_event(gort_tp_reader *r, tp_cursor *c)
{
	const tp_gen *g = &r->gen;
	if (GORT_UNLIKELY(c->p == c->lim)) {
		/* Next non-empty batch of this M (Go accepts empty batches). */
		if (c->p)
			c->idx++;
		while (c->idx < c->end && g->batches[g->order[c->idx]].len == 0)
			c->idx++;
		if (c->idx == c->end) {
			c->p = c->lim;
			return 0;
		}
		c->b = &g->batches[g->order[c->idx]];
		c->p = g->data + c->b->off;
		c->lim = c->p + c->b->len;
		c->off_bias = c->b->file_off - (uint64_t)(uintptr_t)c->p;
		c->ev.batch_off = c->b->hdr_off;
		c->last_ts = 0;
	}
	if (c->last_ts == 0)
		c->last_ts = _gr_tp_ftime(g->freq, c->b->time);
	const uint8_t *p = c->p;
	size_t avail = (size_t)(c->lim - p);
	uint64_t at = (uint64_t)(uintptr_t)p + c->off_bias;
	uint8_t typ = p[0];
	if (GORT_UNLIKELY(!_gr_go122_is_timed(typ))) {
		if (typ >= GR_EV_COUNT)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "found invalid event type: %u", typ);
		return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "found event without a timestamp: type=%u", typ);
	}
	const gr_go122_spec *sp = &_gr_go122_specs[typ];
	const unsigned nargs = sp->nargs;     /* a local: the stores below may alias bytes */
	size_t n = 1;
	uint64_t dt, *args = c->ev.args;
	int k = _gr_tp_uvarint(p + n, avail - n, &dt);
	if (GORT_UNLIKELY(k <= 0))
		return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "found invalid uvarint for timestamp in %s", sp->name);
	n += (size_t)k;
	unsigned i = 0;
	if (GORT_LIKELY(avail - n >= 10 * (GR_GO122_MAX_ARGS - 1))) {
		/* Far from the batch's end: every argument's 10 bytes are there. */
		for (; i + 1 < nargs; i++) {
			uint8_t b0 = p[n];
			if (GORT_LIKELY(b0 < 0x80)) {
				args[i] = b0;
				n++;
				continue;
			}
			k = _gr_tp_uvarint(p + n, 10, &args[i]);
			if (GORT_UNLIKELY(k <= 0))
				return _gr_tp_fail(r, GORT_TP_EFORMAT, at + n, "found invalid uvarint in %s", sp->name);
			n += (size_t)k;
		}
	}
	for (; i + 1 < nargs; i++) {
		if (GORT_LIKELY(n < avail && p[n] < 0x80)) {   /* one-byte varint */
			args[i] = p[n++];
			continue;
		}
		k = _gr_tp_uvarint(p + n, avail - n, &args[i]);
		if (GORT_UNLIKELY(k <= 0))
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at + n, "found invalid uvarint in %s", sp->name);
		n += (size_t)k;
	}
	c->ev.typ = typ;
	c->ev.time = (int64_t)((uint64_t)_gr_tp_ftime(g->freq, dt) + (uint64_t)c->last_ts);
	c->ev.off = at;
	c->last_ts = c->ev.time;
	c->p = p + n;
	return 1;
}

static inline int64_t ftime_of(tp_cursor *const *h, size_t i) { return h[i]->ev.time; }

static size_t sift_up(tp_cursor **h, size_t i)
{
	while (i > 0 && ftime_of(h, (i - 1) / 2) > ftime_of(h, i)) {
		tp_cursor *t = h[(i - 1) / 2];
		h[(i - 1) / 2] = h[i];
		h[i] = t;
		i = (i - 1) / 2;
	}
	return i;
}

static void sift_down(tp_cursor **h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i;
		int64_t mt = i < n ? ftime_of(h, i) : INT64_MAX;
		size_t a = 2 * i + 1, b = 2 * i + 2;
		if (a < n && ftime_of(h, a) < mt) {
			m = a;
			mt = ftime_of(h, a);
		}
		if (b < n && ftime_of(h, b) < mt)
			m = b;
		if (m == i)
			return;
		tp_cursor *t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void heap_remove(gort_tp_reader *r, size_t i)
{
	tp_cursor **h = r->frontier;
	while (i > 0) {
		tp_cursor *t = h[(i - 1) / 2];
		h[(i - 1) / 2] = h[i];
		h[i] = t;
		i = (i - 1) / 2;
	}
	h[0] = h[r->nfront - 1];
	r->nfront--;
	sift_down(h, r->nfront, 0);
}

/* After frontier[i] advanced: load its next event and restore the heap. */
static int refresh(gort_tp_reader *r, size_t i)
{
	int rc = next_event(r, r->frontier[i]);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		heap_remove(r, i);
	} else if (i == 0) {
		/* The common case: the earliest M goes on; it usually stays first. */
		tp_cursor **h = r->frontier;
		int64_t t = h[0]->ev.time;
		size_t n = r->nfront;
		if ((n > 1 && h[1]->ev.time < t) || (n > 2 && h[2]->ev.time < t))
			sift_down(h, n, 0);
	} else if (sift_up(r->frontier, i) == i) {
		sift_down(r->frontier, r->nfront, i);
	}
	return 0;
}

static int start_generation(gort_tp_reader *r)
{
	int rc = _gr_tp_read_generation(r);
	if (rc < 0)
		return rc;
	r->have_gen = true;
	r->next_sample = 0;
	tp_gen *g = &r->gen;
	size_t groups = 0;
	for (size_t i = 0; i < g->norder; i++)
		if (i == 0 || g->batches[g->order[i]].m != g->batches[g->order[i - 1]].m)
			groups++;
	if (groups > r->capcursors) {
		tp_cursor *nc = realloc(r->cursors, groups * sizeof *nc);
		if (!nc)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, _gr_tp_in_off(&r->in), "out of memory for cursors");
		r->cursors = nc;
		tp_cursor **nf = realloc(r->frontier, groups * sizeof *nf);
		if (!nf)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, _gr_tp_in_off(&r->in), "out of memory for cursors");
		r->frontier = nf;
		r->capcursors = groups;
	}
	r->nfront = 0;
	size_t c = 0;
	for (size_t i = 0; i < g->norder;) {
		size_t j = i + 1;
		int64_t m = g->batches[g->order[i]].m;
		while (j < g->norder && g->batches[g->order[j]].m == m)
			j++;
		tp_cursor *cu = &r->cursors[c++];
		memset(cu, 0, sizeof *cu);
		cu->m = m;
		cu->idx = (uint32_t)i;
		cu->end = (uint32_t)j;
		cu->ms = m == NONE ? NULL : _gr_tp_map_get(&r->ord.ms, (uint64_t)m);
		rc = next_event(r, cu);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			r->frontier[r->nfront] = cu;
			sift_up(r->frontier, r->nfront++);
		}
		i = j;
	}
	r->emitted_sync = false;
	return 0;
}

/* Always inlined into step(): the call and its spilled context cost ~6% of
** the reader's instructions. */
static inline __attribute__((always_inline)) int try_advance(gort_tp_reader *r, size_t i, tp_base **out,
                                                             tp_ctx *ctx)
{
	tp_cursor *c = r->frontier[i];
	if (c->m != NONE && !c->ms) {
		c->ms = _gr_tp_order_mstate(r, c->m);
		if (!c->ms)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, c->ev.off, "out of memory for the scheduler state");
	}
	int rc = _gr_tp_order_advance(r, &c->ev, c->ms, c->m, r->gen.gen, ctx);
	if (rc <= 0)
		return rc;
	/* Handed out in place; gort_tp_next refreshes the cursor afterwards. */
	*out = &c->ev;
	r->refresh_pending = true;
	r->refresh_idx = i;
	return 1;
}

/* By time, then by M (ties broken deterministically). */
static int cmp_cursor(const void *a, const void *b)
{
	const tp_cursor *x = *(tp_cursor *const *)a, *y = *(tp_cursor *const *)b;
	if (x->ev.time != y->ev.time)
		return x->ev.time < y->ev.time ? -1 : 1;
	return x->m < y->m ? -1 : x->m > y->m;
}

/* 1 = an event in ev and ctx, 0 = end of the trace, < 0 = error. */
static int step(gort_tp_reader *r, tp_base **evp, tp_ctx *ctx)
{
	tp_base *ev = &r->tmp;
	*evp = ev;
	if (r->ord.have_extra) {
		r->ord.have_extra = false;
		*ev = r->ord.extra;
		*ctx = r->ord.extra_ctx;
		return 1;
	}
	tp_gen *g = &r->gen;
	if (r->nfront == 0 && r->next_sample == g->nsamples) {
		if (!r->emitted_sync) {
			r->emitted_sync = true;
			memset(ev, 0, sizeof *ev);
			ev->typ = TP_EV_SYNC;
			ev->time = r->last_ts;
			ev->off = _gr_tp_in_off(&r->in);
			*ctx = (tp_ctx){ NONE, NONE, NONE };
			return 1;
		}
		if (r->have_gen && !r->have_spill)
			return 0;
		int rc = start_generation(r);
		if (rc < 0)
			return rc;
	}
	if (r->next_sample < g->nsamples &&
	    (r->nfront == 0 || g->samples[r->next_sample].time < r->frontier[0]->ev.time)) {
		const tp_sample *s = &g->samples[r->next_sample++];
		memset(ev, 0, sizeof *ev);
		ev->typ = GR_EV_CPU_SAMPLE;
		ev->time = s->time;
		ev->args[0] = s->stack;
		ev->off = s->file_off;
		ev->batch_off = s->file_off;
		*ctx = (tp_ctx){ s->g, s->p, s->m };
		return 1;
	}
	if (r->nfront == 0)
		return _gr_tp_fail(r, GORT_TP_EINVALID, _gr_tp_in_off(&r->in),
		                   "broken trace: frontier is empty (generation %" PRIu64 " has no events)", g->gen);
	int rc = try_advance(r, 0, evp, ctx);
	if (rc != 0)
		return rc;
	/* Rare: sort by time (a sorted array is still a heap), try the others.
	** O(n log n) like Go's sort, so many stuck threads cannot make it slow. */
	tp_cursor **h = r->frontier, *tried = h[0];
	qsort(h, r->nfront, sizeof *h, cmp_cursor);
	for (size_t i = 0; i < r->nfront; i++) {
		if (h[i] == tried)
			continue;
		rc = try_advance(r, i, evp, ctx);
		if (rc != 0)
			return rc;
	}
	const tp_cursor *c = h[0];
	return _gr_tp_fail(r, GORT_TP_EINVALID, c->ev.off,
	                   "broken trace: failed to advance: no thread can go on (generation %" PRIu64
	                   ", first candidate M %" PRId64 " %s time=%" PRId64 ")",
	                   g->gen, c->m, _gr_go122_specs[c->ev.typ].name, c->ev.time);
}

static gort_tp_str cstr(const char *s)
{
	return (gort_tp_str){ s, strlen(s) };
}

/* String and stack arguments, checked as Go's Event.validateTableIDs does. */
static __attribute__((noinline, cold)) bool bad_str_arg(gort_tp_reader *r, const tp_base *b, uint64_t id)
{
	_gr_tp_fail(r, GORT_TP_EINVALID, b->off, "found invalid string ID %" PRIu64 " for event %s", id,
	            _gr_go122_specs[b->typ].name);
	return false;
}

/* Inline: most events carry a string (reasons, region and log names). */
static inline bool str_arg(gort_tp_reader *r, const tp_base *b, uint64_t id, gort_tp_str *out)
{
	if (GORT_LIKELY(_gr_tp_gen_string(&r->gen, id, out)))
		return true;
	return bad_str_arg(r, b, id);
}

static bool stack_arg(gort_tp_reader *r, const tp_base *b, uint64_t id, gort_tp_stack *out)
{
	if (id == 0 || GORT_LIKELY(_gr_tp_gen_stack(&r->gen, id, out)))
		return true;
	_gr_tp_fail(r, GORT_TP_EINVALID, b->off, "found invalid stack ID %" PRIu64 " for event %s", id,
	            _gr_go122_specs[b->typ].name);
	return false;
}

static void transition(gort_tp_event *e, gort_tp_resource res, int64_t id, int from, int to)
{
	e->kind = GORT_TP_STATE_TRANSITION;
	e->u.transition.resource = res;
	e->u.transition.id = id;
	e->u.transition.from = from;
	e->u.transition.to = to;
}

/* Build r->out from an ordered event (Go's Event accessors). */
static int fill(gort_tp_reader *r, const tp_base *b, tp_ctx ctx)
{
	gort_tp_event *e = &r->out;
	/* Field by field: a memset of the whole event costs more than the rest. */
	e->stack = (gort_tp_stack){ 0, NULL, 0 };
	memset(&e->u, 0, sizeof e->u);
	e->raw_type = b->typ == TP_EV_SYNC ? 0 : b->typ;
	e->time_ns = (uint64_t)b->time;
	e->generation = r->gen.gen;
	e->thread = ctx.m;
	e->proc = ctx.p;
	e->goroutine = ctx.g;
	e->file_offset = b->batch_off;
	if (b->typ == TP_EV_SYNC) {
		e->kind = GORT_TP_SYNC;
		return 0;
	}
	if (b->typ == GR_EV_CPU_SAMPLE) {
		e->kind = GORT_TP_STACK_SAMPLE;
		if (!_gr_tp_gen_stack(&r->gen, b->args[0], &e->stack))
			return _gr_tp_fail(r, GORT_TP_EINVALID, b->off, "CPU sample refers to unknown stack %" PRIu64, b->args[0]);
		return 0;
	}
	const gr_go122_spec *sp = &_gr_go122_specs[b->typ];
	const uint64_t *a = b->args;
	if (sp->stack_args) {
		unsigned pos = b->typ == GR_EV_GO_CREATE ? 3 : (unsigned)__builtin_ctz(sp->stack_args);
		if (!stack_arg(r, b, a[pos - 1], &e->stack))
			return r->state;
	}
	switch (b->typ) {
	case GR_EV_PROCS_CHANGE:
	case GR_EV_HEAP_ALLOC:
	case GR_EV_HEAP_GOAL:
		e->kind = GORT_TP_METRIC;
		e->u.metric.name = cstr(b->typ == GR_EV_PROCS_CHANGE ? "/sched/gomaxprocs:threads"
		                        : b->typ == GR_EV_HEAP_ALLOC ? "/memory/classes/heap/objects:bytes"
		                                                     : "/gc/heap/goal:bytes");
		e->u.metric.value = a[0];
		break;
	case GR_EV_GO_LABEL:
		e->kind = GORT_TP_LABEL;
		if (!str_arg(r, b, a[0], &e->u.label.label))
			return r->state;
		e->u.label.resource = GORT_TP_RES_GOROUTINE;
		e->u.label.id = ctx.g;
		break;
	case GR_EV_STW_BEGIN:
	case GR_EV_STW_END: {
		gort_tp_str k;
		if (b->typ == GR_EV_STW_BEGIN && !str_arg(r, b, a[0], &k))
			return r->state;
		if (!_gr_tp_gen_string(&r->gen, a[0], &k))
			return _gr_tp_fail(r, GORT_TP_EINVALID, b->off, "stop-the-world kind string %" PRIu64 " not in generation",
			                   a[0]);
		e->kind = b->typ == GR_EV_STW_BEGIN ? GORT_TP_RANGE_BEGIN : GORT_TP_RANGE_END;
		int n = snprintf(r->scratch, sizeof r->scratch, "stop-the-world (%.*s)", (int)k.len, k.ptr);
		e->u.range.name = (gort_tp_str){ r->scratch, (size_t)n };
		e->u.range.scope = GORT_TP_RES_GOROUTINE;
		e->u.range.scope_id = ctx.g;
		break;
	}
	case GR_EV_GC_BEGIN:
	case GR_EV_GC_ACTIVE:
	case GR_EV_GC_END:
		e->kind = b->typ == GR_EV_GC_BEGIN ? GORT_TP_RANGE_BEGIN
		          : b->typ == GR_EV_GC_ACTIVE ? GORT_TP_RANGE_ACTIVE : GORT_TP_RANGE_END;
		e->u.range.name = cstr("GC concurrent mark phase");
		e->u.range.scope = GORT_TP_RES_NONE;
		break;
	case GR_EV_GC_SWEEP_BEGIN:
	case GR_EV_GC_SWEEP_ACTIVE:
	case GR_EV_GC_SWEEP_END:
		e->kind = b->typ == GR_EV_GC_SWEEP_BEGIN ? GORT_TP_RANGE_BEGIN
		          : b->typ == GR_EV_GC_SWEEP_ACTIVE ? GORT_TP_RANGE_ACTIVE : GORT_TP_RANGE_END;
		e->u.range.name = cstr("GC incremental sweep");
		e->u.range.scope = GORT_TP_RES_PROC;
		e->u.range.scope_id = ctx.p;   /* Go 1.22 uses the event's P, even for Active */
		if (b->typ == GR_EV_GC_SWEEP_END) {
			e->u.range.swept = a[0];
			e->u.range.reclaimed = a[1];
		}
		break;
	case GR_EV_GC_MARK_ASSIST_BEGIN:
	case GR_EV_GC_MARK_ASSIST_ACTIVE:
	case GR_EV_GC_MARK_ASSIST_END:
		e->kind = b->typ == GR_EV_GC_MARK_ASSIST_BEGIN ? GORT_TP_RANGE_BEGIN
		          : b->typ == GR_EV_GC_MARK_ASSIST_ACTIVE ? GORT_TP_RANGE_ACTIVE : GORT_TP_RANGE_END;
		e->u.range.name = cstr("GC mark assist");
		e->u.range.scope = GORT_TP_RES_GOROUTINE;
		e->u.range.scope_id = b->typ == GR_EV_GC_MARK_ASSIST_ACTIVE ? (int64_t)a[0] : ctx.g;
		break;
	case GR_EV_USER_TASK_BEGIN:
		e->kind = GORT_TP_TASK_BEGIN;
		e->u.task.id = a[0];
		e->u.task.parent = a[1] == NO_TASK ? 0 : a[1];
		if (!str_arg(r, b, a[2], &e->u.task.type))
			return r->state;
		break;
	case GR_EV_USER_TASK_END:
		e->kind = GORT_TP_TASK_END;
		e->u.task.id = a[0];
		e->u.task.parent = b->extra[0] == NO_TASK ? 0 : b->extra[0];
		e->u.task.type = (gort_tp_str){ r->scratch, (size_t)b->extra[1] };
		break;
	case GR_EV_USER_REGION_BEGIN:
	case GR_EV_USER_REGION_END:
		e->kind = b->typ == GR_EV_USER_REGION_BEGIN ? GORT_TP_REGION_BEGIN : GORT_TP_REGION_END;
		e->u.region.task = a[0];
		if (!str_arg(r, b, a[1], &e->u.region.type))
			return r->state;
		break;
	case GR_EV_USER_LOG:
		e->kind = GORT_TP_LOG;
		e->u.log.task = a[0];
		if (!str_arg(r, b, a[1], &e->u.log.category) || !str_arg(r, b, a[2], &e->u.log.message))
			return r->state;
		break;
	case GR_EV_PROC_START:
		transition(e, GORT_TP_RES_PROC, (int64_t)a[0], GORT_TP_P_IDLE, GORT_TP_P_RUNNING);
		break;
	case GR_EV_PROC_STOP:
		transition(e, GORT_TP_RES_PROC, ctx.p, GORT_TP_P_RUNNING, GORT_TP_P_IDLE);
		break;
	case GR_EV_PROC_STEAL:
		transition(e, GORT_TP_RES_PROC, (int64_t)a[0],
		           b->extra[0] == GR_PROC_STATUS_SYSCALL_ABANDONED ? GORT_TP_P_IDLE : GORT_TP_P_RUNNING,
		           GORT_TP_P_IDLE);
		break;
	case GR_EV_PROC_STATUS:
		transition(e, GORT_TP_RES_PROC, (int64_t)a[0], (int)b->extra[0], _gr_tp_proc_status2state[a[1] < 5 ? a[1] : 0]);
		break;
	case GR_EV_GO_CREATE:
		transition(e, GORT_TP_RES_GOROUTINE, (int64_t)a[0], GORT_TP_G_NOT_EXIST, GORT_TP_G_RUNNABLE);
		if (!stack_arg(r, b, a[1], &e->u.transition.stack))
			return r->state;
		break;
	case GR_EV_GO_CREATE_SYSCALL:
		transition(e, GORT_TP_RES_GOROUTINE, (int64_t)a[0], GORT_TP_G_NOT_EXIST, GORT_TP_G_SYSCALL);
		break;
	case GR_EV_GO_START:
		transition(e, GORT_TP_RES_GOROUTINE, (int64_t)a[0], GORT_TP_G_RUNNABLE, GORT_TP_G_RUNNING);
		break;
	case GR_EV_GO_DESTROY:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_RUNNING, GORT_TP_G_NOT_EXIST);
		e->u.transition.stack = e->stack;
		break;
	case GR_EV_GO_DESTROY_SYSCALL:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_SYSCALL, GORT_TP_G_NOT_EXIST);
		break;
	case GR_EV_GO_STOP:
	case GR_EV_GO_BLOCK:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_RUNNING,
		           b->typ == GR_EV_GO_STOP ? GORT_TP_G_RUNNABLE : GORT_TP_G_WAITING);
		if (!str_arg(r, b, a[0], &e->u.transition.reason))
			return r->state;
		e->u.transition.stack = e->stack;
		break;
	case GR_EV_GO_UNBLOCK:
		transition(e, GORT_TP_RES_GOROUTINE, (int64_t)a[0], GORT_TP_G_WAITING, GORT_TP_G_RUNNABLE);
		break;
	case GR_EV_GO_SYSCALL_BEGIN:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_RUNNING, GORT_TP_G_SYSCALL);
		e->u.transition.stack = e->stack;
		break;
	case GR_EV_GO_SYSCALL_END:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_SYSCALL, GORT_TP_G_RUNNING);
		e->u.transition.stack = e->stack;
		break;
	case GR_EV_GO_SYSCALL_END_BLOCKED:
		transition(e, GORT_TP_RES_GOROUTINE, ctx.g, GORT_TP_G_SYSCALL, GORT_TP_G_RUNNABLE);
		e->u.transition.stack = e->stack;
		break;
	case GR_EV_GO_STATUS:
		transition(e, GORT_TP_RES_GOROUTINE, (int64_t)a[0], (int)b->extra[0], _gr_tp_go_status2state[a[2] < 5 ? a[2] : 0]);
		break;
	default:
		return _gr_tp_fail(r, GORT_TP_EINVALID, b->off, "unexpected event type %u", b->typ);
	}
	return 0;
}

GORT_API int gort_tp_next(gort_tp_reader *r, const gort_tp_event **out)
{
	if (!r || !out)
		_gr_panic("gort_tp_next: NULL %s", r ? "out" : "reader");
	if (r->state < 0)
		return r->state;
	if (r->state == 2)
		return 0;
	if (r->state == 0) {
		if (read_header(r) < 0)
			return r->state;
		r->state = 1;
	}
	tp_base *b;
	tp_ctx ctx;
	int rc = step(r, &b, &ctx);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		r->state = 2;
		return 0;
	}
	if (b->time <= r->last_ts)
		b->time = r->last_ts + 1;
	r->last_ts = b->time;
	if (fill(r, b, ctx) < 0 || (r->validate && _gr_tp_check_event(r, &r->out) < 0))
		return r->state;
	if (r->refresh_pending) {
		r->refresh_pending = false;
		if (refresh(r, r->refresh_idx) < 0)
			return r->state;
	}
	*out = &r->out;
	return 1;
}
