/*
** tests/trace/test_sinks.c: several consumers at once (flight recorder +
** file trace, as Go allows): a sink attached mid-trace gets the header and
** whole generations, generation_done follows each generation's last byte,
** close follows the last byte, tracing stops when the last sink leaves, a
** failing sink is detached. Each sink's bytes must pass Go's validator.
*/
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gort/trace.h>
#include "internal/trace.h"
#include "testhelper.h"
#include "trace_util.h"

typedef struct memsink {
	unsigned char *buf;
	size_t len, cap;
	uint64_t gens[256];
	size_t ends[256];        /* byte length after each generation */
	int ngens;
	int closes;
	size_t len_at_close;
	bool done_after_bytes;   /* every generation_done came after >= 1 byte of it */
	size_t len_at_last_done;
	int fail_after;          /* write returns -1 after this many calls (0 = never) */
	int writes;
} memsink;

static int ms_write(void *ctx, const void *p, size_t n)
{
	memsink *m = ctx;
	m->writes++;
	if (m->fail_after && m->writes > m->fail_after)
		return -EIO;
	if (m->len + n > m->cap) {
		m->cap = (m->len + n) * 2;
		m->buf = realloc(m->buf, m->cap);
	}
	memcpy(m->buf + m->len, p, n);
	m->len += n;
	return 0;
}

static void ms_done(void *ctx, uint64_t gen)
{
	memsink *m = ctx;
	if (m->len == m->len_at_last_done)
		m->done_after_bytes = false;
	m->len_at_last_done = m->len;
	if (m->ngens < 256) {
		m->ends[m->ngens] = m->len;
		m->gens[m->ngens++] = gen;
	}
}

static void ms_close(void *ctx)
{
	memsink *m = ctx;
	m->len_at_close = m->len;
	__atomic_fetch_add(&m->closes, 1, __ATOMIC_RELEASE);
}

static void ms_init(memsink *m, gr_trace_sink *s)
{
	memset(m, 0, sizeof *m);
	m->done_after_bytes = true;
	s->write = ms_write;
	s->generation_done = ms_done;
	s->close = ms_close;
	s->ctx = m;
}

static void ms_save_validate(memsink *m, const char *name)
{
	const char *path = gort_test_path(name);
	FILE *f = fopen(path, "wb");
	fwrite(m->buf, 1, m->len, f);
	fclose(f);
	CHECK(m->len > 16 && memcmp(m->buf, "go 1.22 trace\0\0\0", 16) == 0);
	tu_validate(path);
}

static void annotate(const char *what, int n)
{
	for (int i = 0; i < n; i++) {
		gort_trace_region_begin(0, what);
		gort_trace_logf(0, what, "%d", i);
		gort_trace_region_end(0, what);
	}
}

static void *bg_annotator(void *arg)
{
	_Atomic int *stop = arg;
	gort_trace_thread_name("annotator");
	while (!*stop) {
		annotate("bg", 10);
		usleep(500);
	}
	return NULL;
}

static void test_two_sinks(void)
{
	memsink a, b;
	gr_trace_sink sa, sb;
	ms_init(&a, &sa);
	ms_init(&b, &sb);
	_Atomic int stop = 0;
	pthread_t th;
	CHECK(_gr_trace_start_sink(&sa) == 0);
	CHECK(_gr_trace_start_sink(&sa) == -EBUSY);
	CHECK(gort_trace_enabled());
	pthread_create(&th, NULL, bg_annotator, (void *)&stop);
	annotate("a-only", 20);
	CHECK(_gr_trace_advance_generation() == 0);
	annotate("a-only", 20);
	/* A region open across the attach: b must still validate. */
	gort_trace_region_begin(0, "across-attach");
	CHECK(_gr_trace_start_sink(&sb) == 0);
	annotate("both", 20);
	CHECK(_gr_trace_advance_generation() == 0);
	annotate("both", 20);
	gort_trace_region_end(0, "across-attach");
	CHECK(_gr_trace_stop_sink(&sb) == 0);
	CHECK(b.closes == 1);
	CHECK(gort_trace_enabled());   /* a is still attached */
	annotate("a-again", 20);
	CHECK(_gr_trace_stop_sink(&sb) == -ENOENT);
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	CHECK(_gr_trace_stop_sink(&sa) == 0);
	CHECK(!gort_trace_enabled());
	CHECK(a.closes == 1 && a.len == a.len_at_close);
	CHECK(b.len == b.len_at_close);
	CHECK(a.done_after_bytes && b.done_after_bytes);
	CHECKF(a.ngens >= 4 && b.ngens >= 1, "gens a=%d b=%d", a.ngens, b.ngens);
	for (int i = 1; i < a.ngens; i++)
		CHECK(a.gens[i] == a.gens[i - 1] + 1);
	/* b got whole generations: its first is one a also got, later. */
	CHECK(b.ngens > 0 && b.gens[0] > a.gens[0]);
	ms_save_validate(&a, "sink-a.trace");
	ms_save_validate(&b, "sink-b.trace");
	free(a.buf);
	free(b.buf);
}

