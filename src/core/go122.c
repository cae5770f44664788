/*
** src/core/go122.c: the Go 1.22 event table (see src/internal/go122.h).
** Read-only data; safe from any thread.
*/
#include "internal/go122.h"

const gr_go122_spec _gr_go122_specs[GR_EV_COUNT] = {
#define GR_GO122_SPEC(code, e, nm, na, sa, ka, ...) \
	[code] = { .name = nm, .nargs = na, .string_args = sa, .stack_args = ka, .arg_names = { __VA_ARGS__ } },
	GR_GO122_EVENTS(GR_GO122_SPEC)
#undef GR_GO122_SPEC
};
