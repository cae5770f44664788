/*
** tools/gort-trace/stacks.c: trace-wide stack and frame tables (see stacks.h).
**
** Invariants: frames[0] and stack 0 are placeholders, never handed out;
** a hash key equal to UINT64_MAX (reserved by gt_map) is folded to 0;
** each map value is the head of a chain through frame_next / stack_next
** holding every entry with that hash, so hash collisions stay correct.
*/
#include "stacks.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

static uint64_t fold(uint64_t h)
{
	return h == UINT64_MAX ? 0 : h;
}

void gt_stacks_init(gt_stacks *s, gt_strtab *strs)
{
	memset(s, 0, sizeof *s);
	s->strs = strs;
	gt_map_init(&s->frame_map);
	gt_map_init(&s->stack_map);
	gt_map_init(&s->gen_cache);
	GT_GROW(s->frames, s->capframes, 1);
	memset(&s->frames[0], 0, sizeof s->frames[0]);
	s->frames[0].func = s->frames[0].file = "";
	s->nframes = 1;
	GT_GROW(s->stack_off, s->capstacks, 1);
	GT_GROW(s->stack_len, s->capstacklen, 1);
	s->stack_off[0] = s->stack_len[0] = 0;
	s->nstacks = 1;
	GT_GROW(s->frame_next, s->capfnext, 1);
	GT_GROW(s->stack_next, s->capsnext, 1);
	s->cache_gen = UINT64_MAX;
}

void gt_stacks_free(gt_stacks *s)
{
	free(s->frames);
	free(s->stack_off);
	free(s->stack_len);
	free(s->idx);
	free(s->frame_next);
	free(s->stack_next);
	gt_map_free(&s->frame_map);
	gt_map_free(&s->stack_map);
	gt_map_free(&s->gen_cache);
	memset(s, 0, sizeof *s);
}

static uint32_t frame_intern(gt_stacks *s, const gort_tp_frame *f)
{
	const char *func = gt_intern_str(s->strs, f->func);
	const char *file = gt_intern_str(s->strs, f->file);
	uint64_t h = fold(mix(mix(mix(f->pc, (uintptr_t)func), (uintptr_t)file), f->line));
	uint64_t *head = gt_map_put(&s->frame_map, h, 0, NULL);
	for (uint64_t i = *head; i; i = s->frame_next[i]) {
		const gt_frame *g = &s->frames[i];
		if (g->pc == f->pc && g->func == func && g->file == file && g->line == f->line)
			return (uint32_t)i;
	}
	size_t i = s->nframes++;
	GT_GROW(s->frames, s->capframes, s->nframes);
	GT_GROW(s->frame_next, s->capfnext, s->nframes);
	s->frames[i] = (gt_frame){ .pc = f->pc, .func = func, .file = file, .line = f->line };
	s->frame_next[i] = *head;
	*head = i;
	return (uint32_t)i;
}

uint32_t gt_stack_intern(gt_stacks *s, uint64_t gen, const gort_tp_stack *st)
{
	if (!st || st->nframes == 0 || !st->frames)
		return 0;
	if (gen != s->cache_gen) {
		gt_map_clear(&s->gen_cache);
		s->cache_gen = gen;
	}
	bool fresh = false;
	uint64_t *cached = NULL;
	if (st->id != 0 && st->id != UINT64_MAX) {
		cached = gt_map_put(&s->gen_cache, st->id, 0, &fresh);
		if (!fresh)
			return (uint32_t)*cached;
	}
	/* Append the frame indexes tentatively; drop them if the stack exists. */
	size_t off = s->nidx;
	GT_GROW(s->idx, s->capidx, off + st->nframes);
	uint64_t h = st->nframes;
	for (size_t k = 0; k < st->nframes; k++) {
		uint32_t fi = frame_intern(s, &st->frames[k]);
		s->idx[off + k] = fi;
		h = mix(h, fi);
	}
	h = fold(h);
	uint64_t *head = gt_map_put(&s->stack_map, h, 0, NULL);
	uint32_t found = 0;
	for (uint64_t i = *head; i && !found; i = s->stack_next[i])
		if (s->stack_len[i] == st->nframes &&
		    memcmp(s->idx + s->stack_off[i], s->idx + off, st->nframes * sizeof(uint32_t)) == 0)
			found = (uint32_t)i;
	if (!found) {
		size_t i = s->nstacks++;
		GT_GROW(s->stack_off, s->capstacks, s->nstacks);
		GT_GROW(s->stack_len, s->capstacklen, s->nstacks);
		GT_GROW(s->stack_next, s->capsnext, s->nstacks);
		s->stack_off[i] = (uint32_t)off;
		s->stack_len[i] = (uint32_t)st->nframes;
		s->stack_next[i] = *head;
		*head = i;
		s->nidx = off + st->nframes;
		found = (uint32_t)i;
	}
	if (cached)
		*cached = found;
	return found;
}

const char *gt_stack_summary(const gt_stacks *s, uint32_t stack, int max, char *buf, size_t cap)
{
	const uint32_t *idx;
	size_t n = gt_stack_frames(s, stack, &idx);
	size_t used = 0;
	buf[0] = 0;
	if (n == 0) {
		snprintf(buf, cap, "(no stack)");
		return buf;
	}
	for (size_t k = 0; k < n && (int)k < max && used < cap; k++) {
		const gt_frame *f = &s->frames[idx[k]];
		const char *file = strrchr(f->file, '/');
		file = file ? file + 1 : f->file;
		int w;
		bool nofile = !*file || (strcmp(file, "?") == 0 && f->line == 0);
		if (*f->func && !nofile)
			w = snprintf(buf + used, cap - used, "%s%s (%s:%llu)", k ? " <- " : "", f->func,
				     file, (unsigned long long)f->line);
		else if (*f->func)
			w = snprintf(buf + used, cap - used, "%s%s", k ? " <- " : "", f->func);
		else
			w = snprintf(buf + used, cap - used, "%s0x%llx", k ? " <- " : "",
				     (unsigned long long)f->pc);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	return buf;
}
