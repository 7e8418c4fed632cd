// The state kmain starts from: higher-half mapping, zeroed .bss, descriptors,
// the CPU's protections.
#include "config.h"
#include "cpu.h"
#include "extable.h"
#include "gdt.h"
#include "ktest.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "thread.h"
#include "trap.h"
#include "x86.h"

extern char __text_start[], __bss_start[], __bss_end[], __kernel_end[];

static uint32_t s_bss_sentinel[64]; // in .bss: must read as zero

KTEST(boot, kernel_runs_in_the_higher_half)
{
    KEXPECT_UGE((uintptr_t)__text_start, KERNEL_VMA + 0x100000);
    KEXPECT_UGE(read_esp(), (uintptr_t)g_boot_block);
    KEXPECT_ULT(read_esp(), (uintptr_t)g_boot_block + KSTACK_SIZE);
    KEXPECT_TRUE(read_cr0() & CR0_PG);
}

// The physical address of va as the MMU sees it: a walk of the live page
// tables from CR3, independent of V2P.  ~0u if va is not mapped.
static uint32_t
mmu_phys(uintptr_t va)
{
    const uint32_t *pd = P2V(read_cr3() & PTE_ADDR_MASK);
    uint32_t pde = pd[va >> 22];
    if (!(pde & PTE_PRESENT))
        return ~0u;
    if (pde & PDE_LARGE)
        return (pde & 0xFFC00000u) | (va & 0x3FFFFFu);
    const uint32_t *pt = P2V(pde & PTE_ADDR_MASK);
    uint32_t pte = pt[(va >> 12) & 0x3FF];
    return (pte & PTE_PRESENT) ? (pte & PTE_ADDR_MASK) | (va & 0xFFFu) : ~0u;
}

// V2P is the kernel's claim about its own mapping; the page tables are the
// truth.  Every page of the image, text to the end of .bss, must be where
// V2P says, and the image must start at its 1 MiB load address.
KTEST(boot, page_tables_map_the_image_where_v2p_says)
{
    KEXPECT_UEQ(mmu_phys((uintptr_t)__text_start), V2P(__text_start));
    unsigned wrong = 0;
    for (uintptr_t va = (uintptr_t)__text_start & ~(PAGE_SIZE - 1); va < (uintptr_t)__kernel_end;
         va += PAGE_SIZE) {
        if (mmu_phys(va) != V2P(va) && wrong++ < 4)
            ktest_fail(__FILE__, __LINE__, false, "page %#lx maps %#lx, V2P says %#lx",
                       (unsigned long)va, (unsigned long)mmu_phys(va), (unsigned long)V2P(va));
    }
    KEXPECT_UEQ(wrong, 0);
    // The Multiboot header, first in the image and linked at its physical
    // address, is where the boot loader put it: 1 MiB, seen through the
    // direct map.
    extern char __boot_start[];
    KEXPECT_UEQ((uintptr_t)__boot_start, 0x100000);
    KEXPECT_UEQ(*(const uint32_t *)P2V(__boot_start), 0x1BADB002);
}

KTEST(boot, bss_is_zeroed)
{
    KEXPECT_UGE((uintptr_t)s_bss_sentinel, (uintptr_t)__bss_start);
    KEXPECT_ULT((uintptr_t)s_bss_sentinel, (uintptr_t)__bss_end);
    uint32_t nonzero = 0;
    for (unsigned i = 0; i < 64; i++)
        nonzero |= s_bss_sentinel[i];
    KEXPECT_UEQ(nonzero, 0);
}

KTEST(boot, boot_block_is_aligned_to_its_size)
{
    KEXPECT_UEQ((uintptr_t)g_boot_block & (KSTACK_SIZE - 1), 0);
}

KTEST(boot, segments_and_tss_loaded)
{
    uint16_t cs, ds, tr;
    __asm__ volatile("mov %%cs, %0; mov %%ds, %1; str %2" : "=r"(cs), "=r"(ds), "=r"(tr));
    KEXPECT_EQ(cs, KERNEL_CS);
    KEXPECT_EQ(ds, KERNEL_DS);
    KEXPECT_EQ(tr, TSS_SEL);
    KEXPECT_EQ(g_tss.ss0, KERNEL_DS);
}

// The protections cpu_protect turned on are on, and SMEP does what it is
// for: the kernel calling into a user page faults instead of running it.
// The page holds `mov $1, %eax; ret`; without SMEP the call runs it and
// returns 1 (which shows the probe itself works), with SMEP the fetch
// faults and the fixup returns SMEP_FAULTED.  The page goes in a fresh
// address space, with interrupts off so no switch can take it away.
#define SMEP_PROBE_VA 0x00800000 // any user address: the extable entry names it
#define SMEP_FAULTED  0xFA17

static NOINLINE uint32_t
call_user_page(void)
{
    uint32_t result;
    __asm__ volatile("call *%[va]\n\t"
                     "jmp 2f\n"
                     "1:\n\t"
                     "addl $4, %%esp\n\t" // the call's return address
                     "movl %[faulted], %%eax\n"
                     "2:\n\t" EXTABLE_ENTRY(SMEP_PROBE_VA, 1b)
                     : "=a"(result)
                     : [va] "r"(SMEP_PROBE_VA), [faulted] "i"(SMEP_FAULTED)
                     : "ecx", "edx", "memory", "cc");
    return result;
}

KTEST(boot, smep_keeps_the_kernel_out_of_user_code)
{
    static const uint8_t code[] = { 0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3 }; // mov $1, %eax; ret
    KEXPECT_EQ(!!(read_cr4() & CR4_UMIP), g_cpu.umip);
    KEXPECT_EQ(!!(read_cr4() & CR4_SMEP), g_cpu.smep);
    struct addrspace *as = as_create();
    uintptr_t frame = frame_alloc();
    KASSERT_NOT_NULL(as);
    KASSERT_NE(frame, 0);
    memcpy(P2V(frame), code, sizeof code);
    KASSERT_EQ(vm_map(as, SMEP_PROBE_VA, frame, VM_USER), 0); // as_destroy frees it
    uint32_t flags = read_eflags();
    cli();
    struct addrspace *was = as_current();
    as_activate(as);
    trap_expect(VEC_PF);
    uint32_t result = call_user_page();
    unsigned faults = trap_expect_end();
    as_activate(was);
    if (flags & EFLAGS_IF)
        sti();
    as_destroy(as);
    KEXPECT_EQ(result, g_cpu.smep ? SMEP_FAULTED : 1);
    KEXPECT_EQ(faults, g_cpu.smep ? 1 : 0);
}
