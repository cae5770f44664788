/*
** tests/cli/test_cli_unit.c: gort-trace's own pieces on synthetic event
** sequences (no parser involved): the JSON writer, durations, the stable
** stack tables, the goroutine model, stats aggregation and percentiles,
** the Chrome/Perfetto writer, the raw byte scanner, and the pprof encoder
** (decoded back with a minimal protobuf reader; with Go present the gzip
** output is also opened by `go tool pprof`).
*/
#include "testhelper.h"

#include "gt.h"
#include "json.h"
#include "model.h"
#include "perfetto.h"
#include "pprof.h"
#include "rawscan.h"
#include "stats.h"
#include "internal/go122.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- building synthetic events ------------------------------------------------ */

static gort_tp_str S(const char *s)
{
	return (gort_tp_str){ s, strlen(s) };
}

static gort_tp_frame frames_a[2] = {
	{ .pc = 0x1000, .func = { "pthread_mutex_lock", 18 }, .file = { "mutex.c", 7 }, .line = 10 },
	{ .pc = 0x2000, .func = { "worker_main", 11 }, .file = { "app.c", 5 }, .line = 42 },
};
static gort_tp_frame frames_b[1] = {
	{ .pc = 0x3000, .func = { "read", 4 }, .file = { "io.c", 4 }, .line = 7 },
};

static gort_tp_stack stack_a(uint64_t id)
{
	return (gort_tp_stack){ .id = id, .frames = frames_a, .nframes = 2 };
}

static gort_tp_event base(gort_tp_kind k, uint64_t t, int64_t g)
{
	gort_tp_event ev;
	memset(&ev, 0, sizeof ev);
	ev.kind = k;
	ev.time_ns = t;
	ev.generation = 1;
	ev.thread = g + 100;
	ev.proc = g;
	ev.goroutine = g;
	return ev;
}

static gort_tp_event trans(uint64_t t, int64_t g, int from, int to, const char *reason, gort_tp_stack st)
{
	gort_tp_event ev = base(GORT_TP_STATE_TRANSITION, t, g);
	ev.u.transition.resource = GORT_TP_RES_GOROUTINE;
	ev.u.transition.id = g;
	ev.u.transition.from = from;
	ev.u.transition.to = to;
	ev.u.transition.reason = S(reason);
	ev.stack = st;
	ev.raw_type = to == GORT_TP_G_WAITING ? GR_EV_GO_BLOCK : to == GORT_TP_G_SYSCALL ? GR_EV_GO_SYSCALL_BEGIN
		      : GR_EV_GO_START;
	return ev;
}

static gort_tp_event region(gort_tp_kind k, uint64_t t, int64_t g, uint64_t task, const char *type)
{
	gort_tp_event ev = base(k, t, g);
	ev.raw_type = k == GORT_TP_REGION_BEGIN ? GR_EV_USER_REGION_BEGIN : GR_EV_USER_REGION_END;
	ev.u.region.task = task;
	ev.u.region.type = S(type);
	ev.stack = stack_a(7);
	return ev;
}

static gort_tp_event task(gort_tp_kind k, uint64_t t, int64_t g, uint64_t id, const char *type)
{
	gort_tp_event ev = base(k, t, g);
	ev.raw_type = k == GORT_TP_TASK_BEGIN ? GR_EV_USER_TASK_BEGIN : GR_EV_USER_TASK_END;
	ev.u.task.id = id;
	ev.u.task.type = S(type);
	return ev;
}

static gort_tp_event logev(uint64_t t, int64_t g, const char *cat, const char *msg)
{
	gort_tp_event ev = base(GORT_TP_LOG, t, g);
	ev.raw_type = GR_EV_USER_LOG;
	ev.u.log.category = S(cat);
	ev.u.log.message = S(msg);
	return ev;
}

