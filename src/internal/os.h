/*
** src/internal/os.h: the operating-system layer of the arena (mimalloc's
** prim.h model). Only src/os/ makes mapping system calls for the arena.
**
** Preconditions on every function: addr and len are page aligned, len > 0.
** Functions return 0 or a negative errno; they never abort. All are
** thread-safe (the kernel serialises address-space changes) and none is
** async-signal-unsafe except _gr_os_reserve (it may retry).
*/
#ifndef GORT_INTERNAL_OS_H
#define GORT_INTERNAL_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t _gr_os_page_size(void);

/* Reserve len bytes of address space aligned to align (a power of two >=
** page size), inaccessible and not backed by memory. *out = the start. */
int _gr_os_reserve(size_t len, size_t align, uintptr_t *out);

/* Make [addr, addr+len) inside a reservation readable and writable, backed
** by fresh zero pages on first touch (replaces whatever was there). */
int _gr_os_commit(uintptr_t addr, size_t len);

/* Make [addr, addr+len) fault again and give its physical memory back
** (replaces the range with a fresh inaccessible reservation: any access
** raises SIGSEGV; the range stays reserved so nothing else lands there). */
int _gr_os_decommit(uintptr_t addr, size_t len);

/* Move the physical pages of the accessible range [from, from+len) to
** [to, to+len) (which must lie in a reservation), leaving [from, from+len)
** faulting. -ENOSYS when the kernel cannot do this without a window where the
** old range is unmapped (then the caller decommits instead). */
int _gr_os_move(uintptr_t from, uintptr_t to, size_t len);

/* Give the physical memory of an accessible range back; it reads as zero
** afterwards (MADV_DONTNEED). */
int _gr_os_discard(uintptr_t addr, size_t len);

/* Fault in the accessible range [addr, addr+len) for writing in one call
** (MADV_POPULATE_WRITE): cheaper per page than a page fault each. 0, or
** -ENOSYS once the kernel lacks it (later calls return -ENOSYS at once), or
** another -errno (the pages then fault on first touch as usual). */
int _gr_os_populate(uintptr_t addr, size_t len);

/* madvise(MADV_HUGEPAGE) (on=true) or MADV_NOHUGEPAGE; errors ignored. */
void _gr_os_hugepages(uintptr_t addr, size_t len, bool on);

/* Room left under RLIMIT_AS (bytes), or UINT64_MAX when unlimited. */
uint64_t _gr_os_as_room(void);

/* Monotonic clock in nanoseconds. */
uint64_t _gr_os_now_ns(void);

#endif
