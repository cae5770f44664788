/*
** tools/gort-trace/cmd_record.c: `gort-trace record [-o FILE] -- CMD ARGS...`.
**
** Runs CMD with LD_PRELOAD=libgort-preload.so (prepended to any existing
** LD_PRELOAD) and GORT_TRACE=FILE, waits for it, and exits with its status
** (128 + signal number if it was killed). While the command runs, SIGINT
** and SIGQUIT are ignored here so that ^C reaches the command and the trace
** is still reported, as time(1) does.
**
** The library is looked up in order: $GORT_PRELOAD_LIB; the build tree
** (<dir of gort-trace>/../../preload/libgort-preload.so); an installed
** layout (<dir of gort-trace>/../lib64 or ../lib, etc.); the install
** libdir compiled in (GT_INSTALL_LIBDIR).
*/
#include "opts.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GT_INSTALL_LIBDIR
#define GT_INSTALL_LIBDIR "/usr/local/lib"
#endif
#define PRELOAD_NAME "libgort-preload.so"

static void help(void)
{
	printf("usage: " GT_PROG " record [-o FILE] [--] CMD [ARGS...]\n\n"
	       "Run CMD under gort's LD_PRELOAD tracer (libgort-preload.so) and write\n"
	       "its execution trace to FILE (default: CMD's base name + '.trace' in the\n"
	       "current directory; '%%p' in FILE becomes the process id). Exits with\n"
	       "CMD's exit status. Threads, locks, sleeps and blocking system calls of\n"
	       "CMD are traced; set GORT_TRACE_CPU_HZ, GORT_TRACE_STACK_DEPTH,\n"
	       "GORT_TRACE_PERIOD to tune (see docs/gort-trace.md).\n\n"
	       "  -o, --output FILE  trace file to write\n"
	       "  -q, --quiet        don't print the 'wrote FILE' line\n\n"
	       "The library is found through $GORT_PRELOAD_LIB, next to gort-trace\n"
	       "(build tree or installed lib directory), or in " GT_INSTALL_LIBDIR ".\n");
}

/* out = a + b + c; false (out empty) if it does not fit. */
static bool cat3(char *out, size_t cap, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	if (la + lb + lc + 1 > cap) {
		out[0] = 0;
		return false;
	}
	memcpy(out, a, la);
	memcpy(out + la, b, lb);
	memcpy(out + la + lb, c, lc + 1);
	return true;
}

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Find the preload library; returns 0 and fills out, or -1. */
static int find_lib(char *out, size_t cap)
{
	const char *env = getenv("GORT_PRELOAD_LIB");
	if (env && *env) {
		if (!is_file(env)) {
			gt_err("record", "GORT_PRELOAD_LIB=%s: no such file", env);
			return -2;
		}
		snprintf(out, cap, "%s", env);
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			/* build tree: build/tools/gort-trace/gort-trace -> build/preload/ */
			if (cat3(out, cap, exe, "/../../preload/", PRELOAD_NAME) && is_file(out))
				return 0;
			/* install: prefix/bin/gort-trace -> prefix/lib64 or prefix/lib */
			char parent[PATH_MAX];
			cat3(parent, sizeof parent, exe, "/..", "");
			DIR *d = opendir(parent);
			if (d) {
				struct dirent *e;
				int found = -1;
				while (found < 0 && (e = readdir(d)) != NULL) {
					if (strncmp(e->d_name, "lib", 3) != 0)
						continue;
					char sub[PATH_MAX];
					if (cat3(sub, sizeof sub, parent, "/", e->d_name) &&
					    cat3(out, cap, sub, "/", PRELOAD_NAME) && is_file(out))
						found = 0;
				}
				closedir(d);
				if (found == 0)
					return 0;
			}
		}
	}
	snprintf(out, cap, "%s/" PRELOAD_NAME, GT_INSTALL_LIBDIR);
	if (is_file(out))
		return 0;
	return -1;
}

int gt_cmd_record(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = NULL;
	bool quiet = false;
	int c;
	gt_opts_reset();
	/* '+': stop at the first non-option, so CMD's own options stay CMD's. */
	while ((c = gt_getopt("record", argc, argv, "+:o:qh", lo)) != -1) {
		if (c == 'h') {
			help();
			return 0;
		} else if (c == 'o') {
			out = optarg;
		} else if (c == 'q') {
			quiet = true;
		} else
			return 2;
	}
	if (optind >= argc) {
		gt_err("record", "missing command to run (usage: record [-o FILE] -- CMD ARGS...)");
		return 2;
	}
	char **cmdv = argv + optind;
	char lib[PATH_MAX + 64];
	int lr = find_lib(lib, sizeof lib);
	if (lr == -1) {
		gt_err("record", PRELOAD_NAME " not found (set GORT_PRELOAD_LIB, or build/install gort with the preload library)");
		return 2;
	}
	if (lr < 0)
		return 2;
	/* absolute path: the command may chdir */
	char abslib[PATH_MAX];
	if (realpath(lib, abslib))
		cat3(lib, sizeof lib, abslib, "", "");

	char deflt[PATH_MAX];
	if (!out) {
		const char *base = strrchr(cmdv[0], '/');
		base = base ? base + 1 : cmdv[0];
		if (!cat3(deflt, sizeof deflt, *base ? base : "gort", ".trace", ""))
			cat3(deflt, sizeof deflt, "gort.trace", "", "");
		out = deflt;
	}
	/* absolute trace path too */
	char absout[PATH_MAX];
	if (out[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) || !cat3(absout, sizeof absout, cwd, "/", out))
			cat3(absout, sizeof absout, out, "", "");
	} else
		cat3(absout, sizeof absout, out, "", "");

	const char *old = getenv("LD_PRELOAD");
	size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *preload = gt_xmalloc(n);
	if (old && *old)
		snprintf(preload, n, "%s:%s", lib, old);
	else
		snprintf(preload, n, "%s", lib);

	struct sigaction ign = { .sa_handler = SIG_IGN }, oldint, oldquit;
	sigemptyset(&ign.sa_mask);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		gt_err("record", "fork: %s", strerror(errno));
		free(preload);
		return 2;
	}
	if (pid == 0) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("GORT_TRACE", absout, 1);
		execvp(cmdv[0], cmdv);
		int e = errno;
		gt_err("record", "%s: cannot run: %s", cmdv[0], strerror(e));
		_exit(e == ENOENT ? 127 : 126);
	}
	free(preload);
	sigaction(SIGINT, &ign, &oldint);
	sigaction(SIGQUIT, &ign, &oldquit);
	int status;
	pid_t w;
	do
		w = waitpid(pid, &status, 0);
	while (w < 0 && errno == EINTR);
	sigaction(SIGINT, &oldint, NULL);
	sigaction(SIGQUIT, &oldquit, NULL);
	if (w < 0) {
		gt_err("record", "waitpid: %s", strerror(errno));
		return 2;
	}
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
	if (!quiet && !(WIFEXITED(status) && (code == 126 || code == 127))) {
		struct stat st;
		if (strstr(absout, "%p"))
			fprintf(stderr, GT_PROG ": record: trace written to %s (%%p = process id)\n", out);
		else if (stat(absout, &st) == 0)
			fprintf(stderr, GT_PROG ": record: wrote %s (%lld bytes)\n", out, (long long)st.st_size);
		else
			fprintf(stderr, GT_PROG ": record: warning: no trace written to %s\n", out);
	}
	return code;
}
