/*
** src/stack/cfi.c: the DWARF call-frame rule of one pc, for the unwinder's
** fallback (frames of code built without frame pointers).
**
** Lookup: _dl_find_object(pc) gives the module's PT_GNU_EH_FRAME segment
** (.eh_frame_hdr), whose sorted table (initial location -> FDE) is binary
** searched. The FDE's CIE and instructions are then run up to pc with a
** small CFA interpreter that tracks only what x86-64 unwinding needs: the
** CFA rule, the rule of rbp (DWARF reg 6) and of the return address (16).
** The row is reduced to a gr_rule (stack_int.h).
**
** Invariants:
**  - Pure function of the loaded code: no state, no locks, no allocation;
**    every read is inside the .eh_frame/.eh_frame_hdr of a module that
**    _dl_find_object reported as loaded (glibc documents it as
**    async-signal-safe), or inside the code bytes at a return address of such
**    a module. So this runs in signal handlers.
**  - Anything not understood (DWARF expressions, odd encodings, a module
**    without .eh_frame_hdr) yields GR_RULE_GUESS, never an error: the
**    unwinder then trusts the frame pointer, which is what it would do
**    without CFI at all.
** Owner: stack helper.
*/
#include "stack/stack_int.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

enum {
	DW_EH_PE_absptr = 0x00, DW_EH_PE_uleb128 = 0x01, DW_EH_PE_udata2 = 0x02,
	DW_EH_PE_udata4 = 0x03, DW_EH_PE_udata8 = 0x04, DW_EH_PE_sleb128 = 0x09,
	DW_EH_PE_sdata2 = 0x0a, DW_EH_PE_sdata4 = 0x0b, DW_EH_PE_sdata8 = 0x0c,
	DW_EH_PE_pcrel = 0x10, DW_EH_PE_datarel = 0x30, DW_EH_PE_indirect = 0x80,
	DW_EH_PE_omit = 0xff,
};

enum { REG_BP = 6, REG_SP = 7, REG_RA = 16 };

/* A bounded byte reader. */
typedef struct rd {
	const uint8_t *p, *end;
	bool bad;
} rd;

static uint8_t rd_u8(rd *r)
{
	if (r->p >= r->end) {
		r->bad = true;
		return 0;
	}
	return *r->p++;
}

static uint64_t rd_fixed(rd *r, int n)
{
	if (r->end - r->p < n) {
		r->bad = true;
		r->p = r->end;
		return 0;
	}
	uint64_t v = 0;
	memcpy(&v, r->p, (size_t)n);    /* little-endian */
	r->p += n;
	return v;
}

static uint64_t rd_uleb(rd *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		uint8_t b = rd_u8(r);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80) || r->bad)
			return v;
	}
}

static int64_t rd_sleb(rd *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		b = rd_u8(r);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !r->bad);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* Read a pointer in encoding enc; datarel is relative to dbase. */
static uintptr_t rd_ptr(rd *r, uint8_t enc, uintptr_t dbase)
{
	if (enc == DW_EH_PE_omit)
		return 0;
	uintptr_t at = (uintptr_t)r->p;
	uint64_t v;
	switch (enc & 0x0f) {
	case DW_EH_PE_absptr:  v = rd_fixed(r, 8); break;
	case DW_EH_PE_uleb128: v = rd_uleb(r); break;
	case DW_EH_PE_udata2:  v = rd_fixed(r, 2); break;
	case DW_EH_PE_udata4:  v = rd_fixed(r, 4); break;
	case DW_EH_PE_udata8:  v = rd_fixed(r, 8); break;
	case DW_EH_PE_sleb128: v = (uint64_t)rd_sleb(r); break;
	case DW_EH_PE_sdata2:  v = (uint64_t)(int64_t)(int16_t)rd_fixed(r, 2); break;
	case DW_EH_PE_sdata4:  v = (uint64_t)(int64_t)(int32_t)rd_fixed(r, 4); break;
	case DW_EH_PE_sdata8:  v = rd_fixed(r, 8); break;
	default: r->bad = true; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case DW_EH_PE_pcrel:   v += at; break;
	case DW_EH_PE_datarel: v += dbase; break;
	default: r->bad = true; return 0;
	}
	if (enc & DW_EH_PE_indirect) {
		r->bad = true;    /* not used for FDE addresses on x86-64 */
		return 0;
	}
	return (uintptr_t)v;
}

