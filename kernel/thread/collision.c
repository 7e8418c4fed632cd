// Detecting and reporting the stack running into the arena.
//
// Two layers.  The guard (include/mm/block.h: claimed arena pages, and the
// gap under each block, are missing from the stack view) stops the stack at
// the instruction that would enter them; the double fault that follows
// reports it.  The canary word at the arena top is checked at every context
// switch, every exit to user mode and every kernel-mode trap entry; it
// covers what the guard cannot (allocations past
// the claimed pages, other stray writes).  Either way the stack has reached
// live arena objects, so the default is a panic; a test may arm a recovery
// point to survive one on purpose.
#include "collision.h"
#include "irq.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mm/kfast_arena.h"
#include "panic.h"
#include "thread.h"
#include "trap.h"
#include "x86.h"

struct collision_report g_last_collision;
static struct thread *s_recovery_thread;
static jmp_buf *s_recovery;

void
collision_recovery_arm(jmp_buf *env)
{
    s_recovery_thread = env ? g_current : NULL;
    s_recovery = env;
}

// The arena's canary hook: a broken canary found when memory is given back.
static void
kfast_canary_report(void)
{
    kfast_collision(g_current, read_esp(), "a release");
}

void
collision_init(void)
{
    kfast_set_canary_hook(kfast_canary_report);
}

// Where GDB's `tandem catch collision` stops: every detected collision,
// by either layer, is reported here.  Returns the stack to resume on if a
// recovery point is armed for t (0: none).
NOINLINE uint32_t
collision_report(struct thread *t, uint32_t esp, uint32_t eip, const char *where, bool by_trap)
{
    struct collision_report *r = &g_last_collision;
    uintptr_t top = kfast_arena_top(&t->arena);
    r->tid = t->tid;
    strlcpy(r->name, t->name, sizeof(r->name));
    r->block = (uint32_t)t->block;
    r->block_size = KSTACK_SIZE;
    r->arena_top = top;
    r->esp = esp;
    r->eip = eip;
    r->low_water = kfast_low_water(&t->arena);
    memcpy(r->canary, (const void *)top, 4);
    r->detected_at = where;
    r->by_trap = by_trap;
    r->irqs_ended = 0;
    t->arena.collisions++;
    kprintf(
        "kfast: stack/arena COLLISION in thread %u (%s), caught by %s:\n"
        "  block %08x-%08x (%u bytes), arena top %08x (%u bytes in use), esp %08x, eip %08x\n"
        "  stack low-water %u bytes, canary %02x %02x %02x %02x (expected %02x %02x %02x %02x)\n",
        r->tid, r->name, where, r->block, r->block + KSTACK_SIZE, KSTACK_SIZE, top,
        (uint32_t)(top - t->arena.base), esp, eip, r->low_water, r->canary[0], r->canary[1],
        r->canary[2], r->canary[3], KFAST_CANARY & 0xFF, (KFAST_CANARY >> 8) & 0xFF,
        (KFAST_CANARY >> 16) & 0xFF, KFAST_CANARY >> 24);
    // Put the canary back so that the next check does not report it again.
    *(volatile uint32_t *)top = KFAST_CANARY;
    if (s_recovery && s_recovery_thread == t)
        return (uint32_t)(*s_recovery)[4] - 256; // below the recovery point's frame
    return 0;
}

void
collision_resume(void)
{
    jmp_buf *env = s_recovery;
    s_recovery = NULL;
    // The collision may have been caught inside an interrupt (its entry's
    // canary check, or its frame pushed into the guard) before its EOI.
    g_last_collision.irqs_ended = irq_end_abandoned();
    longjmp(*env, 1);
}

void
kfast_collision(struct thread *t, uint32_t esp, const char *where)
{
    if (collision_report(t, esp, (uint32_t)__builtin_return_address(0), where, false) &&
        t == g_current)
        collision_resume();
    panic("stack/arena collision in thread %u (%s): arena top %08x, esp %08x", t->tid, t->name,
          (uint32_t)kfast_arena_top(&t->arena), esp);
}
