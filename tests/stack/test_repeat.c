/* Tests for the repeat records of src/stack/unwind.c: a capture that a
** record answers (no walk) must return exactly what a plain walk returns
** (mode 2: frame pointers + CFI, no walk cache, no records), and a token must
** always name the same pcs. Cases: one site repeated; the same frame address
** reached from a different caller (same F_0, other return addresses above);
** a saved rbp changed in place (same return addresses, other chain); a
** recursion deeper than max; max at and past the record's limit; two threads
** at once; captures from a SIGPROF handler that interrupts captures. */
#include "testhelper.h"
#include "stacktest.h"
#include "internal/stack.h"
#include "nofp.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define DEPTH 128

/* Per thread: the result checks, and what each token was seen naming. */
typedef struct checker {
	int mismatches, token_mismatches, captures, same_results;
	struct {
		uint64_t tok;
		int n;
		uintptr_t pcs[DEPTH];
	} seen[8];
} checker;

static void dump_pair(const char *what, const uintptr_t *a, int na, const uintptr_t *b, int nb)
{
	fprintf(stderr, "  %s: %d vs %d frames\n", what, na, nb);
	st_dump("record", a, na);
	st_dump("plain", b, nb);
}

/* The token tok named pcs[0..n): the same as any time before? */
static void check_token(checker *c, uint64_t tok, const uintptr_t *pcs, int n)
{
	if (!tok)
		return;
	__typeof__(c->seen[0]) *s = &c->seen[tok & 7];
	if (s->tok == tok) {
		if (s->n != n || memcmp(s->pcs, pcs, (size_t)n * sizeof pcs[0]) != 0) {
			if (c->token_mismatches++ == 0)
				dump_pair("token names other pcs", s->pcs, s->n, pcs, n);
		}
		return;
	}
	s->tok = tok;
	s->n = n;
	memcpy(s->pcs, pcs, (size_t)n * sizeof pcs[0]);
}

static void check_same(checker *c, const char *what, const uintptr_t *a, int na, const uintptr_t *b, int nb,
                       int from)
{
	c->captures++;
	if (na != nb || (na > from && memcmp(a + from, b + from, (size_t)(na - from) * sizeof a[0]) != 0)) {
		if (c->mismatches++ == 0)
			dump_pair(what, a, na, b, nb);
	}
}

/* The capture site: one _gr_stack_capture_frame call (with a token), one
** _gr_stack_capture and a plain walk of each, from this frame. */
static int site_max = 32, site_skip;
NOINLINE int site(checker *c)
{
	uintptr_t a[DEPTH], b[DEPTH], p[DEPTH];
	uint64_t tok = 0, ltok = 0;
	/* every other time a lookup first (the tracer's way: no walk; a failed
	** verification is not repeated by the call that follows) */
	int nl = (c->captures & 2) ? _gr_stack_capture_frame(__builtin_frame_address(0), NULL, site_max, &ltok) : 0;
	int na = _gr_stack_capture_frame(__builtin_frame_address(0), a, site_max, &tok);
	int old = _gr_stack_set_fp_only(2);
	int np = _gr_stack_capture_frame(__builtin_frame_address(0), p, site_max, NULL);
	_gr_stack_set_fp_only(old);
	if (nl > 0 || (nl < 0 && (na != nl || tok != ltok)) || (nl == 0 && ltok != 0)) {
		if (c->mismatches++ == 0)
			fprintf(stderr, "  lookup gave %d (token %llx), then the capture %d (token %llx)\n", nl,
			        (unsigned long long)ltok, na, (unsigned long long)tok);
	}
	if (na < 0) {
		c->same_results++;
		int got = _gr_stack_token_pcs(tok, a, DEPTH);
		if (got != -na) {
			/* only a signal handler's capture may have replaced it since */
			if (got != 0 && c->mismatches++ == 0)
				fprintf(stderr, "  token_pcs gave %d for %d\n", got, -na);
			na = -1;
		} else {
			na = got;
		}
	}
	if (na >= 0) {
		check_same(c, "capture_frame", a, na, p, np, 0);
		check_token(c, tok, a, na);
	}
	int nb = _gr_stack_capture(b, site_max, site_skip);
	old = _gr_stack_set_fp_only(2);
	int nq = _gr_stack_capture(p, site_max, site_skip);
	_gr_stack_set_fp_only(old);
	/* the two calls differ in their own call site (frame 0 when skip is 0) */
	check_same(c, "capture", b, nb, p, nq, site_skip == 0 ? 1 : 0);
	BARRIER();
	return na + nb;
}

