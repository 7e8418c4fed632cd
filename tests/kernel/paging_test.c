// Page mappings: map, use, unmap, fault; address spaces without leaks.
#include "kmalloc.h"
#include "ktest.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "probe.h"
#include "trap.h"
#include "uapi/errno.h"
#include "x86.h"

#define TEST_VA (HEAP_LIMIT - PAGE_SIZE) // the heap never grows this far in tests

KTEST(paging, map_access_unmap_fault)
{
    uintptr_t pa = frame_alloc();
    KASSERT_NE(pa, 0);
    *(volatile uint32_t *)P2V(pa) = 0x5EED;
    KASSERT_EQ(vm_map(&g_kernel_space, TEST_VA, pa, VM_WRITE), 0);

    uintptr_t got_pa = 0;
    uint32_t flags = 0;
    KEXPECT_TRUE(vm_query(&g_kernel_space, TEST_VA + 12, &got_pa, &flags));
    KEXPECT_UEQ(got_pa, pa + 12);
    KEXPECT_UEQ(flags, VM_WRITE);
    uint32_t v;
    KEXPECT_FALSE(read_faults((uint32_t *)TEST_VA, &v));
    KEXPECT_UEQ(v, 0x5EED);
    KEXPECT_EQ(vm_map(&g_kernel_space, TEST_VA, pa, VM_WRITE), -EINVAL); // already mapped

    KEXPECT_UEQ(vm_unmap(&g_kernel_space, TEST_VA), pa);
    KEXPECT_FALSE(vm_query(&g_kernel_space, TEST_VA, NULL, NULL));
    trap_expect(VEC_PF);
    KEXPECT_TRUE(read_faults((uint32_t *)TEST_VA, &v));
    KEXPECT_EQ(trap_expect_end(), 1);
    KEXPECT_UEQ(read_cr2(), TEST_VA);
    frame_free(pa);
}

KTEST(paging, kernel_text_is_read_only)
{
    extern char __text_start[];
    uint32_t flags = 0;
    KEXPECT_TRUE(vm_query(&g_kernel_space, (uintptr_t)__text_start, NULL, &flags));
    KEXPECT_UEQ(flags & (VM_WRITE | VM_USER), 0);
    trap_expect(VEC_PF);
    KEXPECT_TRUE(write_faults((uint32_t *)__text_start, 0));
    KEXPECT_EQ(trap_expect_end(), 1);
}

KTEST(paging, no_user_bit_in_the_kernel_half)
{
    // Every present kernel-half mapping in the directory lacks the user bit.
    uint32_t user_entries = 0;
    for (uint32_t i = KERNEL_VMA >> 22; i < 1024; i++) {
        uint32_t pde = g_kernel_space.pd[i];
        if (!(pde & PTE_PRESENT))
            continue;
        user_entries += (pde & PTE_USER) != 0;
        if (pde & PDE_LARGE)
            continue;
        const uint32_t *pt = P2V(pde & PTE_ADDR_MASK);
        for (uint32_t j = 0; j < 1024; j++)
            user_entries += (pt[j] & (PTE_PRESENT | PTE_USER)) == (PTE_PRESENT | PTE_USER);
    }
    KEXPECT_UEQ(user_entries, 0);
    // And vm_map refuses to make one.
    KEXPECT_EQ(vm_map(&g_kernel_space, HEAP_BASE, 0x100000, VM_USER), -EINVAL);
    KEXPECT_EQ(vm_map(&g_kernel_space, 0x400000, 0x100000, VM_WRITE), -EINVAL);
}

KTEST(paging, address_space_lifecycle_without_leaks)
{
    struct frame_counts before, after;
    struct heap_stats hb, ha;
    frame_counts(&before);
    kheap_stats(&hb);

    struct addrspace *as = as_create();
    KASSERT_NOT_NULL(as);
    // The kernel half is visible in the new space.
    KEXPECT_TRUE(vm_query(as, KERNEL_VMA + 0x100000, NULL, NULL));
    for (uintptr_t va = USER_BASE; va < USER_BASE + 8 * PAGE_SIZE; va += PAGE_SIZE)
        KEXPECT_EQ(vm_map(as, va, frame_alloc(), VM_USER | VM_WRITE), 0);
    KEXPECT_EQ(vm_map(as, 0xBFFFF000, frame_alloc(), VM_USER), 0); // a second page table
    KEXPECT_EQ(vm_map(as, KERNEL_VMA, 0x1000, VM_USER), -EINVAL);
    KEXPECT_EQ(vm_map(as, 0x1000, 0x1000, VM_USER), -EINVAL); // below user space

    // Switch to it, touch a user page from the kernel, switch back.
    as_activate(as);
    *(volatile uint32_t *)USER_BASE = 42;
    KEXPECT_EQ(*(volatile uint32_t *)USER_BASE, 42);
    as_activate(&g_kernel_space);
    KEXPECT_FALSE(vm_query(&g_kernel_space, USER_BASE, NULL, NULL));

    as_destroy(as);
    frame_counts(&after);
    kheap_stats(&ha);
    KEXPECT_UEQ(after.free, before.free);
    KEXPECT_UEQ(ha.live_blocks, hb.live_blocks);
}
