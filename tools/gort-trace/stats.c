/*
** tools/gort-trace/stats.c: `gort-trace stats` aggregation (see stats.h).
**
** Everything is derived from gt_model callbacks (intervals, regions, tasks)
** and the raw event stream (counts by type, logs, metrics, samples), so the
** numbers agree with what export and pprof show for the same trace.
**
** Invariants: per goroutine, the sum of its state times equals the time from
** its first transition to its last (or the trace end); a "site" aggregates
** intervals with the same (reason, stack); latency arrays hold completed
** regions/tasks only (incomplete ones are counted apart).
*/
#include "stats.h"
#include "json.h"
#include "model.h"
#include "internal/go122.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct g_acc {
	uint64_t t[GT_ST_COUNT];
	uint64_t nblock, nsyscall;
	gt_map reason_ns;          /* reason id -> ns blocked */
} g_acc;

typedef struct lat_type {      /* one region or task type */
	const char *type;
	uint64_t count, incomplete;
	uint64_t *lat;
	size_t nlat, caplat;
} lat_type;

typedef struct m_acc {          /* one OS thread (M) */
	int64_t m;
	uint64_t running, syscall;
} m_acc;

typedef struct site {
	uint32_t stack;
	uint32_t reason;           /* reason id */
	int state;
	uint64_t ns, count;
} site;

typedef struct named_count {
	const char *name;
	uint64_t count;
} named_count;

struct gt_stats {
	gt_model m;
	gt_rawscan raw;
	g_acc **acc;               /* by goroutine index */
	size_t nacc, capacc;
	const char **reasons;      /* reason id -> string */
	size_t nreasons, capreasons;
	gt_map reason_ids;         /* interned pointer -> id */
	const char *last_reason;   /* cache for reason_id */
	uint32_t last_reason_id;
	lat_type *regions, *tasks;
	size_t nregions, capregions, ntasks, captasks;
	gt_map region_ids, task_ids;   /* interned pointer -> index */
	const char *last_region_type;  /* cache for on_region */
	size_t last_region_index;
	site *sites;
	size_t nsites, capsites;
	gt_map site_ids;           /* (state, reason, stack) -> index */
	named_count *logcats;
	size_t nlogcats, caplogcats;
	gt_map logcat_ids;
	uint64_t ev_count[256];
	uint64_t kind_count[16];
	uint64_t nsamples, nlogs;
	gt_map threads, procs;
	m_acc *ms;
	size_t nms, capms;
	gt_map m_ids;              /* M -> index into ms */
	int64_t last_thread, last_proc;
	uint64_t heap_last, heap_max;
	bool have_heap;
	bool finished;
};

static g_acc *acc_of(gt_stats *s, const gt_g *g)
{
	while (s->nacc <= g->index) {
		GT_GROW(s->acc, s->capacc, s->nacc + 1);
		s->acc[s->nacc] = gt_xcalloc(1, sizeof(g_acc));
		gt_map_init(&s->acc[s->nacc]->reason_ns);
		s->nacc++;
	}
	return s->acc[g->index];
}

static uint32_t reason_id(gt_stats *s, const char *r)
{
	if (r == s->last_reason)
		return s->last_reason_id;
	bool fresh;
	uint64_t *v = gt_map_put(&s->reason_ids, (uintptr_t)r, s->nreasons, &fresh);
	if (fresh) {
		GT_GROW(s->reasons, s->capreasons, s->nreasons + 1);
		s->reasons[s->nreasons++] = r;
	}
	s->last_reason = r;
	s->last_reason_id = (uint32_t)*v;
	return (uint32_t)*v;
}

static size_t index_of(gt_map *ids, void **arr, size_t *n, size_t *cap, size_t elem, const char *key)
{
	bool fresh;
	uint64_t *v = gt_map_put(ids, (uintptr_t)key, *n, &fresh);
	if (fresh) {
		gt_grow(arr, cap, *n + 1, elem);
		memset((char *)*arr + *n * elem, 0, elem);
		*(const char **)((char *)*arr + *n * elem) = key;   /* first member is the name */
		(*n)++;
	}
	return (size_t)*v;
}

