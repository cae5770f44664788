/* Integration of the stack module with the tracer: a traced program with a
** CPU-bound thread (GORT_TRACE_CPU_HZ=1000) and a blocking call chain. The
** trace must pass Go 1.22's validator; its CPU samples (read from Go's raw
** dump, gotraceraw) must name the hot function and its caller; the blocking
** profile (`go tool trace -pprof=sync`, read back with `go tool pprof
** -traces`) must name the blocking chain with its file. NEEDS_GO. */
#include "testhelper.h"
#include "stacktest.h"
#include "internal/stack.h"

#include <gort/trace.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static _Atomic uint64_t sink;

/* ---- the traced program ------------------------------------------------------------ */

NOINLINE uint64_t burn_hot(uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		v = v * 6364136223846793005ull + 1442695040888963407ull;
	return v;
}

NOINLINE void *burn_worker(void *arg)
{
	(void)arg;
	gort_trace_thread_name("burner");
	gort_trace_region_begin(0, "burn");     /* enters the trace: registered for samples */
	uint64_t v = 1;
	/* A fixed amount of work (about half a CPU-second on a 3 GHz core). */
	for (int i = 0; i < 2000; i++)
		v = burn_hot(v, 500000);
	gort_trace_region_end(0, "burn");
	atomic_store(&sink, v);
	return NULL;
}

NOINLINE void block_inner(void)
{
	gort_trace_block_begin("sync");
	usleep(20000);
	gort_trace_block_end();
	BARRIER();
}

NOINLINE void block_outer(void)
{
	for (int i = 0; i < 3; i++)
		block_inner();
	BARRIER();
}

/* ---- reading Go's raw dump ----------------------------------------------------------- */

typedef struct str { uint64_t gen, id; char *s; } str;
typedef struct stk { uint64_t gen, id; int n; uint64_t func[32]; } stk;
typedef struct smp { uint64_t gen, stack; } smp;

static str *strs;
static stk *stks;
static smp *smps;
static size_t nstr, nstk, nsmp;

static uint64_t field(const char *line, const char *name)
{
	const char *p = strstr(line, name);
	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

static bool load_raw(const char *dump)
{
	FILE *f = fopen(dump, "r");
	if (!f)
		return false;
	char line[4096];
	uint64_t gen = 0;
	str *pending_str = NULL;
	stk *cur = NULL;
	strs = calloc(100000, sizeof *strs);
	stks = calloc(20000, sizeof *stks);
	smps = calloc(100000, sizeof *smps);
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "EventBatch ", 11) == 0) {
			gen = field(line, "gen=");
			cur = NULL;
		} else if (strncmp(line, "String id=", 10) == 0 && nstr < 100000) {
			pending_str = &strs[nstr++];
			pending_str->gen = gen;
			pending_str->id = field(line, "id=");
			pending_str->s = strdup("");
		} else if (strncmp(line, "\tdata=\"", 7) == 0 && pending_str) {
			char *e = strrchr(line + 7, '"');
			if (e)
				*e = 0;
			free(pending_str->s);
			pending_str->s = strdup(line + 7);
			pending_str = NULL;
		} else if (strncmp(line, "Stack id=", 9) == 0 && nstk < 20000) {
			cur = &stks[nstk++];
			cur->gen = gen;
			cur->id = field(line, "id=");
		} else if (strncmp(line, "\tpc=", 4) == 0 && cur && cur->n < 32) {
			cur->func[cur->n++] = field(line, "func=");
		} else if (strncmp(line, "CPUSample ", 10) == 0 && nsmp < 100000) {
			smps[nsmp].gen = gen;
			smps[nsmp].stack = field(line, "stack=");
			nsmp++;
		}
	}
	fclose(f);
	return true;
}

static const char *str_of(uint64_t gen, uint64_t id)
{
	for (size_t i = 0; i < nstr; i++)
		if (strs[i].gen == gen && strs[i].id == id)
			return strs[i].s;
	return "";
}

