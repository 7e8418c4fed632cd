/* Bring-up: the CPUs the firmware lists, started and idling
 * (kernel/smp/smp.c; docs/design.md, "Bring-up").
 *
 * smp_init finds the CPUs in ACPI's MADT or the MP tables, and starts every
 * application processor with INIT-SIPI-SIPI into the trampoline
 * (kernel/smp/trampoline.asm), which enters protected mode and paging and
 * runs smp_ap_main on the CPU's own stack, GDT and TSS.  There an AP masks
 * every local interrupt at its APIC and waits until the scheduler releases
 * it to run threads (smp_release_aps).  On a
 * machine without a local APIC nothing is touched and the 8259 PIC serves
 * the one CPU as before. */
#ifndef TANDEM_SMP_H
#define TANDEM_SMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "gdt.h"
#include "smp/tables.h"

enum cpu_state {
    CPU_FOUND,    // listed, not started (yet)
    CPU_STARTING, // INIT-SIPI-SIPI sent, not online yet
    CPU_ONLINE,   // running: the boot CPU, or an AP idling in smp_ap_main
    CPU_FAILED,   // did not start: why says why
};

#define SMP_START_TIMEOUT_US 1000000u // from an AP's INIT to its coming online
#define SMP_WHY_MAX          96

struct cpu {
    uint8_t apic_id;                // from the table (the boot CPU: its own APIC's)
    volatile uint32_t state;        // enum cpu_state
    volatile uint32_t seen_apic_id; // the id its own APIC gave, written by the CPU itself
    uint32_t start_us;              // an AP: from its INIT to when it was first seen online
    uintptr_t stack_base;           // an AP: its KSTACK_SIZE-byte stack (direct map)
    char why[SMP_WHY_MAX];          // CPU_FAILED: why
};

struct smp {
    struct machine_tables tables;  // what the firmware said
    struct cpu cpus[SMP_MAX_CPUS]; // 0 is the boot CPU, then the others in table order
    unsigned count;                // CPUs in cpus[]
    unsigned online;
    uint32_t lapic_phys;                       // from IA32_APIC_BASE (0: no local APIC in use)
    uint32_t trampoline_phys;                  // the page the APs started in
    uint32_t ioapic_versions[SMP_MAX_IOAPICS]; // as each I/O APIC listed answered at boot
    char why[2 * TABLES_WHY_MAX + 32]; // why only the boot CPU was considered ("": it was not)
};

extern struct smp g_smp;

// Bring-up, from kmain: after the PIT runs (it times INIT-SIPI-SIPI), with
// interrupts off.
void smp_init(void);
// The summary's first line, "cpus: N online" and, for every CPU that did
// not start or when only the boot CPU was considered, why; returns its
// length as ksnprintf does.
int smp_summary_line(char *buf, size_t size);
// Prints that line and what the tables said, for the boot summary.
void smp_summary(void);
// Whether an I/O APIC's version register (include/smp/lapic.h) looks like
// one: the tables can list an I/O APIC the machine lacks (SeaBIOS's MP
// tables do on QEMU's isapc).
bool smp_ioapic_answers(uint32_t version);
// The physical memory reader the kernel parses the tables with (phys_map).
extern const struct phys_reader g_kernel_phys_reader;

// What the trampoline reads, at smp_trampoline_params in its copy
// (offsets for the assembly: kernel/entry/asm_offsets.c).
struct trampoline_params {
    uint32_t boot_cr3;   // a page directory with the low 4 MiB identity-mapped too
    uint32_t kernel_cr3; // the kernel's own
    uint32_t cr0, cr4;   // the boot CPU's
    uint32_t entry;      // smp_ap_entry, in the higher half
    uint32_t stack;      // the AP's stack top
    uint32_t cpu;        // its index in g_smp.cpus
};

// An AP's first C (kernel/smp/trampoline.asm calls it on its own stack).
NORETURN void smp_ap_main(unsigned index);
// Lets every online AP run start(its index), on its bring-up stack, with
// interrupts off (kmain's ap_main: it ends as the AP's idle thread).
void smp_release_aps(void (*start)(unsigned index));
// The index of the (n modulo the number online)-th online CPU: for spreading
// work over every CPU.
unsigned smp_online_cpu(unsigned n);
// Sends the reschedule IPI (VEC_RESCHEDULE, include/trap.h) to CPU cpu.
void smp_send_reschedule(unsigned cpu);

#endif
