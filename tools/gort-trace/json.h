/*
** tools/gort-trace/json.h: a streaming JSON writer.
**
** Writes compact, valid JSON to a FILE: the writer tracks nesting and
** inserts commas; strings are escaped (control bytes as \u00XX, invalid
** UTF-8 bytes replaced by U+FFFD so the output is always valid UTF-8).
** Misuse (a value where a key is due, unbalanced end) is a bug in the tool:
** it aborts with a message naming the misuse.
*/
#ifndef GT_JSON_H
#define GT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GT_JSON_MAX_DEPTH 32

typedef struct gt_json {
	FILE *f;
	int depth;
	bool first[GT_JSON_MAX_DEPTH];     /* no element written yet at this level */
	bool is_obj[GT_JSON_MAX_DEPTH];
	bool key_done;                     /* in an object: key written, value due */
	bool pretty;                       /* newline + indent per element */
} gt_json;

void gt_json_init(gt_json *j, FILE *f, bool pretty);
void gt_json_obj(gt_json *j);            /* { */
void gt_json_arr(gt_json *j);            /* [ */
void gt_json_end(gt_json *j);            /* } or ] */
void gt_json_key(gt_json *j, const char *k);
void gt_json_strn(gt_json *j, const char *s, size_t n);
void gt_json_str(gt_json *j, const char *s);
void gt_json_u64(gt_json *j, uint64_t v);
void gt_json_i64(gt_json *j, int64_t v);
void gt_json_dbl(gt_json *j, double v);  /* non-finite values become null */
/* ns as microseconds with 3 decimals (exact; Chrome trace "ts"/"dur") */
void gt_json_us(gt_json *j, uint64_t ns);
void gt_json_bool(gt_json *j, bool v);
void gt_json_null(gt_json *j);
/* key + value shorthands */
void gt_json_kstr(gt_json *j, const char *k, const char *s);
void gt_json_ku64(gt_json *j, const char *k, uint64_t v);
void gt_json_ki64(gt_json *j, const char *k, int64_t v);
void gt_json_kdbl(gt_json *j, const char *k, double v);

#endif
