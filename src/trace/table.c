/*
** src/trace/table.c: per-generation string and stack tables (Go's
** traceStringTable / traceStackTable over traceMap).
**
** Two slots per kind, indexed by gen&1: generation N uses slot N&1 while
** N+1 fills the other. Lookups are lock-free (bucket heads published with
** release stores; nodes are immutable once published); inserts take tab_mu,
** re-check the chain and allocate from the slot's block list. Ids start at 1
** in every generation. Only the generation switcher reads a whole table
** (after no section of that generation is open) and resets it.
**
** Stack lookups first try the calling thread's last stack nodes from the same
** call site (stk_last, 4 sets x 2 ways by the innermost pc): events from one
** call site mostly repeat their previous stack, so a hit costs one compare
** of the pcs instead of a hash and a probe. An entry names its
** generation; generation numbers never repeat, and a caller is inside a
** section of gen, so a node of gen is still in place when the entry's gen
** matches. The forking thread's entry is cleared with the tables in a child.
*/
#include <dlfcn.h>
#include <link.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "trace/tr.h"

#define NBUCKETS 4096u
#define BLOCK (256u * 1024u)

typedef struct gr_node {
	struct gr_node *_Atomic next;   /* bucket chain */
	struct gr_node *all;            /* insertion order */
	uint64_t id;
	uint64_t hash;
	uint32_t len;                   /* bytes, or frames */
	uint32_t pad;
	uint64_t data[];
} gr_node;

typedef struct gr_block {
	struct gr_block *next;
	size_t used;
	uint8_t mem[];
} gr_block;

typedef struct gr_tab {
	gr_node *_Atomic b[NBUCKETS];
	uint64_t next_id;
	gr_node *all_head, **all_tail;
	gr_block *blocks;        /* current first */
	gr_block *spare;         /* recycled blocks */
	uint64_t gen;
	size_t bytes;
} gr_tab;

static gr_tab strtab[2], stktab[2];
static pthread_mutex_t tab_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic size_t tab_bytes;   /* blocks ever allocated */
static _Atomic size_t tab_live;    /* bytes in use by the two slots */

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ n;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return mix(h);
}

/* Each pc is mixed with its position on its own, then summed: the terms do
** not wait for each other (a chained mix per pc is ~10 cycles a frame). */
static uint64_t hash_pcs(const uintptr_t *pcs, int n)
{
	uint64_t h = (uint64_t)n;
	for (int i = 0; i < n; i++) {
		uint64_t x = ((uint64_t)pcs[i] + (uint64_t)i * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
		h += x ^ (x >> 29);
	}
	return mix(h);
}

static void *tab_alloc(gr_tab *t, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	gr_block *b = t->blocks;
	if (!b || b->used + n > BLOCK - sizeof(gr_block)) {
		size_t want = n + sizeof(gr_block) > BLOCK ? n + sizeof(gr_block) : BLOCK;
		if (want == BLOCK && t->spare) {
			b = t->spare;
			t->spare = b->next;
		} else {
			b = _gr_tr_alloc(want);
			if (!b)
				return NULL;
			atomic_fetch_add(&tab_bytes, want);
		}
		b->used = 0;
		b->next = t->blocks;
		t->blocks = b;
	}
	void *r = b->mem + b->used;
	b->used += n;
	t->bytes += n;
	atomic_fetch_add_explicit(&tab_live, n, memory_order_relaxed);
	return r;
}

static gr_tab *slot(gr_tab *pair, uint64_t gen)
{
	gr_tab *t = &pair[gen & 1];
	if (t->gen != gen) {
		/* First use of the slot for this generation: it was reset. */
		t->gen = gen;
	}
	return t;
}

static const gr_node *find(uint64_t h, const void *key, size_t keylen, size_t keybytes, gr_node *start)
{
	for (gr_node *n = start; n; n = atomic_load_explicit(&n->next, memory_order_acquire))
		if (n->hash == h && n->len == keylen && memcmp(n->data, key, keybytes) == 0)
			return n;
	return NULL;
}

static const gr_node *intern(gr_tab *pair, uint64_t gen, uint64_t h, const void *key, size_t keylen, size_t keybytes)
{
	gr_tab *t = &pair[gen & 1];
	_Atomic(gr_node *) *bucket = &t->b[h & (NBUCKETS - 1)];
	gr_node *head = atomic_load_explicit(bucket, memory_order_acquire);
	const gr_node *n = find(h, key, keylen, keybytes, head);
	if (n)
		return n;
	pthread_mutex_lock(&tab_mu);
	slot(pair, gen);
	gr_node *head2 = atomic_load_explicit(bucket, memory_order_acquire);
	n = find(h, key, keylen, keybytes, head2);
	if (!n) {
		gr_node *nn = tab_alloc(t, sizeof(gr_node) + keybytes + 1);
		if (nn) {
			nn->hash = h;
			nn->len = (uint32_t)keylen;
			memcpy(nn->data, key, keybytes);
			((char *)nn->data)[keybytes] = 0;
			nn->id = ++t->next_id;
			nn->all = NULL;
			if (!t->all_tail)
				t->all_tail = &t->all_head;
			*t->all_tail = nn;
			t->all_tail = &nn->all;
			atomic_store_explicit(&nn->next, head2, memory_order_relaxed);
			atomic_store_explicit(bucket, nn, memory_order_release);
		}
		n = nn;
	}
	pthread_mutex_unlock(&tab_mu);
	return n;
}

uint64_t _gr_tr_string(uint64_t gen, const char *s, size_t len)
{
	if (!s || len == 0)
		return 0;
	if (len > GR_GO122_MAX_STRING_SIZE)
		len = GR_GO122_MAX_STRING_SIZE;
	const gr_node *n = intern(strtab, gen, hash_bytes(s, len), s, len, len);
	return n ? n->id : 0;
}

/* Whether the string cache may treat s as read-only (gr_scache_id): the 8
** bytes at s lie in one page, and they and the n bytes of the string lie in
** one PT_LOAD segment without PF_W of a loaded object, as string literals
** do. Found with _dl_find_object (no lock,
** async-signal-safe, so a miss in a signal handler is fine) and the object's
** program headers, read from its first page. Anything unexpected answers no:
** the entry then compares bytes. Off under ASan, which would report the
** 8-byte read past a short literal. */
static bool scache_ro(const char *s, size_t n)
{
#if GR_SCACHE_WORD_COMPARE && defined(DLFO_STRUCT_HAS_EH_DBASE)
	uintptr_t a = (uintptr_t)s;
	if ((a & 4095) > 4096 - 8)
		return false;
	struct dl_find_object fo;
	if (_dl_find_object((void *)a, &fo) != 0 || !fo.dlfo_link_map)
		return false;
	uintptr_t base = (uintptr_t)fo.dlfo_map_start;
	const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)base;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_phentsize != sizeof(ElfW(Phdr)) ||
	    eh->e_phoff < sizeof *eh || eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(ElfW(Phdr)) > 4096)
		return false;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)(base + eh->e_phoff);
	uintptr_t bias = (uintptr_t)fo.dlfo_link_map->l_addr;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		uintptr_t lo = bias + ph[i].p_vaddr, hi = lo + ph[i].p_memsz;
		if (a >= lo && a < hi)
			return hi - a >= (n > 8 ? n : 8) && (ph[i].p_flags & (PF_R | PF_W)) == PF_R;
	}
