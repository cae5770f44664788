/*
** tools/gort-trace/input.c: the input loop shared by the reading subcommands.
**
** Opens a trace (a path, or "-" for stdin), reads it through the parser's
** callback interface (so an optional tee sees every raw byte, for stats'
** bytes-by-type), updates the progress bar, and turns parser errors into
** one line: "gort-trace: <cmd>: <path>: <what> at byte <offset>".
*/
#include "gt.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t input_read(void *ctx, void *buf, size_t len)
{
	gt_input *in = ctx;
	ssize_t n;
	do
		n = read(in->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0 && in->tee)
		in->tee(in->tee_ctx, buf, (size_t)n);
	return n;
}

int gt_input_open(gt_input *in, const char *cmd, const char *path, bool validator)
{
	memset(in, 0, sizeof *in);
	in->cmd = cmd;
	in->path = path;
	if (strcmp(path, "-") == 0) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			gt_err(cmd, "%s: cannot open: %s", path, strerror(errno));
			return -1;
		}
	}
	struct stat st;
	uint64_t total = 0;
	if (fstat(in->fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			gt_err(cmd, "%s: is a directory", path);
			gt_input_close(in);
			return -1;
		}
		if (S_ISREG(st.st_mode))
			total = (uint64_t)st.st_size;
	}
	in->r = gort_tp_open_callback(input_read, in);
	if (!in->r) {
		gt_err(cmd, "%s: cannot create a trace reader: %s", path, strerror(errno));
		gt_input_close(in);
		return -1;
	}
	gort_tp_set_validation(in->r, validator);
	gt_progress_init(&in->prog, cmd, total);
	return 0;
}

int gt_input_next(gt_input *in, const gort_tp_event **ev)
{
	int rc = gort_tp_next(in->r, ev);
	if (rc > 0) {
		if ((++in->nevents & 0xffff) == 0 || in->nevents == 1)
			gt_progress_update(&in->prog, gort_tp_bytes_read(in->r));
		return 1;
	}
	gt_progress_done(&in->prog);
	if (rc == 0)
		return 0;
	const char *msg = gort_tp_error(in->r);
	if (!msg || !*msg)
		gt_err(in->cmd, "%s: invalid trace (error %d) at byte %llu", in->path, rc,
		       (unsigned long long)gort_tp_error_offset(in->r));
	else if (strstr(msg, "at byte"))
		gt_err(in->cmd, "%s: %s", in->path, msg);
	else
		gt_err(in->cmd, "%s: %s at byte %llu", in->path, msg,
		       (unsigned long long)gort_tp_error_offset(in->r));
	return -1;
}

void gt_input_close(gt_input *in)
{
	if (in->r)
		gort_tp_close(in->r);
	in->r = NULL;
	if (in->fd > 2)
		close(in->fd);
	in->fd = -1;
}
