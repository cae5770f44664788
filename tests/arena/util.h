/*
** tests/arena/util.h: small helpers shared by the arena tests.
*/
#ifndef GORT_TEST_ARENA_UTIL_H
#define GORT_TEST_ARENA_UTIL_H

#include <gort/arena.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static inline uintptr_t chunk_of(const void *p)
{
	return (uintptr_t)p & ~(uintptr_t)(GORT_ARENA_CHUNK_SIZE - 1);
}

#endif
