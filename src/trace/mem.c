/*
** src/trace/mem.c: memory for the tracer: thread/P records and the 64 KiB
** batch buffers. Everything comes from mmap (async-signal-safe) and is
** recycled through free lists, never returned to the system, so a pointer
** to a tracer record stays valid for the life of the process.
**
** _gr_tr_alloc uses its own spinlock (held for a few instructions, never
** while calling out); the buffer free list is protected by gr_tr.mu.
*/
#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "trace/tr.h"

#define SLAB (1u << 20)

static atomic_flag alloc_lock = ATOMIC_FLAG_INIT;
static uint8_t *slab_pos, *slab_end;
static gr_tbuf *buf_free;

void *_gr_tr_alloc(size_t n)
{
	n = (n + 63) & ~(size_t)63;
	if (n > SLAB) {
		void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	while (atomic_flag_test_and_set_explicit(&alloc_lock, memory_order_acquire))
		;
	if ((size_t)(slab_end - slab_pos) < n) {
		void *p = mmap(NULL, SLAB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			atomic_flag_clear_explicit(&alloc_lock, memory_order_release);
			return NULL;
		}
		slab_pos = p;
		slab_end = slab_pos + SLAB;
	}
	void *r = slab_pos;
	slab_pos += n;
	atomic_flag_clear_explicit(&alloc_lock, memory_order_release);
	return r;
}

gr_tbuf *_gr_tr_buf_get(void)
{
	gr_tbuf *b = buf_free;
	if (b) {
		buf_free = b->next;
	} else {
		void *p = mmap(NULL, GR_TBUF_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		b = p;
	}
	b->next = NULL;
	b->gen = 0;
	b->last = 0;
	b->kind = GR_CHUNK_BATCH;
	b->events = 0;
	b->body = b->pos = b->data;
	b->size_at = NULL;
	b->end = (uint8_t *)b + GR_TBUF_BYTES;
	b->ev_lim = b->end - GR_EV_MAX;
	return b;
}

void _gr_tr_buf_put(gr_tbuf *b)
{
	b->next = buf_free;
	buf_free = b;
}

/* Forget the free list (fork child: another process's lists stay mapped). */
void _gr_tr_mem_reset_child(void)
{
	atomic_flag_clear(&alloc_lock);
}

gr_tbuf *_gr_tr_buf_open(uint64_t gen, uint64_t m, uint64_t now)
{
	gr_tbuf *b = _gr_tr_buf_get();
	if (!b)
		return NULL;
	uint8_t *p = b->data;
	*p++ = GR_EV_BATCH;
	p = gr_uv(p, gen);
	p = gr_uv(p, m);
	p = gr_uv(p, now);
	b->size_at = p;
	p += 10;
	b->body = b->pos = p;
	b->gen = gen;
	b->last = now;
	return b;
}

void _gr_tr_buf_seal(gr_tbuf *b)
{
	if (!b->size_at)
		return;
	uint64_t v = (uint64_t)(b->pos - b->body);
	uint8_t *p = b->size_at;
	for (int i = 0; i < 9; i++) {
		*p++ = (uint8_t)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	*p = (uint8_t)(v & 0x7f);
}