static void test_file_and_sink(void)
{
	memsink a;
	gr_trace_sink sa;
	ms_init(&a, &sa);
	const char *path = gort_test_path("with-file.trace");
	CHECK(_gr_trace_start_sink(&sa) == 0);
	annotate("flight", 10);
	CHECK(gort_trace_start_file(path) == 0);   /* the reader joins a running trace */
	annotate("both", 10);
	CHECK(gort_trace_stop() == 0);
	CHECK(gort_trace_enabled());
	annotate("flight", 10);
	CHECK(_gr_trace_stop_sink(&sa) == 0);
	tu_validate(path);
	ms_save_validate(&a, "with-file-sink.trace");
	free(a.buf);
}

static void test_failing_sink_detached(void)
{
	memsink a;
	gr_trace_sink sa;
	ms_init(&a, &sa);
	a.fail_after = 3;
	CHECK(_gr_trace_start_sink(&sa) == 0);
	for (int i = 0; i < 20 && gort_trace_enabled(); i++) {
		annotate("x", 100);
		_gr_trace_advance_generation();
	}
	for (int i = 0; i < 200 && gort_trace_enabled(); i++)
		usleep(5000);
	CHECK(!gort_trace_enabled());
	/* close comes from the background thread after the last byte. */
	for (int i = 0; i < 400 && __atomic_load_n(&a.closes, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(5000);
	CHECK(__atomic_load_n(&a.closes, __ATOMIC_ACQUIRE) == 1);
	/* A new trace can start afterwards. */
	memsink b;
	gr_trace_sink sb;
	ms_init(&b, &sb);
	CHECK(_gr_trace_start_sink(&sb) == 0);
	annotate("y", 10);
	CHECK(_gr_trace_stop_sink(&sb) == 0);
	ms_save_validate(&b, "after-fail.trace");
	free(a.buf);
	free(b.buf);
}

/* ---- any suffix of generations is a valid trace ---- */

static _Atomic int release_all;

static void *silent_runner(void *arg)
{
	(void)arg;
	gort_trace_thread_name("silent-runner");
	gort_trace_region_begin(0, "long");
	while (!atomic_load(&release_all))
		;   /* running, writing nothing, across boundaries */
	gort_trace_region_end(0, "long");
	return NULL;
}

static void *silent_blocker(void *arg)
{
	(void)arg;
	gort_trace_thread_name("silent-blocker");
	gort_trace_block_begin("sync");
	while (!atomic_load(&release_all))
		usleep(1000);
	gort_trace_block_end();
	gort_trace_log(0, "blocker", "woke");
	return NULL;
}

static void *silent_syscall(void *arg)
{
	(void)arg;
	gort_trace_thread_name("silent-syscall");
	gort_trace_syscall_begin();
	while (!atomic_load(&release_all))
		usleep(1000);
	gort_trace_syscall_end();
	gort_trace_log(0, "syscall", "returned");
	return NULL;
}

static void test_every_suffix_valid(void)
{
	memsink a;
	gr_trace_sink sa;
	ms_init(&a, &sa);
	atomic_store(&release_all, 0);
	CHECK(_gr_trace_start_sink(&sa) == 0);
	uint64_t task = gort_trace_task_begin(0, "spanning");
	pthread_t th[3];
	pthread_create(&th[0], NULL, silent_runner, NULL);
	pthread_create(&th[1], NULL, silent_blocker, NULL);
	pthread_create(&th[2], NULL, silent_syscall, NULL);
	usleep(20000);
	for (int i = 0; i < 5; i++) {
		if (i == 2)
			gort_trace_log(task, "main", "middle");
		CHECK(_gr_trace_advance_generation() == 0);
	}
	atomic_store(&release_all, 1);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	gort_trace_task_end(task);
	CHECK(_gr_trace_stop_sink(&sa) == 0);
	CHECK(a.ngens >= 6);
	ms_save_validate(&a, "suffix-all.trace");
	for (int k = 1; k < a.ngens; k++) {
		memsink b;
		memset(&b, 0, sizeof b);
		size_t from = a.ends[k - 1];
		b.cap = b.len = 16 + (a.len - from);
		b.buf = malloc(b.cap);
		memcpy(b.buf, a.buf, 16);
		memcpy(b.buf + 16, a.buf + from, a.len - from);
		char name[64];
		snprintf(name, sizeof name, "suffix-%d.trace", k);
		ms_save_validate(&b, name);
		free(b.buf);
	}
	free(a.buf);
}

int main(void)
{
	RUN(test_two_sinks);
	RUN(test_file_and_sink);
	RUN(test_failing_sink_detached);
	RUN(test_every_suffix_valid);
	return gort_test_summary();
}
