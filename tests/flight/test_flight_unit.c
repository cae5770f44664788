/*
** tests/flight/test_flight_unit.c: the flight recorder against a fake
** producer (no tracer needed). The fake implements the tracer's sink contract:
** the header on attach, then whole generations ended by generation_done, fed
** from a recorded, Go-validated two-generation trace (data/two-gens.trace) or
** from synthetic bytes; its clock is controlled by the test.
**
** Covered: API errors; snapshots equal the recorded bytes and pass Go's
** validator; a snapshot forces a boundary; several snapshots in a row; the
** byte bound (wins over age) and the age window; a generation too large for
** the bound and a numbering gap drop the older ones (kept gens stay
** consecutive); snapshots racing the sink thread; the lock-free crash writer;
** a fork child starts without the parent's recorder.
*/
#include "testhelper.h"
#include "flight_testutil.h"
#include "internal/flight.h"

#include <gort/flight.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the fake producer ---- */

static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;  /* = "the sink thread" */
static const gr_trace_sink *fk_sink;
static uint64_t fk_now_ns;
static uint64_t fk_period;
static int fk_advances;
static const unsigned char *fk_pending;   /* a generation fed on the next advance */
static size_t fk_pending_len;
static uint64_t fk_pending_gen;
static size_t fk_piece = 7;               /* write() granularity */

static uint64_t fk_now(void) { return fk_now_ns; }

static void fk_feed_locked(const unsigned char *p, size_t n, uint64_t gen)
{
	for (size_t i = 0; i < n; i += fk_piece)
		fk_sink->write(fk_sink->ctx, p + i, n - i < fk_piece ? n - i : fk_piece);
	fk_sink->generation_done(fk_sink->ctx, gen);
}

static void fk_feed(const unsigned char *p, size_t n, uint64_t gen)
{
	pthread_mutex_lock(&fk_mu);
	fk_feed_locked(p, n, gen);
	pthread_mutex_unlock(&fk_mu);
}

static int fk_start(const gr_trace_sink *s)
{
	pthread_mutex_lock(&fk_mu);
	if (fk_sink) {
		pthread_mutex_unlock(&fk_mu);
		return -EBUSY;
	}
	fk_sink = s;
	/* The header, split to check it is reassembled. */
	s->write(s->ctx, "go 1.22 t", 9);
	s->write(s->ctx, "race\0\0\0", 7);
	pthread_mutex_unlock(&fk_mu);
	return 0;
}

static int fk_stop(const gr_trace_sink *s)
{
	pthread_mutex_lock(&fk_mu);
	s->close(s->ctx);
	fk_sink = NULL;
	pthread_mutex_unlock(&fk_mu);
	return 0;
}

static int fk_advance(void)
{
	pthread_mutex_lock(&fk_mu);
	fk_advances++;
	if (fk_pending && fk_sink) {
		fk_feed_locked(fk_pending, fk_pending_len, fk_pending_gen);
		fk_pending = NULL;
	}
	pthread_mutex_unlock(&fk_mu);
	return 0;
}

static void fk_set_period(uint64_t ns) { fk_period = ns; }

static const gr_flight_backend fake = {
	.start_sink = fk_start, .stop_sink = fk_stop, .advance = fk_advance,
	.set_period = fk_set_period, .now_ns = fk_now,
};

/* ---- recorded data ---- */

static unsigned char *rec;
static size_t rec_len;
static size_t g1_off, g1_len, g2_off, g2_len;

static bool load_recorded(void)
{
	if (rec)
		return true;
	char path[4096];
	const char *src = getenv("GORT_SOURCE_DIR");
	snprintf(path, sizeof path, "%s/tests/flight/data/two-gens.trace", src ? src : ".");
	rec = gort_test_read_file(path, &rec_len);
	return rec && ft_gen_range(rec, rec_len, 1, &g1_off, &g1_len) &&
	       ft_gen_range(rec, rec_len, 2, &g2_off, &g2_len);
}

static bool file_equals(const char *path, const unsigned char *a, size_t an,
                        const unsigned char *b, size_t bn)
{
	size_t n;
	unsigned char *f = gort_test_read_file(path, &n);
	bool eq = f && n == an + bn && memcmp(f, a, an) == 0 && (bn == 0 || memcmp(f + an, b, bn) == 0);
	free(f);
	return eq;
}

static void check_valid(const char *path)
{
	char msg[2048];
	int v = gort_test_go_validate(path, msg, sizeof msg);
	CHECKF(v == 0 || v == 77, "Go rejects %s: %s", path, msg);
}

