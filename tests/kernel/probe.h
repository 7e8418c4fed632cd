/* Reads and writes that may fault: the exception table turns a fault into
 * a jump to the fixup, which sets the flag (include/extable.h).  For tests
 * that unmap a page and check it is gone. */
#ifndef TANDEM_TESTS_PROBE_H
#define TANDEM_TESTS_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include "extable.h"

// Reads *p into *value; true if it faulted.
static inline bool
read_faults(volatile uint32_t *p, uint32_t *value)
{
    uint32_t faulted = 0, v = 0;
    __asm__ volatile("1: movl (%[p]), %[v]\n\t"
                     "jmp 3f\n\t"
                     "2: movl $1, %[f]\n\t"
                     "3:\n\t" EXTABLE_ENTRY(1b, 2b)
                     : [v] "+r"(v), [f] "+r"(faulted)
                     : [p] "r"(p)
                     : "memory");
    *value = v;
    return faulted;
}

// Writes value to *p; true if it faulted.
static inline bool
write_faults(volatile uint32_t *p, uint32_t value)
{
    uint32_t faulted = 0;
    __asm__ volatile("1: movl %[v], (%[p])\n\t"
                     "jmp 3f\n\t"
                     "2: movl $1, %[f]\n\t"
                     "3:\n\t" EXTABLE_ENTRY(1b, 2b)
                     : [f] "+r"(faulted)
                     : [p] "r"(p), [v] "r"(value)
                     : "memory");
    return faulted;
}

#endif
