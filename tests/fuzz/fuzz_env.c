/*
** tests/fuzz/fuzz_env.c: libFuzzer target for the parsers of gort's
** environment variables (src/core/env.c): sizes ("64M"), durations
** ("250ms") and path patterns ("trace-%p.out"). They read what a user
** typed; on any input they must return a value or -EINVAL (never crash,
** never read past the string's NUL, never write past the output buffer),
** and a path expansion must fit the capacity it is given or say it does not.
*/
#include "internal/env.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 4096)
		return 0;
	char *s = malloc(size);   /* exactly the input and its NUL: ASan sees any overread */
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	uint64_t v = 0;
	int r = _gr_parse_size(s, &v);
	if (r != 0 && r != -EINVAL)
		abort();
	r = _gr_parse_duration_ns(s, &v);
	if (r != 0 && r != -EINVAL)
		abort();
	size_t cap = 1 + data[0] % 64;   /* small capacities: the overflow paths */
	char *out = malloc(cap);
	if (out) {
		bool has_pid = false;
		r = _gr_expand_path(s, out, cap, &has_pid);
		if (r == 0 && strnlen(out, cap) == cap)
			abort();   /* "fits" but not NUL-terminated inside cap */
		if (r != 0 && r != -ENAMETOOLONG)
			abort();
		free(out);
	}
	free(s);
	return 0;
}
