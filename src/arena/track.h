/*
** src/arena/track.h: sanitizer and valgrind hooks of the arena (mimalloc's
** track.h model). Arena code calls only these macros; each maps to ASan
** poisoning, memcheck client requests, or nothing.
**
**   GR_ASAN                   1 in an AddressSanitizer build
**   gr_poison(p, n)           memory not handed out / freed: ASan reports use
**   gr_unpoison(p, n)         memory handed out
**   gr_vg_*                   memcheck mempool requests (only when running
**                             on valgrind; otherwise cheap no-ops)
*/
#ifndef GORT_ARENA_TRACK_H
#define GORT_ARENA_TRACK_H

#if defined(__SANITIZE_ADDRESS__)
#define GR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GR_ASAN 1
#endif
#endif
#ifndef GR_ASAN
#define GR_ASAN 0
#endif

#if GR_ASAN
#include <sanitizer/asan_interface.h>
#define gr_poison(p, n)   ASAN_POISON_MEMORY_REGION((const void *)(p), (n))
#define gr_unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((const void *)(p), (n))
#else
#define gr_poison(p, n)   ((void)(p), (void)(n))
#define gr_unpoison(p, n) ((void)(p), (void)(n))
#endif

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#define GR_VALGRIND 1
#endif
#endif

#ifdef GR_VALGRIND
#include <valgrind/memcheck.h>
#define gr_on_valgrind()            (RUNNING_ON_VALGRIND != 0)
#define gr_vg_pool_create(a)        VALGRIND_CREATE_MEMPOOL((a), 0, 1)
#define gr_vg_pool_destroy(a)       VALGRIND_DESTROY_MEMPOOL((a))
#define gr_vg_pool_alloc(a, p, n)   VALGRIND_MEMPOOL_ALLOC((a), (p), (n))
#define gr_vg_noaccess(p, n)        VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define gr_vg_undefined(p, n)       VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#else
#define gr_on_valgrind()            0
#define gr_vg_pool_create(a)        ((void)(a))
#define gr_vg_pool_destroy(a)       ((void)(a))
#define gr_vg_pool_alloc(a, p, n)   ((void)(a), (void)(p), (void)(n))
#define gr_vg_noaccess(p, n)        ((void)(p), (void)(n))
#define gr_vg_undefined(p, n)       ((void)(p), (void)(n))
#endif

#endif
