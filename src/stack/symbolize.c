/*
** src/stack/symbolize.c: pc -> (function, file, line), off the hot path
** (the tracer calls it when it writes a generation's stack table).
**
** Back end: libdw's dwfl over the process's own modules
** (dwfl_linux_proc_report) when built with GORT_HAVE_LIBDW: the function from
** the module's symbol table, file and line from its DWARF line table (or
** separate debug info found by the standard debuginfo path). Without libdw,
** or for a module libdw cannot read: dladdr (nearest dynamic symbol, the
** module's path as the file, line 0). A pc no symbol covers is named
** "<module>+0x<offset>".
**
** Invariants:
**  - All state (the dwfl handle, the pc cache, the string intern table) is
**    guarded by sym_lock; libdw is not thread-safe, so it is only touched
**    under it. The function is not async-signal-safe.
**  - Results are cached per pc for the process and never change, except
**    negative results (pc in no known module), which are retried after the
**    loaded-object set changes (dl_iterate_phdr's adds/subs counters).
**  - Every returned string is interned (copied once, never freed), so it
**    outlives the module it came from and dwfl re-reports.
**  - The module list is re-read when a pc falls outside every known module
**    and the loaded-object set changed since the last read (dlopen).
** Owner: stack helper.
*/
#include "internal/env.h"
#include "internal/stack.h"
#include "stack/stack_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifdef GORT_HAVE_LIBDW
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#endif

_Atomic uint64_t _gr_stack_sym_lookups, _gr_stack_sym_refreshes;

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- interned strings ---------------------------------------------------- */

static const char **istr;      /* open addressing, NULL = empty */
static size_t istr_cap, istr_len;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Intern s; returns a process-lifetime copy, or a static "?" if out of memory. */
static const char *intern(const char *s)
{
	if (!s)
		return "?";
	if ((istr_len + 1) * 2 > istr_cap) {
		size_t ncap = istr_cap ? istr_cap * 2 : 1024;
		const char **n = calloc(ncap, sizeof *n);
		if (!n)
			return "?";
		for (size_t i = 0; i < istr_cap; i++) {
			if (!istr[i])
				continue;
			size_t j = hash_str(istr[i]) & (ncap - 1);
			while (n[j])
				j = (j + 1) & (ncap - 1);
			n[j] = istr[i];
		}
		free(istr);
		istr = n;
		istr_cap = ncap;
	}
	size_t j = hash_str(s) & (istr_cap - 1);
	while (istr[j]) {
		if (strcmp(istr[j], s) == 0)
			return istr[j];
		j = (j + 1) & (istr_cap - 1);
	}
	char *c = strdup(s);
	if (!c)
		return "?";
	istr[j] = c;
	istr_len++;
	return c;
}

/* ---- the pc cache ----------------------------------------------------------- */

typedef struct sym_entry {
	uintptr_t pc;            /* 0 = empty slot */
	const char *func, *file;
	uint32_t line;
	bool found;
	uint64_t epoch;          /* for negative entries: loaded-object epoch */
} sym_entry;

static sym_entry *cache;
static size_t cache_cap, cache_len;

static size_t pc_slot(uintptr_t pc, size_t cap)
{
	return (size_t)((pc * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1);
}

static sym_entry *cache_find(uintptr_t pc)
{
	if (!cache)
		return NULL;
	for (size_t j = pc_slot(pc, cache_cap);; j = (j + 1) & (cache_cap - 1)) {
		if (cache[j].pc == pc)
			return &cache[j];
		if (cache[j].pc == 0)
			return NULL;
	}
}

static sym_entry *cache_put(const sym_entry *e)
{
	if ((cache_len + 1) * 2 > cache_cap) {
		size_t ncap = cache_cap ? cache_cap * 2 : 4096;
		sym_entry *n = calloc(ncap, sizeof *n);
		if (!n)
			return NULL;
		for (size_t i = 0; i < cache_cap; i++) {
			if (!cache[i].pc)
				continue;
			size_t j = pc_slot(cache[i].pc, ncap);
			while (n[j].pc)
				j = (j + 1) & (ncap - 1);
			n[j] = cache[i];
		}
		free(cache);
		cache = n;
		cache_cap = ncap;
	}
	size_t j = pc_slot(e->pc, cache_cap);
	while (cache[j].pc && cache[j].pc != e->pc)
		j = (j + 1) & (cache_cap - 1);
	if (!cache[j].pc)
		cache_len++;
	cache[j] = *e;
	return &cache[j];
}

/* ---- loaded-object epoch ------------------------------------------------- */

static int epoch_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
		*(uint64_t *)data = (uint64_t)info->dlpi_adds * 0x10000u + info->dlpi_subs;
	return 1;
}

