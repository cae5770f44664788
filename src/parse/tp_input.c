/*
** src/parse/tp_input.c: buffered byte input for the trace reader.
**
** Reads from a file descriptor (read(2), EINTR retried) or a user callback
** into one fixed buffer; tracks the absolute input offset so that every error
** can name its byte. Varint decoding follows Go's encoding/binary exactly
** (at most 10 bytes, the 10th at most 1).
**
** Invariants: buf[pos..len) is unread input; base + pos is the offset of the
** next byte; once eof or err is set no further reads are attempted.
** Owner: the reader that embeds the tp_in; single-threaded.
*/
#include "internal/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int _gr_tp_in_init(tp_in *in, size_t cap)
{
	in->buf = malloc(cap);
	if (!in->buf)
		return -ENOMEM;
	in->cap = cap;
	in->pos = in->len = 0;
	in->base = 0;
	in->eof = false;
	in->err = 0;
	return 0;
}

void _gr_tp_in_free(tp_in *in)
{
	free(in->buf);
	in->buf = NULL;
}

/* Refill the buffer; returns bytes available (0 at end or error). */
static size_t fill(tp_in *in)
{
	if (in->pos < in->len)
		return in->len - in->pos;
	if (in->eof || in->err)
		return 0;
	in->base += in->len;
	in->pos = in->len = 0;
	for (;;) {
		ssize_t n;
		if (in->fn)
			n = in->fn(in->ctx, in->buf, in->cap);
		else
			n = read(in->fd, in->buf, in->cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			in->err = errno ? errno : EIO;
			return 0;
		}
		if (n == 0) {
			in->eof = true;
			return 0;
		}
		if ((size_t)n > in->cap) {   /* a broken callback: treat as I/O error */
			in->err = EIO;
			return 0;
		}
		in->len = (size_t)n;
		return in->len;
	}
}

int _gr_tp_in_byte(tp_in *in, uint8_t *b)
{
	if (GORT_UNLIKELY(in->pos == in->len) && fill(in) == 0)
		return in->err ? -1 : 0;
	*b = in->buf[in->pos++];
	return 1;
}

int _gr_tp_in_uvarint(tp_in *in, uint64_t *v)
{
	/* Fast path: the whole varint is buffered. */
	if (in->len - in->pos >= 10) {
		int n = _gr_tp_uvarint(in->buf + in->pos, 10, v);
		if (n > 0) {
			in->pos += (size_t)n;
			return 1;
		}
		in->pos += (size_t)(-n);
		return -3;
	}
	uint64_t x = 0;
	unsigned s = 0;
	for (int i = 0; i < 10; i++) {
		uint8_t b;
		int rc = _gr_tp_in_byte(in, &b);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return i == 0 ? 0 : -2;
		if (b < 0x80) {
			if (i == 9 && b > 1)
				return -3;
			*v = x | (uint64_t)b << s;
			return 1;
		}
		x |= (uint64_t)(b & 0x7f) << s;
		s += 7;
	}
	return -3;
}

size_t _gr_tp_in_read(tp_in *in, void *dst, size_t n)
{
	uint8_t *d = dst;
	size_t done = 0;
	while (done < n) {
		size_t avail = fill(in);
		if (avail == 0)
			break;
		size_t k = n - done < avail ? n - done : avail;
		memcpy(d + done, in->buf + in->pos, k);
		in->pos += k;
		done += k;
	}
	return done;
}