#else
	(void)s;
	(void)n;
#endif
	return false;
}

uint64_t _gr_tr_string_miss(gr_tthread *th, uint64_t gen, const char *s)
{
	if (!s || !*s)
		return 0;
	uintptr_t k = (uintptr_t)s;
	unsigned i = gr_scache_slot(k);
	gr_scache_ent *e = &th->scache[i];
	gr_scache_rw *r = &th->scache_rw[i];
	size_t len = strnlen(s, GR_GO122_MAX_STRING_SIZE);
	const gr_node *n = intern(strtab, gen, hash_bytes(s, len), s, len, len);
	if (!n)
		return 0;
	const char *c = (const char *)n->data;
	uint32_t cmp = (uint32_t)(len + (len < GR_GO122_MAX_STRING_SIZE));
	e->ptr = s;
	e->id = n->id;
	r->checked = 0;
	e->w0 = r->w1 = 0;
	if (cmp >= 8) {
		memcpy(&e->w0, c, 8);
		memcpy(&r->w1, c + cmp - 8, 8);
	} else if (cmp >= 4) {
		uint32_t x, y;
		memcpy(&x, c, 4);
		memcpy(&y, c + cmp - 4, 4);
		e->w0 = x;
		r->w1 = y;
	}
	e->tag = gen | GR_SCACHE_RW;
	r->copy = c;
	r->n = cmp;
	return n->id;
}

/* A string is classified at its entry's first hit, not at the miss: a
** workload whose strings miss every time (more than the cache holds, in
** turn) then pays no classification. */
uint64_t _gr_tr_string_reused(gr_tthread *th, unsigned i, uint64_t gen, const char *s)
{
	gr_scache_ent *e = &th->scache[i];
	gr_scache_rw *r = &th->scache_rw[i];
	r->checked = 1;
	if (scache_ro(s, r->n)) {
		memcpy(&e->w0, s, 8);
		e->tag = gen;
	}
	return e->id;
}

/* The calling thread's last stacks per call site (see the top of the file):
** 4 sets by the innermost pc, 2 ways each, most recent first, so that two
** call sites that share a set (addresses vary with ASLR) both stay. */
#define STK_SETS 4
typedef struct stk_ent {
	uint64_t gen;
	const gr_node *node;
} stk_ent;
static __thread stk_ent stk_last[STK_SETS][2] __attribute__((tls_model("initial-exec")));

static inline bool stk_hit(const stk_ent *e, uint64_t gen, const uintptr_t *pcs, int n)
{
	const gr_node *nd = e->node;
	if (e->gen != gen || !nd || nd->len != (uint32_t)n)
		return false;
	/* short stacks inline (a call costs more); long ones with libc's
	** vector memcmp (a scalar loop is bound by its two loads a frame) */
	if (n > 8)
		return memcmp(nd->data, pcs, (size_t)n * sizeof(uintptr_t)) == 0;
	uint64_t d = 0;
	for (int i = 0; i < n; i++)
		d |= nd->data[i] ^ (uint64_t)pcs[i];
	return d == 0;
}

