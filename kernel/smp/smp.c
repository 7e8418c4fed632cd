// Bring-up: find the CPUs, start the application processors, let them idle
// (include/smp.h; docs/design.md, "Bring-up").
#include <stdarg.h>
#include "boot.h"
#include "config.h"
#include "cpu.h"
#include "kprintf.h"
#include "lib/format.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "mm/kfast_arena.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "panic.h"
#include "percpu.h"
#include "smp.h"
#include "smp/halt.h"
#include "smp/ioapic.h"
#include "smp/lapic.h"
#include "smp/tlb.h"
#include "smp/xcall.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

// The SDM's waits (vol. 3A, 8.4.4.1, "Typical BSP Initialization Sequence").
#define INIT_DELAY_US  10000u
#define SIPI_DELAY_US  200u
#define LOW_MEMORY_END 0xA0000u // SIPI vectors reach pages 0x01-0x9F of base memory

struct smp g_smp;
// The start the boot CPU is waiting for: that AP's index + 1, 0 for none.
// The AP takes it (kernel/smp/trampoline.asm, smp_ap_entry).
volatile uint32_t smp_ap_ticket;

extern const uint8_t smp_trampoline[], smp_trampoline_end[], smp_trampoline_params[];
extern void smp_ap_entry(void);

static const void *
kernel_map(void *ctx, uint32_t pa, uint32_t len)
{
    (void)ctx;
    return phys_map(pa, len, 0);
}

const struct phys_reader g_kernel_phys_reader = { kernel_map, NULL };

static void PRINTF_LIKE(1, 2) smp_why(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(g_smp.why, sizeof(g_smp.why), fmt, ap);
    va_end(ap);
}

static void PRINTF_LIKE(2, 3) cpu_fail(struct cpu *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    c->state = CPU_FAILED;
}

// A page of base memory the memory map calls usable and the Multiboot
// structures do not occupy (what kmain needed from them is copied by now),
// or 0.  Page 0 (the real-mode interrupt table and BIOS data) is never used.
static uint32_t
trampoline_page(void)
{
    for (uint32_t pa = PAGE_SIZE; pa + PAGE_SIZE <= LOW_MEMORY_END; pa += PAGE_SIZE) {
        if (pa < g_boot.info_phys_end && pa + PAGE_SIZE > g_boot.info_phys_start)
            continue;
        for (unsigned i = 0; i < g_boot.region_count; i++) {
            const struct boot_region *r = &g_boot.regions[i];
            if (r->type == 1 && r->base <= pa && r->base + r->length >= pa + PAGE_SIZE)
                return pa;
        }
    }
    return 0;
}

// What the APs run once the scheduler releases them (smp_release_aps).
static void (*volatile s_ap_start)(unsigned index);

// Runs on the AP, on its own stack, with the kernel's page directory and the
// boot CPU's CR0 and CR4.  Online, it waits with every interrupt masked
// until the scheduler has its idle thread ready.
NORETURN void
smp_ap_main(unsigned index)
{
    struct cpu *c = &g_smp.cpus[index];
    gdt_load_cpu(index, c->stack_base + KSTACK_SIZE);
    idt_load();
    THIS_CPU(as) = &g_kernel_space;
    lapic_quiet();
    c->seen_apic_id = lapic_id();
    __atomic_store_n(&c->state, CPU_ONLINE, __ATOMIC_RELEASE);
    // Until the scheduler releases it, interrupts stay off: a cross-CPU
    // call (a TLB shootdown) is served from its mailbox here.
    while (!s_ap_start)
        xcall_poll();
    s_ap_start(index);
    panic("cpu %u: its start returned", index);
}

void
smp_release_aps(void (*start)(unsigned index))
{
    s_ap_start = start;
}

unsigned
smp_online_cpu(unsigned n)
{
    n %= g_smp.online;
    for (unsigned i = 0; i < g_smp.count; i++)
        if (g_smp.cpus[i].state == CPU_ONLINE && n-- == 0)
            return i;
    return 0;
}

void
smp_send_reschedule(unsigned cpu)
{
    lapic_send_fixed(g_smp.cpus[cpu].apic_id, VEC_RESCHEDULE);
}

