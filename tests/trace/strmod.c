/*
** tests/trace/strmod.c: a module for test_strings_ro, built twice with
** different STRMOD_TEXT (same code and layout, so the literal sits at the
** same offset in both): its literal lives in the module's read-only segment,
** and its own annotations with that literal have a call site in the
** module's data.
*/
#ifndef STRMOD_TEXT
#error "STRMOD_TEXT must be defined"
#endif

#include <gort/trace.h>

const char *strmod_text(void);
void strmod_annotate(void);

const char *strmod_text(void)
{
	return STRMOD_TEXT;
}

/* As test_strings_ro's log_one, with the literal itself (call sites). */
void strmod_annotate(void)
{
	gort_trace_region_begin(0, STRMOD_TEXT);
	gort_trace_log(0, STRMOD_TEXT, STRMOD_TEXT);
	gort_trace_region_end(0, STRMOD_TEXT);
}
