/*
** src/parse/tp_table.c: the reader's lookup tables.
**
** tp_map: open addressing with linear probing over uint64 keys; a slot is
** empty when its value is NULL; deletion shifts the following cluster back
** (no tombstones), so lookups stay short under churn (goroutines come and
** go). Load factor <= 1/4 (short clusters: cheap deletes).
** tp_idtab: Go's dataTable for string and stack ids: a sparse map while a
** generation is read, then compacted to a dense array when ids are dense
** (as the runtime writes them), so per-event id checks are one load.
** Single-threaded; owned by one reader.
*/
#include "internal/parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define hash _gr_tp_hash

static int grow(tp_map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	uint64_t *nk = malloc(ncap * sizeof *nk);
	void **nv = calloc(ncap, sizeof *nv);
	if (!nk || !nv) {
		free(nk);
		free(nv);
		return -ENOMEM;
	}
	size_t mask = ncap - 1;
	for (size_t j = 0; j < m->cap; j++) {
		if (!m->vals[j])
			continue;
		size_t i = hash(m->keys[j]) & mask;
		while (nv[i])
			i = (i + 1) & mask;
		nk[i] = m->keys[j];
		nv[i] = m->vals[j];
	}
	free(m->keys);
	free(m->vals);
	m->keys = nk;
	m->vals = nv;
	m->cap = ncap;
	return 0;
}

int _gr_tp_map_put(tp_map *m, uint64_t key, void *val)
{
	if ((m->n + 1) * 4 > m->cap && grow(m) < 0)
		return -ENOMEM;
	size_t mask = m->cap - 1;
	size_t i = hash(key) & mask;
	for (; m->vals[i]; i = (i + 1) & mask) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

void *_gr_tp_map_del(tp_map *m, uint64_t key)
{
	if (m->cap == 0)
		return NULL;
	size_t mask = m->cap - 1;
	size_t i = hash(key) & mask;
	for (;; i = (i + 1) & mask) {
		if (!m->vals[i])
			return NULL;
		if (m->keys[i] == key)
			break;
	}
	void *old = m->vals[i];
	m->vals[i] = NULL;
	m->n--;
	/* Shift back later members of the cluster that may now be unreachable. */
	for (size_t j = (i + 1) & mask; m->vals[j]; j = (j + 1) & mask) {
		size_t h = hash(m->keys[j]) & mask;
		/* Can the entry at j move to the hole at i? Yes if h is not in (i, j]. */
		bool between = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!between) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = NULL;
			i = j;
		}
	}
	return old;
}

void _gr_tp_map_clear(tp_map *m)
{
	if (m->cap)
		memset(m->vals, 0, m->cap * sizeof *m->vals);
	m->n = 0;
}

void _gr_tp_map_free(tp_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

int _gr_tp_idtab_insert(tp_idtab *t, uint64_t id, uint32_t idx)
{
	if (id == 0 || _gr_tp_map_get(&t->sparse, id))
		return -EEXIST;
	if (_gr_tp_map_put(&t->sparse, id, (void *)(uintptr_t)(idx + 1)) < 0)
		return -ENOMEM;
	t->n++;
	return 0;
}

void _gr_tp_idtab_compact(tp_idtab *t)
{
	uint64_t maxid = 0;
	const tp_map *m = &t->sparse;
	for (size_t i = 0; i < m->cap; i++)
		if (m->vals[i] && m->keys[i] > maxid)
			maxid = m->keys[i];
	/* Waste at most ~2x: ids the runtime writes are dense from 1. */
	if (t->n == 0 || maxid > 2 * (uint64_t)t->n + 64)
		return;
	if (maxid + 1 > t->capdense) {
		uint32_t *d = realloc(t->dense, (maxid + 1) * sizeof *d);
		if (!d)
			return;   /* stay sparse: lookups still work */
		t->dense = d;
		t->capdense = maxid + 1;
	}
	uint32_t *d = t->dense;
	memset(d, 0, (maxid + 1) * sizeof *d);
	for (size_t i = 0; i < m->cap; i++)
		if (m->vals[i])
			d[m->keys[i]] = (uint32_t)(uintptr_t)m->vals[i];
	t->ndense = maxid + 1;
}

void _gr_tp_idtab_reset(tp_idtab *t)
{
	_gr_tp_map_clear(&t->sparse);
	t->ndense = 0;
	t->n = 0;
}

void _gr_tp_idtab_free(tp_idtab *t)
{
	_gr_tp_map_free(&t->sparse);
	free(t->dense);
	memset(t, 0, sizeof *t);
}