static uint64_t object_epoch(void)
{
	uint64_t e = 0;
	dl_iterate_phdr(epoch_cb, &e);
	return e;
}

/* ---- back ends --------------------------------------------------------------- */

/* "<module basename>+0x<offset>" for a pc without a symbol. */
static const char *module_offset_name(const char *module, uintptr_t off)
{
	char buf[512];
	const char *base = module ? strrchr(module, '/') : NULL;
	base = base ? base + 1 : (module && *module ? module : "?");
	snprintf(buf, sizeof buf, "%s+0x%lx", base, (unsigned long)off);
	return intern(buf);
}

static bool sym_dladdr(uintptr_t pc, sym_entry *e)
{
	Dl_info info;
	if (!dladdr((void *)pc, &info) || !info.dli_fname)
		return false;
	e->file = intern(info.dli_fname[0] ? info.dli_fname : "?");
	e->line = 0;
	if (info.dli_sname)
		e->func = intern(info.dli_sname);
	else
		e->func = module_offset_name(info.dli_fname, pc - (uintptr_t)info.dli_fbase);
	return true;
}

#ifdef GORT_HAVE_LIBDW
static Dwfl *dwfl;
static bool dwfl_failed;
static uint64_t dwfl_epoch;
static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cbs = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void dwfl_refresh(void)
{
	if (dwfl_failed)
		return;
	if (!dwfl) {
		dwfl = dwfl_begin(&dwfl_cbs);
		if (!dwfl) {
			dwfl_failed = true;
			return;
		}
	}
	atomic_fetch_add(&_gr_stack_sym_refreshes, 1);
	dwfl_epoch = object_epoch();
	dwfl_report_begin(dwfl);
	int rc = dwfl_linux_proc_report(dwfl, getpid());
	dwfl_report_end(dwfl, NULL, NULL);
	if (rc != 0) {
		dwfl_end(dwfl);
		dwfl = NULL;
		dwfl_failed = true;
	}
}

/* dwfl_module_getsrc finds the CU through .debug_aranges, which clang does
** not emit (libdw 0.188 then says "address out of range"): scan the CUs'
** own address ranges instead. */
static void line_by_cu_scan(Dwfl_Module *m, uintptr_t pc, sym_entry *e)
{
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = NULL;
	while ((cu = dwfl_module_nextcu(m, cu, &bias)) != NULL) {
		if (dwarf_haspc(cu, pc - bias) <= 0)
			continue;
		Dwarf_Line *dl = dwarf_getsrc_die(cu, pc - bias);
		int lineno = 0;
		const char *src = dl ? dwarf_linesrc(dl, NULL, NULL) : NULL;
		if (src && dwarf_lineno(dl, &lineno) == 0 && lineno > 0) {
			e->file = intern(src);
			e->line = (uint32_t)lineno;
		}
		return;
	}
}

/* Per-module data, hung on the module's dwfl userdata slot: its function
** symbols sorted by address (dwfl_module_addrname scans the whole symbol
** table per call: ~100 us in libc), and whether to read its line tables. */
typedef struct fsym {
	uintptr_t addr, size;
	const char *name;       /* owned by the module's ELF data */
	int global;
} fsym;
typedef struct mod_info {
	fsym *syms;
	size_t nsyms;
	bool lines;
} mod_info;

static int fsym_cmp(const void *a, const void *b)
{
	const fsym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return y->global - x->global;      /* global names first */
}

