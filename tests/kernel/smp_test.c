// Bring-up on the live machine (kernel/smp/): the firmware's tables read
// again, every CPU online, each application processor on its own stack,
// GDT and TSS; the physical window the tables and APICs are mapped
// through; and every CPU running threads: pinned ones, and the arena and
// the heap hammered from all of them at once.  On QEMU the count of CPUs is checked against the one QEMU was
// started with (-smp), read from its fw_cfg device.
#include "cpu.h"
#include "kfast.h"
#include "kmalloc.h"
#include "kprintf.h"
#include "ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/paging.h"
#include "percpu.h"
#include "smp.h"
#include "smp/ioapic.h"
#include "smp/lapic.h"
#include "spinlock.h"
#include "thread.h"
#include "x86.h"

#define SEGMENT_ACCESSED (1ull << 40) // a descriptor's accessed bit

#define FW_CFG_SELECTOR  0x510
#define FW_CFG_DATA      0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_NB_CPUS   0x0005

// The CPUs QEMU was started with, or -1 when this is not QEMU (Bochs).
static int
qemu_cpu_count(void)
{
    outw(FW_CFG_SELECTOR, FW_CFG_SIGNATURE);
    char sig[4];
    for (int i = 0; i < 4; i++)
        sig[i] = (char)inb(FW_CFG_DATA);
    if (memcmp(sig, "QEMU", 4) != 0)
        return -1;
    outw(FW_CFG_SELECTOR, FW_CFG_NB_CPUS);
    uint8_t lo = inb(FW_CFG_DATA), hi = inb(FW_CFG_DATA);
    return lo | hi << 8;
}

static struct machine_tables s_again;

// The parser, run again on the live tables, finds what boot found; and what
// it found is true of the machine: the boot CPU's APIC id is listed, the
// local APIC is where IA32_APIC_BASE says, and the I/O APICs answer at
// their addresses as they did at boot - on a machine with ACPI, all of
// them (SeaBIOS's MP tables list one on QEMU's isapc, which has none).
KTEST(smp, tables_read_again_match_the_machine)
{
    if (!g_cpu.apic) {
        kprintf("  # no local APIC: bring-up read no tables\n");
        KEXPECT_EQ(g_smp.tables.source, TABLES_NONE);
        return;
    }
    KASSERT_NE(g_smp.tables.source, TABLES_NONE);
    KASSERT_TRUE(machine_tables_read(&g_kernel_phys_reader, &s_again));
    KEXPECT_MEMEQ(&s_again, &g_smp.tables, sizeof(s_again));

    uint8_t me = lapic_id();
    bool listed = false;
    for (unsigned i = 0; i < s_again.cpu_count; i++)
        listed |= s_again.cpu_apic_ids[i] == me;
    KEXPECT_TRUE(listed);
    KEXPECT_UEQ(g_smp.cpus[0].apic_id, me);
    KEXPECT_UEQ(s_again.lapic_phys, (uint32_t)rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK);

    KEXPECT_GE(s_again.ioapic_count, 1);
    for (unsigned i = 0; i < s_again.ioapic_count; i++) {
        uint32_t version = 0;
        KEXPECT_TRUE(ioapic_version(s_again.ioapics[i].phys, &version));
        KEXPECT_UEQ(version, g_smp.ioapic_versions[i]);
        if (s_again.source == TABLES_ACPI)
            KEXPECT_TRUE(smp_ioapic_answers(version));
    }
    if (s_again.source == TABLES_ACPI) {
        // The MADT and the root table were found where they are: their
        // signatures are there.
        KEXPECT_MEMEQ(phys_map(s_again.table_phys, 4, 0), "APIC", 4);
        KEXPECT_MEMEQ(phys_map(s_again.root_phys, 4, 0), s_again.via_xsdt ? "XSDT" : "RSDT", 4);
    }
}