/* ---- one site, repeated; and the same frame from another caller ---------- */

/* Two callers with identical frames: site's frame is at the same address
** from either, only the return addresses above it differ. */
NOINLINE int caller_x(checker *c) { int r = site(c); BARRIER(); return r + 1; }
NOINLINE int caller_y(checker *c) { int r = site(c); BARRIER(); return r + 2; }

static checker main_c;

void test_same_site_repeated(void)
{
	memset(&main_c, 0, sizeof main_c);
	gr_stack_stats s0, s1;
	_gr_stack_get_stats(&s0);
	for (int i = 0; i < 200; i++)
		caller_x(&main_c);
	_gr_stack_get_stats(&s1);
	CHECKF(main_c.mismatches == 0 && main_c.token_mismatches == 0, "%d mismatches, %d token mismatches",
	       main_c.mismatches, main_c.token_mismatches);
	CHECKF(s1.repeat_hits - s0.repeat_hits >= 300, "records answered %llu of 400 captures",
	       (unsigned long long)(s1.repeat_hits - s0.repeat_hits));
	CHECKF(main_c.same_results >= 150, "capture_frame said 'same' %d times", main_c.same_results);
}

static uintptr_t xy[2][DEPTH], xy_frame[2];
static volatile int five = 5, three = 3;
static int nxy[2];
static uint64_t tokxy[2];
NOINLINE int grab(int which)
{
	xy_frame[which] = (uintptr_t)__builtin_frame_address(0);
	nxy[which] = _gr_stack_capture_frame(__builtin_frame_address(0), xy[which], 32, &tokxy[which]);
	if (nxy[which] < 0)
		nxy[which] = _gr_stack_token_pcs(tokxy[which], xy[which], DEPTH);
	BARRIER();
	return nxy[which];
}
NOINLINE int grab_mid(int w) { int r = grab(w); BARRIER(); return r + 1; }
/* the same through code without frame pointers: the callers differ in the
** record's CFI tail (nofp_plain's frame is stepped by its CFI rule) */
NOINLINE int grab_cb(int w) { int r = grab(w / 2); BARRIER(); return r + 1; }   /* (nofp_plain doubles w) */
NOINLINE int grab_nx(int w) { int r = nofp_plain(grab_cb, w); BARRIER(); return r + 1; }
NOINLINE int grab_ny(int w) { int r = nofp_plain(grab_cb, w); BARRIER(); return r + 2; }
NOINLINE int grab_x(int w) { int r = grab_mid(w); BARRIER(); return r + 1; }
NOINLINE int grab_y(int w) { int r = grab_mid(w); BARRIER(); return r + 2; }

/* The caller's word on a record (the tracer's stack id): found with its
** key only, and gone when the record is rebuilt for another stack. */
static uintptr_t ubuf[DEPTH];
static uint64_t u_tok, u_ltok, u_val;
static int u_n;
NOINLINE int ugrab(void)
{
	u_n = _gr_stack_capture_frame(__builtin_frame_address(0), ubuf, 32, &u_tok);
	u_val = _gr_stack_frame_lookup(__builtin_frame_address(0), 32, 7, &u_ltok);
	BARRIER();
	return u_n;
}
NOINLINE int ugrab_mid(void) { int r = ugrab(); BARRIER(); return r + 1; }
NOINLINE int ugrab_x(void) { int r = ugrab_mid(); BARRIER(); return r + 1; }
NOINLINE int ugrab_y(void) { int r = ugrab_mid(); BARRIER(); return r + 2; }

void test_user_word(void)
{
	static volatile int rounds = 8;
	uint64_t vals[8] = { 0 }, toks[8] = { 0 };
	/* A slot whose stack kept changing backs off (up to 1024 captures), and
	** an earlier test may have left this frame's slot so (frame addresses
	** differ between builds: seen under TSan). Capture until a record
	** answers twice with the same token. */
	uint64_t last = 0;
	for (int i = 0; i < 4096; i++) {
		ugrab_x();
		if (u_tok != 0 && u_tok == last)
			break;
		last = u_tok;
	}
	for (int i = 0; i < rounds; i++) {   /* one call site: the same stack */
		ugrab_x();
		vals[i] = u_val;
		toks[i] = u_tok;
		if (i == 4)
			_gr_stack_token_set_user(u_tok, 7, 42);
		if (i == 5)
			_gr_stack_token_set_user(u_tok, 8, 43);
		if (i == 6)
			_gr_stack_token_set_user(u_tok, 7, 42);
	}
	CHECK(toks[4] != 0 && toks[5] == toks[4] && toks[7] == toks[4] && vals[4] == 0);
	CHECKF(vals[5] == 42, "the word comes back (%llu)", (unsigned long long)vals[5]);
	CHECKF(vals[6] == 0, "another key: no word (%llu)", (unsigned long long)vals[6]);
	CHECKF(vals[7] == 42, "the word again (%llu)", (unsigned long long)vals[7]);
	ugrab_y();   /* same frame, another caller: the record is rebuilt */
	CHECK(u_n > 0 && u_tok != toks[7]);
	CHECKF(u_val == 0, "a rebuilt record has no word (%llu)", (unsigned long long)u_val);
}

