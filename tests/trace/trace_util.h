/*
** tests/trace/trace_util.h: helpers shared by the tracer tests: run a
** scenario into a trace file and check it with Go 1.22's validator.
*/
#ifndef GORT_TESTS_TRACE_UTIL_H
#define GORT_TESTS_TRACE_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Validate a trace file with Go's validator; CHECKs the result. Returns
** false when rejected (the message is printed). Skips silently without Go. */
bool tu_validate(const char *path);

/* Count occurrences of an event name (e.g. "GoCreate") in Go's raw text dump
** of the trace (gotraceraw bytes2text). -1 without Go. */
long tu_count(const char *path, const char *needle);

/* Spin on the CPU until the calling thread has used cpu_ns of CPU time. */
void tu_spin_cpu(long cpu_ns);

/* Size of a file, 0 if missing. */
size_t tu_file_size(const char *path);


#endif