// Every CPU the tables list came online, and the summary says so in the
// words the tests look for.  On QEMU that is every CPU -smp gave it.
KTEST(smp, every_cpu_online)
{
    char line[256], want[32];
    smp_summary_line(line, sizeof(line));
    KEXPECT_UEQ(g_smp.online, g_smp.count);
    ksnprintf(want, sizeof(want), "cpus: %u online", g_smp.online);
    if (g_cpu.apic)
        KEXPECT_STREQ(line, want);
    int qemu = qemu_cpu_count();
    if (qemu < 0) {
        kprintf("  # not QEMU (no fw_cfg): the CPU count is not checked against -smp\n");
    } else if (!g_cpu.apic) {
        KEXPECT_EQ(g_smp.online, 1);
    } else if (!KEXPECT_EQ(g_smp.online, qemu)) {
        kprintf("  # QEMU has %d CPUs, the firmware's tables list %u\n", qemu,
                g_smp.tables.cpu_count);
    }
    for (unsigned i = 0; i < g_smp.count; i++)
        KEXPECT_EQ(g_smp.cpus[i].state, CPU_ONLINE);
}

// Each AP ran its own setup: it read its own APIC id (the one the table
// gave), loaded its own TSS (the CPU marked the descriptor busy in the AP's
// own GDT), whose ring-0 stack is its thread's (read under the big kernel
// lock, which the AP holds whenever it switches), and had a bring-up stack
// of its own.
KTEST(smp, each_ap_has_its_own_stack_gdt_and_tss)
{
    if (g_smp.count == 1)
        kprintf("  # one CPU: no application processor to look at\n");
    for (unsigned i = 1; i < g_smp.count; i++) {
        const struct cpu *c = &g_smp.cpus[i];
        if (c->state != CPU_ONLINE)
            continue;
        KEXPECT_UEQ(c->seen_apic_id, c->apic_id);
        const struct percpu *p = &g_percpu[i];
        uint8_t tss_type = (uint8_t)(p->gdt[GDT_TSS] >> 40) & 0xF;
        KEXPECT_UEQ(tss_type, 0xB); // 32-bit TSS, busy
        KEXPECT_UEQ(p->tss_io.tss.esp0, (uint32_t)p->current->block + KSTACK_SIZE);
        KEXPECT_NE(c->stack_base, 0);
        KEXPECT_ULE(c->start_us, SMP_START_TIMEOUT_US);
        for (unsigned j = 1; j < i; j++)
            KEXPECT_NE(c->stack_base, g_smp.cpus[j].stack_base);
        // The shared segments are the boot CPU's (its GDT, as sgdt tells),
        // but for the accessed bit, which each CPU sets in its own copy
        // when it first loads the segment (a user thread run there).
        struct PACKED {
            uint16_t limit;
            uint32_t base;
        } boot_gdt;
        __asm__ volatile("sgdt %0" : "=m"(boot_gdt));
        const uint64_t *boot = (const uint64_t *)boot_gdt.base;
        KEXPECT_NE(boot_gdt.base, (uint32_t)p->gdt);
        for (unsigned k = 1; k < GDT_TSS; k++)
            KEXPECT_UEQ(p->gdt[k] | SEGMENT_ACCESSED, boot[k] | SEGMENT_ACCESSED);
    }
}