/* Empty batches of generation gen (Go ignores them): padding to make a
** recorded generation big without changing what it means. */
static unsigned char *padded(const unsigned char *g, size_t n, uint64_t gen, size_t target, size_t *out)
{
	unsigned char eb[14] = { 0x01, (unsigned char)gen, 0xff, 0xff, 0xff, 0xff, 0xff,
	                         0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x00 };
	size_t k = target > n ? (target - n + sizeof eb - 1) / sizeof eb : 0;
	unsigned char *p = malloc(n + k * sizeof eb);
	memcpy(p, g, n);
	for (size_t i = 0; i < k; i++)
		memcpy(p + n + i * sizeof eb, eb, sizeof eb);
	*out = n + k * sizeof eb;
	return p;
}

/* ---- tests ---- */

static void test_api_errors(void)
{
	_gr_flight_set_backend(&fake);
	CHECK(!gort_flight_enabled());
	CHECK(gort_flight_write_fd(1) == -ESRCH);
	CHECK(gort_flight_write_file(gort_test_path("x.trace")) == -ESRCH);
	CHECK(gort_flight_stop() == -ESRCH);
	gort_flight_config tiny_age = { 1000, 0 }, tiny_bytes = { 0, 1000 };
	CHECK(gort_flight_start(&tiny_age) == -EINVAL);
	CHECK(gort_flight_start(&tiny_bytes) == -EINVAL);
	CHECK(!gort_flight_enabled());

	CHECK(gort_flight_start(NULL) == 0);
	CHECK(gort_flight_enabled());
	CHECK(fk_period == 1000000000ull);            /* min(10 s / 4, 1 s) */
	CHECK(gort_flight_start(NULL) == -EBUSY);
	CHECK(gort_flight_write_fd(-1) == -EBADF);
	CHECK(gort_flight_write_file(NULL) == -EINVAL);
	CHECK(gort_flight_write_file("") == -EINVAL);
	CHECK(gort_flight_write_fd(1) == -ENODATA);   /* nothing recorded yet */
	CHECK(gort_flight_write_file("/nonexistent-dir/x.trace") == -ENOENT);
	CHECK(gort_flight_stop() == 0);
	CHECK(!gort_flight_enabled());
	CHECK(gort_flight_stop() == -ESRCH);
	CHECK(fk_period == 1000000000ull);            /* restored */

	gort_flight_config small = { 200000000ull, 0 };
	CHECK(gort_flight_start(&small) == 0);
	CHECK(fk_period == 50000000ull);              /* 200 ms / 4 */
	CHECK(gort_flight_stop() == 0);
}

static void test_snapshot_is_the_recorded_trace(void)
{
	if (!load_recorded()) {
		CHECKF(0, "tests/flight/data/two-gens.trace missing");
		return;
	}
	_gr_flight_set_backend(&fake);
	CHECK(gort_flight_start(NULL) == 0);
	fk_feed(rec + g1_off, g1_len, 1);
	/* The second generation is "running": only a forced boundary delivers it. */
	fk_pending = rec + g2_off;
	fk_pending_len = g2_len;
	fk_pending_gen = 2;
	int adv = fk_advances;
	const char *p1 = gort_test_path("snap1.trace");
	CHECK(gort_flight_write_file(p1) == 0);
	CHECK(fk_advances == adv + 1);
	CHECK(file_equals(p1, rec, rec_len, NULL, 0));
	check_valid(p1);

	/* Again, twice: recording goes on, same content (nothing new). */
	const char *p2 = strdup(gort_test_path("snap2.trace"));
	CHECK(gort_flight_write_file(p2) == 0);
	CHECK(file_equals(p2, rec, rec_len, NULL, 0));
	int fd = open(gort_test_path("snap3.trace"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && gort_flight_write_fd(fd) == 0);
	close(fd);
	CHECK(file_equals(gort_test_path("snap3.trace"), rec, rec_len, NULL, 0));
	CHECK(access(gort_test_path("snap1.trace.tmp0"), F_OK) != 0);  /* no leftovers */
	free((void *)p2);

	gr_flight_stats st;
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 2 && st.first_gen == 1 && st.last_gen == 2);
	CHECK(gort_flight_stop() == 0);
}

