/*
** tools/gort-trace/cmd_export.c: `gort-trace export --format=perfetto FILE -o OUT.json`.
** Streams the trace into the Chrome/Perfetto JSON writer (perfetto.c).
** The output is written to OUT.json.tmp and renamed at the end, so a
** failed export leaves no half-written file behind.
*/
#include "opts.h"
#include "perfetto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef GT_HAVE_ZLIB
#include <zlib.h>
#endif

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

#ifdef GT_HAVE_ZLIB
/* A FILE that gzip-compresses into a gzFile (fopencookie), so the JSON
** writer needs no second code path. */
static ssize_t gz_cookie_write(void *c, const char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		unsigned chunk = n - done > (1u << 30) ? 1u << 30 : (unsigned)(n - done);
		int w = gzwrite((gzFile)c, buf + done, chunk);
		if (w <= 0) {
			errno = EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)w;
	}
	return (ssize_t)n;
}

static int gz_cookie_close(void *c)
{
	return gzclose((gzFile)c) == Z_OK ? 0 : (errno = EIO, -1);
}

static FILE *gz_fopen(const char *path)
{
	gzFile z = gzopen(path, "wb6");
	if (!z)
		return NULL;
	cookie_io_functions_t io = { .write = gz_cookie_write, .close = gz_cookie_close };
	FILE *f = fopencookie(z, "w", io);
	if (!f)
		gzclose(z);
	return f;
}
#endif

static void help(void)
{
	printf("usage: " GT_PROG " export --format=perfetto [--from T] [--to T] FILE -o OUT.json\n\n"
	       "Convert a trace to the Chrome trace-event JSON format, which\n"
	       "ui.perfetto.dev and chrome://tracing open: one track per thread\n"
	       "(goroutine) with running/runnable/blocked/syscall slices, its regions as\n"
	       "nested slices on a second track, tasks as async slices linked by flow\n"
	       "arrows across threads, logs and CPU samples as instant events, the heap\n"
	       "as a counter track, GC/STW ranges as async slices.\n\n"
	       "  -f, --format F   output format: perfetto (the only one; also 'chrome', 'json')\n"
	       "  -o, --output OUT write to OUT ('-' = stdout); required. OUT ending in .gz is\n"
	       "                   written gzip-compressed (Perfetto and chrome://tracing open it)\n"
	       "      --from T     start of the window, time since the first event (e.g. 1.5s, 200ms)\n"
	       "      --to T       end of the window, time since the first event\n");
}

int gt_cmd_export(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *format = NULL, *out = NULL;
	uint64_t from = 0, to = UINT64_MAX;
	int c;
	gt_opts_reset();
	while ((c = gt_getopt("export", argc, argv, ":f:o:h", lo)) != -1) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'F':
		case 'T':
			if (gt_parse_duration(optarg, c == 'F' ? &from : &to) < 0) {
				gt_err("export", "--%s: not a duration: '%s' (e.g. 1.5s, 200ms, 30us)",
				       c == 'F' ? "from" : "to", optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (!format) {
		gt_err("export", "missing --format (use --format=perfetto)");
		return 2;
	}
	if (strcmp(format, "perfetto") != 0 && strcmp(format, "chrome") != 0 && strcmp(format, "json") != 0) {
		gt_err("export", "unknown format '%s' (supported: perfetto)", format);
		return 2;
	}
	if (!out) {
		gt_err("export", "missing -o OUT.json");
		return 2;
	}
	if (from >= to) {
		gt_err("export", "empty window: --from must be before --to");
		return 2;
	}
	const char *path;
	if (gt_one_file("export", argc, argv, &path) < 0)
		return 2;
	gt_input in;
	if (gt_input_open(&in, "export", path, false) < 0)
		return 1;
	bool to_stdout = strcmp(out, "-") == 0;
	char *tmp = NULL;
	FILE *f = stdout;
	if (!to_stdout) {
		size_t n = strlen(out) + 8;
		tmp = gt_xmalloc(n);
		snprintf(tmp, n, "%s.tmp", out);
		if (ends_with(out, ".gz")) {
#ifdef GT_HAVE_ZLIB
			f = gz_fopen(tmp);
#else
			gt_err("export", "%s: gzip output needs zlib, which this build lacks", out);
			gt_input_close(&in);
			free(tmp);
			return 1;
#endif
		} else
			f = fopen(tmp, "w");
		if (!f) {
			gt_err("export", "%s: cannot create: %s", out, strerror(errno));
			gt_input_close(&in);
			free(tmp);
			return 1;
		}
		setvbuf(f, NULL, _IOFBF, 1 << 16);
	}
	if (to_stdout && isatty(STDOUT_FILENO))
		in.prog.on = false;   /* JSON streams to the terminal: no bar in it */
	gt_perfetto *p = gt_perfetto_new(f, from, to, path);
	const gort_tp_event *ev;
	int rc;
	while ((rc = gt_input_next(&in, &ev)) > 0)
		gt_perfetto_event(p, ev);
	gt_input_close(&in);
	int status = 0;
	if (rc < 0) {
		status = 1;
	} else if (gt_perfetto_finish(p) < 0) {
		gt_err("export", "%s: write error: %s", out, strerror(errno));
		status = 1;
	}
	gt_perfetto_free(p);
	long size = to_stdout ? -1 : ftell(f);
	if (status == 0 && size > (1L << 30))
		gt_err("export", "%s: warning: %.1f GB of JSON; the Perfetto UI loads JSON up to "
		       "about 1-2 GB: use --from/--to for a window", out, size / 1e9);
	if (!to_stdout) {
		if (fclose(f) != 0 && status == 0) {
			gt_err("export", "%s: write error: %s", out, strerror(errno));
			status = 1;
		}
		if (status == 0 && rename(tmp, out) != 0) {
			gt_err("export", "%s: cannot rename from %s: %s", out, tmp, strerror(errno));
			status = 1;
		}
		if (status != 0)
			unlink(tmp);
		free(tmp);
	}
	return status;
}
