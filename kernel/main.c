// kmain: the order in which Tandem comes up.
#include "bench.h"
#include "boot.h"
#include "cap.h"
#include "collision.h"
#include "config.h"
#include "console.h"
#include "cpu.h"
#include "gdt.h"
#include "irq.h"
#include "ipc.h"
#include "kmalloc.h"
#include "mm/kfast_arena.h"
#include "kprintf.h"
#include "pic.h"
#include "ktest.h"
#include "mm/frame.h"
#include "mm/paging.h"
#include "process.h"
#include "thread.h"
#include "lib/string.h"
#include "sysinfo.h"
#include "qemu.h"
#include "smp.h"
#include "smp/irq_routing.h"
#include "spinlock.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

// What each AP runs once the scheduler is ready: the per-CPU half of the
// boot CPU's setup, then threads.
NORETURN static void
ap_main(unsigned cpu)
{
    sysenter_init();
    sched_ap_start(cpu);
}

NORETURN static void
halt_forever(void)
{
    cli();
    for (;;)
        hlt();
}

// kfast=strict (or KFAST_STRICT=1) was asked for where it cannot work.
static bool s_strict_refused;

static void
boot_summary(void)
{
    uint64_t usable = 0;
    for (unsigned i = 0; i < g_boot.region_count; i++)
        if (g_boot.regions[i].type == 1)
            usable += g_boot.regions[i].length;
    kprintf("Tandem: a 32-bit x86 microkernel (kernel stack block %u bytes, %s build, "
            "kfastmalloc %s)\n",
            KSTACK_SIZE, TANDEM_DEBUG ? "debug" : "release",
            kfast_default_strict() ? "strict: no spills" : "spilling to the heap when full");
    if (s_strict_refused)
        kprintf("  kfast=strict refused: a %u-byte block has no page the arena can claim, so a "
                "strict arena would refuse every allocation (debug_write, IPC payloads); "
                "arenas spill as usual\n",
                KSTACK_SIZE);
    kprintf("  command line: %s\n", g_boot.cmdline[0] ? g_boot.cmdline : "(none)");
    if (g_boot.cmdline_cut)
        kprintf("  command line cut: it is %s%u bytes long, the first %u are kept (above) and "
                "are all user programs see; the boot words were read from the whole line\n",
                g_boot.cmdline_length >= BOOT_CMDLINE_SCAN ? "at least " : "",
                g_boot.cmdline_length, (unsigned)sizeof(g_boot.cmdline) - 1);
    kprintf("  cpu: %s family %u model %u stepping %u; system calls: int 0x80%s; umip %s; "
            "smep %s\n",
            g_cpu.vendor, g_cpu.family, g_cpu.model, g_cpu.stepping,
            g_cpu.sep ? " and sysenter" : " only (no sysenter)", g_cpu.umip ? "on" : "off",
            g_cpu.smep ? "on" : "off");
    smp_summary();
    char irqs[160];
    irq_routing_summary_line(irqs, sizeof(irqs));
    kprintf("  %s\n", irqs);
    kprintf("  memory: %llu KiB usable in %u regions (lower %u KiB, upper %u KiB)\n", usable >> 10,
            g_boot.region_count, g_boot.mem_lower_kb, g_boot.mem_upper_kb);
    for (unsigned i = 0; i < g_boot.region_count; i++) {
        const struct boot_region *r = &g_boot.regions[i];
        kprintf("    %016llx-%016llx %s\n", r->base, r->base + r->length - 1,
                r->type == 1 ? "usable" : "reserved");
    }
    struct frame_counts fc;
    frame_counts(&fc);
    kprintf("  frames: %u total, %u free, %u reserved, %u ignored above the direct map\n", fc.total,
            fc.free, fc.reserved, fc.ignored);
    struct heap_stats hs;
    kheap_stats(&hs);
    kprintf("  heap: %zu bytes in use (peak %zu) in %zu blocks, %llu allocations, %llu frees, "
            "%llu failures, heap size %zu\n",
            hs.in_use, hs.peak_in_use, hs.live_blocks, hs.allocs, hs.frees, hs.failures,
            hs.heap_size);
    kprintf("  modules: %u\n", g_boot.module_count);
    if (g_boot.modules_dropped)
        kprintf("  %u more modules were ignored: Tandem keeps at most %u (BOOT_MAX_MODULES)\n",
                g_boot.modules_dropped, BOOT_MAX_MODULES);
    for (unsigned i = 0; i < g_boot.module_count; i++)
        kprintf("    %08x-%08x %s\n", g_boot.modules[i].start, g_boot.modules[i].end,
                g_boot.modules[i].name);
}


// Counts the boot modules that are user-space test programs (test_*).
static unsigned
user_test_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < g_boot.module_count; i++)
        n += strncmp(g_boot.modules[i].name, "test_", 5) == 0;
    return n;
}

// Starts boot module index and waits for it; returns its exit code.
static int
run_module(unsigned index)
{
    if (index >= g_boot.module_count) {
        kprintf("No module %u: nothing to start.\n", index);
        return 0;
    }
    int err;
    struct spawn_request req = { index, NULL, cap_setup_first, NULL, NULL };
    struct process *p = process_spawn(&req, &err);
    if (!p) {
        kprintf("could not start module %u (%s): error %d\n", index, g_boot.modules[index].name,
                err);
        return err;
    }
    kobject_get(&p->obj); // ours, for the wait
    int code = process_wait(p, WAIT_FOREVER);
    process_put(p);
    return code;
}

