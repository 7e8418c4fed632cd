// Page tables: the kernel's own, and one page directory per address space.
//
// The direct map uses 4 MiB pages (one directory entry each) except for the
// first 4 MiB, which holds the kernel image and uses a 4 KiB table so that
// text and read-only data can be mapped read-only.  Both that table and the
// kernel directory live in .bss, so paging_init needs no allocator: the
// frame allocator starts after it, when every frame is reachable.
#include <stddef.h>
#include "boot.h"
#include "lib/string.h"
#include "mm/frame.h"
#include "kmalloc.h"
#include "mm/paging.h"
#include "panic.h"
#include "percpu.h"
#include "uapi/errno.h"
#include "x86.h"

#define PD_INDEX(va)     ((uint32_t)(va) >> 22)
#define PT_INDEX(va)     (((uint32_t)(va) >> 12) & 0x3FF)
#define KERNEL_PDE_FIRST PD_INDEX(KERNEL_VMA)
#define CR4_PSE          (1u << 4)

static uint32_t s_kernel_pd[1024] ALIGNED(PAGE_SIZE);
static uint32_t s_kernel_low_pt[1024] ALIGNED(PAGE_SIZE); // phys 0-4 MiB
struct addrspace g_kernel_space;
static uint32_t s_direct_end;                             // the direct map covers [0, s_direct_end)
static uint32_t *s_window_pt;                             // the physical window's page table
static uint32_t s_window_used;                            // pages of it handed out
static void (*s_shootdown)(uintptr_t va, uint32_t pages); // other CPUs' TLBs (smp layer)
static uint32_t s_kernel_global; // PTE_GLOBAL once kernel pages are global, else 0

extern char __text_start[], __rodata_end[], __kernel_end[];

void
paging_init(void)
{
    uint64_t top = 0;
    for (unsigned i = 0; i < g_boot.region_count; i++)
        if (g_boot.regions[i].type == 1 && g_boot.regions[i].base + g_boot.regions[i].length > top)
            top = g_boot.regions[i].base + g_boot.regions[i].length;
    if (top > DIRECT_MAP_LIMIT)
        top = DIRECT_MAP_LIMIT;
    if (V2P(__kernel_end) > (4u << 20))
        panic("paging_init: kernel image ends at %#lx, past the first 4 MiB table",
              (unsigned long)V2P(__kernel_end));

    uintptr_t ro_start = V2P(__text_start), ro_end = V2P(__rodata_end);
    for (uint32_t i = 0; i < 1024; i++) {
        uintptr_t pa = (uintptr_t)i << 12;
        bool read_only = pa >= ro_start && pa < ro_end;
        s_kernel_low_pt[i] = pa | PTE_PRESENT | (read_only ? 0 : PTE_WRITABLE);
    }
    s_kernel_pd[KERNEL_PDE_FIRST] = V2P(s_kernel_low_pt) | PTE_PRESENT | PTE_WRITABLE;
    uint32_t pa = 4u << 20;
    for (; pa < top; pa += 4u << 20)
        s_kernel_pd[KERNEL_PDE_FIRST + (pa >> 22)] = pa | PDE_LARGE | PTE_PRESENT | PTE_WRITABLE;
    s_direct_end = pa;

    g_kernel_space.pd = s_kernel_pd;
    g_kernel_space.pd_phys = V2P(s_kernel_pd);
    write_cr4(read_cr4() | CR4_PSE);
    write_cr3(g_kernel_space.pd_phys); // the identity map of boot is gone
    THIS_CPU(as) = &g_kernel_space;
}

// Returns a zeroed frame for a page table or directory, or 0.
static uintptr_t
table_alloc(void)
{
    uintptr_t pa = frame_alloc();
    if (pa)
        memset(P2V(pa), 0, PAGE_SIZE);
    return pa;
}

