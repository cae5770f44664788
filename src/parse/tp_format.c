/*
** src/parse/tp_format.c: names and the one-line text form of an event.
**
** gort_tp_format_event() prints exactly what Go 1.22's Event.String() prints
** (trace.Event in internal/trace/v2), so a dump of our reader can be diffed
** against Go's `gotracevalidate -log-events`. Strings are quoted like Go's
** %q: printable ASCII as is, the usual escapes, valid UTF-8 kept, other bytes
** as \xNN. Pure functions; thread-safe.
*/
#include "internal/parse.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

GORT_API const char *gort_tp_kind_name(gort_tp_kind k)
{
	static const char *const n[] = {
		"Bad", "Sync", "Metric", "Label", "StackSample", "RangeBegin", "RangeActive", "RangeEnd",
		"TaskBegin", "TaskEnd", "RegionBegin", "RegionEnd", "Log", "StateTransition",
	};
	return (unsigned)k < sizeof n / sizeof n[0] ? n[k] : "Bad";
}

GORT_API const char *gort_tp_gstate_name(int s)
{
	static const char *const n[] = { "Undetermined", "NotExist", "Runnable", "Running", "Waiting", "Syscall" };
	return s >= 0 && s < 6 ? n[s] : "Bad";
}

GORT_API const char *gort_tp_pstate_name(int s)
{
	static const char *const n[] = { "Undetermined", "NotExist", "Running", "Idle" };
	return s >= 0 && s < 4 ? n[s] : "Bad";
}

GORT_API const char *gort_tp_raw_type_name(uint8_t t)
{
	return t > 0 && t < GR_EV_COUNT ? _gr_go122_specs[t].name : NULL;
}

/* An append-only text buffer that counts what it could not store. */
typedef struct sbuf {
	char *p;
	size_t cap, n;
} sbuf;

static void put(sbuf *b, const char *s, size_t len)
{
	if (b->n < b->cap) {
		size_t room = b->cap - b->n;
		memcpy(b->p + b->n, s, len < room ? len : room);
	}
	b->n += len;
}

__attribute__((format(printf, 2, 3)))
static void putf(sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t k;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) { k = 2; cp = c & 0x1f; }
	else if (c >= 0xe0 && c <= 0xef) { k = 3; cp = c & 0x0f; }
	else if (c >= 0xf0 && c <= 0xf4) { k = 4; cp = c & 0x07; }
	else return 0;
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

static void quote(sbuf *b, gort_tp_str s)
{
	const unsigned char *p = (const unsigned char *)s.ptr;
	put(b, "\"", 1);
	for (size_t i = 0; i < s.len;) {
		unsigned c = p[i];
		const char *esc = NULL;
		switch (c) {
		case '\a': esc = "\\a"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\v': esc = "\\v"; break;
		case '\\': esc = "\\\\"; break;
		case '"': esc = "\\\""; break;
		}
		if (esc) {
			put(b, esc, 2);
			i++;
		} else if (c >= 0x20 && c < 0x7f) {
			put(b, (const char *)p + i, 1);
			i++;
		} else if (c < 0x80) {
			putf(b, c == 0x7f ? "\\x7f" : "\\x%02x", c);
			i++;
		} else {
			size_t k = utf8_len(p + i, s.len - i);
			if (k) {
				put(b, (const char *)p + i, k);
				i += k;
			} else {
				putf(b, "\\x%02x", c);
				i++;
			}
		}
	}
	put(b, "\"", 1);
}

size_t _gr_tp_quote(gort_tp_str s, char *buf, size_t cap)
{
	sbuf b = { buf, cap ? cap - 1 : 0, 0 };
	quote(&b, s);
	if (cap)
		buf[b.n < cap - 1 ? b.n : cap - 1] = 0;
	return b.n;
}

static void resource(sbuf *b, gort_tp_resource k, int64_t id)
{
	static const char *const n[] = { "None", "Goroutine", "Proc", "Thread" };
	if (k == GORT_TP_RES_NONE || (unsigned)k > 3)
		put(b, "None", 4);
	else
		putf(b, "%s(%" PRId64 ")", n[k], id);
}

