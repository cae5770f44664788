/*
** tools/gort-trace/rawscan.h: bytes per wire event type, counted on the fly.
**
** An incremental scanner over the raw bytes of a Go 1.22 trace (fed in
** arbitrary chunks, e.g. by the input tee) that attributes every byte to an
** event type: batch headers to EventBatch, each event's type byte, arguments
** and tail (string bytes, stack frames) to its type, the file header to
** type 0. It does no validation: on bytes it cannot make sense of it stops
** counting and sets 'lost' (the parser reports the real error).
*/
#ifndef GT_RAWSCAN_H
#define GT_RAWSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GT_RAW_NTYPES 64

typedef struct gt_rawscan {
	uint64_t bytes[GT_RAW_NTYPES];   /* [0] = file header */
	uint64_t count[GT_RAW_NTYPES];   /* events (records) per type, incl. batches */
	uint64_t total;
	bool lost;
	/* scanner state */
	int st;
	uint64_t hdr_left;
	uint64_t body_left;       /* bytes left in the current batch body */
	int cur;                  /* type being read */
	int args_left;            /* uvarints left for cur */
	uint64_t varint;          /* value being decoded */
	int vshift;
	int batch_field;          /* 0..3: gen, m, time, size */
	uint64_t tail_left;       /* string bytes left */
	uint64_t frames_left;     /* stack frame uvarints left */
	int arg_index;
} gt_rawscan;

void gt_rawscan_init(gt_rawscan *s);
void gt_rawscan_feed(void *ctx, const unsigned char *p, size_t n);

#endif
