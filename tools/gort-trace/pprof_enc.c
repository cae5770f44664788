/*
** tools/gort-trace/pprof_enc.c: protobuf wire primitives and gzip output
** for the pprof writer (see pprof.h). Varints are base-128 little-endian;
** int64 fields are written as their two's complement uint64 (proto3 int64).
*/
#include "pprof.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef GT_HAVE_ZLIB
#include <zlib.h>
#endif

void gt_pb_varint(gt_buf *b, uint64_t v)
{
	while (v >= 0x80) {
		gt_buf_byte(b, (unsigned char)(v | 0x80));
		v >>= 7;
	}
	gt_buf_byte(b, (unsigned char)v);
}

void gt_pb_key(gt_buf *b, unsigned field, unsigned wiretype)
{
	gt_pb_varint(b, ((uint64_t)field << 3) | wiretype);
}

void gt_pb_uint(gt_buf *b, unsigned field, uint64_t v)
{
	if (!v)
		return;
	gt_pb_key(b, field, 0);
	gt_pb_varint(b, v);
}

void gt_pb_bytes(gt_buf *b, unsigned field, const void *p, size_t n)
{
	gt_pb_key(b, field, 2);
	gt_pb_varint(b, n);
	gt_buf_put(b, p, n);
}

void gt_pb_packed(gt_buf *b, unsigned field, const uint64_t *v, size_t n)
{
	if (!n)
		return;
	gt_buf tmp = { 0 };
	for (size_t i = 0; i < n; i++)
		gt_pb_varint(&tmp, v[i]);
	gt_pb_bytes(b, field, tmp.p, tmp.len);
	gt_buf_free(&tmp);
}

int gt_pprof_write_gz(const gt_buf *data, const char *path)
{
#ifdef GT_HAVE_ZLIB
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		close(fd);
		return -ENOMEM;
	}
	zs.next_in = data->p;
	zs.avail_in = (uInt)data->len;
	unsigned char out[1 << 16];
	int zr, err = 0;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof out;
		zr = deflate(&zs, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			err = -EIO;
			break;
		}
		size_t have = sizeof out - zs.avail_out;
		for (size_t off = 0; off < have;) {
			ssize_t w = write(fd, out + off, have - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				err = -errno;
				break;
			}
			off += (size_t)w;
		}
	} while (!err && zr != Z_STREAM_END);
	deflateEnd(&zs);
	if (close(fd) != 0 && !err)
		err = -errno;
	return err;
#else
	(void)data, (void)path;
	return -ENOTSUP;
#endif
}
