/*
** tests/flight/flight_testutil.c: see flight_testutil.h.
*/
#include "flight_testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool uv(const unsigned char *p, size_t n, size_t *i, uint64_t *out)
{
	uint64_t x = 0;
	for (int s = 0; s < 70; s += 7) {
		if (*i >= n)
			return false;
		unsigned char c = p[(*i)++];
		x |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80)) {
			*out = x;
			return true;
		}
	}
	return false;
}

/* Header of the batch at *i; *i moves past the batch. */
static bool next_batch(const unsigned char *p, size_t n, size_t *i, uint64_t *gen)
{
	uint64_t m, t, sz;
	if (p[*i] != 0x01)
		return false;
	(*i)++;
	if (!uv(p, n, i, gen) || !uv(p, n, i, &m) || !uv(p, n, i, &t) || !uv(p, n, i, &sz))
		return false;
	if (sz > 65536 || sz > n - *i)
		return false;
	*i += sz;
	return true;
}

ft_shape ft_trace_shape(const unsigned char *p, size_t n)
{
	ft_shape s;
	memset(&s, 0, sizeof s);
	if (n < 16 || memcmp(p, "go 1.22 trace\0\0\0", 16) != 0) {
		snprintf(s.why, sizeof s.why, "bad header (len %zu)", n);
		return s;
	}
	size_t i = 16;
	uint64_t cur = 0;
	while (i < n) {
		size_t at = i;
		uint64_t g;
		if (!next_batch(p, n, &i, &g)) {
			snprintf(s.why, sizeof s.why, "bad batch at offset %zu", at);
			return s;
		}
		s.nbatches++;
		if (g != cur) {
			if (cur && g != cur + 1) {
				snprintf(s.why, sizeof s.why, "gen %llu after %llu",
				         (unsigned long long)g, (unsigned long long)cur);
				return s;
			}
			if (!cur)
				s.first_gen = g;
			cur = g;
			s.ngens++;
		}
	}
	s.last_gen = cur;
	s.ok = s.ngens > 0;
	if (!s.ok)
		snprintf(s.why, sizeof s.why, "no generation");
	return s;
}

bool ft_gen_range(const unsigned char *p, size_t n, uint64_t gen, size_t *off, size_t *len)
{
	size_t i = 16, start = 0;
	bool in = false;
	while (i < n) {
		size_t at = i;
		uint64_t g;
		if (!next_batch(p, n, &i, &g))
			return false;
		if (g == gen && !in) {
			in = true;
			start = at;
		} else if (g != gen && in) {
			*off = start;
			*len = at - start;
			return true;
		}
	}
	if (in) {
		*off = start;
		*len = n - start;
	}
	return in;
}
