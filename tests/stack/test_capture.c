/* Tests for src/stack/unwind.c + cfi.c: captures from known call chains are
** exact (no frame skipped, none invented), also through code built without
** frame pointers (nofp.c), from signal handlers (on the thread stack and on a
** sigaltstack), and from an explicit frame or ucontext. */
#include "testhelper.h"
#include "stacktest.h"
#include "nofp.h"
#include "internal/stack.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define DEPTH 64

static uintptr_t got[DEPTH];
int ngot;
int line_c, line_b;

/* ---- a plain chain: chain_a -> chain_b -> chain_c -> capture ------------- */

NOINLINE int chain_c(int skip)
{
	ngot = _gr_stack_capture(got, DEPTH, skip); line_c = __LINE__;
	BARRIER();
	return ngot + 1;
}
NOINLINE int chain_b(int skip) { int r = chain_c(skip); line_b = __LINE__; BARRIER(); return r + 1; }
NOINLINE int chain_a(int skip) { int r = chain_b(skip); BARRIER(); return r + 1; }

void test_known_chain(void)
{
	chain_a(0);
	static const char *const want[] = { "chain_c", "chain_b", "chain_a", "test_known_chain" };
	CHECK(ngot >= 5);
	int at = st_find_seq(got, ngot, want, 4);
	CHECKF(at == 0, "chain_c..test_known_chain at %d", at);
	if (at != 0)
		st_dump("known chain", got, ngot);
	/* The walk goes on to main and libc's start code. */
	static const char *const tail[] = { "gort_test_run", "main" };
	CHECK(st_find_seq(got, ngot, tail, 2) > 0);
}

void test_skip(void)
{
	chain_a(2);
	static const char *const want[] = { "chain_a", "test_skip" };
	CHECKF(st_find_seq(got, ngot, want, 2) == 0, "skip 2 starts at chain_a");
	/* max bounds the result */
	uintptr_t two[2];
	CHECK(_gr_stack_capture(two, 2, 0) == 2);
	CHECK(strcmp(st_func(two[0]), "test_skip") == 0);
	CHECK(_gr_stack_capture(two, 0, 0) == 0);
}

void test_file_and_line(void)
{
	if (!st_have_lines())
		SKIP("symbolizer is %s (no line information)", _gr_stack_symbolizer_name());
	chain_a(0);
	const char *func, *file;
	uint32_t line;
	CHECK(_gr_stack_symbolize(got[0] - 1, &func, &file, &line) == 0);
	CHECK(strcmp(func, "chain_c") == 0);
	CHECKF(strstr(file, "tests/stack/test_capture.c") != NULL, "file %s", file);
	CHECKF((int)line == line_c, "chain_c's capture is on line %d, got %u", line_c, line);
	CHECK(_gr_stack_symbolize(got[1] - 1, &func, &file, &line) == 0);
	CHECK(strcmp(func, "chain_b") == 0 && (int)line == line_b);
}

/* ---- through code without frame pointers ------------------------------------- */

int cb_capture(int x)
{
	ngot = _gr_stack_capture(got, DEPTH, 0);
	BARRIER();
	return x + ngot;
}

NOINLINE int via_clobber(void) { int r = nofp_clobber(cb_capture, 1); BARRIER(); return r + 1; }
NOINLINE int via_plain(void) { int r = nofp_plain(cb_capture, 1); BARRIER(); return r + 1; }
NOINLINE int via_both(void) { int r = nofp_plain_then_clobber(cb_capture, 1); BARRIER(); return r + 1; }

void test_nofp_clobbered_rbp(void)
{
	static const char *const want[] = { "cb_capture", "nofp_clobber", "via_clobber",
	                                    "test_nofp_clobbered_rbp", "gort_test_run" };
	gr_stack_stats before, after;
	_gr_stack_get_stats(&before);
	via_clobber();
	_gr_stack_get_stats(&after);
	int at = st_find_seq(got, ngot, want, 5);
	CHECKF(at == 0, "exact stack through garbage rbp (at %d)", at);
	if (at != 0)
		st_dump("nofp_clobber", got, ngot);
	CHECK(after.cfi_steps > before.cfi_steps);

	/* The plain frame-pointer walk stops at the garbage: this is what the
	** fallback repairs (and shows that the test exercises it). */
	int old = _gr_stack_set_fp_only(1);
	via_clobber();
	_gr_stack_set_fp_only(old);
	CHECK(st_find_seq(got, ngot, want, 5) < 0);
}

