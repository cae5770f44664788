/* The tracer with repeat records (stack ids by token): log events from one
** call site whose frames sit at the same addresses but are reached through
** two callers (also through code without frame pointers), in a changing
** order and across generation boundaries. Every event's stack, read back
** with gort's parser, must name its own caller; the trace must pass Go
** 1.22's validator (when Go is there). A second test reaches a region
** through 256 call paths: stack ids past one byte, each stack its own path. */
#include "testhelper.h"
#include "stacktest.h"
#include "nofp.h"
#include "internal/stack.h"
#include "internal/trace.h"

#include <gort/trace.h>
#include <gort/traceparse.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* emit's frame and the log API's frame are at the same addresses whichever
** way_* called emit: the way_* functions have the same frames and are
** called from one call site (through a pointer). */
NOINLINE void emit(const char *way)
{
	gort_trace_log(0, "rep", way);
	BARRIER();
}
NOINLINE int way_a(int x) { emit("way_a"); BARRIER(); return x + 1; }
NOINLINE int way_b(int x) { emit("way_b"); BARRIER(); return x + 2; }
NOINLINE int way_cb(int x) { emit("way_cb"); BARRIER(); return x + 3; }
NOINLINE int way_na(int x) { int r = nofp_plain(way_cb, x); BARRIER(); return r + 1; }
NOINLINE int way_nb(int x) { int r = nofp_plain(way_cb, x); BARRIER(); return r + 2; }

static int (*const ways[])(int) = { way_a, way_b, way_na, way_nb };
static const char *const way_names[] = { "way_a", "way_b", "way_na", "way_nb" };

NOINLINE int drive(int w, int x)
{
	int r = ways[w](x);    /* one call site for all */
	BARRIER();
	return r;
}

static int order[4000];
static int norder;