void test_same_frame_other_caller(void)
{
	memset(&main_c, 0, sizeof main_c);
	/* alternate, so that the record made from one is checked by the other */
	for (int i = 0; i < 100; i++) {
		if (i % 10 < 5)
			caller_x(&main_c);
		else
			caller_y(&main_c);
	}
	CHECKF(main_c.mismatches == 0 && main_c.token_mismatches == 0, "%d mismatches, %d token mismatches",
	       main_c.mismatches, main_c.token_mismatches);
	/* grab's frame is at the same address from both and returns to the
	** same pc (in grab_mid); only the frame above differs */
	gr_stack_stats s0, s1;
	for (int i = 0; i < five; i++) {     /* one call site: the same stack (not unrolled) */
		_gr_stack_get_stats(&s0);
		grab_x(0);
		_gr_stack_get_stats(&s1);
	}
	CHECKF(s1.repeat_hits == s0.repeat_hits + 1, "grab_x repeated: a record answered (%llu -> %llu)",
	       (unsigned long long)s0.repeat_hits, (unsigned long long)s1.repeat_hits);
	grab_y(1);
	CHECK(xy_frame[0] == xy_frame[1]);
	CHECK(nxy[0] > 3 && nxy[1] > 3);
	CHECKF(tokxy[0] != tokxy[1], "another caller, another token");
	CHECK(xy[0][0] == xy[1][0] && strcmp(st_func(xy[0][0]), "grab_mid") == 0);
	CHECK(strcmp(st_func(xy[0][1]), "grab_x") == 0);
	CHECK(strcmp(st_func(xy[1][1]), "grab_y") == 0);
	grab_x(0);
	CHECK(strcmp(st_func(xy[0][1]), "grab_x") == 0);
	for (int i = 0; i < five; i++) {
		_gr_stack_get_stats(&s0);
		grab_nx(0);
		_gr_stack_get_stats(&s1);
	}
	CHECKF(s1.repeat_hits == s0.repeat_hits + 1, "grab_nx repeated: a record answered");
	grab_ny(1);
	CHECK(xy_frame[0] == xy_frame[1]);
	CHECKF(tokxy[0] != tokxy[1], "through nofp_plain: another caller, another token");
	CHECK(nxy[0] > 4 && nxy[1] > 4);
	CHECK(strcmp(st_func(xy[0][1]), "nofp_plain") == 0 && strcmp(st_func(xy[0][2]), "grab_nx") == 0);
	CHECK(strcmp(st_func(xy[1][1]), "nofp_plain") == 0 && strcmp(st_func(xy[1][2]), "grab_ny") == 0);
}

/* ---- a saved rbp changed in place ------------------------------------------ */

/* outer -> middle -> inner -> rbp_site. rbp_site captures; then it points
** middle's saved rbp (the link to outer's frame) at a fake frame in outer's
** locals whose return address lies in other code, and captures again; then
** restores it. Every return address at the frames the first walk read is
** unchanged; only a saved frame pointer changed. */
static uintptr_t rb[3][DEPTH], rbp_plain[DEPTH];
static int nrb[3], nrbp;
static uintptr_t *rb_fake;

NOINLINE uintptr_t ra_here(void) { return (uintptr_t)__builtin_return_address(0); }

