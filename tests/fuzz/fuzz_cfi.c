/*
** tests/fuzz/fuzz_cfi.c: libFuzzer target for the DWARF call-frame reader
** of the stack module (src/stack/cfi.c), compiled in here whole so that its
** static parsers can be called on arbitrary bytes.
**
** The input is split by its first byte into a CIE (length field first, as
** in .eh_frame) and an FDE's instruction bytes; the CIE is parsed, its
** initial instructions run, then the FDE's up to a pc taken from the input.
** Modules loaded in a process are trusted to carry well-formed CFI, but a
** corrupt or unusual one must only ever give "no rule": every read stays
** inside the bounds the lengths give, and no arithmetic on read values is
** undefined (ASan/UBSan check both).
*/
#include "../../src/stack/cfi.c"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	size_t split = 2 + (size_t)data[0] * (size - 2) / 256;
	uintptr_t pc = 0x1000 + data[1];
	const uint8_t *cie_at = data + 2, *fde = data + split, *end = data + size;
	cie_info cie;
	if (!parse_cie(cie_at, data + split, &cie))
		return 0;
	cfa_row row = { .cfa_reg = REG_SP };
	if (!run_cfa(cie.insns, cie.insns_end, 0x1000, ~(uintptr_t)0, &cie, &row, &row))
		return 0;
	cfa_row init = row;
	(void)run_cfa(fde, end, 0x1000, pc, &cie, &row, &init);
	return 0;
}