/* Register rules the interpreter tracks. */
enum { RULE_SAME = 0, RULE_OFFSET, RULE_UNDEF, RULE_OTHER };
typedef struct cfa_row {
	int cfa_reg;
	int64_t cfa_off;
	bool cfa_expr;
	uint8_t rule[2];      /* [0] = rbp, [1] = return address */
	int64_t off[2];
} cfa_row;

typedef struct cie_info {
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	bool has_z, signal;
	const uint8_t *insns, *insns_end;
} cie_info;

/* v factored by the CIE's data alignment, wrapping like the machine does: a
** corrupt CFI's huge factor must give a useless offset (rejected later),
** not signed overflow (found by tests/fuzz/fuzz_cfi.c). */
static int64_t by_align(uint64_t v, const cie_info *cie)
{
	return (int64_t)(v * (uint64_t)cie->data_align);
}

static int track_index(uint64_t reg, uint64_t ra_reg)
{
	if (reg == REG_BP)
		return 0;
	if (reg == ra_reg)
		return 1;
	return -1;
}

/* Run instructions [p, end) from loc until loc passes pc. init is the row
** after the CIE's initial instructions (for DW_CFA_restore). Returns false
** on anything malformed or unsupported that makes the row unknowable. */
static bool run_cfa(const uint8_t *p, const uint8_t *end, uintptr_t loc, uintptr_t pc,
                    const cie_info *cie, cfa_row *row, const cfa_row *init)
{
	enum { STACK = 8 };
	cfa_row saved[STACK];
	int nsaved = 0;
	rd r = { p, end, false };
	while (r.p < r.end && !r.bad) {
		uint8_t op = rd_u8(&r);
		uint8_t hi = op & 0xc0, lo = op & 0x3f;
		uint64_t reg, delta;
		int64_t off;
		int ix;
		if (hi == 0x40) {             /* DW_CFA_advance_loc */
			loc += lo * cie->code_align;
			if (loc > pc)
				return true;
			continue;
		}
		if (hi == 0x80) {             /* DW_CFA_offset */
			off = by_align(rd_uleb(&r), cie);
			if ((ix = track_index(lo, cie->ra_reg)) >= 0) {
				row->rule[ix] = RULE_OFFSET;
				row->off[ix] = off;
			}
			continue;
		}
		if (hi == 0xc0) {             /* DW_CFA_restore */
			if ((ix = track_index(lo, cie->ra_reg)) >= 0) {
				row->rule[ix] = init->rule[ix];
				row->off[ix] = init->off[ix];
			}
			continue;
		}
		switch (op) {
		case 0x00: break;                                   /* nop */
		case 0x01:                                          /* set_loc */
			loc = rd_ptr(&r, cie->fde_enc, 0);
			if (loc > pc)
				return true;
			break;
		case 0x02: case 0x03: case 0x04:                    /* advance_loc1/2/4 */
			delta = rd_fixed(&r, op == 0x02 ? 1 : op == 0x03 ? 2 : 4);
			loc += delta * cie->code_align;
			if (loc > pc)
				return true;
			break;
		case 0x05: case 0x11:                               /* offset_extended(_sf) */
			reg = rd_uleb(&r);
			off = by_align(op == 0x05 ? rd_uleb(&r) : (uint64_t)rd_sleb(&r), cie);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0) {
				row->rule[ix] = RULE_OFFSET;
				row->off[ix] = off;
			}
			break;
		case 0x06:                                          /* restore_extended */
			reg = rd_uleb(&r);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0) {
				row->rule[ix] = init->rule[ix];
				row->off[ix] = init->off[ix];
			}
			break;
		case 0x07: case 0x08:                               /* undefined, same_value */
			reg = rd_uleb(&r);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0)
				row->rule[ix] = op == 0x07 ? RULE_UNDEF : RULE_SAME;
			break;
		case 0x09:                                          /* register */
			reg = rd_uleb(&r);
			(void)rd_uleb(&r);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0)
				row->rule[ix] = RULE_OTHER;
			break;
		case 0x0a:                                          /* remember_state */
			if (nsaved == STACK)
				return false;
			saved[nsaved++] = *row;
			break;
		case 0x0b:                                          /* restore_state */
			if (nsaved == 0)
				return false;
			*row = saved[--nsaved];
			break;
		case 0x0c:                                          /* def_cfa */
			row->cfa_reg = (int)rd_uleb(&r);
			row->cfa_off = (int64_t)rd_uleb(&r);
			row->cfa_expr = false;
			break;
		case 0x12:                                          /* def_cfa_sf */
			row->cfa_reg = (int)rd_uleb(&r);
			row->cfa_off = by_align((uint64_t)rd_sleb(&r), cie);
			row->cfa_expr = false;
			break;
		case 0x0d:                                          /* def_cfa_register */
			row->cfa_reg = (int)rd_uleb(&r);
			break;
		case 0x0e:                                          /* def_cfa_offset */
			row->cfa_off = (int64_t)rd_uleb(&r);
			break;
		case 0x13:                                          /* def_cfa_offset_sf */
			row->cfa_off = by_align((uint64_t)rd_sleb(&r), cie);
			break;
		case 0x0f:                                          /* def_cfa_expression */
			row->cfa_expr = true;
			delta = rd_uleb(&r);
			if ((uint64_t)(r.end - r.p) < delta)
				return false;
			r.p += delta;
			break;
		case 0x10: case 0x16:                               /* expression, val_expression */
			reg = rd_uleb(&r);
			delta = rd_uleb(&r);
			if ((uint64_t)(r.end - r.p) < delta)
				return false;
			r.p += delta;
			if ((ix = track_index(reg, cie->ra_reg)) >= 0)
				row->rule[ix] = RULE_OTHER;
			break;
		case 0x14: case 0x15:                               /* val_offset(_sf) */
			reg = rd_uleb(&r);
			if (op == 0x14)
				(void)rd_uleb(&r);
			else
				(void)rd_sleb(&r);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0)
				row->rule[ix] = RULE_OTHER;
			break;
		case 0x2e:                                          /* GNU_args_size */
			(void)rd_uleb(&r);
			break;
		case 0x2f:                                          /* GNU_negative_offset_extended */
			reg = rd_uleb(&r);
			off = by_align(0 - rd_uleb(&r), cie);
			if ((ix = track_index(reg, cie->ra_reg)) >= 0) {
				row->rule[ix] = RULE_OFFSET;
				row->off[ix] = off;
			}
			break;
		default:
			return false;
		}
	}
	return !r.bad;
}

