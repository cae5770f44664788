/*
** tools/gort-trace/stats.h: the aggregation behind `gort-trace stats`.
**
** Feed the ordered events (gt_stats_event), then gt_stats_finish, then print
** as text or JSON. Kept apart from the command so tests can feed synthetic
** event sequences. Memory: per goroutine, per region/task type, per log
** category, per distinct blocking stack, plus one 8-byte latency per
** completed region and task (for exact percentiles).
*/
#ifndef GT_STATS_H
#define GT_STATS_H

#include "gt.h"
#include "rawscan.h"

typedef struct gt_stats gt_stats;

gt_stats *gt_stats_new(void);
void gt_stats_free(gt_stats *s);
void gt_stats_event(gt_stats *s, const gort_tp_event *ev);
void gt_stats_finish(gt_stats *s);
/* The raw byte scanner to feed (gt_rawscan_feed) with the input's bytes. */
gt_rawscan *gt_stats_raw(gt_stats *s);
/* top: rows shown in the long tables (goroutines, call sites); 0 = all. */
void gt_stats_print_text(gt_stats *s, FILE *f, size_t top);
void gt_stats_print_json(gt_stats *s, FILE *f);

/* Nearest-rank percentile p (0..100) of sorted v[0..n); 0 if n == 0. */
uint64_t gt_percentile(const uint64_t *v, size_t n, double p);

#endif
