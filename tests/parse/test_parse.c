/*
** tests/parse/test_parse.c: the trace reader on known traces and bad input.
**
**  - the valid example traces parse, with strictly increasing times and the
**    expected kinds; the invalid ones are rejected with Go's error;
**  - truncation at every byte of small traces, wrong headers, corrupt
**    varints, impossible sizes, missing tables: an error naming what and the
**    byte offset, never a crash (this file also runs under ASan/UBSan);
**  - memory stays bounded by one generation on a long synthetic trace;
**  - the API's small contracts (callbacks, errors, names, formatting).
*/
#include "testhelper.h"
#include "tracegen.h"

#include <gort/traceparse.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

typedef struct membuf {
	const uint8_t *p;
	size_t n, pos;
	size_t chunk;      /* max bytes per read (exercises refills); 0 = all */
} membuf;

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	membuf *m = ctx;
	size_t k = m->n - m->pos;
	if (k > len)
		k = len;
	if (m->chunk && k > m->chunk)
		k = m->chunk;
	memcpy(buf, m->p + m->pos, k);
	m->pos += k;
	return (ssize_t)k;
}

typedef struct result {
	int rc;
	uint64_t events, syncs, err_off;
	char err[512];
	bool monotonic;
	unsigned kinds;    /* bit per gort_tp_kind seen */
} result;

static result parse_mem(const void *p, size_t n, size_t chunk, uint64_t max_gen)
{
	membuf m = { p, n, 0, chunk };
	result res = { .monotonic = true };
	gort_tp_reader *r = gort_tp_open_callback(mem_read, &m);
	if (!r) {
		res.rc = -100;
		return res;
	}
	if (max_gen)
		gort_tp_set_max_generation_bytes(r, max_gen);
	const gort_tp_event *ev;
	uint64_t last = 0;
	char line[4096];
	while ((res.rc = gort_tp_next(r, &ev)) > 0) {
		if (res.events && ev->time_ns <= last)
			res.monotonic = false;
		last = ev->time_ns;
		res.events++;
		res.syncs += ev->kind == GORT_TP_SYNC;
		res.kinds |= 1u << ev->kind;
		gort_tp_format_event(ev, line, sizeof line);
	}
	snprintf(res.err, sizeof res.err, "%s", gort_tp_error(r));
	res.err_off = gort_tp_error_offset(r);
	/* The reader stays finished: same answer again. */
	int again = gort_tp_next(r, &ev);
	if (again != res.rc)
		res.rc = -200;
	gort_tp_close(r);
	return res;
}

static uint8_t *load(const char *name, size_t *n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/parse/%s", getenv("GORT_SOURCE_DIR") ? getenv("GORT_SOURCE_DIR") : ".",
	         name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *p = malloc(1 << 20);
	*n = fread(p, 1, 1 << 20, f);
	fclose(f);
	return p;
}

/* ---- the example traces -------------------------------------------------- */

static const char *const valid_cases[] = {
	"00-minimal.trace", "01-thread-start-exit.trace", "01b-preexisting-thread-gen1.trace",
	"02-block-wake.trace", "02b-cross-thread-wake.trace", "03-syscall.trace", "04-tasks.trace",
	"05-regions.trace", "06-logs.trace", "07-cpu-samples.trace", "08-heap-counter.trace",
	"09-generation-boundary.trace", "10-all-features.trace",
};

static void test_valid_examples(void)
{
	for (size_t i = 0; i < sizeof valid_cases / sizeof *valid_cases; i++) {
		size_t n;
		uint8_t *p = load(valid_cases[i], &n);
		CHECKF(p, "missing %s", valid_cases[i]);
		if (!p)
			continue;
		/* Whole buffer at once and 7 bytes per read must agree. */
		result a = parse_mem(p, n, 0, 0), b = parse_mem(p, n, 7, 0);
		CHECKF(a.rc == 0, "%s: %s", valid_cases[i], a.err);
		CHECKF(a.events > 1 && a.syncs >= 1, "%s: %llu events", valid_cases[i], (unsigned long long)a.events);
		CHECKF(a.monotonic, "%s: times not increasing", valid_cases[i]);
		CHECK(b.rc == 0 && b.events == a.events);
		free(p);
	}
	size_t n;
	uint8_t *p = load("10-all-features.trace", &n);
	if (p) {
		result a = parse_mem(p, n, 0, 0);
		unsigned want = 1u << GORT_TP_SYNC | 1u << GORT_TP_METRIC | 1u << GORT_TP_STACK_SAMPLE |
		                1u << GORT_TP_TASK_BEGIN | 1u << GORT_TP_TASK_END | 1u << GORT_TP_REGION_BEGIN |
		                1u << GORT_TP_REGION_END | 1u << GORT_TP_LOG | 1u << GORT_TP_STATE_TRANSITION;
		CHECKF((a.kinds & want) == want, "kinds seen %#x", a.kinds);
		CHECK(a.syncs == 2);
		free(p);
	}
}

