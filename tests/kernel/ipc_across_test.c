// IPC across CPUs: a caller and a server (user/ipc_echo.c, once in its
// caller mode and once as the echo, through the real system calls) pinned
// to two different CPUs, on one endpoint.  Every round trip must come back
// right, the caller must find itself on its CPU and the echo on its own
// every time (the echo says where it answered), and each wake-up of the
// partner blocked on the other CPU must come as a reschedule IPI there:
// each round is two calls, so the count of IPIs each of the two CPUs took
// moves by at least two a round.
#include "boot.h"
#include "cap.h"
#include "kprintf.h"
#include "ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "percpu.h"
#include "process.h"
#include "smp.h"
#include "thread.h"
#include "timer.h"
#include "uapi/errno.h"
#include "uapi/syscall.h"
#include "x86.h"

#define ROUNDS     50 // user/ipc_echo.h's ECHO_ROUNDS
#define CALLS      (2 * ROUNDS)
#define WAIT_TICKS 6000 // 60 s, against a hang: a lost wake-up still ends at a tick

struct endpoint_setup {
    struct endpoint *ep;
    uint32_t rights;
};

// A process's handles: the endpoint alone, as handle 1.
static int
give_endpoint(struct process *p, void *arg)
{
    const struct endpoint_setup *s = arg;
    int err = cap_table_create(p);
    if (err)
        return err;
    int32_t h = cap_install(p, &s->ep->obj, s->rights, 0, NULL);
    return h < 0 ? h : 0;
}

// Starts the module with the endpoint and args, its thread pinned to cpu
// (interrupts are off: nothing runs it before that).
static struct process *
start_pinned(unsigned module, struct endpoint_setup *setup, const char *args, unsigned cpu)
{
    struct spawn_request req = { module, NULL, give_endpoint, setup, args };
    int err;
    struct process *p = process_spawn(&req, &err);
    if (!p) {
        kprintf("  # could not start ipc_echo '%s': %d\n", args ? args : "", err);
        return NULL;
    }
    kobject_get(&p->obj); // ours, for the wait
    thread_pin(thread_find(p->pid), cpu);
    return p;
}

static int
wait_and_put(struct process *p)
{
    int code = process_wait(p, WAIT_TICKS);
    if (code == -ETIMEDOUT) {
        process_kill(p);
        process_wait(p, WAIT_FOREVER);
    }
    process_put(p);
    return code;
}

KTEST(smp, ipc_call_across_cpus_wakes_the_partner_by_ipi)
{
    if (g_smp.online < 2) {
        kprintf("  # one CPU: no other CPU to call across\n");
        return;
    }
    unsigned module = g_boot.module_count;
    for (unsigned i = 0; i < g_boot.module_count; i++)
        if (strcmp(g_boot.modules[i].name, "ipc_echo") == 0)
            module = i;
    if (module == g_boot.module_count) {
        kprintf("  # no ipc_echo module (booted without the user programs)\n");
        return;
    }
    unsigned caller_cpu = smp_online_cpu(0), server_cpu = smp_online_cpu(g_smp.online - 1);
    KASSERT_TRUE(server_cpu < 10); // the programs' argument takes one digit
    char call_args[16];
    ksnprintf(call_args, sizeof call_args, "call %u %u", caller_cpu, server_cpu);
    struct endpoint *ep = endpoint_create();
    KASSERT_NOT_NULL(ep);
    struct endpoint_setup server_setup = { ep, CAP_RECV }, caller_setup = { ep, CAP_SEND };
    struct percpu *server_area = &g_percpu[server_cpu], *caller_area = &g_percpu[caller_cpu];
    uint32_t by_server = server_area->resched_taken, by_caller = caller_area->resched_taken;

    uint32_t start = timer_ticks(), flags = irq_save();
    struct process *server = start_pinned(module, &server_setup, NULL, server_cpu);
    struct process *caller =
        server ? start_pinned(module, &caller_setup, call_args, caller_cpu) : NULL;
    if (!server)
        endpoint_destroy(ep); // no handle took it
    irq_restore(flags);
    KASSERT_NOT_NULL(server);
    int caller_code = caller ? wait_and_put(caller) : -1;
    if (!caller)
        process_kill(server); // nobody will tell it to quit
    int server_code = wait_and_put(server);
    uint32_t ticks = timer_ticks() - start;
    KEXPECT_EQ(caller_code, 0);
    KEXPECT_EQ(server_code, 0);

    by_server = server_area->resched_taken - by_server;
    by_caller = caller_area->resched_taken - by_caller;
    kprintf("  # %u round trips in %u ticks, caller on cpu %u, server on cpu %u; reschedule IPIs "
            "taken by the server's cpu %u, by the caller's %u\n",
            ROUNDS, ticks, caller_cpu, server_cpu, by_server, by_caller);
    // Each call wakes the server, each answer the caller, on the other CPU.
    KEXPECT_UGE(by_server, CALLS);
    KEXPECT_UGE(by_caller, CALLS);
}
