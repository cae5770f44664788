/*
** src/internal/panic.h: fatal errors and async-signal-safe output.
**
** _gr_panic is for misuse that means memory is already broken (double free,
** a call on a freed arena handle) and for internal inconsistency: it prints
** "gort: fatal: <message>" on stderr and aborts. It never returns and is never
** used for user-recoverable errors (those return an error code or NULL+errno).
**
** The _gr_sig_* writers use only write(2) and no locale or malloc, so they are
** safe in signal handlers.
*/
#ifndef GORT_INTERNAL_PANIC_H
#define GORT_INTERNAL_PANIC_H

#include <stddef.h>
#include <stdint.h>

/* "gort: fatal: " + formatted message + newline on stderr, then abort(). */
__attribute__((noreturn, format(printf, 1, 2)))
void _gr_panic(const char *fmt, ...);

/* "gort: warning: " + message + newline on stderr. Not signal-safe. */
__attribute__((format(printf, 1, 2)))
void _gr_warn(const char *fmt, ...);

/* Async-signal-safe writers to stderr (fd 2). */
void _gr_sig_puts(const char *s);
void _gr_sig_puthex(uintptr_t v);   /* "0x" + lowercase hex, no leading zeros */
void _gr_sig_putdec(uint64_t v);

#endif