static const struct { const char *file, *want; } bad_cases[] = {
	{ "bad-01-wrong-g-seq.trace", "failed to advance" },
	{ "bad-02-missing-status-in-new-generation.trace", "failed to advance" },
	{ "bad-03-gostatus-for-new-g-after-gen1.trace", "found goroutine status for new goroutine after the first generation" },
	{ "bad-04-annotation-without-running-g.trace", "expected a goroutine but didn't have one" },
	{ "bad-05-region-end-mismatch.trace", "misuse of region in goroutine 1" },
	{ "bad-06-inconsistent-proc-status.trace", "inconsistent status for proc 0: old Idle vs. new Running" },
	{ "bad-07-no-frequency.trace", "no frequency event found" },
	{ "bad-08-undefined-string-id.trace", "found invalid string ID 9 for event GoBlock" },
	{ "bad-09-syscall-wrong-p-seq.trace", "can't make sequence" },
	{ "bad-10-task-id-zero.trace", "found invalid task ID 0 for task of type request" },
	{ "bad-11-wrong-batch-size.trace", "expected batch event (EventBatch), got Invalid(255)" },
};

static void test_bad_examples(void)
{
	for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
		size_t n;
		uint8_t *p = load(bad_cases[i].file, &n);
		CHECKF(p, "missing %s", bad_cases[i].file);
		if (!p)
			continue;
		result a = parse_mem(p, n, 0, 0);
		CHECKF(a.rc < 0, "%s accepted", bad_cases[i].file);
		CHECKF(strstr(a.err, bad_cases[i].want), "%s: got '%s'", bad_cases[i].file, a.err);
		CHECKF(strstr(a.err, " at byte ") && a.err_off <= n, "%s: no offset: '%s'", bad_cases[i].file, a.err);
		free(p);
	}
}

/* ---- bad input ------------------------------------------------------------- */

static void truncate_all(const char *name)
{
	size_t n;
	uint8_t *p = load(name, &n);
	CHECK(p);
	if (!p)
		return;
	int accepted = 0, go_disagrees = 0;
	for (size_t len = 0; len < n; len++) {
		result a = parse_mem(p, len, 0, 0);
		CHECKF(a.rc <= 0 && a.rc > -100, "%s[:%zu]: rc %d", name, len, a.rc);
		if (a.rc < 0) {
			CHECKF(strstr(a.err, " at byte ") && a.err_off <= len, "%s[:%zu]: '%s'", name, len, a.err);
			if (len < GR_GO122_HEADER_LEN)
				CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "bad file format"), "%s[:%zu]: '%s'", name, len,
				       a.err);
			continue;
		}
		/* A cut between batches can leave a valid trace: Go must agree. */
		accepted++;
		if (gort_test_have_go()) {
			const char *path = gort_test_path("prefix.trace");
			FILE *f = fopen(path, "wb");
			fwrite(p, 1, len, f);
			fclose(f);
			char msg[256];
			if (gort_test_go_validate(path, msg, sizeof msg) != 0)
				go_disagrees++;
		}
	}
	CHECKF(go_disagrees == 0, "%s: %d accepted prefixes that Go rejects", name, go_disagrees);
	CHECK(accepted < 8);
	free(p);
}

static void test_truncation(void)
{
	truncate_all("10-all-features.trace");
	truncate_all("09-generation-boundary.trace");
	truncate_all("07-cpu-samples.trace");
}

static result parse_buf(const tg_buf *b) { return parse_mem(b->p, b->n, 0, 0); }

