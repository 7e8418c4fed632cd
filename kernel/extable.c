// Looks up exception fixups recorded with EXTABLE_ENTRY.
#include "extable.h"

extern const struct extable_entry __extable_start[], __extable_end[];

// Linear search: the table holds a handful of entries (the user-copy
// routines and a few tests), and it is only read on a fault.
uint32_t
extable_find(uint32_t eip)
{
    for (const struct extable_entry *e = __extable_start; e < __extable_end; e++)
        if (e->fault_eip == eip)
            return e->fixup_eip;
    return 0;
}
