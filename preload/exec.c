/*
** preload/exec.c: a process image that ends without exit hooks (exec,
** _exit) ends its trace first.
**
** exec replaces the process image, and _exit/_Exit end the process, without
** running atexit handlers or destructors, so the tracer's exit hook never
** runs and the trace file would end wherever the writer happened to be
** (empty, for a shell that execs at once like a pyenv shim, or for dash,
** which leaves through _exit). Each wrapper therefore stops the trace
** (gort_trace_stop: every byte written, file closed) before calling the real
** function. If an exec fails the process goes on untraced.
**
** Only the process that owns the trace stops it: a vfork child shares the
** parent's memory (and would otherwise stop the parent's trace from a
** process that has none of its threads), so the wrappers compare getpid()
** with the owner recorded at load and after each fork.
** The execl family is variadic; like glibc, the wrappers collect the
** arguments into an array on the stack and call the vector form.
** Owner: the preload helper.
*/
#include <alloca.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "preload.h"

static pid_t gr_pl_owner;

static void gr_pl_forked(void)
{
	gr_pl_owner = getpid();
}

__attribute__((constructor(102))) static void gr_pl_exec_init(void)
{
	gr_pl_owner = getpid();
	pthread_atfork(NULL, NULL, gr_pl_forked);
}

static void gr_pl_before_exec(void)
{
	if (!gr_pl_active() || getpid() != gr_pl_owner)
		return;
	int e = errno;
	(void)gort_trace_stop();
	errno = e;
}

GR_PL_WRAPPER(int, execve, (const char *path, char *const argv[], char *const envp[]),
              (path, argv, envp))
{
	__typeof__(gr_pl_real_execve) f_ = GR_PL_NEXT(execve);
	gr_pl_before_exec();
	return f_(path, argv, envp);
}

GR_PL_WRAPPER(int, execv, (const char *path, char *const argv[]), (path, argv))
{
	__typeof__(gr_pl_real_execv) f_ = GR_PL_NEXT(execv);
	gr_pl_before_exec();
	return f_(path, argv);
}

GR_PL_WRAPPER(int, execvp, (const char *file, char *const argv[]), (file, argv))
{
	__typeof__(gr_pl_real_execvp) f_ = GR_PL_NEXT(execvp);
	gr_pl_before_exec();
	return f_(file, argv);
}

GR_PL_WRAPPER(int, execvpe, (const char *file, char *const argv[], char *const envp[]),
              (file, argv, envp))
{
	__typeof__(gr_pl_real_execvpe) f_ = GR_PL_NEXT(execvpe);
	gr_pl_before_exec();
	return f_(file, argv, envp);
}

GR_PL_WRAPPER(int, fexecve, (int fd, char *const argv[], char *const envp[]), (fd, argv, envp))
{
	__typeof__(gr_pl_real_fexecve) f_ = GR_PL_NEXT(fexecve);
	gr_pl_before_exec();
	return f_(fd, argv, envp);
}

void _exit(int status);
GR_PL_EXPORT __attribute__((noreturn)) void _exit(int status)
{
	static void (*real_)(int);
	void (*f_)(int) = GR_PL_REAL(real_, "_exit");
	gr_pl_before_exec();
	f_(status);
	__builtin_unreachable();
}

void _Exit(int status);
GR_PL_EXPORT __attribute__((noreturn)) void _Exit(int status)
{
	static void (*real_)(int);
	void (*f_)(int) = GR_PL_REAL(real_, "_Exit");
	gr_pl_before_exec();
	f_(status);
	__builtin_unreachable();
}

/* Count the arguments after arg up to the NULL (excluded). */
static size_t gr_pl_count_args(va_list ap)
{
	size_t n = 1;
	while (va_arg(ap, char *) != NULL)
		n++;
	return n;
}

/* argv = {arg, ..., NULL} from ap (which must be positioned after arg). */
static void gr_pl_fill_args(char **argv, const char *arg, va_list ap)
{
	size_t i = 0;
	argv[i++] = (char *)arg;
	while ((argv[i++] = va_arg(ap, char *)) != NULL)
		;
}

/* Collect the variadic arguments into a stack array named argv_. */
#define GR_PL_COLLECT(last)                                              \
	va_list ap_, cp_;                                                \
	va_start(ap_, last);                                             \
	va_copy(cp_, ap_);                                               \
	size_t n_ = gr_pl_count_args(cp_);                               \
	va_end(cp_);                                                     \
	char **argv_ = alloca((n_ + 1) * sizeof *argv_);                 \
	gr_pl_fill_args(argv_, last, ap_)

int execl(const char *path, const char *arg, ...);
GR_PL_EXPORT int execl(const char *path, const char *arg, ...)
{
	GR_PL_COLLECT(arg);
	va_end(ap_);
	return execv(path, argv_);
}

int execlp(const char *file, const char *arg, ...);
GR_PL_EXPORT int execlp(const char *file, const char *arg, ...)
{
	GR_PL_COLLECT(arg);
	va_end(ap_);
	return execvp(file, argv_);
}

int execle(const char *path, const char *arg, ...);
GR_PL_EXPORT int execle(const char *path, const char *arg, ...)
{
	GR_PL_COLLECT(arg);
	char *const *envp = va_arg(ap_, char *const *);
	va_end(ap_);
	return execve(path, argv_, envp);
}