static void test_headers(void)
{
	static const struct { const char *bytes; size_t n; const char *want; } cases[] = {
		{ "", 0, "bad file format: not a Go execution trace? at byte 0" },
		{ "hello world, not a trace", 24, "bad file format" },
		{ "go 1.21 trace\0\0\0", 16, "unknown or unsupported trace version go 1.21" },
		{ "go 1.23 trace\0\0\0", 16, "unknown or unsupported trace version go 1.23" },
		{ "go 1.22 trace\0\0", 15, "bad file format" },
		{ "go 1.22 trace\0\0X", 16, "bad file format" },
		{ "go 1.x trace\0\0\0", 15, "bad file format" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		result a = parse_mem(cases[i].bytes, cases[i].n, 0, 0);
		CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, cases[i].want), "case %zu: '%s'", i, a.err);
	}
	/* Header only: no generation at all, as Go ("no frequency event found"). */
	result a = parse_mem(GR_GO122_HEADER, GR_GO122_HEADER_LEN, 0, 0);
	CHECKF(a.rc < 0 && strstr(a.err, "no frequency"), "'%s'", a.err);
}

static void test_corrupt_varints(void)
{
	tg_buf b = { 0 };
	tg_header(&b);
	tg_byte(&b, GR_EV_BATCH);
	for (int i = 0; i < 11; i++)
		tg_byte(&b, 0xff);
	result a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "error reading batch gen: varint overflows"), "'%s'", a.err);
	CHECKF(a.err_off == 17, "offset %llu", (unsigned long long)a.err_off);

	/* A 10-byte varint whose last byte is > 1 overflows too. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&b, GR_EV_BATCH);
	tg_uv(&b, 1);
	for (int i = 0; i < 9; i++)
		tg_byte(&b, 0x80);
	tg_byte(&b, 0x02);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "batch M ID: varint overflows") && a.err_off == 18, "'%s'", a.err);

	/* A corrupt varint inside an event batch. */
	b.n = 0;
	tg_header(&b);
	tg_buf body = { 0 };
	tg_byte(&body, GR_EV_PROC_STATUS);
	for (int i = 0; i < 10; i++)
		tg_byte(&body, 0xff);
	tg_batch(&b, 1, 1, 0, &body);
	tg_freq(&b, 1, 1000000000);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid uvarint for timestamp in ProcStatus"), "'%s'", a.err);
	CHECKF(a.err_off == 16 + 5, "offset %llu", (unsigned long long)a.err_off);

	/* An event cut off at the end of its batch. */
	b.n = 0;
	tg_header(&b);
	TG_EV(&body, GR_EV_PROC_STATUS, 1, 0);   /* one argument short */
	tg_batch(&b, 1, 1, 0, &body);
	tg_freq(&b, 1, 1000000000);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid uvarint in ProcStatus"), "'%s'", a.err);
	tg_free(&body);
	tg_free(&b);
}

static void test_impossible_sizes(void)
{
	tg_buf b = { 0 }, body = { 0 };
	/* Batch size far beyond the format's limit: rejected before allocating. */
	tg_header(&b);
	tg_byte(&b, GR_EV_BATCH);
	tg_uv(&b, 1);
	tg_uv(&b, 1);
	tg_uv(&b, 0);
	tg_uv(&b, (uint64_t)1 << 40);
	result a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid batch size 1099511627776, maximum is 65536") &&
	       a.err_off == 16, "'%s'", a.err);

	/* A batch claiming more bytes than the file has. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&b, GR_EV_BATCH);
	tg_uv(&b, 1);
	tg_uv(&b, 1);
	tg_uv(&b, 0);
	tg_uv(&b, 60000);
	tg_put(&b, "abc", 3);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "failed to read full batch: read 3 but wanted 60000"), "'%s'",
	       a.err);

	/* A string longer than Go's maximum. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&body, GR_EV_STRINGS);
	tg_byte(&body, GR_EV_STRING);
	tg_uv(&body, 1);
	tg_uv(&body, 5000);
	tg_batch(&b, 1, TG_NOM, 0, &body);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid string size 5000, maximum is 1024"), "'%s'", a.err);

	/* A string running past its batch. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&body, GR_EV_STRINGS);
	tg_byte(&body, GR_EV_STRING);
	tg_uv(&body, 1);
	tg_uv(&body, 100);
	tg_put(&body, "short", 5);
	tg_batch(&b, 1, TG_NOM, 0, &body);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "failed to read full string"), "'%s'", a.err);

	/* A stack deeper than Go's maximum. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&body, GR_EV_STACKS);
	tg_byte(&body, GR_EV_STACK);
	tg_uv(&body, 1);
	tg_uv(&body, 1000000);
	tg_batch(&b, 1, TG_NOM, 0, &body);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid stack size 1000000, maximum is 128"), "'%s'", a.err);

	/* A generation above the reader's bound. */
	b.n = 0;
	tg_header(&b);
	uint64_t clock = 0;
	tg_simple_generation(&b, 1, &clock, 1000);
	a = parse_mem(b.p, b.n, 0, 1000);
	CHECKF(a.rc == GORT_TP_ENOMEM && strstr(a.err, "generation larger than the reader's bound of 1000 bytes"), "'%s'",
	       a.err);
	a = parse_mem(b.p, b.n, 0, 0);
	CHECKF(a.rc == 0 && a.events == 2 + 2 * 1000 + 1, "rc %d events %llu %s", a.rc, (unsigned long long)a.events,
	       a.err);
	tg_free(&body);
	tg_free(&b);
}