/* A trace of two threads (G1, G2):
**  G1: running 1000..1100, blocked "sync" (stack A) 1100..1150, runnable
**      1150..1160, running 1160..1300, syscall (stack B) 1300..1400, running
**      1400..2000; regions "step" 1010..1020, 1030..1050, 1060..1100 (10, 20,
**      40 ns) inside task 5 "job" (1005..1500, ended on G2 at 1500);
**      2 logs "progress", 1 log "done".
**  G2: running 1000..2000; one region "step" begun and never ended. */
static size_t make_trace(gort_tp_event *out)
{
	gort_tp_stack none = { 0 };
	gort_tp_stack b = { .id = 9, .frames = frames_b, .nframes = 1 };
	size_t n = 0;
	out[n++] = trans(1000, 1, GORT_TP_G_UNDETERMINED, GORT_TP_G_RUNNING, "", none);
	out[n++] = trans(1000, 2, GORT_TP_G_UNDETERMINED, GORT_TP_G_RUNNING, "", none);
	out[n++] = task(GORT_TP_TASK_BEGIN, 1005, 1, 5, "job");
	out[n++] = region(GORT_TP_REGION_BEGIN, 1010, 1, 5, "step");
	out[n++] = region(GORT_TP_REGION_END, 1020, 1, 5, "step");
	out[n++] = region(GORT_TP_REGION_BEGIN, 1030, 1, 5, "step");
	out[n++] = logev(1040, 1, "progress", "half \"way\"");
	out[n++] = region(GORT_TP_REGION_END, 1050, 1, 5, "step");
	out[n++] = region(GORT_TP_REGION_BEGIN, 1060, 1, 5, "step");
	out[n++] = region(GORT_TP_REGION_BEGIN, 1070, 2, 0, "step");
	out[n++] = logev(1080, 1, "progress", "more");
	out[n++] = region(GORT_TP_REGION_END, 1100, 1, 5, "step");
	out[n++] = trans(1100, 1, GORT_TP_G_RUNNING, GORT_TP_G_WAITING, "sync", stack_a(3));
	out[n++] = trans(1150, 1, GORT_TP_G_WAITING, GORT_TP_G_RUNNABLE, "", none);
	out[n++] = trans(1160, 1, GORT_TP_G_RUNNABLE, GORT_TP_G_RUNNING, "", none);
	out[n++] = trans(1300, 1, GORT_TP_G_RUNNING, GORT_TP_G_SYSCALL, "", b);
	out[n++] = trans(1400, 1, GORT_TP_G_SYSCALL, GORT_TP_G_RUNNING, "", none);
	out[n++] = logev(1450, 1, "done", "x");
	out[n++] = task(GORT_TP_TASK_END, 1500, 2, 5, "job");
	gort_tp_event sync = base(GORT_TP_SYNC, 2000, 1);
	sync.goroutine = sync.thread = sync.proc = GORT_TP_NONE;
	out[n++] = sync;
	return n;
}

/* ---- JSON writer ------------------------------------------------------------------ */

static char *capture_begin(FILE **f, size_t *len, char **buf)
{
	*f = open_memstream(buf, len);
	return *buf;
}

static void test_json_writer(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	capture_begin(&f, &len, &buf);
	gt_json j;
	gt_json_init(&j, f, false);
	gt_json_obj(&j);
	gt_json_kstr(&j, "s", "a\"b\\c\n\x01");
	gt_json_ku64(&j, "u", 18446744073709551615ull);
	gt_json_ki64(&j, "i", -5);
	gt_json_key(&j, "a");
	gt_json_arr(&j);
	gt_json_us(&j, 1234567);
	gt_json_us(&j, 2000);
	gt_json_dbl(&j, 0.5);
	gt_json_bool(&j, true);
	gt_json_null(&j);
	gt_json_strn(&j, "\xff\xc3\xa9", 3);   /* invalid byte, then valid é */
	gt_json_end(&j);
	gt_json_key(&j, "e");
	gt_json_obj(&j);
	gt_json_end(&j);
	gt_json_end(&j);
	fclose(f);
	const char *want = "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"u\":18446744073709551615,\"i\":-5,"
			   "\"a\":[1234.567,2,0.5,true,null,\"\\ufffd\xc3\xa9\"],\"e\":{}}";
	CHECKF(strcmp(buf, want) == 0, "got %s", buf);
	free(buf);
}

static void test_durations(void)
{
	uint64_t ns = 0;
	CHECK(gt_parse_duration("1.5s", &ns) == 0 && ns == 1500000000u);
	CHECK(gt_parse_duration("200ms", &ns) == 0 && ns == 200000000u);
	CHECK(gt_parse_duration("30us", &ns) == 0 && ns == 30000u);
	CHECK(gt_parse_duration("42", &ns) == 0 && ns == 42u);
	CHECK(gt_parse_duration("2m", &ns) == 0 && ns == 120000000000u);
	CHECK(gt_parse_duration("x", &ns) < 0);
	CHECK(gt_parse_duration("-1s", &ns) < 0);
	CHECK(gt_parse_duration("5parsecs", &ns) < 0);
	CHECK(gt_parse_duration("", &ns) < 0);
}