// Polls clock until it reads at least until_us - or, with stop_online,
// until c is online - and notes when c was first seen online; false if the
// PIT stands still (or, with stop_online, c did not come online).
static bool
wait_for(struct cpu *c, struct pit_clock *clock, uint32_t until_us, bool stop_online)
{
    for (;;) {
        uint32_t now = pit_clock_us(clock);
        bool online = __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == CPU_ONLINE;
        if (online && !c->start_us)
            c->start_us = now ? now : 1;
        if (online && stop_online)
            return true;
        if (now >= until_us)
            return !stop_online;
        if (clock->still > PIT_STILL_POLLS)
            return false;
        cpu_relax();
    }
}

// INIT, 10 ms, SIPI, 200 us, SIPI, 200 us, then up to SMP_START_TIMEOUT_US
// (from the INIT) for the AP to come online; start_us is when it was first
// seen online.  False if it may still be
// running on its stack (which must then stay allocated).
static bool
start_ap(unsigned index, uint32_t page, struct trampoline_params *tp)
{
    struct cpu *c = &g_smp.cpus[index];
    uintptr_t stack = frame_alloc_order(frame_order_for(KSTACK_SIZE));
    if (!stack) {
        cpu_fail(c, "no memory for its stack");
        return true;
    }
    c->stack_base = (uintptr_t)P2V(stack);
    // Its own spill area (kernel/mm/kfast.c), or, if the heap is short, the
    // boot CPU's, shared.
    g_percpu[index].kfast.spill_area = kfast_spill_area_make();
    tp->stack = c->stack_base + KSTACK_SIZE;
    tp->cpu = index;
    c->state = CPU_STARTING;
    __atomic_store_n(&smp_ap_ticket, index + 1, __ATOMIC_SEQ_CST);

    // One clock times the waits and the whole start, polled all along.
    struct pit_clock clock;
    pit_clock_start(&clock);
    char why[SMP_WHY_MAX];
    bool sent = lapic_send_ipi(c->apic_id, ICR_INIT | ICR_ASSERT, why, sizeof(why));
    uint32_t until = INIT_DELAY_US;
    for (int sipi = 0; sent && sipi < 2; sipi++) {
        if (!wait_for(c, &clock, until, false)) {
            ksnprintf(why, sizeof(why), "the PIT does not count: INIT-SIPI-SIPI cannot be timed");
            sent = false;
            break;
        }
        sent = lapic_send_ipi(c->apic_id, ICR_STARTUP | (page >> 12), why, sizeof(why));
        until = pit_clock_us(&clock) + SIPI_DELAY_US;
    }
    sent = sent && wait_for(c, &clock, until, false);
    if (sent && wait_for(c, &clock, SMP_START_TIMEOUT_US, true))
        return true;
    // Take the ticket back.  If the AP had not taken it, it never will, and
    // INIT puts it back to waiting for a SIPI.
    uint32_t expected = index + 1;
    if (__atomic_compare_exchange_n(&smp_ap_ticket, &expected, 0, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        char ignored[SMP_WHY_MAX];
        lapic_send_ipi(c->apic_id, ICR_INIT | ICR_ASSERT, ignored, sizeof(ignored));
        frame_free(stack);
        c->stack_base = 0;
        kfree(g_percpu[index].kfast.spill_area);
        g_percpu[index].kfast.spill_area = NULL;
        if (sent)
            cpu_fail(c, "no answer %u ms after its INIT-SIPI-SIPI", SMP_START_TIMEOUT_US / 1000);
        else
            cpu_fail(c, "%s", why);
        return true;
    }
    // It took the ticket: it is running on its stack.  Give it as long again.
    if (wait_for(c, &clock, 2 * SMP_START_TIMEOUT_US, true))
        return true;
    cpu_fail(c, "it entered the kernel but did not finish its setup in %u ms",
             2 * SMP_START_TIMEOUT_US / 1000);
    return false;
}

static void
start_aps(void)
{
    uint32_t page = trampoline_page();
    uint32_t size = (uint32_t)(smp_trampoline_end - smp_trampoline);
    uintptr_t boot_pd = page && size <= PAGE_SIZE ? frame_alloc() : 0;
    if (!boot_pd) {
        const char *why = !page              ? "no usable page below 640 KiB for the trampoline"
                          : size > PAGE_SIZE ? "the trampoline is larger than a page"
                                             : "no frame for the bring-up page directory";
        for (unsigned i = 1; i < g_smp.count; i++)
            cpu_fail(&g_smp.cpus[i], "%s", why);
        return;
    }
    g_smp.trampoline_phys = page;
    memcpy(P2V(page), smp_trampoline, size);
    struct trampoline_params *tp = P2V(page + (uint32_t)(smp_trampoline_params - smp_trampoline));
    // The kernel's directory, plus the low 4 MiB where they are: the
    // trampoline turns paging on while it runs from there.
    uint32_t *pd = P2V(boot_pd);
    memcpy(pd, g_kernel_space.pd, PAGE_SIZE);
    pd[0] = 0 | PDE_LARGE | PTE_PRESENT | PTE_WRITABLE;
    *tp = (struct trampoline_params){
        .boot_cr3 = boot_pd,
        .kernel_cr3 = g_kernel_space.pd_phys,
        .cr0 = read_cr0(),
        .cr4 = read_cr4(),
        .entry = (uint32_t)smp_ap_entry,
    };
    lapic_boot_cpu_setup();
    bool settled = true;
    for (unsigned i = 1; i < g_smp.count; i++) {
        settled &= start_ap(i, page, tp);
        g_smp.online += g_smp.cpus[i].state == CPU_ONLINE;
    }
    // Every AP runs on the kernel's directory now (or is held in INIT):
    // the bring-up directory can go, unless one is somewhere unknown.
    if (settled)
        frame_free(boot_pd);
}

void
smp_init(void)
{
    struct cpu *boot = &g_smp.cpus[0];
    boot->state = CPU_ONLINE;
    g_smp.count = 1;
    g_smp.online = 1;
    if (!g_cpu.apic) {
        smp_why("no local APIC (CPUID): the 8259 PIC serves the one CPU");
        return;
    }
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & APIC_BASE_ENABLE)) {
        smp_why("the local APIC is off in IA32_APIC_BASE: the 8259 PIC serves the one CPU");
        return;
    }
    struct machine_tables *t = &g_smp.tables;
    if (!machine_tables_read(&g_kernel_phys_reader, t)) {
        smp_why("no table of CPUs: ACPI: %s; MP: %s", t->acpi_why, t->mp_why);
        return;
    }
    for (unsigned i = 0; i < t->ioapic_count; i++)
        if (!ioapic_version(t->ioapics[i].phys, &g_smp.ioapic_versions[i]))
            g_smp.ioapic_versions[i] = 0;
    g_smp.lapic_phys = (uint32_t)base & APIC_BASE_ADDR_MASK;
    if (!lapic_map(g_smp.lapic_phys)) {
        smp_why("the local APIC's registers at %#x cannot be mapped", g_smp.lapic_phys);
        g_smp.lapic_phys = 0;
        return;
    }
    boot->apic_id = lapic_id();
    boot->seen_apic_id = boot->apic_id;
    bool boot_listed = false;
    for (unsigned i = 0; i < t->cpu_count; i++) {
        if (t->cpu_apic_ids[i] == boot->apic_id) {
            boot_listed = true;
        } else if (g_smp.count < SMP_MAX_CPUS) {
            g_smp.cpus[g_smp.count].apic_id = t->cpu_apic_ids[i];
            g_smp.cpus[g_smp.count++].state = CPU_FOUND;
        }
    }
    if (!boot_listed) {
        smp_why("the boot CPU's APIC id %u is not among the %u the table lists, so the list "
                "is not trusted",
                boot->apic_id, t->cpu_count);
        g_smp.count = 1;
        return;
    }
    if (g_smp.count == 1)
        return;
    if (lapic_version() < LAPIC_INTEGRATED) {
        for (unsigned i = 1; i < g_smp.count; i++)
            cpu_fail(&g_smp.cpus[i],
                     "the boot CPU's APIC is an 82489DX (version %#x): Tandem "
                     "starts CPUs only with integrated APICs",
                     lapic_version());
        return;
    }
    start_aps();
    if (g_smp.online > 1) {
        xcall_init();
        smp_halt_init();
        tlb_init();
    }
}

