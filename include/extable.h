/* Exception fixups: "if this instruction faults, continue over there".
 *
 * Used by copy_from_user/copy_to_user to turn a page fault into -EFAULT and
 * by tests that raise exceptions on purpose.  Entries live in the .extable
 * section, which linker.ld gathers between __extable_start and _end. */
#ifndef TANDEM_EXTABLE_H
#define TANDEM_EXTABLE_H

#include <stdint.h>

struct extable_entry {
    uint32_t fault_eip;
    uint32_t fixup_eip;
};

// Inside an asm statement: records that a fault at label `from` resumes at
// `to`.  Either may be a macro for an address (expanded first).
#define EXTABLE_ENTRY(from, to) EXTABLE_ENTRY_(from, to)
#define EXTABLE_ENTRY_(from, to) \
    ".pushsection .extable, \"a\"\n\t.balign 4\n\t.long " #from ", " #to "\n\t.popsection\n\t"

// The fixup address for a fault at eip, or 0 if there is none.
uint32_t extable_find(uint32_t eip);

#endif
