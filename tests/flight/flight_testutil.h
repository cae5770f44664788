/*
** tests/flight/flight_testutil.h: helpers shared by the flight recorder tests:
** read a file, walk a Go 1.22 trace's batch structure (header, batches,
** generation numbers), find marker strings.
*/
#ifndef GORT_FLIGHT_TESTUTIL_H
#define GORT_FLIGHT_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


typedef struct ft_shape {
	bool ok;                 /* header right, batches well formed, gens consecutive */
	uint64_t first_gen, last_gen, ngens, nbatches;
	char why[128];
} ft_shape;
/* Check the batch structure of a trace (not its semantics: that is Go's job). */
ft_shape ft_trace_shape(const unsigned char *p, size_t n);

/* Byte range [*off, *off + *len) of generation gen's batches in a trace whose
** batches are grouped by generation. Returns false if absent. */
bool ft_gen_range(const unsigned char *p, size_t n, uint64_t gen, size_t *off, size_t *len);

#endif
