// The one moment the arena's canary is legitimately missing: the inline
// fast path (include/kfast.h) moves top first and stores the canary at the
// new top with its next instruction.  An interrupt taken between the two
// finds a stale word at top.  Before calling that a collision, the
// kernel-mode entry asks whether the interrupted instruction is exactly
// that store; if it is, the canary is on its way, and the handler's own
// scope begins at the new top, so nothing it does can disturb it.
//
// Plain C over the instruction's bytes and the interrupted registers: the
// host tests feed it the encodings gcc emits.
#include "lib/string.h"
#include "kfast.h"
#include "mm/kfast_arena.h"

#define OP_MOV_IMM32 0xC7 // C7 /0 id: movl $imm32, r/m32
#define OP_MOV_REG   0x89 // 89 /r:    movl r32, r/m32
#define REG_ESP      4

// The address a ModRM (and SIB) memory operand names, or false for a
// register operand or one based on esp (the canary is never stored
// through esp).  *len: the bytes of ModRM, SIB and displacement.
static bool
memory_operand(const uint8_t *m, const uint32_t regs[8], uintptr_t *addr, unsigned *len)
{
    uint8_t mod = m[0] >> 6, rm = m[0] & 7;
    unsigned n = 1;
    uint32_t a;
    if (mod == 3)
        return false;
    if (rm == REG_ESP) { // a SIB byte follows
        uint8_t sib = m[n++], base = sib & 7, index = (sib >> 3) & 7;
        if (base == REG_ESP)
            return false;
        a = (mod == 0 && base == 5) ? 0 : regs[base];
        if (index != REG_ESP)
            a += regs[index] << (sib >> 6);
        if (mod == 0 && base == 5) {
            uint32_t d;
            memcpy(&d, m + n, 4);
            a += d;
            n += 4;
        }
    } else if (mod == 0 && rm == 5) { // an absolute address
        uint32_t d;
        memcpy(&d, m + n, 4);
        a = d;
        n += 4;
    } else {
        a = regs[rm];
    }
    if (mod == 1) {
        a += (uint32_t)(int32_t)(int8_t)m[n];
        n += 1;
    } else if (mod == 2) {
        uint32_t d;
        memcpy(&d, m + n, 4);
        a += d;
        n += 4;
    }
    *addr = a;
    *len = n;
    return true;
}

bool
kfast_canary_store_pending(const uint8_t *code, const uint32_t regs[8], uintptr_t top)
{
    uintptr_t addr;
    unsigned len;
    uint32_t value;
    if (code[0] == OP_MOV_IMM32 && ((code[1] >> 3) & 7) == 0) {
        if (!memory_operand(code + 1, regs, &addr, &len))
            return false;
        memcpy(&value, code + 1 + len, 4);
    } else if (code[0] == OP_MOV_REG) {
        if (!memory_operand(code + 1, regs, &addr, &len))
            return false;
        value = regs[(code[1] >> 3) & 7];
    } else {
        return false;
    }
    return value == KFAST_CANARY && (uint32_t)addr == (uint32_t)top;
}