uint64_t _gr_tr_stack(uint64_t gen, const uintptr_t *pcs, int n)
{
	if (n <= 0)
		return 0;
	if (n > GR_MAX_STACK)
		n = GR_MAX_STACK;
	stk_ent *set = stk_last[((uint64_t)pcs[0] * 0x9e3779b97f4a7c15ULL) >> 62];
	if (stk_hit(&set[0], gen, pcs, n))
		return set[0].node->id;
	if (stk_hit(&set[1], gen, pcs, n)) {
		stk_ent e = set[1];
		set[1] = set[0];
		set[0] = e;
		return e.node->id;
	}
	const gr_node *nd = intern(stktab, gen, hash_pcs(pcs, n), pcs, (size_t)n, (size_t)n * sizeof(uintptr_t));
	if (!nd)
		return 0;
	set[1] = set[0];
	set[0] = (stk_ent){ gen, nd };
	return nd->id;
}

/* ---- flushing (switcher only) ---- */

void _gr_tr_bw_flush(gr_bw *w)
{
	if (w->b) {
		_gr_tr_buf_seal(w->b);
		pthread_mutex_lock(&gr_tr.mu);
		_gr_tr_queue_buf(w->b);
		pthread_mutex_unlock(&gr_tr.mu);
		w->b = NULL;
	}
}

uint8_t *_gr_tr_bw_room(gr_bw *w, size_t n)
{
	if (w->b && w->b->pos + n > w->b->end - 64)
		_gr_tr_bw_flush(w);
	if (!w->b) {
		pthread_mutex_lock(&gr_tr.mu);
		w->b = _gr_tr_buf_open(w->gen, GR_NOTHREAD, 0);
		pthread_mutex_unlock(&gr_tr.mu);
		if (!w->b)
			return NULL;
		*w->b->pos++ = w->marker;
	}
	return w->b->pos;
}

size_t _gr_tr_tables_bytes(void)
{
	return atomic_load_explicit(&tab_live, memory_order_relaxed);
}

void _gr_tr_tables_flush(uint64_t gen)
{
	gr_tab *st = &stktab[gen & 1];
	gr_tab *ss = &strtab[gen & 1];
	gr_bw w = { gen, GR_EV_STACKS, NULL };
	/* Stacks first: symbolizing their frames adds strings. */
	for (gr_node *n = st->all_head; n; n = n->all) {
		const uintptr_t *pcs = (const uintptr_t *)n->data;
		uint8_t *p = _gr_tr_bw_room(&w, 24 + (size_t)n->len * 40);
		if (!p)
			break;
		*p++ = GR_EV_STACK;
		p = gr_uv(p, n->id);
		p = gr_uv(p, n->len);
		for (uint32_t i = 0; i < n->len; i++) {
			const char *func = NULL, *file = NULL;
			uint32_t line = 0;
			char hex[GR_HEXNAME];
			_gr_tr_symbolize(pcs[i], hex, &func, &file, &line);
			uint64_t fid = func ? _gr_tr_string(gen, func, strlen(func)) : 0;
			uint64_t lid = file ? _gr_tr_string(gen, file, strlen(file)) : 0;
			p = gr_uv(p, pcs[i]);
			p = gr_uv(p, fid);
			p = gr_uv(p, lid);
			p = gr_uv(p, line);
		}
		w.b->pos = p;
	}
	_gr_tr_bw_flush(&w);
	w.marker = GR_EV_STRINGS;
	for (gr_node *n = ss->all_head; n; n = n->all) {
		uint8_t *p = _gr_tr_bw_room(&w, 24 + n->len);
		if (!p)
			break;
		*p++ = GR_EV_STRING;
		p = gr_uv(p, n->id);
		p = gr_uv(p, n->len);
		memcpy(p, n->data, n->len);
		w.b->pos = p + n->len;
	}
	_gr_tr_bw_flush(&w);
}

static void tab_reset(gr_tab *t)
{
	memset(t->b, 0, sizeof t->b);
	t->next_id = 0;
	t->all_head = NULL;
	t->all_tail = NULL;
	while (t->blocks) {
		gr_block *b = t->blocks;
		t->blocks = b->next;
		b->next = t->spare;
		t->spare = b;
	}
	atomic_fetch_sub_explicit(&tab_live, t->bytes, memory_order_relaxed);
	t->bytes = 0;
	t->gen = 0;
}

void _gr_tr_tables_reset(uint64_t gen)
{
	pthread_mutex_lock(&tab_mu);
	tab_reset(&strtab[gen & 1]);
	tab_reset(&stktab[gen & 1]);
	pthread_mutex_unlock(&tab_mu);
}

void _gr_tr_tables_reset_all(void)
{
	memset(stk_last, 0, sizeof stk_last);
	pthread_mutex_init(&tab_mu, NULL);
	for (int i = 0; i < 2; i++) {
		tab_reset(&strtab[i]);
		tab_reset(&stktab[i]);
	}
}