static void on_interval(void *ctx, gt_model *m, gt_g *g, const gt_interval *iv)
{
	(void)m;
	gt_stats *s = ctx;
	g_acc *a = acc_of(s, g);
	uint64_t d = iv->end - iv->start;
	if (gt_interval_syscall_marker(iv)) {   /* part of the syscall */
		a->t[GT_ST_SYSCALL] += d;
		return;
	}
	a->t[iv->state] += d;
	if ((iv->state == GT_ST_RUNNING || iv->state == GT_ST_SYSCALL) && iv->m != GORT_TP_NONE) {
		bool fresh;
		uint64_t *v = gt_map_put(&s->m_ids, (uint64_t)iv->m, s->nms, &fresh);
		if (fresh) {
			GT_GROW(s->ms, s->capms, s->nms + 1);
			s->ms[s->nms++] = (m_acc){ .m = iv->m };
		}
		if (iv->state == GT_ST_RUNNING)
			s->ms[*v].running += d;
		else
			s->ms[*v].syscall += d;
	}
	if (iv->state == GT_ST_BLOCKED) {
		a->nblock++;
		uint32_t rid = reason_id(s, iv->reason);
		*gt_map_put(&a->reason_ns, rid, 0, NULL) += d;
	} else if (iv->state == GT_ST_SYSCALL) {
		a->nsyscall++;
	}
	if (iv->state == GT_ST_BLOCKED || iv->state == GT_ST_SYSCALL) {
		uint32_t rid = reason_id(s, iv->reason);
		uint64_t key = ((uint64_t)iv->state << 60) | ((uint64_t)rid << 32) | iv->stack;
		bool fresh;
		uint64_t *v = gt_map_put(&s->site_ids, key, s->nsites, &fresh);
		if (fresh) {
			GT_GROW(s->sites, s->capsites, s->nsites + 1);
			s->sites[s->nsites++] = (site){ .stack = iv->stack, .reason = rid, .state = iv->state };
		}
		s->sites[*v].ns += d;
		s->sites[*v].count++;
	}
}

static void lat_add(lat_type *t, uint64_t d, bool complete)
{
	t->count++;
	if (!complete) {
		t->incomplete++;
		return;
	}
	GT_GROW(t->lat, t->caplat, t->nlat + 1);
	t->lat[t->nlat++] = d;
}

static void on_region(void *ctx, gt_model *m, gt_g *g, const gt_region *r, size_t depth)
{
	(void)m, (void)g, (void)depth;
	gt_stats *s = ctx;
	size_t i;
	if (r->type == s->last_region_type) {
		i = s->last_region_index;
	} else {
		i = index_of(&s->region_ids, (void **)&s->regions, &s->nregions, &s->capregions,
			     sizeof(lat_type), r->type);
		s->last_region_type = r->type;
		s->last_region_index = i;
	}
	lat_add(&s->regions[i], r->end - r->start, r->complete);
}

static void on_task(void *ctx, gt_model *m, const gt_task *t)
{
	(void)m;
	gt_stats *s = ctx;
	size_t i = index_of(&s->task_ids, (void **)&s->tasks, &s->ntasks, &s->captasks,
			    sizeof(lat_type), t->type);
	lat_add(&s->tasks[i], t->end - t->start, t->has_begin && t->has_end);
}

static void on_event(void *ctx, gt_model *m, const gort_tp_event *ev, gt_g *g)
{
	(void)g;
	gt_stats *s = ctx;
	s->ev_count[ev->raw_type]++;
	if ((unsigned)ev->kind < 16)
		s->kind_count[ev->kind]++;
	/* consecutive events mostly come from the same thread and proc */
	if (ev->thread != GORT_TP_NONE && ev->thread != s->last_thread) {
		gt_map_put(&s->threads, (uint64_t)ev->thread, 0, NULL);
		s->last_thread = ev->thread;
	}
	if (ev->proc != GORT_TP_NONE && ev->proc != s->last_proc) {
		gt_map_put(&s->procs, (uint64_t)ev->proc, 0, NULL);
		s->last_proc = ev->proc;
	}
	switch (ev->kind) {
	case GORT_TP_LOG: {
		s->nlogs++;
		const char *cat = gt_intern_str(&m->strs, ev->u.log.category);
		size_t i = index_of(&s->logcat_ids, (void **)&s->logcats, &s->nlogcats, &s->caplogcats,
				    sizeof(named_count), cat);
		s->logcats[i].count++;
		break;
	}
	case GORT_TP_STACK_SAMPLE:
		s->nsamples++;
		break;
	case GORT_TP_METRIC:
		if (ev->raw_type == GR_EV_HEAP_ALLOC) {
			s->have_heap = true;
			s->heap_last = ev->u.metric.value;
			if (ev->u.metric.value > s->heap_max)
				s->heap_max = ev->u.metric.value;
		}
		break;
	default:
		break;
	}
}