// Bench mode: the kernel's micro-benchmarks, then the user-space ones
// (module `bench`; neither for `bench=cpus`, which has the throughput on
// several CPUs alone), then QEMU exits.
NORETURN static void
run_bench(void)
{
    bench_kernel_run();
    for (unsigned i = 0; i < g_boot.module_count && !g_boot.bench_cpus; i++)
        if (strcmp(g_boot.modules[i].name, "bench") == 0)
            run_module(i);
    kprintf("BENCH-END\n");
    qemu_exit(QEMU_EXIT_PASS);
}

// Why the user-space tests cannot run, or NULL if they can: they are boot
// modules (test_*) that init starts.
static const char *
user_tests_missing(void)
{
    if (g_boot.module_count == 0)
        return "no boot modules: boot the ISO, or pass the user programs with -initrd";
    if (user_test_count() == 0)
        return "no test_* boot modules";
    return NULL;
}

// Test mode: the kernel's suites, then the user-space tests through init,
// then QEMU exits with the verdict.  Without the test programs the plan
// still counts them, as one skipped result that says why.
NORETURN static void
run_tests(void)
{
#if TANDEM_BENCH_ONLY
    kprintf("KTAP version 1\n1..1\nnot ok 1 kernel # this kernel was built with "
            "KSTACK_BENCH_ONLY=1 (KSTACK_SIZE=%u) for `bench` only; the tests run with "
            "4096-, 8192- and 16384-byte blocks\n",
            KSTACK_SIZE);
    qemu_exit(QEMU_EXIT_FAIL);
#endif
    bool all = g_boot.test_suite[0] == '\0';
    unsigned user_tests = all ? user_test_count() : 0;
    const char *skip = all ? user_tests_missing() : NULL;
    bool ok = ktest_run(g_boot.test_suite, user_tests ? user_tests + 2 : skip ? 1 : 0);
    if (user_tests) {
        ktest_baseline_take();
        sysinfo_set_kernel_suites(g_ktest_top_level_results);
        int code = run_module(0);
        g_ktest_top_level_results += user_tests;
        ok &= code == 0;
        ok &= ktest_leak_suite("user_leaks");
        ok &= ktest_stack_suite("user_stacks");
    } else if (skip) {
        kprintf("ok %u user_tests # SKIP %s\n", ++g_ktest_top_level_results, skip);
    }
    qemu_exit(ok ? QEMU_EXIT_PASS : QEMU_EXIT_FAIL);
}

void
kmain(uint32_t magic, uint32_t multiboot_phys)
{
    console_init();
    cpu_identify();
    gdt_init();
    // The boot CPU is in the kernel from here on, as any CPU running a
    // thread is: it holds the big kernel lock (include/spinlock.h).
    bkl_lock();
    thread_init_boot();
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC) {
        kprintf("Tandem: not started by a Multiboot boot loader: eax is %08x, expected %08x.\n"
                "Boot the ISO with GRUB, or use qemu-system-i386 -kernel. Halting.\n",
                magic, MULTIBOOT_BOOTLOADER_MAGIC);
        halt_forever();
    }
    multiboot_read(multiboot_phys);
    // A 4 KiB block has no page to spare: every allocation would be refused
    // (a KFAST_STRICT=1 build refuses this size at compile time).
    if (g_boot.kfast_strict || KFAST_STRICT) {
        if (KSTACK_SIZE > PAGE_SIZE) {
            kfast_set_default_strict(true);
            g_current->arena.strict = true;
        } else {
            s_strict_refused = true;
        }
    }
    paging_init();
    frame_init();
    paging_init_heap();
    if (g_cpu.pge)
        paging_global_kernel();
    kheap_init();
    idt_init();
    entry_init();
    double_fault_init();
    // No FPU for anyone: x87 instructions raise #NM (and SSE #UD), so no
    // state needs saving at a switch.  AM lets ring 3 turn on alignment
    // checking with EFLAGS.AC.
    write_cr0(read_cr0() | CR0_EM | CR0_AM);
    cpu_protect();
    pic_init();
    timer_init();
    sysenter_init();
    // The other CPUs, started to wait for the scheduler (which releases
    // them to their idle threads): after the PIT, which times their start,
    // and before interrupts are on.
    smp_init();
    // The device interrupts to the I/O APIC and the tick to the boot CPU's
    // local APIC timer, where there are: before the scheduler, whose APs'
    // timers take the same calibration.
    irq_routing_init();
    sched_init();
    smp_release_aps(ap_main);
    sched_wait_for_aps();
    ipc_init();
    cap_init();
    boot_summary();
    sti();

    if (g_boot.test_mode)
        run_tests();
    if (g_boot.bench_mode)
        run_bench();
    kprintf("Tandem is up. Quit QEMU with Ctrl-A X.\n");
    int code = run_module(0);
    kprintf("init exited with code %d; the system is idle.\n", code);
    for (;;)
        thread_sleep(1000);
}
