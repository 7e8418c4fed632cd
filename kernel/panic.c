// panic: report what broke, with registers and a backtrace, then stop.
#include <stdarg.h>
#include "boot.h"
#include "config.h"
#include "console.h"
#include "kprintf.h"
#include "lib/format.h"
#include "ksyms.h"
#include "panic.h"
#include "qemu.h"
#include "irq.h"
#include "x86.h"

// The CPU reporting a panic, as its index + 1 (0: none): the first to
// panic reports, a second one halts silently (the first stops it).
static uint32_t s_panic_owner;
static jmp_buf *s_recovery;
static const struct panic_smp *s_smp;
char g_panic_message[160];

void
panic_recovery_arm(jmp_buf *env)
{
    s_recovery = env;
}

// Walks saved frame pointers (the kernel is built with -fno-omit-frame-pointer).
static void
backtrace(uint32_t ebp)
{
    kprintf("  backtrace:\n");
    for (int depth = 0; depth < 16 && ebp >= KERNEL_VMA && (ebp & 3) == 0; depth++) {
        uint32_t *frame = (uint32_t *)ebp;
        uint32_t ret = frame[1], off = 0;
        const char *sym = ksym_lookup(ret, &off);
        kprintf("    %08x <%s+%#x>\n", ret, sym ? sym : "?", off);
        if (frame[0] <= ebp) // frames only go up the stack
            break;
        ebp = frame[0];
    }
}

static void
dump_registers(void)
{
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp, esp;
    __asm__ volatile("" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx), "=S"(esi), "=D"(edi));
    __asm__ volatile("mov %%ebp, %0; mov %%esp, %1" : "=r"(ebp), "=r"(esp));
    kprintf("  eax %08x ebx %08x ecx %08x edx %08x\n", eax, ebx, ecx, edx);
    kprintf("  esi %08x edi %08x ebp %08x esp %08x\n", esi, edi, ebp, esp);
    kprintf("  cr0 %08x cr2 %08x cr3 %08x cr4 %08x eflags %08x\n", read_cr0(), read_cr2(),
            read_cr3(), read_cr4(), read_eflags());
    backtrace(ebp);
}

NORETURN static void
halt_forever(void)
{
    if (g_boot.test_mode) {
        kprintf("# the kernel stopped: the self-tests end here\n");
        qemu_exit(QEMU_EXIT_FAIL);
    }
    cli();
    for (;;)
        hlt();
}

void
panic_set_smp(const struct panic_smp *smp)
{
    s_smp = smp;
}

// A test expected this panic: hand control back to it.
static void
panic_recover(void)
{
    if (s_recovery) {
        jmp_buf *env = s_recovery;
        s_recovery = NULL;
        __atomic_store_n(&s_panic_owner, 0, __ATOMIC_RELEASE);
        irq_end_abandoned(); // a panic inside an interrupt, before its EOI
        longjmp(*env, 1);
    }
}

static void
panic_begin(const char *fmt, va_list ap)
{
    cli();
    if (s_recovery) {
        va_list copy;
        va_copy(copy, ap);
        kvsnprintf(g_panic_message, sizeof(g_panic_message), fmt, copy);
        va_end(copy);
    }
    uint32_t me = s_smp ? s_smp->cpu() + 1 : 1, owner = 0;
    if (!__atomic_compare_exchange_n(&s_panic_owner, &owner, me, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (owner == me) { // a panic while reporting one: stop at once
            kprintf("PANIC (nested)\n");
            halt_forever();
        }
        for (;;) // another CPU reports its panic, and stops this one
            hlt();
    }
    // The others stop before the report, so that none writes into it; a
    // panic a test expects leaves them running.
    unsigned asked = 0, halted = s_smp && !s_recovery ? s_smp->halt_others(&asked) : 0;
    console_release_devices(false); // a panic is told on the devices, whoever had them
    kprintf("\nPANIC: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    if (s_smp && !s_recovery)
        kprintf("  on cpu %u; %u of the %u other CPUs stopped\n", me - 1, halted, asked);
}

void
vpanic(const char *fmt, va_list ap)
{
    panic_begin(fmt, ap);
    dump_registers();
    panic_recover();
    halt_forever();
}

void
panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vpanic(fmt, ap);
}

void
boot_stop(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nTandem cannot run: ");
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\nHalting.\n");
    halt_forever();
}