gt_stats *gt_stats_new(void)
{
	gt_stats *s = gt_xcalloc(1, sizeof *s);
	gt_model_cb cb = { .ctx = s, .interval = on_interval, .region = on_region,
			   .task = on_task, .event = on_event };
	gt_model_init(&s->m, &cb);
	gt_rawscan_init(&s->raw);
	gt_map_init(&s->reason_ids);
	gt_map_init(&s->region_ids);
	gt_map_init(&s->task_ids);
	gt_map_init(&s->site_ids);
	gt_map_init(&s->logcat_ids);
	gt_map_init(&s->threads);
	gt_map_init(&s->procs);
	gt_map_init(&s->m_ids);
	s->last_thread = s->last_proc = GORT_TP_NONE;
	return s;
}

void gt_stats_free(gt_stats *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nacc; i++) {
		gt_map_free(&s->acc[i]->reason_ns);
		free(s->acc[i]);
	}
	free(s->acc);
	for (size_t i = 0; i < s->nregions; i++)
		free(s->regions[i].lat);
	for (size_t i = 0; i < s->ntasks; i++)
		free(s->tasks[i].lat);
	free(s->regions);
	free(s->tasks);
	free(s->reasons);
	free(s->sites);
	free(s->logcats);
	gt_map_free(&s->reason_ids);
	gt_map_free(&s->region_ids);
	gt_map_free(&s->task_ids);
	gt_map_free(&s->site_ids);
	gt_map_free(&s->logcat_ids);
	gt_map_free(&s->threads);
	gt_map_free(&s->procs);
	gt_map_free(&s->m_ids);
	free(s->ms);
	gt_model_free(&s->m);
	free(s);
}

gt_rawscan *gt_stats_raw(gt_stats *s)
{
	return &s->raw;
}

void gt_stats_event(gt_stats *s, const gort_tp_event *ev)
{
	gt_model_event(&s->m, ev);
}

/* qsort with n == 0 and a NULL base is undefined behaviour: skip it. */
static void sort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t gt_percentile(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	double rank = ceil(p / 100.0 * (double)n);
	size_t i = rank < 1 ? 0 : (size_t)rank - 1;
	if (i >= n)
		i = n - 1;
	return v[i];
}

static int cmp_site(const void *a, const void *b)
{
	const site *x = a, *y = b;
	if (x->ns != y->ns)
		return x->ns < y->ns ? 1 : -1;
	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int cmp_m(const void *a, const void *b)
{
	const m_acc *x = a, *y = b;
	uint64_t tx = x->running + x->syscall, ty = y->running + y->syscall;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	return x->m < y->m ? -1 : x->m > y->m;
}

static int cmp_lat_name(const void *a, const void *b)
{
	return strcmp(((const lat_type *)a)->type, ((const lat_type *)b)->type);
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const named_count *)a)->name, ((const named_count *)b)->name);
}

