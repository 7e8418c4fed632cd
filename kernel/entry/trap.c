// Trap dispatch and exception reports, the system-call entry, and the
// IDT's routes to the stubs.
#include <stdarg.h>
#include "entry.h"
#include "exit.h"
#include "extable.h"
#include "gdt.h"
#include "irq.h"
#include "kfast.h"
#include "mm/kfast_arena.h"
#include "kprintf.h"
#include "ksyms.h"
#include "panic.h"
#include "process.h"
#include "smp/halt.h"
#include "smp/lapic.h"
#include "smp/xcall.h"
#include "spinlock.h"
#include "thread.h"
#include "trap.h"
#include "uaccess.h"
#include "x86.h"

static const char *const s_vector_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range exceeded",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack-segment fault",
    "#GP general protection",
    "#PF page fault",
    "reserved 15",
    "#MF x87 floating-point error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD floating-point",
    "#VE virtualization",
    "#CP control protection",
    "reserved 22",
    "reserved 23",
    "reserved 24",
    "reserved 25",
    "reserved 26",
    "reserved 27",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security",
    "reserved 31",
};

const char *
trap_vector_name(uint32_t vector)
{
    if (vector < 32)
        return s_vector_names[vector];
    if (vector < 48)
        return "IRQ";
    if (vector == VEC_SYSCALL)
        return "syscall";
    if (vector == VEC_LAPIC_TIMER)
        return "local APIC timer";
    if (vector == VEC_RESCHEDULE)
        return "reschedule IPI";
    if (vector == VEC_XCALL)
        return "cross-CPU call";
    if (vector == VEC_SPURIOUS)
        return "spurious local APIC interrupt";
    return "unknown vector";
}

void
trap_report(const char *what, const struct trap_frame *f)
{
    uint32_t off = 0;
    const char *sym = ksym_lookup(f->eip, &off);
    kprintf("%s: %s (vector %u), error code %#x\n", what, trap_vector_name(f->vector), f->vector,
            f->error);
    if (sym && !trap_from_user(f))
        kprintf("  eip %08x <%s+%#x>  cs %04x  eflags %08x\n", f->eip, sym, off, f->cs, f->eflags);
    else
        kprintf("  eip %08x  cs %04x  eflags %08x\n", f->eip, f->cs, f->eflags);
    if (f->vector == VEC_PF) {
        uint32_t cr2 = read_cr2();
        kprintf("  cr2 %08x: %s of a %s page from %s mode%s\n", cr2,
                f->error & PF_WRITE ? "write"
                                    : (f->error & PF_FETCH ? "instruction fetch" : "read"),
                f->error & PF_PRESENT ? "present (protection)" : "not-present",
                f->error & PF_USER ? "user" : "kernel",
                f->error & PF_RSVD ? ", reserved bit set" : "");
    }
    kprintf("  eax %08x ebx %08x ecx %08x edx %08x\n", f->eax, f->ebx, f->ecx, f->edx);
    kprintf("  esi %08x edi %08x ebp %08x esp %08x\n", f->esi, f->edi, f->ebp,
            trap_from_user(f) ? f->user_esp : (uint32_t)&f->user_esp);
    kprintf("  ds %04x es %04x fs %04x gs %04x ss %04x\n", f->ds, f->es, f->fs, f->gs,
            trap_from_user(f) ? f->user_ss : (uint32_t)KERNEL_DS);
}

void
panic_trap(const struct trap_frame *f, const char *fmt, ...)
{
    cli();
    trap_report("trap", f);
    va_list ap;
    va_start(ap, fmt);
    vpanic(fmt, ap);
}

// Tests arm these to raise an exception in the kernel on purpose.
static uint32_t s_expected_vector = ~0u;
static unsigned s_expected_count;

void
trap_expect(uint32_t vector)
{
    s_expected_vector = vector;
    s_expected_count = 0;
}

unsigned
trap_expect_end(void)
{
    s_expected_vector = ~0u;
    return s_expected_count;
}

static void
kernel_exception(struct trap_frame *f)
{
    if (sysenter_catch_single_step(f))
        return;
    uint32_t fixup = extable_find(f->eip);
    if (f->vector == s_expected_vector) {
        s_expected_count++;
        trap_report("expected exception", f);
        if (fixup)
            f->eip = fixup;
        return;
    }
    // A fault on a recorded instruction (a user-memory copy) resumes at its
    // fixup - unless it is the caller's stack growing, which the copy gets
    // exactly as a ring-3 touch would: the page is mapped and the copy
    // retried.
    if (fixup && f->vector == VEC_PF) {
        if (uaccess_stack_fault(f->eip, read_cr2(), f->error))
            return;
        f->eip = fixup;
        return;
    }
    panic_trap(f, "unhandled %s in the kernel at eip %08x", trap_vector_name(f->vector), f->eip);
}

// An exception in ring 3 ends only the thread that raised it, unless it is
// a page fault the kernel resolves (the main stack growing down).
static void
user_exception(struct trap_frame *f)
{
    struct thread *t = g_current;
    if (f->vector == VEC_PF && process_grow_stack(t->proc, read_cr2(), f->error))
        return;
    kprintf("thread %u (%s) killed: %s at eip %08x, esp %08x", t->tid, t->name,
            trap_vector_name(f->vector), f->eip, f->user_esp);
    if (f->vector == VEC_PF)
        kprintf(", address %08x", read_cr2());
    kprintf("\n");
    t->killed = true;
    t->exit_code = 128 + (int)f->vector;
}

