/*
** tests/trace/test_strings.c: the tracer's per-thread string cache is keyed
** by pointer, so one buffer reused for different strings (shorter, longer,
** same length with one byte changed at the head, middle or tail) must give
** each annotation its own bytes. The trace is read back with gort's parser
** and checked by Go's validator. Under ASan this also proves the cache never
** reads past a shorter string now stored at a cached pointer.
*/
#include "testhelper.h"
#include "trace_util.h"

#include <gort/trace.h>
#include <gort/traceparse.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NSTR = 8 };

/* Strings written through one buffer, in order. */
static const char *const texts[NSTR] = {
	"a-rather-long-region-type-name-0001",
	"short",
	"a-rather-long-region-type-name-0001",   /* same as the first again */
	"a-rather-long-region-type-name-0002",   /* tail byte differs */
	"b-rather-long-region-type-name-0002",   /* head byte differs */
	"b-rather-long-regiXn-type-name-0002",   /* middle byte differs */
	"x",
	"twelve-bytes",
};

static void test_reused_buffer(void)
{
	const char *path = gort_test_path("strings.trace");
	/* An exact-size heap buffer: a read past a shorter string is an ASan error. */
	char *buf = malloc(64);
	CHECK(buf != NULL);
	if (!buf)
		return;
	CHECK(gort_trace_start_file(path) == 0);
	for (int i = 0; i < NSTR; i++) {
		strcpy(buf, texts[i]);
		gort_trace_region_begin(0, buf);
		gort_trace_log(0, buf, buf);
		gort_trace_region_end(0, buf);
	}
	CHECK(gort_trace_stop() == 0);
	free(buf);

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	gort_tp_reader *r = gort_tp_open_fd(fd);
	const gort_tp_event *ev;
	int rc, regions = 0, logs = 0;
	while (r && (rc = gort_tp_next(r, &ev)) > 0) {
		const gort_tp_str *s = NULL;
		int idx = 0;
		if (ev->kind == GORT_TP_REGION_BEGIN) {
			s = &ev->u.region.type;
			idx = regions++;
		} else if (ev->kind == GORT_TP_LOG) {
			CHECK(ev->u.log.category.len == ev->u.log.message.len &&
			      memcmp(ev->u.log.category.ptr, ev->u.log.message.ptr, ev->u.log.message.len) == 0);
			s = &ev->u.log.message;
			idx = logs++;
		}
		if (!s || idx >= NSTR)
			continue;
		CHECKF(s->len == strlen(texts[idx]) && memcmp(s->ptr, texts[idx], s->len) == 0,
		       "annotation %d: got '%.*s', want '%s'", idx, (int)s->len, s->ptr, texts[idx]);
	}
	CHECKF(r && rc == 0, "parse: %s", r ? gort_tp_error(r) : "no reader");
	CHECK(regions == NSTR && logs == NSTR);
	gort_tp_close(r);
	close(fd);

	tu_validate(path);
}

int main(void)
{
	RUN(test_reused_buffer);
	return gort_test_summary();
}
