/* Virtual memory: address spaces, page mappings, the kernel's layout.
 *
 *   0x00000000-0x003FFFFF  never mapped (NULL and small-offset accesses fault)
 *   0x00400000-0xBFFFFFFF  user space, per address space
 *   0xC0000000-0xEFFFFFFF  direct map of physical memory (KERNEL_VMA + phys),
 *                          with the kernel image at 0xC0100000
 *   0xF0000000-0xF3FFFFFF  kernel heap, mapped page by page as it grows
 *   0xF4000000-0xFBFFFFFF  kernel-stack blocks, each mapped twice (kernel/mm/block.c)
 *   0xFC000000-0xFC3FFFFF  the physical window: firmware tables above the direct
 *                          map and device registers (phys_map)
 *
 * The kernel half is the same in every address space: its page directory
 * entries are copied when an address space is made, and every kernel page
 * table is allocated at boot, so they never need to be synchronised.
 */
#ifndef TANDEM_MM_PAGING_H
#define TANDEM_MM_PAGING_H

#include <stdbool.h>
#include <stdint.h>
#include "config.h"

#define USER_BASE         0x00400000u
#define USER_TOP          KERNEL_VMA // first address above user space
#define HEAP_BASE         0xF0000000u
#define HEAP_LIMIT        0xF4000000u
#define BLOCK_BASE        0xF4000000u
#define BLOCK_LIMIT       0xFC000000u
#define PHYS_WINDOW_BASE  0xFC000000u
#define PHYS_WINDOW_LIMIT 0xFC400000u // one page table

#define PTE_PRESENT   0x001u
#define PTE_WRITABLE  0x002u
#define PTE_USER      0x004u
#define PTE_PWT       0x008u // write-through
#define PTE_PCD       0x010u // cache disabled
#define PDE_LARGE     0x080u // 4 MiB page (CR4.PSE)
#define PTE_GLOBAL    0x100u // kept in the TLB across CR3 loads (CR4.PGE)
#define PTE_ADDR_MASK 0xFFFFF000u

#define PTE_PWT    0x008u
#define PTE_PCD    0x010u
#define PTE_DEVICE 0x200u // software bit: the frame is device memory, not ours

// Flags for vm_map and vm_query.
#define VM_WRITE  PTE_WRITABLE
#define VM_USER   PTE_USER
// Device memory: uncached, and never freed as a frame (as_destroy, the
// unmapper and the frame allocator leave it alone).
#define VM_DEVICE (PTE_PCD | PTE_PWT | PTE_DEVICE)

struct addrspace {
    uint32_t *pd;      // the page directory, through the direct map
    uintptr_t pd_phys; // what goes in CR3
    uint32_t unmaps;   // pages vm_unmap has taken out: while it stays, every page
                       //   found mapped before still is, with the same frame and rights
};

extern struct addrspace g_kernel_space;

// Builds the kernel's page tables (direct map, read-only text) and switches
// to them.  Runs before frame_init: it allocates nothing.
void paging_init(void);
// Allocates the page tables of the heap and block regions; runs right
// after frame_init.
void paging_init_heap(void);

// The page-table entries of the block region, in one array: the entry of
// va is g_block_ptes[(va - BLOCK_BASE) >> 12] (see kernel/mm/block.c).
extern uint32_t *g_block_ptes;

// A new address space with the kernel half and an empty user half; NULL if
// memory is short.
struct addrspace *as_create(void);
// Frees the page directory, the user page tables and every frame mapped in
// the user half (an address space owns the frames mapped into it, device
// memory excepted).
void as_destroy(struct addrspace *as);
void as_activate(struct addrspace *as);
struct addrspace *as_current(void);

// For a CPU with global pages (g_cpu.pge): marks every kernel mapping
// global, now and from now on, and turns CR4.PGE on, so that switching
// address spaces keeps the kernel's TLB entries.  The kernel half is the
// same in every address space, and every change to it is flushed with
// invlpg (vm_unmap, block_hide_from_stack), which flushes global entries
// too.  After paging_init_heap.
void paging_global_kernel(void);

// Maps the page at va to the frame at pa.  User mappings (VM_USER) must lie
// in user space, kernel mappings in the heap or block regions.  0, -EINVAL (unaligned,
// wrong region, already mapped) or -ENOMEM (no frame for a page table).
int vm_map(struct addrspace *as, uintptr_t va, uintptr_t pa, uint32_t flags);
// Removes the mapping of va and returns the frame it mapped (0 if none).
uintptr_t vm_unmap(struct addrspace *as, uintptr_t va);
// Installs what vm_unmap calls for a kernel page instead of its own
// invlpg, to flush it on every CPU (the smp layer's TLB shootdown).
void paging_set_shootdown(void (*shootdown)(uintptr_t va, uint32_t pages));
// True if va is mapped; then *pa (the byte's physical address) and *flags
// (of VM_WRITE, VM_USER and PTE_DEVICE, those the entry has).
bool vm_query(struct addrspace *as, uintptr_t va, uintptr_t *pa, uint32_t *flags);

// A kernel address for the len bytes of physical memory at pa: through the
// direct map when they lie in it, else through the physical window
// (PHYS_WINDOW_BASE), read-only, or writable and uncached with
// PHYS_MAP_DEVICE (device registers always take the window).  A window
// mapping stays for good, and a range that one already covers reuses it;
// NULL if the range wraps past 4 GiB or the window is full.  For boot-time
// users (firmware tables, the APICs): it takes no lock.
#define PHYS_MAP_DEVICE 1u
void *phys_map(uint32_t pa, uint32_t len, unsigned flags);
// Where the direct map ends: physical memory below this has a kernel
// address P2V(pa).
uint32_t paging_direct_map_end(void);

#endif