void
paging_init_heap(void)
{
    for (uintptr_t va = HEAP_BASE; va < HEAP_LIMIT; va += 4u << 20) {
        uintptr_t pt = table_alloc();
        if (!pt)
            panic("paging_init_heap: no frame for the page table at %#lx", (unsigned long)va);
        s_kernel_pd[PD_INDEX(va)] = pt | PTE_PRESENT | PTE_WRITABLE;
    }
    // The block region's tables are one contiguous run, so that the entry
    // of any block page is an array element (g_block_ptes): the arena moves
    // pages in and out of stack views with a store, not a table walk.
    uint32_t tables = (BLOCK_LIMIT - BLOCK_BASE) >> 22;
    uintptr_t run = frame_alloc_order(frame_order_for(tables * PAGE_SIZE));
    if (!run)
        panic("paging_init_heap: no %u contiguous frames for the block region's page tables",
              tables);
    memset(P2V(run), 0, tables * PAGE_SIZE);
    for (uint32_t i = 0; i < tables; i++)
        s_kernel_pd[PD_INDEX(BLOCK_BASE) + i] = (run + i * PAGE_SIZE) | PTE_PRESENT | PTE_WRITABLE;
    g_block_ptes = P2V(run);
    // The physical window's one table (phys_map): made now, with the other
    // kernel tables, so every address space shares it.
    uintptr_t window = table_alloc();
    if (!window)
        panic("paging_init_heap: no frame for the physical window's page table");
    s_kernel_pd[PD_INDEX(PHYS_WINDOW_BASE)] = window | PTE_PRESENT | PTE_WRITABLE;
    s_window_pt = P2V(window);
}

void
paging_global_kernel(void)
{
    s_kernel_global = PTE_GLOBAL;
    for (uint32_t i = KERNEL_PDE_FIRST; i < 1024; i++) {
        uint32_t pde = s_kernel_pd[i];
        if (!(pde & PTE_PRESENT))
            continue;
        if (pde & PDE_LARGE) {
            s_kernel_pd[i] = pde | PTE_GLOBAL;
            continue;
        }
        uint32_t *pt = P2V(pde & PTE_ADDR_MASK);
        for (uint32_t j = 0; j < 1024; j++)
            if (pt[j] & PTE_PRESENT)
                pt[j] |= PTE_GLOBAL;
    }
    write_cr4(read_cr4() | CR4_PGE); // (turning it on flushes the whole TLB)
}

uint32_t
paging_direct_map_end(void)
{
    return s_direct_end;
}

void *
phys_map(uint32_t pa, uint32_t len, unsigned flags)
{
    if (len == 0 || len - 1 > UINT32_MAX - pa)
        return NULL;
    uint32_t last = pa + (len - 1);
    if (!(flags & PHYS_MAP_DEVICE) && last < s_direct_end)
        return P2V(pa);
    uint32_t first_page = pa & PTE_ADDR_MASK;
    uint32_t pages = (last >> 12) - (pa >> 12) + 1;
    uint32_t bits = PTE_PRESENT | s_kernel_global |
                    (flags & PHYS_MAP_DEVICE ? PTE_WRITABLE | PTE_PCD | PTE_PWT : 0);
    uint32_t window_pages = (PHYS_WINDOW_LIMIT - PHYS_WINDOW_BASE) / PAGE_SIZE;
    if (!s_window_pt || pages > window_pages)
        return NULL;
    // A run already mapped with the same bits serves again.
    for (uint32_t i = 0; i + pages <= s_window_used; i++) {
        uint32_t j = 0;
        while (j < pages && s_window_pt[i + j] == ((first_page + j * PAGE_SIZE) | bits))
            j++;
        if (j == pages)
            return (void *)(PHYS_WINDOW_BASE + i * PAGE_SIZE + (pa & (PAGE_SIZE - 1)));
    }
    if (pages > window_pages - s_window_used)
        return NULL;
    uint32_t first = s_window_used;
    for (uint32_t j = 0; j < pages; j++)
        s_window_pt[first + j] = (first_page + j * PAGE_SIZE) | bits;
    s_window_used += pages;
    // New entries only: nothing to flush (the TLB caches no not-present entries).
    return (void *)(PHYS_WINDOW_BASE + first * PAGE_SIZE + (pa & (PAGE_SIZE - 1)));
}

uint32_t *g_block_ptes;

struct addrspace *
as_create(void)
{
    struct addrspace *as = kmalloc(sizeof(*as));
    if (!as)
        return NULL;
    as->pd_phys = table_alloc();
    if (!as->pd_phys) {
        kfree(as);
        return NULL;
    }
    as->pd = P2V(as->pd_phys);
    memcpy(&as->pd[KERNEL_PDE_FIRST], &s_kernel_pd[KERNEL_PDE_FIRST],
           (1024 - KERNEL_PDE_FIRST) * sizeof(uint32_t));
    return as;
}

