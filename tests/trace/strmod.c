/*
** tests/trace/strmod.c: a module for test_strings_ro, built twice with
** different STRMOD_TEXT (same code and layout, so the literal sits at the
** same offset in both): its literal lives in the module's read-only segment.
*/
#ifndef STRMOD_TEXT
#error "STRMOD_TEXT must be defined"
#endif

const char *strmod_text(void);

const char *strmod_text(void)
{
	return STRMOD_TEXT;
}
