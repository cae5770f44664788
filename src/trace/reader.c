/*
** src/trace/reader.c: the public start/stop/read API (Go's StartTrace,
** StopTrace, ReadTrace and runtime/trace.Start(w)), built on one sink, "the
** reader"; GORT_TRACE=path at program start; fork().
**
** The reader sink copies each delivered chunk into its queue (rd.mu);
** gort_trace_read hands chunks out one at a time. Bytes waiting here count
** towards GORT_TRACE_MAX_BUFFERED, so a reader that falls behind ends the
** trace instead of growing memory without bound.
*/
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal/env.h"
#include "internal/panic.h"
#include "trace/tr.h"
#include <gort/trace.h>

typedef struct rchunk {
	struct rchunk *next;
	size_t len;
	uint8_t data[];
} rchunk;

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	rchunk *head, *tail, *held;
	bool active;       /* between start and the end of stop */
	bool eof;          /* the sink was closed: nothing more will come */
	bool has_writer;
	bool own_fd;
	int fd;
	bool write_failed;
	pthread_t writer;
} rd = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .fd = -1 };

static int rd_write(void *ctx, const void *p, size_t n)
{
	(void)ctx;
	rchunk *c = malloc(sizeof *c + n);
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->len = n;
	memcpy(c->data, p, n);
	atomic_fetch_add(&gr_tr.buffered, n);
	pthread_mutex_lock(&rd.mu);
	if (rd.tail)
		rd.tail->next = c;
	else
		rd.head = c;
	rd.tail = c;
	pthread_cond_broadcast(&rd.cv);
	pthread_mutex_unlock(&rd.mu);
	if (atomic_load(&gr_tr.buffered) > gr_tr.max_buffered && !atomic_load(&gr_tr.overflow)) {
		pthread_mutex_lock(&gr_tr.mu);
		if (!atomic_load(&gr_tr.overflow)) {
			snprintf(gr_tr.stop_reason, sizeof gr_tr.stop_reason,
			         "trace stopped: more than %llu bytes of trace buffered, the reader fell behind (GORT_TRACE_MAX_BUFFERED)",
			         (unsigned long long)gr_tr.max_buffered);
			atomic_store(&gr_tr.overflow, true);
		}
		pthread_mutex_unlock(&gr_tr.mu);
	}
	return 0;
}

static void rd_close(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&rd.mu);
	rd.eof = true;
	pthread_cond_broadcast(&rd.cv);
	pthread_mutex_unlock(&rd.mu);
}

static const gr_trace_sink reader_sink = { rd_write, NULL, rd_close, NULL };

const void *gort_trace_read(size_t *len)
{
	pthread_mutex_lock(&rd.mu);
	if (rd.held) {
		free(rd.held);
		rd.held = NULL;
	}
	while (!rd.head && !rd.eof && rd.active)
		pthread_cond_wait(&rd.cv, &rd.mu);
	rchunk *c = rd.head;
	if (c) {
		rd.head = c->next;
		if (!rd.head)
			rd.tail = NULL;
		rd.held = c;
		atomic_fetch_sub(&gr_tr.buffered, c->len);
	}
	pthread_cond_broadcast(&rd.cv);
	pthread_mutex_unlock(&rd.mu);
	if (len)
		*len = c ? c->len : 0;
	return c ? c->data : NULL;
}

static int reader_start(void)
{
	pthread_mutex_lock(&rd.mu);
	if (rd.active) {
		pthread_mutex_unlock(&rd.mu);
		return -EBUSY;
	}
	while (rd.head) {
		rchunk *c = rd.head;
		rd.head = c->next;
		free(c);
	}
	free(rd.held);
	rd.held = NULL;
	rd.tail = NULL;
	rd.eof = false;
	rd.active = true;
	pthread_mutex_unlock(&rd.mu);
	int r = _gr_trace_start_sink(&reader_sink);
	if (r < 0) {
		pthread_mutex_lock(&rd.mu);
		rd.active = false;
		pthread_cond_broadcast(&rd.cv);
		pthread_mutex_unlock(&rd.mu);
	}
	return r;
}

/* The thread that starts a trace enters it at once (and its CPU time is
** sampled), whether or not it emits events. */
int gort_trace_start(void)
{
	int r = reader_start();
	if (r == 0)
		_gr_tr_enter_caller(__builtin_frame_address(0));
	return r;
}

int gort_trace_stop(void)
{
	pthread_mutex_lock(&rd.mu);
	if (!rd.active) {
		pthread_mutex_unlock(&rd.mu);
		return -EINVAL;
	}
	pthread_mutex_unlock(&rd.mu);
	_gr_trace_stop_sink(&reader_sink);   /* -ENOENT if the trace ended on its own */
	pthread_mutex_lock(&rd.mu);
	while (!rd.eof || rd.head)
		pthread_cond_wait(&rd.cv, &rd.mu);
	bool join = rd.has_writer;
	rd.has_writer = false;
	pthread_mutex_unlock(&rd.mu);
	if (join) {
		pthread_join(rd.writer, NULL);
		if (rd.own_fd)
			close(rd.fd);
		rd.fd = -1;
	}
	pthread_mutex_lock(&rd.mu);
	rd.active = false;
	pthread_cond_broadcast(&rd.cv);
	pthread_mutex_unlock(&rd.mu);
	return 0;
}

static void *writer_main(void *arg)
{
	(void)arg;
	_gr_tl.busy = 1;
	_gr_tl.internal = 1;
	pthread_setname_np(pthread_self(), "gort-trace-w");
	size_t n;
	const uint8_t *p;
	while ((p = gort_trace_read(&n)) != NULL) {
		while (n > 0 && !rd.write_failed) {
			ssize_t w = write(rd.fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				rd.write_failed = true;
				_gr_warn("trace: write to the trace file failed: %s", strerror(errno));
				break;
			}
			p += w;
			n -= (size_t)w;
		}
	}
	return NULL;
}

