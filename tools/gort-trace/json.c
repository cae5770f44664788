/*
** tools/gort-trace/json.c: the streaming JSON writer (see json.h).
*/
#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
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
		fputc(',', j->f);
	if (j->depth > 0)
		indent(j);
	j->first[j->depth] = false;
}

static void open(gt_json *j, char c, bool obj)
{
	before_value(j);
	if (j->depth + 1 >= GT_JSON_MAX_DEPTH)
		misuse("nesting too deep");
	fputc(c, j->f);
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
	fputc(c, j->f);
	if (j->depth == 0 && j->pretty)
		fputc('\n', j->f);
}

static void put_string(FILE *f, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20) {
			switch (c) {
			case '\n': fputs("\\n", f); break;
			case '\t': fputs("\\t", f); break;
			case '\r': fputs("\\r", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			/* Validate one UTF-8 sequence; copy it or write U+FFFD. */
			size_t len = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			bool ok = len > 0 && len <= 4 && i + len <= n && c < 0xf5;
			for (size_t k = 1; ok && k < len; k++)
				ok = (p[i + k] & 0xc0) == 0x80;
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
				fputs("\\ufffd", f);
				i++;
			}
		}
	}
	fputc('"', f);
}

void gt_json_key(gt_json *j, const char *k)
{
	if (j->depth == 0 || !j->is_obj[j->depth] || j->key_done)
		misuse("key outside object");
	if (!j->first[j->depth])
		fputc(',', j->f);
	indent(j);
	j->first[j->depth] = false;
	put_string(j->f, k, strlen(k));
	fputc(':', j->f);
	if (j->pretty)
		fputc(' ', j->f);
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
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void gt_json_i64(gt_json *j, int64_t v)
{
	before_value(j);
	fprintf(j->f, "%lld", (long long)v);
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
	if (ns % 1000)
		fprintf(j->f, "%llu.%03u", (unsigned long long)(ns / 1000), (unsigned)(ns % 1000));
	else
		fprintf(j->f, "%llu", (unsigned long long)(ns / 1000));
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
