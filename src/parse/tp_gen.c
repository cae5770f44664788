/*
** src/parse/tp_gen.c: reading one generation (Go's generation.go, batch.go).
**
** A generation is every batch with the same generation number. Batches are
** read one by one until the input ends or a batch of generation+1 appears;
** that batch is the "spill" and starts the next generation. Structural
** batches (strings, stacks, CPU samples, frequency) are decoded at once; event
** batches are kept as bytes and decoded lazily by the per-M cursors.
**
** Invariants:
**  - gen->data holds every batch's bytes; while reading, strings hold offsets
**    into it (gen->data may move), turned into pointers at the end.
**  - The total of a generation's batch bytes never exceeds r->max_gen_bytes,
**    and every size field is checked before anything is allocated for it, so
**    hostile input cannot make the reader allocate unboundedly.
**  - Errors name the byte offset of the offending batch, event or field.
*/
#include "internal/parse.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GROW(arr, n, cap, extra)                                              \
	(((n) + (extra) <= (cap)) ? 0 : grow_array((void **)&(arr), &(cap),      \
	                                           (n) + (extra), sizeof *(arr)))

static int grow_array(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	void *np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

void _gr_tp_gen_reset(tp_gen *g)
{
	g->gen = 0;
	g->len = 0;
	g->nbatches = 0;
	g->norder = 0;
	g->freq = 0;
	g->have_freq = false;
	_gr_tp_idtab_reset(&g->strings);
	_gr_tp_idtab_reset(&g->stacks);
	g->nstrs = g->nstks = g->nframes = g->nsamples = 0;
	g->nstkdense = 0;
}

void _gr_tp_gen_free(tp_gen *g)
{
	free(g->data);
	free(g->batches);
	free(g->order);
	free(g->sortkeys);
	_gr_tp_idtab_free(&g->strings);
	_gr_tp_idtab_free(&g->stacks);
	free(g->strs);
	free(g->stks);
	free(g->stkdense);
	free(g->frames);
	free(g->rawframes);
	free(g->samples);
	memset(g, 0, sizeof *g);
}

/* A cursor over one structural batch's bytes. */
typedef struct bcur {
	const uint8_t *p;
	size_t pos, len;
	uint64_t file_off;
} bcur;

static int cur_uvarint(gort_tp_reader *r, bcur *c, uint64_t *v, const char *what)
{
	int n = _gr_tp_uvarint(c->p + c->pos, c->len - c->pos, v);
	if (n <= 0)
		return _gr_tp_fail(r, GORT_TP_EFORMAT, c->file_off + c->pos,
		                   "%s: %s", what, n == 0 ? "unexpected EOF" : "varint overflows a 64-bit integer");
	c->pos += (size_t)n;
	return 0;
}

static int add_strings(gort_tp_reader *r, tp_gen *g, bcur *c)
{
	c->pos = 1;   /* the Strings byte */
	while (c->pos < c->len) {
		uint64_t at = c->file_off + c->pos;
		uint8_t t = c->p[c->pos++];
		if (t != GR_EV_STRING)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "expected string event, got %u", t);
		uint64_t id, n;
		if (cur_uvarint(r, c, &id, "reading string id") || cur_uvarint(r, c, &n, "reading string length"))
			return r->state;
		if (n > GR_GO122_MAX_STRING_SIZE)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "invalid string size %" PRIu64 ", maximum is %u",
			                   n, GR_GO122_MAX_STRING_SIZE);
		if (n > c->len - c->pos)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "failed to read full string: read %zu but wanted %" PRIu64,
			                   c->len - c->pos, n);
		if (GROW(g->strs, g->nstrs, g->capstrs, 1) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, at, "out of memory for the string table");
		/* An offset into g->data for now; see tp_gen_finish. */
		size_t dataoff = (size_t)(c->p - g->data) + c->pos;
		g->strs[g->nstrs].ptr = (const char *)(uintptr_t)dataoff;
		g->strs[g->nstrs].len = (size_t)n;
		c->pos += (size_t)n;
		int rc = _gr_tp_idtab_insert(&g->strings, id, (uint32_t)g->nstrs);
		if (rc == -EEXIST)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "multiple strings with the same ID: id=%" PRIu64, id);
		if (rc < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, at, "out of memory for the string table");
		g->nstrs++;
	}
	return 0;
}

