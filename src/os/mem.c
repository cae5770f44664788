/*
** src/os/mem.c: address-space primitives for the arena (src/internal/os.h).
**
** Invariants: the arena region is one PROT_NONE MAP_NORESERVE reservation;
** ranges inside it are only ever replaced with MAP_FIXED (never unmapped), so
** at no moment is there a hole another mmap could fill. Decommit replaces a
** range with a fresh PROT_NONE NORESERVE mapping that has no anon_vma, so the
** kernel merges it back with its reserved neighbours and the number of
** mappings stays small however many chunks are quarantined.
** No state except cached constants; every function is thread-safe.
*/
#include "internal/os.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static size_t page_size;
static int move_supported = 1;   /* cleared after the kernel refuses DONTUNMAP */
static int populate_supported = 1;   /* cleared after the kernel refuses POPULATE_WRITE */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

size_t _gr_os_page_size(void)
{
	if (!page_size) {
		long p = sysconf(_SC_PAGESIZE);
		page_size = p > 0 ? (size_t)p : 4096;
	}
	return page_size;
}

int _gr_os_reserve(size_t len, size_t align, uintptr_t *out)
{
	size_t total = len + align;
	if (total < len)
		return -ENOMEM;
	void *p = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	uintptr_t start = (uintptr_t)p;
	uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
	if (aligned > start)
		munmap(p, aligned - start);
	uintptr_t end = start + total;
	if (end > aligned + len)
		munmap((void *)(aligned + len), end - (aligned + len));
	*out = aligned;
	return 0;
}

int _gr_os_commit(uintptr_t addr, size_t len)
{
	void *p = mmap((void *)addr, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return p == MAP_FAILED ? -errno : 0;
}

int _gr_os_decommit(uintptr_t addr, size_t len)
{
	void *p = mmap((void *)addr, len, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? -errno : 0;
}

int _gr_os_move(uintptr_t from, uintptr_t to, size_t len)
{
	if (!__atomic_load_n(&move_supported, __ATOMIC_RELAXED))
		return -ENOSYS;
	void *p = mremap((void *)from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
	                 (void *)to);
	if (p == MAP_FAILED) {
		int e = errno;
		if (e == EINVAL) {
			__atomic_store_n(&move_supported, 0, __ATOMIC_RELAXED);
			return -ENOSYS;
		}
		return -e;
	}
	/* The old range is still mapped (empty, accessible): make it fault. */
	return _gr_os_decommit(from, len);
}

int _gr_os_discard(uintptr_t addr, size_t len)
{
	return madvise((void *)addr, len, MADV_DONTNEED) == 0 ? 0 : -errno;
}

int _gr_os_populate(uintptr_t addr, size_t len)
{
	if (!__atomic_load_n(&populate_supported, __ATOMIC_RELAXED))
		return -ENOSYS;
	if (madvise((void *)addr, len, MADV_POPULATE_WRITE) == 0)
		return 0;
	int e = errno;
	if (e == EINVAL) {
		__atomic_store_n(&populate_supported, 0, __ATOMIC_RELAXED);
		return -ENOSYS;
	}
	return -e;
}

void _gr_os_hugepages(uintptr_t addr, size_t len, bool on)
{
	(void)madvise((void *)addr, len, on ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
}

uint64_t _gr_os_as_room(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return UINT64_MAX;
	uint64_t used = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		unsigned long vm = 0;
		if (fscanf(f, "%lu", &vm) == 1)
			used = (uint64_t)vm * _gr_os_page_size();
		fclose(f);
	}
	return rl.rlim_cur > used ? rl.rlim_cur - used : 0;
}

uint64_t _gr_os_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
