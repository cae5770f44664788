/*
** src/flight/flight.c: the flight recorder's public API (gort/flight.h) and
** its binding to the tracer's multi-sink interface.
**
** State machine (api_mu): OFF -> ON (start) -> STOPPING -> OFF (stop). Start
** returns -EBUSY unless OFF; snapshots need ON. Stop leaves ON first, then
** joins the helper thread without api_mu held (the helper's SIGUSR2 snapshot
** takes api_mu), then detaches the sink and frees the store under api_mu.
**
** A snapshot holds api_mu only to force the boundary and take references to
** the kept generations; the write(2)s run unlocked, so a slow output never
** delays the tracer, a stop, or another snapshot for long.
*/
#include "internal/env.h"
#include "internal/flight.h"
#include "internal/panic.h"

#include <gort/flight.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ST_OFF, ST_ON, ST_STOPPING };

#define MIN_AGE_FLOOR_NS 1000000ull          /* 1 ms */
#define MAX_BYTES_FLOOR  ((size_t)64 << 10)
#define PERIOD_MIN_NS    10000000ull         /* 10 ms */
#define PERIOD_MAX_NS    1000000000ull       /* 1 s */

static pthread_mutex_t api_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_state;
static const gr_flight_backend *g_backend;   /* NULL = the tracer */
static uint64_t g_period_ns;
static atomic_uint g_tmp_seq;

void _gr_flight_set_backend(const gr_flight_backend *b)
{
	pthread_mutex_lock(&api_mu);
	if (atomic_load(&g_state) != ST_OFF)
		_gr_panic("flight recorder: backend changed while recording");
	g_backend = b;
	pthread_mutex_unlock(&api_mu);
}

static int be_start(const gr_trace_sink *s)
{
	return g_backend ? g_backend->start_sink(s) : _gr_trace_start_sink(s);
}

static int be_stop(const gr_trace_sink *s)
{
	return g_backend ? g_backend->stop_sink(s) : _gr_trace_stop_sink(s);
}

static void be_set_period(uint64_t ns)
{
	if (g_backend)
		g_backend->set_period(ns);
	else
		_gr_trace_set_period(ns);
}

int _gr_flight_advance(void)
{
	const gr_flight_backend *b = g_backend;
	if (b)
		return b->advance();
	return _gr_trace_advance_generation();
}

/* The tracer's own period, to restore on stop. */
static uint64_t default_period(void)
{
	uint64_t v;
	if (_gr_env_duration_ns("GORT_TRACE_PERIOD", &v) == 0 && v > 0)
		return v;
	return PERIOD_MAX_NS;
}

/* A forked child is not in the parent's trace (the tracer does not follow
** fork): it starts with no recorder and may start its own. */
static void atfork_child(void)
{
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	api_mu = fresh;
	atomic_store(&g_state, ST_OFF);
	_gr_flight_store_forget();
	_gr_flight_helper_forget();
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

int gort_flight_start(const gort_flight_config *cfg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_atfork);
	uint64_t min_age = cfg && cfg->min_age_ns ? cfg->min_age_ns : GORT_FLIGHT_DEFAULT_MIN_AGE_NS;
	uint64_t max_bytes = cfg && cfg->max_bytes ? cfg->max_bytes : GORT_FLIGHT_DEFAULT_MAX_BYTES;
	if (min_age < MIN_AGE_FLOOR_NS || max_bytes < MAX_BYTES_FLOOR)
		return -EINVAL;

	pthread_mutex_lock(&api_mu);
	int r;
	if (atomic_load(&g_state) != ST_OFF) {
		r = -EBUSY;
		goto out;
	}
	_gr_flight_store_init(min_age, max_bytes, g_backend ? g_backend->now_ns : NULL,
	                      _gr_flight_helper_wake_boundary);
	uint64_t period = min_age / 4;
	if (period < PERIOD_MIN_NS)
		period = PERIOD_MIN_NS;
	if (period > PERIOD_MAX_NS)
		period = PERIOD_MAX_NS;
	g_period_ns = period;
	r = _gr_flight_helper_start();
	if (r)
		goto out;
	be_set_period(period);
	r = be_start(_gr_flight_store_sink());
	if (r) {
		be_set_period(default_period());
		_gr_flight_helper_stop();
		_gr_flight_store_fini();
		goto out;
	}
	atomic_store(&g_state, ST_ON);
out:
	pthread_mutex_unlock(&api_mu);
	return r;
}

int gort_flight_stop(void)
{
	pthread_mutex_lock(&api_mu);
	int expected = ST_ON;
	bool ok = atomic_compare_exchange_strong(&g_state, &expected, ST_STOPPING);
	pthread_mutex_unlock(&api_mu);
	if (!ok)
		return -ESRCH;
	_gr_flight_helper_stop();
	pthread_mutex_lock(&api_mu);
	be_stop(_gr_flight_store_sink());
	be_set_period(default_period());
	_gr_flight_store_fini();
	atomic_store(&g_state, ST_OFF);
	pthread_mutex_unlock(&api_mu);
	return 0;
}

bool gort_flight_enabled(void)
{
	return atomic_load_explicit(&g_state, memory_order_relaxed) == ST_ON;
}

static int write_all(int fd, const void *p, size_t n)
{
	const unsigned char *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

int _gr_flight_snapshot_fd(int fd, uint64_t *ngens, uint64_t *nbytes)
{
	gr_flight_gen **v = NULL;
	unsigned char hdr[16];
	size_t hl;
	if (ngens)
		*ngens = 0;
	if (nbytes)
		*nbytes = 0;
	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&api_mu);
	if (atomic_load(&g_state) != ST_ON) {
		pthread_mutex_unlock(&api_mu);
		return -ESRCH;
	}
	/* Close the running generation so the snapshot ends "now". If the
	** tracer cannot (it is stopping), the kept generations still form a
	** complete trace. */
	(void)_gr_flight_advance();
	int n = _gr_flight_store_collect(&v, hdr, &hl);
	pthread_mutex_unlock(&api_mu);
	if (n <= 0)
		return n < 0 ? n : -ENODATA;
	uint64_t total = hl;
	int r = write_all(fd, hdr, hl);
	for (int i = 0; i < n && r == 0; i++) {
		r = _gr_flight_gen_write(v[i], fd);
		total += _gr_flight_gen_bytes(v[i]);
	}
	_gr_flight_store_release(v, n);
	if (r == 0) {
		if (ngens)
			*ngens = (uint64_t)n;
		if (nbytes)
			*nbytes = total;
	}
	return r;
}

int gort_flight_write_fd(int fd)
{
	return _gr_flight_snapshot_fd(fd, NULL, NULL);
}

int gort_flight_write_file(const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	if (!gort_flight_enabled())
		return -ESRCH;
	char tmp[4096];
	int k = snprintf(tmp, sizeof tmp, "%s.tmp%u", path, atomic_fetch_add(&g_tmp_seq, 1));
	if (k < 0 || (size_t)k >= sizeof tmp)
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int r = _gr_flight_snapshot_fd(fd, NULL, NULL);
	if (close(fd) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
	return r;
}

void _gr_flight_get_stats(gr_flight_stats *out)
{
	memset(out, 0, sizeof *out);
	_gr_flight_store_stats(out);
	out->period_ns = g_period_ns;
}