static void
trap_handle(struct trap_frame *f)
{
    if (f->vector >= VEC_IRQ0 && f->vector < VEC_IRQ0 + 16)
        irq_dispatch(f);
    else if (f->vector == VEC_LAPIC_TIMER)
        sched_local_tick(); // it sends the EOI first
    else if (f->vector == VEC_RESCHEDULE)
        sched_reschedule_ipi();
    else if (f->vector == VEC_XCALL)
        xcall_interrupt();
    else if (f->vector == VEC_SPURIOUS)
        ; // no EOI for a spurious one (SDM vol. 3A, 10.9)
    else if (f->vector < 32 && trap_from_user(f))
        user_exception(f);
    else if (f->vector < 32)
        kernel_exception(f);
    else
        panic_trap(f, "trap on unexpected vector %u from %s mode", f->vector,
                   trap_from_user(f) ? "user" : "kernel");
}

// The canary check of a kernel-mode entry.  An interrupt may arrive between
// the inline fast path's two stores (include/kfast.h), when top has moved
// and the canary is the interrupted instruction: that is no collision.
// (QEMU's TCG delivers interrupts only between translated blocks and never
// showed it; Bochs, which delivers them between any two instructions, did.)
static void
check_interrupted_arena(const struct trap_frame *f)
{
    if (likely(*(volatile uint32_t *)g_kfast.top == KFAST_CANARY))
        return;
    const uint32_t regs[8] = { f->eax, f->ecx, f->edx, f->ebx, 0, f->ebp, f->esi, f->edi };
    if (!kfast_canary_store_pending((const uint8_t *)f->eip, regs, g_kfast.top))
        kfast_check("a kernel-mode trap entry");
}

void
trap_dispatch(struct trap_frame *f)
{
    // Before any lock: an NMI is how a panicking CPU stops this one, and
    // that one may hold the big kernel lock.  Any other NMI is a trap the
    // kernel does not handle, like the rest.
    if (unlikely(f->vector == VEC_NMI) && smp_halt_requested())
        smp_halt_here();
    if (trap_from_user(f)) {
        if (f->vector == VEC_SYSCALL) {
            syscall_entry(f);
            return;
        }
        bkl_lock(); // exit_to_user drops it
        g_current->kernel_entries++;
#if TANDEM_DEBUG
        // Debug builds note the trap being served at the bottom of the arena,
        // where GDB's `tandem arena` shows it; the exit path releases it.
        struct trap_record *r = kfastmalloc(sizeof(*r));
        if (r)
            *r = (struct trap_record){ f->vector, f->error, f->eip };
#endif
        trap_handle(f);
        exit_to_user(f);
        return;
    }
    // An entry from kernel mode nests inside kernel code that may be using
    // the arena - even halfway through a kfastmalloc.  Marking here and
    // releasing to the mark on the way out gives the handler its own scope:
    // whatever it allocates is gone when it returns, and top, the canary and
    // the spill chain are back exactly as the interrupted code left them.
    // One CPU and interrupt gates (IF off in handlers) make this race-free:
    // nothing else runs between the mark, the handler and the release, and
    // the fast path's only read-modify-write is a single `incl`.  Its one
    // window - top moved, the canary's store not yet done - is recognised.
    // A local APIC's own interrupts (an AP's timer, the reschedule IPI, a
    // cross-CPU call, spurious ones) touch only this CPU's state and take
    // no lock and no arena: an idle CPU wakes, sees nothing for it and
    // halts again while another holds the lock (its idle loop schedules by
    // itself, with the lock), and a cross-CPU call's caller waits for the
    // answer holding the lock.  Only the timer and the reschedule IPI may
    // ask for a switch.
    if (f->vector >= VEC_LAPIC_TIMER) {
        trap_handle(f);
        if (f->vector <= VEC_RESCHEDULE && g_need_resched && (f->eflags & EFLAGS_IF) &&
            g_current != THIS_CPU(idle))
            schedule_with_lock();
        return;
    }
    // A fault on a recorded instruction with this CPU not holding the lock
    // is a probe inside a cross-CPU call (whose caller may wait holding
    // it): it resumes at its fixup, taking nothing.
    if (f->vector < 32 && !bkl_held()) {
        uint32_t fixup = extable_find(f->eip);
        if (fixup) {
            f->eip = fixup;
            return;
        }
    }
    // The interrupted code may hold the big kernel lock (a kernel thread)
    // or not (an idle thread halting, a test thread that dropped it): the
    // handler holds it, and gives back only what it took.  If it switches
    // away, whichever CPU switches back to this thread holds the lock then,
    // so the release below is still the right one.
    bool took_bkl = !bkl_held();
    if (took_bkl)
        bkl_lock();
    check_interrupted_arena(f);
    kfast_mark_t scope = kfast_mark();
    trap_handle(f);
    kfast_release(scope);
    if (took_bkl)
        bkl_unlock();
    // A kernel thread interrupted with interrupts on is at a safe point.
    if (g_need_resched && (f->eflags & EFLAGS_IF))
        schedule_with_lock();
}

void
entry_init(void)
{
    for (unsigned v = 0; v < 48; v++)
        idt_set_gate(v, g_trap_stubs[v], false);
    // #BP and #OF are raised by int3 and into, which user code may execute.
    idt_set_gate(VEC_BP, g_trap_stubs[VEC_BP], true);
    idt_set_gate(VEC_OF, g_trap_stubs[VEC_OF], true);
    idt_set_gate(VEC_SYSCALL, g_syscall_stub, true);
    idt_set_gate(VEC_LAPIC_TIMER, g_apic_stubs[0], false);
    idt_set_gate(VEC_RESCHEDULE, g_apic_stubs[1], false);
    idt_set_gate(VEC_XCALL, g_apic_stubs[2], false);
    idt_set_gate(VEC_SPURIOUS, g_apic_stubs[3], false);
    thread_set_user_start(uthread_start);
}
