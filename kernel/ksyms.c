// Symbolizes addresses with the table tools/gen_ksyms.py generates.
#include <stddef.h>
#include "ksyms.h"

struct ksym {
    uint32_t addr;
    uint32_t name; // offset into g_ksym_names
};

// Defined by build/ksyms.c (empty in the first link pass).
extern const struct ksym g_ksyms[];
extern const uint32_t g_ksym_count;
extern const char g_ksym_names[];

const char *
ksym_lookup(uint32_t addr, uint32_t *offset)
{
    // Binary search for the last symbol at or below addr (the table is sorted).
    uint32_t lo = 0, hi = g_ksym_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (g_ksyms[mid].addr <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const struct ksym *s = &g_ksyms[lo - 1];
    if (offset)
        *offset = addr - s->addr;
    return &g_ksym_names[s->name];
}
