/*
** preload/io.c: blocking I/O and network system calls as syscall ranges.
**
** Each wrapper is one GR_PL_SYSCALL line: tracing off (or on a tracer
** thread) -> a tail call into libc; otherwise GoSyscallBegin (with the
** caller's stack) ... the real call ... GoSyscallEnd, errno preserved.
** Go's runtime reports these the same way: the goroutine keeps its P in
** state Syscall while the thread is in the kernel.
**
** The _FORTIFY_SOURCE entry points (__read_chk, __recv_chk...) are what
** hardened distribution binaries call instead of read/recv; they are wrapped
** too so that those programs are traced alike. glibc-internal calls (stdio's
** fread/fwrite, system()'s waitpid) do not go through the PLT and are not
** seen; see docs/preload.md.
** Owner: the preload helper. Add a call here only if it can block.
*/
#undef _FORTIFY_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload.h"

/* ret name params args: a syscall range around the real call. */
#define GR_PL_SYSCALL(ret, name, params, args)                  \
	GR_PL_WRAPPER(ret, name, params, args)                   \
	{                                                        \
		__typeof__(gr_pl_real_##name) f_ = GR_PL_NEXT(name); \
		if (GORT_LIKELY(!gr_pl_active()))                \
			return f_ args;                          \
		gr_pl_syscall_begin();                           \
		ret r_ = f_ args;                                \
		gr_pl_syscall_end();                             \
		return r_;                                       \
	}

/* files and pipes */
GR_PL_SYSCALL(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n))
GR_PL_SYSCALL(ssize_t, write, (int fd, const void *buf, size_t n), (fd, buf, n))
GR_PL_SYSCALL(ssize_t, pread, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off))
GR_PL_SYSCALL(ssize_t, pwrite, (int fd, const void *buf, size_t n, off_t off), (fd, buf, n, off))
GR_PL_SYSCALL(ssize_t, pread64, (int fd, void *buf, size_t n, off64_t off), (fd, buf, n, off))
GR_PL_SYSCALL(ssize_t, pwrite64, (int fd, const void *buf, size_t n, off64_t off), (fd, buf, n, off))
GR_PL_SYSCALL(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
GR_PL_SYSCALL(ssize_t, writev, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt))
GR_PL_SYSCALL(int, fsync, (int fd), (fd))
GR_PL_SYSCALL(int, fdatasync, (int fd), (fd))

/* sockets */
GR_PL_SYSCALL(ssize_t, recv, (int fd, void *buf, size_t n, int flags), (fd, buf, n, flags))
GR_PL_SYSCALL(ssize_t, recvfrom, (int fd, void *restrict buf, size_t n, int flags,
              __SOCKADDR_ARG addr, socklen_t *restrict alen), (fd, buf, n, flags, addr, alen))
GR_PL_SYSCALL(ssize_t, recvmsg, (int fd, struct msghdr *msg, int flags), (fd, msg, flags))
GR_PL_SYSCALL(ssize_t, send, (int fd, const void *buf, size_t n, int flags), (fd, buf, n, flags))
GR_PL_SYSCALL(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags,
              __CONST_SOCKADDR_ARG addr, socklen_t alen), (fd, buf, n, flags, addr, alen))
GR_PL_SYSCALL(ssize_t, sendmsg, (int fd, const struct msghdr *msg, int flags), (fd, msg, flags))
GR_PL_SYSCALL(int, accept, (int fd, __SOCKADDR_ARG addr, socklen_t *restrict alen), (fd, addr, alen))
GR_PL_SYSCALL(int, accept4, (int fd, __SOCKADDR_ARG addr, socklen_t *restrict alen, int flags),
              (fd, addr, alen, flags))
GR_PL_SYSCALL(int, connect, (int fd, __CONST_SOCKADDR_ARG addr, socklen_t alen), (fd, addr, alen))

/* readiness waits */
GR_PL_SYSCALL(int, poll, (struct pollfd *fds, nfds_t nfds, int timeout), (fds, nfds, timeout))
GR_PL_SYSCALL(int, ppoll, (struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
              const sigset_t *mask), (fds, nfds, ts, mask))
GR_PL_SYSCALL(int, select, (int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
              struct timeval *restrict tv), (nfds, r, w, e, tv))
GR_PL_SYSCALL(int, pselect, (int nfds, fd_set *restrict r, fd_set *restrict w, fd_set *restrict e,
              const struct timespec *restrict ts, const sigset_t *restrict mask),
              (nfds, r, w, e, ts, mask))
GR_PL_SYSCALL(int, epoll_wait, (int epfd, struct epoll_event *ev, int max, int timeout),
              (epfd, ev, max, timeout))
GR_PL_SYSCALL(int, epoll_pwait, (int epfd, struct epoll_event *ev, int max, int timeout,
              const sigset_t *mask), (epfd, ev, max, timeout, mask))

/* children */
GR_PL_SYSCALL(pid_t, wait, (int *status), (status))
GR_PL_SYSCALL(pid_t, waitpid, (pid_t pid, int *status, int options), (pid, status, options))
GR_PL_SYSCALL(pid_t, wait4, (pid_t pid, int *status, int options, struct rusage *ru),
              (pid, status, options, ru))
GR_PL_SYSCALL(int, waitid, (idtype_t idtype, id_t id, siginfo_t *info, int options),
              (idtype, id, info, options))

/* _FORTIFY_SOURCE variants (no public prototypes; the macro declares them) */
GR_PL_SYSCALL(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t cap), (fd, buf, n, cap))
GR_PL_SYSCALL(ssize_t, __pread_chk, (int fd, void *buf, size_t n, off_t off, size_t cap),
              (fd, buf, n, off, cap))
GR_PL_SYSCALL(ssize_t, __pread64_chk, (int fd, void *buf, size_t n, off64_t off, size_t cap),
              (fd, buf, n, off, cap))
GR_PL_SYSCALL(ssize_t, __recv_chk, (int fd, void *buf, size_t n, size_t cap, int flags),
              (fd, buf, n, cap, flags))
GR_PL_SYSCALL(ssize_t, __recvfrom_chk, (int fd, void *restrict buf, size_t n, size_t cap,
              int flags, struct sockaddr *restrict addr, socklen_t *restrict alen),
              (fd, buf, n, cap, flags, addr, alen))
GR_PL_SYSCALL(int, __poll_chk, (struct pollfd *fds, nfds_t nfds, int timeout, size_t cap),
              (fds, nfds, timeout, cap))
GR_PL_SYSCALL(int, __ppoll_chk, (struct pollfd *fds, nfds_t nfds, const struct timespec *ts,
              const sigset_t *mask, size_t cap), (fds, nfds, ts, mask, cap))
