// What the shell shows of the system: threads (ps, top), memory (mem), a
// thread's scratch arena (arena) and the kernel log (dmesg).
#include "device.h"
#include "lib/format.h"
#include "lib/string.h"
#include "shell.h"

#define BAR_CELLS      32
#define TOP_POLL_TICKS (TICK_HZ / 10) // how often top looks for a key

static struct thread_info s_threads[THREADS_MAX];
static struct thread_info s_before[THREADS_MAX]; // top's previous sample

// Fills s_threads; returns how many it holds (0 if the call failed).
static unsigned
sample_threads(void)
{
    int n = sys_thread_list(s_threads, THREADS_MAX);
    if (n < 0) {
        con_printf("thread_list failed: %d\n", n);
        return 0;
    }
    return n < (int)THREADS_MAX ? (unsigned)n : THREADS_MAX;
}

static const char *
state_name(unsigned state)
{
    switch (state) {
    case THREAD_STATE_RUNNABLE: return "run";
    case THREAD_STATE_BLOCKED: return "block";
    default: return "dead";
    }
}

// "PID NAME" of a thread's process, or "- kernel".
static void
process_label(const struct thread_info *t, char out[20])
{
    if (t->pid == 0)
        strlcpy(out, "  - kernel", 20);
    else
        ksnprintf(out, 20, "%3u %s", t->pid, t->process);
}

void
cmd_ps(int argc, char **argv)
{
    (void)argc, (void)argv;
    unsigned n = sample_threads();
    con_printf("%4s %-15s %-5s %-16s %6s %6s %6s %5s %7s\n", "TID", "NAME", "STATE", "PID PROCESS",
               "KPEAK", "KLOW", "ARENA", "SPILL", "RESETS");
    for (unsigned i = 0; i < n; i++) {
        const struct thread_info *t = &s_threads[i];
        char proc[20];
        process_label(t, proc);
        con_printf("%4u %-15.15s %-5s %-16.16s %6u %6u %6u %5u %7u\n", t->tid, t->name,
                   state_name(t->state), proc, t->stack_peak, t->stack_low_water, t->arena_peak,
                   t->spills, t->resets);
    }
    con_puts("kernel stack: KPEAK bytes used at most, KLOW never touched; ARENA: its peak\n");
}

void
cmd_mem(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct sysinfo info;
    int r = sys_sysinfo(&info);
    if (r < 0) {
        con_printf("mem: sysinfo failed: %d\n", r);
        return;
    }
    con_printf("frames free  %u (%u KiB)\n", info.frames_free, info.frames_free * 4);
    con_printf("heap         %u bytes in %u blocks, %u frames\n", info.heap_bytes_in_use,
               info.heap_live_blocks, info.heap_frames);
    con_printf("blocks       %u threads x %u bytes = %u KiB of kernel-stack blocks\n", info.threads,
               KSTACK_SIZE, info.threads * (KSTACK_SIZE / 1024));
    con_printf("objects      %u processes, %u handles, %u kernel objects\n", info.processes,
               info.handles, info.objects);
}

static void
show_own_arena(void)
{
    struct kfast_stats ks;
    int r = sys_kfast_stats(&ks);
    if (r < 0) {
        con_printf("arena: kfast_stats failed: %d\n", r);
        return;
    }
    con_printf("arena of this thread (%d, shell): block %u B, in use %u B, peak %u B\n",
               sys_gettid(), ks.block_size, ks.in_use, ks.peak);
    con_printf("  %u allocations, %u spills, %u refusals, %u resets (%u emptied)\n", ks.allocations,
               ks.spills, ks.refusals, ks.resets, ks.emptied);
    con_printf("  stack low water %u B, %u collisions\n", ks.stack_low_water, ks.collisions);
}

void
cmd_arena(int argc, char **argv)
{
    unsigned tid;
    if (argc == 1) {
        show_own_arena();
        return;
    }
    if (argc != 2 || !parse_unsigned(argv[1], &tid)) {
        con_puts("usage: arena [TID]\n");
        return;
    }
    unsigned n = sample_threads();
    for (unsigned i = 0; i < n; i++) {
        const struct thread_info *t = &s_threads[i];
        if (t->tid != tid)
            continue;
        con_printf("arena of thread %u (%s, %s): block %u B, in use %u B, peak %u B\n", t->tid,
                   t->name, t->pid ? t->process : "kernel", t->block_size, t->arena_in_use,
                   t->arena_peak);
        con_printf("  %u spills, %u resets, %u collisions; %u kernel entries\n", t->spills,
                   t->resets, t->collisions, t->kernel_entries);
        con_printf("  stack now %u B, peak %u B, low water %u B\n", t->stack_in_use, t->stack_peak,
                   t->stack_low_water);
        return;
    }
    con_printf("arena: no thread %u\n", tid);
}

