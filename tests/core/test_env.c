/* Tests for src/core/env.c: the spelling of sizes, durations and booleans. */
#include "testhelper.h"
#include "internal/env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_sizes(void)
{
	uint64_t v = 0;
	CHECK(_gr_parse_size("4096", &v) == 0 && v == 4096);
	CHECK(_gr_parse_size("64K", &v) == 0 && v == 64 * 1024);
	CHECK(_gr_parse_size("64M", &v) == 0 && v == 64ull << 20);
	CHECK(_gr_parse_size("64MiB", &v) == 0 && v == 64ull << 20);
	CHECK(_gr_parse_size("1T", &v) == 0 && v == 1ull << 40);
	CHECK(_gr_parse_size("1.5G", &v) == 0 && v == 3ull << 29);
	v = 7;
	CHECK(_gr_parse_size("", &v) == -EINVAL && v == 7);
	CHECK(_gr_parse_size("12Q", &v) == -EINVAL && v == 7);
	CHECK(_gr_parse_size("-1", &v) == -EINVAL && v == 7);
	CHECK(_gr_parse_size("M", &v) == -EINVAL && v == 7);
	CHECK(_gr_parse_size("99999999999T", &v) == -EINVAL && v == 7);
}

static void test_durations(void)
{
	uint64_t v = 0;
	CHECK(_gr_parse_duration_ns("10s", &v) == 0 && v == 10000000000ull);
	CHECK(_gr_parse_duration_ns("10", &v) == 0 && v == 10000000000ull);
	CHECK(_gr_parse_duration_ns("250ms", &v) == 0 && v == 250000000ull);
	CHECK(_gr_parse_duration_ns("500us", &v) == 0 && v == 500000ull);
	CHECK(_gr_parse_duration_ns("2m", &v) == 0 && v == 120000000000ull);
	v = 3;
	CHECK(_gr_parse_duration_ns("5 s", &v) == -EINVAL && v == 3);
	CHECK(_gr_parse_duration_ns("s", &v) == -EINVAL && v == 3);
}

static void test_env(void)
{
	uint64_t v = 0;
	unsetenv("GORT_TEST_X");
	CHECK(_gr_env_size("GORT_TEST_X", &v) == -ENOENT);
	CHECK(_gr_env_bool("GORT_TEST_X", true) == true);
	CHECK(_gr_env_int("GORT_TEST_X", 42) == 42);
	setenv("GORT_TEST_X", "off", 1);
	CHECK(_gr_env_bool("GORT_TEST_X", true) == false);
	setenv("GORT_TEST_X", "maybe", 1);
	CHECK(_gr_env_bool("GORT_TEST_X", true) == true);
	CHECK(_gr_env_int("GORT_TEST_X", 42) == 42);
	setenv("GORT_TEST_X", "32", 1);
	CHECK(_gr_env_int("GORT_TEST_X", 42) == 32);
	CHECK(_gr_env_size("GORT_TEST_X", &v) == 0 && v == 32);
}

static void test_expand_path(void)
{
	char out[64], want[64];
	bool has_pid = true;
	CHECK(_gr_expand_path("plain.trace", out, sizeof out, &has_pid) == 0);
	CHECK(strcmp(out, "plain.trace") == 0 && !has_pid);
	snprintf(want, sizeof want, "t.%d.trace", (int)getpid());
	CHECK(_gr_expand_path("t.%p.trace", out, sizeof out, &has_pid) == 0);
	CHECK(strcmp(out, want) == 0 && has_pid);
	CHECK(_gr_expand_path("100%%", out, sizeof out, NULL) == 0 && strcmp(out, "100%") == 0);
	CHECK(_gr_expand_path("abcdef", out, 6, NULL) == -ENAMETOOLONG);
	CHECK(_gr_expand_path("abcde", out, 6, NULL) == 0 && strcmp(out, "abcde") == 0);
}

int main(void)
{
	RUN(test_expand_path);
	RUN(test_sizes);
	RUN(test_durations);
	RUN(test_env);
	return gort_test_summary();
}
