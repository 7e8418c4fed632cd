// Console output and figures: debug_write, kfast_stats, sysinfo.
#include "boot.h"
#include "cap.h"
#include "console.h"
#include "cpu.h"
#include "ipc.h"
#include "kfast.h"
#include "kmalloc.h"
#include "mm/frame.h"
#include "ostream.h"
#include "syscall.h"
#include "sysinfo.h"
#include "thread.h"
#include "timer.h"
#include "trap.h"
#include "uaccess.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"

static unsigned s_kernel_suites;

void
sysinfo_set_kernel_suites(unsigned n)
{
    s_kernel_suites = n;
}

// Copies the user's bytes into the arena, makes control characters other
// than newline and tab visible as '?', and writes them through a console
// stream made by the factory - all of it transient, gone at the exit path.
int32_t
sys_debug_write(struct trap_frame *f)
{
    uintptr_t ubuf = f->ebx;
    uint32_t len = f->ecx;
    if (len > DEBUG_WRITE_MAX)
        return -EINVAL;
    if (len == 0)
        return 0;
    char *text = kfastmalloc(len);
    if (!text)
        return -ENOMEM;
    if (copy_from_user(text, ubuf, len) != 0)
        return -EFAULT;
    for (uint32_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7F)
            text[i] = '?';
    }
    struct ostream *out = ostream_console();
    if (out)
        ostream_write(out, text, len);
    else
        console_write(text, len);
    return (int32_t)len;
}

int32_t
sys_kfast_stats(struct trap_frame *f)
{
    struct kfast_stats st;
    kfast_stats(g_current, &st);
    return copy_to_user(f->ebx, &st, sizeof(st));
}

int32_t
sys_sysinfo(struct trap_frame *f)
{
    struct sysinfo si = { 0 };
    struct frame_counts fc;
    struct heap_stats hs;
    frame_counts(&fc);
    kheap_stats(&hs);
    si.test_mode = g_boot.test_mode;
    si.module_count = g_boot.module_count;
    si.ticks = timer_ticks();
    si.frames_free = fc.free;
    si.heap_live_blocks = hs.live_blocks;
    si.heap_bytes_in_use = hs.in_use;
    si.threads = thread_count();
    si.processes = process_count();
    si.kernel_suites = s_kernel_suites;
    si.heap_frames = hs.heap_size / PAGE_SIZE;
    si.umip = g_cpu.umip;
    si.syscall_gates = syscall_gates();
    si.handles = cap_handles_open();
    si.objects = kobject_count();
    si.ipc_fast = ipc_fast_count();
    si.cpu = this_cpu_index();
    return copy_to_user(f->ebx, &si, sizeof(si));
}
