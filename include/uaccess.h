/* The kernel's only way into user memory.
 *
 * Every function checks that the whole range lies in user space (at or
 * above USER_BASE, below KERNEL_VMA, without wrapping), then copies with
 * instructions whose faults are fixed up (kernel/syscall/uaccess_copy.asm): an
 * unmapped or read-only page gives -EFAULT instead of a kernel fault, except
 * a not-present page in the caller's stack-growth window, which is mapped
 * as a ring-3 touch would map it before the copy goes on.  Every
 * mapping below KERNEL_VMA carries the user bit (vm_map insists), so a range
 * check plus a fault-safe copy is the whole check. */
#ifndef TANDEM_UACCESS_H
#define TANDEM_UACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// True if [uaddr, uaddr + n) is inside user space (n == 0 always is).
bool user_range_ok(uintptr_t uaddr, size_t n);
// 0, or -EFAULT.  copy_to_user writes nothing unless all of it can be written.
int copy_from_user(void *dst, uintptr_t usrc, size_t n);
int copy_to_user(uintptr_t udst, const void *src, size_t n);
// Copies a NUL-terminated string of at most max - 1 characters; returns
// its length, -ENAMETOOLONG if it does not end within max bytes, -EFAULT.
int strncpy_from_user(char *dst, uintptr_t usrc, size_t max);
// Checks that every page of [uaddr, uaddr + n) in the current address space
// is mapped and, if write, writable: 0 or -EFAULT.  For buffers another
// thread will fill later (IPC).  Like every copy here, it first maps the
// pages of the range that lie in the stack's growth window, as a ring-3
// touch would (process_grow_stack).
int user_buffer_check(uintptr_t uaddr, size_t n, bool write);
// The same check in address space as (IPC delivers into other processes),
// without growing anything: the owner checked, and grew, its buffer.
struct addrspace;
int user_buffer_check_in(struct addrspace *as, uintptr_t uaddr, size_t n, bool write);

// Page-fault hook for the copy instructions: if the fault at eip is one of
// them missing a page of the current process's stack-growth window, maps
// the page (the copy is then retried) and returns true.
bool uaccess_stack_fault(uint32_t eip, uintptr_t addr, uint32_t error);

#endif
