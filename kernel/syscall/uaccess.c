// Checked copies between the kernel and the current address space.
#include "mm/paging.h"
#include "process.h"
#include "uaccess.h"
#include "uapi/errno.h"

uint32_t uaccess_copy(void *dst, const void *src, uint32_t n);
int32_t uaccess_strncpy(char *dst, const char *src, uint32_t max);
// The three instructions of uaccess_copy.asm that touch user memory.
extern const char uaccess_copy_words_insn[], uaccess_copy_insn[], uaccess_strncpy_insn[];

bool
uaccess_stack_fault(uint32_t eip, uintptr_t addr, uint32_t error)
{
    if (eip != (uintptr_t)uaccess_copy_words_insn && eip != (uintptr_t)uaccess_copy_insn &&
        eip != (uintptr_t)uaccess_strncpy_insn)
        return false;
    return g_current->proc && process_grow_stack(g_current->proc, addr, error);
}

bool
user_range_ok(uintptr_t uaddr, size_t n)
{
    if (n == 0)
        return true;
    return uaddr >= USER_BASE && uaddr < USER_TOP && n <= USER_TOP - uaddr;
}

int
copy_from_user(void *dst, uintptr_t usrc, size_t n)
{
    if (!user_range_ok(usrc, n))
        return -EFAULT;
    return uaccess_copy(dst, (const void *)usrc, n) ? -EFAULT : 0;
}

// All or nothing: the destination is checked page by page before the first
// byte is written, so a buffer that runs into an unmapped page gets -EFAULT
// without its valid prefix being overwritten (it may be the caller's live
// stack).  The fault-safe copy still guards against anything missed.
int
copy_to_user(uintptr_t udst, const void *src, size_t n)
{
    int err = user_buffer_check(udst, n, true);
    if (err)
        return err;
    return uaccess_copy((void *)udst, src, n) ? -EFAULT : 0;
}

int
strncpy_from_user(char *dst, uintptr_t usrc, size_t max)
{
    if (max == 0 || usrc < USER_BASE || usrc >= USER_TOP)
        return -EFAULT;
    // Never read past the top of user space, however large max is.
    size_t limit = USER_TOP - usrc < max ? USER_TOP - usrc : max;
    int32_t n = uaccess_strncpy(dst, (const char *)usrc, limit);
    if (n < 0)
        return -EFAULT;
    if ((size_t)n >= limit)
        return limit < max ? -EFAULT : -ENAMETOOLONG;
    return n;
}

// Checks the pages of [uaddr, uaddr + n) in as.  A page missing from the
// stack's growth window of grow_in is mapped first, exactly as a ring-3
// touch would map it (process_grow_stack), so a system call may use stack
// memory its caller has not touched yet.
static int
check_pages(struct addrspace *as, struct process *grow_in, uintptr_t uaddr, size_t n, bool write)
{
    if (!user_range_ok(uaddr, n))
        return -EFAULT;
    if (n == 0)
        return 0;
    for (uintptr_t page = uaddr & ~(uintptr_t)(PAGE_SIZE - 1); page < uaddr + n;
         page += PAGE_SIZE) {
        uint32_t flags;
        if (!vm_query(as, page, NULL, &flags)) {
            if (!grow_in || !process_grow_stack(grow_in, page, 0))
                return -EFAULT;
            continue; // a fresh page of the stack: user, writable
        }
        if (!(flags & VM_USER) || (write && !(flags & VM_WRITE)))
            return -EFAULT;
    }
    return 0;
}

int
user_buffer_check(uintptr_t uaddr, size_t n, bool write)
{
    return check_pages(as_current(), g_current->proc, uaddr, n, write);
}

int
user_buffer_check_in(struct addrspace *as, uintptr_t uaddr, size_t n, bool write)
{
    return check_pages(as, NULL, uaddr, n, write);
}
