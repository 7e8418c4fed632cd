// I/O ports for user-space drivers: a process may use exactly the ports of
// the I/O port handles with CAP_USE it holds.  The TSS's I/O permission
// bitmap says so to the CPU; each process keeps its own copy of the map
// (struct process: iomap), which the scheduler loads when a thread of a
// process with ports runs (kernel/thread/sched.c) - processes without
// ports pay one compare.  The map is rebuilt whenever such a handle opens
// or closes, so a revoked port is refused from the next instruction on.
#include "cap.h"
#include "gdt.h"
#include "lib/string.h"
#include "thread.h"
#include "uapi/syscall.h"

void
cap_ioports_changed(struct process *p)
{
    memset(p->iomap, 0xFF, sizeof(p->iomap));
    p->has_ports = false;
    for (uint32_t i = 0; p->caps && i < CAPS_PER_PROCESS; i++) {
        const struct cap *c = &p->caps->slots[i];
        if (!c->obj || c->obj->type != CAP_TYPE_IOPORT || !(c->rights & CAP_USE))
            continue;
        uint32_t base, size;
        boot_object_range(c->obj, &base, &size);
        for (uint32_t port = base; port < base + size; port++)
            p->iomap[port / 8] &= (uint8_t) ~(1u << (port % 8));
        p->has_ports = true;
    }
    tss_io_forget();
    if (g_current->proc == p)
        tss_io_load(p->has_ports ? p->iomap : NULL);
    sched_kick_process(p); // its threads on other CPUs, at once
}
