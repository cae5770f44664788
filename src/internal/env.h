/*
** src/internal/env.h: parsing of gort's environment variables.
**
** Every GORT_* variable is read through these helpers so that sizes and
** durations are spelled the same way everywhere:
**   sizes:     "4096", "64K", "64M", "1G", "1T" (binary units, optional "iB"/"B")
**   durations: "250ms", "10s", "2m", "500us", "100ns"; a bare number is seconds
** Functions return 0 on success, -EINVAL on a malformed value (out untouched),
** -ENOENT when the variable is unset or empty. Thread-safe (read-only getenv).
*/
#ifndef GORT_INTERNAL_ENV_H
#define GORT_INTERNAL_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int _gr_parse_size(const char *s, uint64_t *out);
int _gr_parse_duration_ns(const char *s, uint64_t *out);
int _gr_env_size(const char *name, uint64_t *out);
int _gr_env_duration_ns(const char *name, uint64_t *out);
/* "1", "true", "yes", "on" -> true; "0", "false", "no", "off" -> false;
** unset or anything else -> dflt. */
bool _gr_env_bool(const char *name, bool dflt);
/* A non-negative integer; unset or malformed -> dflt. */
int64_t _gr_env_int(const char *name, int64_t dflt);

/* Expand a path pattern from GORT_TRACE / GORT_FLIGHT: "%p" becomes the
** current pid, "%%" a single '%'. Writes a NUL-terminated path to out.
** *has_pid (may be NULL) tells whether the pattern named the pid, which
** decides whether a forked or exec'd child may reuse the variable.
** Returns 0, or -ENAMETOOLONG when the result does not fit in cap bytes.
** Async-signal-safe (no malloc, no locale). */
int _gr_expand_path(const char *pattern, char *out, size_t cap, bool *has_pid);

#endif