static int add_stacks(gort_tp_reader *r, tp_gen *g, bcur *c)
{
	c->pos = 1;
	while (c->pos < c->len) {
		uint64_t at = c->file_off + c->pos;
		uint8_t t = c->p[c->pos++];
		if (t != GR_EV_STACK)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "expected stack event, got %u", t);
		uint64_t id, n;
		if (cur_uvarint(r, c, &id, "reading stack id") || cur_uvarint(r, c, &n, "reading stack frame count"))
			return r->state;
		if (n > GR_GO122_MAX_STACK_DEPTH)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "invalid stack size %" PRIu64 ", maximum is %u",
			                   n, GR_GO122_MAX_STACK_DEPTH);
		if (GROW(g->stks, g->nstks, g->capstks, 1) < 0 ||
		    GROW(g->rawframes, g->nframes, g->capframes, (size_t)n) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, at, "out of memory for the stack table");
		tp_stackent *s = &g->stks[g->nstks];
		s->first = (uint32_t)g->nframes;
		s->n = (uint32_t)n;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t *f = g->rawframes[g->nframes + i];
			if (cur_uvarint(r, c, &f[0], "reading frame PC") || cur_uvarint(r, c, &f[1], "reading frame funcID") ||
			    cur_uvarint(r, c, &f[2], "reading frame fileID") || cur_uvarint(r, c, &f[3], "reading frame line"))
				return r->state;
		}
		g->nframes += (size_t)n;
		int rc = _gr_tp_idtab_insert(&g->stacks, id, (uint32_t)g->nstks);
		if (rc == -EEXIST)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "multiple stacks with the same ID: id=%" PRIu64, id);
		if (rc < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, at, "out of memory for the stack table");
		g->nstks++;
	}
	return 0;
}

static int add_samples(gort_tp_reader *r, tp_gen *g, bcur *c)
{
	c->pos = 1;
	while (c->pos < c->len) {
		uint64_t at = c->file_off + c->pos;
		uint8_t t = c->p[c->pos++];
		if (t != GR_EV_CPU_SAMPLE)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, at, "expected CPU sample event, got %u", t);
		uint64_t ts, m, p, gid, stk;
		if (cur_uvarint(r, c, &ts, "reading CPU sample time") || cur_uvarint(r, c, &m, "reading CPU sample M") ||
		    cur_uvarint(r, c, &p, "reading CPU sample P") || cur_uvarint(r, c, &gid, "reading CPU sample G") ||
		    cur_uvarint(r, c, &stk, "reading CPU sample stack"))
			return r->state;
		if (GROW(g->samples, g->nsamples, g->capsamples, 1) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, at, "out of memory for CPU samples");
		tp_sample *s = &g->samples[g->nsamples++];
		s->time = (int64_t)ts;   /* raw ticks until the frequency is known */
		s->m = (int64_t)m;
		s->p = (int64_t)p;
		s->g = gid == 0 ? GORT_TP_NONE : (int64_t)gid;
		s->stack = stk;
		s->file_off = at;
	}
	return 0;
}

/* Go's processBatch: the batch's bytes are at g->data + b->off. */
static int process_batch(gort_tp_reader *r, tp_gen *g, const tp_batch *b)
{
	bcur c = { g->data + b->off, 0, b->len, b->file_off };
	uint8_t t = b->len ? c.p[0] : 0;
	switch (t) {
	case GR_EV_STRINGS:
		return add_strings(r, g, &c);
	case GR_EV_STACKS:
		return add_stacks(r, g, &c);
	case GR_EV_CPU_SAMPLES:
		return add_samples(r, g, &c);
	case GR_EV_FREQUENCY: {
		uint64_t f;
		c.pos = 1;
		if (cur_uvarint(r, &c, &f, "reading frequency"))
			return r->state;
		if (g->have_freq)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, b->file_off, "found multiple frequency events");
		g->freq = 1.0 / ((double)f / 1e9);
		g->have_freq = true;
		return 0;
	}
	default:
		if (GROW(g->batches, g->nbatches, g->capbatches, 1) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, b->file_off, "out of memory for batches");
		g->batches[g->nbatches++] = *b;
		return 0;
	}
}