static void test_percentile(void)
{
	uint64_t v[100];
	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)i + 1;
	CHECK(gt_percentile(v, 100, 50) == 50);
	CHECK(gt_percentile(v, 100, 90) == 90);
	CHECK(gt_percentile(v, 100, 99) == 99);
	CHECK(gt_percentile(v, 100, 100) == 100);
	uint64_t one = 7;
	CHECK(gt_percentile(&one, 1, 50) == 7 && gt_percentile(&one, 1, 99) == 7);
	CHECK(gt_percentile(NULL, 0, 50) == 0);
	uint64_t three[3] = { 10, 20, 30 };
	CHECK(gt_percentile(three, 3, 50) == 20);
	CHECK(gt_percentile(three, 3, 90) == 30);
}

static void test_stacks_stable(void)
{
	gt_strtab st;
	gt_strtab_init(&st);
	gt_stacks s;
	gt_stacks_init(&s, &st);
	gort_tp_stack a1 = stack_a(3), a2 = stack_a(8);
	uint32_t x = gt_stack_intern(&s, 1, &a1);
	uint32_t y = gt_stack_intern(&s, 2, &a2);   /* same frames, other generation and id */
	uint32_t z = gt_stack_intern(&s, 2, &a2);   /* cached */
	gort_tp_stack b = { .id = 3, .frames = frames_b, .nframes = 1 };
	uint32_t w = gt_stack_intern(&s, 3, &b);    /* id 3 again, new generation, other frames */
	gort_tp_stack none = { 0 };
	CHECK(x != 0 && x == y && y == z);
	CHECK(w != 0 && w != x);
	CHECK(gt_stack_intern(&s, 3, &none) == 0);
	const uint32_t *fi;
	CHECK(gt_stack_frames(&s, x, &fi) == 2);
	CHECK(strcmp(gt_frame_at(&s, fi[0])->func, "pthread_mutex_lock") == 0);
	CHECK(gt_frame_at(&s, fi[1])->line == 42);
	char buf[256];
	gt_stack_summary(&s, x, 1, buf, sizeof buf);
	CHECKF(strcmp(buf, "pthread_mutex_lock (mutex.c:10)") == 0, "%s", buf);
	/* many stacks: interning stays correct across growth */
	gort_tp_frame fr[3];
	uint32_t first = 0;
	for (int i = 0; i < 5000; i++) {
		for (int k = 0; k < 3; k++)
			fr[k] = (gort_tp_frame){ .pc = (uint64_t)(i * 3 + k), .func = S("f"), .file = S("g"), .line = (uint64_t)k };
		gort_tp_stack big = { .id = (uint64_t)i + 1, .frames = fr, .nframes = 3 };
		uint32_t id = gt_stack_intern(&s, 10, &big);
		if (i == 0)
			first = id;
	}
	for (int k = 0; k < 3; k++)
		fr[k] = (gort_tp_frame){ .pc = (uint64_t)k, .func = S("f"), .file = S("g"), .line = (uint64_t)k };
	gort_tp_stack again = { .id = 1, .frames = fr, .nframes = 3 };
	CHECK(gt_stack_intern(&s, 11, &again) == first);
	gt_stacks_free(&s);
	gt_strtab_free(&st);
}

static void test_map_and_intern(void)
{
	gt_map m;
	gt_map_init(&m);
	for (uint64_t i = 0; i < 10000; i++)
		*gt_map_put(&m, i * 7919, 0, NULL) = i;
	bool ok = true;
	for (uint64_t i = 0; i < 10000; i++) {
		uint64_t *v = gt_map_get(&m, i * 7919);
		ok &= v && *v == i;
	}
	CHECK(ok);
	CHECK(gt_map_get(&m, 3) == NULL);
	gt_map_clear(&m);
	CHECK(gt_map_get(&m, 7919) == NULL && m.len == 0);
	gt_map_free(&m);
	gt_strtab t;
	gt_strtab_init(&t);
	const char *a = gt_intern(&t, "hello world", 5);
	const char *b = gt_intern(&t, "hello", 5);
	CHECK(a == b && strcmp(a, "hello") == 0);
	CHECK(gt_intern(&t, "", 0)[0] == 0);
	gt_strtab_free(&t);
}