static int rbp_pads;
NOINLINE int rbp_site(void)
{
	uint64_t tok;
	for (int i = 0; i < 4; i++) {    /* a record of the normal stack */
		nrb[0] = _gr_stack_capture_frame(__builtin_frame_address(0), rb[0], DEPTH / 4, &tok);
		if (nrb[0] < 0)
			nrb[0] = _gr_stack_token_pcs(tok, rb[0], DEPTH);
	}
	/* middle's frame: rbp_pads + 2 links up from ours */
	uintptr_t *middle = __builtin_frame_address(0);
	for (int i = 0; i < rbp_pads + 2; i++)
		middle = (uintptr_t *)middle[0];
	uintptr_t saved = middle[0];        /* = outer's frame */
	rb_fake[0] = ((uintptr_t *)saved)[0];
	rb_fake[1] = ra_here();              /* a return address in other code */
	middle[0] = (uintptr_t)rb_fake;
	__asm__ volatile("" ::: "memory");
	nrb[1] = _gr_stack_capture_frame(__builtin_frame_address(0), rb[1], DEPTH / 4, &tok);
	if (nrb[1] < 0)
		nrb[1] = _gr_stack_token_pcs(tok, rb[1], DEPTH);
	int old = _gr_stack_set_fp_only(2);
	nrbp = _gr_stack_capture_frame(__builtin_frame_address(0), rbp_plain, DEPTH / 4, NULL);
	_gr_stack_set_fp_only(old);
	middle[0] = saved;
	__asm__ volatile("" ::: "memory");
	nrb[2] = _gr_stack_capture_frame(__builtin_frame_address(0), rb[2], DEPTH / 4, &tok);
	if (nrb[2] < 0)
		nrb[2] = _gr_stack_token_pcs(tok, rb[2], DEPTH);
	BARRIER();
	return nrb[1];
}
NOINLINE int rbp_inner(void) { int r = rbp_site(); BARRIER(); return r + 1; }
NOINLINE int rbp_pad(int d)
{
	int r = d > 0 ? rbp_pad(d - 1) : rbp_inner();
	BARRIER();
	return r + 1;
}
NOINLINE int rbp_middle(void) { int r = rbp_pad(rbp_pads - 1 < 0 ? 0 : rbp_pads - 1); BARRIER(); return r + 1; }
NOINLINE int rbp_outer(void)
{
	/* the fake frame: above middle's frame, as a real caller's would be */
	uintptr_t fake[2] __attribute__((aligned(16)));
	rb_fake = fake;
	int r = rbp_middle();
	BARRIER();
	return r + (int)(fake[0] & 1);
}

static void check_modified_rbp(void)
{
	rbp_outer();
	CHECK(nrb[0] > 5 && nrb[1] > 3 && nrbp > 3);
	CHECKF(nrb[1] == nrbp && memcmp(rb[1], rbp_plain, (size_t)nrbp * sizeof rbp_plain[0]) == 0,
	       "capture with the changed rbp = plain walk (%d vs %d frames)", nrb[1], nrbp);
	if (nrb[1] != nrbp || memcmp(rb[1], rbp_plain, (size_t)nrbp * sizeof rbp_plain[0]) != 0)
		dump_pair("changed rbp", rb[1], nrb[1], rbp_plain, nrbp);
	/* the change is visible (the fake frame's return address is ra_here's
	** call site in rbp_site), unless the fake frame is not above middle's */
	CHECKF(nrb[1] != nrb[0] || memcmp(rb[0], rb[1], (size_t)nrb[0] * sizeof rb[0][0]) != 0,
	       "the changed chain gives another stack");
	CHECKF(nrb[2] == nrb[0] && memcmp(rb[0], rb[2], (size_t)nrb[0] * sizeof rb[0][0]) == 0,
	       "restored: the first stack again");
}

void test_modified_saved_rbp(void)
{
	for (rbp_pads = 1; rbp_pads <= 4; rbp_pads++)
		check_modified_rbp();
}

/* ---- deeper than max; max at the record's limit ---------------------------- */

static checker deep_c;
NOINLINE int deep(int d)
{
	if (d == 0)
		return site(&deep_c);
	int r = deep(d - 1);
	BARRIER();
	return r + 1;
}

void test_deep_recursion(void)
{
	static const int maxes[] = { 1, 2, 8, 32, 62, 63, 64, 100 };
	static const int skips[] = { 0, 0, 0, 0, 1, 0, 0, 3 };
	memset(&deep_c, 0, sizeof deep_c);
	gr_stack_stats s0, s1;
	_gr_stack_get_stats(&s0);
	for (unsigned i = 0; i < sizeof maxes / sizeof maxes[0]; i++) {
		site_max = maxes[i];
		site_skip = skips[i];
		for (int k = 0; k < 20; k++)
			deep(150);
		for (int k = 0; k < 5; k++)   /* whole stacks: they end in libc */
			deep(3);
	}
	/* A record of a walk that ended by itself answers any max >= its
	** frames, and must not answer a smaller one: max from above the whole
	** stack's depth down to 1, each a few times, one call site. */
	site_skip = 0;
	for (site_max = 24; site_max >= 1; site_max--)
		for (int k = 0; k < three; k++)
			deep(3);
	site_max = 32;
	_gr_stack_get_stats(&s1);
	CHECKF(deep_c.mismatches == 0 && deep_c.token_mismatches == 0, "%d mismatches of %d, %d token mismatches",
	       deep_c.mismatches, deep_c.captures, deep_c.token_mismatches);
	CHECKF(s1.repeat_hits - s0.repeat_hits >= 100, "records used: %llu",
	       (unsigned long long)(s1.repeat_hits - s0.repeat_hits));
}

