/*
** src/trace/stack.c: stacks for trace events.
**
** Capture and symbolization belong to the stack module (src/stack, always
** part of libgort; see src/internal/stack.h). This file adapts them to the
** tracer: capture from an API function's frame, the stack id of an event
** (through the stack module's repeat records: a repeated stack is verified
** in place and its record carries the generation's stack id, so there is no
** walk, copy or hash), the root frame that names a thread, and names
** for the Stacks batch ("0x<pc>" for a pc the stack module cannot place in
** any loaded module). The stack module caches every symbolization result,
** hits and misses, so there is no second cache for names here.
*/
#include <dlfcn.h>
#include <stdio.h>

#include "internal/stack.h"
#include "trace/tr.h"

int _gr_tr_capture_from(void *fp, uintptr_t *pcs, int max)
{
	if (max <= 0 || !fp)
		return 0;
	if (max > GR_MAX_STACK)
		max = GR_MAX_STACK;
	uintptr_t *f = fp;
	if (!f[1])
		return 0;
	return _gr_stack_capture_from((void *)f[0], f[1], pcs, max);
}

/* The miss path of _gr_tr_stack_of: capture into a buffer, intern, and
** attach the id to the repeat record (keyed by the generation: generation
** numbers never repeat, not even in a forked child, and a token always
** names the same pcs). */
static __attribute__((noinline)) uint64_t stack_of_slow(void *fp, uint64_t gen, int depth)
{
	uintptr_t pcs[GR_MAX_STACK];
	uint64_t tok = 0;
	int n = _gr_stack_capture_frame(fp, pcs, depth, &tok);
	if (n < 0) {
		n = _gr_stack_token_pcs(tok, pcs, depth);
		if (n <= 0) {
			tok = 0;
			n = _gr_stack_capture_frame(fp, pcs, depth, NULL);
		}
	}
	if (n <= 0) {
		pcs[0] = ((uintptr_t *)fp)[1];
		n = 1;
		tok = 0;
	}
	uint64_t id = _gr_tr_stack(gen, pcs, n);
	if (tok && id)
		_gr_stack_token_set_user(tok, gen, id);
	return id;
}

uint64_t _gr_tr_stack_of(void *fp, uint64_t gen, int depth)
{
	uint64_t tok;
	if (depth > GR_MAX_STACK)
		depth = GR_MAX_STACK;
	/* a repeated stack: the record answers with this generation's id */
	uint64_t id = _gr_stack_frame_lookup(fp, depth, gen, &tok);
	return id ? id : stack_of_slow(fp, gen, depth);
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

void _gr_tr_symbolize(uintptr_t pc, char hex[GR_HEXNAME], const char **func, const char **file, uint32_t *line)
{
	uintptr_t q = pc ? pc - 1 : 0;   /* return address -> the call */
	if (_gr_stack_symbolize(q, func, file, line) != 0 || !*func) {
		snprintf(hex, GR_HEXNAME, "0x%lx", (unsigned long)q);
		*func = hex;
		*file = "?";
		*line = 0;
	}
	if (!*file)
		*file = "?";
}