/* LSD radix sort of v[0..n), 8 bits per pass, skipping passes where every
** value has the same byte (durations rarely use the top bytes). */
static void sort_u64(uint64_t *v, size_t n)
{
	if (n < 256) {
		sort(v, n, sizeof *v, cmp_u64);
		return;
	}
	uint64_t *tmp = gt_xmalloc(n * sizeof *tmp);
	uint64_t *src = v, *dst = tmp;
	for (int shift = 0; shift < 64; shift += 8) {
		size_t cnt[256] = { 0 };
		for (size_t i = 0; i < n; i++)
			cnt[(src[i] >> shift) & 0xff]++;
		if (cnt[(src[0] >> shift) & 0xff] == n)
			continue;
		size_t pos = 0;
		for (int b = 0; b < 256; b++) {
			size_t k = cnt[b];
			cnt[b] = pos;
			pos += k;
		}
		for (size_t i = 0; i < n; i++)
			dst[cnt[(src[i] >> shift) & 0xff]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof *v);
	free(tmp);
}

void gt_stats_finish(gt_stats *s)
{
	if (s->finished)
		return;
	s->finished = true;
	gt_model_finish(&s->m);
	for (size_t i = 0; i < s->nregions; i++)
		sort_u64(s->regions[i].lat, s->regions[i].nlat);
	for (size_t i = 0; i < s->ntasks; i++)
		sort_u64(s->tasks[i].lat, s->tasks[i].nlat);
	sort(s->regions, s->nregions, sizeof *s->regions, cmp_lat_name);
	sort(s->tasks, s->ntasks, sizeof *s->tasks, cmp_lat_name);
	sort(s->logcats, s->nlogcats, sizeof *s->logcats, cmp_named);
	sort(s->sites, s->nsites, sizeof *s->sites, cmp_site);
	sort(s->ms, s->nms, sizeof *s->ms, cmp_m);
	/* indexes in the id maps are stale after sorting; they are not used again */
}

/* ---- helpers for printing ---------------------------------------------------- */

static g_acc *acc_get(gt_stats *s, size_t i)
{
	return i < s->nacc ? s->acc[i] : NULL;
}

static uint64_t g_total(const g_acc *a)
{
	uint64_t t = 0;
	for (int k = 1; k < GT_ST_COUNT; k++)
		t += a->t[k];
	return t;
}

/* goroutine indexes sorted by busy time, then id */
static int cmp_g(const void *a, const void *b, void *ctx)
{
	gt_stats *sort_ctx = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	g_acc *ax = acc_get(sort_ctx, x), *ay = acc_get(sort_ctx, y);
	uint64_t tx = ax ? ax->t[GT_ST_RUNNING] + ax->t[GT_ST_BLOCKED] + ax->t[GT_ST_SYSCALL] : 0;
	uint64_t ty = ay ? ay->t[GT_ST_RUNNING] + ay->t[GT_ST_BLOCKED] + ay->t[GT_ST_SYSCALL] : 0;
	if (tx != ty)
		return tx < ty ? 1 : -1;
	int64_t ix = sort_ctx->m.gs[x]->id, iy = sort_ctx->m.gs[y]->id;
	return ix < iy ? -1 : ix > iy;
}

static size_t *sorted_gs(gt_stats *s)
{
	size_t *ix = gt_xmalloc((s->m.ng + 1) * sizeof *ix);
	for (size_t i = 0; i < s->m.ng; i++)
		ix[i] = i;
	if (s->m.ng > 1)
		qsort_r(ix, s->m.ng, sizeof *ix, cmp_g, s);
	return ix;
}

/* goroutines grouped by start function */
static size_t start_fn_groups(gt_stats *s, named_count **out)
{
	gt_map ids;
	gt_map_init(&ids);
	named_count *arr = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < s->m.ng; i++) {
		const char *fn = s->m.gs[i]->start_fn ? s->m.gs[i]->start_fn : "(unknown)";
		size_t k = index_of(&ids, (void **)&arr, &n, &cap, sizeof *arr, fn);
		arr[k].count++;
	}
	gt_map_free(&ids);
	sort(arr, n, sizeof *arr, cmp_named);
	*out = arr;
	return n;
}

static const char *dur(uint64_t ns, char *b)
{
	return gt_fmt_dur(ns, b, 32);
}

