/*
** src/trace/stack.c: stacks for trace events.
**
** Capture and symbolization belong to the stack module (src/stack), called
** through weak references so the tracer links without it. Fallbacks: a
** frame-pointer walk bounded by the thread's stack (libgort is built with
** frame pointers) and ELF symbol-table or dladdr names, or "0x<pc>" when
** nothing is known.
** Symbolization results are cached for the process (one mutex).
*/
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "trace/tr.h"

int _gr_stack_capture_from(void *fp, uintptr_t pc, uintptr_t *pcs, int max) __attribute__((weak));
int _gr_stack_symbolize(uintptr_t pc, const char **func, const char **file, uint32_t *line)
	__attribute__((weak));

/* Frame-pointer walk from fp: frame = {saved fp, return address}. Through
** code without frame pointers (libc, a signal frame) the chain may point at
** any word of this thread's stack: the bounds keep the reads inside it, and
** ASan must not check them (they may land in another frame's redzone). */
static __attribute__((noinline, no_sanitize_address)) int fp_walk_from(gr_tthread *t, uintptr_t *fp, uintptr_t *pcs,
                                                              int max, int skip)
{
	uintptr_t lo = t ? t->stack_lo : 0, hi = t ? t->stack_hi : 0;
	if (!lo) {
		lo = (uintptr_t)fp;
		hi = lo + (1u << 20);
	}
	int n = 0;
	while (n < max) {
		if ((uintptr_t)fp < lo || (uintptr_t)fp + 16 > hi || ((uintptr_t)fp & 7))
			break;
		uintptr_t ret = fp[1];
		uintptr_t *next = (uintptr_t *)fp[0];
		if (ret < 65536)   /* not code: the chain left frame-pointer land */
			break;
		if (skip > 0)
			skip--;
		else
			pcs[n++] = ret;
		if (next <= fp)
			break;
		fp = next;
	}
	return n;
}

int _gr_tr_capture_from(gr_tthread *t, void *fp, uintptr_t *pcs, int max)
{
	if (max <= 0 || !fp)
		return 0;
	if (max > GR_MAX_STACK)
		max = GR_MAX_STACK;
	uintptr_t *f = fp;
	if (_gr_stack_capture_from && f[1])
		return _gr_stack_capture_from((void *)f[0], f[1], pcs, max);
	return fp_walk_from(t, f, pcs, max, 0);
}

/* Root frame that names the thread: the outermost frame outside libc, the
** dynamic loader and sanitizer runtimes (start_thread, __libc_start_main,
** the sanitizers' thread trampolines). */
uintptr_t _gr_tr_entry_pc(const uintptr_t *pcs, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		Dl_info di;
		if (dladdr((void *)(pcs[i] - 1), &di) && di.dli_fname &&
		    (strstr(di.dli_fname, "libc.so") || strstr(di.dli_fname, "ld-linux") ||
		     strstr(di.dli_fname, "libpthread") || strstr(di.dli_fname, "libtsan") ||
		     strstr(di.dli_fname, "libasan")))
			continue;
		return pcs[i];
	}
	return n > 0 ? pcs[n - 1] : 0;
}

typedef struct sym {
	struct sym *next;
	uintptr_t pc;
	const char *func, *file;
	uint32_t line;
} sym;

#define SYMBUCKETS 4096u
static sym *symtab[SYMBUCKETS];
static pthread_mutex_t sym_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *own_name(uintptr_t pc)
{
	Dl_info di;
	char buf[512];
	if (_gr_tr_elf_symbolize(pc, buf, sizeof buf)) {
		/* buf holds the function name */
	} else if (dladdr((void *)pc, &di) && di.dli_sname && di.dli_saddr) {
		snprintf(buf, sizeof buf, "%s", di.dli_sname);
	} else if (dladdr((void *)pc, &di) && di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');
		snprintf(buf, sizeof buf, "%s+0x%lx", base ? base + 1 : di.dli_fname,
		         (unsigned long)(pc - (uintptr_t)di.dli_fbase));
	} else {
		snprintf(buf, sizeof buf, "0x%lx", (unsigned long)pc);
	}
	return strdup(buf);
}

void _gr_tr_symbolize(uintptr_t pc, const char **func, const char **file, uint32_t *line)
{
	uintptr_t q = pc ? pc - 1 : 0;   /* return address -> the call */
	unsigned h = (unsigned)((q >> 4) ^ (q >> 16)) & (SYMBUCKETS - 1);
	pthread_mutex_lock(&sym_mu);
	for (sym *s = symtab[h]; s; s = s->next) {
		if (s->pc == q) {
			*func = s->func;
			*file = s->file;
			*line = s->line;
			pthread_mutex_unlock(&sym_mu);
			return;
		}
	}
	pthread_mutex_unlock(&sym_mu);
	const char *fn = NULL, *fl = NULL;
	uint32_t ln = 0;
	if (!_gr_stack_symbolize || _gr_stack_symbolize(q, &fn, &fl, &ln) != 0 || !fn) {
		fn = own_name(q);
		fl = fl ? fl : "?";
	}
	if (!fl)
		fl = "?";
	sym *s = malloc(sizeof *s);
	if (s) {
		s->pc = q;
		s->func = fn;
		s->file = fl;
		s->line = ln;
		pthread_mutex_lock(&sym_mu);
		s->next = symtab[h];
		symtab[h] = s;
		pthread_mutex_unlock(&sym_mu);
	}
	*func = fn;
	*file = fl;
	*line = ln;
}

bool _gr_stack_capture_present(void)
{
	return _gr_stack_capture_from != NULL;
}
