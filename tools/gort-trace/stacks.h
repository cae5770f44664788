/*
** tools/gort-trace/stacks.h: stacks and frames made stable across generations.
**
** A trace's stack ids are per generation and an event's frames live only
** until the next event. gt_stacks copies them once into trace-wide tables:
** equal frames (pc, function, file, line) get one frame index, equal frame
** sequences one stack index. Index 0 means "no stack". A per-generation
** cache maps (generation, stack id) to the index, so a stack seen again in
** the same generation costs one hash lookup.
*/
#ifndef GT_STACKS_H
#define GT_STACKS_H

#include "gt.h"

typedef struct gt_frame {
	uint64_t pc;
	const char *func;   /* interned; "" if unknown */
	const char *file;
	uint64_t line;
} gt_frame;

typedef struct gt_stacks {
	gt_strtab *strs;          /* where names are interned (shared) */
	gt_frame *frames;         /* [0] unused */
	size_t nframes, capframes;
	uint32_t *stack_off;      /* stack i: frame indexes in idx[stack_off[i] .. +stack_len[i]] */
	uint32_t *stack_len;
	size_t nstacks, capstacks, capstacklen;
	uint32_t *idx;            /* frame indexes of all stacks, innermost first */
	size_t nidx, capidx;
	gt_map frame_map;         /* hash(frame) -> frame index chain head (see stacks.c) */
	gt_map stack_map;         /* hash(frame seq) -> stack index */
	uint64_t *frame_next;     /* collision chains */
	uint64_t *stack_next;
	size_t capfnext, capsnext;
	gt_map gen_cache;         /* stack id -> index, for cache_gen */
	uint64_t cache_gen;
} gt_stacks;

void gt_stacks_init(gt_stacks *s, gt_strtab *strs);
void gt_stacks_free(gt_stacks *s);
/* Stable index of st (0 if it has no frames). gen = the event's generation. */
uint32_t gt_stack_intern(gt_stacks *s, uint64_t gen, const gort_tp_stack *st);
/* Frames of a stack index, innermost first. */
static inline size_t gt_stack_frames(const gt_stacks *s, uint32_t stack, const uint32_t **idx)
{
	if (stack == 0 || stack >= s->nstacks) {
		*idx = NULL;
		return 0;
	}
	*idx = s->idx + s->stack_off[stack];
	return s->stack_len[stack];
}
static inline const gt_frame *gt_frame_at(const gt_stacks *s, uint32_t f)
{
	return &s->frames[f];
}
/* "func (file:line) <- func (file:line) ..." (up to max frames) into buf. */
const char *gt_stack_summary(const gt_stacks *s, uint32_t stack, int max, char *buf, size_t cap);

#endif
