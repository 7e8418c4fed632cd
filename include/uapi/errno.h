/* Error numbers returned (negated) by system calls.  Linux's values. */
#ifndef TANDEM_UAPI_ERRNO_H
#define TANDEM_UAPI_ERRNO_H

// Laid out by hand, as include/uapi/syscall.h's tables are: EPIPE's comment
// runs on.
// clang-format off
#define EPERM        1      // the handle lacks the right the call needs
#define ENOENT       2      // no such module
#define ESRCH        3      // no such thread or process (kernel-internal lookups)
#define EINTR        4      // a wait was cut short (the thread is being killed)
#define ENOEXEC      8      // the module is not a valid Tandem ELF executable
#define EBADF        9      // not an open handle of the caller's to an object of the right kind
#define EAGAIN      11      // resource temporarily exhausted (a process or thread limit)
#define ENOMEM      12      // the kernel is out of memory
#define EFAULT      14      // a pointer argument is not valid user memory
#define EBUSY       16      // already done through this handle (a mapping, a binding)
#define EINVAL      22      // an argument is out of range
#define EMFILE      24      // the handle table is full (CAPS_PER_PROCESS)
#define EPIPE       32      // the other side is gone: an endpoint with no receiver left, a call
                            //   its server dropped, a reply whose caller died
#define EDEADLK     35      // the operation would wait on itself
#define ENAMETOOLONG 36     // a string argument is longer than allowed
#define ENOSYS      38      // no such system call
#define EMSGSIZE    90      // an IPC buffer is larger than IPC_BUF_MAX
#define ETIMEDOUT  110      // SYS_WAIT's time ran out first
// clang-format on

#endif