bool
smp_ioapic_answers(uint32_t version)
{
    uint32_t v = version & 0xFF, max_entry = (version >> 16) & 0xFF;
    return version != UINT32_MAX && v >= 0x10 && v <= 0x2F && max_entry >= 15;
}

int
smp_summary_line(char *buf, size_t size)
{
    int n = ksnprintf(buf, size, "cpus: %u online", g_smp.online);
#define MORE(...)                                               \
    n += ksnprintf(buf + ((size_t)n < size ? (size_t)n : size), \
                   (size_t)n < size ? size - (size_t)n : 0, __VA_ARGS__)
    if (g_smp.why[0])
        MORE(" (%s)", g_smp.why);
    for (unsigned i = 1; i < g_smp.count; i++) {
        const struct cpu *c = &g_smp.cpus[i];
        if (c->state != CPU_ONLINE)
            MORE("; cpu %u (APIC id %u) did not start: %s", i, c->apic_id,
                 c->state == CPU_FAILED ? c->why : "not tried");
    }
    const struct machine_tables *t = &g_smp.tables;
    if (t->cpus_dropped)
        MORE("; %u more did not start: Tandem keeps %u (SMP_MAX_CPUS)", t->cpus_dropped,
             SMP_MAX_CPUS);
    if (t->cpus_x2apic)
        MORE("; %u more did not start: their x2APIC ids are above 254, which xAPIC mode cannot "
             "reach",
             t->cpus_x2apic);
#undef MORE
    return n;
}