static void test_missing_tables(void)
{
	tg_buf b = { 0 }, body = { 0 };
	/* An event naming a stack that the generation does not define. */
	tg_header(&b);
	TG_EV(&body, GR_EV_PROC_STATUS, 1, 0, GR_PROC_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GO_STATUS, 1, 1, 1, GR_GO_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GO_BLOCK, 1, 0, 5);
	tg_batch(&b, 1, 1, 0, &body);
	tg_freq(&b, 1, 1000000000);
	result a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EINVALID && strstr(a.err, "found invalid stack ID 5 for event GoBlock"), "'%s'", a.err);

	/* A stack whose frames name strings that are not there. */
	b.n = 0;
	tg_header(&b);
	tg_byte(&body, GR_EV_STACKS);
	tg_byte(&body, GR_EV_STACK);
	tg_uv(&body, 1);
	tg_uv(&body, 1);
	tg_uv(&body, 0x1234);
	tg_uv(&body, 7);
	tg_uv(&body, 8);
	tg_uv(&body, 10);
	tg_batch(&b, 1, TG_NOM, 0, &body);
	tg_freq(&b, 1, 1000000000);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EINVALID && strstr(a.err, "invalid func string ID 7"), "'%s'", a.err);

	/* Two frequency batches. */
	b.n = 0;
	tg_header(&b);
	tg_freq(&b, 1, 1000000000);
	tg_freq(&b, 1, 1000000000);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "found multiple frequency events"), "'%s'", a.err);

	/* A duplicate string id. */
	b.n = 0;
	tg_header(&b);
	static const char *const two[] = { "a", "b" };
	tg_strings(&b, 1, two, 2);
	tg_strings(&b, 1, two, 1);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "multiple strings with the same ID: id=1"), "'%s'", a.err);

	/* A generation with tables but no events at all (Go: empty frontier). */
	b.n = 0;
	tg_header(&b);
	tg_freq(&b, 1, 1000000000);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EINVALID && strstr(a.err, "frontier is empty"), "'%s'", a.err);
	tg_free(&body);
	tg_free(&b);
}

static void test_generation_numbers(void)
{
	tg_buf b = { 0 };
	uint64_t clock = 0;
	tg_header(&b);
	tg_simple_generation(&b, 1, &clock, 3);
	tg_simple_generation(&b, 3, &clock, 3);
	result a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "generations out of order"), "'%s'", a.err);

	b.n = 0;
	tg_header(&b);
	tg_simple_generation(&b, 0, &clock, 3);
	a = parse_buf(&b);
	CHECKF(a.rc == GORT_TP_EFORMAT && strstr(a.err, "invalid generation number 0"), "'%s'", a.err);

	/* Five good generations: five Sync events, one after each. */
	b.n = 0;
	tg_header(&b);
	for (uint64_t g = 1; g <= 5; g++)
		tg_simple_generation(&b, g, &clock, 10);
	a = parse_buf(&b);
	CHECKF(a.rc == 0 && a.syncs == 5 && a.monotonic, "rc %d syncs %llu %s", a.rc, (unsigned long long)a.syncs, a.err);
	tg_free(&b);
}

/* Accepted by Go's reader but rejected by Go's validator (gotracevalidate):
** we reject them too, and Go (when present) agrees. */
static void expect_validator_error(tg_buf *b, const char *want)
{
	/* Go's Reader alone accepts it: so do we without the validator. */
	membuf m = { b->p, b->n, 0, 0 };
	gort_tp_reader *r = gort_tp_open_callback(mem_read, &m);
	CHECK(gort_tp_set_validation(r, false) == 0);
	const gort_tp_event *ev;
	int rc;
	while ((rc = gort_tp_next(r, &ev)) > 0)
		;
	CHECKF(rc == 0, "without validation: %s", gort_tp_error(r));
	gort_tp_close(r);
	CHECK(gort_tp_set_validation(NULL, true) == -EINVAL);

	result a = parse_buf(b);
	CHECKF(a.rc == GORT_TP_EINVALID && strstr(a.err, want), "want '%s', got rc %d '%s'", want, a.rc, a.err);
	if (gort_test_have_go()) {
		const char *path = gort_test_path("validator.trace");
		FILE *f = fopen(path, "wb");
		fwrite(b->p, 1, b->n, f);
		fclose(f);
		char msg[1024];
		CHECKF(gort_test_go_validate(path, msg, sizeof msg) == 1 && strstr(msg, want), "Go says: %s", msg);
	}
}