void test_nofp_skipped_frame(void)
{
	static const char *const want[] = { "cb_capture", "nofp_plain", "via_plain",
	                                    "test_nofp_skipped_frame" };
	via_plain();
	int at = st_find_seq(got, ngot, want, 4);
	CHECKF(at == 0, "exact stack through nofp_plain (at %d)", at);
	if (at != 0)
		st_dump("nofp_plain", got, ngot);
	int old = _gr_stack_set_fp_only(1);
	via_plain();
	_gr_stack_set_fp_only(old);
	/* frame pointers alone lose via_plain (nofp_plain's caller) */
	CHECK(st_find_seq(got, ngot, want, 4) < 0);
#ifndef GORT_SANITIZE_BUILD   /* sanitizer instrumentation changes nofp.c's frames */
	static const char *const skipped[] = { "cb_capture", "nofp_plain", "test_nofp_skipped_frame" };
	CHECK(st_find_seq(got, ngot, skipped, 3) == 0);
#endif
}

void test_nofp_two_frames(void)
{
	static const char *const want[] = { "cb_capture", "nofp_clobber", "nofp_plain_then_clobber",
	                                    "via_both", "test_nofp_two_frames" };
	for (int i = 0; i < 3; i++) {   /* cold, then cached rules */
		via_both();
		int at = st_find_seq(got, ngot, want, 5);
		CHECKF(at == 0, "round %d: at %d", i, at);
		if (at != 0)
			st_dump("two nofp frames", got, ngot);
	}
}

/* ---- from signal handlers ------------------------------------------------------ */

static uintptr_t sig_pcs[DEPTH], uc_pcs[DEPTH];
int nsig, nuc;

void on_usr1(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)si;
	nsig = _gr_stack_capture(sig_pcs, DEPTH, 0);
	nuc = _gr_stack_capture_ucontext(uc, uc_pcs, DEPTH);
}

NOINLINE int sig_inner(void) { raise(SIGUSR1); BARRIER(); return 1; }
NOINLINE int sig_outer(void) { int r = sig_inner(); BARRIER(); return r + 1; }
NOINLINE int sig_nofp_cb(int x) { return sig_inner() + x; }
NOINLINE int sig_via_nofp(void) { int r = nofp_clobber(sig_nofp_cb, 1); BARRIER(); return r + 1; }

void install_usr1(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_usr1;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
}

void check_signal_stacks(const char *what, const char *const *want, int k)
{
	/* From inside the handler: on_usr1, the trampoline, libc's raise, then ours. */
	CHECKF(strcmp(st_func(sig_pcs[0]), "on_usr1") == 0, "%s: handler frame", what);
	int at = st_find_seq(sig_pcs, nsig, want, k);
	CHECKF(at > 1, "%s: handler capture reaches the interrupted chain (at %d)", what, at);
	if (at <= 1)
		st_dump(what, sig_pcs, nsig);
	/* From the ucontext: the interrupted pc (in libc) and then the chain. */
	at = st_find_seq(uc_pcs, nuc, want, k);
	CHECKF(at >= 1 && at <= 4, "%s: ucontext capture (at %d)", what, at);
	if (at < 1 || at > 4)
		st_dump(what, uc_pcs, nuc);
}

void test_signal_handler(void)
{
	install_usr1(0);
	sig_outer();
	static const char *const want[] = { "sig_inner", "sig_outer", "test_signal_handler" };
	check_signal_stacks("thread stack", want, 3);
	sig_via_nofp();
	static const char *const want2[] = { "sig_inner", "sig_nofp_cb", "nofp_clobber",
	                                     "sig_via_nofp", "test_signal_handler" };
	check_signal_stacks("through nofp", want2, 5);
}

void test_signal_altstack(void)
{
	stack_t ss = { .ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0 };
	stack_t old;
	CHECK(ss.ss_sp && sigaltstack(&ss, &old) == 0);
	install_usr1(SA_ONSTACK);
	sig_outer();
	static const char *const want[] = { "sig_inner", "sig_outer", "test_signal_altstack" };
	check_signal_stacks("altstack", want, 3);
	install_usr1(0);
	stack_t off = { .ss_flags = SS_DISABLE };
	sigaltstack(&off, NULL);
	free(ss.ss_sp);
}


/* The tracer's way: an API function with a frame pointer, called by user code
** without one, captures from its own saved (fp, return address). */
NOINLINE int api_like(int x)
{
	uintptr_t *f = __builtin_frame_address(0);
	ngot = _gr_stack_capture_from((void *)f[0], f[1], got, DEPTH);
	BARRIER();
	return x + ngot;
}
NOINLINE int via_api_plain(void) { int r = nofp_plain(api_like, 1); BARRIER(); return r + 1; }
NOINLINE int via_api_clobber(void) { int r = nofp_clobber(api_like, 1); BARRIER(); return r + 1; }

