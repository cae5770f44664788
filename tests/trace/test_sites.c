/*
** tests/trace/test_sites.c: call sites. The header's macros send a region,
** log or block call whose strings are literals to an entry that keeps the
** strings' ids of the current generation in a word of that call site. Every
** site must name its own literals in every generation:
**  - 64 region, 64 log (category and message) and 16 block call sites, 208
**    strings: more than fit a one-byte id, so some sites never hold ids;
**  - run in a different order in each of six generations, so that a
**    literal's id changes from one generation to the next and a word left
**    from an earlier generation would name another string; each site twice
**    per round (the second call uses the word the first one filled);
**  - next to calls with a variable string and a writable buffer whose text
**    changes (the general path), the scoped-region forms and literal calls
**    in an inline definition;
**  - and from two threads at once over the same sites (racing stores).
** The trace is read back with gort's parser and checked by Go's validator.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>

#include <gort/trace.h>
#include <gort/traceparse.h>
#include "internal/trace.h"
#include "testhelper.h"
#include "trace_util.h"

/* 64 call sites: X(00) .. X(77), octal digits */
#define D8(X, a) X(a##0) X(a##1) X(a##2) X(a##3) X(a##4) X(a##5) X(a##6) X(a##7)
#define D64(X) D8(X, 0) D8(X, 1) D8(X, 2) D8(X, 3) D8(X, 4) D8(X, 5) D8(X, 6) D8(X, 7)
#define D16(X) D8(X, 0) D8(X, 1)