void gt_stats_print_text(gt_stats *s, FILE *f, size_t top)
{
	gt_stats_finish(s);
	gt_model *m = &s->m;
	char b1[32], b2[32], b3[32], b4[32], b5[32], name[256];
	uint64_t span = m->have_time ? m->t_last - m->t_first : 0;

	fprintf(f, "Trace\n");
	fprintf(f, "  duration:     %s (%llu ns)\n", dur(span, b1), (unsigned long long)span);
	fprintf(f, "  time span:    %llu .. %llu ns (trace clock)\n",
		(unsigned long long)m->t_first, (unsigned long long)m->t_last);
	fprintf(f, "  generations:  %llu (%llu .. %llu)\n", (unsigned long long)m->nsync,
		(unsigned long long)m->gen_first, (unsigned long long)m->gen_last);
	fprintf(f, "  events:       %llu\n", (unsigned long long)m->nevents);
	fprintf(f, "  bytes:        %llu\n", (unsigned long long)s->raw.total);
	fprintf(f, "  goroutines:   %zu\n", m->ng);
	fprintf(f, "  threads:      %zu\n", s->threads.len);
	fprintf(f, "  procs:        %zu\n", s->procs.len);
	fprintf(f, "  cpu samples:  %llu\n", (unsigned long long)s->nsamples);
	if (s->have_heap)
		fprintf(f, "  heap:         %llu bytes at end, %llu max\n",
			(unsigned long long)s->heap_last, (unsigned long long)s->heap_max);

	named_count *groups;
	size_t ngroups = start_fn_groups(s, &groups);
	fprintf(f, "\nGoroutines by start function\n");
	for (size_t i = 0; i < ngroups; i++)
		fprintf(f, "  %8llu  %s\n", (unsigned long long)groups[i].count, groups[i].name);
	free(groups);

	size_t *ix = sorted_gs(s);
	size_t shown = top && top < m->ng ? top : m->ng;
	fprintf(f, "\nThreads/goroutines (time running, runnable, blocked, in syscall)%s\n",
		shown < m->ng ? " (top by busy time; --top N)" : "");
	fprintf(f, "  %-32s %5s %10s %10s %10s %10s  %s\n", "goroutine", "M", "running", "runnable",
		"blocked", "syscall", "blocked by reason");
	for (size_t k = 0; k < shown; k++) {
		gt_g *g = m->gs[ix[k]];
		g_acc *a = acc_get(s, g->index);
		static const g_acc zero;
		if (!a)
			a = (g_acc *)&zero;
		char mbuf[24];
		if (g->last_m == GORT_TP_NONE)
			snprintf(mbuf, sizeof mbuf, "-");
		else
			snprintf(mbuf, sizeof mbuf, "%lld", (long long)g->last_m);
		fprintf(f, "  %-32.32s %5s %10s %10s %10s %10s ", gt_g_name(g, name, sizeof name), mbuf,
			dur(a->t[GT_ST_RUNNING], b1), dur(a->t[GT_ST_RUNNABLE], b2),
			dur(a->t[GT_ST_BLOCKED], b3), dur(a->t[GT_ST_SYSCALL], b4));
		for (size_t r = 0; r < s->nreasons; r++) {
			uint64_t *v = gt_map_get(&a->reason_ns, r);
			if (v)
				fprintf(f, " %s=%s", *s->reasons[r] ? s->reasons[r] : "(none)", dur(*v, b5));
		}
		fputc('\n', f);
	}
	free(ix);

	size_t mshown = top && top < s->nms ? top : s->nms;
	fprintf(f, "\nOS threads (M): time running code and in syscalls%s\n",
		mshown < s->nms ? " (top; --top N)" : "");
	fprintf(f, "  %-12s %10s %10s\n", "thread", "running", "syscall");
	for (size_t k = 0; k < mshown; k++)
		fprintf(f, "  %-12lld %10s %10s\n", (long long)s->ms[k].m, dur(s->ms[k].running, b1),
			dur(s->ms[k].syscall, b2));

	const char *titles[2] = { "Regions", "Tasks" };
	lat_type *arrs[2] = { s->regions, s->tasks };
	size_t ns[2] = { s->nregions, s->ntasks };
	for (int w = 0; w < 2; w++) {
		fprintf(f, "\n%s (latency of completed ones)\n", titles[w]);
		fprintf(f, "  %-28s %8s %6s %10s %10s %10s %10s\n", "type", "count", "open", "p50", "p90",
			"p99", "max");
		for (size_t i = 0; i < ns[w]; i++) {
			lat_type *t = &arrs[w][i];
			fprintf(f, "  %-28.28s %8llu %6llu %10s %10s %10s %10s\n", *t->type ? t->type : "(unnamed)",
				(unsigned long long)t->count, (unsigned long long)t->incomplete,
				dur(gt_percentile(t->lat, t->nlat, 50), b1), dur(gt_percentile(t->lat, t->nlat, 90), b2),
				dur(gt_percentile(t->lat, t->nlat, 99), b3),
				dur(t->nlat ? t->lat[t->nlat - 1] : 0, b4));
		}
	}

	fprintf(f, "\nLogs by category (%llu logs)\n", (unsigned long long)s->nlogs);
	for (size_t i = 0; i < s->nlogcats; i++)
		fprintf(f, "  %8llu  %s\n", (unsigned long long)s->logcats[i].count,
			*s->logcats[i].name ? s->logcats[i].name : "(no category)");

	fprintf(f, "\nTop blocking call sites (blocked and in syscalls)\n");
	size_t nsh = top && top < s->nsites ? top : s->nsites;
	for (size_t i = 0; i < nsh; i++) {
		site *st = &s->sites[i];
		char sum[1024];
		const char *reason = st->state == GT_ST_SYSCALL ? "syscall" : s->reasons[st->reason];
		fprintf(f, "  %10s %8llux %-12s %s\n", dur(st->ns, b1), (unsigned long long)st->count,
			*reason ? reason : "(none)", gt_stack_summary(&m->stacks, st->stack, 4, sum, sizeof sum));
	}

	fprintf(f, "\nEvents by type\n");
	fprintf(f, "  %-22s %12s %12s\n", "type", "events", "bytes");
	fprintf(f, "  %-22s %12s %12llu\n", "(file header)", "", (unsigned long long)s->raw.bytes[0]);
	if (s->ev_count[0])
		fprintf(f, "  %-22s %12llu %12s\n", "Sync", (unsigned long long)s->ev_count[0], "0");
	for (int t = 1; t < GT_RAW_NTYPES && t < GR_EV_COUNT; t++) {
		uint64_t evn = s->ev_count[t];
		uint64_t recs = s->raw.count[t];
		uint64_t by = s->raw.bytes[t];
		if (!evn && !by)
			continue;
		/* Table records (strings, stacks, batches) are not events: show records. */
		uint64_t shown_n = evn ? evn : recs;
		fprintf(f, "  %-22s %12llu %12llu\n", _gr_go122_specs[t].name, (unsigned long long)shown_n,
			(unsigned long long)by);
	}
	if (s->raw.lost)
		fprintf(f, "  (byte counts incomplete: unrecognised bytes)\n");
}

