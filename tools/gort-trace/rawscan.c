/*
** tools/gort-trace/rawscan.c: incremental bytes-per-type scanner (rawscan.h).
**
** States: HEADER (16 bytes) -> BATCH_TYPE (0x01) -> BATCH_HDR (4 uvarints) ->
** BODY: TYPE byte -> ARGS (nargs uvarints from the shared event table) ->
** for String: LEN uvarint then TAIL bytes; for Stack: nframes*4 uvarints ->
** back to TYPE until body_left is 0, then BATCH_TYPE.
*/
#include "rawscan.h"
#include "internal/go122.h"

#include <string.h>

enum { S_HEADER, S_BATCH_TYPE, S_BATCH_HDR, S_TYPE, S_ARGS, S_STRLEN, S_TAIL, S_FRAMES, S_LOST };

void gt_rawscan_init(gt_rawscan *s)
{
	memset(s, 0, sizeof *s);
	s->st = S_HEADER;
	s->hdr_left = GR_GO122_HEADER_LEN;
}

/* Feed one varint byte; returns true when the value is complete. */
static bool varint_byte(gt_rawscan *s, unsigned char c)
{
	if (s->vshift < 64)
		s->varint |= (uint64_t)(c & 0x7f) << s->vshift;
	s->vshift += 7;
	if (c & 0x80) {
		if (s->vshift >= 70)
			s->st = S_LOST;
		return false;
	}
	return true;
}

static void start_varint(gt_rawscan *s)
{
	s->varint = 0;
	s->vshift = 0;
}

/* After an event is complete: next type, or next batch. */
static void event_done(gt_rawscan *s)
{
	s->st = s->body_left ? S_TYPE : S_BATCH_TYPE;
}

static void args_done(gt_rawscan *s)
{
	if (s->cur == GR_EV_STRING) {
		s->st = S_STRLEN;
		start_varint(s);
	} else if (s->cur == GR_EV_STACK) {
		/* varint holds nframes (the last arg) */
		s->frames_left = s->varint * 4;
		if (s->varint > GR_GO122_MAX_STACK_DEPTH * 4) {
			s->st = S_LOST;
			return;
		}
		if (s->frames_left) {
			s->st = S_FRAMES;
			start_varint(s);
		} else
			event_done(s);
	} else
		event_done(s);
}

void gt_rawscan_feed(void *ctx, const unsigned char *p, size_t n)
{
	gt_rawscan *s = ctx;
	for (size_t i = 0; i < n; i++) {
		/* Fast path: a whole ordinary event (not String/Stack) in the chunk. */
		while (s->st == S_TYPE && n - i >= 64) {
			unsigned t = p[i];
			if (t == 0 || t >= GR_EV_COUNT || t == GR_EV_BATCH || t == GR_EV_STRING || t == GR_EV_STACK)
				break;
			size_t j = i + 1;
			for (unsigned k = _gr_go122_specs[t].nargs; k > 0; k--) {
				size_t lim = j + 10;
				while (j < lim && (p[j] & 0x80))
					j++;
				j++;
			}
			size_t len = j - i;
			if (j > n || len > s->body_left)
				break;
			s->bytes[t] += len;
			s->count[t]++;
			s->total += len;
			s->body_left -= len;
			i = j;
			if (!s->body_left)
				s->st = S_BATCH_TYPE;
		}
		if (i >= n)
			break;
		unsigned char c = p[i];
		if (s->st == S_LOST) {
			s->lost = true;
			return;
		}
		s->total++;
		if (s->st >= S_TYPE) {
			if (s->body_left == 0) {
				s->st = S_LOST;
				s->lost = true;
				return;
			}
			s->body_left--;
		}
		int type = s->st == S_HEADER ? 0 : s->st <= S_BATCH_HDR ? GR_EV_BATCH : s->cur;
		if (s->st == S_TYPE)
			type = c < GT_RAW_NTYPES ? c : 0;
		s->bytes[type]++;
		switch (s->st) {
		case S_HEADER:
			if (--s->hdr_left == 0)
				s->st = S_BATCH_TYPE;
			break;
		case S_BATCH_TYPE:
			if (c != GR_EV_BATCH) {
				s->st = S_LOST;
				break;
			}
			s->count[GR_EV_BATCH]++;
			s->st = S_BATCH_HDR;
			s->batch_field = 0;
			start_varint(s);
			break;
		case S_BATCH_HDR:
			if (!varint_byte(s, c))
				break;
			if (++s->batch_field == 4) {
				if (s->varint > GR_GO122_MAX_BATCH_SIZE) {
					s->st = S_LOST;
					break;
				}
				s->body_left = s->varint;
				event_done(s);
			}
			start_varint(s);
			break;
		case S_TYPE:
			if (c == 0 || c >= GR_EV_COUNT || c == GR_EV_BATCH) {
				s->st = S_LOST;
				break;
			}
			s->cur = c;
			s->count[c]++;
			s->args_left = _gr_go122_specs[c].nargs;
			start_varint(s);
			if (s->args_left == 0)
				event_done(s);
			else
				s->st = S_ARGS;
			break;
		case S_ARGS:
			if (!varint_byte(s, c))
				break;
			if (--s->args_left == 0)
				args_done(s);
			else
				start_varint(s);
			break;
		case S_STRLEN:
			if (!varint_byte(s, c))
				break;
			if (s->varint > GR_GO122_MAX_STRING_SIZE) {
				s->st = S_LOST;
				break;
			}
			s->tail_left = s->varint;
			if (s->tail_left)
				s->st = S_TAIL;
			else
				event_done(s);
			break;
		case S_TAIL:
			if (--s->tail_left == 0)
				event_done(s);
			break;
		case S_FRAMES:
			if (!varint_byte(s, c))
				break;
			if (--s->frames_left == 0)
				event_done(s);
			else
				start_varint(s);
			break;
		default:
			break;
		}
	}
	if (s->st == S_LOST)
		s->lost = true;
}