static int cmp_sample(const void *a, const void *b)
{
	const tp_sample *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->file_off < y->file_off ? -1 : x->file_off > y->file_off;
}

typedef struct mkey {
	int64_t m;
	uint32_t idx;
} mkey;

static int cmp_mkey(const void *a, const void *b)
{
	const mkey *x = a, *y = b;
	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Resolve strings, stacks, samples and the per-M batch order. */
static int finish(gort_tp_reader *r, tp_gen *g, uint64_t end_off)
{
	if (!g->have_freq)
		return _gr_tp_fail(r, GORT_TP_EFORMAT, end_off, "no frequency event found (generation %" PRIu64 ")", g->gen);
	for (size_t i = 0; i < g->nstrs; i++)
		g->strs[i].ptr = (const char *)g->data + (uintptr_t)g->strs[i].ptr;
	_gr_tp_idtab_compact(&g->strings);
	_gr_tp_idtab_compact(&g->stacks);

	if (GROW(g->frames, 0, g->capresolved, g->nframes) < 0)
		return _gr_tp_fail(r, GORT_TP_ENOMEM, end_off, "out of memory for stack frames");
	for (size_t s = 0; s < g->nstks; s++) {
		const tp_stackent *e = &g->stks[s];
		for (uint32_t k = 0; k < e->n; k++) {
			const uint64_t *rf = g->rawframes[e->first + k];
			gort_tp_frame *f = &g->frames[e->first + k];
			f->pc = rf[0];
			f->line = rf[3];
			if (!_gr_tp_gen_string(g, rf[1], &f->func))
				return _gr_tp_fail(r, GORT_TP_EINVALID, end_off,
				                   "found invalid func string ID %" PRIu64 " for a stack", rf[1]);
			if (!_gr_tp_gen_string(g, rf[2], &f->file))
				return _gr_tp_fail(r, GORT_TP_EINVALID, end_off,
				                   "found invalid file string ID %" PRIu64 " for a stack", rf[2]);
		}
	}
	if (g->stacks.ndense) {
		size_t nd = (size_t)g->stacks.ndense;
		if (GROW(g->stkdense, 0, g->capstkdense, nd) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, end_off, "out of memory for the stack table");
		for (size_t id = 0; id < nd; id++) {
			uint32_t i = g->stacks.dense[id];
			g->stkdense[id] = i ? g->stks[i - 1] : (tp_stackent){ 0, UINT32_MAX };
		}
		g->stkdense[0] = (tp_stackent){ 0, 0 };
		g->nstkdense = nd;
	}
	for (size_t i = 0; i < g->nsamples; i++)
		g->samples[i].time = _gr_tp_ftime(g->freq, (uint64_t)g->samples[i].time);
	if (g->nsamples > 1)
		qsort(g->samples, g->nsamples, sizeof *g->samples, cmp_sample);

	if (GROW(g->order, 0, g->caporder, g->nbatches) < 0)
		return _gr_tp_fail(r, GORT_TP_ENOMEM, end_off, "out of memory for batches");
	g->norder = g->nbatches;
	if (g->norder > 1) {
		if (g->norder > g->capsortkeys) {
			void *nk = realloc(g->sortkeys, g->norder * sizeof(mkey));
			if (!nk)
				return _gr_tp_fail(r, GORT_TP_ENOMEM, end_off, "out of memory for batches");
			g->sortkeys = nk;
			g->capsortkeys = g->norder;
		}
		mkey *k = g->sortkeys;
		for (size_t i = 0; i < g->norder; i++)
			k[i] = (mkey){ g->batches[i].m, (uint32_t)i };
		qsort(k, g->norder, sizeof *k, cmp_mkey);
		for (size_t i = 0; i < g->norder; i++)
			g->order[i] = k[i].idx;
	} else if (g->norder == 1) {
		g->order[0] = 0;
	}
	return 0;
}

static const char *evname(uint8_t t)
{
	if (t < GR_EV_COUNT && t != 0)
		return _gr_go122_specs[t].name;
	return NULL;
}

int _gr_tp_read_generation(gort_tp_reader *r)
{
	tp_gen *g = &r->gen;
	tp_in *in = &r->in;
	_gr_tp_gen_reset(g);
	if (!g->data && GROW(g->data, 0, g->cap, GR_GO122_MAX_BATCH_SIZE) < 0)
		return _gr_tp_fail(r, GORT_TP_ENOMEM, _gr_tp_in_off(in), "out of memory for a batch");
	if (r->have_spill) {
		g->gen = r->spill_gen;
		if (GROW(g->data, g->len, g->cap, r->spill.len) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, r->spill.file_off, "out of memory for a batch");
		memcpy(g->data, r->spill_data, r->spill.len);
		g->len = r->spill.len;
		tp_batch b = r->spill;
		b.off = 0;
		r->have_spill = false;
		if (process_batch(r, g, &b))
			return r->state;
	}
	for (;;) {
		uint64_t boff = _gr_tp_in_off(in);
		uint8_t t;
		int rc = _gr_tp_in_byte(in, &t);
		if (rc == 0)
			break;
		if (rc < 0)
			return _gr_tp_fail(r, GORT_TP_EIO, boff, "reading the trace: %s", strerror(in->err));
		if (t != GR_EV_BATCH) {
			const char *n = evname(t);
			if (n)
				return _gr_tp_fail(r, GORT_TP_EFORMAT, boff, "expected batch event (EventBatch), got %s", n);
			return _gr_tp_fail(r, GORT_TP_EFORMAT, boff, "expected batch event (EventBatch), got Invalid(%u)", t);
		}
		static const char *const what[4] = { "gen", "M ID", "timestamp", "size" };
		uint64_t hdr[4];
		for (int i = 0; i < 4; i++) {
			uint64_t foff = _gr_tp_in_off(in);
			rc = _gr_tp_in_uvarint(in, &hdr[i]);
			if (rc == 1)
				continue;
			if (rc == -1)
				return _gr_tp_fail(r, GORT_TP_EIO, foff, "reading the trace: %s", strerror(in->err));
			return _gr_tp_fail(r, GORT_TP_EFORMAT, foff, "error reading batch %s: %s", what[i],
			                   rc == -3 ? "varint overflows a 64-bit integer" : "unexpected EOF");
		}
		uint64_t gen = hdr[0], size = hdr[3];
		if (size > GR_GO122_MAX_BATCH_SIZE)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, boff, "invalid batch size %" PRIu64 ", maximum is %u",
			                   size, GR_GO122_MAX_BATCH_SIZE);
		if (g->len + size > r->max_gen_bytes)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, boff,
			                   "generation larger than the reader's bound of %" PRIu64 " bytes", r->max_gen_bytes);
		if (GROW(g->data, g->len, g->cap, (size_t)size) < 0)
			return _gr_tp_fail(r, GORT_TP_ENOMEM, boff, "out of memory for a batch of %" PRIu64 " bytes", size);
		tp_batch b = { .m = (int64_t)hdr[1], .time = hdr[2], .off = g->len, .len = (uint32_t)size,
		               .file_off = _gr_tp_in_off(in), .hdr_off = boff };
		size_t got = _gr_tp_in_read(in, g->data + g->len, (size_t)size);
		if (got != size) {
			if (in->err)
				return _gr_tp_fail(r, GORT_TP_EIO, b.file_off + got, "reading the trace: %s", strerror(in->err));
			return _gr_tp_fail(r, GORT_TP_EFORMAT, b.file_off + got,
			                   "failed to read full batch: read %zu but wanted %" PRIu64, got, size);
		}
		if (gen == 0)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, boff, "invalid generation number 0");
		if (g->gen == 0)
			g->gen = gen;
		if (gen == g->gen + 1) {
			if (!r->spill_data && !(r->spill_data = malloc(GR_GO122_MAX_BATCH_SIZE)))
				return _gr_tp_fail(r, GORT_TP_ENOMEM, boff, "out of memory for a batch");
			memcpy(r->spill_data, g->data + g->len, (size_t)size);
			r->spill = b;
			r->spill_gen = gen;
			r->have_spill = true;
			break;
		}
		if (gen != g->gen)
			return _gr_tp_fail(r, GORT_TP_EFORMAT, boff,
			                   "generations out of order (batch of generation %" PRIu64 " in generation %" PRIu64 ")",
			                   gen, g->gen);
		g->len += (size_t)size;
		if (process_batch(r, g, &b))
			return r->state;
	}
	return finish(r, g, _gr_tp_in_off(in));
}