static void json_lat(gt_json *j, const char *key, lat_type *arr, size_t n)
{
	gt_json_key(j, key);
	gt_json_arr(j);
	for (size_t i = 0; i < n; i++) {
		lat_type *t = &arr[i];
		gt_json_obj(j);
		gt_json_kstr(j, "type", t->type);
		gt_json_ku64(j, "count", t->count);
		gt_json_ku64(j, "incomplete", t->incomplete);
		gt_json_ku64(j, "p50_ns", gt_percentile(t->lat, t->nlat, 50));
		gt_json_ku64(j, "p90_ns", gt_percentile(t->lat, t->nlat, 90));
		gt_json_ku64(j, "p99_ns", gt_percentile(t->lat, t->nlat, 99));
		gt_json_ku64(j, "max_ns", t->nlat ? t->lat[t->nlat - 1] : 0);
		gt_json_end(j);
	}
	gt_json_end(j);
}

void gt_stats_print_json(gt_stats *s, FILE *f)
{
	gt_stats_finish(s);
	gt_model *m = &s->m;
	gt_json j;
	gt_json_init(&j, f, true);
	gt_json_obj(&j);
	gt_json_ku64(&j, "duration_ns", m->have_time ? m->t_last - m->t_first : 0);
	gt_json_ku64(&j, "start_ns", m->t_first);
	gt_json_ku64(&j, "end_ns", m->t_last);
	gt_json_ku64(&j, "generations", m->nsync);
	gt_json_ku64(&j, "first_generation", m->gen_first);
	gt_json_ku64(&j, "last_generation", m->gen_last);
	gt_json_ku64(&j, "events", m->nevents);
	gt_json_ku64(&j, "bytes", s->raw.total);
	gt_json_ku64(&j, "goroutines", m->ng);
	gt_json_ku64(&j, "threads", s->threads.len);
	gt_json_ku64(&j, "procs", s->procs.len);
	gt_json_ku64(&j, "cpu_samples", s->nsamples);
	gt_json_ku64(&j, "logs", s->nlogs);
	if (s->have_heap) {
		gt_json_ku64(&j, "heap_last_bytes", s->heap_last);
		gt_json_ku64(&j, "heap_max_bytes", s->heap_max);
	}

	named_count *groups;
	size_t ngroups = start_fn_groups(s, &groups);
	gt_json_key(&j, "goroutines_by_start_function");
	gt_json_obj(&j);
	for (size_t i = 0; i < ngroups; i++)
		gt_json_ku64(&j, groups[i].name, groups[i].count);
	gt_json_end(&j);
	free(groups);

	gt_json_key(&j, "goroutine_list");
	gt_json_arr(&j);
	size_t *ix = sorted_gs(s);
	for (size_t k = 0; k < m->ng; k++) {
		gt_g *g = m->gs[ix[k]];
		g_acc *a = acc_get(s, g->index);
		static const g_acc zero;
		if (!a)
			a = (g_acc *)&zero;
		gt_json_obj(&j);
		gt_json_ki64(&j, "id", g->id);
		gt_json_ki64(&j, "thread", g->last_m);
		if (g->label)
			gt_json_kstr(&j, "label", g->label);
		if (g->start_fn)
			gt_json_kstr(&j, "start_function", g->start_fn);
		for (int st = 1; st < GT_ST_COUNT; st++) {
			char key[32];
			snprintf(key, sizeof key, "%s_ns", gt_state_names[st]);
			gt_json_ku64(&j, key, a->t[st]);
		}
		gt_json_ku64(&j, "blocks", a->nblock);
		gt_json_ku64(&j, "syscalls", a->nsyscall);
		gt_json_key(&j, "blocked_by_reason_ns");
		gt_json_obj(&j);
		for (size_t r = 0; r < s->nreasons; r++) {
			uint64_t *v = gt_map_get(&a->reason_ns, r);
			if (v)
				gt_json_ku64(&j, s->reasons[r], *v);
		}
		gt_json_end(&j);
		gt_json_ku64(&j, "total_ns", g_total(a));
		gt_json_end(&j);
	}
	free(ix);
	gt_json_end(&j);

	gt_json_key(&j, "thread_list");
	gt_json_arr(&j);
	for (size_t k = 0; k < s->nms; k++) {
		gt_json_obj(&j);
		gt_json_ki64(&j, "thread", s->ms[k].m);
		gt_json_ku64(&j, "running_ns", s->ms[k].running);
		gt_json_ku64(&j, "syscall_ns", s->ms[k].syscall);
		gt_json_end(&j);
	}
	gt_json_end(&j);

	json_lat(&j, "regions", s->regions, s->nregions);
	json_lat(&j, "tasks", s->tasks, s->ntasks);

	gt_json_key(&j, "logs_by_category");
	gt_json_obj(&j);
	for (size_t i = 0; i < s->nlogcats; i++)
		gt_json_ku64(&j, s->logcats[i].name, s->logcats[i].count);
	gt_json_end(&j);

	gt_json_key(&j, "blocking_sites");
	gt_json_arr(&j);
	for (size_t i = 0; i < s->nsites && i < 100; i++) {
		site *st = &s->sites[i];
		gt_json_obj(&j);
		gt_json_kstr(&j, "kind", st->state == GT_ST_SYSCALL ? "syscall" : "blocked");
		gt_json_kstr(&j, "reason", s->reasons[st->reason]);
		gt_json_ku64(&j, "total_ns", st->ns);
		gt_json_ku64(&j, "count", st->count);
		gt_json_key(&j, "stack");
		gt_json_arr(&j);
		const uint32_t *fi;
		size_t nf = gt_stack_frames(&m->stacks, st->stack, &fi);
		for (size_t k = 0; k < nf; k++) {
			const gt_frame *fr = gt_frame_at(&m->stacks, fi[k]);
			gt_json_obj(&j);
			gt_json_kstr(&j, "func", fr->func);
			gt_json_kstr(&j, "file", fr->file);
			gt_json_ku64(&j, "line", fr->line);
			gt_json_end(&j);
		}
		gt_json_end(&j);
		gt_json_end(&j);
	}
	gt_json_end(&j);

	gt_json_key(&j, "events_by_type");
	gt_json_obj(&j);
	gt_json_key(&j, "(file header)");
	gt_json_obj(&j);
	gt_json_ku64(&j, "events", 0);
	gt_json_ku64(&j, "bytes", s->raw.bytes[0]);
	gt_json_end(&j);
	gt_json_key(&j, "Sync");
	gt_json_obj(&j);
	gt_json_ku64(&j, "events", s->ev_count[0]);
	gt_json_ku64(&j, "bytes", 0);
	gt_json_end(&j);
	for (int t = 1; t < GR_EV_COUNT && t < GT_RAW_NTYPES; t++) {
		if (!s->ev_count[t] && !s->raw.bytes[t])
			continue;
		gt_json_key(&j, _gr_go122_specs[t].name);
		gt_json_obj(&j);
		gt_json_ku64(&j, "events", s->ev_count[t] ? s->ev_count[t] : s->raw.count[t]);
		gt_json_ku64(&j, "bytes", s->raw.bytes[t]);
		gt_json_end(&j);
	}
	gt_json_end(&j);
	gt_json_end(&j);
}