static int start_fd(int fd, bool own)
{
	pthread_mutex_lock(&rd.mu);
	if (rd.active) {
		pthread_mutex_unlock(&rd.mu);
		return -EBUSY;
	}
	pthread_mutex_unlock(&rd.mu);
	int r = reader_start();
	if (r < 0)
		return r;
	rd.fd = fd;
	rd.own_fd = own;
	rd.write_failed = false;
	r = _gr_tr_spawn(&rd.writer, writer_main);
	if (r != 0) {
		/* Nobody reads: stop without waiting for a reader. */
		_gr_trace_stop_sink(&reader_sink);
		pthread_mutex_lock(&rd.mu);
		rd.active = false;
		pthread_mutex_unlock(&rd.mu);
		return -EAGAIN;
	}
	pthread_mutex_lock(&rd.mu);
	rd.has_writer = true;
	pthread_mutex_unlock(&rd.mu);
	return 0;
}

int gort_trace_start_fd(int fd)
{
	if (fd < 0)
		return -EBADF;
	int r = start_fd(fd, false);
	if (r == 0)
		_gr_tr_enter_caller(__builtin_frame_address(0));
	return r;
}

static int start_file(const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = start_fd(fd, true);
	if (r < 0)
		close(fd);
	return r;
}

int gort_trace_start_file(const char *path)
{
	int r = start_file(path);
	if (r == 0)
		_gr_tr_enter_caller(__builtin_frame_address(0));
	return r;
}

/* ---- GORT_TRACE and fork ---- */

/* gort_trace_start of this copy, bound inside it (a hidden alias is not
** interposed, unlike the exported name). */
extern __typeof__(gort_trace_start) gr_trace_start_here __attribute__((alias("gort_trace_start"), visibility("hidden")));

bool _gr_trace_copy_is_global(void)
{
	void *global = dlsym(RTLD_DEFAULT, "gort_trace_start");
	return global == NULL || global == (void *)gr_trace_start_here;
}

static char env_pattern[4096];
static bool env_has_pid;
static pid_t env_owner;   /* process whose exit stops the env trace */

static void env_start_file(void)
{
	char path[4096];
	bool has_pid = false;
	if (_gr_expand_path(env_pattern, path, sizeof path, &has_pid) != 0) {
		_gr_warn("trace: GORT_TRACE path too long");
		return;
	}
	int r = start_file(path);
	if (r < 0) {
		_gr_warn("trace: GORT_TRACE=%s: cannot start: %s", path, strerror(-r));
		return;
	}
	env_owner = getpid();
}

/* Start the GORT_TRACE trace from a constructor or a fork child. The
** calling thread counts as gort's own meanwhile: starting takes the
** tracer's locks, and under the preload library a contended one (the new
** writer thread may hold rd.mu) would be traced as the first event of this
** thread, entering it with a stack rooted in this constructor instead of at
** main (seen in CI: preload_churn, a goroutine rooted at trace_ctor). */
static void env_start(void)
{
	uint32_t internal = _gr_trace_internal_swap(1);
	env_start_file();
	_gr_trace_internal_swap(internal);
}

static void env_stop(void)
{
	if (env_owner && env_owner == getpid()) {
		env_owner = 0;
		gort_trace_stop();
	}
}

/* The writer thread frees delivered chunks under rd.mu: holding it across
** fork keeps that thread out of the allocator (see _gr_tr_fork_prepare). */
static void fork_prepare(void)
{
	_gr_tr_fork_prepare();
	pthread_mutex_lock(&rd.mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&rd.mu);
	_gr_tr_fork_parent();
}

static void fork_child(void)
{
	_gr_tr_fork_child();
	pthread_mutex_init(&rd.mu, NULL);
	pthread_cond_init(&rd.cv, NULL);
	while (rd.head) {   /* the parent's unread bytes */
		rchunk *c = rd.head;
		rd.head = c->next;
		free(c);
	}
	free(rd.held);
	rd.tail = rd.held = NULL;
	rd.active = rd.eof = rd.has_writer = false;
	rd.fd = -1;
	env_owner = 0;
	if (env_has_pid) {
		env_start();
		_gr_tr_enter_caller(__builtin_frame_address(0));
	}
}

__attribute__((constructor)) static void trace_ctor(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	const char *pat = getenv("GORT_TRACE");
	if (!pat || !*pat || !_gr_trace_copy_is_global())
		return;
	if (strlen(pat) >= sizeof env_pattern) {
		_gr_warn("trace: GORT_TRACE too long");
		return;
	}
	strcpy(env_pattern, pat);
	char tmp[4096];
	bool has_pid = false;
	(void)_gr_expand_path(env_pattern, tmp, sizeof tmp, &has_pid);
	env_has_pid = has_pid;
	/* Without %p every process would write the same file. GORT_TRACE_PID
	** names the process that owns it: a child (sh -c, a helper started
	** with fork+exec) inherits it and leaves the file alone, while the same
	** process after exec (a shim that execs the real program) keeps tracing
	** into it. */
	if (!has_pid) {
		const char *owner = getenv("GORT_TRACE_PID");
		if (owner && *owner && strtol(owner, NULL, 10) != (long)getpid())
			return;
		char pid[32];
		snprintf(pid, sizeof pid, "%ld", (long)getpid());
		setenv("GORT_TRACE_PID", pid, 1);
	}
	env_start();
	if (env_owner) {
		atexit(env_stop);
		_gr_trace_enter_main();
	}
}
