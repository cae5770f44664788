/*
** src/internal/parse.h: internals of the Go 1.22 trace reader (the files in src/parse).
** Owner: the parse module; nothing outside src/parse includes this file.
**
** The reader is split by concern, like Go's internal/trace/v2:
**   tp_input.c   buffered byte input (fd or callback), uvarints, offsets
**   tp_table.c   u64 -> pointer hash map; id -> value tables (strings, stacks)
**   tp_gen.c     reading one generation: batches, strings, stacks, frequency,
**                CPU samples (Go's generation.go + batch.go)
**   tp_order.c   the scheduler-state machine that validates and orders events
**                across threads (Go's order.go)
**   tp_check.c   the extra checks of Go's testtrace.Validator that the reader
**                itself does not make (task ids, label, ranges)
**   tp_reader.c  the public API: frontier of per-M cursors, CPU sample
**                injection, Sync events, event materialisation (reader.go)
**   tp_format.c  names and Event.String()-compatible formatting
**
** Invariants:
**  - Everything of one generation (batch bytes, tables, frames, samples) lives
**    in a tp_gen, replaced only when the previous generation is fully consumed:
**    memory is bounded by the largest generation, plus the scheduler state
**    (live goroutines, procs, threads, active tasks and regions).
**  - Times are Go's trace.Time (int64 ns) computed with the same float64
**    arithmetic as Go, so event times match Go's reader exactly.
**  - After the first error the reader is dead: every later call returns it.
*/
#ifndef GORT_INTERNAL_PARSE_H
#define GORT_INTERNAL_PARSE_H

#include <gort/traceparse.h>

#include "internal/go122.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- input -------------------------------------------------------------- */

typedef struct tp_in {
	int fd;                       /* >= 0 when reading a descriptor */
	gort_tp_read_fn fn;           /* else the callback */
	void *ctx;
	uint8_t *buf;
	size_t pos, len, cap;         /* buf[pos..len) is unread */
	uint64_t base;                /* input offset of buf[0] */
	bool eof;
	int err;                      /* errno of a failed read, 0 if none */
} tp_in;

int  _gr_tp_in_init(tp_in *in, size_t cap);
void _gr_tp_in_free(tp_in *in);
static inline uint64_t _gr_tp_in_off(const tp_in *in) { return in->base + in->pos; }
/* 1 = byte read, 0 = clean end of input, -1 = read error (in->err). */
int  _gr_tp_in_byte(tp_in *in, uint8_t *b);
/* Like Go's binary.ReadUvarint: 1 ok, 0 = EOF before any byte,
** -1 read error, -2 EOF inside the varint, -3 overflows 64 bits. */
int  _gr_tp_in_uvarint(tp_in *in, uint64_t *v);
/* Copy n bytes; returns bytes copied (< n at EOF or error). */
size_t _gr_tp_in_read(tp_in *in, void *dst, size_t n);

/* Go's binary.Uvarint on a slice: bytes used (> 0), 0 if too short, < 0 on
** overflow. */
static inline int _gr_tp_uvarint(const uint8_t *p, size_t n, uint64_t *v)
{
	if (GORT_LIKELY(n > 0 && p[0] < 0x80)) {
		*v = p[0];
		return 1;
	}
	uint64_t x = 0;
	unsigned s = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (i == 10)
			return -(int)(i + 1);
		if (b < 0x80) {
			if (i == 9 && b > 1)
				return -(int)(i + 1);
			*v = x | (uint64_t)b << s;
			return (int)i + 1;
		}
		x |= (uint64_t)(b & 0x7f) << s;
		s += 7;
	}
	return 0;
}

/* ---- tables -------------------------------------------------------------- */

/* Open-addressing map from uint64 keys to non-NULL pointers. */
typedef struct tp_map {
	uint64_t *keys;
	void **vals;                  /* NULL = empty slot */
	size_t cap, n;                /* cap is 0 or a power of two */
} tp_map;

static inline size_t _gr_tp_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k;
}