void
smp_summary(void)
{
    char line[512];
    smp_summary_line(line, sizeof(line));
    kprintf("  %s\n", line);
    const struct machine_tables *t = &g_smp.tables;
    if (t->source == TABLES_NONE)
        return;
    if (t->source == TABLES_ACPI)
        kprintf("    from the ACPI MADT at %#x (through the %s at %#x)", t->table_phys,
                t->via_xsdt ? "XSDT" : "RSDT", t->root_phys);
    else if (t->mp_default)
        kprintf("    from the MP tables: default configuration %u (floating pointer at %#x)",
                t->mp_default, t->root_phys);
    else
        kprintf("    from the MP configuration table at %#x (floating pointer at %#x)",
                t->table_phys, t->root_phys);
    kprintf("; local APIC at %#x", g_smp.lapic_phys);
    if (t->lapic_phys != g_smp.lapic_phys)
        kprintf(" (the table says %#x)", t->lapic_phys);
    if (t->cpus_disabled)
        kprintf("; %u more CPUs listed as not enabled", t->cpus_disabled);
    kprintf("; 8259 PICs %s\n", t->source == TABLES_MP
                                    ? (t->imcr ? "behind the IMCR" : "in virtual-wire mode")
                                : t->pcat_compat ? "present"
                                                 : "absent");
    kprintf("    cpu 0: APIC id %u, the boot CPU", g_smp.cpus[0].apic_id);
    for (unsigned i = 1; i < g_smp.count; i++) {
        const struct cpu *c = &g_smp.cpus[i];
        kprintf("; cpu %u: APIC id %u", i, c->apic_id);
        if (c->state == CPU_ONLINE)
            kprintf(", online after %u us", c->start_us);
    }
    kprintf("\n");
    if (g_smp.trampoline_phys)
        kprintf("    trampoline at %#x (SIPI vector %#x)\n", g_smp.trampoline_phys,
                g_smp.trampoline_phys >> 12);
    for (unsigned i = 0; i < t->ioapic_count; i++) {
        const struct ioapic_info *io = &t->ioapics[i];
        uint32_t version = g_smp.ioapic_versions[i], inputs = ((version >> 16) & 0xFF) + 1;
        kprintf("    I/O APIC id %u at %#x", io->id, io->phys);
        if (!smp_ioapic_answers(version))
            kprintf(": does not answer (its version register reads %#x)\n", version);
        else if (io->gsi_base == UINT32_MAX)
            kprintf(", version %#x, %u inputs, GSI base unknown (MP tables)\n", version & 0xFF,
                    inputs);
        else
            kprintf(", version %#x, GSIs %u-%u\n", version & 0xFF, io->gsi_base,
                    io->gsi_base + inputs - 1);
    }
    if (t->override_count) {
        kprintf("    interrupt source overrides:");
        for (unsigned i = 0; i < t->override_count; i++) {
            const struct irq_override *o = &t->overrides[i];
            static const char *const polarity[] = { "", " active-high", "", " active-low" };
            static const char *const trigger[] = { "", " edge", "", " level" };
            kprintf("%s IRQ %u -> GSI %u%s%s", i ? ";" : "", o->irq, o->gsi,
                    trigger[(o->flags >> 2) & 3], polarity[o->flags & 3]);
        }
        kprintf("\n");
    }
    if (t->cpus_duplicate || t->ioapics_dropped || t->overrides_dropped || t->mp_irqs_elsewhere)
        kprintf("    also: %u CPUs listed twice, %u I/O APICs and %u overrides past what Tandem "
                "keeps, %u ISA IRQs on a second I/O APIC (not recorded)\n",
                t->cpus_duplicate, t->ioapics_dropped, t->overrides_dropped, t->mp_irqs_elsewhere);
}