// The window: a range above the direct map is mapped once and then reused,
// device registers are uncached, nothing wraps past 4 GiB.
KTEST(smp, phys_map_window)
{
    KEXPECT_PTR_EQ(phys_map(0x9F000, 16, 0), P2V(0x9F000));
    uint32_t high = 0xFFFFF000u; // the BIOS flash: above any direct map
    const void *a = phys_map(high + 0x10, 32, 0);
    KASSERT_NOT_NULL(a);
    KEXPECT_UGE((uintptr_t)a, PHYS_WINDOW_BASE);
    KEXPECT_ULT((uintptr_t)a, PHYS_WINDOW_LIMIT);
    KEXPECT_UEQ((uintptr_t)a & 0xFFF, 0x10);
    KEXPECT_PTR_EQ(phys_map(high + 0x100, 16, 0), (const char *)a + 0xF0);
    uintptr_t pa;
    uint32_t flags;
    KEXPECT_TRUE(vm_query(&g_kernel_space, (uintptr_t)a, &pa, &flags));
    KEXPECT_UEQ(pa, high + 0x10);
    KEXPECT_UEQ(flags & VM_WRITE, 0);        // tables are read-only
    KEXPECT_NULL(phys_map(high, 0x2000, 0)); // wraps past 4 GiB
    KEXPECT_NULL(phys_map(high, 0, 0));
    if (g_smp.lapic_phys) {
        volatile uint32_t *regs = phys_map(g_smp.lapic_phys, PAGE_SIZE, PHYS_MAP_DEVICE);
        KASSERT_NOT_NULL(regs);
        KEXPECT_UEQ(regs[LAPIC_ID / 4] >> 24, lapic_id());
        const uint32_t *pd = g_kernel_space.pd;
        const uint32_t *pt = P2V(pd[(uintptr_t)regs >> 22] & PTE_ADDR_MASK);
        uint32_t pte = pt[((uintptr_t)regs >> 12) & 0x3FF];
        KEXPECT_UEQ(pte & (PTE_PCD | PTE_PWT | PTE_WRITABLE), PTE_PCD | PTE_PWT | PTE_WRITABLE);
    }
}

// Threads pinned one to each online CPU, and what each saw there.
struct pinned_run {
    unsigned cpu;    // the CPU it was pinned to
    unsigned ran_on; // where it found itself running
    uint32_t rounds, errors;
};

static struct pinned_run s_runs[SMP_MAX_CPUS];

// Runs fn on every online CPU at once (a thread pinned to each) and waits
// for all of them; returns how many ran.
static unsigned
run_on_every_cpu(const char *name, void (*fn)(void *))
{
    uint32_t tids[SMP_MAX_CPUS];
    unsigned n = 0;
    for (unsigned i = 0; i < g_smp.count; i++) {
        if (g_smp.cpus[i].state != CPU_ONLINE)
            continue;
        s_runs[n] = (struct pinned_run){ .cpu = i, .ran_on = ~0u };
        struct thread *t = kthread_create_on(i, name, fn, &s_runs[n]);
        if (!t)
            break;
        tids[n++] = t->tid;
    }
    for (unsigned i = 0; i < n; i++)
        thread_join(tids[i]);
    return n;
}

static void
note_cpu(void *arg)
{
    struct pinned_run *r = arg;
    r->ran_on = this_cpu_index();
}

// Every CPU runs threads: a thread pinned to each ran there, and each CPU
// has switched to threads (its dispatch count).
KTEST(smp, threads_ran_on_every_cpu)
{
    unsigned n = run_on_every_cpu("smp-where", note_cpu);
    KEXPECT_UEQ(n, g_smp.online);
    for (unsigned i = 0; i < n; i++) {
        KEXPECT_UEQ(s_runs[i].ran_on, s_runs[i].cpu);
        KEXPECT_UGE(sched_dispatches(s_runs[i].cpu), 1);
    }
    kprintf("  # dispatches:");
    for (unsigned i = 0; i < g_smp.count; i++)
        kprintf(" cpu %u %u", i, sched_dispatches(i));
    kprintf("\n");
}

#define HAMMER_ROUNDS  300
#define HAMMER_OBJECTS 16

// A word that says which CPU, round and object wrote it.
static uint32_t
stamp(unsigned cpu, uint32_t round, unsigned j, uint32_t k)
{
    return (cpu << 28) ^ (round << 12) ^ (j << 6) ^ k;
}