/* Inline: the ordering looks up goroutines and procs on most events. */
static inline void *_gr_tp_map_get(const tp_map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = _gr_tp_hash(key) & mask;; i = (i + 1) & mask) {
		void *v = m->vals[i];
		if (!v || m->keys[i] == key)
			return v;
	}
}
int   _gr_tp_map_put(tp_map *m, uint64_t key, void *val);   /* 0 or -ENOMEM */
void *_gr_tp_map_del(tp_map *m, uint64_t key);              /* removed value or NULL */
void  _gr_tp_map_free(tp_map *m);
void  _gr_tp_map_clear(tp_map *m);

/* id -> index table with Go's dataTable semantics: id 0 is always present
** (empty value); duplicates are an error. Values are indexes into the
** owner's arrays (uint32). */
typedef struct tp_idtab {
	tp_map sparse;                /* id -> (void *)(uintptr_t)(index + 1) */
	uint32_t *dense;              /* built by compact(): dense[id] = index + 1 */
	uint64_t ndense;              /* 0 = not compacted (sparse lookups) */
	uint64_t capdense;            /* dense is kept across generations */
	uint32_t n;
} tp_idtab;

int  _gr_tp_idtab_insert(tp_idtab *t, uint64_t id, uint32_t idx);  /* 0, -EEXIST, -ENOMEM */
void _gr_tp_idtab_compact(tp_idtab *t);
void _gr_tp_idtab_reset(tp_idtab *t);
void _gr_tp_idtab_free(tp_idtab *t);
/* index + 1, or 0 when absent; id 0 gives UINT32_MAX ("present, empty"). */
static inline uint32_t _gr_tp_idtab_get(const tp_idtab *t, uint64_t id)
{
	if (id == 0)
		return UINT32_MAX;
	if (id < t->ndense)
		return t->dense[id];
	if (t->ndense)
		return 0;
	return (uint32_t)(uintptr_t)_gr_tp_map_get(&t->sparse, id);
}

/* ---- one generation ------------------------------------------------------ */

typedef struct tp_batch {
	int64_t m;                    /* Go's ThreadID(m) */
	uint64_t time;                /* raw timestamp */
	uint64_t off;                 /* start of its data in gen->data */
	uint32_t len;
	uint64_t file_off;            /* input offset of its data */
	uint64_t hdr_off;             /* input offset of its EventBatch byte */
} tp_batch;

typedef struct tp_stackent {
	uint32_t first, n;            /* frames[first .. first+n) */
} tp_stackent;

typedef struct tp_sample {
	int64_t time, m, p, g;
	uint64_t stack;
	uint64_t file_off;
} tp_sample;

typedef struct tp_gen {
	uint64_t gen;
	uint8_t *data;                /* every batch's bytes */
	size_t len, cap;
	tp_batch *batches;
	size_t nbatches, capbatches;
	uint32_t *order;              /* event-batch indexes sorted by (m, file order) */
	size_t norder, caporder;
	void *sortkeys;               /* scratch for sorting order */
	size_t capsortkeys;
	double freq;                  /* ns per tick; 0 = none seen */
	bool have_freq;
	tp_idtab strings;
	gort_tp_str *strs;
	size_t nstrs, capstrs;
	tp_idtab stacks;
	tp_stackent *stks;
	size_t nstks, capstks;
	tp_stackent *stkdense;        /* by id when ids are dense (n == UINT32_MAX: absent) */
	size_t nstkdense, capstkdense;
	gort_tp_frame *frames;        /* resolved after the generation is read */
	size_t capresolved;           /* capacity of frames */
	uint64_t (*rawframes)[4];     /* pc, func id, file id, line */
	size_t nframes, capframes;
	tp_sample *samples;
	size_t nsamples, capsamples;
} tp_gen;

void _gr_tp_gen_reset(tp_gen *g);
void _gr_tp_gen_free(tp_gen *g);