static void test_byte_bound_drops_oldest(void)
{
	if (!load_recorded()) {
		CHECKF(0, "tests/flight/data/two-gens.trace missing");
		return;
	}
	_gr_flight_set_backend(&fake);
	gort_flight_config cfg = { 3600ull * 1000000000ull, 100 << 10 };  /* age never bounds */
	CHECK(gort_flight_start(&cfg) == 0);
	size_t n1, n2;
	unsigned char *g1 = padded(rec + g1_off, g1_len, 1, 70 << 10, &n1);
	unsigned char *g2 = padded(rec + g2_off, g2_len, 2, 40 << 10, &n2);
	fk_feed(g1, n1, 1);
	gr_flight_stats st;
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 1 && st.kept_bytes == n1);
	fk_feed(g2, n2, 2);
	_gr_flight_get_stats(&st);
	CHECKF(st.kept_gens == 1 && st.first_gen == 2 && st.dropped_bytes == 1,
	       "kept %llu first %llu", (unsigned long long)st.kept_gens, (unsigned long long)st.first_gen);
	CHECK(st.peak_bytes <= (100u << 10) + n2 + 4096);
	const char *p = gort_test_path("bytes.trace");
	CHECK(gort_flight_write_file(p) == 0);
	CHECK(file_equals(p, rec, 16, g2, n2));
	check_valid(p);
	CHECK(gort_flight_stop() == 0);
	free(g1);
	free(g2);
}

static unsigned char synth[80 << 10];

static void test_age_window(void)
{
	_gr_flight_set_backend(&fake);
	const uint64_t s = 1000000000ull;
	gort_flight_config cfg = { 4 * s, 64 << 20 };
	fk_now_ns = 100 * s;
	CHECK(gort_flight_start(&cfg) == 0);
	CHECK(fk_period == s);
	memset(synth, 0x01, sizeof synth);
	for (uint64_t g = 1; g <= 20; g++) {
		fk_now_ns = 100 * s + g * s;   /* one generation per second */
		fk_feed(synth, 1000, g);
		gr_flight_stats st;
		_gr_flight_get_stats(&st);
		/* Never older than min_age (+1% margin) + one generation ... */
		CHECK(fk_now_ns - st.oldest_start_ns <= 4 * s + 4 * s / 100 + s);
		/* ... and covering min_age once we have run that long. */
		if (g >= 4)
			CHECKF(fk_now_ns - st.oldest_start_ns >= 4 * s, "gen %llu: span %llu",
			       (unsigned long long)g, (unsigned long long)(fk_now_ns - st.oldest_start_ns));
		CHECK(st.last_gen == g);
	}
	gr_flight_stats st;
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 5 && st.dropped_age == 15 && st.dropped_bytes == 0);
	CHECK(gort_flight_stop() == 0);
	fk_now_ns = 0;
}

static void test_too_big_generation_and_gap(void)
{
	_gr_flight_set_backend(&fake);
	gort_flight_config cfg = { 3600ull * 1000000000ull, 64 << 10 };
	CHECK(gort_flight_start(&cfg) == 0);
	memset(synth, 0x01, sizeof synth);
	fk_feed(synth, 1000, 1);
	fk_feed(synth, 1000, 2);
	/* Generation 3 exceeds max_bytes by itself: lost, and 1..2 with it
	** (a trace cannot skip generation 3). */
	fk_feed(synth, sizeof synth, 3);
	gr_flight_stats st;
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 0 && st.overflowed == 1);
	fk_feed(synth, 1000, 4);
	fk_feed(synth, 1000, 5);
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 2 && st.first_gen == 4 && st.last_gen == 5);
	/* A numbering gap (7 after 5) also restarts the window. */
	fk_feed(synth, 1000, 7);
	_gr_flight_get_stats(&st);
	CHECK(st.kept_gens == 1 && st.first_gen == 7);
	CHECK(gort_flight_stop() == 0);
}

/* Snapshots while the "sink thread" keeps delivering generations. */
static atomic_bool race_stop, feeder_done;
static void *feeder(void *arg)
{
	(void)arg;
	static unsigned char gen_bytes[3000];
	uint64_t g = 1;
	while (!atomic_load(&race_stop)) {
		/* A well-formed batch of generation g with a body of junk. */
		size_t n = sizeof gen_bytes;
		gen_bytes[0] = 0x01;
		gen_bytes[1] = (unsigned char)(g & 0x7f);  /* gens stay < 128 here */
		gen_bytes[2] = 0;
		gen_bytes[3] = 0;
		gen_bytes[4] = (unsigned char)(0x80 | ((n - 6) & 0x7f));
		gen_bytes[5] = (unsigned char)((n - 6) >> 7);
		gen_bytes[6] = 0x00;
		fk_feed(gen_bytes, n, g);
		if (++g == 128)
			break;
		usleep(200);
	}
	atomic_store(&feeder_done, true);
	return NULL;
}

