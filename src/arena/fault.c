/*
** src/arena/fault.c: use-after-free reports.
**
** At free time gort_arena_free captures its caller's stack into a free
** record (a ring of GR_RECS records, overwritten oldest first; each carries
** the sequence number it was written with, so a slot naming an overwritten
** record is detected). The SIGSEGV handler looks the faulting address up in
** the slot table: a quarantined slot, or the strict-faulted prefix of a
** chunk, is a use-after-free. It prints one line, the freeing stack, calls
** the crash hook (flight recorder), restores the default action and returns
** so the access faults again and the process dies of SIGSEGV as it would
** have. Any other fault goes to the handler installed before ours.
**
** Stacks come from the stack module (src/stack): _gr_stack_capture is
** async-signal-safe; _gr_stack_symbolize is not, and the handler calls it
** only on the way to death, after the report line is out.
*/
#include "internal/arena.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "internal/hooks.h"
#include "internal/panic.h"
#include "internal/stack.h"

#define GR_RECS 4096
#define GR_REC_DEPTH 30

typedef struct free_rec {
	_Atomic uint32_t seq;
	uint32_t n;
	uintptr_t pcs[GR_REC_DEPTH];
} free_rec;

static free_rec recs[GR_RECS];
static _Atomic uint32_t rec_next = 1;
static struct sigaction prev_segv;
static _Atomic int installed;

uint32_t _gr_fault_record_free(int skip)
{
	uint32_t seq = atomic_fetch_add_explicit(&rec_next, 1, memory_order_relaxed);
	if (seq == 0)
		seq = atomic_fetch_add_explicit(&rec_next, 1, memory_order_relaxed);
	free_rec *r = &recs[seq % GR_RECS];
	atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
	int n = _gr_stack_capture(r->pcs, GR_REC_DEPTH, skip + 1);
	r->n = n > 0 ? (uint32_t)n : 0;
	atomic_store_explicit(&r->seq, seq, memory_order_release);
	return seq;
}

/* Is addr a use-after-free? Fills *rec with the free record id. */
static bool is_uaf(uintptr_t addr, uint32_t *rec)
{
	long idx = _gr_region_slot_of(addr);
	if (idx < 0)
		return false;
	uint64_t w = _gr_slot_load((size_t)idx);
	uintptr_t base = _gr_region_base() + (uintptr_t)idx * GR_CHUNK;
	*rec = gr_slot_rec(w);
	if (gr_slot_state(w) == GR_SLOT_QUAR)
		return true;
	/* A large block spans slots: its later slots carry the same state. */
	return addr < base + (uintptr_t)gr_slot_fault_pages(w) * _gr_arena_cfg.page;
}

static void report(uintptr_t addr, const char *kind, uint32_t rec)
{
	_gr_sig_puts("gort: use-after-free: ");
	_gr_sig_puts(kind);
	_gr_sig_puts(" of ");
	_gr_sig_puthex(addr);
	_gr_sig_puts(" in arena memory freed by gort_arena_free\n");
	free_rec *r = &recs[rec % GR_RECS];
	if (rec != 0 && atomic_load_explicit(&r->seq, memory_order_acquire) == rec && r->n > 0) {
		_gr_sig_puts("freed at:\n");
		/* The stack module's symbolizer is not signal-safe; we are dying. */
		for (uint32_t i = 0; i < r->n; i++) {
			const char *fn = NULL, *file = NULL;
			uint32_t line = 0;
			_gr_sig_puts("  ");
			_gr_sig_puthex(r->pcs[i]);
			if (_gr_stack_symbolize(r->pcs[i] - 1, &fn, &file, &line) == 0 && fn) {
				_gr_sig_puts(" ");
				_gr_sig_puts(fn);
				if (file) {
					_gr_sig_puts(" ");
					_gr_sig_puts(file);
					_gr_sig_puts(":");
					_gr_sig_putdec(line);
				}
			}
			_gr_sig_puts("\n");
		}
	} else {
		_gr_sig_puts("freed at: (stack not recorded or overwritten)\n");
	}
}

static const char *access_kind(void *ucv)
{
#if defined(__x86_64__)
	ucontext_t *uc = ucv;
	return (uc->uc_mcontext.gregs[REG_ERR] & 2) ? "write" : "read";
#else
	(void)ucv;
	return "access";
#endif
}

static void reset_default(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t addr = (uintptr_t)si->si_addr;
	uint32_t rec;
	if (si->si_code > 0 && is_uaf(addr, &rec)) {
		int saved = errno;
		GR_STAT_ADD(faults_reported, 1);
		report(addr, access_kind(uc), rec);
		_gr_crash_notify(SIGSEGV);
		reset_default(sig);
		errno = saved;
		return;   /* the access faults again and the process dies */
	}
	if (prev_segv.sa_flags & SA_SIGINFO) {
		if (prev_segv.sa_sigaction) {
			prev_segv.sa_sigaction(sig, si, uc);
			return;
		}
	} else if (prev_segv.sa_handler != SIG_DFL && prev_segv.sa_handler != SIG_IGN) {
		prev_segv.sa_handler(sig);
		return;
	}
	reset_default(sig);   /* default action: die on the re-executed access */
}

void _gr_fault_install(void)
{
	if (atomic_exchange(&installed, 1))
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &prev_segv);
}
