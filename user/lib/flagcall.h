/* One system call entered with chosen EFLAGS bits set, and everything the
 * CPU hands back recorded (user/lib/flagcall.asm): the attack tests'
 * (user/test_attack_*.c) probe of the kernel's entry and exit paths.
 *
 * flagcall() loads eax..ebp from the struct, ORs set_eflags into EFLAGS with
 * popf as the very instruction before `int 0x80` or `sysenter` (so DF, TF,
 * NT or AC are in force exactly at the entry), and records, as the first
 * thing after the return, EFLAGS (pushf), then every general register and
 * every segment selector.  Only then does it clear DF, TF, NT and AC again,
 * so the C code that follows runs with the flags the ABI promises it.
 * Returns the eax the kernel returned. */
#ifndef TANDEM_USER_FLAGCALL_H
#define TANDEM_USER_FLAGCALL_H

#include <stdint.h>
#include "lib/string.h"
#include "tandem.h"

#define EFLAGS_CF   (1u << 0)
#define EFLAGS_RES1 (1u << 1) // always 1
#define EFLAGS_TF   (1u << 8)
#define EFLAGS_IF   (1u << 9)
#define EFLAGS_DF   (1u << 10)
#define EFLAGS_IOPL (3u << 12)
#define EFLAGS_NT   (1u << 14)
#define EFLAGS_RF   (1u << 16)
#define EFLAGS_VM   (1u << 17)
#define EFLAGS_AC   (1u << 18)

#define USER_CS_SEL   0x1Bu // include/gdt.h: ring-3 code, RPL 3
#define USER_DS_SEL   0x23u // ring-3 data, RPL 3
#define KERNEL_CS_SEL 0x08u
#define KERNEL_DS_SEL 0x10u

enum flagcall_gate {
    FLAGCALL_INT80 = 0,
    FLAGCALL_SYSENTER = 1,
};

// Offsets known to user/lib/flagcall.asm.
struct flagcall {
    uint32_t eax, ebx, ecx, edx, esi, edi, ebp; //  0: in (eax: number)
    uint32_t set_eflags;                        // 28: ORed in before the entry
    uint32_t gate;                              // 32: enum flagcall_gate
    uint32_t out_eax, out_ebx, out_ecx, out_edx, out_esi, out_edi, out_ebp; // 36: out
    uint32_t out_eflags;             // 64: pushf right after the return
    uint32_t esp_int80;              // 68: esp at the int 0x80
    uint32_t esp_sysenter;           // 72: esp sysexit must restore (ebp + 4)
    uint16_t cs, ss, ds, es, fs, gs; // 76: selectors after the return
    uint32_t in_eflags;              // 88: what was loaded for the entry
};

long flagcall(struct flagcall *fc);

// Fills a call: number n, arguments a1..a5, ebp a known value.
static inline void
fc_init(struct flagcall *fc, int gate, uint32_t set, uint32_t n, uint32_t a1, uint32_t a2,
        uint32_t a3, uint32_t a4, uint32_t a5)
{
    memset(fc, 0, sizeof *fc);
    fc->eax = n;
    fc->ebx = a1;
    fc->ecx = a2;
    fc->edx = a3;
    fc->esi = a4;
    fc->edi = a5;
    fc->ebp = 0x66600666u;
    fc->set_eflags = set;
    fc->gate = (uint32_t)gate;
}

// The last gate to try: sysenter where the CPU offers it (include/uapi/syscall.h).
static inline int
gate_last(void)
{
    return syscall_mode_available(SYSCALL_SYSENTER) ? FLAGCALL_SYSENTER : FLAGCALL_INT80;
}

// Where the two entries return to: after `int 0x80`, and the [ebp] of the
// sysenter convention.  For tests that need to know a frame's saved eip.
extern const char flagcall_int80_return[];
extern const char flagcall_sysenter_return[];

// A place a forged trap frame may send the thread (user/test_attack_frame.c):
// it records cs in flagcall_landed_cs and, if that is not ring 3, irets
// back to ring 3 at flagcall_int80_return with esp = flagcall_landing_esp,
// EFLAGS = flagcall_landing_eflags.  In ring 3 it just jumps there.
extern const char flagcall_landing[];
extern volatile uint32_t flagcall_landed_cs;
extern volatile uint32_t flagcall_landing_esp;
extern volatile uint32_t flagcall_landing_eflags;

// The current EFLAGS and selectors.
static inline uint32_t
flags_now(void)
{
    uint32_t f;
    __asm__ volatile("pushfl; popl %0" : "=r"(f) : : "memory");
    return f;
}

static inline uint16_t
cs_now(void)
{
    uint16_t v;
    __asm__ volatile("mov %%cs, %0" : "=r"(v));
    return v;
}

#endif