#define REGION_CASE(n)                                            \
	case 0##n:                                                \
		gort_trace_region_begin(task, "region-" #n);       \
		gort_trace_region_end(task, "region-" #n);         \
		break;
#define LOG_CASE(n)                                               \
	case 0##n:                                                \
		gort_trace_log(task, "cat-" #n, "msg-" #n);        \
		break;
#define BLOCK_CASE(n)                                             \
	case 0##n:                                                \
		gort_trace_block_begin("reason-" #n);              \
		gort_trace_block_end();                            \
		break;

static void region_site(int i, uint64_t task)
{
	switch (i) { D64(REGION_CASE) }
}

static void log_site(int i, uint64_t task)
{
	switch (i) { D64(LOG_CASE) }
}

static void block_site(int i)
{
	switch (i) { D16(BLOCK_CASE) }
}

/* Literal calls in an inline definition (C99 inline, no external
** definition here): the sites are no C objects, so this is valid C and
** compiles without a warning. */
__attribute__((always_inline)) inline void sites_inline(uint64_t task)
{
	gort_trace_region_begin(task, "inline-region");
	gort_trace_region_end(task, "inline-region");
}

/* ---- the expected sequence (one thread) ---- */
enum { ROUNDS = 6, MAXEXP = 4096 };
enum { E_BEGIN, E_END, E_LOG, E_BLOCK };
typedef struct expect {
	int kind;
	char a[32], b[32];
} expect;
static expect exp_ev[MAXEXP];
static int n_exp;

static void want(int kind, const char *a, const char *b)
{
	CHECK(n_exp < MAXEXP);
	expect *e = &exp_ev[n_exp++];
	e->kind = kind;
	snprintf(e->a, sizeof e->a, "%s", a);
	snprintf(e->b, sizeof e->b, "%s", b);
}

/* One round: every site twice, in an order that depends on the round. */
static void round_of_sites(int round)
{
	char a[32], b[32];
	for (int j = 0; j < 64; j++) {
		int i = (j * 5 + round * 13) % 64;
		for (int k = 0; k < 2; k++) {
			region_site(i, (uint64_t)round);
			snprintf(a, sizeof a, "region-%02o", i);
			want(E_BEGIN, a, "");
			want(E_END, a, "");
			log_site(i, (uint64_t)round);
			snprintf(a, sizeof a, "cat-%02o", i);
			snprintf(b, sizeof b, "msg-%02o", i);
			want(E_LOG, a, b);
			block_site(i % 16);
			snprintf(a, sizeof a, "reason-%02o", i % 16);
			want(E_BLOCK, a, "");
		}
		if (j % 32 == 0) {   /* the scoped forms and the inline function */
			{
				GORT_TRACE_SCOPED_REGION(1, "scoped");
				gort_trace_log(1, "in", "scope");
			}
			GORT_TRACE_REGION(2, "for-loop") {
				gort_trace_block_begin("in-loop");
				gort_trace_block_end();
			}
			sites_inline(3);
			want(E_BEGIN, "scoped", "");
			want(E_LOG, "in", "scope");
			want(E_END, "scoped", "");
			want(E_BEGIN, "for-loop", "");
			want(E_BLOCK, "in-loop", "");
			want(E_END, "for-loop", "");
			want(E_BEGIN, "inline-region", "");
			want(E_END, "inline-region", "");
		}
		if (j % 16 == 0) {   /* the general path in between */
			const char *var = (j / 16) % 2 ? "region-07" : "variable";
			gort_trace_region_begin(0, var);
			gort_trace_region_end(0, var);
			want(E_BEGIN, var, "");
			want(E_END, var, "");
			snprintf(a, sizeof a, "buffer-%d-%d", round, j);
			gort_trace_log(0, a, a);
			want(E_LOG, a, a);
		}
	}
}

static bool str_is(gort_tp_str s, const char *want_text)
{
	return s.len == strlen(want_text) && memcmp(s.ptr, want_text, s.len) == 0;
}

static void check_sequence(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc, k = 0;
	while (r && (rc = gort_tp_next(r, &ev)) > 0) {
		int kind = -1;
		gort_tp_str a = { 0 }, b = { 0 };
		if (ev->kind == GORT_TP_REGION_BEGIN || ev->kind == GORT_TP_REGION_END) {
			kind = ev->kind == GORT_TP_REGION_BEGIN ? E_BEGIN : E_END;
			a = ev->u.region.type;
		} else if (ev->kind == GORT_TP_LOG) {
			kind = E_LOG;
			a = ev->u.log.category;
			b = ev->u.log.message;
		} else if (ev->kind == GORT_TP_STATE_TRANSITION && ev->u.transition.resource == GORT_TP_RES_GOROUTINE &&
		           ev->u.transition.to == GORT_TP_G_WAITING) {
			kind = E_BLOCK;
			a = ev->u.transition.reason;
		}
		if (kind < 0)
			continue;
		bool more = k < n_exp;
		CHECKF(more, "more annotations than emitted (%d)", n_exp);
		if (!more)
			break;
		const expect *e = &exp_ev[k];
		bool ok = kind == e->kind && str_is(a, e->a) && (kind != E_LOG || str_is(b, e->b));
		CHECKF(ok, "annotation %d (generation %llu): kind %d \"%.*s\" \"%.*s\", want kind %d \"%s\" \"%s\"", k,
		            (unsigned long long)ev->generation, kind, (int)a.len, a.ptr ? a.ptr : "", (int)b.len,
		            b.ptr ? b.ptr : "", e->kind, e->a, e->b);
		if (!ok)
			break;
		k++;
	}
	CHECKF(r && rc == 0, "parse: %s", r ? gort_tp_error(r) : "no reader");
	CHECKF(k == n_exp, "%d annotations read, %d emitted", k, n_exp);
	gort_tp_close(r);
	close(fd);
}

static void test_sites_one_thread(void)
{
	setenv("GORT_TRACE_STACK_DEPTH", "0", 1);   /* the site entries' fast path needs stacks off */
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	const char *path = gort_test_path("sites.trace");
	CHECK(gort_trace_start_file(path) == 0);
	n_exp = 0;
	for (int round = 0; round < ROUNDS; round++) {
		round_of_sites(round);
		CHECK(_gr_trace_advance_generation() == 0);
	}
	CHECK(gort_trace_stop() == 0);
	check_sequence(path);
	tu_validate(path);
}

/* ---- two threads over the same sites ---- */
static void *sites_thread(void *arg)
{
	int seed = (int)(intptr_t)arg;
	for (int round = 0; round < ROUNDS; round++)
		for (int j = 0; j < 64; j++) {
			int i = (j * 7 + round * 11 + seed * 29) % 64;
			region_site(i, 0);
			log_site(i, 0);
			block_site(i % 16);
		}
	return NULL;
}

/* Every region end names the site of the begin just before it on its
** goroutine, and every log's category and message carry one number. */
static void check_pairs(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc, regions = 0, logs = 0;
	char open_type[2][32] = { "", "" };
	int64_t gs[2] = { -1, -1 };
	while (r && (rc = gort_tp_next(r, &ev)) > 0) {
		if (ev->kind == GORT_TP_REGION_BEGIN || ev->kind == GORT_TP_REGION_END) {
			int slot = gs[0] == ev->goroutine ? 0 : gs[1] == ev->goroutine ? 1 : gs[0] < 0 ? 0 : 1;
			gs[slot] = ev->goroutine;
			gort_tp_str t = ev->u.region.type;
			bool ok = t.len == 9 && memcmp(t.ptr, "region-", 7) == 0;
			CHECKF(ok, "region type \"%.*s\"", (int)t.len, t.ptr ? t.ptr : "");
			if (!ok)
				break;
			if (ev->kind == GORT_TP_REGION_BEGIN) {
				memcpy(open_type[slot], t.ptr, 9);
				open_type[slot][9] = 0;
			} else {
				bool same = str_is(t, open_type[slot]);
				CHECKF(same, "region end \"%.*s\" after begin \"%s\"", (int)t.len, t.ptr, open_type[slot]);
				if (!same)
					break;
				regions++;
			}
		} else if (ev->kind == GORT_TP_LOG) {
			gort_tp_str c = ev->u.log.category, m = ev->u.log.message;
			bool ok = c.len == 6 && m.len == 6 && memcmp(c.ptr, "cat-", 4) == 0 &&
			                    memcmp(m.ptr, "msg-", 4) == 0 && memcmp(c.ptr + 4, m.ptr + 4, 2) == 0;
			CHECKF(ok, "log \"%.*s\" \"%.*s\"", (int)c.len, c.ptr ? c.ptr : "", (int)m.len, m.ptr ? m.ptr : "");
			if (!ok)
				break;
			logs++;
		}
	}
	CHECKF(r && rc == 0, "parse: %s", r ? gort_tp_error(r) : "no reader");
	CHECKF(regions == 2 * ROUNDS * 64 && logs == 2 * ROUNDS * 64, "%d regions, %d logs", regions, logs);
	gort_tp_close(r);
	close(fd);
}

static void test_sites_two_threads(void)
{
	setenv("GORT_TRACE_STACK_DEPTH", "0", 1);
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	const char *path = gort_test_path("sites2.trace");
	CHECK(gort_trace_start_file(path) == 0);
	_gr_trace_set_period(2 * 1000 * 1000);   /* boundaries while the threads run */
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, sites_thread, (void *)(intptr_t)i) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	_gr_trace_set_period(0);
	CHECK(gort_trace_stop() == 0);
	check_pairs(path);
	tu_validate(path);
}

/* With stacks on, the same call sites take the general path: still their
** own strings. */
static void test_sites_stacks_on(void)
{
	setenv("GORT_TRACE_STACK_DEPTH", "8", 1);
	setenv("GORT_TRACE_CPU_HZ", "0", 1);
	const char *path = gort_test_path("sites_stacks.trace");
	CHECK(gort_trace_start_file(path) == 0);
	n_exp = 0;
	for (int round = 0; round < 2; round++) {
		round_of_sites(round);
		CHECK(_gr_trace_advance_generation() == 0);
	}
	CHECK(gort_trace_stop() == 0);
	check_sequence(path);
	tu_validate(path);
}

int main(void)
{
	RUN(test_sites_one_thread);
	RUN(test_sites_two_threads);
	RUN(test_sites_stacks_on);
	return gort_test_summary();
}
