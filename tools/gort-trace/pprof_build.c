/*
** tools/gort-trace/pprof_build.c: sample aggregation and the Profile message
** (see pprof.h).
**
** Invariants: string index 0 is ""; location ids are 1..n in order of first
** use; function ids likewise; every sample's location list is its stack,
** innermost first (pprof's order), with the same length as the stack.
*/
#include "pprof.h"

#include <stdlib.h>
#include <string.h>

typedef struct psample {
	uint32_t stack;
	const char *lkey, *lval;
	int64_t v[GT_PPROF_MAX_VALUES];
} psample;

struct gt_pprof {
	const gt_stacks *stacks;
	int nvalues;
	const char *types[GT_PPROF_MAX_VALUES][2];
	const char *period_type, *period_unit;
	int64_t period, time_ns, duration_ns;
	psample *samples;
	size_t nsamples, capsamples;
	gt_map sample_ids;       /* (label id << 32 | stack) -> index */
	gt_map label_ids;        /* label value pointer -> id */
	size_t nlabels;
	/* encoding state */
	const char **strs;
	size_t nstrs, capstrs;
	gt_map str_ids;          /* pointer -> index (strings are interned or static) */
	gt_strtab own;           /* for strings we build (function keys) */
};

gt_pprof *gt_pprof_new(const gt_stacks *stacks, int nvalues, const char *const types[][2],
		       const char *period_type, const char *period_unit, int64_t period)
{
	if (nvalues < 1 || nvalues > GT_PPROF_MAX_VALUES)
		return NULL;
	gt_pprof *p = gt_xcalloc(1, sizeof *p);
	p->stacks = stacks;
	p->nvalues = nvalues;
	for (int i = 0; i < nvalues; i++) {
		p->types[i][0] = types[i][0];
		p->types[i][1] = types[i][1];
	}
	p->period_type = period_type;
	p->period_unit = period_unit;
	p->period = period;
	gt_map_init(&p->sample_ids);
	gt_map_init(&p->label_ids);
	gt_map_init(&p->str_ids);
	gt_strtab_init(&p->own);
	return p;
}

void gt_pprof_free(gt_pprof *p)
{
	if (!p)
		return;
	free(p->samples);
	free(p->strs);
	gt_map_free(&p->sample_ids);
	gt_map_free(&p->label_ids);
	gt_map_free(&p->str_ids);
	gt_strtab_free(&p->own);
	free(p);
}

void gt_pprof_set_time(gt_pprof *p, int64_t time_ns, int64_t duration_ns)
{
	p->time_ns = time_ns;
	p->duration_ns = duration_ns;
}

size_t gt_pprof_nsamples(const gt_pprof *p)
{
	return p->nsamples;
}

void gt_pprof_add(gt_pprof *p, uint32_t stack, const int64_t *values,
		  const char *label_key, const char *label_val)
{
	uint64_t lid = 0;
	if (label_key && label_val) {
		bool fresh;
		uint64_t *v = gt_map_put(&p->label_ids, (uintptr_t)label_val, p->nlabels + 1, &fresh);
		if (fresh)
			p->nlabels++;
		lid = *v;
	}
	bool fresh;
	uint64_t *ix = gt_map_put(&p->sample_ids, (lid << 32) | stack, p->nsamples, &fresh);
	if (fresh) {
		GT_GROW(p->samples, p->capsamples, p->nsamples + 1);
		psample *s = &p->samples[p->nsamples++];
		memset(s, 0, sizeof *s);
		s->stack = stack;
		s->lkey = lid ? label_key : NULL;
		s->lval = lid ? label_val : NULL;
	}
	psample *s = &p->samples[*ix];
	for (int i = 0; i < p->nvalues; i++)
		s->v[i] += values[i];
}

static uint64_t str_id(gt_pprof *p, const char *s)
{
	if (!s || !*s)
		return 0;
	bool fresh;
	uint64_t *v = gt_map_put(&p->str_ids, (uintptr_t)s, p->nstrs, &fresh);
	if (fresh) {
		GT_GROW(p->strs, p->capstrs, p->nstrs + 1);
		p->strs[p->nstrs++] = s;
	}
	return *v;
}

static void value_type(gt_pprof *p, gt_buf *out, unsigned field, const char *type, const char *unit)
{
	gt_buf m = { 0 };
	gt_pb_uint(&m, 1, str_id(p, type));
	gt_pb_uint(&m, 2, str_id(p, unit));
	gt_pb_bytes(out, field, m.p, m.len);
	gt_buf_free(&m);
}