void test_capture_from_api_frame(void)
{
	static const char *const want1[] = { "nofp_plain", "via_api_plain", "test_capture_from_api_frame" };
	static const char *const want2[] = { "nofp_clobber", "via_api_clobber", "test_capture_from_api_frame" };
	for (int i = 0; i < 3; i++) {     /* cold, then with the walk cache */
		via_api_plain();
		int at = st_find_seq(got, ngot, want1, 3);
		CHECKF(at == 0, "round %d: through nofp_plain (at %d)", i, at);
		if (at != 0)
			st_dump("capture_from via nofp_plain", got, ngot);
		via_api_clobber();
		at = st_find_seq(got, ngot, want2, 3);
		CHECKF(at == 0, "round %d: through nofp_clobber (at %d)", i, at);
		if (at != 0)
			st_dump("capture_from via nofp_clobber", got, ngot);
	}
}

/* ---- the walk cache gives the same stacks as a plain walk ------------------------ */

static uintptr_t wc0[DEPTH], wc1[DEPTH], wc2[DEPTH];
static int wc_depth, wc_max, wc_skip, wc_mismatch, wc_rounds;
static uint32_t wc_path;

NOINLINE int wc_bottom(void)
{
	int old = _gr_stack_set_fp_only(2);
	int b = _gr_stack_capture(wc2, wc_max, wc_skip);
	_gr_stack_set_fp_only(old);
	int a = _gr_stack_capture(wc0, wc_max, wc_skip);
	wc_rounds++;
	if (wc_rounds % 2) {   /* again, from the record just made: a full replay */
		int a2 = _gr_stack_capture(wc1, wc_max, wc_skip);
		if (a2 != a || (a > 1 && memcmp(wc0 + 1, wc1 + 1, (size_t)(a - 1) * sizeof wc0[0]) != 0))
			wc_mismatch++;
	}
	/* the two calls differ only in their own call site (frame 0 when skip is 0) */
	int from = wc_skip == 0 ? 1 : 0;
	if (a != b || memcmp(wc0 + from, wc2 + from, (size_t)(a - from) * sizeof wc0[0]) != 0) {
		if (wc_mismatch++ == 0) {
			fprintf(stderr, "  walk cache mismatch (max %d skip %d):\n", wc_max, wc_skip);
			st_dump("cached", wc0, a);
			st_dump("plain", wc2, b);
		}
	}
	return a;
}

int wc_step(int x);
NOINLINE int wc_r1(int x) { volatile char pad[16]; pad[0] = (char)x; int r = wc_step(x + pad[0] - (char)x); BARRIER(); return r + 1; }
NOINLINE int wc_r2(int x) { volatile char pad[48]; pad[5] = (char)x; int r = wc_step(x + pad[5] - (char)x); BARRIER(); return r + 2; }
NOINLINE int wc_r3(int x) { int r = wc_step(x); BARRIER(); return r + 3; }

/* One level of a path: the next 2 bits of wc_path pick how to go down. */
NOINLINE int wc_step(int x)
{
	if (wc_depth-- <= 0)
		return wc_bottom();
	unsigned sel = wc_path & 3;
	wc_path = wc_path >> 2 | sel << 30;
	switch (sel) {
	case 0: return wc_r1(x + 1) + 1;
	case 1: return wc_r2(x + 1) + 1;
	case 2: return wc_r3(x + 1) + 1;
	default: return nofp_plain(wc_step, x + 1) + 1;   /* a CFI step */
	}
}

void test_walk_cache_matches_plain_walk(void)
{
	uint32_t rng = 12345;
	wc_mismatch = wc_rounds = 0;
	gr_stack_stats st0, st1;
	_gr_stack_get_stats(&st0);
	for (int i = 0; i < 3000; i++) {
		rng = rng * 1664525u + 1013904223u;
		wc_depth = (int)(rng >> 27);              /* 0..31 levels */
		wc_path = rng * 2654435761u;
		if (i % 4 != 3)
			wc_path &= 0xaaaaaaaau & 0x77777777u; /* mostly fp frames */
		wc_max = (rng >> 8) % 7 == 0 ? 1 + (int)((rng >> 12) % 8) : DEPTH;
		wc_skip = (rng >> 16) % 5 == 0 ? (int)((rng >> 20) % 4) : 0;
		wc_step(0);
	}
	_gr_stack_get_stats(&st1);
	CHECK(wc_rounds == 3000);
	CHECKF(st1.replayed_frames > st0.replayed_frames + 10000, "the cache was used: %llu frames",
	       (unsigned long long)(st1.replayed_frames - st0.replayed_frames));
	CHECKF(wc_mismatch == 0, "%d of %d captures differ", wc_mismatch, wc_rounds);
}