static void frames(sbuf *b, const char *title, const gort_tp_stack *s)
{
	putf(b, "\n%s=\n", title);
	for (size_t i = 0; i < s->nframes; i++) {
		const gort_tp_frame *f = &s->frames[i];
		put(b, "\t", 1);
		put(b, f->func.ptr, f->func.len);
		putf(b, " @ 0x%" PRIx64 "\n\t\t", f->pc);
		put(b, f->file.ptr, f->file.len);
		putf(b, ":%" PRIu64 "\n", f->line);
	}
}

static uint64_t go_task(uint64_t parent)
{
	return parent == 0 ? UINT64_MAX : parent;   /* our 0 is Go's NoTask */
}

GORT_API size_t gort_tp_format_event(const gort_tp_event *ev, char *buf, size_t cap)
{
	sbuf b = { buf, cap ? cap - 1 : 0, 0 };
	putf(&b, "M=%" PRId64 " P=%" PRId64 " G=%" PRId64 " %s Time=%" PRId64, ev->thread, ev->proc, ev->goroutine,
	     gort_tp_kind_name(ev->kind), (int64_t)ev->time_ns);
	switch (ev->kind) {
	case GORT_TP_METRIC:
		put(&b, " Name=", 6);
		quote(&b, ev->u.metric.name);
		putf(&b, " Value=Uint64(%" PRIu64 ")", ev->u.metric.value);
		break;
	case GORT_TP_LABEL:
		put(&b, " Label=", 7);
		quote(&b, ev->u.label.label);
		put(&b, " Resource=", 10);
		resource(&b, ev->u.label.resource, ev->u.label.id);
		break;
	case GORT_TP_RANGE_BEGIN:
	case GORT_TP_RANGE_ACTIVE:
	case GORT_TP_RANGE_END:
		put(&b, " Name=", 6);
		quote(&b, ev->u.range.name);
		put(&b, " Scope=", 7);
		resource(&b, ev->u.range.scope, ev->u.range.scope_id);
		if (ev->kind == GORT_TP_RANGE_END) {
			put(&b, " Attributes=[", 13);
			if (ev->raw_type == GR_EV_GC_SWEEP_END)
				putf(&b, "\"bytes swept\"=Uint64(%" PRIu64 ") \"bytes reclaimed\"=Uint64(%" PRIu64 ")",
				     ev->u.range.swept, ev->u.range.reclaimed);
			put(&b, "]", 1);
		}
		break;
	case GORT_TP_TASK_BEGIN:
	case GORT_TP_TASK_END:
		putf(&b, " ID=%" PRIu64 " Parent=%" PRIu64 " Type=", ev->u.task.id, go_task(ev->u.task.parent));
		quote(&b, ev->u.task.type);
		break;
	case GORT_TP_REGION_BEGIN:
	case GORT_TP_REGION_END:
		putf(&b, " Task=%" PRIu64 " Type=", ev->u.region.task);
		quote(&b, ev->u.region.type);
		break;
	case GORT_TP_LOG:
		putf(&b, " Task=%" PRIu64 " Category=", ev->u.log.task);
		quote(&b, ev->u.log.category);
		put(&b, " Message=", 9);
		quote(&b, ev->u.log.message);
		break;
	case GORT_TP_STATE_TRANSITION: {
		const typeof(ev->u.transition) *t = &ev->u.transition;
		put(&b, " Resource=", 10);
		resource(&b, t->resource, t->id);
		put(&b, " Reason=", 8);
		quote(&b, t->reason);
		if (t->resource == GORT_TP_RES_GOROUTINE)
			putf(&b, " GoID=%" PRId64 " %s->%s", t->id, gort_tp_gstate_name(t->from), gort_tp_gstate_name(t->to));
		else if (t->resource == GORT_TP_RES_PROC)
			putf(&b, " ProcID=%" PRId64 " %s->%s", t->id, gort_tp_pstate_name(t->from), gort_tp_pstate_name(t->to));
		if (ev->raw_type == GR_EV_GO_CREATE || t->stack.id != 0)
			frames(&b, "TransitionStack", &t->stack);
		break;
	}
	default:
		break;
	}
	if (ev->kind == GORT_TP_STACK_SAMPLE || ev->stack.id != 0)
		frames(&b, "Stack", &ev->stack);
	if (cap)
		buf[b.n < cap - 1 ? b.n : cap - 1] = 0;
	return b.n;
}