static void test_snapshots_race_the_sink(void)
{
	_gr_flight_set_backend(&fake);
	gort_flight_config cfg = { 3600ull * 1000000000ull, 64 << 10 };  /* ~21 gens fit */
	CHECK(gort_flight_start(&cfg) == 0);
	pthread_t t;
	atomic_store(&race_stop, false);
	pthread_create(&t, NULL, feeder, NULL);
	int good = 0, bad = 0;
	char why[256] = "";
	atomic_store(&feeder_done, false);
	for (int i = 0; i < 100000; i++) {
		bool last = atomic_load(&feeder_done);   /* one more after the end */
		const char *p = gort_test_path("race.trace");
		int r = gort_flight_write_file(p);
		if (r == -ENODATA && !last)
			continue;
		size_t n;
		unsigned char *b = gort_test_read_file(p, &n);
		ft_shape s = b ? ft_trace_shape(b, n) : (ft_shape){ 0 };
		if (r == 0 && s.ok && n <= (64u << 10) + 16) {
			good++;
		} else {
			bad++;
			snprintf(why, sizeof why, "r=%d n=%zu %s", r, n, s.why);
		}
		free(b);
		if (last)
			break;
	}
	atomic_store(&race_stop, true);
	pthread_join(t, NULL);
	CHECKF(bad == 0 && good > 0, "%d good, %d bad (%s)", good, bad, why);
	CHECK(gort_flight_stop() == 0);
}

/* The crash writer (lock-free walk), in a child because it pins memory. */
static void crash_child(void *arg)
{
	(void)arg;
	_gr_flight_set_backend(&fake);
	CHECK(gort_flight_start(NULL) == 0);
	fk_feed(rec + g1_off, g1_len, 1);
	fk_feed(rec + g2_off, g2_len, 2);
	int fd = open(gort_test_path("crash.trace"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	uint64_t ng = 0;
	int64_t n = _gr_flight_store_crash_write(fd, &ng);
	close(fd);
	/* Stopping after a crash write must not free what it published. */
	gort_flight_stop();
	if (n != (int64_t)rec_len || ng != 2)
		_exit(3);
	_exit(0);
}

static void test_crash_writer(void)
{
	if (!load_recorded()) {
		CHECKF(0, "tests/flight/data/two-gens.trace missing");
		return;
	}
	gort_test_child c;
	CHECK(gort_test_fork(crash_child, NULL, &c) == 0);
	CHECKF(!c.signaled && c.exit_code == 0, "child: sig %d exit %d: %s", c.signo, c.exit_code, c.err);
	CHECK(file_equals(gort_test_path("crash.trace"), rec, rec_len, NULL, 0));
	check_valid(gort_test_path("crash.trace"));
}

/* A fork child is not in the parent's recorder; it may start its own. */
static void fork_child(void *arg)
{
	(void)arg;
	if (gort_flight_enabled() || gort_flight_write_fd(1) != -ESRCH || gort_flight_stop() != -ESRCH)
		_exit(3);
	fk_sink = NULL;   /* the fake producer's state is the parent's too */
	if (gort_flight_start(NULL) != 0 || !gort_flight_enabled() || gort_flight_stop() != 0)
		_exit(4);
	_exit(0);
}

static void test_fork_child(void)
{
#ifdef GORT_TEST_UNDER_TSAN
	SKIP("TSan cannot start threads in a fork child of a threaded process");
#endif
	_gr_flight_set_backend(&fake);
	CHECK(gort_flight_start(NULL) == 0);
	memset(synth, 0x01, sizeof synth);
	fk_feed(synth, 100, 1);
	gort_test_child c;
	CHECK(gort_test_fork(fork_child, NULL, &c) == 0);
	CHECKF(!c.signaled && c.exit_code == 0, "child: sig %d exit %d: %s", c.signo, c.exit_code, c.err);
	gr_flight_stats st;
	_gr_flight_get_stats(&st);
	CHECK(gort_flight_enabled() && st.kept_gens == 1);   /* parent unaffected */
	CHECK(gort_flight_stop() == 0);
}

int main(void)
{
	RUN(test_api_errors);
	RUN(test_snapshot_is_the_recorded_trace);
	RUN(test_byte_bound_drops_oldest);
	RUN(test_age_window);
	RUN(test_too_big_generation_and_gap);
	RUN(test_snapshots_race_the_sink);
	RUN(test_crash_writer);
	RUN(test_fork_child);
	return gort_test_summary();
}
