/*
** tests/parse/tracegen.h: a tiny Go 1.22 trace encoder for parser tests and
** fuzz seeds: build batches event by event into growable byte buffers.
** Test code only (aborts on out-of-memory); single-threaded.
*/
#ifndef GORT_TESTS_TRACEGEN_H
#define GORT_TESTS_TRACEGEN_H

#include "internal/go122.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct tg_buf {
	uint8_t *p;
	size_t n, cap;
} tg_buf;

static inline void tg_put(tg_buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		while (nc < b->n + n)
			nc *= 2;
		b->p = realloc(b->p, nc);
		if (!b->p)
			abort();
		b->cap = nc;
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static inline void tg_byte(tg_buf *b, uint8_t v) { tg_put(b, &v, 1); }

static inline void tg_uv(tg_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		tg_byte(b, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	tg_byte(b, (uint8_t)v);
}

static inline void tg_header(tg_buf *b) { tg_put(b, GR_GO122_HEADER, GR_GO122_HEADER_LEN); }

/* An event: type byte, then nargs uvarints (dt first for timed events).
** The arguments come as an array (TG_EV converts each to uint64_t): int
** arguments read back with va_arg(ap, uint64_t) would be undefined, and
** clang's code does leave garbage in their upper halves. */
static inline void tg_ev(tg_buf *b, uint8_t typ, int nargs, const uint64_t *args)
{
	tg_byte(b, typ);
	for (int i = 0; i < nargs; i++)
		tg_uv(b, args[i]);
}
#define TG_EV(b, typ, ...) \
	tg_ev((b), (typ), (int)(sizeof((uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)), (const uint64_t[]){ __VA_ARGS__ })

/* Append a batch whose body is body (then reset body). */
static inline void tg_batch(tg_buf *out, uint64_t gen, uint64_t m, uint64_t time, tg_buf *body)
{
	tg_byte(out, GR_EV_BATCH);
	tg_uv(out, gen);
	tg_uv(out, m);
	tg_uv(out, time);
	tg_uv(out, body->n);
	tg_put(out, body->p, body->n);
	body->n = 0;
}

#define TG_NOM UINT64_MAX   /* the M of structural batches (NoThread) */

static inline void tg_freq(tg_buf *out, uint64_t gen, uint64_t freq)
{
	tg_buf b = { 0 };
	tg_byte(&b, GR_EV_FREQUENCY);
	tg_uv(&b, freq);
	tg_batch(out, gen, TG_NOM, 0, &b);
	free(b.p);
}

/* A strings batch with strings[i] as id i+1. */
static inline void tg_strings(tg_buf *out, uint64_t gen, const char *const *strings, int n)
{
	tg_buf b = { 0 };
	tg_byte(&b, GR_EV_STRINGS);
	for (int i = 0; i < n; i++) {
		tg_byte(&b, GR_EV_STRING);
		tg_uv(&b, (uint64_t)i + 1);
		tg_uv(&b, strlen(strings[i]));
		tg_put(&b, strings[i], strlen(strings[i]));
	}
	tg_batch(out, gen, TG_NOM, 0, &b);
	free(b.p);
}

static inline void tg_free(tg_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/*
** One valid generation for a single thread (M 1, P 0, G 1): status events,
** then n GoStop/GoStart pairs, split in batches of at most ~60 KB; times go
** on from *clock (1 tick = 1 ns). The goroutine is running at the end.
*/
static inline void tg_simple_generation(tg_buf *out, uint64_t gen, uint64_t *clock, size_t n)
{
	tg_buf b = { 0 };
	uint64_t start = *clock;
	TG_EV(&b, GR_EV_PROC_STATUS, 1, 0, GR_PROC_STATUS_RUNNING);
	TG_EV(&b, GR_EV_GO_STATUS, 1, 1, 1, GR_GO_STATUS_RUNNING);
	*clock += 2;
	for (size_t i = 0; i < n; i++) {
		TG_EV(&b, GR_EV_GO_STOP, 1, 0, 0);
		TG_EV(&b, GR_EV_GO_START, 1, 1, i + 1);
		*clock += 2;
		if (b.n > 60000) {
			tg_batch(out, gen, 1, start, &b);
			start = *clock;
		}
	}
	if (b.n)
		tg_batch(out, gen, 1, start, &b);
	tg_freq(out, gen, 1000000000);
	free(b.p);
}

#endif