void
cmd_dmesg(int argc, char **argv)
{
    (void)argc, (void)argv;
    static char text[IPC_BUF_MAX];
    struct cap_info info;
    if (sys_cap_info(SH_LOG, &info) != 0) {
        con_puts("dmesg: no log handle\n");
        return;
    }
    // Up to the head as it is now: what is logged meanwhile waits for next time.
    struct log_read cursor = { 0, 0, 0 };
    unsigned end = info.base;
    while (cursor.pos != end) {
        unsigned want = end - cursor.pos < sizeof text ? end - cursor.pos : sizeof text;
        int n = sys_log_read(SH_LOG, &cursor, text, want);
        if (n <= 0)
            break;
        con_write(text, (unsigned)n);
    }
    if (cursor.lost)
        con_printf("[dmesg: the %u oldest bytes were overwritten]\n", cursor.lost);
}

// ---- top ------------------------------------------------------------------------

// The timer ticks a thread had in the previous sample (0 if it is new).
static unsigned
ticks_before(const struct thread_info *t, unsigned n_before)
{
    for (unsigned i = 0; i < n_before; i++)
        if (s_before[i].tid == t->tid)
            return s_before[i].ticks <= t->ticks ? s_before[i].ticks : t->ticks;
    return 0;
}

static unsigned
cells(unsigned bytes, unsigned block)
{
    return (bytes * BAR_CELLS + block - 1) / block;
}

// The block drawn as out[BAR_CELLS]: the arena from the bottom (A in use,
// a its peak), the stack from the top (S in use, s its peak), '.' between.
static void
draw_block(const struct thread_info *t, char out[BAR_CELLS + 1])
{
    unsigned block = t->block_size ? t->block_size : KSTACK_SIZE;
    unsigned arena = cells(t->arena_peak, block), arena_now = cells(t->arena_in_use, block);
    unsigned stack = cells(t->stack_peak, block), stack_now = cells(t->stack_in_use, block);
    memset(out, '.', BAR_CELLS);
    out[BAR_CELLS] = '\0';
    for (unsigned i = 0; i < arena && i < BAR_CELLS; i++)
        out[i] = i < arena_now ? 'A' : 'a';
    for (unsigned i = 0; i < stack && i < BAR_CELLS; i++) {
        char *c = &out[BAR_CELLS - 1 - i];
        *c = *c != '.' ? '#' : i < stack_now ? 'S' : 's'; // '#': the two met
    }
}

// One screen: every thread with its share of the CPU since the last one.
static void
draw_top(unsigned n, unsigned n_before, unsigned elapsed)
{
    unsigned now = sys_time();
    con_clear();
    con_printf("top: up %u.%02u s, %u threads; any key ends it\n", now / TICK_HZ, now % TICK_HZ, n);
    con_puts("block: arena A (now) a (peak) from the bottom, stack S s from the top\n");
    con_printf("%4s %-15s %-16s %4s  %s\n", "TID", "NAME", "PID PROCESS", "CPU",
               "KERNEL-STACK BLOCK");
    for (unsigned i = 0; i < n; i++) {
        const struct thread_info *t = &s_threads[i];
        char proc[20], bar[BAR_CELLS + 1];
        process_label(t, proc);
        draw_block(t, bar);
        unsigned ran = t->ticks - ticks_before(t, n_before);
        unsigned share = elapsed ? ran * 100 / elapsed : 0;
        con_printf("%4u %-15.15s %-16.16s %3u%%  [%s]\n", t->tid, t->name, proc,
                   share > 100 ? 100 : share, bar);
    }
}

// Waits about a second; returns true if a key was pressed meanwhile.
static bool
key_within_a_second(void)
{
    for (unsigned waited = 0; waited < TICK_HZ; waited += TOP_POLL_TICKS) {
        if (con_key_pressed())
            return true;
        sys_sleep(TOP_POLL_TICKS);
    }
    return con_key_pressed();
}

void
cmd_top(int argc, char **argv)
{
    (void)argc, (void)argv;
    con_key_pressed(); // forget keys from before
    // The first screen shows the shares since boot.
    unsigned n_before = 0, before = 0;
    for (;;) {
        unsigned n = sample_threads();
        unsigned now = sys_time();
        draw_top(n, n_before, now - before);
        memcpy(s_before, s_threads, n * sizeof(s_threads[0]));
        n_before = n;
        before = now;
        if (n == 0 || key_within_a_second())
            break;
    }
}
