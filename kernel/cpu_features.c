// Optional CPU protections (include/cpu_features.h).
//
// UMIP (User-Mode Instruction Prevention) makes sgdt, sidt, sldt, smsw and
// str raise #GP outside ring 0.  Without it ring 3 can read where the GDT,
// IDT and TSS are - kernel addresses an attacker wants - and nothing in
// Tandem needs those instructions in user mode.
#include "cpu_features.h"
#include "x86.h"

#define CPUID_LEAF_FEATURES7    7
#define CPUID7_ECX_UMIP         (1u << 2)

static bool s_umip;

void
cpu_features_init(void)
{
    uint32_t max_leaf, b, c, d;
    cpuid(0, 0, &max_leaf, &b, &c, &d);
    if (max_leaf < CPUID_LEAF_FEATURES7)
        return;                 // leaf 7 would report a higher leaf's data, not zeros
    uint32_t a;
    cpuid(CPUID_LEAF_FEATURES7, 0, &a, &b, &c, &d);
    if (c & CPUID7_ECX_UMIP) {
        write_cr4(read_cr4() | CR4_UMIP);
        s_umip = true;
    }
}

bool
cpu_umip_enabled(void)
{
    return s_umip;
}