// The arena without the big kernel lock, on every CPU at once: objects in
// the block, in the CPU's spill area and in heap chunks (which the arena
// takes the lock for; a strict arena refuses them instead), each filled and
// checked, released by scope and by quiescent resets.
static void
arena_hammer(void *arg)
{
    struct pinned_run *r = arg;
    r->ran_on = this_cpu_index();
    uint32_t flags = irq_save();
    bkl_unlock();
    irq_restore(flags);
    for (uint32_t round = 0; round < HAMMER_ROUNDS; round++) {
        kfast_mark_t m = kfast_mark();
        uint32_t *obj[HAMMER_OBJECTS], words[HAMMER_OBJECTS];
        for (unsigned j = 0; j < HAMMER_OBJECTS; j++) {
            words[j] = 2 + (round * 7 + j * 13) % 200;
            obj[j] = kfastmalloc(words[j] * 4);
            if (!obj[j]) {
                r->errors += !g_current->arena.strict; // a strict arena refuses what would spill
                continue;
            }
            for (uint32_t k = 0; k < words[j]; k++)
                obj[j][k] = stamp(r->cpu, round, j, k);
        }
        for (unsigned j = 0; j < HAMMER_OBJECTS; j++)
            for (uint32_t k = 0; obj[j] && k < words[j]; k++)
                r->errors += obj[j][k] != stamp(r->cpu, round, j, k);
        kfast_release(m);
        if (round % 32 == 31) {
            flags = irq_save();
            kfast_reset_quiescent();
            irq_restore(flags);
        }
        r->rounds++;
    }
    flags = irq_save();
    bkl_lock();
    irq_restore(flags);
}

// Runs a hammer on every CPU; each must have run where it was pinned, all
// its rounds, without an error.
static void
hammer_every_cpu(const char *name, void (*hammer)(void *))
{
    unsigned n = run_on_every_cpu(name, hammer);
    KEXPECT_UEQ(n, g_smp.online);
    for (unsigned i = 0; i < n; i++) {
        KEXPECT_UEQ(s_runs[i].ran_on, s_runs[i].cpu);
        KEXPECT_UEQ(s_runs[i].rounds, HAMMER_ROUNDS);
        KEXPECT_UEQ(s_runs[i].errors, 0);
    }
}

KTEST(smp, arenas_hammered_on_every_cpu_at_once)
{
    hammer_every_cpu("smp-arena", arena_hammer);
}

// The heap from every CPU at once, each call under the big kernel lock
// taken for it alone; the blocks are filled and checked without it, while
// the other CPUs allocate and free around them.
static void
heap_hammer(void *arg)
{
    struct pinned_run *r = arg;
    r->ran_on = this_cpu_index();
    uint32_t *live[HAMMER_OBJECTS] = { 0 }, words[HAMMER_OBJECTS] = { 0 };
    uint32_t flags = irq_save();
    bkl_unlock();
    irq_restore(flags);
    for (uint32_t round = 0; round < HAMMER_ROUNDS; round++) {
        unsigned j = round % HAMMER_OBJECTS;
        flags = irq_save();
        bkl_lock();
        if (live[j]) {
            for (uint32_t k = 0; k < words[j]; k++)
                r->errors += live[j][k] != stamp(r->cpu, round - HAMMER_OBJECTS, j, k);
            kfree(live[j]);
        }
        words[j] = 1 + (round * 11 + r->cpu * 5) % 120;
        live[j] = kmalloc(words[j] * 4);
        bkl_unlock();
        irq_restore(flags);
        if (!live[j]) {
            r->errors++;
            continue;
        }
        for (uint32_t k = 0; k < words[j]; k++)
            live[j][k] = stamp(r->cpu, round, j, k);
        r->rounds++;
    }
    flags = irq_save();
    bkl_lock();
    irq_restore(flags);
    for (unsigned j = 0; j < HAMMER_OBJECTS; j++)
        if (live[j])
            kfree(live[j]);
}

KTEST(smp, heap_hammered_on_every_cpu_at_once)
{
    hammer_every_cpu("smp-heap", heap_hammer);
    KEXPECT_UEQ(kheap_check(), 0);
}
