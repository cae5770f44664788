/*
** tools/gort-trace/util.c: error reporting, allocation, string interner,
** hash map, byte buffer and durations for gort-trace (see gt.h).
**
** Invariants: interned strings never move or change until gt_strtab_free;
** the map keeps its load factor under 1/2 (so probing ends at an empty slot).
*/
#include "gt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void gt_err(const char *cmd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* one line, whatever the message holds */
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	if (cmd)
		fprintf(stderr, GT_PROG ": %s: %s\n", cmd, msg);
	else
		fprintf(stderr, GT_PROG ": %s\n", msg);
}

static void oom(void)
{
	fputs(GT_PROG ": out of memory\n", stderr);
	exit(2);
}

void *gt_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *gt_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *gt_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void gt_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 8;
	while (c < need) {
		if (c > SIZE_MAX / 2 / elem)
			oom();
		c *= 2;
	}
	*p = gt_xrealloc(*p, c * elem);
	*cap = c;
}

/* ---- interner --------------------------------------------------------------- */

static const char *intern_slow(gt_strtab *t, const char *p, size_t n);

static uint64_t hash_bytes(const void *p, size_t n)
{
	/* FNV-1a, 64-bit */
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

void gt_strtab_init(gt_strtab *t)
{
	memset(t, 0, sizeof *t);
}

void gt_strtab_free(gt_strtab *t)
{
	void *c = t->chunks;
	while (c) {
		void *next = *(void **)c;
		free(c);
		c = next;
	}
	free(t->slots);
	memset(t, 0, sizeof *t);
}

static char *strtab_alloc(gt_strtab *t, size_t n)
{
	if (n > t->chunk_left) {
		size_t sz = n + sizeof(void *) > 65536 ? n + sizeof(void *) : 65536;
		char *c = gt_xmalloc(sz);
		*(void **)c = t->chunks;
		t->chunks = c;
		t->chunk = c + sizeof(void *);
		t->chunk_left = sz - sizeof(void *);
	}
	char *p = t->chunk;
	t->chunk += n;
	t->chunk_left -= n;
	return p;
}

static void strtab_rehash(gt_strtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 256;
	const char **ns = gt_xcalloc(ncap, sizeof *ns);
	for (size_t i = 0; i < t->cap; i++) {
		const char *s = t->slots[i];
		if (!s)
			continue;
		size_t j = hash_bytes(s, strlen(s)) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = s;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

const char *gt_intern(gt_strtab *t, const char *p, size_t n)
{
	size_t slot = (((uintptr_t)p >> 3) ^ n) & 63;
	if (t->cache[slot].src == p && t->cache[slot].len == n && memcmp(t->cache[slot].s, p, n) == 0 &&
	    t->cache[slot].s[n] == 0)
		return t->cache[slot].s;
	const char *r = intern_slow(t, p, n);
	t->cache[slot].src = p;
	t->cache[slot].len = n;
	t->cache[slot].s = r;
	return r;
}

static const char *intern_slow(gt_strtab *t, const char *p, size_t n)
{
	if ((t->len + 1) * 2 > t->cap)
		strtab_rehash(t);
	/* Strings with an embedded NUL are cut there (they print that way anyway). */
	const char *nul = memchr(p, 0, n);
	if (nul)
		n = (size_t)(nul - p);
	size_t j = hash_bytes(p, n) & (t->cap - 1);
	for (const char *s; (s = t->slots[j]) != NULL; j = (j + 1) & (t->cap - 1))
		if (strncmp(s, p, n) == 0 && s[n] == 0)
			return s;
	char *s = strtab_alloc(t, n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	t->slots[j] = s;
	t->len++;
	return s;
}

/* ---- map ------------------------------------------------------------------------ */

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

void gt_map_init(gt_map *m)
{
	memset(m, 0, sizeof *m);
}

void gt_map_free(gt_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

void gt_map_clear(gt_map *m)
{
	if (m->cap)
		memset(m->keys, 0xff, m->cap * sizeof *m->keys);
	m->len = 0;
}

uint64_t *gt_map_get(const gt_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	size_t j = hash_u64(key) & (m->cap - 1);
	for (;; j = (j + 1) & (m->cap - 1)) {
		if (m->keys[j] == key)
			return &m->vals[j];
		if (m->keys[j] == UINT64_MAX)
			return NULL;
	}
}

static void map_rehash(gt_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	uint64_t *nk = gt_xmalloc(ncap * sizeof *nk), *nv = gt_xmalloc(ncap * sizeof *nv);
	memset(nk, 0xff, ncap * sizeof *nk);
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == UINT64_MAX)
			continue;
		size_t j = hash_u64(m->keys[i]) & (ncap - 1);
		while (nk[j] != UINT64_MAX)
			j = (j + 1) & (ncap - 1);
		nk[j] = m->keys[i];
		nv[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
	m->cap = ncap;
}

uint64_t *gt_map_put(gt_map *m, uint64_t key, uint64_t dflt, bool *inserted)
{
	if (key == UINT64_MAX) {
		fputs(GT_PROG ": internal error: reserved map key\n", stderr);
		abort();
	}
	if ((m->len + 1) * 2 > m->cap)
		map_rehash(m);
	size_t j = hash_u64(key) & (m->cap - 1);
	for (;; j = (j + 1) & (m->cap - 1)) {
		if (m->keys[j] == key) {
			if (inserted)
				*inserted = false;
			return &m->vals[j];
		}
		if (m->keys[j] == UINT64_MAX)
			break;
	}
	m->keys[j] = key;
	m->vals[j] = dflt;
	m->len++;
	if (inserted)
		*inserted = true;
	return &m->vals[j];
}

/* ---- buffer ------------------------------------------------------------------- */

void gt_buf_put(gt_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap)
		GT_GROW(b->p, b->cap, b->len + n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void gt_buf_free(gt_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* ---- durations ----------------------------------------------------------------- */

int gt_parse_duration(const char *s, uint64_t *ns)
{
	if (!s || !*s)
		return -1;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -1;
	double mult;
	if (!*end || strcmp(end, "ns") == 0)
		mult = 1;
	else if (strcmp(end, "us") == 0 || strcmp(end, "µs") == 0)
		mult = 1e3;
	else if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "s") == 0)
		mult = 1e9;
	else if (strcmp(end, "m") == 0)
		mult = 60e9;
	else
		return -1;
	double r = v * mult;
	if (r >= 1.8e19)
		return -1;
	*ns = (uint64_t)(r + 0.5);
	return 0;
}

const char *gt_fmt_dur(uint64_t ns, char *buf, size_t cap)
{
	if (ns < 1000)
		snprintf(buf, cap, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, cap, "%.3gus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, cap, "%.4gms", ns / 1e6);
	else
		snprintf(buf, cap, "%.4gs", ns / 1e9);
	return buf;
}

void gt_fput_escaped(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '"')
			fprintf(f, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			fputc(c, f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else
			fprintf(f, "\\x%02x", c);
	}
}

bool gt_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}