void
as_destroy(struct addrspace *as)
{
    KASSERT(as != &g_kernel_space);
    for (unsigned i = 0; i < SMP_MAX_CPUS; i++)
        KASSERT(g_percpu[i].as != as); // no CPU may walk it any more
    for (uint32_t i = 0; i < KERNEL_PDE_FIRST; i++) {
        if (!(as->pd[i] & PTE_PRESENT))
            continue;
        uint32_t *pt = P2V(as->pd[i] & PTE_ADDR_MASK);
        for (uint32_t j = 0; j < 1024; j++)
            if ((pt[j] & (PTE_PRESENT | PTE_DEVICE)) == PTE_PRESENT)
                frame_free(pt[j] & PTE_ADDR_MASK);
        frame_free(as->pd[i] & PTE_ADDR_MASK);
    }
    frame_free(as->pd_phys);
    kfree(as);
}

void
as_activate(struct addrspace *as)
{
    if (as != THIS_CPU(as)) {
        THIS_CPU(as) = as;
        write_cr3(as->pd_phys);
    }
}

struct addrspace *
as_current(void)
{
    return THIS_CPU(as);
}

// The page-table entry for va, or NULL if its table does not exist (and,
// with create, cannot be made).  4 MiB direct-map pages have no entry.
static uint32_t *
pte_find(struct addrspace *as, uintptr_t va, bool create)
{
    uint32_t *pde = &as->pd[PD_INDEX(va)];
    if (*pde & PDE_LARGE)
        return NULL;
    if (!(*pde & PTE_PRESENT)) {
        if (!create || va >= USER_TOP)
            return NULL;
        uintptr_t pt = table_alloc();
        if (!pt)
            return NULL;
        // The directory entry allows everything; the page entries decide.
        *pde = pt | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
    }
    return (uint32_t *)P2V(*pde & PTE_ADDR_MASK) + PT_INDEX(va);
}

int
vm_map(struct addrspace *as, uintptr_t va, uintptr_t pa, uint32_t flags)
{
    if ((va | pa) & (PAGE_SIZE - 1))
        return -EINVAL;
    if (flags & VM_USER) {
        if (va < USER_BASE || va >= USER_TOP)
            return -EINVAL;
    } else if (va < HEAP_BASE || va >= BLOCK_LIMIT) {
        return -EINVAL;
    }
    uint32_t *pte = pte_find(as, va, true);
    if (!pte)
        return -ENOMEM;
    if (*pte & PTE_PRESENT)
        return -EINVAL;
    *pte = pa | PTE_PRESENT | (flags & (VM_WRITE | VM_USER | VM_DEVICE)) |
           (flags & VM_USER ? 0 : s_kernel_global);
    // A new mapping needs no flush: the TLB caches no not-present entries.
    return 0;
}

uintptr_t
vm_unmap(struct addrspace *as, uintptr_t va)
{
    uint32_t *pte = pte_find(as, va, false);
    if (!pte || !(*pte & PTE_PRESENT))
        return 0;
    uintptr_t pa = *pte & PTE_ADDR_MASK;
    *pte = 0;
    as->unmaps++;
    // Kernel-half tables are shared: a kernel page may be in any CPU's
    // TLB, and the shootdown drops it on every one before the frame goes.
    if (va >= KERNEL_VMA && s_shootdown) {
        s_shootdown(va, 1);
        return pa;
    }
    // A user page: this CPU's TLB if the space is loaded here; other CPUs
    // running the process catch up (include/percpu.h, tlb_changed).
    if (as == THIS_CPU(as) || va >= KERNEL_VMA)
        invlpg(va);
    tlb_changed();
    return pa;
}

void
paging_set_shootdown(void (*shootdown)(uintptr_t va, uint32_t pages))
{
    s_shootdown = shootdown;
}

bool
vm_query(struct addrspace *as, uintptr_t va, uintptr_t *pa, uint32_t *flags)
{
    uint32_t pde = as->pd[PD_INDEX(va)];
    if (!(pde & PTE_PRESENT))
        return false;
    uint32_t entry;
    uintptr_t base;
    if (pde & PDE_LARGE) {
        entry = pde;
        base = (pde & 0xFFC00000u) | (va & 0x3FFFFF);
    } else {
        entry = *((uint32_t *)P2V(pde & PTE_ADDR_MASK) + PT_INDEX(va));
        if (!(entry & PTE_PRESENT))
            return false;
        base = (entry & PTE_ADDR_MASK) | (va & 0xFFF);
    }
    if (pa)
        *pa = base;
    if (flags)
        *flags = entry & (PTE_WRITABLE | PTE_USER | PTE_DEVICE);
    return true;
}
