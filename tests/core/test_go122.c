/* The shared Go 1.22 event table agrees with Go's: codes, names, argument
** counts, and the positions of string and stack arguments (checked by the
** argument names, which Go derives the same way). */
#include "testhelper.h"
#include "internal/go122.h"

#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_table_consistent(void)
{
	CHECK(_gr_go122_specs[0].name == NULL);
	for (unsigned c = 1; c < GR_EV_COUNT; c++) {
		const gr_go122_spec *s = &_gr_go122_specs[c];
		CHECKF(s->name != NULL, "code %u has no name", c);
		if (!s->name)
			continue;
		if (_gr_go122_is_timed(c))
			CHECKF(s->nargs >= 1 && strcmp(s->arg_names[0], "dt") == 0, "%s: dt first", s->name);
		for (unsigned i = 0; i < GR_GO122_MAX_ARGS; i++) {
			const char *a = s->arg_names[i];
			CHECKF((i < s->nargs) == (a != NULL), "%s: arg %u presence", s->name, i);
			if (!a)
				continue;
			bool is_str = ends_with(a, "_string");
			bool is_stack = ends_with(a, "stack");
			CHECKF(is_str == !!(s->string_args & (1u << i)), "%s: %s string mask", s->name, a);
			CHECKF(is_stack == !!(s->stack_args & (1u << i)), "%s: %s stack mask", s->name, a);
		}
	}
}

static void test_known_codes(void)
{
	CHECK(GR_EV_BATCH == 1 && GR_EV_FREQUENCY == 8 && GR_EV_PROCS_CHANGE == 9);
	CHECK(GR_EV_GO_CREATE == 14 && GR_EV_GO_STATUS == 25 && GR_EV_HEAP_ALLOC == 37);
	CHECK(GR_EV_USER_LOG == 44);
	CHECK(strcmp(_gr_go122_specs[GR_EV_USER_LOG].arg_names[3], "value_string") == 0);
	CHECK(memcmp(GR_GO122_HEADER, "go 1.22 trace\0\0\0", GR_GO122_HEADER_LEN) == 0);
	CHECK(!_gr_go122_is_timed(GR_EV_FREQUENCY) && _gr_go122_is_timed(GR_EV_PROCS_CHANGE));
}

int main(void)
{
	RUN(test_table_consistent);
	RUN(test_known_codes);
	return gort_test_summary();
}
