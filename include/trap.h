/* Trap frames and vectors (the device interrupts' controller: include/irq.h). */
#ifndef TANDEM_TRAP_H
#define TANDEM_TRAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "gdt.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

#define VEC_DE          0 // divide error
#define VEC_DB          1 // debug
#define VEC_NMI         2
#define VEC_BP          3  // breakpoint (int3)
#define VEC_OF          4  // overflow (into)
#define VEC_BR          5  // bound range exceeded
#define VEC_UD          6  // invalid opcode
#define VEC_NM          7  // device not available
#define VEC_DF          8  // double fault
#define VEC_TS          10 // invalid TSS
#define VEC_NP          11 // segment not present
#define VEC_SS          12 // stack-segment fault
#define VEC_GP          13 // general protection
#define VEC_PF          14 // page fault
#define VEC_MF          16 // x87 floating-point error
#define VEC_AC          17 // alignment check
#define VEC_MC          18 // machine check
#define VEC_XM          19 // SIMD floating-point
#define VEC_IRQ0        32 // ISA IRQ 0, from the 8259 (remapped) or the I/O APIC
#define VEC_SYSCALL     0x80
// The local APICs' vectors (include/smp/lapic.h), one per purpose.  A
// vector's high nibble is its priority class; the task priority an AP's
// idle thread keeps (0) lets every class in.  Each AP's timer and the
// reschedule IPI (no payload: the run queue says what to do) are class 14;
// the cross-CPU call (include/smp/xcall.h) is class 15, above every device
// IRQ and the timer, since its caller spins until it is answered.
// Spurious: the APIC's choice, low nibble all ones.
#define VEC_LAPIC_TIMER 0xE0
#define VEC_RESCHEDULE  0xE1
#define VEC_XCALL       0xF0
#define VEC_SPURIOUS    0xFF
#define IRQ_TIMER       0 // the tick's line (include/irq.h)

// The stack as trap_common (kernel/entry/traps.asm) leaves it, lowest
// address first.  The stubs' pushes are checked against it in
// kernel/entry/asm_offsets.c, which gives the assembly its offsets.
struct trap_frame {
    uint32_t gs, fs, es, ds;                                  // pushed by trap_common
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax; // by pushad
    uint32_t vector, error;                                   // by the stub (error: CPU or 0)
    uint32_t eip, cs, eflags;                                 // by the CPU
    uint32_t user_esp, user_ss;                               // by the CPU, only from ring 3
};

// Debug builds: the interrupt or exception from ring 3 a thread is serving,
// at the bottom of its arena (see kernel/entry/trap.c).
struct trap_record {
    uint32_t vector, error, eip;
};

static inline bool
trap_from_user(const struct trap_frame *f)
{
    return (f->cs & 3) == 3;
}

// Makes a frame about to go back to ring 3 say only what ring 3 may hold:
// the user's own flags with IOPL 0, no VM, IF on, and the user segments for
// cs and ss.  The frame is the thread's own and nothing but the kernel
// writes it, but what iret and sysexit load decides the privilege the
// thread returns with: that is forced here, on every way out, whatever
// happened to the frame in between.
static inline void
trap_frame_seal_user(struct trap_frame *f)
{
    f->eflags = (f->eflags & EFLAGS_USER) | EFLAGS_IF | EFLAGS_FIXED;
    f->cs = USER_CS;
    f->user_ss = USER_DS;
}

// The interrupt descriptor table (kernel/idt.c): loaded empty by
// idt_init; the entry layer fills the gates with its stubs (entry_init),
// the double-fault task takes its own.  user: ring 3 may raise the vector
// with int.
void idt_init(void);
// Loads the one IDT on the CPU that calls it (every CPU shares it).
void idt_load(void);
void idt_set_gate(unsigned vector, uint32_t handler, bool user);
void idt_set_task_gate(unsigned vector, uint16_t tss_selector);

// The entry layer (kernel/entry/): every way in and out of the kernel.
// entry_init routes the IDT's vectors to the trap stubs and gives the
// thread layer a new user thread's first entry; sysenter_init opens the
// sysenter gate where the CPU has it.
void entry_init(void);
void sysenter_init(void);
const char *trap_vector_name(uint32_t vector);
// Prints the full report of a trap: vector, error, EIP and symbol, CR2, registers.
void trap_report(const char *what, const struct trap_frame *f);
// For a trap the kernel cannot handle: the report of the frame, then a
// panic with the message (its registers and backtrace go on from the
// trap's handler into the code the trap interrupted).
NORETURN void panic_trap(const struct trap_frame *f, const char *fmt, ...) PRINTF_LIKE(2, 3);

// The system-call table (kernel/syscall/syscall.c), indexed by the number
// in eax: SYS_COUNT handlers, NULL where no call has that number.
typedef int32_t (*syscall_fn)(struct trap_frame *f);
extern syscall_fn const g_syscall_table[];

// Runs the call the frame's eax names and leaves the result in eax.  The
// entry layer calls it, between the way in and exit_to_user; inline, as
// it is on every system call's path.
static inline void
syscall_dispatch(struct trap_frame *f)
{
    uint32_t n = f->eax;
    syscall_fn fn = n < SYS_COUNT ? g_syscall_table[n] : NULL;
    f->eax = fn ? (uint32_t)fn(f) : (uint32_t)-ENOSYS;
}

// Test support: the next kernel-mode exceptions with this vector are
// reported and recovered from (through the extable, or by returning for
// traps like #BP) instead of panicking.  trap_expect_end() returns how many
// arrived and disarms.
void trap_expect(uint32_t vector);
unsigned trap_expect_end(void);

#endif