static void test_validator_checks(void)
{
	tg_buf b = { 0 }, body = { 0 };
	/* Two goroutines declared running on one thread. */
	tg_header(&b);
	TG_EV(&body, GR_EV_PROC_STATUS, 1, 0, GR_PROC_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GO_STATUS, 1, 1, 1, GR_GO_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GO_STATUS, 1, 2, 1, GR_GO_STATUS_RUNNING);
	tg_batch(&b, 1, 1, 0, &body);
	tg_freq(&b, 1, 1000000000);
	expect_validator_error(&b, "tried to run goroutine 2 when one was already executing (1) on thread 1");

	/* A goroutine exiting inside a mark assist. */
	b.n = 0;
	tg_header(&b);
	TG_EV(&body, GR_EV_PROC_STATUS, 1, 0, GR_PROC_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GO_STATUS, 1, 1, 1, GR_GO_STATUS_RUNNING);
	TG_EV(&body, GR_EV_GC_MARK_ASSIST_BEGIN, 1, 0);
	TG_EV(&body, GR_EV_GO_DESTROY, 1);
	tg_batch(&b, 1, 1, 0, &body);
	tg_freq(&b, 1, 1000000000);
	expect_validator_error(&b, "goroutine 1 died with active ranges");
	tg_free(&body);
	tg_free(&b);
}

static ssize_t failing_read(void *ctx, void *buf, size_t len)
{
	int *calls = ctx;
	if ((*calls)++ == 0) {
		memcpy(buf, GR_GO122_HEADER, len < 16 ? len : 16);
		return len < 16 ? (ssize_t)len : 16;
	}
	errno = EIO;
	return -1;
}

static void test_io_errors(void)
{
	int calls = 0;
	gort_tp_reader *r = gort_tp_open_callback(failing_read, &calls);
	const gort_tp_event *ev;
	CHECK(r && gort_tp_next(r, &ev) == GORT_TP_EIO);
	CHECKF(strstr(gort_tp_error(r), "Input/output error at byte 16"), "'%s'", gort_tp_error(r));
	gort_tp_close(r);

	errno = 0;
	CHECK(gort_tp_open_callback(NULL, NULL) == NULL && errno == EINVAL);
	CHECK(gort_tp_open_fd(-1) == NULL && errno == EBADF);

	/* A descriptor that is not readable. */
	int fd = open(gort_test_path("wo"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	r = gort_tp_open_fd(fd);
	CHECK(r && gort_tp_next(r, &ev) == GORT_TP_EIO);
	gort_tp_close(r);
	close(fd);
}

static void test_fd_reader(void)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/data/parse/09-generation-boundary.trace",
	         getenv("GORT_SOURCE_DIR") ? getenv("GORT_SOURCE_DIR") : ".");
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc, n = 0;
	uint64_t gen = 0;
	while ((rc = gort_tp_next(r, &ev)) > 0) {
		n++;
		CHECK(ev->generation >= gen);
		gen = ev->generation;
	}
	CHECKF(rc == 0, "%s", gort_tp_error(r));
	CHECK(gen == 3 && n > 10);
	CHECK(strcmp(gort_tp_error(r), "") == 0 && gort_tp_error_offset(r) == 0);
	struct stat st;
	fstat(fd, &st);
	CHECK(gort_tp_bytes_read(r) == (uint64_t)st.st_size);
	CHECK(gort_tp_next(r, &ev) == 0);
	gort_tp_close(r);
	close(fd);
	gort_tp_close(NULL);
}

/* ---- memory bound --------------------------------------------------------- */

typedef struct genstream {
	tg_buf cur;
	size_t pos;
	uint64_t gen, ngens, clock;
	size_t per_gen;
} genstream;

static ssize_t gen_read(void *ctx, void *buf, size_t len)
{
	genstream *s = ctx;
	if (s->pos == s->cur.n) {
		if (s->gen == s->ngens)
			return 0;
		s->cur.n = s->pos = 0;
		if (s->gen == 0)
			tg_header(&s->cur);
		tg_simple_generation(&s->cur, ++s->gen, &s->clock, s->per_gen);
	}
	size_t k = s->cur.n - s->pos < len ? s->cur.n - s->pos : len;
	memcpy(buf, s->cur.p + s->pos, k);
	s->pos += k;
	return (ssize_t)k;
}