/* ---- stats --------------------------------------------------------------------------- */

static char *stats_json(void)
{
	gort_tp_event evs[64];
	size_t n = make_trace(evs);
	gt_stats *s = gt_stats_new();
	for (size_t i = 0; i < n; i++)
		gt_stats_event(s, &evs[i]);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gt_stats_print_json(s, f);
	fclose(f);
	/* text output too: must mention the same things */
	char *tbuf = NULL;
	size_t tlen = 0;
	f = open_memstream(&tbuf, &tlen);
	gt_stats_print_text(s, f, 20);
	fclose(f);
	CHECK(strstr(tbuf, "generations:  1") != NULL);
	CHECK(strstr(tbuf, "time span:    1000 .. 2000 ns") != NULL);
	CHECK(strstr(tbuf, "pthread_mutex_lock (mutex.c:10) <- worker_main (app.c:42)") != NULL);
	CHECKF(strstr(tbuf, "sync=50ns") != NULL, "%s", tbuf);
	free(tbuf);
	gt_stats_free(s);
	return buf;
}

static void test_stats_aggregation(void)
{
	char *j = stats_json();
	/* G1: running 100 + 140 + 600, runnable 10, blocked 50, syscall 100 */
	CHECKF(strstr(j, "\"running_ns\": 840") != NULL, "%s", j);
	CHECK(strstr(j, "\"runnable_ns\": 10,") != NULL);
	CHECK(strstr(j, "\"blocked_ns\": 50,") != NULL);
	CHECK(strstr(j, "\"syscall_ns\": 100,") != NULL);
	CHECK(strstr(j, "\"sync\": 50") != NULL);
	/* G2 ran the whole time */
	CHECK(strstr(j, "\"running_ns\": 1000") != NULL);
	/* regions: 3 complete (10, 20, 40) + 1 never ended */
	CHECKF(strstr(j, "\"type\": \"step\",\n      \"count\": 4,\n      \"incomplete\": 1,\n      \"p50_ns\": 20,\n"
			 "      \"p90_ns\": 40,\n      \"p99_ns\": 40,\n      \"max_ns\": 40") != NULL, "%s", j);
	/* task across threads: 1005..1500 */
	CHECK(strstr(j, "\"type\": \"job\",\n      \"count\": 1,\n      \"incomplete\": 0,\n      \"p50_ns\": 495") != NULL);
	CHECK(strstr(j, "\"progress\": 2") != NULL && strstr(j, "\"done\": 1") != NULL);
	CHECK(strstr(j, "\"logs\": 3") != NULL);
	CHECK(strstr(j, "\"generations\": 1,") != NULL);
	CHECK(strstr(j, "\"duration_ns\": 1000,") != NULL);
	CHECK(strstr(j, "\"goroutines\": 2,") != NULL);
	/* blocking sites: the syscall (100 ns) first, then sync (50 ns) */
	const char *sc = strstr(j, "\"kind\": \"syscall\"");
	const char *bl = strstr(j, "\"kind\": \"blocked\"");
	CHECK(sc && bl && sc < bl);
	CHECK(strstr(j, "\"func\": \"read\"") != NULL);
	free(j);
}