void gt_pprof_encode(gt_pprof *p, gt_buf *out)
{
	/* string 0 is "" */
	p->nstrs = 0;
	gt_map_clear(&p->str_ids);
	GT_GROW(p->strs, p->capstrs, 1);
	p->strs[p->nstrs++] = "";

	for (int i = 0; i < p->nvalues; i++)
		value_type(p, out, 1, p->types[i][0], p->types[i][1]);

	gt_map locs, funcs;             /* frame index -> location id; func key -> function id */
	gt_map_init(&locs);
	gt_map_init(&funcs);
	uint32_t *loc_frame = NULL;     /* location id - 1 -> frame index */
	size_t nloc = 0, caploc = 0;
	const char **fn_key = NULL;     /* function id - 1 -> key ("name\\0file" interned) */
	uint32_t *fn_frame = NULL;      /* function id - 1 -> a frame with that function */
	size_t nfn = 0, capfn = 0, capfnf = 0;

	gt_buf sm = { 0 }, lm = { 0 };
	uint64_t *ids = NULL, *vals = NULL;
	size_t capids = 0, capvals = 0;
	for (size_t i = 0; i < p->nsamples; i++) {
		psample *s = &p->samples[i];
		const uint32_t *fi;
		size_t nf = gt_stack_frames(p->stacks, s->stack, &fi);
		GT_GROW(ids, capids, nf + 1);
		for (size_t k = 0; k < nf; k++) {
			bool fresh;
			uint64_t *lid = gt_map_put(&locs, fi[k], nloc + 1, &fresh);
			if (fresh) {
				GT_GROW(loc_frame, caploc, nloc + 1);
				loc_frame[nloc++] = fi[k];
			}
			ids[k] = *lid;
		}
		if (nf == 0) {
			/* A sample without a stack still counts: give it a placeholder frame 0. */
			bool fresh;
			uint64_t *lid = gt_map_put(&locs, 0, nloc + 1, &fresh);
			if (fresh) {
				GT_GROW(loc_frame, caploc, nloc + 1);
				loc_frame[nloc++] = 0;
			}
			ids[0] = *lid;
			nf = 1;
		}
		GT_GROW(vals, capvals, (size_t)p->nvalues);
		for (int k = 0; k < p->nvalues; k++)
			vals[k] = (uint64_t)s->v[k];
		sm.len = 0;
		gt_pb_packed(&sm, 1, ids, nf);
		gt_pb_packed(&sm, 2, vals, (size_t)p->nvalues);
		if (s->lkey) {
			lm.len = 0;
			gt_pb_uint(&lm, 1, str_id(p, s->lkey));
			gt_pb_uint(&lm, 2, str_id(p, s->lval));
			gt_pb_bytes(&sm, 3, lm.p, lm.len);
		}
		gt_pb_bytes(out, 2, sm.p, sm.len);
	}

	/* mapping 1: functions, file names and lines are already known */
	sm.len = 0;
	gt_pb_uint(&sm, 1, 1);
	gt_pb_uint(&sm, 5, str_id(p, "gort-trace"));
	gt_pb_uint(&sm, 7, 1);
	gt_pb_uint(&sm, 8, 1);
	gt_pb_uint(&sm, 9, 1);
	gt_pb_bytes(out, 3, sm.p, sm.len);

	for (size_t l = 0; l < nloc; l++) {
		const gt_frame *f = gt_frame_at(p->stacks, loc_frame[l]);
		const char *fname = loc_frame[l] == 0 ? "(no stack)" : *f->func ? f->func : NULL;
		char hex[32];
		if (!fname) {
			snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)f->pc);
			fname = gt_intern(&p->own, hex, strlen(hex));
		}
		char keybuf[4096];
		int kn = snprintf(keybuf, sizeof keybuf, "%s%c%s", fname, 0, f->file);
		if (kn < 0 || (size_t)kn >= sizeof keybuf)
			kn = (int)sizeof keybuf - 1;
		/* interning cuts at NUL: build a key without NUL instead */
		keybuf[strlen(fname)] = '\x01';
		const char *key = gt_intern(&p->own, keybuf, (size_t)kn);
		bool fresh;
		uint64_t *fid = gt_map_put(&funcs, (uintptr_t)key, nfn + 1, &fresh);
		if (fresh) {
			GT_GROW(fn_key, capfn, nfn + 1);
			GT_GROW(fn_frame, capfnf, nfn + 1);
			fn_key[nfn] = fname;
			fn_frame[nfn] = loc_frame[l];
			nfn++;
		}
		sm.len = 0;
		gt_pb_uint(&sm, 1, l + 1);
		gt_pb_uint(&sm, 2, 1);
		gt_pb_uint(&sm, 3, f->pc);
		lm.len = 0;
		gt_pb_uint(&lm, 1, *fid);
		gt_pb_uint(&lm, 2, f->line);
		gt_pb_bytes(&sm, 4, lm.p, lm.len);
		gt_pb_bytes(out, 4, sm.p, sm.len);
	}
	for (size_t k = 0; k < nfn; k++) {
		const gt_frame *f = gt_frame_at(p->stacks, fn_frame[k]);
		sm.len = 0;
		gt_pb_uint(&sm, 1, k + 1);
		gt_pb_uint(&sm, 2, str_id(p, fn_key[k]));
		gt_pb_uint(&sm, 3, str_id(p, fn_key[k]));
		gt_pb_uint(&sm, 4, str_id(p, f->file));
		gt_pb_bytes(out, 5, sm.p, sm.len);
	}
	/* period type and scalar fields reference strings: add them before the table */
	uint64_t pt_type = str_id(p, p->period_type), pt_unit = str_id(p, p->period_unit);
	uint64_t dflt = str_id(p, p->types[p->nvalues - 1][0]);
	for (size_t k = 0; k < p->nstrs; k++)
		gt_pb_bytes(out, 6, p->strs[k], strlen(p->strs[k]));
	if (p->time_ns > 0)
		gt_pb_uint(out, 9, (uint64_t)p->time_ns);
	if (p->duration_ns > 0)
		gt_pb_uint(out, 10, (uint64_t)p->duration_ns);
	sm.len = 0;
	gt_pb_uint(&sm, 1, pt_type);
	gt_pb_uint(&sm, 2, pt_unit);
	gt_pb_bytes(out, 11, sm.p, sm.len);
	if (p->period > 0)
		gt_pb_uint(out, 12, (uint64_t)p->period);
	gt_pb_uint(out, 14, dflt);

	gt_buf_free(&sm);
	gt_buf_free(&lm);
	free(ids);
	free(vals);
	free(loc_frame);
	free(fn_key);
	free(fn_frame);
	gt_map_free(&locs);
	gt_map_free(&funcs);
}
