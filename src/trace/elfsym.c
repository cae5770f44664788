/*
** src/trace/elfsym.c: fallback symbolizer for trace stacks when the stack
** module (src/stack, with debug info) is not linked: the name of the
** function containing a pc, from the ELF .symtab (or .dynsym) of the object
** that maps it. Files are mapped read-only once and kept (a process has few
** objects). Thread-safe (one mutex); not async-signal-safe.
*/
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/tr.h"

#define MAX_OBJS 64

typedef struct obj {
	char path[512];
	const uint8_t *map;
	size_t size;
	const Elf64_Sym *syms;
	size_t nsyms;
	const char *strs;
	size_t strsz;
	bool dyn;          /* ET_DYN: symbol values are relative to the load base */
	bool bad;
} obj;

static obj objs[MAX_OBJS];
static int nobjs;
static pthread_mutex_t elf_mu = PTHREAD_MUTEX_INITIALIZER;

static bool load(obj *o)
{
	int fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct stat st;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(Elf64_Ehdr)) {
		close(fd);
		return false;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return false;
	o->map = m;
	o->size = (size_t)st.st_size;
	const Elf64_Ehdr *eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff == 0 || eh->e_shoff + (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > o->size)
		return false;
	o->dyn = eh->e_type == ET_DYN;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(o->map + eh->e_shoff);
	for (int pass = 0; pass < 2 && !o->syms; pass++) {
		uint32_t want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;
		for (int i = 0; i < eh->e_shnum; i++) {
			if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum)
				continue;
			const Elf64_Shdr *str = &sh[sh[i].sh_link];
			if (sh[i].sh_offset + sh[i].sh_size > o->size || str->sh_offset + str->sh_size > o->size)
				continue;
			o->syms = (const Elf64_Sym *)(o->map + sh[i].sh_offset);
			o->nsyms = sh[i].sh_size / sizeof(Elf64_Sym);
			o->strs = (const char *)(o->map + str->sh_offset);
			o->strsz = str->sh_size;
			break;
		}
	}
	return o->syms != NULL;
}

static obj *find_obj(const char *path)
{
	for (int i = 0; i < nobjs; i++)
		if (strcmp(objs[i].path, path) == 0)
			return &objs[i];
	if (nobjs == MAX_OBJS)
		return NULL;
	obj *o = &objs[nobjs++];
	snprintf(o->path, sizeof o->path, "%s", path);
	o->bad = !load(o);
	return o;
}

/* Writes "func" into out; returns true when a function symbol covers pc. */
bool _gr_tr_elf_symbolize(uintptr_t pc, char *out, size_t cap)
{
	Dl_info di;
	if (!dladdr((void *)pc, &di))
		return false;
	const char *path = di.dli_fname && di.dli_fname[0] ? di.dli_fname : "/proc/self/exe";
	pthread_mutex_lock(&elf_mu);
	obj *o = find_obj(path);
	if ((!o || o->bad) && strcmp(path, "/proc/self/exe") != 0 && !strchr(path, '/'))
		o = find_obj("/proc/self/exe");   /* the main program, named by argv[0] */
	bool ok = false;
	if (o && !o->bad) {
		uint64_t addr = o->dyn ? pc - (uintptr_t)di.dli_fbase : pc;
		const Elf64_Sym *best = NULL;
		for (size_t i = 0; i < o->nsyms; i++) {
			const Elf64_Sym *s = &o->syms[i];
			if (ELF64_ST_TYPE(s->st_info) != STT_FUNC || s->st_value == 0 || s->st_name >= o->strsz)
				continue;
			if (addr >= s->st_value && addr < s->st_value + (s->st_size ? s->st_size : 1)) {
				best = s;
				break;
			}
		}
		if (best) {
			snprintf(out, cap, "%s", o->strs + best->st_name);
			ok = true;
		}
	}
	pthread_mutex_unlock(&elf_mu);
	return ok;
}