/* Parse the CIE at p (its length field). */
static bool parse_cie(const uint8_t *p, const uint8_t *limit, cie_info *c)
{
	rd r = { p, limit, false };
	uint64_t len = rd_fixed(&r, 4);
	if (len == 0xffffffffu)
		len = rd_fixed(&r, 8);
	if (r.bad || len > (uint64_t)(limit - r.p))
		return false;
	const uint8_t *end = r.p + len;
	r.end = end;
	if (rd_fixed(&r, 4) != 0)       /* CIE id in .eh_frame */
		return false;
	uint8_t version = rd_u8(&r);
	const char *aug = (const char *)r.p;
	while (rd_u8(&r) != 0 && !r.bad)
		;
	if (r.bad)
		return false;
	memset(c, 0, sizeof *c);
	c->fde_enc = DW_EH_PE_absptr;
	const char *a = aug;
	if (a[0] == 'e' && a[1] == 'h') {
		(void)rd_fixed(&r, 8);
		a += 2;
	}
	c->code_align = rd_uleb(&r);
	c->data_align = rd_sleb(&r);
	c->ra_reg = version == 1 ? rd_u8(&r) : rd_uleb(&r);
	if (*a == 'z') {
		c->has_z = true;
		uint64_t alen = rd_uleb(&r);
		if (r.bad || alen > (uint64_t)(r.end - r.p))
			return false;
		const uint8_t *aend = r.p + alen;
		for (a++; *a; a++) {
			switch (*a) {
			case 'L': (void)rd_u8(&r); break;
			case 'R': c->fde_enc = rd_u8(&r); break;
			case 'S': c->signal = true; break;
			case 'P': {
				uint8_t enc = rd_u8(&r);
				/* the personality pointer is not needed: skip it */
				rd tmp = r;
				(void)rd_ptr(&tmp, enc & 0x7f, 0);
				r.p = tmp.p;
				break;
			}
			default:
				r.p = aend;   /* unknown: the length lets us skip the rest */
				goto done;
			}
		}
done:
		r.p = aend;
	} else if (*a != 0) {
		return false;
	}
	if (r.bad)
		return false;
	c->insns = r.p;
	c->insns_end = end;
	return true;
}

