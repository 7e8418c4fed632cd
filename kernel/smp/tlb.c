// TLB shootdown on the cross-CPU call (include/smp/tlb.h).
#include "mm/paging.h"
#include "smp/tlb.h"
#include "smp/xcall.h"
#include "x86.h"

struct tlb_range {
    uintptr_t va;
    uint32_t pages; // above TLB_FULL_FLUSH_PAGES: the whole TLB
};

static void
flush_here(void *arg)
{
    const struct tlb_range *r = arg;
    if (r->pages > TLB_FULL_FLUSH_PAGES) {
        tlb_flush_local();
        return;
    }
    for (uint32_t i = 0; i < r->pages; i++)
        invlpg(r->va + i * PAGE_SIZE);
}

void
tlb_shootdown(uintptr_t va, uint32_t pages)
{
    // The range is read by every target before the call returns: the
    // caller's stack holds it as long as the arena would.
    struct tlb_range r = { va & ~(uintptr_t)(PAGE_SIZE - 1), pages };
    xcall(xcall_online(), flush_here, &r);
}

void
tlb_flush_all_cpus(void)
{
    tlb_shootdown(0, UINT32_MAX);
}

void
tlb_init(void)
{
    paging_set_shootdown(tlb_shootdown);
}
