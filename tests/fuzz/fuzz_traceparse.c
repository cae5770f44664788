/*
** tests/fuzz/fuzz_traceparse.c: libFuzzer target for the trace reader.
**
** Feeds arbitrary bytes through the callback reader (in uneven chunks, so
** buffer refills happen at every position), reads every event, formats it
** and touches its strings and frames. The reader must never crash, hang or
** allocate without bound on any input; ASan/UBSan and libFuzzer's RSS and
** timeout limits check that. The generation bound is lowered to 8 MB so that
** a large claimed generation fails fast instead of growing memory.
*/
#include <gort/traceparse.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct input {
	const uint8_t *p;
	size_t n, pos;
} input;

static ssize_t feed(void *ctx, void *buf, size_t len)
{
	input *in = ctx;
	size_t k = in->n - in->pos;
	/* Chunk sizes follow the data, so refills land at varied offsets. */
	size_t chunk = in->pos < in->n ? 1 + in->p[in->pos] % 97 : 1;
	if (k > chunk)
		k = chunk;
	if (k > len)
		k = len;
	memcpy(buf, in->p + in->pos, k);
	in->pos += k;
	return (ssize_t)k;
}

static volatile size_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	input in = { data, size, 0 };
	gort_tp_reader *r = gort_tp_open_callback(feed, &in);
	if (!r)
		return 0;
	gort_tp_set_max_generation_bytes(r, 8u << 20);
	const gort_tp_event *ev;
	char line[2048];
	int rc;
	while ((rc = gort_tp_next(r, &ev)) > 0) {
		sink += gort_tp_format_event(ev, line, sizeof line);
		for (size_t i = 0; i < ev->stack.nframes; i++)
			sink += ev->stack.frames[i].func.len + ev->stack.frames[i].file.len;
		if (ev->kind == GORT_TP_STATE_TRANSITION)
			sink += ev->u.transition.reason.len + ev->u.transition.stack.nframes;
	}
	if (rc < 0)
		sink += strlen(gort_tp_error(r)) + gort_tp_error_offset(r);
	sink += gort_tp_bytes_read(r);
	gort_tp_close(r);
	return 0;
}