/* Binary search .eh_frame_hdr for the FDE covering pc; returns the FDE's
** address or NULL. */
static const uint8_t *find_fde(const uint8_t *hdr, uintptr_t pc)
{
	if (hdr[0] != 1)
		return NULL;
	uint8_t ptr_enc = hdr[1], cnt_enc = hdr[2], tab_enc = hdr[3];
	rd r = { hdr + 4, hdr + 4 + 16, false };
	(void)rd_ptr(&r, ptr_enc, (uintptr_t)hdr);
	uint64_t count = rd_ptr(&r, cnt_enc, (uintptr_t)hdr);
	if (r.bad || tab_enc != (DW_EH_PE_datarel | DW_EH_PE_sdata4) || count == 0)
		return NULL;
	const int32_t *tab = (const int32_t *)(const void *)r.p;
	uintptr_t base = (uintptr_t)hdr;
	size_t lo = 0, hi = (size_t)count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (base + (intptr_t)tab[2 * mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	if (base + (intptr_t)tab[2 * lo] > pc)
		return NULL;
	return (const uint8_t *)(base + (intptr_t)tab[2 * lo + 1]);
}

/* x86-64 Linux signal return trampoline: mov $15,%rax; syscall. */
static bool is_sigreturn(uintptr_t ra)
{
	static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05 };
	return memcmp((const void *)ra, code, sizeof code) == 0;
}

gr_rule _gr_cfi_rule(uintptr_t pc, uintptr_t ra)
{
	gr_rule guess = { GR_RULE_GUESS, 0, 0 };
	struct dl_find_object fo;
	if (_dl_find_object((void *)pc, &fo) != 0)
		return guess;
	if (ra && ra >= (uintptr_t)fo.dlfo_map_start &&
	    ra + 9 <= (uintptr_t)fo.dlfo_map_end && is_sigreturn(ra))
		return (gr_rule){ GR_RULE_SIGNAL, 0, 0 };
	if (!fo.dlfo_eh_frame)
		return guess;
	const uint8_t *fde = find_fde(fo.dlfo_eh_frame, pc);
	if (!fde)
		return guess;
	/* The FDE: length, CIE pointer, pc_begin, pc_range, [aug], insns. The
	** .eh_frame section has no recorded end here; lengths bound every read. */
	rd r = { fde, fde + 12, false };
	uint64_t len = rd_fixed(&r, 4);
	if (len == 0 || len == 0xffffffffu || len > (1u << 24))
		return guess;
	const uint8_t *end = fde + 4 + len;
	r.end = end;
	const uint8_t *cie_id_at = r.p;
	uint32_t cie_ptr = (uint32_t)rd_fixed(&r, 4);
	if (cie_ptr == 0)
		return guess;
	const uint8_t *cie_at = cie_id_at - cie_ptr;
	cie_info cie;
	if (!parse_cie(cie_at, cie_at + (1u << 24), &cie))
		return guess;
	uintptr_t pc_begin = rd_ptr(&r, cie.fde_enc, 0);
	uintptr_t pc_range = rd_ptr(&r, cie.fde_enc & 0x0f, 0);
	if (r.bad || pc < pc_begin || pc >= pc_begin + pc_range)
		return guess;
	if (cie.has_z) {
		uint64_t alen = rd_uleb(&r);
		if (r.bad || alen > (uint64_t)(end - r.p))
			return guess;
		r.p += alen;
	}
	cfa_row row = { .cfa_reg = REG_SP };
	cfa_row init;
	if (!run_cfa(cie.insns, cie.insns_end, pc_begin, ~(uintptr_t)0, &cie, &row, &row))
		return guess;
	init = row;
	if (!run_cfa(r.p, end, pc_begin, pc, &cie, &row, &init))
		return guess;

	if (row.rule[1] == RULE_UNDEF)
		return (gr_rule){ GR_RULE_STOP, 0, 0 };
	if (row.cfa_expr || row.rule[1] != RULE_OFFSET || row.off[1] != -8 ||
	    row.rule[0] == RULE_UNDEF || row.rule[0] == RULE_OTHER ||
	    row.cfa_off < -(1 << 30) || row.cfa_off > (1 << 30))
		return guess;
	int16_t rbp_off = 0;
	if (row.rule[0] == RULE_OFFSET) {
		if (row.off[0] >= 0 || row.off[0] < -32768)
			return guess;
		rbp_off = (int16_t)row.off[0];
	}
	if (row.cfa_reg == REG_BP && row.cfa_off == 16 && rbp_off == -16)
		return (gr_rule){ GR_RULE_FP, -16, 16 };
	if (row.cfa_reg == REG_SP)
		return (gr_rule){ GR_RULE_SP, rbp_off, (int32_t)row.cfa_off };
	if (row.cfa_reg == REG_BP)
		return (gr_rule){ GR_RULE_BP, rbp_off, (int32_t)row.cfa_off };
	return guess;
}
