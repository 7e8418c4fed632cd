// kfast_canary_store_pending (kernel/mm/kfast_pending.c): the fast path's
// canary store is recognised in every form gcc emits for it, and nothing
// else is.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "kfast.h"
#include "mm/kfast_arena.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
#define TOP 0xF4016158u

static bool
pending(const uint8_t *code, uint32_t regs[8])
{
    return kfast_canary_store_pending(code, regs, TOP);
}

// The encodings found in a release kernel: movl $0xc011de5a, disp(reg).
static void
test_immediate_stores(void **state)
{
    (void)state;
    uint32_t r[8] = { 0 };
    const uint8_t eax0[] = { 0xC7, 0x00, 0x5A, 0xDE, 0x11, 0xC0 };
    const uint8_t eax8[] = { 0xC7, 0x40, 0x08, 0x5A, 0xDE, 0x11, 0xC0 };
    const uint8_t edi28[] = { 0xC7, 0x47, 0x28, 0x5A, 0xDE, 0x11, 0xC0 };
    const uint8_t ecx_d32[] = { 0xC7, 0x81, 0x00, 0x01, 0x00, 0x00, 0x5A, 0xDE, 0x11, 0xC0 };
    r[EAX] = TOP;
    assert_true(pending(eax0, r));
    r[EAX] = TOP - 8;
    assert_true(pending(eax8, r));
    assert_false(pending(eax0, r)); // another address
    r[EDI] = TOP - 0x28;
    assert_true(pending(edi28, r));
    r[ECX] = TOP - 0x100;
    assert_true(pending(ecx_d32, r));
}

// movl %edx, (%eax) with the canary in edx; a SIB form; an absolute address.
static void
test_register_sib_and_absolute_stores(void **state)
{
    (void)state;
    uint32_t r[8] = { 0 };
    const uint8_t reg[] = { 0x89, 0x10 };                               // movl %edx, (%eax)
    const uint8_t sib[] = { 0xC7, 0x04, 0x8B, 0x5A, 0xDE, 0x11, 0xC0 }; // (%ebx,%ecx,4)
    const uint8_t abs32[] = { 0xC7, 0x05, 0x58, 0x61, 0x01, 0xF4, 0x5A, 0xDE, 0x11, 0xC0 };
    r[EAX] = TOP;
    r[EDX] = KFAST_CANARY;
    assert_true(pending(reg, r));
    r[EDX] = KFAST_CANARY + 1;
    assert_false(pending(reg, r)); // another value
    r[EBX] = TOP - 16;
    r[ECX] = 4;
    assert_true(pending(sib, r));
    assert_true(pending(abs32, r));
}

// Not the store: another value, a register destination, esp-based, other opcodes.
static void
test_other_instructions(void **state)
{
    (void)state;
    uint32_t r[8] = { 0 };
    r[EAX] = TOP;
    r[ESP] = TOP;
    const uint8_t other_value[] = { 0xC7, 0x00, 0x5B, 0xDE, 0x11, 0xC0 };
    const uint8_t to_register[] = { 0xC7, 0xC0, 0x5A, 0xDE, 0x11, 0xC0 };   // movl $c, %eax
    const uint8_t via_esp[] = { 0xC7, 0x04, 0x24, 0x5A, 0xDE, 0x11, 0xC0 }; // movl $c, (%esp)
    const uint8_t cmp[] = { 0x81, 0x38, 0x5A, 0xDE, 0x11, 0xC0 };           // cmpl $c, (%eax)
    const uint8_t nop[] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x90 };
    assert_false(pending(other_value, r));
    assert_false(pending(to_register, r));
    assert_false(pending(via_esp, r));
    assert_false(pending(cmp, r));
    assert_false(pending(nop, r));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_immediate_stores),
        cmocka_unit_test(test_register_sib_and_absolute_stores),
        cmocka_unit_test(test_other_instructions),
    };
    return cmocka_run_group_tests_name("kfast_pending", tests, NULL, NULL);
}