static void test_memory_bound(void)
{
	/* 40 generations of ~2.4 MB (100 MB in all), streamed: the reader's
	** memory must not grow with the number of generations. */
#ifdef GORT_SANITIZE_BUILD
	const size_t per_gen = 60000;    /* sanitizers are slow: ~20 MB in all */
#else
	const size_t per_gen = 300000;
#endif
	genstream s = { .ngens = 40, .per_gen = per_gen };
	gort_tp_reader *r = gort_tp_open_callback(gen_read, &s);
	const gort_tp_event *ev;
	int rc;
	size_t rss3 = 0, peak = 0;
	uint64_t n = 0;
	while ((rc = gort_tp_next(r, &ev)) > 0) {
		n++;
		if (ev->kind == GORT_TP_SYNC && ev->generation == 3)
			rss3 = gort_test_rss();
		if (ev->kind == GORT_TP_SYNC && ev->generation > 3) {
			size_t now = gort_test_rss();
			peak = now > peak ? now : peak;
		}
	}
	CHECKF(rc == 0, "%s", gort_tp_error(r));
	CHECK(n == 40 * (2 + 2 * per_gen + 1));
	uint64_t total = gort_tp_bytes_read(r);
	CHECKF(total > per_gen * 40 * 6, "trace only %llu bytes", (unsigned long long)total);
#ifdef GORT_SANITIZE_BUILD
	size_t slack = 32u << 20;   /* ASan's quarantine keeps freed blocks */
#else
	size_t slack = 4u << 20;
#endif
	CHECKF(peak < rss3 + slack, "RSS grew from %zu to %zu over 37 more generations", rss3, peak);
	gort_tp_close(r);
	tg_free(&s.cur);
}

/* ---- API odds and ends ------------------------------------------------------ */

static void test_names_and_format(void)
{
	CHECK(strcmp(gort_tp_kind_name(GORT_TP_STATE_TRANSITION), "StateTransition") == 0);
	CHECK(strcmp(gort_tp_kind_name((gort_tp_kind)99), "Bad") == 0);
	CHECK(strcmp(gort_tp_gstate_name(GORT_TP_G_WAITING), "Waiting") == 0);
	CHECK(strcmp(gort_tp_pstate_name(GORT_TP_P_IDLE), "Idle") == 0);
	CHECK(strcmp(gort_tp_raw_type_name(GR_EV_USER_REGION_BEGIN), "UserRegionBegin") == 0);
	CHECK(gort_tp_raw_type_name(0) == NULL && gort_tp_raw_type_name(200) == NULL);

	size_t n = 0;
	uint8_t *p = load("06-logs.trace", &n);
	CHECK(p);
	membuf m = { p, n, 0, 0 };
	gort_tp_reader *r = gort_tp_open_callback(mem_read, &m);
	CHECK(gort_tp_set_max_generation_bytes(r, 0) == -EINVAL);
	CHECK(gort_tp_set_max_generation_bytes(r, GORT_TP_MAX_GENERATION_BYTES + 1) == -EINVAL);
	const gort_tp_event *ev;
	bool saw_log = false;
	while (gort_tp_next(r, &ev) > 0) {
		if (ev->kind != GORT_TP_LOG)
			continue;
		char buf[512], small[8];
		size_t need = gort_tp_format_event(ev, buf, sizeof buf);
		CHECK(need == strlen(buf) && strstr(buf, " Log Time=") && strstr(buf, "Category="));
		CHECK(gort_tp_format_event(ev, small, sizeof small) == need && strlen(small) == 7);
		CHECK(gort_tp_format_event(ev, NULL, 0) == need);
		saw_log = true;
	}
	CHECK(saw_log);
	gort_tp_close(r);
	free(p);
}

int main(void)
{
	RUN(test_valid_examples);
	RUN(test_bad_examples);
	RUN(test_truncation);
	RUN(test_headers);
	RUN(test_corrupt_varints);
	RUN(test_impossible_sizes);
	RUN(test_missing_tables);
	RUN(test_generation_numbers);
	RUN(test_validator_checks);
	RUN(test_io_errors);
	RUN(test_fd_reader);
	RUN(test_memory_bound);
	RUN(test_names_and_format);
	return gort_test_summary();
}
