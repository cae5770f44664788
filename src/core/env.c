/*
** src/core/env.c: size/duration/boolean parsing for GORT_* variables
** (see src/internal/env.h). Stateless and thread-safe.
*/
#include "internal/env.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Parse a decimal number with optional fraction; *end is set past it. */
static int parse_number(const char *s, double *val, const char **end)
{
	char *e;
	errno = 0;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	double v = strtod(s, &e);
	if (errno || e == s || v < 0)
		return -EINVAL;
	*val = v;
	*end = e;
	return 0;
}

int _gr_parse_size(const char *s, uint64_t *out)
{
	double v;
	const char *e;
	if (!s || parse_number(s, &v, &e) != 0)
		return -EINVAL;
	double mult = 1;
	switch (toupper((unsigned char)*e)) {
	case 0: break;
	case 'K': mult = 1024.0; e++; break;
	case 'M': mult = 1024.0 * 1024; e++; break;
	case 'G': mult = 1024.0 * 1024 * 1024; e++; break;
	case 'T': mult = 1024.0 * 1024 * 1024 * 1024; e++; break;
	case 'B': break;
	default: return -EINVAL;
	}
	if (*e == 'i' && e[1] == 'B')
		e += 2;
	else if (*e == 'B' || *e == 'b')
		e++;
	if (*e)
		return -EINVAL;
	double r = v * mult;
	if (r >= 18446744073709551615.0)
		return -EINVAL;
	*out = (uint64_t)r;
	return 0;
}

int _gr_parse_duration_ns(const char *s, uint64_t *out)
{
	static const struct { const char *unit; double ns; } units[] = {
		{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"", 1e9},
	};
	double v;
	const char *e;
	if (!s || parse_number(s, &v, &e) != 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(e, units[i].unit) == 0) {
			double r = v * units[i].ns;
			if (r >= 18446744073709551615.0)
				return -EINVAL;
			*out = (uint64_t)r;
			return 0;
		}
	}
	return -EINVAL;
}

int _gr_env_size(const char *name, uint64_t *out)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return -ENOENT;
	return _gr_parse_size(s, out);
}

int _gr_env_duration_ns(const char *name, uint64_t *out)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return -ENOENT;
	return _gr_parse_duration_ns(s, out);
}

bool _gr_env_bool(const char *name, bool dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
		return true;
	if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		return false;
	return dflt;
}

int64_t _gr_env_int(const char *name, int64_t dflt)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return dflt;
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (errno || *e || v < 0)
		return dflt;
	return (int64_t)v;
}

int _gr_expand_path(const char *pattern, char *out, size_t cap, bool *has_pid)
{
	size_t n = 0;
	bool pid_seen = false;
	for (const char *s = pattern; *s; s++) {
		char num[24];
		const char *piece = num;
		size_t len = 1;
		if (s[0] == '%' && s[1] == 'p') {
			/* Decimal pid without snprintf, so the crash path may call us. */
			unsigned long v = (unsigned long)getpid();
			char tmp[24];
			size_t k = 0;
			do {
				tmp[k++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			for (len = 0; len < k; len++)
				num[len] = tmp[k - 1 - len];
			pid_seen = true;
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			num[0] = '%';
			s++;
		} else {
			num[0] = *s;
		}
		if (n + len >= cap)
			return -ENAMETOOLONG;
		memcpy(out + n, piece, len);
		n += len;
	}
	if (cap == 0)
		return -ENAMETOOLONG;
	out[n] = 0;
	if (has_pid)
		*has_pid = pid_seen;
	return 0;
}
