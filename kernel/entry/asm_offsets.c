// The constants the assembly shares with C, generated from the C
// definitions so that nothing is copied by hand.
//
// Never linked: the Makefile compiles this file to assembly (-S), where each
// DEFINE leaves a line `->NAME VALUE`, and turns those lines into
// build/include/asm_offsets.inc, a list of NASM %defines (Linux's
// asm-offsets trick).  The NASM files %include "asm_offsets.inc"; a change
// to a header here rebuilds them.
#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "gdt.h"
#include "mm/paging.h"
#include "smp.h"
#include "trap.h"
#include "x86.h"

// The trap frame is built by pushes in kernel/entry/traps.asm and
// sysenter_entry.asm: the CPU's (user_ss, user_esp from ring 3 only;
// eflags, cs, eip), the stub's (error, vector), pushad (eax ... edi, with
// the esp before it), then ds, es, fs, gs (SAVE_TRAP_REGS).  The struct
// must list exactly that, lowest address first, with no padding.
#define FRAME_AT(member, offset)                                    \
    _Static_assert(offsetof(struct trap_frame, member) == (offset), \
                   "struct trap_frame: " #member " is not where the stubs push it")
FRAME_AT(gs, 0);
FRAME_AT(fs, 4);
FRAME_AT(es, 8);
FRAME_AT(ds, 12);
FRAME_AT(edi, 16); // pushad: edi lowest ...
FRAME_AT(esi, 20);
FRAME_AT(ebp, 24);
FRAME_AT(esp_at_pusha, 28);
FRAME_AT(ebx, 32);
FRAME_AT(edx, 36);
FRAME_AT(ecx, 40);
FRAME_AT(eax, 44); // ... eax highest
FRAME_AT(vector, 48);
FRAME_AT(error, 52);
FRAME_AT(eip, 56); // the CPU's iret frame
FRAME_AT(cs, 60);
FRAME_AT(eflags, 64);
FRAME_AT(user_esp, 68);
FRAME_AT(user_ss, 72);
_Static_assert(sizeof(struct trap_frame) == 76, "struct trap_frame is 19 pushed words");

// A line `->NAME VALUE` in the assembly output (the value unsigned, in
// decimal: NASM does its arithmetic in 64 bits).
#define DEFINE(name, value) \
    __asm__ volatile("\n.ascii \"->" #name " %c0\"" : : "n"((unsigned long long)(uint32_t)(value)))
#define FRAME(name, member) DEFINE(name, offsetof(struct trap_frame, member))

void asm_offsets(void);

void
asm_offsets(void)
{
    // struct trap_frame (include/trap.h)
    FRAME(TF_GS, gs);
    FRAME(TF_FS, fs);
    FRAME(TF_ES, es);
    FRAME(TF_DS, ds);
    FRAME(TF_EDI, edi);
    FRAME(TF_EAX, eax);
    FRAME(TF_VECTOR, vector);
    FRAME(TF_ERROR, error);
    FRAME(TF_EIP, eip);
    FRAME(TF_CS, cs);
    FRAME(TF_EFLAGS, eflags);
    FRAME(TF_USER_ESP, user_esp);
    FRAME(TF_USER_SS, user_ss);
    DEFINE(TF_SIZE, sizeof(struct trap_frame));

    // Selectors (include/gdt.h)
    DEFINE(KERNEL_CS, KERNEL_CS);
    DEFINE(KERNEL_DS, KERNEL_DS);
    DEFINE(USER_CS, USER_CS);
    DEFINE(USER_DS, USER_DS);
    DEFINE(PERCPU_SEL, PERCPU_SEL);

    // The local APICs' vectors (include/trap.h)
    DEFINE(VEC_LAPIC_TIMER, VEC_LAPIC_TIMER);
    DEFINE(VEC_RESCHEDULE, VEC_RESCHEDULE);
    DEFINE(VEC_XCALL, VEC_XCALL);
    DEFINE(VEC_SPURIOUS, VEC_SPURIOUS);

    // Flags and control registers (include/x86.h)
    DEFINE(EFLAGS_KERNEL, EFLAGS_KERNEL);
    DEFINE(EFLAGS_TF, EFLAGS_TF);
    DEFINE(EFLAGS_IF, EFLAGS_IF);
    DEFINE(CR0_PG, CR0_PG);
    DEFINE(CR0_WP, CR0_WP);
    DEFINE(CR4_PSE, CR4_PSE);

    // The memory map (include/config.h, include/mm/paging.h)
    DEFINE(KERNEL_VMA, KERNEL_VMA);
    DEFINE(KSTACK_SIZE, KSTACK_SIZE);
    DEFINE(USER_BASE, USER_BASE);
    DEFINE(USER_TOP, USER_TOP);
    DEFINE(PTE_PRESENT, PTE_PRESENT);
    DEFINE(PTE_WRITABLE, PTE_WRITABLE);
    DEFINE(PDE_LARGE, PDE_LARGE);

    // What an AP's trampoline reads (include/smp.h)
    DEFINE(TP_BOOT_CR3, offsetof(struct trampoline_params, boot_cr3));
    DEFINE(TP_KERNEL_CR3, offsetof(struct trampoline_params, kernel_cr3));
    DEFINE(TP_CR0, offsetof(struct trampoline_params, cr0));
    DEFINE(TP_CR4, offsetof(struct trampoline_params, cr4));
    DEFINE(TP_ENTRY, offsetof(struct trampoline_params, entry));
    DEFINE(TP_STACK, offsetof(struct trampoline_params, stack));
    DEFINE(TP_CPU, offsetof(struct trampoline_params, cpu));
    DEFINE(TP_SIZE, sizeof(struct trampoline_params));
}
