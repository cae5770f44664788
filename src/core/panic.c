/*
** src/core/panic.c: fatal-error reporting (see src/internal/panic.h).
** No state; every function may be called from any thread. The _gr_sig_*
** functions may also be called from signal handlers.
*/
#include "internal/panic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_all(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(2, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

__attribute__((format(printf, 2, 0)))
static void vreport(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];
	size_t p = strlen(prefix);
	memcpy(buf, prefix, p);
	int n = vsnprintf(buf + p, sizeof buf - p - 1, fmt, ap);
	size_t len = p + (n < 0 ? 0 : (size_t)n);
	if (len > sizeof buf - 2)
		len = sizeof buf - 2;
	buf[len++] = '\n';
	write_all(buf, len);
}

void _gr_panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("gort: fatal: ", fmt, ap);
	va_end(ap);
	abort();
}

void _gr_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport("gort: warning: ", fmt, ap);
	va_end(ap);
}

void _gr_sig_puts(const char *s)
{
	write_all(s, strlen(s));
}

void _gr_sig_puthex(uintptr_t v)
{
	char buf[2 + 2 * sizeof v];
	int i = (int)sizeof buf;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && i > 2);
	buf[--i] = 'x';
	buf[--i] = '0';
	write_all(buf + i, sizeof buf - (size_t)i);
}

void _gr_sig_putdec(uint64_t v)
{
	char buf[24];
	int i = (int)sizeof buf;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	write_all(buf + i, sizeof buf - (size_t)i);
}
