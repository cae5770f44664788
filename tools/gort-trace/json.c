/*
** tools/gort-trace/json.c: the streaming JSON writer (see json.h).
*/
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tool is single-threaded: skip stdio's locking on the hot path. */
#define PUTC(ch, f) putc_unlocked((ch), (f))
#define PUTS(s, f) fputs_unlocked((s), (f))

static void put_u64(FILE *f, uint64_t v)
{
	char b[24];
	char *p = b + sizeof b;
	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	fwrite_unlocked(p, 1, (size_t)(b + sizeof b - p), f);
}

static void misuse(const char *what)
{
	fprintf(stderr, "gort-trace: internal error: JSON writer misuse: %s\n", what);
	abort();
}

void gt_json_init(gt_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

static void indent(gt_json *j)
{
	if (!j->pretty)
		return;
	PUTC('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		PUTS("  ", j->f);
}

/* Before any value: comma/indent in arrays, check a key was given in objects. */
static void before_value(gt_json *j)
{
	if (j->depth > 0 && j->is_obj[j->depth]) {
		if (!j->key_done)
			misuse("value without key in object");
		j->key_done = false;
		return;
	}
	if (j->depth == 0 && !j->first[0])
		misuse("two top-level values");
	if (!j->first[j->depth])
		PUTC(',', j->f);
	if (j->depth > 0)
		indent(j);
	j->first[j->depth] = false;
}

static void open(gt_json *j, char c, bool obj)
{
	before_value(j);
	if (j->depth + 1 >= GT_JSON_MAX_DEPTH)
		misuse("nesting too deep");
	PUTC(c, j->f);
	j->depth++;
	j->first[j->depth] = true;
	j->is_obj[j->depth] = obj;
}

void gt_json_obj(gt_json *j) { open(j, '{', true); }
void gt_json_arr(gt_json *j) { open(j, '[', false); }

void gt_json_end(gt_json *j)
{
	if (j->depth == 0 || j->key_done)
		misuse("unbalanced end");
	bool empty = j->first[j->depth];
	char c = j->is_obj[j->depth] ? '}' : ']';
	j->depth--;
	if (!empty)
		indent(j);
	PUTC(c, j->f);
	if (j->depth == 0 && j->pretty)
		PUTC('\n', j->f);
}

static void put_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	PUTC('"', f);
	for (size_t i = 0; i < n;) {
		/* plain run: copy in one call */
		size_t k = i;
		while (k < n && p[k] >= 0x20 && p[k] < 0x80 && p[k] != '"' && p[k] != '\\')
			k++;
		if (k > i) {
			fwrite_unlocked(p + i, 1, k - i, f);
			i = k;
			continue;
		}
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			PUTC('\\', f);
			PUTC(c, f);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': PUTS("\\n", f); break;
			case '\t': PUTS("\\t", f); break;
			case '\r': PUTS("\\r", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			PUTC(c, f);
			i++;
		} else {
			/* Validate one UTF-8 sequence; copy it or write U+FFFD. */
			size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			bool ok = len > 0 && len <= 4 && i + len <= n && c < 0xf5;
			for (size_t q = 1; ok && q < len; q++)
				ok = (p[i + q] & 0xc0) == 0x80;
			if (ok && len == 3) {
				unsigned cp = ((c & 0x0fu) << 12) | ((p[i + 1] & 0x3fu) << 6);
				ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
			}
			if (ok && len == 4) {
				unsigned cp = ((c & 0x07u) << 18) | ((p[i + 1] & 0x3fu) << 12);
				ok = cp >= 0x10000 && cp <= 0x10ffff;
			}
			if (ok) {
				fwrite(p + i, 1, len, f);
				i += len;
			} else {
				PUTS("\\ufffd", f);
				i++;
			}
		}
	}
	PUTC('"', f);
}

void gt_json_key(gt_json *j, const char *k)
{
	if (j->depth == 0 || !j->is_obj[j->depth] || j->key_done)
		misuse("key outside object");
	if (!j->first[j->depth])
		PUTC(',', j->f);
	indent(j);
	j->first[j->depth] = false;
	put_string(j->f, k, strlen(k));
	PUTC(':', j->f);
	if (j->pretty)
		PUTC(' ', j->f);
	j->key_done = true;
}

void gt_json_strn(gt_json *j, const char *s, size_t n)
{
	before_value(j);
	put_string(j->f, s ? s : "", s ? n : 0);
}

void gt_json_str(gt_json *j, const char *s)
{
	gt_json_strn(j, s, s ? strlen(s) : 0);
}

void gt_json_u64(gt_json *j, uint64_t v)
{
	before_value(j);
	put_u64(j->f, v);
}

void gt_json_i64(gt_json *j, int64_t v)
{
	before_value(j);
	if (v < 0) {
		PUTC('-', j->f);
		put_u64(j->f, (uint64_t)0 - (uint64_t)v);
	} else
		put_u64(j->f, (uint64_t)v);
}

void gt_json_dbl(gt_json *j, double v)
{
	before_value(j);
	if (!isfinite(v))
		fputs("null", j->f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(j->f, "%.0f", v);
	else
		fprintf(j->f, "%.17g", v);
}

void gt_json_us(gt_json *j, uint64_t ns)
{
	before_value(j);
	put_u64(j->f, ns / 1000);
	unsigned r = (unsigned)(ns % 1000);
	if (r) {
		char b[4] = { '.', (char)('0' + r / 100), (char)('0' + r / 10 % 10), (char)('0' + r % 10) };
		fwrite_unlocked(b, 1, 4, j->f);
	}
}

void gt_json_bool(gt_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void gt_json_null(gt_json *j)
{
	before_value(j);
	fputs("null", j->f);
}

void gt_json_kstr(gt_json *j, const char *k, const char *s) { gt_json_key(j, k); gt_json_str(j, s); }
void gt_json_ku64(gt_json *j, const char *k, uint64_t v) { gt_json_key(j, k); gt_json_u64(j, v); }
void gt_json_ki64(gt_json *j, const char *k, int64_t v) { gt_json_key(j, k); gt_json_i64(j, v); }
void gt_json_kdbl(gt_json *j, const char *k, double v) { gt_json_key(j, k); gt_json_dbl(j, v); }
