/*
** tools/gort-trace/pprof.h: pprof profiles (profile.proto) from trace stacks.
**
** gt_pprof aggregates samples by (stack, label) over the stable stacks of a
** gt_stacks table, then encodes the Profile message: one Location per
** distinct frame (address = pc, one Line), one Function per (name, file),
** one Mapping with has_functions set (so pprof does not try to symbolize),
** a string table starting with "". gt_pprof_write_gz writes it
** gzip-compressed, as `go tool pprof` expects (needs zlib: GT_HAVE_ZLIB).
*/
#ifndef GT_PPROF_H
#define GT_PPROF_H

#include "gt.h"
#include "stacks.h"

#define GT_PPROF_MAX_VALUES 4

typedef struct gt_pprof gt_pprof;

/* types/units: nvalues pairs such as {"contentions","count"},{"delay","nanoseconds"}. */
gt_pprof *gt_pprof_new(const gt_stacks *stacks, int nvalues, const char *const types[][2],
		       const char *period_type, const char *period_unit, int64_t period);
void gt_pprof_free(gt_pprof *p);
/* Add values (nvalues of them) to the sample for (stack, label).
** label_key/label_val may be NULL (no label); strings must outlive p. */
void gt_pprof_add(gt_pprof *p, uint32_t stack, const int64_t *values,
		  const char *label_key, const char *label_val);
void gt_pprof_set_time(gt_pprof *p, int64_t time_ns, int64_t duration_ns);
size_t gt_pprof_nsamples(const gt_pprof *p);
/* Encode the Profile message (uncompressed) into out. */
void gt_pprof_encode(gt_pprof *p, gt_buf *out);
/* gzip data into path. 0, or -errno (-ENOTSUP without zlib). */
int gt_pprof_write_gz(const gt_buf *data, const char *path);

/* ---- protobuf primitives (pprof_enc.c) ---- */
void gt_pb_varint(gt_buf *b, uint64_t v);
void gt_pb_key(gt_buf *b, unsigned field, unsigned wiretype);
void gt_pb_uint(gt_buf *b, unsigned field, uint64_t v);        /* skipped if 0 */
void gt_pb_bytes(gt_buf *b, unsigned field, const void *p, size_t n);
void gt_pb_packed(gt_buf *b, unsigned field, const uint64_t *v, size_t n);

#endif