/* Captures in a signal handler that interrupts captures (the walk cache's
** busy flag) change nothing in the interrupted ones. */
static uintptr_t prof_pcs[DEPTH];
static volatile int prof_hits;
static void on_prof(int sig)
{
	(void)sig;
	if (_gr_stack_capture(prof_pcs, DEPTH, 0) > 0)
		prof_hits++;
}

void test_walk_cache_under_signals(void)
{
	CHECK(st_prof_timer_start(on_prof, 200));
	uint32_t rng = 777;
	wc_mismatch = wc_rounds = 0;
	prof_hits = 0;
	for (int i = 0; i < 20000 || (prof_hits < 20 && i < 2000000); i++) {
		rng = rng * 1664525u + 1013904223u;
		wc_depth = (int)(rng >> 28);
		wc_path = (rng * 2654435761u) & 0xaaaaaaaau;
		wc_max = DEPTH;
		wc_skip = 0;
		wc_step(0);
	}
	st_prof_timer_stop();
	CHECK(prof_hits >= 20);
	CHECKF(wc_mismatch == 0, "%d of %d captures differ", wc_mismatch, wc_rounds);
}

/* A record that ends on a CFI frame which keeps rbp (nofp_plain): the next,
** deeper capture replays it and must go on from the right frame pointer. */
static uintptr_t cut_short[DEPTH], cut_full[DEPTH], cut_plain[DEPTH];
static int n_short, n_full, n_plain;

NOINLINE int cut_cb(int x)
{
	n_short = _gr_stack_capture(cut_short, 3, 0);
	n_full = _gr_stack_capture(cut_full, DEPTH, 0);
	int old = _gr_stack_set_fp_only(2);
	n_plain = _gr_stack_capture(cut_plain, DEPTH, 0);
	_gr_stack_set_fp_only(old);
	BARRIER();
	return x + n_short;
}
NOINLINE int via_cut(void) { int r = nofp_plain(cut_cb, 1); BARRIER(); return r + 1; }

void test_walk_cache_record_ends_on_cfi_frame(void)
{
	static const char *const want[] = { "cut_cb", "nofp_plain", "via_cut",
	                                    "test_walk_cache_record_ends_on_cfi_frame" };
	for (int i = 0; i < 3; i++) {
		via_cut();
		CHECK(n_short == 3 && st_find_seq(cut_short, n_short, want, 3) == 0);
		CHECKF(n_full == n_plain && n_full > 4 &&
		       memcmp(cut_full + 1, cut_plain + 1, (size_t)(n_full - 1) * sizeof cut_full[0]) == 0,
		       "round %d: %d vs %d frames", i, n_full, n_plain);
		CHECK(st_find_seq(cut_full, n_full, want, 4) == 0);
	}
}

/* ---- explicit frame --------------------------------------------------------------- */

NOINLINE int from_here(void)
{
	ngot = _gr_stack_capture_from(__builtin_frame_address(0), (uintptr_t)&from_here + 1,
	                              got, DEPTH);
	BARRIER();
	return ngot;
}

void test_capture_from(void)
{
	from_here();
	CHECK(ngot >= 3);
	CHECK(strcmp(st_func(got[0]), "from_here") == 0);
	CHECK(strcmp(st_func(got[1]), "test_capture_from") == 0);
	/* garbage frame pointers end the walk, they do not crash it */
	CHECK(_gr_stack_capture_from((void *)0x5a5a5a5a5a5a, 0x1234, got, DEPTH) == 1);
	CHECK(_gr_stack_capture_from((void *)((uintptr_t)got + 3), 0x1234, got, DEPTH) == 1);
	uintptr_t fake[4] = { 0x10, 0x20, 0, 0 };   /* decreasing "chain" on our stack */
	CHECK(_gr_stack_capture_from(&fake[0], 0x1234, got, DEPTH) == 1);
}

int main(void)
{
	RUN(test_known_chain);
	RUN(test_skip);
	RUN(test_file_and_line);
	RUN(test_nofp_clobbered_rbp);
	RUN(test_nofp_skipped_frame);
	RUN(test_nofp_two_frames);
	RUN(test_signal_handler);
	RUN(test_signal_altstack);
	RUN(test_capture_from);
	RUN(test_capture_from_api_frame);
	RUN(test_walk_cache_matches_plain_walk);
	RUN(test_walk_cache_under_signals);
	RUN(test_walk_cache_record_ends_on_cfi_frame);
	return gort_test_summary();
}