static const stk *stack_of(uint64_t gen, uint64_t id)
{
	for (size_t i = 0; i < nstk; i++)
		if (stks[i].gen == gen && stks[i].id == id)
			return &stks[i];
	return NULL;
}

/* ---- the test --------------------------------------------------------------------------- */

void test_traced_cpu_samples_and_blocking_stacks(void)
{
	if (!gort_test_have_go())
		SKIP("Go 1.22 tools not available");
	char trace[512], dump[512], prof[512];
	snprintf(trace, sizeof trace, "%s", gort_test_path("cpu.trace"));
	snprintf(dump, sizeof dump, "%s", gort_test_path("cpu.txt"));
	snprintf(prof, sizeof prof, "%s", gort_test_path("sync.pb"));
	setenv("GORT_TRACE_CPU_HZ", "1000", 1);
	setenv("GORT_TRACE_STACK_DEPTH", "32", 1);

	CHECK(gort_trace_start_file(trace) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, burn_worker, NULL) == 0);
	block_outer();
	pthread_join(t, NULL);
	CHECK(gort_trace_stop() == 0);

	char msg[4096];
	int v = gort_test_go_validate(trace, msg, sizeof msg);
	CHECKF(v == 0, "Go's validator: %s", msg);

	/* CPU samples: most name burn_hot <- burn_worker. */
	const char *raw = getenv("GORT_GO_RAW");
	char out[8192];
	CHECK(gort_test_sh(out, sizeof out, "'%s' bytes2text < '%s' > '%s'", raw, trace, dump) == 0);
	CHECK(load_raw(dump));
	size_t hot = 0, chain = 0;
	for (size_t i = 0; i < nsmp; i++) {
		const stk *s = stack_of(smps[i].gen, smps[i].stack);
		if (!s || s->n == 0)
			continue;
		if (strcmp(str_of(s->gen, s->func[0]), "burn_hot") == 0)
			hot++;
		for (int k = 0; k + 1 < s->n; k++)
			if (strcmp(str_of(s->gen, s->func[k]), "burn_hot") == 0 &&
			    strcmp(str_of(s->gen, s->func[k + 1]), "burn_worker") == 0)
				chain++;
	}
	fprintf(stderr, "  %zu CPU samples, %zu with burn_hot as leaf, %zu burn_hot <- burn_worker\n",
	        nsmp, hot, chain);
	CHECKF(nsmp >= 20, "CPU samples in the trace: %zu", nsmp);
	CHECKF(hot * 2 >= nsmp, "half the samples are in burn_hot: %zu of %zu", hot, nsmp);
	CHECK(chain >= hot * 9 / 10 && chain > 0);

	/* Blocking profile through Go's own tool: the chain and its file. */
	const char *tool = getenv("GORT_GO_TRACE_TOOL"), *go = getenv("GORT_GO");
	int rc = gort_test_sh(out, sizeof out,
	                      "'%s' -pprof=sync '%s' > '%s' && HOME='%s' '%s' tool pprof -traces -lines '%s' 2>&1",
	                      tool, trace, prof, getenv("GORT_TEST_TMPDIR") ? getenv("GORT_TEST_TMPDIR") : "/tmp",
	                      go, prof);
	CHECKF(rc == 0, "pprof: %s", out);
	/* "block_inner FILE:LINE" then, on the next line, "block_outer FILE:LINE" */
	const char *bi = strstr(out, "block_inner ");
	const char *nl = bi ? strchr(bi, '\n') : NULL;
	CHECKF(bi && nl && strncmp(nl + 1 + strspn(nl + 1, " "), "block_outer ", 12) == 0,
	       "sync profile: %s", out);
	if (bi && nl && st_have_lines()) {
		const char *f = strstr(bi, "tests/stack/test_trace_cpu.c:");
		CHECKF(f && f < nl, "file and line: %s", out);
	}
}

int main(void)
{
	RUN(test_traced_cpu_samples_and_blocking_stacks);
	return gort_test_summary();
}
