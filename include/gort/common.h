/*
** gort/common.h: definitions shared by every public gort header.
**
** GORT_API marks the exported functions (the library is built with hidden
** visibility). The attribute macros give the compiler facts about a function
** (unused results, allocation size and alignment), as mimalloc's header does.
** All public headers are valid C11 and C++.
*/
#ifndef GORT_COMMON_H
#define GORT_COMMON_H

#define GORT_VERSION_MAJOR 0
#define GORT_VERSION_MINOR 1
#define GORT_VERSION_PATCH 0
#define GORT_VERSION_STRING "0.1.0"

#if defined(GORT_BUILDING)
#define GORT_API __attribute__((visibility("default")))
#else
#define GORT_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#define GORT_NODISCARD         __attribute__((warn_unused_result))
#define GORT_ATTR_MALLOC       __attribute__((malloc))
#define GORT_ATTR_ALLOC_SIZE(n)    __attribute__((alloc_size(n)))
#define GORT_ATTR_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#define GORT_ATTR_FORMAT(f, a) __attribute__((format(printf, f, a)))
#define GORT_LIKELY(x)         __builtin_expect(!!(x), 1)
#define GORT_UNLIKELY(x)       __builtin_expect(!!(x), 0)
#else
#define GORT_NODISCARD
#define GORT_ATTR_MALLOC
#define GORT_ATTR_ALLOC_SIZE(n)
#define GORT_ATTR_ALLOC_SIZE2(n, m)
#define GORT_ATTR_FORMAT(f, a)
#define GORT_LIKELY(x)   (x)
#define GORT_UNLIKELY(x) (x)
#endif

#ifdef __cplusplus
#define GORT_EXTERN_C_BEGIN extern "C" {
#define GORT_EXTERN_C_END   }
#else
#define GORT_EXTERN_C_BEGIN
#define GORT_EXTERN_C_END
#endif

#endif