static bool str_is(gort_tp_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

void test_stacks_name_their_callers(void)
{
	const char *path = gort_test_path("repeat.trace");
	setenv("GORT_TRACE_STACK_DEPTH", "32", 1);
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	CHECK(gort_trace_start_file(path) == 0);
	gr_stack_stats s0, s1;
	_gr_stack_get_stats(&s0);
	uint32_t rng = 4242;
	norder = 0;
	for (int round = 0; round < 40; round++) {
		rng = rng * 1664525u + 1013904223u;
		int w = (int)(rng >> 30);
		int reps = 1 + (int)((rng >> 20) % 50);
		for (int i = 0; i < reps && norder < 4000; i++) {
			order[norder++] = w;
			drive(w, i);
		}
		if (round % 10 == 9)
			CHECK(_gr_trace_advance_generation() == 0);
	}
	_gr_stack_get_stats(&s1);
	CHECK(gort_trace_stop() == 0);
	CHECKF(s1.repeat_hits - s0.repeat_hits > (uint64_t)norder / 2, "records answered %llu of %d",
	       (unsigned long long)(s1.repeat_hits - s0.repeat_hits), norder);

	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int k = 0, bad = 0, rc;
	while ((rc = gort_tp_next(r, &ev)) == 1) {
		if (ev->kind != GORT_TP_LOG || !str_is(ev->u.log.category, "rep"))
			continue;
		if (k >= norder) {
			bad++;
			break;
		}
		int w = order[k++];
		const gort_tp_stack *st = &ev->stack;
		/* emit, then the way (way_cb, nofp_plain first for the nofp ones),
		** then drive */
		int at = w < 2 ? 1 : 3;
		bool ok = st->nframes > (size_t)at + 1 && str_is(st->frames[0].func, "emit") &&
		          str_is(st->frames[at].func, way_names[w]) && str_is(st->frames[at + 1].func, "drive");
		if (w >= 2)
			ok = ok && str_is(st->frames[1].func, "way_cb") && str_is(st->frames[2].func, "nofp_plain");
		if (!ok && bad++ == 0) {
			fprintf(stderr, "  event %d (%s): stack %llu of %zu frames:\n", k - 1, way_names[w],
			        (unsigned long long)st->id, st->nframes);
			for (size_t i = 0; i < st->nframes; i++)
				fprintf(stderr, "    %.*s\n", (int)st->frames[i].func.len, st->frames[i].func.ptr);
		}
	}
	CHECKF(rc == 0, "parse: %s", gort_tp_error(r));
	gort_tp_close(r);
	close(fd);
	CHECKF(k == norder && bad == 0, "%d of %d log events read, %d with a wrong stack", k, norder, bad);
	char msg[512];
	int v = gort_test_go_validate(path, msg, sizeof msg);
	CHECKF(v == 0 || v == 77, "Go's validator: %s", msg);
}

/* Regions at the bottom of 256 different call paths (8 levels, each
** through bit0 or bit1 by one bit of a number), each path a few times in a
** row: more distinct stacks than one-byte ids (ids past 127 take the fast
** path's long form), repeats answered by records. Every region's stack
** must spell its own number. */
enum { NBITS = 8, NPATHS = 1 << NBITS, PATH_REPS = 3 };
static int region_paths[NPATHS * PATH_REPS * 2];
static int nregion;

NOINLINE int bit0(unsigned v, int n);
NOINLINE int bit1(unsigned v, int n);
NOINLINE static int step(unsigned v, int n)
{
	if (n == 0) {
		gort_trace_region_begin(0, "path");
		gort_trace_region_end(0, "path");
		BARRIER();
		return 1;
	}
	int r = (v & 1) ? bit1(v >> 1, n - 1) : bit0(v >> 1, n - 1);
	BARRIER();
	return r;
}
NOINLINE int bit0(unsigned v, int n) { int r = step(v, n); BARRIER(); return r + 1; }
NOINLINE int bit1(unsigned v, int n) { int r = step(v, n); BARRIER(); return r + 2; }

void test_many_stacks_own_paths(void)
{
	const char *path = gort_test_path("paths.trace");
	setenv("GORT_TRACE_STACK_DEPTH", "32", 1);
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	CHECK(gort_trace_start_file(path) == 0);
	nregion = 0;
	for (unsigned v = 0; v < NPATHS; v++)
		for (int k = 0; k < PATH_REPS; k++) {
			region_paths[nregion++] = (int)v;
			region_paths[nregion++] = (int)v;
			step(v, NBITS);
		}
	CHECK(gort_trace_stop() == 0);

	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int k = 0, bad = 0, rc;
	uint64_t max_id = 0;
	while ((rc = gort_tp_next(r, &ev)) == 1) {
		if ((ev->kind != GORT_TP_REGION_BEGIN && ev->kind != GORT_TP_REGION_END) ||
		    !str_is(ev->u.region.type, "path"))
			continue;
		if (k >= nregion) {
			bad++;
			break;
		}
		unsigned v = (unsigned)region_paths[k++];
		const gort_tp_stack *st = &ev->stack;
		if (st->id > max_id)
			max_id = st->id;
		/* innermost first: step, then bitN of the last bit used, step... */
		bool ok = st->nframes > 2 * NBITS;
		for (int i = 0; ok && i < NBITS; i++) {
			unsigned bit = v >> (NBITS - 1 - i) & 1;
			ok = str_is(st->frames[2 * i].func, "step") &&
			     str_is(st->frames[2 * i + 1].func, bit ? "bit1" : "bit0");
		}
		if (!ok && bad++ == 0)
			fprintf(stderr, "  region %d: path %u, stack %llu of %zu frames\n", k - 1, v,
			        (unsigned long long)st->id, st->nframes);
	}
	CHECKF(rc == 0, "parse: %s", gort_tp_error(r));
	gort_tp_close(r);
	close(fd);
	CHECKF(k == nregion && bad == 0, "%d of %d regions read, %d with a wrong stack", k, nregion, bad);
	CHECKF(max_id >= 128, "stack ids up to %llu: the long form was not exercised", (unsigned long long)max_id);
	char msg[512];
	int v = gort_test_go_validate(path, msg, sizeof msg);
	CHECKF(v == 0 || v == 77, "Go's validator: %s", msg);
}

int main(void)
{
	RUN(test_stacks_name_their_callers);
	RUN(test_many_stacks_own_paths);
	return gort_test_summary();
}
