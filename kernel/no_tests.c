// What the words `test` and `bench` find in a kernel built without tests
// and benchmarks (build/tandem.elf, the kernel `make run` boots).  The
// Makefile links this file instead of the suites (tests/kernel/*.c) and
// the benchmarks (kernel/bench.c), which only build/tandem-test.elf has,
// as Linux links KUnit's suites only when its configuration asks for them.
// Either word ends the boot with the fail status and one line saying why:
// a kernel without tests must never pass a test run.
#include "kprintf.h"
#include "ktest.h"
#include "qemu.h"

unsigned g_ktest_top_level_results;

bool
ktest_run(const char *suite, unsigned extra)
{
    (void)extra;
    kprintf("KTAP version 1\n1..1\n"
            "not ok 1 %s # this kernel was built without tests: boot build/tandem-test.elf "
            "(the test ISO's kernel)\n",
            suite[0] ? suite : "kernel_tests");
    qemu_exit(QEMU_EXIT_FAIL);
}

void
ktest_baseline_take(void)
{
}

bool
ktest_leak_suite(const char *name)
{
    (void)name;
    return false;
}

bool
ktest_stack_suite(const char *name)
{
    (void)name;
    return false;
}

void bench_kernel_run(void);

void
bench_kernel_run(void)
{
    kprintf("BENCH-ERROR this kernel was built without benchmarks: boot build/tandem-test.elf\n");
    qemu_exit(QEMU_EXIT_FAIL);
}