/* Go's frequency.mul: float64 ticks * ns-per-tick, converted like amd64. */
static inline int64_t _gr_tp_ftime(double freq, uint64_t ticks)
{
	double x = (double)ticks * freq;
	if (!(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
		return INT64_MIN;
	return (int64_t)x;
}

/* String and stack lookups; return false when the id is unknown. */
static inline bool _gr_tp_gen_string(const tp_gen *g, uint64_t id, gort_tp_str *out)
{
	uint32_t i = _gr_tp_idtab_get(&g->strings, id);
	if (i == 0)
		return false;
	if (i == UINT32_MAX) {
		out->ptr = "";
		out->len = 0;
	} else {
		*out = g->strs[i - 1];
	}
	return true;
}

static inline bool _gr_tp_gen_stack(const tp_gen *g, uint64_t id, gort_tp_stack *out)
{
	if (GORT_LIKELY(id < g->nstkdense)) {
		tp_stackent e = g->stkdense[id];
		if (e.n == UINT32_MAX)
			return false;
		out->id = id;
		out->frames = g->frames + e.first;
		out->nframes = e.n;
		return true;
	}
	if (g->nstkdense)
		return false;
	uint32_t i = _gr_tp_idtab_get(&g->stacks, id);
	if (i == 0)
		return false;
	out->id = id;
	if (i == UINT32_MAX) {
		out->frames = NULL;
		out->nframes = 0;
	} else {
		const tp_stackent *s = &g->stks[i - 1];
		out->frames = g->frames + s->first;
		out->nframes = s->n;
	}
	return true;
}

/* ---- the reader ---------------------------------------------------------- */

/* An event as decoded from a batch, before ordering (Go's baseEvent). */
typedef struct tp_base {
	uint8_t typ;                  /* wire type; TP_EV_SYNC for Sync */
	int64_t time;
	uint64_t args[4];             /* arguments after dt */
	uint64_t extra[2];            /* state smuggled in by ordering */
	uint64_t off;                 /* input offset of the event */
	uint64_t batch_off;           /* input offset of its batch's data */
} tp_base;

#define TP_EV_SYNC 0xff

typedef struct tp_ctx {
	int64_t g, p, m;
} tp_ctx;

struct tp_mstate;

typedef struct tp_cursor {
	int64_t m;
	uint32_t idx, end;            /* gen->order[idx .. end) are its batches */
	const uint8_t *p, *lim;       /* unread bytes of batch order[idx] (p == NULL: not started) */
	const tp_batch *b;            /* that batch */
	uint64_t off_bias;            /* input offset of byte q = (uintptr_t)q + off_bias */
	int64_t last_ts;
	tp_base ev;
	struct tp_mstate *ms;         /* cached ordering state of m (never freed) */
} tp_cursor;

typedef struct tp_range {
	uint8_t typ;                  /* the range's Begin event type */
	uint64_t desc;                /* string id (STW kind), 0 if none */
} tp_range;

typedef struct tp_ranges {
	tp_range *v;
	uint32_t n, cap;
} tp_ranges;

/* An owned copy of a trace string (region and task names outlive their
** generation's string table): short names inline, long ones on the heap. */
typedef struct tp_name {
	uint32_t len;
	char *heap;                   /* NULL when the name is inline */
	char in[40];
} tp_name;

static inline const char *_gr_tp_name_ptr(const tp_name *n) { return n->heap ? n->heap : n->in; }

typedef struct tp_region {
	uint64_t task;
	tp_name name;
} tp_region;

typedef struct tp_seq { uint64_t gen, seq; } tp_seq;

typedef struct tp_gstate {
	int64_t id;
	uint8_t status;               /* GR_GO_STATUS_* */
	tp_seq seq;
	tp_region *regions;
	uint32_t nregions, capregions;
	tp_ranges ranges;
	struct tp_gstate *next_free;
} tp_gstate;

typedef struct tp_pstate {
	int64_t id;
	uint8_t status;               /* GR_PROC_STATUS_* */
	tp_seq seq;
	tp_ranges ranges;
} tp_pstate;

typedef struct tp_mstate {
	int64_t id;
	int64_t g, p;
} tp_mstate;

typedef struct tp_task {
	uint64_t parent;              /* Go's TaskID; NoTask = UINT64_MAX */
	tp_name name;
	struct tp_task *next_free;
} tp_task;

enum { TP_GC_UNDETERMINED, TP_GC_NOT_RUNNING, TP_GC_RUNNING };

typedef struct tp_order {
	tp_map gs, ps, ms, tasks;
	tp_mstate **mlist;            /* every mstate, for scans and freeing */
	tp_task *free_tasks;          /* recycled task states */
	struct tp_gstate *free_gs;    /* recycled goroutine states (next via id) */
	size_t nm, capm;
	uint64_t gc_seq;
	int gc_state;
	uint64_t initial_gen;
	bool have_extra;
	tp_base extra;                /* queued ProcSteal after GoDestroySyscall */
	tp_ctx extra_ctx;
} tp_order;

/* The extra checks of Go's testtrace.Validator (see tp_check.c). */
typedef struct tp_check {
	tp_map gs, ps, ms;            /* goroutine/proc id -> vres, M -> vctx */
	bool seen_sync;
	int64_t last_m;               /* one-entry cache of ms */
	void *last_ctx;
	void *free_res;               /* recycled goroutine records */
} tp_check;

struct gort_tp_reader {
	tp_in in;
	int state;                    /* 0 header not read, 1 running, 2 done, <0 error */
	char err[512];
	uint64_t err_off;
	uint64_t max_gen_bytes;
	bool validate;                /* run Go's validator checks (tp_check.c) */

	tp_gen gen;
	bool have_gen;
	/* The first batch of the next generation, read while finishing this one. */
	bool have_spill;
	uint64_t spill_gen;
	tp_batch spill;
	uint8_t *spill_data;

	tp_cursor *cursors;           /* storage; frontier points into it */
	tp_cursor **frontier;         /* a min-heap on ev.time */
	size_t nfront, capcursors;
	size_t next_sample;
	bool emitted_sync;
	bool refresh_pending;         /* frontier[refresh_idx] advanced: load its next event */
	size_t refresh_idx;
	tp_base tmp;                  /* Sync, CPU sample or extra event being handed out */
	int64_t last_ts;

	tp_order ord;
	tp_check chk;

	gort_tp_event out;
	char scratch[1100];           /* STW range name, task end type */
};

/* Record an error (formatted, " at byte N" appended), kill the reader,
** return code. */
int _gr_tp_fail(gort_tp_reader *r, int code, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Read the next generation into r->gen (tp_gen.c). 0 or a GORT_TP_E* code. */
int _gr_tp_read_generation(gort_tp_reader *r);

/* Ordering (tp_order.c). Returns 1 = advanced (*ctx set), 0 = cannot advance
** yet, < 0 = error (reported through _gr_tp_fail). cur may be NULL for
** m == NoThread. */
int  _gr_tp_order_advance(gort_tp_reader *r, tp_base *ev, tp_mstate *ms,
                          int64_t m, uint64_t gen, tp_ctx *ctx);
tp_mstate *_gr_tp_order_mstate(gort_tp_reader *r, int64_t m);  /* get or create; NULL on ENOMEM */
void _gr_tp_order_free(tp_order *o);

/* Validator checks on a finished event (tp_check.c): 0 or error code. */
int  _gr_tp_check_event(gort_tp_reader *r, const gort_tp_event *ev);
void _gr_tp_check_free(tp_check *c);

/* Go's go122 status -> trace state tables. */
extern const uint8_t _gr_tp_go_status2state[5];
extern const uint8_t _gr_tp_proc_status2state[5];

/* Names of statuses for error messages (Go's GoStatus/ProcStatus String). */
const char *_gr_tp_go_status_name(unsigned s);
const char *_gr_tp_proc_status_name(unsigned s);

/* Quote s like Go's %q into buf; returns the length needed. */
size_t _gr_tp_quote(gort_tp_str s, char *buf, size_t cap);

#endif
