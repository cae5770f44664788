/*
** tests/parse/tp_dump.c: prints every event of a trace in Go's Event.String()
** form (one event per line group, like `gotracevalidate -log-events`), or the
** reader's error on stderr with exit status 1. Used by the conformance and
** real-trace tests to diff our reader against Go's.
** Usage: tp_dump [-q] FILE|-     (-q: count events, print nothing per event)
*/
#include <gort/traceparse.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	bool quiet = argc > 2 && strcmp(argv[1], "-q") == 0;
	const char *path = argv[argc - 1];
	if (argc < 2) {
		fprintf(stderr, "usage: tp_dump [-q] FILE|-\n");
		return 2;
	}
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	gort_tp_reader *r = gort_tp_open_fd(fd);
	if (!r) {
		perror("gort_tp_open_fd");
		return 2;
	}
	static char buf[1 << 16];
	const gort_tp_event *ev;
	unsigned long long n = 0;
	int rc;
	while ((rc = gort_tp_next(r, &ev)) > 0) {
		n++;
		if (quiet)
			continue;
		gort_tp_format_event(ev, buf, sizeof buf);
		puts(buf);
	}
	if (rc < 0)
		fprintf(stderr, "error: %s\n", gort_tp_error(r));
	else if (quiet)
		printf("%llu events\n", n);
	gort_tp_close(r);
	if (fd > 0)
		close(fd);
	return rc < 0 ? 1 : 0;
}
