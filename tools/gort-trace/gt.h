/*
** tools/gort-trace/gt.h: small pieces shared by the gort-trace subcommands.
**
** Owner: the gort-trace tool (tools/gort-trace); nothing in libgort uses it.
**
** Contents: one-line error reporting, checked allocation (the tool exits on
** out-of-memory: it is a command, not a library), a string interner whose
** strings live until gt_strtab_free, a u64 -> u64 hash map, a growable byte
** buffer, duration parsing/formatting, and the input loop every reading
** subcommand uses (open a trace, hand out events, progress bar, one-line
** error naming the file and the byte offset).
**
** Not thread-safe: the tool is single-threaded.
*/
#ifndef GT_H
#define GT_H

#include <gort/traceparse.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GT_PROG "gort-trace"

/* "gort-trace: <cmd>: <message>\n" on stderr (one line). */
void gt_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Allocation that exits with a one-line message when memory runs out. */
void *gt_xmalloc(size_t n);
void *gt_xcalloc(size_t n, size_t size);
void *gt_xrealloc(void *p, size_t n);
/* Grow *p (an array of elem-size items with capacity *cap) to hold need items. */
void gt_grow(void **p, size_t *cap, size_t need, size_t elem);
#define GT_GROW(arr, cap, need) gt_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---- string interner: equal strings get the same stable pointer ---------- */
typedef struct gt_strtab {
	const char **slots;   /* open addressing, NULL = empty */
	size_t cap, len;
	char *chunk;          /* current allocation chunk */
	size_t chunk_left;
	void *chunks;         /* list of chunks, for freeing */
	struct { const char *src; size_t len; const char *s; } cache[64];
	                      /* recent (source pointer, length) -> interned; a hint,
	                         checked by content, so reused memory is harmless */
} gt_strtab;

void gt_strtab_init(gt_strtab *t);
void gt_strtab_free(gt_strtab *t);
/* A NUL-terminated copy of p[0..n) that lives until gt_strtab_free. */
const char *gt_intern(gt_strtab *t, const char *p, size_t n);
static inline const char *gt_intern_str(gt_strtab *t, gort_tp_str s)
{
	return gt_intern(t, s.ptr ? s.ptr : "", s.len);
}

/* ---- u64 -> u64 hash map (key UINT64_MAX is reserved) -------------------- */
typedef struct gt_map {
	uint64_t *keys, *vals;
	size_t cap, len;
} gt_map;

void gt_map_init(gt_map *m);
void gt_map_free(gt_map *m);
void gt_map_clear(gt_map *m);
/* Pointer to the value of key, or NULL. */
uint64_t *gt_map_get(const gt_map *m, uint64_t key);
/* Pointer to the value of key, inserted with value dflt if absent. */
uint64_t *gt_map_put(gt_map *m, uint64_t key, uint64_t dflt, bool *inserted);

/* ---- growable byte buffer ------------------------------------------------- */
typedef struct gt_buf {
	unsigned char *p;
	size_t len, cap;
} gt_buf;

void gt_buf_put(gt_buf *b, const void *p, size_t n);
static inline void gt_buf_byte(gt_buf *b, unsigned char c)
{
	if (b->len == b->cap)
		GT_GROW(b->p, b->cap, b->len + 1);
	b->p[b->len++] = c;
}
void gt_buf_free(gt_buf *b);

/* ---- durations -------------------------------------------------------------- */
/* Parse "1.5s", "200ms", "30us", "100ns", "2m" or a plain number of ns.
** Returns 0 and *ns, or -1 on bad syntax. */
int gt_parse_duration(const char *s, uint64_t *ns);
/* Format ns human-readably ("1.234ms") into buf; returns buf. */
const char *gt_fmt_dur(uint64_t ns, char *buf, size_t cap);

/* ---- progress bar (stderr, only when stderr is a terminal) --------------- */
typedef struct gt_progress {
	bool on;
	uint64_t total;        /* bytes, 0 = unknown */
	uint64_t last_ns;      /* last redraw */
	const char *label;
	int drawn;             /* something is on the line */
} gt_progress;

void gt_progress_init(gt_progress *p, const char *label, uint64_t total);
/* Redraw at most ~10 times per second. */
void gt_progress_update(gt_progress *p, uint64_t done);
/* Erase the bar (call before printing anything else on stderr). */
void gt_progress_done(gt_progress *p);
/* Whether a bar would be shown (stderr is a terminal, GORT_NO_PROGRESS unset,
** or GORT_FORCE_PROGRESS set for tests). */
bool gt_progress_wanted(void);

/* ---- input: a trace file read event by event ------------------------------ */
typedef struct gt_input {
	const char *cmd;        /* subcommand, for error messages */
	const char *path;       /* "-" = stdin */
	int fd;
	gort_tp_reader *r;
	gt_progress prog;
	uint64_t nevents;
	/* optional tee: called with every chunk of raw bytes the parser reads */
	void (*tee)(void *ctx, const unsigned char *p, size_t n);
	void *tee_ctx;
} gt_input;

/* Open path for reading. Returns 0, or -1 after printing a one-line error.
** validator: also apply the checks of Go's trace validator (gotracevalidate),
** not only those of Go's reader (what `go tool trace` applies). */
int gt_input_open(gt_input *in, const char *cmd, const char *path, bool validator);
/* Next event: 1 = *ev set, 0 = end of a valid trace, -1 = error (printed as
** "gort-trace: <cmd>: <path>: <what> at byte <offset>"). */
int gt_input_next(gt_input *in, const gort_tp_event **ev);
void gt_input_close(gt_input *in);

/* Print s (not NUL-terminated) with C-style escapes for non-printable bytes. */
void gt_fput_escaped(FILE *f, const char *s, size_t n);

/* ---- common option handling ------------------------------------------------ */
/* True if argv holds -h or --help before any "--". */
bool gt_wants_help(int argc, char **argv);

/* Subcommand entry points (argv[0] is the subcommand name). */
int gt_cmd_validate(int argc, char **argv);
int gt_cmd_dump(int argc, char **argv);
int gt_cmd_stats(int argc, char **argv);
int gt_cmd_export(int argc, char **argv);
int gt_cmd_pprof(int argc, char **argv);
int gt_cmd_record(int argc, char **argv);

#endif
