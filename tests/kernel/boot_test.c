// The state kmain starts from: higher-half mapping, zeroed .bss, descriptors.
#include "config.h"
#include "gdt.h"
#include "ktest.h"
#include "thread.h"
#include "x86.h"

extern char __text_start[], __bss_start[], __bss_end[], __kernel_end[];

static uint32_t s_bss_sentinel[64];   // in .bss: must read as zero

KTEST(boot, kernel_runs_in_the_higher_half)
{
    KEXPECT_UGE((uintptr_t)__text_start, KERNEL_VMA + 0x100000);
    KEXPECT_UGE(read_esp(), (uintptr_t)g_boot_block);
    KEXPECT_ULT(read_esp(), (uintptr_t)g_boot_block + KSTACK_SIZE);
    KEXPECT_TRUE(read_cr0() & CR0_PG);
    // The same bytes are visible through the kernel's physical load address.
    uint32_t phys = V2P(__text_start);
    KEXPECT_UEQ(phys, 0x100000 + ((uintptr_t)__text_start - KERNEL_VMA - 0x100000));
    KEXPECT_MEMEQ(P2V(phys), __text_start, 64);
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