/* Line tables come from DWARF in the module's own file (a program or library
** built with -g). A system library's DWARF lives in a separate debug file
** (e.g. libc6-dbg) whose compressed sections cost ~100 ms to load for libc:
** read it only when GORT_STACK_DEBUGINFO=1. */
static bool module_has_own_lines(Dwfl_Module *m)
{
	if (_gr_env_bool("GORT_STACK_DEBUGINFO", false))
		return true;
	Dwarf_Addr bias;
	Elf *elf = dwfl_module_getelf(m, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) != NULL;) {
		GElf_Shdr sh;
		const char *nm;
		if (gelf_getshdr(scn, &sh) && (nm = elf_strptr(elf, shstrndx, sh.sh_name)) &&
		    (strcmp(nm, ".debug_line") == 0 || strcmp(nm, ".zdebug_line") == 0))
			return true;
	}
	return false;
}

static mod_info *module_info(Dwfl_Module *m)
{
	void **ud = NULL;
	dwfl_module_info(m, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!ud)
		return NULL;
	if (*ud)
		return *ud;
	mod_info *mi = calloc(1, sizeof *mi);
	if (!mi)
		return NULL;
	int n = dwfl_module_getsymtab(m);
	if (n > 0)
		mi->syms = calloc((size_t)n, sizeof *mi->syms);
	for (int i = 1; mi->syms && i < n; i++) {
		GElf_Sym sym;
		GElf_Addr addr;
		const char *name = dwfl_module_getsym_info(m, i, &sym, &addr, NULL, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		if (!name || !*name || (type != STT_FUNC && type != STT_GNU_IFUNC) || addr == 0)
			continue;
		fsym *f = &mi->syms[mi->nsyms++];
		f->addr = (uintptr_t)addr;
		f->size = (uintptr_t)sym.st_size;
		f->name = name;
		f->global = GELF_ST_BIND(sym.st_info) != STB_LOCAL;
	}
	if (mi->nsyms)
		qsort(mi->syms, mi->nsyms, sizeof *mi->syms, fsym_cmp);
	mi->lines = module_has_own_lines(m);
	*ud = mi;
	return mi;
}

/* The function symbol containing pc, or NULL. */
static const char *module_func(const mod_info *mi, uintptr_t pc)
{
	size_t lo = 0, hi = mi->nsyms;
	while (lo < hi) {          /* first symbol with addr > pc */
		size_t mid = lo + (hi - lo) / 2;
		if (mi->syms[mid].addr <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	/* among symbols at that address, the first is global-preferred */
	uintptr_t at = mi->syms[lo - 1].addr;
	size_t i = lo - 1;
	while (i > 0 && mi->syms[i - 1].addr == at)
		i--;
	const fsym *f = &mi->syms[i];
	if (f->size && pc >= f->addr + f->size)
		return NULL;
	return f->name;
}

/* Does the dynamic loader agree that pc lies in module m? (dwfl's view of
** the address space is a snapshot of /proc/self/maps; dlopen can map a new
** object where dwfl still sees another module's address range.) */
static bool module_is_loaded_object(Dwfl_Module *m, uintptr_t pc)
{
	struct dl_find_object fo;
	Dwarf_Addr start = 0;
	if (_dl_find_object((void *)pc, &fo) != 0)
		return true;         /* not the loader's (vdso, JIT): trust dwfl */
	dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	return (uintptr_t)start == (uintptr_t)fo.dlfo_map_start;
}

static bool sym_libdw(uintptr_t pc, sym_entry *e)
{
	if (!dwfl)
		dwfl_refresh();
	if (!dwfl)
		return false;
	Dwfl_Module *m = dwfl_addrmodule(dwfl, pc);
	if (m && !module_is_loaded_object(m, pc))
		m = NULL;            /* stale: the maps changed under dwfl */
	if (!m && object_epoch() != dwfl_epoch) {
		dwfl_refresh();      /* a module was loaded since: re-read the maps */
		if (!dwfl)
			return false;
		m = dwfl_addrmodule(dwfl, pc);
	}
	if (!m)
		return false;
	Dwarf_Addr start = 0;
	const char *mname = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	mod_info *mi = module_info(m);
	const char *name = mi ? module_func(mi, pc) : dwfl_module_addrname(m, pc);
	e->func = name ? intern(name) : module_offset_name(mname, pc - (uintptr_t)start);
	e->file = intern(mname && *mname ? mname : "?");
	e->line = 0;
	if (!mi || mi->lines) {
		Dwfl_Line *l = dwfl_module_getsrc(m, pc);
		if (l) {
			int lineno = 0;
			const char *src = dwfl_lineinfo(l, NULL, &lineno, NULL, NULL, NULL);
			if (src && lineno > 0) {
				e->file = intern(src);
				e->line = (uint32_t)lineno;
			}
		} else {
			line_by_cu_scan(m, pc, e);
		}
	}
	if (!name) {
		/* No ELF symbol (stripped): try dladdr's dynamic symbols. */
		Dl_info info;
		if (dladdr((void *)pc, &info) && info.dli_sname)
			e->func = intern(info.dli_sname);
	}
	return true;
}
#endif

/* fork: sym_lock is not held across fork (the tracer may hold its own locks
** around symbolization, and its fork handler takes them: no order is safe).
** The child re-creates the lock; if another thread was inside the
** symbolizer at the fork, the child's copy of the state may be half-updated,
** so the child starts over with empty state (the old memory is leaked). */
static volatile int sym_busy;

static void sym_fork_child(void)
{
	pthread_mutex_init(&sym_lock, NULL);
	if (sym_busy) {
		istr = NULL;
		istr_cap = istr_len = 0;
		cache = NULL;
		cache_cap = cache_len = 0;
#ifdef GORT_HAVE_LIBDW
		dwfl = NULL;
		dwfl_failed = false;
#endif
		sym_busy = 0;
	}
}

__attribute__((constructor)) static void symbolize_init(void)
{
	pthread_atfork(NULL, NULL, sym_fork_child);
}

const char *_gr_stack_symbolizer_name(void)
{
#ifdef GORT_HAVE_LIBDW
	return "libdw";
#else
	return "dladdr";
#endif
}

uintptr_t _gr_stack_main_address(void)
{
	uintptr_t addr = 0;
#ifdef GORT_HAVE_LIBDW
	uintptr_t entry = (uintptr_t)getauxval(AT_ENTRY);
	if (entry == 0)
		return 0;
	pthread_mutex_lock(&sym_lock);
	sym_busy = 1;
	if (!dwfl)
		dwfl_refresh();
	Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, entry) : NULL;
	int n = m ? dwfl_module_getsymtab(m) : -1;
	for (int i = 1; i < n; i++) {
		GElf_Sym sym;
		GElf_Addr a = 0;
		const char *name = dwfl_module_getsym_info(m, i, &sym, &a, NULL, NULL, NULL);
		if (name && GELF_ST_TYPE(sym.st_info) == STT_FUNC && sym.st_shndx != SHN_UNDEF &&
		    strcmp(name, "main") == 0) {
			addr = (uintptr_t)a;
			break;
		}
	}
	sym_busy = 0;
	pthread_mutex_unlock(&sym_lock);
#endif
	return addr;
}

int _gr_stack_symbolize(uintptr_t pc, const char **func, const char **file, uint32_t *line)
{
	sym_entry res = { .pc = pc, .func = "?", .file = "?", .line = 0, .found = false };
	if (pc == 0)
		goto out;
	pthread_mutex_lock(&sym_lock);
	sym_busy = 1;
	sym_entry *e = cache_find(pc);
	if (e && (e->found || e->epoch == object_epoch())) {
		res = *e;
		sym_busy = 0;
		pthread_mutex_unlock(&sym_lock);
		goto out;
	}
	atomic_fetch_add_explicit(&_gr_stack_sym_lookups, 1, memory_order_relaxed);
	bool ok = false;
#ifdef GORT_HAVE_LIBDW
	ok = sym_libdw(pc, &res);
#endif
	if (!ok)
		ok = sym_dladdr(pc, &res);
	res.found = ok;
	if (!ok) {
		res.func = res.file = "?";
		res.line = 0;
		res.epoch = object_epoch();
	}
	cache_put(&res);    /* out of memory: just not cached */
	sym_busy = 0;
	pthread_mutex_unlock(&sym_lock);
out:
	if (func)
		*func = res.func;
	if (file)
		*file = res.file;
	if (line)
		*line = res.line;
	return res.found ? 0 : -ENOENT;
}