static int cmp_u64t(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Many regions (the radix-sort path) with durations spread over 40 bits:
** the percentiles equal those of a plain sort. */
static void test_stats_many_regions(void)
{
	enum { N = 3001 };
	static uint64_t d[N];
	gt_stats *s = gt_stats_new();
	gort_tp_stack none = { 0 };
	gort_tp_event ev = trans(1000, 1, GORT_TP_G_UNDETERMINED, GORT_TP_G_RUNNING, "", none);
	gt_stats_event(s, &ev);
	uint64_t t = 2000;
	for (int i = 0; i < N; i++) {
		d[i] = (uint64_t)(i * 7919 % N) * ((i % 3) ? 1 : 1000003) + (uint64_t)(i % 5 == 0) * ((uint64_t)1 << 38);
		ev = region(GORT_TP_REGION_BEGIN, t, 1, 0, "r");
		gt_stats_event(s, &ev);
		t += d[i];
		ev = region(GORT_TP_REGION_END, t, 1, 0, "r");
		gt_stats_event(s, &ev);
		t += 1;
	}
	qsort(d, N, sizeof d[0], cmp_u64t);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gt_stats_print_json(s, f);
	fclose(f);
	char want[256];
	snprintf(want, sizeof want, "\"p50_ns\": %llu,\n      \"p90_ns\": %llu,\n      \"p99_ns\": %llu,\n      \"max_ns\": %llu",
		 (unsigned long long)gt_percentile(d, N, 50), (unsigned long long)gt_percentile(d, N, 90),
		 (unsigned long long)gt_percentile(d, N, 99), (unsigned long long)d[N - 1]);
	CHECKF(strstr(buf, want) != NULL, "want %s in %.600s", want, strstr(buf, "\"regions\"") ? strstr(buf, "\"regions\"") : buf);
	CHECK(gt_percentile(d, N, 50) == d[1500]);
	free(buf);
	gt_stats_free(s);
}

/* ---- raw scanner ------------------------------------------------------------------------ */

static void test_rawscan(void)
{
	/* header, one batch: gen 1, m 0, time 5, size 7: ProcStart(dt=1,p=2,seq=1), GoStart(1,300 (2 bytes),1)
	** then a strings batch with one String id 1 "ab" */
	unsigned char t[] = {
		'g', 'o', ' ', '1', '.', '2', '2', ' ', 't', 'r', 'a', 'c', 'e', 0, 0, 0,
		1, 1, 0, 5, 9, GR_EV_PROC_START, 1, 2, 1, GR_EV_GO_START, 1, 0xac, 0x02, 1,
		1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 6, GR_EV_STRINGS, GR_EV_STRING, 1, 2, 'a', 'b',
	};
	gt_rawscan s;
	gt_rawscan_init(&s);
	/* feed byte by byte: chunking must not matter */
	for (size_t i = 0; i < sizeof t; i++)
		gt_rawscan_feed(&s, t + i, 1);
	CHECK(!s.lost);
	CHECK(s.bytes[0] == 16);
	CHECK(s.bytes[GR_EV_PROC_START] == 4 && s.count[GR_EV_PROC_START] == 1);
	CHECK(s.bytes[GR_EV_GO_START] == 5 && s.count[GR_EV_GO_START] == 1);
	CHECKF(s.bytes[GR_EV_BATCH] == 5 + 9, "batch bytes %llu", (unsigned long long)s.bytes[GR_EV_BATCH]);
	CHECK(s.bytes[GR_EV_STRINGS] == 1 && s.bytes[GR_EV_STRING] == 5);
	CHECK(s.total == sizeof t);
	/* garbage after a good start: lost, no crash */
	gt_rawscan_init(&s);
	unsigned char bad[] = { 'g', 'o', ' ', '1', '.', '2', '2', ' ', 't', 'r', 'a', 'c', 'e', 0, 0, 0, 7, 7, 7 };
	gt_rawscan_feed(&s, bad, sizeof bad);
	CHECK(s.lost);
}

/* ---- perfetto ------------------------------------------------------------------------- */

static char *perfetto_of(uint64_t from, uint64_t to)
{
	gort_tp_event evs[64];
	size_t n = make_trace(evs);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gt_perfetto *p = gt_perfetto_new(f, from, to, "synthetic");
	for (size_t i = 0; i < n; i++)
		gt_perfetto_event(p, &evs[i]);
	CHECK(gt_perfetto_finish(p) == 0);
	gt_perfetto_free(p);
	fclose(f);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t c = 0;
	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		c++;
	return c;
}

static void test_perfetto(void)
{
	char *j = perfetto_of(0, UINT64_MAX);
	CHECK(strncmp(j, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", 38) == 0);
	/* G1: running, blocked, runnable, running, syscall, running; G2: running */
	CHECKF(count(j, "\"cat\":\"state\"") == 7, "%s", j);
	CHECK(strstr(j, "\"name\":\"blocked: sync\",\"cat\":\"state\",\"pid\":1,\"tid\":1,\"ts\":0.100,\"dur\":0.050") != NULL);
	CHECK(count(j, "\"cat\":\"region\"") == 4);
	CHECK(strstr(j, "\"tid\":100000001,\"ts\":0.060,\"dur\":0.040") != NULL);
	CHECK(count(j, "\"ph\":\"b\",\"name\":\"job\",\"cat\":\"task\"") == 1);
	CHECK(count(j, "\"ph\":\"e\",\"name\":\"job\",\"cat\":\"task\"") == 1);
	CHECK(count(j, "\"ph\":\"s\"") == 1 && count(j, "\"ph\":\"f\"") == 1 && count(j, "\"ph\":\"t\"") == 3);
	CHECK(count(j, "\"cat\":\"log\"") == 3);
	CHECK(strstr(j, "\"message\":\"half \\\"way\\\"\"") != NULL);
	CHECK(strstr(j, "\"name\":\"thread_name\",\"pid\":1,\"tid\":1,") != NULL);
	/* named like Go does: root frame of the first transition stack */
	CHECK(strstr(j, "\"name\":\"G1 worker_main regions\"") != NULL);
	CHECK(strstr(j, "\"G2 regions\"") != NULL);
	size_t l = strlen(j);
	CHECK(l > 2 && j[l - 1] == '\n' && j[l - 2] == '}');
	free(j);
	/* window 100..300 ns: the blocked/runnable/running slices clipped, logs outside dropped */
	j = perfetto_of(100, 300);
	CHECK(count(j, "\"cat\":\"log\"") == 0);
	CHECK(strstr(j, "\"ts\":0.100,\"dur\":0.050") != NULL);
	CHECKF(strstr(j, "\"name\":\"running\",\"cat\":\"state\",\"pid\":1,\"tid\":1,\"ts\":0.160,\"dur\":0.140") != NULL, "%s", j);
	CHECK(count(j, "\"cat\":\"region\"") == 1);   /* G2's open region, clipped */
	free(j);
}

/* ---- pprof --------------------------------------------------------------------------- */

/* Minimal protobuf reading: count top-level fields by number. */
static int pb_count(const unsigned char *p, size_t n, unsigned counts[32])
{
	size_t i = 0;
	while (i < n) {
		uint64_t key = 0;
		int sh = 0;
		while (i < n && (p[i] & 0x80))
			key |= (uint64_t)(p[i++] & 0x7f) << sh, sh += 7;
		if (i >= n)
			return -1;
		key |= (uint64_t)p[i++] << sh;
		unsigned field = (unsigned)(key >> 3), wt = key & 7;
		if (field < 32)
			counts[field]++;
		if (wt == 0) {
			while (i < n && (p[i] & 0x80))
				i++;
			i++;
		} else if (wt == 2) {
			uint64_t len = 0;
			sh = 0;
			while (i < n && (p[i] & 0x80))
				len |= (uint64_t)(p[i++] & 0x7f) << sh, sh += 7;
			if (i >= n)
				return -1;
			len |= (uint64_t)p[i++] << sh;
			if (len > n - i)
				return -1;
			i += len;
		} else
			return -1;
	}
	return i == n ? 0 : -1;
}

static void test_pprof(void)
{
	gt_strtab st;
	gt_strtab_init(&st);
	gt_stacks s;
	gt_stacks_init(&s, &st);
	gort_tp_stack a = stack_a(1);
	gort_tp_stack b = { .id = 2, .frames = frames_b, .nframes = 1 };
	uint32_t ia = gt_stack_intern(&s, 1, &a), ib = gt_stack_intern(&s, 1, &b);
	static const char *const types[2][2] = { { "contentions", "count" }, { "delay", "nanoseconds" } };
	gt_pprof *p = gt_pprof_new(&s, 2, types, "delay", "nanoseconds", 1);
	int64_t v1[2] = { 1, 1000 }, v2[2] = { 1, 5000000 };
	gt_pprof_add(p, ia, v1, "reason", "sync");
	gt_pprof_add(p, ia, v1, "reason", "sync");
	gt_pprof_add(p, ib, v2, NULL, NULL);
	gt_pprof_add(p, 0, v1, NULL, NULL);
	CHECK(gt_pprof_nsamples(p) == 3);
	gt_buf pb = { 0 };
	gt_pprof_encode(p, &pb);
	unsigned counts[32] = { 0 };
	CHECK(pb_count(pb.p, pb.len, counts) == 0);
	CHECK(counts[1] == 2);      /* sample types */
	CHECK(counts[2] == 3);      /* samples */
	CHECK(counts[3] == 1);      /* mapping */
	CHECKF(counts[4] == 4, "locations %u", counts[4]);   /* 3 frames + the no-stack placeholder */
	CHECK(counts[5] == 4);      /* functions */
	CHECK(counts[6] >= 8);      /* strings: "", types, units, names, files */
	CHECK(memmem(pb.p, pb.len, "pthread_mutex_lock", 18) != NULL);
	const char *out = gort_test_path("unit.pb.gz");
	int rc = gt_pprof_write_gz(&pb, out);
#ifdef GT_HAVE_ZLIB
	CHECK(rc == 0);
	const char *go = getenv("GORT_GO");
	if (rc == 0 && go && *go) {
		static char res[8192];
		int st2 = gort_test_sh(res, sizeof res, "HOME=${GORT_TEST_TMPDIR:-/tmp} '%s' tool pprof -top -nodefraction=0 '%s' 2>&1", go, out);
		CHECKF(st2 == 0 && strstr(res, "read") && strstr(res, "pthread_mutex_lock") &&
		       strstr(res, "worker_main"), "go tool pprof: %s", res);
	}
#else
	CHECK(rc == -ENOTSUP);
#endif
	gt_buf_free(&pb);
	gt_pprof_free(p);
	gt_stacks_free(&s);
	gt_strtab_free(&st);
}

/* ---- random sequences ------------------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* Odd but possible sequences (region ends without begins, tasks ended twice
** or never begun, transitions from any state, big ids, generations moving
** on, stacks that change under the same id in a new generation) through
** stats, the Perfetto writer and the pprof model: no crash (ASan/UBSan in
** CI), and the invariants hold. */
static void test_random_sequences(void)
{
	static const char *types[] = { "a", "b", "c", "" };
	static const char *reasons[] = { "sync", "sleep", "", "chan receive" };
	gt_stats *s = gt_stats_new();
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	gt_perfetto *p = gt_perfetto_new(f, 1000, 400000, "random");
	uint64_t t = 1000, gen = 1;
	for (int i = 0; i < 50000; i++) {
		t += rnd(50);
		int64_t g = (int64_t)rnd(8) + (rnd(100) == 0 ? 1000000000 : 1);
		gort_tp_event ev;
		gort_tp_stack st = rnd(3) ? stack_a(rnd(4) + 1) : (gort_tp_stack){ .id = rnd(4) + 1, .frames = frames_b, .nframes = 1 };
		switch (rnd(8)) {
		case 0: case 1: case 2:
			ev = trans(t, g, (int)rnd(6), (int)rnd(6), reasons[rnd(4)], st);
			break;
		case 3:
			ev = region(rnd(2) ? GORT_TP_REGION_BEGIN : GORT_TP_REGION_END, t, g, rnd(5), types[rnd(4)]);
			break;
		case 4:
			ev = task(rnd(2) ? GORT_TP_TASK_BEGIN : GORT_TP_TASK_END, t, g, rnd(20) + 1, types[rnd(4)]);
			break;
		case 5:
			ev = logev(t, g, types[rnd(4)], "m");
			break;
		case 6:
			ev = base(GORT_TP_STACK_SAMPLE, t, g);
			ev.stack = st;
			break;
		default:
			ev = base(GORT_TP_SYNC, t, g);
			ev.goroutine = GORT_TP_NONE;
			break;
		}
		ev.generation = gen;
		if (ev.kind == GORT_TP_SYNC)
			gen++;
		gt_stats_event(s, &ev);
		gt_perfetto_event(p, &ev);
	}
	CHECK(gt_perfetto_finish(p) == 0);
	gt_perfetto_free(p);
	fclose(f);
	CHECK(len > 1000 && buf[len - 2] == '}');
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	gt_stats_print_json(s, f);
	fclose(f);
	/* every goroutine's total fits in the trace duration */
	const char *dur = strstr(buf, "\"duration_ns\": ");
	CHECK(dur != NULL);
	unsigned long long d = dur ? strtoull(dur + 15, NULL, 10) : 0;
	bool ok = true;
	for (const char *q = buf; (q = strstr(q, "\"total_ns\": ")) != NULL; q++)
		ok &= strtoull(q + 12, NULL, 10) <= d;
	CHECK(ok);
	free(buf);
	gt_stats_free(s);
}

int main(void)
{
	RUN(test_json_writer);
	RUN(test_durations);
	RUN(test_percentile);
	RUN(test_map_and_intern);
	RUN(test_stacks_stable);
	RUN(test_stats_aggregation);
	RUN(test_stats_many_regions);
	RUN(test_rawscan);
	RUN(test_perfetto);
	RUN(test_pprof);
	RUN(test_random_sequences);
	return gort_test_summary();
}