/* ---- random paths, two threads, signals ----------------------------------- */

typedef struct walker {
	checker c;
	uint32_t path;
	int depth;
} walker;

NOINLINE int w_step(walker *w);
NOINLINE int w_a(walker *w) { int r = w_step(w); BARRIER(); return r + 1; }
NOINLINE int w_b(walker *w) { volatile char pad[40]; pad[3] = 1; int r = w_step(w); BARRIER(); return r + pad[3]; }
NOINLINE int w_step(walker *w)
{
	if (w->depth-- <= 0)
		return site(&w->c);
	unsigned sel = w->path & 1;
	w->path = w->path >> 1 | sel << 31;
	return sel ? w_b(w) + 1 : w_a(w) + 1;
}

/* A few paths, each repeated a few times: records are made, used, and
** must notice every change. */
static void run_paths(walker *w, uint32_t seed, int rounds)
{
	uint32_t rng = seed;
	for (int i = 0; i < rounds; i++) {
		if (i % 3 == 0)
			rng = rng * 1664525u + 1013904223u;
		w->depth = 20 + (int)((rng >> 28) & 7);
		w->path = (rng * 2654435761u) & ((i & 4) ? 0xffffffffu : 0x0000ffffu);
		w_step(w);
	}
}

static void *thread_paths(void *arg)
{
	walker *w = arg;
	_gr_stack_thread_init();
	run_paths(w, (uint32_t)(uintptr_t)w, 3000);
	return NULL;
}

void test_two_threads(void)
{
	static walker w[2];
	memset(w, 0, sizeof w);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, thread_paths, &w[i]) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 2; i++)
		CHECKF(w[i].c.mismatches == 0 && w[i].c.token_mismatches == 0 && w[i].c.captures == 6000,
		       "thread %d: %d mismatches of %d, %d token mismatches", i, w[i].c.mismatches,
		       w[i].c.captures, w[i].c.token_mismatches);
}

/* The handler captures both ways and checks itself against a plain walk; it
** must neither use nor corrupt the record the interrupted code works on. */
static checker sig_c;
static volatile int sig_hits;
NOINLINE static void on_prof(int sig)
{
	(void)sig;
	uintptr_t a[DEPTH], p[DEPTH];
	uint64_t tok;
	int na = _gr_stack_capture_frame(__builtin_frame_address(0), a, 32, &tok);
	if (na < 0)
		na = _gr_stack_token_pcs(tok, a, DEPTH);
	int old = _gr_stack_set_fp_only(2);
	int np = _gr_stack_capture_frame(__builtin_frame_address(0), p, 32, NULL);
	_gr_stack_set_fp_only(old);
	if (na > 0)
		check_same(&sig_c, "in handler", a, na, p, np, 0);
	sig_hits++;
}

void test_signal_interrupts_captures(void)
{
	static walker w;
	memset(&w, 0, sizeof w);
	memset(&sig_c, 0, sizeof sig_c);
	CHECK(st_prof_timer_start(on_prof, 100));
	sig_hits = 0;
	/* until 50 signals came, or 20 s (a hang guard: under TSan on a loaded
	** machine the process-wide timer's signals come slowly) */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 4 || sig_hits < 50; i++) {
		run_paths(&w, 99u + (uint32_t)i, 1000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 20)
			break;
	}
	st_prof_timer_stop();
	CHECKF(sig_hits >= 50, "%d signals", sig_hits);
	CHECKF(w.c.mismatches == 0 && w.c.token_mismatches == 0, "interrupted: %d mismatches of %d, %d token",
	       w.c.mismatches, w.c.captures, w.c.token_mismatches);
	CHECKF(sig_c.mismatches == 0, "handler: %d mismatches of %d", sig_c.mismatches, sig_c.captures);
}

int main(void)
{
	_gr_stack_thread_init();
	RUN(test_same_site_repeated);
	RUN(test_same_frame_other_caller);
	RUN(test_user_word);
	RUN(test_modified_saved_rbp);
	RUN(test_deep_recursion);
	RUN(test_two_threads);
	RUN(test_signal_interrupts_captures);
	return gort_test_summary();
}
